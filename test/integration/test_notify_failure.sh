# A phone that answers NOTIFY with 481 has forgotten the subscription:
# parkblf ends it, and a later change goes to nobody, without harm.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

start_phone gone park-1 NOTIFY_CODE=481 QUIET_MS=3000
wait_for 10 grep -q "park-1 from .* ended: NOTIFY got 481" \
	"$T/parkblf.log" || fail "subscription not ended on 481"
log "NOTIFY answered 481: subscription ended"

pbx park '*00' call-1 100 Alice >/dev/null
sleep 1
[ "$(notify_count gone)" -eq 1 ] ||
	fail "NOTIFY sent after the 481: $(notify_count gone)"

# a healthy phone still works
start_phone ok park-1
expect_last ok '<state>confirmed</state>'
phone_done ok
log "other phones unaffected"
