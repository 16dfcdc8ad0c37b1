# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shell tests, host and guest, after kselftest's
# ktap_helpers.sh (and selftests/time_scale.sh, for wait_for): what each of
# them would otherwise write again.

# wait_for SECONDS CMD...: polls CMD every 0.2 s for up to SECONDS times
# GMG_TIME_SCALE; a bound, not a measure.
# shellcheck disable=SC2154 # gmg_scale: time_scale.sh
wait_for() {
	local i n=$(($1 * 5 * gmg_scale))

	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# result NAME CMD...: one KTAP line; returns CMD's verdict, so that a
# failure can be followed by "|| diag_file ...".
result() {
	local name=$1

	shift
	if "$@"; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
		return 1
	fi
}

# diag_file LABEL FILE: FILE's last lines as KTAP comments.
diag_file() {
	sed "s/^/# $1: /" "$2" 2>/dev/null | tail -n 40
}
