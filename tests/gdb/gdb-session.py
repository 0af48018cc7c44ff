#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real gdb-multiarch --batch session against the GDB stub: break on a
function, continue, info registers, stepi, x/4x, a watchpoint, info threads
with two harts, monitor commands, detach so that the program finishes. Where
qemu-system-riscv64 is installed, the same script runs against QEMU and the
lines that do not name the emulator must read the same.

Usage: gdb-session.py VIREO-RUN GDB-TARGET-ELF
Exit status 77 (skipped) without gdb-multiarch.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Failures, finish, start_vireo  # noqa: E402

SCRIPT = """set pagination off
set confirm off
target remote {address}
info threads
break gdb_add
continue
info registers pc a0 a1 sp
stepi
info registers pc
x/4x _start
watch watched
delete 1
continue
print watched
print/x $mstatus
print $fcsr
monitor info registers
info threads
detach
"""


def run_gdb(gdb, elf, address):
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           "vireo-gdb-%d.gdb" % os.getpid()), "w") as f:
        f.write(SCRIPT.format(address=address))
        path = f.name
    try:
        r = subprocess.run([gdb, "--nx", "--batch", "-x", path, elf], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    return r.stdout + r.stderr


def comparable(out):
    """The lines that describe the guest rather than the emulator."""
    keep = []
    for line in out.splitlines():
        if re.match(r"^(pc|a0|a1|sp) +0x", line) or line.startswith("0x8000") or \
                line.startswith("Old value") or line.startswith("New value") or \
                line.startswith("$") or "hit Breakpoint" in line or "hit Hardware watchpoint" in line:
            keep.append(line.strip())
    return keep


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    vireo_run, elf = sys.argv[1], sys.argv[2]
    gdb = shutil.which("gdb-multiarch")
    if gdb is None:
        print("gdb-multiarch not found (scripts/setup installs it): skipped")
        sys.exit(77)
    f = Failures()

    proc, address = start_vireo(vireo_run, elf)
    out = run_gdb(gdb, elf, address)
    status, err = finish(proc)
    print(out)
    f.check(status == 0, "the program finished after detach: %s %s" % (status, err.strip()))
    f.check(re.search(r"\* 1 +Thread 1 \(hart 0\)", out) is not None and
            re.search(r"  2 +Thread 2 \(hart 1\)", out) is not None, "info threads: two harts")
    f.check(re.search(r"Thread 1 hit Breakpoint 1, gdb_add \(a=0, b=b?@?e?n?t?r?y?=?1\)", out)
            is not None, "breakpoint on gdb_add")
    f.check(re.search(r"^a1 +0x1\s+1$", out, re.M) is not None, "info registers a1")
    f.check(re.search(r"^pc +0x80000024\s+0x80000024 <gdb_add\+2>", out, re.M) is not None,
            "stepi: one instruction")
    f.check("0x80000000 <_start>:\t0xf1402573" in out, "x/4x _start")
    f.check("Hardware watchpoint 2: watched" in out and "Old value = 0" in out and
            "New value = 55" in out, "watchpoint hit with the new value")
    f.check("$1 = 55" in out, "print watched")
    f.check(re.search(r"\$2 = 0x[0-9a-f]+", out) is not None, "print $mstatus (a CSR)")
    f.check("mstatus" in out and "hart 0" in out, "monitor info registers")
    f.check("[Inferior 1 (Remote target) detached]" in out, "detach")

    # Over a Unix socket too, with the machine running at once.
    sock = os.path.join(os.environ.get("TMPDIR", "/tmp"), "vireo-gdb-%d.sock" % os.getpid())
    proc, address = start_vireo(vireo_run, elf, cpus=1, spec="unix:" + sock)
    r = subprocess.run([gdb, "--nx", "--batch", "-ex", "target remote " + sock, "-ex",
                        "print/x $pc", "-ex", "detach", elf], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    status, err = finish(proc)
    f.check(status == 0 and "$1 = 0x80000000" in r.stdout, "unix:PATH: %s" % r.stdout.strip())

    qemu = shutil.which("qemu-system-riscv64")
    if qemu is not None:
        port = free_port()
        q = subprocess.Popen([qemu, "-M", "virt", "-smp", "2", "-bios", "none", "-kernel", elf,
                              "-display", "none", "-serial", "null", "-monitor", "none",
                              "-gdb", "tcp:127.0.0.1:%d" % port, "-S"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(1)
        qout = run_gdb(gdb, elf, "127.0.0.1:%d" % port)
        try:
            q.wait(timeout=60)
        except subprocess.TimeoutExpired:
            q.kill()
        mine, theirs = comparable(out), comparable(qout)
        for a, b in zip(mine, theirs):
            if a != b:
                print("vireo: %s\nqemu:  %s" % (a, b))
        # $2 is mstatus, which differs between implementations, and $3
        # fcsr, which QEMU 7.2 reads as void while mstatus.FS is off;
        # everything else must match.
        def same(lines):
            return [x for x in lines if not x.startswith(("$2", "$3"))]
        f.check(same(mine) == same(theirs) and len(mine) > 8,
                "the same as QEMU (%d lines compared)" % len(mine))
    f.exit()


if __name__ == "__main__":
    main()
