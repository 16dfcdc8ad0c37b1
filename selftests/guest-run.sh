#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a guest booted by selftests/vm/guest.sh: makes this kernel's
# gomemguard.ko reachable for autoload, runs the selftests through the
# kselftest runner (KTAP on stdout).  The last tests unload the module (one
# that cannot go is leaking a reference) and compare the host with how it
# was found.
#
# Usage: guest-run.sh [--core]
#   (none)  every selftest: the full tier (Debian 12's two kernels)
#   --core  the core tier, for every other kernel (trixie, sid, the cloud
#           and rt flavours): each hook exercised once -- load, unload and
#           autoload; tags by PID and by cgroup; fork, exec and exit; a Go
#           leak to its eta and a memcg OOM to its post-mortem; a page-cache
#           reader that raises no alarm but pressure events, and anon that
#           squeezes it out; a recover; events a slow listener loses, counted;
#           a tmpfs writer; the fuse; the privilege refusals, in and out of a container;
#           cgroup tags coming and going under busy hooks (race_test) -- and
#           the host-invariant checks around it.
#           The guest's kernel log is checked by guest.sh as for any run.
set -u
tier=full
case ${1:-} in
'') ;;
--core) tier=core ;;
*) echo "usage: guest-run.sh [--core]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
kbuild=$top/build/k/$kver
ksft=$top/build/ksrc/tools/testing/selftests
tests=$top/build/selftests

export GMG_KO=$kbuild/gomemguard.ko
# The same module built with GMG_DEBUG=y: race_test widens a race with it.
export GMG_DEBUG_KO=$kbuild/debug/gomemguard.ko
export GOMEMCTL=$top/tools/gomemctl
export GMG_WORKLOADS=$top/build/workloads
export PATH=$top/tools:$PATH

die() {
	echo "Bail out! $*"
	exit 1
}

# GMG_TIME_SCALE: checked here once, before any test; see time_scale.sh.
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"

[ -f "$GMG_KO" ] || die "$GMG_KO missing: build the module for $kver first"
[ -x "$GOMEMCTL" ] || die "$GOMEMCTL missing: make tools"

# What gomemguard must leave as it found it, saved before this script or
# any test changes the guest; selftests/invariants_after_suite.sh, the last
# program, undoes the set-up below and compares.
export GMG_SUITE_STATE=/tmp/gmg-suite-state
"$top"/selftests/host_state.sh save "$GMG_SUITE_STATE" || die "cannot save the host state"

"$top"/scripts/guest-modules.sh || die "cannot make the module reachable for autoload"

# The data disk (scripts/data-disk.sh), attached as the first virtio disk:
# page cache from a real block-device filesystem.
if [ -b /dev/vda ]; then
	modprobe ext4
	mkdir -p /tmp/gmg-data
	mount -o ro /dev/vda /tmp/gmg-data || die "cannot mount the data disk"
	export GMG_DATA_DIR=/tmp/gmg-data
fi

# shellcheck source=/dev/null
BASE_DIR=$ksft
# The runner is written for sh without -u.
set +u
. "$ksft/kselftest/runner.sh"
# Per test program; GMG_TEST_TIMEOUT is taken as given, the default scaled.
export kselftest_override_timeout=${GMG_TEST_TIMEOUT:-$((400 * gmg_scale))}
# The global OOM needs a small guest of its own: selftests/guest-global-oom.sh.
cd "$tests" || die "no $tests"
if [ "$tier" = core ]; then
	export KSELFTEST_GENL_TEST_ARGS="-t info_reports_module_and_kernel
		-t hooks_only_while_tagged -t reserved_header_byte_is_refused
		-t unprivileged_user_cannot_mutate_read_or_listen
		-t stop_signals_are_refused -t fuse_needs_the_right_to_kill"
	export KSELFTEST_TRACKER_TEST_ARGS="-t go_heap_leak_warns_in_order_before_oom
		-t page_cache_reader_never_warns -t signal_fuse_fires_once_per_crossing
		-t untag_and_exit_release_everything
		-t cgroup_tag_catches_members_now_and_later
		-t vfork_child_is_watched_from_its_exec
		-t memcg_oom_leaves_a_post_mortem
		-t memcg_split_holds_with_mglru_on_and_off
		-t tmpfs_writer_is_pinned_and_warned_before_oom
		-t inherit_follows_forks -t reused_pid_is_a_new_process
		-t idle_threads_are_counted -t rate_limit_drops_and_counts"
	export KSELFTEST_EVENTS_TEST_ARGS="-t recover_after_warn_when_memory_is_freed
		-t anon_growth_squeezes_the_page_cache
		-t lost_events_are_reported_and_counted_exactly"
	run_many "$tests"/module_test "$tests"/genl_test "$tests"/ns_test \
		"$tests"/tracker_test "$tests"/events_test "$tests"/race_test \
		"$top"/selftests/invariants_test.sh "$top"/selftests/unload_test.sh \
		"$top"/selftests/invariants_after_suite.sh
	exit
fi
export KSELFTEST_TRACKER_TEST_ARGS="-T global_oom_kills_a_tagged_leak"
run_many "$tests"/module_test "$tests"/genl_test "$tests"/ns_test "$tests"/cli_test \
	"$tests"/discover_test "$top"/selftests/readme_test.sh \
	"$tests"/tracker_test "$tests"/memcg_eta_test "$tests"/events_test "$tests"/fuzz_test \
	"$top"/selftests/monitor_test.sh \
	"$top"/selftests/monitor_reload_test.sh \
	"$top"/selftests/policy_monitor_test.sh \
	"$top"/selftests/policy_caps_test.sh "$top"/selftests/fuse_test.sh \
	"$top"/selftests/ynl_test.sh \
	"$tests"/stress_test "$tests"/race_test "$top"/selftests/invariants_test.sh \
	"$top"/selftests/kcgroup_test.sh \
	"$tests"/dying_test \
	"$top"/selftests/unload_test.sh \
	"$top"/selftests/dkms_load_test.sh \
	"$top"/selftests/invariants_after_suite.sh
