#!/bin/sh
# Builds the libFuzzer targets (build-fuzz, clang, -Dfuzzing=true) and runs
# each for SECONDS (default 30), starting from its seed corpus in
# tests/fuzz/corpus/<target>/. New inputs go to build-fuzz/fuzz-corpus/, never
# into the tree. Fails on the first crash, leak, sanitizer report or timeout;
# the input that caused it is left in build-fuzz/fuzz-artifacts/.
#
#   tests/fuzz/run.sh             every target, 30 s each
#   tests/fuzz/run.sh 600         every target, ten minutes each
#   tests/fuzz/run.sh 60 fuzz-virtqueue
#
# Exits 77 (skipped) when clang or its libFuzzer runtime is missing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
seconds=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-$(sed -n "s/^  '\(fuzz-[a-z0-9-]*\)'.*/\1/p" tests/fuzz/meson.build)}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: skipped: clang is not installed (scripts/setup installs it)"
    exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' \
    >"$probe/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" \
    >/dev/null 2>&1; then
    echo "fuzz: skipped: clang has no libFuzzer runtime (libclang_rt.fuzzer)"
    exit 77
fi

[ -d build-fuzz ] || CC=clang meson setup build-fuzz --werror -Dfuzzing=true \
    -Db_lundef=false >/dev/null
ninja -C build-fuzz $(for t in $targets; do printf 'tests/fuzz/%s ' "$t"; done)

mkdir -p build-fuzz/fuzz-artifacts
status=0
for t in $targets; do
    corpus=build-fuzz/fuzz-corpus/$t
    log=build-fuzz/fuzz-artifacts/$t.log
    mkdir -p "$corpus"
    echo "fuzz: $t for ${seconds}s"
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/fuzz-artifacts/$t-" \
        "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" |
            sed "s/^/fuzz: $t: /"
        grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -n 1 | sed "s/^/fuzz: $t: /"
    else
        status=1
        echo "fuzz: $t FAILED; the report ($log):"
        tail -n 60 "$log"
    fi
done
exit $status
