# Kamailio 5.6 as the PBX where the park is a real call: a caller
# (sipp) calls the orbit's DN *00 through Kamailio (record-routing
# proxy with dialog + pua_dialoginfo, presence + presence_dialoginfo)
# to a sipp UAS that answers and holds; hanging up is the retrieve.
# parkblf subscribes to sip:*00@ at Kamailio (Event: dialog), so the
# lamp follows Kamailio's own record of the INVITE dialog: park-1 is
# lit with the caller's number while the call is up, dark after BYE.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
UAS=$(free_port)
kam_dbtext kam presentity active_watchers watchers xcap pua
start_kamailio kam "$KP" kamailio-dialog.cfg "CALLEE=127.0.0.1:$UAS"

write_config "upstream_uri sip:*00@127.0.0.1:$KP" "upstream_keepalive 2"
start_parkblf
start_phone p park-1 QUIET_MS=120000
expect_last p '<state>terminated</state>'
log "park-1 idle before the call"

# the held end of the call
sipp -sf "$INTEROP/callee.xml" -i 127.0.0.1 -p "$UAS" -m 1 \
	-timeout 60s -timeout_error \
	-nostdin -trace_err -error_file "$T/uas.err" >"$T/uas.out" 2>&1 &
UAS_PID=$!
PIDS+=("$UAS_PID")
wait_for 10 udp_listens "$UAS" || fail "the UAS did not start"

# the caller parks: a call to *00
CALLID="park-$$-$RANDOM"
CP=$(free_port)
fill_template "$INTEROP/caller.xml.in" "$T/caller.xml" \
	"USER=4930111" "NAME=Alice Smith"
# the first call's Call-ID is $CALLID-1
sipp -sf "$T/caller.xml" -s '*00' -i 127.0.0.1 -p "$CP" -m 1 \
	-cid_str "$CALLID-%u" \
	-timeout 60s -timeout_error -nostdin -trace_err \
	-error_file "$T/caller.err" "127.0.0.1:$KP" >"$T/caller.out" 2>&1 &
CALLER_PID=$!
PIDS+=("$CALLER_PID")

expect_last p '<state>confirmed</state>' 15
# pua_dialoginfo names the caller by URI only (its display attribute
# goes on <target>, made of the URI's user): the number, no name
last_matches p '<remote> *<identity>sip:4930111@' ||
	fail "caller is not 4930111: $(last_notify p)"
log "call to *00 answered: park-1 lit with the caller 4930111"

# still lit while the call is held
sleep 3
last_matches p '<state>confirmed</state>' ||
	fail "the lamp went out while the call was held: $(last_notify p)"
n=$(notify_count p)

# the retrieve: the caller hangs up
printf 'INFO sip:4930111@127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKretrieve\r\nFrom: <sip:test@127.0.0.1>;tag=t\r\nTo: <sip:4930111@127.0.0.1>;tag=c\r\nCall-ID: %s\r\nCSeq: 1 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
	"$CP" "$CALLID-1" >"$T/retrieve.sip"
# one write, one datagram (bash's printf writes line by line)
cat "$T/retrieve.sip" >"/dev/udp/127.0.0.1/$CP"
wait "$CALLER_PID" || fail "caller: $(cat "$T/caller.err")"
wait "$UAS_PID" || fail "UAS: $(cat "$T/uas.err")"
log "BYE answered at both ends"
expect_last p '<state>terminated</state>' 15
notifies p | tail -n +$((n + 1)) | grep -q '<state>confirmed</state>' &&
	fail "lit again after the BYE: $(notifies p | tail -n +$((n + 1)))"
log "after the BYE: park-1 idle"

grep -q 'link up -> down' "$T/parkblf.log" &&
	fail "the upstream link went down"
kam_errors kam && fail "Kamailio logged errors"
log "Kamailio's dialog and presence served it without an error"
