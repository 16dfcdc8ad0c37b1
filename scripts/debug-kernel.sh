#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) the debug kernel of `make check-debug`: Debian's
# linux-source-6.12 with KASAN, lockdep, atomic-sleep checks, kmemleak and
# debug objects (selftests/vm/debug.config on top of x86_64_defconfig and
# kvm_guest.config).
#
# The build lives outside the repository, in
#   ${GMG_DEBUG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/debug-kernel}/KEY
# where KEY hashes the fragment, the source package and the compiler, so a
# change to any of them builds anew and an unchanged one is reused in
# seconds.  KEY/src is the configured, built tree (`make -C KEY/src M=...`
# builds modules against it), KEY/mods/lib/modules/RELEASE its installed
# modules and depmod data, KEY/build.log the log, KEY/build-seconds how long
# the build took.
#
# Prints "RELEASE DIR" on stdout (DIR = KEY); progress goes to stderr.
# Usage: scripts/debug-kernel.sh   (no arguments)
set -eu

# One brace group, parsed before it runs: editing this file during a build
# (which takes long) cannot upset it.
{

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${GMG_DEBUG_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
fragment=$top/selftests/vm/debug.config
cache=${GMG_DEBUG_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/debug-kernel}

log() {
	echo "debug-kernel: $*" >&2
}

[ $# -eq 0 ] || { echo "usage: debug-kernel.sh" >&2; exit 2; }
[ -r "$tarball" ] || { log "$tarball missing (apt-get install linux-source-6.12)"; exit 1; }

# What the build depends on besides the fragment: the exact source (the
# package version, or the tarball's size and date if dpkg does not know it)
# and the compiler that builds it and, later, the module.
srcid=$(dpkg-query -W -f='${Package} ${Version}' linux-source-6.12 2>/dev/null) ||
	srcid=$(stat -c '%s %Y' "$tarball")
key=$({
	cat "$fragment"
	echo "$srcid"
	gcc --version | head -n 1
} | sha256sum | cut -c 1-16)
dir=$cache/$key
src=$dir/src
mkdir -p "$dir"

# One build per key at a time; a second caller waits and then finds it done.
exec 8>"$dir/lock"
if ! flock -n 8; then
	log "waiting for another build in $dir"
	flock 8
fi

if [ -f "$dir/complete" ]; then
	read -r release <"$dir/complete"
	echo "$release $dir"
	exit 0
fi

t0=$(date +%s)
buildlog=$dir/build.log
: >"$buildlog"

run() {
	if ! "$@" >>"$buildlog" 2>&1; then
		tail -n 40 "$buildlog" >&2
		log "failed: $* (full log: $buildlog)"
		exit 1
	fi
}

if [ ! -f "$dir/extracted" ]; then
	log "extracting $tarball into $dir"
	rm -rf "$src" "$dir/extract.tmp"
	mkdir -p "$dir/extract.tmp"
	run tar -xf "$tarball" -C "$dir/extract.tmp"
	mv "$dir/extract.tmp/$(basename "$tarball" .tar.xz)" "$src"
	rm -rf "$dir/extract.tmp"
	: >"$dir/extracted"
fi

if [ ! -f "$dir/configured" ]; then
	log "configuring"
	rm -f "$src/.config"
	run make -C "$src" x86_64_defconfig
	run env -C "$src" scripts/kconfig/merge_config.sh -m .config \
		kernel/configs/kvm_guest.config "$fragment"
	run make -C "$src" olddefconfig
	# merge_config only warns when a value does not take: fail instead.
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*}
			grep -qxF "$line" "$src/.config" && continue
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -qE "^$sym=" "$src/.config" || continue
			;;
		*) continue ;;
		esac
		log "config: '$line' did not take; .config has: $(grep -E "(^|# )${sym}[= ]" "$src/.config" || echo nothing)"
		bad=1
	done <"$fragment"
	[ "$bad" = 0 ] || { log "fix $fragment"; exit 1; }
	: >"$dir/configured"
fi

log "building in $src with $(nproc) jobs (log: $buildlog)"
run nice -n 19 make -C "$src" -j"$(nproc)" bzImage modules
# Known only once the build has synced the configuration (LOCALVERSION).
read -r release <"$src/include/config/kernel.release"
rm -rf "$dir/mods"
run make -C "$src" modules_install INSTALL_MOD_PATH="$dir/mods" DEPMOD=/sbin/depmod
# depmod data must exist even if the configuration builds no module.
[ -e "$dir/mods/lib/modules/$release/modules.dep.bin" ] ||
	run /sbin/depmod -b "$dir/mods" "$release"

secs=$(($(date +%s) - t0))
echo "$secs" >"$dir/build-seconds"
echo "$release" >"$dir/complete"
log "built $release in ${secs} s: $src/arch/x86/boot/bzImage"
echo "$release $dir"
exit 0
}
