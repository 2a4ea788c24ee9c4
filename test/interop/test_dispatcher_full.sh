# A full instance behind Kamailio's dispatcher: the instances allow 2
# subscriptions in all (subscribe_max_total 2).  Five phones subscribe
# to tenant a through the proxy: the first two fill the instance the
# tenant hashes to; the third and fourth get "503 Server Full" from it,
# which the shipped recipe (conf/kamailio/kamailio.cfg) retries at the
# other instance, not marking the full one down, so they get 200 from
# there; the fifth finds both full and gets the 503 with parkblf's
# Retry-After.  (A phone over its own limit is not moved:
# test_dispatcher_limits.)
. "$(dirname "$0")/lib.sh"

INSTANCE_CONF="subscribe_max_total 2"
. "$INTEROP/dispatch.sh"
dispatch_setup 1
wait_for 10 probed "$PID_x" && wait_for 10 probed "$PID_y" ||
	fail "the instances did not answer Kamailio's OPTIONS probes 200"

subscribe 127.0.0.31 park-1 200 CSeq: SUBSCRIBE
subscribe 127.0.0.32 park-2 200 CSeq: SUBSCRIBE
instance_of "$DOMAIN"
full=$INSTANCE
other=x
[ "$full" = x ] && other=y
log "tenant a hashes to instance $full: 2 subscriptions there"

subscribe 127.0.0.33 park-1 200 CSeq: SUBSCRIBE
subscribe 127.0.0.34 park-2 200 CSeq: SUBSCRIBE
[ "$(grep -c "refused: 2 subscriptions (subscribe_max_total)" \
	"$T/parkblf-$full.log")" -eq 2 ] ||
	fail "instance $full did not refuse the 3rd and 4th as full:" \
		"$(grep refused "$T/parkblf-$full.log")"
[ "$(grep -c "DS SUBSCRIBE retried at sip:" "$T/kam.log")" -eq 2 ] ||
	fail "Kamailio did not retry both at the other instance:" \
		"$(grep ' DS ' "$T/kam.log" | tail -n 4)"
grep -q "refused" "$T/parkblf-$other.log" &&
	fail "instance $other refused: $(grep refused "$T/parkblf-$other.log")"
log "the 3rd and 4th: 503 Server Full from $full, 200 from $other"

subscribe 127.0.0.35 park-1 503 Retry-After: '^ *60$'
grep -q '^SIP/2.0 503 Server Full' "$T/sub-127.0.0.35.msg" ||
	fail "the last 503 lost parkblf's reason:" \
		"$(grep '^SIP/2.0' "$T/sub-127.0.0.35.msg")"
grep -q "marked d" "$T/kam.log" &&
	fail "a full instance was marked down:" \
		"$(grep ' DS ' "$T/kam.log" | tail -n 3)"
log "the 5th: both full, 503 Server Full with Retry-After 60; no" \
	"instance marked down"
