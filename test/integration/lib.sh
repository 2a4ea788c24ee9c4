# Helpers for the integration tests: start the real parkblf, the fake
# PBX and sipp phones on loopback, talk to the fake PBX, and read what
# the phones received.  Every process started here is stopped by PID.
#
# Sourced by each test_*.sh with BUILD and T (a fresh temp dir) set.

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Debian's python3 (test/deps.sh), not whatever python3 is first in PATH:
# a pyenv shim takes seconds to start on a loaded machine, longer than
# the tests wait for a phone's first SUBSCRIBE
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
# bash 5.2: & in ${var//pattern/string} would stand for the match
shopt -u patsub_replacement 2>/dev/null
PIDS=()
PHONES=0
# more logs whose tails a failure shows (peers of the interop tests)
FAIL_LOGS=()
# every parkblf a test starts writes what it sends here (wire_check)
export PARKBLF_WIRE_DUMP="$T/wire"
mkdir -p "$PARKBLF_WIRE_DUMP"

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/parkblf.log "$T"/fakepbx.log "${FAIL_LOGS[@]}"; do
		[ -f "$f" ] && { echo "--- $f (tail)"; tail -n 30 "$f"; } >&2
	done
	exit 1
}

log() { echo "  $*"; }

# At the end: phones are stopped; parkblf and the fake PBX get SIGTERM
# and must exit 0 within 5 s, and no sanitizer may have reported.
cleanup() {
	local status=$? pid rc d
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for d in "${DAEMONS[@]}"; do
		pid=${d%%:*}
		kill -TERM "$pid" 2>/dev/null || continue
		# a zombie still answers kill -0: wait, with a watchdog
		( sleep 5; kill -KILL "$pid" 2>/dev/null ) &
		wait "$pid"
		rc=$?
		kill "$!" 2>/dev/null
		if [ "$rc" != 0 ]; then
			echo "FAIL: ${d#*:} exited with $rc on SIGTERM" >&2
			status=1
		fi
	done
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	local san='ERROR: (Address|Leak)Sanitizer|runtime error:'
	for d in "$T"/parkblf*.log "$T"/fakepbx.log; do
		if [ -f "$d" ] && grep -Eq "$san" "$d"; then
			echo "FAIL: sanitizer report in $d:" >&2
			grep -E -A20 "$san" "$d" >&2
			status=1
		fi
	done
	# a test's own clean-up (network namespaces), after its processes
	for d in "${CLEANUP_HOOKS[@]}"; do
		"$d"
	done
	wire_check || status=1
	exit $status
}

# wire_check [DIR]: every SIP message parkblf sent (DIR, by default
# $T/wire: one file each, see src/wiredump.c) goes to a Kamailio whose
# core parser and sanity module judge it (test/wirecheck); fails naming
# each message refused, with Kamailio's reason.  WIRECHECK=0 skips it.
wire_check() {
	local dir=${1:-$T/wire} port kpid rc n
	[ "${WIRECHECK:-1}" != 0 ] && [ -d "$dir" ] || return 0
	find "$dir" -name '*.sip' | sort -t- -k1,1 -k2,2n >"$T/wirecheck.list"
	n=$(wc -l <"$T/wirecheck.list")
	[ "$n" -gt 0 ] || return 0
	port=$(free_port)
	sed "s/@PORT@/$port/" "$SRC/test/wirecheck/wirecheck.cfg.in" \
		>"$T/wirecheck.cfg"
	mkdir -p "$T/wirecheck.run"
	kamailio -f "$T/wirecheck.cfg" -DD -E -m 16 -M 8 \
		-Y "$T/wirecheck.run" >"$T/wirecheck.log" 2>&1 &
	kpid=$!
	if ! wait_for 10 udp_listens "$port"; then
		echo "FAIL: the wire check's Kamailio did not start:" >&2
		tail -n 20 "$T/wirecheck.log" >&2
		kill -KILL "$kpid" 2>/dev/null
		return 1
	fi
	"$BUILD/wirefeed" "$port" <"$T/wirecheck.list" >"$T/wirecheck.out" 2>&1
	rc=$?
	kill -TERM "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	[ "$rc" = 0 ] && return 0
	echo "FAIL: wire check: $n messages parkblf sent," \
		"Kamailio $(kamailio -v | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p')" \
		"refused these:" >&2
	sed 's/^/  /' "$T/wirecheck.out" | head -n 10 >&2
	# the first one in full, and Kamailio's reasons
	local f
	f=$(sed -n '1s/^REFUSED \(.*\): .*/\1/p' "$T/wirecheck.out")
	[ -f "$f" ] && sed 's/\r$//; s/^/    | /' "$f" | head -n 25 >&2
	echo "  Kamailio said:" >&2
	grep -E 'ERROR|WARNING' "$T/wirecheck.log" | grep -v 'tm_load.h' |
		head -n 10 | sed 's/^/    /' >&2
	return 1
}

