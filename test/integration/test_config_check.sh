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
"$BUILD/parkblf" -t -f "$T/parkblf.conf" 2>&1 | grep -q "readable" &&
	fail "warning for a private file"
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
