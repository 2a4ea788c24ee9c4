# Orbit map rules, as a phone and an admin see them.  A range line
# (park-{1..10} *{00..09}) gives ten orbits, one overridden by a line of
# its own; a phone watching a range orbit the PBX has never mentioned
# gets idle at once, then the caller once a call is parked there.  A
# discover line (discover SP{x} shared-{x} max=3) makes an orbit of SP1
# (in the PBX's first report), of shared-3 when a phone subscribes to it
# before the PBX names SP3 (idle, then lit), and of SP2 (parked later):
# /status and /metrics show them; SP4 is past max= (logged once, not an
# orbit, 404).  A reload keeps the discovered orbits with the new
# template's label, and one without the discover line ends their
# watchers (noresource).  -t and provision on rules.
. "$(dirname "$0")/lib.sh"

need_tools curl jq

start_fakepbx
pbx park SP1 call-1 201 Alice >/dev/null
write_config "http_listen 127.0.0.1:0"
cat >"$T/orbits.conf" <<'EOM'
park-{1..10} *{00..09} label="Orbit {0..9}"
park-1 *00 retrieve=*10 label="Front desk"
discover SP{x} shared-{x} label="Shared {x}" max=3
EOM
start_parkblf
http_ports

# get PATH: the body in $T/body, fails unless 200
get() {
	curl -sS --max-time 5 -o "$T/body" -f "$URL$1" ||
		fail "GET $1 failed"
}

# orbit NAME FIELD: a field of an orbit in /status ("" if no orbit)
orbit() {
	get /status
	jq -r --arg n "$1" ".orbits[] | select(.name == \$n) | .$2" \
		"$T/body"
}

# 1. the range, and the line that overrides one of its orbits
wait_for 5 grep -q "the PBX reported DN SP1: orbit shared-1" \
	"$T/parkblf.log" || fail "SP1 not discovered"
get /status
[ "$(jq '.orbits | length' "$T/body")" = 11 ] ||
	fail "/status: not 10 range orbits and shared-1: $(cat "$T/body")"
[ "$(orbit park-7 dn)/$(orbit park-7 label)/$(orbit park-7 origin)" = \
	"*06/Orbit 6/range" ] || fail "park-7: $(orbit park-7 dn)"
[ "$(orbit park-7 retrieve)" = "*16" ] || fail "park-7's retrieve code"
[ "$(orbit park-1 label)/$(orbit park-1 origin)" = "Front desk/line" ] ||
	fail "park-1: the line did not win over the range"
log "range: park-1..park-10 on *00..*09, park-1 from its own line"

start_phone p7 park-7 QUIET_MS=20000
expect_last p7 '<state>terminated</state>'
log "park-7 (never mentioned by the PBX): idle at once"
pbx park '*06' call-6 206 Frank >/dev/null
expect_last p7 '<state>confirmed</state>'
[ "$(last_callers p7)" = "206 Frank" ] || fail "park-7: $(last_callers p7)"
log "park-7: Frank parked on *06 lights it"

# 2. discovery: SP1 came in the PBX's first report
[ "$(orbit shared-1 origin)/$(orbit shared-1 label)" = \
	"discovered/Shared 1" ] || fail "shared-1 in /status"
[ "$(orbit shared-1 'calls[0].number')" = 201 ] ||
	fail "shared-1: Alice's call not in /status"
log "SP1 (first report): orbit shared-1, in /status with Alice"

# a phone asks for shared-3 before the PBX has mentioned SP3
start_phone s3 shared-3 QUIET_MS=20000
expect_last s3 '<state>terminated</state>'
grep -q "a phone asked for shared-3: orbit of DN SP3" "$T/parkblf.log" ||
	fail "shared-3 not made on demand"
[ "$(orbit shared-3 dn)/$(orbit shared-3 origin)" = "SP3/discovered" ] ||
	fail "shared-3 in /status: $(orbit shared-3 dn)"
