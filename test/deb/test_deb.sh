# The Debian package as an admin meets it: installed with apt, its
# files, conffiles, user and directories in place; the service started
# against the fake PBX; a phone on park-1 sees a park; installed again,
# the admin's files stay; stopped with exit 0; then purged: every path
# the package had is gone, and so are the user, the group, /etc/parkblf
# (but files the admin added), /var/lib/parkblf and /var/log/parkblf:
# nothing named parkblf is left that was not there before.
#
# Under systemd (PID 1 here, or in the box of test_deb_systemd.sh):
# systemctl start, is-active, the unit's sandbox checked on the running
# daemon, systemctl reload (SIGHUP), a tenant whose password comes from
# /etc/parkblf/credentials/ with no drop-in, restarted by a reinstall,
# systemctl stop (exit 0), purged while running (the prerm stops it).
# Without systemd: the unit's ExecStartPre= and ExecStart= as they
# would run (the unit's User=, its credentials, environment and umask,
# ProtectSystem=strict emulated with a mount namespace where the host
# allows one), SIGTERM.
#
# Run by test/deb/deb-test.sh (make deb-test), which builds the package
# into DEB_DIR and skips when the machine has a parkblf of its own.
# Root only: it changes the machine (or the box), and puts it back, also
# on failure.
. "$(dirname "$0")/../integration/lib.sh"
# a timeout's SIGTERM too runs the clean-up (purge)
trap 'exit 1' INT TERM HUP

version=$(sed -n 's/^VERSION *:= *//p' "$SRC/Makefile")
deb=${DEB_DIR:?}/parkblf_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no package $deb (make deb)"
[ "$(id -u)" = 0 ] || fail "needs root"
st=$(dpkg-query -W -f='${db:Status-Status}' parkblf 2>/dev/null)
[ -z "$st" ] || [ "$st" = not-installed ] ||
	fail "a parkblf package is installed already ($st): not mine to touch"
for p in /etc/parkblf /var/lib/parkblf /var/log/parkblf; do
	[ ! -e "$p" ] || fail "$p exists already: not mine to touch"
done
getent passwd parkblf >/dev/null && fail "a user parkblf exists already"
getent group parkblf >/dev/null && fail "a group parkblf exists already"

SYSTEMD=no
[ "$(ps -p 1 -o comm=)" = systemd ] && [ -d /run/systemd/system ] &&
	SYSTEMD=yes
APT="apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=120"

# Where a package puts things, everything named *parkblf*, before (not
# in this source tree, wherever CI cloned it)
named_parkblf() {
	find /etc /lib /usr /var /run /srv /opt -xdev \
		\( -path /var/tmp -o -path /var/cache/apt/archives \
		-o -path "$SRC" \) -prune \
		-o -name '*parkblf*' -print 2>/dev/null | sort
}
named_parkblf >"$T/before.list"
# the package's paths, and which of them (shared directories) exist
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\.||; s|/$||' |
	grep . >"$T/deb.list"
while read -r f; do
	[ -e "$f" ] && echo "$f"
done <"$T/deb.list" >"$T/deb.before"

# Installing it must pull in nothing else (test/deps.sh installed the
# libraries): purging it then leaves the machine as it was
$APT -s install "$deb" >"$T/apt-s.out" 2>&1 ||
	fail "apt-get -s install: $(tail -n 5 "$T/apt-s.out")"
other=$(sed -n 's/^Inst \([^ ]*\).*/\1/p' "$T/apt-s.out" | grep -vx parkblf)
[ -z "$other" ] || fail "installing it would also install: $other"

