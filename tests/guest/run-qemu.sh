#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every built guest ISA test program under QEMU, the reference they are
# validated against, and reports pass or fail for each. Builds nothing.
#
# Usage: tests/guest/run-qemu.sh [DIR]
#   DIR holds the programs (*.elf); by default build/tests/guest, then
#   build-guest/tests/guest. QEMU's exit status is 0 for pass and N for a failure
#   of case N (the SiFive test device); a program that runs past the time
#   limit fails too. Exit status: 0 when all pass, 1 otherwise, 77 (skipped)
#   when QEMU or the programs are missing.
set -u

# Programs that QEMU cannot serve as a reference for (see
# docs/GUEST-TESTS.md); they are not run here.
#   vireo-impl: implementation choices of Vireo that QEMU does not share
#               (ebreak's mtval, marchid/mimpid, hpm counters 19-31, the
#               cause of misaligned AMOs, mepc bit 0, ...) and behaviours
#               the specifications require that QEMU 7.2 gets wrong.
#   cpu-*:      Vireo's hart models refusing the extensions they lack.
#   zicond, zicbo: QEMU 7.2 does not have Zicond, Zicbom or Zicboz.
#   *-vireo:    builds with the checks QEMU 7.2 gets wrong (VIREO_ONLY).
vireo_only="vireo-impl cpu-rv64gc cpu-rva22 zicond zicbo svinval-vireo vm-ext-vireo vm-ext-rva22"

# The -cpu option of each program: the base hart, plus the extensions a
# program needs beyond RV64GC (QEMU 7.2's property names).
qemu_cpu() {
    case $1 in
    zba | zbb | zbc | zbs | zbkb | sstc | svinval) echo "rv64,h=false,$1=true" ;;
    vm-ext-*) echo "rv64,h=false,svpbmt=true,svnapot=true,svinval=true" ;;
    zfhmin) echo "rv64,h=false,Zfhmin=true" ;;
    zfh-*) echo "rv64,h=false,Zfh=true" ;;
    *) echo "rv64,h=false" ;;
    esac
}

qemu=${QEMU:-qemu-system-riscv64}
limit=${GUEST_TEST_TIMEOUT:-30}
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ $# -ge 1 ]; then
    dir=$1
elif ls "$top"/build/tests/guest/*.elf >/dev/null 2>&1; then
    dir=$top/build/tests/guest
else
    dir=$top/build-guest/tests/guest
fi

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "run-qemu.sh: $qemu not found; skipping" >&2
    exit 77
fi
set -- "$dir"/*.elf
if [ ! -e "$1" ]; then
    echo "run-qemu.sh: no programs (*.elf) in $dir; build them first" >&2
    exit 77
fi

passed=0
failed=0
skipped=0
for elf in "$@"; do
    name=$(basename "$elf" .elf)
    case " $vireo_only " in
    *" $name "*)
        echo "SKIP $name (Vireo-only)"
        skipped=$((skipped + 1))
        continue
        ;;
    esac
    timeout "$limit" "$qemu" -M virt -cpu "$(qemu_cpu "$name")" -m 256M -nographic \
        -bios none -kernel "$elf" </dev/null >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS $name"
        passed=$((passed + 1))
    elif [ $rc -eq 124 ]; then
        echo "FAIL $name (no verdict within ${limit}s)"
        failed=$((failed + 1))
    else
        echo "FAIL $name (case $rc)"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed, $skipped Vireo-only not run"
[ $failed -eq 0 ]
