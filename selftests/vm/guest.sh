#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command as root inside a QEMU/TCG guest booted with a Debian kernel.
#
# The guest sees the host's root filesystem read-only over virtio-9p (so host
# binaries and libraries run unchanged, and the repository sits at the same
# path), with tmpfs on /tmp, /run, /var/tmp, /root and /mnt. The command's
# stdout+stderr travel over the second serial port and are streamed here; the
# kernel console goes to build/vm/KVER/console.log. See README.md beside this
# file for exit codes and debugging.
set -eu

usage() {
	cat <<'EOF'
Usage: guest.sh [--mem MIB] [--cpus N] [--timeout SEC] [--disk FILE] [--shell]
                KVER [-- CMD [ARGS...]]

  --mem MIB      guest RAM (default 1024)
  --cpus N       guest vCPUs (default 2)
  --timeout SEC  time allowed to CMD once it has started (default 900;
                 with --shell: none unless given)
  --disk FILE    attach FILE as a raw virtio-blk disk (/dev/vda in the guest)
  --shell        interactive: console on this terminal, bash (or CMD) on it

Exit status: CMD's status if the kernel stayed clean; 1 if CMD succeeded but
the kernel warned/oopsed/tainted (or died while CMD ran); 124 on timeout; 125
if the guest died before CMD started (after 2 retries); 2 on usage errors.
EOF
}

die_usage() {
	echo "guest.sh: $*" >&2
	usage >&2
	exit 2
}

log() {
	echo "guest.sh: $*" >&2
}

mem=1024
cpus=2
timeout=
disk=
shell=0
while [ $# -gt 0 ]; do
	case $1 in
	--mem) [ $# -ge 2 ] || die_usage "$1 needs a value"; mem=$2; shift 2 ;;
	--cpus) [ $# -ge 2 ] || die_usage "$1 needs a value"; cpus=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || die_usage "$1 needs a value"; timeout=$2; shift 2 ;;
	--disk) [ $# -ge 2 ] || die_usage "$1 needs a value"; disk=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) die_usage "KVER missing" ;;
	-*) die_usage "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die_usage "KVER missing"
kver=$1
shift
if [ $# -gt 0 ]; then
	[ "$1" = -- ] || die_usage "expected -- before CMD, got '$1'"
	shift
fi
[ $# -gt 0 ] || [ "$shell" = 1 ] || die_usage "CMD missing"
for n in "$mem" "$cpus" ${timeout:+"$timeout"}; do
	case $n in
	'' | *[!0-9]*) die_usage "not a positive number: '$n'" ;;
	esac
done
if [ -z "$timeout" ] && [ "$shell" = 0 ]; then
	timeout=900
fi

# Boot (QEMU start to CMD start) gets its own bound so that a hung boot is
# retried instead of eating CMD's time.
boot_timeout=${GUEST_BOOT_TIMEOUT:-300}
boot_retries=2

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/../.." && pwd -P)
cwd=$(pwd -P)
vmdir=$repo/build/vm/$kver
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver

[ -r "$kernel" ] || { log "cannot read $kernel (install linux-image-$kver: scripts/deps.sh)"; exit 2; }
[ -e "$moddir/modules.dep.bin" ] || { log "$moddir/modules.dep.bin missing"; exit 2; }
if [ -n "$disk" ]; then
	[ -f "$disk" ] || { log "--disk $disk: no such file"; exit 2; }
	disk=$(readlink -f "$disk")
fi
mkdir -p "$vmdir"

# Multi-threaded TCG makes 6.12 guests die in early boot ("Oops: int3"), so
# every kernel gets one thread; GUEST_TCG_THREAD=multi overrides.
tcg_thread=${GUEST_TCG_THREAD:-single}

# ---------------------------------------------------------------------------
# Initramfs: busybox plus the modules needed to mount the host root over 9p.
# Stage 1 (/init) mounts it and switch_roots into stage 2, which lives in the
# per-run directory (second 9p share) so that it can change without a rebuild.

stage1() {
	cat <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

fail() {
	echo "gmg-vm stage1: $*"
	poweroff -f
}

while read -r mod; do
	insmod "/modules/$mod" || fail "insmod $mod failed"
done </modules/list

opts=trans=virtio,version=9p2000.L,msize=262144
tries=0
until mount -t 9p -o "ro,$opts,cache=loose" hostroot /newroot; do
	tries=$((tries + 1))
	[ $tries -lt 50 ] || fail "cannot mount hostroot"
	sleep 0.1
done
mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail "tmpfs /run"
mkdir /newroot/run/gmg-vm
mount -t 9p -o "ro,$opts" gmgrun /newroot/run/gmg-vm || fail "cannot mount gmgrun"
umount /proc /sys
mount --move /dev /newroot/dev || fail "cannot move /dev"
exec switch_root /newroot /bin/bash /run/gmg-vm/init
fail "switch_root failed"
EOF
}

build_initramfs() {
	local out=$vmdir/initramfs.cpio.gz
	local busybox=/bin/busybox
	local inputs=("$busybox" "$moddir/modules.dep.bin" "$self")
	local f stale=0 tmp line mod name

	if [ -e "$out" ]; then
		for f in "${inputs[@]}"; do
			[ "$f" -nt "$out" ] && stale=1
		done
		[ "$stale" = 0 ] && return 0
	fi
	[ -x "$busybox" ] || { log "$busybox missing (install busybox-static)"; exit 2; }

	tmp=$(mktemp -d "$vmdir/initramfs.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,modules}
	cp "$busybox" "$tmp/bin/busybox"
	for f in sh mount umount insmod mkdir sleep poweroff switch_root; do
		ln -s busybox "$tmp/bin/$f"
	done
	stage1 >"$tmp/init"
	chmod 755 "$tmp/init"

	# modprobe resolves the dependency chain for the target kernel; modules
	# built in show up as "builtin". Busybox insmod cannot read compressed
	# modules, so they are stored decompressed.
	: >"$tmp/modules/list"
	for mod in virtio_pci 9pnet_virtio 9p; do
		modprobe --set-version="$kver" --show-depends "$mod" ||
			{ log "modprobe cannot resolve $mod for $kver"; exit 2; }
	done |
		while read -r line; do
			case $line in
			insmod\ *) ;;
			*) continue ;;
			esac
			mod=${line#insmod }
			mod=${mod%% *}
			name=$(basename "$mod")
			name=${name%.xz}
			name=${name%.zst}
			name=${name%.gz}
			grep -qxF "$name" "$tmp/modules/list" && continue
			case $mod in
			*.xz) xz -dc "$mod" >"$tmp/modules/$name" ;;
			*.zst) zstd -qdc "$mod" >"$tmp/modules/$name" ;;
			*.gz) gzip -dc "$mod" >"$tmp/modules/$name" ;;
			*) cp "$mod" "$tmp/modules/$name" ;;
			esac
			echo "$name" >>"$tmp/modules/list"
		done

	(cd "$tmp" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
		gzip -1 >"$tmp.cpio.gz"
	mv "$tmp.cpio.gz" "$out"
	log "built $out (modules: $(tr '\n' ' ' <"$tmp/modules/list"))"
	rm -rf "$tmp"
}

