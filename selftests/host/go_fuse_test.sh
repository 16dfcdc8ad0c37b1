#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: go/fuse, the Go side of the signal fuse, with Debian's Go 1.19:
# go vet and gofmt have nothing to say, it needs nothing but the standard
# library, and each of its Go tests passes under the race detector -- one
# KTAP line per test.  Offline: the environment is selftests/workloads/
# Makefile's (GOPROXY=off, caches in build/, never $HOME).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"

src=$top/go/fuse
GO=${GO:-/usr/lib/go-1.19/bin/go}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# As go_env in selftests/workloads/Makefile.
gorun() {
	(cd "$src" && env -u GOROOT -u GOOS -u GOARCH GOENV=off GO111MODULE=on GOWORK=off \
		GOFLAGS=-mod=readonly GOPROXY=off GOSUMDB=off \
		GOCACHE="$top/build/go-cache" GOPATH="$top/build/gopath" \
		GOMODCACHE="$top/build/gopath/pkg/mod" "$@")
}

# quiet CMD...: CMD's status; its output, if any, as comments.
quiet() {
	"$@" >"$out" 2>&1
	local rc=$?

	sed 's/^/# /' "$out"
	return $rc
}

vet() {
	quiet gorun "$GO" vet ./...
}

# gofmt -l prints the files it would change: there must be none.
formatted() {
	quiet gorun "$(dirname "$GO")/gofmt" -l . && [ ! -s "$out" ]
}

# Every package the module and its tests import is the standard library's
# or the module's own.
stdlib_only() {
	gorun "$GO" list -deps -test -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./... \
		>"$out" 2>&1 || { sed 's/^/# /' "$out"; return 1; }
	! grep -v '^gomemguard\.dev/fuse\([/.][^ ]*\)\?\( \[.*\]\)\?$' "$out" |
		sed 's/^/# not the standard library: /' | grep .
}

ktap_print_header

version=$(gorun "$GO" env GOVERSION 2>/dev/null)
case $version in
go1.19 | go1.19.*) ;;
*) ktap_exit_fail_msg "Go 1.19 not found at $GO (got '$version'): scripts/deps.sh installs golang-1.19-go" ;;
esac

tests=$(gorun "$GO" test -list . . | grep '^Test')
[ -n "$tests" ] || ktap_exit_fail_msg "go test -list found no tests in $src"

# The race detector needs cgo and a C compiler.
race=-race
gorun "$GO" env CGO_ENABLED | grep -qx 1 && command -v gcc >/dev/null || race=

ktap_set_plan $((4 + $(wc -l <<<"$tests")))
ktap_print_msg "$version, $(wc -l <<<"$tests") tests in $src"
ktap_test_result "go vet ./... has nothing to say" vet
ktap_test_result "gofmt -l lists no file" formatted
ktap_test_result "the standard library only" stdlib_only
if [ -n "$race" ]; then
	ktap_test_pass "the race detector can be used"
else
	ktap_test_skip "the race detector (no cgo or no gcc): tests run without it"
fi

# One run of all tests; each top-level "--- PASS/FAIL/SKIP: TestX" becomes
# a KTAP line.  A test with no such line (the binary crashed before it, or
# the timeout struck) fails.
gorun "$GO" test $race -count=1 -timeout 5m -v ./... >"$out" 2>&1
sed 's/^/# /' "$out"
while read -r t; do
	r=$(sed -n "s/^--- \(PASS\|FAIL\|SKIP\): $t (.*/\1/p" "$out")
	case $r in
	PASS) ktap_test_pass "$t" ;;
	SKIP) ktap_test_skip "$t" ;;
	FAIL) ktap_test_fail "$t" ;;
	*) ktap_test_fail "$t (no result: the test binary crashed or timed out)" ;;
	esac
done <<<"$tests"

ktap_finished
