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
# foreground, logging to $T/NAME.log.  Sets KAM_PID_NAME.  KAM_PROCS:
# its worker options ("-n 2 -N 1": 2 UDP, 1 TCP worker).
start_kamailio() {
	local name=$1 port=$2 tmpl=$3 dir=$T/$1 pid procs
	shift 3
	read -ra procs <<<"${KAM_PROCS:--n 2 -N 1}"
	mkdir -p "$dir"
	fill_template "$INTEROP/$tmpl" "$dir/kamailio.cfg" "PORT=$port" \
		"DIR=$dir" "$@"
	kamailio -c -f "$dir/kamailio.cfg" -L "$KAM_MODULES" \
		>"$dir/check.log" 2>&1 ||
		fail "$name: kamailio -c refuses $tmpl: $(tail -n 5 "$dir/check.log")"
	kamailio -f "$dir/kamailio.cfg" -L "$KAM_MODULES" -DD -E \
		-Y "$dir" -w "$dir" -m 64 -M 8 "${procs[@]}" \
		>"$T/$name.log" 2>&1 &
	pid=$!
	DAEMONS+=("$pid:$name")
	FAIL_LOGS+=("$T/$name.log")
	eval "KAM_PID_$name=$pid"
	wait_for 15 udp_listens "$port" ||
		fail "$name: Kamailio did not start"
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

# kam_dbtext NAME TABLE...: empty db_text tables (and the version
# table) in $T/NAME/db, the directory a config's text://@DIR@/db names
kam_dbtext() {
	local db=$T/$1/db src=/usr/share/kamailio/dbtext/kamailio t
	shift
	mkdir -p "$db"
	head -n 1 "$src/version" >"$db/version"
	for t in "$@"; do
		cp "$src/$t" "$db/$t" || fail "no db_text schema for $t"
		grep "^0:$t:" "$src/version" >>"$db/version"
	done
}

# dbtext_escape: stdin as one db_text string field (':', '\' and line
# ends escaped)
dbtext_escape() {
	sed -e 's/\\/\\\\/g' -e 's/:/\\:/g' | awk '{ printf "%s\\n", $0 }'
}

# publish NAME DN PORT BODY: PUBLISH BODY as the dialog state of DN to
# the server on 127.0.0.1:PORT (sipp); the first of NAME creates the
# publication, the next ones refresh it (SIP-If-Match), so that each
# replaces the last
publish() {
	local name=$1 dn=$2 port=$3 body=$4 ifm= lport
	[ -s "$T/$name.etag" ] &&
		ifm=$'\n'"SIP-If-Match: $(<"$T/$name.etag")"
	fill_template "$INTEROP/publish.xml.in" "$T/$name.xml" \
		"EVENT=dialog" "CTYPE=application/dialog-info+xml" \
		"IF_MATCH=$ifm" "BODY=$body"
	lport=$(free_port)
	rm -f "$T/$name.log"
	sipp -sf "$T/$name.xml" -s "$dn" -i 127.0.0.1 -p "$lport" -m 1 \
		-timeout 10s -timeout_error -nostdin \
		-trace_logs -log_file "$T/$name.log" \
		-trace_err -error_file "$T/$name.err" \
		"127.0.0.1:$port" >"$T/$name.out" 2>&1 ||
		fail "PUBLISH for $dn not answered 200: $(cat "$T/$name.err")"
	sed -n 's/^ETAG \(.*\)/\1/p' "$T/$name.log" | tail -n 1 \
		>"$T/$name.etag"
}

# dialog_info DN [CALL_ID NUMBER DISPLAY]: an RFC 4235 full-state
# document for DN on 127.0.0.1: idle, or one confirmed call from NUMBER
dialog_info() {
	local calls=
	[ -n "${2:-}" ] && calls="<dialog id=\"$2\" direction=\"recipient\">\
<state>confirmed</state><remote><identity display=\"$4\">\
sip:$3@127.0.0.1</identity></remote></dialog>"
	DI_VERSION=$(( ${DI_VERSION:-0} + 1 ))
	printf '%s' "<?xml version=\"1.0\"?><dialog-info \
xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"$DI_VERSION\" \
state=\"full\" entity=\"sip:$1@127.0.0.1\">$calls</dialog-info>"
}

# kam_rls_service NAME WATCHER SERVICE DN...: an rls-services document
# in the xcap table of $T/NAME/db: the list sip:SERVICE@127.0.0.1 of
# sip:DN@127.0.0.1 for the watcher sip:WATCHER@127.0.0.1 (Kamailio's
# rls looks a list up by its subscriber)
kam_rls_service() {
	local name=$1 watcher=$2 service=$3 dn entries= doc
	shift 3
	for dn in "$@"; do
		entries="$entries<rl:entry uri=\"sip:$dn@127.0.0.1\"/>"
	done
	doc=$(dbtext_escape <<-EOM
	<?xml version="1.0" encoding="UTF-8"?>
	<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"
	 xmlns:rl="urn:ietf:params:xml:ns:resource-lists">
	<service uri="sip:$service@127.0.0.1">
	<list name="$service">$entries</list>
	<packages><package>dialog</package></packages>
	</service>
	</rls-services>
	EOM
	)
	echo "1:$watcher:127.0.0.1:$doc:8:e1:1:rls-services/users/sip\\:$watcher@127.0.0.1/index:0" \
		>>"$T/$name/db/xcap"
}

# start_dialogwatch NAME URI: a dialog-event watcher over liblinphone
# (build/dialogwatch) subscribed to URI; its lines go to $T/NAME.out.
# Sets DW_PID_NAME.
start_dialogwatch() {
	local name=$1 dir=$T/$1
	# liblinphone refuses to start without its database's directory
	mkdir -p "$dir/.local/share/linphone"
	cat >"$dir/linphonerc" <<-EOM
	[sip]
	sip_port=$(free_port)
	sip_tcp_port=0
	sip_tls_port=0
	contact="watcher" <sip:watcher@127.0.0.1>
	use_ipv6=0
	[video]
	enabled=0
	EOM
	HOME=$dir "$BUILD/dialogwatch" "$dir/linphonerc" "$2" 240 \
		>"$T/$name.out" 2>"$T/$name.err" &
	PIDS+=($!)
	FAIL_LOGS+=("$T/$name.out")
	eval "DW_PID_$name=$!"
}

# dw_lamp NAME: the last lamp (STATE line) NAME showed, with its caller
dw_lamp() {
	awk '$1 == "STATE" { lamp = $3; caller = "" }
		$1 == "CALLER" { $1 = ""; caller = substr($0, 2) }
		END { print lamp (caller != "" ? " " caller : "") }' \
		"$T/$1.out"
}

# expect_dw NAME LAMP [SECONDS]: wait until NAME shows LAMP (e.g.
# "idle", "confirmed 201 Alice")
expect_dw() {
	wait_for "${3:-15}" dw_is "$1" "$2" ||
		fail "liblinphone watcher $1 shows '$(dw_lamp "$1")', want '$2'"
}
dw_is() { [ "$(dw_lamp "$1")" = "$2" ]; }
