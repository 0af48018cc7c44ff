#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# vireo-run --display puts the keyboard and the tablet in the device tree,
# in the lowest free virtio slots; without a display there are none.
# Usage: check-input-cli.sh VIREO-RUN. Skipped (77) without dtc.
set -u
run=$1
command -v dtc >/dev/null 2>&1 || { echo "dtc not installed (device-tree-compiler)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
truncate -s 1M "$tmp/a.img"

# The virtio_mmio nodes of the tree vireo-run writes with these arguments.
nodes() {
    "$run" --dtb-out "$tmp/t.dtb" "$@" </dev/null >"$tmp/run.log" 2>&1 || {
        echo "FAIL: vireo-run --dtb-out $*:"
        cat "$tmp/run.log"
        status=1
        return
    }
    dtc -I dtb -O dts "$tmp/t.dtb" 2>/dev/null | grep -o 'virtio_mmio@[0-9a-f]*' | sort | tr '\n' ' '
}

expect() {
    want=$1
    shift
    got=$(nodes "$@")
    if [ "$got" != "$want" ]; then
        echo "FAIL: vireo-run $*: virtio nodes '$got', expected '$want'"
        status=1
    else
        echo "ok: $* → $got"
    fi
}

expect "virtio_mmio@10001000 virtio_mmio@10002000 "
expect "virtio_mmio@10001000 virtio_mmio@10002000 " --display none
expect "virtio_mmio@10001000 virtio_mmio@10002000 virtio_mmio@10003000 virtio_mmio@10004000 " \
    --display sdl
expect "virtio_mmio@10001000 virtio_mmio@10002000 virtio_mmio@10003000 virtio_mmio@10004000 virtio_mmio@10005000 virtio_mmio@10008000 " \
    --display sdl --net user --disk "$tmp/a.img"
# With the display device in slot 2, they take 3 and 4.
expect "virtio_mmio@10001000 virtio_mmio@10002000 virtio_mmio@10003000 virtio_mmio@10004000 virtio_mmio@10005000 " \
    --display sdl --gpu 2d
exit $status
