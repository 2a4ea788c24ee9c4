#!/bin/bash
# A BLF key you can watch from a terminal: a sipp phone subscribes to
# ORBIT at parkblf and prints one line per NOTIFY (lamp and caller).
# Ctrl-C ends it.
#
# Usage: test/watch.sh [-p PORT] [-i ADDRESS] [-t SECONDS] ORBIT [HOST:PORT]
#   HOST:PORT   parkblf (default 127.0.0.1:5060; IPv6 as [::1]:5060)
#   -p PORT     this phone's SIP port, UDP (default: a free one)
#   -i ADDRESS  this phone's address, which parkblf sends its NOTIFYs to
#               (default: the one the route to HOST leaves from)
#   -t SECONDS  how long to wait for the answer to the SUBSCRIBE
#               (default 5)
#
# Exit status: 0 after Ctrl-C; 1 when the SUBSCRIBE is refused or not
# answered in time, or the subscription ends; 2 on bad usage.
set -u

usage() {
	echo "usage: test/watch.sh [-p PORT] [-i ADDRESS] [-t SECONDS]" \
		"ORBIT [HOST:PORT]" >&2
	exit 2
}

port='' laddr='' wait_s=5
while getopts p:i:t:h opt; do
	case $opt in
	p) port=$OPTARG ;;
	i) laddr=$OPTARG ;;
	t) wait_s=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || usage
orbit=$1
target=${2:-127.0.0.1:5060}
case $port in
'' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | \
[1-5][0-9][0-9][0-9][0-9] | 6[0-5][0-9][0-9][0-9]) ;;
*) echo "watch.sh: -p $port is not a port number" >&2; exit 2 ;;
esac
case $wait_s in
'' | *[!0-9]* | 0) echo "watch.sh: -t $wait_s is not a number of seconds" \
	"(1 or more)" >&2; exit 2 ;;
esac

# the host part of HOST:PORT, brackets off
host=${target%:*}
host=${host#[}
host=${host%]}
if [ -z "$laddr" ]; then
	case $host in
	127.*) laddr=127.0.0.1 ;;
	::1) laddr=::1 ;;
	*) laddr=$(ip -o route get "$host" 2>/dev/null |
		sed -n 's/.* src \([^ ]*\).*/\1/p')
	   [ -n "$laddr" ] || {
		echo "watch.sh: no route to $host: give -i ADDRESS" >&2
		exit 1
	   } ;;
	esac
fi
if [ -z "$port" ]; then
	while :; do
		port=$(shuf -i 10000-32000 -n 1)
		ss -Hantu "sport = :$port" 2>/dev/null | grep -q . || break
	done
fi

here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d /tmp/parkblf-watch.XXXXXX)
sipp='' show=''
stop() {
	[ -n "$show" ] && kill "$show" 2>/dev/null
	[ -n "$sipp" ] && kill "$sipp" 2>/dev/null
	rm -rf "$d"
}
trap stop EXIT
trap 'exit 0' INT TERM

sed -e 's/@EVENT@/dialog/' -e 's#@ACCEPT@#application/dialog-info+xml#' \
	-e 's/@EXPIRES@/3600/' -e 's/@QUIET_MS@/3600000/' \
	-e 's/@NOTIFY_CODE@/200/' -e 's/@EXTRA_HEADERS@/X-Phone: watch/' \
	"$here/sipp/watch.xml.in" >"$d/watch.xml"
: >"$d/msg"
sipp -sf "$d/watch.xml" -s "$orbit" -i "$laddr" -p "$port" \
	-m 1 -nostdin -trace_msg -message_file "$d/msg" "$target" \
	>"$d/sipp.out" 2>&1 &
sipp=$!

