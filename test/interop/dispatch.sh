# The set-up of the dispatcher tests (test_dispatcher*.sh): two tenants,
# each a fake PBX (customer-a.example: PBX_CTL, pbx; customer-b.example:
# CTL_B, pbx_b), both configured on two parkblf instances x
# (127.0.0.11) and y (127.0.0.12) behind Kamailio (127.0.0.1, in
# their trusted_proxies) with the shipped conf/kamailio/kamailio.cfg
# and a dispatcher.list of both.  With two
# instances in this order, Kamailio 5.6's hash sends the two domains to
# different ones (instance_of tells which).
#
# Sourced after lib.sh; dispatch_setup does the work.

DOMAIN=customer-a.example
DOMAIN_B=customer-b.example

pbx_b() { PBX_CTL=$CTL_B pbx "$@"; }

# start_instance NAME ADDRESS: parkblf NAME on ADDRESS, its config in
# $T/NAME: tenants a (this PBX) and b; sets PORT_NAME and PID_NAME
start_instance() {
	local dir=$T/$1 port
	mkdir -p "$dir/tenants.d"
	cat >"$dir/a.map" <<-EOM
	park-1 *00 retrieve=*10 label="Orbit 0"
	park-2 *01 retrieve=*11 label="Orbit 1"
	EOM
	echo 'park-1 *00 retrieve=*10' >"$dir/b.map"
	printf '%s\n' "upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT" \
		"upstream_user 9999" "upstream_password secret" \
		"orbit_map ../a.map" "tenant_domain $DOMAIN" \
		>"$dir/tenants.d/a.conf"
	printf '%s\n' "upstream_uri sip:any-dn@127.0.0.1:$PORT_B" \
		"upstream_user 9999" "upstream_password secret" \
		"orbit_map ../b.map" "tenant_domain $DOMAIN_B" \
		>"$dir/tenants.d/b.conf"
	# the shipped recipe (conf/kamailio/kamailio.cfg): the proxy
	# trusted, so the limits count each phone by its Via; phones told
	# to re-subscribe at once on SIGTERM; INSTANCE_CONF: more lines
	cat >"$dir/parkblf.conf" <<-EOM
	sip_listen		$2:0
	tenants_dir		tenants.d
	upstream_retry_min	1
	upstream_retry_max	2
	subscribe_min_expires	10
	subscribe_default_expires	20
	subscribe_max_expires	20
	trusted_proxies		127.0.0.1
	stop_handover		yes
	log_level		debug
	${INSTANCE_CONF:-}
	EOM
	"$BUILD/parkblf" -f "$dir/parkblf.conf" >>"$T/parkblf-$1.log" 2>&1 &
	eval "PID_$1=$!"
	DAEMONS+=("$!:parkblf-$1")
	FAIL_LOGS+=("$T/parkblf-$1.log")
	wait_for 10 grep -q "sip: listening on" "$T/parkblf-$1.log" ||
		fail "parkblf $1 did not start"
	wait_for 15 log_has 2 "$1" 'link [a-z]+ -> up' ||
		fail "parkblf $1: the upstream links did not come up"
	port=$(sed -n "s/.*sip: listening on $2:\([0-9]*\).*/\1/p" \
		"$T/parkblf-$1.log" | head -n 1)
	eval "PORT_$1=$port ADDR_$1=$2"
}
# log_has N NAME REGEX: instance NAME's log has N lines matching
log_has() { [ "$(grep -Ec -- "$3" "$T/parkblf-$2.log")" -ge "$1" ]; }

