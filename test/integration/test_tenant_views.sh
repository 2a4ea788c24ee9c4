# Each tenant's own view: /t/NAME/board (and its event stream),
# /t/NAME/parks.xml and /t/NAME/status show tenant NAME's orbits and
# calls, not parkblf.conf's PBX, which /board, /parks.xml and /status
# keep showing; a NAME no tenant has gets 404 with a clear body, and
# http_users guards /t/NAME/board as it guards /board; a tenant file's
# own http_users opens that tenant's pages only.  `parkblf
# provision --tenant NAME` writes NAME's keys, at its tenant_listen or
# its domain; an unknown tenant is an error.  A tenant removed on reload
# closes its tenant_listen socket; one whose tenant_listen changed
# moves to the new address and closes the old.
. "$(dirname "$0")/lib.sh"

need_tools curl jq ss

start_fakepbx
PORT_D=$PBX_PORT CTL_D=$PBX_CTL
start_fakepbx
PORT_A=$PBX_PORT CTL_A=$PBX_CTL
pbx_d() { PBX_CTL=$CTL_D pbx "$@"; }
pbx_a() { PBX_CTL=$CTL_A pbx "$@"; }

mkdir -p "$T/tenants.d" "$T/maps"
printf 'park-1 *00 label="A One"\npark-2 *01 label="A Two"\n' \
	>"$T/maps/a.map"

# tenant NAME DOMAIN PBX_PORT [LISTEN]: tenants.d/NAME.conf
tenant() {
	tenant_conf "$1" "$2" "$3" a
	[ -z "${4:-}" ] || echo "tenant_listen 127.0.0.1:$4" \
		>>"$T/tenants.d/$1.conf"
}
L1=$(free_port)
tenant a customer-a.example "$PORT_A"
tenant l listen-l.example "$PORT_A" "$L1"
# tenant a's admin: its own users file, for its own pages only
printf 'alice pw-a\n' >"$T/tenants.d/a.users"
chmod 600 "$T/tenants.d/a.users"
echo "http_users a.users" >>"$T/tenants.d/a.conf"

printf 'desk s3cret\n' >"$T/users"
chmod 600 "$T/users"
PBX_PORT=$PORT_D write_config "http_listen 127.0.0.1:0" "http_users users" \
	"tenants_dir tenants.d"
printf 'park-1 *00 label="Default One"\n' >"$T/orbits.conf"

# a tenant's users file is checked by -t, FILE:LINE
"$BUILD/parkblf" -t -f "$T/parkblf.conf" >"$T/t.out" 2>&1 ||
	fail "-t: $(cat "$T/t.out")"
printf 'alice\n' >"$T/tenants.d/a.users"
if "$BUILD/parkblf" -t -f "$T/parkblf.conf" >"$T/t.out" 2>&1; then
	fail "-t accepted a bad users file of tenant a"
fi
grep -q "tenants.d/a.users:1: want USER PASSWORD" "$T/t.out" ||
	fail "-t: no FILE:LINE for a's users file: $(cat "$T/t.out")"
printf 'alice pw-a\n' >"$T/tenants.d/a.users"
log "-t checks tenant a's http_users file (FILE:LINE)"

# 1. parkblf provision --tenant
SIP=$(free_port)
sed -i "s/^sip_listen.*/sip_listen 127.0.0.1:$SIP/" "$T/parkblf.conf"
"$BUILD/parkblf" provision yealink --tenant a -f "$T/parkblf.conf" \
	>"$T/prov-a" 2>"$T/prov-a.err" || fail "provision --tenant a: $(cat "$T/prov-a.err")"
grep -qxF "linekey.2.value = park-1@customer-a.example:$SIP" "$T/prov-a" &&
	grep -qxF "linekey.3.label = A Two" "$T/prov-a" ||
	fail "provision --tenant a: $(cat "$T/prov-a")"
grep -q "note: tenant 'a' is chosen by its domain" "$T/prov-a.err" ||
	fail "provision --tenant a: no note on the domain: $(cat "$T/prov-a.err")"
"$BUILD/parkblf" provision snom -T l -f "$T/parkblf.conf" >"$T/prov-l" \
	2>/dev/null || fail "provision -T l failed"
grep -qF "blf sip:park-2@127.0.0.1:$L1<" "$T/prov-l" ||
	fail "provision -T l: not at its tenant_listen: $(cat "$T/prov-l")"
