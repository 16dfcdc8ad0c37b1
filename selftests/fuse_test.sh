#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Go side of the fuse against the real module: a Go 1.19 service built
# with go/fuse (its test service, go/fuse/internal/leaky, in -rate mode)
# leaks in a memcg until the OOM killer ends it.  Tagged with a soft limit
# well below memory.max and --signal USR1, it must get the fuse before the
# kill and its callback must run; the heap profile the package wrote must
# put the leaking function first (go tool pprof -top); and gomemctl oom
# --profile-dir must name that profile beside the kill.
#
# Needs the module loaded, $GOMEMCTL and $GMG_WORKLOADS (guest-run.sh);
# Debian's Go 1.19 for pprof, python3 for oom -j.
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
pprof=/usr/lib/go-1.19/pkg/tool/linux_amd64/pprof
cg=/sys/fs/cgroup/gmgtest.fuse
dir=$(mktemp -d /tmp/gmg-fuse.XXXXXX)
leaky=

cleanup() {
	[ -n "$leaky" ] && kill -KILL "$leaky" 2>/dev/null
	wait 2>/dev/null
	[ -d "$cg" ] && rmdir "$cg"
	rm -rf "$dir"
}
trap cleanup EXIT

ktap_print_header
ktap_set_plan 3

[ -d /sys/module/gomemguard ] || ktap_exit_fail_msg "gomemguard is not loaded"
[ -x "$workloads/leaky" ] || ktap_exit_fail_msg "no leaky in $workloads: make workloads"
[ -x "$pprof" ] || ktap_exit_fail_msg "no $pprof: install golang-1.19-go"

# From tmpfs: the binary's pages are no page cache of the memcg.
mkdir -p /tmp/gmg-bin "$dir/prof"
cp "$workloads/leaky" /tmp/gmg-bin/leaky
[ -d "$cg" ] && rmdir "$cg"
mkdir "$cg" || ktap_exit_fail_msg "cannot create $cg"
echo 128M >"$cg/memory.max"
[ -e "$cg/memory.swap.max" ] && echo 0 >"$cg/memory.swap.max"

bash -c 'echo $$ >"$1/cgroup.procs" && exec /tmp/gmg-bin/leaky -dir "$2" -leak 4194304 -rate 8388608' \
	_ "$cg" "$dir/prof" >"$dir/out" 2>"$dir/err" &
leaky=$!
wait_for 60 grep -q '^ready$' "$dir/out" || {
	diag_file stderr "$dir/err"
	ktap_exit_fail_msg "leaky did not start"
}
"$ctl" tag "$leaky" --soft-limit 48M --signal USR1 >/dev/null 2>"$dir/tag.err" ||
	{ diag_file tag "$dir/tag.err"; ktap_exit_fail_msg "cannot tag leaky"; }

# Until the OOM killer ends it: 128M at 8 MiB/s, with room for TCG.
ended() {
	! kill -0 "$leaky" 2>/dev/null
}
wait_for 180 ended || ktap_exit_fail_msg "leaky still runs after 180 s"
victim=$leaky
wait "$leaky"
status=$?
leaky=
oom_kills=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")
profile=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        ev = json.loads(line)
        if ev["profile"] and not ev["errs"]:
            print(ev["profile"])
' "$dir/out" 2>/dev/null | tail -n 1)
echo "# leaky: exit status $status, memcg oom_kill $oom_kills, profile ${profile:-none}"

fused_then_killed() {
	[ "$status" = 137 ] && [ "${oom_kills:-0}" -ge 1 ] &&
		[ -n "$profile" ] && [ -s "$profile" ]
}
result "the fuse reached the Go service before its OOM kill; its callback ran" \
	fused_then_killed || { diag_file stdout "$dir/out"; diag_file stderr "$dir/err"; }

# The first row under pprof's header is the biggest in-use allocator.
HOME=$dir "$pprof" -top -sample_index=inuse_space /tmp/gmg-bin/leaky "$profile" \
	>"$dir/pprof" 2>&1
leak_first() {
	awk '/flat%/ { getline; print; exit }' "$dir/pprof" | grep -q 'main\.leakyCache$'
}
result "its heap profile puts the leaking function first (pprof -top)" leak_first ||
	diag_file pprof "$dir/pprof"

"$ctl" oom -j --profile-dir "$dir/prof" >"$dir/oom.json" 2>"$dir/oom.err"
named() {
	python3 -c '
import json, sys
pid, profile = int(sys.argv[2]), sys.argv[3]
for r in json.load(open(sys.argv[1])):
    if r["victim_pid"] == pid:
        lp = r["last_profile"]
        sys.exit(0 if lp and lp["path"] == profile and lp["seconds_before_kill"] >= 0 else 1)
sys.exit(1)
' "$dir/oom.json" "$1" "$profile"
}
result "gomemctl oom --profile-dir names that profile beside the kill" \
	named "$victim" ||
	{ diag_file oom "$dir/oom.json"; diag_file stderr "$dir/oom.err"; }

ktap_finished
