#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# vireo-run --net: its help, argument errors (status 2), a forwarded port
# that is taken (status 1), and the network card in the device tree.
# Usage: check-net-cli.sh VIREO-RUN
set -u
run=$1
tmp=$(mktemp -d)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
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
    "$run" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$status" ]; then
        fail "vireo-run $*: exit status $got, expected $status"
        sed 's/^/  stderr: /' "$tmp/err"
    elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/err"; then
        fail "vireo-run $*: stderr lacks “$text”"
        sed 's/^/  stderr: /' "$tmp/err"
    else
        echo "ok: vireo-run $* -> $got ($(head -n 1 "$tmp/err"))"
    fi
}

# The help names the option and the forward syntax on one line.
if "$run" --help | grep -q -- '--net=.*hostfwd'; then
    echo "ok: --help lists --net with hostfwd"
else
    fail "--help does not list --net with hostfwd"
fi

k="--kernel $tmp/small.bin"
# shellcheck disable=SC2086
{
    expect 2 "--net: Unknown network “slirp”" --net slirp $k
    expect 2 "--net: No network given" --net "" $k
    expect 2 "is not a port forward" --net "user,hostfwd=tcp::99999-:22" $k
    expect 2 "is not a port forward" --net "user,hostfwd=2222-:22" $k
    expect 2 "the guest address must be in the guest's network" \
        --net "user,hostfwd=tcp::2222-192.168.1.5:22" $k
    expect 2 "is not a MAC address" --net "user,mac=02:00:00:00:00" $k
    expect 2 "is a multicast address" --net "user,mac=01:00:5e:00:00:01" $k
    expect 2 "Unknown option “hostfwd=tcp::2222-:22” of a TAP network" \
        --net "tap=vireo0,hostfwd=tcp::2222-:22" $k
    expect 2 "is not a network interface name" --net "tap=a/b" $k
    expect 2 "takes no options" --net "none,mac=02:00:00:00:00:01" $k
    expect 2 "--disk: at most 5 disks with --net" --net user $k \
        --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro" \
        --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro" --disk "$tmp/small.bin,ro"
}

# A forwarded port that another program holds: the machine does not start.
python3 - "$tmp/port" <<'EOF' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
EOF
holder=$!
for _ in $(seq 100); do
    [ -f "$tmp/port" ] && break
    sleep 0.1
done
port=$(cat "$tmp/port" 2>/dev/null || true)
if [ -n "$port" ]; then
    # shellcheck disable=SC2086
    expect 1 "Cannot forward host TCP port 127.0.0.1:$port into the guest" \
        --net "user,hostfwd=tcp:127.0.0.1:$port-:22" $k
else
    fail "no port holder"
fi

# The card in the device tree: slot 2 with a network, nothing without.
for spec in user none; do
    if ! "$run" --net "$spec" --dtb-out "$tmp/$spec.dtb" </dev/null >"$tmp/out" 2>"$tmp/err"; then
        fail "vireo-run --net $spec --dtb-out"
        sed 's/^/  stderr: /' "$tmp/err"
        continue
    fi
    if grep -q 'virtio_mmio@10003000' "$tmp/$spec.dtb"; then has=yes; else has=no; fi
    want=no
    [ "$spec" = user ] && want=yes
    if [ "$has" = "$want" ]; then
        echo "ok: --net $spec: network card in the tree: $has"
    else
        fail "--net $spec: network card in the tree: $has, expected $want"
    fi
done

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
