/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the parts of gomemguard.ko.  A part that needs
 * setting up has an init/uninit pair; main.c calls them in order and unwinds
 * in reverse.
 */
#ifndef _GMG_GOMEMGUARD_H
#define _GMG_GOMEMGUARD_H

#include <linux/sched.h>
#include <linux/types.h>

#include <uapi/linux/gomemguard.h>

struct genl_info;
struct gmg_proc;
struct gmg_snapshot;
struct mem_cgroup;
struct netlink_ext_ack;
struct sk_buff;

/* What a tag asks for; copied into every process it brings in. */
struct gmg_settings {
	u64 soft_limit;				/* bytes of anon + swap */
	u32 levels[GOMEMGUARD_LEVELS_MAX];	/* % of soft_limit, ascending */
	u32 eta_horizon_ms;
	u32 rate_window_ms;
	u8 nr_levels;
	u8 signal;				/* 0: no fuse */
	u8 limit_origin;			/* enum gomemguard_limit_origin */
	bool inherit;
};

/* memcg.c: the numbers of a memcg that decide whether it is in danger. */
#define GMG_PATH_MAX	GOMEMGUARD_PATH_MAX

struct gmg_memcg_view {
	u64 id;			/* cgroup id */
	u64 usage;		/* bytes, memory.current */
	u64 max;		/* bytes, U64_MAX when unlimited */
	u64 high;		/* bytes, U64_MAX when unlimited */
	u64 reclaimable;	/* clean, unmapped file cache, bytes */
	s64 rate;		/* growth of what it cannot reclaim, bytes/s */
	bool sustained;		/* ... steady over the last few seconds */
};

struct gmg_memcg_full {
	struct gmg_memcg_view view;
	u64 anon, file, shmem, pinned;		/* bytes */
	u64 events_high, events_max, events_oom, events_oom_kill;
	int psi_some, psi_full;			/* avg10, 1/100 %; -1: unknown */
};

int gmg_memcg_init(void);
void gmg_memcg_uninit(void);
void gmg_memcg_read(struct mem_cgroup *memcg, struct gmg_memcg_view *v);
void gmg_memcg_read_full(struct mem_cgroup *memcg, struct gmg_memcg_full *f);
void gmg_memcg_path(struct mem_cgroup *memcg, char *buf, size_t len);
/* Periodically, from the sampler: forget memcgs nobody asks about. */
void gmg_memcg_housekeeping(void);

/* assess.c: numbers in, decisions out; no locking, no kernel objects. */
struct gmg_sample {
	u64 time_ns;
	u64 anon, swap, shmem, file;	/* bytes */
	struct gmg_memcg_view memcg;
};

#define GMG_RING	4

