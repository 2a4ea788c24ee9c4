# Kamailio (the resource list server of test_kamailio_rls.sh) restarts
# while a call is parked.  What Kamailio 5.6 does: its rls keeps list
# subscriptions in memory only (rls_watchers stays empty, db_mode 0), so
# parkblf's list subscription is gone; the back-end state survives in
# db_text (presentity, rls_presentity: written out at shutdown, read
# back at start).  Kamailio answers OPTIONS again at once and sends
# nothing on the old dialog, so parkblf learns of the restart when it
# refreshes (481) and subscribes again: the first NOTIFY lists *00
# pending, its state follows waitn_time later.
#
# What a phone must see: the lamp never claims idle while the call is
# parked (it stays lit: the state parkblf knows is the call's), and the
# call keeps its original parked time when Kamailio reports it again.
# How long parkblf holds a dead subscription is bounded by
# upstream_expires (here 20 s; libre refreshes before expiry).
#
# Peer bug worked around: Kamailio 5.6.3's db_text writes an empty
# string where presentity.sender and rls_presentity.reason are NOT NULL,
# then refuses to read the row back ("null value not allowed"; presence
# then fails to start): those two columns are declared nullable here.
# With modparam("rls", "db_mode", 2) (list subscriptions in the database,
# so that parkblf's would survive) the same holds for rls_watchers.reason,
# and, that worked around, the restarted Kamailio 5.6.3 loses a child to
# SIGSEGV at start and exits: parkblf then sees the PBX gone (link down,
# after upstream_grace every key "unknown", test_upstream_unknown).
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
kam_dbtext kam presentity active_watchers watchers xcap rls_presentity \
	rls_watchers pua
kam_rls_service kam 9999 any-dn '*00' '*01'
sed -i '1s/ sender(string) / sender(string,null) /' "$T/kam/db/presentity"
sed -i '1s/ reason(string) *$/ reason(string,null) /' \
	"$T/kam/db/rls_presentity"
start_kamailio kam "$KP" kamailio-rls.cfg WAITN=3

write_config "upstream_uri sip:any-dn@127.0.0.1:$KP" "upstream_keepalive 2" \
	"upstream_expires 20" "upstream_capture capture.txt"
start_parkblf
start_phone p park-1 QUIET_MS=120000
expect_last p '<state>terminated</state>'
publish pub00 '*00' "$KP" "$(dialog_info '*00' call-a 201 Alice)"
expect_last p '<state>confirmed</state>'
lit_at=$(date +%s)
n=$(notify_count p)
log "park-1 lit: 201 Alice"

# Kamailio restarts (SIGTERM, the same config, port and database)
sleep 2
kill -TERM "$KAM_PID_kam"
wait "$KAM_PID_kam" || fail "Kamailio did not stop cleanly"
mv "$T/kam.log" "$T/kam-1.log"
grep -q 'call-a' "$T/kam/db/presentity" ||
	fail "Kamailio did not keep the PUBLISHed state"
grep -q ':' <(tail -n +2 "$T/kam/db/rls_watchers") &&
	log "(Kamailio kept its list subscriptions: parkblf's dialog lives on)"
start_kamailio kam "$KP" kamailio-rls.cfg WAITN=3
restarted=$(date +%s)
log "Kamailio restarted: its list subscriptions are gone, its state kept"

# parkblf's refresh finds the subscription gone and subscribes again
wait_for 30 grep -q 'SUBSCRIBE.*481\|481' "$T/parkblf.log" ||
	fail "parkblf's refresh did not find the subscription gone"
c=$(grep -c '<resource uri="sip:\*00@127.0.0.1"><instance' \
	"$T/capture.txt")
wait_for 30 eval '[ "$(grep -c "<resource uri=\"sip:\\*00@127.0.0.1\"><instance" "$T/capture.txt")" -gt "$c" ]' ||
	fail "Kamailio reported no state for *00 after the restart"
log "refresh got 481 after $(( $(date +%s) - restarted )) s; new" \
	"subscription; Kamailio reported *00 again"
sleep 1

# the lamp never claimed idle, and the call kept its time
never_idle_after p "$n" "while the call was parked"
expect_last p '<state>confirmed</state>'
expect_parked_since q park-1 "201 Alice" "$lit_at"
log "park-1 lit throughout, 201 Alice, parked $DURATION s (its original" \
	"time)"

# and the retrieve after the restart reaches the phone
publish pub00 '*00' "$KP" "$(dialog_info '*00')"
expect_last p '<state>terminated</state>' 15
log "retrieved after the restart: park-1 idle"

kam_errors kam && fail "the restarted Kamailio logged errors (above)"
kill -TERM "$PHONE_p"
