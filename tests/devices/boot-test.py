#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots stock OpenSBI and U-Boot on vireo-run's virt board through a pty.

Runs fw_jump.bin and fw_dynamic.bin, each with the S-mode U-Boot, and checks
the OpenSBI banner, the U-Boot banner and prompt, the `version` command, and
power-off (fw_jump) or reset, a second boot and power-off (fw_dynamic), with
vireo-run's exit status. A third run gives the board two virtio disks (32 MiB,
and 1 MiB read-only): `virtio scan` and `virtio info` must list both with
their sizes, in order, a read must return the image's first sector, a write
must reach the image file and a write to the read-only disk must fail.
Standard library only.

Usage: boot-test.py VIREO-RUN [--timeout SECONDS]
Exit status: 0 pass, 1 failure, 77 when the firmware files are not installed.
"""

import argparse
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time

OPENSBI_DIR = "/usr/lib/riscv64-linux-gnu/opensbi/generic"
UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"
PROMPT = "=> "


class BootFailure(Exception):
    pass


class Console:
    """vireo-run on a pty: what it printed, and keys to send to it."""

    def __init__(self, argv, timeout):
        self.timeout = timeout
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                     stderr=subprocess.PIPE, close_fds=True)
        os.close(slave)
        self.text = ""
        self.pos = 0  # where the next expect() starts searching
        self.stderr = b""

    def _pump(self, wait):
        """Reads what is available within `wait` seconds; False at EOF."""
        fds = [self.master]
        if self.proc.stderr is not None:
            fds.append(self.proc.stderr)
        ready, _, _ = select.select(fds, [], [], wait)
        alive = True
        for fd in ready:
            if fd is self.master:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    alive = False
                self.text += data.decode("utf-8", "replace")
            else:
                data = os.read(fd.fileno(), 4096)
                if data:
                    self.stderr += data
                else:
                    self.proc.stderr.close()
                    self.proc.stderr = None
        return alive

    def expect(self, pattern, what, timeout=None):
        """Waits for `pattern` (a regular expression) after the last match."""
        deadline = time.monotonic() + (timeout or self.timeout)
        regex = re.compile(pattern)
        while True:
            m = regex.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise BootFailure(f"timed out waiting for {what}")
            if not self._pump(min(left, 0.5)) and self.proc.poll() is not None:
                raise BootFailure(f"vireo-run exited ({self.proc.returncode}) "
                                  f"before {what}")

    def send(self, keys):
        os.write(self.master, keys.encode())

    def mark(self):
        """Later expect()s only look at output from now on."""
        self._pump(0)
        self.pos = len(self.text)

    def wait_exit(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise BootFailure("timed out waiting for vireo-run to exit")
            self._pump(0.2)
        while self._pump(0):
            pass
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def tail(self, n=2500):
        out = self.text[-n:]
        return "\n".join("  | " + line for line in out.splitlines())


def stop_autoboot(con):
    """Interrupts U-Boot's countdown: keys until the prompt shows."""
    con.expect(r"Hit any key to stop autoboot", "the autoboot countdown")
    deadline = time.monotonic() + con.timeout
    while True:
        con.send(" ")
        try:
            con.expect(re.escape(PROMPT), "the U-Boot prompt", timeout=1)
            return
        except BootFailure:
            if con.proc.poll() is not None or time.monotonic() > deadline:
                raise


def check_banners(con):
    con.expect(r"OpenSBI v1\.1", "the OpenSBI banner")
    con.expect(r"Platform Name\s*:\s*\S+", "the platform name")
    m = con.expect(r"Boot HART Base ISA\s*:\s*(\S+)\r*\n", "the boot hart's ISA")
    if "rv64imafdc" not in m.group(1):
        raise BootFailure(f"Boot HART Base ISA is {m.group(1)}, not rv64imafdc")
    con.expect(r"U-Boot 2023\.01", "the U-Boot banner")
    stop_autoboot(con)


def check_version(con):
    con.mark()
    con.send("version\r")
    con.expect(r"U-Boot 2023\.01\S*", "the output of `version`")
    con.expect(re.escape(PROMPT), "the prompt after `version`")


def boot(vireo_run, firmware, extra, reset, timeout):
    argv = [vireo_run, "--firmware", firmware, "--kernel", UBOOT] + extra
    con = Console(argv, timeout)
    try:
        check_banners(con)
        check_version(con)
        if reset:
            con.mark()
            con.send("reset\r")
            check_banners(con)
        con.mark()
        con.send("poweroff\r")
        status = con.wait_exit()
        if status != 0:
            raise BootFailure(f"vireo-run exited with status {status}, not 0")
        return True
    except BootFailure as e:
        print(f"FAIL: {' '.join(argv)}: {e}")
        print("last console output:")
        print(con.tail())
        if con.stderr:
            print("stderr:")
            print(con.stderr.decode("utf-8", "replace"))
        return False
    finally:
        con.close()


