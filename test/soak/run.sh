# The soak test proper, run by test/soak/soak.sh with BUILD, T and
# SOAK_SECONDS set (sourcing test/integration/lib.sh: its cleanup stops
# every process started here by PID and fails on a sanitizer report).
#
# For SOAK_SECONDS: SOAK_PHONES subscriptions from SOAK_PROCS sipp
# processes (phone.xml: refreshes, un-SUBSCRIBEs, subscribing again
# after a terminated NOTIFY or a refusal), the fake PBX flapping every
# 2-5 s, a park or retrieve every ~0.5 s and an orbit map rewrite every
# ~20 s (one in five broken).  Then everything stops and settles, and
# every phone still subscribed, plus one fresh watcher per orbit, must
# show the PBX's true state.  Finally parkblf must exit 0 on SIGTERM.
. "$(dirname "$0")/../integration/lib.sh"

PHONES=${SOAK_PHONES:-200}
PROCS=${SOAK_PROCS:-5}
HERE=$SRC/test/soak
FAILS=0

now() { date +%s; }
# a failed check: counted, reported, the run goes on to the summary
bad() {
	FAILS=$((FAILS + 1))
	echo "FAIL: $*" >&2
	ev "FAIL $*"
}

. "$HERE/chaos.sh"

# status_of PID FIELD: a field of /proc/PID/status (kB for Vm*)
status_of() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}
alive() {
	[ -r "/proc/$1/status" ] && [ "$(status_of "$1" State)" != Z ]
}
# reap PID SECONDS: wait for the child PID to exit (SIGKILL after
# SECONDS); its exit status.  Polls instead of a "( sleep; kill ) &"
# watchdog: no subshell of this shell may run lib.sh's EXIT trap.
reap() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		alive "$1" || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}
metric() {
	curl -s "http://127.0.0.1:$HTTP_PORT/metrics" |
		awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 }
			END { print s + 0 }'
}

# --- set-up ---

start_fakepbx
write_config "upstream_retry_min 1" "upstream_retry_max 2" \
	"upstream_grace 3" "upstream_keepalive 1" "upstream_expires 10" \
	"notify_phone_rate 100000" "notify_min_interval 0" \
	"subscribe_max_per_source 100000" "http_listen 127.0.0.1:0"
write_map "$T/orbits.conf"
cp "$T/orbits.conf" "$T/orbits.good"
start_parkblf
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log" | tail -n 1)
[ -n "$HTTP_PORT" ] || fail "no HTTP port in the log"
log "parkblf $PB_PID (sip $PB_PORT, http $HTTP_PORT), fake PBX $PBX_PID;" \
	"logs in $T"

# the soak phones: PROCS sipp processes, PHONES/PROCS calls at a time
# each, any orbit that may exist (park-11..14 only sometimes: 404);
# the last SOAK_TCP (default 1) of them over TCP, the others over UDP
{
	echo RANDOM
	for i in $(seq 1 14); do echo "park-$i;"; done
} >"$T/orbits.csv"
SOAK_PIDS=()
for p in $(seq 1 "$PROCS"); do
	port=$(free_port)
	tr=u1
	[ "$p" -gt $((PROCS - ${SOAK_TCP:-1})) ] && tr=t1
	sipp -sf "$HERE/phone.xml" -inf "$T/orbits.csv" -i 127.0.0.1 \
		-t "$tr" -p "$port" -m 100000000 -l $((PHONES / PROCS)) -r 10 \
		-nostdin -trace_msg -message_file "$T/soak$p.msg" \
		-trace_err -error_file "$T/soak$p.err" \
		"127.0.0.1:$PB_PORT" >"$T/soak$p.out" 2>&1 &
	PIDS+=($!)
	SOAK_PIDS+=($!)
done
watchers_ge() { [ "$(metric parkblf_orbit_watchers)" -ge "$1" ]; }
wait_for 30 watchers_ge $((PHONES * 2 / 3)) ||
	fail "the soak phones did not subscribe" \
		"($(metric parkblf_orbit_watchers) watchers)"
log "$(metric parkblf_orbit_watchers) phone subscriptions up;" \
	"soaking for $SOAK_SECONDS s"

