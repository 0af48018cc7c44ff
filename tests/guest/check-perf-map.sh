#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# vireo-run --perf-map names the blocks the JIT compiles in /tmp/perf-PID.map,
# in the form Linux perf reads ("START SIZE NAME", hexadecimal), among them
# the guest program's entry at 0x80000000.
# Usage: check-perf-map.sh VIREO-RUN GUEST-ELF
set -u
run=$1
elf=$2
log=$(mktemp)
"$run" --perf-map --jit-threshold 1 --test "$elf" </dev/null >"$log" 2>&1 &
pid=$!
wait "$pid"
rc=$?
map=/tmp/perf-$pid.map
trap 'rm -f "$log" "$map"' EXIT
if [ "$rc" -ne 0 ]; then
    echo "FAIL: vireo-run --perf-map --test $elf: exit status $rc"
    cat "$log"
    exit 1
fi
if [ ! -s "$map" ]; then
    echo "FAIL: no perf map at $map"
    exit 1
fi
if grep -Ev '^[0-9a-f]+ [0-9a-f]+ vireo-block-[0-9a-f]+$' "$map" | head -3 | grep .; then
    echo "FAIL: lines of $map in another form (above)"
    exit 1
fi
if ! grep -q ' vireo-block-80000000$' "$map"; then
    echo "FAIL: the entry block (0x80000000) is not in $map:"
    head "$map"
    exit 1
fi
echo "$(wc -l <"$map") blocks named"