# subscribe ADDRESS ORBIT CODE HEADER REGEX: a phone on ADDRESS
# subscribes to ORBIT of tenant a through the proxy (one sipp call,
# $T/sub-ADDRESS.msg); the answer must be CODE, its HEADER match REGEX
subscribe() {
	scenario expect.xml.in "$T/sub.xml" METHOD=SUBSCRIBE "CODE=$3" \
		"HEADER=$4" "HEADER_RE=$5" "EXTRA_HEADERS=Event: dialog" \
		AFTER=
	PHONE_DOMAIN=$DOMAIN to_domain "$T/sub.xml"
	sipp -sf "$T/sub.xml" -s "$2" -i "$1" -p "$(free_port)" -m 1 \
		-timeout 15s -timeout_error -nostdin \
		-trace_err -error_file "$T/sub.err" \
		-trace_msg -message_file "$T/sub-$1.msg" \
		"127.0.0.1:$KP" >"$T/sub.out" 2>&1 ||
		fail "phone $1, $2 through the proxy: not answered $3:" \
			"$(cat "$T/sub.err" 2>/dev/null)" \
			"$(grep -A3 '^SIP/2.0' "$T/sub-$1.msg" | tail -n 4)"
	log "phone $1, $2 through the proxy: $3"
}

# start_failover_phone NAME ORBIT [DOMAIN]: a sipp phone behind the
# proxy, subscribed to ORBIT@DOMAIN (tenant a's by default)
start_failover_phone() {
	local port
	port=$(free_port)
	fill_template "$INTEROP/failover-phone.xml.in" "$T/$1.xml" \
		"DOMAIN=${3:-$DOMAIN}" "REFRESH_MS=8000"
	sipp -sf "$T/$1.xml" -s "$2" -i 127.0.0.1 -p "$port" \
		-m 20 -l 1 -timeout 280s -nostdin \
		-trace_msg -message_file "$T/$1.msg" \
		-trace_err -error_file "$T/$1.err" \
		"127.0.0.1:$KP" >"$T/$1.out" 2>&1 &
	PIDS+=($!)
}

# instance_of DOMAIN: sets INSTANCE to the instance (x or y) the new
# subscriptions for DOMAIN went to; fails unless all went to one
instance_of() {
	local dsts
	dsts=$(sed -n "s/.*DS SUBSCRIBE initial .* tenant $1 to sip:\([0-9.]*:[0-9]*\).*/\1/p" \
		"$T/kam.log" | sort -u)
	case "$dsts" in
	"$ADDR_x:$PORT_x") INSTANCE=x ;;
	"$ADDR_y:$PORT_y") INSTANCE=y ;;
	*) fail "the phones of $1 went to '$dsts'" ;;
	esac
}

