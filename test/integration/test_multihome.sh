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

strict_phones 127.0.0.2 "$PORT2"
