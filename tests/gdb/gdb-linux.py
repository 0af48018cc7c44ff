#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Debugs the Linux guest kit's kernel with a real gdb-multiarch through
vireo-run's GDB stub: the machine waits before its first instruction;
gdb loads the kit's vmlinux, breaks on start_kernel (a virtual address the
boot hart reaches once the kernel has turned its MMU on), prints a
backtrace and the harts as threads, then breaks on smp_callin, which the
other hart runs when Linux starts it, so the stop names the other thread. After
`detach` the kernel boots on, the kit's init runs its checks and powers the
machine off.

Usage: gdb-linux.py VIREO-RUN KIT-DIR
Exit status: 0 pass, 1 failure, 77 (skipped) without gdb-multiarch, the
firmware or the kit (which it builds with build-kit.py, cached).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "guests"))
import guestkit  # noqa: E402
from common import Failures  # noqa: E402

SKIP = 77

SCRIPT = """set pagination off
set confirm off
target remote {address}
info threads
break start_kernel
continue
backtrace 1
info registers pc
info threads
break smp_callin
continue
info threads
delete
detach
"""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    vireo_run, kit_dir = sys.argv[1], sys.argv[2]
    gdb = shutil.which("gdb-multiarch")
    if gdb is None:
        print("SKIP: gdb-multiarch is not installed (run scripts/setup)")
        return SKIP
    try:
        guestkit.build_kit(kit_dir)
        image, initrd = guestkit.kit_files(kit_dir)
        fw = guestkit.firmware()
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return SKIP
    vmlinux = os.path.join(kit_dir, "vmlinux")
    if not os.path.isfile(vmlinux):
        print(f"FAIL: the kit has no vmlinux ({vmlinux})")
        return 1

    env = dict(os.environ, LC_ALL="C", LANGUAGE="C")
    argv = [vireo_run, "--firmware", fw, "--kernel", image, "--initrd", initrd,
            "--cpus", "2", "--memory", "256M",
            "--append", "console=ttyS0 vireo.checks=harts,smp vireo.harts=2",
            "--gdb", "tcp:127.0.0.1:0"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    line = proc.stderr.readline()
    m = re.search(r"(?:waiting for a debugger|a debugger can connect) on (\S+)", line)
    if not m:
        proc.kill()
        print(f"FAIL: vireo-run did not listen: {line!r}")
        return 1
    address = m.group(1)
    # The console, read while gdb runs so that the pipe never fills.
    console = []
    reader = threading.Thread(target=lambda: console.append(proc.stdout.read()), daemon=True)
    reader.start()

    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
        f.write(SCRIPT.format(address=address))
        script = f.name
    started = time.monotonic()
    try:
        r = subprocess.run([gdb, "--nx", "--batch", "-x", script, vmlinux],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=600, env=env)
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or "") + (e.stderr or "") if isinstance(e.stdout, str) else ""
        out += "\n(gdb timed out)"
    finally:
        os.unlink(script)
    print(out)
    print(f"(the gdb session took {time.monotonic() - started:.1f} s)")

    started = time.monotonic()
    try:
        rc = proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = None
    reader.join(timeout=10)
    print(f"(the guest ran {time.monotonic() - started:.1f} s more after the debugger left)")
    text = "".join(console)
    err = proc.stderr.read()

    f = Failures()
    f.check(len(re.findall(r"^[* ] [12]\s+Thread [12] \(hart [01]\) 0x0*1000 in \?\? \(\)",
                           out, re.M)) == 2,
            "both harts are threads, stopped at the reset vector")
    boot = re.search(r"Thread (\d) hit Breakpoint 1, (0x[0-9a-f]+ in )?start_kernel \(\)", out)
    f.check(boot is not None, "the boot hart breaks on start_kernel")
    f.check(re.search(r"^#0\s+(0x[0-9a-f]+ in )?start_kernel \(\)", out, re.M) is not None,
            "backtrace starts in start_kernel")
    f.check(re.search(r"^pc\s+0xffffffff8[0-9a-f]+\s+0xffffffff8[0-9a-f]+ <start_kernel",
                      out, re.M) is not None, "pc is start_kernel's virtual address")
    other = re.search(r"Thread (\d) hit Breakpoint 2, (0x[0-9a-f]+ in )?smp_callin \(\)", out)
    f.check(other is not None and boot is not None and other.group(1) != boot.group(1),
            "the other hart stops in smp_callin, as the other thread")
    f.check(other is not None and re.search(
        rf"^\* {other.group(1)}\s+Thread {other.group(1)} .* in smp_callin \(\)", out, re.M)
        is not None, "that thread is current at smp_callin")
    f.check("detached" in out, "gdb detached")
    f.check(rc == 0, f"vireo-run exited 0 after the guest powered off (rc={rc})")
    f.check(re.search(r"^VIREO-INIT: PASS", text, re.M) is not None,
            "the kernel booted on after the debugger left and the init's checks passed")
    if f.n:
        print("---- console (last 40 lines) ----")
        print("\n".join(text.splitlines()[-40:]))
        print("---- vireo-run's standard error ----")
        print(err[-2000:])
    f.exit()


if __name__ == "__main__":
    sys.exit(main())
