#!/bin/sh
# Validates the desktop file, the AppStream metadata and the settings schema.
# $1: the build's data directory, $2: the source data directory.
set -eu
build="$1"
src="$2"
desktop-file-validate "$build/io.github.vireo.Vireo.desktop"
appstreamcli validate --no-net --pedantic "$build/io.github.vireo.Vireo.metainfo.xml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/io.github.vireo.Vireo.gschema.xml" "$tmp/"
glib-compile-schemas --strict --targetdir="$tmp" "$tmp"
echo "desktop file, metainfo and schema are valid"
