# Two parkblf instances (127.0.0.11, 127.0.0.12) behind Kamailio 5.6's
# dispatcher, with the shipped conf/kamailio/kamailio.cfg and a
# dispatcher.list of both; two tenants (tenants_dir), each a fake PBX,
# both configured on both instances.  The phones of customer-a.example
# all reach the instance that domain hashes to, those of
# customer-b.example the other one.  Tenant a's instance is killed
# (kill -9) while its PBX parks and retrieves; Kamailio's OPTIONS
# probes mark it dead; each phone's next refresh reaches the survivor
# (or times out at the proxy) and is answered 481; the phone subscribes
# anew, the survivor takes it and every lamp shows the PBX's state
# again within FAILOVER_MAX s.  Then park and retrieve on the survivor,
# and nothing lit that is dark.  Tenant b's phone, on the survivor all
# along, notices nothing: it sees its PBX's park at once.
#
# Phones of tenant a: two sipp phones (Event: dialog; refresh after 8 s
# without a NOTIFY, a new SUBSCRIBE at once on 481) and baresip (presence;
# libre refreshes at 90% of the 20 s granted, and waits 30 s after a
# 481 before it subscribes anew); of tenant b, one sipp phone.  Both
# instances hold an upstream subscription to both PBXs all along (the
# "every instance holds every tenant's link" design of
# docs/SCALING.md).
. "$(dirname "$0")/lib.sh"

# generous: 18 s (baresip's refresh) + 5 s (RELAY_MS: the proxy's
# timeout when the probes have not yet seen the death, DS_FAIL in a
# row) + 30 s (baresip's wait after 481) + slack for a busy machine;
# what it took is logged
FAILOVER_MAX=90

. "$INTEROP/dispatch.sh"
dispatch_setup 1
dispatch_phones

# kill -9: no goodbye, its phones' dialogs die with it
n1=$(notify_count p1)
n2=$(notify_count p2)
t0=$(date +%s%N)
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null

# while it is gone a's PBX parks in orbit 0 and retrieves orbit 1,
# and b's parks: b's phone, on the survivor, sees it at once
sleep 1
pbx park '*00' call-2 4930222 'Bob Jones' >/dev/null
pbx retrieve '*01' >/dev/null
pbx_b park '*00' call-9 4930999 'Dora' >/dev/null
expect_last q1 '<state>confirmed</state>' 5
[ "$(last_callers q1)" = "4930999 Dora" ] ||
	fail "q1 caller '$(last_callers q1)'"
log "$DOMAIN_B: lit with Dora $(ms_since "$t0") ms after the kill"

wait_for 10 grep -q "DS instance down: sip:$vaddr" "$T/kam.log" ||
	fail "Kamailio did not see instance $victim die"
log "Kamailio's probes found $victim dead after $(ms_since "$t0") ms"

# every lamp true again: each phone's last document is the PBX's
lamps_true "$FAILOVER_MAX" "$FAILOVER_MAX" kill

# how: a refresh answered 481, a new subscription at the survivor
for p in p1 p2; do
	grep -q '^SIP/2.0 481' "$T/$p.msg" ||
		fail "$p got no 481 for its refresh"
done
news=$(grep -c "DS SUBSCRIBE initial .* tenant $DOMAIN to sip:$saddr" \
	"$T/kam.log")
[ "$news" -ge 3 ] || fail "$news new SUBSCRIBEs reached $survivor, want 3"
grep -q "presence: subscriber closed .*: 481" "$T/baresip.log" ||
	fail "baresip's refresh was not answered 481:" \
		"$(grep presence: "$T/baresip.log")"
by_survivor=$(grep -c "DS SUBSCRIBE in-dialog for dead .*@$vaddr" \
	"$T/kam.log")
by_proxy=$(grep -c "DS SUBSCRIBE lost with sip:.*@$vaddr" "$T/kam.log")
# the survivor's own answers (its wire dump): a 481 for each refresh
# Kamailio sent it, a dialog it does not know (no tenant's: the
# Request-URI names the dead instance's address)
eval "spid=\$PID_$survivor"
n481=$(grep -l '^SIP/2.0 481' "$T/wire/$spid"-*.sip 2>/dev/null | wc -l)
[ "$n481" -ge "$by_survivor" ] ||
	fail "$survivor answered $n481 refreshes 481, Kamailio sent it" \
		"$by_survivor"
log "refreshes answered 481: $by_survivor by $survivor, $by_proxy by the" \
	"proxy (not answered before the probes saw the death);" \
	"3 new SUBSCRIBEs at $survivor"

# nothing lit that should be dark: once a phone got a document after
# the kill, park-2 (retrieved) is never lit on it again, park-1 never
# idle while Bob waits
never_idle_after p1 "$n1" "while Bob waits (after the kill)"
notifies p2 | tail -n +$((n2 + 1)) | grep -q '<state>confirmed<' &&
	fail "p2 lit after the retrieve: $(notifies p2 | tail -n +$((n2 + 1)))"

# after the failover: the survivor serves park and retrieve at once
n2=$(notify_count p2)
pbx retrieve '*00' >/dev/null
pbx park '*01' call-3 4930333 'Carol' >/dev/null
expect_last p1 '<state>terminated</state>'
expect_last p2 '<state>confirmed</state>'
[ "$(last_callers p2)" = "4930333 Carol" ] ||
	fail "p2 caller '$(last_callers p2)'"
expect_bs Online
log "on $survivor: park-1 retrieved (dark), park-2 parked (lit, Carol)"

# tenant b's phone never left its subscription: no 481, one dialog
grep -q '^SIP/2.0 481' "$T/q1.msg" && fail "q1 got a 481"
[ "$(grep -c '^SIP/2.0 200' "$T/q1.msg")" -ge 1 ] &&
	[ "$(grep -c "DS SUBSCRIBE initial .* tenant $DOMAIN_B" "$T/kam.log")" -eq 1 ] ||
	fail "$DOMAIN_B's phone subscribed more than once"
pbx_b retrieve '*00' >/dev/null
expect_last q1 '<state>terminated</state>'
log "$DOMAIN_B's phone kept its subscription throughout"

kam_errors kam | grep -v "no instance alive" &&
	fail "Kamailio logged errors"
true
