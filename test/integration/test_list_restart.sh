# BLF list subscriptions (RFC 4662) survive restarts, as single keys
# do (test_restart): a phone holds a list subscription, parkblf is
# killed with SIGKILL, orbits change while it is down, and it is
# started again on the same port and state_db.  Without subscribing
# again, the phone gets a NOTIFY on the same dialog (Call-ID and both
# tags), CSeq and RLMI version above the last it saw, full state, the
# true state of every orbit, and the expiry left.  The same after a
# graceful stop (not told terminated).  Then its refresh in the dialog
# gets 200 and the full state, and its un-SUBSCRIBE 200 and a final
# NOTIFY (sipp checks both); its row is gone: a later restart resumes
# nothing.  A list renamed while parkblf was down: its phone is told
# terminated;reason=noresource.
. "$(dirname "$0")/lib.sh"

start_fakepbx
pbx park '*01' call-0 300 'Early Bird' >/dev/null
write_config "state_db state.db" "blf_list parks"
# the same port again after a restart: the phone's dialog points there
sed -i "s/^sip_listen .*/sip_listen 127.0.0.1:$(free_port)/" "$T/parkblf.conf"
start_parkblf

# quiet long enough for a restart under valgrind: its refresh comes after
PHONE_SCENARIO=listkeep.xml.in start_phone l parks QUIET_MS=20000
expect_last l 'fullState="true"'
expect_last l 'display="Early Bird">sip:300@'
pbx park '*00' call-1 100 Alice >/dev/null
expect_last l 'display="Alice">sip:100@'
sleep 1.5   # versions are saved once a second

# heads NAME: "CSeq Call-ID From-tag To-tag Subscription-State" of each
# NOTIFY NAME received
heads() {
	awk '
		/^(UDP|TCP) message received/ { inmsg = 1; first = 1; next }
		/^(UDP|TCP) message sent/ || /^-----/ {
			if (inmsg && isnotify)
				print cseq, callid, ftag, ttag, ss
			inmsg = 0; isnotify = 0; next
		}
		inmsg && first && /^[ \t]*$/ { next }
		inmsg && first { first = 0; isnotify = ($1 == "NOTIFY"); next }
		{ sub(/\r$/, "") }
		inmsg && /^CSeq:/ { cseq = $2 }
		inmsg && /^Call-ID:/ { callid = $2 }
		inmsg && /^From:/ { ftag = $0; sub(/.*tag=/, "", ftag) }
		inmsg && /^To:/ { ttag = $0; sub(/.*tag=/, "", ttag) }
		inmsg && /^Subscription-State:/ { ss = $2 }
		END { if (inmsg && isnotify) print cseq, callid, ftag, ttag, ss }
	' "$T/$1.msg"
}
# list_version [N]: the RLMI version of the last (Nth) NOTIFY
list_version() {
	notifies l | sed -n "${1:-\$}p" |
		sed -n 's/.*<list [^>]*version="\([0-9]*\)".*/\1/p'
}
# dialog: Call-ID and both tags of the first NOTIFY
dialog=$(heads l | head -n 1 | cut -d' ' -f2-4)
c1=$(heads l | tail -n 1 | cut -d' ' -f1)
v1=$(list_version)
n1=$(notify_count l)
[ -n "$dialog" ] && [ -n "$c1" ] && [ -n "$v1" ] ||
	fail "no dialog, CSeq or version: $(heads l)"

# resumed N V C: after the phone's Nth NOTIFY, the next came on the
# same dialog, full state, RLMI version above V and CSeq above C, with
# the expiry left; sets BODY (its body), V2 and C2
resumed() {
	local h ss n=$(($1 + 1))
	wait_for 10 eval "[ \$(notify_count l) -ge $n ]" ||
		fail "no NOTIFY after the restart" \
			"$(grep -E 'resume|blflist' "$T/parkblf.log")"
	BODY=$(notifies l | sed -n "${n}p")
	echo "$BODY" | grep -q 'fullState="true"' ||
		fail "the first NOTIFY after the restart: $BODY"
	h=$(heads l | sed -n "${n}p")
	[ "$(echo "$h" | cut -d' ' -f2-4)" = "$dialog" ] ||
		fail "NOTIFY on another dialog: $h (was $dialog)"
	C2=$(echo "$h" | cut -d' ' -f1)
	V2=$(list_version "$n")
	[ "$C2" -gt "$3" ] || fail "CSeq went from $3 to $C2"
	[ "$V2" -gt "$2" ] || fail "RLMI version went from $2 to $V2"
	# the expiry left, not a new one
	ss=$(echo "$h" | cut -d' ' -f5)
	case $ss in
	active\;expires=*) ;;
	*) fail "Subscription-State: $ss" ;;
	esac
	ss=${ss#*expires=}
	[ "$ss" -le 600 ] && [ "$ss" -ge 480 ] || fail "expires=$ss"
}

