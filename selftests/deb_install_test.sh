#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, as root: the packages `make deb` built on the host
# (build/deb/; the checkout is read-only here) are installed as the README
# says, `apt-get install ./gomemguard-dkms_*.deb ./gomemctl_*.deb`; DKMS
# must build and install the module for this kernel, the monitor's unit must
# be installed but neither enabled nor running, the packaged gomemctl's
# first call must load the module by autoload; after `modprobe -r` and
# `apt-get purge` nothing of either package may be left.
#
# The guest's root is the host's, read-only over 9p: nothing can be
# installed on it.  The packages are installed in a chroot of an overlay
# of / whose upper layer is a tmpfs of its own (under /tmp: overlayfs
# refuses an upper layer on the lower layer's filesystem): apt, dpkg, DKMS
# and depmod write there only, and it is all gone when the test ends.  The kernel's own
# module requests run /sbin/modprobe on the real root, which knows nothing
# of the chroot: while the module is loaded, the chroot's /lib/modules/KVER
# is bound over the real one (as dkms_load_test.sh lays its DKMS tree over
# it).  The kernel headers DKMS builds against are the ones the guest's
# /lib/modules/KVER/build names: Debian's, unpacked by scripts/deps.sh into
# the host's cache (scripts/kernel-cache.sh), or installed on the host.
#
# apt works offline here because every dependency (dkms, libnl-genl-3-200,
# libjson-c5) is installed already, on the host root the guest sees: it has
# nothing to fetch.  (apt's --no-download would say so, but it refuses
# local .deb files: "Pathname to install is not absolute".)  A missing
# dependency fails the install at once: the guest has no network.
#
# DKMS compiles the module under TCG, for this guest's kernel only (the
# other kernels' headers are hidden in the overlay): about 10 minutes.
# make check runs it on its first kernel, stage KVER:deb
# (selftests/guest-deb.sh).  By hand:
#   make deb && selftests/vm/guest.sh --timeout 1800 KVER -- selftests/deb_install_test.sh
#
# GMG_DEB_NO_MODULE=1: install and purge only, without loading anything or
# mounting outside the chroot, for a dry run on a host that cannot load
# modules; run it in a mount namespace of its own, naming a kernel whose
# headers are installed:
#   unshare -m --propagation private env GMG_DEB_NO_MODULE=1 GMG_DEB_KVER=6.12.118+deb12-amd64 \
#       selftests/deb_install_test.sh
top=$(cd "$(dirname "$0")/.." && pwd)
ksft=$top/build/ksrc/tools/testing/selftests
# shellcheck source=/dev/null
. "$ksft/kselftest/ktap_helpers.sh"

version=$(cat "$top/VERSION")
arch=$(dpkg --print-architecture)
kver=${GMG_DEB_KVER:-$(uname -r)}
no_module=${GMG_DEB_NO_MODULE:-0}
debs=("$top/build/deb/gomemguard-dkms_${version}-1_all.deb"
      "$top/build/deb/gomemctl_${version}-1_${arch}.deb")
pkgs=(gomemguard-dkms gomemctl)
mods=/lib/modules/$kver
# mountinfo and /proc/mounts name a mount point by its real path:
# /usr/lib/modules/KVER on a merged /usr.
mods_real=$(realpath -m "$mods")
scratch=$(mktemp -d /tmp/gmg-deb.XXXXXX)
root=$scratch/root
modules_bound=0
gmg_modules=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ "$modules_bound" = 0 ] || umount "$mods"
	[ "$gmg_modules" = 0 ] || "$top"/scripts/guest-modules.sh
	if mountpoint -q "$root"; then
		umount -R "$root" || umount -R -l "$root"
	fi
	if mountpoint -q "$scratch"; then
		umount "$scratch" || umount -l "$scratch"
	fi
	rmdir "$scratch"
}
trap cleanup EXIT

# A command in the chroot, with a clean environment.
in_root() {
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

apt_get() {
	in_root apt-get -y -q --no-install-recommends \
		-o Dpkg::Use-Pty=0 -o APT::Sandbox::User=root "$@"
}

# "ii" and the version for an installed package; nothing, "un" or "pn" for
# one that is not installed and has no configuration files left.
pkg_state() {
	# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
	in_root dpkg-query -W -f '${db:Status-Abbrev}${Version}' "$1" 2>/dev/null | tr -d ' '
}

purged() {
	case $(pkg_state "$1") in
	"" | un* | pn*) return 0 ;;
	esac
	return 1
}

show() {
	sed 's/^/# /' "$1"
}

ktap_print_header
ktap_set_plan 8

