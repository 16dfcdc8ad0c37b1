/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gomemguard: early warnings of anonymous-memory growth before the OOM killer.
 *
 * This header is the whole user-space contract of gomemguard.ko.  It is
 * included from the source tree by the module, by gomemctl and by the
 * selftests, never from /usr/include, so the three cannot disagree.
 *
 * Transport: generic netlink family GOMEMGUARD_GENL_NAME, version
 * GOMEMGUARD_GENL_VERSION, no family-specific header.  The module carries
 * MODULE_ALIAS_GENL_FAMILY(), so resolving the family autoloads it.
 *
 * Every request is validated strictly: unknown attributes, attributes of the
 * wrong length and values out of range are rejected with an errno and an
 * extended-ACK message naming the attribute.  Mutating commands ("admin")
 * need CAP_NET_ADMIN.  Reading state and subscribing to events ("read")
 * need it as well -- counters and settings describe other users' processes
 * -- unless the module was loaded with open_read=1.
 *
 * Processes and tags
 *
 * A *tag* asks gomemguard to watch processes: one process (PID, the whole
 * thread group) or a cgroup v2 directory (every process in it or below it,
 * now and later).  Every watched process has its own state: anonymous,
 * swapped-out, shmem and file-mapped bytes, the anon+swap high-water mark,
 * the anon growth rate over the rate window, and the ETA to its nearest
 * limit: the soft limit, or its memcg's memory.max / memory.high counted
 * against what the memcg cannot reclaim.  Against those, a process tagged by
 * PID also counts the memcg's own growth while it stands still itself; an
 * adopted process (cgroup tag, INHERIT) counts only its own, and growth
 * that no watched process owns is the memcg's ETA (see EVENT_ETA without
 * COMM below).  Levels are percentages of the soft
 * limit (anon + swap); crossing one upward sends a WARN event, an ETA below
 * the horizon an ETA event, falling back below the lowest level minus
 * GOMEMGUARD_HYSTERESIS_PCT a RECOVER event, and exit an EXIT event --
 * for the exits that matter (see "Exits" below).
 *
 * The optional signal (the "memory fuse") is sent to the process once per
 * upward crossing of 100 % of the soft limit, at most once a second: a
 * crossing within a second of the last signal gets its signal when that
 * second is over, if the process is still above the limit.  The module sends
 * only what the tagging caller could send with kill(2) itself: the caller
 * must have the target's real or saved user ID as its real or effective user
 * ID, or CAP_KILL; this is checked when SIGNAL is set (TAG_NEW, TAG_SET,
 * for the named process), for every process a cgroup tag or INHERIT brings
 * in later, and again before each signal, against the credentials of the
 * caller that set SIGNAL.  A process the caller may not signal is watched
 * without a fuse.  Stop signals (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) are
 * refused: a stopped service looks alive and serves nothing.  SIGKILL is
 * allowed: then the module kills the process at its soft limit.  With INHERIT, children forked by a
 * watched process are watched too, with the same settings.  Children and new
 * cgroup members are taken on in batches, within about 10 ms: one that is
 * gone by then was never watched (no EXIT event), and a vfork() child (Go's
 * os/exec, posix_spawn()) is taken on when it execs, not while it runs on
 * its parent's memory.
 *
 * Exits.  A process tagged by PID (TAG_NEW with PID) sends an EXIT event
 * when it exits.  A process adopted -- SOURCE_CGROUP, or SOURCE_INHERIT
 * (forked by a watched process with INHERIT, whether that one was tagged
 * by PID or adopted itself) -- sends one only if it raised a WARN or ETA
 * event during its life, even if it recovered since: whoever got the
 * warning wants to know how it ended.  The exits of the other adopted
 * processes are not sent but counted, in INFO_GET's EXITS_QUIET: a shell
 * loop in a tagged cgroup forks a child a moment, and an EXIT for each
 * would bury the warnings.  Untagging, or leaving a tagged cgroup, is not
 * an exit and neither sends nor counts one.
 *
 * Identity is the kernel's struct pid: a PID that is reused after exit
 * never refers to the old process's state.  PIDs in requests and replies are
 * those of the caller's PID namespace: a request can only name a process
 * visible there, and a process not visible there is left out of PROC_GET.
 * Callers and listeners outside the initial PID namespace get OOM reports
 * and events without PID attributes (PID, VICTIM_PID), and cannot tag,
 * untag or change cgroups (-EPERM): a cgroup may hold processes they cannot
 * see.
 *
 * Cgroup paths (CGROUP, MEMCG) are relative to the root of the cgroup v2
 * hierarchy, "/" being the root: in requests the root of the caller's cgroup
 * namespace, in replies and events the global root.  At most
 * GOMEMGUARD_PATH_MAX bytes with the NUL.
 *
 * Dumps (PROC_GET, TAG_GET, MEMCG_GET, OOM_GET) resume from a stable key,
 * not a position: an entry that comes or goes during a dump never makes
 * another one appear twice or not at all.  When the set changed while a
 * dump was in progress, its messages carry NLM_F_DUMP_INTR: dump again for
 * a consistent view.  Every request is parsed strictly, its family header's
 * reserved byte included (must be 0).
 *
 * Replies carry the command of their request.  Attributes are always
 * present unless marked otherwise: ETA_MS and ETA_LIMIT come together, only
 * while the process grows; CGROUP only for processes a cgroup tag brought
 * in; MEMCG_MAX / MEMCG_HIGH only when the memcg has that limit;
 * FIRST_WARN_NS only during an episode of warnings (until RECOVER).
 * SIGNAL 0 means no fuse.  USAGE_PCT is not capped.  SEQ starts at 1 when the
 * module loads.
 *
 * Commands
 *
 * GOMEMGUARD_CMD_INFO_GET (do; read)
 *	Request: no attributes.
 *	Reply:   VERSION, KERNEL_RELEASE, TAGGED, EVENTS_SENT, EVENTS_DROPPED,
 *		 EVENTS_OVERFLOWED, LISTENERS, OPEN_READ, EVENT_INTERVAL_MS,
 *		 EVENT_BURST, OOM_REPORTS_MAX, OOM_KILLS, EXITS_QUIET,
 *		 PRESSURE_MEDIUM_PCT, PRESSURE_CRITICAL_PCT, and HOOKS: a nest
 *		 of HOOK strings, the kernel hooks registered right now.  The
 *		 module registers its hooks only while something is tagged (the
 *		 cgroup_attach_task tracepoint only while a cgroup is): loaded
 *		 and unused, it costs the kernel nothing, and HOOKS is empty.
 *		 OOM_KILLS counts every OOM kill on the machine since the
 *		 module loaded (the kernel's vmstat oom_kill), watched or not.
 *		 EXITS_QUIET counts the exits of adopted processes that never
 *		 warned since the module loaded: not sent as EXIT events
 *		 (see "Exits" above).
 *
 * GOMEMGUARD_CMD_CONFIG_SET (do; admin)
 *	Request: any of EVENT_INTERVAL_MS, EVENT_BURST, OOM_REPORTS_MAX,
 *		 PRESSURE_MEDIUM_PCT, PRESSURE_CRITICAL_PCT; at least one.
 *	Changes module-wide settings; attributes not given keep their value.
 *
 * GOMEMGUARD_CMD_TAG_NEW (do; admin)
 *	Request: PID or CGROUP (exactly one); SOFT_LIMIT (required,
 *		 1..GOMEMGUARD_SOFT_LIMIT_MAX);
 *		 optional LEVELS (1..GOMEMGUARD_LEVELS_MAX strictly ascending
 *		 values in 1..GOMEMGUARD_LEVEL_PCT_MAX; default 80,90,100),
 *		 ETA_HORIZON_MS, SIGNAL (1..GOMEMGUARD_SIGNAL_MAX, not a stop
 *		 signal; -EPERM when the caller could not send it, see above),
 *		 RATE_WINDOW_MS, INHERIT (0 or 1), LIMIT_ORIGIN (where the
 *		 caller took SOFT_LIMIT from; default USER; kept and reported,
 *		 never interpreted).
 *	-EEXIST when the process or cgroup is already tagged, -ESRCH when
 *	there is no such process, -ENOENT when CGROUP is not a cgroup.
 *
 * GOMEMGUARD_CMD_TAG_DEL (do; admin)
 *	Request: PID or CGROUP.  Untagging a cgroup stops watching every
 *	process it brought in.  Untagging one process of a tagged cgroup is
 *	refused (-EBUSY): untag the cgroup.
 *
 * GOMEMGUARD_CMD_TAG_SET (do; admin)
 *	Request: PID or CGROUP, and at least one of SOFT_LIMIT, LEVELS,
 *		 ETA_HORIZON_MS, SIGNAL (0 turns the fuse off), RATE_WINDOW_MS,
 *		 INHERIT, LIMIT_ORIGIN.  A cgroup's new settings apply to all its processes.
 *		 Turning INHERIT off affects future forks only.
 *
 * GOMEMGUARD_CMD_PROC_GET (do with PID, or dump; read; -ENOENT: not watched)
 *	One message per watched process: PID, COMM, SOURCE, CGROUP (for
 *	SOURCE_CGROUP), MEMCG, MEMCG_ID, the byte counters, HWM, RATE,
 *	ETA_MS (absent: not growing), ETA_LIMIT, LEVEL_PCT, USAGE_PCT,
 *	MEMCG_USAGE, MEMCG_MAX / MEMCG_HIGH (absent: unlimited), the settings,
 *	SIGNALS_SENT, FIRST_WARN_NS (absent: never warned), SHAPE.  Dump is
 *	how a restarted monitor resyncs its view.
 *
 *	SHAPE says what the growth of anon + swap looks like over the last
 *	RATE_WINDOW_MS (enum gomemguard_shape).  RATE is the slope of its
 *	floor -- the lowest point of each quarter of the window -- so that a
 *	garbage-collected heap's sawtooth counts as flat and a leak under it
 *	as growth.  An ETA warning needs growth sustained through a whole
 *	window of the process's own history (SHAPE_GROWTH), except when
 *	recent growth would reach a limit within the time it has just taken.
 *
 * GOMEMGUARD_CMD_TAG_GET (dump; read)
 *	One message per cgroup tag: CGROUP, the settings, TAG_MEMBERS.
 *
 * GOMEMGUARD_CMD_MEMCG_GET (dump; read)
 *	One message per memory cgroup holding a watched process, in MEMCG_ID
 *	order: MEMCG, MEMCG_ID, MEMCG_USAGE, MEMCG_MAX / MEMCG_HIGH (absent:
 *	unlimited), MEMCG_ANON, MEMCG_FILE, MEMCG_UNEVICTABLE, RECLAIMABLE,
 *	PRESSURE_LEVEL, MEMCG_EVENTS_HIGH, _MAX, _OOM, _OOM_KILL.
 *
 *	The module reads a memcg from the kernel's own structures, never
 *	from cgroupfs files: the page counters (usage, max, high) and the
 *	sizes of its LRU lists, summed over NUMA nodes and descendants
 *	(classic and multi-gen LRU alike).  MEMCG_ANON is what sits on the
 *	swap-backed LRU -- anonymous memory *and* shmem/tmpfs, which reclaim
 *	cannot drop without swap; MEMCG_FILE is the page cache on the file
 *	LRU; RECLAIMABLE is that page cache, which reclaim can drop (after
 *	writeback, where dirty).  What usage holds beyond the LRUs is kernel
 *	memory.  ETAs against memory.max and memory.high count usage minus
 *	RECLAIMABLE.  The finer breakdown (anon vs shmem, dirty, writeback,
 *	mapped) and PSI averages are memory.stat's and memory.pressure's:
 *	user space reads them itself (MEMCG_SHMEM, PINNED and PSI_*_AVG10
 *	are retired and never sent).
 *
 * GOMEMGUARD_CMD_OOM_GET (dump; read)
 *	The stored OOM post-mortems, newest first (at most OOM_REPORTS_MAX,
 *	1..GOMEMGUARD_OOM_REPORTS_MAX, are kept): one message each, with
 *	TIME_NS (the kill) and the OOM event's attributes but SEQ and EVENT.
 *
 * GOMEMGUARD_CMD_EVENTS_SUBSCRIBE (do; read)
 *	Request: no attributes; send it without NLM_F_ACK.  Reply: SEQ, the
 *	number of the last event sent so far (0: none yet).  The reply comes
 *	before any event.  From then on, until the socket is closed, the
 *	module sends it every event as a GOMEMGUARD_CMD_EVENT message (port
 *	ID 0, sequence 0), in SEQ order.  Subscribing again only answers.
 *	At most GOMEMGUARD_LISTENERS_MAX sockets listen at once (-EBUSY);
 *	of those, callers without CAP_NET_ADMIN (open_read=1) hold at most
 *	GOMEMGUARD_LISTENERS_UNPRIV_MAX, and at most
 *	GOMEMGUARD_LISTENERS_PER_USER per user ID, so that they can never
 *	crowd out an administrator's monitor.
 *	Events are unicast rather than multicast so that each listener gets
 *	PIDs it may see.  A listener that does not read fast enough loses
 *	events: its socket reports ENOBUFS, and the module counts each loss in
 *	EVENTS_OVERFLOWED -- as it counts a listener's copy it had no memory
 *	for: either way the event took its SEQ, and that listener sees a gap.
 *
 * GOMEMGUARD_CMD_EVENT (notification to subscribed sockets)
 *	EVENT, SEQ, TIME_NS and the PROC_GET attributes of the process it is
 *	about.  SEQ counts every event the module sent, listened to or not: a
 *	gap means the listener lost events (its socket overflowed).  Events the
 *	module itself had to drop (rate limit, no memory) take no SEQ and are
 *	counted in EVENTS_DROPPED.
 *
 *	EVENT_PRESSURE is about a memcg, not a process, and goes out when its
 *	level changes, or its kind at the same level (reclaim that keeps
 *	succeeding on less and less cache while anon grows is a squeeze now):
 *	at most once a second per memcg.  MEMCG, MEMCG_ID,
 *	PRESSURE_LEVEL, PRESSURE_KIND (absent when the level is NONE),
 *	MEMCG_USAGE, MEMCG_MAX (absent: unlimited), MEMCG_ANON, MEMCG_FILE,
 *	MEMCG_UNEVICTABLE, RECLAIMABLE (as in MEMCG_GET), RECLAIM_SCANNED
 *	and RECLAIM_RECLAIMED.
 *
 *	The level is that of a reclaim window: at least 512 pages reclaim
 *	scanned on the memcg's behalf (the kernel's vmpressure window), of
 *	which it failed to free pct = (scanned - reclaimed) * 100 / scanned
 *	percent, rounded down (0 when it freed as many as it scanned, or
 *	more): CRITICAL from PRESSURE_CRITICAL_PCT on, MEDIUM from
 *	PRESSURE_MEDIUM_PCT on, LOW below.  RECLAIM_SCANNED and
 *	RECLAIM_RECLAIMED are that window's page counts, whose share set the
 *	level; they come together, and are absent on a PRESSURE event with
 *	no window behind it: the NONE sent when reclaim has been quiet for
 *	a few seconds.
 *
 *	EVENT_ETA and EVENT_RECOVER without COMM (and without PID) are about
 *	a memcg: what it cannot reclaim grows, and no watched process's own
 *	anon + swap explains the growth -- tmpfs/shmem files, unevictable
 *	pages, memory of processes nobody tagged.  Only memcgs that hold a
 *	watched process are assessed, with the longest ETA_HORIZON_MS and
 *	RATE_WINDOW_MS of the tags watching processes there.  The same rules
 *	as a process's ETA hold: growth sustained through a whole rate
 *	window, one ETA per limit approached, RECOVER once the growth has
 *	stopped and the ETA is well above the horizon again.  A process
 *	whose own growth makes up at least half of the memcg's owns it: then
 *	only that process's ETA is sent, not the memcg's as well.
 *	Attributes: MEMCG, MEMCG_ID, MEMCG_USAGE, MEMCG_MAX / MEMCG_HIGH
 *	(absent: unlimited), MEMCG_ANON, MEMCG_FILE, MEMCG_UNEVICTABLE,
 *	RECLAIMABLE (as in MEMCG_GET), RATE (growth of usage less
 *	RECLAIMABLE, bytes/s), ETA_MS and ETA_LIMIT (absent in a RECOVER
 *	when no limit is in sight), ETA_HORIZON_MS, RATE_WINDOW_MS, and
 *	FIRST_WARN_NS (absent after RECOVER).  The module cannot tell tmpfs
 *	from anon on the swap-backed LRU (memory.stat's counters are private
 *	to the kernel): user space reads memory.stat's shmem for that.
 *
 *	EVENT_OOM is about a kill: OOM_ID, CONSTRAINT, MEMCG (the OOM's
 *	memcg; "/" for a global OOM), VICTIM_PID, VICTIM_COMM,
 *	VICTIM_TAGGED, VICTIM_ANON, VICTIM_FILE, VICTIM_SHMEM, LEAD_MS (how
 *	long before the kill the first WARN/ETA went out -- for the victim
 *	when it was watched and warned, else the earliest among SNAPSHOT and
 *	the memcg's own ETA; absent: no warning at all), MEMCG_LEAD_MS (how
 *	long before the kill the OOM's memcg, or one below it, sent its
 *	first memcg ETA; absent: none since its last RECOVER), UNFREED (for
 *	a memcg OOM: what the memcg's swap-backed and unevictable LRUs still
 *	held when the report was made, about 100 ms after the kill --
 *	tmpfs/shmem, mlocked and ramfs pages, and the survivors' anon: what
 *	this kill did not free; absent for a global OOM), and SNAPSHOT: a
 *	nest of SNAPSHOT_PROC nests, one per
 *	watched process in that memcg, each with the PROC_GET attributes and
 *	its own LEAD_MS (at most GOMEMGUARD_OOM_SNAPSHOT_MAX of them).  PIDs
 *	in OOM reports are those of the initial PID namespace.  OOM_KILLS in
 *	INFO_GET counts every OOM kill on the machine, reported or not.
 */
