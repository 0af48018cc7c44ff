# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pieces of the Debian kit's runner (run-debian.py) and its boot
benchmark (tests/bench/bench-debian-boot.py): building the kit, the command
lines for vireo-run and qemu-system-riscv64 (OpenSBI fw_jump, U-Boot, the
kit's disk image), a machine whose serial console is typed on through a pipe,
commands run at the root shell with markers around their output, and the
boot's timeline. Standard library only. See docs/DEBIAN-KIT.md."""

import os
import re
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestkit  # noqa: E402

BUILD_DEBIAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build-debian.py")
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
IMAGES = {"extlinux": "debian-extlinux.img", "efi": "debian-efi.img"}
HOSTNAME = "vireo-debian"
PROMPT = rf"root@{HOSTNAME}:[^\n#]*# "

# The boot's milestones, in order: (name, pattern on the console). The shell
# prompt and the later ones are set by the runner.
MILESTONES = [
    ("firmware", r"OpenSBI v\d"),
    ("U-Boot", r"U-Boot 20\d\d\.\d\d"),
    ("kernel", r"Linux version \d"),
    ("/init", r"Run /init as init process"),
    ("root mounted", r"EXT4-fs \(vda\d*\): mounted filesystem"),
    ("systemd", r"systemd\[1\]: systemd \d+|Welcome to .*Debian"),
    ("shell prompt", PROMPT),
]

# Console lines that point at a crash in the guest or the firmware.
TROUBLE = re.compile(
    r"Oops|Kernel panic|BUG:|WARNING:|Unable to handle kernel|Internal error|segfault at|"
    r"\btraps: |Unhandled exception|Illegal instruction|Synchronous Exception|"
    r"exception code|resetting \.\.\.|### ERROR|Call Trace|Hardware name:.*\n.*epc|"
    r"watchdog: BUG|rcu: INFO|hung_task|blocked for more than|code=dumped|dumped core|"
    r"Failed to start|Timed out waiting|Dependency failed|EFI LOAD FAILED|"
    r"Bad Linux RISCV Image magic|Wrong Image Format|Retrieving file: .*\n.*(not found|error)",
    re.I)

# vireo-run writes the virtio console (hvc0) to its stdout beside the serial
# console, and systemd starts a getty there whenever hvc0 appears: its banner
# and login prompt can land anywhere in the serial console's output, in the
# middle of a command's output or of the marker after it. They are taken out
# of the text before anything is matched.
# The banner is "\n\nDebian GNU/Linux 13 HOST hvc0\n\n" (agetty's blank lines
# and /etc/issue): exactly its own line breaks go, so that a marker's line
# break just before it stays.
HVC_GETTY = re.compile(rf"\n\nDebian GNU/Linux \S+ {HOSTNAME} hvc0\n\n|{HOSTNAME} login: (?!root \()")

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]")