[ "$(id -u)" = 0 ] || ktap_exit_fail_msg "needs root (a guest: selftests/vm/guest.sh)"
for d in "${debs[@]}"; do
	[ -f "$d" ] || ktap_exit_fail_msg "$d missing: make deb on the host first"
done
[ -f "$mods/build/Makefile" ] ||
	ktap_exit_fail_msg "no headers for $kver ($mods/build): scripts/deps.sh fetches them"

mount -t tmpfs -o mode=0755 gmg-deb "$scratch" ||
	ktap_exit_fail_msg "cannot mount a tmpfs on $scratch"
mkdir -p "$scratch/upper" "$scratch/work" "$root"
mount -t overlay gmg-deb -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$root" ||
	ktap_exit_fail_msg "cannot lay a writable overlay over /"
# The guest's own /run (no systemd runs it) and an empty /tmp: what the
# host's root has there (over 9p) is not this system's.
if ! { mount -t proc proc "$root/proc" && mount -t sysfs sysfs "$root/sys" &&
	mount --bind /dev "$root/dev" && mount --bind /dev/pts "$root/dev/pts" &&
	mount -t tmpfs -o mode=0755 tmpfs "$root/run" &&
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"; }; then
	ktap_exit_fail_msg "cannot mount proc, sys, dev, run and tmp in $root"
fi
# A kernel from the cache (scripts/kernel-cache.sh) has its modules tree
# bound over /lib/modules/KVER from elsewhere on the host's root, which the
# overlay of / does not see: give the chroot that tree, writable there.
src=$(awk -v m="$mods_real" '$5 == m { for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "9p") { print $4; exit } }' \
	/proc/self/mountinfo)
if [ -n "$src" ] && [ "$src" != "$mods_real" ]; then
	echo "# $mods is $src on the host's root"
	mkdir -p "$scratch/mods-upper" "$scratch/mods-work" "$root$mods"
	mount -t overlay gmg-deb-mods \
		-o "lowerdir=$src,upperdir=$scratch/mods-upper,workdir=$scratch/mods-work" "$root$mods" ||
		ktap_exit_fail_msg "cannot lay $src over $mods in $root"
fi
[ -f "$root$mods/build/Makefile" ] ||
	ktap_exit_fail_msg "no headers for $kver in the chroot ($mods/build)"
cp "${debs[@]}" "$root/tmp/" || ktap_exit_fail_msg "cannot copy the packages"
# man-db's trigger would re-index every manual page, over 9p, under TCG:
# minutes that test nothing of ours (Debian's own containers turn it off).
rm -f "$root/var/lib/man-db/auto-update"
# DKMS builds for every kernel whose headers it finds: under TCG, this
# guest's is the one that counts (the overlay forgets the others' links).
for m in "$root"/lib/modules/*; do
	[ "${m##*/}" = "$kver" ] || rm -f "$m/build" "$m/source"
done

# What each package ships, for the check after the purge.
for d in "${debs[@]}"; do
	dpkg-deb -c "$d" | awk '{ print substr($1, 1, 1), $6 }' | sed 's| \./| /|'
done >"$scratch/contents"

# A machine that never had gomemguard.
for p in "${pkgs[@]}"; do
	purged "$p" || ktap_exit_fail_msg "$p is on the root already: $(pkg_state "$p")"
done
[ ! -e "$root/var/lib/dkms/gomemguard" ] ||
	ktap_exit_fail_msg "/var/lib/dkms/gomemguard exists on the root already"
[ -z "$(find "$root/lib/modules" -name 'gomemguard.ko*' 2>/dev/null)" ] ||
	ktap_exit_fail_msg "a gomemguard.ko is installed on the root already"
if [ "$no_module" != 1 ]; then
	[ -d /sys/module/gomemguard ] && rmmod gomemguard
	[ -d /sys/module/gomemguard ] && ktap_exit_fail_msg "gomemguard is loaded and cannot be unloaded"
fi

# 1. apt-get install, as the README says.
apt_get install "/tmp/${debs[0]##*/}" "/tmp/${debs[1]##*/}" >"$scratch/install.log" 2>&1
rc=$?
show "$scratch/install.log"
ok=0
[ "$rc" = 0 ] || ok=1
for p in "${pkgs[@]}"; do
	s=$(pkg_state "$p")
	echo "# $p: $s"
	[ "$s" = "ii$version-1" ] || ok=1
done
ktap_test_result "apt-get install of both packages, offline" test $ok = 0

