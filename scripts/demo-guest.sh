#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo's guest side: what an operator would type, with the output.  A Go
# service with a heap leak runs in a memory cgroup with memory.max; gomemguard
# watches it, warns at each level and before the limit, and the OOM killer
# comes as forecast.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$top/tools:$PATH
"$top"/scripts/guest-modules.sh

run() {
	echo
	echo "\$ $*"
	"$@"
}

say() {
	echo
	echo "== $*"
}

say "the module is not loaded yet: the first gomemctl call loads it"
run gomemctl info
run gomemctl -j info

say "a Go service (Go 1.19) leaking 8 MiB/s, in a memory cgroup with memory.max = 160M"
cg=/sys/fs/cgroup/payments
mkdir -p $cg
echo 160M >$cg/memory.max
mkdir -p /tmp/bin
cp "$top/build/workloads/goleak" /tmp/bin/payments
(echo 0 >$cg/cgroup.procs && exec /tmp/bin/payments -rate 8M -baseline 16M \
	-readyfile /tmp/payments.ready -sigfile /tmp/payments.sig >/tmp/payments.log 2>&1) &
svc=$!
while [ ! -f /tmp/payments.ready ]; do sleep 0.1; done

say "listening for events, then tagging it: soft limit 128M, warn at 80/90/100 %, ETA horizon 10s, SIGUSR1 fuse"
gomemctl monitor --ready-file /tmp/monitor.ready >/tmp/monitor.log 2>&1 &
mon=$!
while [ ! -f /tmp/monitor.ready ]; do sleep 0.1; done
run gomemctl tag $svc --soft-limit 128M --eta 10s --rate-window 2s --signal USR1
sleep 4
run gomemctl show
run gomemctl -p show $svc
run gomemctl show --memcg

say "waiting for the OOM killer"
wait $svc || echo "payments exited with status $? (137: SIGKILL, the OOM killer)"
sleep 1
kill $mon
wait $mon || true

say "what gomemctl monitor printed, as it happened"
cat /tmp/monitor.log
say "what the service saw of its fuse (SIGUSR1 handler)"
cat /tmp/payments.sig
say "the kernel's side"
run grep oom_kill $cg/memory.events
dmesg | grep -E "gomemguard|Killed process" | sed 's/^/  /'

say "09:00, the on-call engineer asks what happened"
run gomemctl oom
