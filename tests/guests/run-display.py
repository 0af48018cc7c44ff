#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots the display variant of the Linux guest kit (build-kit.py --variant
display) with a virtio-gpu display and checks, from the host, the picture
the guest put on scanout 0.

Two boots, one per init check (init/check-display.c):

- fbcon: Linux's framebuffer console on the virtio-gpu DRM driver. init
  writes a marker line on /dev/tty0; the host expects console text in the
  screen's top rows (lit pixels), only a console palette's few colours and a
  mostly dark screen.
- fb: init draws a pattern over the whole of /dev/fb0 with the terminal in
  graphics mode; the host recomputes the pattern and compares every pixel.

On vireo-run the picture is the last frame of scanout 0, which
--scanout-dump writes when the machine stops; on QEMU (the reference) it is
the monitor's screendump, taken while init holds the picture.

usage: run-display.py --kit DIR (--vireo-run PATH | --qemu) [--build]
                      [--case fb|fbcon] [--cpus N] [--memory SIZE]
                      [--keep DIR] [--timeout S] [--verbose]

With --build the kit is first built (or taken from the cache) into DIR.
Exit status: 0 pass, 1 failure, 77 when the kit, the firmware, QEMU or
vireo-run's display device is missing.
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

CASES = ("fbcon", "fb")
# The line after which init holds the picture (QEMU's screendump waits for it).
READY = {
    "fbcon": r"^VIREO-CHECK fbcon: \d+ lit pixels",
    "fb": r"^VIREO-CHECK fb: pattern drawn",
}
APPEND = {
    # The console on tty0 as well (the serial one last: /dev/console), quiet
    # so that the screen holds few kernel lines and init's marker line.
    "fbcon": "console=tty0 console=ttyS0 quiet",
    "fb": "console=ttyS0",
}
FBCON_TOP_ROWS = 64


class Failure(Exception):
    pass


def check_fbcon_picture(width, height, pixels, notes):
    counts = guestkit.colour_counts(width, height, pixels)
    dark = counts.get(b"\0\0\0", 0)
    lit_all = width * height - dark
    top = guestkit.colour_counts(width, height, pixels, (0, 0, width, FBCON_TOP_ROWS))
    lit_top = sum(n for c, n in top.items() if c != b"\0\0\0")
    notes.append(f"{width}x{height}, {len(counts)} colours, {lit_top} lit pixels in the top "
                 f"{FBCON_TOP_ROWS} rows, {lit_all} in all")
    if lit_top < 200:
        raise Failure(f"no console text in the top {FBCON_TOP_ROWS} rows ({lit_top} lit pixels)")
    if len(counts) > 16:
        raise Failure(f"{len(counts)} colours: more than a console's palette")
    if lit_all > width * height // 5:
        raise Failure(f"{lit_all} lit pixels: more than a few lines of console text")


def check_fb_picture(width, height, pixels, text, notes):
    m = re.search(r"^VIREO-CHECK fb: /dev/fb0 '[^']*': (\d+)x(\d+)", text, re.M)
    if m and (int(m.group(1)), int(m.group(2))) != (width, height):
        raise Failure(f"the picture is {width}x{height}, /dev/fb0 {m.group(1)}x{m.group(2)}")
    wrong, first = guestkit.compare_fb_pattern(width, height, pixels)
    if wrong:
        x, y, got, want = first
        raise Failure(f"{wrong} of {width * height} pixels differ from init's pattern; the first "
                      f"at ({x}, {y}): {got}, expected {want}")
    notes.append(f"{width}x{height}: every pixel matches init's pattern")


