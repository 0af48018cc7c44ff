#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Live migration on vireo-run and on qemu-system-riscv64, in the same run,
between two processes of each on this host (a Unix socket), driven
through QMP: total time, downtime and bytes sent, as each one's
query-migrate reports them.

Guests: the Linux guest kit (256 MiB, 2 harts, its init counting every
50 ms into RAM and a block of a shared qcow2 disk):
  - idle: counting only;
  - dirty: a process also writes a word into every page of 64 MiB, round
    after round, as fast as it can (vireo.counter_dirty_mb=64).
Both programs keep their default downtime limit (300 ms). QEMU's
max-bandwidth is raised from its default (128 MiB/s) to 10 GiB/s, so that
neither side is throttled on the loopback. A migration that has not
completed after --limit seconds (a guest that dirties faster than the
transfer goes does not converge) is cancelled and reported as such.

After each migration the destination must count on from the source's
last count: a run whose count has a gap or a repeat fails. QEMU 7.2's
destination does not run this guest on (the harts wait for an interrupt
that never comes, with Sstc or without); its figures are shown with that
said.

The two figures of downtime are each program's own: vireo-run's runs from
the pause to the destination's word that it loaded the machine; QEMU's
from the stop to the end of the transfer on the source.

usage: bench-migrate.py VIREO_RUN [--kit DIR] [--runs N] [--limit S]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guests"))
import guestkit  # noqa: E402

APPEND = "console=ttyS0 vireo.checks=counter vireo.counter_ms=50"


def machine_argv(which, vireo_run, kit, disk, qmp, dirty_mb, incoming=None):
    image, initrd = guestkit.kit_files(kit)
    append = APPEND + (f" vireo.counter_dirty_mb={dirty_mb}" if dirty_mb else "")
    guest = guestkit.Guest(image, initrd, guestkit.firmware(), cpus=2, memory="256M",
                           append=append)
    guest.disk = disk
    guest.disk_format = "qcow2"
    if which == "vireo":
        argv = guest.vireo_argv(vireo_run) + ["--qmp", f"unix:{qmp}"]
        if incoming:
            argv += ["--incoming", f"unix:{incoming}"]
    else:
        argv = guest.qemu_argv(guestkit.qemu_binary()) + ["-qmp", f"unix:{qmp},server,wait=off"]
        if incoming:
            argv += ["-incoming", f"unix:{incoming}"]
    return argv


def wait_path(path, con, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        con.poll(0.1)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} never appeared:\n{con.tail(20)}")


def migrate_once(which, vireo_run, kit, dirty_mb, limit):
    """(status, total-time ms, downtime ms, bytes sent, dirty-sync-count)."""
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.qcow2")
        sq, dq, mig = (os.path.join(tmp, n) for n in ("src.qmp", "dst.qmp", "mig.sock"))
        guestkit.qcow2_disk(disk)
        src = guestkit.Console(machine_argv(which, vireo_run, kit, disk, sq, dirty_mb))
        dst = None
        try:
            guestkit.wait_counter(src, 0, 20, 600)
            if dirty_mb:
                # The dirtying process has been round its memory a few times.
                src.poll(2)
            dst = guestkit.Console(machine_argv(which, vireo_run, kit, disk, dq, dirty_mb, mig))
            wait_path(mig, dst)
            qmp = guestkit.Qmp(sq)
            if which == "qemu":
                qmp.execute("migrate-set-parameters", {"max-bandwidth": 10 << 30})
            qmp.execute("migrate", {"uri": f"unix:{mig}"})
            deadline = time.monotonic() + limit
            while True:
                info = qmp.execute("query-migrate")
                status = info.get("status")
                if status in ("completed", "failed", "cancelled"):
                    break
                if time.monotonic() > deadline:
                    qmp.execute("migrate_cancel")
                    info["status"] = "not converged"
                    break
                src.poll(0.05)
            ram = info.get("ram", {})
            result = (info["status"], info.get("total-time"), info.get("downtime"),
                      ram.get("transferred", 0), ram.get("dirty-sync-count", 0))
            if info["status"] == "completed":
                src.poll(0.3)
                last = guestkit.counter_counts(src)[-1]
                try:
                    guestkit.wait_counter(dst, 0, last + 5, 30)
                except RuntimeError:
                    if which == "vireo":
                        raise
                    # QEMU 7.2's RISC-V guests stop on the destination:
                    # the figures stand, but the guest did not move.
                    result = ("completed, but the guest does not run on the destination "
                              f"(its count stays at {last})",) + result[1:]
                    qmp.close()
                    return result
                whole = [int(n) for n in guestkit.COUNTER_LINE.findall(src.text + dst.text)]
                if whole != list(range(whole[0], whole[0] + len(whole))):
                    raise RuntimeError(f"{which}: the count has gaps or repeats: {whole}")
            qmp.close()
            return result
        finally:
            src.kill()
            if dst is not None:
                dst.kill()


def best(results):
    """The completed run with the least downtime, else the first."""
    done = [r for r in results if r[0].startswith("completed")]
    return min(done, key=lambda r: r[2]) if done else results[0]


def line(name, which, r):
    status, total, down, sent, syncs = r
    if not status.startswith("completed"):
        return f"{name}: {which} {status} (after {total} ms, {sent / 1e6:.1f} MB sent)"
    text = (f"{name}: {which} total {total} ms, downtime {down} ms, {sent / 1e6:.1f} MB sent, "
            f"{syncs} dirty-log syncs")
    return text if status == "completed" else f"{text}; {status}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="the guest kit (default ./guest-kit)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limit", type=float, default=60,
                    help="seconds a migration may take before it is cancelled")
    args = ap.parse_args()

    kit = args.kit or os.path.join(os.getcwd(), "guest-kit")
    try:
        guestkit.build_kit(kit)
        guestkit.firmware()
        if subprocess.run(["sh", "-c", "command -v qemu-img"], capture_output=True).returncode:
            raise guestkit.Unavailable("qemu-img is not installed (package qemu-utils)")
        guestkit.qemu_binary()
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP

    for name, dirty_mb in (("idle 256 MiB", 0), ("dirtying 64 MiB", 64)):
        res = {}
        for which in ("vireo", "qemu"):
            res[which] = best([migrate_once(which, args.vireo_run, kit, dirty_mb, args.limit)
                               for _ in range(args.runs)])
            print(line(name, which, res[which]), flush=True)
        v, q = res["vireo"], res["qemu"]
        if v[0].startswith("completed") and q[0].startswith("completed") and q[2]:
            print(f"{name}: downtime ratio vireo/qemu {v[2] / q[2]:.2f}, total-time ratio "
                  f"{v[1] / q[1]:.2f}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
