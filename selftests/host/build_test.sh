#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: gomemguard.ko builds for every target kernel with W=1 and sparse
# (C=1) and not a single warning.  The modules it leaves in build/k/ are the
# ones the guests load.
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

# Every kernel of both tiers (scripts/check.sh): the core tier's are built in
# their suites' build roots.
read -r -a kvers <<<"${KVERS:?KVERS not set} ${CORE_KVERS:-}"
ktap_print_header
ktap_set_plan "${#kvers[@]}"
for k in "${kvers[@]}"; do
	"$top/scripts/build-module.sh" "$k" 2>&1 | sed 's/^/# /'
	ktap_test_result "module builds for $k with W=1 C=1, no warnings" test "${PIPESTATUS[0]}" -eq 0
done
ktap_finished
