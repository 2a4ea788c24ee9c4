# Two tenants (two PBXs, two fake PBXs) in one parkblf, chosen by the
# domain phones subscribe to (tenants_dir, no PBX in parkblf.conf):
# each phone's lamp shows its own PBX's orbit; a domain no tenant serves
# gets 404; behind a proxy (Request-URI parkblf's address) the To domain
# chooses; a tenant's own address (tenant_listen) chooses whatever the
# domain.  parkblf -t checks tenant files with FILE:LINE.  A tenant
# added, changed and removed on reload leaves the others' subscriptions
# and upstream links alone.  One PBX killed: its phones are told
# (deactivated), the other tenant's lamps keep working.  /status and
# /metrics report per tenant.
. "$(dirname "$0")/lib.sh"

need_tools curl jq

start_fakepbx
PORT_A=$PBX_PORT CTL_A=$PBX_CTL
start_fakepbx
PORT_B=$PBX_PORT CTL_B=$PBX_CTL PID_B=$PBX_PID
pbx_a() { PBX_CTL=$CTL_A pbx "$@"; }
pbx_b() { PBX_CTL=$CTL_B pbx "$@"; }

mkdir -p "$T/tenants.d" "$T/maps"
printf 'park-1 *00\npark-2 *01\n' >"$T/maps/a.map"
printf 'park-1 *00\n' >"$T/maps/b.map"
printf 'park-9 *09\n' >"$T/maps/c.map"

# tenant NAME DOMAIN PBX_PORT [MAP]: tenants.d/NAME.conf
tenant() {
	tenant_conf "$@"
	printf 'upstream_keepalive 1\nupstream_grace 2\n' \
		>>"$T/tenants.d/$1.conf"
}
tenant a customer-a.example "$PORT_A"
tenant b customer-b.example,b.example "$PORT_B"

cat >"$T/parkblf.conf" <<EOM
sip_listen		127.0.0.1:0
http_listen		127.0.0.1:0
upstream_retry_min	1
upstream_retry_max	2
tenants_dir		tenants.d
log_level		debug
EOM

# 1. parkblf -t: every tenant file, and FILE:LINE for a bad one
"$BUILD/parkblf" -t -f "$T/parkblf.conf" >"$T/check.out" 2>&1 ||
	fail "-t refused good tenants: $(cat "$T/check.out")"
grep -q "tenants.d/a.conf: OK (2 orbits" "$T/check.out" &&
	grep -q "tenants.d: 2 tenant(s)" "$T/check.out" ||
	fail "-t: $(cat "$T/check.out")"
mkdir -p "$T/bad/tenants.d" "$T/bad/maps"
cp "$T/parkblf.conf" "$T/bad/"
cp "$T/maps/a.map" "$T/bad/maps/"
cp "$T/tenants.d/a.conf" "$T/bad/tenants.d/"
cp "$T/tenants.d/a.conf" "$T/bad/tenants.d/z.conf"
{
	cat "$T/tenants.d/a.conf"
	echo "sip_listen 127.0.0.1:5999"
} >"$T/bad/tenants.d/y.conf"
if "$BUILD/parkblf" -t -f "$T/bad/parkblf.conf" >"$T/bad.out" 2>&1; then
	fail "-t accepted bad tenant files"
fi
grep -q "y.conf:9: sip_listen: not a tenant key" "$T/bad.out" ||
	fail "-t: no FILE:LINE for a key of parkblf.conf: $(cat "$T/bad.out")"
grep -q "z.conf:6: tenant_domain: customer-a.example is already served by tenant 'a'" \
	"$T/bad.out" || fail "-t: no FILE:LINE for a domain served twice"
log "-t: tenant files checked, FILE:LINE for a bad one"

# tenant d: PBX A's orbits for phones that send to an address of its
# own (tenant_listen), whatever the domain
D_PORT=$(free_port)
tenant d customer-d.example "$PORT_A" a
echo "tenant_listen 127.0.0.1:$D_PORT" >>"$T/tenants.d/d.conf"

