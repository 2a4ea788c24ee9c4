# Calls waiting too long (park_alert_after): a phone's key shows the
# call confirmed, then early once it has waited the alert time, with no
# upstream change in between; the presence note says how long; /status
# marks the call overdue and /metrics counts it; the retrieve ends it.
# An orbit with alert_after=0 never alerts, until a reload gives it one.
. "$(dirname "$0")/lib.sh"

need_tools curl

start_fakepbx
write_config "park_alert_after 3" "http_listen 127.0.0.1:0"
cat >"$T/orbits.conf" <<EOM
park-1 *00 label="Orbit 0"
park-2 *01 alert_after=0
EOM
start_parkblf
http_ports

get() {
	curl -sS --max-time 5 "$URL$1" || fail "GET $1 failed"
}

# the JSON of the first call of an orbit in /status
status_call() {
	get /status | jq -c ".orbits[] | select(.name == \"$1\") | .calls[0]"
}

metric() {
	get /metrics | awk -v m="$1" '$1 == m { print $2 }'
}

upstream_notifies() {
	grep -c 'NOTIFY .* sent' "$T/fakepbx.log"
}

start_phone p1 park-1 QUIET_MS=30000
start_phone p2 park-2 QUIET_MS=30000
start_phone pp park-1 EVENT=presence ACCEPT=application/pidf+xml \
	QUIET_MS=30000
expect_last p1 '<state>terminated</state>'
expect_last p2 '<state>terminated</state>'
expect_last pp '<note>free</note>'

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
pbx park '*01' call-2 4930222 'Bob' >/dev/null
parked=$(date +%s%N)
expect_last p1 '<state>confirmed</state>'
expect_last p2 '<state>confirmed</state>'
expect_last pp '<note>Parked: 4930111 Alice Smith</note>'
[ "$(status_call park-1 | jq .overdue)" = false ] ||
	fail "a call of 0 s is overdue: $(status_call park-1)"
[ "$(metric parkblf_overdue_calls)" = 0 ] ||
	fail "overdue_calls before the alert time: " \
		"$(metric parkblf_overdue_calls)"
ups=$(upstream_notifies)
log "parked: confirmed, not overdue"

# the alert time passes; nothing comes from the PBX
expect_last p1 '<state>early</state>' 8
waited=$(( ($(date +%s%N) - parked) / 1000000 ))
[ "$waited" -ge 2900 ] || fail "early after only $waited ms (alert 3 s)"
[ "$(upstream_notifies)" = "$ups" ] ||
	fail "the PBX sent NOTIFYs meanwhile: the test proves nothing"
last_matches p1 '<duration>[3-9]</duration>' ||
	fail "duration of the overdue call: $(last_notify p1)"
[ "$(last_callers p1)" = "4930111 Alice Smith" ] ||
	fail "caller after the alert: '$(last_callers p1)'"
expect_last pp '<note>Parked: 4930111 Alice Smith, waiting over 3 s</note>'
log "after ${waited} ms without an upstream change: early," \
	"note 'waiting over 3 s'"

[ "$(status_call park-1 | jq .overdue)" = true ] ||
	fail "/status: not overdue: $(status_call park-1)"
get /status | jq -e '.orbits[] | select(.name == "park-1") |
	.overdue == true and .alert_after_s == 3' >/dev/null ||
	fail "/status park-1: $(get /status)"
[ "$(status_call park-2 | jq .overdue)" = false ] ||
	fail "alert_after=0 orbit overdue: $(status_call park-2)"
[ "$(metric parkblf_overdue_calls)" = 1 ] ||
	fail "overdue_calls: $(metric parkblf_overdue_calls)"
[ "$(metric parkblf_alerts_total)" = 1 ] ||
	fail "alerts_total: $(metric parkblf_alerts_total)"
log "/status marks the call overdue; /metrics: 1 overdue call, 1 alert"

# park-2 (alert_after=0) stays confirmed
last_matches p2 '<state>confirmed</state>' ||
	fail "alert_after=0 changed the lamp: $(last_notify p2)"
grep -q 'alert: park-2' "$T/parkblf.log" && fail "park-2 alerted"

# a reload that gives park-2 an alert time its call has already waited
sed -i 's/^park-2 \*01 alert_after=0$/park-2 *01 alert_after=2/' \
	"$T/orbits.conf"
kill -HUP "$PB_PID"
expect_last p2 '<state>early</state>'
[ "$(status_call park-2 | jq .overdue)" = true ] ||
	fail "park-2 after the reload: $(status_call park-2)"
log "reload with alert_after=2: park-2's waiting call is overdue at once"

pbx retrieve '*00' >/dev/null
expect_last p1 '<state>terminated</state>'
expect_last pp '<note>free</note>'
[ "$(metric parkblf_overdue_calls)" = 1 ] ||
	fail "overdue_calls after the retrieve (park-2's left): " \
		"$(metric parkblf_overdue_calls)"
[ "$(metric parkblf_alerts_total)" = 2 ] ||
	fail "alerts_total: $(metric parkblf_alerts_total)"
get /status | jq -e '.orbits[] | select(.name == "park-1") |
	.overdue == false' >/dev/null || fail "still overdue: $(get /status)"
pbx retrieve '*01' >/dev/null
expect_last p2 '<state>terminated</state>'
[ "$(metric parkblf_overdue_calls)" = 0 ] ||
	fail "overdue_calls with no call: $(metric parkblf_overdue_calls)"
log "retrieved: terminated, nothing overdue"

# what happened: both calls in /status?history=N, newest first, and the
# wait histogram
h=$(get '/status?history=5' | jq -c .history)
echo "$h" | jq -e 'length == 2 and .[0].orbit == "park-2" and
	.[0].number == "4930222" and .[1].orbit == "park-1" and
	.[1].name == "Alice Smith" and .[1].waited_s >= 3 and
	.[1].waited_s < 60' >/dev/null || fail "history: $h"
get /status | jq -e 'has("history") | not' >/dev/null ||
	fail "/status without ?history= has a history"
[ "$(get '/status?history=1' | jq '.history | length')" = 1 ] ||
	fail "?history=1: $(get '/status?history=1')"
[ "$(metric parkblf_park_wait_seconds_count)" = 2 ] ||
	fail "wait histogram count: $(metric parkblf_park_wait_seconds_count)"
[ "$(metric 'parkblf_park_wait_seconds_bucket{le="+Inf"}')" = 2 ] ||
	fail "wait histogram: $(get /metrics | grep park_wait)"
log "history: $(echo "$h" | jq -c '[.[] | [.orbit, .waited_s]]');" \
	"histogram count 2"

for p in p1 p2 pp; do
	eval "kill -TERM \$PHONE_$p"
done
