# The vendor XML decoder, configured only through the config: the fake
# PBX sends a captured-style body of a type no built-in decoder knows,
# and the phone sees the caller the XPath keys pick out.
. "$(dirname "$0")/lib.sh"

start_fakepbx -v
mapfile -t keys < <(grep '^vendor_xml' "$SRC/test/fixtures/vendor-3cx.conf" |
	tr -s '\t' ' ')
write_config "${keys[@]}"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" >/dev/null ||
	fail "vendor keys refused by -t"
start_parkblf

grep -q "^Accept: .*application/x-3cx-dn+xml" "$T/fakepbx.log" ||
	fail "the SUBSCRIBE does not offer the vendor type"
log "the upstream SUBSCRIBE offers application/x-3cx-dn+xml"

start_phone a park-1 QUIET_MS=6000
expect_last a '<state>terminated</state>'
pbx raw application/x-3cx-dn+xml "$SRC/test/fixtures/vendor-3cx.xml" \
	>/dev/null
expect_last a '<state>confirmed</state>'
[ "$(last_callers a)" = "+4930111 Alice &amp; Co" ] ||
	fail "vendor body: caller '$(last_callers a)'"
log "vendor XML body: park-1 lit with Alice & Co (+4930111), the oldest"

phone_done a
