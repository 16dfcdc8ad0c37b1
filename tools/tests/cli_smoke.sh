#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Command-line behaviour that needs no module: help, version, usage errors
# and value checks, all decided before gomemctl opens a netlink socket.
# KTAP on stdout; the exit status is non-zero when a test fails.
#
# usage: cli_smoke.sh [GOMEMCTL [VERSION]]
# Defaults: the gomemctl beside tests/, and any version number.

set -u
ctl=${1:-$(dirname "$0")/../gomemctl}
version=${2:-[0-9][^ ]*}
planned=16
n=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# check NAME EXIT STREAM PATTERN ARGS...: gomemctl ARGS exits with EXIT and
# its STREAM (out or err) matches the grep -E PATTERN.
check() {
	name=$1 want=$2 stream=$3 pattern=$4
	shift 4
	n=$((n + 1))
	"$ctl" "$@" >"$out" 2>"$err"
	got=$?
	if [ "$stream" = out ]; then file=$out; else file=$err; fi
	if [ "$got" -eq "$want" ] && grep -qE -e "$pattern" "$file"; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		echo "# exit status $got, expected $want; std$stream should match: $pattern"
		sed 's/^/# stdout: /' "$out"
		sed 's/^/# stderr: /' "$err"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..$planned"
check "--help prints usage" 0 out '^Usage: gomemctl ' --help
check "-h lists the verbs" 0 out '^  info +show module version' -h
check "-V prints the version" 0 out "^gomemctl $version\$" -V
check "no verb is a usage error" 2 err '^Usage: gomemctl '
check "unknown verb is a usage error" 2 err '^gomemctl: unknown command "frobnicate"' frobnicate
check "unknown global flag is a usage error" 2 err '^gomemctl: unknown option "--bogus"' --bogus info
check "info --help" 0 out '^Usage: gomemctl info' info --help
check "help config" 0 out '^Usage: gomemctl config' help config
check "info with an argument" 2 err '^gomemctl: info: unexpected argument "now"' info now
check "info with an unknown flag" 2 err '^gomemctl: info: unknown option "-x"' info -x
check "config without options" 2 err '^gomemctl: config: nothing to change' config
check "config option without a value" 2 err 'option "--event-interval" needs a value' config --event-interval
check "config interval not whole ms" 2 err 'not a whole number of milliseconds' config --event-interval 1.5ms
check "config interval beyond u32 ms" 2 err 'longer than 4294967295ms' config --event-interval 50d
check "config burst not a number" 2 err 'invalid --event-burst "x": not a number' config --event-burst x
check "config burst beyond u32" 2 err 'larger than 4294967295' config --event-burst 4294967296

echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
