# test/watch.sh, the BLF key in a terminal: with -p it watches from
# that port and prints the lamp and the caller; a SUBSCRIBE refused
# (404) or not answered at all ends it with a message and status 1
# within its -t bound (never hangs); when parkblf ends the subscription
# (the orbit left the map) it says so and exits 1.  The caller's name
# shows as parked, XML entities resolved.
. "$(dirname "$0")/lib.sh"

W=$SRC/test/watch.sh

# watch_bounded OUT ARGS...: watch.sh, killed after 20 s; prints its
# exit status (124: it hung)
watch_bounded() {
	local out=$1
	shift
	timeout 20 "$W" "$@" >"$T/$out" 2>&1
	echo $?
}

start_fakepbx
write_config
start_parkblf
pbx park '*00' call-1 100 "Alice & 'Al' <\"A\">" >/dev/null

# 1. an orbit parkblf does not know: 404, exit 1
rc=$(watch_bounded nf.out -t 3 park-9 "127.0.0.1:$PB_PORT")
[ "$rc" = 1 ] || fail "404: exit $rc: $(cat "$T/nf.out")"
grep -q "refused the SUBSCRIBE to park-9: 404 Not Found" "$T/nf.out" ||
	fail "404: $(cat "$T/nf.out")"
grep -q watching "$T/nf.out" && fail "404 but 'watching': $(cat "$T/nf.out")"
log "refused (404): $(cat "$T/nf.out")"

# 2. nobody answers (nothing listens on that port): exit 1
rc=$(watch_bounded none.out -t 2 park-1 "127.0.0.1:$(free_port)")
[ "$rc" = 1 ] || fail "no answer: exit $rc: $(cat "$T/none.out")"
grep -q "no answer from .* in 2 s" "$T/none.out" ||
	fail "no answer: $(cat "$T/none.out")"
log "unanswered: $(cat "$T/none.out")"

# 3. it works, from the port given
port=$(free_port)
"$W" -p "$port" park-1 "127.0.0.1:$PB_PORT" >"$T/w.out" 2>&1 &
wpid=$!
PIDS+=("$wpid")
wait_for 10 grep -qF "  100 (Alice & 'Al' <\"A\">)" "$T/w.out" ||
	fail "no lit lamp with Alice as parked: $(cat "$T/w.out")"
grep -q '  LIT  ' "$T/w.out" || fail "the lamp is not lit: $(cat "$T/w.out")"
grep -q "^watching park-1 at 127.0.0.1:$PB_PORT from 127.0.0.1:$port " \
	"$T/w.out" || fail "first line: $(head -n 1 "$T/w.out")"
grep -q "notifier: park-1 subscribed from 127.0.0.1:$port$" \
	"$T/parkblf.log" || fail "parkblf did not see port $port"
pbx retrieve '*00' >/dev/null
wait_for 10 grep -q 'dark .* terminated' "$T/w.out" ||
	fail "no dark lamp after the retrieve: $(cat "$T/w.out")"
log "watching from port $port: lit with Alice, dark after the retrieve"

# 4. parkblf ends the subscription: park-1 leaves the map
printf 'park-2 *01\n' >"$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 10 eval '! kill -0 "$wpid" 2>/dev/null' ||
	fail "watch.sh still running after its orbit was removed"
wait "$wpid"
rc=$?
[ "$rc" = 1 ] || fail "ended subscription: exit $rc"
grep -q "parkblf ended the subscription: terminated;reason=noresource" \
	"$T/w.out" || fail "no word of the end: $(cat "$T/w.out")"
log "orbit removed: $(tail -n 1 "$T/w.out")"
