#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: DKMS builds gomemguard for every target kernel from the source
# tree `make dkms-install` would install, the way a fleet host does on a
# kernel upgrade.  Uses private DKMS trees under build/ so the host's own
# DKMS state is left alone.
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

version=$(cat "$top/VERSION")
work=$top/build/dkms-test
read -r -a kvers <<<"${KVERS:?KVERS not set}"

ktap_print_header
ktap_set_plan $((1 + ${#kvers[@]}))

rm -rf "$work"
mkdir -p "$work/src" "$work/tree" "$work/install"
make -s -C "$top" dkms-src DKMS_SRC="$work/src/gomemguard-$version" 2>&1 | sed 's/^/# /'
opts=(-m gomemguard -v "$version" --sourcetree "$work/src" --dkmstree "$work/tree"
      --installtree "$work/install")
dkms add "${opts[@]}" 2>&1 | sed 's/^/# /'
ktap_test_result "dkms add" test "${PIPESTATUS[0]}" -eq 0

for k in "${kvers[@]}"; do
	ok=1
	if ! dkms build "${opts[@]}" -k "$k" >"$work/build-$k.log" 2>&1; then
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
done
ktap_finished
