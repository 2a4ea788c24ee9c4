# A stranger holding many TCP connections does not take parkblf's
# file descriptors: parkblf raises its soft limit of open files to the
# hard one (at most 65,536) at start.  systemd starts services with a
# soft limit of 1,024: on 00d61ed a stranger's ~1,000 connections, each
# kept 15 minutes by libre after one request, left no descriptor for a
# phone's connection (nor the database), and libre's listening socket,
# whose accept failed with EMFILE, kept the loop busy.  Here the soft
# limit is 256 and a stranger opens 400 connections; a phone's request
# over a new connection is still answered, and parkblf is not busy.
. "$(dirname "$0")/lib.sh"
unset PARKBLF_WIRE_DUMP

[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 1024 ] ||
	fail "the hard limit of open files ($(ulimit -Hn)) is below 1024"

start_fakepbx
write_config "log_level info"
soft=$(ulimit -Sn)
ulimit -Sn 256
start_parkblf
ulimit -Sn "$soft"
grep -q 'open files' "$T/parkblf.log" && log "$(grep 'open files' "$T/parkblf.log" | sed 's/^[^ ]* //')"

# options FROM_TAG: one OPTIONS over a new TCP connection; prints the
# status line of the answer (nothing within 3 s: empty)
options() {
	"$PYTHON" - "$PB_PORT" "$1" <<-'EOF'
	import socket, sys
	port, tag = int(sys.argv[1]), sys.argv[2]
	try:
	    s = socket.create_connection(("127.0.0.1", port), timeout=3)
	    s.sendall(("OPTIONS sip:park-1@127.0.0.1 SIP/2.0\r\n"
	               "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK%s\r\n"
	               "From: <sip:phone@127.0.0.1>;tag=%s\r\n"
	               "To: <sip:park-1@127.0.0.1>\r\nCall-ID: %s\r\n"
	               "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	               % (tag, tag, tag)).encode())
	    print(s.recv(4096).decode(errors="replace").split("\r\n")[0])
	except OSError:
	    pass
	EOF
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PB_PID/stat"; }

# the stranger: 400 connections, one request on each, all kept open
"$PYTHON" - "$PB_PORT" 400 >"$T/stranger.out" 2>&1 <<-'EOF' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
end = time.time() + 20
for i in range(n):
    s = None
    while s is None and time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        except OSError:
            time.sleep(0.05)
    if s is None:
        break
    try:
        s.sendall(("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKs%d\r\n"
                   "From: <sip:s@127.0.0.1>;tag=%d\r\nTo: <sip:x@127.0.0.1>\r\n"
                   "Call-ID: s%d\r\nCSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n" % (i, i, i)).encode())
        held.append(s)
    except OSError:
        pass
print("held", len(held), flush=True)
time.sleep(60)
EOF
PIDS+=($!)
wait_for 30 grep -q held "$T/stranger.out" || fail "the stranger did not finish"
sleep 1
log "the stranger: $(cat "$T/stranger.out"); parkblf has" \
	"$(ls "/proc/$PB_PID/fd" | wc -l) descriptors open"

# 100 ticks a second: spinning would be ~200 in every 2 s window; a
# loaded machine (or valgrind) may still be answering the stranger's
# 1,000 OPTIONS in the first window, so idle in any of 5 is enough
busy=
for _ in 1 2 3 4 5; do
	c0=$(cpu_ticks)
	sleep 2
	c1=$(cpu_ticks)
	busy+="${busy:+, }$((c1 - c0))"
	[ $((c1 - c0)) -le 50 ] && break
done
[ $((c1 - c0)) -le 50 ] ||
	fail "parkblf is busy while the connections are held:" \
		"$busy ticks in 2 s windows"
log "parkblf's CPU ticks per 2 s while they are held: $busy"

line=$(options phone-1)
case "$line" in
"SIP/2.0 200"*) log "a phone's OPTIONS over a new connection: $line" ;;
*) fail "a phone's OPTIONS over a new connection: '$line'" ;;
esac
