#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DaemonSet's monitor as Kubernetes runs it (docs/kubernetes.md): root
# with only the capabilities the pod and the systemd unit ask for, in a
# cgroup namespace of its own (as containerd gives every container on
# cgroup v2) whose root is a pod's cgroup, the host's /sys/fs/cgroup
# mounted in it.  gomemctl discover and policy apply must find the Go
# services of other pods -- one running as root, one as nobody -- name their
# cgroups as the host does, read their memory.max and tag them.  With
# CAP_NET_ADMIN alone (what the DaemonSet had before), the nobody one must
# stay invisible: the other two capabilities are what makes the difference.
#
# Needs the module loaded, $GOMEMCTL and $GMG_WORKLOADS (guest-run.sh);
# setpriv and unshare (util-linux), python3.
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
# The unit's and the DaemonSet's set (selftests/host/dist_test.sh checks
# that they are this one).
caps=+net_admin,+sys_ptrace,+dac_read_search
pods=/sys/fs/cgroup/gmgcaps.slice
dir=$(mktemp -d /tmp/gmg-caps.XXXXXX)
bin=$dir/gosleep
pids=()

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	"$ctl" untag --cgroup "$pods" >/dev/null 2>&1
	for p in "$pods"/*/*/ "$pods"/*/; do
		[ -d "$p" ] && rmdir "$p"
	done
	[ -d "$pods" ] && rmdir "$pods"
	rm -rf "$dir"
}
trap cleanup EXIT

# in_pod CAPS CMD...: CMD as the DaemonSet's container runs it: in the
# cgroup of a pod of its own, in a new cgroup namespace rooted there, as
# root with only CAPS (bounding set, hence permitted and effective).
in_pod() {
	local set=$1

	shift
	bash -c 'echo $$ >"$1/monitor-pod/ctr/cgroup.procs" && shift && exec "$@"' \
		_ "$pods" unshare --cgroup setpriv --inh-caps=-all \
		--bounding-set=-all,"$set" -- "$@"
}

# start SERVICE MAX UID: a Go service in its own pod's cgroup with MAX for
# memory.max, running as UID.
start() {
	local cg=$pods/$1 ready=$dir/ready/${1%%/*}

	# memory.max needs the controller enabled in every parent.
	if ! mkdir -p "$cg" ||
	   ! echo +memory >"$pods/cgroup.subtree_control" ||
	   ! echo +memory >"${cg%/*}/cgroup.subtree_control" ||
	   ! echo "$2" >"$cg/memory.max"; then
		ktap_exit_fail_msg "cannot create $cg"
	fi
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$cg" \
		setpriv --reuid "$3" --regid "$3" --clear-groups \
		"$bin" -heap 4M -readyfile "$ready" >/dev/null 2>&1 &
	pids+=($!)
	wait_for 30 test -s "$ready" || ktap_exit_fail_msg "gosleep ($1) did not start"
}

# field JSON PID KEY: KEY of the entry for PID in a discover -j list.
field() {
	python3 -c '
import json, sys
for p in json.load(open(sys.argv[1])):
    if p.get("pid") == int(sys.argv[2]):
        print(p.get(sys.argv[3]))
' "$1" "$2" "$3" 2>/dev/null
}

soft_limit() {
	"$ctl" show -j 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("pid") == int(sys.argv[1]):
        print(p["soft_limit_bytes"])
' "$1"
}

ktap_print_header
ktap_set_plan 5

[ -d /sys/module/gomemguard ] || ktap_exit_fail_msg "gomemguard is not loaded"
[ -x "$workloads/gosleep" ] || ktap_exit_fail_msg "no gosleep in $workloads: make workloads"
if ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
	ktap_exit_fail_msg "setpriv and unshare (util-linux) are needed"
fi
# Where nobody may run it, and write its ready file.
chmod 755 "$dir"
install -m 755 "$workloads/gosleep" "$bin"
mkdir -m 1777 "$dir/ready"

mkdir -p "$pods/monitor-pod/ctr" || ktap_exit_fail_msg "cannot create $pods"
start api-pod/ctr 200M 0
root_svc=${pids[-1]}
start batch-pod/ctr 100M 65534
nobody_svc=${pids[-1]}

# The namespace is what the container sees.
in_pod "$caps" cat /proc/self/cgroup >"$dir/self" 2>&1
in_ns() {
	grep -qx '0::/' "$dir/self"
}
in_ns || { diag_file "/proc/self/cgroup in the pod" "$dir/self"; ktap_exit_fail_msg "no cgroup namespace of its own"; }

in_pod "$caps" "$ctl" discover -j >"$dir/discover.json" 2>"$dir/discover.err"
found() {
	[ "$(field "$dir/discover.json" "$1" memcg)" = "$2" ] &&
		[ "$(field "$dir/discover.json" "$1" memcg_max_bytes)" = "$3" ]
}
result "discover in the pod: the root service, its cgroup as the host names it, its memory.max" \
	found "$root_svc" /gmgcaps.slice/api-pod/ctr $((200 << 20)) ||
	{ diag_file stdout "$dir/discover.json"; diag_file stderr "$dir/discover.err"; }
result "discover in the pod: the nobody service, likewise" \
	found "$nobody_svc" /gmgcaps.slice/batch-pod/ctr $((100 << 20)) ||
	{ diag_file stdout "$dir/discover.json"; diag_file stderr "$dir/discover.err"; }

# The control: the DaemonSet's old capability set.
in_pod +net_admin "$ctl" discover -j >"$dir/old.json" 2>"$dir/old.err"
unseen() {
	[ -z "$(field "$dir/old.json" "$nobody_svc" memcg)" ]
}
result "with CAP_NET_ADMIN alone the nobody service is not seen" unseen ||
	diag_file stdout "$dir/old.json"

mkdir -p "$dir/policy.d"
cat >"$dir/policy.d/50-pods.conf" <<EOF
[Match]
CgroupPath=/gmgcaps.slice/*/*
GoProgram=yes

[Tag]
SoftLimit=50%
EOF
in_pod "$caps" "$ctl" policy apply --policy-dir "$dir/policy.d" \
	--state "$dir/policy.state" >"$dir/apply.out" 2>&1
tagged_with() {
	[ "$(soft_limit "$1")" = "$2" ]
}
result "policy apply in the pod tags the root service with 50% of its memory.max" \
	tagged_with "$root_svc" $((100 << 20)) || diag_file apply "$dir/apply.out"
result "policy apply in the pod tags the nobody service likewise" \
	tagged_with "$nobody_svc" $((50 << 20)) || diag_file apply "$dir/apply.out"
"$ctl" untag "$root_svc" >/dev/null 2>&1
"$ctl" untag "$nobody_svc" >/dev/null 2>&1

ktap_finished
