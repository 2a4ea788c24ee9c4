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
# The wire dump records them as they left: 127.0.0.2 in Via and
# Contact, also those that libre wrote for 127.0.0.1 and sippin moved.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "sip_listen 127.0.0.1:0" "sip_listen 127.0.0.2:0" \
	"blf_list parks"
start_parkblf
PORT2=$(sed -n 's/.*sip: listening on 127.0.0.2:\([0-9]*\) (udp, tcp).*/\1/p' \
	"$T/parkblf.log")
[ -n "$PORT2" ] || fail "no listener on 127.0.0.2 in the log"
[ "$PORT2" != "$PB_PORT" ] || fail "both listeners on port $PB_PORT"

strict_phones 127.0.0.2 "$PORT2"

# what the wire dump recorded is what left: every NOTIFY (the phones
# are all on 127.0.0.2) names 127.0.0.2 in its Via and Contact
n=0
for f in "$T"/wire/*.sip; do
	head -n 1 "$f" | grep -q '^NOTIFY ' || continue
	n=$((n + 1))
	grep -q "^Via: SIP/2.0/UDP 127.0.0.2:$PORT2;" "$f" &&
		grep -q "^Contact: .*@127.0.0.2:$PORT2[;>]" "$f" ||
		fail "the wire dump's $(basename "$f") is not what left" \
			"127.0.0.2:$PORT2: $(grep -E '^(Via|Contact):' "$f")"
done
[ "$n" -ge 6 ] || fail "the wire dump holds $n NOTIFYs"
log "wire dump: $n NOTIFYs, each with 127.0.0.2:$PORT2 in Via and Contact"
