# Phones behind a real NAT (issue 11).  Three network namespaces made
# here: "lan" (the phones, 10.77.0.2 and 10.77.0.3), "router" (nftables
# masquerade onto 198.51.100.1; conntrack forgets an idle UDP or TCP
# flow after 10 s) and "wan" (parkblf and the fake PBX, 198.51.100.2,
# with no route to the lan).  Two parkblfs: "on" with nat_keepalive 4,
# "off" with keepalives off.  On "on": two UDP phones behind the same
# NAT (so the same public address, different ports; both use the same
# local port, so the router has to pick another for one) and a TCP
# phone; on "off": a UDP and a TCP phone.  Their Contact and Via name
# their private address.  A call parked 32 s (three conntrack timeouts)
# after they subscribed lights the keys of the phones on "on", and not
# those on "off", whose NAT bindings expired.  A sixth phone on "on"
# dies after subscribing: past nat_keepalive_grace (12 s) its
# subscription ends.  A seventh phone on "on", on UDP, subscribes to the
# BLF list (RFC 4662) and gets the park too.  Needs root; the namespaces go when the test
# ends, also when it fails.
. "$(dirname "$0")/lib.sh"

# namespaces only with lib.sh's clean-up in place to delete them
if [ "$(type -t wait_for)" != function ]; then
	echo "FAIL: lib.sh did not load" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: test_nat needs root (network namespaces, nftables)"
	exit 0
fi
if ! ip netns list >/dev/null 2>&1 || ! command -v nft >/dev/null; then
	echo "SKIP: test_nat needs 'ip netns' and nft (test/deps.sh)"
	exit 0
fi

N="pbn$$"
LAN=${N}lan ROUTER=${N}rt WAN=${N}wan
PUB=198.51.100.1 SRV=198.51.100.2

ns_delete() {
	local ns
	for ns in "$LAN" "$ROUTER" "$WAN"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL
		ip netns del "$ns" 2>/dev/null
	done
}
CLEANUP_HOOKS+=(ns_delete)

# (processes started in the background: with ip netns exec itself, so
# that $! is theirs and the clean-up stops them by PID)
in_rt() { ip netns exec "$ROUTER" "$@"; }
in_wan() { ip netns exec "$WAN" "$@"; }

# as root without the right to make namespaces (a container): skip
if ! ip netns add "$LAN" 2>"$T/netns.err"; then
	echo "SKIP: test_nat cannot make a network namespace:" \
		"$(cat "$T/netns.err")"
	exit 0
fi
for ns in "$ROUTER" "$WAN"; do
	ip netns add "$ns" || fail "ip netns add $ns"
done
for ns in "$LAN" "$ROUTER" "$WAN"; do
	ip -n "$ns" link set lo up
done
ip link add "${N}a" netns "$LAN" type veth peer name "${N}b" \
	netns "$ROUTER" || fail "veth lan-router"
ip link add "${N}c" netns "$ROUTER" type veth peer name "${N}d" \
	netns "$WAN" || fail "veth router-wan"
ip -n "$LAN" addr add 10.77.0.2/24 dev "${N}a"
ip -n "$LAN" addr add 10.77.0.3/24 dev "${N}a"
ip -n "$LAN" link set "${N}a" up
ip -n "$LAN" route add default via 10.77.0.1
ip -n "$ROUTER" addr add 10.77.0.1/24 dev "${N}b"
ip -n "$ROUTER" addr add "$PUB/24" dev "${N}c"
ip -n "$ROUTER" link set "${N}b" up
ip -n "$ROUTER" link set "${N}c" up
ip -n "$WAN" addr add "$SRV/24" dev "${N}d"
ip -n "$WAN" link set "${N}d" up
in_rt sysctl -qw net.ipv4.ip_forward=1 || fail "router: ip_forward"
in_rt nft -f - <<EOF || fail "router: nftables masquerade"
table ip nat {
	chain post {
		type nat hook postrouting priority 100;
		oifname "${N}c" masquerade
	}
}
EOF
in_rt sysctl -qw net.netfilter.nf_conntrack_udp_timeout=10 \
	net.netfilter.nf_conntrack_udp_timeout_stream=10 \
	net.netfilter.nf_conntrack_tcp_timeout_established=10 ||
	fail "router: conntrack timeouts"