kill -KILL "$PB_PID"
wait "$PB_PID" 2>/dev/null
pbx retrieve '*00' >/dev/null
pbx park '*02' call-2 200 Bob >/dev/null
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: 1 phone subscription(s) from the last run" \
	"$T/parkblf.log" || fail "the list subscription was not reloaded"
resumed "$n1" "$v1" "$c1"
body=$BODY
for o in park-1 park-2 park-3; do
	echo "$body" | grep -q "<resource uri=\"sip:$o@127.0.0.1:$PB_PORT\">" ||
		fail "resumed full state lacks $o: $body"
done
echo "$body" | grep -q 'display="Bob">sip:200@' ||
	fail "the park while down (park-3) is not shown: $body"
echo "$body" | grep -q 'display="Early Bird">sip:300@' ||
	fail "park-2's caller missing: $body"
echo "$body" | grep -q 'sip:100@' && fail "park-1 still shows Alice: $body"
n=$(grep -c "^SUBSCRIBE" "$T/l.msg")
[ "$n" -eq 1 ] || fail "the phone sent $n SUBSCRIBEs"
log "SIGKILL, changes while down, restart: full state on the same dialog"
log "(CSeq $c1 -> $C2, RLMI version $v1 -> $V2), no re-SUBSCRIBE"

# a graceful stop keeps it too: not told terminated
sleep 1.5
c1=$C2 v1=$V2 n1=$(notify_count l)
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
heads l | grep -q terminated && fail "the phone was told terminated"
pbx park '*00' call-3 400 Carol >/dev/null
: >"$T/parkblf.log"
start_parkblf
resumed "$n1" "$v1" "$c1"
echo "$BODY" | grep -q 'display="Carol">sip:400@' ||
	fail "the park while down (park-1) is not shown: $BODY"
log "SIGTERM and start: still subscribed, the park while down shown" \
	"(CSeq $c1 -> $C2, RLMI version $v1 -> $V2)"

# the refresh and un-SUBSCRIBE of the resumed dialog (sipp checks them)
wait_for 40 grep -q "ended (unsubscribed)" "$T/parkblf.log" ||
	fail "no un-SUBSCRIBE: $(cat "$T/l.err" 2>/dev/null)"
phone_done l
grep -q "Subscription Does Not Exist" "$T/l.msg" && fail "481 in the dialog"
log "refresh after the restart: 200 and the full state;" \
	"un-SUBSCRIBE: 200 and terminated"

# the row is gone with it
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: .* phone subscription(s) from the last run" \
	"$T/parkblf.log" && fail "the ended list was resumed"
log "ended: its row is gone"

# a list renamed (blf_list) while parkblf was down: its phone is told
# (terminated, noresource), and its row goes
start_phone m parks "EXTRA_HEADERS=Supported: eventlist" \
	"ACCEPT=multipart/related, application/rlmi+xml, \
application/dialog-info+xml" QUIET_MS=30000
expect_last m 'fullState="true"'
sleep 1.5
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
sed -i 's/^blf_list .*/blf_list orbits/' "$T/parkblf.conf"
: >"$T/parkblf.log"
start_parkblf
wait_for 10 grep -q "Subscription-State: terminated;reason=noresource" \
	"$T/m.msg" || fail "the phone of the renamed list was not told"
# that NOTIFY is a list's too (RFC 4662 5: Require: eventlist)
awk '/^-----/ { if (b ~ /reason=noresource/) print b; b = ""; next }
	{ b = b $0 "\n" }
	END { if (b ~ /reason=noresource/) print b }' "$T/m.msg" |
	grep -q "^Require: eventlist" ||
	fail "the renamed list's final NOTIFY lacks Require: eventlist"
grep -q "resume: .* parks is no longer served" "$T/parkblf.log" ||
	fail "the dropped list subscription is not logged"
kill "$PHONE_m" 2>/dev/null
kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf did not exit 0 on SIGTERM"
: >"$T/parkblf.log"
start_parkblf
grep -q "resume: .* phone subscription(s) from the last run" \
	"$T/parkblf.log" && fail "the renamed list's row was kept"
log "list renamed while down: its phone told (noresource), its row gone"