#ifndef _UAPI_LINUX_GOMEMGUARD_H
#define _UAPI_LINUX_GOMEMGUARD_H

#define GOMEMGUARD_GENL_NAME		"gomemguard"
#define GOMEMGUARD_GENL_VERSION		1
/* Sockets subscribed to events at once: all, without CAP_NET_ADMIN, per user. */
#define GOMEMGUARD_LISTENERS_MAX	64
#define GOMEMGUARD_LISTENERS_UNPRIV_MAX	32
#define GOMEMGUARD_LISTENERS_PER_USER	4

#define GOMEMGUARD_PATH_MAX		256

/* OOM post-mortems kept in the module. */
#define GOMEMGUARD_OOM_REPORTS_DEFAULT	64
#define GOMEMGUARD_OOM_REPORTS_MAX	1024
/* Processes described in one post-mortem's SNAPSHOT. */
#define GOMEMGUARD_OOM_SNAPSHOT_MAX	32

/*
 * Reclaim pressure of a memcg, from the kernel's vmpressure() signal: the
 * share of scanned pages that reclaim failed to free.  The defaults are the
 * kernel's own vmpressure thresholds.
 */
#define GOMEMGUARD_PRESSURE_MEDIUM_DEFAULT	60
#define GOMEMGUARD_PRESSURE_CRITICAL_DEFAULT	95

