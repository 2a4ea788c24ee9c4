# Restarts lose nothing, for every tenant: two tenants of tenants_dir
# (two fake PBXs) and parkblf.conf's own PBX, phones on each, state_db
# set.  parkblf killed with SIGKILL, orbits change on both PBXs while it
# is down, one tenant's file removed, parkblf restarted on the same
# port: each phone of a tenant that still runs gets the true state on
# its existing dialog without re-subscribing (CSeq and version going
# up), and each tenant's history of parked calls is back in /status;
# the removed tenant's phone gets nothing, and its rows are gone from
# the database.  The same after a graceful stop.  While parkblf runs, a
# tenant whose file changes keeps its history; one whose file goes
# leaves the database.
. "$(dirname "$0")/lib.sh"

need_tools curl jq

start_fakepbx
PORT_A=$PBX_PORT CTL_A=$PBX_CTL
start_fakepbx
PORT_B=$PBX_PORT CTL_B=$PBX_CTL
pbx_a() { PBX_CTL=$CTL_A pbx "$@"; }
pbx_b() { PBX_CTL=$CTL_B pbx "$@"; }

mkdir -p "$T/tenants.d" "$T/maps"
printf 'park-1 *00\npark-2 *01\n' >"$T/maps/a.map"
printf 'park-1 *00\n' >"$T/maps/b.map"
printf 'park-9 *09\n' >"$T/maps/c.map"
printf 'park-5 *05\n' >"$T/maps/dflt.map"

tenant_conf a customer-a.example "$PORT_A"
tenant_conf b customer-b.example "$PORT_B"
tenant_conf c customer-c.example "$PORT_B"

# the same port again after a restart: the phones' dialogs point there
cat >"$T/parkblf.conf" <<EOM
sip_listen		127.0.0.1:$(free_port)
http_listen		127.0.0.1:0
upstream_uri		sip:any-dn@127.0.0.1:$PORT_A
upstream_user		9999
upstream_password	secret
upstream_retry_min	1
upstream_retry_max	2
orbit_map		maps/dflt.map
tenants_dir		tenants.d
state_db		state.db
log_level		debug
EOM

# start N: parkblf and its N upstream links (default, a, b, c)
start() {
	: >"$T/parkblf.log"
	start_parkblf
	wait_upstream_up "$1"
	http_ports
}

# max_cseq NAME: the highest CSeq of a NOTIFY NAME received
max_cseq() {
	sed -n 's/^CSeq: \([0-9]*\) NOTIFY.*/\1/p' "$T/$1.msg" |
		sort -n | tail -n 1
}
# last_version NAME
last_version() {
	last_notify "$1" |
		sed -n 's/.*<dialog-info [^>]*version="\([0-9]*\)".*/\1/p'
}
# rows TABLE TENANT: rows of that tenant in state.db
rows() {
	"$PYTHON" - "$T/state.db" "$1" "$2" <<-'EOP'
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	print(db.execute("SELECT count(*) FROM %s WHERE tenant=?" %
			 sys.argv[2], (sys.argv[3],)).fetchone()[0])
	EOP
}
# history TENANT: the callers' numbers of /status?history=10 ("" for
# parkblf.conf's own PBX)
history() {
	curl -sS --max-time 5 "$URL/status?history=10" >"$T/status" ||
		fail "no /status"
	if [ -z "$1" ]; then
		jq -r '[.history[].number] | join(" ")' "$T/status"
	else
		jq -r --arg t "$1" '[.tenants[] | select(.name == $t) |
			.history[].number] | join(" ")' "$T/status"
	fi
}

start 4

PHONE_DOMAIN=customer-a.example start_phone a1 park-1 QUIET_MS=90000
PHONE_DOMAIN=customer-a.example start_phone a2 park-2 QUIET_MS=90000
PHONE_DOMAIN=customer-b.example start_phone b1 park-1 QUIET_MS=90000
PHONE_DOMAIN=customer-c.example start_phone c1 park-9 QUIET_MS=90000
start_phone d1 park-5 QUIET_MS=90000
for p in a1 a2 b1 c1 d1; do
	expect_last $p '<state>terminated</state>'
done

# a call through each orbit (history), then one parked on each PBX
pbx_a park '*00' call-1 100 Alice >/dev/null
expect_last a1 '>sip:100@'
pbx_a retrieve '*00' >/dev/null
expect_last a1 '<state>terminated</state>'
pbx_a park '*00' call-2 101 Ann >/dev/null
expect_last a1 '>sip:101@'
pbx_b park '*00' call-3 200 Bob >/dev/null
expect_last b1 '>sip:200@'
pbx_b retrieve '*00' >/dev/null
expect_last b1 '<state>terminated</state>'
pbx_b park '*00' call-4 201 Bea >/dev/null
expect_last b1 '>sip:201@'
pbx_b park '*09' call-5 900 Cid >/dev/null
expect_last c1 '>sip:900@'
pbx_b retrieve '*09' >/dev/null
expect_last c1 '<state>terminated</state>'
pbx_a park '*05' call-6 500 Dan >/dev/null
expect_last d1 '>sip:500@'
pbx_a retrieve '*05' >/dev/null
expect_last d1 '<state>terminated</state>'
[ "$(history a)" = "100" ] && [ "$(history b)" = "200" ] &&
	[ "$(history c)" = "900" ] && [ "$(history "")" = "500" ] ||
	fail "history before the restart: $(cat "$T/status")"
