# Nobody can use parkblf as a traffic amplifier against a third party
# (issue 12, finding 1): to an address that has not shown it is
# reachable, parkblf sends at most 3 times the bytes it received from
# the requester, retransmissions included (RFC 9000 8.1's rule).
#
#  - 2,000 fetches (SUBSCRIBE, Expires: 0) from one source whose
#    Contact names a victim address that never answers: within the 32 s
#    a NOTIFY is retransmitted, the victim receives at most 3 times the
#    bytes the source sent (on e9e1360: 21 times); so do subscriptions,
#    whose withheld retransmissions /metrics counts.
#  - Responses go where the request came from: a Via maddr naming the
#    victim gets it nothing (an INVITE's 302 was retransmitted to it
#    for 32 s).
#  - How a phone gets past it: one whose Contact is not its source
#    address but that answers the first NOTIFY is verified, and gets
#    every NOTIFY after that.
#
# nat_mode never: NOTIFYs go to the Contact (with the default auto, a
# Contact that is not the source is taken for a phone behind NAT, and
# its NOTIFYs go to the source instead).
. "$(dirname "$0")/lib.sh"

FLOOD=$SRC/test/flood
start_fakepbx
write_config "subscribe_max_per_source 100" "nat_mode never" \
	"http_listen 127.0.0.1:0"
start_parkblf
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")

# kv NAME: a value from the last sipflood line
kv() { sed -n "s/.* $1=\([0-9]*\).*/\1/p; s/^$1=\([0-9]*\).*/\1/p" \
	"$T/flood.out" | tail -n 1; }

# flood TEMPLATE VICTIM_IP COUNT TAIL_S [ARGS...]
flood() {
	local tpl=$1 vip=$2 n=$3 tail=$4
	shift 4
	"$BUILD/sipflood" -t "127.0.0.1:$PB_PORT" -s "127.0.0.1:$(free_port)" \
		-v "$vip:$(free_port)" -m "$FLOOD/$tpl" -n "$n" -T "$tail" \
		"$@" >"$T/flood.out" 2>&1 || fail "sipflood: $(cat "$T/flood.out")"
	log "$(cat "$T/flood.out")"
}

# --- 2,000 fetches, Contact: the victim; 34 s to see every retransmission
flood fetch.sip 127.0.0.2 2000 34
sent=$(kv sent_bytes)
got=$(kv victim_bytes)
[ "$(kv sent)" = 2000 ] || fail "not every fetch was sent"
[ "$got" -le $((3 * sent)) ] ||
	fail "the victim received $got bytes for $sent sent: $((got / sent))x"
log "2,000 fetches naming a victim: it got $got bytes for $sent sent"

# --- subscriptions naming a victim: the first NOTIFY fits the budget,
# its retransmissions do not: given up at once, and counted
flood subscribe.sip 127.0.0.2 20 5
[ "$(kv victim_bytes)" -le $((3 * $(kv sent_bytes))) ] ||
	fail "subscriptions: the victim got $(kv victim_bytes) bytes for" \
		"$(kv sent_bytes)"
withheld=$(curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/metrics" |
	sed -n 's/^parkblf_unverified_withheld_total //p')
[ "${withheld:-0}" -ge 20 ] ||
	fail "/metrics: parkblf_unverified_withheld_total '$withheld'"
log "20 subscriptions naming a victim: it got $(kv victim_bytes) bytes" \
	"for $(kv sent_bytes); /metrics: $withheld datagrams withheld"
kill -0 "$PB_PID" || fail "parkblf died"

# --- a Via maddr naming the victim: nothing goes there
flood invite-maddr.sip 127.0.0.2 50 5
[ "$(kv victim_bytes)" -le $((3 * $(kv sent_bytes))) ] ||
	fail "Via maddr: the victim got $(kv victim_bytes) bytes for" \
		"$(kv sent_bytes)"
log "INVITEs whose Via maddr names the victim: it got $(kv victim_bytes)" \
	"bytes"

# --- a phone that answers is verified: its NOTIFYs are not limited
( sleep 3
  for i in 1 2 3 4 5 6; do
	pbx park '*00' "call-$i" "10$i" "Caller $i" >/dev/null
	sleep 0.6
  done ) &
PIDS+=($!)
flood subscribe.sip 127.0.0.3 1 9 -a
[ "$(kv victim_requests)" -ge 5 ] ||
	fail "an answering Contact got $(kv victim_requests) NOTIFYs"
[ "$(kv victim_bytes)" -gt $((3 * $(kv sent_bytes))) ] ||
	fail "an answering Contact got only $(kv victim_bytes) bytes"
log "a Contact that answers is verified: $(kv victim_requests) NOTIFYs"
