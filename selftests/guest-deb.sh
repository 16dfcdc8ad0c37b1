#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a guest of its own (check.sh's KVER:deb stage): the Debian
# packages `make deb` built on the host, installed with apt, the module
# compiled by DKMS for this kernel, loaded by the packaged gomemctl, purged
# (selftests/deb_install_test.sh).  Through the kselftest runner, so that
# its results nest like every other stage's.  Nothing of build/k/ is used:
# the module under test is the one DKMS builds here.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
ksft=$top/build/ksrc/tools/testing/selftests

# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"

# shellcheck disable=SC2034 # read by runner.sh
BASE_DIR=$ksft
# The runner is written for sh without -u.
set +u
# shellcheck source=/dev/null
. "$ksft/kselftest/runner.sh"
# DKMS compiles the module under TCG: about 10 minutes; GMG_TEST_TIMEOUT is
# taken as given, the default scaled.
export kselftest_override_timeout=${GMG_TEST_TIMEOUT:-$((1500 * gmg_scale))}
cd "$top/selftests" || exit 1
run_many "$top"/selftests/deb_install_test.sh
