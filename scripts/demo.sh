#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: install what is missing, build, boot Debian's kernel in QEMU
# and show gomemguard answering there.  KVER picks the kernel (default: the
# newest target).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
kver=${KVER:-$(selftests/vm/kernels.sh | tail -n 1)}
make -s tools workloads
scripts/build-module.sh "$kver"
echo "== booting $kver in QEMU (software emulation: give it a few seconds)"
exec selftests/vm/guest.sh "$kver" -- "$top/scripts/demo-guest.sh"
