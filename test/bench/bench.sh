#!/bin/bash
# bench.sh [BUILD]: the parkblf benchmark (make bench; docs/BENCHMARKS.md).
#
# For each run and each scale: a fresh fake PBX and parkblf (generated
# config: no pacing, no throttling), then BUILD/loadgen as many phones
# on loopback (127.1.0.0/16 source addresses).  Prints each run's raw
# lines, then medians with spread (min..max) over the runs, and last the
# one-line summary (figures of the 10k scale).
#
# Scales (PHONES x KEYS over ORBITS, watchers per orbit):
#   1k   100 x 10 over 10 orbits,   100 watchers per orbit
#   10k  1000 x 10 over 10 orbits,  1000 watchers per orbit
#   50k  5000 x 10 over 50 orbits,  1000 watchers per orbit
#
# Knobs: BENCH_RUNS (default 3; 1 with BENCH_QUICK=1), BENCH_QUICK=1
# (1k and 10k only, shorter phases), BENCH_SCALES ("1k 10k 50k"),
# BENCH_TPUT_S (throughput seconds, 5), BENCH_ROUNDS (fan-out rounds,
# each a park and a retrieve: 5), BENCH_WINDOW (outstanding SUBSCRIBEs,
# 64), BENCH_SETUP_LIMIT (seconds of SUBSCRIBEs at most, 60; the rest
# is reported as not_sent), BENCH_REST_S (idle seconds after the
# throughput phase before parkblf's RSS is read again, 35: memory held
# by the subscriptions once the storm's transactions are gone; 0 = no
# rest phase), BENCH_STORM_PCT (the storm phase: new phones with this
# many subscriptions, in % of the scale's, subscribe at once while
# orbits change; 50; 0 = no storm), BENCH_PROFILE=1 (profile parkblf at the 10k scale with perf, or
# callgrind without perf; reports land in BENCH_OUT), BENCH_OUT (where
# raw output goes; default a new /tmp/parkblf-bench.XXXXXX),
# BENCH_SUMMARIZE=1 (no runs: the summary of BENCH_OUT/raw.txt),
# BENCH_FRONT=kamailio (the phones go through Kamailio with
# conf/kamailio/kamailio.cfg, BENCH_FRONT_WORKERS UDP workers, 2:
# docs/SCALING.md),
# BENCH_ROUTE=1 (every SUBSCRIBE record-routed through the phone's own
# address, as by a proxy in front: the NOTIFYs carry a Route header),
# BENCH_ONESOCK=1 (loadgen -1: the phones share one socket, each at its
# own address and the same port, so that the load generator needs far
# fewer system calls per NOTIFY than parkblf and is not the limit),
# BENCH_FANOUT_1SOCK=0 (no second fan-out phase with the phones on one
# socket; by default each scale of each run also measures the fan-out
# that way, on a fresh parkblf: the "fan-out, the phones on one
# socket" line, docs/BENCHMARKS.md change 27),
# BENCH_SPIN=1 (with BENCH_LG_PUMP=1, loadgen -B: during a fan-out
# event the load generator polls its phones' sockets instead of
# waiting in epoll_wait),
# BENCH_LG_PUMP=1 (loadgen -Q: the phone sockets in an epoll set of
# the load generator's own, read while any is ready, 200s 16 at a time
# when none is, instead of a read pass per round of libre's epoll_wait
# with the round's 200s after it).
#
# Every process started here is stopped by PID; loopback only.

set -u
shopt -u patsub_replacement 2>/dev/null

BUILD=${1:-build-bench}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
# params SCALE, wait_for, free_port, median_of
# shellcheck source=test/bench/lib.sh
. test/bench/lib.sh

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${BENCH_RUNS:-1}
	SCALES=${BENCH_SCALES:-"1k 10k"}
	TPUT_S=${BENCH_TPUT_S:-2}
	ROUNDS=${BENCH_ROUNDS:-5}
