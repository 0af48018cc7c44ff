#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the demo program (data/demo, docs/DEMO.md) with a virtio-gpu display
and checks what it shows: its banner on the serial console, and pictures of
scanout 0 taken at two moments that are not blank (many colours) and differ
(the scene moves, the frame counter advances).

On vireo-run the program runs twice, for a few frames and for a second's
worth (demo.frames=N on the command line makes it power off after N
frames), and --scanout-dump writes the last frame of each run; on QEMU (the
reference) one run is pictured twice with the monitor's screendump.

usage: run-demo.py --program ELF (--vireo-run PATH | --qemu) [--keep DIR]
                   [--verbose]

Exit status: 0 pass, 1 failure, 77 when QEMU, the program or vireo-run's
display device is missing.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestkit  # noqa: E402

BANNER = r"^vireo-demo: Vireo's bare-metal RISC-V 64 demo"
READY = r"^vireo-demo: virtio-gpu at [0-9a-f]+ .* scanout 0 is (\d+)x(\d+)"
MIN_COLOURS = 64
FRAMES = (5, 30)
TIMEOUT = 60


class Failure(Exception):
    pass


def console_checks(text, name):
    if not re.search(BANNER, text, re.M):
        raise Failure(f"{name}: no banner on the serial console")
    m = re.search(READY, text, re.M)
    if not m:
        raise Failure(f"{name}: the program found no virtio-gpu display:\n{text.strip()}")
    return int(m.group(1)), int(m.group(2))


def picture_checks(path, size, name):
    width, height, pixels = guestkit.read_image(path)
    if (width, height) != size:
        raise Failure(f"{name}: the picture is {width}x{height}, the display {size[0]}x{size[1]}")
    colours = len(guestkit.colour_counts(width, height, pixels))
    if colours < MIN_COLOURS:
        raise Failure(f"{name}: {colours} colours; a picture of the scene has at least "
                      f"{MIN_COLOURS}")
    return width, height, pixels, colours


def run_vireo(args, work):
    options = guestkit.vireo_options(args.vireo_run)
    guestkit.vireo_display_args(options, "probe")
    shots = []
    for frames in FRAMES:
        dump = os.path.join(work, f"demo-{frames}.ppm")
        argv = [args.vireo_run, "--kernel", args.program, "--cpus", "2",
                "--append", f"demo.frames={frames}"] + guestkit.vireo_display_args(options, dump)
        print("$ " + " ".join(f"'{a}'" if " " in a else a for a in argv), flush=True)
        con = guestkit.Console(argv)
        if not con.wait(TIMEOUT):
            con.kill()
            raise Failure(f"{frames} frames: no power-off within {TIMEOUT} s")
        text = con.text.replace("\r", "")
        print(text.rstrip() if args.verbose else "\n".join(re.findall(r"^vireo-demo:.*$", text,
                                                                       re.M)))
        if con.status != 0:
            raise Failure(f"{frames} frames: vireo-run exited with status {con.status}\n"
                          f"{con.errtext.strip()[-2000:]}")
        size = console_checks(text, f"{frames} frames")
        if not re.search(rf"^vireo-demo: {frames} frames in ", text, re.M):
            raise Failure(f"{frames} frames: the program did not finish its frames")
        if not os.path.isfile(dump):
            raise Failure(f"{frames} frames: vireo-run wrote no --scanout-dump")
        shots.append((f"after {frames} frames", dump, size))
    return shots


def run_qemu(args, work):
    qemu = guestkit.qemu_binary()
    if not qemu:
        raise guestkit.Unavailable("qemu-system-riscv64 is not installed (qemu-system-misc)")
    monitor = guestkit.Monitor(os.path.join(work, "monitor.sock"))
    argv = [qemu, "-M", "virt", "-m", "256M", "-smp", "2", "-bios", "none", "-kernel",
            args.program, "-serial", "stdio"] + guestkit.qemu_display_argv() + monitor.argv()
    print("$ " + " ".join(argv), flush=True)
    con = guestkit.Console(argv)
    shots = []
    try:
        if not con.wait(TIMEOUT, until=READY):
            raise Failure("no virtio-gpu line from the program")
        for i, delay in enumerate((1.0, 2.0)):
            time.sleep(delay)
            path = os.path.join(work, f"demo-{i}.ppm")
            if not monitor.screendump(path):
                raise Failure("screendump wrote no picture")
            shots.append((f"screendump {i + 1}", path, None))
    finally:
        con.kill()
    text = con.text.replace("\r", "")
    print(text.rstrip() if args.verbose else "\n".join(re.findall(r"^vireo-demo:.*$", text,
                                                                   re.M)))
    size = console_checks(text, "qemu")
    return [(label, path, size) for label, path, _ in shots]


def main():
    ap = argparse.ArgumentParser(description="Runs the demo program and checks its pictures.")
    ap.add_argument("--program", required=True, help="vireo-demo.elf")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vireo-run", help="the vireo-run binary")
    who.add_argument("--qemu", action="store_true", help="run qemu-system-riscv64 instead")
    ap.add_argument("--keep", help="copy the pictures into this folder")
    ap.add_argument("--verbose", action="store_true", help="print the whole console")
    args = ap.parse_args()

    if not os.path.isfile(args.program):
        print(f"SKIP: {args.program} is missing")
        return guestkit.SKIP
    with tempfile.TemporaryDirectory(prefix="vireo-demo-") as work:
        try:
            shots = run_qemu(args, work) if args.qemu else run_vireo(args, work)
            seen = []
            for label, path, size in shots:
                width, height, pixels, colours = picture_checks(path, size, label)
                print(f"  {label}: {width}x{height}, {colours} colours")
                seen.append((label, pixels))
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    shutil.copyfile(path, os.path.join(args.keep, os.path.basename(path)))
            (label_a, a), (label_b, b) = seen
            if a == b:
                raise Failure(f"the pictures {label_a} and {label_b} are the same")
            differ = sum(1 for i in range(0, len(a), 3) if a[i:i + 3] != b[i:i + 3])
            print(f"  {differ} pixels differ between them")
        except guestkit.Unavailable as e:
            print(f"SKIP: {e}")
            return guestkit.SKIP
        except Failure as e:
            print(f"FAIL: {e}")
            return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
