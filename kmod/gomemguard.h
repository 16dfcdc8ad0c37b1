/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the parts of gomemguard.ko.  A part that needs
 * setting up has an init/uninit pair; main.c calls them in order and unwinds
 * in reverse.
 *
 * Who calls whom, top to bottom (nothing calls up):
 *
 *   netlink.c   the family's operations
 *   hooks.c     kernel hooks, registered only while something is tagged
 *   oom.c       OOM post-mortems          pressure.c  reclaim pressure
 *   tracker.c   watched processes and cgroup tags
 *   fuse.c      who may be signalled      assess.c    the arithmetic
 *   memcg.c     memcg numbers             events.c    notifications
 *   msg.c       message builders and the family's identity
 */
#ifndef _GMG_GOMEMGUARD_H
#define _GMG_GOMEMGUARD_H

#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>

#include <uapi/linux/gomemguard.h>

struct cgroup;
struct genl_info;
struct gmg_snapshot;
struct mem_cgroup;
struct netlink_callback;
struct netlink_ext_ack;
struct pid;
struct sk_buff;

/*
 * Allocations of work items, which run when memory is short -- that is
 * when they matter -- and during OOM kills: never wait for the OOM killer,
 * never warn; a failure costs an event or a cache entry, counted.
 */
#define GMG_GFP		(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

/* Whoever set a fuse: the kill(2) rights the module may use for them. */
struct gmg_signer {
	kuid_t uid, euid;
	bool cap_kill;			/* CAP_KILL in the initial namespace */
};

/* What a tag asks for; copied into every process it brings in. */
struct gmg_settings {
	u64 soft_limit;				/* bytes of anon + swap */
	u32 levels[GOMEMGUARD_LEVELS_MAX];	/* % of soft_limit, ascending */
	u32 eta_horizon_ms;
	u32 rate_window_ms;			/* 0: gmg_rate_window_ms() */
	struct gmg_signer signer;		/* valid when signal != 0 */
	u8 nr_levels;
	u8 signal;				/* 0: no fuse */
	u8 limit_origin;			/* enum gomemguard_limit_origin */
	bool inherit;
};

/* The rate window of a tag that names none (UAPI: RATE_WINDOW_MS_DEFAULT). */
static inline u32 gmg_auto_window_ms(u32 horizon_ms)
{
	return clamp_t(u32, horizon_ms / 2, GOMEMGUARD_RATE_WINDOW_MS_DEFAULT,
		       GOMEMGUARD_RATE_WINDOW_MS_MAX);
}

/* The window in force: the tag's own, or the one its horizon gives it. */
static inline u32 gmg_rate_window_ms(const struct gmg_settings *set)
{
	return set->rate_window_ms ?: gmg_auto_window_ms(set->eta_horizon_ms);
}

/* fuse.c: the memory fuse may only do what its setter could with kill(2). */
bool gmg_fuse_signal_ok(u32 sig);
/* Netlink context: may the caller arm @sig on @task?  -EPERM with a reason. */
int gmg_fuse_check(struct task_struct *task, u32 sig,
		   struct netlink_ext_ack *extack);
void gmg_fuse_signer(struct gmg_signer *signer);
/* Any context, under rcu_read_lock(). */
bool gmg_fuse_allowed(const struct gmg_signer *signer, struct task_struct *task);
/* Send it, if @signer may (checked again: credentials change). */
bool gmg_fuse_fire(struct pid *pid, const struct gmg_settings *set);

/* memcg.c: the numbers of a memcg that decide whether it is in danger. */
#define GMG_PATH_MAX	GOMEMGUARD_PATH_MAX

struct gmg_memcg_view {
	u64 id;			/* cgroup id */
	u64 usage;		/* bytes, memory.current */
	u64 max;		/* bytes, U64_MAX when unlimited */
	u64 high;		/* bytes, U64_MAX when unlimited */
	u64 reclaimable;	/* the file LRU: reclaim drops it without swap */
	s64 rate;		/* growth of what it cannot reclaim, bytes/s */
	bool sustained;		/* ... steady over the last few seconds */
	/*
	 * Set by the tracker, per process: take the memcg's own growth into
	 * the process's ETA while the process stands still.  For a process
	 * tagged by PID (someone asked about it, and it may be what writes
	 * the tmpfs); one a cgroup tag or INHERIT brought in leaves that to
	 * the memcg's own ETA (memcg_eta.c): a shell loop's every child would
	 * say it again.
	 */
	bool fold;
};

/* Bytes on the memcg's LRU lists, its subtree's included. */
struct gmg_memcg_lru {
	u64 anon;		/* swap-backed: anon and shmem/tmpfs */
	u64 file;		/* page cache */
	u64 unevictable;	/* mlocked, ramfs, SHM_LOCKed */
};