start_parkblf
wait_upstream_up 3
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
URL="http://127.0.0.1:$HTTP_PORT"

# 2. each phone sees its own PBX
PHONE_DOMAIN=customer-a.example start_phone a1 park-1 QUIET_MS=90000
PHONE_DOMAIN=customer-b.example start_phone b1 park-1 QUIET_MS=90000
expect_last a1 '<state>terminated</state>'
expect_last b1 '<state>terminated</state>'
pbx_a park '*00' call-1 100 Alice >/dev/null
expect_last a1 '>sip:100@'
pbx_b park '*00' call-2 200 Bob >/dev/null
expect_last b1 '>sip:200@'
[ "$(last_callers a1)" = "100 Alice" ] || fail "a1: $(last_callers a1)"
[ "$(last_callers b1)" = "200 Bob" ] || fail "b1: $(last_callers b1)"
log "park-1 of customer-a shows Alice (PBX A), of customer-b Bob (PBX B)"

PB_PORT_MAIN=$PB_PORT
PB_PORT=$D_PORT
start_phone d1 park-1 QUIET_MS=1500
expect_last d1 '>sip:100@'
phone_done d1
PB_PORT=$PB_PORT_MAIN
log "a phone sending to tenant d's tenant_listen address: d's lamps"

# 3. no tenant for the domain: 404; parkblf's address: 404 too (no
# PBX in parkblf.conf)
PHONE_DOMAIN=nobody.example expect_refusal park-1 404 "Via:" "SIP" \
	$'Event: dialog\nExpires: 600'
expect_refusal park-1 404 "Via:" "SIP" $'Event: dialog\nExpires: 600'
grep -q "SUBSCRIBE for nobody.example .* refused: no tenant serves" \
	"$T/parkblf.log" || fail "404 not logged"
log "a domain no tenant serves, and parkblf's own address: 404"

# 4. behind a proxy: Request-URI parkblf's address, To the tenant's
# domain (the second of tenant b's domains)
to_only() {
	sed -i "/^ *To:/s/\\[remote_ip\\]:\\[remote_port\\]/$1/" \
		"$T/request.xml"
}
scenario expect.xml.in "$T/request.xml" METHOD=SUBSCRIBE CODE=200 \
	HEADER=Expires: HEADER_RE=60 "EXTRA_HEADERS=Event: dialog
Expires: 60" AFTER=
to_only b.example
sipp -sf "$T/request.xml" -s park-1 -i 127.0.0.1 -p "$(free_port)" -m 1 \
	-timeout 15s -timeout_error -nostdin -trace_err \
	-error_file "$T/proxy.err" "127.0.0.1:$PB_PORT" >/dev/null 2>&1 ||
	fail "To b.example via parkblf's address not taken: " \
		"$(cat "$T/proxy.err" 2>/dev/null)"
log "Request-URI parkblf's address, To b.example: tenant b takes it"

# 5. a tenant added, changed, removed: the others undisturbed
na=$(notify_count a1) nb=$(notify_count b1)
ups=$(grep -Ec 'link [a-z]+ -> up' "$T/parkblf.log")
tenant c customer-c.example "$PORT_B"
kill -HUP "$PB_PID"
wait_for 10 grep -q "tenants: 4 from .* (1 added, 0 removed, 0 changed, 3 unchanged)" \
	"$T/parkblf.log" || fail "tenant c not added on SIGHUP"
wait_upstream_up $((ups + 1))
PHONE_DOMAIN=customer-c.example start_phone c1 park-9 QUIET_MS=90000
expect_last c1 '<state>terminated</state>'
log "tenant c added on SIGHUP: its phone subscribed"

echo "upstream_expires 300" >>"$T/tenants.d/c.conf"
wait_for 10 grep -q "tenants: c: changed" "$T/parkblf.log" ||
	fail "changed tenant file not picked up"
wait_for 10 grep -q "terminated;reason=deactivated" "$T/c1.msg" ||
	fail "c1 not told its tenant changed"
