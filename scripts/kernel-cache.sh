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
#        scripts/kernel-cache.sh --suite SUITE KVER...
#                                          the same from another Debian suite
#                                          (trixie, sid), through apt state
#                                          of its own (scripts/suite-apt.sh)
#        scripts/kernel-cache.sh --root    print ROOT, fetch nothing
#
# A suite's kernel comes without its headers: they need that suite's
# compiler (gcc-14, gcc-16) and C library, so the module is built against
# them in a build root of that suite (scripts/build-root.sh), and its
# modules tree here has no build link.  Newer suites put the modules in
# /usr/lib/modules (sid also the image, as .../KVER/vmlinuz): ROOT/lib/modules/KVER
# and ROOT/boot/vmlinuz-KVER then link there, so that every user of the cache
# finds them where the older kernels are.
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
suite=
if [ "${1:-}" = --suite ]; then
	[ $# -ge 2 ] || { echo "kernel-cache.sh: --suite needs a suite" >&2; exit 2; }
	suite=$2
	shift 2
fi
[ $# -gt 0 ] || { echo "usage: kernel-cache.sh [--suite SUITE] KVER... | --root" >&2; exit 2; }

# The host's apt, or the suite's own.
here=$(cd "$(dirname "$0")" && pwd -P)
apt() {
	if [ -n "$suite" ]; then
		"$here/suite-apt.sh" "$suite" "$@"
	else
		"$@"
	fi
}

mkdir -p "$root" "$cache/debs" "$cache/done"
# One fetch at a time; a second caller waits, then finds the work done.
exec 8>"$cache/lock"
flock 8

# The packages of KVER, with apt's candidate versions: "name=version" each.
# The image's own parts come too: its dependencies named after the release
# (sid splits it into linux-binary-, linux-modules- and linux-base-KVER).
# Without a suite, so do the headers and those of their dependencies that
# are headers or kbuild tools (linux-headers-*-common, linux-kbuild-*);
# compilers and linux-base are ordinary tools, left to deps.sh.
packages() {
	kver=$1
	image=linux-image-$kver
	# Debian 12's 6.12 image is signed; an unsigned one goes by -unsigned.
	if ! apt apt-cache show "$image" >/dev/null 2>&1; then
		image=linux-image-$kver-unsigned
	fi
	names=$image
	parts=$(apt apt-cache depends --no-recommends --no-suggests "$image" |
		awk -v kver="$kver" '$1 ~ /Depends:$/ {
			n = $2; sub(/^linux-[a-z]+-/, "", n); if (n == kver) print $2 }')
	names="$names $parts"
	if [ -z "$suite" ]; then
		deps=$(apt apt-cache depends --no-recommends --no-suggests "linux-headers-$kver" |
			awk '$1 ~ /Depends:$/ && $2 ~ /^linux-(headers|kbuild)-/ { print $2 }')
		names="$names linux-headers-$kver $deps"
	fi
	for n in $names; do
		v=$(apt apt-cache policy "$n" | awk '$1 == "Candidate:" { print $2 }')
		if [ -z "$v" ] || [ "$v" = "(none)" ]; then
			log "apt${suite:+ ($suite)} knows no $n (apt-get update? is $kver still in the archive?)"
			return 1
		fi
		echo "$n=$v"
	done
}

# Where ROOT/PATH may be a link into ROOT/usr (the newer layout), make it.
link_usr() {
	to=$1
	from=$2
	if [ -e "$to" ] && [ ! -e "$from" ] && [ ! -L "$from" ]; then
		mkdir -p "$(dirname "$from")"
		ln -s "$to" "$from"
	fi
}

for kver in "$@"; do
	# Not in a pipe: a package apt does not know must stop the fetch.
	list=$(packages "$kver") || { log "cannot fetch $kver${suite:+ from $suite}"; exit 1; }
	want=$(echo "$list" | sort -u)
	if [ -f "$cache/done/$kver" ] && [ "$(cat "$cache/done/$kver")" = "$want" ] &&
	   [ -r "$root/boot/vmlinuz-$kver" ]; then
		continue
	fi
	log "fetching $kver: $(echo "$want" | tr '\n' ' ')"
	rm -f "$cache/done/$kver"
	# apt-get download writes into the current directory; as root it would
	# drop privileges to _apt, which cannot write here.
	# shellcheck disable=SC2086 # want is a word list
	(cd "$cache/debs" && apt apt-get -qq -o APT::Sandbox::User=root download $want) ||
		{ log "apt-get download failed for $kver${suite:+ from $suite}"; exit 1; }
	for pv in $want; do
		n=${pv%%=*}
		v=${pv#*=}
		# Debian file names write an epoch's ':' as '%3a'.
		deb=$(find "$cache/debs" -maxdepth 1 -name "${n}_$(echo "$v" | sed 's/:/%3a/')_*.deb" | head -n 1)
		[ -n "$deb" ] || { log "$n $v: no .deb after apt-get download"; exit 1; }
		dpkg -x "$deb" "$root"
	done
	mods=$root/lib/modules/$kver
	link_usr "$root/usr/lib/modules/$kver" "$mods"
	for f in vmlinuz config System.map; do
		link_usr "$mods/$f" "$root/boot/$f-$kver"
	done
	if [ -z "$suite" ]; then
		# The flavour's Makefile includes the common headers by absolute path.
		sed -i "s|^include /usr/src/|include $root/usr/src/|" \
			"$root/usr/src/linux-headers-$kver/Makefile"
		ln -sfn "$root/usr/src/linux-headers-$kver" "$mods/build"
	fi
	rm -f "$mods/source"
	[ -r "$root/boot/vmlinuz-$kver" ] || { log "$kver: no vmlinuz in its packages"; exit 1; }
	depmod -b "$root" "$kver"
	echo "$want" >"$cache/done/$kver"
	log "$kver ready in $root"
done
# The .debs have served: what stays is the unpacked tree.
rm -f "$cache"/debs/*.deb
echo "$root"
