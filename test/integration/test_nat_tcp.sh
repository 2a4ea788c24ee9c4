# Phones behind NAT on TCP and TLS (issue 11): their Contact names a
# private address (10.9.9.9) that nothing routes to.  Their NOTIFYs
# come on the connection they opened.  When that connection is gone,
# parkblf does not dial (neither the private address nor the old port):
# a park meanwhile waits, also past the keepalive grace, and the
# phone's refresh on a new connection gets 200 and the current state
# (the parked call), on that connection.  The phones are natphone.py,
# on loopback.
. "$(dirname "$0")/lib.sh"

start_nat_tls "nat_keepalive 2" "nat_keepalive_grace 4"
nat_first_and_close
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

nat_refresh_parked tcp
nat_refresh_parked tls
log "the refreshes on new connections (TCP, TLS) got the parked call"
