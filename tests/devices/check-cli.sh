#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# vireo-run's argument errors: each case must exit with the expected status
# and say what is wrong on stderr. Usage: check-cli.sh VIREO-RUN
set -u
run=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8 LANGUAGE=
fails=0

# A few small raw images.
head -c 4096 /dev/zero > "$tmp/small.bin"
head -c 3145728 /dev/zero > "$tmp/big.bin"
printf 'not an elf' > "$tmp/notelf.bin"

# expect STATUS TEXT ARGS...: the run exits with STATUS and its stderr
# contains TEXT. A run that would boot instead of failing is stopped after
# 30 s (status 124). With $vm_limit set, the run's address space is limited
# to that many KiB (ulimit -v); $env_args are arguments for env(1), which
# runs vireo-run.
vm_limit=
env_args=
expect() {
    status=$1
    text=$2
    shift 2
    (
        if [ -n "$vm_limit" ]; then ulimit -v "$vm_limit" || exit 99; fi
        # shellcheck disable=SC2086 # $env_args is a list of words
        exec env $env_args timeout 30 "$run" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    )
    got=$?
    args=$(printf '%.200s' "$*")
    if [ "$got" != "$status" ]; then
        echo "FAIL: vireo-run $args: exit status $got, expected $status"
        sed 's/^/  stderr: /' "$tmp/err"
        fails=$((fails + 1))
    elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/err"; then
        echo "FAIL: vireo-run $args: stderr lacks “$text”"
        sed 's/^/  stderr: /' "$tmp/err"
        fails=$((fails + 1))
    else
        echo "ok: vireo-run $args -> $got ($(head -n 1 "$tmp/err"))"
    fi
}

# Missing or unreadable files.
expect 2 "cannot read “$tmp/missing.bin”" --kernel "$tmp/missing.bin"
expect 2 "--firmware" --firmware "$tmp/missing.bin"
expect 2 "is not a regular file" --firmware "$tmp"
expect 2 "--test" --test "$tmp/missing.elf"

# Bad --memory.
for m in abc 0 12X -5 1.5G 256MX 99999999999999T ""; do
    expect 2 "--memory" --memory "$m" --kernel "$tmp/small.bin"
done
expect 2 "out of range" --memory 1M --kernel "$tmp/small.bin"
expect 2 "out of range" --memory 2T --kernel "$tmp/small.bin"
expect 2 "4 KiB" --memory 3000000B --kernel "$tmp/small.bin"

# More RAM than the host has: refused before anything starts (QEMU: "cannot
# set up guest memory"), as is RAM the host will not reserve.
host_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
if [ -n "$host_kib" ] && [ "$host_kib" -lt 1073741824 ]; then
    expect 1 "the host has" --memory 1T --kernel "$tmp/small.bin"
    expect 1 "Cannot give the guest" --memory "$((host_kib / 1048576 + 1))G" \
        --kernel "$tmp/small.bin"
fi
# A sanitizer build reserves terabytes of shadow memory when it starts and
# cannot run with its address space limited: there the case that needs the
# limit is left out, and the sparse images below are tried without it.
limit=1048576
if ! (ulimit -v "$limit" && exec "$run" --version) >/dev/null 2>&1; then
    echo "note: vireo-run does not start under ulimit -v (a sanitizer build): no address-space limit"
    limit=
fi
if [ -n "$limit" ]; then
    vm_limit=$limit
    expect 1 "Cannot reserve 2048 MiB of guest RAM" --memory 2G --kernel "$tmp/small.bin"
    vm_limit=
fi

# Images larger than RAM are refused from their size, before they are read:
# a 4 GiB sparse file in a run limited to 1 GiB of address space (reading it
# would fail with another message, or take 4 GiB).
truncate -s 4G "$tmp/sparse.bin"
vm_limit=$limit
expect 2 "Not enough RAM for the kernel" --kernel "$tmp/sparse.bin"
expect 2 "Not enough RAM for the firmware" --firmware "$tmp/sparse.bin"
expect 2 "Not enough RAM for the initrd" --kernel "$tmp/small.bin" --initrd "$tmp/sparse.bin"
expect 2 "bad magic" --test "$tmp/sparse.bin"
vm_limit=
# Only regular files: a FIFO must not block, /dev/zero must not be read.
mkfifo "$tmp/fifo"
expect 2 "is not a regular file" --kernel "$tmp/fifo"
expect 2 "is not a regular file" --initrd /dev/zero --kernel "$tmp/small.bin"

