# make install / uninstall with DESTDIR and PREFIX: files land where they
# should with the right modes, the unit runs the installed binary, a
# second install keeps an edited config, uninstall removes what was
# installed but not the admin's config, and both man pages render
# without warnings.
. "$(dirname "$0")/lib.sh"

R=$T/root
# the binary is already built: never rebuild it here (BUILD may be an
# ASan tree whose flags this make call does not know)
mk() {
	make --no-print-directory -C "$SRC" -o "$BUILD/parkblf" \
		BUILD="$BUILD" DESTDIR="$R" PREFIX=/usr "$@" \
		>>"$T/make.out" 2>&1 || fail "make $*: $(tail -n 20 "$T/make.out")"
}

# mode_is MODE FILE
mode_is() {
	[ -f "$2" ] || fail "not installed: ${2#$R}"
	[ "$(stat -c %a "$2")" = "$1" ] ||
		fail "${2#$R}: mode $(stat -c %a "$2"), want $1"
}

mk install
mode_is 755 "$R/usr/sbin/parkblf"
mode_is 644 "$R/usr/share/man/man8/parkblf.8"
mode_is 644 "$R/usr/share/man/man5/parkblf.conf.5"
mode_is 644 "$R/usr/lib/systemd/system/parkblf.service"
mode_is 644 "$R/etc/parkblf/parkblf.conf"
mode_is 644 "$R/etc/parkblf/orbits.conf"
cmp -s "$BUILD/parkblf" "$R/usr/sbin/parkblf" || fail "binary differs"
log "files in place with their modes"

unit=$R/usr/lib/systemd/system/parkblf.service
grep -qx 'ExecStart=/usr/sbin/parkblf -f /etc/parkblf/parkblf.conf' \
	"$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
! grep -q '@[A-Z]*@' "$unit" || fail "placeholder left: $(grep '@' "$unit")"
for k in 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'DynamicUser=yes' 'AmbientCapabilities=CAP_NET_BIND_SERVICE' \
	'ProtectSystem=strict' 'StateDirectory=parkblf' \
	'ConfigurationDirectory=parkblf' 'SystemCallFilter=@system-service'
do
	grep -qxF "$k" "$unit" || fail "unit lacks $k"
done
log "unit: ExecStart runs the installed binary"

# the installed sample config is a good config (its map is found)
"$R/usr/sbin/parkblf" -t -f "$R/etc/parkblf/parkblf.conf" >"$T/t.out" \
	2>&1 || fail "installed sample config refused: $(cat "$T/t.out")"
log "installed samples pass parkblf -t"

if command -v systemd-analyze >/dev/null; then
	# Documentation= points at man pages the host may not have: drop it
	grep -v '^Documentation=' "$unit" |
		sed "s|/usr/sbin/parkblf|$R/usr/sbin/parkblf|g" \
		>"$T/parkblf.service"
	if systemd-analyze verify "$T/parkblf.service" >"$T/verify.out" 2>&1
	then
		log "systemd-analyze verify: clean"
	else
		fail "systemd-analyze verify: $(cat "$T/verify.out")"
	fi
fi

# a second install keeps the admin's edits, adds *.sample beside them
echo "# edited by the admin" >>"$R/etc/parkblf/parkblf.conf"
cp "$R/etc/parkblf/parkblf.conf" "$T/edited.conf"
mk install
cmp -s "$T/edited.conf" "$R/etc/parkblf/parkblf.conf" ||
	fail "second install overwrote the edited parkblf.conf"
mode_is 644 "$R/etc/parkblf/parkblf.conf.sample"
mode_is 644 "$R/etc/parkblf/orbits.conf.sample"
cmp -s "$SRC/conf/parkblf.conf" "$R/etc/parkblf/parkblf.conf.sample" ||
	fail "sample is not conf/parkblf.conf"
log "second install: edited config kept, samples as *.sample"

mk uninstall
for f in usr/sbin/parkblf usr/share/man/man8/parkblf.8 \
	usr/share/man/man5/parkblf.conf.5 \
	usr/lib/systemd/system/parkblf.service \
	etc/parkblf/parkblf.conf.sample etc/parkblf/orbits.conf.sample; do
	[ ! -e "$R/$f" ] || fail "uninstall left /$f"
done
cmp -s "$T/edited.conf" "$R/etc/parkblf/parkblf.conf" ||
	fail "uninstall removed or changed the admin's parkblf.conf"
[ -f "$R/etc/parkblf/orbits.conf" ] || fail "uninstall removed orbits.conf"
log "uninstall: installed files gone, configuration kept"

if command -v man >/dev/null; then
	for p in "$SRC/docs/parkblf.8" "$SRC/docs/parkblf.conf.5"; do
		MANWIDTH=80 man --warnings=all -l "$p" >"$T/man.out" \
			2>"$T/man.err" || fail "man -l $p failed"
		[ ! -s "$T/man.err" ] ||
			fail "man -l ${p#$SRC/}: $(cat "$T/man.err")"
		grep -q 'SYNOPSIS' "$T/man.out" || fail "${p#$SRC/}: empty"
	done
	grep -q 'provision' "$SRC/docs/parkblf.8" || fail "no provision in man"
	log "man pages render without warnings"
else
	log "man not installed: man pages not rendered"
fi