else
	RUNS=${BENCH_RUNS:-3}
	SCALES=${BENCH_SCALES:-"1k 10k 50k"}
	TPUT_S=${BENCH_TPUT_S:-5}
	ROUNDS=${BENCH_ROUNDS:-5}
fi
WINDOW=${BENCH_WINDOW:-64}
LIMIT=${BENCH_SETUP_LIMIT:-60}
REST_S=${BENCH_REST_S:-35}
STORM_PCT=${BENCH_STORM_PCT:-50}
PROFILE=${BENCH_PROFILE:-0}
ROUTE_ARG=
[ "${BENCH_ROUTE:-0}" = 1 ] && ROUTE_ARG=-R
ONESOCK_FANOUT=${BENCH_FANOUT_1SOCK:-1}
[ "${BENCH_ONESOCK:-0}" = 1 ] && { ROUTE_ARG+=" -1"; ONESOCK_FANOUT=0; }
[ "${BENCH_FRONT:-}" = kamailio ] && ONESOCK_FANOUT=0
[ "${BENCH_SPIN:-0}" = 1 ] && ROUTE_ARG+=" -B"
[ "${BENCH_LG_PUMP:-0}" = 1 ] && ROUTE_ARG+=" -Q"
OUT=${BENCH_OUT:-$(mktemp -d /tmp/parkblf-bench.XXXXXX)}
mkdir -p "$OUT"

bench_setup bench

PB_PID= PBX_PID= PERF_PID= KAM_PID=
stop() {
	local pid
	for pid in $PERF_PID $KAM_PID $PB_PID $PBX_PID; do
		kill -TERM "$pid" 2>/dev/null || continue
		( sleep 8; kill -KILL "$pid" 2>/dev/null ) &
		wait "$pid" 2>/dev/null
		kill "$!" 2>/dev/null
		wait "$!" 2>/dev/null
	done
	PB_PID= PBX_PID= PERF_PID= KAM_PID=
}
trap 'stop; exit 1' INT TERM
trap stop EXIT

# start DIR ORBITS [WRAP...]: fake PBX and parkblf; sets PB_PID, PB_PORT,
# PBX_PID, PBX_CTL
start() {
	local d=$1 m=$2 pbx_port
	shift 2
	rm -rf "$d"
	mkdir -p "$d"
	start_pbx bench "$d" "$m" labels || return 1
	pbx_port=$PBX_PORT

	PB_PORT=$(free_port)
	PB_HTTP=$(free_port)
	cat >"$d/parkblf.conf" <<-EOM
	sip_listen 127.0.0.1:$PB_PORT
	upstream_uri sip:any-dn@127.0.0.1:$pbx_port
	upstream_user 9999
	upstream_password secret
	orbit_map orbits.conf
	subscribe_allow 127.0.0.0/8
	subscribe_min_expires 60
	subscribe_default_expires 3600
	subscribe_max_expires 3600
	notify_min_interval 0
	notify_phone_rate 100000
	subscribe_max_total 1000000
	subscribe_max_per_source 1000000
	http_listen 127.0.0.1:$PB_HTTP
	log_level info
	EOM
	# through Kamailio (on 127.0.0.1): the recipe's trusted_proxies, so
	# that each phone counts by its Via, as in production (the limits
	# above are raised for the benchmark's sake, not the proxy's)
	[ "${BENCH_FRONT:-}" = kamailio ] &&
		echo "trusted_proxies 127.0.0.1" >>"$d/parkblf.conf"
	"${PIN_PB[@]}" "$@" "$BUILD/parkblf" -f "$d/parkblf.conf" \
		>"$d/parkblf.log" 2>&1 &
	PB_PID=$!
	wait_for 20 grep -Eq 'link [a-z]+ -> up' "$d/parkblf.log" ||
		{ echo "bench: parkblf did not come up"; return 1; }
	# the initial burst: one NOTIFY per DN
	sleep 0.5
	PB_TARGET=$PB_PORT
	[ "${BENCH_FRONT:-}" = kamailio ] && { front "$d" || return 1; }
	return 0
}