struct gmg_memcg_full {
	struct gmg_memcg_view view;
	struct gmg_memcg_lru lru;
	u64 events_high, events_max, events_oom, events_oom_kill;
};

int gmg_memcg_init(void);
void gmg_memcg_uninit(void);
/* Process context.  @lru may be NULL. */
void gmg_memcg_read(struct mem_cgroup *memcg, struct gmg_memcg_view *v,
		    struct gmg_memcg_lru *lru);
void gmg_memcg_read_full(struct mem_cgroup *memcg, struct gmg_memcg_full *f);
void gmg_memcg_path(struct mem_cgroup *memcg, char *buf, size_t len);
/* The LRU sums of @memcg now, uncached, allocating nothing: any OOM path. */
void gmg_memcg_lru_now(struct mem_cgroup *memcg, struct gmg_memcg_lru *lru);
/* Forget memcgs nobody asked about lately (@all: every one). */
void gmg_memcg_housekeeping(bool all);

/* assess.c: numbers in, decisions out; no locking, no kernel objects. */
struct gmg_sample {
	u64 time_ns;
	u64 anon, swap, shmem, file;	/* bytes */
	struct gmg_memcg_view memcg;
};

#define GMG_RING	4

/*
 * A growth-rate estimator: see assess.c.  One per watched process: with
 * the rest of struct gmg_proc it must stay within kmalloc-512.
 */
struct gmg_growth {
	u64 ring_t[GMG_RING];		/* when each quarter's floor was seen */
	u64 ring_v[GMG_RING];		/* each quarter's floor: its lowest sample */
	u64 head_ns;			/* when the newest quarter began */
	s64 rate;			/* bytes/s of the floor over the window */
	u32 peak_kib;			/* the newest quarter's top, above its floor */
	u32 swing_kib;			/* deepest fall lately; halved each quarter */
	u32 base_kib;			/* floor held before the window, fading */
	u8 quarters;			/* begun since the history began; saturates */
	u8 ring_head;			/* the newest quarter */
	bool sustained;			/* floor grew through a whole window */
	u8 shape;			/* enum gomemguard_shape */
};

void gmg_growth_update(struct gmg_growth *g, u64 window_ns, u64 t, u64 v);

struct gmg_state {
	struct gmg_sample last;
	u64 hwm;
	struct gmg_growth growth;	/* of anon + swap */
	u64 eta_ms;			/* valid when eta_limit != 0 */
	u32 eta_limit;			/* enum gomemguard_limit, 0: none */
	u8 level;			/* levels[level - 1] crossed; 0: none */
	u8 eta_warned;			/* limit an ETA event went out for */
	bool over_soft;			/* fuse fired for this crossing */
	/*
	 * A WARN or ETA event was due at some point in this watch's life:
	 * never cleared, not even by RECOVER.  Decides whether its exit is
	 * news (tracker.c, exit_is_news()).
	 */
	bool warned;
	u64 first_warn_ns;		/* 0: never */
	u32 signals_sent;
	u64 last_signal_ns;
};

/* At most one event per level, plus ETA and RECOVER, per assessment. */
struct gmg_verdict {
	u8 nr_warn;
	u8 warn_level[GOMEMGUARD_LEVELS_MAX];	/* levels (1-based) crossed */
	bool eta;
	bool recover;
	bool fire_signal;
	bool growing;		/* it, or its memcg, grows: sample it often */
	u64 wake_bytes;		/* reassess as soon as anon + swap reaches */
};

void gmg_assess(struct gmg_state *st, const struct gmg_settings *set,
		const struct gmg_sample *s, struct gmg_verdict *v);
/* What of its memcg's growth @st's process owns: its floor's rate, or 0. */
s64 gmg_assess_own_rate(const struct gmg_state *st);

/*
 * A memcg's own forecast (memcg_eta.c): the growth of what it cannot
 * reclaim that no watched process's own growth explains.
 */
struct gmg_memcg_state {
	struct gmg_growth growth;	/* of usage - reclaimable */
	u64 last_ns;			/* the last assessment; 0: none */
	s64 owner_rate;			/* fastest watched process lately */
	u64 owner_ns;			/* ... seen then */
	u64 eta_ms;			/* valid when eta_limit != 0 */
	u32 eta_limit;			/* enum gomemguard_limit, 0: none */
	u8 eta_warned;			/* limit an ETA event went out for */
	bool owned;			/* a watched process explains the growth */
	u64 first_warn_ns;		/* 0: no ETA since the last RECOVER */
	s64 warn_rate;			/* the rate the last ETA event had */
	u64 episode_ns;			/* first_warn_ns of the last episode */
	u64 recover_ns;			/* ... and when it ended; 0: ongoing */
};

struct gmg_memcg_verdict {
	bool eta;
	bool recover;
};

