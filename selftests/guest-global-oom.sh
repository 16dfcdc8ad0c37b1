#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a small guest (selftests/vm/guest.sh --mem 256): the one test
# that needs the whole machine to run out of memory -- a global OOM kill of
# a tagged leak, reported as such -- after the one that needs a fresh
# guest, with no memory cgroup yet: the module on a cgroup v1 host.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
ksft=$top/build/ksrc/tools/testing/selftests
tests=$top/build/selftests

export GMG_KO=$top/build/k/$(uname -r)/gomemguard.ko
export GOMEMCTL=$top/tools/gomemctl
export GMG_WORKLOADS=$top/build/workloads
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"
"$top"/scripts/guest-modules.sh || { echo "Bail out! cannot make the module reachable"; exit 1; }

BASE_DIR=$ksft
# The runner is written for sh without -u.
set +u
# shellcheck source=/dev/null
. "$ksft/kselftest/runner.sh"
# GMG_TEST_TIMEOUT is taken as given, the default scaled.
export kselftest_override_timeout=${GMG_TEST_TIMEOUT:-$((300 * gmg_scale))}
export KSELFTEST_TRACKER_TEST_ARGS="-t global_oom_kills_a_tagged_leak"
cd "$tests" || exit 1
run_many "$top"/selftests/cgroup_v1_test.sh "$tests"/tracker_test
