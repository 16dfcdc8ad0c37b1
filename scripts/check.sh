#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: install what is missing, build everything, run the host-side
# tests, then boot each target kernel in QEMU and run the selftests there.
# Prints KTAP as it goes and ends with "N passed, N failed" (and skipped, if
# any); exits non-zero on any failure, any skip, or any kernel that could not
# be tested.  Logs: build/logs/.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=$top/build/logs
start=$(date +%s)

stamp() { printf '# [%4ds] %s\n' $(($(date +%s) - start)) "$*"; }

# How the machine boots, before anything is installed: the same at the end,
# or the run fails (the kernels are data in a cache, never installed).
boot_state() {
	ls -l /boot 2>&1
	dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' 'linux-image-*' 2>&1
}
boot_before=$(boot_state)

# GMG_* variables reach the guests (selftests/vm/guest.sh passes them on),
# where some would weaken what is checked: GMG_TIME_SCALE>1 widens every
# time bound, GMG_FUZZ_COUNT and GMG_STRESS_SECONDS shorten runs.  A
# `make check` result means the suite as written: only where things are
# fetched from and kept may be set, and each is printed.
for v in $(compgen -e | grep '^GMG_' || true); do
	case $v in
	GMG_KERNEL_CACHE | GMG_BUILD_ROOTS | GMG_DEBIAN_MIRROR | \
	GMG_DEBIAN_SECURITY_MIRROR | GMG_APT_MAX_AGE | GMG_DEBUG_KERNEL_CACHE)
		echo "# from the environment: $v=${!v}"
		;;
	*)
		echo "Bail out! $v=${!v} is set: it changes what the tests check (unset it; it is for running tests by hand)"
		exit 1
		;;
	esac
done