# --- the soak ---

START=$(now)
rm -f "$T/stop"
LOOPS=()
for l in flapper parker reloader; do
	T=$T PBX_CTL=$PBX_CTL PB_PID=$PB_PID bash "$HERE/chaos.sh" "$l" &
	PIDS+=($!)
	LOOPS+=($!)
done

echo "elapsed_s VmRSS_kB VmHWM_kB watchers" >"$T/rss.log"
next_sample=0
while [ $(( $(now) - START )) -lt "$SOAK_SECONDS" ]; do
	alive "$PB_PID" || fail "parkblf died"
	alive "$PBX_PID" || fail "the fake PBX died"
	for pid in "${SOAK_PIDS[@]}"; do
		alive "$pid" || fail "soak sipp $pid died"
	done
	t=$(( $(now) - START ))
	if [ "$t" -ge "$next_sample" ]; then
		echo "$t $(status_of "$PB_PID" VmRSS)" \
			"$(status_of "$PB_PID" VmHWM)" \
			"$(metric parkblf_orbit_watchers)" >>"$T/rss.log"
		next_sample=$((next_sample + 30))
		[ $((t % 60)) -lt 30 ] && log "$t s: $(tail -n 1 "$T/rss.log" |
			awk '{ print "RSS " $2 " kB, " $4 " watchers" }'),"\
"$(grep -c 'link up -> down' "$T/parkblf.log") outages so far"
	fi
	sleep 2
done

# --- settle: no more flapping, parking or rewriting ---

touch "$T/stop"
for pid in "${LOOPS[@]}"; do
	reap "$pid" 20
done
SOAKED=$(( $(now) - START ))
pbx silent off >/dev/null
pbx accept >/dev/null
# the map in force is the last good one: make it the file again too
a=$(applied)
cp "$T/orbits.good" "$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 10 log_count_ge $((a + 1)) 'reload: [0-9]+ orbits from' ||
	bad "the final map was not applied"
settled() {
	[ "$(pbxq subs)" = "ok 1" ] &&
		grep -E 'link [a-z]+ -> [a-z]+' "$T/parkblf.log" | tail -n 1 |
			grep -q -- '-> up' &&
		! grep -E 'upstream down for|upstream back' "$T/parkblf.log" |
			tail -n 1 | grep -q 'down for'
}
wait_for 40 settled ||
	bad "not settled 40 s after the soak: PBX $(pbxq subs)," \
		"$(grep -E 'link [a-z]+ -> [a-z]+' "$T/parkblf.log" | tail -n 1)"
# long enough for an upstream refresh and for every phone to be back
sleep 12
TRUTH_STATE=$(pbx state)
log "settled; the PBX's state: $TRUTH_STATE"

# --- the truth, per orbit of the map in force ---

