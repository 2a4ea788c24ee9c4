# Kamailio 5.6 as the edge proxy in front of parkblf (phones -> Kamailio
# with record_route -> parkblf), as sites and SBCs deploy it.  A sipp
# phone talks only to the proxy: SUBSCRIBE, the refresh and the
# un-SUBSCRIBE go through it, and so do parkblf's NOTIFYs, which carry
# the Route header built from the SUBSCRIBE's Record-Route.  The phone
# sees idle, the parked caller, idle again, the refresh's NOTIFY and the
# final terminated one (versions 0 to 4), each from
# the proxy; Kamailio's log shows every request relayed, none refused.
# Then baresip (presence) behind the same proxy: Online, Busy, Online.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf
KP=$(free_port)
start_kamailio kam "$KP" kamailio-proxy.cfg "NEXT=127.0.0.1:$PB_PORT"

# start_proxy_phone NAME ORBIT QUIET_MS: a sipp phone behind the proxy
start_proxy_phone() {
	local port
	port=$(free_port)
	fill_template "$INTEROP/proxy-phone.xml.in" "$T/$1.xml" \
		"QUIET_MS=$3"
	sipp -sf "$T/$1.xml" -s "$2" -i 127.0.0.1 -p "$port" \
		-m 1 -timeout 60s -timeout_error -nostdin \
		-trace_msg -message_file "$T/$1.msg" \
		-trace_err -error_file "$T/$1.err" \
		"127.0.0.1:$KP" >"$T/$1.out" 2>&1 &
	PIDS+=($!)
	eval "PHONE_$1=$!"
}

start_proxy_phone p park-1 3000
expect_last p 'version="0".*<state>terminated</state>'
log "park-1 idle, through the proxy"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
expect_last p 'version="1".*<state>confirmed</state>'
[ "$(last_callers p)" = "4930111 Alice Smith" ] ||
	fail "caller is '$(last_callers p)': $(last_notify p)"
log "parked: lit with 4930111 Alice Smith"

pbx retrieve '*00' >/dev/null
expect_last p 'version="2".*<state>terminated</state>'
log "retrieved: idle"

# 3 s quiet: the phone refreshes, 3 s more: it un-SUBSCRIBEs
phone_done p
[ "$(notify_count p)" -eq 5 ] ||
	fail "the phone got $(notify_count p) NOTIFYs, want 5"
notifies p | sed -n 4p | grep -q 'version="3".*<state>terminated<' ||
	fail "the refresh's NOTIFY: $(notifies p | sed -n 4p)"
# the final NOTIFY is a new document: the next version (RFC 4235 4.1)
last_matches p 'version="4".*<state>terminated<' ||
	fail "final NOTIFY: $(last_notify p)"
# what the phone saw of each NOTIFY: the proxy's Via on top, its
# Subscription-State
vias=$(awk '/message received/ { r = 1; next } r && /^NOTIFY / { n = 1 }
	r && n && /^Via:/ { print; n = 0; r = 0 }' "$T/p.msg")
[ "$(echo "$vias" | grep -c "Via: SIP/2.0/UDP 127.0.0.1:$KP;")" -eq 5 ] ||
	fail "NOTIFYs not all from the proxy: $vias"
states=$(grep -o '^Subscription-State: [a-z]*' "$T/p.msg" | cut -d' ' -f2 |
	paste -sd ' ')
[ "$states" = "active active active active terminated" ] ||
	fail "Subscription-States: $states"
log "refresh: NOTIFY version 3; un-SUBSCRIBE: 200 and the final" \
	"NOTIFY, terminated; all five came from the proxy"

# the proxy relayed each request: the initial SUBSCRIBE record-routed,
# the refresh and the un-SUBSCRIBE and the five NOTIFYs by their Route
count() { grep -c "PROXY $1" "$T/kam.log"; }
[ "$(count 'SUBSCRIBE initial')" -eq 1 ] &&
	[ "$(count 'SUBSCRIBE in-dialog')" -eq 2 ] &&
	[ "$(count "NOTIFY in-dialog from 127.0.0.1:$PB_PORT")" -eq 5 ] ||
	fail "the proxy's log: $(grep PROXY "$T/kam.log")"
grep -q 'Route: <sip:127.0.0.1:'"$KP"';lr' "$T"/wire/*.sip ||
	fail "parkblf's NOTIFYs carry no Route to the proxy"
kam_errors kam && fail "Kamailio logged errors"
log "Kamailio relayed 3 SUBSCRIBEs and 5 NOTIFYs, refused none"

# a real softphone behind the proxy: baresip's presence watcher, its
# contact at the proxy's address (Event: presence, PIDF)
PB_PORT=$KP start_baresip park-1
expect_bs Online
pbx park '*00' call-2 4930222 'Bob' >/dev/null
expect_bs Busy
pbx retrieve '*00' >/dev/null
expect_bs Online
[ "$(count 'SUBSCRIBE initial')" -eq 2 ] ||
	fail "baresip's SUBSCRIBE did not go through the proxy:" \
		"$(grep PROXY "$T/kam.log")"
grep -q "PROXY NOTIFY in-dialog from 127.0.0.1:$PB_PORT to .*:$BS_SIP" \
	"$T/kam.log" || fail "baresip's NOTIFYs did not go through the proxy"
log "baresip behind the proxy: Online, Busy, Online"
