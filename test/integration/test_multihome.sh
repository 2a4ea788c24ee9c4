# Several sip_listen addresses (a multi-homed host, or sip_listen
# 0.0.0.0 expanded into one socket per local address): every request
# parkblf sends a phone leaves from the address and port the phone
# subscribed to, with that address in its Via and Contact.  A phone
# behind a strict firewall (strictphone.py: it takes requests only from
# where it sent its SUBSCRIBE) subscribes on the second address, once
# to a BLF list (RFC 4662: libre's notifier sends those NOTIFYs) and
# once to one orbit (the fast path; its final NOTIFY goes through
# libre).  Each gets its first NOTIFY, a park, and the final NOTIFY
# after its un-SUBSCRIBE, all from 127.0.0.2, nothing from 127.0.0.1.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "sip_listen 127.0.0.1:0" "sip_listen 127.0.0.2:0" \
	"blf_list parks"
start_parkblf
PORT2=$(sed -n 's/.*sip: listening on 127.0.0.2:\([0-9]*\) (udp, tcp).*/\1/p' \
	"$T/parkblf.log")
[ -n "$PORT2" ] || fail "no listener on 127.0.0.2 in the log"
[ "$PORT2" != "$PB_PORT" ] || fail "both listeners on port $PB_PORT"

PHONE="$SRC/test/integration/strictphone.py"
STRICT_LIST=1 STRICT_UNSUB=6 "$PYTHON" "$PHONE" 127.0.0.2 "$PORT2" 10 \
	parks >"$T/list.out" 2>&1 &
PIDS+=($!)
STRICT_UNSUB=6 "$PYTHON" "$PHONE" 127.0.0.2 "$PORT2" 10 park-1 \
	>"$T/key.out" 2>&1 &
PIDS+=($!)

has() { grep -q -- "$2" "$T/$1.out"; }
wait_for 5 has list 'REQ NOTIFY .*fullState="true"' ||
	fail "list: no full state from 127.0.0.2:$PORT2: $(cat "$T/list.out")"
wait_for 5 has key 'REQ NOTIFY .*STATE=active' ||
	fail "key: no first NOTIFY from 127.0.0.2:$PORT2: $(cat "$T/key.out")"
log "first NOTIFYs of the list and the key from 127.0.0.2"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
wait_for 5 has list 'REQ NOTIFY .*fullState="false".*4930111' ||
	fail "list: no park from 127.0.0.2:$PORT2: $(cat "$T/list.out")"
wait_for 5 has key 'REQ NOTIFY .*STATE=active.*4930111' ||
	fail "key: no park from 127.0.0.2:$PORT2: $(cat "$T/key.out")"
log "the park reached both from 127.0.0.2"

for p in list key; do
	wait_for 8 has $p 'REQ NOTIFY .*STATE=terminated' ||
		fail "$p: no final NOTIFY from 127.0.0.2:$PORT2:" \
			"$(cat "$T/$p.out")"
done
log "the final NOTIFYs after the un-SUBSCRIBEs from 127.0.0.2"

for p in list key; do
	has $p '^STRAY' && fail "$p: requests from elsewhere:" \
		"$(grep '^STRAY' "$T/$p.out")"
	bad=$(grep '^REQ' "$T/$p.out" | grep -v \
		" SRC=127.0.0.2:$PORT2 VIA=127.0.0.2:$PORT2 CONTACT=127.0.0.2:$PORT2 ")
	[ -z "$bad" ] || fail "$p: Via or Contact not 127.0.0.2:$PORT2: $bad"
done
log "nothing from 127.0.0.1; Via and Contact name 127.0.0.2:$PORT2"
