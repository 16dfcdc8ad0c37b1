#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own cgroup selftests -- test_core, test_kmem and
# test_memcontrol from linux-source-6.12, built as they ship into
# build/kcgroup (selftests/Makefile) -- first without gomemguard, then with
# it loaded and the root cgroup tagged with inherit, so that every process
# of every test is watched.  The tag's soft limit is one page: every process
# warns at its first assessment, so that its exit sends an EXIT event (an
# adopted process that never warned sends none, its exit is only counted),
# and the module's warning path runs under the tests too.  A harmless module
# changes nothing: each program must pass the same set of cases both times,
# and its processes must have been watched.  Cases that fail both times
# are the guest's, not the module's, and are listed, not failed.  Then the
# dying cgroups the runs left (nr_dying_descendants in the root's
# cgroup.stat) must go while the root is still tagged: a module that pins a
# removed cgroup keeps it dying until it is unloaded.  Last, untag and rmmod
# must work.
#
# Whatever it starts in the background is gone when it exits, or does not
# hold its stdout: a process stuck in the kernel (rmmod waiting for a work
# item of a module that oopsed) cannot be killed, and one holding the
# kselftest runner's pipe would keep the whole suite waiting for ever.
#
# Cases that race reclaim or OOM against a deadline can be flaky in TCG:
# test_memcg_high_sync reads memory.events once the first "high" event is
# in, and fails if its mlocked 200 MiB reached memory.max by then, which
# happened in about one run in ten without the module here and in two runs
# in a row without it (and none with it) in CI.  So a program whose
# passing set differs is run again, up to twice more in the mode that
# passed less: with the module when it lost a case, without it (after
# rmmod) when it gained one.  A case counts as passing in a mode when it
# passed in any of that mode's runs.  A case the module breaks (or mends)
# every time is still found; one it changes now and then may not be, but
# its failures are printed.
#
# The programs run in a chroot whose root is ext4 on zram, as on a machine
# whose root is a disk: on the guest's 9p root, test_kmem_basic's 100,000
# lookups of missing files take 30 s and leave no dentries to count, and
# test_memcontrol cannot create its page cache (O_TMPFILE in its working
# directory) at all.  Without zram, the chroot's root is a tmpfs.  Each mode
# gets a new one, unmounted before nr_dying_descendants is looked at: on
# 6.12, a memcg test_memcontrol removed stayed dying in about every other
# run without the module, for as long as its ext4 stayed mounted (the
# filesystem's own references; unmounting freed it within a second).
#
# Needs $GOMEMCTL and the module reachable by modprobe (guest-run.sh and
# scripts/guest-modules.sh).  Unloads the module it finds; leaves it loaded
# at the end, as the tests before it do.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
kcg=$top/build/kcgroup
progs=(test_core test_kmem test_memcontrol)
cgroot=/sys/fs/cgroup
work=$(mktemp -d /tmp/gmg-kcgroup.XXXXXX)
root=$work/root
zram=
zram_loaded=0
[ -d /sys/module/zram ] && zram_loaded=1
monitor=
tagged=0
nbounded=0

