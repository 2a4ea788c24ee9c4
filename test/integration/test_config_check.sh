# parkblf -t: a good config exits 0; a broken one prints every problem
# as FILE:LINE: message and exits non-zero, for both files.
. "$(dirname "$0")/lib.sh"

PBX_PORT=5060
write_config
out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) ||
	fail "good config refused: $out"
echo "$out" | grep -q "OK (3 orbits" || fail "no summary: $out"
log "good config: exit 0, 3 orbits"

chmod 644 "$T/parkblf.conf"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1 |
	grep -q "holds upstream_password and is readable by everyone" ||
	fail "no warning for a world-readable password"
chmod 600 "$T/parkblf.conf"
"$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1 |
	grep -q "readable by everyone" && fail "warning for a private file"
log "world-readable config with a password: warned"

printf 'park-1 *00\npark-1 *01\npark-2\n' >"$T/orbits.conf"
if out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1); then
	fail "bad orbit map accepted"
fi
echo "$out" | grep -q "^$T/orbits.conf:2: orbit 'park-1' is already" ||
	fail "no FILE:LINE for the map: $out"
echo "$out" | grep -q "^$T/orbits.conf:3: orbit 'park-2' has no DN" ||
	fail "no FILE:LINE for line 3: $out"
log "bad map: each problem as FILE:LINE"

write_config "upstream_expires ten" "dialog_lamp pink"
if out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1); then
	fail "bad config accepted"
fi
n=$(wc -l <"$T/parkblf.conf")
echo "$out" | grep -q "^$T/parkblf.conf:$((n - 1)): upstream_expires" ||
	fail "no FILE:LINE for upstream_expires: $out"
echo "$out" | grep -q "^$T/parkblf.conf:$n: dialog_lamp" ||
	fail "no FILE:LINE for dialog_lamp: $out"
log "bad config: each problem as FILE:LINE"

# the daemon itself refuses to start on a bad map
write_config
printf 'park-1\n' >"$T/orbits.conf"
if timeout 5 "$BUILD/parkblf" -f "$T/parkblf.conf" >"$T/run.out" 2>&1; then
	fail "daemon started with a bad map"
fi
grep -q "orbits.conf:1:" "$T/run.out" || fail "no message: $(cat "$T/run.out")"
log "daemon refuses a bad map"

# ---- what a start would refuse or silently degrade, -t reports too

# t_refused WHAT PATTERN: -t must fail and print PATTERN (a grep -E)
t_refused() {
	local out
	if out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1); then
		fail "$1 accepted: $out"
	fi
	echo "$out" | grep -Eq -- "$2" || fail "$1: no '$2' in: $out"
	echo "$out" | grep -q ":0:" && fail "$1: a message at line 0: $out"
	log "$1: $(echo "$out" | grep -E -- "$2" | head -n 1 | sed "s|$T/||")"
}

n() { echo $(( $(wc -l <"$T/parkblf.conf") )); }

write_config "sip_listen 127.0.0.1:70000"
t_refused "port 70000" "^$T/parkblf.conf:$(n): sip_listen: '127.0.0.1:70000': the port is not a number in 0..65535"
write_config "upstream_uri sip:any-dn@127.0.0.1:292100"
t_refused "URI port 292100" "^$T/parkblf.conf:$(n): upstream_uri: '127.0.0.1:292100': the port"
write_config "upstream_uri sip:any-dn@::1:29210"
t_refused "IPv6 without brackets" "^$T/parkblf.conf:$(n): upstream_uri: 'sip:any-dn@::1:29210': an IPv6 address goes in brackets"
write_config "http_listen [::1]:65536"
t_refused "HTTP port 65536" "^$T/parkblf.conf:$(n): http_listen: '\\[::1\\]:65536': the port"

# an address this host does not have (TEST-NET-1): a start would fail
write_config "sip_listen 127.0.0.1:0" "sip_listen 192.0.2.77:5060" \
	"http_listen 198.51.100.3:8088"
t_refused "a foreign sip_listen" "^$T/parkblf.conf:$(( $(n) - 1 )): sip_listen: 192.0.2.77 is not an address of this host"
t_refused "a foreign http_listen" "^$T/parkblf.conf:$(n): http_listen: 198.51.100.3 is not an address of this host"

