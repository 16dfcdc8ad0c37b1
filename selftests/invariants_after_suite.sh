#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Last in guest-run.sh's suite, after the module has been loaded, used by
# every test and unloaded (unload_test.sh, dkms_load_test.sh): the host
# must be as guest-run.sh found it before anything ran (host_state.sh save
# $GMG_SUITE_STATE).  guest-run.sh's own set-up came after that save -- the
# overlay that makes the module reachable for modprobe, the data disk -- and
# is undone here first; anything else changed is a failure.
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

mods=/lib/modules/$(uname -r)
name="after the suite: the host as before it (mounts, cgroup2, kernel threads, sysctls, mm knobs, kprobes, tracing)"

ktap_print_header
ktap_set_plan 1

[ -d "${GMG_SUITE_STATE:-}" ] ||
	ktap_exit_fail_msg "no state saved before the suite: GMG_SUITE_STATE=${GMG_SUITE_STATE:-} (guest-run.sh saves it)"

if [ -d /sys/module/gomemguard ]; then
	echo "# gomemguard is still loaded: the tests before should have unloaded it"
	ktap_test_fail "$name"
	ktap_finished
fi

if [ -n "${GMG_DATA_DIR:-}" ] && mountpoint -q "$GMG_DATA_DIR"; then
	umount "$GMG_DATA_DIR" || echo "# cannot unmount the data disk at $GMG_DATA_DIR"
fi
# /proc/mounts names the mount point by its real path: /usr/lib/modules on a
# merged /usr.  The overlay may be there twice (scripts/guest-modules.sh's
# own check for it misses it on a merged /usr, dkms_load_test.sh runs it
# again).
real=$(realpath "$mods")
while grep -q "^gmg-modules $real " /proc/mounts; do
	umount "$mods" || { echo "# cannot unmount the modules overlay on $mods"; break; }
done

out=$("$top"/selftests/host_state.sh compare "$GMG_SUITE_STATE" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
ktap_test_result "$name" test $rc -eq 0

ktap_finished
