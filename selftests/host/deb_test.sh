#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: the Debian packages.  `make deb` builds gomemguard-dkms and
# gomemctl in build/deb/ without touching the tree; lintian finds nothing
# of warning level or above; both carry VERSION; what they contain is the
# tree's (the gomemctl binary, run from the extracted package, says its
# version; man pages, completion, the monitor's unit; the DKMS sources are
# exactly what `make dkms-src` copies); the monitor is installed but neither
# enabled nor started (its maintainer scripts are run against stubs that
# log what they are asked to do).  selftests/deb_install_test.sh installs
# and purges the packages in a guest.
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

version=$(cat "$top/VERSION")
arch=$(dpkg --print-architecture)
out=$top/build/deb
dkms_deb=$out/gomemguard-dkms_${version}-1_all.deb
ctl_deb=$out/gomemctl_${version}-1_${arch}.deb
unit=lib/systemd/system/gomemctl-monitor.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tree's state as git sees it, build outputs aside.
tree_state() {
	git -C "$top" status --porcelain=v1 --untracked-files=all 2>/dev/null
	git -C "$top" diff 2>/dev/null | sha256sum
}

built() {
	local ok=0 f

	tree_state >"$tmp/before"
	if ! make -s -C "$top" deb >"$tmp/build.log" 2>&1; then
		tail -n 40 "$tmp/build.log" | sed 's/^/# /'
		return 1
	fi
	tree_state >"$tmp/after"
	for f in "$dkms_deb" "$ctl_deb"; do
		if [ ! -f "$f" ]; then
			echo "# no ${f#"$top"/}; build/deb/ has:"
			find "$out" -maxdepth 1 -type f -printf '#   %f\n'
			ok=1
		fi
	done
	if ! cmp -s "$tmp/before" "$tmp/after"; then
		echo "# make deb changed the tree:"
		diff "$tmp/before" "$tmp/after" | sed 's/^/#   /'
		ok=1
	fi
	[ $ok = 0 ] || return 1
	mkdir -p "$tmp/dkms" "$tmp/ctl" "$tmp/dkms.ctrl" "$tmp/ctl.ctrl"
	dpkg-deb -x "$dkms_deb" "$tmp/dkms" && dpkg-deb -e "$dkms_deb" "$tmp/dkms.ctrl" &&
		dpkg-deb -x "$ctl_deb" "$tmp/ctl" && dpkg-deb -e "$ctl_deb" "$tmp/ctl.ctrl"
}

# Every tag lintian prints is shown; errors and warnings fail (overrides,
# each explained in debian/*.lintian-overrides, are honoured).
lintian_clean() {
	local rc

	lintian --display-info "$out"/gomemguard_"${version}"-1_"${arch}".changes \
		>"$tmp/lintian" 2>&1
	rc=$?
	sed 's/^/# lintian: /' "$tmp/lintian"
	if grep -q '^[EW]: ' "$tmp/lintian"; then
		return 1
	fi
	# Anything else that is not a tag is lintian failing to run.
	[ "$rc" = 0 ]
}

versions_match() {
	local ok=0 f v conf

	for f in "$dkms_deb" "$ctl_deb"; do
		v=$(dpkg-deb -f "$f" Version)
		[ "$v" = "$version-1" ] || { echo "# ${f##*/}: Version $v, not $version-1"; ok=1; }
	done
	conf=$tmp/dkms/usr/src/gomemguard-$version/dkms.conf
	if [ ! -f "$conf" ]; then
		echo "# no /usr/src/gomemguard-$version/dkms.conf:"
		find "$tmp/dkms/usr/src" -maxdepth 1 | sed 's/^/#   /'
		return 1
	fi
	v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$conf")
	[ "$v" = "$version" ] || { echo "# dkms.conf: PACKAGE_VERSION '$v'"; ok=1; }
	v=$(cat "$tmp/dkms/usr/src/gomemguard-$version/VERSION" 2>/dev/null)
	[ "$v" = "$version" ] || { echo "# the module sources' VERSION: '$v'"; ok=1; }
	return $ok
}

ctl_version() {
	local got

	got=$("$tmp/ctl/usr/sbin/gomemctl" --version 2>&1)
	echo "# usr/sbin/gomemctl --version: $got"
	[ "$got" = "gomemctl $version" ]
}

same() {
	local what=$1 want=$2 got=$3

	if [ ! -f "$got" ]; then
		echo "# $what: missing"
		return 1
	fi
	cmp -s "$want" "$got" || { echo "# $what: not ${want#"$top"/}"; return 1; }
}