# the wan side cannot reach the phones' private addresses
in_wan ip route get 10.77.0.2 >/dev/null 2>&1 &&
	fail "wan has a route to the lan"
log "namespaces $LAN, $ROUTER, $WAN: NAT up"

# The fake PBX, on the wan's loopback
rm -f "$T/pbx.ports"
ip netns exec "$WAN" "$BUILD/fakepbx" -l 127.0.0.1:0 -c 127.0.0.1:0 -P "$T/pbx.ports" \
	-u 9999 -p secret >"$T/fakepbx.out" 2>>"$T/fakepbx.log" &
DAEMONS+=("$!:fakepbx")
wait_for 10 test -s "$T/pbx.ports" || fail "fake PBX did not start"
PBX_PORT=$(sed -n 's/.*sip=\([0-9]*\).*/\1/p' "$T/pbx.ports")
PBX_CTL=$(sed -n 's/.*control=\([0-9]*\).*/\1/p' "$T/pbx.ports")

# pbx COMMAND...: lib.sh's, from inside the wan
pbx() {
	pbx_ok "$(in_wan bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$0" &&
		echo "$1" >&7 && read -r -t 10 reply <&7 && echo "$reply"' \
		"$PBX_CTL" "$*")" "$*"
}

cat >"$T/orbits.conf" <<EOM
park-1 *00 retrieve=*10 label="Orbit 0"
EOM

# start_pb NAME KEEPALIVE: a parkblf in the wan; sets PORT_NAME
start_pb() {
	umask 077
	cat >"$T/$1.conf" <<-EOM
	sip_listen $SRV:0
	upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT
	upstream_listen 127.0.0.1:0
	upstream_user 9999
	upstream_password secret
	orbit_map orbits.conf
	subscribe_allow 198.51.100.0/24
	nat_keepalive $2
	nat_keepalive_grace 12
	blf_list parks
	http_listen 127.0.0.1:0
	log_level debug
	EOM
	ip netns exec "$WAN" ${PARKBLF_WRAP:-} "$BUILD/parkblf" \
		-f "$T/$1.conf" \
		>>"$T/parkblf-$1.log" 2>&1 &
	DAEMONS+=("$!:parkblf $1")
	wait_for 10 grep -Eq "link [a-z]+ -> up" \
		"$T/parkblf-$1.log" ||
		fail "parkblf $1 did not start: $(tail -n 5 "$T/parkblf-$1.log")"
	eval "PORT_$1=$(sed -n "s/.*sip: listening on $SRV:\([0-9]*\).*/\1/p" \
		"$T/parkblf-$1.log" | head -n 1)"
	eval "HTTP_$1=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
		"$T/parkblf-$1.log" | head -n 1)"
}

start_pb on 4
start_pb off 0
log "parkblf on: $SRV:$PORT_on (keepalive 4 s), off: $SRV:$PORT_off"

# nat_phone NAME LANIP PORT TRANSPORT PARKBLF [parks]: a sipp phone in
# the lan, answering keepalive OPTIONS (-aa); with "parks", of the list
nat_phone() {
	local port accept=application/dialog-info+xml hdrs="X-Phone: $1"
	eval "port=\$PORT_$5"
	if [ "${6:-}" = parks ]; then
		accept="multipart/related, application/rlmi+xml, $accept"
		hdrs="$hdrs
Supported: eventlist"
	fi
	scenario watch.xml.in "$T/$1.xml" EVENT=dialog \
		"ACCEPT=$accept" EXPIRES=600 \
		QUIET_MS=70000 NOTIFY_CODE=200 "EXTRA_HEADERS=$hdrs"
	ip netns exec "$LAN" sipp -sf "$T/$1.xml" -s "${6:-park-1}" \
		-i "$2" -p "$3" -t "$4" -aa \
		-m 1 -timeout 150s -timeout_error -nostdin \
		-trace_msg -message_file "$T/$1.msg" \
		-trace_err -error_file "$T/$1.err" \
		"$SRV:$port" >"$T/$1.out" 2>&1 &
	PIDS+=($!)
}

