#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots the Linux guest kit to its init and power-off under vireo-run and
under qemu-system-riscv64, with the same firmware, kernel, initramfs, RAM and
hart count, in the same run, and prints both wall times (the best of
--runs boots each) and their ratio.

init runs no checks here (vireo.checks= is empty): the time is OpenSBI,
the kernel's boot, init's start and the power-off. The kit comes from
tests/guests/build-kit.py (its cache, or built once).

usage: bench-linux-boot.py VIREO_RUN [--kit DIR] [--cpus N] [--memory SIZE]
                           [--runs N] [--timeout S]
"""
import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GUESTS = os.path.join(HERE, "..", "guests")
sys.path.insert(0, GUESTS)
import guestkit  # noqa: E402

INIT_STARTED = r"^VIREO-INIT: start"
INIT_PASSED = r"^VIREO-INIT: PASS"
POWEROFF_GRACE = 30  # seconds from Linux's "reboot: Power down" to the exit


def boot(argv, timeout):
    """(seconds to power-off, seconds to init, stats text) of one boot."""
    con = guestkit.Console(argv)
    while con.poll(0.2):
        now = time.monotonic() - con.start
        con.seen(INIT_STARTED)
        down = con.seen(r"reboot: Power down")
        if down is not None and now - down > POWEROFF_GRACE:
            con.kill()
            raise RuntimeError(f"Linux printed 'reboot: Power down' at {down:.1f} s but the "
                               f"machine was still running {POWEROFF_GRACE} s later")
        if now > timeout:
            con.kill()
            raise RuntimeError(f"no power-off within {timeout} s:\n{con.tail(40)}")
    init = con.seen(INIT_STARTED)
    if con.status != 0 or init is None or con.seen(INIT_PASSED) is None:
        raise RuntimeError(f"status {con.status}, init {'started' if init else 'not started'}:\n"
                           f"{con.tail(40)}\n{con.errtext[-2000:]}")
    return con.elapsed, init, con.errtext


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="where build-kit.py puts the kit (default ./guest-kit)")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--runs", type=int, default=3, help="boots on each, the best counts")
    ap.add_argument("--timeout", type=float, default=600)
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

    guest = guestkit.Guest(image, initrd, fw, cpus=args.cpus, memory=args.memory,
                           append="console=ttyS0 vireo.checks=")
    qemu = guestkit.qemu_binary()
    best_v = best_q = None
    init_v = init_q = None
    insns = None
    for _ in range(args.runs):
        try:
            t, init, err = boot(guest.vireo_argv(args.vireo_run, stats=True), args.timeout)
        except RuntimeError as e:
            print(f"vireo-run: {e}", file=sys.stderr)
            return 1
        if best_v is None or t < best_v:
            best_v, init_v = t, init
            m = re.search(r"Total:\s*\n\s*instructions:\s*(\d+)", err)
            insns = int(m.group(1)) if m else None
        if qemu:
            try:
                t, init, _ = boot(guest.qemu_argv(qemu), args.timeout)
            except RuntimeError as e:
                print(f"qemu-system-riscv64: {e}", file=sys.stderr)
                return 1
            if best_q is None or t < best_q:
                best_q, init_q = t, init

    line = f"linux-boot ({args.cpus} harts, {args.memory}): vireo {best_v:.2f} s"
    line += f" (init at {init_v:.2f} s"
    if insns:
        line += f", {insns / best_v / 1e6:.0f} MIPS"
    line += ")"
    if best_q is not None:
        line += f"; qemu-system-riscv64 {best_q:.2f} s (init at {init_q:.2f} s)"
        line += f"; vireo/qemu time ratio {best_v / best_q:.2f}"
    else:
        line += "; qemu-system-riscv64 not installed, no ratio"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
