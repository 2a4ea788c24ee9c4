# Restarts lose nothing: phones subscribed, parkblf killed with SIGKILL,
# an orbit changes while it is down, parkblf restarted on the same
# port: each phone gets the new state on its existing dialog without
# re-subscribing, with CSeq and version going up.  The same after a
# graceful stop.  A phone watching an orbit removed while parkblf was
# down is told (noresource).  A corrupt database is set aside, never
# fatal.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db"
# the same port again after a restart: the phones' dialogs point there.
# Not one the OS picked: another socket may take an ephemeral port
# while parkblf is down ("Address already in use" on restart).
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf

start_phone p1 park-1 QUIET_MS=10000
start_phone p2 park-2 QUIET_MS=10000
expect_last p1 '<state>terminated</state>'
expect_last p2 '<state>terminated</state>'
pbx park '*00' call-1 100 Alice >/dev/null
expect_last p1 '>sip:100@'
sleep 1.5   # versions are saved once a second

# max_cseq NAME: the highest CSeq of a NOTIFY NAME received
max_cseq() {
	sed -n 's/^CSeq: \([0-9]*\) NOTIFY.*/\1/p' "$T/$1.msg" |
		sort -n | tail -n 1
}
# last_version NAME
last_version() {
	last_notify "$1" | sed -n 's/.*<dialog-info [^>]*version="\([0-9]*\)".*/\1/p'
}
c1=$(max_cseq p1)
v1=$(last_version p1)

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
pbx retrieve '*00' >/dev/null
pbx park '*01' call-2 200 Bob >/dev/null
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 2 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "subscriptions not reloaded"
expect_last p1 '<state>terminated</state>'
expect_last p2 '>sip:200@'
[ "$(last_callers p2)" = "200 Bob" ] || fail "p2: $(last_callers p2)"
c2=$(max_cseq p1)
v2=$(last_version p1)
[ "$c2" -gt "$c1" ] || fail "CSeq went from $c1 to $c2"
[ "$v2" -gt "$v1" ] || fail "version went from $v1 to $v2"
n=$(grep -c "^SUBSCRIBE" "$T/p1.msg")
[ "$n" -eq 1 ] || fail "p1 sent $n SUBSCRIBEs"
log "SIGKILL, change while down, restart: p1 idle, p2 Bob, no re-SUBSCRIBE"
log "(CSeq $c1 -> $c2, version $v1 -> $v2)"

# killed again at once, before this run saved a NOTIFY's CSeq: the
# next run still goes above (the resume itself saved the raised CSeq),
# not back to this run's CSeq, which a phone would refuse
kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
n1=$(grep -c '^NOTIFY ' "$T/p1.msg")
: >"$T/parkblf.log"
start_parkblf
wait_for 10 eval '[ "$(grep -c "^NOTIFY " "$T/p1.msg")" -gt "$n1" ]' ||
	fail "p1: no NOTIFY after the second restart"
c3=$(sed -n 's/^CSeq: \([0-9]*\) NOTIFY.*/\1/p' "$T/p1.msg" | tail -n 1)
v3=$(last_version p1)
[ "$c3" -gt "$c2" ] || fail "CSeq after two quick restarts: $c2 -> $c3"
[ "$v3" -gt "$v2" ] || fail "version after two quick restarts: $v2 -> $v3"
log "SIGKILL right after a resume, restart: CSeq $c2 -> $c3, version" \
	"$v2 -> $v3"

# a graceful stop keeps them too; later changes still arrive
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
grep -q "terminated" <(last_notify p2) && fail "phone told terminated"
pbx retrieve '*01' >/dev/null
: >"$T/parkblf.log"
start_parkblf
expect_last p2 '<state>terminated</state>'
pbx park '*00' call-3 300 Carol >/dev/null
expect_last p1 '>sip:300@'
log "SIGTERM and start: still subscribed, later changes arrive"

# the phone's un-SUBSCRIBE on a resumed dialog: 200 + terminated NOTIFY
phone_done p1
phone_done p2
log "un-SUBSCRIBE of resumed dialogs answered (sipp checks it)"

# an orbit gone from the map while parkblf was down: its subscription
# is told so at the restart (terminated, noresource) and not resumed
start_phone p4 park-3 QUIET_MS=30000
expect_last p4 '<dialog-info'
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
sed -i '/^park-3 /d' "$T/orbits.conf"
: >"$T/parkblf.log"
start_parkblf
wait_for 10 grep -q "Subscription-State: terminated;reason=noresource" \
	"$T/p4.msg" || fail "p4 not told that park-3 is gone"
grep -q "resume: .* park-3 is no longer served" "$T/parkblf.log" ||
	fail "the dropped subscription is not logged"
kill "$PHONE_p4" 2>/dev/null
log "orbit removed while down: its phone told (noresource)"

kill -TERM "$PB_PID"
wait "$PB_PID"
echo "garbage, not a database" >"$T/state.db"
: >"$T/parkblf.log"
start_parkblf
grep -q "persist: .*state.db: .*setting it aside" "$T/parkblf.log" ||
	fail "corrupt database not reported"
[ -f "$T/state.db.corrupt" ] || fail "corrupt database not set aside"
start_phone p3 park-1 QUIET_MS=2000
expect_last p3 '>sip:300@'
phone_done p3
log "corrupt database: reported, set aside, parkblf serves"
