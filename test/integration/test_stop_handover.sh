# stop_handover yes (an instance behind a dispatcher, conf/kamailio/):
# a SIGTERM ends the phones' subscriptions with Subscription-State:
# terminated;reason=deactivated (RFC 6665 4.1.3: subscribe again at
# once), and until parkblf exits, 3 s later, a new SUBSCRIBE and an
# OPTIONS probe are answered 503 with Retry-After (the proxy moves
# them to another instance); then it exits 0.  With state_db the told
# subscriptions leave the database: the next run resumes none.
# Through Kamailio: test/interop/test_dispatcher_stop.sh.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db" "stop_handover yes"
# the same port after the restart below
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf

start_phone p1 park-1 QUIET_MS=15000
expect_last p1 '<state>terminated</state>'
sleep 1.5   # saved to the database once a second

t0=$(date +%s%N)
kill -TERM "$PB_PID"
wait_for 5 grep -q '^Subscription-State: *terminated' "$T/p1.msg" ||
	fail "p1 was not told its subscription ended"
grep -Eq '^Subscription-State: *terminated;reason=deactivated\s*$' \
	"$T/p1.msg" || fail "p1 was told: $(grep '^Subscription-State: *terminated' \
		"$T/p1.msg")"
log "p1 told terminated;reason=deactivated"

# still there, taking nothing new: the proxy's cue to move on
expect_refusal park-1 503 Retry-After: '^ *10$' "Event: dialog"
expect_response OPTIONS park-1 503 Retry-After: '^ *10$' ""
grep -q "drained; refusing new subscriptions until the deadline" \
	"$T/parkblf.log" || fail "parkblf did not say why it lingers"
log "while stopping: SUBSCRIBE and OPTIONS answered 503 Retry-After 10"

wait "$PB_PID" || fail "parkblf exited $? on SIGTERM"
DAEMONS=("${DAEMONS[@]/$PB_PID:parkblf/}")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 10000 ] || fail "parkblf took $ms ms to stop"
log "exit 0 after $ms ms"

# told, so not resumed: the next run has nothing to send p1
n=$(grep -c '^NOTIFY' "$T/p1.msg")
start_parkblf
grep -q "resume: [1-9][0-9]* phone subscription" "$T/parkblf.log" &&
	fail "a told subscription was resumed: $(grep 'resume:' "$T/parkblf.log")"
pbx park '*00' call-1 100 Alice >/dev/null
sleep 2
[ "$(grep -c '^NOTIFY' "$T/p1.msg")" -eq "$n" ] ||
	fail "p1 got a NOTIFY after the restart"
log "restart: nothing resumed, p1 not notified"
