#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# vireo-run --test: the HTIF console, system calls and exit codes, failure
# reports, the timeout and the SiFive test device, with the programs built
# from htif/htif.S. Usage: check-test-mode.sh VIREO-RUN DIR
set -u
run=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8 LANGUAGE=
fails=0

# expect PROGRAM STATUS STDOUT STDERR [ARGS...]: the run exits with STATUS,
# prints exactly STDOUT and its stderr contains STDERR.
expect() {
    prog=$1
    status=$2
    want_out=$3
    want_err=$4
    shift 4
    timeout 60 "$run" --test "$dir/htif-$prog.elf" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    got=$?
    printf '%b' "$want_out" >"$tmp/want"
    if [ "$got" != "$status" ]; then
        echo "FAIL: $prog: exit status $got, expected $status"
    elif ! cmp -s "$tmp/out" "$tmp/want"; then
        echo "FAIL: $prog: unexpected output:"
        od -c "$tmp/out" | head -n 10
    elif [ -n "$want_err" ] && ! grep -qF -- "$want_err" "$tmp/err"; then
        echo "FAIL: $prog: stderr lacks “$want_err”"
    else
        echo "ok: $prog -> $got"
        return
    fi
    sed 's/^/  stderr: /' "$tmp/err"
    fails=$((fails + 1))
}

expect putchar 0 'htif putchar\n' ''
expect syscall 0 'syscall write to stdout\nsyscall write to stderr\n' ''
expect syscall-exit42 42 'syscall write to stdout\nsyscall write to stderr\n' 'FAIL: test 42'
expect fail 3 '' 'FAIL: test 3'
expect hang 124 '' 'TIMEOUT' --timeout 1
expect finisher-pass 0 'uart\n' ''
expect finisher-fail 5 'uart\n' 'FAIL: test 5'
expect putchar 0 'htif putchar\n' '' --cpus 2 --stats

[ "$fails" = 0 ] || { echo "$fails case(s) failed"; exit 1; }
