# Two parkblf instances behind Kamailio 5.6's dispatcher, with the
# shipped conf/kamailio/kamailio.cfg and a dispatcher.list of both:
# the phones of tenant-a.example all reach the instance the domain
# hashes to; that instance is killed (kill -9) while the PBX parks and
# retrieves; Kamailio's OPTIONS probes mark it dead; each phone's next
# refresh reaches the survivor (or times out at the proxy) and is
# answered 481; the phone subscribes anew, the survivor takes it and
# every lamp shows the PBX's state again within FAILOVER_MAX s.  Then
# park and retrieve on the survivor, and nothing lit that is dark.
#
# Phones: two sipp phones (Event: dialog; refresh after 8 s without a
# NOTIFY, a new SUBSCRIBE at once on 481) and baresip (presence;
# libre refreshes at 90% of the 20 s granted, and waits 30 s after a
# 481 before it subscribes anew).  Both instances hold an upstream
# subscription to the fake PBX all along (the "every instance holds
# every tenant's link" design of docs/SCALING.md).
. "$(dirname "$0")/lib.sh"

DOMAIN=tenant-a.example
# generous: 18 s (baresip's refresh) + 2 s (the proxy's timeout when
# the probe has not yet seen the death) + 30 s (baresip's wait after
# 481) + slack for a busy machine; what it took is logged
FAILOVER_MAX=90

start_fakepbx
# a call waits in orbit 1 before anything starts
pbx park '*01' call-1 4930111 'Alice Smith' >/dev/null

# start_instance NAME: parkblf NAME on its own port, its config in
# $T/NAME; sets PORT_NAME and PID_NAME
start_instance() {
	local dir=$T/$1 port
	mkdir -p "$dir"
	cat >"$dir/orbits.conf" <<-EOM
	park-1 *00 retrieve=*10 label="Orbit 0"
	park-2 *01 retrieve=*11 label="Orbit 1"
	EOM
	cat >"$dir/parkblf.conf" <<-EOM
	sip_listen		127.0.0.1:0
	upstream_uri		sip:any-dn@127.0.0.1:$PBX_PORT
	upstream_user		9999
	upstream_password	secret
	upstream_retry_min	1
	upstream_retry_max	2
	orbit_map		orbits.conf
	subscribe_min_expires	10
	subscribe_default_expires	20
	subscribe_max_expires	20
	log_level		debug
	EOM
	"$BUILD/parkblf" -f "$dir/parkblf.conf" >>"$T/parkblf-$1.log" 2>&1 &
	eval "PID_$1=$!"
	DAEMONS+=("$!:parkblf-$1")
	FAIL_LOGS+=("$T/parkblf-$1.log")
	wait_for 10 grep -q "sip: listening on" "$T/parkblf-$1.log" ||
		fail "parkblf $1 did not start"
	wait_for 15 grep -Eq 'link [a-z]+ -> up' "$T/parkblf-$1.log" ||
		fail "parkblf $1: upstream link did not come up"
	port=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
		"$T/parkblf-$1.log" | head -n 1)
	eval "PORT_$1=$port"
}

start_instance a
start_instance b
# both hold the PBX's state: an upstream subscription each
[ "$(grep 'SUBSCRIBE sip:any-dn@' "$T/fakepbx.log" |
	sed 's/.* from \([^ ]*\) .*/\1/' | sort -u | wc -l)" -eq 2 ] ||
	fail "the PBX does not see two subscriptions:" \
		"$(grep 'SUBSCRIBE sip:any-dn@' "$T/fakepbx.log")"

# Kamailio with the shipped config; probes every second here
KP=$(free_port)
mkdir -p "$T/kam"
cat >"$T/kam/dispatcher.list" <<-EOM
1 sip:127.0.0.1:$PORT_a 8 0 name=a
1 sip:127.0.0.1:$PORT_b 8 0 name=b
EOM
kam_args=(-f "$SRC/conf/kamailio/kamailio.cfg" -L "$KAM_MODULES"
	-A "LISTEN_UDP=udp:127.0.0.1:$KP" -A "LISTEN_TCP=tcp:127.0.0.1:$KP"
	-A "DS_LIST=\"$T/kam/dispatcher.list\"" -A DS_PING=1
	-A "PING_FROM=\"sip:kamailio@127.0.0.1:$KP\"" -A WORKERS=1 -A LOG_LEVEL=2)
kamailio -c "${kam_args[@]}" >"$T/kam/check.log" 2>&1 ||
	fail "kamailio -c refuses conf/kamailio/kamailio.cfg:" \
		"$(tail -n 5 "$T/kam/check.log")"
kamailio "${kam_args[@]}" -DD -E -Y "$T/kam" -w "$T/kam" -m 64 -M 8 \
	>"$T/kam.log" 2>&1 &
DAEMONS+=("$!:kamailio")
FAIL_LOGS+=("$T/kam.log")
wait_for 15 udp_listens "$KP" || fail "Kamailio did not start"

