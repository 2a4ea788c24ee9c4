# One orbit through its life: a phone on park-1 sees idle, then the
# parked caller (number and name), then idle again, as the PBX parks
# and retrieves a call in *00.  A second phone on park-1 sees every
# change too; a phone on park-2 sees none of park-1's.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

start_phone a park-1
start_phone b park-1
start_phone other park-2
expect_last a 'version="0"'
expect_last a '<state>terminated</state>'
expect_last b '<state>terminated</state>'
expect_last other 'entity="sip:park-2@127.0.0.1:[0-9]+".*<state>terminated'
log "idle seen by a, b and other"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
expect_last a '<state>confirmed</state>'
expect_last b '<state>confirmed</state>'
[ "$(last_callers a)" = "4930111 Alice Smith" ] ||
	fail "a: caller is '$(last_callers a)'"
[ "$(last_callers b)" = "4930111 Alice Smith" ] ||
	fail "b: caller is '$(last_callers b)'"
last_matches a 'version="1"' || fail "a: version not 1: $(last_notify a)"
last_matches a '<target uri="sip:\*10@127.0.0.1:[0-9]+"/>' ||
	fail "a: no retrieve target: $(last_notify a)"
last_matches a 'display="Orbit 0">sip:park-1@' ||
	fail "a: no orbit label: $(last_notify a)"
log "parked call seen with caller and retrieve target"

pbx retrieve '*00' >/dev/null
expect_last a '<state>terminated</state>'
expect_last b '<state>terminated</state>'
last_matches a 'version="2"' || fail "a: version not 2: $(last_notify a)"
log "idle again after the retrieve"

# park-2's watcher got only its first document
[ "$(notify_count other)" -eq 1 ] ||
	fail "other got $(notify_count other) NOTIFYs for park-1 changes"

phone_done a
phone_done b
phone_done other
# the un-SUBSCRIBE's final NOTIFY (checked by sipp: terminated)
[ "$(notify_count a)" -eq 4 ] || fail "a got $(notify_count a) NOTIFYs"
log "un-SUBSCRIBE answered with a terminated NOTIFY"
