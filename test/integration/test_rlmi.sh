# The PBX speaks RFC 4662 resource lists (multipart/related + RLMI):
# the full-state list at subscription, then partial lists per change.
. "$(dirname "$0")/lib.sh"

start_fakepbx -f rlmi
pbx park '*01' call-0 300 'Early Bird' >/dev/null
write_config
start_parkblf

start_phone a park-1
start_phone b park-2
expect_last a '<state>terminated</state>'
expect_last b '<state>confirmed</state>'
[ "$(last_callers b)" = "300 Early Bird" ] ||
	fail "initial full-state list not applied: '$(last_callers b)'"
log "full-state list: park-2 busy from the start, park-1 idle"

pbx park '*00' call-1 4930111 'Alice' >/dev/null
expect_last a '<state>confirmed</state>'
[ "$(last_callers a)" = "4930111 Alice" ] ||
	fail "caller: '$(last_callers a)'"
pbx retrieve '*01' >/dev/null
expect_last b '<state>terminated</state>'

# A full-state list as resource list servers send it first on a new
# subscription (Kamailio's rls): *00 listed without <instance>, its
# state unknown: park-1 stays lit with its caller; *01 named by
# %-escaped URIs (%2A01 is *01) with a call: park-2 shows it
n=$(notify_count a)
{
	printf '%s\r\n' '--b1' \
		'Content-Type: application/rlmi+xml' '' \
		'<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:any-dn@h"' \
		' version="90" fullState="true">' \
		'<resource uri="sip:*00@h"/>' \
		'<resource uri="sip:%2A01@h"><instance id="i1" state="active"' \
		' cid="p1@h"/></resource></list>' \
		'--b1' 'Content-ID: <p1@h>' \
		'Content-Type: application/dialog-info+xml' '' \
		'<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info"' \
		' version="1000" state="full" entity="sip:%2A01@h">' \
		'<dialog id="c9"><state>confirmed</state><remote>' \
		'<identity display="Carol">sip:555@h</identity></remote>' \
		'</dialog></dialog-info>' \
		'--b1--'
} >"$T/pending.multipart"
pbx raw 'multipart/related;type="application/rlmi+xml";boundary=b1' \
	"$T/pending.multipart" >/dev/null
expect_last b '<state>confirmed</state>'
[ "$(last_callers b)" = "555 Carol" ] ||
	fail "park-2 caller: '$(last_callers b)'"
sleep 1
[ "$(notify_count a)" -eq "$n" ] ||
	fail "park-1 changed on a pending resource: $(last_notify a)"
log "pending resource: park-1 still lit; %2A01 is *01: park-2 lit"

pbx retrieve '*00' >/dev/null
expect_last a '<state>terminated</state>'
grep -q "multipart" "$T/fakepbx.log" "$T/parkblf.log" 2>/dev/null ||
	log "(note: no multipart mention in logs)"
log "partial lists: park, retrieve on both orbits"

phone_done a
phone_done b
