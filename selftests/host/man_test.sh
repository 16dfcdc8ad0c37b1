#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: the man pages render cleanly and say what they must, and they
# and the bash completion keep up with the code: every verb of gomemctl.c's
# verb table is in gomemctl(8) and in the completion, every option a verb's
# --help lists is completed, every command and attribute of the UAPI header
# is in gomemguard(4).  Needs tools/gomemctl (make tools).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
man8=$top/tools/gomemctl.8
man4=$top/tools/gomemguard.4
man5=$top/tools/gomemguard.policy.5
completion=$top/dist/gomemctl.bash-completion
uapi=$top/include/uapi/linux/gomemguard.h
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT

# The verbs of the table in gomemctl.c: lines like { "tag", tag_main, ... }.
verbs=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)",[[:space:]]*[a-z_]*_main,.*/\1/p' \
	"$top/tools/gomemctl.c")

# The options a --help lists under "Options:", one per line.
help_options() {
	"$ctl" "$@" --help | sed -n '/^Options:/,$p' |
		grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*|^ +-[a-zA-Z]\b' |
		grep -oE -- '-[a-zA-Z]\b|--[a-z][a-z-]*' | sort -u
}

# What the completion offers for the words given (the last one being
# completed), one per line.
complete_words() {
	bash -c '. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_gomemctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" gomemctl "$@"
}

# man_renders PAGE: exit 0, no groff warning, some text.
man_renders() {
	MANWIDTH=80 man --warnings -l "$1" >"$out" 2>"$out.err"
	local rc=$?

	if [ -s "$out.err" ]; then
		sed 's/^/# /' "$out.err"
	fi
	[ "$rc" = 0 ] && [ ! -s "$out.err" ] && [ "$(wc -l <"$out")" -gt 50 ]
}

# rendered_has STRING...: the last page rendered holds each.
rendered_has() {
	local s ok=0

	for s in "$@"; do
		grep -qF -- "$s" "$out" || { echo "# not in the page: $s"; ok=1; }
	done
	return $ok
}

verbs_in_man8() {
	local v ok=0

	for v in $verbs help; do
		# SYNOPSIS has ".B gomemctl VERB", COMMANDS a .TP line starting
		# with the verb in bold.
		grep -qE "^\.B gomemctl $v( |$)" "$man8" ||
			{ echo "# gomemctl.8: no \"gomemctl $v\" in SYNOPSIS"; ok=1; }
		awk -v v="$v" 'tp && ($0 ~ "^(\\\\fB|\\.BR? \"?)" v "[\" \\\\]") { found = 1 }
			{ tp = ($0 == ".TP") } END { exit !found }' "$man8" ||
			{ echo "# gomemctl.8: no COMMANDS entry for $v"; ok=1; }
	done
	return $ok
}

uapi_in_man4() {
	local name ok=0

	while read -r name; do
		grep -qw -- "$name" "$man4" || { echo "# gomemguard.4 lacks $name"; ok=1; }
	done < <(grep -oE '\bGOMEMGUARD_(CMD|A|EVENT|SOURCE|ORIGIN|LIMIT|PRESSURE|KIND|CONSTRAINT)_[A-Z0-9_]+' "$uapi" |
		grep -vE '_(UNSPEC|MAX)$' | sort -u)
	return $ok
}

verbs_completed() {
	local offered v ok=0

	offered=$(complete_words "")
	for v in $verbs help; do
		grep -qx -- "$v" <<<"$offered" || { echo "# verb $v not completed"; ok=1; }
	done
	return $ok
}

options_completed() {
	local v o offered ok=0

	offered=$(complete_words -)
	for o in $(help_options); do
		grep -qx -- "$o" <<<"$offered" || { echo "# global $o not completed"; ok=1; }
	done
	for v in $verbs; do
		offered=$(complete_words "$v" -)
		for o in $(help_options "$v"); do
			grep -qx -- "$o" <<<"$offered" ||
				{ echo "# $v $o not completed"; ok=1; }
		done
	done
	return $ok
}

lexgrog_ok() {
	lexgrog "$man8" >/dev/null && lexgrog "$man4" >/dev/null &&
		lexgrog "$man5" >/dev/null
}

verbs_documented() {
	verbs_in_man8 && verbs_completed
}

ktap_print_header
ktap_set_plan 10

[ -x "$ctl" ] || ktap_exit_fail_msg "no $ctl: make tools"
[ -n "$verbs" ] || ktap_exit_fail_msg "no verb table found in tools/gomemctl.c"

if command -v man >/dev/null && command -v groff >/dev/null; then
	result "gomemctl.8 renders without groff warnings" man_renders "$man8" || true
	result "gomemctl.8 documents monitor's service options and exit status" \
		rendered_has "--prom-file" "--prom-interval" "--exec-queue" "--syslog" \
		"--quiet" "PROMETHEUS METRICS" "gomemguard_process_eta_seconds" \
		"EXIT STATUS" "gomemguard(4)" || true
	result "gomemguard.4 renders without groff warnings" man_renders "$man4" || true
	result "gomemguard.4 documents the family, commands, events, permissions" \
		rendered_has '"gomemguard"' "GOMEMGUARD_CMD_EVENTS_SUBSCRIBE" \
		"CAP_NET_ADMIN" "open_read" "GOMEMGUARD_EVENT_OOM" "ERRORS" || true
	result "gomemguard.policy.5 renders without groff warnings" \
		man_renders "$man5" || true
	result "gomemguard.policy.5 documents every section and key" \
		rendered_has "[Match]" "[Tag]" "CgroupPath=" "Unit=" "KubernetesPod=" \
		"Executable=" "Comm=" "GoProgram=" "SoftLimit=" "Levels=" \
		"EtaHorizon=" "Signal=" "RateWindow=" "Inherit=" "FNM_PATHNAME" \
		"/run/gomemguard/policy.state" || true
else
	for t in "gomemctl.8 renders" "gomemctl.8 content" "gomemguard.4 renders" \
		"gomemguard.4 content" "gomemguard.policy.5 renders" \
		"gomemguard.policy.5 content"; do
		ktap_test_skip "$t (no man or groff)"
	done
fi
if command -v lexgrog >/dev/null; then
	result "lexgrog finds the pages' NAME lines" lexgrog_ok || true
else
	ktap_test_skip "lexgrog (not installed)"
fi
if command -v mandoc >/dev/null; then
	mandoc -Tlint -Wwarning "$man8" "$man4" "$man5" | sed 's/^/# mandoc: /' || true
fi
result "every command and attribute of the UAPI header is in gomemguard.4" uapi_in_man4 || true
result "every verb of the verb table is in gomemctl.8 and completed" \
	verbs_documented || true
result "every option of every verb's --help is completed" options_completed || true

ktap_finished
