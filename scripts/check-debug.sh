#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-debug`: the whole selftest suite on a 6.12 kernel built with
# KASAN, lockdep, atomic-sleep checks, kmemleak and debug objects
# (scripts/debug-kernel.sh; the first build takes long, later runs reuse it).
# Prints KTAP and ends with "N passed, N failed"; exits non-zero on any
# failed test and on any report of those checkers: in the kernel log
# (guest.sh's check) or, at the end of the suite, in kmemleak's list.
# Logs: build/logs-debug/.
#
# Knobs: GMG_TIME_SCALE (default 30: every timeout, deadline and bounded
# wait of the tests, the kselftest harness's per-test alarm included, is
# multiplied by it -- this kernel runs the suite many times slower than
# Debian's; see selftests/time_scale.sh), GMG_TEST_TIMEOUT (s per test
# program, default 2400), GMG_DEBUG_MEM (guest MiB, default 2048),
# GMG_DEBUG_TIMEOUT (s for the whole suite, default 7200), and
# debug-kernel.sh's GMG_DEBUG_KERNEL_CACHE.
#
# `check-debug.sh --in-guest` is the guest's side: kmemleak around
# selftests/guest-run.sh.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

# ---------------------------------------------------------------------------
# In the guest.

kmemleak_scan() {
	local kl=/sys/kernel/debug/kmemleak
	# An object must stay unreferenced over two scans, some seconds apart,
	# to be reported: one seen mid-update in the first is not.
	echo scan >"$kl" && sleep 6 && echo scan >"$kl" && cat "$kl"
}

in_guest() {
	local kl=/sys/kernel/debug/kmemleak leaks n rc

	[ -w "$kl" ] || { echo "Bail out! $kl missing: not a kmemleak kernel?"; exit 1; }
	# What the kernel leaked while booting is not ours: show it and let
	# kmemleak forget it, so that what follows is the suite's alone.
	leaks=$(kmemleak_scan) || { echo "Bail out! kmemleak does not scan"; exit 1; }
	if [ -n "$leaks" ]; then
		n=$(grep -c '^unreferenced object' <<<"$leaks")
		echo "# kmemleak: $n suspected leaks at boot, before gomemguard was loaded (cleared):"
		printf '%s\n' "$leaks" | sed 's/^/#   /' | head -n 80
		echo clear >"$kl"
	fi

	"$top"/selftests/guest-run.sh
	rc=$?

	# The suite ends by unloading the module: whatever it did not free is
	# unreferenced now.  Addresses inside the module print as bare hex.
	leaks=$(kmemleak_scan) || { echo "Bail out! kmemleak does not scan"; exit 1; }
	if [ -n "$leaks" ]; then
		n=$(grep -c '^unreferenced object' <<<"$leaks")
		echo "# kmemleak: $n suspected leaks after the suite:"
		printf '%s\n' "$leaks" | sed 's/^/#   /' | head -n 400
		rc=1
	else
		echo "# kmemleak: no suspected leaks after the suite"
	fi
	exit "$rc"
}

if [ "${1:-}" = --in-guest ]; then
	in_guest
