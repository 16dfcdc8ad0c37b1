#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side: what runs the monitor as a service.  The systemd unit passes
# systemd-analyze verify without a word, keeps the capabilities and the
# writable path to what monitor needs, and its command line is one gomemctl
# accepts; docs/kubernetes.md's YAML parses, and its DaemonSet has what the
# document says the monitor needs, with arguments gomemctl accepts.  Needs
# tools/gomemctl (make tools).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=/dev/null
. "$top/build/ksrc/tools/testing/selftests/kselftest/ktap_helpers.sh"
# shellcheck source=selftests/lib.sh
. "$top/selftests/lib.sh"

ctl=${GOMEMCTL:-$top/tools/gomemctl}
unit=$top/dist/gomemctl-monitor.service
# What the unit, the DaemonSet (docs/kubernetes.md) and the guest test of
# the policy (selftests/policy_caps_test.sh) run with.
caps="CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH"
k8s=$top/docs/kubernetes.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The value of KEY= in the unit (the last one, as systemd takes it).
unit_value() {
	sed -n "s/^$1=//p" "$unit" | tail -n 1
}

# ExecStart's binary must exist for verify: use the one built here.
unit_verifies() {
	local copy=$tmp/gomemctl-monitor.service

	sed "s|^ExecStart=/usr/local/sbin/gomemctl |ExecStart=$ctl |" "$unit" >"$copy"
	# verify exits 0 even for unknown keys and bad values: any word fails.
	systemd-analyze verify --man=no "$copy" >"$tmp/verify" 2>&1
	local rc=$?

	sed 's/^/# /' "$tmp/verify"
	[ "$rc" = 0 ] && [ ! -s "$tmp/verify" ]
}

unit_sandbox() {
	local exec prom dir ok=0

	exec=$(unit_value ExecStart)
	prom=$(sed -n 's/.*--prom-file \([^ ]*\).*/\1/p' <<<"$exec")
	dir=$(dirname "$prom")
	[ "$(unit_value Type)" = simple ] || { echo "# Type is not simple"; ok=1; }
	[ "$(unit_value Restart)" = on-failure ] || { echo "# no Restart=on-failure"; ok=1; }
	[ "$(unit_value CapabilityBoundingSet)" = "$caps" ] ||
		{ echo "# bounding set is not $caps alone"; ok=1; }
	[ "$(unit_value AmbientCapabilities)" = "$caps" ] ||
		{ echo "# ambient set is not $caps"; ok=1; }
	if [ "$(unit_value RuntimeDirectory)" != gomemguard ] ||
	   [ "$(unit_value RuntimeDirectoryPreserve)" != yes ]; then
		echo "# no preserved RuntimeDirectory for the policy's state"
		ok=1
	fi
	[[ $(unit_value ExecReload) == *"kill -HUP \$MAINPID" ]] ||
		{ echo "# reload is not SIGHUP"; ok=1; }
	[ "$(unit_value ProtectSystem)" = strict ] || { echo "# not ProtectSystem=strict"; ok=1; }
	[ "$(unit_value NoNewPrivileges)" = yes ] || { echo "# no NoNewPrivileges"; ok=1; }
	[ "$(unit_value ProtectHome)" = yes ] || { echo "# no ProtectHome"; ok=1; }
	[ "$(unit_value PrivateTmp)" = yes ] || { echo "# no PrivateTmp"; ok=1; }
	[ "$(unit_value ReadWritePaths)" = "-$dir" ] ||
		{ echo "# ReadWritePaths is not the --prom-file directory $dir"; ok=1; }
	grep -q '^PrivateNetwork=yes' "$unit" &&
		{ echo "# PrivateNetwork hides the module's netlink family"; ok=1; }
	if [ -z "$prom" ] || [[ $exec != /usr/local/sbin/gomemctl\ monitor\ * ]] ||
		[[ $exec != *--syslog* ]] ||
		[[ $exec != *"--policy-dir /etc/gomemguard/policy.d"* ]]; then
		echo "# ExecStart is not gomemctl monitor --syslog --prom-file --policy-dir"
		ok=1
	fi
	return $ok
}

