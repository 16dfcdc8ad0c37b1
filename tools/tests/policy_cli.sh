#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gomemctl policy as operators run it, without the module: check's exit
# status, its "file:line: message" lines on stderr and its summary or JSON
# on stdout, for the rule files in tests/policies; and the usage errors of
# the policy verb.  KTAP on stdout; the exit status is non-zero when a test
# fails.
#
# usage: policy_cli.sh [GOMEMCTL]

set -u
ctl=${1:-$(dirname "$0")/../gomemctl}
policies=$(dirname "$0")/policies
n=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# check NAME EXIT STREAM PATTERN ARGS...: as cli_smoke.sh's.
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

bad_files=$(ls "$policies"/bad/*.conf)
planned=$((13 + $(echo "$bad_files" | wc -l)))
echo "TAP version 13"
echo "1..$planned"
check "policy --help" 0 out '^Usage: gomemctl policy check' policy --help
check "help policy" 0 out 'gomemctl policy apply' help policy
check "good rules: a summary" 0 out '^4 rules in 5 files$' policy check "$policies/good"
check "good rules as JSON" 0 out '"soft_limit":1610612736' -j policy check "$policies/good"
check "one good file" 0 out '^1 rule in 1 file$' policy check "$policies/good/30-go.conf"
check "the shipped example is good" 0 out '^1 rule in 1 file$' policy check \
	"$(dirname "$0")/../../dist/policy.d/50-go-services.conf.example"
check "a path that is not there" 1 err 'cannot read it: No such file or directory' \
	policy check /nonexistent/policy.d
check "policy without a command" 2 err 'give a command: check or apply' policy
check "an unknown policy command" 2 err 'unknown command "frob": check or apply' policy frob
check "check with two paths" 2 err 'unexpected argument "b"' policy check a b
check "check with apply's options" 2 err "check takes a PATH, not apply's options" \
	policy check --dry-run
check "apply with broken rules changes nothing" 2 err \
	'^gomemctl: policy: [0-9]+ problems in .*: nothing changed$' \
	policy apply --dry-run --policy-dir "$policies/bad" --state /nonexistent/state
check "apply with an argument" 2 err 'unexpected argument "x"' policy apply x
for f in $bad_files; do
	# The first problem the file expects, as check must print it.
	first=$(sed -n 's/^# expect: \([0-9]*\): \(.*\)/\1: \2/p' "$f" | head -n 1 |
		sed 's/[][\\.*^$()|+?{}]/\\&/g')
	check "bad: $(basename "$f")" 2 err "^$f:$first" policy check "$f"
done

echo "# Totals: pass:$((n - failed)) fail:$failed xfail:0 xpass:0 skip:0 error:0"
[ "$failed" -eq 0 ] && [ "$n" -eq "$planned" ]
