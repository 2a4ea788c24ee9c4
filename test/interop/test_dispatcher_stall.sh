# Instances that are slow, not dead: both parkblf instances behind
# Kamailio's dispatcher (test/interop/dispatch.sh, probes every 2 s as
# shipped)
# stall for STALL_S s (SIGSTOP: what a storm of new subscriptions or a
# busy machine does to answer times) while phones keep subscribing,
# STALL_RATE new SUBSCRIBEs per second.  Every SUBSCRIBE is answered
# 200 once they run again: the recipe's relay timeout (RELAY_MS) is
# longer than the stall, one late answer or one unanswered probe does
# not take an instance out of the set (DS_FAIL probes in a row do),
# so no phone is told 503 No parkblf Instance Alive.  With the old
# recipe (2 s for both, one failure enough) the instances were marked
# dead dozens of times here, and once 46 SUBSCRIBEs were refused; a
# storm through Kamailio had 3,617 of 5,000 new subscriptions fail
# (docs/SCALING.md, "A storm through Kamailio").
. "$(dirname "$0")/lib.sh"

STALL_S=3
STALL_RATE=50
CALLS=400

. "$INTEROP/dispatch.sh"
dispatch_setup 2
wait_for 10 probed "$PID_x" && wait_for 10 probed "$PID_y" ||
	fail "the instances did not answer Kamailio's OPTIONS probes 200"

# 400 phones' SUBSCRIBEs to tenant a, 50 per second (8 s), each a new
# phone (sipp: one call each); the answer must be 200 (a NOTIFY that
# comes before it, as RFC 6665 4.1.2.4 allows, is answered: -aa)
scenario expect.xml.in "$T/sub.xml" METHOD=SUBSCRIBE CODE=200 \
	HEADER=CSeq: HEADER_RE=SUBSCRIBE "EXTRA_HEADERS=Event: dialog" AFTER=
PHONE_DOMAIN=$DOMAIN to_domain "$T/sub.xml"
sipp -sf "$T/sub.xml" -s park-1 -i 127.0.0.1 -p "$(free_port)" \
	-m "$CALLS" -r "$STALL_RATE" -l "$CALLS" -timeout 60s -nostdin -aa \
	-recv_timeout 30000 -trace_err -error_file "$T/storm.err" \
	-trace_stat -stf "$T/storm.csv" -fd 1 \
	"127.0.0.1:$KP" >"$T/storm.out" 2>&1 &
storm=$!
PIDS+=($storm)

# 2 s in, both instances stop for STALL_S s
sleep 2
kill -STOP "$PID_x" "$PID_y"
log "both instances stalled"
sleep "$STALL_S"
kill -CONT "$PID_x" "$PID_y"
log "both instances run again"

wait "$storm"
rc=$?
ok=$(tail -n 1 "$T/storm.csv" | awk -F';' '{ print $16 }')
failed=$(tail -n 1 "$T/storm.csv" | awk -F';' '{ print $18 }')
log "SUBSCRIBEs: $ok answered 200, $failed failed (sipp rc $rc)"
refused=$(grep -c "no instance alive" "$T/kam.log")
down=$(grep -c "DS instance down\|marked d" "$T/kam.log")
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$refused" -eq 0 ] &&
	[ "$down" -eq 0 ] ||
	fail "$failed of $CALLS SUBSCRIBEs failed, $refused refused by" \
		"Kamailio (no instance alive), $down times an instance" \
		"marked down: $(grep -E 'DS (instance|sip|.*marked)' \
			"$T/kam.log" | head -n 5)"
log "a ${STALL_S} s stall of both instances: every SUBSCRIBE answered" \
	"200, no instance taken out of the set"
kam_errors kam && fail "Kamailio logged errors"
true
