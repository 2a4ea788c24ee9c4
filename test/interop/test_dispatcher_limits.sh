# Per-phone limits behind Kamailio's dispatcher: the instances list the
# proxy in trusted_proxies (the shipped recipe, test/interop/dispatch.sh)
# and allow 3 subscriptions per phone.  Three phones (127.0.0.21, .22,
# .23) subscribe to tenant a through the proxy: .21 is refused its 4th,
# with 503 and Retry-After as parkblf said it (Kamailio's route
# REFUSED: tm alone would pass a 500 without Retry-After, RFC 3261
# 16.7), and is not sent on to the other instance (which would double
# its limit); .22 and .23 still get theirs, and the instance the tenant
# hashes to stays in the set.
. "$(dirname "$0")/lib.sh"

INSTANCE_CONF="subscribe_max_per_source 3"
. "$INTEROP/dispatch.sh"
dispatch_setup 1

for p in 127.0.0.21 127.0.0.22 127.0.0.23; do
	subscribe $p park-1 200 CSeq: SUBSCRIBE
	subscribe $p park-2 200 CSeq: SUBSCRIBE
done
subscribe 127.0.0.21 park-1 200 CSeq: SUBSCRIBE
subscribe 127.0.0.21 park-2 503 Retry-After: '^ *60$'
grep -q '^SIP/2.0 503 Too Many Subscriptions' "$T/sub-127.0.0.21.msg" ||
	fail "the 503 lost parkblf's reason:" \
		"$(grep '^SIP/2.0' "$T/sub-127.0.0.21.msg")"
# the others are not refused
subscribe 127.0.0.22 park-1 200 CSeq: SUBSCRIBE
subscribe 127.0.0.23 park-1 200 CSeq: SUBSCRIBE

instance_of "$DOMAIN"
grep -q "SUBSCRIBE from 127.0.0.21:[0-9]* refused: over" \
	"$T/parkblf-$INSTANCE.log" ||
	fail "instance $INSTANCE's refusal does not name the phone"
n=$(grep -c "refused: over" "$T/parkblf-$INSTANCE.log")
[ "$n" -eq 1 ] || fail "instance $INSTANCE refused $n SUBSCRIBEs, want 1"
# the refusal stayed with the phone's instance: not retried elsewhere,
# the instance not marked down
grep -Eq "DS (SUBSCRIBE retried|.* marked d)" "$T/kam.log" &&
	fail "Kamailio moved the refused SUBSCRIBE:" \
		"$(grep ' DS ' "$T/kam.log" | tail -n 3)"
log "127.0.0.21's 4th: 503 Retry-After 60 from instance $INSTANCE, not" \
	"retried elsewhere; .22 and .23 not refused"
kam_errors kam && fail "Kamailio logged errors"
true