# 2. DKMS built and installed the module for this kernel.
status=$(in_root dkms status -m gomemguard -v "$version" -k "$kver" 2>/dev/null)
echo "# dkms status: $status"
ko=$(find "$root$mods/updates" -name 'gomemguard.ko*' 2>/dev/null | head -n 1)
ok=1
case $status in
*": installed"*)
	if [ -n "$ko" ]; then
		magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
		echo "# ${ko#"$root"}: vermagic $magic"
		[ "$magic" = "$kver" ] && ok=0
	fi
	;;
esac
ktap_test_result "DKMS built and installed gomemguard $version for $kver" test $ok = 0

# 3. The monitor's unit: installed, not enabled, not running.
ok=0
[ -f "$root/lib/systemd/system/gomemctl-monitor.service" ] ||
	{ echo "# no /lib/systemd/system/gomemctl-monitor.service"; ok=1; }
links=$(find "$root/etc/systemd" -name 'gomemctl-monitor.service' 2>/dev/null)
[ -z "$links" ] || { echo "# enabled: ${links//"$root"/}"; ok=1; }
procs=$(pgrep -a -f 'gomemctl monitor')
[ -z "$procs" ] || { echo "# running: $procs"; ok=1; }
ktap_test_result "gomemctl-monitor.service installed, not enabled, not running" test $ok = 0

# 4, 5. The packaged gomemctl's first call loads the module DKMS built.
if [ "$no_module" = 1 ]; then
	ktap_test_skip "gomemctl info loads the module (GMG_DEB_NO_MODULE=1)"
	ktap_test_skip "the loaded module is the one DKMS built (GMG_DEB_NO_MODULE=1)"
else
	# The suite's overlay (scripts/guest-modules.sh) makes way, and comes
	# back at the end.
	if grep -q "^gmg-modules $mods_real " /proc/mounts; then
		umount "$mods" && gmg_modules=1
	fi
	mount --bind "$root$mods" "$mods" && modules_bound=1
	in_root gomemctl info >"$scratch/info.log" 2>&1
	rc=$?
	show "$scratch/info.log"
	ktap_test_result "gomemctl info loads the module (autoload)" \
		test "$rc" = 0 -a -d /sys/module/gomemguard

	want=$( [ -n "$ko" ] && modinfo -F srcversion "$ko")
	got=$(cat /sys/module/gomemguard/srcversion 2>/dev/null)
	echo "# srcversion: loaded $got, DKMS module $want"
	ktap_test_result "the loaded module is the one DKMS built" test -n "$want" -a "$got" = "$want"

	# The README's removal: unload, then purge.
	modprobe -r gomemguard 2>&1 | sed 's/^/# /'
fi

# 6. apt-get purge.
apt_get purge "${pkgs[@]}" >"$scratch/purge.log" 2>&1
rc=$?
show "$scratch/purge.log"
ok=0
[ "$rc" = 0 ] || ok=1
for p in "${pkgs[@]}"; do
	purged "$p" || { echo "# $p: still '$(pkg_state "$p")'"; ok=1; }
done
ktap_test_result "apt-get purge of both packages" test $ok = 0

# 7. Nothing of them left: no file, no directory of their own, no DKMS
# tree, no module in any kernel's tree or index, no systemd state.
ok=0
while read -r type path; do
	case $type in
	d) ;;
	*)
		if [ -e "$root$path" ] || [ -L "$root$path" ]; then
			echo "# left: $path"
			ok=1
		fi
		;;
	esac
done <"$scratch/contents"
for d in "/usr/src/gomemguard-$version" /etc/gomemguard /usr/share/doc/gomemctl \
	/usr/share/doc/gomemguard-dkms /var/lib/dkms/gomemguard; do
	[ ! -e "$root$d" ] || { echo "# left: $d"; ok=1; }
done
left=$(find "$root/lib/modules" -name 'gomemguard.ko*' 2>/dev/null)
[ -z "$left" ] || { echo "# left: ${left//"$root"/}"; ok=1; }
if in_root modinfo -k "$kver" gomemguard >/dev/null 2>&1; then
	echo "# modinfo still finds gomemguard for $kver"
	ok=1
fi
left=$(find "$root/var/lib/systemd" "$root/etc/systemd" -name '*gomemctl*' 2>/dev/null)
[ -z "$left" ] || { echo "# left: ${left//"$root"/}"; ok=1; }
ktap_test_result "nothing of either package left: files, DKMS tree, module, unit state" test $ok = 0

# 8. Unloaded, and nothing loaded it again.
if [ "$no_module" = 1 ]; then
	ktap_test_skip "the module is unloaded (GMG_DEB_NO_MODULE=1)"
else
	umount "$mods" && modules_bound=0
	ktap_test_result "the module is unloaded" test ! -d /sys/module/gomemguard
fi

ktap_finished
