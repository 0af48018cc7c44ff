#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The device trees vireo-run writes with --dtb-out are accepted by dtc.
# Usage: check-dtb.sh VIREO-RUN. Skipped (77) without dtc.
set -u
run=$1
command -v dtc >/dev/null 2>&1 || { echo "dtc not installed (device-tree-compiler)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

check() {
    name=$1
    shift
    if ! "$run" --dtb-out "$tmp/$name.dtb" "$@" </dev/null >"$tmp/run.log" 2>&1; then
        echo "FAIL: vireo-run --dtb-out $*:"
        cat "$tmp/run.log"
        status=1
        return
    fi
    if ! dtc -I dtb -O dts -o "$tmp/$name.dts" "$tmp/$name.dtb" 2>"$tmp/dtc.log"; then
        echo "FAIL: dtc rejects the tree of $*:"
        cat "$tmp/dtc.log"
        status=1
        return
    fi
    # The source form compiles back, too.
    if ! dtc -I dts -O dtb -o /dev/null "$tmp/$name.dts" 2>"$tmp/dtc.log"; then
        echo "FAIL: dtc cannot compile back the tree of $*:"
        cat "$tmp/dtc.log"
        status=1
        return
    fi
    echo "ok: $* ($(wc -c <"$tmp/$name.dtb") bytes)"
}

check one --cpus 1
check four --cpus 4 --memory 1G --append "console=ttyS0"
check max --cpus 64 --memory 4G

# With disks: one virtio_mmio node per slot in use, from the highest
# address down, with nothing for the empty slots.
head -c 1048576 /dev/zero > "$tmp/a.img"
head -c 65536 /dev/zero > "$tmp/b.img"
check disks --disk "$tmp/a.img" --disk "$tmp/b.img,ro"
if [ -f "$tmp/disks.dts" ]; then
    got=$(grep -o 'virtio_mmio@[0-9a-f]*' "$tmp/disks.dts" | tr '\n' ' ')
    want="virtio_mmio@10008000 virtio_mmio@10007000 virtio_mmio@10002000 virtio_mmio@10001000 "
    if [ "$got" != "$want" ]; then
        echo "FAIL: virtio nodes are “$got”, not “$want”"
        status=1
    fi
fi
# Each CPU model: the ISA the tree gives its harts.
for cpu in max rva22 rv64gc; do
    check "cpu-$cpu" --cpu "$cpu" --cpus 2
done
if [ -f "$tmp/cpu-rv64gc.dts" ]; then
    if ! grep -q 'riscv,isa = "rv64imafdc_zicsr_zifencei";' "$tmp/cpu-rv64gc.dts" ||
        grep -q 'cbom-block-size' "$tmp/cpu-rv64gc.dts"; then
        echo "FAIL: --cpu rv64gc: the harts are not RV64GC alone"
        status=1
    fi
fi
if [ -f "$tmp/cpu-rva22.dts" ]; then
    # (dtc shows the list as one string with \0 between the names)
    if ! grep -q 'riscv,isa-extensions = .*zba' "$tmp/cpu-rva22.dts" ||
        ! grep -q 'riscv,cboz-block-size = <0x40>;' "$tmp/cpu-rva22.dts" ||
        grep -q 'sstc' "$tmp/cpu-rva22.dts"; then
        echo "FAIL: --cpu rva22: the tree does not describe the profile"
        status=1
    fi
fi
# The default is max.
if [ -f "$tmp/cpu-max.dts" ] && [ -f "$tmp/one.dts" ] &&
    [ "$(grep 'riscv,isa' "$tmp/one.dts")" != "$(grep -m3 'riscv,isa' "$tmp/cpu-max.dts")" ]; then
    echo "FAIL: the default model is not max"
    status=1
fi
exit $status
