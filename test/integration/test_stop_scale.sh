# A stop at scale: 20,000 subscriptions of 2,000 phones (the load
# generator of make bench, answering every NOTIFY like a phone).  On
# SIGTERM every subscription gets its final NOTIFY (Subscription-State:
# terminated), answered, and parkblf exits 0 within TimeoutStopSec
# (conf/parkblf.service; parkblf(8): a graceful stop lasts at most 3 s,
# this bound leaves room for a loaded machine).  Once as a plain stop
# (the phones are told to come back later) and once with stop_handover
# (at once, to another instance; parkblf lingers 3 s by design).
# Before the final NOTIFYs took the fast path, 20,000 of them went
# through libre's transactions one by one: a plain stop took ~7 s and
# one with stop_handover ~10 s.
. "$(dirname "$0")/lib.sh"

[ -x "$BUILD/loadgen" ] || fail "$BUILD/loadgen missing (make all)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null

PHONES=2000 KEYS=10 BOUND_MS=10000
# a socket per phone: fewer phones where descriptors are fewer
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 2200 ]; then
	PHONES=$(( $(ulimit -n) - 200 ))
	[ "$PHONES" -ge 100 ] || fail "need 300 file descriptors (ulimit -n)"
	log "ulimit -n $(ulimit -n): $PHONES phones"
fi
SUBS=$((PHONES * KEYS))
# make valgrind: every phone still told, at a scale valgrind runs
if [ -n "${PARKBLF_WRAP:-}" ]; then
	PHONES=100 KEYS=5 SUBS=500 BOUND_MS=20000
	log "under $PARKBLF_WRAP: $SUBS subscriptions, bound $BOUND_MS ms"
fi
# 20,000 messages each way: no wire dump (test_stop_handover checks a
# final NOTIFY's wire format)
unset PARKBLF_WIRE_DUMP
export WIRECHECK=0

start_fakepbx

# stop_at_scale LABEL [CONFIG LINES...]
stop_at_scale() {
	local label=$1 ok t0 ms rc ended
	shift
	: >"$T/parkblf.log"
	write_config "log_level info" "subscribe_allow 127.0.0.0/8" \
		"subscribe_max_total 100000" "subscribe_max_per_source 100" \
		"notify_phone_rate 1000" "$@"
	start_parkblf
	# -W: the phones stay (answering) for 12 s after subscribing
	timeout 120 "$BUILD/loadgen" -t "127.0.0.1:$PB_PORT" -n $PHONES \
		-k $KEYS -m 3 -f 0 -T 0 -S 0 -W 12 -L 60 -P "$PB_PID" \
		>"$T/loadgen-$label.out" 2>"$T/loadgen-$label.err" &
	local lg=$!
	PIDS+=($lg)
	wait_for 90 grep -q '^setup' "$T/loadgen-$label.out" ||
		fail "$label: the phones did not subscribe"
	ok=$(sed -n 's/^setup .* ok=\([0-9]*\) .*/\1/p' \
		"$T/loadgen-$label.out")
	[ "$ok" = $SUBS ] || fail "$label: $ok of $SUBS subscribed:" \
		"$(cat "$T/loadgen-$label.out")"

	t0=$(date +%s%N)
	kill -TERM "$PB_PID"
	( sleep 20; kill -KILL "$PB_PID" 2>/dev/null ) &
	local dog=$!
	wait "$PB_PID"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	kill "$dog" 2>/dev/null
	DAEMONS=("${DAEMONS[@]/$PB_PID:parkblf/}")
	[ "$rc" = 0 ] || fail "$label: parkblf exited $rc on SIGTERM"
	[ "$ms" -le $BOUND_MS ] ||
		fail "$label: parkblf took $ms ms to stop (bound $BOUND_MS)"

	# what the phones saw: the rest phase ends 12 s after set-up
	wait "$lg" || fail "$label: loadgen failed: $(cat "$T/loadgen-$label.err")"
	ended=$(sed -n 's/^rest .*ended=\([0-9]*\).*/\1/p' \
		"$T/loadgen-$label.out")
	[ "$ended" = $SUBS ] ||
		fail "$label: $ended of $SUBS subscriptions told they ended"
	log "$label: $SUBS subscriptions told terminated; exit 0 after $ms ms"
}

stop_at_scale stop
stop_at_scale stop_handover "stop_handover yes"
