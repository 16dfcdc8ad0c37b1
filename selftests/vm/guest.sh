#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command as root inside a QEMU/TCG guest booted with a Debian kernel
# (or, with --kernel and --moddir, one built here).
#
# The guest sees the host's root filesystem read-only over virtio-9p, or
# virtiofs for a kernel without 9p (so host binaries and libraries run
# unchanged, and the repository sits at the same path), with tmpfs on /tmp,
# /run, /var/tmp, /root and /mnt. The command's stdout+stderr travel over the
# second serial port and are streamed here; the kernel console goes to
# build/vm/KVER/console.log. See README.md beside this file for exit codes
# and debugging.
set -eu

# The whole script is one brace group, parsed before it runs: editing or
# checking out another version of this file during a run cannot upset it.
{

usage() {
	cat <<'EOF'
Usage: guest.sh [--mem MIB] [--cpus N] [--timeout SEC] [--disk FILE] [--shell]
                [--icount SHIFT] [--kernel IMAGE --moddir DIR] KVER [-- CMD [ARGS...]]

  --mem MIB      guest RAM (default 1024)
  --cpus N       guest vCPUs (default 2)
  --timeout SEC  time allowed to CMD once it has started (default 900;
                 with --shell: none unless given)
  --disk FILE    attach FILE as a raw virtio-blk disk (/dev/vda in the guest)
  --shell        interactive: console on this terminal, bash (or CMD) on it
  --icount SHIFT guest time counts instructions, 2^SHIFT ns each (0-10),
                 not the host's clock: rates that do not move with the
                 host's load (idle time still passes in real time)
  --kernel IMAGE boot IMAGE instead of Debian's KVER (from the cache that
                 scripts/kernel-cache.sh fills, else /boot/vmlinuz-KVER):
                 a kernel built here, e.g. by scripts/debug-kernel.sh;
                 needs --moddir
  --moddir DIR   that kernel's modules tree (what /lib/modules/KVER would
                 be); the guest sees it as /lib/modules/KVER

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
kernel=
moddir=
icount=
while [ $# -gt 0 ]; do
	case $1 in
	--mem) [ $# -ge 2 ] || die_usage "$1 needs a value"; mem=$2; shift 2 ;;
	--cpus) [ $# -ge 2 ] || die_usage "$1 needs a value"; cpus=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || die_usage "$1 needs a value"; timeout=$2; shift 2 ;;
	--disk) [ $# -ge 2 ] || die_usage "$1 needs a value"; disk=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--icount) [ $# -ge 2 ] || die_usage "$1 needs a value"; icount=$2; shift 2 ;;
	--kernel) [ $# -ge 2 ] || die_usage "$1 needs a value"; kernel=$2; shift 2 ;;
	--moddir) [ $# -ge 2 ] || die_usage "$1 needs a value"; moddir=$2; shift 2 ;;
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
case $icount in
'' | [0-9] | 10) ;;
*) die_usage "--icount: not a whole number from 0 to 10: '$icount'" ;;
esac
if [ -z "$timeout" ] && [ "$shell" = 0 ]; then
	timeout=900
fi
if [ -n "$kernel" ] && [ -z "$moddir" ]; then
	die_usage "--kernel needs --moddir"
elif [ -z "$kernel" ] && [ -n "$moddir" ]; then
	die_usage "--moddir needs --kernel"
fi

# Boot (QEMU start to CMD start) gets its own bound so that a hung boot is
# retried instead of eating CMD's time.
boot_timeout=${GUEST_BOOT_TIMEOUT:-180}
boot_retries=2

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/../.." && pwd -P)
cwd=$(pwd -P)
# GUEST_VMDIR: somewhere else for the console log and run files (two
# people running guests one after the other keep each their own logs).
vmdir=${GUEST_VMDIR:-$repo/build/vm/$kver}
# A kernel from elsewhere: the guest binds its modules tree (a host path,
# physical, as the guest resolves it) over /lib/modules/KVER.
own_moddir=
if [ -n "$kernel" ]; then
	[ -r "$kernel" ] || { log "cannot read --kernel $kernel"; exit 2; }
	[ -d "$moddir" ] || { log "--moddir $moddir: no such directory"; exit 2; }
	kernel=$(readlink -f "$kernel")
	moddir=$(readlink -f "$moddir")
	own_moddir=$moddir
