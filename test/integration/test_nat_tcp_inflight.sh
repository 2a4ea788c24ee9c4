# Phones behind NAT on TCP and TLS whose connection is gone while a
# NOTIFY to them is in flight (its answer never came: the phone lost
# the connection, or its 200 came right before a reset that parkblf
# read first).  The subscription waits for the phone like any other
# whose connection is gone: the phone's refresh on a new connection
# gets 200 and the current state at once (the NOTIFY left on the old
# connection is not waited for), and one that stays away longer than
# that NOTIFY's 32 s (RFC 3261 timer F) is not ended by it.  The phones
# are natphone.py, on loopback, answering no NOTIFY before they close.
. "$(dirname "$0")/lib.sh"

start_nat_tls "nat_keepalive 2" "nat_keepalive_grace 4"
NATPHONE_NOANSWER=1 nat_first_and_close
log "subscribed over TCP and TLS; the connections closed with the first" \
	"NOTIFYs unanswered"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null

# the TLS phone comes back while its NOTIFY is still in flight: its
# refresh gets the state well before that NOTIFY's 32 s are over
NATPHONE_WITHIN=20 nat_refresh_parked tls
log "the TLS refresh on a new connection got the parked call at once"

# the TCP phone stays away until its NOTIFY is given up unanswered
# (parkblf logs it, or, what it must not do, ends the subscription)
wait_for 45 grep -Eq \
	"NOTIFY unanswered, its connection is gone|ended" "$T/parkblf.log" ||
	fail "the TCP phone's NOTIFY was not given up in 45 s"
grep -Eq "ended" "$T/parkblf.log" &&
	fail "a subscription ended while its phone was away: " \
		"$(grep -E 'ended' "$T/parkblf.log")"
log "the TCP phone's NOTIFY got no answer (timer F): its subscription waits"

nat_refresh_parked tcp
grep -Eq "ended" "$T/parkblf.log" &&
	fail "a subscription ended: $(grep -E 'ended' "$T/parkblf.log")"
log "the TCP refresh on a new connection got the parked call"
