# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pieces of the Linux guest kit's runners (run-guest.py and the
boot benchmark): where the kit and the firmware are, what a vireo-run binary
offers, the command lines for vireo-run and qemu-system-riscv64, and a
console capture with a time limit. Standard library only."""

import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

OPENSBI_DIR = "/usr/lib/riscv64-linux-gnu/opensbi/generic"
DEFAULT_FIRMWARE = os.path.join(OPENSBI_DIR, "fw_jump.bin")
SKIP = 77


class Unavailable(Exception):
    """Something the run needs is not installed or not built."""


class BuildFailed(Exception):
    """build-kit.py failed; the message holds the end of its output."""


BUILD_KIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build-kit.py")


def build_kit(kit_dir, variant=None, jobs=2):
    """Builds the kit into kit_dir with build-kit.py, or copies it from the
    cache (a second). The runners call this themselves rather than being
    given a build target: meson builds every test's dependencies in a plain
    `ninja`, which would compile a kernel before the application could run.
    Raises Unavailable when a prerequisite is missing, BuildFailed when a
    build step fails."""
    argv = [sys.executable, BUILD_KIT, "--out", kit_dir, "--jobs", str(jobs)]
    if variant:
        argv += ["--variant", variant]
    proc = subprocess.run(argv, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tail = "\n".join(proc.stdout.splitlines()[-12:])
    what = f"the {variant} kit" if variant else "the guest kit"
    if proc.returncode == SKIP:
        raise Unavailable(f"{what} cannot be built: " + tail)
    if proc.returncode != 0:
        raise BuildFailed(f"build-kit.py failed for {what}:\n" + tail)


def kit_files(kit_dir):
    """(Image, initramfs.cpio) of a kit folder made by build-kit.py --out."""
    note = os.path.join(kit_dir, "unavailable")
    if os.path.exists(note):
        with open(note) as f:
            raise Unavailable("the guest kit could not be built: " + f.read().strip())
    image = os.path.join(kit_dir, "Image")
    initrd = os.path.join(kit_dir, "initramfs.cpio")
    for path in (image, initrd):
        if not os.path.isfile(path):
            raise Unavailable(f"{path} is missing; run tests/guests/build-kit.py --out {kit_dir}")
    return image, initrd


def firmware(path=None):
    path = path or DEFAULT_FIRMWARE
    if not os.path.isfile(path):
        raise Unavailable(f"{path} is missing (package opensbi; run scripts/setup)")
    return path


def qemu_binary():
    return shutil.which("qemu-system-riscv64")


def vireo_options(vireo_run):
    """The long options vireo-run's --help lists, with their help lines."""
    proc = subprocess.run([vireo_run, "--help"], capture_output=True, text=True, timeout=30)
    options = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^\s+(?:-\w, )?--([\w-]+)(?:=\S+)?\s*(.*)$", line)
        if m:
            options[m.group(1)] = m.group(2)
    return options


# The board's fixed virtio slots (docs/BOARD.md): the console and the
# entropy device, named in the device tree by their transport's address.
SLOT_CONSOLE = 0x10001000
SLOT_RNG = 0x10002000


def vireo_virtio_slots(vireo_run):
    """The virtio-mmio transports in the device tree vireo-run writes."""
    with tempfile.TemporaryDirectory(prefix="vireo-dtb-") as tmp:
        path = os.path.join(tmp, "board.dtb")
        proc = subprocess.run([vireo_run, "--dtb-out", path], capture_output=True, timeout=30)
        if proc.returncode != 0 or not os.path.isfile(path):
            return set()
        with open(path, "rb") as f:
            blob = f.read()
    return {int(m.group(1), 16) for m in re.finditer(rb"virtio_mmio@([0-9a-f]+)\0", blob)}


def disk_pattern(seed, length=4096):
    """The block init's `disk` check writes (see init/check-devices.c)."""
    head = f"VIREO-DISK seed={seed}\n".encode()
    out = bytearray(head)
    x = (seed * 2654435761 + 1) & 0xFFFFFFFF
    while len(out) < length:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out[:length])


