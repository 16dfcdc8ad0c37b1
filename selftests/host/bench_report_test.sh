#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: bench/report.py judges honestly.  bench/report_test.py feeds
# it synthetic raw logs (a leak that never OOMs, a false alarm in the GC
# sawtooth, memory per tag that rounds to 512 B, fork children that were
# never adopted, a tmpfs OOM with no memcg forecast, exit events from a
# shell loop, a scenario that did not run) and asserts each is a miss, and
# that a log meeting every target reads "met" throughout.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

ktap_print_header
ktap_set_plan 1
[ -x /usr/bin/python3 ] || ktap_exit_fail_msg "no /usr/bin/python3 (scripts/deps.sh installs it)"

report_test() {
	local rc=0

	/usr/bin/python3 "$top/bench/report_test.py" >"$tmp" 2>&1 || rc=$?
	sed 's/^/# /' "$tmp"
	return "$rc"
}

result "bench/report.py: every miss in a synthetic raw log is a miss" report_test || true

ktap_finished