# On the way out, also on failure: purged, and whatever a broken
# package left of what was not here before removed too
INSTALLED="" TOUCHED=""
purge_package() {
	local p
	[ -n "$TOUCHED" ] || return 0
	[ -z "$INSTALLED" ] || $APT purge parkblf >>"$T/apt.out" 2>&1 ||
		echo "FAIL: purging parkblf: $(tail -n 5 "$T/apt.out")" >&2
	for p in /etc/parkblf /var/lib/parkblf /var/log/parkblf; do
		[ -e "$p" ] && echo "clean-up: removing $p" >&2 && rm -rf "$p"
	done
	getent passwd parkblf >/dev/null && echo "clean-up: deluser parkblf" >&2 &&
		deluser --system --quiet parkblf >/dev/null 2>&1
	getent group parkblf >/dev/null && echo "clean-up: delgroup parkblf" >&2 &&
		delgroup --system --quiet parkblf >/dev/null 2>&1
	return 0
}
CLEANUP_HOOKS+=(purge_package)

INSTALLED=yes TOUCHED=yes
$APT install "$deb" >"$T/apt.out" 2>&1 ||
	fail "apt-get install: $(tail -n 20 "$T/apt.out")"
[ "$(dpkg-query -W -f='${db:Status-Status}' parkblf)" = installed ] ||
	fail "not installed: $(tail -n 20 "$T/apt.out")"
dpkg -L parkblf >"$T/files.list"
log "installed $(basename "$deb"), $(wc -l <"$T/files.list") paths"

# What the admin finds
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd parkblf) ||
	fail "no user parkblf"
[ "$uid" -lt 1000 ] || fail "parkblf is not a system user: uid $uid"
[ "$(getent group parkblf | cut -d: -f3)" = "$gid" ] ||
	fail "parkblf's group is not parkblf"
case $shell in */nologin | /bin/false) ;; *) fail "login shell $shell" ;; esac
[ ! -e "$home" ] || fail "home $home exists"
for d in /var/lib/parkblf /var/log/parkblf; do
	[ "$(stat -c '%U:%G %a' "$d")" = "parkblf:parkblf 750" ] ||
		fail "$d: $(stat -c '%U:%G %a' "$d")"
done
pw=/etc/parkblf/upstream_password
[ "$(stat -c '%U %a %s' "$pw")" = "root 600 0" ] ||
	fail "$pw: $(stat -c '%U %a %s' "$pw")"
dpkg-query -W -f='${Conffiles}\n' parkblf | awk 'NF { print $1 }' |
	sort >"$T/conffiles"
printf '%s\n' /etc/parkblf/orbits.conf /etc/parkblf/parkblf.conf |
	cmp -s - "$T/conffiles" || fail "conffiles: $(cat "$T/conffiles")"
unit=/lib/systemd/system/parkblf.service
dropin=/lib/systemd/system/parkblf.service.d/debian.conf
[ -f "$unit" ] && [ -f "$dropin" ] || fail "no unit or drop-in"
sed "s|@SBINDIR@|/usr/sbin|g; s|@SYSCONFDIR@|/etc|g" \
	"$SRC/conf/parkblf.service" | cmp -s - "$unit" ||
	fail "$unit is not conf/parkblf.service as make install writes it"
# the unit with the drop-in, as systemd would load it
if command -v systemd-analyze >/dev/null; then
	# --man=no: man would leave formatted pages in /var/cache/man
	systemd-analyze verify --man=no "$unit" >"$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/verify.out")"
fi
wants=/etc/systemd/system/multi-user.target.wants/parkblf.service
[ "$(readlink "$wants")" = "$unit" ] || fail "not enabled: no $wants"
if [ "$SYSTEMD" = yes ]; then
	systemctl is-active -q parkblf &&
		fail "started at install with the placeholder config"
	[ "$(systemctl is-enabled parkblf)" = enabled ] ||
		fail "systemctl is-enabled: $(systemctl is-enabled parkblf 2>&1)"
	# the drop-in is loaded (the postinst's daemon-reload)
	systemctl show -p DropInPaths --value parkblf | grep -qF "$dropin" ||
		fail "drop-in not loaded: $(systemctl show -p DropInPaths parkblf)"
