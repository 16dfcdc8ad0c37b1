#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Do no harm: loading gomemguard, tagging, untagging and unloading it must
# leave the host as it was (host_state.sh says what that means).  With
# cgroup2 mounted nsdelegate,memory_recursiveprot as systemd mounts it:
#
#   loaded, nothing tagged:  no kprobe, no tracepoint probe (function trace of
#                            the module's code while processes fork, exec,
#                            fault pages, move between cgroups and exit),
#                            gomemctl info lists no hooks, host unchanged;
#   a PID and a cgroup tagged: the hooks are there (kprobes on
#                            oom_kill_process and vmpressure, module code
#                            runs) and used (reclaim and an OOM kill in the
#                            tagged cgroup, gomemctl show, show --memcg and
#                            oom), nothing else changed;
#   both untagged:           the hooks are gone again within a bounded wait;
#   unloaded:                /sys/module/gomemguard gone, no kernel thread
#                            left, everything as before the load.
#
# In the suite the tests before leave the module loaded: it is unloaded
# first, and loaded again at the end for unload_test.sh.  Needs $GOMEMCTL
# (guest-run.sh sets it), modprobe able to find the module
# (scripts/guest-modules.sh), debugfs and tracefs (the guest mounts both), jq.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
state=$top/selftests/host_state.sh
cgroot=/sys/fs/cgroup
cg=$cgroot/gmgtest.invariants
# Never tagged: a process moving in fires cgroup:cgroup_attach_task.
cg_move=$cgroot/gmgtest.invariants-move
cg_max=$((64 << 20))
kprobes=/sys/kernel/debug/kprobes/list
tr=/sys/kernel/tracing
dir=$(mktemp -d /tmp/gmg-invariants.XXXXXX)
before=$dir/before
was_loaded=0
tagged_pid=
member=
tracing_on=1

cleanup() {
	local p

	if [ -w "$tr/current_tracer" ]; then
		echo "$tracing_on" >"$tr/tracing_on"
		echo nop >"$tr/current_tracer"
		echo >"$tr/set_ftrace_filter"
		echo >"$tr/trace"
	fi
	for p in $tagged_pid $member; do
		kill -KILL "$p" 2>/dev/null
		wait_for 10 test ! -e "/proc/$p"
	done
	for p in "$cg" "$cg_move"; do
		[ -d "$p" ] && rmdir "$p" 2>/dev/null
	done
	rm -rf "$dir"
	# Leave the module as the tests before left it.
	if [ $was_loaded = 1 ] && [ ! -d /sys/module/gomemguard ]; then
		modprobe gomemguard || echo "# cannot load gomemguard again for the tests after"
	fi
}
trap cleanup EXIT

diag() {
	sed 's/^/# /'
}

# result NAME CMD...: one KTAP line from CMD's status.
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

# wait_for SECONDS CMD...: polls CMD every 0.5 s for up to SECONDS times
# GMG_TIME_SCALE; a bound, not a measure.
wait_for() {
	local i n=$(($1 * 2 * gmg_scale))

	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	"$@"
}

