#!/bin/bash
# What real SIP stacks do when the notifier of their subscription is
# gone, as after a parkblf instance dies behind Kamailio: a sipp
# notifier grants EXPIRES s, sends one NOTIFY, and answers every later
# SUBSCRIBE of that dialog CODE (481, 408, 503; 0: no answer at all).
# For each phone and CODE it prints when the refresh came, what the
# phone did next (retries of the refresh, a new SUBSCRIBE) and when.
# A measurement for docs/SCALING.md, not a test (it takes minutes):
#
#   BUILD=build T=$(mktemp -d) bash test/interop/measure_resubscribe.sh
#
# Phones: baresip 1.0 (libre's sipevent, Event: presence) and a
# liblinphone 5.1 program (belle-sip, Event: dialog; build/dialogwatch,
# `make interop` builds it).  EXPIRES (default 20) and WAIT (s after
# the refresh's answer to wait for a new SUBSCRIBE, default 150) are
# taken from the environment.
. "$(dirname "$0")/lib.sh"
EXPIRES=${EXPIRES:-20}
WAIT=${WAIT:-150}
CODES=${CODES:-481 408 503 0}

PIDF='<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:park-1@127.0.0.1"><tuple id="t"><status><basic>open</basic></status></tuple></presence>'
DINFO='<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:park-1@127.0.0.1"></dialog-info>'

# notifier NAME CODE EVENT CTYPE BODY: the sipp notifier; sets NPORT
notifier() {
	local answer='<nop/>'
	# lib.sh's answer to a request, with CODE
	[ "$2" != 0 ] && answer=${NOTIFY_OK/200 OK/$2 Failed Here}
	fill_template "$INTEROP/notifier-fail.xml.in" "$T/$1.xml" \
		"EXPIRES=$EXPIRES" "EVENT=$3" "CTYPE=$4" "BODY=$5" \
		"ANSWER=$answer"
	NPORT=$(free_port)
	sipp -sf "$T/$1.xml" -i 127.0.0.1 -p "$NPORT" -nostdin \
		-trace_msg -message_file "$T/$1.msg" \
		-trace_err -error_file "$T/$1.err" >"$T/$1.out" 2>&1 &
	PIDS+=($!)
}

# baresip_phone NAME: baresip watching park-1 at the notifier; its
# log is $T/NAME.log
baresip_phone() {
	BS_NAME=$1 PB_PORT=$NPORT start_baresip park-1
}

# linphone_phone NAME: the liblinphone dialog watcher at the notifier
linphone_phone() {
	start_dialogwatch "${1}dw" "sip:park-1@127.0.0.1:$NPORT"
}

# timeline NAME: "SECONDS refresh|new" per SUBSCRIBE the notifier got
# (with a To tag or not; retransmissions left out), "SECONDS answer
# CODE" per answer it sent to one; SECONDS since the first SUBSCRIBE
timeline() {
	awk '
		function emit() {
			if (kind != "" && cseq == "SUBSCRIBE") {
				if (t0 == "") t0 = mts
				# a retransmission (same Call-ID and CSeq) is
				# not a new attempt
				if (kind == "answer")
					printf "%.3f answer %s\n", mts - t0, code
				else if (!seen[cid " " cnum]++)
					printf "%.3f %s\n", mts - t0,
						tag ? "refresh" : "new"
			}
			kind = ""
		}
		{ sub(/\r$/, "") }
		/^-----/ { emit(); split($3, t, ":")
			ts = t[1] * 3600 + t[2] * 60 + t[3]; next }
		/message received/ { dir = "in"; first = 1; next }
		/message sent/ { dir = "out"; first = 1; next }
		first && /^[ \t]*$/ { next }
		first { first = 0; kind = ""; mts = ts; tag = 0
			if (dir == "in" && $1 == "SUBSCRIBE") kind = "sub"
			if (dir == "out" && $1 == "SIP/2.0") {
				kind = "answer"; code = $2 }
			next }
		/^To:/ { tag = ($0 ~ /;tag=/) }
		/^Call-ID:/ { cid = $2 }
		/^CSeq:/ { cnum = $2; cseq = $3 }
		END { emit() }
	' "$T/$1.msg"
}

# summary PHONE CODE NAME: one line: when the refresh came, and each
# SUBSCRIBE after it (s after the refresh)
summary() {
	local tl refresh after
	tl=$(timeline "$3")
	refresh=$(echo "$tl" | awk '$2 == "refresh" { print $1; exit }')
	after=$(echo "$tl" | awk -v r="${refresh:-0}" '
		$2 != "answer" && $1 > r && n++ < 6 {
			printf "%s+%.1f ", $2, $1 - r }')
	printf '%-11s %-3s refresh at %6s s, then: %s\n' \
		"$1" "$2" "${refresh:--}" "${after:-nothing}"
}

runs=()
for code in $CODES; do
	notifier "bs$code" "$code" presence application/pidf+xml "$PIDF"
	baresip_phone "bs$code"
	runs+=("baresip $code bs$code")
	if [ -x "$BUILD/dialogwatch" ]; then
		notifier "lp$code" "$code" dialog \
			application/dialog-info+xml "$DINFO"
		linphone_phone "lp$code"
		runs+=("liblinphone $code lp$code")
	fi
done
echo "Expires granted: $EXPIRES s; watching for $((EXPIRES + WAIT)) s"
sleep $((EXPIRES + WAIT))
for r in "${runs[@]}"; do
	# shellcheck disable=SC2086
	summary $r
done
