# Hostile or broken SIP from the phone side costs nothing: garbage
# datagrams and requests with missing headers are dropped, unknown
# methods get 501, a huge header is refused, a request without From,
# To, Call-ID and CSeq gets no (malformed) answer; the daemon keeps
# serving and a phone's lamp stays right.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf
pbx park '*00' call-1 100 Alice >/dev/null

udp() { printf '%b' "$1" >"/dev/udp/127.0.0.1/$PB_PORT"; }
for i in 1 2 3; do
	udp 'garbage \x00\x01\x02 not sip at all\r\n\r\n'
	head -c 1400 /dev/urandom >"/dev/udp/127.0.0.1/$PB_PORT"
done
# no Call-ID, no CSeq, no Via
udp 'SUBSCRIBE sip:park-1@127.0.0.1 SIP/2.0\r\nEvent: dialog\r\n\r\n'
# a Content-Length that lies
udp 'SUBSCRIBE sip:park-1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nCall-ID: x\r\nCSeq: 1 SUBSCRIBE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:park-1@127.0.0.1>\r\nContent-Length: 99999\r\n\r\nabc'
log "garbage datagrams and broken requests sent"

expect_response PUBLISH park-1 501 "Via:" "SIP" "Event: dialog"
expect_response MESSAGE park-1 501 "Via:" "SIP" ""
log "unknown methods: 501"

# a header of 20 kB over TCP (too big for a datagram)
big=$(head -c 20000 /dev/zero | tr '\0' 'x')
exec 7<>"/dev/tcp/127.0.0.1/$PB_PORT"
printf 'SUBSCRIBE sip:park-1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig\r\nX-Big: %s\r\nContent-Length: 0\r\n\r\n' \
	"$big" >&7 2>/dev/null
exec 7>&-
log "a 20 kB header over TCP sent"

# RFC 3261 8.1.1: without From, To, Call-ID and CSeq no well-formed
# answer exists (8.2.6.2 copies them): no answer, the request is dropped
exec 7<>"/dev/tcp/127.0.0.1/$PB_PORT"
printf 'SUBSCRIBE sip:park-1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKnohdr\r\nEvent: dialog\r\nContent-Length: 0\r\n\r\n' >&7
if IFS= read -r -t 2 line <&7; then
	fail "a request without From, To, Call-ID, CSeq was answered: $line"
fi
exec 7>&-
log "a request without From, To, Call-ID, CSeq gets no answer"

kill -0 "$PB_PID" || fail "parkblf died"
start_phone p park-1 QUIET_MS=2000
expect_last p '>sip:100@'
phone_done p
log "still serving: a new phone sees Alice parked"
