#!/bin/sh
# Installs the Debian 12 packages that building, the demo and the tests
# need, if any is missing.  Needs root (or sudo) only when installing.
set -e

pkgs="make gcc pkg-config libre-dev libxml2-dev libcmocka-dev sip-tester
libsqlite3-dev libssl-dev
iproute2 procps curl jq libxml2-utils baresip-core
linphone-cli clang libclang-rt-14-dev
kamailio kamailio-presence-modules kamailio-extra-modules liblinphone-dev
nftables chromium python3-websocket
dpkg-dev debhelper lintian adduser"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	--no-install-recommends $missing
