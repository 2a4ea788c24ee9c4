# Phones behind NAT survive a restart (issue 11): state_db keeps where
# they are.  Two phones whose Via and Contact name 10.9.9.9, an address
# nothing routes to (natphone.py): one on UDP, one on TCP.  parkblf is
# killed (SIGKILL) and started again on the same port; a call parked
# then reaches the UDP phone at the address its SUBSCRIBE came from,
# on its existing dialog.  The TCP phone's connection died with the
# process: nothing is dialled for it, and its refresh on a new
# connection brings the parked call.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db"
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf

PHONE="$SRC/test/integration/natphone.py"
"$PYTHON" "$PHONE" udp 127.0.0.1 "$PB_PORT" watch 60 >"$T/udp.out" 2>&1 &
PIDS+=($!)
"$PYTHON" "$PHONE" tcp 127.0.0.1 "$PB_PORT" subscribe >"$T/tcp.out" ||
	fail "TCP phone: $(cat "$T/tcp.out")"
tag=$(sed -n 's/^TAG //p' "$T/tcp.out")

udp_has() { grep -q "$1" "$T/udp.out"; }
wait_for 10 udp_has "BODY .*<state>terminated</state>" ||
	fail "UDP phone: no idle NOTIFY: $(cat "$T/udp.out")"
udp_has "^TAG " || fail "UDP phone: no 200 at its source port"
grep -q "BODY .*<state>terminated</state>" "$T/tcp.out" ||
	fail "TCP phone: no idle NOTIFY: $(cat "$T/tcp.out")"
[ "$(grep -c "natkeep: 127.0.0.1:[0-9]* (.*) is behind NAT" \
	"$T/parkblf.log")" -eq 2 ] || fail "not both phones behind NAT"
log "UDP and TCP phones behind NAT subscribed, idle seen"

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 2 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "subscriptions not reloaded"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
wait_for 10 udp_has "BODY .*<state>confirmed</state>.*4930111" ||
	fail "UDP phone: no parked call after the restart: " \
		"$(tail -n 3 "$T/udp.out")"
[ "$(grep -c '^TAG ' "$T/udp.out")" -eq 1 ] ||
	fail "UDP phone subscribed again"
log "after SIGKILL and restart the UDP phone got the park where it is"

sleep 2
ss -Htnp state syn-sent | grep -q "pid=$PB_PID," &&
	fail "parkblf is dialling: $(ss -Htnp state syn-sent)"
grep -q "ended" "$T/parkblf.log" &&
	fail "a subscription ended: $(grep ended "$T/parkblf.log")"
"$PYTHON" "$PHONE" tcp 127.0.0.1 "$PB_PORT" refresh "$tag" \
	>"$T/refresh.out" || fail "TCP refresh: $(cat "$T/refresh.out")"
grep -q "BODY .*<state>confirmed</state>.*4930111" "$T/refresh.out" ||
	fail "TCP refresh: no parked call: $(cat "$T/refresh.out")"
log "the TCP phone, without a connection, waited; its refresh got the park"
