#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A build root: a minimal Debian SUITE (trixie, sid...) made with
# `debootstrap --variant=minbase`, in which the module is built against that
# suite's kernel headers.  Those headers need that suite's compiler (trixie's
# gcc-14, sid's gcc-16) and C library (gcc-16 wants glibc >= 2.38; the host
# has bookworm's 2.36 and gcc-12), so the host cannot build against them.
# The headers are installed in the root by the root's own apt: a kernel
# package in a chroot is only files there, nothing the host boots.
#
# The root holds what building a module takes: make, the compiler and kbuild
# tools the headers depend on, libelf, perl and python3 (kernel-doc, which
# W=1 runs, is perl in 6.12 and python from 6.17), pahole, and sparse where
# the suite has it.  It is made again only when that list (or the mirror)
# changes: ROOT.key holds what it was made from.
#
# Usage: scripts/build-root.sh SUITE [KVER...]
#            make or reuse the root of SUITE, install linux-headers-KVER in
#            it (the release must be one of SUITE's); print ROOT
#        scripts/build-root.sh --find KVER
#            print the root that holds KVER's headers; fail if none does
# Roots: ${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/roots/SUITE
# (GMG_BUILD_ROOTS replaces .../roots).  Needs root (debootstrap, chroot).
#
# Host mounts: none of ours.  debootstrap mounts /proc (and /sys) in the
# target while it installs, and unmounts them when it exits; the trap below
# unmounts whatever it may have left behind.  Commands in the root (apt,
# dpkg, make) get a /proc of their own in a mount namespace of their own
# (unshare): systemd's and objtool's helpers read it, and a mount there
# ends with the command, unseen by the host, even if this script is killed.
set -eu