fi
if command -v man >/dev/null; then
	for m in parkblf.8 parkblf.conf.5; do
		man -aw "${m##*.}" "${m%.*}" 2>/dev/null |
			grep -qx "/usr/share/man/man${m##*.}/$m.gz" ||
			fail "man ${m##*.} ${m%.*} not found"
	done
fi
/usr/sbin/parkblf -t -f /etc/parkblf/parkblf.conf >"$T/t.out" 2>&1 &&
	fail "the sample config was accepted"
grep -q "^/etc/parkblf/parkblf.conf:[0-9]*: upstream_password_file: .* is empty" \
	"$T/t.out" || fail "-t on the sample: $(cat "$T/t.out")"
log "user parkblf (uid $uid), state and log directories, empty password 0600, 2 conffiles, unit enabled not started, -t refuses the sample"

# The admin configures it: the PBX, its password, a listen address
start_fakepbx -p "Deb-pw.9"
PB_PORT=$(free_port)
conf=/etc/parkblf/parkblf.conf
echo "Deb-pw.9" >"$pw"
sed -i -e "s|^upstream_uri.*|upstream_uri sip:any-dn@127.0.0.1:$PBX_PORT|" \
	-e "s|^sip_listen.*|sip_listen 127.0.0.1:$PB_PORT|" "$conf"
printf '%s\n' "state_db /var/lib/parkblf/subscriptions.db" \
	"upstream_capture /var/log/parkblf/capture.txt" "log_level debug" \
	>>"$conf"
/usr/sbin/parkblf -t -f "$conf" >"$T/t.out" 2>&1 ||
	fail "-t on the configured file: $(cat "$T/t.out")"

# unit_values KEY: KEY's values in the unit and its drop-ins, in order
unit_values() {
	cat "$unit" /lib/systemd/system/parkblf.service.d/*.conf \
		/etc/systemd/system/parkblf.service.d/*.conf 2>/dev/null |
		sed -n "s/^$1=//p"
}
# unit_value KEY: the one in force (the last)
unit_value() { unit_values "$1" | tail -n 1; }
user=$(unit_value User)
[ "$user" = parkblf ] || fail "the unit's User= is '$user'"
[ "$(unit_value DynamicUser)" = no ] || fail "the drop-in keeps DynamicUser"

# unit_journal: what the unit logged since the test started it
unit_journal() {
	journalctl -u parkblf --since "@$since" -o cat --no-pager
}
if [ "$SYSTEMD" = yes ]; then
	how="systemctl start"
	since=$(date +%s)
	systemctl start parkblf ||
		fail "systemctl start parkblf: $(unit_journal | tail -n 20)"
	# a stop in the clean-up, also on failure (before the purge)
	stop_unit() { systemctl stop parkblf 2>/dev/null; return 0; }
	CLEANUP_HOOKS=(stop_unit "${CLEANUP_HOOKS[@]}")
	journalctl -u parkblf --since "@$since" -f -o cat \
		>"$T/parkblf.log" 2>&1 &
	PIDS+=($!)
	[ "$(systemctl is-active parkblf)" = active ] ||
		fail "systemctl is-active: $(systemctl is-active parkblf)"
	PB_PID=$(systemctl show -p MainPID --value parkblf)
	[ "$PB_PID" -gt 1 ] 2>/dev/null || fail "MainPID '$PB_PID'"
	[ "$(cat "/proc/$PB_PID/comm")" = parkblf ] ||
		fail "MainPID $PB_PID is $(cat "/proc/$PB_PID/comm")"
else
	# As systemd runs the unit: a fresh environment with the
	# directories it makes and the credential it copies, the unit's
	# user and umask, the rest of the file system read-only
	how="the unit's ExecStart as $user"
	creds=$T/creds
	mkdir -p "$creds"
	# a directory: each file F as the credential NAME_F
	unit_values LoadCredential | while IFS=: read -r name path; do
		if [ -d "$path" ]; then
			for f in "$path"/*; do
				[ -f "$f" ] && install -m 400 -o "$user" "$f" \
					"$creds/${name}_${f##*/}"
			done
		else
			install -m 400 -o "$user" "$path" "$creds/$name"
		fi
	done
	chown "$user" "$creds"
	chmod 500 "$creds"
	chmod 711 "$T"
	sandbox=yes
	unshare -m true 2>/dev/null || sandbox=no
	[ "$(unit_value ProtectSystem)" = strict ] || sandbox=no
	# as_unit COMMAND...: exec'd, so that $! is parkblf
	as_unit() {
		local run=(setpriv --reuid="$user" --regid="$user"
			--init-groups env -i
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
			CREDENTIALS_DIRECTORY="$creds"
			STATE_DIRECTORY=/var/lib/parkblf
			LOGS_DIRECTORY=/var/log/parkblf "$@")
		umask "$(unit_value UMask)"
		if [ "$sandbox" = yes ]; then
			exec unshare -m sh -c 'mount --make-rprivate / &&
				for d in /var/lib/parkblf /var/log/parkblf "$0"; do
					mount --bind "$d" "$d" || exit 1
				done &&
				mount -o remount,bind,ro / && exec "$@"' \
				"$T" "${run[@]}"
		fi
		exec "${run[@]}"
	}
	read -r -a pre <<<"$(unit_value ExecStartPre)"
	read -r -a start <<<"$(unit_value ExecStart)"
	[ "${pre[*]}" = "/usr/sbin/parkblf -t -f $conf" ] ||
		fail "ExecStartPre=${pre[*]}"
	(as_unit "${pre[@]}") >"$T/t.out" 2>&1 ||
		fail "ExecStartPre: $(cat "$T/t.out")"
	grep -q warning "$T/t.out" && fail "ExecStartPre: $(cat "$T/t.out")"
	as_unit "${start[@]}" >>"$T/parkblf.log" 2>&1 &
	PB_PID=$!
	# stopped (SIGTERM, exit 0) before the purge, also on failure
	DAEMONS+=("$PB_PID:parkblf")
	how="$how (sandbox: $sandbox)"