nat_phone u1 10.77.0.2 5062 u1 on
nat_phone u2 10.77.0.3 5062 u1 on
nat_phone t1 10.77.0.2 5064 t1 on
nat_phone uoff 10.77.0.2 5066 u1 off
nat_phone toff 10.77.0.2 5068 t1 off
nat_phone gone 10.77.0.3 5070 u1 on
gone_pid=${PIDS[-1]}
nat_phone l1 10.77.0.3 5072 u1 on parks
for p in u1 u2 t1 uoff toff gone; do
	expect_last "$p" '<state>terminated</state>'
done
expect_last l1 'fullState="true".*<state>terminated</state>'
subscribed=$(date +%s)
kill -KILL "$gone_pid"
log "7 phones subscribed through the NAT; first NOTIFY (idle) seen;" \
	"phone 'gone' killed"

# the two UDP phones: one public address, two ports, both behind NAT
nat_ports() {
	grep -o "natkeep: $PUB:[0-9]* (udp) is behind NAT" \
		"$T/parkblf-on.log" | sort -u | wc -l
}
[ "$(nat_ports)" -eq 4 ] ||
	fail "parkblf on: $(nat_ports) UDP phones behind NAT, not 4"
grep -q "natkeep: $PUB:[0-9]* (tcp) is behind NAT" "$T/parkblf-on.log" ||
	fail "parkblf on: the TCP phone was not taken as behind NAT"

# the silent phone is given up after the grace (12 s, keepalives 4 s)
wait_for 25 grep -q "stopped answering keepalives" "$T/parkblf-on.log" ||
	fail "the killed phone was not given up"
log "the killed phone's subscription ended $(( $(date +%s) - subscribed )) s" \
	"after it subscribed"

# three conntrack timeouts of quiet
sleep $(( subscribed + 32 - $(date +%s) ))
pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
log "call parked 32 s after the subscriptions"

for p in u1 u2 t1; do
	expect_last "$p" '<state>confirmed</state>' 10
done
expect_last l1 'fullState="false".*<state>confirmed</state>.*4930111' 10
log "keepalives on: u1, u2 (UDP, same NAT), t1 (TCP) and the list" \
	"phone l1 lit"

# without keepalives the bindings expired: the NOTIFYs do not arrive
sleep 8
for p in uoff toff; do
	last_matches "$p" '<state>confirmed</state>' &&
		fail "$p lit although its NAT binding should have expired"
	last_matches "$p" '<state>terminated</state>' ||
		fail "$p: last NOTIFY $(last_notify "$p")"
done
log "keepalives off: uoff (UDP) and toff (TCP) stay dark"

# the keepalives are counted; all answered, none given up
metric() {
	in_wan curl -s "http://127.0.0.1:$HTTP_on/metrics" |
		sed -n "s/^parkblf_$1_total \([0-9]*\)$/\1/p"
}
sent=$(metric nat_keepalives_sent)
answered=$(metric nat_keepalives_answered)
[ "${sent:-0}" -ge 15 ] || fail "only ${sent:-0} keepalives sent in 40 s"
# the killed phone's went unanswered: 3 or 4
[ "${answered:-0}" -ge $(( sent - 5 )) ] ||
	fail "$answered of $sent keepalives answered"
[ "$(metric nat_phones_lost)" = 1 ] ||
	fail "$(metric nat_phones_lost) phones given up, not 1"
gauge=$(in_wan curl -s "http://127.0.0.1:$HTTP_on/metrics" |
	sed -n 's/^parkblf_nat_phones \([0-9]*\)$/\1/p')
[ "$gauge" = 4 ] || fail "parkblf_nat_phones is '$gauge', not 4"
log "metrics: $sent keepalives sent, $answered answered"
