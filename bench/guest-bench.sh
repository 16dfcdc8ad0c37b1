#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside a guest booted by scripts/bench.sh: every benchmark of `make bench`
# on this kernel, in one boot, so that every ratio compares numbers from the
# same machine state.  Prints raw results only, as lines
#
#   @<section> <case> <what the program printed>
#
# for bench/report.py to turn into tables.  Knobs (GMG_* reach the guest):
#   GMG_BENCH_SECTIONS   which of "overhead latency lead service scale"
#                        (default all)
#   GMG_BENCH_ROUNDS     interleaved rounds per overhead variant (default 3)
#   GMG_BENCH_CROSSINGS  level crossings for the latency (default 200)
#   GMG_BENCH_REPS       runs of each lead-time scenario (default 1)
#   GMG_BENCH_SCENARIOS  which lead-time scenarios (default all)
#   GMG_BENCH_SERVICES   which service scenarios (default all)
#   GMG_BENCH_SCALE_N    tagged processes for the scale section (default 10000)
#   GMG_BENCH_SETTLE     seconds after tagging them that the settled page
#                        faults start (default 240), and GMG_BENCH_SETTLED_ROUNDS
#                        how many rounds those take (default 12)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
# scripts/bench.sh puts the module built for this kernel here.
ko=$top/build/bench/$kver/gomemguard.ko
gomemctl=$top/tools/gomemctl
wl=$top/build/workloads
bb=$top/build/bench
cg=/sys/fs/cgroup
sections=${GMG_BENCH_SECTIONS:-overhead latency lead service scale}
rounds=${GMG_BENCH_ROUNDS:-3}
crossings=${GMG_BENCH_CROSSINGS:-200}
reps=${GMG_BENCH_REPS:-1}
scale_n=${GMG_BENCH_SCALE_N:-10000}
settle=${GMG_BENCH_SETTLE:-240}
settled_rounds=${GMG_BENCH_SETTLED_ROUNDS:-12}
scenarios=${GMG_BENCH_SCENARIOS:-goleak cgoleak gcburst-ok gcburst-oom cachereader tmpfswriter}
services=${GMG_BENCH_SERVICES:-warmup gcburst gcleak tmpfs-sh shloop}

die() {
	echo "@error - $*"
	exit 1
}

stamp() {
	echo "@progress - $(cut -d' ' -f1 /proc/uptime)s $*"
}

boottime_ns() {
	# /proc/uptime is CLOCK_BOOTTIME, in hundredths: enough for markers.
	local up
	up=$(cut -d' ' -f1 /proc/uptime)
	echo "${up/./}0000000"
}

# Sleep without a process: every process start costs 0.1-0.2 s under TCG.
exec {nap_fd}<> <(:)
nap() {
	read -r -t "$1" -u "$nap_fd" _ || true
}

# Wait for a ready file (the workloads' -readyfile), at most $2 seconds.
wait_file() {
	local i
	for ((i = 0; i < ${2:-60} * 20; i++)); do
		[ -s "$1" ] && return 0
		nap 0.05
	done
	die "timed out waiting for $1"
}

mod_load() {
	insmod "$ko"
}

mod_unload() {
	local i
	for ((i = 0; i < 100; i++)); do
		rmmod gomemguard 2>/dev/null && return 0
		nap 0.1
	done
	die "gomemguard would not unload"
}

# Empty and remove a cgroup.
cg_remove() {
	local dir=$cg/$1 i
	[ -d "$dir" ] || return 0
	for ((i = 0; i < 200; i++)); do
		if [ -f "$dir/cgroup.kill" ]; then
			echo 1 >"$dir/cgroup.kill"
		else
			xargs -r kill -9 <"$dir/cgroup.procs" 2>/dev/null || true
		fi
		rmdir "$dir" 2>/dev/null && return 0
		nap 0.05
	done
	die "cannot remove cgroup $dir"
}

# Run CMD... inside cgroup $1 (its path under /sys/fs/cgroup), in the
# background; the caller waits for it.
in_cgroup() {
	local name=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg/$name" "$@"
}

# ---- overhead: page faults and fork+exit, variants interleaved ----