roots=${GMG_BUILD_ROOTS:-${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/roots}
mirror=${GMG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${GMG_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# What the root is made of (the headers come on top).  Changing this list
# remakes every root.
TOOLS="make perl python3 libelf-dev pahole kmod xz-utils"
# Made with sparse when the suite has it (C=1).
OPTIONAL="sparse"
# Bump when what is done to a root below changes: every root is made again.
RECIPE=2

log() {
	echo "build-root: $*" >&2
}

usage() {
	echo "usage: build-root.sh SUITE [KVER...] | --find KVER" >&2
	exit 2
}

[ $# -ge 1 ] || usage
if [ "$1" = --find ]; then
	[ $# -eq 2 ] || usage
	for r in "$roots"/*/; do
		r=${r%/}
		if [ -d "$r/usr/src/linux-headers-$2" ]; then
			echo "$r"
			exit 0
		fi
	done
	exit 1
fi

suite=$1
shift
case $suite in
'' | *[!a-z]*) log "not a suite name: '$suite'"; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { log "needs root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null ||
	{ log "debootstrap missing (apt-get install debootstrap)"; exit 1; }

root=$roots/$suite
new=$root.new
mkdir -p "$roots"
# One writer per root; scripts/build-module.sh holds it shared while it
# builds inside, so a root is never remade under a build.
exec 7>"$root.lock"
flock 7

# Whatever is still mounted under the root being made: debootstrap's
# /proc and /sys if it was killed.  Deepest first.
unmount_under() {
	awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do
			umount "$m" || umount -l "$m"
		done
}
trap 'unmount_under "$new"; unmount_under "$root"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every path below is inside a root: an empty one would be the host's.
inside() {
	case $1 in
	"$roots"/?*) ;;
	*) log "internal error: '$1' is not under $roots"; exit 1 ;;
	esac
}

# Commands inside the root, with an environment of their own: nothing of
# the caller's (CC, ARCH, MAKEFLAGS, locale) leaks into the build.
in_root() {
	dir=$1
	inside "$dir"
	shift
	unshare --mount --pid --fork --mount-proc="$dir/proc" \
		chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# The root's apt: the suite with its -updates and -security (where it has
# them), as scripts/suite-apt.sh sees it, so that the header release that
# kernels.sh resolved is there; Release files checked against the root's
# own copy of Debian's keyring; how to reach the archive (a frozen mirror's
# expired Valid-Until, proxies) as the host's apt says.
configure_apt() {
	dir=$1
	inside "$dir"
	signed="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
	{
		echo "deb $signed $mirror $suite main"
		case $suite in
		sid | unstable | experimental) ;;
		*)
			echo "deb $signed $mirror $suite-updates main"
			echo "deb $signed $security $suite-security main"
			;;
		esac
	} >"$dir/etc/apt/sources.list"
	{
		apt-config dump |
			grep -E '^Acquire::(Check-Valid-Until|Check-Date|Retries|(https?|ftp)::Proxy) ' || true
		echo 'Acquire::Languages "none";'
		echo 'APT::Install-Recommends "false";'
		echo 'Dpkg::Use-Pty "false";'
	} >"$dir/etc/apt/apt.conf.d/90gomemguard"
	# Names are resolved with the host's settings of the day.
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	# No package may start a service: it would run on the host.
	printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
}

# Trixie's headers depend on the kernel image (linux-headers-KVER needs
# linux-image-KVER or its -unsigned twin), which brings initramfs-tools,
# udev and 110 MB of modules.  In the root they are files nobody boots:
# dpkg leaves out modules, documentation and translations, and
# update-initramfs is diverted to a stub that does nothing (called by the
# kernel's hook and by initramfs-tools' dpkg trigger), as image builders do
# in a chroot.
prepare_dpkg() {
	dir=$1
	inside "$dir"
	printf '%s\n' 'path-exclude=/usr/lib/modules/*/kernel/*' \
		'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
		'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/locale/*' \
		>"$dir/etc/dpkg/dpkg.cfg.d/90gomemguard"
	in_root "$dir" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
	printf '#!/bin/sh\n# A build root makes no initramfs (scripts/build-root.sh).\nexit 0\n' \
		>"$dir/usr/sbin/update-initramfs"
	chmod 755 "$dir/usr/sbin/update-initramfs"
}

key="recipe=$RECIPE suite=$suite mirror=$mirror security=$security tools=$TOOLS optional=$OPTIONAL"
if [ -d "$root" ] && [ "$(cat "$root.key" 2>/dev/null)" = "$key" ]; then
	configure_apt "$root"
else
	log "making the $suite root in $root ($TOOLS)"
	rm -f "$root.key"
	rm -rf "$new"
	t0=$(date +%s)
	if ! debootstrap --variant=minbase --keyring="$keyring" "$suite" "$new" "$mirror" \
		>"$roots/$suite.debootstrap.log" 2>&1; then
		tail -n 30 "$roots/$suite.debootstrap.log" >&2
		log "debootstrap $suite failed (log: $roots/$suite.debootstrap.log)"
		exit 1
	fi
	unmount_under "$new"
	[ -d "$new/usr/bin" ] || { log "debootstrap left no root in $new"; exit 1; }
	configure_apt "$new"
	prepare_dpkg "$new"
	in_root "$new" apt-get -q update >"$roots/$suite.apt.log" 2>&1 ||
		{ cat "$roots/$suite.apt.log" >&2; log "apt-get update in the $suite root failed"; exit 1; }
	pkgs=$TOOLS
	for p in $OPTIONAL; do
		if in_root "$new" apt-cache show "$p" >/dev/null 2>&1; then
			pkgs="$pkgs $p"
		else
			log "$suite has no $p: the root goes without"
		fi
	done
	# shellcheck disable=SC2086 # pkgs is a word list
	in_root "$new" apt-get -q -y install $pkgs >>"$roots/$suite.apt.log" 2>&1 ||
		{ tail -n 30 "$roots/$suite.apt.log" >&2; log "installing $pkgs in the $suite root failed"; exit 1; }
	in_root "$new" apt-get clean
	rm -rf "$root"
	mv "$new" "$root"
	echo "$key" >"$root.key"
	log "$suite root made in $(($(date +%s) - t0)) s"
fi

# The headers, each with the compiler and kbuild tools it depends on.
updated=0
for kver in "$@"; do
	# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
	status=$(in_root "$root" dpkg-query -W -f='${db:Status-Abbrev}' "linux-headers-$kver" 2>/dev/null) || true
	[ "$status" = "ii " ] && continue
	if [ "$updated" = 0 ]; then
		in_root "$root" apt-get -q update >"$roots/$suite.apt.log" 2>&1 ||
			{ cat "$roots/$suite.apt.log" >&2; log "apt-get update in the $suite root failed"; exit 1; }
		updated=1
	fi
	log "installing linux-headers-$kver in the $suite root"
	if ! in_root "$root" apt-get -q -y install "linux-headers-$kver" >>"$roots/$suite.apt.log" 2>&1; then
		tail -n 30 "$roots/$suite.apt.log" >&2
		log "cannot install linux-headers-$kver in the $suite root (is it $suite's?)"
		exit 1
	fi
	in_root "$root" apt-get clean
	log "linux-headers-$kver ready in the $suite root"
done

# Debian's linux-headers-7.2 leave out scripts/checker-valid.sh, which their
# Makefile runs for C=1: without it, make says that sparse "is not
# available or not up to date" and checks nothing.  What it asks is whether
# the checker parses __typeof_unqual__ (sparse 0.6.4 does not); this
# stand-in asks the same, printing 1 for yes as the Makefile expects.
for common in "$root"/usr/src/linux-headers-*-common; do
	cv=$common/scripts/checker-valid.sh
	if [ -e "$cv" ] || ! grep -q 'scripts/checker-valid\.sh' "$common/Makefile" 2>/dev/null; then
		continue
	fi
	cat >"$cv" <<'EOF'
#!/bin/sh
# A stand-in made by gomemguard's scripts/build-root.sh: Debian's headers
# package lacks this script.  Prints 1 if the checker and flags given parse
# __typeof_unqual__ without an error, 0 if not.
command -v "$1" >/dev/null 2>&1 || { echo 0; exit 0; }
f=$(mktemp --suffix=.c) || exit 1
trap 'rm -f "$f"' EXIT
echo 'int probe(const int *p) { __typeof_unqual__(*p) x = *p; return x; }' >"$f"
if "$@" "$f" 2>&1 | grep -q error; then echo 0; else echo 1; fi
EOF
	chmod 755 "$cv"
	log "added scripts/checker-valid.sh to $(basename "$common") (C=1)"
done
echo "$root"
