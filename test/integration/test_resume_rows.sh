# Rows read back from state_db are not trusted (issue 12, finding 5):
# a row whose expiry is not a time, or whose transport parkblf does not
# speak, is dropped with a log line; an expiry beyond
# subscribe_max_expires is capped; resumed subscriptions count against
# subscribe_max_per_source like new ones (a restart hands no source a
# fresh allowance).
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db" "subscribe_max_per_source 2" \
	"subscribe_max_expires 600" "subscribe_default_expires 600"
start_parkblf       # creates the database
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"

now=$(( $(date +%s) * 1000 ))
hour=$(( now + 3600000 ))
# row CALLID HOST EXPIRES_AT TP: a phone subscription to park-1
row() {
	echo "INSERT INTO subs (callid, rtag, ltag, local, remote, target," \
		"orbit, event, entity, expires_at, cseq, version, tp) VALUES" \
		"('$1', 'tag-$1', '00000000000000a1', 'sip:park-1@127.0.0.1'," \
		"'sip:201@$2', 'sip:201@$2:5099', 'park-1', 'dialog'," \
		"'sip:park-1@127.0.0.1', $3, 0, 1, $4);"
}
{
	row neg 127.0.0.8 -1 0
	row far 127.0.0.8 $(( now + 10 * 365 * 86400000 )) 0
	row badtp 127.0.0.8 $hour 99
	row src1 127.0.0.9 $hour 0
	row src2 127.0.0.9 $hour 0
	row src3 127.0.0.9 $hour 0
} | sqlite3 "$T/state.db" || fail "sqlite3"

: >"$T/parkblf.log"
start_parkblf
grep -q "resume: Call-ID neg: .*expires_at.*dropped" "$T/parkblf.log" ||
	fail "negative expires_at not refused"
grep -q "resume: Call-ID badtp: .*transport 99.*dropped" "$T/parkblf.log" ||
	fail "transport 99 not refused"
grep -q "resume: Call-ID far: expiry capped at subscribe_max_expires" \
	"$T/parkblf.log" || fail "far expiry not capped"
grep -q "resume: Call-ID src3: .*subscribe_max_per_source.*dropped" \
	"$T/parkblf.log" || fail "a third subscription from 127.0.0.9 resumed"
grep -q "resume: 3 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "not 3 resumed: $(grep resume: "$T/parkblf.log")"
log "negative expiry and transport 99 dropped; far expiry capped; the" \
	"third of one source refused"

kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
rows=$(sqlite3 "$T/state.db" "SELECT callid FROM subs ORDER BY callid" |
	tr '\n' ' ')
[ "$rows" = "far src1 src2 " ] || fail "rows left: $rows"
far=$(sqlite3 "$T/state.db" "SELECT expires_at FROM subs WHERE callid='far'")
[ "$far" -le $(( ($(date +%s) + 1) * 1000 + 600000 )) ] ||
	fail "far still expires at $far"
log "the database keeps far (capped: $far), src1, src2"