udp_bound() { ss -Hlun "sport = :$1" | grep -q .; }

# front DIR: BENCH_FRONT=kamailio: the phones reach parkblf through
# Kamailio with conf/kamailio/kamailio.cfg (docs/SCALING.md), pinned
# with the load generator; sets KAM_PID, PB_TARGET
front() {
	local kp
	kp=$(free_port)
	echo "1 sip:127.0.0.1:$PB_PORT 8 0" >"$1/dispatcher.list"
	"${PIN_LG[@]}" kamailio -f conf/kamailio/kamailio.cfg \
		-L /usr/lib/x86_64-linux-gnu/kamailio/modules \
		-A "LISTEN_UDP=udp:127.0.0.1:$kp" \
		-A "LISTEN_TCP=tcp:127.0.0.1:$kp" \
		-A "DS_LIST=\"$1/dispatcher.list\"" \
		-A "PING_FROM=\"sip:kamailio@127.0.0.1:$kp\"" \
		-A "WORKERS=${BENCH_FRONT_WORKERS:-2}" -DD -E -Y "$1" -w "$1" \
		-m 512 -M 32 >"$1/kamailio.log" 2>&1 &
	KAM_PID=$!
	wait_for 10 udp_bound "$kp" || { echo "bench: no Kamailio"; return 1; }
	sleep 1
	PB_TARGET=$kp
}

# one SCALE in DIR; loadgen output to DIR/loadgen.out
run_scale() {
	local scale=$1 d=$2 np nk nm
	read -r np nk nm <<<"$(params "$scale")"
	start "$d" "$nm" || return 1
	"${PIN_LG[@]}" timeout 600 "$BUILD/loadgen" \
		-t "127.0.0.1:$PB_TARGET" -c "$PBX_CTL" -n "$np" -k "$nk" -m "$nm" -w "$WINDOW" \
		-f "$ROUNDS" -T "$TPUT_S" -P "$PB_PID" -L "$LIMIT" \
		-W "$REST_S" -S "$((np * nk * STORM_PCT / 100))" $ROUTE_ARG \
		>"$d/loadgen.out" 2>"$d/loadgen.err"
	local rc=$?
	# malloc's view at the end (the subscriptions are still there):
	# bytes in use per subscription, next to the resident figure
	curl -s --max-time 5 "http://127.0.0.1:$PB_HTTP/metrics" |
		awk '
		/^parkblf_heap_in_use_bytes / { u = $2 }
		/^parkblf_heap_free_bytes / { f = $2 }
		/^parkblf_subscriptions / { s = $2 }
		/^parkblf_fanout_waits_total / { w = $2 }
		END { if (s) printf "heap subs=%d in_use=%d free=%d " \
			"in_use_per_sub=%.0f fanout_waits=%d\n", s, u, f, \
			u / s, w }' \
		>>"$d/loadgen.out"
	stop
	[ $rc = 0 ] || echo "bench: loadgen exited $rc (see $d)" >&2
	[ $rc = 0 ] && [ "$ONESOCK_FANOUT" = 1 ] && {
		fanout_onesock "$scale" "$d-1sock" || rc=1
	}
	return $rc
}

# fanout_onesock SCALE DIR: the fan-out phase again, on a fresh parkblf,
# with the phones on one socket (loadgen -1): one core plays 1,000
# phones, and with a socket each its reading and answering (~11 us a
# NOTIFY) trails parkblf's sending (~3-4 us), so the figure above is
# mostly its own queue; on one socket (~4 us) it keeps nearly pace.
# Appends the phase's line to DIR/../loadgen.out as "fanout_1sock".
fanout_onesock() {
	local d=$2 np nk nm rc
	read -r np nk nm <<<"$(params "$1")"
	start "$d" "$nm" || return 1
	"${PIN_LG[@]}" timeout 300 "$BUILD/loadgen" \
		-t "127.0.0.1:$PB_TARGET" -c "$PBX_CTL" -n "$np" -k "$nk" \
		-m "$nm" -w "$WINDOW" -f "$ROUNDS" -T 0 -S 0 -W 0 \
		-P "$PB_PID" -L "$LIMIT" -1 \
		>"$d/loadgen.out" 2>"$d/loadgen.err"
	rc=$?
	stop
	sed -n 's/^fanout /fanout_1sock /p' "$d/loadgen.out" \
		>>"${d%-1sock}/loadgen.out"
	[ $rc = 0 ] || echo "bench: loadgen -1 exited $rc (see $d)" >&2
	return $rc
}

