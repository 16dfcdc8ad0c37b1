#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# apt-get or apt-cache for another Debian suite (trixie, sid...) than the
# host's, as a plain data fetch: the suite's package lists, apt's state and
# its downloads live in a folder of ours, and the host's apt never hears of
# the suite.  Adding trixie or sid to /etc/apt/sources.list* would offer
# their packages to every later `apt-get upgrade` of the machine.
#
# The configuration is one file of ours, handed to apt as APT_CONFIG, which
# apt reads first.  It points apt's sources, preferences, state (with an empty
# dpkg status: the host's installed packages are none of the suite's
# business), caches and configuration parts into the folder.  The parts
# matter: the host's /etc/apt/apt.conf.d holds hooks that run after every
# `apt-get update` (PackageKit's, AppStream's) and would act on the host.
# Release files are checked against Debian's archive keyring, which the
# host's debian-archive-keyring package keeps (bookworm's 2023.3+deb12u2 has
# the 13/trixie keys; sid is signed with the current release's archive key).
#
# Usage: scripts/suite-apt.sh SUITE apt-get|apt-cache ARGS...
#        scripts/suite-apt.sh SUITE --update     refresh the lists now
# The lists are refreshed before a command when they are older than
# GMG_APT_MAX_AGE seconds (default 21600: a kernel upload to sid shows up
# within hours, and one update fetches ~10 MB); 0 refreshes every time.
# Folder: ${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/apt/SUITE
# (GMG_APT_CACHE replaces .../apt).
set -eu

usage() {
	echo "usage: suite-apt.sh SUITE apt-get|apt-cache ARGS... | SUITE --update" >&2
	exit 2
}

[ $# -ge 2 ] || usage
suite=$1
shift
case $suite in
'' | *[!a-z]*) echo "suite-apt: not a suite name: '$suite'" >&2; exit 2 ;;
esac
case $1 in
apt-get | apt-cache | --update) ;;
*) usage ;;
esac

mirror=${GMG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${GMG_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
max_age=${GMG_APT_MAX_AGE:-21600}
dir=${GMG_APT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gomemguard/apt}/$suite

log() {
	echo "suite-apt: $*" >&2
}

[ -r "$keyring" ] || { log "$keyring missing (install debian-archive-keyring)"; exit 1; }

mkdir -p "$dir/etc/apt.conf.d" "$dir/etc/preferences.d" "$dir/etc/sources.list.d" \
	"$dir/state/lists/partial" "$dir/cache/archives/partial"
[ -e "$dir/state/status" ] || : >"$dir/state/status"

# A released suite's kernels move on in -security and point releases
# (-updates); unstable and experimental have neither.
signed="[signed-by=$keyring]"
{
	echo "deb $signed $mirror $suite main"
	case $suite in
	sid | unstable | experimental) ;;
	*)
		echo "deb $signed $mirror $suite-updates main"
		echo "deb $signed $security $suite-security main"
		;;
	esac
} >"$dir/etc/sources.list.new"
mv "$dir/etc/sources.list.new" "$dir/etc/sources.list"

# How this machine reaches the archive is the host's to say: its proxies,
# and whether Release files may be past their Valid-Until (a frozen mirror
# serves a sid whose signature says it expired weeks ago).  Only these keys
# are taken from the host's configuration.
reach=$(apt-config dump |
	grep -E '^Acquire::(Check-Valid-Until|Check-Date|Retries|(https?|ftp)::Proxy) ') || true

# Sandbox::User root: apt would fetch as _apt, which cannot enter /root.
# Architectures: the host's dpkg may know foreign ones; the kernels are
# amd64.  Languages none: descriptions are not needed.
cat >"$dir/apt.conf.new" <<EOF
$reach
Dir::Etc "$dir/etc";
Dir::Etc::main "apt.conf";
Dir::Etc::parts "apt.conf.d";
Dir::Etc::sourcelist "sources.list";
Dir::Etc::sourceparts "sources.list.d";
Dir::Etc::preferences "preferences";
Dir::Etc::preferencesparts "preferences.d";
Dir::Etc::trusted "trusted.gpg";
Dir::Etc::trustedparts "trusted.gpg.d";
Dir::State "$dir/state";
Dir::State::status "$dir/state/status";
Dir::Cache "$dir/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF
mv "$dir/apt.conf.new" "$dir/apt.conf"
APT_CONFIG=$dir/apt.conf
export APT_CONFIG

# One apt at a time per suite (several work trees share the cache).
exec 7>"$dir/lock"
flock 7

stamp=$dir/state/updated
fresh() {
	[ -e "$stamp" ] || return 1
	[ "$max_age" -gt 0 ] || return 1
	[ $(($(date +%s) - $(stat -c %Y "$stamp"))) -lt "$max_age" ]
}

if [ "$1" = --update ] || ! fresh; then
	log "apt-get update for $suite (lists in $dir/state/lists)"
	# -q, not -qq: a failed signature check must be visible.
	if ! apt-get -q -o Dpkg::Use-Pty=0 update >"$dir/update.log" 2>&1 ||
	   grep -qE '^(W|E):' "$dir/update.log"; then
		cat "$dir/update.log" >&2
		log "apt-get update for $suite failed or warned (see above)"
		exit 1
	fi
	touch "$stamp"
fi
[ "$1" = --update ] && exit 0
exec "$@"