log "shared-3 subscribed before the PBX named SP3: idle at once"
pbx park SP3 call-3 203 Carol >/dev/null
expect_last s3 '<state>confirmed</state>'
# (last_callers leaves out park-* local identities, not shared-*)
[ "$(last_callers s3 | sed 's/^shared-3 Shared 3|//')" = "203 Carol" ] ||
	fail "shared-3: $(last_callers s3)"
log "SP3 parked: shared-3 lit with Carol"
expect_refusal shared-x 404 "Via:" "SIP" $'Event: dialog\nExpires: 600'
log "shared-x (no digits for {x}): 404"

# an open board gets the new orbit list when SP2 becomes an orbit
curl -sS -N --max-time 30 "$URL/board/events" >"$T/board.events" &
BOARD=$!
PIDS+=("$BOARD")
wait_for 5 grep -q '^event: orbits' "$T/board.events" ||
	fail "board: no first snapshot"
grep -q '"name":"shared-2"' "$T/board.events" &&
	fail "board: shared-2 before the PBX named SP2"
pbx park SP2 call-2 202 Bea >/dev/null
wait_for 5 grep -q "the PBX reported DN SP2: orbit shared-2" \
	"$T/parkblf.log" || fail "SP2 not discovered"
wait_for 5 grep -q '^data: {"orbits":.*"name":"shared-2","dn":"SP2",[^}]*"origin":"discovered"' \
	"$T/board.events" || fail "board: no snapshot with shared-2"
kill "$BOARD" 2>/dev/null
get /metrics
grep -qx 'parkblf_orbits 13' "$T/body" ||
	fail "/metrics: $(grep parkblf_orbits "$T/body")"
log "SP2 parked: orbit shared-2 made, on the open board, in /metrics"

# 3. max=3: SP4 is not made an orbit, logged once
pbx park SP4 call-4 204 Dave >/dev/null
pbx park SP5 call-5 205 Erin >/dev/null
wait_for 5 grep -q "discover SP{x} reached its 3 orbits: DN SP4" \
	"$T/parkblf.log" || fail "cap not logged"
[ "$(grep -c "reached its 3 orbits" "$T/parkblf.log")" = 1 ] ||
	fail "cap logged more than once"
[ -z "$(orbit shared-4 name)" ] || fail "shared-4 made past max="
expect_refusal shared-4 404 "Via:" "SIP" $'Event: dialog\nExpires: 600'
get /metrics
grep -qx 'parkblf_orbits_discovered_total 3' "$T/body" ||
	fail "/metrics: $(grep discovered "$T/body")"
refused=$(sed -n 's/^parkblf_discover_refused_total //p' "$T/body")
[ "${refused:-0}" -ge 3 ] || fail "/metrics: discover_refused '$refused'"
log "SP4, SP5 past max=3: logged once, no orbit, 404"
log "/metrics: 3 orbits discovered, $refused refused (SP4, SP5, shared-4)"

# 4. reload with a new label template: the discovered orbits stay
sed -i 's/label="Shared {x}"/label="Room {x}"/' "$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 5 grep -q "reload: 13 orbits .* (0 added, 0 removed, 3 changed)" \
	"$T/parkblf.log" || fail "reload: $(grep reload: "$T/parkblf.log")"
[ "$(orbit shared-3 label)/$(orbit shared-3 origin)" = \
	"Room 3/discovered" ] || fail "shared-3 after the reload"
expect_last s3 'display="Room 3"'
log "reload: shared-1..3 kept, shared-3's watcher sees 'Room 3'"

pbx retrieve SP3 >/dev/null
expect_last s3 '<state>terminated</state>'
log "SP3 retrieved: shared-3 idle"


