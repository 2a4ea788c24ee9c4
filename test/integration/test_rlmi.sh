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
pbx retrieve '*00' >/dev/null
expect_last a '<state>terminated</state>'
grep -q "multipart" "$T/fakepbx.log" "$T/parkblf.log" 2>/dev/null ||
	log "(note: no multipart mention in logs)"
log "partial lists: park, retrieve on both orbits"

phone_done a
phone_done b
