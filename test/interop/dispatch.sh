# The set-up of the dispatcher tests (test_dispatcher*.sh): two tenants,
# each a fake PBX (customer-a.example: PBX_CTL, pbx; customer-b.example:
# CTL_B, pbx_b), both configured on two parkblf instances x
# (127.0.0.11) and y (127.0.0.12) behind Kamailio with the shipped
# conf/kamailio/kamailio.cfg and a dispatcher.list of both.  With two
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
	# behind a proxy: every phone comes from its address
	cat >"$dir/parkblf.conf" <<-EOM
	sip_listen		$2:0
	tenants_dir		tenants.d
	upstream_retry_min	1
	upstream_retry_max	2
	subscribe_min_expires	10
	subscribe_default_expires	20
	subscribe_max_expires	20
	subscribe_max_per_source	50000
	notify_phone_rate	100000
	log_level		debug
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
	# both hold both PBXs' state: four upstream subscriptions
	[ "$(grep 'SUBSCRIBE sip:any-dn@' "$T/fakepbx.log" |
		sed 's/.*SUBSCRIBE \([^ ]*\) from \([^ ]*\) .*/\1 \2/' |
		sort -u | wc -l)" -eq 4 ] ||
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
