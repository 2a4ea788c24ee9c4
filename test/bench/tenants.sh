#!/bin/bash
# tenants.sh [BUILD]: the tenants scenario of make bench (issue 15):
# does the cost of a NOTIFY grow with the number of tenants?
#
# One parkblf with T tenants (tenants_dir, one file each, chosen by the
# domain phones subscribe to: tN.bench), the same total on every run:
# ORBITS orbits (ORBITS / T per tenant), PHONES phones x 10 keys, so the
# same watchers per orbit whatever T.  One fake PBX stands for every
# tenant's PBX: each tenant's upstream link subscribes with ;dns=LO-HI
# and hears only of its own DNs (one upstream NOTIFY per change, as
# with one PBX per tenant).  BUILD/loadgen -D (test/bench/loadgen.c)
# subscribes, then measures fan-out latency and throughput: CPU seconds
# of parkblf per 1,000 NOTIFYs (from /proc/PID/stat) at each T.
#
# Default: 200 tenants x 10 orbits x 25 phones per orbit (50,000
# subscriptions), against 1 tenant x 2000 orbits with the same
# watchers.  Knobs: BENCH_TENANTS_T ("1 200"), BENCH_TENANTS_ORBITS
# (2000), BENCH_TENANTS_PHONES (5000: x 10 keys), BENCH_RUNS (3),
# BENCH_TPUT_S (5), BENCH_ROUNDS (5), BENCH_OUT.  Runs alternate the T
# values (run 1: 1, 200; run 2: 1, 200 ...) so that a shared machine's
# noise falls on both; medians and (min..max) at the end.
#
# parkblf runs on CPU 0, the fake PBX and loadgen on CPU 1 (taskset).
# Every process started here is stopped by PID; loopback only.

set -u
shopt -u patsub_replacement 2>/dev/null

BUILD=${1:-build-bench}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
# shellcheck source=test/bench/lib.sh
. test/bench/lib.sh

TS=${BENCH_TENANTS_T:-"1 200"}
NORB=${BENCH_TENANTS_ORBITS:-2000}
NPH=${BENCH_TENANTS_PHONES:-5000}
KEYS=10
RUNS=${BENCH_RUNS:-3}
TPUT_S=${BENCH_TPUT_S:-5}
ROUNDS=${BENCH_ROUNDS:-5}
OUT=${BENCH_OUT:-$(mktemp -d /tmp/parkblf-bench-tenants.XXXXXX)}
mkdir -p "$OUT"

bench_setup tenants

PB_PID= PBX_PID=
stop() {
	local pid
	for pid in $PB_PID $PBX_PID; do
		kill -TERM "$pid" 2>/dev/null || continue
		( sleep 8; kill -KILL "$pid" 2>/dev/null ) &
		wait "$pid" 2>/dev/null
		kill "$!" 2>/dev/null
		wait "$!" 2>/dev/null
	done
	PB_PID= PBX_PID=
}
trap 'stop; exit 1' INT TERM
trap stop EXIT

# links_up LOG N: N upstream links have come up
links_up() {
	[ "$(grep -Ec 'link [a-z]+ -> up' "$1")" -ge "$2" ]
}

