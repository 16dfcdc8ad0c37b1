#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In a guest: what gomemguard must never change on a host, saved once and
# compared later ("Do no harm": loading, using and unloading the module
# leave the host as it was).
#
#   host_state.sh save DIR
#   host_state.sh compare DIR [--while-loaded] [SECTION...]
#
# Sections, one file each in DIR:
#   mounts      /proc/mounts, byte for byte
#   mountinfo   /proc/self/mountinfo, byte for byte (mount IDs included: a
#               remount or a mount made and undone shows)
#   cgroup2     each cgroup2 mount's per-mount and superblock options (a
#               second mount of cgroup2 in the initial namespace resets the
#               one superblock's: nsdelegate, memory_recursiveprot...) and
#               the root's cgroup.subtree_control
#   kthreads    the names of the kernel threads, sorted (see kthreads())
#   sysctl      every readable file under /proc/sys, but those that change
#               by themselves (see sysctl_skip())
#   mm          every readable file under /sys/kernel/mm (THP, multi-gen
#               LRU, KSM, hugetlb...), but the counters (see mm_skip())
#   kprobes     debugfs's kprobes/list and kprobes/enabled
#   ftrace      the functions ftrace has callbacks on (enabled_functions:
#               kprobes on a function's entry go through ftrace), by name
#   tracing     tracefs's set_event, current_tracer, tracing_on,
#               set_ftrace_filter, kprobe_events, uprobe_events
#
# compare prints a unified diff of each section that changed and exits 1 if
# any did, 0 if none; 2 on a usage error or when DIR holds no saved state.
# With --while-loaded it is the comparison made while the module is loaded
# and something is tagged: kprobes (and their ftrace callbacks) on
# oom_kill_process and vmpressure may then be new, nothing else; changed
# kernel threads are shown but do not count (a WQ_MEM_RECLAIM workqueue has
# a rescuer thread while it exists; after unload none may be left).  Named
# SECTIONs restrict the comparison to them.
#
# What it cannot see: tracepoint probes registered with
# tracepoint_probe_register() are listed nowhere; invariants_test.sh looks
# for them by tracing the module's functions instead.
set -u

sections="mounts mountinfo cgroup2 kthreads sysctl mm kprobes ftrace tracing"
# Functions the module may put kprobes on while it is loaded and tagged.
module_kprobes="oom_kill_process vmpressure"
kprobes_dir=/sys/kernel/debug/kprobes

usage() {
	echo "usage: $0 save DIR | compare DIR [--while-loaded] [SECTION...]" >&2
	exit 2
}