fi
wait_for 10 grep -q "sip: listening on 127.0.0.1:$PB_PORT" \
	"$T/parkblf.log" || fail "parkblf did not listen on $PB_PORT"
wait_upstream_up
[ "$(ps -o user= -p "$PB_PID")" = parkblf ] ||
	fail "parkblf runs as $(ps -o user= -p "$PB_PID")"
grep -q "Deb-pw" "$T/parkblf.log" && fail "the password was logged"
log "started by $how: listening, link up with the password file"

# The unit's sandbox, as the running daemon has it (systemd applied it,
# and parkblf works under it): only CAP_NET_BIND_SERVICE, no new
# privileges, a seccomp filter, the file system read-only but for its
# state and log directories (ProtectSystem=strict, StateDirectory=,
# LogsDirectory=), no /home, a /tmp of its own, the password only as a
# credential
if [ "$SYSTEMD" = yes ]; then
	st=/proc/$PB_PID/status
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "NoNewPrivs: $(grep NoNewPrivs "$st")"
	grep -q '^Seccomp:[[:space:]]*2$' "$st" || fail "no seccomp filter: $(grep Seccomp "$st")"
	# CAP_NET_BIND_SERVICE is bit 10
	for c in CapEff CapPrm CapBnd; do
		grep -q "^$c:[[:space:]]*0000000000000400$" "$st" ||
			fail "$c: $(grep "^$c" "$st") (want cap_net_bind_service only)"
	done
	# in its mount namespace (as root, so only a read-only mount stops
	# a write)
	in_unit() { nsenter -t "$PB_PID" -m -- "$@"; }
	for d in /etc/parkblf /etc /usr /var/lib /var; do
		in_unit touch "$d/.parkblf-probe" 2>/dev/null &&
			in_unit rm -f "$d/.parkblf-probe" &&
			fail "$d is writable for the service (ProtectSystem=strict)"
	done
	for d in /var/lib/parkblf /var/log/parkblf; do
		in_unit touch "$d/.probe" && in_unit rm "$d/.probe" ||
			fail "$d is not writable for the service"
	done
	in_unit ls /home 2>/dev/null | grep -q . &&
		fail "/home is visible to the service (ProtectHome)"
	in_unit touch /tmp/.parkblf-probe || fail "no /tmp for the service"
	[ ! -e /tmp/.parkblf-probe ] || fail "PrivateTmp: the service's /tmp is the host's"
	in_unit rm /tmp/.parkblf-probe
	creds=$(tr '\0' '\n' <"/proc/$PB_PID/environ" |
		sed -n 's/^CREDENTIALS_DIRECTORY=//p')
	[ -n "$creds" ] || fail "no CREDENTIALS_DIRECTORY in the service's environment"
	[ "$(in_unit cat "$creds/upstream_password")" = "Deb-pw.9" ] ||
		fail "no credential upstream_password in $creds"
	[ "$(in_unit stat -c '%U %a' "$creds/upstream_password")" = "parkblf 400" ] ||
		fail "credential: $(in_unit stat -c '%U %a' "$creds/upstream_password")"
	log "sandbox in force: CapEff cap_net_bind_service only, NoNewPrivs, seccomp," \
		"read-only but /var/lib/parkblf and /var/log/parkblf, private /tmp," \
		"the password as credential in $creds"
