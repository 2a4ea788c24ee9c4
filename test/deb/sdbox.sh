# sdbox: systemd as PID 1 of a throw-away box, for a test that needs a
# real service manager on a machine whose PID 1 is not systemd.
#
# The box is a PID, mount, UTS and IPC namespace (the network is the
# host's: loopback is shared with the test's fake PBX and phones) whose
# root is an overlay on the host's /: it sees every installed program
# and the source tree, and whatever it writes (apt, dpkg, /etc, /var)
# goes to a tmpfs that vanishes with it.  /proc/sys, /sys and
# /proc/sysrq-trigger are read-only, /dev is a small tmpfs of its own,
# /run and /tmp are fresh, the cgroup hierarchy is a cgroup2 sub-tree of
# its own (a cgroup namespace), and systemd runs without the
# capabilities a container does not get (systemd-nspawn's list: no
# CAP_NET_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME, ...), so that it cannot
# change the host.  It boots sdbox.target: basic.target (journald,
# tmpfiles, sysusers, as on a real boot) and nothing of multi-user.target
# (no Kamailio or PostgreSQL of the host); the daily timers are masked.
#
# Sourced by a test (integration lib.sh loaded, T set):
#   sdbox_start DIR...       boots it; sets SDBOX_PID (its PID 1 as the
#                            host sees it); fails saying why.  Each DIR
#                            (the test's T, a source tree or build in
#                            /tmp) is the host's, bind-mounted at the
#                            same path: writable, and seen although the
#                            box's /tmp is its own
#   sdbox CMD...             runs CMD in the box (its PID and mount
#                            namespaces, the host's environment)
#   sdbox_stop               powers it off (SIGKILL after 20 s); also run
#                            by the test's clean-up, on failure too
# sdbox_why: why a box cannot be made here (empty: it can), e.g. for a
# skip message.

SDBOX_PID=
SDBOX_CG=
SDBOX_UNSHARE=

# The host's cgroup2 hierarchy: the whole of /sys/fs/cgroup (unified),
# or the "unified" of a hybrid set-up (as on the Debian 12 VMs here)
sdbox_cgroot() {
	local d
	for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] &&
			{ echo "$d"; return 0; }
	done
	return 1
}

sdbox_why() {
	local c
	[ "$(id -u)" = 0 ] || { echo "not root"; return; }
	[ -x /lib/systemd/systemd ] || { echo "no /lib/systemd/systemd"; return; }
	for c in unshare nsenter setpriv; do
		command -v "$c" >/dev/null || { echo "no $c"; return; }
	done
	sdbox_cgroot >/dev/null ||
		{ echo "no cgroup2 hierarchy under /sys/fs/cgroup"; return; }
	grep -qw overlay /proc/filesystems ||
		modprobe overlay 2>/dev/null ||
		{ echo "no overlay file system in this kernel"; return; }
	unshare --pid --mount --cgroup --fork true 2>/dev/null ||
		{ echo "unshare --pid --mount --cgroup: $(unshare --pid \
			--mount --cgroup --fork true 2>&1)"; return; }
}

# Runs inside the new namespaces (unshare's child, the box's PID 1 to
# be): builds the root, pivots into it, execs systemd
sdbox_init() {
	local base=$1 r n
	shift
	set -e
	mount --make-rprivate /
	mount -t tmpfs -o mode=700 sdbox "$base"
	mkdir "$base/upper" "$base/work" "$base/root"
	r=$base/root
	mount -t overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" \
		sdbox "$r"
	mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
	for n in sys sysrq-trigger; do
		[ -e "$r/proc/$n" ] || continue
		mount --bind "$r/proc/$n" "$r/proc/$n"
		mount -o remount,bind,ro "$r/proc/$n"
	done
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
	mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$r/sys/fs/cgroup"
	mount -t tmpfs -o mode=755,nosuid dev "$r/dev"
	for n in null zero full random urandom tty; do
		touch "$r/dev/$n"
		mount --bind "/dev/$n" "$r/dev/$n"
	done
	# systemd's console: nowhere (its messages are in the journal)
	touch "$r/dev/console"
	mount --bind /dev/null "$r/dev/console"
	mkdir "$r/dev/pts" "$r/dev/shm" "$r/dev/mqueue"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$r/dev/pts"
	ln -s pts/ptmx "$r/dev/ptmx"
	mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"
	ln -s /proc/self/fd "$r/dev/fd"
	ln -s /proc/self/fd/0 "$r/dev/stdin"
	ln -s /proc/self/fd/1 "$r/dev/stdout"
	ln -s /proc/self/fd/2 "$r/dev/stderr"
	mount -t tmpfs -o mode=755,nosuid,nodev run "$r/run"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$r/tmp"
	# the host's, at the same paths (outer ones first)
	printf '%s\n' "$@" | awk '{ print length, $0 }' | sort -n |
		cut -d' ' -f2- | while IFS= read -r n; do
			mkdir -p "$r$n"
			mount --bind "$n" "$r$n"
		done

	# what it boots, and what it must not start
	mkdir -p "$r/run/systemd/system"
	cat >"$r/run/systemd/system/sdbox.target" <<-EOF
	[Unit]
	Description=parkblf test box (basic.target, no multi-user.target)
	Requires=basic.target
	After=basic.target
	EOF
	for n in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
		e2scrub_all.timer fstrim.timer man-db.timer \
		systemd-tmpfiles-clean.timer; do
		ln -s /dev/null "$r/run/systemd/system/$n"
	done

	cd "$r"
	mkdir -p run/sdbox.old
	pivot_root . run/sdbox.old
	umount -l /run/sdbox.old
	rmdir /run/sdbox.old
	# shared inside the box (its peers are its own: the host's mounts
	# were made private above), as a container manager leaves it for
	# systemd: a service's credentials are mounted in a child mount
	# namespace and reach systemd's by propagation
	mount --make-rshared /
	cd /
	exec setpriv --bounding-set -net_admin,-sys_module,-sys_time,-sys_rawio,-syslog,-wake_alarm,-mac_admin,-mac_override,-block_suspend,-sys_pacct,-ipc_lock,-audit_read,-bpf,-perfmon \
		env -i container=sdbox \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/lib/systemd/systemd --unit=sdbox.target
}

