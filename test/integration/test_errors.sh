# Every refusal a phone can get, with the header that goes with it.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "subscribe_min_expires 120" "subscribe_max_per_source 2"
start_parkblf

ev=$'Event: dialog\nAccept: application/dialog-info+xml\nExpires: 600'

expect_refusal park-9 404 "Via:" "SIP" "$ev"
log "unknown orbit: 404"

expect_refusal park-1 489 "Allow-Events:" "dialog" \
	$'Event: message-summary\nExpires: 600'
log "other event package: 489 with Allow-Events: dialog"

expect_refusal park-1 406 "Accept:" "application/dialog-info\+xml" \
	$'Event: dialog\nAccept: application/pidf+xml\nExpires: 600'
log "unacceptable Accept: 406 with Accept"

expect_refusal park-1 423 "Min-Expires:" "120" \
	$'Event: dialog\nExpires: 30'
log "Expires below the minimum: 423 with Min-Expires: 120"

expect_refusal park-1 400 "Via:" "SIP" $'Expires: 600'
log "no Event header: 400"

# Accept lists and wildcards that do include dialog-info are fine
start_phone ok park-1 \
	"ACCEPT=application/pidf+xml, application/dialog-info+xml"
expect_last ok '<state>terminated</state>'
phone_done ok
log "Accept list with dialog-info: 200"

# over subscribe_max_per_source (2 here; all phones are 127.0.0.1)
start_phone x1 park-1 QUIET_MS=3000
start_phone x2 park-2 QUIET_MS=3000
expect_last x1 '<state>terminated</state>'
expect_last x2 '<state>terminated</state>'
expect_refusal park-3 503 "Retry-After:" "60" "$ev"
phone_done x1
phone_done x2
log "a third subscription from one address: 503 with Retry-After: 60"

# The upstream link has a SIP stack and port of its own (a storm of
# phones' SUBSCRIBEs must not delay the PBX's NOTIFYs): the PBX sees
# the SUBSCRIBE come from there, and phones that try it are refused
up_port=$(sed -n 's/.*sip: upstream link on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log" | tail -n 1)
[ -n "$up_port" ] && [ "$up_port" != "$PB_PORT" ] ||
	fail "no upstream link port of its own: '$up_port'"
grep -q "SUBSCRIBE sip:any-dn@.* from 127.0.0.1:$up_port " \
	"$T/fakepbx.log" || fail "the upstream SUBSCRIBE is not from $up_port"
phones_port=$PB_PORT
PB_PORT=$up_port
expect_refusal park-1 403 "Via:" "SIP" "$ev"
expect_response OPTIONS park-1 200 "Via:" "SIP" ""
PB_PORT=$phones_port
log "upstream link on its own port $up_port: SUBSCRIBE 403, OPTIONS 200"

# the daemon is still serving
kill -0 "$PB_PID" || fail "parkblf died"