# ---------------------------------------------------------------------------
# Stage 2: PID 1 on the host's root. Parameters come from /run/gmg-vm/config.

stage2() {
	cat <<'EOF'
#!/bin/bash
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck source=/dev/null
. /run/gmg-vm/config
out=/dev/ttyS1

mark() {
	printf '%s %s\n' "$GMG_MARK" "$*" >"$out"
}

infra_fail() {
	echo "gmg-vm stage2: $*" >/dev/console
	/bin/busybox poweroff -f
}

mount -t proc proc /proc || infra_fail "mount /proc"
mount -t sysfs sysfs /sys || infra_fail "mount /sys"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr

# An unmasked view of the host root, to bring back paths the tmpfs hide.
mkdir -p /run/gmg-vm-host
mount --bind / /run/gmg-vm-host
masked="/tmp /var/tmp /root /mnt /run"
mount -t tmpfs -o mode=1777 tmpfs /tmp || infra_fail "tmpfs /tmp"
mount -t tmpfs -o mode=1777 tmpfs /var/tmp || infra_fail "tmpfs /var/tmp"
mount -t tmpfs -o mode=0700 tmpfs /root || infra_fail "tmpfs /root"
mount -t tmpfs -o mode=0755 tmpfs /mnt || infra_fail "tmpfs /mnt"
mkdir -p /run/lock /run/user
for p in "$GMG_REPO" "$GMG_CWD"; do
	for m in $masked; do
		case $p in
		"$m"/*)
			mountpoint -q "$p" && continue
			mkdir -p "$p"
			mount --bind "/run/gmg-vm-host$p" "$p" ||
				infra_fail "cannot expose $p"
			;;
		esac
	done
done

[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
	infra_fail "mount cgroup2"
echo +memory >/sys/fs/cgroup/cgroup.subtree_control ||
	infra_fail "cannot enable the memory controller"
for c in pids cpu; do
	grep -qw "$c" /sys/fs/cgroup/cgroup.controllers &&
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
done

echo gmg-vm >/proc/sys/kernel/hostname
command -v ip >/dev/null && ip link set lo up

if [ "$GMG_DISK" = 1 ]; then
	modprobe virtio_blk || infra_fail "modprobe virtio_blk"
	for _ in $(seq 100); do
		[ -b /dev/vda ] && break
		sleep 0.1
	done
	[ -b /dev/vda ] || infra_fail "/dev/vda did not appear"
fi

stty -F "$out" raw -echo

env=(HOME=/root PATH="$PATH" USER=root LOGNAME=root SHELL=/bin/bash
	LANG=C.UTF-8 TERM="$GMG_TERM")
while IFS= read -r -d '' kv; do
	env+=("$kv")
done </run/gmg-vm/env

mark start
echo "gmg-vm: CMD started" >/dev/kmsg
if [ "$GMG_SHELL" = 1 ]; then
	setsid -c env -i "${env[@]}" /bin/bash /run/gmg-vm/cmd.sh \
		</dev/ttyS0 >/dev/ttyS0 2>&1
else
	setsid env -i "${env[@]}" /bin/bash /run/gmg-vm/cmd.sh \
		</dev/null >"$out" 2>&1
fi
status=$?
mark "exit $status"
echo "gmg-vm: CMD exited with $status" >/dev/kmsg

# Leftover processes may hold the serial port open, which would keep its
# close from draining; they would die at power-off anyway.
kill -KILL -1 2>/dev/null
wait 2>/dev/null

report=()
while IFS= read -r line; do
	report+=("# dmesg: $line")
done < <(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|kmemleak|KASAN|UBSAN' | head -n 200)
taint=$(cat /proc/sys/kernel/tainted)
# Allowed: O (4096, out-of-tree module) and E (8192, unsigned module).
bad=$((taint & ~(4096 | 8192)))
if [ "$bad" -ne 0 ]; then
	report+=("# dmesg: kernel tainted: $taint (unexpected bits $(printf '0x%x' "$bad"))")
fi
if [ ${#report[@]} -gt 0 ]; then
	printf '%s\n' "${report[@]}" >"$out"
	mark kernel-dirty
	echo "gmg-vm: kernel dirty" >/dev/kmsg
else
	mark kernel-clean
	echo "gmg-vm: kernel clean" >/dev/kmsg
fi
sync
/bin/busybox poweroff -f
echo o >/proc/sysrq-trigger
EOF
}

# ---------------------------------------------------------------------------
# Per-run directory, shared read-only with the guest as "gmgrun".

qemu_pid=
tail_pid=
rundir=$(mktemp -d "$vmdir/run.XXXXXX")
cleanup() {
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
	fi
	if [ -n "$tail_pid" ]; then
		kill "$tail_pid" 2>/dev/null || true
	fi
	rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nonce=$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
mark="@@gmg-vm-$nonce@@"

{
	printf 'GMG_MARK=%q\n' "$mark"
	printf 'GMG_REPO=%q\n' "$repo"
	printf 'GMG_CWD=%q\n' "$cwd"
	printf 'GMG_DISK=%q\n' "$([ -n "$disk" ] && echo 1 || echo 0)"
	printf 'GMG_SHELL=%q\n' "$shell"
	printf 'GMG_TERM=%q\n' "$([ "$shell" = 1 ] && echo "${TERM:-vt100}" || echo dumb)"
} >"$rundir/config"
stage2 >"$rundir/init"
chmod 755 "$rundir/init"
{
	printf 'cd -- %q || exit 125\n' "$cwd"
	if [ $# -gt 0 ]; then
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	else
		printf 'exec /bin/bash -i\n'
	fi
} >"$rundir/cmd.sh"
# GMG_* variables of the caller are passed on to CMD.
while IFS= read -r name; do
	printf '%s=%s\0' "$name" "${!name}"
done < <(compgen -e | grep '^GMG_' || true) >"$rundir/env"

build_initramfs

# ---------------------------------------------------------------------------
# Boot.

qemu_esc() {
	printf '%s' "${1//,/,,}"
}

console=$vmdir/console.log
output=$vmdir/output.log
qemu_log=$vmdir/qemu.log

append="console=ttyS0,115200 panic=-1 loglevel=7 log_buf_len=8M"
append+=" printk.devkmsg=on rdinit=/init"

qemu=(qemu-system-x86_64 -nodefaults -no-user-config -no-reboot
	-machine pc -accel "tcg,thread=$tcg_thread" -cpu max
	-smp "$cpus" -m "$mem" -display none -vga none
	-kernel "$kernel" -initrd "$vmdir/initramfs.cpio.gz" -append "$append"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=gmgrun,path=$(qemu_esc "$rundir"),security_model=none,readonly=on"
	-device virtio-9p-pci,fsdev=gmgrun,mount_tag=gmgrun)
if [ -n "$disk" ]; then
	qemu+=(-drive "file=$(qemu_esc "$disk"),format=raw,if=none,id=disk0"
		-device virtio-blk-pci,drive=disk0)
fi

# Only one TCG guest at a time: two would starve each other into RCU stalls.
lock=${GUEST_LOCK-/run/lock/gomemguard-guest.lock}
if [ -n "$lock" ]; then
	exec 9>"$lock"
	if ! flock -n 9; then
		log "waiting for another guest to finish ($lock)"
		flock 9
	fi
fi

now() {
	local t=$EPOCHREALTIME
	echo "${t%.*}${t#*.}" | cut -c1-13 # milliseconds
}

if [ "$shell" = 1 ]; then
	: >"$output"
	log "interactive shell on $kver; Ctrl-A X quits QEMU"
	"${qemu[@]}" -chardev "stdio,id=con,mux=on,signal=off" -serial chardev:con \
		-mon chardev=con,mode=readline \
		-chardev "file,id=out,path=$(qemu_esc "$output"),append=on" \
		-serial chardev:out 2>"$qemu_log" || true
	status_line=$(grep -aF "$mark exit " "$output" | tail -n 1 || true)
	[ -n "$status_line" ] || exit 125
	exit "${status_line##* }"
fi

attempt=0
while :; do
	attempt=$((attempt + 1))
	: >"$console"
	: >"$output"
	t0=$(now)
	"${qemu[@]}" \
		-chardev "file,id=con,path=$(qemu_esc "$console"),append=on" -serial chardev:con \
		-chardev "file,id=out,path=$(qemu_esc "$output"),append=on" -serial chardev:out \
		</dev/null >"$qemu_log" 2>&1 &
	qemu_pid=$!

	# Stream CMD's output, minus the marker lines (a marker after a partial
	# line cuts only the marker off).
	tail -s 0.2 -n +1 -f --pid="$qemu_pid" "$output" </dev/null |
		sed -u -e "/^$mark/d" -e "s/$mark.*//" &
	tail_pid=$!

	started=0
	finished=0
	result=
	while kill -0 "$qemu_pid" 2>/dev/null; do
		t=$(now)
		if [ "$started" = 0 ]; then
			if grep -qaF "$mark start" "$output"; then
				started=1
				t_start=$t
				log "$kver: CMD started $(((t - t0) / 1000)).$(((t - t0) % 1000 / 100)) s after QEMU start (attempt $attempt)"
			elif [ $((t - t0)) -gt $((boot_timeout * 1000)) ]; then
				result=boot-timeout
				break
			fi
		fi
		if [ "$started" = 1 ] && [ "$finished" = 0 ]; then
			if grep -qaE "$mark kernel-(clean|dirty)" "$output"; then
				finished=1
				t_fin=$t
			elif [ -n "$timeout" ] && [ $((t - t_start)) -gt $((timeout * 1000)) ]; then
				result=timeout
				break
			fi
		fi
		# Power-off should follow the last marker at once; don't hang if not.
		if [ "$finished" = 1 ] && [ $((t - t_fin)) -gt 30000 ]; then
			log "guest did not power off; killing QEMU"
			break
		fi
		sleep 0.2
	done
	if kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid"
		for _ in $(seq 50); do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$qemu_pid" 2>/dev/null || true
	fi
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	wait "$tail_pid" 2>/dev/null || true
	tail_pid=

	if [ "$result" = timeout ]; then
		log "$kver: timeout: CMD ran for more than $timeout s; killed QEMU (console: $console)"
		exit 124
	fi
	if grep -qaF "$mark start" "$output"; then
		break
	fi

	# The guest died (or hung) before CMD started: infrastructure, retry.
	if [ "$result" = boot-timeout ]; then
		log "$kver: guest did not start CMD within $boot_timeout s (attempt $attempt)"
	else
		log "$kver: guest died before CMD started (attempt $attempt)"
	fi
	tail -n 15 "$console" | sed 's/^/guest.sh:   console: /' >&2
	if [ -s "$qemu_log" ]; then
		sed 's/^/guest.sh:   qemu: /' "$qemu_log" >&2
	fi
	if [ "$attempt" -gt "$boot_retries" ]; then
		log "$kver: giving up after $attempt attempts"
		exit 125
	fi
	cp "$console" "$vmdir/console.bootfail$attempt.log"
	log "$kver: retrying (saved $vmdir/console.bootfail$attempt.log)"
done

status_line=$(grep -aF "$mark exit " "$output" | tail -n 1 || true)
if [ -z "$status_line" ]; then
	# Died with CMD running: a panic, a triple fault, or CMD powered off.
	log "$kver: guest died while CMD was running (console: $console)"
	grep -aE 'WARNING:|BUG:|Oops|Call Trace|Kernel panic|KASAN|UBSAN' "$console" |
		head -n 50 | sed 's/^/# dmesg: /'
	exit 1
fi
status=${status_line##* }
if grep -qaF "$mark kernel-clean" "$output"; then
	exit "$status"
fi
log "$kver: kernel check failed (see the '# dmesg:' lines; console: $console)"
if [ "$status" -ne 0 ]; then
	exit "$status"
fi
exit 1
