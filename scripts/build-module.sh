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
set -eu

kver=${1:?usage: build-module.sh KVER}
top=$(cd "$(dirname "$0")/.." && pwd)
kroot=$("$top/scripts/kernel-cache.sh" --root)
[ -d "$kroot/lib/modules/$kver/build" ] || kroot=
kdir=${KDIR:-$kroot/lib/modules/$kver/build}
moddir=${MODDIR:-$kroot/lib/modules/$kver}
out=$top/build/k/$kver
log=$out/build.log

if [ ! -d "$kdir" ]; then
	echo "build-module: no kernel build tree at $kdir (scripts/deps.sh $kver fetches it)" >&2
	exit 1
fi

mkdir -p "$out"
rm -rf "$out/src"
mkdir -p "$out/src"
cp -r "$top/Kbuild" "$top/VERSION" "$top/kmod" "$top/include" "$out/src/"

sparse=
command -v sparse >/dev/null && sparse=C=1
if ! make -C "$kdir" M="$out/src" W=1 $sparse modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: build for $kver failed" >&2
	exit 1
fi
# "Skipping BTF generation" is Debian's headers lacking vmlinux, not ours.
if grep -iE 'warning:|error:|^.*\.[ch]:[0-9]+:[0-9]+: ' "$log" >&2; then
	echo "build-module: warnings building for $kver (W=1 $sparse)" >&2
	exit 1
fi
cp "$out/src/kmod/gomemguard.ko" "$out/gomemguard.ko"

# The debug variant (GMG_DEBUG=y: knobs that widen race windows, for
# selftests/race_test.c only), from its own copy of the sources.
dbg=$out/debug
rm -rf "$dbg"
mkdir -p "$dbg/src"
cp -r "$top/Kbuild" "$top/VERSION" "$top/kmod" "$top/include" "$dbg/src/"
if ! make -C "$kdir" M="$dbg/src" W=1 GMG_DEBUG=y modules >"$dbg/build.log" 2>&1 ||
   grep -iE 'warning:|error:' "$dbg/build.log" >&2; then
	cat "$dbg/build.log" >&2
	echo "build-module: debug variant for $kver failed" >&2
	exit 1
fi
cp "$dbg/src/kmod/gomemguard.ko" "$dbg/gomemguard.ko"

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
echo "  MODULE  $kver: $out/gomemguard.ko"