"$BUILD/parkblf" provision yealink -f "$T/parkblf.conf" >"$T/prov-d" ||
	fail "provision (default) failed"
grep -qxF "linekey.2.value = park-1@127.0.0.1:$SIP" "$T/prov-d" &&
	! grep -q "linekey.3" "$T/prov-d" ||
	fail "provision without --tenant: $(cat "$T/prov-d")"
rc=0
"$BUILD/parkblf" provision yealink --tenant nosuch -f "$T/parkblf.conf" \
	>"$T/prov-x" 2>"$T/prov-x.err" || rc=$?
[ "$rc" -ne 0 ] && [ ! -s "$T/prov-x" ] &&
	grep -q "no tenant 'nosuch': .*tenants.d/nosuch.conf does not exist" \
		"$T/prov-x.err" ||
	fail "provision --tenant nosuch: rc $rc: $(cat "$T/prov-x.err")"
log "provision --tenant: a's keys at its domain, l's at its tenant_listen;" \
	"an unknown tenant exits $rc"
sed -i "s/^sip_listen.*/sip_listen 127.0.0.1:0/" "$T/parkblf.conf"

start_parkblf
wait_upstream_up 3
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
URL="http://127.0.0.1:$HTTP_PORT"
get() { curl -sS --max-time 5 -u desk:s3cret "$@"; }

pbx_a park '*01' call-1 100 Alice >/dev/null
pbx_d park '*00' call-2 200 Dora >/dev/null
wait_for 5 sh -c "curl -sS -u desk:s3cret $URL/t/a/status |
	jq -e '.orbits[1].calls[0].number == \"100\"'" >/dev/null ||
	fail "/t/a/status: $(get "$URL/t/a/status")"

# 2. /t/NAME/status: that tenant alone; /status as before
get "$URL/t/a/status?history=5" >"$T/a.json"
[ "$(jq -r '.name' "$T/a.json")" = a ] &&
	[ "$(jq -r '.domain' "$T/a.json")" = customer-a.example ] &&
	[ "$(jq -r '.orbits | map(.label) | join(",")' "$T/a.json")" = \
		"A One,A Two" ] &&
	[ "$(jq -r '.orbits[1].calls[0].name' "$T/a.json")" = Alice ] &&
	[ "$(jq -r '.history | length' "$T/a.json")" = 0 ] &&
	[ "$(jq -r '.tenants' "$T/a.json")" = null ] ||
	fail "/t/a/status: $(cat "$T/a.json")"
get "$URL/status" >"$T/status.json"
[ "$(jq -r '.orbits | map(.label) | join(",")' "$T/status.json")" = \
	"Default One" ] &&
	[ "$(jq -r '.orbits[0].calls[0].name' "$T/status.json")" = Dora ] ||
	fail "/status: $(cat "$T/status.json")"
[ "$(get "$URL/t/default/status" | jq -r '.orbits[0].calls[0].name')" = \
	Dora ] || fail "/t/default/status is not parkblf.conf's PBX"
log "/t/a/status: tenant a's orbits and Alice; /status and" \
	"/t/default/status: parkblf.conf's PBX and Dora"

# 3. unknown tenant, pages under /t/NAME/, credentials
code() { curl -sS --max-time 5 -o "$T/body" -w '%{http_code}' "$@"; }
[ "$(code -u desk:s3cret "$URL/t/nosuch/board")" = 404 ] &&
	grep -qx "no tenant 'nosuch' (tenants_dir has no nosuch.conf)" \
		"$T/body" || fail "/t/nosuch/board: $(cat "$T/body")"
[ "$(code "$URL/t/nosuch/parks.xml")" = 404 ] ||
	fail "/t/nosuch/parks.xml not 404"
[ "$(code -u desk:s3cret "$URL/t/a/metrics")" = 404 ] &&
	[ "$(code -u desk:s3cret "$URL/t/a/")" = 404 ] ||
	fail "/t/a/metrics or /t/a/ not 404"
[ "$(code "$URL/t/a/board")" = 401 ] &&
	[ "$(code "$URL/t/a/board/events")" = 401 ] &&
	[ "$(code "$URL/t/a/status")" = 401 ] &&
	[ "$(code "$URL/t/nosuch/status")" = 401 ] ||
	fail "/t/a/ pages without credentials not 401"