class Guest:
    """What one boot is given: the images, the hart count, RAM, the kernel
    command line and the optional devices (disk image, network forward)."""

    def __init__(self, image, initrd, fw, cpus=1, memory="256M", append="console=ttyS0"):
        self.image = image
        self.initrd = initrd
        self.firmware = fw
        self.cpus = cpus
        self.memory = memory
        self.append = append
        self.disk = None  # image file
        self.disk_format = "raw"  # "raw" or "qcow2"
        self.net = False
        self.forward = None  # (host port, guest port)
        self.rng = False
        self.hvc = None  # file receiving /dev/hvc0's output (QEMU)
        self.engine = None  # vireo-run's --engine, None for its default

    def vireo_argv(self, vireo_run, stats=False, net_syntax="qemu"):
        argv = [vireo_run, "--firmware", self.firmware, "--kernel", self.image,
                "--initrd", self.initrd, "--append", self.append,
                "--cpus", str(self.cpus), "--memory", self.memory]
        if self.disk:
            argv += ["--disk", f"{self.disk},format={self.disk_format}"]
        if self.net:
            spec = "user"
            if self.forward and net_syntax == "qemu":
                host, guest = self.forward
                spec += f",hostfwd=tcp:127.0.0.1:{host}-:{guest}"
            argv += ["--net", spec]
        if self.engine:
            argv += ["--engine", self.engine]
        if stats:
            argv.append("--stats")
        return argv

    def qemu_argv(self, qemu):
        argv = [qemu, "-M", "virt", "-m", self.memory, "-smp", str(self.cpus),
                "-nographic", "-no-reboot", "-bios", self.firmware, "-kernel", self.image,
                "-initrd", self.initrd, "-append", self.append]
        if self.disk:
            argv += ["-drive", f"file={self.disk},format={self.disk_format},if=none,id=disk0",
                     "-device", "virtio-blk-device,drive=disk0"]
        if self.rng:
            argv += ["-device", "virtio-rng-device"]
        if self.hvc:
            argv += ["-chardev", f"file,id=hvc0,path={self.hvc}",
                     "-device", "virtio-serial-device", "-device", "virtconsole,chardev=hvc0"]
        if self.net:
            spec = "user,id=net0"
            if self.forward:
                host, guest = self.forward
                spec += f",hostfwd=tcp:127.0.0.1:{host}-:{guest}"
            argv += ["-netdev", spec, "-device", "virtio-net-device,netdev=net0"]
        return argv


class HostLoad:
    """`n` busy processes on the host while the block runs: a machine whose
    vCPU threads are descheduled at awkward moments, as on a busy desktop.
    Races that only show then (and timeouts in the guest that a slow engine
    runs into) are what the runs under load are for."""

    def __init__(self, n):
        self.n = n
        self.procs = []

    def __enter__(self):
        for _ in range(self.n):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-c", "while True: pass"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []
        return False


class Console:
    """A machine run with its console (stdout) and stderr captured.

    `poll(seconds)` reads what arrived; `seen(regex)` tells when a pattern
    first appeared (seconds since the start). With `stdin`, the machine's
    input is a pipe that `send(text)` writes to (a console to type on)."""

    def __init__(self, argv, env=None, stdin=False):
        self.argv = argv
        self.start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.out = b""
        self.err = b""
        self._open = {self.proc.stdout.fileno(): "out", self.proc.stderr.fileno(): "err"}
        self._marks = {}
        self.status = None
        self.elapsed = None

    @property
    def text(self):
        return self.out.decode("utf-8", "replace")

    @property
    def errtext(self):
        return self.err.decode("utf-8", "replace")

    def poll(self, seconds):
        """Reads for up to `seconds`; returns False once the machine has
        exited and everything it wrote has been read."""
        if self._open:
            ready, _, _ = select.select(list(self._open), [], [], seconds)
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    del self._open[fd]
                elif self._open[fd] == "out":
                    self.out += data
                else:
                    self.err += data
        if not self._open:
            if self.status is None:
                self.status = self.proc.wait()
                self.elapsed = time.monotonic() - self.start
            return False
        return True

    def seen(self, pattern):
        """Seconds from the start to the first appearance of `pattern`, or
        None. Call after every poll() for accurate times."""
        if pattern not in self._marks:
            if re.search(pattern, self.text, re.M):
                self._marks[pattern] = time.monotonic() - self.start
        return self._marks.get(pattern)

    def wait(self, timeout, until=None):
        """Reads until the machine exits (or `until` matches) or `timeout`
        seconds have passed since the start. Returns False on a timeout."""
        while time.monotonic() - self.start < timeout:
            alive = self.poll(0.2)
            if until and self.seen(until) is not None:
                return True
            if not alive:
                return True
        return False

    def send(self, text):
        """Types `text` on the machine's input (a Console made with stdin).
        False when the machine no longer reads it."""
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        while self.poll(0.1):
            pass
        self.status = self.proc.returncode

    def tail(self, lines=60):
        text = self.text.replace("\r", "")
        return "\n".join(text.splitlines()[-lines:])


