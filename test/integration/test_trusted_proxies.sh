# Phones behind a proxy (trusted_proxies): every SUBSCRIBE comes from
# the proxy's address, yet each phone is counted by the Via below the
# proxy's own (subscribe_max_per_source, subscribe_allow); a request
# from any other source is counted by its source, whatever its Vias say;
# a trusted proxy's request without a usable phone Via counts as the
# proxy.  Without trusted_proxies the proxy is one phone.
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

PROXY=127.0.0.1

# proxied SOURCE PHONE CODE [NAT]: a SUBSCRIBE from SOURCE (a proxy)
# carrying a Via of PHONE below its own (none if PHONE is empty) must
# get CODE; NAT: the phone is behind NAT, the proxy saw it there
# (received=NAT), its Contact is PHONE
proxied() {
	# (an empty line would end the headers)
	local src=$1 phone=$2 code=$3 via="X-Phone: none" contact="$1"
	local rcvd=${4:+;received=$4;rport=40000}
	if [ -n "$phone" ]; then
		via="Via: SIP/2.0/UDP $phone:5060$rcvd;branch=z9hG4bK$RANDOM"
		[ -n "$rcvd" ] || via="${via/5060;/5060;rport;}"
		contact="$phone:5060"
	fi
	scenario proxied.xml.in "$T/proxied.xml" "PHONE_VIA=$via" \
		"CONTACT=$contact" "CODE=$code"
	sipp -sf "$T/proxied.xml" -s park-1 -i "$src" -p "$(free_port)" \
		-m 1 -timeout 15s -timeout_error -nostdin \
		-trace_err -error_file "$T/proxied.err" \
		"127.0.0.1:$PB_PORT" >"$T/proxied.out" 2>&1 ||
		fail "from $src for phone '$phone': not answered $code:" \
			"$(cat "$T/proxied.err" 2>/dev/null)"
	log "from $src for phone '${phone:-none}': $code"
}

start_fakepbx

# --- without trusted_proxies: the proxy is one phone
write_config "subscribe_max_per_source 2" "log_level info"
start_parkblf
proxied $PROXY 127.0.0.21 200
proxied $PROXY 127.0.0.22 200
proxied $PROXY 127.0.0.23 503
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
mv "$T/parkblf.log" "$T/parkblf-untrusted.log"

# --- trusted_proxies: each phone counted by its own address
write_config "subscribe_max_per_source 2" "log_level info" \
	"trusted_proxies $PROXY/32" "state_db $T/state.db"
start_parkblf
for p in 21 22 23; do
	proxied $PROXY 127.0.0.$p 200
	proxied $PROXY 127.0.0.$p 200
done
proxied $PROXY 127.0.0.21 503
grep -q "SUBSCRIBE from 127.0.0.21:5060 refused: over" "$T/parkblf.log" ||
	fail "the refusal does not name the phone"
# a phone behind NAT: counted where the proxy saw it, not by its Contact
proxied $PROXY 10.9.9.9 200 127.0.0.31
proxied $PROXY 10.9.9.9 200 127.0.0.31
proxied $PROXY 10.9.9.9 503 127.0.0.31

# after a restart the saved subscriptions count against their phones
# (the address the proxy's Via gave, state_db keeps it) again, not
# against the proxy, nor (behind NAT) against their Contact's address
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
mv "$T/parkblf.log" "$T/parkblf-before-restart.log"
start_parkblf
grep -q "resume: 8 phone subscription" "$T/parkblf.log" ||
	fail "the 8 subscriptions were not resumed"
proxied $PROXY 127.0.0.22 503
proxied $PROXY 10.9.9.9 503 127.0.0.31
proxied $PROXY 10.9.9.9 200
proxied $PROXY 127.0.0.24 200

# a phone outside subscribe_allow: refused by its address, not the proxy's
proxied $PROXY 192.0.2.7 403

# not a trusted proxy: its Vias are not believed (its own address counts)
proxied 127.0.0.2 127.0.0.24 200
proxied 127.0.0.2 127.0.0.25 200
proxied 127.0.0.2 127.0.0.26 503

# a trusted proxy's request without a phone Via: the proxy's address
proxied $PROXY "" 200
proxied $PROXY "" 200
proxied $PROXY "" 503
