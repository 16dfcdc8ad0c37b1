#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: install what is missing, build the module for each target
# kernel, gomemctl, the workloads and the benchmark programs, then boot two
# guests per kernel and run bench/guest-bench.sh in them:
#
#   cost   overhead and scale: 1 vCPU, QEMU's instruction counting
#          (-icount): guest time is instructions executed, so the ratios do
#          not move with the load on this shared host; the kernels' cost
#          guests run side by side
#   live   latency, lead time and issue 14's services: 1 vCPU, real time (a warning is only as
#          early as the wall clock says); one at a time, alone
#
# The whole run holds the machine-wide guest lock (guest.sh's), so no other
# guest shares the CPUs with it.
#
# Raw results go to build/bench/<kernel>.<guest>.log; bench/report.py turns
# them into tables, printed and written to bench/RESULTS.md.
#
# Knobs: KVERS (kernels), BENCH_GUESTS ("cost live"), BENCH_OUT (the report,
# default bench/RESULTS.md), and the guest's GMG_BENCH_* (see
# bench/guest-bench.sh), e.g. GMG_BENCH_CROSSINGS=20 for a quick look.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/bench
report=${BENCH_OUT:-$top/bench/RESULTS.md}
guests=${BENCH_GUESTS:-cost live}
start=$(date +%s)

stamp() { printf '# [%4ds] %s\n' $(($(date +%s) - start)) "$*"; }

stamp "installing missing dependencies"
scripts/deps.sh
if [ ! -x /usr/bin/python3 ]; then
	apt-get install -y -qq python3 >/dev/null
fi
KVERS=${KVERS:-$(selftests/vm/kernels.sh | tr "\n" " ")}
export KVERS
read -r -a kvers <<<"$KVERS"
[ ${#kvers[@]} -gt 0 ] || { echo "bench: no target kernels" >&2; exit 1; }

stamp "building gomemctl, the workloads, the benchmarks and the data disk"
mkdir -p "$out"
make -s -C tools VERSION="$(cat VERSION)" gomemctl
make -s workloads
make -s -C bench OUT="$out"
disk=$(scripts/data-disk.sh)

for k in "${kvers[@]}"; do
	# build-module.sh (W=1, sparse) takes a minute: skip it when its
	# module is newer than every source.
	ko=build/k/$k/gomemguard.ko
	if [ ! -f "$ko" ] || [ -n "$(find Kbuild VERSION kmod include -newer "$ko" -print -quit)" ]; then
		stamp "$k: building the module"
		scripts/build-module.sh "$k" >/dev/null
	fi
	# Our own copy: a concurrent build of build/k/ must not change it
	# under a running guest.
	mkdir -p "$out/$k"
	cp "build/k/$k/gomemguard.ko" "$out/$k/gomemguard.ko"
done

# One guest run: run_guest KERNEL GUEST; its log in $out/KERNEL.GUEST.log,
# its wall time in $out/KERNEL.GUEST.secs.
run_guest() {
	local k=$1 g=$2 log=$out/$1.$2.log sections qemu_opts disk_opt=() t0 rc=0
	case $g in
	cost)
		sections="overhead scale"
		# 8 ns of guest time per instruction; idle time still passes
		# in real time (sleep=on).
		qemu_opts="-icount shift=3,sleep=on"
		;;
	live)
		sections="latency lead service"
		qemu_opts=
		disk_opt=(--disk "$disk")
		;;
	esac
	t0=$(date +%s)
	GUEST_LOCK='' GUEST_QEMU_OPTS=$qemu_opts GMG_BENCH_SECTIONS=$sections \
		GMG_BENCH_GUEST=$g \
		selftests/vm/guest.sh --cpus 1 --mem 2560 --timeout 1500 \
		"${disk_opt[@]}" "$k" -- "$top/bench/guest-bench.sh" \
		>"$log" 2>&1 9>&- || rc=$?
	echo $(($(date +%s) - t0)) >"$out/$k.$g.secs"
	return "$rc"
}

# After run_guest: its progress, and whether it got to the end.
check_guest() {
	local k=$1 g=$2 rc=$3 log=$out/$1.$2.log

	grep -E '^@(progress|error)' "$log" | sed "s/^@[a-z]* - /#   $k $g: /" || true
	if [ "$rc" != 0 ] || ! grep -q '^@done' "$log"; then
		tail -n 20 "$log" >&2
		echo "bench: $k $g guest failed (exit $rc); log: $log" >&2
		exit 1
	fi
}

for g in $guests; do
	case $g in
	cost|live) ;;
	*)
		echo "bench: unknown guest $g (cost, live)" >&2
		exit 1
		;;
	esac
done

# The machine-wide guest lock, held for the whole run: nobody else's guest
# may share the CPUs with a live guest.
lockdir=/run/lock
[ -d "$lockdir" ] || lockdir=/tmp
exec 9>"$lockdir/gomemguard-guest.lock"
if ! flock -n 9; then
	stamp "waiting for another guest to finish ($lockdir/gomemguard-guest.lock)"
	flock 9
fi

logs=()
timing=()
# The cost guests count instructions, not seconds: what runs beside them
# does not change their numbers, so they run side by side, one vCPU each
# (one host CPU each when there are two kernels on two CPUs).
if [[ " $guests " == *" cost "* ]]; then
	stamp "cost guests (overhead, scale), side by side: ${kvers[*]}"
	pids=()
	for k in "${kvers[@]}"; do
		run_guest "$k" cost &
		pids+=($!)
	done
	for i in "${!kvers[@]}"; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		check_guest "${kvers[$i]}" cost "$rc"
	done
	for k in "${kvers[@]}"; do
		logs+=("$out/$k.cost.log")
		timing+=(--timing "$k, cost guest: $(cat "$out/$k.cost.secs") s wall, boot included (beside the other kernels' cost guests)")
	done
fi
# The live guests run in real time: one at a time, alone.
if [[ " $guests " == *" live "* ]]; then
	for k in "${kvers[@]}"; do
		stamp "$k: live guest (latency, lead, service), alone"
		rc=0
		run_guest "$k" live || rc=$?
		check_guest "$k" live "$rc"
		logs+=("$out/$k.live.log")
		timing+=(--timing "$k, live guest: $(cat "$out/$k.live.secs") s wall, boot included")
	done
fi
timing+=(--timing "whole run: $(($(date +%s) - start)) s wall")

stamp "writing $report"
cmd="make bench"
[ "$guests" = "cost live" ] || cmd="BENCH_GUESTS=\"$guests\" $cmd"
/usr/bin/python3 bench/report.py --command "$cmd" --out "$report" "${timing[@]}" "${logs[@]}"
stamp "done"