elif kroot=$("$repo/scripts/kernel-cache.sh" --root) &&
     [ -r "$kroot/boot/vmlinuz-$kver" ]; then
	# Debian's kernel as scripts/kernel-cache.sh unpacked it: bound over
	# /lib/modules/KVER like a kernel built here.
	kernel=$kroot/boot/vmlinuz-$kver
	moddir=$(readlink -f "$kroot/lib/modules/$kver")
	own_moddir=$moddir
else
	# One installed on this machine the usual way.
	kernel=/boot/vmlinuz-$kver
	moddir=/lib/modules/$kver
fi

# What the modules tree's build link points to, as a folder to expose in
# the guest: the whole kernel cache for a cached kernel (its headers link
# to their -common and kbuild siblings), else the build tree itself.
modbuild=
if [ -n "$own_moddir" ] && modbuild=$(readlink -e "$moddir/build"); then
	case $modbuild in
	*/usr/src/*) modbuild=${modbuild%%/usr/src/*} ;;
	esac
fi

[ -r "$kernel" ] || { log "cannot read $kernel (scripts/deps.sh fetches $kver into $("$repo/scripts/kernel-cache.sh" --root))"; exit 2; }
[ -e "$moddir/modules.dep.bin" ] || { log "$moddir/modules.dep.bin missing"; exit 2; }
if [ -n "$disk" ]; then
	[ -e "$disk" ] || { log "--disk $disk: no such file"; exit 2; }
	disk=$(readlink -f "$disk")
fi
mkdir -p "$vmdir"

# Multi-threaded TCG makes 6.12 guests die in early boot now and then, likely
# from cross-CPU kernel text patching (int3), which any kernel also does at run
# time (static keys, tracepoints): one thread for all. See README.md.
tcg_thread=${GUEST_TCG_THREAD:-single}

# How the guest gets the host's root: 9p where the kernel has it (Debian's
# generic and rt flavours, the debug kernel), else virtiofs (the cloud flavour
# has no 9p at all, but VIRTIO_FS=y). Read from the kernel's config; without
# one, 9p. GUEST_FS=9p|virtiofs overrides, for comparisons.
kconfig=
for f in "$(dirname "$kernel")/config-$kver" "$moddir/config" "$moddir/build/.config"; do
	if [ -r "$f" ]; then
		kconfig=$f
		break
	fi
done
kconfig_has() {
	[ -n "$kconfig" ] && grep -qE "^CONFIG_$1=[ym]\$" "$kconfig"
}
fs=${GUEST_FS:-}
case $fs in
'')
	if [ -z "$kconfig" ] || { kconfig_has NET_9P_VIRTIO && kconfig_has 9P_FS; }; then
		fs=9p
	elif kconfig_has VIRTIO_FS; then
		fs=virtiofs
	else
		log "$kver has neither 9p nor virtiofs ($kconfig)"
		exit 2
	fi
	;;
9p | virtiofs) ;;
*) die_usage "GUEST_FS: 9p or virtiofs, not '$fs'" ;;
esac
if [ "$fs" = virtiofs ]; then
	# QEMU 7.2's C virtiofsd (qemu-system-common); GUEST_VIRTIOFSD for another.
	virtiofsd=${GUEST_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
	[ -x "$virtiofsd" ] || { log "$kver has no 9p, and $virtiofsd is missing (qemu-system-common)"; exit 2; }
	[ "$(id -u)" = 0 ] || { log "$kver has no 9p, and virtiofsd needs root"; exit 2; }
fi

# ---------------------------------------------------------------------------
# Initramfs: busybox plus the modules needed to mount the host root over 9p
# (or virtiofs). Stage 1 (/init, static busybox running from RAM, hence fast)
# mounts the host root and everything the guest needs on top of it, then
# switch_roots into stage 2, which lives in the per-run directory (second
# share, "gmgrun").
# switch_root makes the host root the root of PID 1 and of the kernel's
# usermode helpers, so request_module() runs the host's /sbin/modprobe.

stage1() {
	cat <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

fail() {
	echo "gmg-vm stage1: $*"
	poweroff -f
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
while read -r mod; do
	insmod "/modules/$mod" || fail "insmod $mod failed"
done </modules/list

r=/newroot
# The host's root and the run directory: 9p, or virtiofs (/fs says which).
read -r fs </fs
if [ "$fs" = 9p ]; then
	opts=trans=virtio,version=9p2000.L,msize=262144
	root_opts=ro,$opts,cache=loose
	run_opts=ro,$opts
else
	root_opts=ro
	run_opts=ro
fi
tries=0
until mount -t "$fs" -o "$root_opts" hostroot $r; do
	tries=$((tries + 1))
	[ $tries -lt 50 ] || fail "cannot mount hostroot"
	sleep 0.1
done

for d in proc sys dev; do
	mount --move /$d $r/$d || fail "cannot move /$d"
done
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $r/dev/shm
ln -s /proc/self/fd $r/dev/fd
ln -s /proc/self/fd/0 $r/dev/stdin
ln -s /proc/self/fd/1 $r/dev/stdout
ln -s /proc/self/fd/2 $r/dev/stderr

mount -t tmpfs -o mode=0755 tmpfs $r/run || fail "tmpfs /run"
mkdir -p $r/run/gmg-vm $r/run/gmg-vm-host $r/run/lock $r/run/user
mount -t "$fs" -o "$run_opts" gmgrun $r/run/gmg-vm || fail "cannot mount gmgrun"
# The bare host root, without the tmpfs below: stage 2 uses it to bring back
# paths those hide (a checkout under /tmp or /root).
mount --bind $r $r/run/gmg-vm-host || fail "cannot bind the host root"
mount -t tmpfs -o mode=1777 tmpfs $r/tmp || fail "tmpfs /tmp"
mount -t tmpfs -o mode=1777 tmpfs $r/var/tmp || fail "tmpfs /var/tmp"
mount -t tmpfs -o mode=0700 tmpfs $r/root || fail "tmpfs /root"
mount -t tmpfs -o mode=0755 tmpfs $r/mnt || fail "tmpfs /mnt"

k=$r/sys/kernel
[ -d $k/debug ] && mount -t debugfs debugfs $k/debug
[ -d $k/tracing ] && mount -t tracefs tracefs $k/tracing
cg=$r/sys/fs/cgroup
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $cg ||
	fail "cannot mount cgroup2"
echo +memory >$cg/cgroup.subtree_control ||
	fail "cannot enable the memory controller"
read -r controllers <$cg/cgroup.controllers
for c in pids cpu; do
	case " $controllers " in
	*" $c "*) echo "+$c" >$cg/cgroup.subtree_control ;;
	esac
done

hostname gmg-vm
ip link set lo up
# CMD's output port: no \r added to \n, no echo. The settings only last while
# the port is open, so fd 3 keeps it open, through switch_root, in stage 2.
exec 3>$r/dev/ttyS1
stty -F $r/dev/ttyS1 raw -echo

# shellcheck disable=SC2093 # fail only runs if switch_root cannot start
exec switch_root $r /bin/bash /run/gmg-vm/init
fail "switch_root failed"
EOF
}

initramfs=$vmdir/initramfs.cpio.gz
[ "$fs" = 9p ] || initramfs=$vmdir/initramfs-$fs.cpio.gz

build_initramfs() {
	local out=$initramfs
	local fsmods=(9pnet_virtio 9p)
	local busybox=/bin/busybox
	local inputs=("$busybox" "$moddir/modules.dep.bin" "$self")
	local f stale=0 tmp line mod name deps=
	local modprobe_root=()

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
	for f in sh mount insmod mkdir ln sleep poweroff hostname ip stty switch_root; do
		ln -s busybox "$tmp/bin/$f"
	done
	stage1 >"$tmp/init"
	chmod 755 "$tmp/init"
	echo "$fs" >"$tmp/fs"
	[ "$fs" = 9p ] || fsmods=(virtiofs)

	# modprobe resolves the dependency chain for the target kernel; modules
	# built in show up as "builtin" (all of them, in a kernel built for
	# this). Busybox insmod cannot read compressed modules, so they are
	# stored decompressed. modprobe -d wants ROOT/lib/modules/KVER: a link
	# makes one for --moddir.
	: >"$tmp/modules/list"
	if [ -n "$own_moddir" ]; then
		mkdir -p "$tmp.root/lib/modules"
		ln -s "$own_moddir" "$tmp.root/lib/modules/$kver"
		modprobe_root=(-d "$tmp.root")
	fi
	# overlay: stage 2 may need it before modprobe can work (no
	# /lib/modules on the host), and the suite lays its modules with it.
	for mod in virtio_pci "${fsmods[@]}" overlay; do
		line=$(modprobe "${modprobe_root[@]}" --set-version="$kver" --show-depends "$mod") ||
			{ log "modprobe cannot resolve $mod for $kver"; exit 2; }
		deps+=$line$'\n'
	done
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
	done <<<"$deps"

	(cd "$tmp" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
		gzip -1 >"$tmp.cpio.gz"
	mv "$tmp.cpio.gz" "$out"
	log "built $out (modules: $(tr '\n' ' ' <"$tmp/modules/list"))"
	rm -rf "$tmp" "$tmp.root"
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
# fd 3: /dev/ttyS1, CMD's output port, opened and set raw by stage 1.

# If CMD's session leader opens the port it becomes its controlling tty, and
# the leader's exit hangs up fd 3: then reopen the port.
mark() {
	printf '%s %s\n' "$GMG_MARK" "$*" 2>/dev/null >&3 ||
		printf '%s %s\n' "$GMG_MARK" "$*" >/dev/ttyS1
}

infra_fail() {
	echo "gmg-vm stage2: $*" >/dev/console
	/bin/busybox poweroff -f
}

# Bring back the checkout, the working directory and the kernel headers
# the modules tree's build link names (~/.cache: DKMS builds against them)
# if a tmpfs hides them.
for p in "$GMG_REPO" "$GMG_CWD" $GMG_MODBUILD; do
	for m in /tmp /var/tmp /root /mnt /run; do
		case $p in
		"$m"/*)
			[ -d "$p" ] && continue
			mkdir -p "$p"
			mount --bind "/run/gmg-vm-host$p" "$p" ||
				infra_fail "cannot expose $p"
			;;
		esac
	done
done

# --moddir or the kernel cache: the modules tree of a kernel that is not
# installed on the host, over a tmpfs so that the read-only host
# /lib/modules can take the mount point.  A host with no kernel installed
# (a container, a CI machine) has no /lib/modules at all: then /usr/lib
# gets a writable layer, in this guest only, to hold the mount point.
if [ -n "$GMG_MODDIR" ]; then
	kmods=/lib/modules/$(uname -r)
	if [ ! -d /lib/modules ]; then
		lib=$(readlink -f /lib)
		mkdir -p /run/gmg-lib &&
			mount -t tmpfs -o mode=0755 tmpfs /run/gmg-lib &&
			mkdir /run/gmg-lib/upper /run/gmg-lib/work &&
			mount -t overlay gmg-lib \
				-o "lowerdir=$lib,upperdir=/run/gmg-lib/upper,workdir=/run/gmg-lib/work" "$lib" &&
			mkdir /lib/modules ||
			infra_fail "cannot make a mount point for /lib/modules"
	fi
	mount -t tmpfs -o mode=0755 tmpfs /lib/modules &&
		mkdir "$kmods" &&
		mount --bind "/run/gmg-vm-host$GMG_MODDIR" "$kmods" ||
		infra_fail "cannot expose $GMG_MODDIR as $kmods"
fi

if [ "$GMG_DISK" = 1 ]; then
	modprobe virtio_blk || infra_fail "modprobe virtio_blk"
	for _ in $(seq 100); do
		[ -b /dev/vda ] && break
		sleep 0.1
	done
	[ -b /dev/vda ] || infra_fail "/dev/vda did not appear"
fi

env=(HOME=/root PATH="$PATH" USER=root LOGNAME=root SHELL=/bin/bash
	LANG=C.UTF-8 TERM="$GMG_TERM")
while IFS= read -r -d '' kv; do
	env+=("$kv")
done </run/gmg-vm/env

mark start
echo "gmg-vm: CMD started" >/dev/kmsg
if [ "$GMG_SHELL" = 1 ]; then
	setsid -c env -i "${env[@]}" /bin/bash /run/gmg-vm/cmd.sh \
		</dev/ttyS0 >/dev/ttyS0 2>&1 3>&-
else
	setsid env -i "${env[@]}" /bin/bash /run/gmg-vm/cmd.sh \
		</dev/null >&3 2>&3 3>&-
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
done < <(dmesg | awk -f /run/gmg-vm/dmesg.awk | head -n 200)
taint=$(cat /proc/sys/kernel/tainted)
# Allowed: O (4096, out-of-tree module) and E (8192, unsigned module).
bad=$((taint & ~(4096 | 8192)))
if [ "$bad" -ne 0 ]; then
	flags=PFSRMBUDAWCIOELKXTNJ
	letters=
	for ((i = 0; i < ${#flags}; i++)); do
		((bad & (1 << i))) && letters+=${flags:i:1}
	done
	report+=("# kernel tainted: $taint (unexpected: $letters, see Documentation/admin-guide/tainted-kernels.rst)")
fi
if [ ${#report[@]} -gt 0 ]; then
	printf '%s\n' "${report[@]}" 2>/dev/null >&3 ||
		printf '%s\n' "${report[@]}" >/dev/ttyS1
	mark kernel-dirty
	echo "gmg-vm: kernel dirty" >/dev/kmsg
else
	mark kernel-clean
	echo "gmg-vm: kernel clean" >/dev/kmsg
fi
# The last close of the port waits until its output has left the UART.
exec 3>&-
sync
/bin/busybox poweroff -f
echo o >/proc/sysrq-trigger
EOF
}

# Kernel log lines that make a run dirty. The stack dump of an OOM-killer
# report is expected (the tests cause real OOM kills) and is let through, and
# so is that of a failed allocation, which a real global OOM brings with it.
# Debug kernels (scripts/debug-kernel.sh) add their own reports: KASAN and
# lockdep say BUG:/WARNING:, debug objects ODEBUG:, kmemleak its name (except
# in the line saying it started).
# With -v lineno=1, print line numbers instead of lines.
dmesg_filter() {
	cat <<'EOF'
/invoked oom-killer:|page allocation failure:/ { oom = 1 }
/Call Trace/ && oom { oom = 0; next }
/kmemleak: Kernel memory leak detector initialized/ { next }
/WARNING:|BUG:|Oops|Call Trace|Kernel panic|kmemleak|KASAN|UBSAN|ODEBUG:/ {
	print (lineno ? NR : $0)
}
EOF
}

# ---------------------------------------------------------------------------
# virtiofs: one virtiofsd per share (hostroot: /, gmgrun: the run directory),
# each in a mount namespace of its own where it sees a read-only copy of the
# host's mount tree, all of it (9p's readonly=on; this virtiofsd has no such
# option). Their sockets are in the run directory. They serve one QEMU each
# and exit with it: started before every boot attempt, stopped after it, and
# killed with guest.sh (pdeathsig; the EXIT trap).

# Run in the new namespace, before virtiofsd (the rest of the arguments),
# with the host path to share as $1. virtiofsd's pid file
# (/var/run/virtiofsd/SOCKET.pid) would stay on the host: a tmpfs of this
# namespace takes it, and the host's mount tree again, every mount of it
# read-only (a bind remount changes this copy, never the host's), and the
# share, bound at a fixed path (virtiofsd's -o cannot quote a comma in one).
vfs_sandbox() {
	cat <<'EOF'
set -eu
src=$1
shift
mkdir -p /var/run/virtiofsd
run=$(readlink -f /var/run/virtiofsd)
mount -t tmpfs -o mode=0700 gmg-virtiofsd "$run"
mkdir "$run/root" "$run/share"
mount --rbind / "$run/root"
umount "$run/root$run"
while IFS= read -r m; do
	m=$(printf '%b' "$m")
	case $m in
	"$run/root" | "$run/root"/*) mount -o remount,bind,ro "$m" ;;
	esac
done < <(awk '{ print $5 }' /proc/self/mountinfo)
mount --rbind "$run/root$src" "$run/share"
exec "$@" -o "source=$run/share"
EOF
}

vfs_start() {
	local tag src opts i
	[ "$fs" = virtiofs ] || return 0
	: >"$vfs_log"
	for tag in "${vfs_tags[@]}"; do
		# hostroot like 9p's cache=loose: host changes may go unseen.
		if [ "$tag" = hostroot ]; then
			src=/
			opts=cache=always,announce_submounts
		else
			src=$rundir
			opts=cache=auto
		fi
		rm -f "$vfs_dir/$tag.sock"
		setpriv --pdeathsig KILL unshare --mount --propagation private -- \
			bash -c "$(vfs_sandbox)" vfs-sandbox "$src" \
			"$virtiofsd" --socket-path="$vfs_dir/$tag.sock" \
			-o "sandbox=chroot,log_level=warn,$opts" \
			</dev/null >>"$vfs_log" 2>&1 &
		vfs_pids+=("$!")
	done
	for i in "${!vfs_tags[@]}"; do
		tag=${vfs_tags[i]}
		for _ in $(seq 100); do
			[ -S "$vfs_dir/$tag.sock" ] && continue 2
			kill -0 "${vfs_pids[i]}" 2>/dev/null || break
			sleep 0.05
		done
		log "virtiofsd for $tag did not start; $vfs_log:"
		sed 's/^/guest.sh:   virtiofsd: /' "$vfs_log" >&2
		exit 125
	done
}

vfs_stop() {
	local pid
	for pid in "${vfs_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${vfs_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	vfs_pids=()
}

# ---------------------------------------------------------------------------
# Per-run directory, shared read-only with the guest as "gmgrun".

qemu_pid=
tail_pid=
vfs_pids=()
vfs_tags=(hostroot gmgrun)
rundir=$(mktemp -d "$vmdir/run.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
	fi
	vfs_stop
	if [ -n "$tail_pid" ]; then
		kill "$tail_pid" 2>/dev/null || true
	fi
	rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

vfs_log=$vmdir/virtiofsd.log
vfs_dir=$rundir/vfs
if [ "$fs" = virtiofs ]; then
	mkdir "$vfs_dir"
	# sun_path: 108 bytes with the NUL.
	if [ $((${#vfs_dir} + 13)) -gt 107 ]; then
		log "$vfs_dir: too long a path for virtiofsd's sockets; set GUEST_VMDIR to a shorter one"
		exit 2
	fi
fi

nonce=$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
mark="@@gmg-vm-$nonce@@"

{
	printf 'GMG_MARK=%q\n' "$mark"
	printf 'GMG_REPO=%q\n' "$repo"
	printf 'GMG_CWD=%q\n' "$cwd"
	printf 'GMG_DISK=%q\n' "$([ -n "$disk" ] && echo 1 || echo 0)"
	printf 'GMG_SHELL=%q\n' "$shell"
	printf 'GMG_MODDIR=%q\n' "$own_moddir"
	printf 'GMG_MODBUILD=%q\n' "$modbuild"
	printf 'GMG_TERM=%q\n' "$([ "$shell" = 1 ] && echo "${TERM:-vt100}" || echo dumb)"
} >"$rundir/config"
stage2 >"$rundir/init"
chmod 755 "$rundir/init"
dmesg_filter >"$rundir/dmesg.awk"
# No exec: this bash stays the session leader and never opens a tty, so CMD
# opening the serial port does not make it a controlling tty that is hung up
# when CMD exits.
{
	printf 'cd -- %q || exit 125\n' "$cwd"
	if [ $# -gt 0 ]; then
		printf '%q ' "$@"
		printf '\nexit $?\n'
	else
		printf '/bin/bash -i\nexit $?\n'
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
append+=" printk.devkmsg=on rdinit=/init${GUEST_CMDLINE:+ $GUEST_CMDLINE}"

machine=pc
# vhost-user (virtiofsd) maps the guest's RAM: it must be a shared memfd.
# As the machine's own RAM, not a NUMA node's (-numa), the guest sees the
# same memory and the same single node as without it.
[ "$fs" = 9p ] || machine+=,memory-backend=gmg-ram
# shellcheck disable=SC2054 # commas are QEMU's
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -no-reboot
	-machine "$machine" -accel "tcg,thread=$tcg_thread" -cpu "${GUEST_CPU:-max}"
	-smp "$cpus" -m "$mem" -display none -vga none
	-kernel "$kernel" -initrd "$initramfs" -append "$append")
if [ "$fs" = 9p ]; then
	# shellcheck disable=SC2054 # commas are QEMU's
	qemu+=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
		-fsdev "local,id=gmgrun,path=$(qemu_esc "$rundir"),security_model=none,readonly=on"
		-device virtio-9p-pci,fsdev=gmgrun,mount_tag=gmgrun)
else
	qemu+=(-object "memory-backend-memfd,id=gmg-ram,size=${mem}M,share=on")
	for tag in "${vfs_tags[@]}"; do
		qemu+=(-chardev "socket,id=vfs-$tag,path=$(qemu_esc "$vfs_dir/$tag.sock")"
			-device "vhost-user-fs-pci,chardev=vfs-$tag,tag=$tag")
	done
fi
# One instruction, 2^icount ns of guest time; an idle guest's clock
# follows the host's (sleep=on).
[ -z "$icount" ] || qemu+=(-icount "shift=$icount,sleep=on")
# Developer knob, e.g. GUEST_QEMU_OPTS="-s" for a gdb stub on :1234.
# shellcheck disable=SC2206 # word splitting wanted
qemu+=(${GUEST_QEMU_OPTS:-})
if [ -n "$disk" ]; then
	# shellcheck disable=SC2054 # commas are QEMU's
	qemu+=(-drive "file=$(qemu_esc "$disk"),format=raw,if=none,id=disk0"
		-device virtio-blk-pci,drive=disk0)
fi

# Only one TCG guest at a time: two would starve each other into RCU stalls.
lockdir=/run/lock
[ -d "$lockdir" ] || lockdir=/tmp
lock=${GUEST_LOCK-$lockdir/gomemguard-guest.lock}
if [ -n "$lock" ]; then
	exec 9>"$lock"
	if ! flock -n 9; then
		log "waiting for another guest to finish ($lock)"
		flock 9
	fi
fi

# Milliseconds since the epoch.
now() {
	local t=$EPOCHREALTIME
	local frac=${t#*.}000
	echo $((${t%.*} * 1000 + 10#${frac:0:3}))
}

# CMD's exit status from its marker line, empty if there is none.
cmd_status() {
	local line
	line=$(grep -aF "$mark exit " "$output" | tail -n 1 | tr -d '\r')
	printf '%s' "${line##* }"
}

if [ "$shell" = 1 ]; then
	: >"$output"
	log "interactive shell on $kver; Ctrl-A X quits QEMU"
	vfs_start
	"${qemu[@]}" -chardev "stdio,id=con,mux=on,signal=off,logfile=$(qemu_esc "$console")" \
		-serial chardev:con \
		-mon chardev=con,mode=readline \
		-chardev "file,id=out,path=$(qemu_esc "$output"),append=on" \
		-serial chardev:out 2>"$qemu_log" || true
	vfs_stop
	status=$(cmd_status)
	if [ -z "$status" ]; then
		grep -qaF "$mark start" "$output" || exit 125
		# Left with poweroff -f (or a panic, which was on screen).
		exit 0
	fi
	exit "$status"
fi

rm -f "$vmdir"/console.bootfail*.log
attempt=0
while :; do
	attempt=$((attempt + 1))
	: >"$console"
	: >"$output"
	vfs_start
	t0=$(now)
	# pdeathsig: QEMU must not outlive a guest.sh killed with SIGKILL.
	setpriv --pdeathsig KILL "${qemu[@]}" \
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
			elif grep -qaE 'Oops|BUG:|Kernel panic' "$console"; then
				# It may limp on or hang: don't wait for the timeout.
				result=boot-oops
				break
			fi
		fi
		if [ "$started" = 1 ] && [ "$finished" = 0 ]; then
			if tail -c 4096 "$output" | grep -qaE "$mark kernel-(clean|dirty)"; then
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
	vfs_stop
	wait "$tail_pid" 2>/dev/null || true
	tail_pid=

	if [ "$result" = timeout ]; then
		log "$kver: timeout: CMD ran for more than $timeout s; killed QEMU; console tail ($console):"
		tail -n 20 "$console" | sed 's/^/guest.sh:   console: /' >&2
		exit 124
	fi
	if grep -qaF "$mark start" "$output"; then
		break
	fi

	# The guest died (or hung) before CMD started: infrastructure, retry.
	if [ "$result" = boot-timeout ]; then
		log "$kver: guest did not start CMD within $boot_timeout s (attempt $attempt)"
	elif [ "$result" = boot-oops ]; then
		log "$kver: kernel oopsed before CMD started (attempt $attempt)"
	else
		log "$kver: guest died before CMD started (attempt $attempt)"
	fi
	tail -n 15 "$console" | sed 's/^/guest.sh:   console: /' >&2
	if [ -s "$qemu_log" ]; then
		sed 's/^/guest.sh:   qemu: /' "$qemu_log" >&2
	fi
	if [ "$fs" = virtiofs ] && [ -s "$vfs_log" ]; then
		sed 's/^/guest.sh:   virtiofsd: /' "$vfs_log" >&2
	fi
	if [ "$attempt" -gt "$boot_retries" ]; then
		log "$kver: giving up after $attempt attempts"
		exit 125
	fi
	cp "$console" "$vmdir/console.bootfail$attempt.log"
	log "$kver: retrying (saved $vmdir/console.bootfail$attempt.log)"
done

status=$(cmd_status)
if [ -z "$status" ]; then
	# Died with CMD running: a panic, a triple fault, or CMD powered off.
	log "$kver: guest died while CMD was running; console tail ($console):"
	tail -n 40 "$console" | sed 's/^/guest.sh:   console: /' >&2
	awk -f "$rundir/dmesg.awk" "$console" | head -n 50 | sed 's/^/# dmesg: /'
	exit 1
fi
if grep -qaF "$mark kernel-clean" "$output"; then
	exit "$status"
fi
log "$kver: kernel check failed (see the '# dmesg:' lines); first report in $console:"
n=$(awk -v lineno=1 -f "$rundir/dmesg.awk" "$console" | head -n 1)
if [ -n "$n" ]; then
	sed -n "$((n > 5 ? n - 5 : 1)),$((n + 40))p" "$console" |
		sed 's/^/guest.sh:   console: /' >&2
fi
if [ "$status" -ne 0 ]; then
	exit "$status"
fi
exit 1
}
