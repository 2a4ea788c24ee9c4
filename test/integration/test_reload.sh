# The orbit map edited while parkblf runs: on SIGHUP and on a change of
# the file, added orbits become subscribable, removed ones end their
# subscriptions (noresource), an orbit whose DN changed is re-evaluated
# and its watchers notified, and a bad file keeps the map in force.
. "$(dirname "$0")/lib.sh"

start_fakepbx
pbx park '*01' call-1 201 Bob >/dev/null
pbx park '*05' call-5 205 Eve >/dev/null
write_config
start_parkblf

start_phone p1 park-1 QUIET_MS=20000
start_phone p3 park-3 QUIET_MS=20000
expect_last p1 '<state>terminated</state>'
expect_last p3 '<state>terminated</state>'

# 1. a bad file: each problem as FILE:LINE, the map in force stays
printf 'park-1 *00\npark-1 *01\nbroken\n' >"$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 5 grep -q "orbits.conf:2: orbit 'park-1' is already defined" \
	"$T/parkblf.log" || fail "bad map: no FILE:LINE"
grep -q "orbits.conf:3: orbit 'broken' has no DN" "$T/parkblf.log" ||
	fail "bad map: line 3 not reported"
grep -q "the map in force stays (3 orbits)" "$T/parkblf.log" ||
	fail "bad map not refused"
start_phone check park-3 QUIET_MS=1000
phone_done check
log "bad map (SIGHUP): FILE:LINE for each problem, old map kept"

# 2. edit the file (no signal): park-1 now watches *01, park-3 is gone,
# park-4 (*05, never mapped before) and park-5 are new; park-2 lost its
# label
cat >"$T/orbits.conf" <<EOM
park-1 *01 retrieve=*11 label="Orbit 1"
park-2 *01
park-4 *05
park-5 *06
EOM
wait_for 5 grep -q "reload: 4 orbits .* (2 added, 1 removed, 2 changed)" \
	"$T/parkblf.log" || fail "file change not picked up"
expect_last p1 '>sip:201@'
[ "$(last_callers p1)" = "201 Bob" ] || fail "park-1 after the DN change"
log "park-1 re-evaluated: it now shows *01's caller"

wait_for 5 grep -q "Subscription-State: terminated;reason=noresource" \
	"$T/p3.msg" || fail "park-3's watcher not ended with noresource"
log "park-3 removed: its watcher got terminated;reason=noresource"

start_phone p4 park-4 QUIET_MS=2000
expect_last p4 '>sip:205@'
phone_done p4
log "park-4 added on a DN never mapped before: subscribable, shows Eve"

expect_refusal park-3 404 "Via:" "SIP" $'Event: dialog\nExpires: 600'
log "park-3 now 404"
kill -TERM "$PHONE_p1" "$PHONE_p3"
