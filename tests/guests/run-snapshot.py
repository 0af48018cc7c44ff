#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Snapshots of a running Linux guest, driven through QMP as a tool would.

The guest kit's init runs its `counter` check: it counts every 50 ms,
keeping the count in RAM and in a block of its qcow2 disk, and fails as soon
as the two disagree. The test:

1. boots it under vireo-run --qmp with a qcow2 disk made by qemu-img;
2. `savevm s1` once it has counted a while, and notes the count;
3. lets it count on, then `loadvm s1`: the count must go back to the saved
   one and go on from there without a disagreement between RAM and disk;
4. checks `info snapshots`, quits, and has `qemu-img check` (clean) and
   `qemu-img snapshot -l` (lists s1) look at the image;
5. starts a new vireo-run with --loadvm s1: it resumes from the saved count.

usage: run-snapshot.py VIREO_RUN --kit DIR [--build] [--timeout S]
Exit status: 0 pass, 1 failure, 77 when the kit, the firmware or qemu-img is
missing.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guestkit  # noqa: E402

def machine(args, kit, disk, sock, extra=()):
    image, initrd = guestkit.kit_files(kit)
    guest = guestkit.Guest(image, initrd, guestkit.firmware(), cpus=2, memory="256M",
                           append="console=ttyS0 vireo.checks=counter vireo.counter_ms=50")
    argv = guest.vireo_argv(args.vireo_run) + ["--disk", disk, "--qmp", f"unix:{sock}"]
    return guestkit.Console(argv + list(extra))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", required=True)
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()

    reason = guestkit.counter_prerequisites(args.kit, args.build)
    if reason is not None:
        print(f"SKIP: {reason}")
        return guestkit.SKIP

    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.qcow2")
        sock = os.path.join(tmp, "qmp.sock")
        guestkit.qcow2_disk(disk)

        con = machine(args, args.kit, disk, sock)
        try:
            guestkit.wait_counter(con, 0, 20, args.timeout)
            qmp = guestkit.Qmp(sock)
            before = guestkit.counter_counts(con)[-1]
            t = time.monotonic()
            out = qmp.hmp("savevm s1")
            save_s = time.monotonic() - t
            if out.strip():
                raise RuntimeError(f"savevm: {out}")
            con.poll(0.1)
            saved = guestkit.counter_counts(con)[-1]
            if saved not in (before, before + 1):
                raise RuntimeError(f"the guest counted from {before} to {saved} during savevm")
            print(f"savevm at count {saved} took {save_s:.2f} s")

            mark = len(con.out)
            guestkit.wait_counter(con, mark, saved + 30, args.timeout)
            t = time.monotonic()
            out = qmp.hmp("loadvm s1")
            load_s = time.monotonic() - t
            if out.strip():
                raise RuntimeError(f"loadvm: {out}")
            mark = len(con.out)
            after = guestkit.wait_counter(con, mark, saved + 20, args.timeout)
            if not saved <= after[0] <= saved + 2:
                raise RuntimeError(f"after loadvm the guest counted {after[0]}, not from {saved}")
            if after != list(range(after[0], after[0] + len(after))):
                raise RuntimeError(f"the count after loadvm has gaps or repeats: {after}")
            print(f"loadvm took {load_s:.2f} s; the guest went on from {after[0]}")

            listing = qmp.hmp("info snapshots")
            if not re.search(r"\bs1\b", listing):
                raise RuntimeError(f"info snapshots does not list s1:\n{listing}")
            qmp.execute("quit")
            qmp.close()
            con.wait(30)
        finally:
            con.kill()
        if "VIREO-CHECK counter FAIL" in con.text:
            raise RuntimeError(f"RAM and disk disagreed:\n{con.tail(20)}")

        check = subprocess.run(["qemu-img", "check", disk], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"qemu-img check exits {check.returncode}:\n{check.stdout}"
                               f"{check.stderr}")
        listing = subprocess.run(["qemu-img", "snapshot", "-l", disk], capture_output=True,
                                 text=True, check=True).stdout
        if not re.search(r"\bs1\b", listing):
            raise RuntimeError(f"qemu-img snapshot -l does not list s1:\n{listing}")
        print("qemu-img check: clean; qemu-img snapshot -l:\n" + listing.rstrip())

        con = machine(args, args.kit, disk, sock, ["--loadvm", "s1"])
        try:
            after = guestkit.wait_counter(con, 0, saved + 10, args.timeout)
            if not saved <= after[0] <= saved + 2:
                raise RuntimeError(f"vireo-run --loadvm s1 counted from {after[0]}, "
                                   f"not from {saved}")
            print(f"a new vireo-run --loadvm s1 went on from {after[0]}")
        finally:
            con.kill()
    print("PASS")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