# state_same [--while-loaded] [SECTION...]: host_state.sh compare against
# the state before the load, its diff as diagnostics.
state_same() {
	local out rc

	out=$("$state" compare "$before" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | diag
	return $rc
}

cgroup2_opts() {
	awk '$5 == "'"$cgroot"'" { sub(/.* - /, ""); if ($1 == "cgroup2") print $3 }' /proc/self/mountinfo
}

# The superblock options systemd mounts cgroup2 with.
cgroup2_as_systemd() {
	local o

	o=$(cgroup2_opts)
	[[ ,$o, = *,nsdelegate,* && ,$o, = *,memory_recursiveprot,* ]]
}

# The kprobes the module registers, from the kernel's list.
module_kprobes() {
	awk '$3 ~ /^(oom_kill_process|vmpressure)\+/' "$kprobes"
}

has_kprobes() {
	local l

	l=$(module_kprobes)
	[[ $l = *oom_kill_process+* && $l = *vmpressure+* ]]
}

# info_hooks: the hooks gomemctl info -j lists, one a line.
info_hooks() {
	local out

	out=$("$ctl" info -j 2>&1) || { echo "gomemctl info -j failed: $out"; return 1; }
	jq -r '.hooks | if type == "array" then .[] else error("no hooks array") end' \
		<<<"$out" 2>&1 || { echo "in: $out"; return 1; }
}

no_info_hooks() {
	local h

	h=$(info_hooks) || { echo "$h" | diag; return 1; }
	[ -z "$h" ] && return 0
	echo "gomemctl info -j lists hooks: $(echo "$h" | paste -sd ' ')" | diag
	return 1
}

all_info_hooks() {
	local h

	h=$(info_hooks) || { echo "$h" | diag; return 1; }
	echo "gomemctl info -j lists: $(echo "$h" | paste -sd ' ')" | diag
	grep -qx kprobe:oom_kill_process <<<"$h" && grep -qx kprobe:vmpressure <<<"$h" &&
		grep -q '^tracepoint:' <<<"$h"
}

# oom_in_cgroup: a process in the tagged cgroup (adopted, as it inherits
# the tag) asks for twice its memory.max: reclaim finds nothing to take
# (no swap), the memcg's OOM killer kills it.
oom_in_cgroup() {
	local before after

	before=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")
	# In a subshell: bash reports a child killed by a signal on stderr.
	(bash -c "echo \$\$ >$cg/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=$((2 * cg_max)) count=1 status=none") 2>/dev/null
	after=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")
	echo "# $cg/memory.events: oom_kill $before -> $after"
	[ "${after:-0}" -gt "${before:-0}" ]
}

# What every process does, and what the module's hooks see: fork, exec,
# page faults (dd's 4 MiB buffer), exit, a move between cgroups.
activity() {
	local i

	for i in 1 2 3; do
		/bin/true
		dd if=/dev/zero of=/dev/null bs=4M count=4 status=none
	done
	bash -c "echo \$\$ >$cg_move/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=4M count=1 status=none"
}

# module_calls: runs activity() with the function tracer on the module's
# functions alone (:mod:gomemguard, which covers every probe it could have
# registered, tracepoint or kprobe); prints "COUNT FUNCTION" for each of its
# functions that ran, nothing if none did.  Fails if tracing cannot be set up.
module_calls() {
	if ! echo ':mod:gomemguard' >"$tr/set_ftrace_filter"; then
		echo "cannot filter on :mod:gomemguard"
		return 1
	fi
	echo >"$tr/trace"
	echo 1 >"$tr/tracing_on"
	if ! echo function >"$tr/current_tracer"; then
		echo >"$tr/set_ftrace_filter"
		echo "cannot start the function tracer"
		return 1
	fi
	activity
	# Read before the tracer changes: changing it empties the buffer.
	echo 0 >"$tr/tracing_on"
	# "comm-pid [cpu] flags timestamp: function <-caller"
	sed -n 's/.*: \([^ ]*\) <-.*$/\1/p' "$tr/trace" | sort | uniq -c | sort -rn
	echo nop >"$tr/current_tracer"
	echo >"$tr/set_ftrace_filter"
	echo >"$tr/trace"
	echo "$tracing_on" >"$tr/tracing_on"
}

module_idle() {
	local out

	out=$(module_calls) || { echo "$out" | diag; return 1; }
	[ -z "$out" ] && return 0
	echo "module functions that ran (count, name):" | diag
	echo "$out" | diag
	return 1
}

module_busy() {
	local out

	out=$(module_calls) || { echo "$out" | diag; return 1; }
	if [ -z "$out" ]; then
		echo "no module function ran: the function trace cannot see the module's hooks" | diag
		return 1
	fi
	echo "module functions that ran (count, name), first ten:" | diag
	echo "$out" | head -n 10 | diag
}

ktap_print_header
ktap_set_plan 22

[ -x "$ctl" ] || ktap_exit_fail_msg "no gomemctl at $ctl: set GOMEMCTL"
[ -r "$kprobes" ] || ktap_exit_fail_msg "no $kprobes: debugfs not mounted or no CONFIG_KPROBES"
[ -w "$tr/set_ftrace_filter" ] || ktap_exit_fail_msg "no $tr/set_ftrace_filter: tracefs not mounted or no CONFIG_FUNCTION_TRACER"
command -v jq >/dev/null || ktap_exit_fail_msg "jq missing"
tracing_on=$(cat "$tr/tracing_on")
mkdir -p "$cg" "$cg_move" || ktap_exit_fail_msg "cannot create cgroups under $cgroot"
echo $((cg_max >> 20))M >"$cg/memory.max" || ktap_exit_fail_msg "cannot set $cg/memory.max"

if [ -d /sys/module/gomemguard ]; then
	was_loaded=1
	echo "# gomemguard was loaded by the tests before: unloading it first"
	rmmod gomemguard ||
		ktap_exit_fail_msg "cannot unload gomemguard (refcnt $(cat /sys/module/gomemguard/refcnt 2>&1))"
fi

# 1. systemd's cgroup2 mount, which a module's own mount of cgroup2 resets.
opts=$(cgroup2_opts)
echo "# cgroup2 on $cgroot: superblock options ${opts:-(not mounted)}"
if cgroup2_as_systemd; then
	ktap_test_pass "cgroup2 is mounted nsdelegate,memory_recursiveprot"
else
	ktap_test_fail "cgroup2 is mounted nsdelegate,memory_recursiveprot"
	echo "# something before this test changed them: remounting"
	{ mount -o remount,nsdelegate,memory_recursiveprot "$cgroot" && cgroup2_as_systemd; } ||
		ktap_exit_fail_msg "cannot remount cgroup2 with nsdelegate,memory_recursiveprot: $(cgroup2_opts)"
fi

"$state" save "$before" || ktap_exit_fail_msg "host_state.sh save failed"

# 2.
out=$(modprobe gomemguard 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
{ [ $rc = 0 ] && [ -d /sys/module/gomemguard ]; } ||
	ktap_exit_fail_msg "modprobe gomemguard failed ($rc)"
ktap_test_pass "modprobe gomemguard loads the module"

# 3.-6. Loaded, nothing tagged: nothing hooked, nothing changed.
result "loaded, nothing tagged: no kprobe or ftrace callback registered" \
	state_same kprobes ftrace
result "loaded, nothing tagged: no module code runs on fork, exec, faults, cgroup moves, exit" \
	module_idle
result "loaded, nothing tagged: gomemctl info -j lists no hooks" no_info_hooks
result "loaded, nothing tagged: mounts, mountinfo, cgroup2, sysctls, mm knobs, tracing as before" \
	state_same --while-loaded

# 7.-8.
# Disowned: bash would report their SIGKILL at the end on stderr.
sleep 1000 &
tagged_pid=$!
bash -c "echo \$\$ >$cg/cgroup.procs && exec sleep 1000" &
member=$!
disown -a
wait_for 10 grep -qx "$member" "$cg/cgroup.procs" || echo "# $member did not get into $cg"
out=$("$ctl" tag "$tagged_pid" --soft-limit 1G 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
result "gomemctl tag $tagged_pid --soft-limit 1G" test $rc = 0
# Under its memory.max (64M): gomemctl refuses a soft limit above it.
out=$("$ctl" tag --cgroup "$cg" --soft-limit 48M --inherit 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
result "gomemctl tag --cgroup $cg --soft-limit 48M --inherit" test $rc = 0

# 9. Used: whatever the module does on reclaim, on an OOM kill and for the
# commands that read it, it must do without touching the host either.
result "tagged: reclaim and an OOM kill in the tagged cgroup" oom_in_cgroup
for verb in "show -j" "show --memcg -j" "oom -j"; do
	# shellcheck disable=SC2086 # a verb and its options
	out=$("$ctl" $verb 2>&1) || echo "# gomemctl $verb failed: $out"
done

# 10.-13. Tagged: the hooks are there, and nothing else changed.
module_kprobes | diag
result "tagged: kprobes on oom_kill_process and vmpressure registered" has_kprobes
result "tagged: gomemctl info -j lists the kprobes and tracepoints" all_info_hooks
result "tagged: module code runs on fork, exec, faults, cgroup moves, exit" module_busy
result "tagged: mounts, mountinfo, cgroup2, sysctls, mm knobs, tracing as before; no other kprobe" \
	state_same --while-loaded

# 14.-18. Untagged: the hooks go again, within a bound (they may linger).
out=$("$ctl" untag "$tagged_pid" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
result "gomemctl untag $tagged_pid" test $rc = 0
out=$("$ctl" untag --cgroup "$cg" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
result "gomemctl untag --cgroup $cg" test $rc = 0
bound=10
result "untagged: kprobes and ftrace callbacks as before within $((bound * gmg_scale)) s" \
	wait_for $bound state_same kprobes ftrace
result "untagged: gomemctl info -j lists no hooks" wait_for $bound no_info_hooks
result "untagged: no module code runs on fork, exec, faults, cgroup moves, exit" module_idle

kill -KILL "$tagged_pid" "$member"
wait_for 10 test ! -e "/proc/$member" -a ! -e "/proc/$tagged_pid"
tagged_pid=
member=
rmdir "$cg" "$cg_move"

# 19.-22. Unloaded: as before the load.
out=$(rmmod gomemguard 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
result "rmmod gomemguard" test $rc = 0
result "/sys/module/gomemguard is gone" test ! -e /sys/module/gomemguard
result "unloaded: no kernel thread left" state_same kthreads
result "unloaded: mounts, mountinfo, cgroup2, sysctls, mm knobs, kprobes, ftrace, tracing as before" \
	state_same mounts mountinfo cgroup2 sysctl mm kprobes ftrace tracing

ktap_finished
