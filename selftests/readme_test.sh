#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's "Using it" commands, exactly as written, against the real
# module: the example PID 4711 and the example cgroup are replaced by a real
# Go program and a real cgroup, and nothing else is changed.  A command that
# the README shows and gomemctl refuses is a broken front door.  Then its
# "Policies" commands, unchanged: the shipped example rule copied to
# /etc/gomemguard/policy.d, checked, planned, applied (it must tag a Go
# service of api.service with its GOMEMLIMIT) and kept applied by monitor.
top=$(cd "$(dirname "$0")/.." && pwd)

# The guest's /etc is the host's, read-only: the policy commands write to
# it in a mount namespace of this test's own, over a writable layer that
# goes with it.
if [ -z "${GMG_README_NS:-}" ]; then
	GMG_README_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi
ksft=$top/build/ksrc/tools/testing/selftests
# shellcheck source=/dev/null
. "$ksft/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"

readme=$top/README.md
cg=/sys/fs/cgroup/gmg-readme.slice

# The fenced block after "## Using it": one command per line, comments cut.
mapfile -t cmds < <(awk '
	/^## Using it/ { inside = 1; next }
	inside && /^```/ { if (fence) exit; fence = 1; next }
	inside && fence && /^gomemctl / { sub(/[ \t]+#.*$/, ""); print }
' "$readme")

# The fenced block after "## Policies": every line a command, comments cut.
mapfile -t pcmds < <(awk '
	/^## Policies/ { inside = 1; next }
	inside && /^```/ { if (fence) exit; fence = 1; next }
	inside && fence && NF { sub(/[ \t]+#.*$/, ""); print }
' "$readme")

ktap_print_header
[ ${#cmds[@]} -ge 5 ] || ktap_exit_fail_msg "found only ${#cmds[@]} gomemctl commands in $readme"
[ ${#pcmds[@]} -ge 4 ] || ktap_exit_fail_msg "found only ${#pcmds[@]} policy commands in $readme"
ktap_set_plan $((${#cmds[@]} + 1 + ${#pcmds[@]} + 2))

mkdir -p "$cg" || ktap_exit_fail_msg "cannot create $cg"
# Above the README's --soft-limit 2G: gomemctl refuses a soft limit above
# memory.max.
echo 4G >"$cg/memory.max"
# Outside the cgroup: the process the README calls 4711, and a Go service
# with GOMEMLIMIT that only `tag --go --all` tags.  Inside: a Go service
# without GOMEMLIMIT under a memory.max, which the cgroup tag covers.
# Each writes its ready file once it runs: exec'd, in its cgroup.
ready=$(mktemp -d /tmp/gmg-readme.XXXXXX)
"$GMG_WORKLOADS/gosleep" -heap 4M -readyfile "$ready/pid" >/dev/null &
pid=$!
GOMEMLIMIT=64MiB "$GMG_WORKLOADS/gosleep" -heap 4M -readyfile "$ready/golimit" >/dev/null &
golimit=$!
bash -c "echo \$\$ >$cg/cgroup.procs && exec $GMG_WORKLOADS/gosleep -heap 4M -readyfile $ready/member" >/dev/null &
member=$!
# Up to 30 s, scaled.
for ((i = 0; i < 150 * gmg_scale; i++)); do
	[ -e "$ready/pid" ] && [ -e "$ready/golimit" ] && [ -e "$ready/member" ] && break
	sleep 0.2
done

for c in "${cmds[@]}"; do
	run=${c//4711/$pid}
	run=${run//\/sys\/fs\/cgroup\/payments.slice/$cg}
	read -r -a argv <<<"$run"
	# monitor runs until stopped: SIGTERM ends it with status 0.
	case " $run " in
	# 3 s (scaled): time enough to start up, so that SIGTERM finds it running.
	*" monitor "*) out=$(timeout --preserve-status $((3 * gmg_scale)) "$GOMEMCTL" "${argv[@]:1}" 2>&1) ;;
	*) out=$("$GOMEMCTL" "${argv[@]:1}" 2>&1) ;;
	esac
	rc=$?
	echo "# \$ $run"
	printf '%s\n' "$out" | head -n 12 | sed 's/^/#   /'
	ktap_test_result "$c" test $rc -eq 0
done

# What the README says of tag --go: GOMEMLIMIT became the soft limit.
"$GOMEMCTL" -j show "$golimit" 2>&1 | sed 's/^/# /'
"$GOMEMCTL" -j show "$golimit" 2>/dev/null |
	grep -q '"soft_limit_bytes":67108864,.*"limit_origin":"gomemlimit"'
ktap_test_result "tag --go --all took the GOMEMLIMIT of a Go service as its soft limit" test $? -eq 0

kill "$pid" "$golimit" "$member" 2>/dev/null
wait 2>/dev/null
"$GOMEMCTL" untag --cgroup "$cg" >/dev/null 2>&1
rmdir "$cg"

# The policy commands.  /etc/gomemguard/policy.d is there, as the packages
# and make install leave it; the state (/run/gomemguard) goes afterwards if
# it was not there before.
etc=$ready/etc
mkdir -p "$etc/upper" "$etc/work"
mount -t overlay gmg-readme-etc \
	-o "lowerdir=/etc,upperdir=$etc/upper,workdir=$etc/work" /etc ||
	ktap_exit_fail_msg "cannot lay a writable layer over /etc"
mkdir -p /etc/gomemguard/policy.d
[ -e /run/gomemguard ] && run_kept=1 || run_kept=
# The example rule's: a Go program with a GOMEMLIMIT in api.service.
api_slice=/sys/fs/cgroup/gmg-readme-policy.slice
api=$api_slice/api.service
mkdir -p "$api" || ktap_exit_fail_msg "cannot create $api"
GOMEMLIMIT=48MiB bash -c "echo \$\$ >$api/cgroup.procs && exec $GMG_WORKLOADS/gosleep -heap 4M -readyfile $ready/api" >/dev/null &
api_pid=$!
for ((i = 0; i < 150 * gmg_scale; i++)); do
	[ -e "$ready/api" ] && break
	sleep 0.2
done

cd "$top" || ktap_exit_fail_msg "no $top"
for c in "${pcmds[@]}"; do
	read -r -a argv <<<"$c"
	case ${argv[0]} in
	gomemctl)
		case " $c " in
		*" monitor "*) out=$(timeout --preserve-status $((3 * gmg_scale)) "$GOMEMCTL" "${argv[@]:1}" 2>&1) ;;
		*) out=$("$GOMEMCTL" "${argv[@]:1}" 2>&1) ;;
		esac
		rc=$?
		;;
	cp)
		out=$("${argv[@]}" 2>&1)
		rc=$?
		;;
	# A command this test does not know is one no test runs.
	*)
		out="not run: only gomemctl and cp commands are"
		rc=1
		;;
	esac
	echo "# \$ $c"
	printf '%s\n' "$out" | head -n 12 | sed 's/^/#   /'
	ktap_test_result "$c" test $rc -eq 0
done

# What the example says it does: the Go program in api.service, watched
# against its own GOMEMLIMIT.
"$GOMEMCTL" -j show "$api_pid" 2>&1 | sed 's/^/# /'
"$GOMEMCTL" -j show "$api_pid" 2>/dev/null |
	grep -q '"soft_limit_bytes":50331648,.*"limit_origin":"gomemlimit"'
ktap_test_result "the example rule tagged the Go program in api.service with its GOMEMLIMIT" test $? -eq 0

# Only what the rules tagged goes with them.
rm -f /etc/gomemguard/policy.d/*.conf
"$GOMEMCTL" policy apply 2>&1 | sed 's/^/# /'
watched=$("$GOMEMCTL" -j show 2>&1)
rc=$?
printf '%s\n' "$watched" | sed 's/^/# /'
[ $rc -eq 0 ] && ! grep -q "\"pid\":${api_pid}[,}]" <<<"$watched"
ktap_test_result "with the rule gone, policy apply untagged it" test $? -eq 0

kill "$api_pid" 2>/dev/null
wait 2>/dev/null
rmdir "$api" "$api_slice"
[ -n "$run_kept" ] || rm -rf /run/gomemguard
umount /etc
rm -rf "$ready"
ktap_finished
