#!/bin/sh
# make deb-test: builds the Debian package (test/deb/build.sh, lintian
# included), then installs, runs and purges it (test/deb/test_deb.sh).
# It changes the machine (a package, a system user) and puts it back,
# so it needs root (CI runs as root), and it skips, saying why, on a
# machine that has a parkblf of its own: a package, a configuration or
# a user it did not make and must not purge.
#
# Usage: test/deb/deb-test.sh BUILD   (BUILD holds the fake PBX)
cd "$(dirname "$0")/../.." || exit 1
build=${1:?usage: deb-test.sh BUILD}

skip() {
	echo "SKIP deb-test: $*"
	exit 0
}

[ "$(id -u)" = 0 ] ||
	skip "needs root: it installs and purges the package (CI runs it as root)"
st=$(dpkg-query -W -f='${db:Status-Status}' parkblf 2>/dev/null)
[ -z "$st" ] || [ "$st" = not-installed ] ||
	skip "a parkblf package is on this machine (dpkg: $st); the test would replace and purge it"
for p in /etc/parkblf /var/lib/parkblf /var/log/parkblf; do
	[ ! -e "$p" ] ||
		skip "$p exists (parkblf installed by make install?); purging the test's package would remove it"
done
getent passwd parkblf >/dev/null && skip "a user parkblf exists"
getent group parkblf >/dev/null && skip "a group parkblf exists"
for c in dpkg-buildpackage dh lintian apt-get setpriv; do
	command -v "$c" >/dev/null || {
		echo "deb-test: $c missing: sh test/deps.sh installs it" >&2
		exit 1
	}
done

# Where PID 1 is systemd the test runs here; else in a box whose PID 1
# is systemd (test/deb/sdbox.sh), so that systemctl runs the unit;
# where no box can be made, here, running the unit's commands the way
# systemd would (and saying why).
t=test_deb.sh
if [ "$(ps -p 1 -o comm=)" != systemd ]; then
	why=$(bash -c '. test/deb/sdbox.sh; sdbox_why')
	if [ -z "$why" ]; then
		t=test_deb_systemd.sh
	else
		echo "NOTE deb-test: PID 1 is not systemd and no box with systemd" \
			"can be made here ($why): the unit's commands run without" \
			"systemctl"
	fi
fi

sh test/deb/build.sh "$build/deb" || exit 1
DEB_DIR=$(cd "$build/deb" && pwd) \
	test/integration/run.sh "$build" "$PWD/test/deb/$t"
