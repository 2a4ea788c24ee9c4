# A resource list server ends its subscription to one orbit's DN for
# good (RFC 4662 5.2: <instance state="terminated" reason="noresource">):
# that orbit's state is unknown, so parkblf treats it as it treats every
# orbit while the PBX is unreachable: no lamp may claim idle, none may
# stay lit.  Its phones' subscriptions end (deactivated), a new
# SUBSCRIBE gets 503 with Retry-After, /status says unknown; the other
# orbits carry on; a BLF list shows the orbit as a pending instance
# without a part (neither idle nor lit).  When the PBX reports the DN
# again, phones get its state, the call still parked with its original
# time.
. "$(dirname "$0")/lib.sh"

start_fakepbx -f rlmi
write_config "http_listen 127.0.0.1:0" "unknown_retry_after 7" \
	"blf_list parks"
start_parkblf
PB_PORT=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log" | head -n 1)
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")

# rlmi NAME RESOURCE...: a partial RLMI list of the RESOURCEs (as XML),
# parts from the files $T/NAME.part* appended; sent by the fake PBX
rlmi() {
	local name=$1 p
	shift
	{
		printf '%s\r\n' '--b1' \
			'Content-Type: application/rlmi+xml' '' \
			'<list xmlns="urn:ietf:params:xml:ns:rlmi"' \
			' uri="sip:any-dn@h" version="1" fullState="false">' \
			"$@" '</list>'
		for p in "$T/$name".part*; do
			[ -f "$p" ] && printf '%s\r\n' '--b1' && cat "$p"
		done
		printf '%s\r\n' '--b1--'
	} >"$T/$name.multipart"
	pbx raw 'multipart/related;type="application/rlmi+xml";boundary=b1' \
		"$T/$name.multipart" >/dev/null
}

# a part: the dialog state of *00 with Alice parked, document VERSION
alice_part() {
	printf '%s\r\n' 'Content-ID: <p0@h>' \
		'Content-Type: application/dialog-info+xml' '' \
		'<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info"' \
		" version=\"$1\" state=\"full\" entity=\"sip:*00@h\">" \
		'<dialog id="c1"><state>confirmed</state><remote>' \
		'<identity display="Alice">sip:100@h</identity></remote>' \
		'</dialog></dialog-info>' >"$2"
}

status() {
	curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/status" ||
		fail "GET /status failed"
}

start_phone a park-1 QUIET_MS=60000
start_phone b park-2 QUIET_MS=25000
start_phone l parks QUIET_MS=25000 "EXTRA_HEADERS=Supported: eventlist" \
	"ACCEPT=multipart/related, application/rlmi+xml, \
application/dialog-info+xml"
expect_last a '<state>terminated</state>'
expect_last b '<state>terminated</state>'
expect_last l 'fullState="true"'

alice_part 5 "$T/lit.part0"
rlmi lit '<resource uri="sip:*00@h"><instance id="i0" state="active"
 cid="p0@h"/></resource>'
expect_last a '<state>confirmed</state>'
[ "$(last_callers a)" = "100 Alice" ] ||
	fail "caller: '$(last_callers a)'"
lit_at=$(date +%s)
log "park-1 lit: 100 Alice"

# the list server ends its subscription to *00
sleep 3
nb=$(notify_count b)
rlmi ended '<resource uri="sip:*00@h"><instance id="i0" state="terminated"
 reason="noresource"/></resource>'
wait_for 10 grep -q "Subscription-State: terminated;reason=deactivated" \
	"$T/a.msg" || fail "park-1's subscription not ended: $(last_notify a)"
# after its first (idle) NOTIFY, park-1 never claimed idle
never_idle_after a 1 "when its state became unknown"
expect_refusal park-1 503 "Retry-After:" "7" $'Event: dialog\nExpires: 600'
status | grep -q '"name":"park-1",[^}]*"occupied":false,"unknown":true,"calls":\[\]' ||
	fail "/status does not say park-1 is unknown: $(status)"
[ "$(notify_count b)" -eq "$nb" ] ||
	fail "park-2 changed: $(last_notify b)"
start_phone c park-2 QUIET_MS=1000
expect_last c '<state>terminated</state>'
phone_done c
# the list: park-1 pending, no part for it
expect_last l '<instance id="park-1" state="pending"/>'
last_notify l | grep -q 'entity="sip:park-1@' &&
	fail "the list still carries a park-1 document: $(last_notify l)"
log "*00 ended upstream: park-1 ended (deactivated), 503 + Retry-After: 7,"
log "/status unknown, the BLF list shows park-1 pending; park-2 untouched"

# the PBX reports *00 again, versions starting over: Alice still there
alice_part 0 "$T/back.part0"
rlmi back '<resource uri="sip:*00@h"><instance id="i9" state="active"
 cid="p0@h"/></resource>'
wait_for 10 eval 'status | grep -q "\"name\":\"park-1\",[^}]*\"occupied\":true"' ||
	fail "park-1 not back: $(status)"
expect_last l 'entity="sip:park-1@[^>]*>.*display="Alice"'
expect_parked_since d park-1 "100 Alice" "$lit_at"
log "*00 back: park-1 lit again, 100 Alice, parked $DURATION s (not" \
	"re-timed)"

kill -TERM "$PHONE_a"
phone_done b
phone_done l
