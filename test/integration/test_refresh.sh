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

# scenario_run NAME TRANSPORT: one sipp phone runs test/sipp/NAME.xml
scenario_run() {
	local port
	port=$(free_port)
	sipp -sf "$SRC/test/sipp/$1.xml" -s park-1 -t "$2" \
		-i 127.0.0.1 -p "$port" -m 1 -timeout 20s -timeout_error \
		-nostdin -trace_err -error_file "$T/$1-$2.err" \
		"127.0.0.1:$PB_PORT" >"$T/$1-$2.out" 2>&1 ||
		fail "$1 over $2: $(cat "$T/$1-$2.err")"
}

for tp in u1 t1; do
	scenario_run refresh "$tp"
	log "subscribe, refresh, un-subscribe over $tp"
	scenario_run fetch "$tp"
	log "fetch (Expires: 0) over $tp"
done
