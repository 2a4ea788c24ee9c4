#!/bin/sh
# Runs every test: unit and integration tests on a normal build, the
# interop tests against third-party SIP stacks (Kamailio, ...), then
# the unit and integration suite under AddressSanitizer +
# UndefinedBehaviorSanitizer,
# then a short pass of each libFuzzer target, then the Debian package:
# built, lintian-clean, installed, run under systemd (PID 1 of a box
# where PID 1 is not systemd), purged (make deb-test: root, as CI runs;
# it skips on a machine with a parkblf of its own).
# Installs missing Debian packages first.
#
# Usage: sh test/check.sh
set -e
cd "$(dirname "$0")/.."
sh test/deps.sh
make -j2 all
make check
make interop
make asan
make fuzz FUZZ_SECONDS=20
make deb-test
