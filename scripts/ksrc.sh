#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract the few kernel files gomemguard's build uses -- the kselftest
# framework, checkpatch, the kernel's own cgroup selftests (run with and
# without the module by selftests/kcgroup_test.sh) with the headers they
# include, and YNL (the netlink spec schemas, tools/net/ynl's cli.py, library
# and generator, two specs to compare with; used with
# Documentation/netlink/specs/gomemguard.yaml) -- from Debian's
# linux-source-6.12 tarball into build/ksrc.  They are never committed: the
# tarball is the source of truth.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
dest=$top/build/ksrc
stamp=$dest/.extracted

members="
tools/testing/selftests/kselftest_harness.h
tools/testing/selftests/kselftest.h
tools/testing/selftests/lib.mk
tools/testing/selftests/kselftest/runner.sh
tools/testing/selftests/kselftest/prefix.pl
tools/testing/selftests/kselftest/ktap_helpers.sh
tools/testing/selftests/cgroup
tools/testing/selftests/clone3/clone3_selftests.h
tools/testing/selftests/pidfd/pidfd.h
scripts/checkpatch.pl
scripts/spelling.txt
scripts/const_structs.checkpatch
Documentation/netlink/genetlink.yaml
Documentation/netlink/genetlink-c.yaml
Documentation/netlink/genetlink-legacy.yaml
Documentation/netlink/specs/netdev.yaml
Documentation/netlink/specs/handshake.yaml
tools/net/ynl
"

if [ -f "$stamp" ] && [ "$stamp" -nt "$tarball" ] && [ "$stamp" -nt "$0" ]; then
	exit 0
fi
if [ ! -f "$tarball" ]; then
	echo "ksrc: $tarball is missing (apt-get install linux-source-6.12)" >&2
	exit 1
fi

prefix=$(basename "$tarball" .tar.xz)
rm -rf "$dest"
mkdir -p "$dest"
echo "  KSRC    extracting kselftest framework, cgroup selftests, checkpatch and ynl from $(basename "$tarball")"
# shellcheck disable=SC2086
tar -xJf "$tarball" -C "$dest" --strip-components=1 \
	$(for m in $members; do printf '%s/%s ' "$prefix" "$m"; done)
touch "$stamp"