/* A watched process in the memcg grows at @rate (gmg_assess_own_rate()). */
void gmg_assess_memcg_owner(struct gmg_memcg_state *st, s64 rate, u64 now);
void gmg_assess_memcg(struct gmg_memcg_state *st, u32 horizon_ms,
		      u32 window_ms, const struct gmg_memcg_view *m, u64 now,
		      struct gmg_memcg_verdict *v);
u32 gmg_usage_pct(const struct gmg_state *st, const struct gmg_settings *set);
/* The fuse was due but did not go: its setter may not signal the process. */
void gmg_assess_unsent(struct gmg_state *st);

/* A point-in-time copy of one process's state, for events and dumps. */
struct gmg_snapshot {
	pid_t pid;
	u32 source;
	char comm[TASK_COMM_LEN];
	char memcg_path[GMG_PATH_MAX];
	char cgroup_path[GMG_PATH_MAX];	/* the tag's, for SOURCE_CGROUP */
	struct gmg_settings set;
	struct gmg_state st;
};

/* msg.c: messages of the family, for replies, dumps and events alike. */
extern struct genl_family gmg_family;
/* Start a message of the family; NULL when out of room. */
void *gmg_genlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		      u8 cmd);
int gmg_put_u64(struct sk_buff *skb, int type, u64 v);
/* @pid false: leave the PID out (the reader cannot see it). */
int gmg_fill_proc(struct sk_buff *skb, const struct gmg_snapshot *snap,
		  bool pid);
int gmg_fill_settings(struct sk_buff *skb, const struct gmg_settings *set);
/* MEMCG, MEMCG_ID, usage, limits and the LRU split. */
int gmg_fill_memcg(struct sk_buff *skb, const char *path,
		   const struct gmg_memcg_view *v, const struct gmg_memcg_lru *lru);

/* events.c: notifications, their sequence numbers and rate limit. */
struct gmg_event_limit {
	u32 interval_ms;
	u32 burst;
};

struct gmg_ratelimit {
	u64 start_ns;
	u32 count;
};

int gmg_events_init(void);
void gmg_events_uninit(void);
u64 gmg_events_sent(void);
u64 gmg_events_dropped(void);
u64 gmg_events_overflowed(void);
u32 gmg_events_listeners(void);
struct gmg_event_limit gmg_events_limit(void);
void gmg_events_set_limit(const u32 *interval_ms, const u32 *burst);
/* Send one event about @snap unless @rl says this process has had enough. */
void gmg_event_send(u32 type, const struct gmg_snapshot *snap,
		    struct gmg_ratelimit *rl);
/* Adds what an event is about; @pids false: without any PID. */
typedef int (*gmg_event_fill_t)(struct sk_buff *skb, const void *arg, bool pids);
/* 0, or -ENOMEM when no message of @size could be had (event dropped). */
int gmg_event_send_fill(u32 type, u64 when, size_t size, gmg_event_fill_t fill,
			const void *arg, struct gmg_ratelimit *rl);
/* The same in messages allocated beforehand: @pre[1] with PIDs, [0] without. */
int gmg_event_send_pre(u32 type, u64 when, size_t size, gmg_event_fill_t fill,
		       const void *arg, struct gmg_ratelimit *rl,
		       struct sk_buff **pre);
int gmg_events_subscribe(struct sk_buff *skb, struct genl_info *info);
/* Listeners and events exist only between these. */
int gmg_events_open(void);
void gmg_events_close(void);

/* tracker.c: the watched processes. */
u32 gmg_tracker_count(void);
u32 gmg_tracker_cgroup_tags(void);
/* Exits of adopted processes that never warned: counted, not sent. */
u64 gmg_tracker_quiet_exits(void);
int gmg_tracker_init(void);
void gmg_tracker_uninit(void);
int gmg_tag_pid(pid_t nr, const struct gmg_settings *set,
		struct netlink_ext_ack *extack);
int gmg_tag_cgroup(const char *path, const struct gmg_settings *set,
		   struct netlink_ext_ack *extack);
int gmg_untag_pid(pid_t nr, struct netlink_ext_ack *extack);
int gmg_untag_cgroup(const char *path, struct netlink_ext_ack *extack);

/* Which settings a TAG_SET carries, and their values. */
struct gmg_update {
	struct gmg_settings val;
	bool soft_limit, levels, eta_horizon, signal, rate_window, inherit;
	bool limit_origin;
};

int gmg_set_pid(pid_t nr, const struct gmg_update *u,
		struct netlink_ext_ack *extack);
int gmg_set_cgroup(const char *path, const struct gmg_update *u,
		   struct netlink_ext_ack *extack);
/* Dumps resume after the key in cb->args[0] and flag a changed set. */
int gmg_tracker_dump_procs(struct sk_buff *skb, struct netlink_callback *cb);
int gmg_tracker_get_proc(pid_t nr, struct genl_info *info);
int gmg_tracker_dump_tags(struct sk_buff *skb, struct netlink_callback *cb);
int gmg_tracker_dump_memcgs(struct sk_buff *skb, struct netlink_callback *cb);

