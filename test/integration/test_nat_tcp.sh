# A phone behind NAT on TCP (issue 11): its Contact names a private
# address (10.9.9.9) that nothing routes to.  Its NOTIFYs come on the
# connection it opened.  When that connection is gone, parkblf does not
# dial (neither the private address nor the old port): a park meanwhile
# waits, and the phone's refresh on a new connection gets 200 and the
# current state (the parked call), on that connection.  The phone is
# natphone.py, on loopback.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "nat_keepalive 2" "nat_keepalive_grace 4"
start_parkblf

# phone subscribe|refresh [TAG]: natphone.py over TCP
phone() {
	python3 "$SRC/test/integration/natphone.py" tcp 127.0.0.1 "$PB_PORT" \
		"$@"
}

phone subscribe >"$T/first.out" ||
	fail "first SUBSCRIBE over TCP: $(cat "$T/first.out")"
grep -q "BODY .*<state>terminated</state>" "$T/first.out" ||
	fail "no idle NOTIFY on the phone's connection: $(cat "$T/first.out")"
tag=$(sed -n 's/^TAG //p' "$T/first.out")
log "subscribed over TCP; the first NOTIFY came on the phone's connection"

wait_for 10 grep -q "natkeep: 127.0.0.1:[0-9]* (tcp): connection closed" \
	"$T/parkblf.log" || fail "parkblf did not see the connection close"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
# keepalives and NOTIFYs wait: no connection, and past the grace the
# phone is still subscribed
sleep 6
grep -Eq "ended|NOTIFY.*failed" "$T/parkblf.log" &&
	fail "the subscription ended while the phone was away: " \
		"$(grep -E 'ended|failed' "$T/parkblf.log")"
ss -Htnp state syn-sent | grep -q "pid=$PB_PID," &&
	fail "parkblf is dialling: $(ss -Htnp state syn-sent)"
log "connection gone: the park waits, nothing is dialled"

phone refresh "$tag" >"$T/refresh.out" ||
	fail "refresh on a new connection: $(cat "$T/refresh.out")"
grep -q "BODY .*<state>confirmed</state>.*4930111" "$T/refresh.out" ||
	fail "refresh: no parked call: $(cat "$T/refresh.out")"
log "the refresh on a new connection got the parked call"