sleep 1.5   # versions are saved once a second

for p in a1 b1 d1; do
	eval "c_$p=\$(max_cseq $p) v_$p=\$(last_version $p)"
done
nc1=$(notify_count c1)

# SIGKILL; while parkblf is down both PBXs change, tenant c goes
kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
pbx_a retrieve '*00' >/dev/null
pbx_a park '*01' call-7 300 Carol >/dev/null
pbx_b retrieve '*00' >/dev/null
pbx_b park '*09' call-8 901 Cy >/dev/null
pbx_a park '*05' call-9 400 Dave >/dev/null
rm "$T/tenants.d/c.conf"
start 3
grep -q "resume: 4 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "the 4 subscriptions were not resumed"
grep -q "resume: 1 subscription(s) of tenants not served dropped" \
	"$T/parkblf.log" || fail "tenant c's subscription not dropped"
grep -q "histdb: tenant 'c' is not served: its history dropped" \
	"$T/parkblf.log" || fail "tenant c's history not dropped"

expect_last a1 '<state>terminated</state>'
expect_last a2 '>sip:300@'
expect_last b1 '<state>terminated</state>'
expect_last d1 '>sip:400@'
[ "$(last_callers a2)" = "300 Carol" ] || fail "a2: $(last_callers a2)"
[ "$(last_callers d1)" = "400 Dave" ] || fail "d1: $(last_callers d1)"
for p in a1 b1 d1; do
	eval "c0=\$c_$p v0=\$v_$p"
	c=$(max_cseq $p) v=$(last_version $p)
	[ "$c" -gt "$c0" ] || fail "$p: CSeq went from $c0 to $c"
	[ "$v" -gt "$v0" ] || fail "$p: version went from $v0 to $v"
	log "$p: CSeq $c0 -> $c, version $v0 -> $v"
done
for p in a1 a2 b1 d1; do
	n=$(grep -c "^SUBSCRIBE" "$T/$p.msg")
	[ "$n" -eq 1 ] || fail "$p sent $n SUBSCRIBEs"
done
log "SIGKILL, changes while down, restart: both tenants' phones and the"
log "default PBX's told the truth on their dialogs, no re-SUBSCRIBE"

# tenant c's phone: not resumed, not told; its rows are gone
sleep 2
[ "$(notify_count c1)" -eq "$nc1" ] ||
	fail "c1 (tenant c, removed) got $(( $(notify_count c1) - nc1 )) NOTIFY(s)"
[ "$(rows subs c)" = 0 ] && [ "$(rows history c)" = 0 ] ||
	fail "tenant c's rows are still in state.db"
[ "$(rows subs a)" = 2 ] && [ "$(rows subs b)" = 1 ] &&
	[ "$(rows subs '')" = 1 ] || fail "rows of a, b, default: $(rows subs a)," \
		"$(rows subs b), $(rows subs '')"
log "tenant c removed while down: its phone gets nothing, its rows dropped"

# each tenant's history is back (the calls that left while parkblf was
# down it never saw leave)
[ "$(history a)" = "100" ] && [ "$(history b)" = "200" ] &&
	[ "$(history "")" = "500" ] ||
	fail "history after the restart: $(jq -c '[.history, .tenants]' \
		"$T/status")"
log "each tenant's history of parked calls is back in /status"

# a graceful stop keeps them too; later changes still arrive
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
for p in a1 a2 b1 d1; do
	grep -q "Subscription-State: terminated" "$T/$p.msg" &&
		fail "$p's subscription ended on SIGTERM"
done
start 3
grep -q "resume: 4 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "not resumed after SIGTERM"
pbx_b park '*00' call-10 202 Eve >/dev/null
expect_last b1 '>sip:202@'
pbx_a park '*00' call-11 102 Ada >/dev/null
expect_last a1 '>sip:102@'
log "SIGTERM and start: still subscribed, later changes arrive"

# while parkblf runs: tenant a's file changes (the tenant is replaced:
# its history stays), tenant b's file goes (its phone is told, its rows
# and history leave the database)
echo "upstream_expires 300" >>"$T/tenants.d/a.conf"
rm "$T/tenants.d/b.conf"
kill -HUP "$PB_PID"
wait_for 10 grep -q "tenants: 1 from .* (0 added, 1 removed, 1 changed" \
	"$T/parkblf.log" || fail "tenants a and b not reloaded"
wait_for 10 grep -q "Subscription-State: terminated;reason=noresource" \
	"$T/b1.msg" || fail "b1 not told that tenant b is gone"
[ "$(rows subs b)" = 0 ] && [ "$(rows history b)" = 0 ] ||
	fail "tenant b's rows are still in state.db"
[ "$(history a)" = "100" ] || fail "tenant a's history after its change:" \
	"$(jq -c .tenants "$T/status")"
[ "$(rows history a)" = 1 ] || fail "tenant a's history left state.db"
log "tenant a changed on reload: its history stays; tenant b removed:"
log "its phone told (noresource), its rows gone"
