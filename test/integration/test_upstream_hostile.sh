# Broken and hostile upstream bodies change nothing: the lamp keeps the
# true state, parkblf answers with an error and logs it, and the next
# good NOTIFY is applied.  Also: the SUBSCRIBE offers the broad Accept
# list and eventlist, and the capture switch records every NOTIFY.
. "$(dirname "$0")/lib.sh"

start_fakepbx -v
write_config "upstream_capture capture.txt"
start_parkblf

grep -q "^Supported: eventlist" "$T/fakepbx.log" ||
	fail "SUBSCRIBE without Supported: eventlist"
grep -Eq "^Accept: application/dialog-info\+xml, multipart/related, \
application/rlmi\+xml" "$T/fakepbx.log" || fail "SUBSCRIBE Accept list"
log "SUBSCRIBE: Accept list and Supported: eventlist"

start_phone a park-1 QUIET_MS=20000
expect_last a '<state>terminated</state>'
pbx park '*00' call-1 100 Alice >/dev/null
expect_last a '>sip:100@'
n=$(notify_count a)

for kind in badxml xxe bomb wrongtype wrongns; do
	pbx garbage "$kind" '*00' >/dev/null
done
wait_for 10 log_count_ge 5 'upstream: (malformed|NOTIFY (with|body))' ||
	fail "broken bodies not all reported"
grep -q "NOTIFY body with a DTD refused" "$T/parkblf.log" ||
	fail "DTD not refused"
grep -q "unsupported Content-Type text/plain" "$T/parkblf.log" ||
	fail "text/plain not refused"
[ "$(notify_count a)" -eq "$n" ] || fail "a broken body reached the phone"
last_matches a '>sip:100@' || fail "lamp changed: $(last_notify a)"
grep -q "root:" "$T/parkblf.log" && fail "an external entity was read"
log "badxml, xxe, bomb, wrongtype, wrongns: refused, lamp unchanged"

pbx retrieve '*00' >/dev/null
expect_last a '<state>terminated</state>'
log "the next good NOTIFY is applied"

grep -q "^=== parkblf capture" "$T/capture.txt" || fail "no capture"
grep -q '^Content-Type: text/plain' "$T/capture.txt" ||
	fail "capture lacks the text/plain NOTIFY"
grep -q 'ENTITY' "$T/capture.txt" || fail "capture lacks the raw xxe body"
[ "$(grep -c '^NOTIFY sip:' "$T/capture.txt")" -ge 18 ] ||
	fail "capture lacks NOTIFYs"
log "capture: every NOTIFY, headers and raw body"
kill -TERM "$PHONE_a"
