#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disk throughput: the Linux guest kit writes then reads its virtio disk
sequentially in 1 MiB requests (O_DIRECT in the guest, the write phase ending
with fsync), then makes random 4 KiB writes (and an fsync) and reads over the
same stretch, on a raw image and on a fresh qcow2 image (its clusters
allocated by the writes), under vireo-run and, where it is installed, under
qemu-system-riscv64 with the same kit. The same sequential pattern is run on
the host on a file on the same file system (1 MiB writes then fsync, 1 MiB
reads). Prints each rate and the ratios: qcow2/raw on Vireo, Vireo/QEMU on
each format, guest/host.

usage: bench-disk.py VIREO_RUN [--kit DIR] [--mb N] [--random N] [--runs N]
"""
import argparse
import os
import re
import subprocess
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


def make_disk(path, fmt, size):
    if os.path.exists(path):
        os.unlink(path)
    if fmt == "raw":
        with open(path, "wb") as f:
            f.truncate(size)
    else:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(size)], check=True)


def guest_rates(argv_of, guest, disk, fmt, mb, timeout):
    """(seq write MiB/s, seq read MiB/s, random write IOPS, random read IOPS)."""
    guest.disk = disk
    guest.disk_format = fmt
    con = guestkit.Console(argv_of(guest))
    if not con.wait(timeout):
        con.kill()
        raise RuntimeError(f"no power-off within {timeout} s:\n{con.tail(40)}")
    seq = re.search(r"VIREO-DISKBENCH: \d+ MiB write ([\d.]+) MiB/s read ([\d.]+) MiB/s", con.text)
    rnd = re.search(r"VIREO-DISKBENCH-RANDOM: \d+ x 4 KiB write ([\d.]+) IOPS read ([\d.]+) IOPS",
                    con.text)
    if con.status != 0 or seq is None or rnd is None:
        raise RuntimeError(f"status {con.status}:\n{con.tail(40)}\n{con.errtext[-2000:]}")
    return (float(seq.group(1)), float(seq.group(2)), float(rnd.group(1)), float(rnd.group(2)))


def fmt_rates(r):
    return (f"seq write {r[0]:.0f} MiB/s, read {r[1]:.0f} MiB/s; random 4 KiB write "
            f"{r[2]:.0f} IOPS, read {r[3]:.0f} IOPS")


def fmt_ratio(a, b):
    return (f"seq write {a[0] / b[0]:.2f}, read {a[1] / b[1]:.2f}; random write "
            f"{a[2] / b[2]:.2f}, read {a[3] / b[3]:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="where build-kit.py puts the kit (default ./guest-kit)")
    ap.add_argument("--mb", type=int, default=128)
    ap.add_argument("--random", type=int, default=2000, help="random 4 KiB operations of each kind")
    ap.add_argument("--runs", type=int, default=3, help="runs of each, the best counts")
    ap.add_argument("--timeout", type=float, default=900)
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
    have_qemu_img = subprocess.run(["sh", "-c", "command -v qemu-img"],
                                   stdout=subprocess.DEVNULL).returncode == 0
    qemu = guestkit.qemu_binary()
    machines = [("Vireo", lambda g: g.vireo_argv(args.vireo_run))]
    if qemu:
        machines.append(("QEMU", lambda g: g.qemu_argv(qemu)))
    formats = ["raw"] + (["qcow2"] if have_qemu_img else [])

    best = {}
    host_w = host_r = 0.0
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        host = os.path.join(tmp, "host.bin")
        for _ in range(args.runs):
            for name, argv_of in machines:
                for fmt in formats:
                    disk = os.path.join(tmp, f"disk.{fmt}")
                    make_disk(disk, fmt, (args.mb + 16) * CHUNK)
                    guest = guestkit.Guest(
                        image, initrd, fw, cpus=1, memory="256M",
                        append=(f"console=ttyS0 vireo.checks=diskbench "
                                f"vireo.diskbench_mb={args.mb} "
                                f"vireo.diskbench_rand={args.random}"))
                    try:
                        r = guest_rates(argv_of, guest, disk, fmt, args.mb, args.timeout)
                    except RuntimeError as e:
                        print(f"{name} ({fmt}): {e}", file=sys.stderr)
                        return 1
                    old = best.get((name, fmt), (0, 0, 0, 0))
                    best[(name, fmt)] = tuple(max(a, b) for a, b in zip(old, r))
            w, r = host_rates(host, args.mb)
            host_w, host_r = max(host_w, w), max(host_r, r)

    print(f"disk ({args.mb} MiB sequential in 1 MiB requests, {args.random} random 4 KiB "
          f"requests each way; host file write {host_w:.0f} MiB/s, read {host_r:.0f} MiB/s):")
    for (name, fmt), r in best.items():
        print(f"  {name} {fmt}: {fmt_rates(r)}; guest/host seq write "
              f"{r[0] / host_w:.2f}, read {r[1] / host_r:.2f}")
    if ("Vireo", "qcow2") in best:
        print(f"  qcow2/raw on Vireo: {fmt_ratio(best[('Vireo', 'qcow2')], best[('Vireo', 'raw')])}")
    if ("QEMU", "qcow2") in best:
        print(f"  qcow2/raw on QEMU: {fmt_ratio(best[('QEMU', 'qcow2')], best[('QEMU', 'raw')])}")
    for fmt in formats:
        if ("QEMU", fmt) in best:
            print(f"  Vireo/QEMU on {fmt}: "
                  f"{fmt_ratio(best[('Vireo', fmt)], best[('QEMU', fmt)])}")
    if not qemu:
        print("  qemu-system-riscv64 not installed, no Vireo/QEMU ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
