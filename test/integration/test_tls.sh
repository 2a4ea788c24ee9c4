# Phones over TLS (sip_tls_listen + sip_tls_cert): a SUBSCRIBE sent
# through openssl s_client, an independent TLS stack, gets 200 on the
# TLS connection.  A missing or broken certificate stops the start-up
# with a clear message.
. "$(dirname "$0")/lib.sh"

make_cert

start_fakepbx
write_config "sip_tls_listen 127.0.0.1:0" "sip_tls_cert parkblf.pem"
start_parkblf
TLS_PORT=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\) (tls).*/\1/p' \
	"$T/parkblf.log")
[ -n "$TLS_PORT" ] || fail "no TLS listener in the log"

subscribe() {
	printf '%s\r\n' \
	"SUBSCRIBE sip:park-1@127.0.0.1:$TLS_PORT;transport=tls SIP/2.0" \
	"Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-1" \
	"From: <sip:phone@127.0.0.1>;tag=tls1" \
	"To: <sip:park-1@127.0.0.1:$TLS_PORT>" \
	"Call-ID: tls-1@127.0.0.1" \
	"CSeq: 1 SUBSCRIBE" \
	"Contact: <sip:phone@127.0.0.1:5999;transport=tls>" \
	"Max-Forwards: 70" \
	"Event: dialog" \
	"Expires: 600" \
	"Content-Length: 0" ""
}
{ subscribe; sleep 2; } |
	timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -quiet \
		>"$T/tls.out" 2>"$T/tls.err"
grep -q "^SIP/2.0 200 OK" "$T/tls.out" ||
	fail "no 200 over TLS: $(cat "$T/tls.out" "$T/tls.err" | head -20)"
grep -q "^Expires: 600" "$T/tls.out" || fail "no Expires in the 200"
log "SUBSCRIBE over TLS (openssl s_client): 200 OK, Expires: 600"

kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0"
: >"$T/parkblf.log"
echo "not a certificate" >"$T/parkblf.pem"
write_config "sip_tls_listen 127.0.0.1:0" "sip_tls_cert parkblf.pem"
timeout 10 "$BUILD/parkblf" -f "$T/parkblf.conf" >"$T/bad.out" 2>&1 &&
	fail "started with a broken certificate"
grep -q "cannot load sip_tls_cert .*parkblf.pem" "$T/bad.out" ||
	fail "no clear message: $(cat "$T/bad.out")"
write_config "sip_tls_listen 127.0.0.1:0"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1 |
	grep -q "sip_tls_listen and sip_tls_cert go together" ||
	fail "-t: listen without cert not reported"
log "broken certificate: clear message, no start; -t checks the pair"
