#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make shell`: a guest shell with this build's module loadable (modprobe
# gomemguard, or just run gomemctl) and gomemctl on PATH.
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
"$top"/scripts/guest-modules.sh
export PATH=$top/tools:$PATH
export GMG_KO=$top/build/k/$kver/gomemguard.ko GOMEMCTL=$top/tools/gomemctl
echo "gomemguard guest on $kver: try 'gomemctl info'; 'poweroff -f' to leave"
exec bash -i
