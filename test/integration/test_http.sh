# The HTTP endpoint (http_listen on port 0): with a caller whose name
# needs escaping parked in *00 and one phone watching park-1, /status is
# valid JSON with the right values, /metrics has every counter and the
# gauges with the right values, and /parks.xml is well-formed for every
# vendor, names the caller and dials *10.  Unknown paths get 404, other
# methods 405, an unknown vendor 400.  After the phone un-SUBSCRIBEs,
# the watcher gauges drop to 0.  The oldest call's wait per orbit is as
# long as the call has been parked (the phone's 15 quiet seconds and
# more), 0 for an idle orbit and after the retrieve.
. "$(dirname "$0")/lib.sh"

need_tools curl jq xmllint

CALLER='Alice <&> "A"'

start_fakepbx
write_config "http_listen 127.0.0.1:0"
start_parkblf
# both lines say "listening on 127.0.0.1:PORT": take each by its prefix
PB_PORT=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log" | head -n 1)
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
[ -n "$HTTP_PORT" ] && [ "$HTTP_PORT" != 0 ] ||
	fail "no 'http: listening on' line with the port the OS chose"
URL="http://127.0.0.1:$HTTP_PORT"
log "http on port $HTTP_PORT"

# http PATH [CURL ARGS...]: prints the status code; body in $T/body,
# headers in $T/headers
http() {
	local path=$1
	shift
	curl -sS --max-time 5 -o "$T/body" -D "$T/headers" \
		-w '%{http_code}' "$@" "$URL$path" ||
		fail "curl $* $URL$path failed"
}

# expect_get PATH CTYPE_PREFIX: 200 with that Content-Type
expect_get() {
	local code ctype
	code=$(http "$1")
	[ "$code" = 200 ] || fail "GET $1: $code $(cat "$T/body")"
	ctype=$(sed -n 's/^content-type: *\([^\r]*\).*/\1/Ip' "$T/headers")
	case "$ctype" in
	"$2"*) ;;
	*) fail "GET $1: Content-Type '$ctype', not $2" ;;
	esac
}

# jqr FILTER: jq -r on the last body
jqr() { jq -r "$1" "$T/body"; }

# metric LINE: the last body has exactly this line
metric() {
	grep -qxF -- "$1" "$T/body" ||
		fail "/metrics has no line '$1': $(grep -F "${1%% *}" \
			"$T/body")"
}

parked_before=$(date +%s)
pbx park '*00' call-1 100 "$CALLER" >/dev/null
parked_after=$(date +%s)
start_phone a park-1 QUIET_MS=15000
expect_last a '<state>confirmed</state>'
log "parked and watched"

# --- /status
expect_get /status application/json
jq -e . "$T/body" >/dev/null || fail "/status is not JSON: $(cat "$T/body")"
[ -n "$(jqr .version)" ] || fail "/status: no version"
[ "$(jqr '.uptime_s | type')" = number ] || fail "/status: uptime_s"
[ "$(jqr .upstream.state)" = up ] ||
	fail "/status: upstream state $(jqr .upstream.state)"
[ "$(jqr .upstream.uri)" = "sip:any-dn@127.0.0.1:$PBX_PORT" ] ||
	fail "/status: upstream uri $(jqr .upstream.uri)"
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
jqr .upstream.since | grep -Eq "$iso" ||
	fail "/status: since '$(jqr .upstream.since)' is not ISO 8601 UTC"
[ "$(jqr .subscriptions)" = 1 ] ||
	fail "/status: subscriptions $(jqr .subscriptions)"
[ "$(jqr '[.orbits[].name] | join(",")')" = "park-1,park-2,park-3" ] ||
	fail "/status: orbits $(jqr '[.orbits[].name] | join(",")')"
