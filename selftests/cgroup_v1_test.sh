#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A cgroup v1 (or hybrid) host: the memory controller bound to a v1
# hierarchy.  The module must refuse to load, saying in the kernel log that
# it needs the unified hierarchy, and gomemctl must name the reason instead
# of the usual "run modprobe".  Once the v1 hierarchy is gone, the
# controller is back on cgroup v2 and the module loads.
#
# Runs first in a fresh guest (guest-global-oom.sh): the controller can
# only move to v1 while no memory cgroup but the root exists.  Kernels
# built without v1 memory cgroups (Debian's 6.12: CONFIG_MEMCG_V1 unset)
# cannot be such a host: there the v1 mount must fail and the module load.
# Restores the root's subtree_control; leaves the module unloaded.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
cg=/sys/fs/cgroup
v1=$(mktemp -d /tmp/gmg-v1.XXXXXX)
controls=$(cat "$cg/cgroup.subtree_control")

cleanup() {
	local c

	mountpoint -q "$v1" && umount "$v1"
	rmdir "$v1"
	[ -n "${old:-}" ] && echo "$old" >/proc/sys/kernel/modprobe
	for c in $controls; do
		echo "+$c" >"$cg/cgroup.subtree_control" 2>/dev/null
	done
}
trap cleanup EXIT

memory_hierarchy() {
	awk '$1 == "memory" { print $2 }' /proc/cgroups
}

ktap_print_header
ktap_set_plan 3

[ -d /sys/module/gomemguard ] && ktap_exit_fail_msg "gomemguard is loaded already"

if mount -t cgroup -o memory gmgv1 "$v1" 2>"$v1.err"; then
	echo "# memory controller on v1 hierarchy $(memory_hierarchy)"
	dmesg -C
	modprobe gomemguard 2>/dev/null
	rc=$?
	refused() {
		[ "$rc" != 0 ] && [ ! -d /sys/module/gomemguard ] &&
			dmesg | grep -q "gomemguard: the memory controller is on a cgroup v1 hierarchy; gomemguard needs it on the unified hierarchy (cgroup v2"
	}
	if refused; then
		ktap_test_pass "memory on cgroup v1: the module refuses to load, the kernel log says why"
	else
		dmesg | tail -n 5 | sed 's/^/# dmesg: /'
		ktap_test_fail "memory on cgroup v1: the module refuses to load, the kernel log says why"
	fi
	"$ctl" info >/dev/null 2>"$v1.info"
	rc=$?
	names_v1() {
		[ "$rc" = 3 ] && grep -q "memory controller is on a cgroup v1 hierarchy" "$v1.info"
	}
	if names_v1; then
		ktap_test_pass "gomemctl: exit 3, naming cgroup v1 and the unified hierarchy"
	else
		sed 's/^/# gomemctl info: /' "$v1.info"
		ktap_test_fail "gomemctl: exit 3, naming cgroup v1 and the unified hierarchy (exit $rc)"
	fi
	umount "$v1"
else
	echo "# no v1 memory controller in this kernel: $(cat "$v1.err")"
	if [ "$(memory_hierarchy)" = 0 ]; then
		ktap_test_pass "no v1 memory controller in this kernel: nothing for the module to refuse"
	else
		ktap_test_fail "no v1 memory mount, yet memory on hierarchy $(memory_hierarchy)"
	fi
	# Autoload off: the module missing on a v2 host is the usual case.
	old=$(cat /proc/sys/kernel/modprobe)
	echo >/proc/sys/kernel/modprobe
	"$ctl" info >/dev/null 2>"$v1.info"
	rc=$?
	echo "$old" >/proc/sys/kernel/modprobe
	usual() {
		[ "$rc" = 3 ] && grep -q 'run "modprobe gomemguard"' "$v1.info" &&
			! grep -q "cgroup v1" "$v1.info"
	}
	if usual; then
		ktap_test_pass "gomemctl: exit 3, module not loaded, no cgroup v1 claimed on a v2 host"
	else
		sed 's/^/# gomemctl info: /' "$v1.info"
		ktap_test_fail "gomemctl: exit 3, module not loaded, no cgroup v1 claimed on a v2 host (exit $rc)"
	fi
fi
rm -f "$v1.err" "$v1.info"

# The v1 hierarchy, empty and unmounted, is gone: memory is v2's again.
for c in $controls; do
	echo "+$c" >"$cg/cgroup.subtree_control"
done
back() {
	[ "$(memory_hierarchy)" = 0 ] && grep -qw memory "$cg/cgroup.subtree_control" &&
		modprobe gomemguard && rmmod gomemguard
}
if back; then
	ktap_test_pass "memory back on cgroup v2: the module loads and unloads"
else
	ktap_test_fail "memory back on cgroup v2: the module loads and unloads (hierarchy $(memory_hierarchy))"
fi
ktap_finished
