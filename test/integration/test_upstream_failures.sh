# The upstream failure matrix, driven by the fake PBX: each failure is
# logged once with its cause, the next attempt waits as it should
# (backoff, Retry-After, retry-after=), and the link comes back with the
# lamps right.  upstream_retry_max is 2 s here (lib.sh), the keepalive
# ping 1 s.
. "$(dirname "$0")/lib.sh"

# last_retry_ms: the delay of the last scheduled retry
last_retry_ms() {
	sed -n 's/.*retrying in \([0-9]*\) ms.*/\1/p' "$T/parkblf.log" |
		tail -n 1
}

# refuse_drop CODE [RETRY_AFTER]: the PBX refuses from now on and
# ends the subscription; wait for that outage's link-down line
DOWNS=0
refuse_drop() {
	pbx refuse "$@" >/dev/null
	pbx terminate deactivated >/dev/null
	DOWNS=$((DOWNS + 1))
	wait_for 10 log_count_ge "$DOWNS" 'link up -> down' ||
		fail "refuse $* not noticed"
}

# back: accept again and wait for the next up
UPS=1
back() {
	pbx accept >/dev/null
	UPS=$((UPS + 1))
	wait_upstream_up "$UPS"
}

# 1. wrong password: one clear line, no tight loop
start_fakepbx -p wrong
write_config
"$BUILD/parkblf" -f "$T/parkblf.conf" >>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "the PBX refused the credentials of '9999'" \
	"$T/parkblf.log" || fail "no clear log line for a wrong password"
sleep 3
n=$(grep -c "upstream: SUBSCRIBE sip" "$T/parkblf.log")
[ "$n" -le 3 ] || fail "$n SUBSCRIBEs in ~3 s with a wrong password"
grep -q "secret" "$T/parkblf.log" && fail "the password was logged"
log "wrong password: one error line, $n attempts in ~3 s, no secret"
kill -TERM "$PB_PID"; wait "$PB_PID"
kill -TERM "$PBX_PID"; wait "$PBX_PID"
: >"$T/parkblf.log"

# the rest against a PBX with the right password
start_fakepbx
write_config "upstream_expires 10" "upstream_keepalive 1"
start_parkblf
start_phone p park-1 QUIET_MS=60000
expect_last p '<state>terminated</state>'

# 2. refusals of the SUBSCRIBE: 403, 404, 489 (logged with Allow-Events)
refuse_drop 403
wait_for 10 grep -q "SUBSCRIBE got 403" "$T/parkblf.log" || fail "403"
back
refuse_drop 404
wait_for 10 grep -q "SUBSCRIBE got 404" "$T/parkblf.log" || fail "404"
back
refuse_drop 489
wait_for 10 grep -q "does not know Event: dialog (489); its \
Allow-Events: dialog" "$T/parkblf.log" || fail "489 without Allow-Events"
back
log "403, 404, 489 to the SUBSCRIBE: logged (489 with Allow-Events)"

# 3. 503 with Retry-After: 3 is honoured
refuse_drop 503 3
wait_for 10 grep -q "SUBSCRIBE got 503" "$T/parkblf.log" || fail "503"
[ "$(last_retry_ms)" = 3000 ] || fail "Retry-After 3 -> $(last_retry_ms) ms"
back
log "503 with Retry-After: 3: next attempt in 3000 ms"

# 4. terminated with each reason
for r in "probation 3:3000" "giveup 2:2000" "rejected:2000" \
	"noresource:2000" "deactivated:" "timeout:"; do
	reason=${r%%:*}
	want=${r#*:}
	DOWNS=$((DOWNS + 1))
	pbx terminate $reason >/dev/null
	wait_for 10 log_count_ge "$DOWNS" 'link up -> down' ||
		fail "terminate $reason not noticed"
	grep -q "reason=${reason%% *})" "$T/parkblf.log" ||
		fail "reason ${reason%% *} not logged"
	got=$(last_retry_ms)
	if [ -n "$want" ]; then
		[ "$got" = "$want" ] || fail "$reason: retry in $got ms"
	else
		[ "$got" -le 2000 ] || fail "$reason: retry in $got ms"
	fi
	UPS=$((UPS + 1))
	wait_upstream_up "$UPS"
	log "terminated;reason=$reason: next attempt in $got ms"
done

# 5. PBX restarted without our dialog: the refresh gets 481
pbx park '*00' call-1 100 Alice >/dev/null
expect_last p '>sip:100@'
pbx forget >/dev/null
pbx retrieve '*00' >/dev/null       # nobody is told: no subscription
pbx park '*00' call-2 200 Bob >/dev/null
DOWNS=$((DOWNS + 1))
wait_for 20 log_count_ge "$DOWNS" 'link up -> down' ||
	fail "refresh 481 not noticed"
UPS=$((UPS + 1))
wait_upstream_up "$UPS"
expect_last p '>sip:200@'
log "refresh answered 481 (PBX forgot us): re-subscribed, lamp shows Bob"

# 6. PBX process restarted with another state, on the same port
kill -KILL "$PBX_PID"
wait "$PBX_PID" 2>/dev/null
printf 'park *00 call-3 300 Carol\n' >"$T/restart.txt"
rm -f "$T/pbx.ports"
"$BUILD/fakepbx" -l "127.0.0.1:$PBX_PORT" -c 127.0.0.1:0 -P "$T/pbx.ports" \
	-u 9999 -p secret -s "$T/restart.txt" >/dev/null 2>>"$T/fakepbx.log" &
PBX_PID=$!
DAEMONS+=("$PBX_PID:fakepbx")
wait_for 10 test -s "$T/pbx.ports" || fail "fake PBX did not restart"
PBX_CTL=$(sed -n 's/.*control=\([0-9]*\).*/\1/p' "$T/pbx.ports")
DOWNS=$((DOWNS + 1))      # its refresh meets the new PBX: 481
UPS=$((UPS + 1))
wait_upstream_up "$UPS"
expect_last p '>sip:300@' 30
[ "$(last_callers p)" = "300 Carol" ] || fail "after restart: $(last_callers p)"
log "PBX restarted with another state: lamp shows Carol"

# 7. the PBX goes silent: the OPTIONS pings notice it within seconds
pbx silent on >/dev/null
DOWNS=$((DOWNS + 1))
wait_for 10 log_count_ge "$DOWNS" 'link up -> down' ||
	fail "silent PBX not noticed"
grep -q 'down: the PBX does not answer (2 OPTIONS' "$T/parkblf.log" ||
	fail "silent PBX: no clear log line"
pbx silent off >/dev/null
UPS=$((UPS + 1))
wait_upstream_up "$UPS"
log "silent PBX: down after 2 unanswered pings (1 s apart), then back"

[ "$(grep -c 'link .* -> down' "$T/parkblf.log")" -eq "$DOWNS" ] ||
	fail "link-down lines: $(grep -c 'link .* -> down' "$T/parkblf.log")" \
		"for $DOWNS outages"
kill -TERM "$PHONE_p"
