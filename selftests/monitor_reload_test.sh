#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gomemctl monitor --prom-file as a service, while an operator unloads the
# module and later loads it again.  monitor must not load it back itself
# (looking a missing genetlink family up makes the kernel load its module):
# the rmmod stands for as long as nobody runs modprobe, with
# gomemguard_module_up 0 in the textfile and the reason said once.  After
# modprobe it must subscribe again and get the new module's events.
#
# Needs the module loaded, and reachable by modprobe (guest-run.sh); leaves
# it loaded, as the tests before it do.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
dir=$(mktemp -d /tmp/gmg-reload.XXXXXX)
monitor=
sleeper=

cleanup() {
	[ -n "$monitor" ] && kill -KILL "$monitor" 2>/dev/null
	[ -n "$sleeper" ] && kill -KILL "$sleeper" 2>/dev/null
	wait 2>/dev/null
	[ -d /sys/module/gomemguard ] || modprobe gomemguard
	rm -rf "$dir"
}
trap cleanup EXIT

up_is() {
	grep -qx "gomemguard_module_up $1" "$dir/gomemguard.prom" 2>/dev/null
}

loaded() {
	[ -d /sys/module/gomemguard ]
}

said() {
	grep -qF "$1" "$dir/monitor.err"
}

stayed_unloaded() {
	! loaded && kill -0 "$monitor"
}

unload_said_once() {
	[ "$(grep -c "was unloaded" "$dir/monitor.err")" = 1 ]
}

back() {
	said "receiving its events again" && up_is 1
}

ktap_print_header
ktap_set_plan 5

loaded || ktap_exit_fail_msg "gomemguard is not loaded"
[ -x "$ctl" ] || ktap_exit_fail_msg "no gomemctl at $ctl"

"$ctl" monitor -j --prom-file "$dir/gomemguard.prom" --prom-interval 1s \
	--ready-file "$dir/monitor.ready" >"$dir/monitor.out" 2>"$dir/monitor.err" &
monitor=$!
if ! wait_for 60 test -e "$dir/monitor.ready" || ! wait_for 30 up_is 1; then
	diag_file stderr "$dir/monitor.err"
	ktap_exit_fail_msg "monitor did not start"
fi

rmmod gomemguard || ktap_exit_fail_msg "rmmod refused"
wait_for 30 up_is 0
result "the textfile says module_up 0 after rmmod" up_is 0 ||
	diag_file stderr "$dir/monitor.err"

# Past monitor's 10 s health check and ten refreshes of the textfile, each
# of which used to look the family up.
sleep $((15 * gmg_scale))
result "the module stays unloaded while monitor runs (15 s)" stayed_unloaded ||
	diag_file stderr "$dir/monitor.err"
result "the unload is said once" unload_said_once ||
	diag_file stderr "$dir/monitor.err"

modprobe gomemguard || ktap_exit_fail_msg "modprobe gomemguard failed"
wait_for 30 back
result "after modprobe: subscribed again, module_up 1" back ||
	diag_file stderr "$dir/monitor.err"

# The new module's events reach it: a tag, and the tagged process's exit.
sleep 1000 &
sleeper=$!
"$ctl" tag "$sleeper" --soft-limit 64M >/dev/null ||
	ktap_exit_fail_msg "cannot tag a process"
kill -KILL "$sleeper"
wait "$sleeper" 2>/dev/null
sleeper=
wait_for 30 grep -q '"event":"exit"' "$dir/monitor.out"
result "the reloaded module's events arrive" \
	grep -q '"event":"exit"' "$dir/monitor.out" ||
	diag_file stdout "$dir/monitor.out"

kill -TERM "$monitor"
wait "$monitor" 2>/dev/null
monitor=
ktap_finished
