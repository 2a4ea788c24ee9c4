# Names a discover line gives, before they are orbits (issue 14 §1's
# leftovers).  A SUBSCRIBE to one makes the orbit only once nothing
# refuses it: one refused (503 while the PBX's state is unknown, 406
# for an Accept without dialog-info, 400 without a Contact) leaves no
# orbit behind (/status) and takes nothing of the line's max=.  A key
# press (INVITE) on one is answered as a press on that orbit would be
# (302 to its retrieve code, with a pickup prefix too, to its park code
# for a transfer) and makes no orbit either; past max= it gets 404, as
# the SUBSCRIBE does.
. "$(dirname "$0")/lib.sh"

need_tools curl jq

# nobody on the PBX's port yet; over TCP a closed port is noticed at once
PBX_PORT=$(free_port)
write_config "http_listen 127.0.0.1:0" \
	"upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT;transport=tcp"
cat >"$T/orbits.conf" <<'EOM'
park-1 *00
discover SP{x} shared-{x} retrieve=*5{x} park=*6{x} max=2
EOM
"$BUILD/parkblf" -f "$T/parkblf.conf" >>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "http: listening on" "$T/parkblf.log" ||
	fail "parkblf did not start"
http_ports

# orbits: the names in /status, sorted, on one line
orbits() {
	curl -sS --max-time 5 -f "$URL/status" |
		jq -r '[.orbits[].name] | sort | join(" ")'
}
metric() {
	curl -sS --max-time 5 -f "$URL/metrics" | sed -n "s/^parkblf_$1 //p"
}

ev=$'Event: dialog\nExpires: 600'
for n in 1 2 3; do
	expect_refusal "shared-$n" 503 "Retry-After:" "[0-9]+" "$ev"
done
[ "$(orbits)" = park-1 ] || fail "orbits after the 503s: $(orbits)"
[ "$(metric orbits_discovered_total)" = 0 ] ||
	fail "discovered: $(metric orbits_discovered_total)"
log "state unknown: shared-1..3 get 503 and stay no orbits"

PBX="127.0.0.1:$PBX_PORT"
press "a key on shared-5, no orbit yet" shared-5 "<sip:\*55@$PBX>"
press "with a pickup prefix" '**shared-5' "<sip:\*55@$PBX>"
press "a transfer to the key" shared-5 "<sip:\*65@$PBX>" \
	"Referred-By: <sip:100@127.0.0.1>"
[ "$(orbits)" = park-1 ] || fail "orbits after the presses: $(orbits)"
grep -q "redirect: shared-5 (shared-5, no orbit yet) from" \
	"$T/parkblf.log" || fail "the press is not logged as such"
log "key presses made no orbit"

# the fake PBX appears on that port
PBX_LISTEN_PORT=$PBX_PORT start_fakepbx
wait_upstream_up

expect_refusal shared-2 406 "Accept:" "dialog-info" \
	$'Event: dialog\nAccept: text/plain\nExpires: 600'
# (sipp's scenarios all have a Contact)
"$PYTHON" - "$PB_PORT" >"$T/nocontact.out" 2>&1 <<'EOPY' ||
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
me = "127.0.0.1:%d" % s.getsockname()[1]
s.sendto(("SUBSCRIBE sip:shared-2@127.0.0.1:%d SIP/2.0\r\n"
          "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bKnoct1\r\n"
          "From: <sip:phone@127.0.0.1>;tag=noct\r\n"
          "To: <sip:shared-2@127.0.0.1:%d>\r\n"
          "Call-ID: noct-1\r\nCSeq: 1 SUBSCRIBE\r\n"
          "Event: dialog\r\nExpires: 600\r\nMax-Forwards: 70\r\n"
          "Content-Length: 0\r\n\r\n" % (port, me, port)).encode(),
         ("127.0.0.1", port))
print(s.recv(65535).decode().split("\r\n")[0])
EOPY
	fail "no answer to a SUBSCRIBE without Contact"
grep -q "^SIP/2.0 400 " "$T/nocontact.out" ||
	fail "no Contact: $(cat "$T/nocontact.out")"
[ "$(orbits)" = park-1 ] || fail "orbits after the 406, 400: $(orbits)"
log "PBX up: shared-2 refused (406, 400), no orbit made"

start_phone s1 shared-1 QUIET_MS=4000
expect_last s1 '<state>terminated</state>'
start_phone s3 shared-3 QUIET_MS=4000
expect_last s3 '<state>terminated</state>'
[ "$(orbits)" = "park-1 shared-1 shared-3" ] ||
	fail "orbits after two SUBSCRIBEs: $(orbits)"
log "PBX up: shared-1 and shared-3 subscribed, made, idle"

# max=2 reached by those two, not by the refused ones
expect_refusal shared-2 404 "Via:" "SIP" "$ev"
expect_response INVITE shared-2 404 "Via:" "SIP" "" "$ACK_AFTER"
[ "$(metric orbits_discovered_total)" = 2 ] ||
	fail "discovered: $(metric orbits_discovered_total)"
log "max=2: shared-2 past it, 404 to its SUBSCRIBE and to its key"

press "a key on shared-3, an orbit now" shared-3 "<sip:\*53@$PBX>"
phone_done s1
phone_done s3
