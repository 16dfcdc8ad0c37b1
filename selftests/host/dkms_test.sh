#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: DKMS builds and installs gomemguard for every target kernel from
# the source tree `make dkms-install` would install, the way a fleet host
# does on a kernel upgrade, then removes it again and checks nothing is left.
# Uses private DKMS trees under build/ so the host's own DKMS state is left
# alone.  What DKMS installed is kept, with its depmod index, in
# build/dkms-test/moddep/<kernel>: selftests/dkms_load_test.sh loads it in
# the guest through module autoload.
#
# GMG_MODROOT: where the kernels' lib/modules/<kernel> are (make
# check-debug's kernel, built in ~/.cache); its build link is the kernel
# source DKMS builds against. Default: the cache scripts/kernel-cache.sh
# unpacks Debian's kernels into, or / for a kernel installed here.
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

version=$(cat "$top/VERSION")
work=$top/build/dkms-test
read -r -a kvers <<<"${KVERS:?KVERS not set}"
modroot=${GMG_MODROOT-}
if [ -z "${GMG_MODROOT+set}" ]; then
	modroot=$("$top/scripts/kernel-cache.sh" --root)
	[ -d "$modroot/lib/modules/${kvers[0]}" ] || modroot=
fi

ktap_print_header
ktap_set_plan $((3 + 2 * ${#kvers[@]}))

rm -rf "$work"
mkdir -p "$work/src" "$work/tree" "$work/install"
make -s -C "$top" dkms-src DKMS_SRC="$work/src/gomemguard-$version" 2>&1 | sed 's/^/# /'
opts=(-m gomemguard -v "$version" --sourcetree "$work/src" --dkmstree "$work/tree"
      --installtree "$work/install")
dkms add "${opts[@]}" 2>&1 | sed 's/^/# /'
ktap_test_result "dkms add" test "${PIPESTATUS[0]}" -eq 0

for k in "${kvers[@]}"; do
	mdir=$modroot/lib/modules/$k
	kopts=(-k "$k")
	[ -z "$modroot" ] || kopts+=(--kernelsourcedir "$mdir/build")
	ok=1
	if ! dkms build "${opts[@]}" "${kopts[@]}" >"$work/build-$k.log" 2>&1; then
		sed 's/^/# /' "$work/build-$k.log"
		cat "$work/tree/gomemguard/$version/build/make.log" 2>/dev/null | sed 's/^/# /'
		ok=0
	fi
	ko=$(find "$work/tree/gomemguard/$version/$k" -name 'gomemguard.ko*' 2>/dev/null | head -n 1)
	if [ $ok = 1 ] && [ -z "$ko" ]; then
		echo "# no gomemguard.ko in the DKMS tree for $k"
		ok=0
	fi
	if [ $ok = 1 ]; then
		magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
		echo "# $ko: vermagic $magic"
		[ "$magic" = "$k" ] || ok=0
	fi
	[ $ok = 1 ]
	ktap_test_result "dkms build for $k" test $? -eq 0

	# Install into the private tree (depmod is ours to run: the host's
	# /lib/modules is not touched), and index it the way the host would.
	ok=0
	mkdir -p "$work/install/$k"
	if dkms install "${opts[@]}" "${kopts[@]}" --no-depmod >"$work/install-$k.log" 2>&1; then
		ko=$(find "$work/install/$k" -name 'gomemguard.ko*' | head -n 1)
		root=$work/depmod-root/lib/modules/$k
		rm -rf "$work/depmod-root"
		mkdir -p "$root"
		ln -s "$mdir/kernel" "$root/kernel"
		cp "$mdir"/modules.order "$mdir"/modules.builtin* "$root/"
		if [ -n "$ko" ]; then
			rel=${ko#"$work/install/$k/"}
			mkdir -p "$root/$(dirname "$rel")"
			cp "$ko" "$root/$rel"
			if depmod -b "$work/depmod-root" "$k" &&
			   grep -q "^$rel:" "$root/modules.dep"; then
				rm "$root/kernel"
				mkdir -p "$work/moddep"
				rm -rf "$work/moddep/$k"
				mv "$root" "$work/moddep/$k"
				echo "# installed $rel; index in build/dkms-test/moddep/$k"
				ok=1
			fi
		fi
		rm -rf "$work/depmod-root"
	else
		sed 's/^/# /' "$work/install-$k.log"
	fi
	ktap_test_result "dkms install for $k, indexed by depmod" test $ok -eq 1
done

# `make dkms-remove` runs this: every kernel's module and the built trees go.
dkms remove "${opts[@]}" --all --no-depmod >"$work/remove.log" 2>&1
rc=$?
sed 's/^/# /' "$work/remove.log"
left=$(find "$work/install" -name 'gomemguard.ko*'; ls -d "$work/tree/gomemguard" 2>/dev/null)
[ -n "$left" ] && echo "# left behind: $left"
[ $rc = 0 ] && [ -z "$left" ]
ktap_test_result "dkms remove --all leaves no module and no build behind" test $? -eq 0

# `make dkms-install` run again after a pull (the same version: rebuilt),
# then for a new version (the old one removed, its sources too), for the
# first kernel, in trees of its own.
k=${kvers[0]}
re=$work/reinstall
mkdir -p "$re/src" "$re/tree" "$re/install/$k"
reopts="--sourcetree $re/src --dkmstree $re/tree --installtree $re/install --no-depmod"
[ -z "$modroot" ] || reopts+=" --kernelsourcedir $modroot/lib/modules/$k/build"
ok=1
for v in "$version" "$version" "$version.1"; do
	if ! make -s -C "$top" dkms-install VERSION="$v" \
		DKMS_SRC="$re/src/gomemguard-$v" DKMS_OPTS="$reopts" \
		DKMS_KERNEL="$k" >"$re/run.log" 2>&1; then
		echo "# make dkms-install VERSION=$v failed:"
		sed 's/^/#   /' "$re/run.log" | tail -n 20
		ok=0
		break
	fi
done
held=$(dkms status -m gomemguard --dkmstree "$re/tree" 2>/dev/null)
echo "# dkms status after three runs: $held"
[ $ok = 1 ] && [ "$(wc -l <<<"$held")" = 1 ] &&
	[[ $held == "gomemguard/$version.1, $k, "*": installed"* ]] &&
	[ ! -e "$re/src/gomemguard-$version" ]
ktap_test_result "make dkms-install again: same version rebuilt, a new one replaces the old" test $? -eq 0
ktap_finished