[ "$(code -u desk:s3cret "$URL/t/a/board")" = 200 ] &&
	grep -q 'new EventSource("board/events")' "$T/body" ||
	fail "/t/a/board: no page"
log "/t/nosuch/: 404 with its reason; /t/a/board needs http_users"

# tenant a's own users see a's pages, and nothing else
[ "$(code -u alice:pw-a "$URL/t/a/board")" = 200 ] &&
	[ "$(code -u alice:pw-a "$URL/t/a/status")" = 200 ] &&
	[ "$(jq -r .name "$T/body")" = a ] ||
	fail "tenant a's user refused on a's pages: $(cat "$T/body")"
for p in /t/l/status /t/l/board /t/default/status /status /board \
	/board/events; do
	[ "$(code -u alice:pw-a "$URL$p")" = 401 ] ||
		fail "tenant a's user let into $p"
done
[ "$(code -u alice:wrong "$URL/t/a/status")" = 401 ] &&
	[ "$(code -u desk:s3cret "$URL/t/l/status")" = 200 ] ||
	fail "a wrong password for a, or parkblf.conf's user for l"
log "tenant a's http_users: a's board and status, 401 on l's and the" \
	"default's; parkblf.conf's users see every tenant"

# 4. /t/a/parks.xml: a's orbits, links under /t/a/
curl -sS --max-time 5 "$URL/t/a/parks.xml?vendor=yealink" >"$T/a.xml"
grep -q "A Two" "$T/a.xml" && grep -q "100 Alice" "$T/a.xml" &&
	! grep -q "Dora" "$T/a.xml" || fail "/t/a/parks.xml: $(cat "$T/a.xml")"
curl -sS --max-time 5 "$URL/parks.xml?vendor=yealink" >"$T/d.xml"
grep -q "200 Dora" "$T/d.xml" && ! grep -q "Alice" "$T/d.xml" ||
	fail "/parks.xml: $(cat "$T/d.xml")"
log "/t/a/parks.xml shows Alice, /parks.xml Dora"

# 5. /t/a/board/events: a's orbits, then a's changes only
curl -sS -N --max-time 30 -u desk:s3cret "$URL/t/a/board/events" \
	>"$T/a.events" 2>/dev/null &
EV_A=$!
curl -sS -N --max-time 30 -u desk:s3cret "$URL/board/events" \
	>"$T/d.events" 2>/dev/null &
EV_D=$!
PIDS+=("$EV_A" "$EV_D")
wait_for 10 grep -q '^event: orbits$' "$T/a.events" ||
	fail "/t/a/board/events: no snapshot"
wait_for 10 grep -q '^event: orbits$' "$T/d.events" ||
	fail "/board/events: no snapshot"
pbx_a park '*00' call-3 300 Carol >/dev/null
pbx_d retrieve '*00' call-2 >/dev/null
wait_for 10 grep -q '"number":"300"' "$T/a.events" ||
	fail "a's board did not get Carol: $(cat "$T/a.events")"
wait_for 10 sh -c "grep -A1 '^event: orbit\$' '$T/d.events' |
	grep -q '\"Default One\"'" ||
	fail "the default board did not see Dora retrieved"
kill "$EV_A" "$EV_D" 2>/dev/null
wait "$EV_A" "$EV_D" 2>/dev/null
first() { grep '^data: ' "$1" | head -n 1 | sed 's/^data: //'; }
first "$T/a.events" | jq -e '.tenant == "a" and
	(.orbits | map(.label) == ["A One","A Two"])' \
	>/dev/null || fail "a's snapshot: $(cat "$T/a.events")"
first "$T/d.events" | jq -e '.tenant == null and
	(.orbits | map(.label) == ["Default One"])' \
	>/dev/null || fail "default snapshot: $(cat "$T/d.events")"
grep -A1 '^event: orbit$' "$T/a.events" | grep -q '"number":"300"' ||
	fail "Carol not in an orbit event of a's board"
! grep -q 'Dora\|"Default One"' "$T/a.events" ||
	fail "a's board got the default PBX's change: $(cat "$T/a.events")"
! grep -A1 '^event: orbit$' "$T/d.events" | grep -q 'Carol\|"A One"' ||
	fail "the default board got a's change: $(cat "$T/d.events")"