/* A growth-rate estimator: see assess.c. */
struct gmg_growth {
	u64 ring_t[GMG_RING], ring_v[GMG_RING];
	u8 ring_len, ring_head;		/* head: the newest entry */
	bool sustained;			/* grew in every quarter of the window */
	s64 rate;			/* bytes/s over the window */
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
u32 gmg_usage_pct(const struct gmg_state *st, const struct gmg_settings *set);

/* tracker.c: the watched processes. */
u32 gmg_tracker_count(void);
int gmg_tracker_init(void);
void gmg_tracker_uninit(void);
int gmg_tag_pid(pid_t nr, const struct gmg_settings *set,
		struct netlink_ext_ack *extack);
int gmg_tag_cgroup(const char *path, const struct gmg_settings *set,
		   struct netlink_ext_ack *extack);
int gmg_untag_pid(pid_t nr, struct netlink_ext_ack *extack);
int gmg_untag_cgroup(const char *path, struct netlink_ext_ack *extack);
/* @apply changes the settings in place; it must not sleep. */
int gmg_set_pid(pid_t nr, void (*apply)(struct gmg_settings *, const void *),
		const void *arg, struct netlink_ext_ack *extack);
int gmg_set_cgroup(const char *path,
		   void (*apply)(struct gmg_settings *, const void *),
		   const void *arg, struct netlink_ext_ack *extack);
/* Fill one PROC_GET message per process from *@pos on; -EMSGSIZE: full. */
int gmg_tracker_dump_procs(struct sk_buff *skb, u32 portid, u32 seq,
			   unsigned long *pos);
int gmg_tracker_get_proc(pid_t nr, struct genl_info *info);
int gmg_tracker_dump_tags(struct sk_buff *skb, u32 portid, u32 seq,
			  unsigned long *pos);

bool gmg_tracker_peek(struct pid *pid, struct gmg_snapshot *snap);
int gmg_tracker_snapshot_memcg(struct mem_cgroup *memcg, struct pid *skip,
			       struct gmg_snapshot *out, int max);
/* Distinct memcgs of watched processes, each css-referenced. */
int gmg_tracker_memcgs(struct mem_cgroup **out, int max);
void gmg_tracker_sample_now(void);
/* Does a watched process in @memcg grow steadily? */
bool gmg_tracker_memcg_growing(struct mem_cgroup *memcg);

/* Hooks call these: atomic context, no allocation, no sleeping. */
void gmg_tracker_rss_changed(struct mm_struct *mm);
void gmg_tracker_forked(struct task_struct *parent, struct task_struct *child);
void gmg_tracker_exited(struct task_struct *task);
void gmg_tracker_execed(struct task_struct *task);
void gmg_tracker_attached(struct cgroup *dst, struct task_struct *task);

/* hooks.c: the kernel tracepoints gomemguard listens to. */
int gmg_hooks_init(void);
void gmg_hooks_uninit(void);
/* Add a HOOK attribute per active hook. */
int gmg_hooks_fill(struct sk_buff *skb);

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

/* pressure.c: reclaim pressure per memcg. */
int gmg_pressure_init(void);
void gmg_pressure_uninit(void);
void gmg_pressure_track(struct mem_cgroup *memcg);
u32 gmg_pressure_level(struct mem_cgroup *memcg);
void gmg_pressure_housekeeping(void);
void gmg_pressure_thresholds(u32 *medium, u32 *critical);
void gmg_pressure_set_thresholds(u32 medium, u32 critical);
int gmg_pressure_fill_hooks(struct sk_buff *skb);

/* oom.c: OOM post-mortems. */
struct gmg_oom_report;

/* A full snapshot of long paths fits: OOM events and each OOM_GET message. */
#define GMG_OOM_MSG_SIZE	32768

int gmg_oom_init(void);
void gmg_oom_uninit(void);
u64 gmg_oom_kills_seen(void);
u32 gmg_oom_reports_max(void);
void gmg_oom_set_reports_max(u32 max);
int gmg_fill_oom(struct sk_buff *skb, const struct gmg_oom_report *r,
		 bool pids);
/* @pids false: the reader is outside the initial PID namespace. */
int gmg_oom_dump(struct sk_buff *skb, u32 portid, u32 seq, unsigned long *pos,
		 bool pids);
int gmg_oom_fill_hooks(struct sk_buff *skb);

/* netlink.c: the generic-netlink family, the only control surface. */
int gmg_netlink_init(void);
void gmg_netlink_uninit(void);
/* Start a message of the family; NULL when out of room. */
void *gmg_genlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		      u8 cmd);
/* @pid false: leave the PID out (the reader cannot see it). */
int gmg_fill_proc(struct sk_buff *skb, const struct gmg_snapshot *snap,
		  bool pid);
int gmg_fill_settings(struct sk_buff *skb, const struct gmg_settings *set);

/* events.c: notifications, their sequence numbers and rate limit. */
struct gmg_event_limit {
	u32 interval_ms;
	u32 burst;
};

struct gmg_ratelimit {
	u64 start_ns;
	u32 count;
};

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
void gmg_event_send_fill(u32 type, u64 when, size_t size, gmg_event_fill_t fill,
			 const void *arg, struct gmg_ratelimit *rl);
int gmg_events_subscribe(struct sk_buff *skb, struct genl_info *info);
/* Listeners and events exist only between these. */
int gmg_events_open(void);
void gmg_events_close(void);

#endif /* _GMG_GOMEMGUARD_H */
