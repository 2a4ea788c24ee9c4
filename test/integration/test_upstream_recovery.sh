# The upstream subscription is dropped by the PBX, the orbit changes
# while parkblf is not subscribed, and parkblf comes back by itself:
# the phone's lamp shows the PBX's state right after.  Then the PBX
# refuses for a while (503) and the same holds once it accepts again.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

start_phone a park-1 QUIET_MS=30000
expect_last a '<state>terminated</state>'
pbx park '*00' call-1 100 Alice >/dev/null
expect_last a '>sip:100@'

# 1. dropped with reason=deactivated; the state changes meanwhile
pbx refuse 503 >/dev/null
pbx terminate deactivated >/dev/null
pbx retrieve '*00' call-1 >/dev/null
pbx park '*00' call-2 200 Bob >/dev/null
wait_for 10 grep -q "link up -> down: terminated by the PBX" \
	"$T/parkblf.log" || fail "drop not noticed"
pbx accept >/dev/null
wait_upstream_up 2
expect_last a '>sip:200@'
[ "$(last_callers a)" = "200 Bob" ] || fail "after recovery: $(last_callers a)"
log "dropped, changed while down, recovered: lamp shows Bob"

# 2. refused (503) for a while, then accepted; idle in between
pbx refuse 503 >/dev/null
pbx terminate timeout >/dev/null
wait_for 10 log_count_ge 2 'link up -> down' ||
	fail "second drop not noticed"
pbx retrieve '*00' >/dev/null
sleep 3   # several retries meet the 503
wait_for 5 grep -q "SUBSCRIBE got 503" "$T/parkblf.log" ||
	fail "no retry while refused"
pbx accept >/dev/null
wait_upstream_up 3
expect_last a '<state>terminated</state>'
log "refused with 503, then accepted: lamp idle as the PBX says"

# exactly one link-down line per outage, not one per retry
[ "$(grep -c 'link .* -> down' "$T/parkblf.log")" -eq 2 ] ||
	fail "link state logged per retry"

kill -TERM "$PHONE_a"
