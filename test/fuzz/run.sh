#!/bin/sh
# Runs each libFuzzer target for SECONDS on a copy of its seed corpus
# (test/fuzz/corpus/TARGET), then prints its executions.  A crash, a
# leak, a timeout or an out-of-memory fails the run; the input is kept
# as BUILD/fuzz/TARGET-crash-* (add it to the corpus once fixed) and the
# end of the log is shown.  Logs: BUILD/fuzz/TARGET.log.
#
# Usage: test/fuzz/run.sh BUILD SECONDS TARGET...
set -e
cd "$(dirname "$0")/../.."
build=$1
secs=$2
shift 2

out=$build/fuzz
mkdir -p "$out"
status=0
for t in "$@"; do
	work=$(mktemp -d)
	cp test/fuzz/corpus/"$t"/* "$work"/
	log=$out/$t.log
	rc=0
	"$build"/test/fuzz/"$t" -max_total_time="$secs" -timeout=5 \
		-rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
		-close_fd_mask=2 -artifact_prefix="$out/$t-" \
		"$work" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	corp=$(ls "$work" | wc -l)
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		echo "  FUZZ    $t: FAILED (exit $rc), see $log"
		tail -n 40 "$log"
		status=1
		continue
	fi
	echo "  FUZZ    $t: ${execs:-?} executions in ${secs}s," \
		"corpus $corp inputs"
done
exit $status
