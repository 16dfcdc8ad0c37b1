#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gomemctl monitor as a service, against the real module: a leaking Go
# service in a small memcg is tagged while monitor runs with --exec,
# --prom-file, --syslog and -j.  Each event's command must get the -j line
# on stdin and its keys in its environment; the textfile must parse
# strictly and agree with /proc and the memcg; its counters must follow the
# events; syslog must have a line per event.  Then a command that cannot
# finish and a burst of events: the -j lines must all come out while it
# blocks, and events beyond the queue must be dropped and said.
#
# Needs the module loaded, $GOMEMCTL and $GMG_WORKLOADS (guest-run.sh sets
# them); python3 for the textfile and JSON checks, busybox for syslogd.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
workloads=${GMG_WORKLOADS:-$top/build/workloads}
py=/usr/bin/python3
check=$top/selftests/monitor_test.py
cg=/sys/fs/cgroup/gmgtest.monitor
cg_max=$((160 << 20))
dir=$(mktemp -d /tmp/gmg-monitor.XXXXXX)
pids=()

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -d "$cg" ]; then
		echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
		rmdir "$cg" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

# skip_or WHY NAME CMD...: a skip when WHY says something is missing.
skip_or() {
	local why=$1 name=$2

	shift 2
	if [ -n "$why" ]; then
		ktap_test_skip "$name ($why)"
	else
		result "$name" "$@"
	fi
}

lines() {
	local n

	n=$(grep -c "$1" "$2" 2>/dev/null) || true
	echo "${n:-0}"
}

prom() {
	"$py" "$check" value "$@" 2>/dev/null
}

ktap_print_header
ktap_set_plan 14

[ -d /sys/module/gomemguard ] || ktap_exit_fail_msg "gomemguard is not loaded"
[ -x "$ctl" ] || ktap_exit_fail_msg "no gomemctl at $ctl"
[ -x "$workloads/goleak" ] || ktap_exit_fail_msg "no goleak in $workloads: make workloads"
no_py=
[ -x "$py" ] || no_py="no $py"

# Run from tmpfs: the binary's pages are then no page cache of the memcg
# under test (as cgroup_util.c's workload() does).
mkdir -p /tmp/gmg-bin
[ -x /tmp/gmg-bin/goleak ] || cp "$workloads/goleak" /tmp/gmg-bin/goleak

no_syslog=
if /bin/busybox syslogd --help >/dev/null 2>&1 && [ ! -e /dev/log ]; then
	/bin/busybox syslogd -n -O "$dir/syslog" &
	pids+=($!)
	wait_for 20 test -S /dev/log || no_syslog="syslogd did not start"
else
	no_syslog="no busybox syslogd, or /dev/log is taken"
fi

[ -d "$cg" ] && rmdir "$cg"
mkdir "$cg"
echo "$cg_max" >"$cg/memory.max"

# Part 1: a Go service leaking to 40M, warned about at 25, 50, 75 % of 32M.
"$ctl" monitor -j --syslog \
	--exec "cat > $dir/ev.\$GOMEMGUARD_SEQ.json && env | grep ^GOMEMGUARD_ > $dir/env.\$GOMEMGUARD_SEQ" \
	--prom-file "$dir/gomemguard.prom" --prom-interval 1s \
	--ready-file "$dir/monitor.ready" >"$dir/monitor.out" 2>"$dir/monitor.err" &
monitor=$!
pids+=("$monitor")
wait_for 60 test -e "$dir/monitor.ready" || {
	diag_file stderr "$dir/monitor.err"
	ktap_exit_fail_msg "monitor did not start"
}

(
	echo "$BASHPID" >"$cg/cgroup.procs"
	exec /tmp/gmg-bin/goleak -rate 3M -max 40M -baseline 4M \
		-readyfile "$dir/goleak.ready"
) >"$dir/goleak.log" 2>&1 &
leak=$!
pids+=("$leak")
wait_for 60 test -s "$dir/goleak.ready" || ktap_exit_fail_msg "goleak did not start"
"$ctl" tag "$leak" --soft-limit 32M --levels 25,50,75 ||
	ktap_exit_fail_msg "cannot tag goleak"

