#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gomemctl monitor --policy-dir, as the unit runs it, against the real
# module and a real Go service in a systemd-style unit cgroup
# (/gmgpolicy.slice/gmgapi.service).  A rule file written while the module
# is not loaded must tag the service as soon as monitor starts; the service
# restarted (a new PID) must be tagged again, and so after rmmod and
# modprobe -- and monitor itself must not undo the rmmod, not even one
# caught halfway (GMG_DEBUG_KO: the debug module); removing the rule
# and sending SIGHUP must untag it.  A process in the same unit tagged by
# hand stays as it was throughout.  And policy check must name the line of
# a broken file.
#
# Needs the module reachable by modprobe, $GOMEMCTL and $GMG_WORKLOADS
# (guest-run.sh); python3 to read show -j.  Leaves the module loaded.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
workloads=${GMG_WORKLOADS:-$top/build/workloads}
slice=/sys/fs/cgroup/gmgpolicy.slice
cg=$slice/gmgapi.service
dir=$(mktemp -d /tmp/gmg-policy.XXXXXX)
rules=$dir/policy.d
state=$dir/policy.state
monitor=
svc=
hand=
trace=

# The module_request trace instance of case 4b goes, once.
trace_off() {
	[ -n "$trace" ] && [ -d "$trace" ] || return 0
	echo 0 >"$trace/events/module/module_request/enable"
	rmdir "$trace"
	trace=
}

cleanup() {
	[ -n "$monitor" ] && kill -KILL "$monitor" 2>/dev/null
	[ -n "$svc" ] && kill -KILL "$svc" 2>/dev/null
	[ -n "$hand" ] && kill -KILL "$hand" 2>/dev/null
	wait 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg"
	[ -d "$slice" ] && rmdir "$slice"
	[ -d /sys/module/gomemguard ] || modprobe gomemguard
	trace_off
	rm -rf "$dir"
}
trap cleanup EXIT

# soft_limit PID: the soft limit the module watches PID with, or nothing.
soft_limit() {
	"$ctl" show -j 2>/dev/null | python3 -c '
import json, sys
doc = json.load(sys.stdin)
procs = doc["processes"] if isinstance(doc, dict) else doc
for p in procs:
    if p.get("pid") == int(sys.argv[1]):
        print(p["soft_limit_bytes"])
' "$1"
}

# tagged_with PID BYTES
tagged_with() {
	[ "$(soft_limit "$1")" = "$2" ]
}

untagged() {
	[ -z "$(soft_limit "$1")" ]
}

# start_go VAR: a gosleep in the unit's cgroup, its PID in VAR once it runs.
start_go() {
	local ready=$dir/ready.$1

	rm -f "$ready"
	bash -c "echo \$\$ >$cg/cgroup.procs && exec $workloads/gosleep -heap 4M -readyfile $ready" \
		>/dev/null 2>&1 &
	printf -v "$1" %s $!
	wait_for 30 test -s "$ready" || ktap_exit_fail_msg "gosleep did not start"
}

ktap_print_header
ktap_set_plan 9

[ -x "$ctl" ] || ktap_exit_fail_msg "no gomemctl at $ctl"
[ -x "$workloads/gosleep" ] || ktap_exit_fail_msg "no gosleep in $workloads: make workloads"
if [ -d /sys/module/gomemguard ]; then
	rmmod gomemguard || ktap_exit_fail_msg "cannot unload gomemguard for the start"
fi
mkdir -p "$cg" || ktap_exit_fail_msg "cannot create $cg"

# 1. A broken file is named with its line, exit 2.
mkdir -p "$dir/bad.d"
printf '[Match]\nUnit=gmgapi.service\n[Tag]\nSoftLimit=lots\n' >"$dir/bad.d/20-bad.conf"
"$ctl" policy check "$dir/bad.d" >"$dir/check.out" 2>&1
rc=$?
check_names_line() {
	[ "$rc" = 2 ] && grep -q "20-bad.conf:4: " "$dir/check.out"
}
result "policy check: exit 2, the broken file's line named" check_names_line ||
	diag_file "policy check (exit $rc)" "$dir/check.out"

# 2. The rule, written while the module is not loaded, and the service.
mkdir -p "$rules"
cat >"$rules/50-api.conf" <<EOF
[Match]
Unit=gmgapi.service
GoProgram=yes

[Tag]
SoftLimit=64M
Levels=80,100
EOF
start_go svc

"$ctl" monitor -q --prom-file "$dir/gomemguard.prom" --policy-dir "$rules" \
	--policy-state "$state" --ready-file "$dir/ready" 2>"$dir/monitor.err" &
