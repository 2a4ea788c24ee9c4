# The live board: GET /board is one self-contained page; its event
# stream /board/events pushes orbit changes; what happened is listed
# (and kept in state_db across a restart).  Access: http_allow (403
# from elsewhere) and http_users (basic credentials for /board, its
# events and /status; /metrics stays open).  Then a real browser
# (headless Chromium, board_browser.py): a call parked at the fake PBX
# appears, its timer counts up, it turns overdue, the retrieve frees the
# orbit, and after a restart of parkblf the page reconnects by itself.
# BOARD_PNG=FILE keeps the screenshot (docs/board.png is made so).
. "$(dirname "$0")/lib.sh"

# Debian's python3, which python3-websocket is installed for
PY=/usr/bin/python3
need_tools curl chromium jq $PY
$PY -c 'import websocket' 2>/dev/null ||
	fail "python3-websocket is missing (test/deps.sh)"

start_fakepbx
HTTP_PORT=$(free_port)
printf 'desk s3cret\n' >"$T/http.users"
chmod 600 "$T/http.users"
write_config "http_listen 127.0.0.1:$HTTP_PORT" "park_alert_after 3" \
	"http_users http.users" "http_allow 127.0.0.1/32,::1" \
	"state_db state.db"
cat >"$T/orbits.conf" <<EOM
park-1 *00 retrieve=*10 label="Orbit 0"
park-2 *01 label="Orbit 1"
EOM

# parkblf -t checks the users file as the daemon reads it
printf 'desk\n' >"$T/http.users"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" >"$T/check.out" 2>&1 &&
	fail "-t passed a users line without a password"
grep -q "http.users:1: want USER PASSWORD" "$T/check.out" ||
	fail "-t: $(cat "$T/check.out")"
printf 'desk s3cret\n' >"$T/http.users"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" >"$T/check.out" 2>&1 ||
	fail "-t: $(cat "$T/check.out")"
log "parkblf -t: a bad http_users line as FILE:LINE, a good file OK"

start_parkblf
URL="http://127.0.0.1:$HTTP_PORT"

# code PATH [CURL ARGS...]: the status code; body in $T/body
code() {
	local path=$1
	shift
	curl -sS --max-time 5 -o "$T/body" -D "$T/headers" \
		-w '%{http_code}' "$@" "$URL$path"
}

[ "$(code /board)" = 401 ] || fail "/board without credentials: not 401"
grep -qi '^WWW-Authenticate: Basic realm="parkblf"' "$T/headers" ||
	fail "no basic challenge: $(cat "$T/headers")"
[ "$(code /board -u desk:wrong)" = 401 ] || fail "a wrong password passed"
[ "$(code /status)" = 401 ] || fail "/status without credentials: not 401"
[ "$(code /board/events)" = 401 ] || fail "/board/events: not 401"
[ "$(code /metrics)" = 200 ] || fail "/metrics needs no credentials"
[ "$(code /board -u desk:s3cret --interface 127.0.0.2)" = 403 ] ||
	fail "127.0.0.2 is not in http_allow, yet not 403"
log "http_users: 401 without or with wrong credentials; http_allow: 403"

[ "$(code /board -u desk:s3cret)" = 200 ] || fail "/board: not 200"
grep -qi '^Content-Type: text/html; charset=utf-8' "$T/headers" ||
	fail "/board Content-Type: $(cat "$T/headers")"
grep -q 'new EventSource("board/events")' "$T/body" ||
	fail "/board has no event stream"
# nothing from elsewhere: no src= or href= at all, no URL to a host
grep -Eq '(src|href)=|https?://' "$T/body" &&
	fail "/board refers to something outside: " \
		"$(grep -Eo '((src|href)=|https?://)[^ ]*' "$T/body")"
grep -q 'prefers-color-scheme: dark' "$T/body" || fail "no dark theme"
log "/board: one page ($(wc -c <"$T/body") bytes), no external assets"

# the stream, read raw: retry, then every orbit
curl -sS -N --max-time 2 -u desk:s3cret "$URL/board/events" \
	>"$T/events" 2>/dev/null
grep -q '^retry: 2000$' "$T/events" || fail "events: $(cat "$T/events")"
grep -q '^event: orbits$' "$T/events" || fail "events: $(cat "$T/events")"
grep '^data: ' "$T/events" | head -n 1 | sed 's/^data: //' |
	jq -e '.orbits | length == 2 and .[0].name == "park-1" and
		.[0].retrieve == "*10" and .[0].alert_after_s == 3' \
	>/dev/null || fail "snapshot: $(cat "$T/events")"
log "/board/events: retry 2000, then a snapshot of both orbits"

# the browser; it says RESTART when parkblf is to be restarted
$PY "$SRC/test/integration/board_browser.py" "$URL/board" "$PBX_CTL" \
	desk:s3cret "$T/restarted" "${BOARD_PNG:-$T/board.png}" \
	>"$T/browser.out" 2>&1 &
BROWSER=$!
PIDS+=("$BROWSER")
FAIL_LOGS+=("$T/browser.out")
wait_for 90 grep -q '^RESTART$\|^FAIL' "$T/browser.out" ||
	fail "browser: $(cat "$T/browser.out")"
grep -q '^FAIL' "$T/browser.out" && fail "browser: $(cat "$T/browser.out")"
[ -s "${BOARD_PNG:-$T/board.png}" ] || fail "no screenshot"

kill -TERM "$PB_PID"
wait "$PB_PID" || fail "parkblf exited $? on SIGTERM"
mv "$T/parkblf.log" "$T/parkblf-1.log"
sleep 1
start_parkblf
wait_upstream_up
# the history of the first run, from state_db
h=$(curl -sS --max-time 5 -u desk:s3cret "$URL/status?history=5" |
	jq -c '[.history[] | .number]')
[ "$h" = '["4930111","4930222"]' ] ||
	fail "history after the restart: $h"
log "history kept in state_db across the restart: $h"
touch "$T/restarted"
wait "$BROWSER" || fail "browser: $(cat "$T/browser.out")"
sed 's/^/  browser: /' "$T/browser.out"
