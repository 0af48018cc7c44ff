#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Live migration of a running Linux guest between two vireo-run processes
(docs/MIGRATION.md), driven through QMP.

The guest kit's init runs its `counter` check: it counts every 50 ms,
keeping the count in RAM and in a block of its qcow2 disk, and fails as soon
as the two disagree. Source and destination share the disk. The test:

1. boots the guest under vireo-run --qmp (the source);
2. starts a destination with --incoming and stops it (SIGSTOP), migrates to
   it, and kills it mid-transfer: query-migrate says failed, the source runs
   on and keeps counting;
3. sends garbage to a new destination, which refuses it and waits on;
4. migrates to that destination: query-migrate says completed with its
   figures, the source is postmigrate and exits 0 on quit, and the
   destination counts on from the source's last count, without a gap or a
   repeat beyond the one step in flight, RAM and disk agreeing.

usage: run-migrate.py VIREO_RUN --kit DIR [--build] [--timeout S] [--engine interp|jit]
Exit status: 0 pass, 1 failure, 77 when the kit, the firmware or qemu-img is
missing.
"""

import argparse
import os
import signal
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guestkit  # noqa: E402

def argv(args, disk, extra):
    image, initrd = guestkit.kit_files(args.kit)
    guest = guestkit.Guest(image, initrd, guestkit.firmware(), cpus=2, memory="256M",
                           append="console=ttyS0 vireo.checks=counter vireo.counter_ms=50")
    guest.engine = args.engine
    return guest.vireo_argv(args.vireo_run) + ["--disk", disk] + list(extra)


def wait_migration(qmp, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = qmp.execute("query-migrate")
        if info.get("status") in ("completed", "failed"):
            return info
        time.sleep(0.05)
    raise RuntimeError("the migration did not end")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", required=True)
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--engine", help="vireo-run's --engine on both sides (interp or jit)")
    args = ap.parse_args()

    reason = guestkit.counter_prerequisites(args.kit, args.build)
    if reason is not None:
        print(f"SKIP: {reason}")
        return guestkit.SKIP

    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.qcow2")
        qsock = os.path.join(tmp, "qmp.sock")
        msock = os.path.join(tmp, "mig.sock")
        guestkit.qcow2_disk(disk)

        src = guestkit.Console(argv(args, disk, ["--qmp", f"unix:{qsock}"]))
        dst = None
        try:
            guestkit.wait_counter(src, 0, 20, args.timeout)
            qmp = guestkit.Qmp(qsock)

            # A destination killed mid-transfer: stopped, so that the source
            # fills the socket and waits, then killed.
            dst = guestkit.Console(argv(args, disk, ["--incoming", f"unix:{msock}"]))
            deadline = time.monotonic() + 30
            while not os.path.exists(msock) and time.monotonic() < deadline:
                dst.poll(0.1)
            os.kill(dst.proc.pid, signal.SIGSTOP)
            qmp.execute("migrate", {"uri": f"unix:{msock}"})
            time.sleep(1)
            dst.kill()
            os.unlink(msock)
            info = wait_migration(qmp, 90)
            if info.get("status") != "failed":
                raise RuntimeError(f"a killed destination: {info}")
            status = qmp.execute("query-status")["status"]
            if status != "running":
                raise RuntimeError(f"the source is {status} after a failed migration")
            mark = len(src.out)
            last = guestkit.counter_counts(src)[-1]
            guestkit.wait_counter(src, mark, last + 10, args.timeout)
            print(f"a killed destination: failed ({info.get('error-desc')}); the source "
                  f"counted on past {last + 10}")

            # Garbage to a new destination, then the machine.
            dst = guestkit.Console(argv(args, disk, ["--incoming", f"unix:{msock}"]))
            deadline = time.monotonic() + 30
            while not os.path.exists(msock) and time.monotonic() < deadline:
                dst.poll(0.1)
            g = socket.socket(socket.AF_UNIX)
            g.connect(msock)
            g.sendall(os.urandom(4096))
            g.shutdown(socket.SHUT_WR)
            while g.recv(4096):
                pass
            g.close()
            deadline = time.monotonic() + 10
            while "refused a migration" not in dst.errtext and time.monotonic() < deadline:
                dst.poll(0.1)
            if "refused a migration" not in dst.errtext or dst.proc.poll() is not None:
                raise RuntimeError(f"the destination did not refuse garbage: {dst.errtext}")
            print("garbage: refused, the destination waits on")

            qmp.execute("migrate", {"uri": f"unix:{msock}"})
            info = wait_migration(qmp, 120)
            if info.get("status") != "completed":
                raise RuntimeError(f"the migration: {info}")
            src.poll(0.5)
            last = guestkit.counter_counts(src)[-1]
            status = qmp.execute("query-status")["status"]
            if status != "postmigrate":
                raise RuntimeError(f"the source is {status} after the migration")
            ram = info.get("ram", {})
            print(f"migrated: total-time {info.get('total-time')} ms, downtime "
                  f"{info.get('downtime')} ms, {ram.get('transferred')} bytes of "
                  f"{ram.get('total')}; the source's last count {last}")
            guestkit.wait_counter(dst, 0, last + 20, args.timeout)
            # The console's bytes go on where the source's stopped: a line in
            # flight may be cut between the two.
            whole = [int(n) for n in guestkit.COUNTER_LINE.findall(src.text + dst.text)]
            after = [n for n in whole if n > last]
            if whole != list(range(whole[0], whole[0] + len(whole))):
                raise RuntimeError(f"the count across the migration has gaps or repeats: {whole}")
            print(f"the destination went on from {after[0]} to {after[-1]}; counts "
                  f"{whole[0]}..{whole[-1]} across both without a gap or a repeat")
            qmp.execute("quit")
            qmp.close()
            src.wait(30)
            if src.status != 0:
                raise RuntimeError(f"the source exits {src.status}")
        finally:
            src.kill()
            if dst is not None:
                dst.kill()
        for con in (src, dst):
            if "VIREO-CHECK counter FAIL" in con.text:
                raise RuntimeError(f"RAM and disk disagreed:\n{con.tail(20)}")
    print("PASS")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
