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
# the PBX password: only root reads it (systemd, for the credential)
mode_is 600 "$R/etc/parkblf/upstream_password"
[ -s "$R/etc/parkblf/upstream_password" ] && fail "password file not empty"
# other secrets: the directory the unit loads whole, only root's
[ "$(stat -c %a "$R/etc/parkblf/credentials" 2>&1)" = 700 ] ||
	fail "credentials/: $(stat -c %a "$R/etc/parkblf/credentials" 2>&1)"
cmp -s "$BUILD/parkblf" "$R/usr/sbin/parkblf" || fail "binary differs"
log "files in place with their modes"

unit=$R/usr/lib/systemd/system/parkblf.service
grep -qx 'ExecStart=/usr/sbin/parkblf -f /etc/parkblf/parkblf.conf' \
	"$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
! grep -q '@[A-Z]*@' "$unit" || fail "placeholder left: $(grep '@' "$unit")"
for k in 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'DynamicUser=yes' 'AmbientCapabilities=CAP_NET_BIND_SERVICE' \
	'ProtectSystem=strict' 'StateDirectory=parkblf' \
	'LogsDirectory=parkblf' 'StartLimitIntervalSec=60' \
	'LoadCredential=upstream_password:/etc/parkblf/upstream_password' \
	'LoadCredential=credentials:/etc/parkblf/credentials' \
	'SystemCallFilter=@system-service'
do
	grep -qxF "$k" "$unit" || fail "unit lacks $k"
done
log "unit: ExecStart runs the installed binary"

# the installed sample is refused until the admin fills it in: -t says
# what is missing, as FILE:LINE (its map is found)
conf=$R/etc/parkblf/parkblf.conf
"$R/usr/sbin/parkblf" -t -f "$conf" >"$T/t.out" 2>&1 &&
	fail "installed sample config accepted: $(cat "$T/t.out")"
grep -q "^$conf:[0-9]*: upstream_password_file: $R/etc/parkblf/upstream_password is empty: write the PBX password in it" \
	"$T/t.out" || fail "empty password not reported: $(cat "$T/t.out")"
echo "Kx-pw.7" >"$R/etc/parkblf/upstream_password"
"$R/usr/sbin/parkblf" -t -f "$conf" >"$T/t.out" 2>&1 &&
	fail "installed sample config accepted: $(cat "$T/t.out")"
grep -q "^$conf:[0-9]*: upstream_uri: pbx.example.com is a placeholder" \
	"$T/t.out" || fail "placeholder not reported: $(cat "$T/t.out")"
mode_is 600 "$R/etc/parkblf/upstream_password"
log "installed sample: -t names the empty password file and the placeholder"

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

