# Phones behind NAT on TCP and TLS whose connection is gone while a
# NOTIFY to them is in flight (its answer never came: the phone lost
# the connection, or its 200 came right before a reset that parkblf
# read first).  The subscription waits for the phone like any other
# whose connection is gone: the phone's refresh on a new connection
# gets 200 and the current state at once (the NOTIFY left on the old
# connection is not waited for), and one that stays away longer than
# that NOTIFY's 32 s (RFC 3261 timer F) is not ended by it; a BLF list
# (RFC 4662) over TCP the same.  The phones are natphone.py, on
# loopback, answering no NOTIFY before they close.
. "$(dirname "$0")/lib.sh"

start_nat_tls "nat_keepalive 2" "nat_keepalive_grace 4" "blf_list parks"
NATPHONE_NOANSWER=1 nat_first_and_close
NATPHONE_LIST=parks NATPHONE_ID=list NATPHONE_NOANSWER=1 \
	nat_phone tcp subscribe >"$T/list-first.out" ||
	fail "list SUBSCRIBE over tcp: $(cat "$T/list-first.out")"
grep -q 'BODY .*fullState="true"' "$T/list-first.out" ||
	fail "list: no full state: $(cat "$T/list-first.out")"
wait_for 10 log_count_ge 2 "natkeep: 127.0.0.1:[0-9]* \(tcp\): connection closed" ||
	fail "parkblf did not see the list's connection close"
log "subscribed over TCP and TLS, and to a list over TCP; the connections" \
	"closed with the first NOTIFYs unanswered"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null

# the TLS phone comes back while its NOTIFY is still in flight: its
# refresh gets the state well before that NOTIFY's 32 s are over
NATPHONE_WITHIN=20 nat_refresh_parked tls
log "the TLS refresh on a new connection got the parked call at once"

# the TCP phone and the list stay away until their NOTIFYs are given up
# unanswered (parkblf logs it, or, what it must not do, ends the
# subscription)
wait_for 45 log_count_ge 2 \
	"NOTIFY unanswered, its connection is gone|ended" ||
	fail "the NOTIFYs of the TCP phone and the list were not given up" \
		"in 45 s"
grep -Eq "ended" "$T/parkblf.log" &&
	fail "a subscription ended while its phone was away: " \
		"$(grep -E 'ended' "$T/parkblf.log")"
log "the TCP phone's and the list's NOTIFYs got no answer (timer F):" \
	"their subscriptions wait"

nat_refresh_parked tcp
log "the TCP refresh on a new connection got the parked call"

NATPHONE_LIST=parks NATPHONE_ID=list nat_phone tcp refresh \
	"$(sed -n 's/^TAG //p' "$T/list-first.out")" >"$T/list-refresh.out" ||
	fail "list refresh on a new connection: $(cat "$T/list-refresh.out")"
grep -q 'BODY .*fullState="true".*4930111' "$T/list-refresh.out" ||
	fail "list refresh: no parked call: $(cat "$T/list-refresh.out")"
grep -Eq "ended" "$T/parkblf.log" &&
	fail "a subscription ended: $(grep -E 'ended' "$T/parkblf.log")"
log "the list's refresh on a new connection got the full state, the park"
