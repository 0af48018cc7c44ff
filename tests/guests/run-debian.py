#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots the Debian kit (build-debian.py) on vireo-run or on
qemu-system-riscv64 and checks the system from its serial console.

The machine is OpenSBI fw_jump, Debian's U-Boot (qemu-riscv64_smode) as the
next stage, and a private copy of one of the kit's disk images: extlinux
(U-Boot's distro boot reads /boot/extlinux/extlinux.conf) or efi (U-Boot's
UEFI starts GRUB from the ESP's removable-media path). The runner waits for
the root shell that the kit logs in automatically on ttyS0 and types:

  - setup: TERM=dumb, no pagers, kernel messages off the console, `nproc`
    (must be the hart count);
  - `systemctl is-system-running --wait`: must print `running` (otherwise it
    prints `systemctl --failed`, the job list and the journal's tail);
  - `dpkg -l | wc -l`;
  - a package made in the guest with dpkg-deb, installed from the file with
    `apt-get install -y ./x.deb`, and the program it installed run;
  - a tar.xz and a tar.gz round trip of part of /usr/share/doc, the sha256sum lists
    of the original and both extracted trees compared;
  - with the network (user mode), the DHCP address 10.0.2.15 from `ip addr`;
  - `poweroff`: Linux prints `reboot: Power down` and the machine exits with
    status 0.

Every command's output is read between markers that printf assembles, so
the echoed command line never matches. It prints the results and a timeline
(seconds to the firmware banner, U-Boot, the kernel, /init, the root file
system, systemd, the shell prompt, is-system-running, the power-off). On a
failure it prints what failed and where, the command line, the last 40
console lines, the lines that look like a crash, and the host's load.

usage: run-debian.py --kit DIR --image extlinux|efi (--vireo-run PATH | --qemu)
                     [--build] [--cpus N] [--memory SIZE] [--net user|none]
                     [--timeout S] [--settle S] [--keep FILE] [--verbose]

Exit status: 0 pass, 1 failure, 77 when the kit cannot be built or the
firmware, U-Boot or QEMU is missing.
"""

import argparse
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import debiankit  # noqa: E402
import guestkit  # noqa: E402


class Failure(Exception):
    pass


SETUP = ("set +H; export TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 PAGER=cat LC_ALL=C.UTF-8; "
         "dmesg -n 1; stty cols 200 2>/dev/null; "
         "printf 'kernel=%s harts=%s\\n' \"$(uname -r)\" \"$(nproc)\"")
DIAGNOSE = ("systemctl --failed --no-pager; systemctl list-jobs --no-pager; "
            "journalctl -b --no-pager -n 60 -o short-monotonic")
DEB = ("d=/root/vireo-deb && rm -rf $d && mkdir -p $d/pkg/DEBIAN $d/pkg/usr/bin && "
       "printf 'Package: vireo-hello\\nVersion: 1.0\\nArchitecture: all\\n"
       "Maintainer: Vireo tests <vireo@localhost>\\nDescription: a package made in the guest\\n'"
       " > $d/pkg/DEBIAN/control && "
       "printf '#!/bin/sh\\necho \"vireo-hello: $((6 * 7)) from $0\"\\n' > $d/pkg/usr/bin/vireo-hello"
       " && chmod 0755 $d/pkg/usr/bin/vireo-hello && "
       "dpkg-deb --root-owner-group --build $d/pkg $d/vireo-hello_1.0_all.deb && "
       "apt-get install -y $d/vireo-hello_1.0_all.deb && "
       "dpkg-query -W -f='package ${Package} ${Version} ${Status}\\n' vireo-hello && "
       "vireo-hello")
# The documentation of the packages from a to c (about 1 MiB, files that
# nothing changes while the test runs).
SUMS = "find [a-c]* -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum"
TAR = ("r=/root/vireo-tar && rm -rf $r && mkdir -p $r/xz $r/gz && cd /usr/share/doc && "
       f"{SUMS} > $r/sums-orig && "
       "tar -cf - [a-c]* | xz -1 > $r/doc.tar.xz && tar -cf - [a-c]* | gzip -1 > $r/doc.tar.gz && "
       "tar -xJf $r/doc.tar.xz -C $r/xz && tar -xzf $r/doc.tar.gz -C $r/gz && "
       f"(cd $r/xz && {SUMS}) > $r/sums-xz && (cd $r/gz && {SUMS}) > $r/sums-gz && "
       "wc -l < $r/sums-orig && du -k $r/doc.tar.xz $r/doc.tar.gz && "
       "sha256sum $r/sums-orig $r/sums-xz $r/sums-gz; cd /root")
NET = ("for i in $(seq 90); do ip -4 -o addr show | grep -q 'inet 10[.]0[.]2[.]15/' && break; "
       "sleep 1; done; ip -4 addr show; ip route show")


def check_session(m, args, results):
    """The commands at the root shell; raises Failure with the first problem."""
    status, out = m.run(SETUP, 120, "the shell setup")
    setup = re.search(r"kernel=(\S+) harts=(\d+)", out)
    if status != 0 or not setup:
        raise Failure(f"setup: status {status}, output {out.strip()!r}")
    results.append(f"kernel {setup.group(1)}, nproc {setup.group(2)}")
    if int(setup.group(2)) != args.cpus:
        raise Failure(f"nproc says {setup.group(2)} harts, the machine has {args.cpus}")

    status, out = m.run("systemctl is-system-running --wait", args.settle,
                        "systemctl is-system-running --wait")
    m.mark("is-system-running")
    state = [w for w in out.split() if w in ("running", "degraded", "starting", "initializing",
                                               "maintenance", "stopping", "offline")]
    if state != ["running"]:
        _, diag = m.run(DIAGNOSE, 120, "the diagnosis of is-system-running")
        raise Failure(f"systemctl is-system-running printed {out.strip()!r} (status {status}), "
                      f"not 'running':\n{diag.rstrip()}")
    results.append(f"systemctl is-system-running: running at {m.marks['is-system-running']:.1f} s")

    status, out = m.run("dpkg -l | wc -l", 120, "dpkg -l")
    counts = re.findall(r"^\s*(\d+)\s*$", out, re.M)
    count = counts[-1] if counts else ""
    if status != 0 or not count or int(count) < 100:
        raise Failure(f"dpkg -l | wc -l: status {status}, {out.strip()!r}")
    results.append(f"dpkg -l: {count} lines")

    t = time.monotonic()
    status, out = m.run(DEB, 900, "the package made with dpkg-deb and installed with apt-get")
    ran = re.search(r"^vireo-hello: 42 from /usr/bin/vireo-hello$", out, re.M)
    installed = re.search(r"^package vireo-hello 1\.0 install ok installed$", out, re.M)
    if status != 0 or not ran or not installed:
        raise Failure(f"dpkg-deb/apt-get/run: status {status}, output:\n{out.rstrip()[-3000:]}")
    m.mark("package")
    results.append(f"package: built with dpkg-deb, installed with apt-get, ran "
                   f"'{ran.group(0)}' ({time.monotonic() - t:.1f} s)")

    t = time.monotonic()
    status, out = m.run(TAR, 1200, "the tar.xz/tar.gz round trip of /usr/share/doc/[a-c]*")
    sums = {name: digest for digest, name in re.findall(
        r"^([0-9a-f]{64})  /root/vireo-tar/sums-(orig|xz|gz)$", out, re.M)}
    sizes = dict((name, int(k)) for k, name in re.findall(
        r"^(\d+)\s+/root/vireo-tar/doc\.tar\.(xz|gz)$", out, re.M))
    files = re.search(r"^(\d+)$", out, re.M)
    if status != 0 or len(sums) != 3 or len(set(sums.values())) != 1 or not files or \
            int(files.group(1)) < 50:
        raise Failure(f"tar round trip: status {status}, output:\n{out.rstrip()[-3000:]}")
    m.mark("tar")
    results.append(f"tar round trip: {files.group(1)} files of /usr/share/doc/[a-c]*, xz "
                   f"{sizes.get('xz', 0)} KiB, gz {sizes.get('gz', 0)} KiB, sha256 of the "
                   f"three lists {sums['orig'][:16]}... agree ({time.monotonic() - t:.1f} s)")

    if args.net == "user":
        status, out = m.run(NET, 180, "the DHCP address")
        m2 = re.search(r"inet (10\.0\.2\.15/\d+) .*? (\S+)$", out, re.M)
        if not m2:
            raise Failure(f"no DHCP address 10.0.2.15 (ip addr):\n{out.rstrip()}")
        route = re.search(r"^default via (\S+)", out, re.M)
        m.mark("network")
        results.append(f"network: {m2.group(1)} on {m2.group(2)}, default route via "
                       f"{route.group(1) if route else 'none'}")


def main():
    ap = argparse.ArgumentParser(description="Boots the Debian kit and checks it.")
    ap.add_argument("--kit", required=True, help="the kit's folder (build-debian.py --out)")
    ap.add_argument("--image", choices=sorted(debiankit.IMAGES), required=True)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--vireo-run", help="the vireo-run binary")
    who.add_argument("--qemu", action="store_true", help="run qemu-system-riscv64 instead")
    ap.add_argument("--build", action="store_true",
                    help="build the kit into --kit first (or take it from the cache)")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--net", choices=("user", "none"), default="user")
    ap.add_argument("--firmware", help=f"OpenSBI (default {guestkit.DEFAULT_FIRMWARE})")
    ap.add_argument("--uboot", help=f"U-Boot (default {debiankit.UBOOT})")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds to the root shell prompt (default 1800)")
    ap.add_argument("--settle", type=float, default=900,
                    help="seconds for systemctl is-system-running --wait (default 900)")
    ap.add_argument("--keep", help="write the console output to this file as it comes")
    ap.add_argument("--engine", help="vireo-run's --engine (interp or jit)")
    ap.add_argument("--verbose", action="store_true", help="print the whole console")
    ap.add_argument("--host-load", type=int, default=0, metavar="N",
                    help="keep N busy processes running on the host while the machine runs")
    args = ap.parse_args()

    name = "qemu-system-riscv64" if args.qemu else "vireo-run"
    try:
        if args.build:
            took = debiankit.build_kit(args.kit)
            print(f"kit ready in {args.kit} ({took:.0f} s)", flush=True)
        image = debiankit.kit_image(args.kit, args.image)
        fw = guestkit.firmware(args.firmware)
        boot = debiankit.uboot(args.uboot)
        qemu = debiankit.which_qemu() if args.qemu else None
        if not args.qemu and not os.access(args.vireo_run, os.X_OK):
            raise guestkit.Unavailable(f"{args.vireo_run} is not there")
    except guestkit.Unavailable as e:
        print(f"SKIP: {e}")
        return guestkit.SKIP
    except guestkit.BuildFailed as e:
        print(f"FAIL: {e}")
        return 1

    what = f"{name}, {os.path.basename(image)}, {args.cpus} hart{'s' if args.cpus > 1 else ''}"
    work = tempfile.TemporaryDirectory(prefix="run-debian-", dir=os.path.abspath(args.kit))
    load_before = debiankit.host_load()
    load = guestkit.HostLoad(args.host_load)
    try:
        t = time.monotonic()
        disk = debiankit.copy_image(image, work.name)
        copied = time.monotonic() - t
        net = args.net == "user"
        if args.qemu:
            argv = debiankit.qemu_argv(qemu, fw, boot, disk, args.cpus, args.memory, net)
        else:
            argv = debiankit.vireo_argv(args.vireo_run, fw, boot, disk, args.cpus, args.memory,
                                        net)
            if args.engine:
                argv += ["--engine", args.engine]
        print(f"image copied in {copied:.1f} s; {load_before}", flush=True)
        print("$ " + debiankit.shell_quote(argv), flush=True)
        if args.host_load:
            print(f"with {args.host_load} busy processes on the host", flush=True)
        load.__enter__()
        m = debiankit.Machine(argv, log=args.keep)
        results = []
        failure = None
        status = None
        try:
            m.wait_prompt(args.timeout)
            print(f"root shell prompt at {m.marks['shell prompt']:.1f} s", flush=True)
            check_session(m, args, results)
            status = m.poweroff(300)
            if status != 0:
                failure = f"{name} exited with status {status} after poweroff"
            elif "power-off" not in m.marks:
                failure = "the machine exited but Linux never printed 'reboot: Power down'"
            else:
                results.append(f"power-off: 'reboot: Power down' at {m.marks['power-off']:.1f} s,"
                               f" exit status 0 at {m.marks['exit']:.1f} s")
        except (Failure, debiankit.Stopped) as e:
            failure = str(e)
        finally:
            m.kill()
            load.__exit__(None, None, None)
        for line in results:
            print(f"  {line}")
        text = m.text
        if args.verbose:
            print("---- console ----")
            print(text)
        print(f"timeline ({what}): {m.timeline()}")
        if failure:
            print(f"FAIL: {failure}")
            print(f"  during: {m.phase}")
            print(f"  machine: {what}, {args.memory}, network {args.net}")
            print(f"  command: {debiankit.shell_quote(argv)}")
            print(f"  (the disk was a fresh copy of {image}: cp --sparse=always it to repeat)")
            print(f"  {load_before} before the boot; {debiankit.host_load()} now")
            trouble = m.trouble()
            if trouble:
                print("---- console lines that look like trouble ----")
                print("\n".join(trouble))
            if not args.verbose:
                print("---- last 40 console lines ----")
                print(m.tail(40))
            err = m.con.errtext.strip()
            if err:
                print(f"---- {name} stderr ----")
                print(err[-3000:])
        print(f"{what}: {'FAIL' if failure else 'PASS'}"
              + (f"; prompt at {m.marks['shell prompt']:.1f} s" if 'shell prompt' in m.marks
                 else "; no shell prompt")
              + (f", exit at {m.marks['exit']:.1f} s" if 'exit' in m.marks else ""))
        return 1 if failure else 0
    finally:
        load.__exit__(None, None, None)
        work.cleanup()


if __name__ == "__main__":
    sys.exit(main())