# need_tools TOOL...: fails, naming them, unless every TOOL is in PATH
# (or is an executable path); test/deps.sh installs them
need_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		fail "missing: ${missing[*]}: run test/deps.sh"
}

# tenant_conf NAME DOMAIN PBX_PORT [MAP]: $T/tenants.d/NAME.conf, tenant
# NAME serving DOMAIN from the fake PBX at PBX_PORT with the orbit map
# $T/maps/MAP.map (default NAME.map); tests append their own keys
tenant_conf() {
	mkdir -p "$T/tenants.d"
	cat >"$T/tenants.d/$1.conf" <<-EOM
	# tenant $1
	upstream_uri		sip:any-dn@127.0.0.1:$3
	upstream_user		9999
	upstream_password	secret
	orbit_map		../maps/${4:-$1}.map
	tenant_domain		$2
	EOM
}

# udp_listens PORT: a socket is bound to UDP PORT
udp_listens() {
	ss -Hlun "sport = :$1" | grep -q .
}
DAEMONS=()
CLEANUP_HOOKS=()
trap cleanup EXIT

# wait_for SECONDS COMMAND...: poll every 50 ms until COMMAND succeeds
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	while ! "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
		sleep 0.05
	done
}

# ss_listens PORT: something listens on TCP PORT
ss_listens() {
	ss -Hltn "sport = :$1" | grep -q .
}

# A UDP+TCP port no socket uses (for sipp, which cannot use port 0),
# below the kernel's ephemeral range, so that no outgoing connection
# takes it between the check and the bind
free_port() {
	local p
	while :; do
		p=$(shuf -i 10000-32000 -n 1)
		ss -Hantu "sport = :$p" | grep -q . && continue
		echo "$p"
		return
	done
}

# start_fakepbx [ARGS...]: sets PBX_PORT, PBX_CTL.  PBX_LISTEN_PORT: on
# that port (one parkblf already tries), not one the OS picks
start_fakepbx() {
	rm -f "$T/pbx.ports"
	"$BUILD/fakepbx" -l "127.0.0.1:${PBX_LISTEN_PORT:-0}" -c 127.0.0.1:0 \
		-P "$T/pbx.ports" \
		-u 9999 -p secret "$@" >"$T/fakepbx.out" 2>>"$T/fakepbx.log" &
	PBX_PID=$!
	DAEMONS+=("$PBX_PID:fakepbx")
	wait_for 10 test -s "$T/pbx.ports" || fail "fake PBX did not start"
	PBX_PORT=$(sed -n 's/.*sip=\([0-9]*\).*/\1/p' "$T/pbx.ports")
	PBX_CTL=$(sed -n 's/.*control=\([0-9]*\).*/\1/p' "$T/pbx.ports")
}

# press WHAT DIALLED CONTACT [EXTRA_HEADER]: a key press, an INVITE to
# DIALLED, must be answered 302 with CONTACT (a regex), and is logged
# as WHAT
press() {
	expect_response INVITE "$2" 302 "Contact:" "$3" "${4:-}" \
		"$ACK_AFTER"
	log "$1: INVITE $2 -> 302 ${3//\\/}"
}

