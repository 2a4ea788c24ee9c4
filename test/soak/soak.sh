#!/bin/bash
# The soak test (make soak; not part of make check): about SOAK_SECONDS
# (default 600) of a flapping fake PBX, SOAK_PHONES (200) phone
# subscriptions with refreshes and un-SUBSCRIBEs, parks and retrieves
# and orbit map reloads against parkblf built with ASan+UBSan, then
# every lamp must show the PBX's true state and parkblf must exit 0 on
# SIGTERM without a sanitizer report.  See test/soak/run.sh.
#
# Usage: test/soak/soak.sh [BUILD]   (default: $BUILD, else build-asan)
# KEEP=1 keeps the logs of a passing run (a failing one always does).

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-${BUILD:-$here/../../build-asan}}
BUILD=$(cd "$BUILD" && pwd) || exit 2
for b in parkblf fakepbx; do
	[ -x "$BUILD/$b" ] || { echo "soak: no $BUILD/$b" >&2; exit 2; }
done
SOAK_SECONDS=${SOAK_SECONDS:-600}
case $SOAK_SECONDS in
''|*[!0-9]*) echo "soak: SOAK_SECONDS must be a number" >&2; exit 2 ;;
esac
T=$(mktemp -d /tmp/parkblf-soak.XXXXXX)
export BUILD T SOAK_SECONDS
# ASan's LeakSanitizer reports at exit (into parkblf.log)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

echo "soak: $SOAK_SECONDS s against $BUILD, in $T"
start=$(date +%s)
# bounded: the soak, then at most 10 minutes of setting up and checking
timeout -k 20 $((SOAK_SECONDS + 600)) bash "$here/run.sh" 2>&1 |
	tee "$T/soak.out"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ]; then
	echo "PASS soak ($(( $(date +%s) - start )) s)"
	[ -n "$KEEP" ] || rm -rf "$T"
else
	echo "FAIL soak ($(( $(date +%s) - start )) s, exit $rc), logs in $T"
fi
exit "$rc"