/* Tag settings: defaults and bounds. */
#define GOMEMGUARD_SOFT_LIMIT_MAX	(1ULL << 60)	/* 1 EiB */
#define GOMEMGUARD_LEVELS_MAX		8	/* entries in LEVELS */
#define GOMEMGUARD_LEVEL_PCT_MAX	1000
#define GOMEMGUARD_ETA_HORIZON_MS_DEFAULT	30000
#define GOMEMGUARD_ETA_HORIZON_MS_MIN		100
#define GOMEMGUARD_ETA_HORIZON_MS_MAX		86400000
/*
 * A tag that names no RATE_WINDOW_MS gets this, or half its ETA_HORIZON_MS
 * when that is longer (up to RATE_WINDOW_MS_MAX), and keeps following its
 * horizon through TAG_SET until it is given a window of its own: a forecast
 * needs history in proportion to how far ahead it looks -- 5 s of a Go
 * heap, two or three collections, say little about the next 30.
 */
#define GOMEMGUARD_RATE_WINDOW_MS_DEFAULT	5000
#define GOMEMGUARD_RATE_WINDOW_MS_MIN		200
#define GOMEMGUARD_RATE_WINDOW_MS_MAX		3600000
#define GOMEMGUARD_SIGNAL_MAX		64	/* SIGRTMAX */
/* Below the lowest level by this many points of the soft limit: recovered. */
#define GOMEMGUARD_HYSTERESIS_PCT	5

