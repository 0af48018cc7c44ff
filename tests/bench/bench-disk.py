#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disk throughput: the Linux guest kit writes then reads its virtio disk
sequentially in 1 MiB requests (O_DIRECT in the guest, the write phase ending
with fsync), and the same is done on the host to a file on the same file
system (1 MiB writes then fsync, 1 MiB reads). Prints both rates and the
guest/host ratios.

usage: bench-disk.py VIREO_RUN [--kit DIR] [--mb N] [--runs N]
"""
import argparse
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GUESTS = os.path.join(HERE, "..", "guests")
sys.path.insert(0, GUESTS)
import guestkit  # noqa: E402

CHUNK = 1 << 20


def host_rates(path, mb):
    """MiB/s of sequential 1 MiB writes (with a final fsync) and reads."""
    block = os.urandom(CHUNK)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        t0 = time.monotonic()
        for i in range(mb):
            os.pwrite(fd, block, i * CHUNK)
        os.fsync(fd)
        t_write = time.monotonic() - t0
        t0 = time.monotonic()
        for i in range(mb):
            os.pread(fd, CHUNK, i * CHUNK)
        t_read = time.monotonic() - t0
    finally:
        os.close(fd)
    return mb / t_write, mb / t_read


def guest_rates(vireo_run, image, initrd, fw, disk, mb, timeout):
    guest = guestkit.Guest(image, initrd, fw, cpus=1, memory="256M",
                           append=f"console=ttyS0 vireo.checks=diskbench vireo.diskbench_mb={mb}")
    guest.disk = disk
    con = guestkit.Console(guest.vireo_argv(vireo_run))
    if not con.wait(timeout):
        con.kill()
        raise RuntimeError(f"no power-off within {timeout} s:\n{con.tail(40)}")
    m = re.search(r"VIREO-DISKBENCH: \d+ MiB write ([\d.]+) MiB/s read ([\d.]+) MiB/s", con.text)
    if con.status != 0 or m is None:
        raise RuntimeError(f"status {con.status}:\n{con.tail(40)}\n{con.errtext[-2000:]}")
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="where build-kit.py puts the kit (default ./guest-kit)")
    ap.add_argument("--mb", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3, help="runs of each, the best counts")
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

    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate((args.mb + 16) * CHUNK)
        host = os.path.join(tmp, "host.bin")
        gw = gr = hw = hr = 0.0
        for _ in range(args.runs):
            try:
                w, r = guest_rates(args.vireo_run, image, initrd, fw, disk, args.mb, args.timeout)
            except RuntimeError as e:
                print(f"vireo-run: {e}", file=sys.stderr)
                return 1
            gw, gr = max(gw, w), max(gr, r)
            w, r = host_rates(host, args.mb)
            hw, hr = max(hw, w), max(hr, r)

    print(f"disk ({args.mb} MiB sequential, 1 MiB requests): guest write {gw:.0f} MiB/s, "
          f"read {gr:.0f} MiB/s; host file write {hw:.0f} MiB/s, read {hr:.0f} MiB/s; "
          f"guest/host ratio write {gw / hw:.2f}, read {gr / hr:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
