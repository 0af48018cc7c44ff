#!/bin/sh
# Fails when a C source or header does not follow .clang-format.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
[ -n "$files" ] || files=$(find app ui engine display devices accel tests -name '*.[ch]')
[ -n "$files" ] || { echo "no sources found" >&2; exit 1; }
# One clang-format process for every file; it names each file that differs.
# shellcheck disable=SC2086
if ! clang-format --style=file --dry-run --Werror $files 2>/tmp/vireo-format.$$; then
    grep -o '^[^:]*\.[ch]' /tmp/vireo-format.$$ | sort -u | sed 's/^/not formatted: /'
    rm -f /tmp/vireo-format.$$
    echo "run: clang-format -i <file>"
    exit 1
fi
rm -f /tmp/vireo-format.$$