# One page-fault (or fork) run of variant $2 in round $3; mode $1 is pf|fork.
ovh_run() {
	local mode=$1 variant=$2 round=$3 ready=/tmp/bench-pf.ready pid args
	rm -f "$ready"
	if [ "$mode" = pf ]; then
		args=(-size 256M -rounds 1)
	else
		# The children outlive the module's 10 ms adoption delay: under
		# a cgroup tag the time includes adopting them and their exits.
		args=(-fork 200 -rounds 1 -hold-children 50ms)
	fi
	in_cgroup bench.ovh "$wl/pagefault" "${args[@]}" -readyfile "$ready" \
		-delay 500ms >/tmp/bench-pf.out &
	pid=$!
	wait_file "$ready"
	if [ "$variant" = tagged ]; then
		"$gomemctl" tag "$(cat "$ready")" --soft-limit 8G >/dev/null
	fi
	wait "$pid" || die "pagefault failed"
	sed -n "s/^round=1 /@$mode $variant $round /p" /tmp/bench-pf.out
}

# The module's count of adopted processes' exits it did not send.
exits_quiet() {
	"$gomemctl" -j info | sed -n 's/.*"exits_quiet":\([0-9]*\).*/\1/p'
}

# Put the machine in the state variant $1 needs: module loaded or not, the
# other process tagged or not.
ovh_state() {
	local want_mod=1 want_other=0
	case $1 in
	none) want_mod=0 ;;
	other) want_other=1 ;;
	esac
	if [ "$want_other" = 0 ] && [ "$ovh_other" = 1 ]; then
		"$gomemctl" untag "$sleeper" >/dev/null
		ovh_other=0
	fi
	if [ "$want_mod" = 0 ] && [ "$ovh_mod" = 1 ]; then
		mod_unload
		ovh_mod=0
	elif [ "$want_mod" = 1 ] && [ "$ovh_mod" = 0 ]; then
		mod_load
		ovh_mod=1
	fi
	if [ "$want_other" = 1 ] && [ "$ovh_other" = 0 ]; then
		"$gomemctl" tag "$sleeper" --soft-limit 8G >/dev/null
		ovh_other=1
	fi
	if [ "$1" = cgtag ]; then
		"$gomemctl" tag --cgroup /bench.ovh --soft-limit 8G --inherit >/dev/null
	fi
	# Loaded, nothing tagged: the hooks go 2 s after the last untag.  The
	# round measures that state, not the one before it: wait, and say.
	if [ "$1" = loaded ]; then
		local i hooks
		for ((i = 0; i < 100; i++)); do
			hooks=$(ovh_hooks)
			[ -z "$hooks" ] && break
			nap 0.1
		done
		echo "@ovh hooks-loaded n=$(wc -w <<<"$hooks") names=${hooks// /,}"
	fi
}

# The hooks gomemguard has registered, by name, on one line.
ovh_hooks() {
	"$gomemctl" -j info | sed -n 's/.*"hooks":\[\([^]]*\)\].*/\1/p' | tr -d '"' | tr ',' ' '
}

# Rounds of all variants of mode $1, each round in the order of the one
# before rotated by one (A B C, B C A, C A B, ...): neither drift nor the
# position in a round favours a variant.
ovh_rounds() {
	local mode=$1 r i n v q0
	shift
	n=$#
	for ((r = 1; r <= rounds; r++)); do
		for ((i = 0; i < n; i++)); do
			v=${*:$(((r - 1 + i) % n + 1)):1}
			ovh_state "$v"
			[ "$v" != cgtag ] || q0=$(exits_quiet)
			ovh_run "$mode" "$v" "$r"
			if [ "$v" = cgtag ]; then
				echo "@ovh exits-quiet round=$r forks=200" \
					"delta=$(($(exits_quiet) - q0))"
				"$gomemctl" untag --cgroup /bench.ovh >/dev/null
			fi
		done
	done
}

section_overhead() {
	stamp "overhead: page faults"
	mkdir -p "$cg/bench.ovh"
	sleep 1000 &
	sleeper=$!
	ovh_mod=1
	ovh_other=0
	# The first touch of guest RAM costs QEMU more than any later one.
	"$wl/pagefault" -size 256M -rounds 1 >/dev/null
	# "other": another process is tagged, so the hooks are live and this
	# one is looked up and not found: the untagged fast path.
	ovh_rounds pf none loaded other tagged
	stamp "overhead: fork+exit"
	ovh_rounds fork none loaded cgtag
	ovh_state loaded
	kill "$sleeper"
	wait "$sleeper" 2>/dev/null || true
	cg_remove bench.ovh
}

# ---- latency: level crossings against the monitor, a poller, PSI ----

