#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots the Debian kit's extlinux image (tests/guests/build-debian.py) to
the root shell on ttyS0 under vireo-run and under qemu-system-riscv64, with
the same OpenSBI, U-Boot, RAM and hart count, in the same run, and prints
both times (the best of --runs boots each, from start to the shell prompt)
and their ratio, with each best boot's timeline.

Each boot gets a fresh copy of the image (the first boot of a copy is what is
measured every time); the machine is stopped once the prompt is there.

usage: bench-debian-boot.py VIREO_RUN [--kit DIR] [--cpus N] [--memory SIZE]
                            [--runs N] [--timeout S] [--image extlinux|efi]
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guests"))
import debiankit  # noqa: E402
import guestkit  # noqa: E402


def boot(argv_for, image, folder, timeout):
    """(seconds to the prompt, timeline) of one boot of a fresh copy."""
    disk = debiankit.copy_image(image, folder)
    m = debiankit.Machine(argv_for(disk))
    try:
        m.wait_prompt(timeout)
    except debiankit.Stopped as e:
        m.kill()
        raise RuntimeError(f"{e}\n$ {debiankit.shell_quote(m.argv)}\n{m.tail(40)}\n"
                           f"{m.con.errtext[-2000:]}") from e
    m.kill()
    os.unlink(disk)
    return m.marks["shell prompt"], m.timeline()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="where build-debian.py puts the kit (default ./debian-kit)")
    ap.add_argument("--image", choices=sorted(debiankit.IMAGES), default="extlinux")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--runs", type=int, default=2, help="boots on each, the best counts")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()

    kit = args.kit or os.path.join(os.getcwd(), "debian-kit")
    inputs = debiankit.bench_inputs(kit, args.image)
    if isinstance(inputs, int):
        return inputs
    image, fw, uboot = inputs
    qemu = guestkit.qemu_binary()

    def vireo(disk):
        return debiankit.vireo_argv(args.vireo_run, fw, uboot, disk, args.cpus, args.memory)

    def qemu_(disk):
        return debiankit.qemu_argv(qemu, fw, uboot, disk, args.cpus, args.memory)

    best = {}
    load = debiankit.host_load()
    with tempfile.TemporaryDirectory(prefix="bench-debian-", dir=os.path.abspath(kit)) as tmp:
        for _ in range(args.runs):
            for who, argv_for in (("vireo", vireo), ("qemu", qemu_ if qemu else None)):
                if argv_for is None:
                    continue
                try:
                    t, line = boot(argv_for, image, tmp, args.timeout)
                except RuntimeError as e:
                    print(f"{who}: {e}", file=sys.stderr)
                    return 1
                print(f"  {who}: prompt at {t:.1f} s ({line})", flush=True)
                if who not in best or t < best[who][0]:
                    best[who] = (t, line)

    tv, lv = best["vireo"]
    out = f"debian-boot ({args.image}, {args.cpus} harts, {args.memory}): vireo {tv:.1f} s"
    if "qemu" in best:
        tq, lq = best["qemu"]
        out += f"; qemu-system-riscv64 {tq:.1f} s; vireo/qemu time ratio {tv / tq:.2f}"
    else:
        out += "; qemu-system-riscv64 not installed, no ratio"
    print(f"vireo timeline: {lv}")
    if "qemu" in best:
        print(f"qemu timeline: {lq}")
    print(f"({load} at the start, {debiankit.host_load()} at the end; best of {args.runs})")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
