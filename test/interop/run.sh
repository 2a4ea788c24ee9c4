#!/bin/bash
# Runs every interop test (test/interop/test_*.sh, or those named):
# parkblf against third-party SIP stacks (Kamailio, liblinphone, ...),
# each started and stopped by the test itself on loopback.  The same
# runner as the integration tests; see test/interop/lib.sh.
#
# Usage: test/interop/run.sh BUILD [TEST...]

here=$(cd "$(dirname "$0")" && pwd)
TEST_DIR=$here exec bash "$here/../integration/run.sh" "$@"
