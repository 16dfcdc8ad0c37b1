#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Command-line behaviour that needs no module: help, version, usage errors
# and value checks, all decided before gomemctl opens a netlink socket; and
# values that are the module's to judge, which must get past the command
# line (exit status 3 here, where the module is not loaded, instead of 2).
# KTAP on stdout; the exit status is non-zero when a test fails.
#
# usage: cli_smoke.sh [GOMEMCTL [VERSION]]
# Defaults: the gomemctl beside tests/, and any version number.

set -u
ctl=${1:-$(dirname "$0")/../gomemctl}
version=${2:-[0-9][^ ]*}
planned=75
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
check "no verb is a usage error" 2 err "^Try 'gomemctl --help'\\.\$"
check "unknown verb is a usage error" 2 err '^gomemctl: unknown command "frobnicate"' frobnicate
check "unknown global flag is a usage error" 2 err '^gomemctl: unknown option "--bogus"' --bogus info
check "info --help" 0 out '^Usage: gomemctl info' info --help
check "help config" 0 out '^Usage: gomemctl config' help config
check "info with an argument" 2 err '^gomemctl: info: unexpected argument "now"' info now
check "info without the module exits 3" 3 err '^gomemctl: the gomemguard module is not loaded' info
check "a usage error is two lines, not the help" 2 err "^Try 'gomemctl tag --help'\\.\$" \
	tag 4711 --soft-limit 1G --bogus
check "--inherit=yes names the option" 2 err '^gomemctl: tag: option "--inherit" takes no value$' \
	tag 4711 --soft-limit 1G --inherit=yes
check "an unknown long option with a value" 2 err '^gomemctl: tag: unknown option "--bogus=1"$' \
	tag 4711 --soft-limit 1G --bogus=1
check "monitor without the module and without --prom-file exits 3" 3 err \
	'^gomemctl: the gomemguard module is not loaded' monitor --count 1
check "info with an unknown flag" 2 err '^gomemctl: info: unknown option "-x"' info -x
check "config without options" 2 err '^gomemctl: config: nothing to change' config
check "config option without a value" 2 err 'option "--event-interval" needs a value' config --event-interval
check "config interval not whole ms" 2 err 'not a whole number of milliseconds' config --event-interval 1.5ms
check "config interval beyond u32 ms" 2 err 'longer than 4294967295ms' config --event-interval 50d
check "config burst not a number" 2 err 'invalid --event-burst "x": not a number' config --event-burst x
check "config burst beyond u32" 2 err 'larger than 4294967295' config --event-burst 4294967296


check "-h lists tag" 0 out '^  tag +watch a process or a cgroup' -h
check "-h lists monitor" 0 out '^  monitor +print warnings' -h
check "tag --help" 0 out '^Usage: gomemctl tag PID --soft-limit SIZE' tag --help
check "help untag" 0 out '^Usage: gomemctl untag PID' help untag
check "set --help names --no-signal" 0 out '^ +--no-signal ' set --help
check "show --help" 0 out '^Usage: gomemctl show \[PID\]' show --help
check "monitor --help" 0 out '^Usage: gomemctl monitor ' monitor --help
check "tag without a target" 2 err '^gomemctl: tag: give a PID or --cgroup PATH' tag --soft-limit 1G
check "tag without --soft-limit" 2 err '^gomemctl: tag: --soft-limit is required' tag 4711
check "tag with a PID and --cgroup" 2 err 'give a PID or --cgroup, not both' \
	tag 4711 --cgroup /app.slice --soft-limit 1G
check "tag with two PIDs" 2 err 'unexpected argument "4712"' tag 4711 4712 --soft-limit 1G
check "tag with a PID that is not a number" 2 err 'invalid PID "abc": not a number' \
	tag abc --soft-limit 1G
check "tag with a PID beyond u32" 2 err 'invalid PID "4294967296": larger than 4294967295' \
	tag 4294967296 --soft-limit 1G
check "tag with an ambiguous size" 2 err 'invalid --soft-limit "1GB": ambiguous unit' \
	tag 4711 --soft-limit 1GB
check "tag with an empty level" 2 err 'invalid --levels "80,,90": empty level' \
	tag 4711 --soft-limit 1G --levels 80,,90
check "tag with nine levels" 2 err 'invalid --levels "1,2,3,4,5,6,7,8,9": more than 8 levels' \
	tag 4711 --soft-limit 1G --levels 1,2,3,4,5,6,7,8,9
check "tag with a level that is not a number" 2 err 'invalid --levels "80,high": not a number' \
	tag 4711 --soft-limit 1G --levels 80,high
check "tag with an unknown signal" 2 err 'invalid --signal "SIGFOO": unknown signal name' \
	tag 4711 --soft-limit 1G --signal SIGFOO
check "tag --eta not whole ms" 2 err 'invalid --eta "1.5ms": not a whole number of milliseconds' \
	tag 4711 --soft-limit 1G --eta 1.5ms