# probed PID: parkblf PID answered a probe of the proxy 200 (its own
# messages are in the wire dump, one file each, named PID-N.sip)
probed() {
	grep -l "^From: <sip:kamailio@127.0.0.1:$KP>" "$T/wire/$1"-*.sip \
		2>/dev/null | xargs -r grep -l '^SIP/2.0 200 OK' | grep -q .
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# dispatch_setup PING: the PBXs, the instances (each subscribed to both
# PBXs) and Kamailio, probing every PING seconds; sets KP (its port).
# probed PID tells whether an instance answered a probe.
dispatch_setup() {
	start_fakepbx
	CTL_B=$PBX_CTL PORT_B=$PBX_PORT
	start_fakepbx
	start_instance x 127.0.0.11
	start_instance y 127.0.0.12
	# both hold both PBXs' state: four upstream subscriptions (the two
	# fake PBXs share a log; a line they wrote at once is skipped)
	[ "$(grep -oE 'SUBSCRIBE sip:any-dn@[0-9.]+:[0-9]+ from [0-9.]+:[0-9]+ ' \
		"$T/fakepbx.log" | sort -u | wc -l)" -eq 4 ] ||
		fail "the PBXs do not see four subscriptions:" \
			"$(grep 'SUBSCRIBE sip:any-dn@' "$T/fakepbx.log")"

	KP=$(free_port)
	mkdir -p "$T/kam"
	cat >"$T/kam/dispatcher.list" <<-EOM
	1 sip:$ADDR_x:$PORT_x 8 0 name=x
	1 sip:$ADDR_y:$PORT_y 8 0 name=y
	EOM
	local kam_args=(-f "$SRC/conf/kamailio/kamailio.cfg"
		-L "$KAM_MODULES" -A "LISTEN_UDP=udp:127.0.0.1:$KP"
		-A "LISTEN_TCP=tcp:127.0.0.1:$KP"
		-A "DS_LIST=\"$T/kam/dispatcher.list\"" -A "DS_PING=$1"
		-A "PING_FROM=\"sip:kamailio@127.0.0.1:$KP\""
		-A WORKERS=1 -A LOG_LEVEL=2)
	kamailio -c "${kam_args[@]}" >"$T/kam/check.log" 2>&1 ||
		fail "kamailio -c refuses conf/kamailio/kamailio.cfg:" \
			"$(tail -n 5 "$T/kam/check.log")"
	kamailio "${kam_args[@]}" -DD -E -Y "$T/kam" -w "$T/kam" \
		-m 64 -M 8 >"$T/kam.log" 2>&1 &
	DAEMONS+=("$!:kamailio")
	FAIL_LOGS+=("$T/kam.log")
	wait_for 15 udp_listens "$KP" || fail "Kamailio did not start"
	log "both instances subscribed to both PBXs"
}

# dispatch_phones: both instances probed; a call waits in tenant a's
# orbit 1; then tenant a's phones (sipp p1 on park-1, p2 on park-2,
# baresip on park-1) and tenant b's (sipp q1 on park-1) subscribe
# through Kamailio and show the state.  Sets victim (the instance
# tenant a hashes to) and survivor (tenant b's, the other one), vaddr,
# vpid and saddr (their addresses, the victim's PID).
dispatch_phones() {
	wait_for 10 probed "$PID_x" && wait_for 10 probed "$PID_y" ||
		fail "the instances did not answer Kamailio's OPTIONS probes 200"
	log "both answer the probes 200"
	pbx park '*01' call-1 4930111 'Alice Smith' >/dev/null

	start_failover_phone p1 park-1
	start_failover_phone p2 park-2
	start_failover_phone q1 park-1 "$DOMAIN_B"
	expect_last p1 '<state>terminated</state>'
	expect_last p2 '<state>confirmed</state>'
	expect_last q1 '<state>terminated</state>'
	BS_DOMAIN=$DOMAIN BS_OUTBOUND="sip:127.0.0.1:$KP;transport=udp" \
		start_baresip park-1
	expect_bs Online
	log "through Kamailio: a's park-1 idle (sipp, baresip), a's park-2" \
		"lit, b's park-1 idle"

	instance_of "$DOMAIN"
	victim=$INSTANCE
	instance_of "$DOMAIN_B"
	survivor=$INSTANCE
	[ "$victim" != "$survivor" ] ||
		fail "$DOMAIN and $DOMAIN_B both hash to instance $victim"
	eval "vaddr=\$ADDR_$victim:\$PORT_$victim vpid=\$PID_$victim" \
		"saddr=\$ADDR_$survivor:\$PORT_$survivor"
	log "$DOMAIN hashes to instance $victim ($vaddr), $DOMAIN_B to" \
		"$survivor ($saddr)"
}

# lamps_true MAX BS_MAX WHAT: after WHAT at t0 (date +%s%N; n2: p2's
# documents before it) the PBX parked Bob in orbit 0 and retrieved
# orbit 1: p1 lit with Bob, p2 dark within MAX s, baresip Busy within
# BS_MAX s; logs when each was true
lamps_true() {
	local p
	for p in p1 p2; do
		wait_for "$1" "${p}_true" ||
			fail "$p not true $1 s after the $3: $(last_notify $p)"
		log "$p true after $(ms_since "$t0") ms"
	done
	wait_for "$2" bs_is Busy ||
		fail "baresip not Busy $2 s after the $3: $(bs_status)" \
			"$(grep presence: "$T/baresip.log" | tail -n 3)"
	log "baresip true (Busy) after $(ms_since "$t0") ms"
}
p1_true() { last_matches p1 '<state>confirmed</state>' &&
	[ "$(last_callers p1)" = "4930222 Bob Jones" ]; }
p2_true() { last_matches p2 '<state>terminated</state>' &&
	[ "$(notify_count p2)" -gt "$n2" ]; }
