# A planned stop (SIGTERM, e.g. for an upgrade) of one of two parkblf
# instances behind Kamailio's dispatcher (the set-up of test_dispatcher,
# test/interop/dispatch.sh; the instances have stop_handover yes).
# The stopping instance ends its phones' subscriptions with
# Subscription-State: terminated;reason=deactivated, which RFC 6665
# phones answer by subscribing again at once; the new SUBSCRIBE, hashed
# to the stopping instance, is answered 503 Shutting Down, on which
# Kamailio marks it down and relays the SUBSCRIBE to the other instance
# (failure_route NEXT_INSTANCE): the phone never sees the 503, and its
# lamp is true again within STOP_MAX s, without waiting for a refresh.
# Meanwhile the PBX parks in orbit 0 and retrieves orbit 1; afterwards
# nothing lit that is dark, the stopped instance exited 0 within its
# bounded time, and tenant b's phone (on the other instance) noticed
# nothing.
#
# Phones of tenant a: two sipp phones (failover-phone.xml.in: a new
# SUBSCRIBE at once on a terminated NOTIFY; they would refresh only
# after 8 s without a NOTIFY) and baresip (presence); of tenant b, one
# sipp phone.
. "$(dirname "$0")/lib.sh"

# what it took is logged (docs/SCALING.md); the bound leaves room for
# a busy machine, and stays below the sipp phones' 8 s refresh, which
# would bring them back without the handover
STOP_MAX=7
# baresip subscribes again 5 s after a NOTIFY terminated;reason=
# deactivated (its presence module: "will retry in 5 secs"); the bound
# stays below its 18 s refresh
BS_STOP_MAX=15

. "$INTEROP/dispatch.sh"
dispatch_setup 1
dispatch_phones

n1=$(notify_count p1)
n2=$(notify_count p2)
t0=$(date +%s%N)
kill -TERM "$vpid"
# when it has gone (its exit status is read below)
( while kill -0 "$vpid" 2>/dev/null; do sleep 0.05; done
	date +%s%N >"$T/exited" ) &
PIDS+=($!)
# the PBX parks and retrieves at once: only the survivor, whose
# upstream link is up, can show it
pbx park '*00' call-2 4930222 'Bob Jones' >/dev/null
pbx retrieve '*01' >/dev/null

lamps_true "$STOP_MAX" "$BS_STOP_MAX" SIGTERM

# the stopped instance exits 0 within its bounded time (3 s)
wait_for 10 test -s "$T/exited" ||
	fail "instance $victim still runs 10 s after the SIGTERM"
wait "$vpid"
rc=$?
[ "$rc" -eq 0 ] || fail "instance $victim exited $rc"
log "instance $victim exited 0 after" \
	"$(( ($(<"$T/exited") - t0) / 1000000 )) ms"

# how: a terminated;reason=deactivated NOTIFY, no 481, no refresh; each
# new SUBSCRIBE answered 200 by the survivor, never 503 to a phone
for p in p1 p2; do
	grep -q '^Subscription-State: *terminated;reason=deactivated' \
		"$T/$p.msg" || fail "$p was not told deactivated"
	grep -q '^SIP/2.0 481' "$T/$p.msg" && fail "$p got a 481"
	grep -q '^SIP/2.0 5' "$T/$p.msg" &&
		fail "$p got $(grep '^SIP/2.0 5' "$T/$p.msg" | head -n 1)"
done
grep -q "presence: subscriber closed .*deactivated\|presence: .*terminated" \
	"$T/baresip.log" || log "baresip's log on the end:" \
		"$(grep presence: "$T/baresip.log" | tail -n 3)"
news=$(grep -c "DS SUBSCRIBE initial .* tenant $DOMAIN to sip:$saddr" \
	"$T/kam.log")
retried=$(grep -c "DS SUBSCRIBE retried at sip:$saddr" "$T/kam.log")
[ $((news + retried)) -ge 3 ] ||
	fail "$((news + retried)) new SUBSCRIBEs reached $survivor, want 3"
grep -q "DS sip:$vaddr is shutting down: marked down\|DS instance down: sip:$vaddr" \
	"$T/kam.log" || fail "Kamailio did not take $victim out of the set"
log "phones told deactivated, subscribed anew at $survivor" \
	"($retried moved on from the 503 Shutting Down, $news hashed there)"

# nothing lit that is dark, no step back: the stopping instance's last
# document was true when it stopped (before the park and the retrieve),
# but once a phone showed the PBX's new state it never lost it
# no_step_back NAME N NOW BACK: after document N, once one matched NOW,
# none matches BACK
no_step_back() {
	notifies "$1" | tail -n +$(($2 + 1)) | awk -v now="$3" -v back="$4" \
		'$0 ~ now { seen = 1; next } seen && $0 ~ back { bad = 1 }
		END { exit bad }' ||
		fail "$1 stepped back: $(notifies "$1" | tail -n +$(($2 + 1)))"
}
no_step_back p1 "$n1" 'Bob Jones' '<state>terminated</state>'
no_step_back p2 "$n2" '<state>terminated</state>' '<state>confirmed</state>'

# the survivor serves park and retrieve at once
pbx retrieve '*00' >/dev/null
pbx park '*01' call-3 4930333 'Carol' >/dev/null
expect_last p1 '<state>terminated</state>'
expect_last p2 '<state>confirmed</state>'
expect_bs Online
log "on $survivor: park-1 retrieved (dark), park-2 parked (lit, Carol)"

# tenant b's phone kept its subscription throughout
grep -q '^SIP/2.0 481' "$T/q1.msg" && fail "q1 got a 481"
[ "$(grep -c "DS SUBSCRIBE initial .* tenant $DOMAIN_B" "$T/kam.log")" -eq 1 ] ||
	fail "$DOMAIN_B's phone subscribed more than once"
pbx_b park '*00' call-9 4930999 'Dora' >/dev/null
expect_last q1 '<state>confirmed</state>'
log "$DOMAIN_B's phone kept its subscription throughout"

kam_errors kam | grep -v "no instance alive" &&
	fail "Kamailio logged errors"
true
