#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The Debian kernels the guests boot, as data: each kernel's image, modules
# and headers are fetched with `apt-get download` and unpacked with
# `dpkg -x` into one tree in a cache folder, never installed on the host.
# Installing linux-image-* (which linux-headers-6.12.* depends on) adds a
# boot entry to the machine, and the newest kernel may become its default:
# a test harness has no business changing how the machine boots.
#
# The tree (the "module root", GMG_MODROOT elsewhere) looks like / would:
#   ROOT/boot/vmlinuz-KVER           what guest.sh boots
#   ROOT/lib/modules/KVER/           the modules, with their depmod index
#   ROOT/lib/modules/KVER/build  ->  ROOT/usr/src/linux-headers-KVER
#                                    what the module (and DKMS) builds against
#   ROOT/usr/src, ROOT/usr/lib/linux-kbuild-*   headers and kbuild tools
# Absolute links point into ROOT, so a guest that shares the host's / finds
# them under the same path.
#
# Usage: scripts/kernel-cache.sh KVER...   fetch what is missing; print ROOT
#        scripts/kernel-cache.sh --root    print ROOT, fetch nothing
# ROOT: $GMG_KERNEL_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/kernels.
# A kernel is fetched again when apt's candidate versions of its packages
# change (a point release); unchanged, this takes a second.
set -eu

cache=${GMG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/kernels}
root=$cache/root

log() {
	echo "kernel-cache: $*" >&2
}

if [ "${1:-}" = --root ]; then
	echo "$root"
	exit 0
fi
[ $# -gt 0 ] || { echo "usage: kernel-cache.sh KVER... | --root" >&2; exit 2; }

mkdir -p "$root" "$cache/debs" "$cache/done"
# One fetch at a time; a second caller waits, then finds the work done.
exec 8>"$cache/lock"
flock 8

# The packages of KVER, with apt's candidate versions: "name=version" each.
# The headers' own dependencies that are headers or kbuild tools come too
# (linux-headers-*-common, linux-kbuild-*); compilers and linux-base are
# ordinary tools, left to deps.sh.
packages() {
	kver=$1
	image=linux-image-$kver
	# Debian 12's 6.12 image is signed; an unsigned one goes by -unsigned.
	if ! apt-cache show "$image" >/dev/null 2>&1; then
		image=linux-image-$kver-unsigned
	fi
	names="$image linux-headers-$kver"
	deps=$(apt-cache depends --no-recommends --no-suggests "linux-headers-$kver" |
		awk '$1 ~ /Depends:$/ && $2 ~ /^linux-(headers|kbuild)-/ { print $2 }')
	for n in $names $deps; do
		v=$(apt-cache policy "$n" | awk '$1 == "Candidate:" { print $2 }')
		if [ -z "$v" ] || [ "$v" = "(none)" ]; then
			log "apt knows no $n (apt-get update? is $kver still in the archive?)"
			return 1
		fi
		echo "$n=$v"
	done | sort -u
}

for kver in "$@"; do
	want=$(packages "$kver")
	if [ -f "$cache/done/$kver" ] && [ "$(cat "$cache/done/$kver")" = "$want" ] &&
	   [ -r "$root/boot/vmlinuz-$kver" ]; then
		continue
	fi
	log "fetching $kver: $(echo "$want" | tr '\n' ' ')"
	rm -f "$cache/done/$kver"
	# apt-get download writes into the current directory; as root it would
	# drop privileges to _apt, which cannot write here.
	# shellcheck disable=SC2086 # want is a word list
	(cd "$cache/debs" && apt-get -qq -o APT::Sandbox::User=root download $want)
	for pv in $want; do
		n=${pv%%=*}
		v=${pv#*=}
		# Debian file names write an epoch's ':' as '%3a'.
		deb=$(find "$cache/debs" -maxdepth 1 -name "${n}_$(echo "$v" | sed 's/:/%3a/')_*.deb" | head -n 1)
		[ -n "$deb" ] || { log "$n $v: no .deb after apt-get download"; exit 1; }
		dpkg -x "$deb" "$root"
	done
	# The flavour's Makefile includes the common headers by absolute path.
	for mk in "$root"/usr/src/linux-headers-"$kver"/Makefile; do
		sed -i "s|^include /usr/src/|include $root/usr/src/|" "$mk"
	done
	mods=$root/lib/modules/$kver
	ln -sfn "$root/usr/src/linux-headers-$kver" "$mods/build"
	rm -f "$mods/source"
	depmod -b "$root" "$kver"
	echo "$want" >"$cache/done/$kver"
	log "$kver ready in $root"
done
# The .debs have served: what stays is the unpacked tree.
rm -f "$cache"/debs/*.deb
echo "$root"
