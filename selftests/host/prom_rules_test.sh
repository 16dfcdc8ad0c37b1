#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: the Prometheus alerting rules of dist/gomemguard.rules.yml.
# promtool checks them, and runs their unit tests
# (selftests/host/gomemguard.rules.test.yml: each alert fires when it
# should and not before); every gomemguard_* metric the rules use is one
# tools/prom.c writes; and the textfiles monitor --prom-file writes against
# the fake kernel (tools/tests/service_test, module up and module missing)
# pass promtool check metrics.  Needs promtool (Debian's prometheus) and
# the tools' tests (make -C tools).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

rules=$top/dist/gomemguard.rules.yml
tests=$top/selftests/host/gomemguard.rules.test.yml
service_test=$top/tools/tests/service_test
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs promtool, its output as diagnostics.
promtool_quiet() {
	local rc=0

	promtool "$@" >"$tmp/out" 2>&1 || rc=$?
	sed 's/^/# /' "$tmp/out"
	return "$rc"
}

metrics_known() {
	local name ok=0

	for name in $(grep -o 'gomemguard_[a-z0-9_]*' "$rules" | sort -u); do
		if ! grep -q "\"$name\"\\|\"$name[{ ]" "$top/tools/prom.c"; then
			echo "# $name is not a metric tools/prom.c writes"
			ok=1
		fi
	done
	return "$ok"
}

prom_files() {
	mkdir -p "$tmp/prom"
	GMC_PROM_SAVE=$tmp/prom "$service_test" >"$tmp/service.out" 2>&1 || {
		sed 's/^/# /' "$tmp/service.out"
		return 1
	}
	[ -s "$tmp/prom/up.prom" ] && [ -s "$tmp/prom/down.prom" ] || {
		echo "# service_test wrote no textfiles (skipped its netlink tests?)"
		return 1
	}
	promtool_quiet check metrics <"$tmp/prom/up.prom" &&
		promtool_quiet check metrics <"$tmp/prom/down.prom" &&
		grep -q '^gomemguard_module_up 0$' "$tmp/prom/down.prom"
}

ktap_print_header
ktap_set_plan 4

if ! command -v promtool >/dev/null; then
	ktap_skip_all "no promtool (apt-get install prometheus)"
	exit "$KSFT_SKIP"
fi
[ -x "$service_test" ] || ktap_exit_fail_msg "no $service_test: make -C tools"

result "promtool check rules: dist/gomemguard.rules.yml" \
	promtool_quiet check rules "$rules" || true
result "promtool test rules: each alert fires when it should, not before" \
	promtool_quiet test rules "$tests" || true
result "the rules use only metrics tools/prom.c writes" metrics_known || true
result "promtool check metrics: monitor's textfiles, module up and missing" \
	prom_files || true

ktap_finished