# The final answer to the SUBSCRIBE: "CODE REASON", and Retry-After
answer() {
	awk '
		/^(UDP|TCP) message received/ { rcv = 1; start = 1; next }
		/^-----/ { rcv = 0 }
		rcv && start && /^[ \t\r]*$/ { next }
		rcv && start {
			start = 0
			sub(/\r$/, "")
			if ($1 != "SIP/2.0" || $2 < 200) { rcv = 0; next }
			code = $2; $1 = ""; line = substr($0, 2); next
		}
		rcv && code && tolower($1) == "retry-after:" {
			sub(/\r$/, ""); line = line " (Retry-After: " $2 " s)"
		}
		rcv && code && /^\r?$/ { print line; exit }
	' "$d/msg"
}

deadline=$(( $(date +%s) + wait_s ))
while :; do
	ans=$(answer)
	[ -n "$ans" ] && break
	if ! kill -0 "$sipp" 2>/dev/null; then
		wait "$sipp"
		ans=$(answer)
		[ -n "$ans" ] && break
		echo "watch.sh: sipp ended before an answer came:" >&2
		sed 's/^/  /' "$d/sipp.out" | tail -n 5 >&2
		exit 1
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "watch.sh: no answer from $target to the SUBSCRIBE to" \
			"$orbit in $wait_s s: is parkblf listening there" \
			"(sip_listen), and may $laddr reach it?" >&2
		exit 1
	fi
	sleep 0.1
done

case $ans in
2[0-9][0-9]*) ;;
*)
	case $ans in
	401* | 407*) hint="parkblf wants credentials (subscribe_users)" ;;
	403*) hint="$laddr is not in subscribe_allow" ;;
	404*) hint="no orbit $orbit in the orbit map" ;;
	503*) hint="parkblf is starting, stopping or has no PBX state" ;;
	*) hint='' ;;
	esac
	echo "watch.sh: $target refused the SUBSCRIBE to $orbit:" \
		"$ans${hint:+; $hint}" >&2
	exit 1
	;;
esac

# mawk reads pipes in blocks unless told otherwise
awk=(awk)
awk -W version 2>&1 | grep -q mawk && awk=(awk -W interactive)

echo "watching $orbit at $target from $laddr:$port (Ctrl-C to stop)"
tail -n +1 --pid="$sipp" -f "$d/msg" | "${awk[@]}" '
	/^NOTIFY / { ended = "" }
	/^Subscription-State: *terminated/ {
		ended = $0; sub(/\r$/, "", ended)
		sub(/^Subscription-State: */, "", ended)
	}
	/^<dialog-info/ {
		match($0, /version="[0-9]+"/)
		ver = substr($0, RSTART + 9, RLENGTH - 10)
		states = ""; callers = ""
	}
	/<state>/ { s = $0; gsub(/.*<state>|<\/state>.*/, "", s)
		states = states (states ? "," : "") s }
	/<remote>/ { remote = 1 }
	/<\/remote>/ { remote = 0 }
	remote && /<identity/ {
		c = $0; n = $0
		sub(/.*display="/, "", n); sub(/".*/, "", n)
		if ($0 !~ /display=/) n = ""
		sub(/.*>sip:/, "", c); sub(/@.*/, "", c)
		gsub(/&quot;/, "\"", n); gsub(/&apos;/, "'\''", n)
		gsub(/&lt;/, "<", n); gsub(/&gt;/, ">", n)
		gsub(/&amp;/, "\\&", n)
		callers = callers (callers ? ", " : "") c (n ? " (" n ")" : "")
	}
	/^<\/dialog-info>/ {
		lamp = states ~ /confirmed|early/ ? "LIT " : "dark"
		printf "%s  %s  v%s  %s  %s\n", strftime("%H:%M:%S"), lamp,
			ver, states, callers
		fflush()
	}
	/^(UDP|TCP) message sent/ && ended {
		printf "%s  parkblf ended the subscription: %s\n",
			strftime("%H:%M:%S"), ended
		fflush()
		exit 1
	}' &
show=$!

# until parkblf ends the subscription, sipp stops, or Ctrl-C
wait -n "$show" "$sipp"
exit 1