fi

# A lamp: a phone on park-1 sees the orbit idle, then the parked caller
start_phone p1 park-1 QUIET_MS=2000
expect_last p1 '<state>terminated</state>'
pbx park '*00' c1 +4930111 'Alice Deb' >/dev/null
expect_last p1 '<state>confirmed</state>'
[ "$(last_callers p1)" = "+4930111 Alice Deb" ] ||
	fail "p1: caller '$(last_callers p1)': $(last_notify p1)"
phone_done p1
for f in /var/lib/parkblf/subscriptions.db /var/log/parkblf/capture.txt; do
	[ "$(stat -c %U "$f" 2>/dev/null)" = parkblf ] ||
		fail "$f: $(stat -c '%U %a' "$f" 2>&1)"
done
log "park-1 lit for +4930111 Alice Deb; state_db and capture written by parkblf"

# systemctl reload: SIGHUP to the same process, which reloads its map
if [ "$SYSTEMD" = yes ]; then
	systemctl reload parkblf ||
		fail "systemctl reload: $(unit_journal | tail -n 20)"
	wait_for 10 grep -q "reload: /etc/parkblf/orbits.conf: SIGHUP" \
		"$T/parkblf.log" || fail "no reload on systemctl reload"
	[ "$(systemctl show -p MainPID --value parkblf)" = "$PB_PID" ] ||
		fail "systemctl reload restarted parkblf"
	[ "$(systemctl is-active parkblf)" = active ] ||
		fail "after reload: $(systemctl is-active parkblf)"
	start_phone p2 park-1 QUIET_MS=1000
	expect_last p2 '<state>confirmed</state>'
	phone_done p2
	log "systemctl reload: SIGHUP, map reloaded, same process, park-1 still lit"
fi

