# Phones behind Kamailio (the edge proxy of test_kamailio_proxy) with
# trusted_proxies set to its address: parkblf counts each phone by the
# Via below Kamailio's own, so with subscribe_max_per_source 2 two
# phones (127.0.0.21, 127.0.0.22) get two subscriptions each through
# the one proxy, and a phone's third is refused, logged with the
# phone's address.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "subscribe_max_per_source 2" "log_level info" \
	"trusted_proxies 127.0.0.1"
start_parkblf
KP=$(free_port)
start_kamailio kam "$KP" kamailio-proxy.cfg "NEXT=127.0.0.1:$PB_PORT"

# subscribe ADDRESS CODE: a phone on ADDRESS subscribes to park-1
# through the proxy; the answer must be CODE
subscribe() {
	scenario expect.xml.in "$T/sub.xml" METHOD=SUBSCRIBE "CODE=$2" \
		HEADER=CSeq: HEADER_RE=SUBSCRIBE "EXTRA_HEADERS=Event: dialog" \
		AFTER=
	sipp -sf "$T/sub.xml" -s park-1 -i "$1" -p "$(free_port)" -m 1 \
		-timeout 15s -timeout_error -nostdin \
		-trace_err -error_file "$T/sub.err" \
		"127.0.0.1:$KP" >"$T/sub.out" 2>&1 ||
		fail "phone $1 through the proxy: not answered $2:" \
			"$(cat "$T/sub.err" 2>/dev/null)"
	log "phone $1 through the proxy: $2"
}

for p in 127.0.0.21 127.0.0.22; do
	subscribe $p 200
	subscribe $p 200
done
# RFC 3261 16.7: a proxy passes a 503 on as 500
subscribe 127.0.0.21 500
grep -q "SUBSCRIBE from 127.0.0.21:[0-9]* refused: over" \
	"$T/parkblf.log" || fail "the refusal does not name the phone"
