# A subscription's lifetime as RFC 6665 has it, over UDP and TCP:
# a repeated first SUBSCRIBE gets the same 200 and no second NOTIFY,
# refresh gets 200 + NOTIFY (still active, next version), Expires: 0
# gets 200 + a final terminated NOTIFY; a fetch (Expires: 0 at once)
# gets 200 + one terminated NOTIFY with the state (sipp checks each
# step).
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

for tp in u1 t1; do
	port=$(free_port)
	sipp -sf "$SRC/test/sipp/refresh.xml" -s park-1 -t "$tp" \
		-i 127.0.0.1 -p "$port" -m 1 -timeout 20s -timeout_error \
		-nostdin -trace_err -error_file "$T/refresh-$tp.err" \
		"127.0.0.1:$PB_PORT" >"$T/refresh-$tp.out" 2>&1 ||
		fail "refresh over $tp: $(cat "$T/refresh-$tp.err")"
	log "subscribe, refresh, un-subscribe over $tp"
done

for tp in u1 t1; do
	port=$(free_port)
	sipp -sf "$SRC/test/sipp/fetch.xml" -s park-1 -t "$tp" \
		-i 127.0.0.1 -p "$port" -m 1 -timeout 20s -timeout_error \
		-nostdin -trace_err -error_file "$T/fetch-$tp.err" \
		"127.0.0.1:$PB_PORT" >"$T/fetch-$tp.out" 2>&1 ||
		fail "fetch over $tp: $(cat "$T/fetch-$tp.err")"
	log "fetch (Expires: 0) over $tp"
done
