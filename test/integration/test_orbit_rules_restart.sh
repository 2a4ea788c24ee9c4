# Discovered orbits across a restart (state_db): phones watch shared-5
# (made when the phone asked, the PBX never named SP5), shared-6 (made
# when the PBX reported SP6) and shared-7 (asked for, never named).
# parkblf is killed, SP5 gets a call while it is down; after the
# restart every phone is told on its existing dialog without
# re-subscribing: shared-5 lit (the PBX's first report makes it again),
# shared-6 lit, shared-7 idle (the resumed subscription makes it again
# by name), none ended with noresource.
. "$(dirname "$0")/lib.sh"

start_fakepbx
pbx park SP6 call-6 206 Frank >/dev/null
write_config "state_db state.db"
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
cat >"$T/orbits.conf" <<'EOM'
discover SP{x} shared-{x} label="Shared {x}"
EOM
start_parkblf

start_phone d5 shared-5 QUIET_MS=10000
start_phone d6 shared-6 QUIET_MS=10000
start_phone d7 shared-7 QUIET_MS=10000
expect_last d5 '<state>terminated</state>'
expect_last d6 '<state>confirmed</state>'
expect_last d7 '<state>terminated</state>'
sleep 1.5   # versions are saved once a second

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
pbx park SP5 call-5 205 Erin >/dev/null
: >"$T/parkblf.log"
start_parkblf
wait_for 10 grep -q "resume: 3 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "subscriptions not reloaded"
expect_last d5 '<state>confirmed</state>'
last_callers d5 | grep -q "205 Erin" || fail "d5: $(last_callers d5)"
expect_last d6 '<state>confirmed</state>'
wait_for 10 grep -q "a phone asked for shared-7: orbit of DN SP7" \
	"$T/parkblf.log" || fail "shared-7 not made again"
# d7_told: d7 has a NOTIFY from after the restart
d7_told() { [ "$(notify_count d7)" -ge 2 ]; }
wait_for 10 d7_told || fail "d7 not told after the restart"
expect_last d7 '<state>terminated</state>'
for p in d5 d6 d7; do
	grep -q "reason=noresource" "$T/$p.msg" &&
		fail "$p: ended with noresource"
	n=$(grep -c "^SUBSCRIBE" "$T/$p.msg")
	[ "$n" -eq 1 ] || fail "$p sent $n SUBSCRIBEs"
done
log "restart: shared-5 lit (Erin), shared-6 lit, shared-7 idle, no re-SUBSCRIBE"
