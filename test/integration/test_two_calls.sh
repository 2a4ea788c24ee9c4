# Two calls in one orbit.  By default the key shows the oldest one (the
# one *10 retrieves); once it is retrieved, the second one shows.  With
# dialog_all_calls, both show, oldest first.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

start_phone a park-1
expect_last a '<state>terminated</state>'

pbx park '*00' call-1 101 Alice >/dev/null
expect_last a '<state>confirmed</state>'
pbx park '*00' call-2 102 Bob >/dev/null
# the PBX's second report must not move the key off the oldest call
# (-v says what changed: the orbit, its calls, the oldest caller)
two='app: park-1 (\*00): 2 call(s), the oldest 101 "Alice" waiting [0-9]* s$'
wait_for 5 grep -q "$two" "$T/parkblf.log" || fail "second park not seen"
sleep 0.5
[ "$(last_callers a)" = "101 Alice" ] ||
	fail "oldest call not shown: '$(last_callers a)'"
[ "$(last_states a)" = "confirmed " ] ||
	fail "more than one dialog by default: $(last_states a)"
log "two parked: the oldest (Alice) shows"

pbx retrieve '*00' >/dev/null
expect_last a '102'
[ "$(last_callers a)" = "102 Bob" ] ||
	fail "second call not shown after retrieve: '$(last_callers a)'"
grep -q 'app: park-1 (\*00): 1 call(s), the oldest 102 "Bob" waiting' \
	"$T/parkblf.log" || fail "no log line for the retrieve"
log "oldest retrieved: Bob shows"

pbx retrieve '*00' >/dev/null
expect_last a '<state>terminated</state>'
grep -q 'app: park-1 (\*00): idle$' "$T/parkblf.log" ||
	fail "no log line for the idle orbit"
phone_done a

# all-calls mode, on a fresh daemon
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
: >"$T/parkblf.log"
write_config "dialog_all_calls yes"
start_parkblf

start_phone all park-1
expect_last all '<state>terminated</state>'
pbx park '*00' call-3 201 Carol >/dev/null
pbx park '*00' call-4 202 Dave >/dev/null
expect_last all '202'
[ "$(last_callers all)" = "201 Carol|202 Dave" ] ||
	fail "all calls not in order: '$(last_callers all)'"
[ "$(last_states all)" = "confirmed confirmed " ] ||
	fail "states: $(last_states all)"
log "all-calls mode: Carol then Dave"
phone_done all
