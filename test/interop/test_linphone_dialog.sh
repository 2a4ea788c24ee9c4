# A BLF key over an independent SIP stack: liblinphone's event API
# (belle-sip) subscribes to park-1 with Event: dialog
# (test/interop/dialogwatch.c) and shows idle, the parked caller, idle
# again across a park and a retrieve on the fake PBX; SIGTERM makes it
# un-SUBSCRIBE, which parkblf ends with a terminated NOTIFY.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

start_dialogwatch lp "sip:park-1@127.0.0.1:$PB_PORT"
expect_dw lp idle
grep -q '^SUBSTATE Active' "$T/lp.out" ||
	fail "the subscription is not active: $(cat "$T/lp.out")"
log "liblinphone: subscription active, park-1 idle"

pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
expect_dw lp "confirmed 4930111 Alice Smith"
log "parked: lit, caller 4930111 Alice Smith"

pbx retrieve '*00' >/dev/null
expect_dw lp idle
log "retrieved: idle"

kill -TERM "$DW_PID_lp"
wait "$DW_PID_lp" || fail "dialogwatch exited with $?"
grep -q '^SUBSTATE Terminated' "$T/lp.out" ||
	fail "the un-SUBSCRIBE did not end: $(tail -n 3 "$T/lp.out")"
log "un-SUBSCRIBE: terminated"
