#!/bin/sh
# Runs every test: unit and integration tests on a normal build, then
# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# then a short pass of each libFuzzer target.
# Installs missing Debian packages first.
#
# Usage: sh test/check.sh
set -e
cd "$(dirname "$0")/.."
sh test/deps.sh
make -j2 all
make check
make asan
make fuzz FUZZ_SECONDS=20
