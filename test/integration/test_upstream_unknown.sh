# While the PBX's state is unknown no lamp may lie, and phones come back
# to the truth by themselves:
# 1. PBX unreachable at start: SUBSCRIBEs get 503 + Retry-After; the
#    link is logged down once, not once per retry; once the PBX answers,
#    phones may subscribe.
# 2. PBX gone past upstream_grace: every phone subscription ends
#    (deactivated: phones subscribe again at once), new SUBSCRIBEs get
#    503 with Retry-After; the orbit changes meanwhile; when the PBX is
#    back, a real softphone (baresip) re-subscribes on its own and shows
#    the new state.
. "$(dirname "$0")/lib.sh"

# 1. nobody on the PBX's port yet; the upstream link runs over TCP
# here, so a closed port is noticed at once (UDP would wait 32 s)
PBX_PORT=$(free_port)
write_config "upstream_grace 2" "unknown_retry_after 6" \
	"http_listen 127.0.0.1:0" \
	"upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT;transport=tcp"
"$BUILD/parkblf" -f "$T/parkblf.conf" >>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "sip: listening on" "$T/parkblf.log" ||
	fail "parkblf did not start"
PB_PORT=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
ev=$'Event: dialog\nExpires: 600'
expect_refusal park-1 503 "Retry-After:" "[0-9]+" "$ev"
wait_for 10 log_count_ge 3 'upstream: (SUBSCRIBE sip|attempt)' ||
	fail "no retries against the closed port"
[ "$(grep -c 'link .* -> down' "$T/parkblf.log")" -eq 1 ] ||
	fail "the link state was logged per retry"
log "PBX unreachable: 503 with Retry-After, one link-down line"

# the refusal is counted in /metrics
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
exec 7<>"/dev/tcp/127.0.0.1/$HTTP_PORT"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&7
metrics=$(timeout 5 cat <&7)
exec 7>&-
echo "$metrics" | grep -q "^parkblf_subscribes_refused_total 1" ||
	fail "503 not counted: $(echo "$metrics" | grep refused)"
log "the 503 is counted in parkblf_subscribes_refused_total"

# the fake PBX appears on that port
PBX_LISTEN_PORT=$PBX_PORT start_fakepbx
wait_upstream_up
pbx park '*00' call-1 100 Alice >/dev/null
start_phone p park-1 QUIET_MS=30000
expect_last p '>sip:100@'
start_baresip park-1
expect_bs Busy
log "PBX back: phones subscribe; sipp and baresip see Alice parked"

# 2. the PBX goes away for longer than the grace period
pbx refuse 503 >/dev/null
pbx terminate deactivated >/dev/null
wait_for 10 grep -q "upstream down for 2 s: ending 2 phone" \
	"$T/parkblf.log" || fail "phones not told after the grace period"
wait_for 5 grep -q "Subscription-State: terminated;reason=deactivated" \
	"$T/p.msg" || fail "sipp phone's subscription not ended"
expect_refusal park-1 503 "Retry-After:" "6" "$ev"
expect_bs Unknown
log "down past the grace: subscriptions ended, 503 + Retry-After: 6"
log "to new ones; baresip shows Unknown (not Busy, not Online)"

# the orbit changes while parkblf cannot see it, then the PBX is back
pbx retrieve '*00' >/dev/null
pbx park '*00' call-2 200 Bob >/dev/null
pbx retrieve '*00' call-2 >/dev/null
pbx accept >/dev/null
wait_upstream_up 2
# baresip re-subscribes 5 s after deactivated, or 30 s after a 503
expect_bs Online 45
log "baresip re-subscribed by itself and shows the orbit free again"

start_phone q park-1 QUIET_MS=2000
expect_last q '<state>terminated</state>'
phone_done q
log "a new sipp phone gets the true (idle) state"
kill -TERM "$PHONE_p"