section_latency() {
	stamp "latency: $crossings crossings"
	mkdir -p "$cg/bench.lat"
	"$bb/latency" -gomemctl "$gomemctl" -cgroup "$cg/bench.lat" \
		-crossings "$crossings" -up 200ms -down 200ms | sed -u 's/^/@lat - /'
	cg_remove bench.lat
}

# ---- lead time and false alarms, real workloads in a memcg ----

lead_max=$((128 << 20))
lead_horizon=5s

# lead_run NAME MODE LIFE CMD...: MODE max (memory.max only) or high (and
# memory.high at 90 %); LIFE: seconds after which a workload that should
# not OOM is stopped (0: run until killed, at most 30 s).
lead_run() {
	local name=$1 mode=$2 life=$3 dir=$cg/bench.lead ready=/tmp/bench-watch.ready
	local wpid pid rc wargs=()
	shift 3
	cg_remove bench.lead
	mkdir "$dir"
	echo "$lead_max" >"$dir/memory.max"
	echo 0 >"$dir/memory.swap.max"
	if [ "$mode" = high ]; then
		echo $((lead_max * 9 / 10)) >"$dir/memory.high"
	fi
	if [ "$mode" = high ] && [ "$life" = 0 ]; then
		# Throttled at memory.high, a leak may never reach memory.max:
		# what counts here is when the notification came.
		wargs=(-after-high 3s)
	fi
	# The soft limit is memory.max and the one level 90 %: the same
	# threshold as the poller's and memory.high; the ETA adds the forecast.
	"$gomemctl" tag --cgroup /bench.lead --soft-limit "$lead_max" --levels 90 \
		--eta "$lead_horizon" --rate-window 2s >/dev/null
	rm -f "$ready"
	"$bb/watch" -cgroup "$dir" -gomemctl "$gomemctl" -psi "some 150000 1000000" \
		-events -poll 100ms -poll-threshold $((lead_max * 9 / 10)) \
		-duration 30s "${wargs[@]}" -readyfile "$ready" >/tmp/bench-watch.out &
	wpid=$!
	wait_file "$ready"
	echo "@lead $name/$mode launch t=$(boottime_ns) life=$life"
	in_cgroup bench.lead "$@" >/tmp/bench-wl.out 2>&1 &
	pid=$!
	if [ "$life" != 0 ]; then
		sleep "$life"
		# The workload itself, in the cgroup: $pid is the shell that
		# started it.
		xargs -r kill <"$dir/cgroup.procs" 2>/dev/null || true
	fi
	# watch returns once the cgroup is empty, or at its own deadline.
	wait "$wpid" || die "watch failed"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null && rc=0 || rc=$?
	echo "@lead $name/$mode exit status=$rc"
	sed "s|^|@lead $name/$mode |" /tmp/bench-watch.out
	grep -v Killed /tmp/bench-wl.out | tail -n 2 | sed "s|^|@lead $name/$mode wl: |"
	"$gomemctl" untag --cgroup /bench.lead >/dev/null
	cg_remove bench.lead
}

lead_scenario() {
	case $1 in
	# Go's GC marks a growing heap: under TCG a faster leak cannot keep pace.
	goleak) lead_run "$1" "$2" 0 "$wl/goleak" -rate 8M ;;
	cgoleak) lead_run "$1" "$2" 0 "$wl/cgoleak" -rate 16M ;;
	# A batch job whose working set comes and goes, well within the limit.
	gcburst-ok) lead_run "$1" "$2" 10 env GOGC=100 "$wl/gcburst" -burst 32M -period 1s ;;
	# The same job handed a batch larger than the memcg.
	gcburst-oom) lead_run "$1" "$2" 0 env GOGC=100 "$wl/gcburst" -burst 128M -period 1s ;;
	cachereader) lead_run "$1" "$2" 10 "$wl/cachereader" -file "$data/big.bin" ;;
	tmpfswriter) lead_run "$1" "$2" 0 "$wl/tmpfswriter" -dir "$tmpfs" -rate 16M -unlink ;;
	*) die "unknown scenario $1" ;;
	esac
}

section_lead() {
	local rep mode sc
	mounts_up
	for ((rep = 1; rep <= reps; rep++)); do
		for mode in max high; do
			stamp "lead: round $rep, $mode"
			for sc in $scenarios; do
				lead_scenario "$sc" "$mode"
			done
		done
	done
	mounts_down
}

# ---- issue 14's services: Go programs and shell loops, 256 MiB, 20 s ----

svc_max=$((256 << 20))