log "/t/a/board/events: a's orbits and Carol's park; /board/events" \
	"only the default PBX's"

# 6. tenant_listen sockets follow their tenant: moved, removed, back
udp_listens "$L1" && ss_listens "$L1" || fail "tenant l: $L1 not open"
PB_PORT_MAIN=$PB_PORT
PB_PORT=$L1
start_phone l1 park-2 QUIET_MS=60000
expect_last l1 '>sip:100@'
exec 7<>"/dev/tcp/127.0.0.1/$L1" || fail "no TCP connection to $L1"
log "tenant l: $L1 open (udp, tcp); its phone sees Alice"

L2=$(free_port)
sed -i "s/^tenant_listen .*/tenant_listen 127.0.0.1:$L2/" \
	"$T/tenants.d/l.conf"
wait_for 10 grep -q "tenants: l: changed" "$T/parkblf.log" ||
	fail "tenant l's new tenant_listen not picked up"
# until it closes, the old address is nobody's: 404, not the default
# tenant (whose dialog would lose its socket)
scenario expect.xml.in "$T/orphan.xml" METHOD=SUBSCRIBE CODE=404 \
	HEADER=Via: HEADER_RE=SIP "EXTRA_HEADERS=Event: dialog
Expires: 600" AFTER=
if sipp -sf "$T/orphan.xml" -s park-1 -i 127.0.0.1 -p "$(free_port)" -m 1 \
	-timeout 3s -timeout_error -nostdin -trace_err \
	-error_file "$T/orphan.err" "127.0.0.1:$L1" >/dev/null 2>&1; then
	log "a SUBSCRIBE to $L1 while it closes: 404"
elif udp_listens "$L1"; then
	fail "a SUBSCRIBE to $L1 while it closes not answered 404:" \
		"$(cat "$T/orphan.err" 2>/dev/null)"
else
	log "$L1 closed before a SUBSCRIBE could reach it (slow machine)"
fi
wait_for 5 udp_listens "$L2" && ss_listens "$L2" ||
	fail "tenant l moved, but $L2 is not open"
wait_for 5 grep -q "terminated;reason=deactivated" "$T/l1.msg" ||
	fail "l1 not told its tenant changed"
# its final NOTIFYs go from the old address; then it closes
wait_for 12 sh -c "! ss -Hlun 'sport = :$L1' | grep -q . &&
	! ss -Hltn 'sport = :$L1' | grep -q ." ||
	fail "tenant l moved to $L2, $L1 still open: $(ss -Hlntu "sport = :$L1")"
rc=0
read -r -t 5 -u 7 _ || rc=$?
[ "$rc" = 1 ] || fail "a TCP connection to $L1 was not closed (read: $rc)"
exec 7<&-
grep -q "sip: tenant_listen 127.0.0.1:$L1 closed: no tenant listens there (3 socket(s))" \
	"$T/parkblf.log" || fail "closing $L1 not logged"
PB_PORT=$L2
start_phone l2 park-2 QUIET_MS=1500
expect_last l2 '>sip:100@'
phone_done l2
log "tenant_listen changed: $L2 open and serving, $L1 closed (udp, tcp" \
	"listener, the connection to it)"

rm "$T/tenants.d/l.conf"
wait_for 10 grep -q "tenants: 1 from .* (0 added, 1 removed" \
	"$T/parkblf.log" || fail "tenant l not removed"
wait_for 12 sh -c "! ss -Hlun 'sport = :$L2' | grep -q . &&
	! ss -Hltn 'sport = :$L2' | grep -q ." ||
	fail "tenant l removed, $L2 still open"
udp_listens "$PB_PORT_MAIN" || fail "sip_listen closed with tenant l"
log "tenant l removed: $L2 closed, sip_listen still open"

# back at its first address: opened again, and it serves
tenant l listen-l.example "$PORT_A" "$L1"
wait_for 10 grep -q "tenants: 2 from .* (1 added" "$T/parkblf.log" ||
	fail "tenant l not added back"
wait_for 5 udp_listens "$L1" || fail "$L1 not opened again"
PB_PORT=$L1
start_phone l3 park-2 QUIET_MS=1500
expect_last l3 '>sip:100@'
phone_done l3
PB_PORT=$PB_PORT_MAIN
log "tenant l back at $L1: opened again, its phone sees Alice"
kill -TERM "$PHONE_l1" 2>/dev/null
