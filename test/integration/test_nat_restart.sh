# Phones behind NAT survive a restart (issue 11): state_db keeps where
# they are.  Two phones whose Via and Contact name 10.9.9.9, an address
# nothing routes to (natphone.py): one on UDP, one on TCP.  parkblf is
# killed (SIGKILL) and started again on the same port; a call parked
# then reaches the UDP phone at the address its SUBSCRIBE came from,
# on its existing dialog.  The TCP phone's connection died with the
# process: nothing is dialled for it, and its refresh on a new
# connection brings the parked call.  The same for two BLF list phones
# (RFC 4662), one on UDP, one on TCP: the UDP one gets the full state
# and the park on its list dialog, the TCP one with its refresh.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db" "blf_list parks"
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf

PHONE="$SRC/test/integration/natphone.py"
"$PYTHON" "$PHONE" udp 127.0.0.1 "$PB_PORT" watch 60 >"$T/udp.out" 2>&1 &
PIDS+=($!)
"$PYTHON" "$PHONE" tcp 127.0.0.1 "$PB_PORT" subscribe >"$T/tcp.out" ||
	fail "TCP phone: $(cat "$T/tcp.out")"
tag=$(sed -n 's/^TAG //p' "$T/tcp.out")
NATPHONE_LIST=parks NATPHONE_ID=lu "$PYTHON" "$PHONE" udp 127.0.0.1 \
	"$PB_PORT" watch 60 >"$T/ludp.out" 2>&1 &
PIDS+=($!)
NATPHONE_LIST=parks NATPHONE_ID=lt "$PYTHON" "$PHONE" tcp 127.0.0.1 \
	"$PB_PORT" subscribe >"$T/ltcp.out" || fail "TCP list phone: $(cat "$T/ltcp.out")"
ltag=$(sed -n 's/^TAG //p' "$T/ltcp.out")

udp_has() { grep -q "$1" "$T/udp.out"; }
wait_for 10 udp_has "BODY .*<state>terminated</state>" ||
	fail "UDP phone: no idle NOTIFY: $(cat "$T/udp.out")"
udp_has "^TAG " || fail "UDP phone: no 200 at its source port"
grep -q "BODY .*<state>terminated</state>" "$T/tcp.out" ||
	fail "TCP phone: no idle NOTIFY: $(cat "$T/tcp.out")"
wait_for 10 grep -q 'BODY .*fullState="true"' "$T/ludp.out" ||
	fail "UDP list phone: no full state: $(cat "$T/ludp.out")"
grep -q 'BODY .*fullState="true"' "$T/ltcp.out" ||
	fail "TCP list phone: no full state: $(cat "$T/ltcp.out")"
[ "$(grep -c "natkeep: 127.0.0.1:[0-9]* (.*) is behind NAT" \
	"$T/parkblf.log")" -eq 4 ] || fail "not all four phones behind NAT"
log "UDP and TCP phones behind NAT subscribed (keys and lists), idle seen"

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 4 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "subscriptions not reloaded"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
wait_for 10 udp_has "BODY .*<state>confirmed</state>.*4930111" ||
	fail "UDP phone: no parked call after the restart: " \
		"$(tail -n 3 "$T/udp.out")"
[ "$(grep -c '^TAG ' "$T/udp.out")" -eq 1 ] ||
	fail "UDP phone subscribed again"
log "after SIGKILL and restart the UDP phone got the park where it is"
# the list's RLMI version went on above 100 (RESUME_MARGIN): a NOTIFY
# of the resumed dialog, full state first, the park shown
lresumed() { grep -q 'BODY .*version="1[0-9][0-9]" fullState="true"' \
	"$T/ludp.out"; }
wait_for 10 lresumed ||
	fail "UDP list phone: no resumed full state: $(tail -n 3 "$T/ludp.out")"
# its latest document (keepalive OPTIONS lines come in between)
lbody() { grep '^BODY ' "$T/ludp.out" | tail -n 1; }
lparked() { lbody | grep -q 'version="1[0-9][0-9]".*4930111'; }
wait_for 10 lparked ||
	fail "UDP list phone: no parked call: $(lbody)"
[ "$(grep -c '^TAG ' "$T/ludp.out")" -eq 1 ] ||
	fail "UDP list phone subscribed again"
log "the UDP list phone too, on its list dialog, full state first"

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
NATPHONE_LIST=parks NATPHONE_ID=lt "$PYTHON" "$PHONE" tcp 127.0.0.1 \
	"$PB_PORT" refresh "$ltag" >"$T/lrefresh.out" ||
	fail "TCP list refresh: $(cat "$T/lrefresh.out")"
grep -q 'BODY .*fullState="true".*4930111' "$T/lrefresh.out" ||
	fail "TCP list refresh: no parked call: $(cat "$T/lrefresh.out")"
log "the TCP list phone the same: its refresh got the full state, the park"

# max_cseq CALL-ID: the highest CSeq of the NOTIFYs parkblf sent there
max_cseq() {
	grep -l "^Call-ID: $1" "$T"/wire/*.sip 2>/dev/null |
		xargs -r grep -h '^CSeq: [0-9]* NOTIFY' |
		sed 's/^CSeq: \([0-9]*\).*/\1/' | sort -n | tail -n 1
}
# both TCP phones just moved (a new connection): their rows were
# written again at once.  Killed before the versions are flushed (1 s)
# and started again, their next NOTIFYs' CSeq still goes up: the rows
# kept the resumed dialogs' CSeq
kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
ck=$(max_cseq nat-tcp-1) cl=$(max_cseq nat-tcp-lt)
[ -n "$ck" ] && [ -n "$cl" ] || fail "no NOTIFYs in $T/wire"
: >"$T/parkblf.log"
start_parkblf
"$PYTHON" "$PHONE" tcp 127.0.0.1 "$PB_PORT" refresh "$tag" >"$T/k2.out" ||
	fail "TCP refresh: $(cat "$T/k2.out")"
NATPHONE_LIST=parks NATPHONE_ID=lt "$PYTHON" "$PHONE" tcp 127.0.0.1 \
	"$PB_PORT" refresh "$ltag" >"$T/l2.out" ||
	fail "TCP list refresh: $(cat "$T/l2.out")"
ck2=$(max_cseq nat-tcp-1) cl2=$(max_cseq nat-tcp-lt)
[ "$ck2" -gt "$ck" ] || fail "key phone: CSeq went from $ck to $ck2"
[ "$cl2" -gt "$cl" ] || fail "list phone: CSeq went from $cl to $cl2"
log "moved, killed at once, restarted: CSeq still up (key $ck -> $ck2," \
	"list $cl -> $cl2)"