/*
 * Per-process event rate limit: at most EVENT_BURST events per process in any
 * EVENT_INTERVAL_MS window; events beyond that are counted in EVENTS_DROPPED.
 */
#define GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT	1000
#define GOMEMGUARD_EVENT_INTERVAL_MS_MIN	10
#define GOMEMGUARD_EVENT_INTERVAL_MS_MAX	3600000
#define GOMEMGUARD_EVENT_BURST_DEFAULT		10
#define GOMEMGUARD_EVENT_BURST_MIN		1
#define GOMEMGUARD_EVENT_BURST_MAX		1000

enum gomemguard_cmd {
	GOMEMGUARD_CMD_UNSPEC,
	GOMEMGUARD_CMD_INFO_GET,
	GOMEMGUARD_CMD_CONFIG_SET,
	GOMEMGUARD_CMD_TAG_NEW,
	GOMEMGUARD_CMD_TAG_DEL,
	GOMEMGUARD_CMD_TAG_SET,
	GOMEMGUARD_CMD_PROC_GET,
	GOMEMGUARD_CMD_TAG_GET,
	GOMEMGUARD_CMD_EVENT,
	GOMEMGUARD_CMD_MEMCG_GET,
	GOMEMGUARD_CMD_OOM_GET,
	GOMEMGUARD_CMD_EVENTS_SUBSCRIBE,

