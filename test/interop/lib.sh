# Helpers for the interop tests: everything of test/integration/lib.sh
# (free ports, parkblf, the fake PBX, sipp phones, cleanup on exit) plus
# third-party peers started and stopped here by PID: Kamailio, ...
#
# Sourced by each test/interop/test_*.sh with BUILD and T set (run.sh).

# shellcheck source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
INTEROP=$SRC/test/interop

# start_kamailio NAME PORT TEMPLATE [KEY=VALUE...]: Kamailio with the
# config test/interop/TEMPLATE (@PORT@, @DIR@ = its own directory and
# the KEY=VALUEs filled in), on 127.0.0.1:PORT (UDP and TCP), in the
# foreground, logging to $T/NAME.log.  Sets KAM_PID_NAME.
start_kamailio() {
	local name=$1 port=$2 tmpl=$3 dir=$T/$1 pid
	shift 3
	mkdir -p "$dir"
	fill_template "$INTEROP/$tmpl" "$dir/kamailio.cfg" "PORT=$port" \
		"DIR=$dir" "$@"
	kamailio -c -f "$dir/kamailio.cfg" -L "$KAM_MODULES" \
		>"$dir/check.log" 2>&1 ||
		fail "$name: kamailio -c refuses $tmpl: $(tail -n 5 "$dir/check.log")"
	kamailio -f "$dir/kamailio.cfg" -L "$KAM_MODULES" -DD -E \
		-Y "$dir" -w "$dir" -m 64 -M 8 -n 2 -N 1 \
		>"$T/$name.log" 2>&1 &
	pid=$!
	DAEMONS+=("$pid:$name")
	FAIL_LOGS+=("$T/$name.log")
	eval "KAM_PID_$name=$pid"
	wait_for 15 udp_listens "$port" ||
		fail "$name: Kamailio did not start: $(tail -n 20 "$T/$name.log")"
}
KAM_MODULES=${KAM_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}

# udp_listens PORT: something has UDP PORT open
udp_listens() {
	ss -Hlun "sport = :$1" | grep -q .
}

# kam_errors NAME: Kamailio's log lines at ERROR or worse
kam_errors() {
	grep -E ' (ERROR|CRITICAL|ALERT|BUG): ' "$T/$1.log"
}