# 5. reload without the discover line: they go, their watchers end
sed -i '/^discover/d' "$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 5 grep -q "reload: 10 orbits .* (0 added, 3 removed" \
	"$T/parkblf.log" || fail "reload: $(grep reload: "$T/parkblf.log")"
wait_for 5 grep -q "Subscription-State: terminated;reason=noresource" \
	"$T/s3.msg" || fail "shared-3's watcher not ended"
[ -z "$(orbit shared-1 name)" ] || fail "shared-1 still in /status"
log "discover line removed: shared-* gone, watcher got noresource"

# 6. parkblf -t on rules: FILE:LINE for each problem

# check_map MAP RC: parkblf -t with MAP as orbit map must exit RC (0 or
# 1); its output in $out
check_map() {
	local rc=0
	sed "s|^orbit_map .*|orbit_map $1|" "$T/parkblf.conf" >"$T/t.conf"
	out=$("$BUILD/parkblf" -t -f "$T/t.conf" 2>&1) || rc=1
	[ "$rc" = "$2" ] || fail "-t with $1: exit $rc, not $2: $out"
}

# says TEXT: the last check_map printed a line with TEXT
says() {
	echo "$out" | grep -qF -- "$1" || fail "-t: no '$1' in: $out"
}

cat >"$T/bad.conf" <<'EOM'
park-{10..1} *{09..00}
lobby-{1..3} 7{1..4}
discover SP shared-{x}
EOM
check_map bad.conf 1
says "bad.conf:1: name 'park-{10..1}' is a reversed"
says "bad.conf:2: DN '7{1..4}' gives 4 values, the name 3"
says "bad.conf:3: pattern 'SP' needs exactly one {x}"
log "-t: reversed range, mismatched lengths, bad pattern as FILE:LINE"

check_map orbits.conf 0
says "OK (10 orbits from"
echo "$out" | grep -q "orbits.conf:[0-9]*: warning" &&
	fail "-t warned on the good map: $out"

# overlapping discover lines: warnings, the map is still good
cat >"$T/warn.conf" <<'EOM'
park-{1..10} *{00..09}
discover SP{x} shared-{x}
discover SP{x} other-{x}
discover *1{x} park-{x}
EOM
check_map warn.conf 0
says "warn.conf:3: warning: discover SP{x} never applies"
says "warn.conf:4: warning: discover would name DN *11 'park-1', which line 1 has, and 9 more"
log "-t: discover lines that overlap: warned precisely, exit 0"

kill -TERM "$PHONE_p7"

# 7. provision: a range gives one key per orbit, in order; a discover
# line gives none, and the output says so
cat >"$T/prov.conf" <<'EOM'
lobby 700 label=Lobby
park-{1..12} *{00..11} label="Orbit {0..11}"
discover SP{x} shared-{x}
EOM
check_map prov.conf 0
says "OK (13 orbits and 1 discover line from"
"$BUILD/parkblf" provision yealink -f "$T/t.conf" \
	-a 192.0.2.10 >"$T/yealink.out" 2>"$T/yealink.err" ||
	fail "provision: $(cat "$T/yealink.err")"
order=$(grep -oE '\.value = [a-z0-9-]+@' "$T/yealink.out" |
	sed 's/.value = //; s/@//' | paste -sd ' ')
[ "$order" = "lobby $(printf 'park-%s ' $(seq 1 12) | sed 's/ $//')" ] ||
	fail "provision: keys $order"
grep -qxF 'linekey.14.label = Orbit 11' "$T/yealink.out" ||
	fail "provision: park-12's label: $(grep 'linekey.14' "$T/yealink.out")"
grep -qF '## No keys for discover SP{x} -> shared-{x} (line 3)' \
	"$T/yealink.out" || fail "provision: discover line not mentioned"
"$BUILD/parkblf" provision polycom -f "$T/t.conf" \
	-a 192.0.2.10 >"$T/polycom.out" 2>/dev/null || fail "provision polycom"
if command -v xmllint >/dev/null; then
	xmllint --noout "$T/polycom.out" || fail "polycom: not XML"
fi
log "provision: 13 keys (lobby, park-1..park-12), discover line noted"
