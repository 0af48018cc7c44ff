#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Stands in for `vireo-run --test PROGRAM` until vireo-run runs RISC-V guests
# (guest_tests_enabled in meson.build): reports the test as skipped.
echo "vireo-run does not run RISC-V guests yet; $(basename "${1:-program}") not run"
exit 77
