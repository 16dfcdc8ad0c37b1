#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's "Using it" commands, exactly as written, against the real
# module: the example PID 4711 and the example cgroup are replaced by a real
# Go program and a real cgroup, and nothing else is changed.  A command that
# the README shows and gomemctl refuses is a broken front door.
top=$(cd "$(dirname "$0")/.." && pwd)
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

ktap_print_header
[ ${#cmds[@]} -ge 5 ] || ktap_exit_fail_msg "found only ${#cmds[@]} gomemctl commands in $readme"
ktap_set_plan $((${#cmds[@]} + 1))

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
rm -rf "$ready"
ktap_finished
