#!/bin/bash
# A BLF key you can watch from a terminal: a sipp phone subscribes to
# ORBIT at parkblf and prints one line per NOTIFY (lamp and caller).
# Ctrl-C ends it.
#
# Usage: test/watch.sh ORBIT [HOST:PORT]     (default 127.0.0.1:5060)
set -u
orbit=${1:?usage: test/watch.sh ORBIT [HOST:PORT]}
target=${2:-127.0.0.1:5060}
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d /tmp/parkblf-watch.XXXXXX)
trap 'kill $sipp 2>/dev/null; rm -rf "$d"' EXIT

sed -e 's/@EVENT@/dialog/' -e 's#@ACCEPT@#application/dialog-info+xml#' \
	-e 's/@EXPIRES@/3600/' -e 's/@QUIET_MS@/3600000/' \
	-e 's/@NOTIFY_CODE@/200/' -e 's/@EXTRA_HEADERS@/X-Phone: watch/' "$here/sipp/watch.xml.in" >"$d/watch.xml"
: >"$d/msg"
sipp -sf "$d/watch.xml" -s "$orbit" -i 127.0.0.1 -p "$(shuf -i 10000-32000 -n 1)" \
	-m 1 -nostdin -trace_msg -message_file "$d/msg" "$target" \
	>/dev/null 2>&1 &
sipp=$!

# mawk reads pipes in blocks unless told otherwise
awk=(awk)
awk -W version 2>&1 | grep -q mawk && awk=(awk -W interactive)

echo "watching $orbit at $target (Ctrl-C to stop)"
tail -f "$d/msg" | "${awk[@]}" '
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
		callers = callers (callers ? ", " : "") c (n ? " (" n ")" : "")
	}
	/^<\/dialog-info>/ {
		lamp = states ~ /confirmed|early/ ? "LIT " : "dark"
		printf "%s  %s  v%s  %s  %s\n", strftime("%H:%M:%S"), lamp,
			ver, states, callers
		fflush()
	}'