	__GOMEMGUARD_CMD_MAX,
	GOMEMGUARD_CMD_MAX = __GOMEMGUARD_CMD_MAX - 1
};

enum gomemguard_attr {
	GOMEMGUARD_A_UNSPEC,
	GOMEMGUARD_A_PAD,		/* alignment padding for u64 */
	GOMEMGUARD_A_VERSION,		/* string: module version */
	GOMEMGUARD_A_KERNEL_RELEASE,	/* string: running kernel release */
	GOMEMGUARD_A_TAGGED,		/* u32: processes currently tagged */
	GOMEMGUARD_A_EVENTS_SENT,	/* u64: events multicast since load */
	GOMEMGUARD_A_EVENTS_DROPPED,	/* u64: events lost (rate limit, no memory) */
	GOMEMGUARD_A_EVENT_INTERVAL_MS,	/* u32: rate-limit window, ms */
	GOMEMGUARD_A_EVENT_BURST,	/* u32: events per process per window */
	GOMEMGUARD_A_PID,		/* u32: process (thread group) ID */
	GOMEMGUARD_A_CGROUP,		/* string: cgroup v2 path, e.g. "/app.slice" */
	GOMEMGUARD_A_SOFT_LIMIT,	/* u64: bytes of anon + swap */
	GOMEMGUARD_A_LEVELS,		/* binary: u32 percentages, ascending */
	GOMEMGUARD_A_ETA_HORIZON_MS,	/* u32: warn when the ETA falls below */
	GOMEMGUARD_A_SIGNAL,		/* u32: fuse signal, 0 = none */
	GOMEMGUARD_A_RATE_WINDOW_MS,	/* u32: growth-rate averaging window */
	GOMEMGUARD_A_INHERIT,		/* u8: watch forked children too */
	GOMEMGUARD_A_SOURCE,		/* u32: enum gomemguard_source */
	GOMEMGUARD_A_COMM,		/* string: task comm */
	GOMEMGUARD_A_MEMCG,		/* string: memcg path */
	GOMEMGUARD_A_MEMCG_ID,		/* u64: memcg cgroup id (inode number) */
	GOMEMGUARD_A_ANON,		/* u64: bytes, anonymous resident */
	GOMEMGUARD_A_SWAP,		/* u64: bytes, anonymous swapped out */
	GOMEMGUARD_A_SHMEM,		/* u64: bytes, shmem/tmpfs mapped */
	GOMEMGUARD_A_FILE,		/* u64: bytes, file pages mapped */
	GOMEMGUARD_A_HWM,		/* u64: high-water mark of anon + swap */
	GOMEMGUARD_A_RATE,		/* s64: anon + swap growth, bytes/s */
	GOMEMGUARD_A_ETA_MS,		/* u64: time to ETA_LIMIT; absent: none */
	GOMEMGUARD_A_ETA_LIMIT,		/* u32: enum gomemguard_limit */
	GOMEMGUARD_A_LEVEL_PCT,		/* u32: highest level crossed, 0 = none */
	GOMEMGUARD_A_USAGE_PCT,		/* u32: anon + swap, % of SOFT_LIMIT */
	GOMEMGUARD_A_MEMCG_USAGE,	/* u64: memcg memory.current, bytes */
	GOMEMGUARD_A_MEMCG_MAX,		/* u64: memory.max; absent: unlimited */
	GOMEMGUARD_A_MEMCG_HIGH,	/* u64: memory.high; absent: unlimited */
	GOMEMGUARD_A_EVENT,		/* u32: enum gomemguard_event */
	GOMEMGUARD_A_SEQ,		/* u64: global event sequence number */
	GOMEMGUARD_A_TIME_NS,		/* u64: CLOCK_BOOTTIME of the event */
	GOMEMGUARD_A_TAG_MEMBERS,	/* u32: processes a cgroup tag watches */
	GOMEMGUARD_A_SIGNALS_SENT,	/* u32: fuse signals sent */
	GOMEMGUARD_A_FIRST_WARN_NS,	/* u64: CLOCK_BOOTTIME of first WARN/ETA */
	GOMEMGUARD_A_MEMCG_ANON,	/* u64: swap-backed LRU: anon + shmem/tmpfs */
	GOMEMGUARD_A_MEMCG_FILE,	/* u64: file LRU: page cache, no shmem */
	GOMEMGUARD_A_MEMCG_SHMEM,	/* retired: never sent (see MEMCG_GET) */
	GOMEMGUARD_A_RECLAIMABLE,	/* u64: what reclaim can drop without swap */
	GOMEMGUARD_A_PINNED,		/* retired: never sent (see MEMCG_GET) */
	GOMEMGUARD_A_PRESSURE_LEVEL,	/* u32: enum gomemguard_pressure */
	GOMEMGUARD_A_PRESSURE_KIND,	/* u32: enum gomemguard_pressure_kind */
	GOMEMGUARD_A_MEMCG_EVENTS_HIGH,	/* u64: memory.events high */
	GOMEMGUARD_A_MEMCG_EVENTS_MAX,	/* u64: memory.events max */
	GOMEMGUARD_A_MEMCG_EVENTS_OOM,	/* u64: memory.events oom */
	GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL, /* u64: memory.events oom_kill */
	GOMEMGUARD_A_PSI_SOME_AVG10,	/* retired: never sent (see MEMCG_GET) */
	GOMEMGUARD_A_PSI_FULL_AVG10,	/* retired: never sent (see MEMCG_GET) */
	GOMEMGUARD_A_OOM_ID,		/* u32: post-mortem number, from 1 */
	GOMEMGUARD_A_CONSTRAINT,	/* u32: enum gomemguard_constraint */
	GOMEMGUARD_A_VICTIM_PID,	/* u32 */
	GOMEMGUARD_A_VICTIM_COMM,	/* string */
	GOMEMGUARD_A_VICTIM_TAGGED,	/* u8: the victim was watched */
	GOMEMGUARD_A_VICTIM_ANON,	/* u64: bytes at the kill */
	GOMEMGUARD_A_VICTIM_FILE,	/* u64 */
	GOMEMGUARD_A_VICTIM_SHMEM,	/* u64 */
	GOMEMGUARD_A_LEAD_MS,		/* u64: first warning to the kill */
	GOMEMGUARD_A_SNAPSHOT,		/* nest of SNAPSHOT_PROC */
	GOMEMGUARD_A_SNAPSHOT_PROC,	/* nest: PROC_GET attributes + LEAD_MS */
	GOMEMGUARD_A_OOM_REPORTS_MAX,	/* u32: post-mortems kept */
	GOMEMGUARD_A_OOM_KILLS,		/* u64: OOM kills seen since load */
	GOMEMGUARD_A_PRESSURE_MEDIUM_PCT,   /* u32: 1..100 */
	GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, /* u32: 1..100, > medium */
	GOMEMGUARD_A_HOOKS,		/* nest of HOOK */
	GOMEMGUARD_A_HOOK,		/* string: an active kernel hook */
	GOMEMGUARD_A_LIMIT_ORIGIN,	/* u32: enum gomemguard_limit_origin */
	GOMEMGUARD_A_EVENTS_OVERFLOWED,	/* u64: listeners' copies lost (socket full, no memory) */
	GOMEMGUARD_A_LISTENERS,		/* u32: sockets subscribed to events */
	GOMEMGUARD_A_OPEN_READ,		/* u8: reading needs no capability */
	GOMEMGUARD_A_MEMCG_UNEVICTABLE,	/* u64: unevictable LRU: mlock, ramfs */
	GOMEMGUARD_A_EXITS_QUIET,	/* u64: exits counted, not sent as EXIT */
	GOMEMGUARD_A_SHAPE,		/* u32: enum gomemguard_shape */
	GOMEMGUARD_A_UNFREED,		/* u64: OOM: swap-backed + unevictable left */
	GOMEMGUARD_A_MEMCG_LEAD_MS,	/* u64: OOM: the memcg's first ETA to the kill */
	GOMEMGUARD_A_RECLAIM_SCANNED,	/* u64: PRESSURE: pages reclaim scanned */
	GOMEMGUARD_A_RECLAIM_RECLAIMED,	/* u64: PRESSURE: of those, pages freed */

