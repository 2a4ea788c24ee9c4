# subscribe_allow and digest authentication apply to every request, in
# a dialog or not (issue 12, finding 2): an un-SUBSCRIBE that replays a
# phone's Call-ID and tags from an address outside subscribe_allow gets
# 403, one without credentials gets 401, and the phone's subscription
# goes on (it is told of the next parked call).  On e9e1360 both got
# 200 and ended the phone's subscription.
. "$(dirname "$0")/lib.sh"

# replay NAME SRC_IP [TO_TAG]: an un-SUBSCRIBE of phone NAME's dialog
# from SRC_IP; prints sipflood's line
replay() {
	local msg=$T/$1.msg callid ftag ttag
	callid=$(grep -m1 -i '^Call-ID:' "$msg" | sed 's/^[^:]*: *//; s/\r$//')
	ftag=$(grep -m1 '^From:' "$msg" | sed 's/.*;tag=\([^;[:space:]]*\).*/\1/')
	ttag=${3:-}
	[ -n "$callid" ] && [ -n "$ftag" ] || fail "no dialog of $1 in $msg"
	cat >"$T/replay.sip" <<-EOM
	SUBSCRIBE sip:park-1@127.0.0.1:$PB_PORT SIP/2.0
	Via: SIP/2.0/UDP @SRC@;branch=z9hG4bKreplay@N@$RANDOM;rport
	From: <sip:phone@127.0.0.1>;tag=$ftag
	To: <sip:park-1@127.0.0.1:$PB_PORT>${ttag:+;tag=$ttag}
	Call-ID: $callid
	CSeq: 1000 SUBSCRIBE
	Contact: <sip:x@@SRC@>
	Max-Forwards: 70
	Event: dialog
	Expires: 0
	Content-Length: 0

	EOM
	"$BUILD/sipflood" -t "127.0.0.1:$PB_PORT" -s "$2:$(free_port)" \
		-m "$T/replay.sip" -n 1 -T 1 || fail "sipflood"
}

# to_tag NAME: parkblf's tag in the 200 OK phone NAME got
to_tag() {
	grep -m1 '^To:.*;tag=' "$T/$1.msg" |
		sed 's/.*;tag=\([^;[:space:]]*\).*/\1/; s/\r$//'
}

start_fakepbx

# --- subscribe_allow: only 127.0.0.1 may use parkblf
write_config "subscribe_allow 127.0.0.1/32"
start_parkblf
start_phone p park-1 QUIET_MS=12000
expect_last p '<state>terminated</state>'
tt=$(to_tag p)
[ -n "$tt" ] || fail "no To tag in the phone's 200 OK"

out=$(replay p 127.0.0.2 "$tt")
log "replay with the To tag from 127.0.0.2: $out"
case "$out" in *code_403=1*) ;; *) fail "not answered 403: $out" ;; esac
out=$(replay p 127.0.0.2)
log "replay without a To tag from 127.0.0.2: $out"
case "$out" in *code_403=1*) ;; *) fail "not answered 403: $out" ;; esac

pbx park '*00' call-1 100 Alice >/dev/null
expect_last p '>sip:100@'
log "the phone's subscription goes on: it sees Alice parked"
phone_done p
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not stop cleanly"
DAEMONS=("${DAEMONS[@]/$PB_PID:parkblf}")
pbx retrieve '*00' >/dev/null

# --- subscribe_users: the replay carries no credentials
printf 'alice s3cret\n' >"$T/users.txt"
chmod 600 "$T/users.txt"
write_config "subscribe_users users.txt" "subscribe_realm parkblf.test"
: >"$T/parkblf.log"
start_parkblf
ok=$NOTIFY_OK
after="<recv response=\"200\"/>
  <recv request=\"NOTIFY\"/>
  $ok
  <recv request=\"NOTIFY\" timeout=\"15000\"/>
  $ok"
port=$(free_port)
scenario auth.xml.in "$T/auth.xml" "USER=alice" "PASSWORD=s3cret" \
	"AFTER=$after"
sipp -sf "$T/auth.xml" -s park-1 -i 127.0.0.1 -p "$port" -m 1 \
	-auth_uri "park-1@127.0.0.1:$PB_PORT" \
	-timeout 30s -timeout_error -nostdin -trace_msg \
	-message_file "$T/auth.msg" -trace_err -error_file "$T/auth.err" \
	"127.0.0.1:$PB_PORT" >"$T/auth.out" 2>&1 &
AUTH_PID=$!
PIDS+=("$AUTH_PID")
wait_for 10 grep -q "<state>terminated</state>" "$T/auth.msg" ||
	fail "alice was not served: $(cat "$T/auth.err" 2>/dev/null)"

out=$(replay auth 127.0.0.1 "$(to_tag auth)")
log "replay without credentials: $out"
case "$out" in *code_401=1*) ;; *) fail "not answered 401: $out" ;; esac

pbx park '*00' call-2 101 Bob >/dev/null
wait "$AUTH_PID" ||
	fail "alice was not told of Bob: $(cat "$T/auth.err" 2>/dev/null)"
grep -q '>sip:101@' "$T/auth.msg" || fail "no NOTIFY naming Bob"
log "alice's subscription goes on: she sees Bob parked"
