#!/bin/sh
# The demo from a fresh machine: installs missing Debian packages,
# builds, and runs parkblf with the fake PBX (see test/demo.sh).
#
# Usage: sh test/run-demo.sh
set -e
cd "$(dirname "$0")/.."
sh test/deps.sh
make -j2 demo