# strict_phones ADDR PORT: phones behind strict firewalls
# (strictphone.py), one on the BLF list "parks" and one on park-1,
# subscribe at ADDR:PORT; each must get its first NOTIFY, the park of
# *00 (made here) and its final NOTIFY after its un-SUBSCRIBE, all from
# ADDR:PORT with that address in Via and Contact, nothing from
# elsewhere
strict_phones() {
	local a=$1 port=$2 p bad
	local phone="$SRC/test/integration/strictphone.py"
	STRICT_LIST=1 STRICT_UNSUB=6 "$PYTHON" "$phone" "$a" "$port" 10 \
		parks >"$T/list.out" 2>&1 &
	PIDS+=($!)
	STRICT_UNSUB=6 "$PYTHON" "$phone" "$a" "$port" 10 park-1 \
		>"$T/key.out" 2>&1 &
	PIDS+=($!)

	wait_for 5 grep -q 'REQ NOTIFY .*fullState="true"' "$T/list.out" ||
		fail "list: no full state from $a:$port: $(cat "$T/list.out")"
	wait_for 5 grep -q 'REQ NOTIFY .*STATE=active' "$T/key.out" ||
		fail "key: no first NOTIFY from $a:$port: $(cat "$T/key.out")"
	log "first NOTIFYs of the list and the key from $a"

	pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
	wait_for 5 grep -q 'REQ NOTIFY .*fullState="false".*4930111' \
		"$T/list.out" ||
		fail "list: no park from $a:$port: $(cat "$T/list.out")"
	wait_for 5 grep -q 'REQ NOTIFY .*STATE=active.*4930111' \
		"$T/key.out" ||
		fail "key: no park from $a:$port: $(cat "$T/key.out")"
	log "the park reached both from $a"

	for p in list key; do
		wait_for 8 grep -q 'REQ NOTIFY .*STATE=terminated' \
			"$T/$p.out" || fail "$p: no final NOTIFY from" \
			"$a:$port: $(cat "$T/$p.out")"
	done
	log "the final NOTIFYs after the un-SUBSCRIBEs from $a"

	for p in list key; do
		grep -q '^STRAY' "$T/$p.out" && fail "$p: requests from" \
			"elsewhere: $(grep '^STRAY' "$T/$p.out")"
		bad=$(grep '^REQ' "$T/$p.out" | grep -v \
			" SRC=$a:$port VIA=$a:$port CONTACT=$a:$port ")
		[ -z "$bad" ] || fail "$p: Via or Contact not $a:$port: $bad"
	done
	log "nothing from elsewhere; Via and Contact name $a:$port"
}

# pbx COMMAND...: one control command; prints the reply, fails unless ok
pbx() {
	local reply
	exec 7<>"/dev/tcp/127.0.0.1/$PBX_CTL" || fail "fake PBX control"
	echo "$*" >&7
	read -r -t 10 reply <&7
	exec 7>&-
	pbx_ok "$reply" "$*"
}

# pbx_ok REPLY COMMAND: prints an ok reply, fails on any other
pbx_ok() {
	case "$1" in
	ok*) echo "$1" ;;
	*) fail "fake PBX: '$2' -> '$1'" ;;
	esac
}

# write_config [EXTRA LINES...]: parkblf.conf and orbits.conf in $T
write_config() {
	cat >"$T/orbits.conf" <<-EOM
	# orbit map for the tests
	park-1 *00 retrieve=*10 label="Orbit 0"
	park-2 *01 retrieve=*11 label="Orbit 1"
	park-3 *02
	EOM
	local l d
	{
		# defaults, unless an argument sets the same key
		for d in "sip_listen 127.0.0.1:0" \
			"upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT" \
			"upstream_user 9999" "upstream_password secret" \
			"upstream_retry_min 1" "upstream_retry_max 2" \
			"orbit_map orbits.conf" "log_level debug"; do
			for l in "$@"; do
				[ "${l%% *}" = "${d%% *}" ] && continue 2
			done
			echo "$d"
		done
		for l in "$@"; do echo "$l"; done
	} >"$T/parkblf.conf"
}

# make_cert: a self-signed certificate for localhost, T/cert.pem and
# T/key.pem, and both in T/parkblf.pem (0600) for sip_tls_cert
make_cert() {
	command -v openssl >/dev/null || fail "openssl not installed"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
		-out "$T/cert.pem" -subj /CN=localhost -days 2 2>/dev/null ||
		fail "cannot make a certificate"
	cat "$T/cert.pem" "$T/key.pem" >"$T/parkblf.pem"
	chmod 600 "$T/parkblf.pem"
}

