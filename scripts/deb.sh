#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb`: the Debian packages gomemguard-dkms_<VERSION>-1_all.deb and
# gomemctl_<VERSION>-1_<arch>.deb, in build/deb/, built with
# dpkg-buildpackage from a copy of the tree in build/deb/gomemguard-<VERSION>/
# (the packaging is debian/).  Needs no root (Rules-Requires-Root: no) and
# writes nothing outside build/deb/.  Build-Depends: see debian/control
# (scripts/deps.sh installs them).
#
# debian/changelog is not kept in the tree: it is written here, into the
# copy, from VERSION (one entry, <VERSION>-1), so the packages' version
# cannot drift from the module's and gomemctl's.  Its date is that of the
# last commit (SOURCE_DATE_EPOCH for the build), or VERSION's outside git.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
version=$(cat "$top/VERSION")
src=$out/gomemguard-$version

case $version in
[0-9]*) ;;
*) echo "deb.sh: VERSION '$version' is not a Debian upstream version" >&2; exit 1 ;;
esac

rm -rf "$out"
mkdir -p "$src"
cd "$top"
# The tree as it stands, changes not yet committed included, but none of
# its build outputs: what git tracks or would track, when this is a git
# checkout; else everything but build/.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	date=$(git log -1 --format=%ct 2>/dev/null || stat -c %Y VERSION)
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			# A tracked file deleted in the work tree is not copied.
			if [ -e "$f" ] || [ -L "$f" ]; then
				printf '%s\0' "$f"
			fi
		done | tar --null -T - -cf - | tar -xf - -C "$src"
else
	date=$(stat -c %Y VERSION)
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
fi

maint=$(sed -n 's/^Maintainer: //p' debian/control)
cat >"$src/debian/changelog" <<END
gomemguard ($version-1) unstable; urgency=medium

  * gomemguard $version, packaged from its tree by scripts/deb.sh.

 -- $maint  $(date -u -R -d "@$date")
END

cd "$src"
dpkg-buildpackage -us -uc -b
cd "$out"
ls -l ./*.deb