def run_case(args, case, image, initrd, fw, options, work):
    picture = os.path.join(work, f"{case}.ppm" if args.qemu else f"{case}.ppm")
    guest = guestkit.Guest(image, initrd, fw, cpus=args.cpus, memory=args.memory)
    guest.append = f"{APPEND[case]} vireo.checks={case} vireo.harts={args.cpus}"
    monitor = None
    if args.qemu:
        monitor = guestkit.Monitor(os.path.join(work, "monitor.sock"))
        argv = guest.qemu_argv(guestkit.qemu_binary()) + guestkit.qemu_display_argv() + \
            monitor.argv()
    else:
        argv = guest.vireo_argv(args.vireo_run) + guestkit.vireo_display_args(options, picture)
    print("$ " + " ".join(f"'{a}'" if " " in a else a for a in argv), flush=True)

    con = guestkit.Console(argv)
    dumped = False
    try:
        while con.poll(0.2):
            if monitor and not dumped and con.seen(READY[case]) is not None:
                # The deferred flush of the fbdev emulation, then the picture.
                time.sleep(0.8)
                dumped = monitor.screendump(picture)
            if time.monotonic() - con.start > args.timeout:
                raise Failure(f"no power-off within {args.timeout:.0f} s")
    finally:
        if con.status is None:
            con.kill()
    text = con.text.replace("\r", "")
    if args.verbose:
        print(text)
    else:
        print("\n".join(re.findall(r"^VIREO-.*$", text, re.M)))

    result = re.search(rf"^VIREO-CHECK {case}: (PASS|FAIL|SKIP)(.*)$", text, re.M)
    if not result:
        raise Failure(f"no result for check {case}")
    if result.group(1) != "PASS":
        raise Failure(f"check {case}: {result.group(1)}{result.group(2)}")
    if con.status != 0:
        raise Failure(f"the machine exited with status {con.status}")
    if not os.path.isfile(picture):
        raise Failure("no picture of scanout 0" + ("" if args.qemu else " (--scanout-dump)"))
    width, height, pixels = guestkit.read_image(picture)
    notes = []
    if case == "fbcon":
        check_fbcon_picture(width, height, pixels, notes)
    else:
        check_fb_picture(width, height, pixels, text, notes)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        kept = os.path.join(args.keep, os.path.basename(picture))
        shutil.copyfile(picture, kept)
        notes.append(f"picture kept as {kept}")
    return notes, con.elapsed


def main():
    ap = argparse.ArgumentParser(description="Boots the display kit and checks the scanout.")
    ap.add_argument("--kit", required=True, help="folder with Image and initramfs.cpio")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vireo-run", help="the vireo-run binary")
    who.add_argument("--qemu", action="store_true", help="run qemu-system-riscv64 instead")
    ap.add_argument("--build", action="store_true",
                    help="build the display kit into --kit first (or take it from the cache)")
    ap.add_argument("--case", choices=CASES, action="append", help="fb or fbcon (default both)")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--firmware", help=f"OpenSBI firmware (default {guestkit.DEFAULT_FIRMWARE})")
    ap.add_argument("--timeout", type=float, default=300, help="seconds for each boot")
    ap.add_argument("--keep", help="copy the pictures into this folder")
    ap.add_argument("--verbose", action="store_true", help="print the whole console")
    args = ap.parse_args()

    name = "qemu-system-riscv64" if args.qemu else "vireo-run"
    try:
        options = {}
        if args.qemu:
            if not guestkit.qemu_binary():
                raise guestkit.Unavailable("qemu-system-riscv64 is not installed (qemu-system-misc)")
        else:
            options = guestkit.vireo_options(args.vireo_run)
            guestkit.vireo_display_args(options, "probe")
        fw = guestkit.firmware(args.firmware)
        if args.build:
            guestkit.build_kit(args.kit, "display")
        image, initrd = guestkit.kit_files(args.kit)
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP
    except guestkit.BuildFailed as e:
        print(f"FAIL: {e}")
        return 1

    failed = False
    with tempfile.TemporaryDirectory(prefix="vireo-display-") as work:
        for case in args.case or CASES:
            try:
                notes, elapsed = run_case(args, case, image, initrd, fw, options, work)
                for note in notes:
                    print(f"  {note}")
                print(f"{name} {case}: PASS in {elapsed:.1f} s")
            except Failure as e:
                print(f"FAIL: {name} {case}: {e}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