# start_nat_tls [CONFIG LINES...]: a certificate, the fake PBX, and
# parkblf listening on UDP+TCP (port PORT_tcp, also PB_PORT) and TLS
# (PORT_tls) with these config lines
start_nat_tls() {
	make_cert
	start_fakepbx
	write_config "sip_tls_listen 127.0.0.1:0" \
		"sip_tls_cert parkblf.pem" "$@"
	start_parkblf
	PORT_tcp=$(sed -n \
		's/.*sip: listening on 127.0.0.1:\([0-9]*\) (udp, tcp).*/\1/p' \
		"$T/parkblf.log")
	PORT_tls=$(sed -n \
		's/.*sip: listening on 127.0.0.1:\([0-9]*\) (tls).*/\1/p' \
		"$T/parkblf.log")
	[ -n "$PORT_tls" ] || fail "no TLS listener in the log"
	# start_parkblf took the last listener, TLS's
	PB_PORT=$PORT_tcp
}

# nat_phone tcp|tls subscribe|refresh [TAG]: natphone.py at PORT_tcp
# or PORT_tls (start_nat_tls)
nat_phone() {
	local port
	eval "port=\$PORT_$1"
	"$PYTHON" "$SRC/test/integration/natphone.py" "$1" 127.0.0.1 "$port" \
		"${@:2}"
}

# nat_first_and_close: a natphone.py over TCP and one over TLS
# subscribe to park-1, get the idle state on their connections and
# close them, each once parkblf saw the close (the subscribe's output
# in $T/tcp-first.out, tls-first.out; NATPHONE_* variables apply)
nat_first_and_close() {
	local tp
	for tp in tcp tls; do
		nat_phone $tp subscribe >"$T/$tp-first.out" ||
			fail "first SUBSCRIBE over $tp: $(cat "$T/$tp-first.out")"
		grep -q "BODY .*<state>terminated</state>" \
			"$T/$tp-first.out" ||
			fail "$tp: no idle NOTIFY on the phone's connection:" \
				"$(cat "$T/$tp-first.out")"
		wait_for 10 grep -q \
			"natkeep: 127.0.0.1:[0-9]* ($tp): connection closed" \
			"$T/parkblf.log" ||
			fail "parkblf did not see the $tp connection close"
	done
}

# nat_refresh_parked TP: the refresh of nat_first_and_close's TP phone,
# on a new connection, gets 200 and the call 4930111 parked on park-1
nat_refresh_parked() {
	nat_phone "$1" refresh "$(sed -n 's/^TAG //p' "$T/$1-first.out")" \
		>"$T/$1-refresh.out" ||
		fail "$1 refresh on a new connection:" \
			"$(cat "$T/$1-refresh.out")"
	grep -q "BODY .*<state>confirmed</state>.*4930111" \
		"$T/$1-refresh.out" ||
		fail "$1 refresh: no parked call: $(cat "$T/$1-refresh.out")"
}

# start_parkblf: sets PB_PORT once listening and the upstream link is up
# PARKBLF_WRAP runs it under a tool (make valgrind)
start_parkblf() {
	${PARKBLF_WRAP:-} "$BUILD/parkblf" -f "$T/parkblf.conf" \
		>>"$T/parkblf.log" 2>&1 &
	PB_PID=$!
	DAEMONS+=("$PB_PID:parkblf")
	wait_for 10 grep -q "sip: listening on" "$T/parkblf.log" ||
		fail "parkblf did not start"
	PB_PORT=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
		"$T/parkblf.log" | tail -n 1)
	wait_upstream_up
}

# http_ports: after start_parkblf with http_listen on port 0, sets
# PB_PORT (the phones' port: both lines say "listening on"), HTTP_PORT
# and URL
http_ports() {
	PB_PORT=$(sed -n 's/.*sip: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
		"$T/parkblf.log" | head -n 1)
	HTTP_PORT=$(sed -n \
		's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
		"$T/parkblf.log")
	[ -n "$HTTP_PORT" ] || fail "no 'http: listening on' line"
	URL="http://127.0.0.1:$HTTP_PORT"
}

