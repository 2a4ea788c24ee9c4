#!/bin/bash
# Runs every integration test (test_*.sh here, or those named) against
# the binaries in BUILD; prints one line per test and a total line.
#
# Usage: test/integration/run.sh BUILD [TEST...]
# TEST_DIR: run the test_*.sh of another directory (test/interop/run.sh)

BUILD=$(cd "${1:?usage: run.sh BUILD [TEST...]}" && pwd)
shift
here=${TEST_DIR:-$(cd "$(dirname "$0")" && pwd)}
export BUILD

tests=("$@")
shopt -s nullglob
[ ${#tests[@]} -gt 0 ] || tests=("$here"/test_*.sh)

passed=0 failed=0
for t in "${tests[@]}"; do
	[ -f "$t" ] || t="$here/$t"
	name=$(basename "$t" .sh)
	T=$(mktemp -d "/tmp/parkblf-$name.XXXXXX")
	start=$(date +%s)
	if T=$T timeout 300 bash "$t" >"$T/test.out" 2>&1; then
		passed=$((passed + 1))
		echo "PASS $name ($(( $(date +%s) - start )) s)"
		[ -n "$KEEP" ] || rm -rf "$T"
	else
		failed=$((failed + 1))
		echo "FAIL $name ($(( $(date +%s) - start )) s), in $T:"
		sed 's/^/    /' "$T/test.out"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
