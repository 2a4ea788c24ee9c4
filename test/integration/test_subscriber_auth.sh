# Optional digest authentication of phones (subscribe_users): no
# credentials or wrong ones get 401 with a challenge; a phone with the
# right ones (sipp answering the challenge) is served.  The users file
# is checked by -t with FILE:LINE, and a world-readable one is warned
# about.
. "$(dirname "$0")/lib.sh"

start_fakepbx
printf '# phones\nalice s3cret\nbob hunter2\n' >"$T/users.txt"
chmod 600 "$T/users.txt"
write_config "subscribe_users users.txt" "subscribe_realm parkblf.test"
start_parkblf

ev=$'Event: dialog\nExpires: 600'
expect_refusal park-1 401 "WWW-Authenticate:" \
	'Digest realm="parkblf.test".*nonce=' "$ev"
expect_response REGISTER phone 401 "WWW-Authenticate:" "Digest" \
	"Expires: 600"
log "no credentials: 401 with a digest challenge (SUBSCRIBE, REGISTER)"

# auth_phone USER PASSWORD AFTER: sipp answers the challenge
auth_phone() {
	local port
	port=$(free_port)
	scenario auth.xml.in "$T/auth.xml" "USER=$1" "PASSWORD=$2" \
		"AFTER=$3"
	# -auth_uri: the digest uri must be the Request-URI
	sipp -sf "$T/auth.xml" -s park-1 -i 127.0.0.1 -p "$port" -m 1 \
		-auth_uri "park-1@127.0.0.1:$PB_PORT" \
		-timeout 15s -timeout_error -nostdin -trace_msg \
		-message_file "$T/auth.msg" -trace_err -error_file "$T/auth.err" \
		"127.0.0.1:$PB_PORT" >"$T/auth.out" 2>&1
}

ok_after='<recv response="200"/>
  '"$NOTIFY_ANSWER"
auth_phone alice s3cret "$ok_after" ||
	fail "alice with her password: $(cat "$T/auth.err")"
grep -q "<state>terminated</state>" "$T/auth.msg" || fail "no NOTIFY body"
log "alice with the right password: 200 and the orbit's state"

auth_phone alice wrong '<recv response="401"/>' ||
	fail "wrong password not answered 401: $(cat "$T/auth.err")"
grep -q "SUBSCRIBE from .*: credentials refused" "$T/parkblf.log" ||
	fail "refusal not logged"
grep -q "s3cret\|hunter2\|wrong" "$T/parkblf.log" && fail "a password logged"
log "wrong password: 401 again, logged without the password"

# -t checks the users file; a readable one is warned about
printf 'alice s3cret\nalice again\ncarol\n' >"$T/users.txt"
out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) &&
	fail "bad users file accepted"
echo "$out" | grep -q "users.txt:2: user 'alice' already defined on line 1" ||
	fail "no FILE:LINE: $out"
echo "$out" | grep -q "users.txt:3: want USER PASSWORD" ||
	fail "no FILE:LINE for line 3: $out"
printf 'alice s3cret\n' >"$T/users.txt"
chmod 644 "$T/users.txt"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1 |
	grep -q "holds passwords and is readable by everyone" ||
	fail "no warning for a world-readable users file"
log "-t: users file problems as FILE:LINE; world-readable warned"