# probed PID: parkblf PID answered a probe of the proxy 200 (its own
# messages are in the wire dump, one file each, named PID-N.sip)
probed() {
	grep -l "^From: <sip:kamailio@127.0.0.1:$KP>" "$T/wire/$1"-*.sip \
		2>/dev/null | xargs -r grep -l '^SIP/2.0 200 OK' | grep -q .
}
wait_for 10 probed "$PID_a" && wait_for 10 probed "$PID_b" ||
	fail "the instances did not answer Kamailio's OPTIONS probes 200"
log "both instances subscribed to the PBX, both answer the probes 200"

# start_failover_phone NAME ORBIT: a sipp phone behind the proxy
start_failover_phone() {
	local port
	port=$(free_port)
	fill_template "$INTEROP/failover-phone.xml.in" "$T/$1.xml" \
		"DOMAIN=$DOMAIN" "REFRESH_MS=8000"
	sipp -sf "$T/$1.xml" -s "$2" -i 127.0.0.1 -p "$port" \
		-m 20 -l 1 -timeout 280s -nostdin \
		-trace_msg -message_file "$T/$1.msg" \
		-trace_err -error_file "$T/$1.err" \
		"127.0.0.1:$KP" >"$T/$1.out" 2>&1 &
	PIDS+=($!)
}

start_failover_phone p1 park-1
start_failover_phone p2 park-2
expect_last p1 '<state>terminated</state>'
expect_last p2 '<state>confirmed</state>'
BS_DOMAIN=$DOMAIN BS_OUTBOUND="sip:127.0.0.1:$KP;transport=udp" \
	start_baresip park-1
expect_bs Online
log "through Kamailio: park-1 idle (sipp, baresip), park-2 lit"

# which instance took tenant-a.example: all three subscriptions went to
# one, chosen by the domain's hash
dsts=$(sed -n "s/.*DS SUBSCRIBE initial .* tenant $DOMAIN to sip:127.0.0.1:\([0-9]*\).*/\1/p" \
	"$T/kam.log" | sort -u)
case "$dsts" in
"$PORT_a") victim=a survivor=b ;;
"$PORT_b") victim=b survivor=a ;;
*) fail "the phones of $DOMAIN went to '$dsts'" ;;
esac
eval "vport=\$PORT_$victim vpid=\$PID_$victim sport=\$PORT_$survivor"
log "$DOMAIN hashes to instance $victim (port $vport); $survivor waits"

# kill -9: no goodbye, its phones' dialogs die with it
n1=$(notify_count p1)
n2=$(notify_count p2)
t0=$(date +%s%N)
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null

# while it is gone the PBX parks in orbit 0 and retrieves orbit 1
sleep 1
pbx park '*00' call-2 4930222 'Bob Jones' >/dev/null
pbx retrieve '*01' >/dev/null

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
wait_for 10 grep -q "DS instance down: sip:127.0.0.1:$vport" "$T/kam.log" ||
	fail "Kamailio did not see instance $victim die"
log "Kamailio's probes found $victim dead after $(ms_since "$t0") ms"

# every lamp true again: each phone's last document is the PBX's
p1_true() { last_matches p1 '<state>confirmed</state>' &&
	[ "$(last_callers p1)" = "4930222 Bob Jones" ]; }
p2_true() { last_matches p2 '<state>terminated</state>' &&
	[ "$(notify_count p2)" -gt "$n2" ]; }
for p in p1 p2; do
	wait_for "$FAILOVER_MAX" "${p}_true" ||
		fail "$p not true $FAILOVER_MAX s after the kill: $(last_notify $p)"
	log "$p true after $(ms_since "$t0") ms"
done
wait_for "$FAILOVER_MAX" bs_is Busy ||
	fail "baresip not Busy $FAILOVER_MAX s after the kill: $(bs_status)"
log "baresip true (Busy) after $(ms_since "$t0") ms"

# how: a refresh answered 481, a new subscription at the survivor
for p in p1 p2; do
	grep -q '^SIP/2.0 481' "$T/$p.msg" ||
		fail "$p got no 481 for its refresh"
done
news=$(grep -c "DS SUBSCRIBE initial .* tenant $DOMAIN to sip:127.0.0.1:$sport" \
	"$T/kam.log")
[ "$news" -ge 3 ] || fail "$news new SUBSCRIBEs reached $survivor, want 3"
grep -q "presence: subscriber closed .*: 481" "$T/baresip.log" ||
	fail "baresip's refresh was not answered 481:" \
		"$(grep presence: "$T/baresip.log")"
by_survivor=$(grep -c "DS SUBSCRIBE in-dialog for dead .*$vport" \
	"$T/kam.log")
by_proxy=$(grep -c "DS SUBSCRIBE lost with sip:.*:$vport" "$T/kam.log")
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

kam_errors kam | grep -v "no instance alive" &&
	fail "Kamailio logged errors"
true