cleanup() {
	[ -n "$monitor" ] && kill -KILL "$monitor" 2>/dev/null
	[ "$tagged" = 1 ] && bounded 10 "$ctl" untag --cgroup "$cgroot" >/dev/null
	drop_root
	# Leave the guest's modules as they were.
	[ "$zram_loaded" = 0 ] && [ -d /sys/module/zram ] && bounded 10 rmmod zram
	# Not into what a lazy unmount may have left of the chroot's binds.
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
# Stopped by the runner's timeout: clean up all the same, for the tests
# after this one.
trap 'exit 143' TERM
trap 'exit 130' INT

now_us() {
	echo "${EPOCHREALTIME//[!0-9]/}"
}

# A tenth of a second, without starting a process: every one costs 0.1-0.2 s
# of the guest's one host CPU under TCG, taken from the programs measured.
mkfifo "$work/tick"
exec {tick}<>"$work/tick"
tick() {
	read -r -t 0.1 -u "$tick"
}

# alive PID: whether PID runs (bash reaps its children itself: a child
# that exited is gone from /proc before it is waited for).
alive() {
	local st

	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || return 1
	[ "$st" != Z ]
}

# stuck PID WHAT: say so, with where PID is in the kernel, and SIGKILL it.
stuck() {
	local st

	read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || st=gone
	echo "# stuck: $2, state $st:"
	sed 's/^/#   /' "/proc/$1/stack" 2>/dev/null
	kill -KILL "$1" 2>/dev/null
}

# bounded SECONDS CMD...: CMD's status, or 124 when it still runs after
# SECONDS times GMG_TIME_SCALE -- then it is left running, said, and the
# test goes on: a process stuck in the kernel (a module that oopsed holding
# its lock) can be neither killed nor waited for.  CMD writes to a file of
# its own, copied to stdout when it ends or is given up on: left running,
# it must not hold this script's stdout.
bounded() {
	local secs=$(($1 * gmg_scale)) end pid out rc

	shift
	nbounded=$((nbounded + 1))
	out=$work/bounded.$nbounded
	end=$(($(now_us) + secs * 1000000))
	"$@" >"$out" 2>&1 </dev/null &
	pid=$!
	while alive "$pid" && [ "$(now_us)" -lt "$end" ]; do
		tick
	done
	if alive "$pid"; then
		cat "$out"
		stuck "$pid" "'$*' still runs after $secs s"
		return 124
	fi
	wait "$pid"
	rc=$?
	cat "$out"
	return $rc
}

dying() {
	local k v

	while read -r k v; do
		[ "$k" = nr_dying_descendants ] && echo "$v" && return
	done <"$cgroot/cgroup.stat"
}

# The cgroup2 mount's options: a module that mounts cgroup2 itself
# re-applies its own to the one superblock (nsdelegate and
# memory_recursiveprot gone).
cg_opts() {
	awk -v m="$cgroot" '$2 == m && $3 == "cgroup2" { print $4 }' /proc/mounts
}

# wait_dying TARGET SECONDS: until nr_dying_descendants is TARGET or less,
# for up to SECONDS times GMG_TIME_SCALE (a bound, not a measure); sets
# waited to the seconds it took.  Page cache is written back and dropped
# first: a removed memcg stays dying while pages charged to it are cached
# (the programs' own, read over 9p), which is the kernel's way, not a leak,
# and would make the count depend on what happened to be cached.
wait_dying() {
	local t0 end next

	t0=$(now_us)
	end=$((t0 + $2 * gmg_scale * 1000000))
	next=$t0
	while [ "$(dying)" -gt "$1" ] && [ "$(now_us)" -lt "$end" ]; do
		# Again every 2 s: a page dirty, under writeback or still in a
		# per-CPU LRU batch is not dropped the first time (seen on 6.1:
		# one memcg dying 20 s with the root tagged, gone 0.3 s after a
		# second drop_caches, still tagged).
		if [ "$(now_us)" -ge "$next" ]; then
			bounded 30 sh -c 'sync && echo 3 >/proc/sys/vm/drop_caches'
			next=$(($(now_us) + 2000000))
		fi
		tick
	done
	waited=$((($(now_us) - t0) / 100000))
	waited=$((waited / 10)).$((waited % 10))
	[ "$(dying)" -le "$1" ]
}

# A root like a real machine's: a new local filesystem, with /usr, /etc
# (for test_memcg_sock's getaddrinfo()) and the kernel filesystems bound in.
make_root() {
	local d n

	mkdir -p "$root"
	if modprobe zram 2>/dev/null && n=$(cat /sys/class/zram-control/hot_add) &&
	   zram=zram$n && echo 512M >"/sys/block/$zram/disksize" &&
	   mkfs.ext4 -q "/dev/$zram" && mount -o discard "/dev/$zram" "$root"; then
		echo "# chroot: ext4 on /dev/$zram"
	else
		mount -t tmpfs kcgroup "$root" || return 1
		echo "# chroot: tmpfs (no zram: cases that need reclaimable page cache fail both times)"
	fi
	# Nothing mounted or unmounted below it may reach the real /dev, /sys...
	mount --make-private "$root" || return 1
	mkdir "$root"/{usr,etc,proc,sys,dev,kcg} || return 1
	ln -s usr/bin usr/lib usr/lib64 usr/sbin "$root" || return 1
	for d in usr etc proc sys dev; do
		mount --rbind "/$d" "$root/$d" || return 1
	done
	mount --bind "$kcg" "$root/kcg" && mount --make-rprivate "$root"
}

# Unmount the chroot, lazily if something still uses it, and free its
# device if it can be.
drop_root() {
	if mountpoint -q "$root"; then
		bounded 10 umount -R "$root" || bounded 10 umount -R -l "$root"
	fi
	if [ -n "$zram" ]; then
		echo "${zram#zram}" 2>/dev/null >/sys/class/zram-control/hot_remove ||
			echo "# /dev/$zram is still in use: left as it is"
		zram=
	fi
}

# run MODE PROG: one more run, its output in $work/MODE.PROG.N, shown as
# diagnostics.  60 s (scaled) each; they take 1-26 s in TCG.
run() {
	local n rc out t0 ms

	n=0
	while [ -e "$work/$1.$2.$n" ]; do
		n=$((n + 1))
	done
	out=$work/$1.$2.$n
	t0=$(now_us)
	bounded 70 timeout $((60 * gmg_scale)) chroot "$root" stdbuf -oL "/kcg/$2" >"$out" 2>&1
	rc=$?
	ms=$((($(now_us) - t0) / 1000))
	sed "s/^/# [$1 $n] $2: /" "$out"
	[ $rc = 124 ] && echo "# [$1 $n] $2: timed out"
	echo "# [$1 $n] $2: exit status $rc after $((ms / 1000)).$((ms % 1000 / 100))s"
}

# verdict PROG: what all runs of PROG so far say, in one line of fields
# separated by "|", each list in the order the cases ran, or "none":
#   the number of cases that passed without the module,
#   the cases that passed in a run without it but in none with it (lost),
#   those that passed only with it (gained),
#   those that never passed in either mode (the guest's),
#   those that passed and failed in one mode (flaky),
#   how many of PROG's processes the monitor saw exit (watched).
# One awk for all of it: a process costs 0.1-0.2 s in TCG.
verdict() {
	local f files=(/dev/null)

	for f in "$work"/{without,with}."$1".* "$work/events"; do
		[ -e "$f" ] && files+=("$f")
	done
	awk -v prog="$1" '
		function list(s) { return s == "" ? "none" : substr(s, 2) }
		function saw(c) { if (!(c in seen)) { seen[c]; order[++n] = c } }
		FILENAME ~ /\/events$/ {
			watched += index($0, "\"event\":\"exit\"") && index($0, "\"comm\":\"" prog "\"")
			next
		}
		FNR == 1 { mode = FILENAME; sub(/.*\//, "", mode); sub(/\..*/, "", mode) }
		/^ok [0-9]+ # SKIP / { saw($5); next }
		/^ok [0-9]+ / { saw($3); pass[mode, $3] = 1; next }
		/^not ok [0-9]+ / { saw($4); fail[mode, $4] = 1 }
		END {
			for (i = 1; i <= n; i++) {
				c = order[i]
				npass += pass["without", c]
				if (pass["without", c] && !pass["with", c])
					lost = lost " " c
				if (pass["with", c] && !pass["without", c])
					gained = gained " " c
				if (!pass["without", c] && !pass["with", c])
					never = never " " c
				if ((pass["without", c] && fail["without", c]) ||
				    (pass["with", c] && fail["with", c]))
					flaky = flaky " " c
			}
			printf "%d|%s|%s|%s|%s|%d\n", npass, list(lost), list(gained),
			       list(never), list(flaky), watched
		}
	' "${files[@]}"
}

# lost|gained PROG: whether a case passed only without, only with the module.
lost() {
	local l

	IFS='|' read -r _ l _ < <(verdict "$1")
	[ "$l" != none ]
}

gained() {
	local g

	IFS='|' read -r _ _ g _ < <(verdict "$1")
	[ "$g" != none ]
}

ktap_print_header
ktap_set_plan $((${#progs[@]} + 2))

for p in "${progs[@]}"; do
	[ -x "$kcg/$p" ] || ktap_exit_fail_msg "$kcg/$p missing: make selftests"
done
[ -d /sys/module/gomemguard ] && bounded 30 rmmod gomemguard
[ -d /sys/module/gomemguard ] && ktap_exit_fail_msg "gomemguard is loaded and cannot be unloaded"
opts=$(cg_opts)

start=$(dying)
make_root || ktap_exit_fail_msg "cannot make the chroot for the cgroup selftests"
for p in "${progs[@]}"; do
	run without "$p"
done
drop_root
wait_dying "$start" 10
echo "# nr_dying_descendants without the module: $start before the runs, $(dying) ${waited}s after"
start=$(dying)

bounded 30 modprobe gomemguard || ktap_exit_fail_msg "modprobe gomemguard failed"
bounded 10 "$ctl" tag --cgroup "$cgroot" --soft-limit 4K --levels 100 --inherit ||
	ktap_exit_fail_msg "gomemctl tag --cgroup $cgroot failed"
tagged=1
# Which processes the module watched, told by their EXIT events: each
# warned (one-page soft limit), so each exit is sent.
"$ctl" monitor -j --ready-file "$work/ready" >"$work/events" 2>"$work/monitor.err" </dev/null &
monitor=$!
for ((i = 0; i < 100 * gmg_scale; i++)); do
	[ -e "$work/ready" ] && break
	tick
done
[ -e "$work/ready" ] || ktap_exit_fail_msg "gomemctl monitor did not start"

make_root || ktap_exit_fail_msg "cannot make the chroot for the cgroup selftests"
for p in "${progs[@]}"; do
	run with "$p"
	for ((i = 0; i < 2; i++)); do
		lost "$p" || break
		run with "$p"
	done
done

kill "$monitor"
for ((i = 0; i < 50 * gmg_scale; i++)); do
	alive "$monitor" || break
	tick
done
if alive "$monitor"; then
	stuck "$monitor" "gomemctl monitor still runs $((5 * gmg_scale)) s after SIGTERM"
else
	wait "$monitor"
fi
monitor=
sed 's/^/# monitor: /' "$work/monitor.err"
bounded 10 "$ctl" info >"$work/info" 2>&1
sed 's/^/# info: /' "$work/info"

after=$(dying)
drop_root
wait_dying "$start" 20
dying_ok=$?
echo "# nr_dying_descendants with the root tagged: $start before the runs, $after after them, $(dying) ${waited}s later"
# Who may hold one: every watched process, with the memcg it was last seen in.
[ $dying_ok = 0 ] || bounded 10 "$ctl" -j show | sed 's/^/# still watched: /'

bounded 10 "$ctl" untag --cgroup "$cgroot"
rc=$?
tagged=0
if [ $dying_ok != 0 ]; then
	wait_dying "$start" 5
	echo "# nr_dying_descendants: $(dying) ${waited}s after untag, the module loaded"
fi
[ $rc = 0 ] && bounded 30 rmmod gomemguard
rmmod_ok=$?
wait_dying "$start" 2
echo "# nr_dying_descendants: $(dying) after untag and rmmod"

if [ "$(cg_opts)" != "$opts" ]; then
	echo "# the cgroup2 mount's options changed while the module was loaded: $opts before, $(cg_opts) after"
	mount -o remount,"$opts" "$cgroot"
fi

for p in "${progs[@]}"; do
	for ((i = 0; i < 2; i++)); do
		gained "$p" || break
		mountpoint -q "$root" || make_root ||
			ktap_exit_fail_msg "cannot make the chroot for the cgroup selftests"
		run without "$p"
	done
done
drop_root

for p in "${progs[@]}"; do
	IFS='|' read -r npass lost gained never flaky watched < <(verdict "$p")
	echo "# $p: $npass cases passed without the module; lost with it: $lost; gained with it: $gained"
	echo "# $p: never passed (the guest's, not the module's): $never; flaky (passed and failed in one mode): $flaky"
	echo "# $p: $watched of its processes watched to their exit"
	[ "$npass" -gt 0 ] && [ "$lost" = none ] && [ "$gained" = none ] && [ "$watched" -gt 0 ]
	ktap_test_result "$p: the same cases pass with the root cgroup tagged as without the module" \
		test $? -eq 0
done
ktap_test_result "the cgroups the runs removed stop dying while the root is tagged" \
	test $dying_ok -eq 0
ktap_test_result "untag the root cgroup and rmmod gomemguard" test $rmmod_ok -eq 0
bounded 30 modprobe gomemguard

ktap_finished
