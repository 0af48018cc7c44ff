#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""savevm and loadvm on vireo-run and on qemu-system-riscv64, in the same
run, through QMP's human-monitor-command, with the snapshot's size.

Guests: the Linux guest kit (256 MiB, 2 harts, its init counting into RAM
and a qcow2 disk) and, with --debian, the Debian kit's image converted to
qcow2 (1 GiB, 2 harts, at its root shell). Each machine boots once; then
savevm and loadvm run --runs times each and the best counts. The size is
the VM state size qemu-img reports for the snapshot.

usage: bench-snapshot.py VIREO_RUN [--kit DIR] [--debian-kit DIR] [--debian]
                         [--runs N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guests"))
import debiankit  # noqa: E402
import guestkit  # noqa: E402

def vm_state_size(disk, name):
    """The snapshot's VM state size in bytes, from qemu-img info."""
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", disk],
                         capture_output=True, text=True, check=True).stdout
    import json
    for s in json.loads(out).get("snapshots", []):
        if s.get("name") == name:
            return s.get("vm-state-size", 0)
    raise RuntimeError(f"qemu-img does not list {name}:\n{out}")


def measure(con, qmp, disk, runs):
    """(best savevm s, best loadvm s, state bytes)."""
    best_save = best_load = None
    for i in range(runs):
        t = time.monotonic()
        out = qmp.hmp("savevm bench")
        dt = time.monotonic() - t
        if out.strip():
            raise RuntimeError(f"savevm: {out}")
        best_save = dt if best_save is None else min(best_save, dt)
        con.poll(0.5)
        t = time.monotonic()
        out = qmp.hmp("loadvm bench")
        dt = time.monotonic() - t
        if out.strip():
            raise RuntimeError(f"loadvm: {out}")
        best_load = dt if best_load is None else min(best_load, dt)
        con.poll(0.5)
    return best_save, best_load, vm_state_size(disk, "bench")


def kit_machine(which, vireo_run, kit, disk, sock):
    image, initrd = guestkit.kit_files(kit)
    fw = guestkit.firmware()
    append = "console=ttyS0 vireo.checks=counter vireo.counter_ms=50"
    if which == "vireo":
        argv = [vireo_run, "--firmware", fw, "--kernel", image, "--initrd", initrd,
                "--append", append, "--cpus", "2", "--memory", "256M",
                "--disk", disk, "--qmp", f"unix:{sock}"]
    else:
        argv = [guestkit.qemu_binary(), "-M", "virt", "-m", "256M", "-smp", "2", "-nographic",
                "-bios", fw, "-kernel", image, "-initrd", initrd, "-append", append,
                "-drive", f"file={disk},format=qcow2,if=none,id=d0",
                "-device", "virtio-blk-device,drive=d0",
                "-qmp", f"unix:{sock},server,wait=off"]
    con = guestkit.Console(argv)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and con.poll(0.2):
        counts = guestkit.counter_counts(con)
        if counts and counts[-1] >= 20:
            return con
    con.kill()
    raise RuntimeError(f"{which}: the kit did not start counting:\n{con.tail(20)}")


def debian_machine(which, vireo_run, image, disk, sock):
    fw = guestkit.firmware()
    uboot = debiankit.uboot()
    if which == "vireo":
        argv = debiankit.vireo_argv(vireo_run, fw, uboot, disk, 2)
        argv += ["--qmp", f"unix:{sock}"]
    else:
        argv = debiankit.qemu_argv(guestkit.qemu_binary(), fw, uboot, disk, 2)
        argv = [a.replace("format=raw", "format=qcow2") for a in argv]
        argv += ["-qmp", f"unix:{sock},server,wait=off"]
    m = debiankit.Machine(argv)
    m.wait_prompt(1800)
    return m.con


def run_pair(name, start, runs):
    results = {}
    for which in ("vireo", "qemu"):
        with tempfile.TemporaryDirectory() as tmp:
            sock = os.path.join(tmp, "qmp.sock")
            con, disk = start(which, tmp, sock)
            try:
                qmp = guestkit.Qmp(sock)
                results[which] = measure(con, qmp, disk, runs)
                qmp.close()
            finally:
                con.kill()
    (vs, vl, vsize), (qs, ql, qsize) = results["vireo"], results["qemu"]
    print(f"{name}: savevm vireo {vs:.3f} s, qemu {qs:.3f} s, ratio {vs / qs:.2f}")
    print(f"{name}: loadvm vireo {vl:.3f} s, qemu {ql:.3f} s, ratio {vl / ql:.2f}")
    print(f"{name}: state vireo {vsize / 2**20:.1f} MiB, qemu {qsize / 2**20:.1f} MiB")
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="the guest kit (default ./guest-kit)")
    ap.add_argument("--debian", action="store_true", help="also the Debian kit's 1 GiB guest")
    ap.add_argument("--debian-kit", help="the Debian kit (default ./debian-kit)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    kit = args.kit or os.path.join(os.getcwd(), "guest-kit")
    try:
        guestkit.build_kit(kit)
        guestkit.firmware()
        if shutil.which("qemu-img") is None:
            raise guestkit.Unavailable("qemu-img is not installed (package qemu-utils)")
        guestkit.qemu_binary()
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP

    def kit_start(which, tmp, sock):
        disk = os.path.join(tmp, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"], check=True)
        return kit_machine(which, args.vireo_run, kit, disk, sock), disk

    run_pair("guest kit 256 MiB", kit_start, args.runs)

    if args.debian:
        dkit = args.debian_kit or os.path.join(os.getcwd(), "debian-kit")
        debiankit.build_kit(dkit)
        image = debiankit.kit_image(dkit, "extlinux")

        def debian_start(which, tmp, sock):
            disk = os.path.join(tmp, "debian.qcow2")
            subprocess.run(["qemu-img", "convert", "-O", "qcow2", image, disk], check=True)
            return debian_machine(which, args.vireo_run, image, disk, sock), disk

        run_pair("Debian 13 1 GiB", debian_start, args.runs)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
