# An instance dies where Kamailio's probes do not see it yet (probes
# every 60 s here): the phone's refresh is relayed to the dead
# instance, gets no answer, and Kamailio answers it 481 itself after
# its RELAY_MS (5 s) timeout (failure_route LOST_INSTANCE); the phone's
# new SUBSCRIBE is dispatched to the dead instance again (the hash
# still picks it), gets no answer, and after RELAY_MS Kamailio relays
# it to the next instance (failure_route NEXT_INSTANCE; it does not mark
# the instance dead: only DS_FAIL unanswered probes do), which lights
# the lamp with the call parked meanwhile.
# The set-up is test_dispatcher's (test/interop/dispatch.sh).
. "$(dirname "$0")/lib.sh"
. "$INTEROP/dispatch.sh"

dispatch_setup 60

start_failover_phone p1 park-1
expect_last p1 '<state>terminated</state>'
instance_of "$DOMAIN"
eval "vaddr=\$ADDR_$INSTANCE:\$PORT_$INSTANCE vpid=\$PID_$INSTANCE"
[ "$INSTANCE" = x ] && survivor=y || survivor=x
eval "saddr=\$ADDR_$survivor:\$PORT_$survivor"
log "$DOMAIN on instance $INSTANCE ($vaddr); idle"

n1=$(notify_count p1)
t0=$(date +%s%N)
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null
pbx park '*00' call-2 4930222 'Bob Jones' >/dev/null

# the phone refreshes 8 s after its last NOTIFY; 481 from the proxy,
# a new SUBSCRIBE, the dead instance marked, the survivor: true lamp
lit() { last_matches p1 '<state>confirmed</state>' &&
	[ "$(last_callers p1)" = "4930222 Bob Jones" ]; }
wait_for 40 lit || fail "p1 not lit 40 s after the kill: $(last_notify p1)"
log "p1 lit with Bob $(ms_since "$t0") ms after the kill"
never_idle_after p1 "$n1" "while Bob waits (after the kill)"

grep -q "DS SUBSCRIBE lost with sip:park-1@$vaddr" "$T/kam.log" ||
	fail "the refresh was not answered by the proxy's failure route"
grep -q '^SIP/2.0 481' "$T/p1.msg" || fail "p1 got no 481"
grep -q "DS sip:$vaddr did not answer SUBSCRIBE in time" \
	"$T/kam.log" && grep -q "DS SUBSCRIBE retried at sip:$saddr" \
	"$T/kam.log" || fail "the new SUBSCRIBE was not moved on:" \
		"$(grep ' DS ' "$T/kam.log" | tail -n 5)"
grep -q 'DS instance down' "$T/kam.log" &&
	fail "a probe saw the death: this test is about the ones that do not"
log "refresh: 481 from the proxy; new SUBSCRIBE: relayed to $survivor" \
	"after $INSTANCE did not answer"

pbx retrieve '*00' >/dev/null
expect_last p1 '<state>terminated</state>'
log "retrieved: dark"
