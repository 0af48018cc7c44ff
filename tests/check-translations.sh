#!/bin/sh
# Fails when a source with translatable strings is missing from POTFILES.in,
# or when a translation lacks, or has a fuzzy, translation of a marked string.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# Every file that marks strings is listed.
for f in $(grep -rlE '\b(_|N_|C_|NC_)\(|translatable="yes"' app ui engine devices accel display data --include='*.c' --include='*.ui' --include='*.in' --include='*.xml' 2>/dev/null | sort); do
    if ! grep -qx "$f" po/POTFILES.in; then
        echo "missing from po/POTFILES.in: $f"
        status=1
    fi
done
grep -v '^#' po/POTFILES.in | grep -v '^$' > "$tmp/files"
for f in $(cat "$tmp/files"); do
    [ -f "$f" ] || { echo "listed in po/POTFILES.in but absent: $f"; status=1; }
done
[ $status = 0 ] || exit $status

# Build a fresh template the way the build does, then merge each language.
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
    --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --keyword=ngettext:1,2 \
    --package-name=vireo -f "$tmp/files" -o "$tmp/vireo.pot" 2>"$tmp/xgettext.log" || {
    cat "$tmp/xgettext.log"; exit 1; }
for lang in $(grep -v '^#' po/LINGUAS); do
    msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/vireo.pot" -o "$tmp/$lang.po"
    msgattrib --untranslated --no-obsolete "$tmp/$lang.po" -o "$tmp/$lang.untranslated"
    msgattrib --only-fuzzy --no-obsolete "$tmp/$lang.po" -o "$tmp/$lang.fuzzy"
    msgfmt --check -o /dev/null "po/$lang.po"
    for kind in untranslated fuzzy; do
        if [ -s "$tmp/$lang.$kind" ]; then
            echo "$lang: $kind strings:"
            grep '^msgid ' "$tmp/$lang.$kind" | grep -v '^msgid ""$' | sed 's/^/  /'
            status=1
        fi
    done
done
exit $status
