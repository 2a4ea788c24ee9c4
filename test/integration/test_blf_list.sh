# BLF lists (RFC 4662): one subscription to the list name covers every
# orbit.  Full state first (RLMI fullState="true", a dialog-info part
# per orbit), then only the orbit that changed.  Without Supported:
# eventlist: 421.
. "$(dirname "$0")/lib.sh"

start_fakepbx
pbx park '*01' call-0 300 'Early Bird' >/dev/null
write_config "blf_list parks"
start_parkblf

expect_refusal parks 421 "Require:" "eventlist" \
	$'Event: dialog\nExpires: 600'
log "list without Supported: eventlist: 421"

# a list's parts are dialog-info: Event: presence is refused at once,
# not taken and then its refresh refused
expect_refusal parks 489 "Allow-Events:" "^ *dialog$" \
	$'Event: presence\nSupported: eventlist\nExpires: 600'
log "list with Event: presence: 489, Allow-Events: dialog"

start_phone l parks "EXTRA_HEADERS=Supported: eventlist" \
	"ACCEPT=multipart/related, application/rlmi+xml, \
application/dialog-info+xml"
expect_last l 'fullState="true"'
body=$(last_notify l)
for o in park-1 park-2 park-3; do
	echo "$body" | grep -q "<resource uri=\"sip:$o@127.0.0.1:$PB_PORT\">" ||
		fail "full state lacks $o: $body"
	echo "$body" | grep -q "entity=\"sip:$o@127.0.0.1:$PB_PORT\"" ||
		fail "no dialog-info part for $o"
done
echo "$body" | grep -q '<name>Orbit 1</name>' || fail "no label"
echo "$body" | grep -q 'display="Early Bird">sip:300@' ||
	fail "park-2's caller missing from the full state"
echo "$body" | grep -q 'version="0"' || fail "list version not 0"
log "full state: 3 resources, a dialog-info part each, park-2 busy"

pbx park '*00' call-1 100 Alice >/dev/null
expect_last l 'fullState="false"'
body=$(last_notify l)
[ "$(echo "$body" | grep -o '<resource ' | wc -l)" -eq 1 ] ||
	fail "partial list with more than the changed orbit: $body"
echo "$body" | grep -q "<resource uri=\"sip:park-1@" ||
	fail "changed orbit missing: $body"
echo "$body" | grep -q 'display="Alice">sip:100@' || fail "caller missing"
echo "$body" | grep -q '<list [^>]*version="1"' || fail "list version"
log "change: one resource (park-1) with the caller, list version 1"

# the multipart body is well-formed for our own RLMI decoder's rules:
# each part between boundaries, Content-ID matching the RLMI cid
echo "$body" | grep -q 'cid="park-1.1@parkblf"' || fail "cid"
echo "$body" | grep -q 'Content-ID: <park-1.1@parkblf>' ||
	fail "part Content-ID does not match the cid"

phone_done l