# Bad --cpus and --timeout.
expect 2 "--cpus: 0 is out of range" --cpus 0 --kernel "$tmp/small.bin"
expect 2 "--cpus: 65 is out of range" --cpus 65 --kernel "$tmp/small.bin"
expect 2 "--cpus" --cpus many --kernel "$tmp/small.bin"
expect 2 "--cpu: “rv32gc” is not a CPU model" --cpu rv32gc --kernel "$tmp/small.bin"
expect 2 "--cpu: “” is not a CPU model" --cpu "" --kernel "$tmp/small.bin"
expect 2 "--timeout" --timeout -1 --test "$tmp/small.bin"

# Too little RAM for the images.
expect 2 "Not enough RAM for the kernel" --memory 2M --firmware "$tmp/small.bin" \
    --kernel "$tmp/small.bin"
expect 2 "Not enough RAM for the firmware" --memory 2M --firmware "$tmp/big.bin"
expect 2 "Not enough RAM for the initrd" --memory 6M --firmware "$tmp/small.bin" \
    --kernel "$tmp/small.bin" --initrd "$tmp/big.bin"

# Combinations that make no sense.
expect 2 "nothing to run" --cpus 2
expect 2 "--initrd needs --kernel" --initrd "$tmp/small.bin" --firmware "$tmp/small.bin"
expect 2 "--append needs --kernel" --append "console=ttyS0" --firmware "$tmp/small.bin"
# Also when the run writes its device tree: the firmware would boot without
# a kernel to take the command line (QEMU: "-append only allowed with -kernel").
expect 2 "--append needs --kernel" --append "console=ttyS0" --firmware "$tmp/small.bin" \
    --dtb-out "$tmp/append.dtb"
expect 2 "--append needs --kernel" --append "console=ttyS0" --test "$tmp/small.bin" \
    --dtb-out "$tmp/append.dtb"
expect 2 "--append: the command line is 100000 bytes long; at most 4096" --kernel "$tmp/small.bin" \
    --append "$(head -c 100000 /dev/zero | tr '\0' a)"
expect 2 "--test runs a program alone" --test "$tmp/small.bin" --kernel "$tmp/small.bin"
expect 2 "unexpected argument" --kernel "$tmp/small.bin" extra
expect 2 "Unknown option" --no-such-option

# Disks: missing files, too many, no file at all.
expect 2 "--disk: cannot read “$tmp/missing.img”" --disk "$tmp/missing.img" --kernel "$tmp/small.bin"
expect 2 "--disk: cannot read “$tmp/missing.img”" --disk "$tmp/missing.img,ro" \
    --kernel "$tmp/small.bin"
expect 2 "is not a regular file or a block device" --disk "$tmp" --kernel "$tmp/small.bin"
expect 2 "names no file" --disk ",ro" --kernel "$tmp/small.bin"
expect 2 "--disk: at most 6 disks" --kernel "$tmp/small.bin" --disk "$tmp/small.bin,ro" \
    --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro" \
    --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro"

# --disk options as QEMU spells them: ro, rw, format=raw or qcow2, ",," for a
# comma in the name; anything else is refused rather than taken as part of
# the name.
printf x > "$tmp/comma,disk.img"
expect 0 "" --disk "$tmp/small.bin,rw" --dtb-out "$tmp/disk.dtb"
expect 0 "" --disk "$tmp/small.bin,format=raw,ro" --dtb-out "$tmp/disk.dtb"
expect 0 "" --disk "$tmp/comma,,disk.img" --dtb-out "$tmp/disk.dtb"
expect 2 "--disk: unknown option “disk.img”" --disk "$tmp/comma,disk.img" --kernel "$tmp/small.bin"
expect 2 "--disk: unknown option “cache=none”" --disk "$tmp/small.bin,cache=none" \
    --kernel "$tmp/small.bin"
