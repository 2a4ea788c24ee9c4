# Kamailio 5.6 as the PBX's resource list server (RFC 4662): rls over
# presence + presence_dialoginfo serves the list sip:any-dn@ of *00 and
# *01; the park is dialog-info PUBLISHed for *00 (sipp).  A sipp phone
# and a liblinphone watcher (dialogwatch) watch park-1 and see idle,
# the parked caller, idle again.
#
# Kamailio's first NOTIFY of every new list subscription lists the
# resources without <instance> (their state is not known yet) and
# brings the state waitn_time later: a new upstream subscription while
# a call is parked (here: a map edit that adds a DN) must not blink the
# lamp, and the call keeps its time.  Kamailio's parser drops a request
# with two Max-Forwards: with the keepalive every 2 s the link stays up
# throughout, and Kamailio logs no error (its sanity_check() refuses
# nothing parkblf sends).
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
kam_dbtext kam presentity active_watchers watchers xcap rls_presentity \
	rls_watchers pua
kam_rls_service kam 9999 any-dn '*00' '*01'
start_kamailio kam "$KP" kamailio-rls.cfg WAITN=3

write_config "upstream_uri sip:any-dn@127.0.0.1:$KP" "upstream_keepalive 2" \
	"upstream_capture capture.txt"
start_parkblf
start_phone p park-1 QUIET_MS=120000
start_dialogwatch lp "sip:park-1@127.0.0.1:$PB_PORT"
expect_last p '<state>terminated</state>'
expect_dw lp idle
log "park-1 idle"

publish pub00 '*00' "$KP" "$(dialog_info '*00' call-a 201 Alice)"
expect_last p '<state>confirmed</state>'
lit_at=$(date +%s)
[ "$(last_callers p)" = "201 Alice" ] ||
	fail "caller is '$(last_callers p)': $(last_notify p)"
expect_dw lp "confirmed 201 Alice"
log "parked call: lit, caller 201 Alice"

# the NOTIFYs Kamailio sent with the state of *00 (an <instance>)
states00() {
	grep -c '<resource uri="sip:\*00@127.0.0.1"><instance' \
		"$T/capture.txt"
}

# a new upstream subscription while the call is parked
sleep 4
n=$(notify_count p)
c=$(states00)
echo 'park-4 *03' >>"$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 10 grep -q 'subscribing again' "$T/parkblf.log" ||
	fail "no new upstream subscription after the map edit"
wait_upstream_up 2
grep -q '<resource uri="sip:\*00@127.0.0.1"/>' "$T/capture.txt" ||
	fail "Kamailio's first NOTIFY did not list *00 as pending"
# Kamailio sends the state waitn_time (3 s) after the pending list
wait_for 20 eval '[ "$(states00)" -gt "$c" ]' ||
	fail "Kamailio sent no state for *00 after the new subscription"
sleep 1
never_idle_after p "$n" "during the new subscription"
expect_last p '<state>confirmed</state>'
# a new NOTIFY shows the time now: make one with a second watcher
expect_parked_since q park-1 "201 Alice" "$lit_at"
log "new upstream subscription: no blink, the call kept its time" \
	"($DURATION s)"

publish pub00 '*00' "$KP" "$(dialog_info '*00')"
expect_last p '<state>terminated</state>'
expect_dw lp idle
lamps=$(awk '$1 == "STATE" { print $3 }' "$T/lp.out" | paste -sd ' ')
[ "$lamps" = "idle confirmed idle" ] ||
	fail "liblinphone's lamp went: $lamps"
log "retrieved: park-1 idle (liblinphone's lamp: $lamps)"

grep -q 'link up -> down' "$T/parkblf.log" &&
	fail "the upstream link went down"
# sanity_check() failures are logged as errors too
kam_errors kam && fail "Kamailio logged errors (above)"
log "keepalive answered throughout; Kamailio logged no error"
