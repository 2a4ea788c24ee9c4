#!/bin/bash
# compare.sh [BUILD]: parkblf against Kamailio's presence server with
# the same load (make bench-compare; docs/BENCHMARKS.md, "parkblf and
# Kamailio side by side").
#
# Per run and per scale, one after the other (the order alternates from
# run to run, so that a slow spell of the machine does not always hit
# the same one):
#   parkblf   test/bench/bench.sh for that one scale (a fresh fake PBX
#             and parkblf; no storm, no rest phase): the orbits change
#             through the fake PBX's control socket
#   kamailio  a fresh Kamailio 5.6 with presence + presence_dialoginfo,
#             memory only (test/bench/kamailio-presence.cfg), and the
#             same BUILD/loadgen with the same phones, subscriptions,
#             fan-out rounds and throughput phase; the orbits change by
#             PUBLISH of the fake PBX's dialog-info document (-p)
# Both servers on CPU 0, the load generator (and fake PBX) on CPU 1.
# Prints each run's raw lines, then the medians side by side.
#
# Knobs: CMP_RUNS (3; 1 with CMP_QUICK=1), CMP_SCALES ("1k 10k"),
# CMP_SERVERS ("parkblf kamailio": either alone for a quick look),
# CMP_CHILDREN (Kamailio's UDP workers, 4), CMP_SHM_MB (Kamailio's
# shared memory, 1024), CMP_RCVBUF (Kamailio's maxbuffer: the receive
# buffer it asks for, 32 MiB; with BUILD/rcvbuf_force.so preloaded the
# kernel grants it beyond net.core.rmem_max), CMP_KAM_MM (Kamailio's
# memory manager, -x: tlsf, its fastest; qm is its default, whose
# qm_malloc was a fifth of its CPU in a profile), CMP_QUICK=1 (1 run, 2 s
# of throughput), and bench.sh's BENCH_TPUT_S (5), BENCH_ROUNDS (5),
# BENCH_WINDOW (64), BENCH_SETUP_LIMIT (60); CMP_OUT (raw output; default a new
# /tmp/parkblf-compare.XXXXXX); CMP_SUMMARIZE=1 (no runs: the table of
# CMP_OUT/raw.txt again); KAM_MODULES (Kamailio's module directory).
#
# Every process started here is stopped by PID; loopback only.

set -u

BUILD=${1:-build-bench}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
# params SCALE, wait_for
# shellcheck source=test/bench/lib.sh
. test/bench/lib.sh

if [ "${CMP_QUICK:-0}" = 1 ]; then
	RUNS=${CMP_RUNS:-1}
	export BENCH_TPUT_S=${BENCH_TPUT_S:-2}
else
	RUNS=${CMP_RUNS:-3}
	export BENCH_TPUT_S=${BENCH_TPUT_S:-5}
