# The wire check itself (wire_check in lib.sh, test/wirecheck): fed a
# well-formed NOTIFY and 200 OK it passes; fed a NOTIFY with two
# Max-Forwards headers, one with Content-Length: 5 and no body, a 200
# to a SUBSCRIBE without Expires and a response with a broken To URI,
# it fails and names each of them; a 70 kB NOTIFY (over TCP) passes, and
# is refused with a Content-Length 10 bytes too big.  (tshark's SIP
# dissector passes the first two without a word.)
. "$(dirname "$0")/lib.sh"

CR=$'\r'
W="$T/feed"
mkdir -p "$W"

# msg NAME TEXT: one message, lines ending in CRLF, as on the wire
msg() {
	printf '%s\n' "$2" | sed "s/\$/$CR/" >"$W/$1.sip"
}

notify="NOTIFY sip:phone@127.0.0.1:5062 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKwc1;rport
Max-Forwards: 70
Contact: <sip:park-1@127.0.0.1:5060>
To: <sip:phone@127.0.0.1:5062>;tag=a1
From: <sip:park-1@127.0.0.1:5060>;tag=b2
Call-ID: wirecheck-1
CSeq: 2 NOTIFY
Event: dialog
Subscription-State: active;expires=600
Content-Length: 0
"
ok200="SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKwc2;rport=5062
Contact: <sip:park-1@127.0.0.1:5060>
To: <sip:park-1@127.0.0.1:5060>;tag=b2
From: <sip:phone@127.0.0.1:5062>;tag=a1
Call-ID: wirecheck-1
CSeq: 1 SUBSCRIBE
Expires: 600
Content-Length: 0
"

# check_feed: wire_check on $W; prints its report
check_feed() {
	WIRECHECK=1 wire_check "$W" 2>&1
}

msg 1 "$notify"
msg 2 "$ok200"
out=$(check_feed) || fail "well-formed messages refused: $out"
log "a well-formed NOTIFY and 200 OK pass"

rm -f "$W"/*.sip
msg 1 "$notify"
msg 2 "${notify/Max-Forwards: 70/Max-Forwards: 70
Max-Forwards: 70}"
msg 3 "${notify/Content-Length: 0/Content-Length: 5}"
msg 4 "${ok200/Expires: 600
/}"
msg 5 "${ok200/To: <sip:park-1@/To: <sip:park-1@@}"
msg 6 "$ok200"
if out=$(check_feed); then
	fail "the wire check passed bad messages: $out"
fi
for n in 2 3 4 5; do
	echo "$out" | grep -q "REFUSED $W/$n.sip" ||
		fail "message $n not refused: $out"
done
for n in 1 6; do
	echo "$out" | grep -q "REFUSED $W/$n.sip" &&
		fail "good message $n refused: $out"
done
echo "$out" | grep -q "duplicate Max-Forwards header field" ||
	fail "Kamailio's reason not shown: $out"
log "two Max-Forwards, Content-Length 5 without a body, a 2xx to" \
	"SUBSCRIBE without Expires and a bad To URI: each refused, by name"

# too big for a datagram (a BLF list over TCP): fed over TCP, framed by
# its Content-Length
rm -f "$W"/*.sip
body=$(head -c 70000 /dev/zero | tr '\0' 'x')
big="${notify/Content-Length: 0/Content-Type: text/plain
Content-Length: 70000}"
printf '%s\n' "$big" | sed "s/\$/$CR/" >"$W/1.sip"
printf '%s' "$body" >>"$W/1.sip"
out=$(check_feed) || fail "a good 70 kB NOTIFY refused: $out"
printf '%s\n' "${big/70000/70010}" | sed "s/\$/$CR/" >"$W/1.sip"
printf '%s' "$body" >>"$W/1.sip"
if out=$(check_feed); then
	fail "a 70 kB NOTIFY with a Content-Length 10 too big passed: $out"
fi
echo "$out" | grep -q "REFUSED $W/1.sip" || fail "not named: $out"
log "70 kB over TCP: passes, and refused with a wrong Content-Length"