monitor=$!
wait_for 60 test -e "$dir/ready" || {
	diag_file stderr "$dir/monitor.err"
	ktap_exit_fail_msg "monitor did not start"
}
# Tagged before --ready-file: no waiting.
result "a rule written before the module was loaded tags the service at monitor start" \
	tagged_with "$svc" $((64 << 20)) || diag_file stderr "$dir/monitor.err"

# tag_by_hand: another Go process of the unit, which the rule matches too,
# tagged by hand while monitor is stopped (or a rescan could come first):
# not the policy's, whatever the rule says.
tag_by_hand() {
	[ -n "$hand" ] || start_go hand
	"$ctl" tag "$hand" --soft-limit 100M >/dev/null ||
		ktap_exit_fail_msg "cannot tag by hand"
}
kill -STOP "$monitor"
tag_by_hand
kill -CONT "$monitor"

# 3. Restarted: a new PID in the same unit, found by the rescan.
kill -KILL "$svc"
wait "$svc" 2>/dev/null
start_go svc
wait_for $((3 * 10)) tagged_with "$svc" $((64 << 20))
result "the restarted service is tagged again (rescan)" \
	tagged_with "$svc" $((64 << 20)) || diag_file stderr "$dir/monitor.err"

# 4. rmmod: it stays unloaded with monitor running (the rescans come and go).
rmmod gomemguard || ktap_exit_fail_msg "rmmod refused"
sleep $((12 * gmg_scale))
stays_unloaded() {
	[ ! -d /sys/module/gomemguard ] && kill -0 "$monitor"
}
result "after rmmod the module stays unloaded (12 s; monitor and its rules load nothing)" \
	stays_unloaded || diag_file stderr "$dir/monitor.err"

# 4b. An rmmod caught halfway: the module's exit has unregistered its
# family while sysfs still shows it.  The debug module stretches that to
# 12 s, so that a health check and a prom refresh (10 s each) fall in it;
# a lookup by name then would have the kernel load the module again, once
# the exit is done.  monitor must not even ask: the module_request
# tracepoint, in a trace instance of its own, shows no request for it.
trace=/sys/kernel/tracing/instances/gmgpolicy
no_request() {
	! grep -q "family-gomemguard" "$trace/trace"
}
gone_for_good() {
	no_request && stays_unloaded
}
[ -r "${GMG_DEBUG_KO:-}" ] ||
	ktap_exit_fail_msg "no debug module at GMG_DEBUG_KO (scripts/build-module.sh builds it)"
if ! mkdir "$trace" || ! echo 1 >"$trace/events/module/module_request/enable"; then
	ktap_exit_fail_msg "cannot trace module_request in $trace"
fi
kill -STOP "$monitor"
insmod "$GMG_DEBUG_KO" debug_exit_delay_ms=12000 || ktap_exit_fail_msg "insmod of the debug module failed"
tag_by_hand
kill -CONT "$monitor"
wait_for 5 tagged_with "$svc" $((64 << 20)) ||
	ktap_exit_fail_msg "monitor did not tag the service in the debug module"
rmmod gomemguard || ktap_exit_fail_msg "rmmod refused"
sleep $((3 * gmg_scale))
result "an rmmod caught halfway stands: the module is not asked for nor loaded again" \
	gone_for_good || {
	diag_file trace "$trace/trace"
	diag_file stderr "$dir/monitor.err"
}
trace_off

# 5. modprobe: the new module holds no tags; monitor makes them at once
# (sysfs is looked at every second), not at the next rescan.
kill -STOP "$monitor"
modprobe gomemguard || ktap_exit_fail_msg "modprobe failed"
tag_by_hand
kill -CONT "$monitor"
wait_for 5 tagged_with "$svc" $((64 << 20))
result "after modprobe the service is tagged again" \
	tagged_with "$svc" $((64 << 20)) || diag_file stderr "$dir/monitor.err"

# 6. The rule goes, SIGHUP: the policy's tag goes, the hand-made one stays.
rm "$rules/50-api.conf"
kill -HUP "$monitor"
wait_for 10 untagged "$svc"
result "rule removed and SIGHUP: the service is untagged" untagged "$svc" ||
	diag_file stderr "$dir/monitor.err"
result "the tag made by hand stays, with its own soft limit" \
	tagged_with "$hand" $((100 << 20)) || diag_file stderr "$dir/monitor.err"

# 7. What monitor said of it, one line per change.
said_changes() {
	grep -q "policy: tagged pid $svc " "$dir/monitor.err" &&
		grep -q "policy: untagged pid $svc " "$dir/monitor.err"
}
result "each tag made and removed is said on stderr" said_changes ||
	diag_file stderr "$dir/monitor.err"

kill -TERM "$monitor"
wait "$monitor" 2>/dev/null
monitor=
ktap_finished