write_config "state_db nodir/state.db"
t_refused "state_db in a missing directory" "^$T/parkblf.conf:$(n): state_db: $T/nodir/state.db: directory $T/nodir: No such file"
# the daemon refuses the same, instead of running without persistence
if timeout 5 "$BUILD/parkblf" -f "$T/parkblf.conf" >"$T/run.out" 2>&1; then
	fail "daemon started with state_db in a missing directory"
fi
grep -q "parkblf.conf:$(n): state_db: " "$T/run.out" ||
	fail "daemon: no FILE:LINE: $(cat "$T/run.out")"
log "daemon refuses it too"

write_config "upstream_capture nodir/capture.txt"
t_refused "upstream_capture in a missing directory" "^$T/parkblf.conf:$(n): upstream_capture: .*No such file"

# outside the unit's writable directories: a warning, with the way out
write_config "upstream_capture capture.txt"
out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) ||
	fail "capture in a writable directory refused: $out"
echo "$out" | grep -q "^$T/parkblf.conf:$(n): warning: upstream_capture: $T/capture.txt is outside /var/lib/parkblf and /var/log/parkblf, the only directories parkblf.service lets parkblf write" ||
	fail "no warning for a capture outside the unit's directories: $out"
write_config "upstream_capture /var/log/parkblf/capture.txt"
out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) ||
	fail "the sample's capture path refused: $out"
echo "$out" | grep -q "warning: upstream_capture" &&
	fail "warning for the sample's capture path: $out"
log "capture outside the unit's directories: warned; the sample's path: OK"

write_config
printf 'park-1 *00 label="Caf\xe9"\n' >"$T/orbits.conf"
t_refused "Latin-1 label" "^$T/orbits.conf:1: label: not UTF-8"

write_config "orbit_map missing.conf"
t_refused "missing map" "^$T/missing.conf: cannot read orbit map: No such file"

# checked as an unprivileged user (the unit's DynamicUser is one): a
# map only root may read
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	write_config
	chmod 711 "$T"
	chmod 644 "$T/parkblf.conf"
	chmod 600 "$T/orbits.conf"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) &&
		fail "unreadable map accepted"
	echo "$out" | grep -q "^$T/orbits.conf: cannot read orbit map: Permission denied" ||
		fail "unreadable map: $out"
	# run by root, -t warns that the service's user could not read it
	out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) ||
		fail "root could not read the map: $out"
	echo "$out" | grep -q "^$T/parkblf.conf:$(grep -n '^orbit_map' "$T/parkblf.conf" | cut -d: -f1): warning: orbit_map: $T/orbits.conf is not readable by others (mode 600): parkblf.service (DynamicUser=) cannot read it" ||
		fail "no warning for a map the service cannot read: $out"
	log "map only root can read: refused as nobody, warned as root"
fi

# the sample config: its placeholders do not pass
cp "$SRC/conf/parkblf.conf" "$SRC/conf/orbits.conf" "$T/"
: >"$T/upstream_password"
t_refused "the sample's empty password file" "^$T/parkblf.conf:[0-9]+: upstream_password_file: $T/upstream_password is empty: write the PBX password in it"
# ... and, in the same run, its placeholder PBX
t_refused "the sample's PBX" "^$T/parkblf.conf:[0-9]+: upstream_uri: pbx.example.com is a placeholder"
# provision needs no password: a file it cannot read is no obstacle
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 600 "$T/upstream_password"
	chmod 644 "$T/parkblf.conf" "$T/orbits.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/parkblf" \
		provision yealink -f "$T/parkblf.conf" -a 192.0.2.10 \
		>"$T/prov.out" 2>&1 || fail "provision: $(cat "$T/prov.out")"
	log "provision as a user who cannot read the password file: OK"
fi
echo "pa55word" >"$T/upstream_password"
sed -i "s|pbx.example.com|127.0.0.1:5060|" "$T/parkblf.conf"
out=$("$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1) ||
	fail "the filled-in sample refused: $out"
log "sample filled in: OK"
