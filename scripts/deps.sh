#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages needed to build gomemguard and run its
# QEMU-based tests, then fetch the guests' kernels (image, modules, headers)
# into a cache with scripts/kernel-cache.sh: no kernel is installed on the
# host, so its boot menu and /lib/modules stay as they were. Idempotent: when
# everything is present it only asks dpkg (and the cache) and exits, without
# touching apt.
#
# Usage: scripts/deps.sh [--kernel-build] [KVER...]
#   KVER defaults to the output of selftests/vm/kernels.sh (which honours
#   KVERS="r1 r2"). Needs root when something is missing.
#   --kernel-build: also what building a kernel takes (make check-debug).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
kernels_sh="$here/../selftests/vm/kernels.sh"

export DEBIAN_FRONTEND=noninteractive

# debootstrap: the core tier's build roots (scripts/build-root.sh).
# python3, man-db, groff-base, systemd, util-linux: what tests use that a
# minimal Debian 12 image lacks (YAML and JSON checks, man page rendering
# and lexgrog, systemd-analyze verify of the monitor's unit, setpriv); a
# test without them would skip, and a skip fails make check.
# gcc-12 and pahole: what the kernel headers and kbuild tools in the cache
# depend on (linux-compiler-gcc-12-x86, linux-kbuild-6.12's pahole for the
# module's BTF), installed as the ordinary tools they are.
BASE_PKGS="build-essential gcc-12 pahole pkg-config libnl-genl-3-dev libjson-c-dev libinih-dev
qemu-system-x86 qemu-system-common busybox-static cpio kmod xz-utils dkms sparse golang-1.19-go
linux-source-6.12 e2fsprogs python3-yaml python3-jsonschema prometheus
debhelper dh-dkms lintian debootstrap python3 man-db groff-base systemd util-linux"
KERNEL_BUILD_PKGS="bc bison flex libelf-dev libssl-dev"

pkgs=$BASE_PKGS
if [ "${1:-}" = --kernel-build ]; then
	pkgs="$pkgs $KERNEL_BUILD_PKGS"
	shift
fi

updated=0
apt_update() {
	if [ "$updated" -eq 0 ]; then
		echo "deps.sh: apt-get update"
		apt-get -qq update
		updated=1
	fi
}

if [ $# -gt 0 ]; then
	kvers="$*"
elif ! kvers=$(KERNELS_NO_UPDATE=1 "$kernels_sh" 2>/dev/null); then
	# A fresh machine has empty apt lists: update once, here, so that the
	# install below does not need a second update.
	apt_update
	kvers=$("$kernels_sh")
fi

# dpkg-query prints nothing for unknown packages and "ii " for installed ones.
# shellcheck disable=SC2086 # pkgs is a word list
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $pkgs 2>/dev/null |
	awk '$1 == "ii" { print $2 }') || true

missing=
for pkg in $pkgs; do
	if ! printf '%s\n' "$installed" | grep -qxF "$pkg"; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	# shellcheck disable=SC2086 # pkgs is a word list
	set -- $pkgs
	echo "deps.sh: all $# packages installed"
elif [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing:$missing; run as root to install" >&2
	exit 1
else
	for pkg in $missing; do
		echo "deps.sh: installing $pkg"
	done
	apt_update
	# shellcheck disable=SC2086 # missing is a word list
	apt-get -qq install -y --no-install-recommends $missing
fi

# The kernels: downloaded and unpacked, never installed (kernel-cache.sh).
# shellcheck disable=SC2086 # kvers is a word list
root=$("$here/kernel-cache.sh" $kvers)
echo "deps.sh: kernels $(echo $kvers) in $root"
