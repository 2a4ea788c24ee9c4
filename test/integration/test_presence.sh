# Event: presence through a real softphone, and PIDF from the PBX.
#
# 1. Two real softphones watch park-1 at once: baresip (libre's
#    presence module, regex-based PIDF reading; a contact with
#    ;presence=p2p; state read with the ctrl_tcp "contacts" command)
#    and linphonec (liblinphone + belle-sip; a friend; state printed on
#    stdout).  Idle: Online / Online.  Parked (rpid:on-the-phone):
#    Busy / On the phone.  Retrieved: Online / Online.
# 2. The PBX sends PIDF (fakepbx -f pidf): a park makes the orbit
#    occupied, and a dialog watcher sees a confirmed dialog without a
#    caller (PIDF has none); the retrieve makes it idle again.
. "$(dirname "$0")/lib.sh"

command -v baresip >/dev/null || fail "baresip not installed (test/deps.sh)"
command -v linphonec >/dev/null ||
	fail "linphonec not installed (test/deps.sh)"

# --- 1. baresip as a presence watcher --------------------------------

start_fakepbx
write_config
start_parkblf

BS_DIR="$T/baresip"
BS_CTRL=$(free_port)
BS_SIP=$(free_port)
mkdir -p "$BS_DIR"
cat >"$BS_DIR/config" <<EOM
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
echo '<sip:watcher@127.0.0.1>;regint=0;pubint=0;mwi=no' \
	>"$BS_DIR/accounts"
echo "\"p1\" <sip:park-1@127.0.0.1:$PB_PORT>;presence=p2p" \
	>"$BS_DIR/contacts"

baresip -f "$BS_DIR" </dev/null >"$T/baresip.log" 2>&1 &
BS_PID=$!
PIDS+=("$BS_PID")

# linphonec: HOME in $T (its database lands there), commands on a FIFO
LP_SIP=$(free_port)
mkdir -p "$T/.local/share/linphone"
cat >"$T/linphonerc" <<EOM
[sip]
sip_port=$LP_SIP
sip_tcp_port=0
contact="watcher" <sip:watcher@127.0.0.1>
use_ipv6=0

[friend_0]
url="p1" <sip:park-1@127.0.0.1:$PB_PORT>
subscribe=1
pol=accept
EOM
mkfifo "$T/linphonec.in"
( exec 3<>"$T/linphonec.in"; HOME=$T exec linphonec -c "$T/linphonerc" \
	<&3 ) >"$T/linphonec.log" 2>&1 &
LP_PID=$!
PIDS+=("$LP_PID")

# lp_status: the last status linphonec printed for p1
lp_status() {
	sed -n 's/.*Friend "p1" <sip:park-1@[^>]*> is \(.*\)$/\1/p' \
		"$T/linphonec.log" | tail -n 1 | tr -d '\r'
}
lp_is() { [ "$(lp_status)" = "$1" ]; }

# expect_lp STATUS: wait until linphonec says p1 is STATUS
expect_lp() {
	wait_for 15 lp_is "$1" ||
		fail "linphonec says '$(lp_status)' for p1, want $1:" \
			"$(grep -v soundcard "$T/linphonec.log" | tail -n 5)"
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

# expect_bs STATUS: wait until baresip shows p1 with STATUS
expect_bs() {
	wait_for 15 bs_is "$1" ||
		fail "baresip shows '$(bs_status)' for p1, want $1:" \
			"$(bs_contacts 2>&1 | tail -n 5)" \
			"$(tail -n 20 "$T/baresip.log")"
}
bs_is() { [ "$(bs_status)" = "$1" ]; }

wait_for 10 bs_contacts >/dev/null 2>&1 ||
	fail "baresip ctrl_tcp did not answer: $(tail "$T/baresip.log")"
expect_bs Online
expect_lp Online
log_count_ge 2 'park-1 subscribed' ||
	fail "not two presence subscriptions in parkblf's log"
log "idle orbit: baresip Online, linphonec Online"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
expect_bs Busy
expect_lp "On the phone"
log "parked: baresip Busy, linphonec On the phone"

pbx retrieve '*00' >/dev/null
expect_bs Online
expect_lp Online
log "retrieved: baresip Online, linphonec Online"

# linphonec un-SUBSCRIBEs on quit (without answering the last NOTIFY)
echo quit >"$T/linphonec.in"
( sleep 5; kill -TERM "$LP_PID" 2>/dev/null ) &
WD_PID=$!
wait "$LP_PID" 2>/dev/null
kill "$WD_PID" 2>/dev/null

kill -TERM "$BS_PID" 2>/dev/null
wait "$BS_PID" 2>/dev/null
# its own log says it too (for changes after the first known state)
sed 's/\x1b\[[0-9;]*m//g' "$T/baresip.log" |
	grep -q 'park-1@.* changed status from Online to Busy' ||
	fail "baresip log has no Online -> Busy change"
grep -q 'park-1 from .* ended' "$T/parkblf.log" ||
	fail "baresip's un-SUBSCRIBE did not end the subscription"

# --- 2. PIDF from the PBX ----------------------------------------------

kill -TERM "$PB_PID" "$PBX_PID"
wait "$PB_PID" || fail "parkblf exited $? on SIGTERM"
wait "$PBX_PID" || fail "fake PBX exited $? on SIGTERM"
DAEMONS=()
mv "$T/parkblf.log" "$T/parkblf-1.log"
mv "$T/fakepbx.log" "$T/fakepbx-1.log"

start_fakepbx -f pidf
write_config
start_parkblf

start_phone a park-1
expect_last a '<state>terminated</state>'
log "PIDF upstream: idle orbit seen as idle"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
expect_last a '<state>confirmed</state>'
last_matches a '<remote>' || fail "a: no remote: $(last_notify a)"
! last_matches a '<identity display="Alice' ||
	fail "a: PIDF has no caller, yet: $(last_notify a)"
[ -z "$(last_callers a)" ] || fail "a: callers '$(last_callers a)'"
grep -q 'NOTIFY pidf \*00 sent' "$T/fakepbx.log" ||
	fail "the fake PBX sent no PIDF for *00"
log "PIDF upstream: parked -> confirmed dialog without caller"

pbx retrieve '*00' >/dev/null
expect_last a '<state>terminated</state>'
log "PIDF upstream: retrieved -> idle"
phone_done a
