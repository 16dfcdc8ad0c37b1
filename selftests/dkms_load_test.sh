#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, after unload_test.sh: the module DKMS built and installed on
# the host side (selftests/host/dkms_test.sh keeps it, with its depmod index,
# in build/dkms-test/moddep/<kernel>) is the only gomemguard the modules index
# knows; the first gomemctl call must load it by autoload, as on a fleet host
# after `make dkms-install`.
top=$(cd "$(dirname "$0")/.." && pwd)
ksft=$top/build/ksrc/tools/testing/selftests
# shellcheck source=/dev/null
. "$ksft/kselftest/ktap_helpers.sh"

kver=$(uname -r)
dep=$top/build/dkms-test/moddep/$kver
mods=/lib/modules/$kver

ktap_print_header
ktap_set_plan 4

[ -d "$dep" ] || ktap_exit_fail_msg "$dep missing: the host stage (selftests/host/dkms_test.sh) runs first"
[ -d /sys/module/gomemguard ] && rmmod gomemguard
[ -d /sys/module/gomemguard ] && ktap_exit_fail_msg "gomemguard is loaded and cannot be unloaded"

# Swap this build's overlay (scripts/guest-modules.sh) for the DKMS one.
grep -q "^gmg-modules $mods " /proc/mounts && umount "$mods"
mount -t overlay gmg-dkms -o "lowerdir=$dep:$mods" "$mods" ||
	ktap_exit_fail_msg "cannot lay the DKMS modules over $mods"

path=$(modinfo -n gomemguard 2>&1)
echo "# modinfo -n gomemguard: $path"
case $path in
*/updates/dkms/gomemguard.ko*) ok=1 ;;
*) ok=0 ;;
esac
ktap_test_result "the modules index finds the DKMS-installed module" test $ok -eq 1

out=$("$GOMEMCTL" info 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
ktap_test_result "the first gomemctl call loads it (autoload)" \
	test $rc -eq 0 -a -d /sys/module/gomemguard

want=$(modinfo -F srcversion "$path")
got=$(cat /sys/module/gomemguard/srcversion 2>/dev/null)
echo "# srcversion: loaded $got, DKMS module $want"
ktap_test_result "the loaded module is that one" test -n "$want" -a "$got" = "$want"

rmmod gomemguard
rc=$?
umount "$mods"
"$top"/scripts/guest-modules.sh
ktap_test_result "it unloads again" test $rc -eq 0

ktap_finished