# start DIR T: the fake PBX, T tenant files, parkblf; sets PB_PID,
# PB_PORT, PBX_PID, PBX_CTL
start() {
	local d=$1 t=$2 per=$((NORB / $2)) i j dns=
	rm -rf "$d"
	mkdir -p "$d/tenants.d" "$d/maps"
	for ((i = 1; i <= NORB; i++)); do
		dns+="${dns:+,}$((70000 + i))"
	done
	run_pbx tenants "$d" "$dns" || return 1
	local pbx_port=$PBX_PORT lo

	for ((i = 1; i <= t; i++)); do
		lo=$((70000 + (i - 1) * per))
		for ((j = 1; j <= per; j++)); do
			echo "park-$j $((lo + j)) retrieve=$((80000 + lo - 70000 + j))"
		done >"$d/maps/t$i.map"
		cat >"$d/tenants.d/t$i.conf" <<-EOM
		upstream_uri sip:any-dn@127.0.0.1:$pbx_port;dns=$((lo + 1))-$((lo + per))
		upstream_user 9999
		upstream_password secret
		orbit_map ../maps/t$i.map
		tenant_domain t$i.bench
		EOM
	done

	PB_PORT=$(free_port)
	cat >"$d/parkblf.conf" <<-EOM
	sip_listen 127.0.0.1:$PB_PORT
	tenants_dir tenants.d
	subscribe_allow 127.0.0.0/8
	subscribe_min_expires 60
	subscribe_default_expires 3600
	subscribe_max_expires 3600
	notify_min_interval 0
	notify_phone_rate 100000
	subscribe_max_total 1000000
	log_level info
	EOM
	"${PIN_PB[@]}" "$BUILD/parkblf" -f "$d/parkblf.conf" \
		>"$d/parkblf.log" 2>&1 &
	PB_PID=$!
	# every tenant's link up (its first NOTIFY arrived)
	wait_for 60 links_up "$d/parkblf.log" "$t" ||
		{ echo "tenants: not every link came up (T=$t)"; return 1; }
	sleep 1
}

echo "tenants: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
	"$(nproc) cores, runs=$RUNS T='$TS' orbits=$NORB" \
	"subscriptions=$((NPH * KEYS)) ($((NPH * KEYS / NORB)) per orbit)" \
	"tput=${TPUT_S}s out=$OUT"
echo "tenants: load average $(cut -d' ' -f1-3 /proc/loadavg) at start" \
	"(a shared machine: compare the T values of one run, not runs)"

for ((r = 1; r <= RUNS; r++)); do
	for t in $TS; do
		d="$OUT/run$r-t$t"
		if start "$d" "$t"; then
			"${PIN_LG[@]}" timeout 900 "$BUILD/loadgen" \
				-t "127.0.0.1:$PB_PORT" -c "$PBX_CTL" \
				-n "$NPH" -k "$KEYS" -m "$NORB" -D $((NORB / t)) \
				-w 64 -f "$ROUNDS" -T "$TPUT_S" -P "$PB_PID" \
				-L 120 -W 0 -S 0 \
				>"$d/loadgen.out" 2>"$d/loadgen.err" ||
				echo "tenants: loadgen failed (see $d)" >&2
			rss=$(awk '/^VmRSS/ { print $2 * 1024 }' \
				"/proc/$PB_PID/status" 2>/dev/null)
			echo "memory rss_end=${rss:-0}" >>"$d/loadgen.out"
		fi
		stop
		sed "s/^/run=$r tenants=$t /" "$d/loadgen.out" 2>/dev/null
	done
done >"$OUT/raw.txt"
cat "$OUT/raw.txt"

# median (min..max) of one key of one phase at one T
stat() { median_of "$OUT/raw.txt" tenants "$@"; }

echo
echo "tenants: medians over $RUNS run(s), (min..max)"
for t in $TS; do
	echo "== $t tenant(s) x $((NORB / t)) orbits, $((NPH * KEYS))" \
		"subscriptions, $((NPH * KEYS / NORB)) watchers per orbit"
	echo "  setup:      $(stat "$t" setup subs_per_s) subs/s;" \
		"failed $(stat "$t" setup failed);" \
		"not sent $(stat "$t" setup not_sent)"
	echo "  fan-out:    p50 $(stat "$t" fanout p50_ms) ms," \
		"p99 $(stat "$t" fanout p99_ms) ms; missing" \
		"$(stat "$t" fanout missing)"
	echo "  throughput: $(stat "$t" throughput notify_per_s) NOTIFY/s;" \
		"$(stat "$t" throughput cpu_s_per_1k_notify) CPU s per 1k" \
		"NOTIFYs"
	echo "  memory:     $(stat "$t" memory bytes_per_sub) bytes/sub" \
		"after set-up; RSS at the end $(stat "$t" memory rss_end)"
done