# gomemctl parses every option before --help: unknown ones fail.
args_accepted() {
	"$ctl" "$@" --help >/dev/null 2>"$tmp/err" || {
		head -n 1 "$tmp/err" | sed 's/^/# /'
		return 1
	}
}

unit_args() {
	local exec

	exec=$(unit_value ExecStart)
	# shellcheck disable=SC2086 # a command line, split as systemd does
	args_accepted ${exec#/usr/local/sbin/gomemctl }
}

# Every ```yaml block of the document as a YAML stream, checked with
# PyYAML; the DaemonSet's monitor arguments are written to $tmp/args.
yaml_check() {
	/usr/bin/python3 - "$k8s" "$tmp/args" "$caps" <<'EOF'
import re
import sys

import yaml

text = open(sys.argv[1]).read()
blocks = re.findall(r"^```yaml\n(.*?)^```$", text, re.S | re.M)
if len(blocks) < 3:
    sys.exit(f"# only {len(blocks)} yaml blocks")
docs = [d for b in blocks for d in yaml.safe_load_all(b)]
ds = [d for d in docs if isinstance(d, dict) and d.get("kind") == "DaemonSet"]
if len(ds) != 1:
    sys.exit(f"# {len(ds)} DaemonSets")
spec = ds[0]["spec"]["template"]["spec"]
bad = []
if spec.get("hostPID") is not True:
    bad.append("no hostPID")
if spec.get("hostNetwork") is not True:
    bad.append("no hostNetwork")
mon = [c for c in spec["containers"] if c["name"] == "monitor"][0]
caps = mon["securityContext"]["capabilities"]
want = [c[len("CAP_"):] for c in sys.argv[3].split()]
if caps.get("add") != want or caps.get("drop") != ["ALL"]:
    bad.append(f"capabilities {caps}, not the unit's {want}")
paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
mounts = {m["name"]: m["mountPath"] for m in mon["volumeMounts"]}
if paths.get("cgroup") != "/sys/fs/cgroup" or mounts.get("cgroup") != "/sys/fs/cgroup":
    bad.append("no /sys/fs/cgroup from the host")
args = mon["args"]
prom = args[args.index("--prom-file") + 1]
if not prom.startswith(mounts.get("textfile", "?") + "/"):
    bad.append(f"--prom-file {prom} is not in the textfile mount")
if mounts.get("state") != "/run/gomemguard" or paths.get("state") != "/run/gomemguard":
    bad.append("no /run/gomemguard from the host for the policy's state")
if "--policy-dir" not in args or \
        mounts.get("policy") != args[args.index("--policy-dir") + 1]:
    bad.append("--policy-dir is not the ConfigMap's mount")
if paths.get("textfile") != "/var/lib/prometheus/node-exporter":
    bad.append("textfile is not node_exporter's directory")
if bad:
    sys.exit("# " + "; ".join(bad))
open(sys.argv[2], "w").write("\n".join(args) + "\n")
EOF
}

k8s_args() {
	local args

	mapfile -t args <"$tmp/args"
	args_accepted "${args[@]}"
}

ktap_print_header
ktap_set_plan 5

[ -x "$ctl" ] || ktap_exit_fail_msg "no $ctl: make tools"

if command -v systemd-analyze >/dev/null; then
	result "systemd-analyze verify: the unit, without a word" unit_verifies || true
else
	ktap_test_skip "systemd-analyze verify (not installed)"
fi
result "unit: $caps alone, strict sandbox, the textfile and state directories writable, reload by SIGHUP" \
	unit_sandbox || true
result "unit: gomemctl accepts ExecStart's arguments" unit_args || true
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	result "kubernetes.md: the YAML parses; the DaemonSet has host PID, network, cgroups, NET_ADMIN" \
		yaml_check || true
	result "kubernetes.md: gomemctl accepts the DaemonSet's monitor arguments" k8s_args || true
else
	ktap_test_skip "kubernetes.md YAML (no python3 with PyYAML)"
	ktap_test_skip "kubernetes.md monitor arguments (no python3 with PyYAML)"
fi

ktap_finished