wait_for 120 grep -q '^max leaked=' "$dir/goleak.log" || diag_file goleak "$dir/goleak.log"
wait_for 30 grep -q '"event":"warn".*"level_pct":75' "$dir/monitor.out" || true
warns=$(lines '"event":"warn"' "$dir/monitor.out")
# A tag that came late may find 25 % crossed already: then one warn says so.
warned_to_75() {
	[ "$warns" -ge 2 ] &&
		grep -q '"event":"warn".*"level_pct":75' "$dir/monitor.out"
}
result "warn events for the leak, up to 75 %" warned_to_75 ||
	diag_file stdout "$dir/monitor.out"

# The file is refreshed within a second of an event: give it a few.
prom_has() {
	[ "$(prom "$dir/gomemguard.prom" "$@")" = "$want" ]
}
want=$warns
skip_or "$no_py" "textfile counts the warn events" \
	wait_for 30 prom_has gomemguard_monitor_events_total event=warn ||
	diag_file prom "$dir/gomemguard.prom"

skip_or "$no_py" "textfile parses strictly" "$py" "$check" check "$dir/gomemguard.prom" ||
	diag_file prom "$dir/gomemguard.prom"

# Held at 40M, anon is steady; 6.1 may leave up to 63 pages per thread
# unsynced, so allow 4 MiB or 10 %.
anon_close() {
	local anon rss

	anon=$(prom "$dir/gomemguard.prom" gomemguard_process_anon_bytes \
		pid="$leak" comm=goleak memcg=/gmgtest.monitor source=pid) || return 1
	rss=$(awk '/^RssAnon:/ { print $2 * 1024 }' "/proc/$leak/status")
	echo "# anon $anon bytes in the textfile, RssAnon $rss"
	[ "$anon" -gt 0 ] &&
		[ $((anon > rss ? anon - rss : rss - anon)) -le \
			$((rss / 10 > 4194304 ? rss / 10 : 4194304)) ]
}
skip_or "$no_py" "textfile anon of the tagged pid agrees with RssAnon" \
	wait_for 30 anon_close || diag_file prom "$dir/gomemguard.prom"

max_ok() {
	[ "$(prom "$dir/gomemguard.prom" gomemguard_memcg_max_bytes \
		memcg=/gmgtest.monitor)" = "$cg_max" ]
}
skip_or "$no_py" "textfile memcg max is the memcg's memory.max" max_ok ||
	diag_file prom "$dir/gomemguard.prom"

# The service exits: one more event, and the counters follow it.
runs_before=$(prom "$dir/gomemguard.prom" gomemguard_exec_runs_total || echo none)
kill -KILL "$leak"
wait "$leak" 2>/dev/null || true
wait_for 30 grep -q '"event":"exit"' "$dir/monitor.out" || true
want=1
skip_or "$no_py" "textfile counts the exit event" \
	wait_for 30 prom_has gomemguard_monitor_events_total event=exit ||
	diag_file prom "$dir/gomemguard.prom"
runs_more() {
	local runs

	runs=$(prom "$dir/gomemguard.prom" gomemguard_exec_runs_total) &&
		[ "$runs_before" != none ] && [ "$runs" -gt "$runs_before" ]
}
skip_or "$no_py" "textfile exec runs increase with it" wait_for 30 runs_more ||
	echo "# exec runs before the exit: $runs_before"

kill -TERM "$monitor"
status=0
wait "$monitor" || status=$?
result "monitor exits 0 on SIGTERM" test "$status" = 0 || diag_file stderr "$dir/monitor.err"

skip_or "$no_py" "each command got its event's -j line on stdin and its keys in GOMEMGUARD_*" \
	"$py" "$check" exec "$dir" "$dir/monitor.out" || diag_file stdout "$dir/monitor.out"

