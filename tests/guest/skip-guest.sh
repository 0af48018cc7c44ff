#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Stands in for `vireo-run --test PROGRAM` until the 'guest' tests are turned
# on (guest_tests_enabled in meson.build): reports the test as skipped.
echo "guest tests are not turned on; $(basename "${1:-program}") not run"
exit 77