def clean(text):
    """The console text without carriage returns, terminal escapes and the
    hvc0 getty's banner and login prompt."""
    return HVC_GETTY.sub("", ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def build_kit(kit_dir, jobs=2):
    """Builds the kit into kit_dir with build-debian.py, or links it from the
    cache. Raises guestkit.Unavailable when something it needs is missing,
    guestkit.BuildFailed when a step fails."""
    argv = [sys.executable, BUILD_DEBIAN, "--out", kit_dir, "--jobs", str(jobs)]
    started = time.monotonic()
    proc = subprocess.run(argv, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tail = "\n".join(proc.stdout.splitlines()[-15:])
    if proc.returncode == guestkit.SKIP:
        raise guestkit.Unavailable("the Debian kit cannot be built: " + tail)
    if proc.returncode != 0:
        raise guestkit.BuildFailed("build-debian.py failed:\n" + tail)
    return time.monotonic() - started


def kit_image(kit_dir, which):
    note = os.path.join(kit_dir, "unavailable")
    if os.path.exists(note):
        with open(note) as f:
            raise guestkit.Unavailable("the Debian kit could not be built: " + f.read().strip())
    path = os.path.join(kit_dir, IMAGES[which])
    if not os.path.isfile(path):
        raise guestkit.Unavailable(f"{path} is missing; run tests/guests/build-debian.py "
                                   f"--out {kit_dir}")
    return path


def uboot(path=None):
    path = path or UBOOT
    if not os.path.isfile(path):
        raise guestkit.Unavailable(f"{path} is missing (package u-boot-qemu; run scripts/setup)")
    return path


def bench_inputs(kit_dir, which):
    """For a benchmark: builds the kit or takes it from the cache, and returns
    (image `which`, OpenSBI, U-Boot); or, when it cannot, says why and
    returns the exit status to end with (guestkit.SKIP for what this
    machine lacks, 1 for a failed build)."""
    try:
        build_kit(kit_dir)
        return kit_image(kit_dir, which), guestkit.firmware(), uboot()
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP
    except guestkit.BuildFailed as e:
        print(e, file=sys.stderr)
        return 1


def copy_image(src, folder):
    """A private copy of a kit image that a guest may write to: a
    copy-on-write clone where the file system has them, else a sparse copy."""
    dst = os.path.join(folder, os.path.basename(src))
    subprocess.run(["cp", "--reflink=auto", "--sparse=always", src, dst], check=True)
    os.chmod(dst, 0o644)
    return dst


def vireo_argv(vireo_run, fw, boot, disk, cpus, memory="1G", net=True):
    argv = [vireo_run, "--firmware", fw, "--kernel", boot, "--disk", disk,
            "--memory", memory, "--cpus", str(cpus)]
    if net:
        argv += ["--net", "user"]
    return argv


def qemu_argv(qemu, fw, boot, disk, cpus, memory="1G", net=True):
    argv = [qemu, "-M", "virt", "-m", memory, "-smp", str(cpus), "-nographic", "-no-reboot",
            "-bios", fw, "-kernel", boot,
            "-drive", f"file={disk},format=raw,if=none,id=d0",
            "-device", "virtio-blk-device,drive=d0"]
    if net:
        argv += ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]
    return argv + ["-device", "virtio-rng-device"]


def shell_quote(argv):
    return " ".join(a if re.fullmatch(r"[\w./=,:+@%-]+", a) else f"'{a}'" for a in argv)


class Stopped(Exception):
    """The machine exited, or a wait ran out of time."""


class Machine:
    """One boot with the serial console on a pipe: waits for patterns, types
    commands at the root shell and reads their output between markers, and
    keeps the timeline."""

    def __init__(self, argv, log=None):
        self.argv = argv
        self.con = guestkit.Console(argv, stdin=True)
        self.log = open(log, "wb") if log else None
        self.logged = 0
        self.token = secrets.token_hex(4)
        self.count = 0
        self.marks = {}  # milestone -> seconds
        self.phase = "boot"

    @property
    def text(self):
        return clean(self.con.text)

    def now(self):
        return time.monotonic() - self.con.start

    def _note_milestones(self):
        if self.log and len(self.con.out) > self.logged:
            self.log.write(self.con.out[self.logged:])
            self.log.flush()
            self.logged = len(self.con.out)
        for name, pattern in MILESTONES:
            if name not in self.marks:
                t = self.con.seen(pattern)
                if t is not None:
                    self.marks[name] = t

    def mark(self, name):
        self.marks.setdefault(name, self.now())

    def wait_for(self, pattern, timeout, start=0):
        """Reads until `pattern` appears in the cleaned console text after
        offset `start`; returns the match. Raises Stopped when the machine
        exits first or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            alive = self.con.poll(0.2)
            self._note_milestones()
            m = regex.search(self.text, start)
            if m:
                return m
            if not alive:
                raise Stopped(f"the machine exited with status {self.con.status} "
                              f"during {self.phase}")
            if time.monotonic() > deadline:
                raise Stopped(f"nothing matched /{pattern}/ within {timeout:.0f} s "
                              f"during {self.phase}")

    def wait_prompt(self, timeout):
        self.phase = "the boot to the root shell prompt"
        self.wait_for(PROMPT, timeout)
        self.mark("shell prompt")

    def run(self, command, timeout, phase=None):
        """Types `command` at the shell; returns (exit status, output). The
        markers printed around it are made by printf from pieces, so the
        typed line, which the terminal echoes, never matches them."""
        self.count += 1
        tag = f"{self.token}{self.count}"
        self.phase = phase or f"`{command[:60]}`"
        start = max(0, len(self.text) - 16)
        line = (f"printf 'VIREO-BEGIN-%s\\n' {tag}; {command}; "
                f"printf 'VIREO-END-%s-%s\\n' {tag} $?\n")
        if not self.con.send(line):
            raise Stopped(f"the machine stopped reading its console during {self.phase}")
        end = self.wait_for(rf"VIREO-END-{tag}-(\d+)", timeout, start)
        begin = re.compile(rf"VIREO-BEGIN-{tag}\n?").search(self.text, start)
        body = self.text[begin.end() if begin else start:end.start()]
        return int(end.group(1)), body

    def poweroff(self, timeout):
        """Types poweroff and waits for the machine to exit; returns its
        exit status."""
        self.phase = "the power-off"
        self.con.send("poweroff\n")
        deadline = time.monotonic() + timeout
        down = None
        while self.con.poll(0.2):
            self._note_milestones()
            if down is None and self.con.seen(r"reboot: Power down") is not None:
                down = self.con.seen(r"reboot: Power down")
                self.marks["power-off"] = down
            if down is not None and self.now() - down > 30:
                raise Stopped(f"Linux printed 'reboot: Power down' at {down:.1f} s but the "
                              "machine was still running 30 s later")
            if time.monotonic() > deadline:
                raise Stopped(f"no power-off within {timeout:.0f} s")
        t = self.con.seen(r"reboot: Power down")
        if t is not None:
            self.marks["power-off"] = t
        self.marks["exit"] = self.con.elapsed
        return self.con.status

    def kill(self):
        if self.con.status is None:
            self.con.kill()
        self._note_milestones()
        if self.log:
            self.log.close()
            self.log = None
        stdin = self.con.proc.stdin
        if stdin and not stdin.closed:
            try:
                stdin.close()
            except OSError:
                pass

    def timeline(self):
        order = [name for name, _ in MILESTONES] + \
            ["is-system-running", "package", "tar", "network", "power-off", "exit"]
        known = [(n, self.marks[n]) for n in order if n in self.marks]
        known += sorted((n, t) for n, t in self.marks.items() if n not in order)
        return ", ".join(f"{n} {t:.1f} s" for n, t in known)

    def tail(self, lines=40):
        return "\n".join(self.text.splitlines()[-lines:])

    def trouble(self, limit=20):
        """Console lines that look like a crash or a failed unit."""
        found = []
        for line in self.text.splitlines():
            if TROUBLE.search(line) and "VIREO-" not in line and "printf '" not in line:
                found.append(line.strip())
        return found[:limit]


def host_load():
    try:
        one, five, _ = os.getloadavg()
        return f"host load {one:.1f}/{five:.1f} (1/5 min) on {os.cpu_count()} CPUs"
    except OSError:
        return "host load unknown"


def which_qemu():
    qemu = shutil.which("qemu-system-riscv64")
    if not qemu:
        raise guestkit.Unavailable("qemu-system-riscv64 is not installed (qemu-system-misc)")
    return qemu
