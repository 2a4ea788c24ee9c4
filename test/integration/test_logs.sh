# What an admin reads in parkblf's stderr.  Outside the journal every
# line starts with an ISO 8601 UTC time stamp; under the journal
# (JOURNAL_STREAM names stderr itself) with its priority <N> and no
# time stamp, and a JOURNAL_STREAM inherited by a redirected stderr
# does not count.  The FILE:LINE lines of a refused map reload and of
# a refused start are error lines (priority <3> under the journal);
# `-t` keeps plain FILE:LINE lines.  A SIGTERM after the PBX answered
# the un-SUBSCRIBE but sent no final NOTIFY leaves no libre
# "fd N in use" lines and exits 0.
. "$(dirname "$0")/lib.sh"

stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '

# stop_parkblf: SIGTERM, exit 0 expected; parkblf leaves DAEMONS
stop_parkblf() {
	kill -TERM "$PB_PID"
	wait "$PB_PID" || fail "parkblf exited $? on SIGTERM"
	DAEMONS=("${DAEMONS[@]/$PB_PID:parkblf/}")
}

start_fakepbx
write_config

# 1. not under the journal: time stamps; refused reload as errors
JOURNAL_STREAM=1:1 start_parkblf
printf 'park-1 *00\npark-1 *01\n' >"$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 5 grep -q "the map in force stays" "$T/parkblf.log" ||
	fail "bad map not refused"
grep -Eq "${stamp}parkblf: error: $T/orbits.conf:2: orbit 'park-1' is \
already defined" "$T/parkblf.log" ||
	fail "the refused reload's FILE:LINE is not an error line: $(grep \
		orbits.conf:2 "$T/parkblf.log")"
bad=$(grep -Ev "${stamp}parkblf: (debug|info|warning|error): " \
	"$T/parkblf.log")
[ -z "$bad" ] || fail "lines without a time stamp and level: $bad"
log "outside the journal: time stamps; a refused reload's FILE:LINE is" \
	"an error"

# 2. SIGTERM after the PBX answered the un-SUBSCRIBE, with no final
# NOTIFY: libre's subscription waits for it, and must not outlive us
pbx unsubscribe-notify off >/dev/null
stop_parkblf
grep -q "in use" "$T/parkblf.log" &&
	fail "libre's file descriptors outlived parkblf: $(grep "in use" \
		"$T/parkblf.log")"
grep -q "unsubscribed, no final NOTIFY" "$T/fakepbx.log" ||
	fail "the PBX did not see the un-SUBSCRIBE"
log "SIGTERM, un-SUBSCRIBE answered without a final NOTIFY: exit 0," \
	"no 'fd N in use'"
pbx unsubscribe-notify on >/dev/null

# 3. under the journal: priorities, no time stamps
write_config
mv "$T/parkblf.log" "$T/parkblf-1.log"
: >"$T/parkblf.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/parkblf.log") start_parkblf
printf 'park-1 *00\npark-1 *01\n' >"$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 5 grep -q "the map in force stays" "$T/parkblf.log" ||
	fail "bad map not refused (journal)"
grep -q "^<3>parkblf: error: $T/orbits.conf:2: orbit 'park-1'" \
	"$T/parkblf.log" || fail "no <3> error line for the refused reload"
grep -q '^<6>parkblf: info: sip: listening on' "$T/parkblf.log" ||
	fail "no <6> info line"
grep -q '^<7>parkblf: debug: ' "$T/parkblf.log" || fail "no <7> debug line"
bad=$(grep -Ev '^<[3467]>parkblf: (debug|info|warning|error): ' \
	"$T/parkblf.log")
[ -z "$bad" ] || fail "journal lines without a priority: $bad"
stop_parkblf
log "under the journal: <3>..<7>, no time stamps"

# 4. a refused start: error lines; -t: plain FILE:LINE
write_config
printf 'park-1\n' >"$T/orbits.conf"
if timeout 5 "$BUILD/parkblf" -f "$T/parkblf.conf" >"$T/run.out" 2>&1
then
	fail "daemon started with a bad map"
fi
grep -Eq "${stamp}parkblf: error: $T/orbits.conf:1: " "$T/run.out" ||
	fail "refused start: $(cat "$T/run.out")"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" >"$T/check.out" 2>&1 &&
	fail "-t passed a bad map"
grep -q "^$T/orbits.conf:1: " "$T/check.out" ||
	fail "-t: $(cat "$T/check.out")"
log "refused start: FILE:LINE as an error line; -t: plain FILE:LINE"
