#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside a guest: lay this build's gomemguard.ko and its depmod index
# (build/k/KVER/moddep, from scripts/build-module.sh) over the read-only
# /lib/modules/KVER shared from the host, so that modprobe -- and with it the
# kernel's autoload through MODULE_ALIAS_GENL_FAMILY -- finds the module, as
# it would after `make dkms-install` on a real host.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
dep=$top/build/k/$kver/moddep

[ -d "$dep" ] || { echo "guest-modules: $dep missing: scripts/build-module.sh $kver" >&2; exit 1; }
if grep -q "^gmg-modules /lib/modules/$kver " /proc/mounts; then
	exit 0
fi
modprobe overlay
mount -t overlay gmg-modules -o "lowerdir=$dep:/lib/modules/$kver" "/lib/modules/$kver"