# A second PBX as a tenant, its password in the credentials directory
# (/etc/parkblf/credentials/b.password): no drop-in, a restart.  A
# tenant added later with its password file: reload names the missing
# credential and says to restart (credentials are read at start).
ADMIN_FILES=()
if [ "$SYSTEMD" = yes ]; then
	PORT_A=$PBX_PORT CTL_A=$PBX_CTL
	start_fakepbx -p "Tenant-B.7"
	PORT_B=$PBX_PORT CTL_B=$PBX_CTL
	PBX_PORT=$PORT_A PBX_CTL=$CTL_A
	td=/etc/parkblf/tenants.d
	mkdir -p "$td"
	printf 'park-1 *00\n' >"$td/b.map"
	# tenant NAME PORT: tenants.d/NAME.conf, its password NAME.password
	tenant() {
		printf '%s\n' "upstream_uri sip:any-dn@127.0.0.1:$2" \
			"upstream_user 9999" "upstream_password_file $1.password" \
			"orbit_map b.map" "tenant_domain $1.example" >"$td/$1.conf"
	}
	tenant b "$PORT_B"
	install -m 600 /dev/null /etc/parkblf/credentials/b.password
	echo "Tenant-B.7" >/etc/parkblf/credentials/b.password
	echo "tenants_dir tenants.d" >>"$conf"
	ADMIN_FILES=("$td/b.conf" "$td/b.map" "$td/c.conf"
		/etc/parkblf/credentials/b.password
		/etc/parkblf/credentials/c.password)
	systemctl restart parkblf ||
		fail "systemctl restart: $(unit_journal | tail -n 20)"
	PB_PID=$(systemctl show -p MainPID --value parkblf)
	wait_for 15 grep -q "link [a-z]* -> up (sip:any-dn@127.0.0.1:$PORT_B)" \
		"$T/parkblf.log" || fail "tenant b: no link up with its password"
	wait_upstream_up 3
	grep -q "Tenant-B" "$T/parkblf.log" && fail "tenant b's password was logged"
	PHONE_DOMAIN=b.example start_phone pb park-1 QUIET_MS=2000
	expect_last pb '<state>terminated</state>'
	PBX_CTL=$CTL_B pbx park '*00' cb +4930222 'Bob Tenant' >/dev/null
	expect_last pb '<state>confirmed</state>'
	[ "$(last_callers pb)" = "+4930222 Bob Tenant" ] ||
		fail "pb: caller '$(last_callers pb)': $(last_notify pb)"
	phone_done pb
	log "tenant b: its password from credentials/b.password (credential" \
		"credentials_b.password), no drop-in; park-1@b.example lit for Bob Tenant"

	tenant c "$PORT_B"
	install -m 600 /dev/null /etc/parkblf/credentials/c.password
	echo "Tenant-B.7" >/etc/parkblf/credentials/c.password
	systemctl reload parkblf || fail "systemctl reload with tenant c"
	wait_for 10 grep -q "tenants.d/c.conf:3: upstream_password_file: parkblf.service passes no credential 'c.password': put the file in the credentials directory .* and restart parkblf (credentials are read at start)" \
		"$T/parkblf.log" || fail "tenant c on reload: $(grep c.conf "$T/parkblf.log")"
	[ "$(systemctl is-active parkblf)" = active ] || fail "tenant c broke parkblf"
	log "tenant c added with its password, reload: refused, 'restart parkblf' named"
fi

# Installed again (as an upgrade runs the postinst): the admin's config
# and password, the user and the state stay as they are
cp "$conf" "$T/conf.edited"
[ "$SYSTEMD" = yes ] && PB_PID=$(systemctl show -p MainPID --value parkblf)
$APT install --reinstall "$deb" >>"$T/apt.out" 2>&1 ||
	fail "apt-get install --reinstall: $(tail -n 20 "$T/apt.out")"
# the running service restarted on the new files (try-restart)
if [ "$SYSTEMD" = yes ]; then
	[ "$(systemctl is-active parkblf)" = active ] ||
		fail "after reinstall: $(systemctl is-active parkblf): $(unit_journal | tail -n 20)"
	[ "$(systemctl show -p MainPID --value parkblf)" != "$PB_PID" ] ||
		fail "reinstall did not restart the running parkblf"
	wait_upstream_up 5
	log "reinstalled while running: restarted (new MainPID), links up again"
fi
cmp -s "$conf" "$T/conf.edited" || fail "reinstall changed $conf"
[ "$(cat "$pw")" = "Deb-pw.9" ] || fail "reinstall changed $pw"
[ "$(stat -c '%U %a' "$pw")" = "root 600" ] || fail "$pw: $(stat -c '%U %a' "$pw")"
[ "$(id -u parkblf)" = "$uid" ] || fail "reinstall changed parkblf's uid"
[ -f /var/lib/parkblf/subscriptions.db ] || fail "reinstall lost state_db"
log "reinstalled: edited config, password, user and state kept"

