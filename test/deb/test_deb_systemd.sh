# test_deb.sh under a real systemd: on a machine whose PID 1 is not
# systemd (this one, and CI's), a box with systemd as its PID 1
# (test/deb/sdbox.sh: PID and mount namespaces, an overlay on /) is
# booted, and test_deb.sh runs in it, where it installs the package
# with apt (the maintainer scripts talk to that systemd), starts,
# reloads and stops parkblf with systemctl, and purges it.  Nothing it
# installs reaches the host: the box's writes go to a tmpfs.
#
# Run by test/deb/deb-test.sh (make deb-test) with DEB_DIR set.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/sdbox.sh"
trap 'exit 1' INT TERM HUP

why=$(sdbox_why)
[ -z "$why" ] || fail "no box for systemd here: $why"
# the package and the sources seen in the box wherever they are (a
# clone in /tmp too: the box's /tmp is its own)
sdbox_start "$T" "$SRC" "$BUILD" "${DEB_DIR:?}"
log "systemd $(sdbox systemctl --version | awk 'NR == 1 { print $2 }')" \
	"booted as PID 1 of a box (host PID $SDBOX_PID)"

# A Docker image's policy-rc.d (exit 101: no service starts, stops or
# restarts from maintainer scripts), as on this machine, is not part of
# a booted Debian: gone in the box (only there), so that the package's
# own try-restart on upgrade and stop on removal run
if [ -e /usr/sbin/policy-rc.d ]; then
	sdbox rm /usr/sbin/policy-rc.d || fail "cannot remove the box's policy-rc.d"
	log "the host's /usr/sbin/policy-rc.d ($(sed -n 's/^exit //p' \
		/usr/sbin/policy-rc.d | tail -n 1)) removed in the box"
fi

# the test in the box: its T is in ours (shared), so are its logs
mkdir "$T/in"
sdbox env T="$T/in" BUILD="$BUILD" DEB_DIR="${DEB_DIR:?}" \
	bash "$SRC/test/deb/test_deb.sh" ||
	fail "test_deb.sh in the box failed (above; its files: $T/in)"
