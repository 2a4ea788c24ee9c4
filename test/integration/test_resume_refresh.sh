# A phone's refresh right after a restart, before the PBX has reported
# again (silent): 200, but no NOTIFY until the PBX's picture is
# complete, for a single key and a BLF list: an orbit the PBX has not
# reported yet must not be shown idle while a call is parked there
# (SPEC: while the upstream state is unknown, no lamp may claim idle).
# Once the PBX reports, the resumed dialogs get the parked call.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db" "blf_list parks"
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf
pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null

# each refreshes 8 s in, on its dialog, once parkblf runs again
PHONE="$SRC/test/integration/natphone.py"
NATPHONE_REFRESH=8 "$PYTHON" "$PHONE" udp 127.0.0.1 "$PB_PORT" watch 40 \
	>"$T/key.out" 2>&1 &
PIDS+=($!)
NATPHONE_REFRESH=8 NATPHONE_LIST=parks NATPHONE_ID=l "$PYTHON" "$PHONE" \
	udp 127.0.0.1 "$PB_PORT" watch 40 >"$T/list.out" 2>&1 &
PIDS+=($!)
has() { grep -q "$2" "$T/$1.out"; }
wait_for 10 has key "BODY .*<state>confirmed</state>.*4930111" ||
	fail "key: no parked call: $(cat "$T/key.out")"
wait_for 10 has list 'BODY .*fullState="true".*4930111' ||
	fail "list: no parked call: $(cat "$T/list.out")"
sleep 1.5   # versions are saved once a second
log "a key and a list see the call parked on park-1"

# SIGKILL; the PBX says nothing when parkblf comes back
kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
pbx silent on >/dev/null
: >"$T/parkblf.log"
${PARKBLF_WRAP:-} "$BUILD/parkblf" -f "$T/parkblf.conf" \
	>>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "resume: 2 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "subscriptions not reloaded"
nkey=$(grep -c '^BODY' "$T/key.out")
nlist=$(grep -c '^BODY' "$T/list.out")

wait_for 15 has key '^REFRESHED' || fail "key: no 200 to its refresh"
wait_for 15 has list '^REFRESHED' || fail "list: no 200 to its refresh"
sleep 2
[ "$(grep -c '^BODY' "$T/key.out")" -eq "$nkey" ] ||
	fail "key: a NOTIFY before the PBX reported:" \
		"$(tail -n 1 "$T/key.out")"
[ "$(grep -c '^BODY' "$T/list.out")" -eq "$nlist" ] ||
	fail "list: a NOTIFY before the PBX reported:" \
		"$(tail -n 1 "$T/list.out")"
log "refreshed while the PBX is silent: 200, no NOTIFY (no idle lamp)"

# the PBX reports: the truth on the resumed dialogs
pbx silent off >/dev/null
wait_for 30 eval '[ "$(grep -c "^BODY" "$T/key.out")" -gt "$nkey" ]' ||
	fail "key: no NOTIFY once the PBX reported"
tail -n 1 "$T/key.out" | grep -q "<state>confirmed</state>.*4930111" ||
	fail "key: not the parked call: $(tail -n 1 "$T/key.out")"
wait_for 10 eval '[ "$(grep -c "^BODY" "$T/list.out")" -gt "$nlist" ]' ||
	fail "list: no NOTIFY once the PBX reported"
grep '^BODY' "$T/list.out" | tail -n 1 | grep -q 'fullState="true".*4930111' ||
	fail "list: not the parked call: $(tail -n 1 "$T/list.out")"
[ "$(grep -c '^TAG ' "$T/key.out")" -eq 1 ] || fail "key subscribed again"
log "the PBX back: key and list get the parked call on their dialogs"
