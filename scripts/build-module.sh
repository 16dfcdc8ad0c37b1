#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build gomemguard.ko for kernel release KVER out of tree, in its own copy of
# the sources under build/k/KVER (Kbuild builds in the source directory, and
# one tree serves several kernels), with W=1 and, where sparse is installed,
# C=1.  Exits non-zero on a failed build or on any compiler or sparse
# warning; the full log is build/k/KVER/build.log.
#
# Then prepares build/k/KVER/moddep: the module plus a depmod index that
# covers it and every module of KVER, which a guest overlays on
# /lib/modules/KVER so that autoload (modprobe) finds gomemguard.
#
# KDIR and MODDIR name the build tree and the modules tree of the kernel:
# defaults ROOT/lib/modules/KVER/build and ROOT/lib/modules/KVER, ROOT the
# cache scripts/kernel-cache.sh unpacks Debian's kernels into, or / when
# KVER is not there (installed on this machine); scripts/debug-kernel.sh's
# kernel is passed by name.
#
# A kernel of another Debian suite (trixie, sid) has its headers in a build
# root of that suite (scripts/build-root.sh), since they need its compiler
# and C library: then each build runs there, with chroot, on a copy of the
# sources under the root's /tmp, and the .ko comes back here.  Everything
# else (the logs, the depmod index over the cache's modules tree) is as for
# any kernel.
set -eu

kver=${1:?usage: build-module.sh KVER}
top=$(cd "$(dirname "$0")/.." && pwd)
kroot=$("$top/scripts/kernel-cache.sh" --root)
broot=
if [ -z "${KDIR:-}" ] && broot=$("$top/scripts/build-root.sh" --find "$kver"); then
	# The headers as the root sees them; the modules from the cache.
	kdir=/usr/src/linux-headers-$kver
	moddir=${MODDIR:-$kroot/lib/modules/$kver}
	where="the build root $broot"
else
	broot=
	[ -d "$kroot/lib/modules/$kver/build" ] || kroot=
	kdir=${KDIR:-$kroot/lib/modules/$kver/build}
	moddir=${MODDIR:-$kroot/lib/modules/$kver}
	where=$kdir
fi
out=$top/build/k/$kver
log=$out/build.log

if [ -z "$broot" ] && [ ! -d "$kdir" ]; then
	echo "build-module: no kernel build tree at $kdir (scripts/deps.sh $kver fetches it;" \
		"another suite's: scripts/build-root.sh SUITE $kver)" >&2
	exit 1
fi
if [ ! -d "$moddir/kernel" ]; then
	echo "build-module: no modules of $kver at $moddir" \
		"(scripts/kernel-cache.sh [--suite SUITE] $kver fetches them)" >&2
	exit 1
fi

work=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$work" ]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$broot" ]; then
	# Shared: builds may run side by side, but build-root.sh does not
	# remake the root under them.
	exec 7>>"$broot.lock"
	flock -s 7
fi

# kbuild SRC LOG KO [MAKEARGS...]: `make modules` of the sources in SRC
# with W=1 and MAKEARGS, its output in LOG, the module copied to KO.  In a
# build root: on a copy inside the root, with an environment of its own
# (nothing of ours, such as CC or MAKEFLAGS, is meant for that compiler).
# 7.x's objtool reads /proc/self/limits: the build gets a /proc of its own,
# mounted in a mount (and PID) namespace of its own that ends with it, so
# the host never sees the mount and nothing is left to unmount if this
# script is killed.  /dev has the nodes debootstrap made.
kbuild() {
	src=$1
	blog=$2
	ko=$3
	shift 3
	if [ -z "$broot" ]; then
		make -C "$kdir" M="$src" W=1 "$@" modules >"$blog" 2>&1 || return 1
		cp "$src/kmod/gomemguard.ko" "$ko" || return 1
		return 0
	fi
	work=$(mktemp -d "$broot/tmp/gomemguard-build.XXXXXX")
	cp -r "$src" "$work/src" || return 1
	unshare --mount --pid --fork --mount-proc="$broot/proc" \
		chroot "$broot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 \
		make -C "$kdir" M="${work#"$broot"}/src" W=1 "$@" modules >"$blog" 2>&1 || return 1
	cp "$work/src/kmod/gomemguard.ko" "$ko" || return 1
	rm -rf "$work"
	work=
}

mkdir -p "$out"
rm -rf "$out/src"
mkdir -p "$out/src"
cp -r "$top/Kbuild" "$top/VERSION" "$top/kmod" "$top/include" "$out/src/"

sparse=
if [ -n "$broot" ]; then
	chroot "$broot" /bin/sh -c 'command -v sparse' >/dev/null && sparse=C=1
else
	command -v sparse >/dev/null && sparse=C=1
fi
rm -f "$out/gomemguard.ko"
# shellcheck disable=SC2086 # sparse is empty or one word
if ! kbuild "$out/src" "$log" "$out/gomemguard.ko" $sparse; then
	cat "$log" >&2
	echo "build-module: build for $kver failed (in $where)" >&2
	rm -f "$out/gomemguard.ko"
	exit 1
fi
# "Skipping BTF generation" is Debian's headers lacking vmlinux, not ours.
if grep -iE 'warning:|error:|^.*\.[ch]:[0-9]+:[0-9]+: ' "$log" >&2; then
	echo "build-module: warnings building for $kver (W=1 $sparse)" >&2
	rm -f "$out/gomemguard.ko"
	exit 1
fi

# The debug variant (GMG_DEBUG=y: knobs that widen race windows, for
# race_test.c and policy_monitor_test.sh only), from its own copy of the
# sources.
dbg=$out/debug
rm -rf "$dbg"
mkdir -p "$dbg/src"
cp -r "$top/Kbuild" "$top/VERSION" "$top/kmod" "$top/include" "$dbg/src/"
if ! kbuild "$dbg/src" "$dbg/build.log" "$dbg/gomemguard.ko" GMG_DEBUG=y ||
   grep -iE 'warning:|error:' "$dbg/build.log" >&2; then
	cat "$dbg/build.log" >&2
	echo "build-module: debug variant for $kver failed" >&2
	rm -f "$dbg/gomemguard.ko"
	exit 1
fi

# depmod over a tree whose kernel/ links to the real modules, so the index
# names every module the guest may need; the link is dropped afterwards, as
# the overlay's lower layer provides the real kernel/ directory.
dep=$out/moddep
rm -rf "$out/depmod-root" "$dep"
root=$out/depmod-root/lib/modules/$kver
mkdir -p "$root/extra"
ln -s "$moddir/kernel" "$root/kernel"
cp "$moddir"/modules.order "$moddir"/modules.builtin* "$root/"
cp "$out/gomemguard.ko" "$root/extra/"
depmod -b "$out/depmod-root" "$kver"
rm "$root/kernel"
mv "$root" "$dep"
rm -rf "$out/depmod-root"
echo "  MODULE  $kver: $out/gomemguard.ko${broot:+ (built in $broot)}"
