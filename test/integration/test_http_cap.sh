# The HTTP endpoint caps its connections (issue 12, finding 7): with
# http_max_connections 4, four idle connections take every place and a
# fifth is closed at once; a connection that sends no request is closed
# after 10 s, and the endpoint serves again.  On e9e1360 every
# connection was kept (10 s before a request, 600 s after one), so a
# client could take every file descriptor.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "http_listen 127.0.0.1:0" "http_max_connections 4"
start_parkblf
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
[ -n "$HTTP_PORT" ] || fail "no 'http: listening on' line"
URL="http://127.0.0.1:$HTTP_PORT/status"

code() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$URL" 2>&1; }
served() { [ "$(code)" = 200 ]; }

[ "$(code)" = 200 ] || fail "GET /status before: $(code)"
log "GET /status: 200 (one request per connection, closed after)"

exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" 4<>"/dev/tcp/127.0.0.1/$HTTP_PORT" \
	5<>"/dev/tcp/127.0.0.1/$HTTP_PORT" 6<>"/dev/tcp/127.0.0.1/$HTTP_PORT" ||
	fail "four connections"
sleep 0.5
out=$(code)
case "$out" in
200) fail "a fifth connection was served" ;;
esac
grep -q "http: connection from 127.0.0.1:[0-9]* refused: 4 open" \
	"$T/parkblf.log" || fail "the refusal is not logged"
log "four idle connections open: a fifth is closed at once ($out)"

# the idle ones are closed after 10 s without a request
wait_for 15 served ||
	fail "idle connections were not closed: $(code)"
log "after 10 s without a request they are closed: 200 again"
curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/metrics" >"$T/metrics" ||
	fail "GET /metrics"
grep -Eqx 'parkblf_http_refused_total [1-9][0-9]*' "$T/metrics" ||
	fail "/metrics: $(grep http_refused "$T/metrics")"
log "/metrics counts it: $(grep '^parkblf_http_refused_total' "$T/metrics")"
exec 3>&- 4>&- 5>&- 6>&-
kill -0 "$PB_PID" || fail "parkblf died"
