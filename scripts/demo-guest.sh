#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo's guest side: what an operator would type, with the output.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$top/tools:$PATH

"$top"/scripts/guest-modules.sh

run() {
	echo
	echo "\$ $*"
	"$@"
}

run lsmod | grep -c gomemguard || true
echo "(gomemguard is not loaded yet: the first gomemctl call loads it)"
run gomemctl info
run gomemctl -j info
run gomemctl config --event-interval 2s --event-burst 5
run gomemctl info
run gomemctl config --event-burst 100000 || true
run dmesg --notime | grep gomemguard