# ---- Pictures of the display ------------------------------------------------

def _png_pixels(data):
    """(width, height, RGB bytes) of a non-interlaced 8-bit RGB or RGBA PNG."""
    import struct
    import zlib
    pos, idat, header = 8, b"", None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("a PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"PNG depth {depth} colour type {colour} interlace {interlace} "
                         "(only 8-bit RGB or RGBA, not interlaced)")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = bytearray()
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        prev = line
        if bpp == 3:
            out += line
        else:
            for x in range(width):
                out += line[4 * x:4 * x + 3]
    return width, height, bytes(out)


def read_image(path):
    """(width, height, RGB bytes, 3 per pixel, rows top down) of a picture
    file: binary PPM (P6, as QEMU's screendump writes) or 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_pixels(data)
    if data.startswith(b"P6"):
        fields, pos = [], 2
        while len(fields) < 3:
            while data[pos:pos + 1].isspace():
                pos += 1
            if data[pos:pos + 1] == b"#":
                pos = data.index(b"\n", pos) + 1
                continue
            end = pos
            while not data[end:end + 1].isspace():
                end += 1
            fields.append(int(data[pos:end]))
            pos = end
        pos += 1
        width, height, maxval = fields
        if maxval != 255:
            raise ValueError(f"PPM with maxval {maxval}")
        return width, height, data[pos:pos + width * height * 3]
    raise ValueError(f"{path}: neither PPM (P6) nor PNG")


def fb_pattern_row(y, width, height):
    """Row y of the picture init's `fb` check draws (init/check-display.c,
    pattern_rgb), as RGB bytes."""
    row = bytearray(width * 3)
    edge_row = y == 0 or y == height - 1
    g = y * 255 // (height - 1) if height > 1 else 0
    for x in range(width):
        if edge_row or x == 0 or x == width - 1:
            row[3 * x:3 * x + 3] = b"\xff\xff\xff"
        else:
            r = x * 255 // (width - 1) if width > 1 else 0
            b = 0xC0 if ((x >> 5) + (y >> 5)) & 1 else 0x30
            row[3 * x:3 * x + 3] = bytes((r, g, b))
    return bytes(row)


def compare_fb_pattern(width, height, pixels):
    """Pixels that differ from init's `fb` pattern, and the first of them as
    (x, y, got, wanted)."""
    wrong, first = 0, None
    stride = width * 3
    for y in range(height):
        want = fb_pattern_row(y, width, height)
        got = pixels[y * stride:(y + 1) * stride]
        if got == want:
            continue
        for x in range(width):
            if got[3 * x:3 * x + 3] != want[3 * x:3 * x + 3]:
                wrong += 1
                if first is None:
                    first = (x, y, got[3 * x:3 * x + 3].hex(), want[3 * x:3 * x + 3].hex())
    return wrong, first


def colour_counts(width, height, pixels, box=None):
    """{RGB bytes: count} over the picture or the box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box or (0, 0, width, height)
    counts = {}
    for y in range(max(0, y0), min(height, y1)):
        row = pixels[(y * width + x0) * 3:(y * width + min(width, x1)) * 3]
        for i in range(0, len(row), 3):
            key = row[i:i + 3]
            counts[key] = counts.get(key, 0) + 1
    return counts


# ---- Machines with a display ------------------------------------------------

