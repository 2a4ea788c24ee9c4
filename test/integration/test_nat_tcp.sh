# Phones behind NAT on TCP and TLS (issue 11): their Contact names a
# private address (10.9.9.9) that nothing routes to.  Their NOTIFYs
# come on the connection they opened.  When that connection is gone,
# parkblf does not dial (neither the private address nor the old port):
# a park meanwhile waits, also past the keepalive grace, and the
# phone's refresh on a new connection gets 200 and the current state
# (the parked call), on that connection.  The phones are natphone.py,
# on loopback.
. "$(dirname "$0")/lib.sh"

make_cert

start_fakepbx
write_config "nat_keepalive 2" "nat_keepalive_grace 4" \
	"sip_tls_listen 127.0.0.1:0" "sip_tls_cert parkblf.pem"
start_parkblf
PORT_tcp=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\) (udp, tcp).*/\1/p' \
	"$T/parkblf.log")
PORT_tls=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\) (tls).*/\1/p' \
	"$T/parkblf.log")
[ -n "$PORT_tls" ] || fail "no TLS listener in the log"

# phone tcp|tls subscribe|refresh [TAG]: natphone.py
phone() {
	local port
	eval "port=\$PORT_$1"
	"$PYTHON" "$SRC/test/integration/natphone.py" "$1" 127.0.0.1 "$port" \
		"${@:2}"
}

for tp in tcp tls; do
	phone $tp subscribe >"$T/$tp-first.out" ||
		fail "first SUBSCRIBE over $tp: $(cat "$T/$tp-first.out")"
	grep -q "BODY .*<state>terminated</state>" "$T/$tp-first.out" ||
		fail "$tp: no idle NOTIFY on the phone's connection:" \
			"$(cat "$T/$tp-first.out")"
	wait_for 10 grep -q \
		"natkeep: 127.0.0.1:[0-9]* ($tp): connection closed" \
		"$T/parkblf.log" ||
		fail "parkblf did not see the $tp connection close"
done
log "subscribed over TCP and TLS; the first NOTIFYs came on the phones'" \
	"connections, which then closed"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
# keepalives and NOTIFYs wait: no connection, and past the grace the
# phones are still subscribed
sleep 6
grep -Eq "ended|NOTIFY.*failed" "$T/parkblf.log" &&
	fail "a subscription ended while the phone was away: " \
		"$(grep -E 'ended|failed' "$T/parkblf.log")"
ss -Htnp state syn-sent | grep -q "pid=$PB_PID," &&
	fail "parkblf is dialling: $(ss -Htnp state syn-sent)"
log "connections gone: the park waits, nothing is dialled"

for tp in tcp tls; do
	phone $tp refresh "$(sed -n 's/^TAG //p' "$T/$tp-first.out")" \
		>"$T/$tp-refresh.out" ||
		fail "$tp refresh on a new connection:" \
			"$(cat "$T/$tp-refresh.out")"
	grep -q "BODY .*<state>confirmed</state>.*4930111" \
		"$T/$tp-refresh.out" ||
		fail "$tp refresh: no parked call: $(cat "$T/$tp-refresh.out")"
done
log "the refreshes on new connections (TCP, TLS) got the parked call"
