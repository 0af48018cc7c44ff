#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs programs of the Debian kit's own userland at its root shell (perl,
sort, mawk, xz, gzip, sha512sum) under vireo-run and under
qemu-system-riscv64, with the same image, firmware, RAM and hart count, in
the same run. Each job is timed in the guest (`date +%s%N` around it); it
prints each job's time on both and the ratio, the best of --runs boots
each, and the sum.

Every job prints a digest of what it made: they must be the same on both
emulators (and from one boot to the next), or the benchmark fails. That
makes it a differential check of the JIT on real programs too: floating
point in perl and mawk, hash tables and regular expressions, xz's match
finder over tens of MiB, two threads of xz on two harts.

usage: bench-debian-work.py VIREO_RUN [--kit DIR] [--cpus N] [--memory SIZE]
                            [--runs N] [--timeout S] [--engine interp|jit]
"""
import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guests"))
import debiankit  # noqa: E402
import guestkit  # noqa: E402

# The input: 100,000 lines of hex, decimal and integer fields (2.6 MB),
# from perl's generator with a fixed seed.
DATA = ("perl -e 'srand(42); for (1..100000) { printf \"%08x %.6f %d\\n\", "
        "int(rand(2**32)), rand()*1000-500, $_*7919 % 100003 }' > data")
# name -> command; each prints one line, its digest.
JOBS = [
    ("perl-gen", DATA + " && md5sum < data"),
    ("sort", "LC_ALL=C sort data | md5sum"),
    ("sort-g", "sort -k2,2g data | md5sum"),
    ("mawk", "awk '{s+=$2; q+=$2*$2; if ($3>m) m=$3} END {printf \"%.9g %.9g %d\\n\", s, q, m}'"
             " data"),
    ("perl-fp", "perl -e '$x=1; for $i (1..200000) { $x = sin($x)*1.0001 + sqrt($i)/($i+1) + "
                "exp(-$i/1e5) + log($i) * 1e-9 + atan2($i, $x) * 1e-7 } printf \"%.17g\\n\", $x'"),
    ("perl-int", "perl -e 'use integer; $h=5381; for $i (1..500000) { $h = (($h << 5) + $h + $i)"
                 " & 0xffffffff; $h ^= ($h >> 13) } print \"$h\\n\"'"),
    ("perl-re", "perl -ne '$c++ if /([0-9a-f])\\1/; $d++ if /^[0-7]+ -/; "
                "END {print \"$c $d\\n\"}' data"),
    ("xz-9", "xz -9 -T1 -c data | md5sum"),
    ("xz-6-2-threads", "xz -6 -T2 --block-size=1MiB -c data | md5sum"),
    ("xz-d", "xz -T1 -d -c data.xz | md5sum"),
    ("gzip-9", "gzip -9 -n -c data | md5sum"),
    ("sha512sum", "sha512sum data | cut -c1-32"),
]
# Run before the jobs, untimed.
SETUP = ("cd /root && rm -rf bench-work && mkdir bench-work && cd bench-work && " + DATA +
         " && xz -1 -T1 -c data > data.xz && echo ready")


def session(argv, timeout):
    """{job: (ms, digest)} of one boot."""
    m = debiankit.Machine(argv)
    try:
        m.wait_prompt(timeout)
        status, out = m.run(SETUP, timeout)
        if status != 0 or "ready" not in out:
            raise RuntimeError(f"setup: status {status}: {out[-500:]}")
        got = {}
        for name, cmd in JOBS:
            status, out = m.run(f"a=$(date +%s%N); r=$({cmd}); b=$(date +%s%N); "
                                f"echo \"took $(( (b - a) / 1000000 )) $r\"", timeout)
            found = re.search(r"^took (\d+) (.+)$", out, re.M)
            if status != 0 or not found:
                raise RuntimeError(f"{name}: status {status}: {out[-500:]}")
            got[name] = (int(found.group(1)), found.group(2).strip())
        return got
    except debiankit.Stopped as e:
        raise RuntimeError(f"{e}\n$ {debiankit.shell_quote(m.argv)}\n{m.tail(40)}\n"
                           f"{m.con.errtext[-2000:]}") from e
    finally:
        m.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vireo_run")
    ap.add_argument("--kit", help="where build-debian.py puts the kit (default ./debian-kit)")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="1G")
    ap.add_argument("--runs", type=int, default=2, help="boots on each, the best counts")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--engine", help="vireo-run's --engine (interp or jit)")
    args = ap.parse_args()

    kit = args.kit or os.path.join(os.getcwd(), "debian-kit")
    inputs = debiankit.bench_inputs(kit, "extlinux")
    if isinstance(inputs, int):
        return inputs
    image, fw, uboot = inputs
    qemu = guestkit.qemu_binary()

    def vireo(disk):
        argv = debiankit.vireo_argv(args.vireo_run, fw, uboot, disk, args.cpus, args.memory,
                                    net=False)
        return argv + (["--engine", args.engine] if args.engine else [])

    def qemu_(disk):
        return debiankit.qemu_argv(qemu, fw, uboot, disk, args.cpus, args.memory, net=False)

    best = {}     # who -> {job: ms}
    digests = {}  # job -> (digest, who)
    load = debiankit.host_load()
    with tempfile.TemporaryDirectory(prefix="bench-work-", dir=os.path.abspath(kit)) as tmp:
        for _ in range(args.runs):
            for who, argv_for in (("vireo", vireo), ("qemu", qemu_ if qemu else None)):
                if argv_for is None:
                    continue
                disk = debiankit.copy_image(image, tmp)
                try:
                    got = session(argv_for(disk), args.timeout)
                except RuntimeError as e:
                    print(f"{who}: {e}", file=sys.stderr)
                    return 1
                finally:
                    os.unlink(disk)
                for name, (ms, digest) in got.items():
                    seen = digests.setdefault(name, (digest, who))
                    if seen[0] != digest:
                        print(f"{name}: {who} made {digest!r}, {seen[1]} made {seen[0]!r}",
                              file=sys.stderr)
                        return 1
                    mine = best.setdefault(who, {})
                    mine[name] = min(mine.get(name, ms), ms)
                print(f"  {who}: " + ", ".join(f"{n} {ms} ms" for n, (ms, _) in got.items()),
                      flush=True)

    for name, _ in JOBS:
        line = f"  {name:16} vireo {best['vireo'][name] / 1000:6.2f} s"
        if "qemu" in best:
            q = best["qemu"][name]
            line += f"  qemu {q / 1000:6.2f} s  ratio {best['vireo'][name] / q:.2f}"
        print(line)
    tv = sum(best["vireo"].values()) / 1000
    engine = f", --engine {args.engine}" if args.engine else ""
    out = (f"debian-work ({len(JOBS)} jobs, {args.cpus} harts, {args.memory}{engine}): "
           f"vireo {tv:.1f} s")
    if "qemu" in best:
        tq = sum(best["qemu"].values()) / 1000
        out += f"; qemu-system-riscv64 {tq:.1f} s; vireo/qemu time ratio {tv / tq:.2f}"
    else:
        out += "; qemu-system-riscv64 not installed, no ratio"
    print(f"(digests the same on both; {load} at the start, {debiankit.host_load()} at the end; "
          f"best of {args.runs})")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