tracing_dir() {
	local d

	for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		if [ -e "$d/set_event" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# The superblock options are the last field of a mountinfo line, after the
# " - " separator, the filesystem type and the source.
cgroup2() {
	local line pre post mnt mopts fstype src sopts

	while IFS= read -r line; do
		pre=${line%% - *}
		post=${line#* - }
		read -r fstype src sopts <<<"$post"
		[ "$fstype" = cgroup2 ] || continue
		read -r _ _ _ _ mnt mopts _ <<<"$pre"
		echo "cgroup2 on $mnt (source $src): mount options $mopts, superblock options $sopts"
		if [ -r "$mnt/cgroup.subtree_control" ]; then
			echo "$mnt/cgroup.subtree_control: $(<"$mnt/cgroup.subtree_control")"
		fi
	done </proc/self/mountinfo
}

# Kernel threads (PF_KTHREAD in /proc/PID/stat's flags) by name.  Pool
# workers (kworker/N:M, kworker/uN:M) are left out: they come and go by
# themselves, and their names carry the workqueue of the last work item
# they ran ("kworker/u4:2-gomemguard" until it runs something else, module
# gone or not).  A workqueue's rescuer stays in: it lives as long as its
# workqueue (kworker/R-NAME since 6.9, plain NAME before).
kthreads() {
	local stat line rest name flags
	local -a f

	for stat in /proc/[0-9]*/stat; do
		{ IFS= read -r line <"$stat"; } 2>/dev/null || continue
		# comm may hold spaces and parentheses: it ends at the last ')'.
		name=${line#*(}
		name=${name%)*}
		rest=${line##*) }
		read -r -a f <<<"$rest"
		flags=${f[6]:-0}
		((flags & 0x00200000)) || continue
		case $name in
		kworker/R-*) ;;
		kworker/*) continue ;;
		esac
		printf '%s\n' "$name"
	done | LC_ALL=C sort
}

# sysctl_skip PATH (relative to /proc/sys): true for the values that change
# by themselves on an idle machine, or with what any process does, whatever
# a module does.  Everything else is a setting and must stay as it was.
sysctl_skip() {
	case $1 in
	# A new random UUID at every read; the pool's fill level.
	kernel/random/uuid | kernel/random/entropy_avail) return 0 ;;
	# Counters of objects in use: dentries, inodes, open files, AIO
	# contexts, ptys.
	fs/dentry-state | fs/dentry-negative | fs/inode-nr | fs/inode-state | \
		fs/file-nr | fs/aio-nr | kernel/pty/nr) return 0 ;;
	# Quota statistics (lookups, syncs...): counters of filesystem activity.
	fs/quota/*) return 0 ;;
	# The last PID handed out.
	kernel/ns_last_pid) return 0 ;;
	# The perf core lowers it by itself when a sampling interrupt runs long.
	kernel/perf_event_max_sample_rate) return 0 ;;
	# Counts of events: hung tasks seen, connections tracked.
	kernel/hung_task_detect_count | net/netfilter/nf_conntrack_count) return 0 ;;
	esac
	return 1
}

# mm_skip PATH (relative to /sys/kernel/mm): the same for the memory
# manager's sysfs knobs (THP, multi-gen LRU, KSM, hugetlb, NUMA...): the
# counters that move with what processes do or what kernel threads get done.
mm_skip() {
	case $1 in
	# mTHP event counters (6.8+): faults, swap-outs, splits...
	*/stats/*) return 0 ;;
	# khugepaged's progress.
	transparent_hugepage/khugepaged/full_scans | \
		transparent_hugepage/khugepaged/pages_collapsed) return 0 ;;
	# ksmd's progress and the pages it merged (when it runs).
	ksm/full_scans | ksm/pages_* | ksm/stable_node_* | ksm/ksm_zero_pages | \
		ksm/general_profit) return 0 ;;
	# Huge pages taken and reserved by processes (the pool's size stays).
	hugepages/*/free_hugepages | hugepages/*/resv_hugepages | \
		hugepages/*/surplus_hugepages | hugepages/*/nr_hugepages_mempolicy) return 0 ;;
	# The regions a running DAMON scheme last tried: its monitoring results.
	damon/admin/kdamonds/*/tried_regions/*) return 0 ;;
	# CMA allocation counters.
	cma/*) return 0 ;;
	# A bitmap of every page frame's idle bit: binary, and always moving.
	page_idle/*) return 0 ;;
	esac
	return 1
}

# values ROOT SKIP: every readable file under ROOT but those SKIP names,
# one line each: PATH<TAB>VALUE, newlines in the value as \n.  Read with
# the shell's own read: a process per file would cost minutes under TCG.
values() {
	local root=$1 skip=$2 p v

	[ -d "$root" ] || { echo "no $root"; return; }
	while IFS= read -r p; do
		"$skip" "$p" && continue
		v=
		if ! { IFS= read -r -d '' v || :; } 2>/dev/null <"$root/$p"; then
			printf '%s\t<unreadable>\n' "$p"
			continue
		fi
		v=${v%$'\n'}
		# The taint flags O and E are set by loading any out-of-tree,
		# unsigned module, for good: the first load of gomemguard sets them.
		# Any other flag counts (and the guest's own check fails on them).
		[ "$root/$p" = /proc/sys/kernel/tainted ] && v=$((v & ~(4096 | 8192)))
		printf '%s\t%s\n' "$p" "${v//$'\n'/\\n}"
	done < <(cd "$root" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

sysctl() {
	values /proc/sys sysctl_skip
}

mm() {
	values /sys/kernel/mm mm_skip
}

kprobes() {
	if [ ! -d "$kprobes_dir" ]; then
		echo "no $kprobes_dir (debugfs not mounted, or no CONFIG_KPROBES)"
		return
	fi
	echo "enabled: $(cat "$kprobes_dir/enabled" 2>&1)"
	cat "$kprobes_dir/list" 2>&1
}

ftrace() {
	local t

	if ! t=$(tracing_dir) || [ ! -r "$t/enabled_functions" ]; then
		echo "no enabled_functions"
		return
	fi
	# Name and callback count; the rest (trampoline addresses) changes
	# with every registration.
	awk '{ print $1, $2 }' "$t/enabled_functions" | LC_ALL=C sort
}

tracing() {
	local t f

	if ! t=$(tracing_dir); then
		echo "no tracefs"
		return
	fi
	for f in set_event current_tracer tracing_on set_ftrace_filter \
		 kprobe_events uprobe_events; do
		[ -e "$t/$f" ] || continue
		echo "== $f"
		cat "$t/$f" 2>&1
	done
}

# capture DIR SECTION...: each section's file in DIR.
capture() {
	local dir=$1 s

	shift
	for s in "$@"; do
		case $s in
		mounts) cat /proc/mounts ;;
		mountinfo) cat /proc/self/mountinfo ;;
		*) "$s" ;;
		esac >"$dir/$s"
	done
}

# module_line SECTION LINE: LINE is the module's own (kprobe or ftrace
# callback on one of module_kprobes), allowed while it is loaded.
module_line() {
	local sym fn

	case $1 in
	kprobes) read -r _ _ sym _ <<<"$2" ;;
	ftrace) read -r sym _ <<<"$2" ;;
	*) return 1 ;;
	esac
	for fn in $module_kprobes; do
		case $sym in
		"$fn" | "$fn"+*) return 0 ;;
		esac
	done
	return 1
}

# loaded_ok SECTION SAVED NOW: while loaded, NOW may only add the module's
# lines to SAVED.
loaded_ok() {
	local s=$1 line

	# Lines gone are never allowed.
	[ -z "$(LC_ALL=C comm -23 <(LC_ALL=C sort "$2") <(LC_ALL=C sort "$3"))" ] || return 1
	while IFS= read -r line; do
		module_line "$s" "$line" || return 1
	done < <(LC_ALL=C comm -13 <(LC_ALL=C sort "$2") <(LC_ALL=C sort "$3"))
	return 0
}

compare() {
	local saved=$1 loaded=$2 now s bad=() noted=() out
	local -a which
	shift 2

	if [ $# -gt 0 ]; then
		which=("$@")
	else
		read -r -a which <<<"$sections"
	fi
	now=$(mktemp -d /tmp/gmg-state.XXXXXX) || exit 2
	# shellcheck disable=SC2064 # now is fixed from here on
	trap "rm -rf '$now'" EXIT
	capture "$now" "${which[@]}"
	for s in "${which[@]}"; do
		[ -f "$saved/$s" ] || { echo "host_state: $saved/$s missing: save first" >&2; exit 2; }
		out=$(diff -u --label "saved/$s" --label "now/$s" "$saved/$s" "$now/$s") && continue
		if [ "$loaded" = 1 ]; then
			case $s in
			kthreads)
				echo "host_state: kernel threads while loaded (shown, not counted):"
				printf '%s\n' "$out"
				noted+=("$s")
				continue
				;;
			kprobes | ftrace)
				if loaded_ok "$s" "$saved/$s" "$now/$s"; then
					echo "host_state: the module's own $s while loaded (allowed):"
					printf '%s\n' "$out"
					noted+=("$s")
					continue
				fi
				;;
			esac
		fi
		printf '%s\n' "$out"
		bad+=("$s")
	done
	# Whatever was saved: no kernel thread may name the module once it is
	# gone.
	if [ "$loaded" = 0 ] && [[ " ${which[*]} " = *" kthreads "* ]] &&
	   grep -q gomemguard "$now/kthreads"; then
		echo "host_state: kernel threads named after gomemguard:"
		grep gomemguard "$now/kthreads"
		case " ${bad[*]} " in
		*" kthreads "*) ;;
		*) bad+=(kthreads) ;;
		esac
	fi
	if [ ${#bad[@]} -gt 0 ]; then
		echo "host_state: changed: ${bad[*]}"
		exit 1
	fi
	echo "host_state: unchanged: ${which[*]}${noted[*]:+ (noted: ${noted[*]})}"
	exit 0
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
case $cmd in
save)
	[ $# -eq 0 ] || usage
	mkdir -p "$dir" || exit 2
	[ -d /sys/module/gomemguard ] &&
		echo "host_state: warning: gomemguard is loaded: this is not the state before" >&2
	# shellcheck disable=SC2086 # a word list
	capture "$dir" $sections
	;;
compare)
	loaded=0
	if [ "${1:-}" = --while-loaded ]; then
		loaded=1
		shift
	fi
	for s in "$@"; do
		case " $sections " in
		*" $s "*) ;;
		*) echo "host_state: no section $s (sections: $sections)" >&2; exit 2 ;;
		esac
	done
	[ -d "$dir" ] || { echo "host_state: $dir: no saved state" >&2; exit 2; }
	compare "$dir" "$loaded" "$@"
	;;
*)
	usage
	;;
esac