o1='.orbits[] | select(.name == "park-1")'
o2='.orbits[] | select(.name == "park-2")'
o3='.orbits[] | select(.name == "park-3")'
[ "$(jqr "$o1 | [.dn, .label, .retrieve] | join(\"|\")")" = \
	"*00|Orbit 0|*10" ] || fail "/status: park-1 is $(jqr "$o1")"
[ "$(jqr "$o1 | .watchers")" = 1 ] || fail "/status: park-1 watchers"
[ "$(jqr "$o1 | .occupied")" = true ] || fail "/status: park-1 occupied"
[ "$(jqr "$o1 | .calls | length")" = 1 ] || fail "/status: park-1 calls"
[ "$(jqr "$o1 | .calls[0].number")" = 100 ] ||
	fail "/status: number $(jqr "$o1 | .calls[0].number")"
[ "$(jqr "$o1 | .calls[0].name")" = "$CALLER" ] ||
	fail "/status: name '$(jqr "$o1 | .calls[0].name")'"
grep -qF '"name":"Alice <&> \"A\""' "$T/body" ||
	fail "/status: the name is not JSON-escaped as expected"
jqr "$o1 | .calls[0].parked_at" | grep -Eq "$iso" ||
	fail "/status: parked_at '$(jqr "$o1 | .calls[0].parked_at")'"
[ "$(jqr "$o1 | .calls[0].parked_s | type")" = number ] ||
	fail "/status: parked_s"
[ "$(jqr "$o2 | [.watchers, .occupied, (.calls | length)] | join(\",\")")" \
	= "0,false,0" ] || fail "/status: park-2 is $(jqr "$o2")"
[ "$(jqr "$o3 | .label")" = null ] || fail "/status: park-3 has a label"
[ "$(jqr "$o3 | .retrieve")" = "*12" ] || fail "/status: park-3 retrieve"
log "/status: JSON with the right values"

# --- /metrics
expect_get /metrics "text/plain; version=0.0.4"
for c in subscribes_accepted subscribes_refused notifies_sent \
	notifies_failed upstream_attempts upstream_reconnects \
	upstream_notifies decode_errors orbit_changes fanout_waits \
	unverified_withheld http_refused requests_refused log_suppressed; do
	grep -qx "# HELP parkblf_${c}_total .*" "$T/body" ||
		fail "/metrics: no HELP for $c"
	grep -qx "# TYPE parkblf_${c}_total counter" "$T/body" ||
		fail "/metrics: no TYPE for $c"
	grep -Eqx "parkblf_${c}_total [0-9]+" "$T/body" ||
		fail "/metrics: no value for $c"
done
for g in subscriptions upstream_up orbits parked_calls \
	orbit_parked_calls orbit_watchers orbit_oldest_wait_seconds \
	heap_in_use_bytes heap_free_bytes timers libre_timers; do
	grep -qx "# TYPE parkblf_$g gauge" "$T/body" ||
		fail "/metrics: no TYPE for $g"
done
# every sample line is NAME[{LABELS}] VALUE (a histogram's _sum has a
# fraction)
bad=$(grep -v '^#' "$T/body" |
	grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"\})? [0-9]+(\.[0-9]+)?$')
[ -z "$bad" ] || fail "/metrics: malformed lines: $bad"
metric 'parkblf_subscriptions 1'
metric 'parkblf_upstream_up 1'
metric 'parkblf_orbits 3'
metric 'parkblf_parked_calls 1'
metric 'parkblf_orbit_parked_calls{orbit="park-1"} 1'
metric 'parkblf_orbit_parked_calls{orbit="park-2"} 0'
metric 'parkblf_orbit_watchers{orbit="park-1"} 1'
metric 'parkblf_orbit_watchers{orbit="park-3"} 0'
metric 'parkblf_orbit_oldest_wait_seconds{orbit="park-2"} 0'
metric 'parkblf_upstream_attempts_total 1'
metric 'parkblf_subscribes_accepted_total 1'
[ "$(sed -n 's/^parkblf_notifies_sent_total //p' "$T/body")" -ge 1 ] ||
	fail "/metrics: no NOTIFY counted as sent"
# the heap holds at least the orbit map and the subscription (malloc's
# own figures: 0 under AddressSanitizer or valgrind, whose allocators
# replace it)
case "$BUILD ${PARKBLF_WRAP:-}" in
*asan*|*valgrind*) ;;
*)	[ "$(sed -n 's/^parkblf_heap_in_use_bytes //p' "$T/body")" \
		-ge 10000 ] || fail "/metrics: heap in use missing or implausible"
	;;
esac
# the subscription's expiry is one of parkblf's timers; libre's list
# holds the one that drives them and libre's own (the PBX subscription,
# a 32 s server transaction per NOTIFY of the PBX: ~20 here)
[ "$(sed -n 's/^parkblf_timers //p' "$T/body")" -ge 1 ] ||
	fail "/metrics: no parkblf timer: $(grep timers "$T/body")"
lt=$(sed -n 's/^parkblf_libre_timers //p' "$T/body")
[ -n "$lt" ] && [ "$lt" -ge 1 ] && [ "$lt" -le 200 ] ||
	fail "/metrics: libre's timers '$lt'"
log "/metrics: counters and gauges"

# --- /parks.xml, every vendor
for spec in yealink:YealinkIPPhoneTextMenu:text/xml \
	cisco:CiscoIPPhoneMenu:text/xml snom:SnomIPPhoneMenu:text/xml \
	polycom:html:text/html grandstream:AddressBook:text/xml \
	fanvil:FanvilIPPhoneDirectory:text/xml poly:html:text/html \
	cisco-mpp:CiscoIPPhoneMenu:text/xml \
	:YealinkIPPhoneTextMenu:text/xml; do
	v=${spec%%:*}
	root=${spec#*:}
	root=${root%%:*}
	path=/parks.xml${v:+?vendor=$v}
	expect_get "$path" "${spec##*:}"
	xmllint --noout "$T/body" 2>"$T/xmllint.err" ||
		fail "$path is not well-formed: $(cat "$T/xmllint.err")"
	[ "$(xmllint --xpath 'local-name(/*)' "$T/body")" = "$root" ] ||
		fail "$path: root is not $root: $(head -c 300 "$T/body")"
	# the text as the phone reads it, entities resolved
	text=$(xmllint --xpath 'string(/*)' "$T/body")
	case "$text" in
	*"100 $CALLER ("*) ;;
	*) fail "$path: caller '100 $CALLER' not shown: $text" ;;
	esac
	case "$text" in
	*free*) ;;
	*) fail "$path: the idle orbits are not shown as free: $text" ;;
	esac
	grep -qF '*10' "$T/body" || fail "$path: does not dial *10"
	grep -qF '*11' "$T/body" || fail "$path: does not dial *11"