check "tag --rate-window beyond u32 ms" 2 err 'invalid --rate-window "50d": longer than 4294967295ms' \
	tag 4711 --soft-limit 1G --rate-window 50d
check "tag --no-signal is for set" 2 err 'unknown option "--no-signal"' \
	tag 4711 --soft-limit 1G --no-signal
check "tag --cgroup relative and missing" 2 err 'no such directory \(a cgroup path starts with "/"' \
	tag --cgroup gmg-no-such.slice --soft-limit 1G
check "tag PID 0 is the module's to refuse" 3 err '^gomemctl: ' tag 0 --soft-limit 1G
check "tag --levels 90,80 is the module's to refuse" 3 err '^gomemctl: ' \
	tag 0 --soft-limit 1G --levels 90,80
check "tag --signal 99 is refused before the module" 2 err \
	'^gomemctl: tag: invalid --signal "99": beyond the signals the kernel has \(1 to 64' \
	tag 0 --soft-limit 1G --signal 99
check "tag --signal 65 is refused before the module" 2 err \
	'invalid --signal "65": beyond the signals the kernel has' tag 4711 --soft-limit 1G --signal 65
check "tag --signal 64 is the module's to judge" 3 err '^gomemctl: ' \
	tag 0 --soft-limit 1G --signal 64
check "tag --signal STOP is refused before the module" 2 err \
	'^gomemctl: tag: invalid --signal "STOP": a stop signal' tag 4711 --soft-limit 1G --signal STOP
check "set --signal SIGTSTP is refused before the module" 2 err \
	'^gomemctl: set: invalid --signal "SIGTSTP": a stop signal' set 4711 --signal SIGTSTP
check "tag --signal KILL is the module's to judge" 3 err '^gomemctl: ' \
	tag 0 --soft-limit 1G --signal KILL
check "tag --soft-limit above 1 EiB is refused before the module" 2 err \
	'invalid --soft-limit "2E": above the module.s bound of 1 EiB' tag 4711 --soft-limit 2E
check "tag --soft-limit 1E is the module's to judge" 3 err '^gomemctl: ' \
	tag 0 --soft-limit 1E
check "set without settings" 2 err '^gomemctl: set: nothing to change' set 4711
check "set with a bad signal" 2 err 'invalid --signal "RTMIN\+99": beyond the real-time signals' \
	set 4711 --signal RTMIN+99
check "untag takes no settings" 2 err 'unknown option "--soft-limit"' untag 4711 --soft-limit 1G
check "untag without a target" 2 err 'give a PID or --cgroup PATH' untag
check "show --tags with a PID" 2 err '^gomemctl: show: --tags lists cgroup tags: give no PID' \
	show --tags 4711
check "show with a bad PID" 2 err 'invalid PID "me"' show me
check "monitor --count 0" 2 err 'invalid --count "0": must be at least 1' monitor --count 0
check "monitor --timeout without a unit" 2 err 'invalid --timeout "5": missing unit' \
	monitor --timeout 5
check "monitor with an argument" 2 err '^gomemctl: monitor: unexpected argument "now"' monitor now
check "-h lists oom" 0 out '^  oom +show what the module recorded of OOM kills' -h
check "oom --help" 0 out '^Usage: gomemctl oom \[-j \| -p\]' oom --help
check "help oom" 0 out 'memory\.max' help oom
check "oom with an argument" 2 err '^gomemctl: oom: unexpected argument "4711"' oom 4711
check "show --help names --memcg" 0 out '^ +--memcg ' show --help
check "show --memcg with a PID" 2 err '^gomemctl: show: --memcg lists memory cgroups: give no PID' \
	show --memcg 4711
check "show --memcg and --tags" 2 err '^gomemctl: show: --tags and --memcg are different lists' \
	show --memcg --tags
check "config --help names --pressure-critical" 0 out '^ +--pressure-critical PCT ' config --help
check "config --oom-reports not a number" 2 err 'invalid --oom-reports "many": not a number' \
	config --oom-reports many
check "config --pressure-medium negative" 2 err 'invalid --pressure-medium "-5%": must not be negative' \
	config --pressure-medium -5%
check "config --pressure-critical beyond u32" 2 err 'invalid --pressure-critical "4294967296": larger than' \
	config --pressure-critical 4294967296
check "config --pressure-critical 101 is the module's to refuse" 3 err '^gomemctl: ' \
	config --pressure-critical 101%

# Not the whole help, which would bury the line that says what is wrong.
n=$((n + 1))
"$ctl" tag 4711 --soft-limit 1G --bogus >"$out" 2>"$err"
if [ "$(wc -l <"$err")" -eq 2 ] && [ ! -s "$out" ]; then
	echo "ok $n a usage error is one line and where to read more"
else
	echo "not ok $n a usage error is one line and where to read more"
	sed 's/^/# stderr: /' "$err"
	failed=$((failed + 1))
fi

echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
