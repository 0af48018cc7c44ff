#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a compute-bound guest program under vireo-run and under
qemu-system-riscv64 in the same run, checks that both print the same
checksum, and prints the wall-time ratio and guest MIPS.

usage: bench-compute.py VIREO_RUN GUEST_ELF [--runs N] [--engine interp|jit]
"""
import argparse
import re
import shutil
import subprocess
import sys
import time


def run(cmd, timeout):
    start = time.monotonic()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - start
    return proc, elapsed


def checksum(text):
    m = re.search(r"checksum ([0-9a-f]{16})", text)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("elf")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engine", help="vireo-run's --engine (interp or jit; default: its own)")
    args = ap.parse_args()

    qemu = shutil.which("qemu-system-riscv64")
    vireo_cmd = [args.vireo_run, "--memory", "256M", "--kernel", args.elf, "--stats"]
    if args.engine:
        vireo_cmd += ["--engine", args.engine]
    qemu_cmd = [qemu, "-M", "virt", "-m", "256M", "-nographic", "-bios", "none",
                "-kernel", args.elf] if qemu else None

    best_v = best_q = None
    insns = None
    for _ in range(args.runs):
        proc, t = run(vireo_cmd, 600)
        out = proc.stdout.decode(errors="replace")
        err = proc.stderr.decode(errors="replace")
        if proc.returncode != 0 or checksum(out) is None:
            print(f"vireo-run failed (status {proc.returncode}):\n{out}\n{err}", file=sys.stderr)
            return 1
        m = re.search(r"Total:\s*\n\s*instructions:\s*(\d+)", err)
        insns = int(m.group(1)) if m else None
        ref = checksum(out)
        best_v = t if best_v is None else min(best_v, t)
        if qemu_cmd:
            qproc, qt = run(qemu_cmd, 600)
            qout = qproc.stdout.decode(errors="replace")
            if qproc.returncode != 0 or checksum(qout) != ref:
                print(f"qemu disagrees: {qout!r} vs {ref}", file=sys.stderr)
                return 1
            best_q = qt if best_q is None else min(best_q, qt)

    line = f"compute: vireo ({args.engine or 'default engine'}) {best_v:.3f} s"
    if insns:
        line += f" ({insns / best_v / 1e6:.0f} MIPS, {insns} instructions)"
    if best_q is not None:
        line += f"; qemu-system-riscv64 {best_q:.3f} s"
        if insns:
            line += f" ({insns / best_q / 1e6:.0f} MIPS)"
        line += f"; vireo/qemu time ratio {best_v / best_q:.2f}"
    else:
        line += "; qemu-system-riscv64 not installed, no ratio"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
