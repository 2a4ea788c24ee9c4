# BLF list subscriptions (RFC 4662) from phones behind NAT (issue 11):
# natphone.py phones whose Via (without rport) and Contact name
# 10.9.9.9:5060, an address nothing routes to, subscribe to the list
# on loopback.  A UDP phone gets its 200 and the list's full state at
# its source port, keepalives there, and after a refresh in the
# dialog (libre's notifier takes the dialog's target from each
# refresh's Contact) its refresh NOTIFY and a park still arrive there.
# TCP and TLS phones get the same on the connections they opened.  A UDP list
# phone that stops answering is given up after the grace: its list
# ends, the others stay.  A TCP list phone whose connection closed is
# not dialled: the park waits for it, also past the grace, and its
# refresh on a new connection brings it there.
. "$(dirname "$0")/lib.sh"

start_nat_tls "blf_list parks" "nat_keepalive 1" "nat_keepalive_grace 3"

PHONE="$SRC/test/integration/natphone.py"
# phone NAME udp|tcp|tls [VAR=VALUE...]: a list phone watching for 40 s
phone() {
	local port=$PB_PORT
	[ "$2" = tls ] && port=$PORT_tls
	env NATPHONE_LIST=parks NATPHONE_ID="$1" "${@:3}" \
		"$PYTHON" "$PHONE" "$2" 127.0.0.1 "$port" watch 40 \
		>"$T/$1.out" 2>&1 &
	PIDS+=($!)
}
phone udp udp NATPHONE_REFRESH=3
phone tcp tcp NATPHONE_REFRESH=3
phone tls tls NATPHONE_REFRESH=3
phone mute udp NATPHONE_MUTE=2

has() { grep -q -- "$2" "$T/$1.out"; }
for p in udp tcp tls mute; do
	wait_for 10 has $p '^TAG ' ||
		fail "$p: no 200 at its source: $(cat "$T/$p.out")" \
			"$(grep -i "list" "$T/parkblf.log")"
	wait_for 10 has $p 'BODY .*fullState="true"' ||
		fail "$p: no full state: $(cat "$T/$p.out")"
done
[ "$(grep -c "natkeep: 127.0.0.1:[0-9]* (.*) is behind NAT" \
	"$T/parkblf.log")" -eq 4 ] || fail "not four phones behind NAT"
log "UDP, TCP and TLS list phones behind NAT: 200 and full state at the" \
	"source"

for p in udp tcp tls; do
	wait_for 10 has $p '^REFRESHED' ||
		fail "$p: refresh not answered: $(cat "$T/$p.out")"
	# libre's refresh NOTIFY: the full state again, after the 200
	wait_for 5 eval "[ \$(grep -c 'BODY .*fullState=\"true\"' \
		'$T/$p.out') -ge 2 ]" ||
		fail "$p: no NOTIFY after the refresh: $(cat "$T/$p.out")"
	wait_for 5 has $p '^OPTIONS' || fail "$p: no keepalive"
done
log "refreshes in the dialog answered, their NOTIFYs and keepalives" \
	"at the source"

wait_for 10 grep -q "blflist: list from 127.0.0.1:[0-9]* ended: the phone" \
	"$T/parkblf.log" || fail "the silent phone's list did not end"
log "the phone that stopped answering: its list ended after the grace"

# a list phone on TCP that closes its connection after the first NOTIFY
NATPHONE_LIST=parks NATPHONE_ID=gone "$PYTHON" "$PHONE" tcp 127.0.0.1 \
	"$PB_PORT" subscribe >"$T/gone.out" 2>&1 ||
	fail "gone: $(cat "$T/gone.out")"
has gone 'BODY .*fullState="true"' || fail "gone: no full state"
wait_for 10 grep -q "natkeep: 127.0.0.1:[0-9]* (tcp): connection closed" \
	"$T/parkblf.log" || fail "parkblf did not see the connection close"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
for p in udp tcp tls; do
	wait_for 10 has $p "BODY .*fullState=\"false\".*4930111" ||
		fail "$p: no park after the refresh: $(tail -n 3 "$T/$p.out")"
done
has mute 4930111 && fail "the silent phone's ended list got the park"
[ "$(grep -c "blflist: list from .* ended" "$T/parkblf.log")" -eq 1 ] ||
	fail "another list ended: $(grep ended "$T/parkblf.log")"
ss -Htnp state syn-sent | grep -q "pid=$PB_PID," &&
	fail "parkblf is dialling: $(ss -Htnp state syn-sent)"
log "the park reached the list phones at their source, nothing dialled"

# past the grace: the list whose connection is gone waits, undialled
sleep 4
[ "$(grep -c "blflist: list from .* ended" "$T/parkblf.log")" -eq 1 ] ||
	fail "a list ended while its phone was away: $(grep ended \
		"$T/parkblf.log")"
ss -Htnp state syn-sent | grep -q "pid=$PB_PID," &&
	fail "parkblf is dialling: $(ss -Htnp state syn-sent)"
NATPHONE_LIST=parks NATPHONE_ID=gone NATPHONE_WANT=4930111 \
	timeout 20 "$PYTHON" "$PHONE" tcp 127.0.0.1 "$PB_PORT" refresh \
	"$(sed -n 's/^TAG //p' "$T/gone.out")" >"$T/back.out" 2>&1 ||
	fail "refresh on a new connection: $(cat "$T/back.out")"
has back "BODY .*4930111" || fail "no park after the refresh"
log "a TCP list phone away: nothing dialled, nothing ended; its refresh" \
	"on a new connection brought the park"
