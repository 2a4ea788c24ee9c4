# A phone behind NAT on the second of two listen sockets keeps getting
# everything from that socket after a restart (state_db), before it
# has sent anything again: its NAT lets in only what comes from the
# address and port it sent to.  Two sip_listen sockets; the UDP phone
# (natphone.py: Via and Contact name 10.9.9.9) subscribes to the
# second one, answering keepalive OPTIONS every second.  parkblf is
# killed (SIGKILL) and started again: its keepalives and the NOTIFY of
# a call parked then come from the second socket, not from libre's
# first one (before, the restored binding's keepalives went through
# libre from the first socket until the phone spoke again).
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db" "nat_keepalive 1" "nat_keepalive_grace 4"
P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$P1\nsip_listen 127.0.0.1:$P2/" \
	"$T/parkblf.conf"
start_parkblf
grep -q "listening on 127.0.0.1:$P2 " "$T/parkblf.log" ||
	fail "not listening on 127.0.0.1:$P2"

NATPHONE_FROM=1 "$PYTHON" "$SRC/test/integration/natphone.py" udp \
	127.0.0.1 "$P2" watch 40 >"$T/udp.out" 2>&1 &
PIDS+=($!)
udp_has() { grep -q "$1" "$T/udp.out"; }
wait_for 10 udp_has "BODY .*<state>terminated</state>" ||
	fail "UDP phone: no idle NOTIFY: $(cat "$T/udp.out")"
wait_for 5 udp_has "^FROM .* OPTIONS" || fail "UDP phone: no keepalive"
grep "^FROM " "$T/udp.out" | grep -qv "^FROM 127.0.0.1:$P2 " &&
	fail "before the restart, from elsewhere: $(grep '^FROM' "$T/udp.out")"
log "the phone behind NAT on 127.0.0.1:$P2: NOTIFY and keepalives from it"

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
DAEMONS=("${DAEMONS[@]/$PB_PID:parkblf/}")
n=$(wc -l <"$T/udp.out")
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 1 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "subscription not reloaded"

after() { tail -n +"$((n + 1))" "$T/udp.out"; }
after_has() { after | grep -q "$1"; }
wait_for 5 after_has "^FROM .* OPTIONS" ||
	fail "no keepalive after the restart: $(after)"
pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
wait_for 10 after_has "BODY .*<state>confirmed</state>.*4930111" ||
	fail "no parked call after the restart: $(after)"
two_keepalives() { [ "$(after | grep -c '^FROM .* OPTIONS')" -ge 2 ]; }
wait_for 5 two_keepalives ||
	fail "keepalives stopped after the restart: $(after)"
after | grep "^FROM " | grep -qv "^FROM 127.0.0.1:$P2 " &&
	fail "after the restart, from elsewhere than 127.0.0.1:$P2:" \
		"$(after | grep '^FROM')"
[ "$(grep -c '^TAG ' "$T/udp.out")" -eq 1 ] ||
	fail "the phone subscribed again"
log "after SIGKILL and restart: keepalives and NOTIFY from 127.0.0.1:$P2" \
	"($(after | grep -c '^FROM') requests)"
