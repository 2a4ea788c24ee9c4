# The PBX's NOTIFYs are answered without libre server transactions, and
# a retransmission still gets the answer the NOTIFY got, without being
# applied twice: the same NOTIFY again at once, one sent again after a
# newer one, both answered 200 and the lamp not lit again.  An older
# CSeq with a new branch (out of order) gets 500, as before.  Over UDP
# and over TCP (test/integration/rawpbx.py is the PBX).
. "$(dirname "$0")/lib.sh"
need_tools curl

metric() {
	curl -sS --max-time 5 "$URL/metrics" |
		sed -n "s/^parkblf_$1_total //p"
}

run_case() {
	local tp=$1 res="$T/raw.$1.txt" got want pid
	rm -f "$T/raw.port" "$res" "$res.go" "$T/parkblf.log" "$T/a.msg"
	$PYTHON "$SRC/test/integration/rawpbx.py" "$tp" "$T/raw.port" \
		"$res" >"$T/rawpbx.$tp.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for 10 test -s "$T/raw.port" || fail "rawpbx.py did not start"
	write_config "upstream_uri sip:any-dn@127.0.0.1:$(cat "$T/raw.port");transport=$tp" \
		"http_listen 127.0.0.1:0" "notify_min_interval 0"
	start_parkblf
	http_ports

	start_phone a park-1 QUIET_MS=30000
	expect_last a '<state>terminated</state>'
	touch "$res.go"
	wait_for 40 grep -qx done "$res" || fail "$tp: steps not done: $(cat "$res")"

	want="initial 1 200
park 2 200
park-again 2 200
retrieve 3 200
park-late 2 200
park-new 2 500
retrieve-again 3 200
last 4 200
done"
	got=$(cat "$res")
	[ "$got" = "$want" ] || fail "$tp: answers: $got"
	log "$tp: every NOTIFY answered, retransmissions 200 again, an" \
		"older CSeq 500"

	got="$(metric upstream_notifies) $(metric upstream_notify_retransmissions)"
	[ "$got" = "4 3" ] ||
		fail "$tp: applied / retransmitted NOTIFYs: $got, want 4 3"
	expect_last a '<state>terminated</state>'
	[ "$(notifies a | grep -c '>sip:100@')" = 1 ] ||
		fail "$tp: the lamp was lit again: $(notifies a)"
	log "$tp: 4 NOTIFYs applied, 3 retransmissions not; lit once"

	kill -TERM "$PHONE_a"
	kill -TERM "$PB_PID"
	wait "$PB_PID" || fail "$tp: parkblf exited with $?"
	kill -TERM "$pid"
	wait "$pid"
}

run_case udp
run_case tcp