wait_upstream_up $((ups + 2))
log "tenant c's file edited: replaced, its phone told (deactivated)"

rm "$T/tenants.d/c.conf"
wait_for 10 grep -q "tenants: 3 from .* (0 added, 1 removed" \
	"$T/parkblf.log" || fail "tenant c not removed"
PHONE_DOMAIN=customer-c.example expect_refusal park-9 404 "Via:" "SIP" \
	$'Event: dialog\nExpires: 600'
log "tenant c removed: its domain gets 404"

[ "$(notify_count a1)" = "$na" ] && [ "$(notify_count b1)" = "$nb" ] ||
	fail "a1/b1 got NOTIFYs from the reloads: $na->$(notify_count a1)," \
		"$nb->$(notify_count b1)"
grep -c "link [a-z]* -> up (sip:any-dn@127.0.0.1:$PORT_A)" "$T/parkblf.log" |
	grep -qx 2 || fail "tenant a's or d's upstream link was set up again"
! grep -q "link up -> down" "$T/parkblf.log" ||
	fail "a link went down during the reloads"
pbx_a retrieve '*00' call-1 >/dev/null
expect_last a1 '<state>terminated</state>'
na=$(notify_count a1)
log "a and b untouched by the reloads: same subscriptions, same links"

# 6. PBX B dies: tenant b's phones are told, tenant a keeps working
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null
DAEMONS=("${DAEMONS[@]/$PID_B:fakepbx/}")
wait_for 15 grep -q "terminated;reason=deactivated" "$T/b1.msg" ||
	fail "b1 not told that PBX B is gone"
grep -q "app: b: upstream down for 2 s" "$T/parkblf.log" ||
	fail "no log of tenant b's grace"
pbx_a park '*00' call-3 300 Carol >/dev/null
expect_last a1 '>sip:300@'
PHONE_DOMAIN=customer-a.example start_phone a2 park-1 QUIET_MS=2000
expect_last a2 '>sip:300@'
phone_done a2
PHONE_DOMAIN=customer-b.example expect_refusal park-1 503 "Retry-After:" \
	"[0-9]" $'Event: dialog\nExpires: 600'
log "PBX B killed: b's phones told and refused (503); a's lamps work"

# 7. per tenant /status and /metrics
curl -sS --max-time 5 "$URL/metrics" >"$T/metrics" || fail "no /metrics"
grep -qx 'parkblf_upstream_up{tenant="a"} 1' "$T/metrics" &&
	grep -qx 'parkblf_upstream_up{tenant="b"} 0' "$T/metrics" &&
	grep -qx 'parkblf_orbit_parked_calls{tenant="a",orbit="park-1"} 1' \
		"$T/metrics" &&
	grep -qx 'parkblf_orbit_watchers{tenant="a",orbit="park-1"} 1' \
		"$T/metrics" &&
	grep -qx 'parkblf_orbits{tenant="b"} 1' "$T/metrics" ||
	fail "/metrics per tenant: $(grep tenant= "$T/metrics")"
! grep -q '^parkblf_upstream_up ' "$T/metrics" ||
	fail "/metrics: a default tenant's series without a default tenant"
curl -sS --max-time 5 "$URL/status" >"$T/status" || fail "no /status"
[ "$(jq -r '.tenants | map(.name) | join(",")' "$T/status")" = "a,b,d" ] &&
	[ "$(jq -r '.tenants[0].upstream.state' "$T/status")" = up ] &&
	[ "$(jq -r '.tenants[1].upstream.state' "$T/status")" != up ] &&
	[ "$(jq -r '.tenants[0].orbits[0].calls[0].number' "$T/status")" = 300 ] ||
	fail "/status per tenant: $(cat "$T/status")"
log "/metrics and /status: a tenant label, each tenant's link and orbits"

kill -TERM "$PHONE_a1" "$PHONE_b1" "$PHONE_c1" 2>/dev/null