echo "bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
	"$(nproc) cores, kernel $(uname -r), runs=$RUNS scales='$SCALES'" \
	"tput=${TPUT_S}s rounds=$ROUNDS window=$WINDOW out=$OUT"

if [ "${BENCH_SUMMARIZE:-0}" != 1 ]; then
	for ((r = 1; r <= RUNS; r++)); do
		for s in $SCALES; do
			d="$OUT/run$r-$s"
			run_scale "$s" "$d"
			sed "s/^/run=$r scale=$s /" "$d/loadgen.out"
		done
	done >"$OUT/raw.txt"
fi
cat "$OUT/raw.txt"

# median (min..max) of one key of one phase at one scale
stat() { median_of "$OUT/raw.txt" scale "$@"; }

med() { stat "$@" | cut -d' ' -f1; }

echo
echo "bench: medians over $RUNS run(s), (min..max)"
for s in $SCALES; do
	read -r np nk nm <<<"$(params "$s")"
	echo "== $s: $((np * nk)) subscriptions ($np phones x $nk keys," \
		"$nm orbits, $((np * nk / nm)) watchers per orbit)"
	echo "  setup:      $(stat "$s" setup subs_per_s) subs/s;" \
		"all established in $(stat "$s" setup time_s) s;" \
		"failed $(stat "$s" setup failed);" \
		"not sent (deadline) $(stat "$s" setup not_sent);" \
		"retransmits $(stat "$s" setup retransmits)"
	echo "  memory:     $(stat "$s" memory bytes_per_sub) bytes/sub" \
		"right after set-up;" \
		"RSS $(stat "$s" rest rss2) bytes at rest, ${REST_S} s after" \
		"the throughput phase (rss0 $(stat "$s" memory rss0));" \
		"malloc in use $(stat "$s" heap in_use_per_sub) bytes/sub"
	echo "  fan-out:    p50 $(stat "$s" fanout p50_ms) ms," \
		"p99 $(stat "$s" fanout p99_ms) ms," \
		"max $(stat "$s" fanout max_ms) ms;" \
		"last watcher p50 $(stat "$s" fanout last_p50_ms) ms;" \
		"missing $(stat "$s" fanout missing);" \
		"CPU s of parkblf / of loadgen over the phase:" \
		"$(med "$s" fanout cpu_s) / $(med "$s" fanout lg_cpu_s)"
	echo "  (arrival:   p50 $(stat "$s" fanout arr_p50_ms) ms," \
		"p99 $(stat "$s" fanout arr_p99_ms) ms, first watcher p50" \
		"$(stat "$s" fanout arr_first_p50_ms) ms: the kernel's stamp" \
		"of each NOTIFY on the phone's socket, not loadgen's read;" \
		"read minus arrival per NOTIFY p50 $(med "$s" fanout lg_p50_ms)" \
		"p99 $(med "$s" fanout lg_p99_ms) ms: loadgen's own queue)"
	[ "$(stat "$s" fanout_1sock p99_ms)" = n/a ] ||
	echo "  fan-out, the phones on one socket (loadgen -1, a fresh" \
		"parkblf): p50 $(stat "$s" fanout_1sock p50_ms) ms," \
		"p99 $(stat "$s" fanout_1sock p99_ms) ms; arrival p99" \
		"$(stat "$s" fanout_1sock arr_p99_ms) ms; loadgen's queue" \
		"p99 $(med "$s" fanout_1sock lg_p99_ms) ms; CPU s of parkblf" \
		"/ of loadgen: $(med "$s" fanout_1sock cpu_s) /" \
		"$(med "$s" fanout_1sock lg_cpu_s)"
	echo "  storm:      $(stat "$s" storm subs) new subscriptions in" \
		"$(stat "$s" storm time_s) s ($(stat "$s" storm subs_per_s)" \
		"subs/s), failed $(stat "$s" storm failed), retransmits" \
		"$(stat "$s" storm retransmits); meanwhile fan-out to the" \
		"established: p50 $(stat "$s" storm_fanout p50_ms) ms," \
		"p99 $(stat "$s" storm_fanout p99_ms) ms," \
		"events $(stat "$s" storm_fanout events), missing" \
		"$(stat "$s" storm_fanout missing)"
	echo "  throughput: $(stat "$s" throughput notify_per_s) NOTIFY/s;" \
		"$(stat "$s" throughput cpu_s_per_1k_notify) CPU s per 1k" \
		"NOTIFYs; udp drops $(stat "$s" throughput udp_drops);" \
		"CPU s of parkblf / of loadgen in the window:" \
		"$(med "$s" throughput cpu_s) / $(med "$s" throughput lg_cpu_s)" \
		"(whichever is near the window's length is the limit)"
