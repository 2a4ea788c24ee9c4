# The upstream link may run over TLS too (sip:...;transport=tls; libre
# 1.1.0 routes no sips: URIs): with no TLS listener of our own, parkblf
# opens a TLS connection to the PBX.  openssl s_server stands in
# for the PBX and must receive the SUBSCRIBE for any-dn, decrypted.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -subj /CN=localhost -days 2 2>/dev/null ||
	fail "cannot make a certificate"
PBX_PORT=$(free_port)
# s_server ends at EOF on its stdin: give it a FIFO held open
mkfifo "$T/s_server.in"
exec 6<>"$T/s_server.in"
openssl s_server -accept "127.0.0.1:$PBX_PORT" -cert "$T/cert.pem" \
	-key "$T/key.pem" -quiet <&6 >"$T/s_server.out" 2>&1 &
PIDS+=($!)
wait_for 5 ss_listens "$PBX_PORT" || fail "s_server did not start"

write_config "upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT;transport=tls"
"$BUILD/parkblf" -f "$T/parkblf.conf" >>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "^SUBSCRIBE sip:any-dn@127.0.0.1:$PBX_PORT;transport=tls" \
	"$T/s_server.out" ||
	fail "no SUBSCRIBE over TLS: $(head -c 600 "$T/s_server.out")"
grep -q "^Via: SIP/2.0/TLS " "$T/s_server.out" || fail "Via is not TLS"
grep -q "TLS for the upstream link" "$T/parkblf.log" ||
	fail "the TLS transport was not logged"
log "upstream over TLS: the SUBSCRIBE reached the PBX, encrypted"