# svc_run NAME LIFE CMD...: CMD in a memcg of 256 MiB (no swap) tagged
# `--soft-limit 256M --eta 20s` before it joins, as a user would; LIFE:
# seconds after which a workload that should not OOM is stopped (0: run
# until killed, at most 100 s).  Printed as the lead section's lines, mode
# "svc", with the exits_quiet change over the run ("quiet") and, after an
# OOM kill, what `gomemctl oom` says ("pm").
svc_run() {
	local name=$1 life=$2 dir=$cg/bench.svc ready=/tmp/bench-watch.ready
	local wpid pid rc q0
	shift 2
	cg_remove bench.svc
	mkdir "$dir"
	echo "$svc_max" >"$dir/memory.max"
	echo 0 >"$dir/memory.swap.max"
	"$gomemctl" tag --cgroup /bench.svc --soft-limit 256M --eta 20s >/dev/null
	rm -f "$ready"
	"$bb/watch" -cgroup "$dir" -gomemctl "$gomemctl" -events -duration 100s \
		-readyfile "$ready" >/tmp/bench-watch.out &
	wpid=$!
	wait_file "$ready"
	q0=$(exits_quiet)
	echo "@lead $name/svc launch t=$(boottime_ns) life=$life horizon_ms=20000"
	in_cgroup bench.svc "$@" >/tmp/bench-wl.out 2>&1 &
	pid=$!
	if [ "$life" != 0 ]; then
		sleep "$life"
		cg_kill bench.svc
	fi
	wait "$wpid" || die "watch failed"
	# Past the deadline, or a loop whose child was the victim: stop it.
	cg_kill bench.svc
	wait "$pid" 2>/dev/null && rc=0 || rc=$?
	echo "@lead $name/svc exit status=$rc"
	sed "s|^|@lead $name/svc |" /tmp/bench-watch.out
	echo "@lead $name/svc quiet before=$q0 after=$(exits_quiet)"
	if grep -q '"event":"oom"' /tmp/bench-watch.out; then
		"$gomemctl" oom 2>&1 | sed "s|^|@lead $name/svc pm |"
	fi
	grep -v Killed /tmp/bench-wl.out | tail -n 2 | sed "s|^|@lead $name/svc wl: |"
	"$gomemctl" untag --cgroup /bench.svc >/dev/null
	rm -f "$tmpfs/svc.fill"
	cg_remove bench.svc
}

# Kill what runs in cgroup $1, and keep at it until it is empty.
cg_kill() {
	local dir=$cg/$1 i
	for ((i = 0; i < 200; i++)); do
		# cgroup files have no size: read it.
		grep -q . "$dir/cgroup.procs" || return 0
		if [ -f "$dir/cgroup.kill" ]; then
			echo 1 >"$dir/cgroup.kill"
		else
			xargs -r kill -9 <"$dir/cgroup.procs" 2>/dev/null || true
		fi
		nap 0.05
	done
	die "cannot empty cgroup $dir"
}

# shellcheck disable=SC2016 # the inner sh expands its $0, $1, $2
svc_scenario() {
	case $1 in
	# A service builds a 112 MiB working set in ~3 s, then serves: holds it
	# while it reads a file through page cache (which fills the memcg).
	warmup) svc_run "$1" 40 sh -c '"$0" -rate 40M -max 112M -baseline 8M & sleep 4;
		exec "$1" -file "$2" -heap 8M' "$wl/goleak" "$wl/cachereader" "$data/big.bin" ;;
	# A large transient working set every 2 s: a sawtooth, never an OOM.
	gcburst) svc_run "$1" 40 env GOGC=100 "$wl/gcburst" -burst 64M -period 2s ;;
	# A leak under the sawtooth: Go's anon grows about twice the leak.
	gcleak) svc_run "$1" 0 env GOGC=100 "$wl/gcburst" -burst 32M -period 1s -leak 3M ;;
	# Pinned memory no process owns: a tmpfs file grown by short-lived dd's.
	tmpfs-sh) svc_run "$1" 0 sh -c 'while dd if=/dev/zero of="$0" bs=4M count=1 \
		oflag=append conv=notrunc status=none; do sleep 1; done' "$tmpfs/svc.fill" ;;
	# The same loop writing nowhere: only its children come and go.
	shloop) svc_run "$1" 20 sh -c 'while dd if=/dev/zero of=/dev/null bs=4M count=1 \
		status=none; do sleep 1; done' ;;
	*) die "unknown service scenario $1" ;;
	esac
}

section_service() {
	local sc
	mounts_up
	for sc in $services; do
		stamp "service: $sc"
		svc_scenario "$sc"
	done
	mounts_down
}