	__GOMEMGUARD_A_MAX,
	GOMEMGUARD_A_MAX = __GOMEMGUARD_A_MAX - 1
};

enum gomemguard_source {
	GOMEMGUARD_SOURCE_PID = 1,	/* tagged by PID */
	GOMEMGUARD_SOURCE_CGROUP,	/* member of a tagged cgroup */
	GOMEMGUARD_SOURCE_INHERIT,	/* forked by a process tagged with INHERIT */
};

/* Where a tag's SOFT_LIMIT came from, as its tagger says. */
enum gomemguard_limit_origin {
	GOMEMGUARD_ORIGIN_USER = 1,	/* given explicitly */
	GOMEMGUARD_ORIGIN_GOMEMLIMIT,	/* the Go process's GOMEMLIMIT */
	GOMEMGUARD_ORIGIN_MEMCG_MAX,	/* 90 % of its memcg's memory.max */

	__GOMEMGUARD_ORIGIN_MAX,
	GOMEMGUARD_ORIGIN_MAX = __GOMEMGUARD_ORIGIN_MAX - 1
};

enum gomemguard_limit {
	GOMEMGUARD_LIMIT_SOFT = 1,	/* the tag's soft limit */
	GOMEMGUARD_LIMIT_MEMCG_MAX,	/* memory.max of its memcg */
	GOMEMGUARD_LIMIT_MEMCG_HIGH,	/* memory.high of its memcg */
};

