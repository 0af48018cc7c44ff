#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots the Linux guest kit (OpenSBI + kernel Image + initramfs) on
vireo-run or on qemu-system-riscv64 and checks what the kit's init reports.

The checks passed to init are `harts` and `smp`, plus those for the devices
the machine has: with QEMU all of them; with vireo-run, `disk` when its
--help lists --disk, `net` when it lists --net, and `hvc` and `rng` when the
device tree it writes (--dtb-out) has the virtio console's and the entropy
device's slots (docs/BOARD.md). Without those slots they are asked for as
optional checks ("rng?"), which init reports as SKIP when Linux found no
such device.

Around the boot the runner checks from the host what init cannot: the
pattern init wrote to the disk image (read from the file after power-off),
the checksum of the page init fetched over HTTP from the host, the echo of a
TCP service inside the guest reached through a forwarded port, and the line
init wrote to /dev/hvc0 (on vireo-run's stdout, or QEMU's chardev file).
When Linux has announced the power-off but the machine keeps running, the
run fails after a grace period instead of waiting for the whole time limit.

usage: run-guest.py --kit DIR (--vireo-run PATH | --qemu) [--build] [--cpus N]
                    [--memory SIZE] [--firmware FILE] [--timeout S]
                    [--checks LIST] [--append ARGS] [--earlycon] [--stats]
                    [--host-load N]
                    [--verbose]