DISK_MAGIC = b"VIREO-DISK-TEST!"


def command(con, cmd, pattern, what):
    """Types `cmd` at the prompt and waits for `pattern`, then the prompt."""
    con.mark()
    con.send(cmd + "\r")
    m = con.expect(pattern, what)
    con.expect(re.escape(PROMPT), f"the prompt after `{cmd}`")
    return m


def check_disks(con, disk):
    command(con, "virtio scan", r"virtio scan", "`virtio scan`")
    command(con, "virtio info",
            r"Device 0: .*\r*\n\s*Type: Hard Disk\r*\n"
            r"\s*Capacity: 32\.0 MB = 0\.0 GB \(65536 x 512\)\r*\n"
            r"Device 1: .*\r*\n\s*Type: Hard Disk\r*\n"
            r"\s*Capacity: 1\.0 MB = 0\.0 GB \(2048 x 512\)",
            "both disks with their sizes in `virtio info`")
    command(con, "virtio read 0x84000000 0 1", r"1 blocks read: OK",
            "a read of sector 0")
    command(con, "md.b 0x84000000 0x10", re.escape(DISK_MAGIC.decode()),
            "the image's first bytes in memory")
    command(con, "mw.b 0x84100000 0x5a 0x200", r"mw\.b", "`mw.b`")
    command(con, "virtio write 0x84100000 0x10 1", r"1 blocks written: OK",
            "a write of sector 16")
    command(con, "virtio dev 1", r"is now current device", "`virtio dev 1`")
    command(con, "virtio write 0x84100000 0 1", r"blocks written: ERROR",
            "a refused write to the read-only disk")
    con.mark()
    con.send("poweroff\r")
    status = con.wait_exit()
    if status != 0:
        raise BootFailure(f"vireo-run exited with status {status}, not 0")
    with open(disk, "rb") as f:
        f.seek(16 * 512)
        if f.read(512) != b"\x5a" * 512:
            raise BootFailure("the written sector is not in the image file")


def boot_disks(vireo_run, firmware, timeout):
    with tempfile.TemporaryDirectory(prefix="vireo-boot-") as tmp:
        disk = os.path.join(tmp, "disk.img")
        ro_disk = os.path.join(tmp, "ro.img")
        with open(disk, "wb") as f:
            f.truncate(32 << 20)
            f.write(DISK_MAGIC)
        with open(ro_disk, "wb") as f:
            f.truncate(1 << 20)
        argv = [vireo_run, "--firmware", firmware, "--kernel", UBOOT,
                "--disk", disk, "--disk", ro_disk + ",ro"]
        con = Console(argv, timeout)
        try:
            check_banners(con)
            check_disks(con, disk)
            return True
        except BootFailure as e:
            print(f"FAIL: {' '.join(argv)}: {e}")
            print("last console output:")
            print(con.tail())
            if con.stderr:
                print("stderr:")
                print(con.stderr.decode("utf-8", "replace"))
            return False
        finally:
            con.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vireo_run")
    parser.add_argument("--timeout", type=float, default=120,
                        help="seconds to wait for each step (default 120)")
    args = parser.parse_args()

    fw_jump = os.path.join(OPENSBI_DIR, "fw_jump.bin")
    fw_dynamic = os.path.join(OPENSBI_DIR, "fw_dynamic.bin")
    for path in (fw_jump, fw_dynamic, UBOOT):
        if not os.path.exists(path):
            print(f"{path} is not installed (opensbi, u-boot-qemu): skipped")
            return 77

    runs = [
        ("fw_jump + U-Boot, power-off", fw_jump, [], False),
        ("fw_dynamic + U-Boot, 2 harts, reset and power-off", fw_dynamic,
         ["--cpus", "2"], True),
    ]
    ok = True
    for name, firmware, extra, reset in runs:
        start = time.monotonic()
        passed = boot(args.vireo_run, firmware, extra, reset, args.timeout)
        print(f"{'ok' if passed else 'FAIL'}: {name} "
              f"({time.monotonic() - start:.1f} s)")
        ok = ok and passed
    start = time.monotonic()
    passed = boot_disks(args.vireo_run, fw_jump, args.timeout)
    print(f"{'ok' if passed else 'FAIL'}: fw_jump + U-Boot, two virtio disks "
          f"({time.monotonic() - start:.1f} s)")
    ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
