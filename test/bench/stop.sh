#!/bin/bash
# stop.sh [BUILD]: how long a SIGTERM takes at scale, and whether every
# phone hears of it (docs/BENCHMARKS.md, "Stop").
#
# For each run and each scale (1k, 10k, 50k as in bench.sh): a fresh
# fake PBX and parkblf (no state_db: the phones are told), BUILD/loadgen
# subscribes its phones and then rests, answering; parkblf gets SIGTERM
# and the time until it has exited is taken.  The load generator's rest
# line then says how many subscriptions a terminated NOTIFY ended.
# Prints one line per run and scale:
#   stop scale=10k subs=10000 stop_s=0.41 rc=0 ended=10000
#
# Knobs: STOP_RUNS (3), STOP_SCALES ("10k 50k"), STOP_HANDOVER=1
# (stop_handover yes: reason=deactivated, and the stop lasts until its
# deadline by design), STOP_DB=1 (state_db: with STOP_HANDOVER=1 the
# told subscriptions leave it; without, they are kept and the phones
# told nothing).  Every process started here is stopped by PID.

set -u

BUILD=${1:-build-bench}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
# shellcheck source=test/bench/lib.sh
. test/bench/lib.sh

RUNS=${STOP_RUNS:-3}
SCALES=${STOP_SCALES:-"10k 50k"}
OUT=$(mktemp -d /tmp/parkblf-stop.XXXXXX)

bench_setup stop

PB_PID= PBX_PID= LG_PID=
stop_all() {
	local pid
	for pid in $LG_PID $PB_PID $PBX_PID; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	PB_PID= PBX_PID= LG_PID=
}
trap 'stop_all; exit 1' INT TERM
trap stop_all EXIT

# one scale in DIR
run_scale() {
	local scale=$1 d=$2 np nk nm t0 t1 rc pbx_port pb_port
	read -r np nk nm <<<"$(params "$scale")"
	rm -rf "$d"
	mkdir -p "$d"
	start_pbx stop "$d" "$nm" || return 1
	pbx_port=$PBX_PORT
	pb_port=$(free_port)
	{
		echo "sip_listen 127.0.0.1:$pb_port"
		echo "upstream_uri sip:any-dn@127.0.0.1:$pbx_port"
		echo "upstream_user 9999"
		echo "upstream_password secret"
		echo "orbit_map orbits.conf"
		echo "subscribe_allow 127.0.0.0/8"
		echo "notify_min_interval 0"
		echo "notify_phone_rate 100000"
		echo "subscribe_max_total 1000000"
		echo "subscribe_max_per_source 1000000"
		[ "${STOP_HANDOVER:-0}" = 1 ] && echo "stop_handover yes"
		[ "${STOP_DB:-0}" = 1 ] && echo "state_db $d/state.db"
	} >"$d/parkblf.conf"
	"${PIN_PB[@]}" "$BUILD/parkblf" -f "$d/parkblf.conf" \
		>"$d/parkblf.log" 2>&1 &
	PB_PID=$!
	wait_for 20 grep -Eq 'link [a-z]+ -> up' "$d/parkblf.log" ||
		{ echo "stop: parkblf did not come up"; return 1; }
	sleep 0.5

	"${PIN_LG[@]}" timeout 300 "$BUILD/loadgen" -t "127.0.0.1:$pb_port" \
		-n "$np" -k "$nk" -m "$nm" -f 0 -T 0 -S 0 -W 15 -L 60 \
		-P "$PB_PID" >"$d/loadgen.out" 2>"$d/loadgen.err" &
	LG_PID=$!
	wait_for 120 grep -q '^setup' "$d/loadgen.out" ||
		{ echo "stop: the phones did not subscribe"; return 1; }
	sleep 1

	t0=$(date +%s%N)
	kill -TERM "$PB_PID"
	wait "$PB_PID"
	rc=$?
	t1=$(date +%s%N)
	PB_PID=
	wait "$LG_PID"
	LG_PID=
	echo "stop scale=$scale subs=$(sed -n 's/.*subs=\([0-9]*\).*/\1/p' \
		"$d/loadgen.out" | head -1)" \
		"stop_s=$(awk -v a="$t0" -v b="$t1" \
			'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
		"rc=$rc ended=$(sed -n 's/^rest .*ended=\([0-9]*\).*/\1/p' \
			"$d/loadgen.out")"
	stop_all
}

echo "stop: runs=$RUNS scales='$SCALES'" \
	"handover=${STOP_HANDOVER:-0} db=${STOP_DB:-0} out=$OUT"
for ((r = 1; r <= RUNS; r++)); do
	for s in $SCALES; do
		run_scale "$s" "$OUT/run$r-$s"
	done
done