syslog_has() {
	grep -Eq "daemon\\.warn gomemctl\\[$monitor\\]: warn goleak\\[$leak\\] anon " "$dir/syslog" &&
		grep -Eq "daemon\\.info gomemctl\\[$monitor\\]: exit goleak\\[$leak\\] anon " "$dir/syslog"
}
skip_or "$no_syslog" "syslog has the warn and exit lines, at warning and info" \
	wait_for 10 syslog_has || diag_file syslog "$dir/syslog"

# Part 2: a command that blocks until the test lets it, one at a time, two
# waiting; six exit events.  Every -j line must come out while the first
# command still blocks, and the events beyond the queue must be dropped.
gate=$dir/gate
mkfifo "$gate"
"$ctl" monitor -j \
	--exec "read -r x < $gate; echo > $dir/done.\$GOMEMGUARD_SEQ" \
	--exec-max 1 --exec-queue 2 --prom-file "$dir/burst.prom" \
	--ready-file "$dir/burst.ready" >"$dir/burst.out" 2>"$dir/burst.err" &
monitor=$!
pids+=("$monitor")
wait_for 60 test -e "$dir/burst.ready" || ktap_exit_fail_msg "monitor did not start"
sleepers=()
for _ in 1 2 3 4 5 6; do
	sleep 1000 &
	sleepers+=($!)
	pids+=($!)
	"$ctl" tag "$!" --soft-limit 1G || ktap_exit_fail_msg "cannot tag sleep"
done
kill -KILL "${sleepers[@]}"
wait "${sleepers[@]}" 2>/dev/null || true
# Events of other processes may come too (what earlier tests left behind):
# they are counted the same way, as events behind the blocked command.
ours_out() {
	local p

	for p in "${sleepers[@]}"; do
		grep -q "\"event\":\"exit\",.*\"pid\":$p," "$dir/burst.out" || return 1
	done
}
wait_for 60 ours_out || true
events=$(lines '"seq":' "$dir/burst.out")
done_early=$(find "$dir" -name 'done.*' | wc -l)
burst_out() {
	# The seq of each line, one more than the one before.
	ours_out && [ "$done_early" = 0 ] &&
		grep -o '"seq":[0-9]*' "$dir/burst.out" | cut -d: -f2 |
		awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }'
}
result "all 6 exit events on stdout, in sequence, while the first command blocks" burst_out ||
	{ echo "# $events events, $done_early commands done"; diag_file stdout "$dir/burst.out"; }

# One command runs, two wait: the rest were dropped (3 when only ours came).
dropped_rest() {
	grep -q -- '--exec: .* dropped, the queue is full' "$dir/burst.err" &&
		grep -o '([0-9]* in all)' "$dir/burst.err" | tail -n 1 |
		grep -qx "($((events - 3)) in all)"
}
result "events beyond the queue are dropped and said" wait_for 10 dropped_rest ||
	{ echo "# $events events"; diag_file stderr "$dir/burst.err"; }

# Let the commands go (a line each, and some to spare for late events);
# monitor waits for them when told to stop.
exec 3<>"$gate"
printf 'go\n%.0s' {1..32} >&3
kill -TERM "$monitor"
status=0
wait "$monitor" || status=$?
exec 3>&-
ran=$(find "$dir" -name 'done.*' | wc -l)
result "on SIGTERM monitor waits for its commands, then exits 0" \
	test "$status" = 0 -a "$ran" -ge 3 || diag_file stderr "$dir/burst.err"
# Every event either ran its command or was dropped; none failed.
final_counts() {
	local all runs dropped

	all=$(lines '"seq":' "$dir/burst.out")
	runs=$(prom "$dir/burst.prom" gomemguard_exec_runs_total) &&
		dropped=$(prom "$dir/burst.prom" gomemguard_exec_dropped_total) &&
		[ "$runs" = "$ran" ] && [ $((runs + dropped)) = "$all" ] &&
		[ "$dropped" -ge 3 ] &&
		[ "$(prom "$dir/burst.prom" gomemguard_exec_failures_total)" = 0 ]
}
skip_or "$no_py" "final textfile: every event ran or was dropped, no failures" final_counts ||
	diag_file prom "$dir/burst.prom"

ktap_finished