done

if [[ " $SCALES " != *" 50k "* ]]; then
	echo "  (50k not run: BENCH_SCALES or BENCH_QUICK=1)"
fi

if [ "$PROFILE" = 1 ]; then
	d="$OUT/profile"
	read -r np nk nm <<<"$(params "${BENCH_PROFILE_SCALE:-10k}")"
	if perf record -o /dev/null -e cpu-clock true 2>/dev/null; then
		start "$d" "$nm" && {
			perf record -e cpu-clock -g -o "$d/perf.data" \
				-p "$PB_PID" 2>"$d/perf.err" &
			PERF_PID=$!
			"${PIN_LG[@]}" timeout 600 "$BUILD/loadgen" \
				-t "127.0.0.1:$PB_PORT" -c "$PBX_CTL" \
				-n "$np" -k "$nk" -m "$nm" -w "$WINDOW" \
				-f "$ROUNDS" -T "$TPUT_S" -P "$PB_PID" \
				>"$d/loadgen.out" 2>&1
			kill -INT "$PERF_PID"
			wait "$PERF_PID"
			PERF_PID=
			stop
			perf report -i "$d/perf.data" --no-children \
				--sort symbol --stdio 2>/dev/null |
				grep -v '^$' >"$d/perf.txt"
			echo "bench: profile in $d/perf.txt"
		}
	else
		start "$d" "$nm" valgrind --tool=callgrind \
			--callgrind-out-file="$d/callgrind.out" && {
			"${PIN_LG[@]}" timeout 600 "$BUILD/loadgen" \
				-t "127.0.0.1:$PB_PORT" -c "$PBX_CTL" \
				-n 100 -k "$nk" -m "$nm" -f 3 -T 2 \
				>"$d/loadgen.out" 2>&1
			stop
			callgrind_annotate "$d/callgrind.out" \
				>"$d/callgrind.txt" 2>/dev/null
			echo "bench: profile in $d/callgrind.txt"
		}
	fi
fi

# the summary: the 10k scale (or the largest one run)
sum=10k
[[ " $SCALES " == *" 10k "* ]] || sum=${SCALES##* }
echo "bench: subs_per_s=$(med $sum setup subs_per_s)" \
	"notify_per_s=$(med $sum throughput notify_per_s)" \
	"p99_ms_1000=$(med $sum fanout p99_ms)" \
	"arr_p99_ms_1000=$(med $sum fanout arr_p99_ms)" \
	"p99_1sock_ms_1000=$(med $sum fanout_1sock p99_ms)" \
	"cpu_s_per_1k_notify=$(med $sum throughput cpu_s_per_1k_notify)" \
	"bytes_per_sub=$(med $sum memory bytes_per_sub)"