man_pages() {
	local ok=0

	zcat "$tmp/ctl/usr/share/man/man8/gomemctl.8.gz" >"$tmp/gomemctl.8" 2>/dev/null
	zcat "$tmp/ctl/usr/share/man/man4/gomemguard.4.gz" >"$tmp/gomemguard.4" 2>/dev/null
	same "usr/share/man/man8/gomemctl.8.gz" "$top/tools/gomemctl.8" "$tmp/gomemctl.8" || ok=1
	same "usr/share/man/man4/gomemguard.4.gz" "$top/tools/gomemguard.4" "$tmp/gomemguard.4" || ok=1
	return $ok
}

completion() {
	same "usr/share/bash-completion/completions/gomemctl" \
		"$top/dist/gomemctl.bash-completion" \
		"$tmp/ctl/usr/share/bash-completion/completions/gomemctl"
}

# The tree's unit with the packaged binary; nothing that would enable it
# without the operator (a .wants or .requires link) in either package.
unit_installed() {
	local ok=0 exec links

	sed 's|/usr/local/sbin/gomemctl|/usr/sbin/gomemctl|g' "$top/dist/gomemctl-monitor.service" \
		>"$tmp/unit"
	same "$unit" "$tmp/unit" "$tmp/ctl/$unit" || ok=1
	exec=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$tmp/ctl/$unit" 2>/dev/null)
	if [ -z "$exec" ] || [ ! -x "$tmp/ctl$exec" ]; then
		echo "# ExecStart's binary '$exec' is not in the package"
		ok=1
	fi
	links=$(find "$tmp/ctl" "$tmp/dkms" \( -name '*.wants' -o -name '*.requires' \
		-o -path '*/etc/systemd/*' \) -printf '%P\n')
	[ -z "$links" ] || { echo "# shipped: $links"; ok=1; }
	return $ok
}

# Runs a maintainer script of gomemctl with deb-systemd-helper,
# deb-systemd-invoke and systemctl replaced by stubs that log their
# arguments, as if systemd ran (/run/systemd/system).  FRESH=1: a first
# installation, where deb-systemd-helper knows nothing of the unit (so
# debian-installed is false and was-enabled true, its default); else an
# upgrade of a package whose unit the operator never enabled.
# ARGS: the script, then its arguments.
run_maint() {
	local script=$1 stubs=$tmp/stubs c

	shift
	mkdir -p "$stubs" "$tmp/run-systemd"
	for c in deb-systemd-helper deb-systemd-invoke systemctl; do
		cat >"$stubs/$c" <<EOF
#!/bin/sh
echo "$c \$*" >>"$tmp/calls"
case "\$*" in
*debian-installed*) [ "\$FRESH" != 1 ] ;;
*was-enabled*) [ "\$FRESH" = 1 ] ;;
*is-enabled*|*is-active*) exit 1 ;;
esac
EOF
		chmod +x "$stubs/$c"
	done
	[ -f "$tmp/ctl.ctrl/$script" ] || { echo "# no $script"; return 1; }
	sed "s|/run/systemd/system|$tmp/run-systemd|g" "$tmp/ctl.ctrl/$script" >"$tmp/$script"
	: >"$tmp/calls"
	PATH=$stubs:$PATH DPKG_ROOT='' sh "$tmp/$script" "$@" >"$tmp/maint.log" 2>&1 ||
		{ echo "# $script $* failed"; sed 's/^/#   /' "$tmp/maint.log"; return 1; }
	sed "s/^/#   $script $*: /" "$tmp/calls"
}

not_started() {
	local ok=0 bad

	# A fresh install, then an upgrade from an older version.
	for prev in "" "0.0.1-1"; do
		FRESH=$([ -z "$prev" ] && echo 1) run_maint postinst configure "$prev" || return 1
		bad=$(grep -E 'systemctl .*(start|enable|restart|reload-or)|deb-systemd-invoke (start|restart)|deb-systemd-helper enable' \
			"$tmp/calls" | grep -v 'daemon-reload')
		[ -z "$bad" ] || { echo "# postinst configure '$prev' did: $bad"; ok=1; }
	done
	# A stopped monitor stays stopped on upgrade; a running one is only
	# restarted (try-restart does nothing to a stopped unit).
	grep -q 'deb-systemd-invoke try-restart gomemctl-monitor.service' "$tmp/calls" ||
		{ echo "# postinst does not try-restart a running monitor on upgrade"; ok=1; }
	run_maint prerm remove || return 1
	grep -q 'deb-systemd-invoke stop gomemctl-monitor.service' "$tmp/calls" ||
		{ echo "# prerm remove does not stop the monitor"; ok=1; }
	return $ok
}

