#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An ext4 disk image for the guests' page-cache tests: page cache must come
# from a block-device filesystem (tmpfs pages are shmem, not reclaimable
# without swap).  Holds big.bin, 256 MiB of incompressible data.  Built once
# into build/vm/data.img; prints its path.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
img=$top/build/vm/data.img
if [ -f "$img" ] && [ "$img" -nt "$0" ]; then
	echo "$img"
	exit 0
fi
src=$top/build/vm/data-src
rm -rf "$src" "$img"
mkdir -p "$src"
head -c 256M /dev/urandom >"$src/big.bin"
# -d populates the filesystem from the directory: no mount, no root needed.
mkfs.ext4 -q -F -L gmgdata -d "$src" "$img" 384M >&2
rm -rf "$src"
echo "$img"