def vireo_display_args(options, dump):
    """vireo-run's arguments for a machine with a virtio-gpu display (2D)
    whose last frame of scanout 0 goes to `dump` when it stops (PNG when the
    name ends in .png, PPM otherwise). Unavailable when this vireo-run has
    no display device."""
    if "scanout-dump" not in options or "gpu" not in options:
        raise Unavailable("vireo-run has no --gpu and --scanout-dump options")
    return ["--gpu", "2d", "--scanout-dump", dump]


class Monitor:
    """QEMU's human monitor on a Unix socket (-monitor unix:PATH,server,nowait)."""

    def __init__(self, path):
        self.path = path

    def argv(self):
        return ["-monitor", f"unix:{self.path},server,nowait"]

    def command(self, line, settle=0.5):
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.path)
            s.sendall(line.encode() + b"\n")
            time.sleep(settle)

    def screendump(self, path, timeout=10):
        """Writes scanout 0 as a PPM file and waits until it is whole."""
        self.command(f"screendump {path}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                read_image(path)
                return True
            except (OSError, ValueError, IndexError):
                time.sleep(0.1)
        return False


def qemu_display_argv(window=False):
    """What QEMU needs for a virtio-gpu display that the guest drives as a
    virtio 1 device (QEMU's virtio-mmio is legacy by default, and Linux's
    driver needs VIRTIO_F_VERSION_1) and the host reads with screendump; no
    window unless `window` (Guest.qemu_argv's -nographic already has none)."""
    argv = ["-global", "virtio-mmio.force-legacy=false", "-device", "virtio-gpu-device"]
    return argv + ([] if window else ["-display", "none"])


class Qmp:
    """A QMP client (QEMU's machine protocol) on a Unix socket, for vireo-run
    --qmp unix:PATH and QEMU's -qmp unix:PATH,server,wait=off alike."""

    def __init__(self, path, timeout=30):
        import socket
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.events = []
        self.greeting = self._read(timeout)
        if "QMP" not in self.greeting:
            raise RuntimeError(f"no QMP greeting: {self.greeting}")
        self.execute("qmp_capabilities")

    def _read(self, timeout):
        import json
        import select
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no QMP reply")
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, arguments=None, timeout=600):
        """The reply's "return" value; RuntimeError for an "error" reply."""
        import json
        msg = {"execute": command}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read(timeout)
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"{command}: {reply['error'].get('desc')}")
            return reply.get("return")

    def hmp(self, line, timeout=600):
        """A human-monitor command's output (errors come back as text)."""
        return self.execute("human-monitor-command", {"command-line": line}, timeout)

    def close(self):
        self.sock.close()


# ---- The kit's `counter` check (snapshot and migration tests) ---------------

COUNTER_LINE = re.compile(r"^VIREO-INIT: count (\d+)", re.M)


def counter_counts(con, since=0):
    """The counts the `counter` check printed after byte `since` of the
    console."""
    return [int(m.group(1)) for m in COUNTER_LINE.finditer(con.text, since)]


def wait_counter(con, since, at_least, timeout):
    """Reads until the counter printed `at_least` after byte `since`; returns
    the counts since then. RuntimeError when it fails, stops or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not con.poll(0.2):
            break
        if "VIREO-CHECK counter FAIL" in con.text or "VIREO-INIT: FAIL" in con.text:
            break
        seen = counter_counts(con, since)
        if seen and seen[-1] >= at_least:
            return seen
    raise RuntimeError(f"no count {at_least} after byte {since}:\n{con.tail(30)}\n"
                       f"{con.errtext[-2000:]}")


def counter_prerequisites(kit, build):
    """Why a `counter` test on a qcow2 disk cannot run here (the kit, the
    firmware or qemu-img missing), or None. Builds the kit when `build`."""
    try:
        if build:
            build_kit(kit)
        kit_files(kit)
        firmware()
    except Unavailable as e:
        return str(e)
    if shutil.which("qemu-img") is None:
        return "qemu-img is not installed (package qemu-utils)"
    return None


def qcow2_disk(path, size="64M"):
    """An empty qcow2 image made by qemu-img."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, size], check=True)
    return path
