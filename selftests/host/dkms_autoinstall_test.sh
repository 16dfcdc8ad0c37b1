#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: the `apt upgrade` path.  A host has gomemguard-dkms installed
# for the kernel it runs; a new kernel arrives, and DKMS's kernel hook
# (/etc/kernel/postinst.d/dkms) runs `dkms autoinstall` for it.  The module
# must then be built and installed for the new kernel from the package's own
# sources, with the old kernel's module left as it was.
#
# The package is the one deb_test.sh (before this) had `make deb` build; it is
# unpacked into a scratch tree, never installed here, and DKMS runs on
# private trees under build/, with --no-depmod: the host's DKMS state and
# /lib/modules are not touched.  The two kernels are the first two of KVERS
# (Debian 12's), from the kernel cache (or installed, as dkms_test.sh).
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

version=$(cat "$top/VERSION")
deb=$top/build/deb/gomemguard-dkms_${version}-1_all.deb
work=$top/build/dkms-autoinstall
read -r -a kvers <<<"${KVERS:?KVERS not set}"
old=${kvers[0]}
new=${kvers[1]:-}
modroot=$("$top/scripts/kernel-cache.sh" --root)

ktap_print_header
ktap_set_plan 5

[ -f "$deb" ] || ktap_exit_fail_msg "$deb missing: selftests/host/deb_test.sh builds it first"
[ -n "$new" ] || ktap_exit_fail_msg "needs two kernels in KVERS, has ${kvers[*]}"

# The headers of KVER, where dkms_test.sh finds them.
ksrc() {
	if [ -d "$modroot/lib/modules/$1/build" ]; then
		echo "$modroot/lib/modules/$1/build"
	else
		echo "/lib/modules/$1/build"
	fi
}

rm -rf "$work"
# The install tree stands for /lib/modules: a kernel's directory there is
# what its package leaves.  The new one's comes with it, below.
mkdir -p "$work/pkg" "$work/tree" "$work/install/$old"
dpkg-deb -x "$deb" "$work/pkg"
src=$work/pkg/usr/src
opts=(--sourcetree "$src" --dkmstree "$work/tree" --installtree "$work/install" --no-depmod)
[ -f "$src/gomemguard-$version/dkms.conf" ]
ktap_test_result "the package carries its DKMS sources (usr/src/gomemguard-$version)" test $? -eq 0

# What the package's postinst does: add, build and install for the kernels
# the host has -- here the one it runs.
dkms add -m gomemguard -v "$version" "${opts[@]}" >"$work/add.log" 2>&1 &&
	dkms install -m gomemguard -v "$version" -k "$old" --kernelsourcedir "$(ksrc "$old")" \
		"${opts[@]}" >"$work/install-$old.log" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$work/add.log" "$work/install-$old.log"
ktap_test_result "installed for $old as the package's postinst does" test $rc -eq 0

# The new kernel's package is installed: its modules directory appears, and
# its hook runs autoinstall.
mkdir -p "$work/install/$new"
dkms autoinstall -k "$new" --kernelsourcedir "$(ksrc "$new")" "${opts[@]}" \
	>"$work/autoinstall.log" 2>&1
rc=$?
sed 's/^/# /' "$work/autoinstall.log"
ktap_test_result "dkms autoinstall -k $new succeeds" test $rc -eq 0

ko=$(find "$work/install/$new" -name 'gomemguard.ko*' 2>/dev/null | head -n 1)
magic=
[ -z "$ko" ] || magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
echo "# $new: ${ko:-no module installed} ${magic:+(vermagic $magic)}"
test -n "$ko" && [ "$magic" = "$new" ]
ktap_test_result "the module is installed for $new, built for it" test $? -eq 0

status=$(dkms status -m gomemguard -v "$version" "${opts[@]}" 2>&1)
while IFS= read -r line; do echo "# $line"; done <<<"$status"
echo "$status" | grep -q "$old.*: installed" && echo "$status" | grep -q "$new.*: installed" &&
	[ -n "$(find "$work/install/$old" -name 'gomemguard.ko*' 2>/dev/null)" ]
ktap_test_result "dkms status: installed for both kernels, $old's module still there" test $? -eq 0

dkms remove -m gomemguard -v "$version" --all "${opts[@]}" >/dev/null 2>&1
rm -rf "$work"
ktap_finished
