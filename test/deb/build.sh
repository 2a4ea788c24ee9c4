#!/bin/sh
# Builds the Debian package (debian/) with dpkg-buildpackage -us -uc -b
# in a copy of the sources (dpkg-buildpackage writes its results beside
# the source directory, and debian/ fills with build files: the tree
# stays clean), then lets lintian judge it: any error, warning or info
# tag not overridden with a reason in debian/parkblf.lintian-overrides
# fails.  DEB_BUILD_OPTIONS is honoured (nocheck skips the unit tests).
#
# Usage: test/deb/build.sh OUTDIR
# Leaves in OUTDIR: parkblf_VERSION_ARCH.deb, its -dbgsym, .changes,
# .buildinfo, build.log and lintian.txt.
set -e
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "${1:?usage: build.sh OUTDIR}"
out=$(cd "$1" && pwd)
version=$(sed -n 's/^VERSION *:= *//p' "$src/Makefile")
arch=$(dpkg --print-architecture)
stage=$out/src/parkblf-$version

rm -rf "$out/src" "$out"/parkblf*_"$version"*
mkdir -p "$stage"
# the sources as git sees them: tracked and new files, no ignored ones
# (no build trees); without git, everything but the build trees
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		tar -c --null --ignore-failed-read -T -) | tar -x -C "$stage"
else
	(cd "$src" && tar -c --exclude='./build*' --exclude=./debian/parkblf \
		--exclude=./debian/.debhelper .) | tar -x -C "$stage"
fi

echo "  DEB     $out/parkblf_${version}_$arch.deb (log: $out/build.log)"
if ! (cd "$stage" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1
then
	tail -n 40 "$out/build.log" >&2
	echo "dpkg-buildpackage failed: $out/build.log" >&2
	exit 1
fi
mv "$out/src"/parkblf*_"$version"* "$out/"
rm -rf "$out/src"

# lintian as root says it would rather not be: not a tag.  (With
# --show-overrides, lintian 2.116 counts overridden info tags as fails.)
if ! lintian --fail-on error,warning,info --display-info \
	--tag-display-limit 0 "$out/parkblf_${version}_$arch.changes" \
	>"$out/lintian.txt" 2>&1 || grep -q '^[EWI]:' "$out/lintian.txt"; then
	cat "$out/lintian.txt" >&2
	echo "lintian: tags above (override only with a reason)" >&2
	exit 1
fi
echo "  LINTIAN clean; overridden with reasons in" \
	"debian/parkblf.lintian-overrides:" \
	"$(grep -c '^parkblf:' "$src/debian/parkblf.lintian-overrides")"