# Stopped as systemd stops it: SIGTERM, exit 0
if [ "$SYSTEMD" = yes ]; then
	PB_PID=$(systemctl show -p MainPID --value parkblf)
	systemctl stop parkblf || fail "systemctl stop: $(unit_journal | tail -n 20)"
	r=$(systemctl show -p Result -p ExecMainCode -p ExecMainStatus parkblf |
		paste -sd ' ')
	# exited (code 1), status 0: not killed, not timed out
	[ "$r" = "Result=success ExecMainCode=1 ExecMainStatus=0" ] ||
		fail "systemctl stop: $r: $(unit_journal | tail -n 20)"
	! kill -0 "$PB_PID" 2>/dev/null || fail "parkblf $PB_PID still runs"
	[ "$(systemctl is-active parkblf)" = inactive ] ||
		fail "after stop: $(systemctl is-active parkblf)"
	log "systemctl stop: SIGTERM, exit 0, Result=success"
	# purged below while it runs: the prerm stops it
	systemctl start parkblf || fail "systemctl start again"
	PB_PID=$(systemctl show -p MainPID --value parkblf)
else
	DAEMONS=("$PBX_PID:fakepbx")
	kill -TERM "$PB_PID"
	( sleep 10; kill -KILL "$PB_PID" 2>/dev/null ) &
	dog=$!
	wait "$PB_PID"
	rc=$?
	kill "$dog" 2>/dev/null
	[ "$rc" = 0 ] || fail "parkblf exited $rc on SIGTERM"
fi

# Purged: nothing left behind
$APT purge parkblf >>"$T/apt.out" 2>&1 ||
	fail "apt-get purge: $(tail -n 20 "$T/apt.out")"
INSTALLED=
if [ "$SYSTEMD" = yes ]; then
	! kill -0 "$PB_PID" 2>/dev/null ||
		fail "purge left parkblf running ($PB_PID)"
	systemctl cat parkblf >/dev/null 2>&1 &&
		fail "systemd still knows parkblf.service after the purge"
fi
# the admin's own files stay (tenants, their passwords), and only they;
# then the admin removes them
if [ ${#ADMIN_FILES[@]} -gt 0 ]; then
	find /etc/parkblf -type f | sort >"$T/etc.left"
	printf '%s\n' "${ADMIN_FILES[@]}" | sort | cmp -s - "$T/etc.left" ||
		fail "purge: /etc/parkblf holds $(cat "$T/etc.left")," \
			"not just the admin's ${ADMIN_FILES[*]}"
	rm -r /etc/parkblf
fi
st=$(dpkg-query -W -f='${db:Status-Status}' parkblf 2>/dev/null)
[ -z "$st" ] || [ "$st" = not-installed ] || fail "after purge: $st"
grep -vx '/\.' "$T/files.list" | while read -r f; do
	[ -e "$f" ] && ! grep -qxF "$f" "$T/deb.before" && echo "$f"
done >"$T/left.list"
[ ! -s "$T/left.list" ] || fail "purge left what dpkg -L had: $(cat "$T/left.list")"
getent passwd parkblf && fail "purge left the user parkblf"
getent group parkblf && fail "purge left the group parkblf"
for p in /etc/parkblf /var/lib/parkblf /var/log/parkblf; do
	[ ! -e "$p" ] || fail "purge left $p: $(ls -la "$p")"
done
named_parkblf >"$T/after.list"
cmp -s "$T/before.list" "$T/after.list" ||
	fail "purge left: $(diff "$T/before.list" "$T/after.list")"
log "purged: the $(wc -l <"$T/files.list") paths, user, group, /etc/parkblf, state and logs gone; nothing named parkblf left"