policy_dir() {
	local ok=0 etc conf

	[ -d "$tmp/ctl/etc/gomemguard/policy.d" ] ||
		{ echo "# no /etc/gomemguard/policy.d"; ok=1; }
	etc=$( (cd "$tmp/ctl" && find etc -type f -printf '/%p\n') | sort)
	conf=$(sort "$tmp/ctl.ctrl/conffiles" 2>/dev/null)
	[ "$etc" = "$conf" ] ||
		{ echo "# files under /etc: '$etc'; conffiles: '$conf'"; ok=1; }
	return $ok
}

# The DKMS package's sources are what `make dkms-src` copies, byte for
# byte; dkms.conf, Kbuild, kmod's sources and the UAPI header among them.
dkms_sources() {
	local ok=0 pkg=$tmp/dkms/usr/src/gomemguard-$version want=$tmp/dkms-src f

	make -s -C "$top" dkms-src DKMS_SRC="$want" >/dev/null 2>&1 ||
		{ echo "# make dkms-src failed"; return 1; }
	if ! diff -r "$want" "$pkg" >"$tmp/diff" 2>&1; then
		echo "# the package's sources are not make dkms-src's:"
		sed 's/^/#   /' "$tmp/diff"
		ok=1
	fi
	for f in dkms.conf Kbuild kmod/Kbuild kmod/main.c kmod/compat.h \
		include/uapi/linux/gomemguard.h; do
		[ -f "$pkg/$f" ] || { echo "# no $f"; ok=1; }
	done
	for f in "$top"/kmod/*.[ch]; do
		[ -f "$pkg/kmod/${f##*/}" ] || { echo "# no kmod/${f##*/}"; ok=1; }
	done
	# Nothing outside the sources but the package's documentation and
	# lintian overrides.
	f=$( (cd "$tmp/dkms" && find . -type f) | grep -v -e "^./usr/src/gomemguard-$version/" \
		-e '^./usr/share/doc/gomemguard-dkms/' \
		-e '^./usr/share/lintian/overrides/gomemguard-dkms$')
	[ -z "$f" ] || { echo "# also shipped: $f"; ok=1; }
	dpkg-deb -f "$dkms_deb" Depends | grep -qE '(^|, )dkms( |,|$)' ||
		{ echo "# does not depend on dkms"; ok=1; }
	# shellcheck disable=SC2016 # the maintainer script's own variables, literally
	if ! grep -q "^DKMS_NAME=gomemguard$" "$tmp/dkms.ctrl/postinst" ||
	   ! grep -q "^DKMS_VERSION=$version$" "$tmp/dkms.ctrl/postinst" ||
	   ! grep -q "^DKMS_NAME=gomemguard$" "$tmp/dkms.ctrl/prerm" ||
	   ! grep -q "^DKMS_VERSION=$version$" "$tmp/dkms.ctrl/prerm" ||
	   ! grep -q 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' "$tmp/dkms.ctrl/prerm"; then
		echo "# maintainer scripts do not build/remove gomemguard $version with DKMS"
		ok=1
	fi
	return $ok
}

ktap_print_header
ktap_set_plan 10

for c in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$c" >/dev/null || ktap_exit_fail_msg "no $c: scripts/deps.sh installs it"
done

if result "make deb: gomemguard-dkms_${version}-1_all.deb and gomemctl_${version}-1_${arch}.deb, the tree untouched" built; then
	result "lintian: no error, no warning" lintian_clean
	result "versions: both packages $version-1, dkms.conf and the sources $version" versions_match
	result "gomemctl --version from the package says $version" ctl_version
	result "man pages gomemctl(8) and gomemguard(4) are the tree's" man_pages
	result "bash completion is the tree's" completion
	result "gomemctl-monitor.service in /lib/systemd/system runs the packaged gomemctl; no .wants link" \
		unit_installed
	result "maintainer scripts neither enable nor start the monitor; removal stops it" not_started
	result "/etc/gomemguard/policy.d shipped; every file under /etc a conffile" policy_dir
	result "gomemguard-dkms: exactly make dkms-src's sources, depends on dkms, dkms add/remove $version" \
		dkms_sources
else
	for _ in $(seq 9); do
		ktap_test_fail "not built"
	done
fi

ktap_finished