# The tmpfs and the ext4 data disk the lead and service scenarios use.
mounts_up() {
	tmpfs=/mnt/bench-tmpfs
	data=/mnt/bench-data
	mkdir -p "$tmpfs" "$data"
	mount -t tmpfs -o size=1G bench "$tmpfs"
	[ -b /dev/vda ] || die "no data disk: scripts/data-disk.sh, guest.sh --disk"
	mount -o ro /dev/vda "$data"
}

mounts_down() {
	umount "$tmpfs" "$data"
}

# ---- scale: many tagged processes ----

slab_line() {
	local objs sunr
	objs=$(awk '$1 == "kmalloc-512" { print $2 }' /proc/slabinfo)
	sunr=$(awk '$1 == "SUnreclaim:" { print $2 * 1024 }' /proc/meminfo)
	echo "kmalloc512_objs=$objs sunreclaim=$sunr"
}

tagged_count() {
	"$gomemctl" -j info | sed -n 's/.*"tagged_processes":\([0-9]*\).*/\1/p'
}

scale_pf() {
	"$wl/pagefault" -size 256M -rounds "${2:-2}" |
		sed -n "s/^round=[0-9]* /@scale pf-$1 /p"
}

section_scale() {
	local ready=/tmp/bench-sleepers.ready spid t0 t1 i n blk tag_ns
	stamp "scale: $scale_n processes"
	echo $((scale_n * 4 + 32768)) >/proc/sys/kernel/pid_max
	echo $((scale_n * 4 + 32768)) >/proc/sys/kernel/threads-max
	mkdir -p "$cg/bench.scale"
	rm -f "$ready"
	in_cgroup bench.scale "$bb/sleepers" -n "$scale_n" -readyfile "$ready" |
		sed -u 's/^/@scale sleepers /' &
	spid=$!
	wait_file "$ready" 600
	# Untagged and tagged blocks alternate, N T N T N, after a settle:
	# the guest drifts over the section (two untagged blocks a minute
	# apart differ by up to 0.7 %), and then drift falls on both sides.
	nap 5
	scale_pf none
	for blk in 1 2; do
		if [ "$blk" = 1 ]; then
			sync
			echo "@scale slab-before $(slab_line)"
		fi
		t0=$(boottime_ns)
		tag_ns=$t0
		"$gomemctl" tag --cgroup /bench.scale --soft-limit 1G >/dev/null
		# Adoption runs in bounded batches; a process joining starts another.
		for ((i = 0; i < 600; i++)); do
			n=$(tagged_count)
			[ "$n" -gt "$scale_n" ] && break
			in_cgroup bench.scale true
			nap 0.2
		done
		t1=$(boottime_ns)
		echo "@scale tagged n=$n ns=$((t1 - t0))"
		if [ "$blk" = 1 ]; then
			echo "@scale slab-after $(slab_line)"
			t0=$(date +%s%N)
			"$gomemctl" -j show >/tmp/bench-show.json
			t1=$(date +%s%N)
			n=$(grep -o '"pid":' /tmp/bench-show.json | wc -l)
			echo "@scale show entries=$n ns=$((t1 - t0))"
		fi
		# Each new tag's first sample is done before the faults are timed.
		nap 5
		scale_pf tagged
		if [ "$blk" = 1 ]; then
			# Long-lived tags: their idle processes sampled ever less
			# often, and apart.  Faults all the way to the settled
			# rounds: the module's cost on the way is seen too.
			while [ $(($(boottime_ns) - tag_ns)) -lt $((settle * 1000000000)) ]; do
				scale_pf settling 1
			done
			echo "@scale settle s=$((($(boottime_ns) - tag_ns) / 1000000000))"
			scale_pf settled "$settled_rounds"
		fi
		"$gomemctl" untag --cgroup /bench.scale >/dev/null
		# The hooks linger 2 s after the last untag.
		nap 3
		scale_pf none
	done
	cg_remove bench.scale
	wait "$spid" 2>/dev/null || true
}

[ -f "$ko" ] || die "$ko missing"
mod_load
echo "@env - kernel=$kver guest=${GMG_BENCH_GUEST:-any} cpus=$(nproc)" \
	"mem_kib=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
	"module=$("$gomemctl" -j info | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')"
for s in $sections; do
	case $s in
	overhead | latency | lead | service | scale) "section_$s" ;;
	*) die "unknown section $s" ;;
	esac
done
stamp "done"
echo "@done -"
