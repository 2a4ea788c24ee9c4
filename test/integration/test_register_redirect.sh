# A phone account whose server is parkblf: REGISTER is answered so the
# account shows registered; a key press (INVITE park-1) is redirected
# (302) to the retrieve code at the PBX, a blind transfer to the key
# (Referred-By) to the park code.  subscribe_allow keeps others out.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

expect_response REGISTER phone 200 "Contact:" \
	"<sip:phone@127.0.0.1:[0-9]+;transport=UDP>;expires=600" \
	"Expires: 600"
expect_response REGISTER phone 200 "Expires:" "3600" "Expires: 7200"
expect_response REGISTER phone 423 "Min-Expires:" "60" "Expires: 10"
log "REGISTER: 200 with the contact and the expiry granted; 423"

sdp_less=$'Content-Type: application/sdp'
expect_response INVITE park-1 302 "Contact:" \
	"<sip:\*10@127.0.0.1:$PBX_PORT>" "" "$ACK_AFTER"
log "key press on park-1: 302 to sip:*10@PBX (retrieve)"

expect_response INVITE park-1 302 "Contact:" \
	"<sip:\*00@127.0.0.1:$PBX_PORT>" \
	"Referred-By: <sip:100@127.0.0.1>" "$ACK_AFTER"
log "blind transfer to park-1: 302 to sip:*00@PBX (park)"

expect_response INVITE park-3 302 "Contact:" \
	"<sip:\*12@127.0.0.1:$PBX_PORT>" "" "$ACK_AFTER"
expect_response INVITE park-9 404 "Via:" "SIP" "" "$ACK_AFTER"
log "park-3 retrieves with the default *12; unknown orbit 404"
grep -q "redirect: park-1 (park-1) from .*: transfer, park -> sip:\*00@" \
	"$T/parkblf.log" || fail "redirect not logged"

# only the networks in subscribe_allow may use parkblf
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0"
: >"$T/parkblf.log"
write_config "subscribe_allow 10.0.0.0/8,fd00::/8"
start_parkblf
ev=$'Event: dialog\nExpires: 600'
expect_refusal park-1 403 "Via:" "SIP" "$ev"
expect_response REGISTER phone 403 "Via:" "SIP" "Expires: 600"
expect_response INVITE park-1 403 "Via:" "SIP" "" "$ACK_AFTER"
grep -q "SUBSCRIBE from 127.0.0.1:[0-9]* refused: not in subscribe_allow" \
	"$T/parkblf.log" || fail "refusal not logged"
log "outside subscribe_allow: SUBSCRIBE, REGISTER, INVITE get 403"