sdbox_start() {
	local cgroot state i d shared=()
	for d in "$@"; do
		shared+=("$(cd "$d" && pwd -P)") || fail "sdbox: no directory $d"
	done
	SDBOX_BASE=$T/sdbox
	mkdir -p "$SDBOX_BASE"
	cgroot=$(sdbox_cgroot) || fail "sdbox: no cgroup2 hierarchy"
	SDBOX_CG=$cgroot/parkblf-sdbox.$$
	mkdir "$SDBOX_CG" || fail "sdbox: cannot make the cgroup $SDBOX_CG"
	CLEANUP_HOOKS+=(sdbox_stop)
	# unshare in its own cgroup, which the cgroup namespace makes the
	# box's root: the box's systemd sees only its own sub-tree
	(
		echo "$BASHPID" >"$SDBOX_CG/cgroup.procs" || exit 1
		exec unshare --pid --mount --uts --ipc --cgroup --fork \
			--kill-child bash -c "$(declare -f sdbox_init); sdbox_init \"\$@\"" \
			sdbox "$SDBOX_BASE" "${shared[@]}"
	) >"$T/sdbox.out" 2>&1 &
	SDBOX_UNSHARE=$!
	for i in $(seq 1 100); do
		SDBOX_PID=$(cat "/proc/$SDBOX_UNSHARE/task/$SDBOX_UNSHARE/children" \
			2>/dev/null | awk '{ print $1 }')
		[ -n "$SDBOX_PID" ] &&
			[ "$(cat "/proc/$SDBOX_PID/comm" 2>/dev/null)" = systemd ] &&
			break
		kill -0 "$SDBOX_UNSHARE" 2>/dev/null ||
			fail "sdbox: the box did not start: $(cat "$T/sdbox.out")"
		SDBOX_PID=
		sleep 0.1
	done
	[ -n "$SDBOX_PID" ] || fail "sdbox: no systemd after 10 s: $(cat "$T/sdbox.out")"
	wait_for 30 sdbox test -S /run/systemd/private ||
		fail "sdbox: systemd made no /run/systemd/private in 30 s"
	# booted: running, or degraded (a unit of basic.target failed; the
	# test judges its own unit)
	state=$(timeout 60 nsenter -t "$SDBOX_PID" -m -p \
		systemctl is-system-running --wait 2>&1)
	case $state in
	running) ;;
	degraded)
		log "sdbox: degraded: $(sdbox systemctl --failed --plain \
			--no-legend | awk '{ print $1 }' | paste -sd ' ')" ;;
	*) fail "sdbox: systemd did not boot ($state): $(cat "$T/sdbox.out")" ;;
	esac
}

# sdbox CMD...: in the box's PID and mount (and UTS, IPC) namespaces
sdbox() {
	nsenter -t "$SDBOX_PID" -m -p -u -i -- "$@"
}

sdbox_stop() {
	local i
	[ -n "$SDBOX_UNSHARE" ] || return 0
	if [ -n "$SDBOX_PID" ] && kill -0 "$SDBOX_PID" 2>/dev/null; then
		timeout 10 nsenter -t "$SDBOX_PID" -m -p \
			systemctl poweroff --no-block >/dev/null 2>&1
		for i in $(seq 1 200); do
			kill -0 "$SDBOX_UNSHARE" 2>/dev/null || break
			sleep 0.1
		done
	fi
	# PID 1 killed: the kernel kills everything in the box
	if kill -0 "$SDBOX_UNSHARE" 2>/dev/null; then
		echo "sdbox: no power-off in 20 s: SIGKILL" >&2
		[ -n "$SDBOX_PID" ] && kill -KILL "$SDBOX_PID" 2>/dev/null
		kill -KILL "$SDBOX_UNSHARE" 2>/dev/null
	fi
	wait "$SDBOX_UNSHARE" 2>/dev/null
	SDBOX_UNSHARE=
	# the box's cgroups, deepest first (empty once its processes are gone)
	for i in $(seq 1 50); do
		[ -d "$SDBOX_CG" ] || break
		find "$SDBOX_CG" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$SDBOX_CG" ] && sleep 0.1
	done
	[ ! -d "$SDBOX_CG" ] || echo "sdbox: cannot remove $SDBOX_CG" >&2
	return 0
}