enum gomemguard_event {
	GOMEMGUARD_EVENT_WARN = 1,	/* LEVEL_PCT crossed upward */
	/* ETA_MS fell below the horizon; without COMM: a memcg's (see EVENT) */
	GOMEMGUARD_EVENT_ETA,
	/* back below the lowest level; without COMM: a memcg's ETA is over */
	GOMEMGUARD_EVENT_RECOVER,
	/*
	 * The process exited; final numbers.  Sent for a process tagged by
	 * PID, and for an adopted one (cgroup tag, INHERIT) only if it
	 * raised WARN or ETA; other exits are counted in EXITS_QUIET.
	 */
	GOMEMGUARD_EVENT_EXIT,
	GOMEMGUARD_EVENT_PRESSURE,	/* a memcg's pressure level or kind changed */
	GOMEMGUARD_EVENT_OOM,		/* an OOM kill touching watched processes */
};

enum gomemguard_pressure {
	GOMEMGUARD_PRESSURE_NONE,
	GOMEMGUARD_PRESSURE_LOW,	/* reclaim runs, and mostly succeeds */
	GOMEMGUARD_PRESSURE_MEDIUM,
	GOMEMGUARD_PRESSURE_CRITICAL,
};

enum gomemguard_pressure_kind {
	/* Reclaim succeeds on page cache and anon is flat: not in danger. */
	GOMEMGUARD_KIND_CACHE_CHURN = 1,
	/*
	 * Anon grows steadily while reclaim runs out of room: little
	 * reclaimable cache left, or the level MEDIUM or CRITICAL (reclaim
	 * fails on most of what it scans).  Heading for OOM.
	 */
	GOMEMGUARD_KIND_ANON_SQUEEZE,
};

enum gomemguard_constraint {
	GOMEMGUARD_CONSTRAINT_MEMCG = 1,	/* a memcg's memory.max */
	GOMEMGUARD_CONSTRAINT_GLOBAL,		/* the whole machine */
	GOMEMGUARD_CONSTRAINT_CPUSET,		/* the victim's cpuset's nodes */
	GOMEMGUARD_CONSTRAINT_MEMPOLICY,	/* a NUMA memory policy's nodes */
};

/* What a process's growth looks like over its rate window (PROC_GET SHAPE). */
enum gomemguard_shape {
	/* No sustained growth of the floor, no sawtooth: steady, or idle. */
	GOMEMGUARD_SHAPE_FLAT = 1,
	/* Watched for less than a window: too young to tell; no early ETA. */
	GOMEMGUARD_SHAPE_STARTUP,
	/* Falls back after each climb, its floor not rising: a GC'd heap. */
	GOMEMGUARD_SHAPE_SAWTOOTH,
	/* Its floor rose through the whole window: a leak, ETA and all. */
	GOMEMGUARD_SHAPE_GROWTH,
};

#endif /* _UAPI_LINUX_GOMEMGUARD_H */