stamp "installing missing dependencies"
scripts/deps.sh || { echo "Bail out! dependencies could not be installed"; exit 1; }
KVERS=${KVERS:-$(selftests/vm/kernels.sh | tr "\n" " ")}
export KVERS
read -r -a kvers <<<"$KVERS"
[ ${#kvers[@]} -gt 0 ] || { echo "Bail out! no target kernels"; exit 1; }
mkdir -p "$top/build"

# The core tier: every other kernel a Debian fleet runs, resolved from each
# suite's apt today (newest of each line), fetched into the kernel cache,
# with a build root of its suite for the module (scripts/build-root.sh).
# CORE_TARGETS="" leaves the tier out (a developer's quick run); CI and a
# plain `make check` run it.  A kernel that cannot be fetched or prepared
# fails the run.
CORE_TARGETS=${CORE_TARGETS-trixie trixie/cloud-amd64 trixie/rt-amd64 sid}
read -r -a targets <<<"$CORE_TARGETS"
core_kvers=()
if [ ${#targets[@]} -gt 0 ]; then
	stamp "core tier: resolving ${targets[*]}"
	if ! out=$(selftests/vm/kernels.sh "${targets[@]}"); then
		echo "Bail out! cannot resolve the core tier's kernels (${targets[*]})"
		exit 1
	fi
	mapfile -t core_kvers <<<"$out"
	# Per suite: its kernels into the cache, their headers into its root.
	declare -A suite_kvers=()
	for i in "${!targets[@]}"; do
		s=${targets[$i]%%/*}
		suite_kvers[$s]+=" ${core_kvers[$i]}"
	done
	for s in "${!suite_kvers[@]}"; do
		# shellcheck disable=SC2086 # a word list
		stamp "core tier: $s:${suite_kvers[$s]}: fetching, making its build root"
		# shellcheck disable=SC2086 # a word list
		if ! scripts/kernel-cache.sh --suite "$s" ${suite_kvers[$s]} >"$top/build/core-$s.log" 2>&1 ||
		   ! scripts/build-root.sh "$s" ${suite_kvers[$s]} >>"$top/build/core-$s.log" 2>&1; then
			cat "$top/build/core-$s.log"
			echo "Bail out! the core tier's $s kernels cannot be fetched or built for"
			exit 1
		fi
	done
fi
CORE_KVERS=${core_kvers[*]}
export CORE_KVERS
stamp "kernels: full tier: ${kvers[*]}; core tier: ${core_kvers[*]:-none}"

stamp "building gomemctl, the selftests, the workloads and the data disk"
if ! make -s tools selftests workloads >"$top/build/make.log" 2>&1 ||
   ! disk=$(scripts/data-disk.sh 2>>"$top/build/make.log"); then
	cat "$top/build/make.log"
	echo "Bail out! build failed"
	exit 1
fi

rm -rf "$logs"
mkdir -p "$logs"
ksft=$top/build/ksrc/tools/testing/selftests

# One KTAP stream per stage, each nested (prefixed "# ") under a top-level
# result, kselftest style.
# Per kernel: the full suite, a small guest for the global OOM, and the
# stress test in a guest whose clock counts instructions.
stages=(host)
for k in "${kvers[@]}"; do
	stages+=("$k" "$k:small" "$k:stress")
done
# Then the Debian packages the host stage built (deb_test.sh runs `make
# deb`), installed with apt in a guest where DKMS compiles the module: on
# the first kernel only.  That compile takes about 10 minutes under TCG,
# and DKMS's build for every kernel is tested already (the host stage's
# dkms_test.sh, whose modules each suite's dkms_load_test.sh loads).
stages+=("${kvers[0]}:deb")
# The core tier, after everything else: each kernel once, in a guest of
# its own (guest-run.sh --core).
for k in "${core_kvers[@]}"; do
	stages+=("$k:core")
done
version=$(cat VERSION)
debs=("build/deb/gomemguard-dkms_${version}-1_all.deb"
	"build/deb/gomemctl_${version}-1_$(dpkg --print-architecture).deb")
echo "TAP version 13"
echo "1..${#stages[@]}"
n=0
stage_fail=()
for st in "${stages[@]}"; do
	n=$((n + 1))
	log=$logs/$st.ktap
	if [ "$st" = host ]; then
		stamp "host: module builds, checkpatch, assess.c and gomemctl unit tests, man pages, dist, alert rules, the bench report, go/fuse, the YNL spec, dkms, the Debian packages"
		(
			# shellcheck disable=SC2034 # read by runner.sh
			BASE_DIR=$ksft
			# The runner is written for sh without -u.
			set +u
			# shellcheck source=/dev/null
			. "$ksft/kselftest/runner.sh"
			export kselftest_override_timeout=600
			run_many "$top"/selftests/host/build_test.sh \
				"$top"/selftests/host/checkpatch_test.sh \
				"$top"/build/selftests/host/assess_test \
				"$top"/tools/tests/units_test \
				"$top"/tools/tests/nl_test \
				"$top"/tools/tests/service_test \
				"$top"/tools/tests/go_test \
				"$top"/tools/tests/policy_test \
				"$top"/tools/tests/cli_smoke.sh \
				"$top"/tools/tests/policy_cli.sh \
				"$top"/selftests/host/man_test.sh \
				"$top"/selftests/host/dist_test.sh \
				"$top"/selftests/host/prom_rules_test.sh \
				"$top"/selftests/host/bench_report_test.sh \
				"$top"/selftests/host/go_fuse_test.sh \
				"$top"/selftests/host/ynl_spec_test.sh \
				"$top"/selftests/host/dkms_test.sh \
				"$top"/selftests/host/deb_test.sh \
				"$top"/selftests/host/dkms_autoinstall_test.sh
		) 2>&1 | tee "$log" | sed 's/^/# /'
		rc=${PIPESTATUS[0]}
		# The runner reports a failed program in the log, not in its
		# exit status.
		grep -q '^not ok ' "$log" && rc=1
		# A kernel whose module did not build cannot be tested.
		for k in "${kvers[@]}" "${core_kvers[@]}"; do
			[ -f "build/k/$k/gomemguard.ko" ] || rc=1
		done
		desc="host"
	else
		k=${st%:*}
		stamp "guest $st: booting"
		# What a stage needs from the host stage; missing, it fails.
		missing=
		if [ "$st" = "$k:deb" ]; then
			for f in "${debs[@]}"; do
				[ -f "$f" ] || missing+=" $f"
			done
			[ -z "$missing" ] || missing="not built:$missing (make deb)"
		elif [ ! -f "build/k/$k/gomemguard.ko" ]; then
			missing="no module built for $k"
		fi
		if [ -n "$missing" ]; then
			echo "$missing" >"$log"
			rc=125
		elif [ "$st" = "$k:deb" ]; then
			# DKMS compiles under TCG: minutes, with room to spare.
			selftests/vm/guest.sh --timeout 1800 "$k" -- \
				"$top/selftests/guest-deb.sh" \
				2>&1 | tee "$log" | sed 's/^/# /'
			rc=${PIPESTATUS[0]}
		elif [ "$st" = "$k:core" ]; then
			selftests/vm/guest.sh --disk "$disk" "$k" -- \
				"$top/selftests/guest-run.sh" --core \
				2>&1 | tee "$log" | sed 's/^/# /'
			rc=${PIPESTATUS[0]}
		elif [ "$st" = "$k:small" ]; then
			selftests/vm/guest.sh --mem 256 "$k" -- \
				"$top/selftests/guest-global-oom.sh" \
				2>&1 | tee "$log" | sed 's/^/# /'
			rc=${PIPESTATUS[0]}
		elif [ "$st" = "$k:stress" ]; then
			# 4 ns per instruction: a 250-MIPS machine.  One vCPU:
			# 6.1 hangs bringing up a second one under -icount.
			selftests/vm/guest.sh --cpus 1 --icount 2 --timeout 1500 "$k" -- \
				"$top/selftests/guest-stress.sh" \
				2>&1 | tee "$log" | sed 's/^/# /'
			rc=${PIPESTATUS[0]}
		else
			selftests/vm/guest.sh --disk "$disk" "$k" -- \
				"$top/selftests/guest-run.sh" \
				2>&1 | tee "$log" | sed 's/^/# /'
			rc=${PIPESTATUS[0]}
		fi
		# guest-run.sh ends with the runner, whose status is the
		# last program's: a failed program earlier shows in the log.
		[ "$rc" = 0 ] && grep -q '^not ok ' "$log" && rc=1
		# A stage that ran nothing did not pass.
		if [ "$rc" = 0 ] && ! grep -q '^ok [0-9]' "$log"; then
			missing="no test ran"
			rc=125
		fi
		case $rc in
		0) ;;
		124) stage_fail+=("$st: guest timed out") ;;
		125) stage_fail+=("$st: ${missing:-guest never reached the tests}") ;;
		*) stage_fail+=("$st: tests failed or the kernel logged a problem (exit $rc)") ;;
		esac
		desc="guest $st"
	fi
	if [ "$rc" = 0 ]; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
	fi
done

# Count leaf results: "ok N"/"not ok N" one level down in each program's
# output ("# ok 3 ..."), plus any program (a top-level line of a stage) that
# failed without a failing leaf -- a crash, a timeout, a missing binary.
summary=$(cat "$logs"/*.ktap | awk '
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
	END { printf "%d %d %d\n", pass, fail, skip }')
read -r pass fail skip <<<"$summary"

# Why each test failed: its own lines (from its RUN line to its "not ok",
# the last 40 at most), and the kernel log lines guest.sh flagged.  CI
# keeps only the tail of the output: a failure that happens there and not
# here must be readable from it.
for f in "$logs"/*.ktap; do
	awk -v st="$(basename "$f" .ktap)" '
		/^(# )*#  RUN  / || /^(# )?ok [0-9]+ / { n = 0 }
		{ buf[n % 40] = $0; n++ }
		/^(# )?not ok [0-9]+ / && !/# SKIP/ {
			print "# ---- " st ": " $0
			for (i = (n > 40 ? n - 40 : 0); i < n - 1; i++)
				print "#   " buf[i % 40]
			n = 0
		}
		/guest.sh: .*(kernel check failed|died|giving up|timed out)/ ||
		    (/^(# )*# dmesg: / && dm++ < 20) {
			print "# ---- " st ": " $0
		}' "$f"
done
# What failed, by name, beside the counts: a log read from its tail (CI's)
# must not have to be scrolled back for it.
for f in "$logs"/*.ktap; do
	grep -E '^(# )?not ok [0-9]+ ' "$f" | grep -v '# SKIP' |
		sed "s|^|# failed in $(basename "$f" .ktap): |"
done
# A stage that died without a failing test line still failed.
for s in "${stage_fail[@]}"; do
	echo "# $s"
done
# A stage that failed with no failing test line in its log (a timeout, a
# guest that never reached its tests, no test run) is one failure more:
# the leaves above did not count it.
for st in "${stages[@]}"; do
	f=$logs/$st.ktap
	if printf '%s\n' "${stage_fail[@]}" | grep -q "^$st: " &&
	   ! grep -qE '^(# )?not ok [0-9]+ ' "$f" 2>/dev/null; then
		fail=$((fail + 1))
	fi
done
if [ "$(boot_state)" != "$boot_before" ]; then
	echo "# the host's /boot or installed kernels changed during the run:"
	diff <(echo "$boot_before") <(boot_state) | sed 's/^/#   /'
	stage_fail+=("host boot state changed")
	[ "$fail" = 0 ] && fail=1
else
	echo "# the host's /boot and installed kernels are as before the run"
fi
stamp "done"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ] && [ "$skip" = 0 ] && [ ${#stage_fail[@]} = 0 ]
