# A phone address subscribed in two tenants has one budget, not one per
# tenant: subscribe_max_per_source counts its subscriptions of every
# tenant (the one past it is refused 503, whichever tenant it is for),
# and notify_phone_rate paces its NOTIFYs of every tenant together (a
# park that changes an orbit of both tenants reaches it as two NOTIFYs
# a second apart at 1 per second, not at once).  subscribe_max_total
# stays per tenant.
. "$(dirname "$0")/lib.sh"

start_fakepbx

mkdir -p "$T/tenants.d" "$T/maps"
printf 'park-1 *00\n' >"$T/maps/p.map"
for t in a b; do
	tenant_conf $t customer-$t.example "$PBX_PORT" p
done
# tenant c: its own total of 1
cat "$T/tenants.d/a.conf" >"$T/tenants.d/c.conf"
sed -i 's/customer-a/customer-c/' "$T/tenants.d/c.conf"
echo "subscribe_max_total 1" >>"$T/tenants.d/c.conf"

cat >"$T/parkblf.conf" <<EOM
sip_listen		127.0.0.1:0
upstream_retry_min	1
upstream_retry_max	2
tenants_dir		tenants.d
subscribe_max_per_source 4
notify_phone_rate	1
log_level		debug
EOM

start_parkblf
wait_upstream_up 3

# every phone of the test sends from 127.0.0.1: one phone address
PHONE_DOMAIN=customer-a.example start_phone a1 park-1 QUIET_MS=60000
PHONE_DOMAIN=customer-b.example start_phone b1 park-1 QUIET_MS=60000
expect_last a1 '<state>terminated</state>'
expect_last b1 '<state>terminated</state>'

# 1. the NOTIFY budget: one park, both tenants' orbit changes
sleep 2.5   # the first NOTIFYs' budget is back
pbx park '*00' call-1 100 Alice >/dev/null
expect_last a1 '>sip:100@'
expect_last b1 '>sip:100@'
ta=$(last_notify_time a1) tb=$(last_notify_time b1)
gap=$(awk -v a="$ta" -v b="$tb" 'BEGIN { d = a - b; if (d < 0) d = -d;
	printf "%.3f", d }')
awk -v g="$gap" 'BEGIN { exit !(g >= 0.8) }' ||
	fail "a park in both tenants reached the phone twice within" \
		"${gap} s: one budget at notify_phone_rate 1 spaces them 1 s"
log "one park, two tenants: the phone's two NOTIFYs ${gap} s apart" \
	"(notify_phone_rate 1 for both tenants together)"

# 2. subscribe_max_total stays per tenant: c's 1 taken, c refuses
PHONE_DOMAIN=customer-c.example start_phone c1 park-1 QUIET_MS=60000
expect_last c1 '>sip:100@'
PHONE_DOMAIN=customer-c.example expect_refusal park-1 503 "Retry-After:" \
	"[0-9]" $'Event: dialog\nExpires: 600'
log "tenant c (subscribe_max_total 1) refuses a second subscription"

# 3. subscribe_max_per_source 4 counts every tenant's: a1, b1, c1 and
# b2 are 4; one more for a (which has only a1) is refused
PHONE_DOMAIN=customer-b.example start_phone b2 park-1 QUIET_MS=60000
expect_last b2 '>sip:100@'
n=$(grep -c "refused: over" "$T/parkblf.log")
PHONE_DOMAIN=customer-a.example expect_refusal park-1 503 "Retry-After:" \
	"[0-9]" $'Event: dialog\nExpires: 600'
[ "$(grep -c "refused: over" "$T/parkblf.log")" -gt "$n" ] ||
	fail "the refusal is not logged"
log "subscriptions a1, b1, c1, b2 from one address: the fifth, for" \
	"tenant a (which has one), refused 503"
kill -TERM "$PHONE_a1" "$PHONE_b1" "$PHONE_c1" "$PHONE_b2" 2>/dev/null
