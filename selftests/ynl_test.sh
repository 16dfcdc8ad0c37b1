#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The family driven by the kernel's own YNL client with
# Documentation/netlink/specs/gomemguard.yaml, against the real module: a
# client that knows nothing of gomemguard but the spec.  cli.py (as shipped
# in linux-source-6.12's tools/net/ynl) does info-get, tag-new by PID on a
# sleeping process with a soft limit and levels, proc-get (do and dump),
# tag-del; selftests/ynl_events.py, on ynl's library, subscribes with
# events-subscribe and must get the EXIT event of the tagged process when
# it is killed.  Every reply is checked field by field, decoded by ynl from
# the spec (enums by name, levels as a u32 array, the hooks nest).
#
# Needs the module loadable (guest-run.sh) or loaded, root, python3 with
# python3-yaml (python3-jsonschema too, or the spec is not validated), and
# build/ksrc's ynl (scripts/ksrc.sh).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=$top/build/ksrc
# shellcheck source=/dev/null
. "$ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

py=${PYTHON:-python3}
ynl=$ksrc/tools/net/ynl
spec=$top/Documentation/netlink/specs/gomemguard.yaml
schema=$ksrc/Documentation/netlink/genetlink-c.yaml
dir=$(mktemp -d /tmp/gmg-ynl.XXXXXX)
limit=$((64 << 20))
sleeper=
listener=

cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null
	[ -n "$sleeper" ] && kill -KILL "$sleeper" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# No jsonschema: ynl loads the spec without validating it (the host test
# validates it).
if "$py" -c 'import jsonschema' 2>/dev/null; then
	schema_arg=(--schema "$schema")
else
	schema_arg=(--no-schema)
	schema=
fi

# cli OUT ARGS...: cli.py with the spec and ARGS, JSON output in OUT;
# its status, its output as comments when it fails.
cli() {
	local out=$1

	shift
	if "$py" "$ynl/cli.py" --spec "$spec" "${schema_arg[@]}" --output-json "$@" \
		>"$dir/$out" 2>"$dir/$out.err"; then
		return 0
	fi
	sed 's/^/# /' "$dir/$out" "$dir/$out.err"
	return 1
}

# expect OUT PYTHON-EXPR: EXPR, with d the JSON in OUT, is true; if not,
# shows OUT.
expect() {
	if "$py" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$dir/$1" "$2"; then
		return 0
	fi
	echo "# not true: $2"
	sed 's/^/# /' "$dir/$1"
	return 1
}

info_ok() {
	cli info0 --do info-get &&
		expect info0 "d['version'] == '$(cat "$top/VERSION")'" &&
		expect info0 "d['kernel-release'] == '$(uname -r)'" &&
		expect info0 "type(d['tagged']) is int and type(d['events-sent']) is int" &&
		expect info0 "d['open-read'] in (0, 1) and 1 <= d['event-burst'] <= 1000" &&
		expect info0 "d['pressure-medium-pct'] < d['pressure-critical-pct'] and 'hooks' in d"
}

# Levels 50, 80, 100 %: a binary of u32s, as ynl takes binary (hex).
levels=$("$py" -c 'import struct; print(struct.pack("=3I", 50, 80, 100).hex())')

tag_ok() {
	cli tag --do tag-new --json \
		"{\"pid\": $sleeper, \"soft-limit\": $limit, \"levels\": \"$levels\", \"limit-origin\": \"user\"}" &&
		expect tag "d is None" &&
		cli info1 --do info-get &&
		expect info1 "d['tagged'] >= 1 and len(d['hooks'].get('hook', [])) > 0"
}

proc_ok() {
	cli proc --do proc-get --json "{\"pid\": $sleeper}" &&
		expect proc "d['pid'] == $sleeper and d['comm'] == 'sleep' and d['source'] == 'pid'" &&
		expect proc "d['soft-limit'] == $limit and d['levels'] == [50, 80, 100]" &&
		expect proc "d['limit-origin'] == 'user' and d['signal'] == 0 and d['inherit'] == 0" &&
		expect proc "d['memcg'].startswith('/') and d['anon'] < $limit and type(d['rate']) is int" &&
		cli dump --dump proc-get &&
		expect dump "[p['soft-limit'] for p in d if p['pid'] == $sleeper] == [$limit]"
}

untag_ok() {
	cli untag --do tag-del --json "{\"pid\": $sleeper}" &&
		expect untag "d is None" &&
		cli dump2 --dump proc-get &&
		expect dump2 "$sleeper not in [p['pid'] for p in d]" &&
		if cli gone --do proc-get --json "{\"pid\": $sleeper}" >/dev/null; then
			echo "# proc-get of an untagged process answered"
			false
		fi
}

# The listener subscribes; the sleeper, tagged again, is killed; its EXIT
# event must come, with its numbers.
exit_event_ok() {
	local i

	cli retag --do tag-new --json "{\"pid\": $sleeper, \"soft-limit\": $limit}" || return 1
	"$py" "$top/selftests/ynl_events.py" --ynl "$ynl" --spec "$spec" --schema "$schema" \
		--pid "$sleeper" --event exit --timeout $((10 * gmg_scale)) >"$dir/events" 2>&1 &
	listener=$!
	for ((i = 0; i < 50 * gmg_scale; i++)); do
		grep -q '^subscribed ' "$dir/events" && break
		kill -0 "$listener" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^subscribed ' "$dir/events"; then
		echo "# the listener did not subscribe"
		sed 's/^/# /' "$dir/events"
		return 1
	fi
	kill -KILL "$sleeper"
	wait "$sleeper" 2>/dev/null
	sleeper=
	if ! wait "$listener"; then
		listener=
		sed 's/^/# /' "$dir/events"
		return 1
	fi
	listener=
	tail -n 1 "$dir/events" >"$dir/event"
	expect event "d['event'] == 'exit' and d['comm'] == 'sleep' and d['soft-limit'] == $limit" &&
		expect event "d['seq'] > $(sed -n 's/^subscribed //p' "$dir/events") and d['time-ns'] > 0"
}

ktap_print_header
ktap_set_plan 5

[ -f "$ynl/cli.py" ] || ktap_exit_fail_msg "no $ynl/cli.py: run scripts/ksrc.sh"
"$py" -c 'import yaml' 2>/dev/null || ktap_exit_fail_msg "python3-yaml is missing"
# ynl finds families by dumping the controller, which does not autoload.
if [ ! -d /sys/module/gomemguard ]; then
	modprobe gomemguard || ktap_exit_fail_msg "cannot load gomemguard"
fi

sleep 1000 &
sleeper=$!

result "info-get: version, kernel release, counters, settings" info_ok
result "tag-new by PID with a soft limit and levels; info-get shows it and its hooks" tag_ok
result "proc-get (do and dump) shows the process, its settings and numbers" proc_ok
result "tag-del: the process is no longer watched" untag_ok
result "events-subscribe, then the EXIT event of a tagged process that is killed" exit_event_ok

ktap_finished