expect 2 "--disk: the format “vmdk” is not supported" --disk "$tmp/small.bin,format=vmdk" \
    --kernel "$tmp/small.bin"
expect 2 "does not start with the qcow2 magic" --disk "$tmp/small.bin,format=qcow2" \
    --firmware "$tmp/small.bin"
if command -v qemu-img >/dev/null 2>&1; then
    qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 64M
    expect 0 "" --disk "$tmp/disk.qcow2" --dtb-out "$tmp/disk.dtb"
    expect 0 "" --disk "$tmp/disk.qcow2,format=qcow2,ro" --disk "$tmp/disk.qcow2,ro" \
        --dtb-out "$tmp/disk.dtb"
    expect 0 "" --disk "$tmp/disk.qcow2,format=raw" --dtb-out "$tmp/disk.dtb"
    expect 1 "is in use by another program" --disk "$tmp/disk.qcow2" --disk "$tmp/disk.qcow2" \
        --firmware "$tmp/small.bin"
    qemu-img create -q -f qcow2 -o compat=1.1,extended_l2=on "$tmp/l2.qcow2" 64M
    expect 1 "extended L2" --disk "$tmp/l2.qcow2" --firmware "$tmp/small.bin"
fi
expect 2 "both “ro” and “rw”" --disk "$tmp/small.bin,ro,rw" --kernel "$tmp/small.bin"
expect 2 "Try “vireo-run --help”" --disk "$tmp/small.bin,bogus" --kernel "$tmp/small.bin"

# One rule for exit statuses: files that are not what they should be are bad
# arguments (2), like missing ones; a machine that cannot run is 1.
: > "$tmp/empty.bin"
printf '\177ELF' > "$tmp/short.elf"
expect 2 "bad magic" --test "$tmp/notelf.bin"
expect 2 "is empty" --firmware "$tmp/empty.bin"
expect 2 "is empty" --kernel "$tmp/empty.bin"
expect 2 "truncated" --kernel "$tmp/short.elf"
expect 2 "is empty" --kernel "$tmp/small.bin" --initrd "$tmp/empty.bin"
# A disk another machine is writing: the second cannot run.
truncate -s 1M "$tmp/busy.img"
"$run" --firmware "$tmp/small.bin" --disk "$tmp/busy.img" </dev/null >/dev/null 2>&1 &
holder=$!
i=0
while [ $i -lt 100 ] && ! ls -l "/proc/$holder/fd" 2>/dev/null | grep -qF "$tmp/busy.img"; do
    sleep 0.1
    i=$((i + 1))
done
expect 1 "in use by another program" --firmware "$tmp/small.bin" --disk "$tmp/busy.img"
kill "$holder"
wait "$holder" 2>/dev/null

# --display sdl without a screen: SDL would fall back to a driver that shows
# nothing; that is an error (1) unless SDL_VIDEODRIVER asks for it. The
# machine itself cannot start either (too little RAM), which tells whether
# the window opened.
if ! ls /dev/dri/card* >/dev/null 2>&1; then
    env_args="-u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER"
    expect 1 "No screen for the window: neither DISPLAY nor WAYLAND_DISPLAY is set" \
        --display sdl --memory 2M --firmware "$tmp/big.bin"
    env_args="-u DISPLAY -u WAYLAND_DISPLAY SDL_VIDEODRIVER=offscreen LIBGL_ALWAYS_SOFTWARE=1"
    expect 2 "Not enough RAM for the firmware" --display sdl --memory 2M --firmware "$tmp/big.bin"
    env_args=
fi

# The device tree alone.
expect 0 "" --dtb-out "$tmp/virt.dtb" --cpus 4 --memory 1G
if [ ! -s "$tmp/virt.dtb" ]; then
    echo "FAIL: --dtb-out wrote nothing"
    fails=$((fails + 1))
fi

[ "$fails" = 0 ] || { echo "$fails case(s) failed"; exit 1; }
