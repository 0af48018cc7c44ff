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
import tempfile
import time

OPENSBI_DIR = "/usr/lib/riscv64-linux-gnu/opensbi/generic"
DEFAULT_FIRMWARE = os.path.join(OPENSBI_DIR, "fw_jump.bin")
SKIP = 77


class Unavailable(Exception):
    """Something the run needs is not installed or not built."""


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
        self.disk = None  # raw image file
        self.net = False
        self.forward = None  # (host port, guest port)
        self.rng = False
        self.hvc = None  # file receiving /dev/hvc0's output (QEMU)

    def vireo_argv(self, vireo_run, stats=False, net_syntax="qemu"):
        argv = [vireo_run, "--firmware", self.firmware, "--kernel", self.image,
                "--initrd", self.initrd, "--append", self.append,
                "--cpus", str(self.cpus), "--memory", self.memory]
        if self.disk:
            argv += ["--disk", self.disk]
        if self.net:
            spec = "user"
            if self.forward and net_syntax == "qemu":
                host, guest = self.forward
                spec += f",hostfwd=tcp:127.0.0.1:{host}-:{guest}"
            argv += ["--net", spec]
        if stats:
            argv.append("--stats")
        return argv

    def qemu_argv(self, qemu):
        argv = [qemu, "-M", "virt", "-m", self.memory, "-smp", str(self.cpus),
                "-nographic", "-no-reboot", "-bios", self.firmware, "-kernel", self.image,
                "-initrd", self.initrd, "-append", self.append]
        if self.disk:
            argv += ["-drive", f"file={self.disk},format=raw,if=none,id=disk0",
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


class Console:
    """A machine run with its console (stdout) and stderr captured.

    `poll(seconds)` reads what arrived; `seen(regex)` tells when a pattern
    first appeared (seconds since the start)."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
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