fi
[ $# -eq 0 ] || { echo "usage: check-debug.sh" >&2; exit 2; }

# ---------------------------------------------------------------------------
# On the host.

logs=$top/build/logs-debug
start=$(date +%s)

# 30: fork() ran 28 times slower on this kernel than on Debian's 6.12 (the
# stress test's fork-only baseline: 7/s against 199/s); the tests' bounds
# carry margins of their own beyond that.  GMG_* variables reach the guest
# (guest.sh).  A bad value stops here, not after the build and the boot.
export GMG_TIME_SCALE=${GMG_TIME_SCALE:-30}
# shellcheck source=selftests/time_scale.sh
. "$top/selftests/time_scale.sh"

stamp() { printf '# [%4ds] %s\n' $(($(date +%s) - start)) "$*"; }

stamp "installing missing dependencies"
scripts/deps.sh --kernel-build ||
	{ echo "Bail out! dependencies could not be installed"; exit 1; }

rm -rf "$logs"
mkdir -p "$logs"
stamp "building the debug kernel (the first build takes long; log: $logs/debug-kernel.log)"
if ! kinfo=$(scripts/debug-kernel.sh 2>"$logs/debug-kernel.log"); then
	cat "$logs/debug-kernel.log"
	echo "Bail out! the debug kernel did not build"
	exit 1
fi
read -r kver kdir <<<"$kinfo"
moddir=$kdir/mods/lib/modules/$kver
stamp "debug kernel $kver: $kdir"

stamp "building gomemguard for $kver, gomemctl, the selftests, the workloads and the data disk"
if ! KDIR=$kdir/src MODDIR=$moddir scripts/build-module.sh "$kver" >"$logs/make.log" 2>&1 ||
   ! make -s tools selftests workloads >>"$logs/make.log" 2>&1 ||
   ! disk=$(scripts/data-disk.sh 2>>"$logs/make.log"); then
	cat "$logs/make.log"
	echo "Bail out! build failed"
	exit 1
fi

# What `make check`'s host stage does for its kernels, for this one: DKMS
# builds and installs the module into build/dkms-test/moddep/, where
# selftests/dkms_load_test.sh finds it in the guest.
stamp "DKMS build and install for $kver (selftests/host/dkms_test.sh)"
if ! GMG_MODROOT=$kdir/mods KVERS=$kver selftests/host/dkms_test.sh \
	>"$logs/dkms.ktap" 2>&1 || grep -q '^not ok' "$logs/dkms.ktap"; then
	cat "$logs/dkms.ktap"
	echo "Bail out! DKMS could not build the module for $kver"
	exit 1
fi

# kasan_multi_shot: every KASAN report, not only the first.  acpi=noirq:
# under KASAN and lockdep the ACPI interpreter is too slow for the PCI
# interrupt routing method (_PRT) of QEMU's pc machine, which then times out
# after 30 s once per virtio device (boot: 171 s, 78 s without); the
# devices use MSI-X anyway.
export GMG_TEST_TIMEOUT=${GMG_TEST_TIMEOUT:-2400}
export GUEST_BOOT_TIMEOUT=${GUEST_BOOT_TIMEOUT:-600}
export GUEST_CMDLINE="kasan_multi_shot acpi=noirq${GUEST_CMDLINE:+ $GUEST_CMDLINE}"
log=$logs/$kver.ktap
echo "TAP version 13"
echo "1..1"
stamp "guest $kver: booting (GMG_TIME_SCALE=$gmg_scale)"
selftests/vm/guest.sh --mem "${GMG_DEBUG_MEM:-2048}" \
	--timeout "${GMG_DEBUG_TIMEOUT:-7200}" --disk "$disk" \
	--kernel "$kdir/src/arch/x86/boot/bzImage" --moddir "$moddir" \
	"$kver" -- "$top/scripts/check-debug.sh" --in-guest \
	2>&1 | tee "$log" | sed 's/^/# /'
rc=${PIPESTATUS[0]}
stage_fail=
case $rc in
0) ;;
124) stage_fail="guest timed out" ;;
125) stage_fail="guest never reached the tests" ;;
*) stage_fail="tests failed, or the kernel or kmemleak reported a problem (exit $rc)" ;;
esac

# Counted as scripts/check.sh does: leaf results, one level down in each
# program's output ("# ok 3 ..."), plus any program that failed without a
# failing leaf -- a crash, a timeout, a missing binary.
summary=$(awk '
	/^# (not )?ok [0-9]+ / {
		if ($0 ~ /# SKIP/) skip++
		else if ($2 == "not") { fail++; leaf_fail++ }
		else pass++
		next
	}
	/^not ok [0-9]+ / { if (!leaf_fail) fail++; leaf_fail = 0; next }
	/^ok [0-9]+ / {
		if ($0 ~ /# SKIP/) skip++
		leaf_fail = 0; next
	}
	END { printf "%d %d %d\n", pass, fail, skip }' "$log")
read -r pass fail skip <<<"$summary"
if [ -n "$stage_fail" ]; then
	echo "# $stage_fail; console: build/vm/$kver/console.log"
	# A report or a crash without a failing test still fails.
	[ "$fail" -gt 0 ] || fail=1
fi
if [ "$fail" = 0 ]; then
	echo "ok 1 guest $kver (debug)"
else
	echo "not ok 1 guest $kver (debug)"
fi
stamp "done"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ] && [ "$skip" = 0 ]
