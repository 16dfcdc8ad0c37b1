#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the Debian kernel releases the runtime tests target, one per line.
#
# The releases are whatever Debian 12's metapackages point at today:
#   linux-image-amd64       -> linux-image-6.1.*-amd64
#   linux-image-6.12-amd64  -> linux-image-6.12.*+deb12-amd64
# KVERS="r1 r2 ..." (space separated) overrides the lookup.
# If apt knows neither metapackage (fresh machine), run apt-get update once,
# unless KERNELS_NO_UPDATE=1 (then fail instead).
#
# kernels.sh SUITE[/FLAVOUR]... prints instead the release each of another
# Debian suite's linux-image-FLAVOUR (default amd64) points at today, e.g.
# `kernels.sh trixie sid sid/rt-amd64`, looked up through that suite's own
# apt state (scripts/suite-apt.sh), which the host's apt never sees. Each is
# said on stderr, beside the version apt resolved it with.
set -eu

METAPKGS="linux-image-amd64 linux-image-6.12-amd64"

if [ $# -gt 0 ]; then
	top=$(cd "$(dirname "$0")/../.." && pwd)
	for arg in "$@"; do
		suite=${arg%%/*}
		flavour=amd64
		[ "$suite" = "$arg" ] || flavour=${arg#*/}
		meta=linux-image-$flavour
		kver=$("$top/scripts/suite-apt.sh" "$suite" apt-cache depends "$meta" | awk '
			$1 == "Depends:" && $2 ~ /^linux-image-[^<>]+$/ {
				sub(/^linux-image-/, "", $2); print $2; exit
			}') || true
		if [ -z "$kver" ]; then
			echo "kernels.sh: $suite's $meta names no linux-image-*" >&2
			exit 1
		fi
		ver=$("$top/scripts/suite-apt.sh" "$suite" apt-cache policy "$meta" |
			awk '$1 == "Candidate:" { print $2 }')
		echo "kernels.sh: $suite: $meta $ver -> $kver" >&2
		printf '%s\n' "$kver"
	done
	exit 0
fi

if [ -n "${KVERS:-}" ]; then
	for kver in $KVERS; do
		printf '%s\n' "$kver"
	done
	exit 0
fi

# Print one release per metapackage, in METAPKGS order; fail if apt does not
# know one of them. One apt-cache call: each call re-reads all package lists.
resolve_all() {
	# shellcheck disable=SC2086 # METAPKGS is a word list
	deps=$(apt-cache depends $METAPKGS 2>/dev/null) || return 1
	for pkg in $METAPKGS; do
		kver=$(printf '%s\n' "$deps" | awk -v pkg="$pkg" '
			/^[^ ]/ { cur = $1; next }
			cur == pkg && $1 == "Depends:" && $2 ~ /^linux-image-[^<>]+$/ {
				sub(/^linux-image-/, "", $2); print $2; exit
			}')
		if [ -z "$kver" ]; then
			return 1
		fi
		printf '%s\n' "$kver"
	done
}

if ! out=$(resolve_all); then
	if [ "${KERNELS_NO_UPDATE:-0}" = 1 ]; then
		echo "kernels.sh: apt does not know $METAPKGS" >&2
		exit 1
	fi
	# A fresh machine has empty apt lists: fetch them once and retry.
	echo "kernels.sh: apt does not know $METAPKGS yet, running apt-get update" >&2
	apt-get update >&2
	if ! out=$(resolve_all); then
		echo "kernels.sh: cannot resolve $METAPKGS via apt-cache depends" >&2
		exit 1
	fi
fi
printf '%s\n' "$out"
