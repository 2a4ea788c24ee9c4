# The Kamailio side of make bench-compare, small: Kamailio 5.6 set up
# as test/bench/kamailio-presence.cfg (presence + presence_dialoginfo,
# memory only, no database) and the load generator's PUBLISH mode
# (loadgen -p) with 20 subscriptions over 2 orbits.  Every SUBSCRIBE is
# established, every park and retrieve PUBLISHed reaches every watcher
# with the right lamp (lit with a dialog, dark without), no PUBLISH is
# refused, no socket of the run drops a datagram, and Kamailio logs no
# error: the comparison measures a Kamailio that serves the workload.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
# 2 UDP workers; the config has no TCP
KAM_PROCS="-n 2" start_kamailio kam "$KP" ../bench/kamailio-presence.cfg \
	CHILDREN=2 MAXBUFFER=4194304
kpid=$KAM_PID_kam
pids=$kpid
for k in $(pgrep -P "$kpid"); do pids+=",$k"; done

timeout 60 "$BUILD/loadgen" -t "127.0.0.1:$KP" -p "127.0.0.1:$KP" \
	-n 5 -k 4 -m 2 -f 3 -T 1 -P "$pids" -W 0 -S 0 \
	>"$T/loadgen.out" 2>"$T/loadgen.err" ||
	fail "loadgen exited $?: $(cat "$T/loadgen.err")"
FAIL_LOGS+=("$T/loadgen.out")

# line PHASE KEY: the value of KEY on the load generator's PHASE line
line() {
	awk -v ph="$1" -v key="$2" '$1 == ph {
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == key) print kv[2]
		}
	}' "$T/loadgen.out"
}

expect() {
	local v
	v=$(line "$1" "$2")
	[ "$v" = "$3" ] || fail "$1 $2=$v, not $3: $(cat "$T/loadgen.out")"
}

expect setup ok 20
expect setup failed 0
expect setup initial_notifies 20
log "20 subscriptions at Kamailio, each with its first NOTIFY"
# 3 rounds of park + retrieve, 10 watchers per orbit
expect fanout events 6
expect fanout samples 60
expect fanout missing 0
expect fanout wrong_state 0
log "6 PUBLISHed changes: every watcher got each, lamp right"
[ "$(line throughput notifies)" -gt 0 ] ||
	fail "no NOTIFY in the throughput phase: $(cat "$T/loadgen.out")"
expect publish failed 0
for ph in setup fanout throughput; do
	expect "$ph" sock_drops 0
done
log "no PUBLISH refused, no datagram dropped"
kam_errors kam && fail "Kamailio logged errors"
log "Kamailio served the comparison's workload without an error"
