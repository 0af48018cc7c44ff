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
exit $status