declare -A ODN OLABEL TRUTH
ORBITS=()
while read -r name dn rest; do
	case $name in park-*) ;; *) continue ;; esac
	ORBITS+=("$name")
	ODN[$name]=$dn
	OLABEL[$name]=
	[[ $rest == *label=\"* ]] &&
		OLABEL[$name]=$(sed 's/.*label="\([^"]*\)".*/\1/' <<<"$rest")
done <"$T/orbits.good"
for dn in "${DNS[@]}"; do
	TRUTH[$dn]=$(dn_calls "$TRUTH_STATE" "$dn")
done

# check_body BODY ORBIT: prints why BODY is not ORBIT's true state
check_body() {
	local body=$1 orbit=$2 dn calls oldest num name label n
	[ -n "${ODN[$orbit]+x}" ] || { echo "$orbit is not in the map"; return; }
	dn=${ODN[$orbit]}
	label=${OLABEL[$orbit]}
	[[ $body == *"entity=\"sip:$orbit@"* ]] || { echo "wrong entity"; return; }
	n=$(grep -o '<dialog ' <<<"$body" | wc -l)
	[ "$n" = 1 ] || { echo "$n dialogs"; return; }
	calls=${TRUTH[$dn]}
	if [ -z "$calls" ]; then
		[[ $body == *"<state>terminated</state>"* ]] ||
			echo "$dn is idle, the lamp is not"
		return
	fi
	oldest=${calls%%,*}
	num=$(number_of "$oldest")
	name=$(name_of "$oldest")
	name=${name//&/&amp;}
	[[ $body == *"<state>confirmed</state>"* ]] ||
		{ echo "$dn holds $oldest, the lamp is not lit"; return; }
	[[ $body == *"display=\"$name\">sip:$num@"* ]] ||
		{ echo "$dn's oldest call is $oldest ($num $name)"; return; }
	[ -z "$label" ] || [[ $body == *"display=\"$label\">sip:$orbit@"* ]] ||
		echo "label is not '$label'"
}

# --- fresh watchers, one per orbit ---

for o in "${ORBITS[@]}"; do
	start_phone "v${o#park-}" "$o" QUIET_MS=3000
done
VERIFIED=0
has_notify() { [ "$(notify_count "$1")" -ge 1 ]; }
for o in "${ORBITS[@]}"; do
	wait_for 10 has_notify "v${o#park-}" ||
		{ bad "verification phone on $o got no NOTIFY"; continue; }
	why=$(check_body "$(notifies "v${o#park-}" | head -n 1)" "$o")
	if [ -n "$why" ]; then
		bad "verification phone on $o: $why: $(notifies "v${o#park-}" | head -n 1)"
	else
		VERIFIED=$((VERIFIED + 1))
	fi
done
log "fresh watchers: $VERIFIED of ${#ORBITS[@]} orbits right"

# --- the soak phones still subscribed ---

for p in $(seq 1 "$PROCS"); do
	cp "$T/soak$p.msg" "$T/snap$p.msg"
done
# the calls sipp gave up on (their last NOTIFY is not the latest)
aborts() { cat "$T"/soak*.err 2>/dev/null | grep -o "Aborting call[^']*'[^']*'.*"; }
aborts | sed "s/^[^']*'\([^']*\)'.*/\1/" >"$T/aborted.txt"
awk -v aborted="$T/aborted.txt" -f "$HERE/calls.awk" "$T"/snap*.msg \
	>"$T/calls.txt"
ACTIVE=0 ACTIVE_OK=0
while read -r kind cid orbit body; do
	[ "$kind" = ACTIVE ] || continue
	ACTIVE=$((ACTIVE + 1))
	if [ "$body" = - ]; then
		bad "soak phone $cid on $orbit: subscribed, but no NOTIFY"
		continue
	fi
	why=$(check_body "$body" "$orbit")
	if [ -n "$why" ]; then
		bad "soak phone $cid on $orbit: $why: $body"
	else
		ACTIVE_OK=$((ACTIVE_OK + 1))
	fi
done <"$T/calls.txt"
[ "$ACTIVE" -ge $((PHONES / 2)) ] ||
	bad "only $ACTIVE soak phones subscribed at the end"
log "soak phones still subscribed: $ACTIVE_OK of $ACTIVE right"
for o in "${ORBITS[@]}"; do
	phone_done "v${o#park-}"
done

# --- numbers, then the shutdown ---

cstat() { awk -v s="$1" '$1 == "STAT" && $2 == s { print $3 }' \
	"$T/calls.txt" | grep . || echo 0; }
HWM=$(status_of "$PB_PID" VmHWM)
RSS=$(status_of "$PB_PID" VmRSS)
M_NOTIFIES=$(metric parkblf_notifies_sent_total)
M_ACCEPTED=$(metric parkblf_subscribes_accepted_total)
M_REFUSED=$(metric parkblf_subscribes_refused_total)
M_FAILED=$(metric parkblf_notifies_failed_total)
M_UPSUBS=$(metric parkblf_upstream_attempts_total)
M_WATCHERS=$(metric parkblf_orbit_watchers)
ABORTED=$(aborts | wc -l)
# requests that got no answer (initial SUBSCRIBE: 1, un-SUBSCRIBE: 15)
LOST=$(cat "$T"/soak*.err 2>/dev/null |
	grep -Eo 'receive timeout on message parkblf soak phone:(1|15),' |
	wc -l)
DEAD=$(cat "$T"/soak*.err 2>/dev/null | grep -o 'Dead call' | wc -l)
[ "$ABORTED" = 0 ] ||
	bad "$ABORTED soak calls aborted by sipp:" "$(aborts | head -n 3)"

# SIGTERM while the soak phones are still subscribed: exit 0 in time
kill -TERM "$PB_PID"
t0=$(date +%s%N)
reap "$PB_PID" 10
PB_RC=$?
STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
# lib.sh's cleanup must not signal it again
for i in "${!DAEMONS[@]}"; do
	[ "${DAEMONS[$i]%%:*}" = "$PB_PID" ] && unset "DAEMONS[$i]"
done
[ "$PB_RC" = 0 ] || bad "parkblf exited with $PB_RC on SIGTERM"
SAN='ERROR: (Address|Leak)Sanitizer|runtime error:'
SAN_N=$(grep -Ec "$SAN" "$T/parkblf.log")
[ "$SAN_N" = 0 ] || bad "$SAN_N sanitizer report(s) in parkblf.log"

ev_count() { grep -c -- "$1" "$T/events.log"; }
cat <<EOM

=== parkblf soak summary ($BUILD) ===
duration                 ${SOAKED} s of chaos (SOAK_SECONDS=$SOAK_SECONDS), $(( $(now) - START )) s with settling and checks
soak phones              $PHONES subscriptions at a time from $PROCS sipp processes (${SOAK_TCP:-1} over TCP)
subscriptions made       $(cstat subscribes) initial SUBSCRIBEs ($(cstat resp_503) refused 503, $(cstat resp_404) refused 404)
refreshes                $(cstat refreshes) (481: $(cstat resp_481))
un-SUBSCRIBEs            $(cstat unsubscribes)
NOTIFYs received         $(cstat notifies) by the soak phones
terminated NOTIFYs       $(awk '$1 == "STAT" && $2 ~ /^term_/ { printf "%s%s %s", sep, substr($2, 6), $3; sep = ", " }' "$T/calls.txt")
parkblf's counters       subscribes accepted $M_ACCEPTED, refused $M_REFUSED; documents sent $M_NOTIFIES; subscriptions ended by a failed NOTIFY $M_FAILED
sipp                     $ABORTED calls aborted, $LOST SUBSCRIBEs unanswered (initial or un-SUBSCRIBE), $DEAD messages for ended calls
PBX flaps                terminate $(ev_count 'flap terminate'), refuse $(ev_count 'flap refuse'), forget $(ev_count 'flap forget'), silent $(ev_count 'flap silent'), stay $(ev_count 'flap stay')
upstream outages         $(grep -c 'link up -> down' "$T/parkblf.log") (link up -> down), $(grep -c 'upstream down for' "$T/parkblf.log") past the grace (phones ended), $M_UPSUBS upstream SUBSCRIBEs
parks / retrieves        $(ev_count ' park ') / $(ev_count ' retrieve ') ($(ev_count PBXERR) control errors)
map reloads              $(applied) applied, $(refused) refused ($(ev_count 'reload good') good and $(ev_count 'reload broken') broken maps written, $(ev_count 'FAIL reload') not handled as expected)
final state              $TRUTH_STATE
final check              fresh watchers $VERIFIED/${#ORBITS[@]} orbits right; soak phones still subscribed $ACTIVE_OK/$ACTIVE right (parkblf counted $M_WATCHERS watchers)
parkblf memory           VmHWM $HWM kB (peak RSS), VmRSS $RSS kB at the end; samples (s RSS HWM watchers): $(awk 'NR > 1 { printf "%s%s/%s/%s/%s", sep, $1, $2, $3, $4; sep = " " }' "$T/rss.log")
shutdown                 SIGTERM -> exit $PB_RC in $STOP_MS ms; sanitizer reports: $SAN_N
EOM
n=$(ev_count 'FAIL reload')
[ "$n" = 0 ] || bad "$n map rewrites not handled as expected:" \
	"$(grep 'FAIL reload' "$T/events.log" | head -n 3)"
[ "$FAILS" = 0 ] || { echo "soak: $FAILS failed check(s)" >&2; exit 1; }
