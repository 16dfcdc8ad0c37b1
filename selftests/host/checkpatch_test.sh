#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: the module and UAPI sources are checkpatch --strict clean.
# compat.h is the one file allowed to test LINUX_VERSION_CODE.
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
cp="perl $top/build/ksrc/scripts/checkpatch.pl --no-tree --strict --terse --show-types -f"

cd "$top" || exit 1
files=$(ls kmod/*.c kmod/*.h include/uapi/linux/*.h | grep -v '^kmod/compat.h$')
ktap_print_header
ktap_set_plan 2
# shellcheck disable=SC2086
out=$($cp $files 2>&1)
rc=$?
echo "$out" | grep -E ': (ERROR|WARNING|CHECK):' | sed 's/^/# /'
ktap_test_result "checkpatch --strict: module and UAPI sources" test $rc -eq 0

out=$($cp --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON kmod/compat.h 2>&1)
rc=$?
echo "$out" | grep -E ': (ERROR|WARNING|CHECK):' | sed 's/^/# /'
ktap_test_result "checkpatch --strict: compat.h (version checks allowed)" test $rc -eq 0
ktap_finished