done
# each vendor's dial element, exactly
xp() { xmllint --xpath "$1" "$T/body"; }
expect_get '/parks.xml?vendor=yealink' text/xml
[ "$(xp 'string(//MenuItem[1]/Prompt)')" = \
	"Orbit 0: 100 $CALLER (0 min)" ] ||
	fail "yealink: prompt '$(xp 'string(//MenuItem[1]/Prompt)')'"
[ "$(xp 'string(//MenuItem[1]/URI)')" = 'Dial:*10' ] ||
	fail "yealink: URI '$(xp 'string(//MenuItem[1]/URI)')'"
[ "$(xp 'string(//MenuItem[1]/Dial)')" = '*10' ] || fail "yealink: Dial"
expect_get '/parks.xml?vendor=cisco' text/xml
[ "$(xp 'string(//MenuItem[1]/URL)')" = 'Dial:*10' ] ||
	fail "cisco: URL '$(xp 'string(//MenuItem[1]/URL)')'"
expect_get '/parks.xml?vendor=snom' text/xml
[ "$(xp 'string(//MenuItem[1]/URL)')" = 'snom://mb_nop#numberdial=*10' ] ||
	fail "snom: URL '$(xp 'string(//MenuItem[1]/URL)')'"
expect_get '/parks.xml?vendor=polycom' text/html
grep -qF '<a href="tel://*10">' "$T/body" || fail "polycom: no tel://*10"
expect_get '/parks.xml?vendor=grandstream' text/xml
[ "$(xp 'string(//Contact[1]/Phone/phonenumber)')" = '*10' ] ||
	fail "grandstream: phonenumber"
[ "$(xp 'string(//Contact[1]/LastName)')" = "100 $CALLER (0 min)" ] ||
	fail "grandstream: '$(xp 'string(//Contact[1]/LastName)')'"
expect_get '/parks.xml?vendor=fanvil' text/xml
[ "$(xp 'string(//DirectoryEntry[1]/Telephone)')" = '*10' ] ||
	fail "fanvil: Telephone"
[ "$(xp 'string(//DirectoryEntry[1]/Name)')" = \
	"Orbit 0: 100 $CALLER (0 min)" ] ||
	fail "fanvil: '$(xp 'string(//DirectoryEntry[1]/Name)')'"
log "/parks.xml: every vendor of provision, well-formed, caller shown," \
	"dials *10"

# --- refusals
[ "$(http /nope)" = 404 ] || fail "/nope is not 404"
[ "$(http /status -X POST -d x)" = 405 ] || fail "POST /status is not 405"
grep -qi '^Allow: GET' "$T/headers" || fail "405 without Allow: GET"
[ "$(http /metrics -X DELETE)" = 405 ] || fail "DELETE /metrics not 405"
[ "$(http '/parks.xml?vendor=nokia')" = 400 ] ||
	fail "an unknown vendor is not 400"
grep -q vendor "$T/body" || fail "400 without a message"
log "404, 405, 400"

# --- the phone leaves: gauges follow
phone_done a
wait_for 5 eval '[ "$(http /metrics)" = 200 ] &&
	grep -qx "parkblf_subscriptions 0" "$T/body"' ||
	fail "subscriptions not back to 0: $(grep subscriptions "$T/body")"
metric 'parkblf_orbit_watchers{orbit="park-1"} 0'
log "watchers back to 0 after the un-SUBSCRIBE"

# --- how long the oldest call has waited: as long as it has been parked
# (the PBX reports whole seconds), and 0 once it is retrieved
wait_gauge() {
	sed -n 's/^parkblf_orbit_oldest_wait_seconds{orbit="'"$1"'"} //p' \
		"$T/body"
}
[ "$(http /metrics)" = 200 ] || fail "GET /metrics"
now=$(date +%s)
w=$(wait_gauge park-1)
[ -n "$w" ] && [ "$w" -ge $((now - parked_after - 2)) ] &&
	[ "$w" -le $((now - parked_before + 1)) ] ||
	fail "park-1 oldest wait '$w' s, parked $((now - parked_after))..$((
	now - parked_before)) s ago"
[ "$(wait_gauge park-3)" = 0 ] || fail "park-3 idle: $(wait_gauge park-3)"
log "oldest wait of park-1: $w s (parked $((now - parked_before)) s ago)"
pbx retrieve '*00' >/dev/null
wait_for 5 eval '[ "$(http /metrics)" = 200 ] &&
	[ "$(wait_gauge park-1)" = 0 ]' ||
	fail "park-1 oldest wait after the retrieve: $(wait_gauge park-1)"
log "oldest wait back to 0 after the retrieve"
