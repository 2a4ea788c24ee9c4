# upstream_auth_user: the PBX's digest challenge is answered with the
# authentication ID while the From user stays upstream_user (3CX: an
# extension's auth ID is not its number).  Without the key the
# extension number is the digest user, as before.
. "$(dirname "$0")/lib.sh"

# the fake PBX takes only the auth ID
start_fakepbx -u Kx7yQ2pB -v
write_config "upstream_auth_user Kx7yQ2pB"
start_parkblf

grep -q '^Authorization: Digest .*username="Kx7yQ2pB"' "$T/fakepbx.log" ||
	fail "digest user is not the auth ID: $(grep -i '^Authorization' "$T/fakepbx.log")"
grep -q '^From: .*<sip:9999@127.0.0.1' "$T/fakepbx.log" ||
	fail "From is not the extension: $(grep '^From' "$T/fakepbx.log")"
grep -q 'username="9999"' "$T/fakepbx.log" && fail "the number was tried"
log "digest username is the auth ID, From stays the extension; link up"

# the park state flows over that subscription
start_phone alice park-1
wait_for 10 grep -q "<state>terminated</state>" "$T/alice.msg" ||
	fail "no state for the phone"
pbx park '*00' c1 +4930111 Alice >/dev/null
wait_for 10 grep -q "<state>confirmed</state>" "$T/alice.msg" ||
	fail "park not shown"
log "a park reaches the phone"

# a wrong auth ID: refused, logged with the name that was used
kill -TERM "$PB_PID"; wait "$PB_PID"
DAEMONS=("$PBX_PID:fakepbx")
: >"$T/parkblf.log"
write_config "upstream_auth_user 9999"
"$BUILD/parkblf" -f "$T/parkblf.conf" >>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "the PBX refused the credentials of '9999'" \
	"$T/parkblf.log" || fail "no refusal logged"
log "wrong auth ID: refused and logged by name"
