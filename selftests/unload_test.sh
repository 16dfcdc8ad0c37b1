#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs last: after everything the other tests did, gomemguard must hold no
# references and must unload, taking its generic-netlink family with it.

ksft=$(cd "$(dirname "$0")/.." && pwd)/build/ksrc/tools/testing/selftests
# shellcheck source=/dev/null
. "$ksft/kselftest/ktap_helpers.sh"

ktap_print_header
ktap_set_plan 3

if [ ! -d /sys/module/gomemguard ]; then
	ktap_exit_fail_msg "gomemguard is not loaded: the tests before should have left it loaded"
fi

refs=$(cat /sys/module/gomemguard/refcnt)
[ "$refs" = 0 ]
ktap_test_result "no references left (refcnt $refs)" test $? -eq 0

rmmod gomemguard
ktap_test_result "rmmod succeeds" test $? -eq 0

# With autoload off, a lookup must find no family once the module is gone:
# gomemctl says so with its exit status 3, "module not loaded".
old=$(cat /proc/sys/kernel/modprobe)
echo > /proc/sys/kernel/modprobe
"$GOMEMCTL" info >/dev/null 2>&1
rc=$?
echo "$old" > /proc/sys/kernel/modprobe
[ $rc = 3 ] && [ ! -d /sys/module/gomemguard ]
ktap_test_result "family is gone after unload" test $? -eq 0

ktap_finished