fi
SCALES=${CMP_SCALES:-"1k 10k"}
CHILDREN=${CMP_CHILDREN:-4}
SHM_MB=${CMP_SHM_MB:-1024}
RCVBUF=${CMP_RCVBUF:-33554432}
KAM_MM=${CMP_KAM_MM:-tlsf}
case $BUILD in
/*) PRELOAD=$BUILD/rcvbuf_force.so ;;
*) PRELOAD=$SRC/$BUILD/rcvbuf_force.so ;;
esac
SERVERS=${CMP_SERVERS:-"parkblf kamailio"}
case " $SERVERS " in
*" parkblf "* | *" kamailio "*) ;;
*) echo "compare: CMP_SERVERS: parkblf and/or kamailio" >&2; exit 1 ;;
esac
for srv in $SERVERS; do
	[ "$srv" = parkblf ] || [ "$srv" = kamailio ] ||
		{ echo "compare: unknown server $srv" >&2; exit 1; }
done
export BENCH_ROUNDS=${BENCH_ROUNDS:-5}
export BENCH_WINDOW=${BENCH_WINDOW:-64}
export BENCH_SETUP_LIMIT=${BENCH_SETUP_LIMIT:-60}
KAM_MODULES=${KAM_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
OUT=${CMP_OUT:-$(mktemp -d /tmp/parkblf-compare.XXXXXX)}
mkdir -p "$OUT"

PIN_SRV=() PIN_LG=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SRV=(taskset -c 0)
	PIN_LG=(taskset -c 1)
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null

KAM_PID='' KAM_KIDS=''
stop_kamailio() {
	local pid
	[ -n "$KAM_PID" ] || return 0
	# Kamailio's main process stops its workers on TERM
	kill -TERM "$KAM_PID" 2>/dev/null
	( sleep 10; kill -KILL "$KAM_PID" 2>/dev/null ) &
	wait "$KAM_PID" 2>/dev/null
	kill "$!" 2>/dev/null
	wait "$!" 2>/dev/null
	for pid in $KAM_KIDS; do
		kill -KILL "$pid" 2>/dev/null
	done
	KAM_PID='' KAM_KIDS=''
}
trap 'stop_kamailio; exit 1' INT TERM
trap stop_kamailio EXIT

udp_listens() { ss -Hlun "sport = :$1" | grep -q .; }

# a UDP port nobody listens on
free_udp_port() {
	local p
	while :; do
		p=$(shuf -i 10000-32000 -n 1)
		udp_listens "$p" || { echo "$p"; return; }
	done
}

# parkblf RUN SCALE: bench.sh for one scale, its raw lines with RUN
run_parkblf() {
	local r=$1 s=$2 d=$OUT/run$1-$2-parkblf
	BENCH_RUNS=1 BENCH_QUICK=0 BENCH_SCALES=$s BENCH_STORM_PCT=0 \
		BENCH_REST_S=0 BENCH_PROFILE=0 BENCH_OUT=$d \
		test/bench/bench.sh "$BUILD" >"$d.log" 2>&1 ||
		echo "compare: bench.sh failed (see $d.log)" >&2
	sed -n "s/^run=1 scale=$s /run=$r scale=$s server=parkblf /p" \
		"$d/raw.txt"
}

# shm_used DIR: the shared memory Kamailio has in use (real_used), bytes
shm_used() {
	timeout 10 kamcmd -s "unix:$1/kamailio.ctl" core.shmmem 2>/dev/null |
		awk '$1 == "real_used:" { print $2 }'
}

# kamailio RUN SCALE: a fresh Kamailio and the load generator
run_kamailio() {
	local r=$1 s=$2 d=$OUT/run$1-$2-kamailio np nk nm port rc pids shm0 shm1
	read -r np nk nm <<<"$(params "$s")"
	rm -rf "$d"
	mkdir -p "$d"
	port=$(free_udp_port)
	sed -e "s/@PORT@/$port/g" -e "s/@CHILDREN@/$CHILDREN/g" \
		-e "s/@MAXBUFFER@/$RCVBUF/g" -e "s|@DIR@|$d|g" \
		test/bench/kamailio-presence.cfg >"$d/kamailio.cfg"
	if ! kamailio -c -f "$d/kamailio.cfg" -L "$KAM_MODULES" \
		>"$d/check.log" 2>&1; then
		echo "compare: kamailio -c refuses the config:" \
			"$(tail -n 3 "$d/check.log")" >&2
		return 1
	fi
	LD_PRELOAD=$PRELOAD \
		"${PIN_SRV[@]}" kamailio -f "$d/kamailio.cfg" \
		-L "$KAM_MODULES" -DD -E -Y "$d" -w "$d" -m "$SHM_MB" -M 16 \
		-x "$KAM_MM" \
		>"$d/kamailio.log" 2>&1 &
	KAM_PID=$!
	if ! wait_for 15 udp_listens "$port"; then
		echo "compare: Kamailio did not start (see $d)" >&2
		stop_kamailio
		return 1
	fi
	# its workers: fixed once it listens and its timers run
	sleep 1
	KAM_KIDS=$(pgrep -P "$KAM_PID" | tr '\n' ' ')
	pids=$KAM_PID
	for k in $KAM_KIDS; do pids+=",$k"; done
	echo "kamailio processes: $pids" >"$d/pids"
	# its socket's receive buffer (skmem rb) as the kernel sees it
	ss -Hulnm "sport = :$port" >"$d/socket"
	shm0=$(shm_used "$d")
	"${PIN_LG[@]}" timeout 600 "$BUILD/loadgen" \
		-t "127.0.0.1:$port" -p "127.0.0.1:$port" \
		-n "$np" -k "$nk" -m "$nm" -w "$BENCH_WINDOW" \
		-f "$BENCH_ROUNDS" -T "$BENCH_TPUT_S" -P "$pids" \
		-L "$BENCH_SETUP_LIMIT" -W 0 -S 0 \
		>"$d/loadgen.out" 2>"$d/loadgen.err"
	rc=$?
	# shared memory in use once the last NOTIFYs' transactions are
	# gone (tm keeps one 5 s after its answer): what the subscriptions
	# and publications hold
	sleep 6
	shm1=$(shm_used "$d")
	awk -v a="$shm0" -v b="$shm1" '$1 == "memory" {
		for (i = 2; i <= NF; i++) if ($i ~ /^subs=/) n = substr($i, 6)
		if (a > 0 && b > 0 && n > 0)
			printf "shm used0=%d used1=%d subs=%d per_sub=%.0f\n",
				a, b, n, (b - a) / n
	}' "$d/loadgen.out" >"$d/shm.out"
	cat "$d/shm.out" >>"$d/loadgen.out"
	stop_kamailio
	[ $rc = 0 ] || echo "compare: loadgen exited $rc (see $d)" >&2
	sed "s/^/run=$r scale=$s server=kamailio /" "$d/loadgen.out"
}

kv=$(kamailio -v 2>/dev/null | head -n 1)
echo "compare: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
	"$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"runs=$RUNS scales='$SCALES' tput=${BENCH_TPUT_S}s" \
	"rounds=$BENCH_ROUNDS window=$BENCH_WINDOW; $kv," \
	"children=$CHILDREN shm=${SHM_MB}MB maxbuffer=$RCVBUF -x $KAM_MM;" \
	"out=$OUT"

if [ "${CMP_SUMMARIZE:-0}" != 1 ]; then
	for b in loadgen rcvbuf_force.so; do
		[ -e "$BUILD/$b" ] ||
			{ echo "compare: $BUILD/$b missing" >&2; exit 1; }
	done
	command -v kamailio >/dev/null ||
		{ echo "compare: no kamailio (apt-get install kamailio" \
			"kamailio-presence-modules)" >&2; exit 1; }
	for ((r = 1; r <= RUNS; r++)); do
		for s in $SCALES; do
			order=$SERVERS
			((r % 2)) || order=$(echo "$SERVERS" | tr ' ' '\n' | tac)
			for srv in $order; do
				"run_$srv" "$r" "$s"
			done
		done
	done >"$OUT/raw.txt"
fi
cat "$OUT/raw.txt"

# The table: per scale and figure, the median (min..max) of each server
echo
echo "compare: medians over $RUNS run(s), (min..max); same load" \
	"generator and workload"
awk -v scales="$SCALES" '
function med(key,   n, i, j, t, v, m, f) {
	n = split(vals[key], v, " ")
	if (!n) return "n/a"
	for (i = 1; i <= n; i++) v[i] += 0
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	f = (m >= 100 || m == int(m)) ? "%.0f" : "%.3g"
	if (n == 1) return sprintf(f, m)
	return sprintf(f " (" f ".." f ")", m, v[1], v[n])
}
{
	split($2, sc, "="); split($3, sv, "=")
	for (i = 5; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[2] == "-1" || kv[2] == "") continue
		key = sc[2] SUBSEP sv[2] SUBSEP $4 SUBSEP kv[1]
		vals[key] = vals[key] " " kv[2]
	}
}
function row(label, s, ph, k) {
	printf "| %s | %s | %s |\n", label,
		med(s SUBSEP "parkblf" SUBSEP ph SUBSEP k),
		med(s SUBSEP "kamailio" SUBSEP ph SUBSEP k)
}
END {
	n = split(scales, S, " ")
	for (i = 1; i <= n; i++) {
		s = S[i]
		w = med(s SUBSEP "parkblf" SUBSEP "fanout" SUBSEP "watchers")
		split(w, W, " ")
		w = W[1]
		printf "\n%s (%s watchers per orbit)\n\n", s, w
		print "| figure | parkblf | Kamailio 5.6 presence |"
		print "|---|---|---|"
		row("SUBSCRIBEs established per second", s, "setup", "subs_per_s")
		row("SUBSCRIBE failures", s, "setup", "failed")
		row("fan-out p50, ms", s, "fanout", "p50_ms")
		row("fan-out p99, ms", s, "fanout", "p99_ms")
		row("last watcher, p50 of events, ms", s, "fanout", "last_p50_ms")
		row("fan-out: NOTIFYs missing", s, "fanout", "missing")
		row("fan-out: NOTIFYs with the wrong state", s, "fanout", "wrong_state")
		row("NOTIFYs per second", s, "throughput", "notify_per_s")
		row("CPU s per 1,000 NOTIFYs", s, "throughput", "cpu_s_per_1k_notify")
		row("resident bytes per subscription, right after set-up", s, "memory", "bytes_per_sub")
		row("parkblf: malloc in use per subscription, end (fixed tables included)", s, "heap", "in_use_per_sub")
		row("Kamailio: shm in use per subscription, 6 s after the load", s, "shm", "per_sub")
		row("datagrams dropped by this run'"'"'s sockets: setup", s, "setup", "sock_drops")
		row("... fan-out", s, "fanout", "sock_drops")
		row("... throughput", s, "throughput", "sock_drops")
		row("UDP drops, whole machine (others'"'"' tests too): setup", s, "setup", "udp_drops")
		row("... fan-out", s, "fanout", "udp_drops")
		row("... throughput", s, "throughput", "udp_drops")
		row("PUBLISH failures (Kamailio)", s, "publish", "failed")
	}
}' "$OUT/raw.txt"
