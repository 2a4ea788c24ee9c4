# A phone whose Contact is not its requests' source is verified when it
# answers its first NOTIFY there (the 3x rule, SECURITY.md); from then
# on its subscription is kept in state_db like any other, so a restart
# of parkblf does not lose it.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "state_db state.db" "nat_mode never"
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf

"$PYTHON" "$(dirname "$0")/splitphone.py" 127.0.0.1 "$PB_PORT" 60 \
	>"$T/split.out" 2>&1 &
SPLIT=$!
PIDS+=("$SPLIT")
wait_for 10 grep -q '<state>terminated</state>' "$T/split.out" ||
	fail "the phone got no first NOTIFY at its Contact"
sleep 1.5   # rows and versions are written within a second
log "first NOTIFY answered at the Contact"

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
pbx park '*00' call-1 100 Alice >/dev/null
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 1 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "the verified subscription was not kept: $(grep resume: "$T/parkblf.log")"
wait_for 10 grep -q '>sip:100@' "$T/split.out" ||
	fail "the phone was not told of the park after the restart"
log "after SIGKILL and restart: the phone is told of the park"