# The service as the unit runs it: an unprivileged user (DynamicUser=)
# that cannot read root's password file, gets it as a credential in
# $CREDENTIALS_DIRECTORY, writes only in its StateDirectory= and
# LogsDirectory= (ProtectSystem=strict: the rest of the installed tree
# read-only, emulated with a mount namespace where the host allows it).
# The fake PBX takes only that password, so the link coming up shows
# the credential was used.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	svc=65534
	state=$R/var/lib/parkblf logs=$R/var/log/parkblf creds=$T/creds
	mkdir -p "$state" "$logs" "$creds" "$R/srv"
	chown "$svc" "$state" "$logs"
	chmod 711 "$T"
	# what systemd does with LoadCredential=: a private copy
	install -m 400 -o "$svc" "$R/etc/parkblf/upstream_password" "$creds/"
	chown "$svc" "$creds"
	chmod 500 "$creds"
	sandbox=yes
	unshare -m true 2>/dev/null || sandbox=no

	# as_service [ENV=VALUE...] -- COMMAND...: as the unit would run it
	# (in a background subshell it execs, so that $! is parkblf)
	as_service() {
		local env=() ex=
		while [ "$1" != -- ]; do env+=("$1"); shift; done
		shift
		[ "$BASHPID" != "$$" ] && ex=exec
		if [ "$sandbox" = yes ]; then
			$ex unshare -m sh -c 'mount --make-rprivate / &&
				mount --bind "$1" "$1" &&
				mount --bind "$2" "$2" &&
				mount --rbind "$3" "$3" &&
				mount -o remount,bind,ro "$3" &&
				shift 3 && exec "$@"' sh "$state" "$logs" "$R" \
				setpriv --reuid=$svc --regid=$svc --clear-groups \
				env "${env[@]}" "$@"
		else
			$ex setpriv --reuid=$svc --regid=$svc --clear-groups \
				env "${env[@]}" "$@"
		fi
	}
	unit_env=(CREDENTIALS_DIRECTORY="$creds" STATE_DIRECTORY="$state"
		LOGS_DIRECTORY="$logs")

	start_fakepbx -p "Kx-pw.7"
	sed -i -e "s|^upstream_uri.*|upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT|" \
		-e "s|^sip_listen.*|sip_listen 127.0.0.1:0|" "$conf"
	printf '%s\n' "state_db $state/subscriptions.db" \
		"upstream_capture $logs/capture.txt" "log_level debug" >>"$conf"

	# without the credential the service's user cannot read the file
	as_service -- "$R/usr/sbin/parkblf" -t -f "$conf" >"$T/t.out" 2>&1 &&
		fail "the service's user read root's password file"
	grep -q "upstream_password_file: cannot read $R/etc/parkblf/upstream_password: Permission denied" \
		"$T/t.out" || fail "no clear message: $(cat "$T/t.out")"

	# ExecStartPre=parkblf -t, then ExecStart=parkblf
	as_service "${unit_env[@]}" -- "$R/usr/sbin/parkblf" -t -f "$conf" \
		>"$T/t.out" 2>&1 || fail "ExecStartPre failed: $(cat "$T/t.out")"
	grep -q "warning" "$T/t.out" && fail "warnings: $(cat "$T/t.out")"
	as_service "${unit_env[@]}" -- "$R/usr/sbin/parkblf" -f "$conf" \
		>>"$T/parkblf.log" 2>&1 &
	DAEMONS+=("$!:parkblf")
	wait_upstream_up
	grep -q "Kx-pw" "$T/parkblf.log" && fail "the password was logged"
	pbx park '*00' c1 +4930111 Alice >/dev/null
	wait_for 10 grep -q "+4930111" "$logs/capture.txt" ||
		fail "nothing captured"
	[ "$(stat -c %a "$logs/capture.txt")" = 600 ] ||
		fail "capture file mode $(stat -c %a "$logs/capture.txt")"
	[ -f "$state/subscriptions.db" ] || fail "no state_db"
	log "as the unit runs it (sandbox: $sandbox): -t OK, link up with the credential, capture 0600, state_db written"

	# a capture path outside the unit's directories: -t refuses it there
	if [ "$sandbox" = yes ]; then
		cp "$conf" "$T/ro.conf"
		sed -i "s|^upstream_capture .*|upstream_capture $R/srv/capture.txt|" \
			"$conf"
		chmod 777 "$R/srv"
		as_service "${unit_env[@]}" -- "$R/usr/sbin/parkblf" -t -f \
			"$conf" >"$T/t.out" 2>&1 &&
			fail "-t accepted a capture path the unit cannot write"
		grep -q "upstream_capture: cannot write $R/srv/capture.txt: Read-only file system (parkblf.service lets parkblf write only in its StateDirectory= and LogsDirectory=" \
			"$T/t.out" || fail "no clear message: $(cat "$T/t.out")"
		cp "$T/ro.conf" "$conf"
		log "capture outside the unit's directories: -t refuses it under the unit"
	fi
fi

# a second install keeps the admin's edits, adds *.sample beside them
echo "# edited by the admin" >>"$R/etc/parkblf/parkblf.conf"
cp "$R/etc/parkblf/parkblf.conf" "$T/edited.conf"
mk install
cmp -s "$T/edited.conf" "$R/etc/parkblf/parkblf.conf" ||
	fail "second install overwrote the edited parkblf.conf"
grep -qx "Kx-pw.7" "$R/etc/parkblf/upstream_password" ||
	fail "second install overwrote the password"
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
[ -f "$R/etc/parkblf/upstream_password" ] ||
	fail "uninstall removed the password"
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
