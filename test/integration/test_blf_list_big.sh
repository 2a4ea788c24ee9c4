# Big BLF lists (RFC 4662) over UDP.  A first NOTIFY above 1300 bytes
# goes over TCP when the phone takes TCP at its Contact (RFC 3261
# 18.1.1: parkblf tries a connection before it answers the SUBSCRIBE);
# a phone that takes no TCP gets it over UDP while it fits one datagram,
# and a list too big for that is refused at SUBSCRIBE time with 503,
# Retry-After and a Warning, and a log line (before: 200 and never a
# NOTIFY, "Message too long").  Over TCP a list of 201 orbits works.
# A list whose NOTIFYs went over TCP survives a crash (state_db): after
# a SIGKILL and a start, parkblf dials the phone's TCP side again and
# sends it the full state.
. "$(dirname "$0")/lib.sh"

N=201
start_fakepbx
pbx park '*1007' call-1 100 Alice >/dev/null
write_config "blf_list parks" "state_db state.db"
write_numbered_map $N
start_parkblf


# list NAME TRANSPORT AFTER [CONTACT]: one list subscription from a
# sipp phone on $PORT (or a free one); its messages in $T/NAME.msg
list() {
	local name=$1 tp=$2 after=$3 port=${PORT:-$(free_port)}
	scenario list.xml.in "$T/$name.xml" "AFTER=$after" \
		"CONTACT=${4:-<sip:phone@[local_ip]:[local_port]>}"
	sipp -sf "$T/$name.xml" -s parks -t "$tp" -i 127.0.0.1 -p "$port" \
		-m 1 -timeout 20s -timeout_error -nostdin \
		-trace_msg -message_file "$T/$name.msg" \
		-trace_err -error_file "$T/$name.err" \
		"127.0.0.1:$PB_PORT" >"$T/$name.out" 2>&1
}

# tcp_phone NAME PORT: a phone's TCP side on PORT (takes one NOTIFY)
tcp_phone() {
	perl "$SRC/test/integration/tcp_phone.pl" "$2" "$T/$1.msg" 1 15 &
	PIDS+=($!)
	TCP_PHONE=$!
	wait_for 5 ss_listens "$2" || fail "the TCP side does not listen"
}

# resources NAME: how many orbits the first NOTIFY NAME got lists
resources() { notifies "$1" | head -n 1 | grep -o '<resource ' | wc -l; }

# --- a UDP phone that also listens on TCP at the same port
PORT=$(free_port)
tcp_phone tcpside "$PORT"
list udpphone u1 '<pause milliseconds="2000"/>' ||
	fail "UDP SUBSCRIBE of $N orbits not answered 200:" \
		"$(cat "$T/udpphone.err")"
wait "$TCP_PHONE" || fail "no NOTIFY over TCP"
PORT1=$PORT PORT=
[ "$(resources tcpside)" = $N ] ||
	fail "the NOTIFY over TCP lists $(resources tcpside) orbits, not $N"
notifies tcpside | head -n 1 | grep -q 'display="Alice">sip:100@' ||
	fail "park-7's caller is not in the NOTIFY"
notifies udpphone | grep -q . && fail "a NOTIFY came over UDP too"
grep -q "blflist: list from 127.0.0.1:[0-9]*: NOTIFYs of [0-9]* bytes go over TCP" \
	"$T/parkblf.log" || fail "no log line for the switch to TCP"
log "UDP phone that takes TCP: 200, then the $N orbits over TCP"

# --- its list after a crash: over TCP again, on its dialog
tcp_phone tcpside2 "$PORT1"
kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 1 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "the list over TCP was not reloaded"
wait "$TCP_PHONE" || fail "no NOTIFY over TCP after the restart"
[ "$(resources tcpside2)" = $N ] ||
	fail "the resumed NOTIFY lists $(resources tcpside2) orbits, not $N"
notifies tcpside2 | head -n 1 | grep -q 'version="1[0-9][0-9]" fullState="true"' ||
	fail "not the resumed full state: $(notifies tcpside2 | head -c 600)"
notifies tcpside2 | head -n 1 | grep -q 'display="Alice">sip:100@' ||
	fail "park-7's caller is not in the resumed NOTIFY"
log "after SIGKILL and a start: the $N orbits over TCP again, full state"

# --- a UDP phone that takes no TCP: refused at SUBSCRIBE time
ev=$'Event: dialog\nExpires: 600\nSupported: eventlist\nAccept: multipart/related'
expect_refusal parks 503 "Retry-After:" "^ *3600$" "$ev"
expect_refusal parks 503 "Warning:" "399 parkblf .*too big for UDP" "$ev"
grep -q "blflist: list from 127.0.0.1:[0-9]* refused (503): its NOTIFY of $N orbits is [0-9]* bytes, too big for UDP" \
	"$T/parkblf.log" || fail "no log line for the refusal"
log "UDP phone without TCP, $N orbits: 503 Retry-After 3600, Warning, log"

# --- over TCP: 201 orbits in one NOTIFY (to a Contact with
# transport=tcp, which the TCP side takes: sipp takes no 64 KiB)
cport=$(free_port)
tcp_phone tcponly "$cport"
list tcpphone t1 '<pause milliseconds="1000"/>' \
	"<sip:phone@127.0.0.1:$cport;transport=tcp>" ||
	fail "TCP list of $N orbits: $(cat "$T/tcpphone.err")"
wait "$TCP_PHONE" || fail "no NOTIFY to the TCP phone"
[ "$(resources tcponly)" = $N ] ||
	fail "the NOTIFY lists $(resources tcponly) orbits, not $N"
log "TCP phone: 200 and the $N orbits in one NOTIFY"

# --- 12 orbits (8 KB) from a UDP phone without TCP: UDP, fragmented
head -n 12 "$T/orbits.conf" >"$T/orbits12.conf"
mv "$T/orbits12.conf" "$T/orbits.conf"
kill -HUP "$PB_PID"
wait_for 5 grep -q "12 orbits" "$T/parkblf.log" || fail "no reload to 12"
list small u1 "$NOTIFY_ANSWER" ||
	fail "UDP list of 12 orbits: $(cat "$T/small.err")"
[ "$(resources small)" = 12 ] || fail "not 12 orbits: $(resources small)"
grep -q "no TCP at its Contact (.*): NOTIFYs of [0-9]* bytes go over UDP" \
	"$T/parkblf.log" || fail "no log line for the UDP fallback"
log "UDP phone without TCP, 12 orbits: over UDP (RFC 3261 18.1.1's" \
	"fallback)"
