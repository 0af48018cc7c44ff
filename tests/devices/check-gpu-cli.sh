#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# vireo-run --gpu and --scanout-dump: argument errors (status 2), the
# display's slot in the device tree and, with the demo program (data/demo),
# the pictures --scanout-dump writes (PPM and PNG) in 2D and with virgl.
# Usage: check-gpu-cli.sh VIREO-RUN [DEMO.ELF]
set -u
run=$1
demo=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8 LANGUAGE=
fails=0

head -c 4096 /dev/zero > "$tmp/small.bin"

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# expect STATUS TEXT ARGS...: the run exits with STATUS and its stderr
# contains TEXT.
expect() {
    status=$1
    text=$2
    shift 2
    timeout 120 "$run" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$status" ]; then
        fail "vireo-run $*: exit status $got, expected $status"
        sed 's/^/  stderr: /' "$tmp/err"
        sed 's/^/  stdout: /' "$tmp/out" | tail -n 5
    elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/err"; then
        fail "vireo-run $*: stderr lacks “$text”"
        sed 's/^/  stderr: /' "$tmp/err"
    else
        echo "ok: vireo-run $* -> $got"
    fi
}

# The help names both options.
"$run" --help >"$tmp/help" 2>&1
for opt in --gpu --scanout-dump; do
    grep -q -- "$opt" "$tmp/help" || fail "--help does not mention $opt"
done

expect 2 "--gpu" --gpu vga --test "$tmp/small.bin"
expect 2 "--scanout-dump" --scanout-dump "$tmp/x.ppm" --test "$tmp/small.bin"
d="$tmp/small.bin"
expect 2 "display" --gpu 2d --kernel "$d" --disk "$d,ro" --disk "$d,ro" --disk "$d,ro" \
    --disk "$d,ro" --disk "$d,ro" --disk "$d,ro"

# The display in the lowest free slot (2: 0x10003000), only when asked for.
expect 0 "" --gpu 2d --dtb-out "$tmp/gpu.dtb"
grep -qa "virtio_mmio@10003000" "$tmp/gpu.dtb" || fail "--gpu 2d: no virtio_mmio@10003000 node"
expect 0 "" --gpu none --dtb-out "$tmp/none.dtb"
if grep -qa "virtio_mmio@10003000" "$tmp/none.dtb"; then
    fail "--gpu none: a virtio_mmio@10003000 node"
fi

if [ -n "$demo" ] && [ -f "$demo" ]; then
    # PPM: P6, the demo's 1024 x 768, 255, then the RGB bytes.
    expect 0 "" --kernel "$demo" --append demo.frames=3 --gpu 2d --scanout-dump "$tmp/a.ppm"
    if [ "$(head -c 16 "$tmp/a.ppm" 2>/dev/null | tr '\n' ' ')" != "P6 1024 768 255 " ]; then
        fail "--scanout-dump a.ppm: not a 1024 x 768 PPM"
    elif [ "$(wc -c < "$tmp/a.ppm")" != $((16 + 1024 * 768 * 3)) ]; then
        fail "--scanout-dump a.ppm: $(wc -c < "$tmp/a.ppm") bytes"
    fi
    # PNG, with virgl (3D, or 2D where OpenGL is missing: same picture).
    expect 0 "" --kernel "$demo" --append demo.frames=3 --gpu virgl --scanout-dump "$tmp/b.png"
    sig=$(od -An -tx1 -N 8 "$tmp/b.png" 2>/dev/null | tr -d ' \n')
    size=$(od -An -tu1 -j 16 -N 8 "$tmp/b.png" 2>/dev/null | tr -s ' ' | sed 's/^ //')
    [ "$sig" = "89504e470d0a1a0a" ] || fail "--scanout-dump b.png: not a PNG ($sig)"
    [ "$size" = "0 0 4 0 0 0 3 0" ] || fail "--scanout-dump b.png: IHDR size bytes $size"
else
    echo "skipped: no demo program to draw a picture"
fi

[ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