# log_count_ge N REGEX: parkblf's log has at least N lines matching
log_count_ge() {
	[ "$(grep -Ec -- "$2" "$T/parkblf.log")" -ge "$1" ]
}

# wait_upstream_up [N]: until the log shows the Nth "link ... -> up"
wait_upstream_up() {
	wait_for 15 log_count_ge "${1:-1}" 'link [a-z]+ -> up' ||
		fail "upstream link did not come up (${1:-1})"
}

# fill_template FILE OUT KEY=VALUE...: FILE with @KEY@ placeholders
# filled in
fill_template() {
	local text kv out=$2
	text=$(<"$1")
	shift 2
	for kv in "$@"; do
		text=${text//@${kv%%=*}@/${kv#*=}}
	done
	printf '%s\n' "$text" >"$out"
}

# scenario TEMPLATE OUT KEY=VALUE...: a sipp scenario of test/sipp
scenario() {
	local tmpl=$1
	shift
	fill_template "$SRC/test/sipp/$tmpl" "$@"
}

# to_domain FILE: with PHONE_DOMAIN set, a scenario's requests name
# that domain (ORBIT@PHONE_DOMAIN in Request-URI and To: a tenant's)
# instead of parkblf's address
to_domain() {
	[ -n "${PHONE_DOMAIN:-}" ] || return 0
	sed -i "s/\[service\]@\[remote_ip\]:\[remote_port\]/[service]@$PHONE_DOMAIN/g" \
		"$1"
}

# start_phone NAME ORBIT [KEY=VALUE...]: a sipp phone watching ORBIT;
# its messages go to $T/NAME.msg.  Defaults: Event dialog, quiet 8 s.
# PHONE_SCENARIO: another template of test/sipp than watch.xml.in
start_phone() {
	local name=$1 orbit=$2
	shift 2
	local port
	port=$(free_port)
	# the caller's KEY=VALUE come first: the first one of a key wins
	scenario "${PHONE_SCENARIO:-watch.xml.in}" "$T/$name.xml" "$@" \
		EVENT=dialog \
		ACCEPT=application/dialog-info+xml EXPIRES=600 \
		QUIET_MS=8000 NOTIFY_CODE=200 "EXTRA_HEADERS=X-Phone: sipp"
	to_domain "$T/$name.xml"
	sipp -sf "$T/$name.xml" -s "$orbit" -i 127.0.0.1 -p "$port" \
		-m 1 -timeout 120s -timeout_error -nostdin \
		-trace_msg -message_file "$T/$name.msg" \
		-trace_err -error_file "$T/$name.err" \
		"127.0.0.1:$PB_PORT" >"$T/$name.out" 2>&1 &
	PIDS+=($!)
	eval "PHONE_$name=$!"
}

# phone_done NAME: wait for the phone to un-SUBSCRIBE and exit 0
phone_done() {
	local pid
	eval "pid=\$PHONE_$1"
	wait "$pid" || fail "phone $1: sipp failed (see $T/$1.err)"
}

# notifies NAME: the bodies of the NOTIFYs NAME received, one per line
notifies() {
	[ -f "$T/$1.msg" ] || return 0
	awk '
		/^(UDP|TCP) message received/ { inmsg = 1; first = 1; next }
		/^(UDP|TCP) message sent/ || /^-----/ {
			if (inmsg && isnotify) print body
			inmsg = 0; isnotify = 0; body = ""; inbody = 0
			next
		}
		inmsg && first && /^[ \t]*$/ { next }
		inmsg && first { first = 0; isnotify = ($1 == "NOTIFY"); next }
		inmsg && !inbody && /^\r?$/ { inbody = 1; next }
		inmsg && inbody { sub(/\r$/, ""); body = body $0 }
		END { if (inmsg && isnotify) print body }
	' "$T/$1.msg"
}

# notify_count NAME
notify_count() { notifies "$1" | wc -l; }

# last_notify NAME
last_notify() { notifies "$1" | tail -n 1; }

# last_matches NAME REGEX
last_matches() { last_notify "$1" | grep -Eq -- "$2"; }

# expect_last NAME REGEX [SECONDS]: wait until the last body matches
expect_last() {
	wait_for "${3:-10}" last_matches "$1" "$2" ||
		fail "phone $1: last NOTIFY does not match '$2': " \
			"$(last_notify "$1")"
}

# the lamp states in the last body, in document order
last_states() {
	last_notify "$1" | grep -o '<state>[a-z]*</state>' |
		sed 's/<[^>]*>//g' | tr '\n' ' '
}

# the caller display names in the last body, in document order
last_callers() {
	last_notify "$1" | grep -o 'display="[^"]*">sip:[^<]*' |
		sed 's/display="\([^"]*\)">sip:\([^@]*\)@.*/\2 \1/' |
		grep -v '^park' | paste -sd '|'
}

# expect_response METHOD ORBIT CODE HEADER REGEX EXTRA_HEADERS [AFTER]:
# one request to ORBIT must be answered CODE with HEADER matching REGEX
expect_response() {
	local port re=$5
	port=$(free_port)
	# the regex sits in an XML attribute
	re=${re//&/&amp;}
	re=${re//</&lt;}
	re=${re//>/&gt;}
	re=${re//\"/&quot;}
	scenario expect.xml.in "$T/request.xml" "METHOD=$1" "CODE=$3" \
		"HEADER=$4" "HEADER_RE=$re" "EXTRA_HEADERS=$6" "AFTER=${7:-}"
	to_domain "$T/request.xml"
	sipp -sf "$T/request.xml" -s "$2" -i 127.0.0.1 -p "$port" -m 1 \
		-timeout 15s -timeout_error -nostdin \
		-trace_err -error_file "$T/request.err" \
		"127.0.0.1:$PB_PORT" >"$T/request.out" 2>&1 ||
		fail "$1 to $2 with [$6] was not answered $3" \
			"($4 ~ $5): $(cat "$T/request.err" 2>/dev/null)"
}

# expect_refusal ORBIT CODE HEADER REGEX EXTRA_HEADERS: for a SUBSCRIBE
expect_refusal() {
	expect_response SUBSCRIBE "$@"
}

# The ACK a phone sends for a final non-2xx answer to its INVITE
ACK_AFTER='<send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:phone@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>'


# last_notify_time NAME: seconds since midnight (UTC, with fraction) at
# which NAME received its last NOTIFY
last_notify_time() {
	awk '
		/^-----/ { split($3, t, ":"); ts = t[1] * 3600 + t[2] * 60 + t[3] }
		/^(UDP|TCP) message received/ { rcv = 1; next }
		rcv && /^NOTIFY / { last = ts }
		/^[A-Z]/ { rcv = 0 }
		END { printf "%.3f\n", last }
	' "$T/$1.msg"
}

# start_baresip ORBIT: a real softphone (baresip, presence module) that
# watches ORBIT as its contact "p1"; read what it shows with bs_status
# and expect_bs.  Sets BS_PID.  BS_DOMAIN: the contact's domain
# (default parkblf's address); BS_OUTBOUND: an outbound proxy URI;
# BS_NAME: its directory and log in $T (default baresip).
start_baresip() {
	local name=${BS_NAME:-baresip}
	BS_DIR="$T/$name"
	BS_CTRL=$(free_port)
	BS_SIP=$(free_port)
	mkdir -p "$BS_DIR"
	cat >"$BS_DIR/config" <<-EOM
	poll_method		epoll
	sip_listen		127.0.0.1:$BS_SIP
	dns_server		127.0.0.1:53
	audio_player		nil
	audio_source		ausine,nil
	audio_alert		nil
	module_path		/usr/lib/baresip/modules
	module			g711.so
	module			ausine.so
	module_app		account.so
	module_app		contact.so
	module_app		menu.so
	module_app		presence.so
	module_app		ctrl_tcp.so
	ctrl_tcp_listen		127.0.0.1:$BS_CTRL
	EOM
	local acct='<sip:watcher@127.0.0.1>;regint=0;pubint=0;mwi=no'
	[ -n "${BS_OUTBOUND:-}" ] && acct="$acct;outbound=\"$BS_OUTBOUND\""
	echo "$acct" >"$BS_DIR/accounts"
	echo "\"p1\" <sip:$1@${BS_DOMAIN:-127.0.0.1:$PB_PORT}>;presence=p2p" \
		>"$BS_DIR/contacts"

	baresip -f "$BS_DIR" </dev/null >"$T/$name.log" 2>&1 &
	BS_PID=$!
	PIDS+=("$BS_PID")
	wait_for 10 bs_contacts >/dev/null 2>&1 ||
		fail "baresip ctrl_tcp did not answer: $(tail "$T/$name.log")"
}

# bs_contacts: the contact list as baresip shows it, colours stripped
# (ctrl_tcp speaks netstrings: LENGTH:JSON,)
bs_contacts() {
	local cmd='{"command":"contacts","params":"","token":"t"}' len reply
	exec 8<>"/dev/tcp/127.0.0.1/$BS_CTRL" || return 1
	printf '%d:%s,' "${#cmd}" "$cmd" >&8
	IFS= read -r -d ':' -t 5 len <&8 && [ -n "$len" ] &&
		IFS= read -r -N "$len" -t 5 reply <&8
	exec 8>&-
	[ -n "$reply" ] || return 1
	printf '%b\n' "$reply" | sed 's/\x1b\[[0-9;]*m//g'
}

# bs_status: the status word shown for p1
bs_status() {
	bs_contacts 2>/dev/null | awk '/ p1 <sip:park-1@/ {
		for (i = 2; i <= NF; i++) if ($i == "p1") { print $(i - 1); exit }
	}'
}

# expect_bs STATUS [SECONDS]: wait until baresip shows p1 with STATUS
expect_bs() {
	wait_for "${2:-15}" bs_is "$1" ||
		fail "baresip shows '$(bs_status)' for p1, want $1:" \
			"$(bs_contacts 2>&1 | tail -n 5)" \
			"$(tail -n 20 "$T/baresip.log")"
}
bs_is() { [ "$(bs_status)" = "$1" ]; }


# write_numbered_map N: $T/orbits.conf with park-1..park-N on DNs
# *1001.. and retrieve codes *5001..
write_numbered_map() {
	local i=1
	while [ "$i" -le "$1" ]; do
		echo "park-$i *$((1000 + i)) retrieve=*$((5000 + i))"
		i=$((i + 1))
	done >"$T/orbits.conf"
}

# A sipp scenario step: answer the request just received 200 (NOTIFY_OK),
# and take a NOTIFY and answer it so (NOTIFY_ANSWER)
NOTIFY_OK='<send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>'
NOTIFY_ANSWER="<recv request=\"NOTIFY\"/>
  $NOTIFY_OK"

# never_idle_after NAME N WHY: fail if a NOTIFY NAME got after its Nth
# shows the orbit idle
never_idle_after() {
	notifies "$1" | tail -n +$(($2 + 1)) |
		grep -q '<state>terminated</state>' &&
		fail "$1 claimed idle $3: $(notifies "$1" | tail -n +$(($2 + 1)))"
	return 0
}

# expect_parked_since NAME ORBIT CALLER SINCE: a new phone NAME on ORBIT
# sees it lit by CALLER ("number name"), parked since SINCE (date +%s)
# or earlier (not re-timed); sets DURATION to what it was told
expect_parked_since() {
	local parked
	start_phone "$1" "$2" QUIET_MS=1000
	expect_last "$1" '<state>confirmed</state>'
	[ "$(last_callers "$1")" = "$3" ] ||
		fail "$1: caller '$(last_callers "$1")': $(last_notify "$1")"
	parked=$(( $(date +%s) - $4 ))
	DURATION=$(last_notify "$1" |
		sed -n 's/.*<duration>\([0-9]*\)<.*/\1/p')
	[ -n "$DURATION" ] && [ "$DURATION" -ge $((parked - 2)) ] ||
		fail "$1: the call was re-timed: duration '$DURATION'" \
			"after $parked s parked: $(last_notify "$1")"
	phone_done "$1"
}