/*
 * What an OOM probe holds of a watched process until process context names
 * it: a snapshot's paths come from cgroup_path(), whose lock sleeps on
 * PREEMPT_RT.
 */
struct gmg_peek {
	struct mem_cgroup *memcg;	/* referenced, or NULL */
	struct cgroup *cgrp;		/* its cgroup tag's, referenced, or NULL */
};

/* Any context, under rcu_read_lock(): @snap without its paths, and @peek. */
bool gmg_tracker_peek(struct pid *pid, struct gmg_snapshot *snap,
		      struct gmg_peek *peek);
/* Process context: @snap's paths; lets go of @peek. */
void gmg_tracker_peek_done(struct gmg_snapshot *snap, struct gmg_peek *peek);
int gmg_tracker_snapshot_memcg(struct mem_cgroup *memcg, struct pid *skip,
			       struct gmg_snapshot **out, int max);
/* The OOM killer is busy: bring the next sample forward (quiet ones skip). */
void gmg_tracker_sample_soon(void);

/* Hooks call these: atomic context, no allocation, no sleeping. */
void gmg_tracker_rss_changed(struct mm_struct *mm);
void gmg_tracker_forked(struct task_struct *parent, struct task_struct *child);
void gmg_tracker_exited(struct task_struct *task);
void gmg_tracker_execed(struct task_struct *task);
void gmg_tracker_attached(struct cgroup *dst, struct task_struct *task);

/* memcg_eta.c: memcg-level ETAs, for growth no watched process owns. */
/* From a watched process's work: process context.  @own: its own rate. */
void gmg_memcg_eta_track(struct mem_cgroup *memcg,
			 const struct gmg_memcg_view *v,
			 const struct gmg_memcg_lru *lru,
			 const struct gmg_settings *set, s64 own);
/* The earliest first ETA of @memcg or below in force at @kill_ns; 0: none. */
u64 gmg_memcg_eta_first_warn(struct mem_cgroup *memcg, u64 kill_ns);
void gmg_memcg_eta_housekeeping(bool all);
void gmg_memcg_eta_uninit(void);

/* pressure.c: reclaim pressure per memcg. */
int gmg_pressure_init(void);
void gmg_pressure_uninit(void);
int gmg_pressure_hooks_on(void);
void gmg_pressure_hooks_off(void);
/* From the sampler: @memcg holds a watched process; @growing: one grows. */
void gmg_pressure_track(struct mem_cgroup *memcg,
			const struct gmg_memcg_view *v,
			const struct gmg_memcg_lru *lru, bool growing);
u32 gmg_pressure_level(u64 memcg_id);
void gmg_pressure_housekeeping(bool all);
void gmg_pressure_thresholds(u32 *medium, u32 *critical);
void gmg_pressure_set_thresholds(u32 medium, u32 critical);
int gmg_pressure_fill_hooks(struct sk_buff *skb);

/* oom.c: OOM post-mortems. */
struct gmg_oom_report;

int gmg_oom_init(void);
void gmg_oom_uninit(void);
int gmg_oom_hooks_on(void);
/* With no oom:mark_victim probe running any more. */
void gmg_oom_hooks_off(void);
/* hooks.c's oom:mark_victim probe: atomic context, @task's task_lock held. */
void gmg_oom_victim_marked(struct task_struct *task);
u64 gmg_oom_kills_seen(void);
u32 gmg_oom_reports_max(void);
void gmg_oom_set_reports_max(u32 max);
/* @pids false: the reader is outside the initial PID namespace. */
int gmg_oom_dump(struct sk_buff *skb, struct netlink_callback *cb, bool pids);
int gmg_oom_fill_hooks(struct sk_buff *skb);
/* The dump buffer one post-mortem of GOMEMGUARD_OOM_SNAPSHOT_MAX needs. */
size_t gmg_oom_msg_size(void);

/* hooks.c: the kernel hooks, registered only while something is tagged. */
int gmg_hooks_init(void);
void gmg_hooks_uninit(void);
/*
 * Around a command that tags: the hooks are registered (@cgroup: the
 * cgroup-attach tracepoint as well) before it and stay so until put.
 * Netlink context: may sleep.
 */
int gmg_hooks_get(bool cgroup, struct netlink_ext_ack *extack);
void gmg_hooks_put(void);
/* Add a HOOK attribute per registered hook. */
int gmg_hooks_fill(struct sk_buff *skb);

/* netlink.c: the generic-netlink family, the only control surface. */
int gmg_netlink_init(void);
void gmg_netlink_uninit(void);

#endif /* _GMG_GOMEMGUARD_H */
