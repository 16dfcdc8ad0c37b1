#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make dkms-install`: the module's sources into DKMS, built and installed
# for the running kernel (or $DKMS_KERNEL).  Re-runnable: whatever DKMS
# holds of gomemguard -- this version, after a pull that changed the
# sources but not VERSION, or another, before an upgrade -- is removed
# first, for every kernel, and an older version's sources go too.
#
# Usage: dkms-install.sh VERSION SRCDIR, SRCDIR being /usr/src/gomemguard-
# VERSION, already laid out by `make dkms-src`.  DKMS_OPTS: more options
# for every dkms call (the tests: private trees, --no-depmod).
set -eu

version=$1
src=$2
# shellcheck disable=SC2206 # options, split as the caller wrote them
opts=(${DKMS_OPTS:-})
kernel=(-k "${DKMS_KERNEL:-$(uname -r)}")

# "gomemguard/0.1.0, 6.1.0-57-amd64, x86_64: installed" (DKMS 3) or
# "gomemguard, 0.1.0, ...: installed" (DKMS 2).
held=$(dkms status -m gomemguard "${opts[@]}" |
	sed -En 's#^gomemguard(/|, )([^,:]+).*#\2#p' | sort -u)
for v in $held; do
	echo "dkms-install: removing gomemguard $v from DKMS first"
	dkms remove -m gomemguard -v "$v" --all "${opts[@]}"
	# Its sources, unless they are the ones about to be added.
	old=$(dirname "$src")/gomemguard-$v
	[ "$v" = "$version" ] || [ ! -d "$old" ] || rm -rf "$old"
done
dkms add -m gomemguard -v "$version" "${opts[@]}"
dkms build -m gomemguard -v "$version" "${kernel[@]}" "${opts[@]}"
dkms install -m gomemguard -v "$version" "${kernel[@]}" "${opts[@]}"