Exit status: 0 pass, 1 failure, 77 when the kit, the firmware or QEMU is
missing.
"""

import argparse
import http.server
import os
import re
import secrets
import socket
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestkit  # noqa: E402

DISK_SIZE = 16 << 20
POWEROFF_GRACE = 30  # seconds from Linux's "reboot: Power down" to the exit
DISK_OFFSET = 1 << 20
GUEST_PORT = 7777


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """An HTTP server on 127.0.0.1 serving one deterministic page, which the
    guest reaches as 10.0.2.2 through libslirp."""

    def __init__(self, size=48 * 1024):
        body = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(size))
        self.body = body
        self.crc = zlib.crc32(body)
        page = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                page.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, *args):
                pass

        self.requests = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Client:
    """Talks to init's TCP service through the forwarded host port once init
    says it is listening."""

    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.result = None
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                s.settimeout(30)
                f = s.makefile("rwb")
                hello = f.readline().decode(errors="replace").strip()
                f.write(f"{self.token}\n".encode())
                f.flush()
                echo = f.readline().decode(errors="replace").strip()
                self.result = (hello, echo)
        except OSError as e:
            self.result = e


def plan(args, options):
    """Which checks to ask init for, and which devices the machine gets."""
    want = {"disk": False, "net": False, "rng": "optional", "hvc": "optional"}
    if args.qemu:
        want = dict.fromkeys(want, True)
    else:
        want["disk"] = "disk" in options
        want["net"] = "net" in options
        slots = guestkit.vireo_virtio_slots(args.vireo_run)
        if guestkit.SLOT_CONSOLE in slots:
            want["hvc"] = True
        if guestkit.SLOT_RNG in slots:
            want["rng"] = True
    if args.checks is not None:
        asked = [c for c in args.checks.split(",") if c]
        want = {k: (k in asked) for k in want}
        base = [c for c in asked if c not in want]
    else:
        base = ["harts", "smp"]
    return base, want


def main():
    ap = argparse.ArgumentParser(description="Boots the Linux guest kit and checks its init.")
    ap.add_argument("--kit", required=True, help="folder with Image and initramfs.cpio")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vireo-run", help="the vireo-run binary")
    who.add_argument("--qemu", action="store_true", help="run qemu-system-riscv64 instead")
    ap.add_argument("--build", action="store_true",
                    help="build the kit into --kit first (or take it from the cache)")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--firmware", help=f"OpenSBI firmware (default {guestkit.DEFAULT_FIRMWARE})")
    ap.add_argument("--timeout", type=float, default=600, help="seconds for the whole run")
    ap.add_argument("--checks", help="init checks to run instead of the automatic choice")
    ap.add_argument("--append", default="", help="more kernel command-line arguments")
    ap.add_argument("--earlycon", action="store_true", help="add earlycon=sbi")
    ap.add_argument("--stats", action="store_true", help="print vireo-run's --stats counters")
    ap.add_argument("--engine", help="vireo-run's --engine (interp or jit)")
    ap.add_argument("--verbose", action="store_true", help="print the whole console")
    ap.add_argument("--host-load", type=int, default=0, metavar="N",
                    help="keep N busy processes running on the host during the boot")
    args = ap.parse_args()

    try:
        if args.build:
            guestkit.build_kit(args.kit)
        image, initrd = guestkit.kit_files(args.kit)
        fw = guestkit.firmware(args.firmware)
        qemu = None
        options = {}
        if args.qemu:
            qemu = guestkit.qemu_binary()
            if not qemu:
                raise guestkit.Unavailable("qemu-system-riscv64 is not installed (qemu-system-misc)")
        else:
            options = guestkit.vireo_options(args.vireo_run)
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP
    except guestkit.BuildFailed as e:
        print(f"FAIL: {e}")
        return 1

    name = "qemu-system-riscv64" if args.qemu else "vireo-run"
    base, want = plan(args, options)
    checks = list(base)
    guest = guestkit.Guest(image, initrd, fw, cpus=args.cpus, memory=args.memory)
    guest.engine = args.engine
    params = [f"vireo.harts={args.cpus}"]
    tmp = tempfile.TemporaryDirectory(prefix="vireo-guest-")
    page = client = None
    token = "t" + secrets.token_hex(8)
    disk_seed = secrets.randbelow(1 << 31) + 1

    for dev in ("disk", "hvc", "rng", "net"):
        if want[dev] is True:
            checks.append(dev)
        elif want[dev] == "optional":
            checks.append(dev + "?")
    if want["disk"]:
        guest.disk = os.path.join(tmp.name, "disk.img")
        with open(guest.disk, "wb") as f:
            f.truncate(DISK_SIZE)
            f.write(f"VIREO-HOST {token}\n".encode())
        params += [f"vireo.disk_host={token}", f"vireo.disk_offset={DISK_OFFSET}",
                   f"vireo.disk_seed={disk_seed}"]
    if want["rng"] is True:
        guest.rng = True
    if want["hvc"] is True and args.qemu:
        guest.hvc = os.path.join(tmp.name, "hvc0.txt")
    forward_syntax = args.qemu or "hostfwd" in options.get("net", "")
    if want["net"]:
        guest.net = True
        page = Page()
        params += [f"vireo.http_port={page.port}"]
        if forward_syntax:
            guest.forward = (free_port(), GUEST_PORT)
            client = Client(guest.forward[0], token)
            params += [f"vireo.serve_port={GUEST_PORT}"]

    append = ["console=ttyS0"]
    if args.earlycon:
        append.append("earlycon=sbi")
    append += [f"vireo.checks={','.join(checks)}"] + params
    if args.append:
        append.append(args.append)
    guest.append = " ".join(append)
    argv = guest.qemu_argv(qemu) if args.qemu else guest.vireo_argv(args.vireo_run, stats=True)
    print("$ " + " ".join(f"'{a}'" if " " in a else a for a in argv), flush=True)

    if args.host_load:
        print(f"with {args.host_load} busy processes on the host", flush=True)
    load = guestkit.HostLoad(args.host_load).__enter__()
    con = guestkit.Console(argv)
    failures = []
    try:
        finished = False
        while True:
            alive = con.poll(0.2)
            if client and client.thread is None and \
                    con.seen(rf"VIREO-CHECK net: listening on port {GUEST_PORT}") is not None:
                client.start()
            con.seen(r"^VIREO-INIT: start")
            if not alive:
                finished = True
                break
            now = time.monotonic() - con.start
            down = con.seen(r"reboot: Power down")
            if down is not None and now - down > POWEROFF_GRACE:
                failures.append(f"Linux printed 'reboot: Power down' at {down:.1f} s but {name} "
                                f"was still running {POWEROFF_GRACE} s later")
                break
            if now > args.timeout:
                failures.append(f"no power-off within {args.timeout:.0f} s")
                break
        if not finished:
            con.kill()
        text = con.text.replace("\r", "")
        if args.verbose:
            print(text)
        else:
            print("\n".join(re.findall(r"^VIREO-.*$", text, re.M)))

        # What init reported. vireo-run writes the virtio console's output
        # to the same stdout as the serial console's, line by line (neither
        # console's line is cut by the other's): the hvc line is taken out
        # before the serial lines are read.
        serial = re.sub(r"VIREO-HVC: hello from /dev/hvc0 \(\d+ harts?\)\n?", "", text)
        if con.seen(r"^VIREO-INIT: start") is None:
            failures.append("init did not start")
        for check in checks:
            name_ = check.rstrip("?")
            m = re.search(rf"^VIREO-CHECK {name_}: (PASS|FAIL|SKIP)(.*)$", serial, re.M)
            if not m:
                failures.append(f"no result for check {name_}")
            elif m.group(1) == "FAIL" or (m.group(1) == "SKIP" and not check.endswith("?")):
                failures.append(f"check {name_}: {m.group(1)}{m.group(2)}")
        summary = re.search(r"^VIREO-INIT: (PASS|FAIL.*)$", text, re.M)
        if not summary:
            failures.append("no summary line from init")
        elif summary.group(1) != "PASS":
            failures.append(f"init reported {summary.group(1)}")
        if finished and con.status != 0:
            failures.append(f"{name} exited with status {con.status}")

        # What the host can see.
        notes = []
        if guest.disk and re.search(r"^VIREO-CHECK disk: PASS", serial, re.M):
            with open(guest.disk, "rb") as f:
                f.seek(DISK_OFFSET)
                block = f.read(4096)
            if block != guestkit.disk_pattern(disk_seed):
                failures.append("the disk image does not hold the pattern init wrote")
            else:
                notes.append(f"disk image holds the pattern at {DISK_OFFSET}")
        if page and re.search(r"^VIREO-CHECK net: PASS", serial, re.M):
            m = re.search(r"http GET \S+ status 200 bytes (\d+) crc32 ([0-9a-f]{8})", text)
            if not m or int(m.group(1)) != len(page.body) or int(m.group(2), 16) != page.crc:
                failures.append(f"HTTP page: host has {len(page.body)} bytes crc32 "
                                f"{page.crc:08x}, guest {m.groups() if m else 'no line'}")
            else:
                notes.append(f"HTTP page {len(page.body)} bytes crc32 {page.crc:08x} agrees")
        if client and client.thread is not None:
            client.thread.join(35)
            r = client.result
            if not isinstance(r, tuple) or r[0] != "VIREO-GUEST-HELLO" or \
                    r[1] != f"VIREO-GUEST-ECHO {token}":
                failures.append(f"forwarded TCP service: {r!r}")
            else:
                notes.append(f"forwarded port {guest.forward[0]} reached the guest's service")
        elif client and want["net"]:
            failures.append("init never listened for the forwarded connection")
        if re.search(r"^VIREO-CHECK hvc: PASS", serial, re.M):
            if guest.hvc:
                with open(guest.hvc, "rb") as f:
                    hvc = f.read().decode(errors="replace")
            else:
                hvc = text
            if "VIREO-HVC: hello from /dev/hvc0" not in hvc:
                failures.append("the line written to /dev/hvc0 did not reach the host")
            else:
                notes.append("the /dev/hvc0 line reached the host")

        skipped = re.findall(r"^VIREO-CHECK (\w+): SKIP (.*)$", serial, re.M)
        boot = con.seen(r"^VIREO-INIT: start")
        total = con.elapsed
        line = f"{name}, {args.cpus} hart{'s' if args.cpus > 1 else ''}: "
        line += "PASS" if not failures else "FAIL"
        line += f"; init started at {boot:.1f} s" if boot is not None else "; init never started"
        if total is not None:
            line += f", {'exited' if finished else 'stopped'} at {total:.1f} s"
        m = re.search(r"Total:\s*\n\s*instructions:\s*(\d+)", con.errtext)
        if m:
            line += f", {int(m.group(1)) / 1e6:.0f} M instructions"
        line += f"; checks {','.join(checks)}"
        for note in notes:
            print(f"  {note}")
        for check, why in skipped:
            print(f"  {check}: skipped ({why})")
        if args.stats and con.errtext:
            print(con.errtext.rstrip())
        if failures:
            for f in failures:
                print(f"FAIL: {f}")
            if not args.verbose:
                print("---- last console output ----")
                print(con.tail(80))
                if con.errtext.strip():
                    print("---- stderr ----")
                    print(con.errtext.rstrip()[-4000:])
        print(line)
        return 1 if failures else 0
    finally:
        load.__exit__(None, None, None)
        if con.status is None:
            con.kill()
        if page:
            page.close()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
