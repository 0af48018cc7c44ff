#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Times the operations a distribution's boot is made of (the guest kit's
`osbench` check: a system call, context switches on one hart and across
harts, fork, fork+exec, anonymous page faults, a TLB shootdown, a signal)
under vireo-run and under qemu-system-riscv64 with the same kernel and
init, in the same run, and prints each operation's time on both and the
ratio, the best of --runs boots each.

usage: bench-os.py VIREO_RUN [--kit DIR] [--cpus N] [--runs N] [--timeout S]
                   [--engine interp|jit]
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guests"))
import guestkit  # noqa: E402

LINE = re.compile(r"^VIREO-CHECK osbench: osbench ([\w+-]+): (\d+) ns", re.M)


def run(argv, timeout):
    """{operation: ns} of one boot."""
    con = guestkit.Console(argv)
    if not con.wait(timeout) or con.proc.poll() is None:
        con.kill()
        raise RuntimeError(f"no power-off within {timeout} s:\n{con.tail(30)}")
    if con.status != 0 or "VIREO-CHECK osbench: PASS" not in con.text:
        raise RuntimeError(f"status {con.status}:\n{con.tail(30)}\n{con.errtext[-1000:]}")
    return {m.group(1): int(m.group(2)) for m in LINE.finditer(con.text.replace("\r", ""))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="where build-kit.py puts the kit (default ./guest-kit)")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3, help="boots on each, the best counts")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--engine", help="vireo-run's --engine (interp or jit)")
    args = ap.parse_args()

    kit = args.kit or os.path.join(os.getcwd(), "guest-kit")
    try:
        guestkit.build_kit(kit)
        image, initrd = guestkit.kit_files(kit)
        fw = guestkit.firmware()
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP
    except guestkit.BuildFailed as e:
        print(e, file=sys.stderr)
        return 1

    guest = guestkit.Guest(image, initrd, fw, cpus=args.cpus, memory="256M",
                           append="console=ttyS0 vireo.checks=osbench")
    guest.engine = args.engine
    qemu = guestkit.qemu_binary()
    best = {"vireo": {}, "qemu": {}}
    for _ in range(args.runs):
        runs = [("vireo", guest.vireo_argv(args.vireo_run))]
        if qemu:
            runs.append(("qemu", guest.qemu_argv(qemu)))
        for who, argv in runs:
            try:
                got = run(argv, args.timeout)
            except RuntimeError as e:
                print(f"{who}: {e}", file=sys.stderr)
                return 1
            for op, ns in got.items():
                best[who][op] = min(ns, best[who].get(op, ns))

    for op, ns in best["vireo"].items():
        line = f"os {op} ({args.cpus} harts): vireo {ns / 1000:.1f} us"
        if op in best["qemu"]:
            q = best["qemu"][op]
            line += f"; qemu-system-riscv64 {q / 1000:.1f} us; vireo/qemu time ratio {ns / q:.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
