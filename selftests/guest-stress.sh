#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a guest whose clock counts instructions (check.sh boots it
# with QEMU's -icount shift=2: 4 ns of guest time per instruction, one vCPU
# of 250 MIPS): the stress test for 60 s, with 1,000 short-lived processes
# a second required through the churn.  In real time under TCG that rate is
# the host's, not the module's; the full suite's guest runs the same test
# on two vCPUs, for its races, with no rate asked.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
ksft=$top/build/ksrc/tools/testing/selftests
tests=$top/build/selftests

kver=$(uname -r)
export GMG_KO=$top/build/k/$kver/gomemguard.ko
export GMG_STRESS_SECONDS=60 GMG_STRESS_MIN_RATE=1000
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"
"$top"/scripts/guest-modules.sh || { echo "Bail out! cannot make the module reachable"; exit 1; }
modprobe gomemguard || { echo "Bail out! cannot load the module"; exit 1; }

BASE_DIR=$ksft
# The runner is written for sh without -u.
set +u
# shellcheck source=/dev/null
. "$ksft/kselftest/runner.sh"
export kselftest_override_timeout=${GMG_TEST_TIMEOUT:-$((600 * gmg_scale))}
cd "$tests" || exit 1
run_many "$tests"/stress_test
