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

need_tools baresip linphonec

# --- 1. baresip as a presence watcher --------------------------------

start_fakepbx
write_config
start_parkblf

start_baresip park-1

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
