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
exit $status
