#!/bin/sh
# Fails when a C source or header does not follow .clang-format.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find app ui engine display devices accel tests -name '*.[ch]')
[ -n "$files" ] || { echo "no sources found" >&2; exit 1; }
bad=0
for f in $files; do
    [ -f "$f" ] || continue
    if ! clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run: clang-format -i $f)"
        bad=1
    fi
done
exit $bad
