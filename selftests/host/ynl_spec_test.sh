#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: Documentation/netlink/specs/gomemguard.yaml, the family's YNL
# spec, validates against the kernel's genetlink-c schema; the UAPI header
# the kernel's generator renders from it has the names and values of
# include/uapi/linux/gomemguard.h; its types, checks and commands are those
# of the policies, op table and message builders in kmod/; ynl's library
# encodes requests and decodes events with it; and copies of the spec with
# one value changed are caught, so that the checks can fail.  The checks
# are selftests/host/ynl_check.py's.  Needs python3-yaml, python3-jsonschema
# and cc; ynl and the schemas come from build/ksrc (scripts/ksrc.sh).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
ksrc=$top/build/ksrc
# shellcheck source=/dev/null
. "$ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

spec=$top/Documentation/netlink/specs/gomemguard.yaml
check=$top/selftests/host/ynl_check.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# quiet CMD...: CMD's status; its output, if any, as comments.
quiet() {
	"$@" >"$work/out" 2>&1
	local rc=$?

	sed 's/^#* *//; s/^/# /' "$work/out"
	return $rc
}

# result NAME CMD...: one KTAP line; CMD's status.
result() {
	local name=$1

	shift
	if quiet "$@"; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
	fi
}

# caught NAME SED CHECK PATTERN: a copy of the spec edited by SED fails
# ynl_check.py CHECK, which names what differs (PATTERN).
caught() {
	local name=$1 edit=$2 what=$3 pattern=$4 bad=$work/bad/Documentation/netlink/specs

	mkdir -p "$bad"
	sed "$edit" "$spec" >"$bad/gomemguard.yaml"
	if cmp -s "$spec" "$bad/gomemguard.yaml"; then
		echo "# the edit '$edit' changed nothing"
		ktap_test_fail "$name"
		return
	fi
	if python3 "$check" --spec "$bad/gomemguard.yaml" "$what" >"$work/out" 2>&1; then
		echo "# ynl_check.py $what passed a broken spec"
		ktap_test_fail "$name"
	elif ! grep -q -- "$pattern" "$work/out"; then
		sed 's/^#* *//; s/^/# /' "$work/out"
		echo "# ynl_check.py $what failed without naming $pattern"
		ktap_test_fail "$name"
	else
		grep -- "$pattern" "$work/out" | sed 's/^#* *//; s/^/# caught: /'
		ktap_test_pass "$name"
	fi
}

ktap_print_header
ktap_set_plan 8

if [ ! -f "$ksrc/tools/net/ynl/lib/ynl.py" ] || [ ! -f "$ksrc/Documentation/netlink/genetlink-c.yaml" ]; then
	ktap_exit_fail_msg "no ynl in $ksrc: run scripts/ksrc.sh"
fi
python3 -c 'import yaml, jsonschema' 2>/dev/null ||
	ktap_exit_fail_msg "python3-yaml and python3-jsonschema are needed (scripts/deps.sh)"

result "the spec validates against the kernel's genetlink-c schema" python3 "$check" schema
result "ynl-gen-c's UAPI header from the spec has the names and values of gomemguard.h" \
	python3 "$check" uapi
result "types, checks, commands match kmod/netlink.c's policies and ops and kmod's builders" \
	python3 "$check" policy
result "ynl's library encodes the guest test's requests and decodes an event" \
	python3 "$check" encode
caught "a changed constant is caught" 's/value: 86400000$/value: 86400001/' uapi \
	GOMEMGUARD_ETA_HORIZON_MS_MAX
caught "a command moved is caught" '/^    -$/{N;s/name: memcg-get/name: memcg-get\n      value: 10/}' \
	uapi GOMEMGUARD_CMD_MEMCG_GET
caught "a changed attribute type is caught" '/name: victim-tagged$/{n;s/u8/u32/}' policy \
	victim-tagged
caught "a changed range is caught" '/name: event-burst$/,/max:/s/max: event-burst-max/max: 1001/' \
	policy event-burst

ktap_finished
