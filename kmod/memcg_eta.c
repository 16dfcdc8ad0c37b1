// SPDX-License-Identifier: GPL-2.0
/*
 * Memcg-level forecasts: an ETA event about a memcg, without a process,
 * when what it cannot reclaim grows and no watched process's own growth
 * explains it -- a shell loop writing into tmpfs, shmem segments, mlocked
 * or ramfs pages, processes nobody tagged.  Killing any one process there
 * frees next to nothing: the warning and the post-mortem (oom.c) are the
 * memcg's.  The arithmetic is assess.c's (gmg_assess_memcg()).
 *
 * Which memcgs: those holding a watched process, assessed from that
 * process's own work item right after its sample -- nothing runs, nothing
 * is kept, while nothing is tagged, and a memcg nobody watches costs
 * nothing.  At most once per GMG_MCG_PERIOD per memcg, however many
 * watched processes it holds: the memcg's numbers (memcg.c) are cached as
 * long.  While anything there grows its processes are sampled every 100 ms
 * (tracker.c), so the memcg is too.
 *
 * Which settings: the longest ETA horizon and rate window among the tags of
 * the processes seen there lately -- the memcg is everybody's, and the one
 * who asked for the earliest warning should get it.
 *
 * Entries are keyed by cgroup ID and hold no reference to the memcg; a
 * removed memcg's entry only waits to be pruned.  Each has a mutex: every
 * user is process context (work items), and the event is sent under it so
 * that its rate limit and its state agree.
 */
#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/xarray.h>
#include <net/genetlink.h>

#include "gomemguard.h"

/* A memcg is assessed at most this often: memcg.c's cache period. */
#define GMG_MCG_PERIOD		(90 * NSEC_PER_MSEC)
/* Settings of the tags seen in the last one or two of these count. */
#define GMG_MCG_SET_NS		(2 * NSEC_PER_SEC)
/* An entry no watched process was sampled in for this long is dropped. */
#define GMG_MCG_IDLE		(60 * NSEC_PER_SEC)

struct gmg_mcg_set {
	u32 horizon_ms, window_ms;
};

struct gmg_mcg {
	u64 id;
	refcount_t ref;			/* the table's, and each user's */
	struct mutex lock;		/* everything below */
	u64 used_ns;			/* sampled there: set under @lock, read without */
	u64 set_ns;			/* when set_cur began */
	struct gmg_mcg_set set_cur, set_prev;
	struct gmg_memcg_state st;
	struct gmg_ratelimit rl;
	struct rcu_head rcu;
};

static DEFINE_XARRAY(gmg_mcgs);		/* cgroup ID -> struct gmg_mcg */

static void mcg_put(struct gmg_mcg *e)
{
	if (refcount_dec_and_test(&e->ref))
		kfree_rcu(e, rcu);
}

/* The entry of @id, referenced; @create: created when missing.  NULL: none. */
static struct gmg_mcg *mcg_get(u64 id, bool create)
{
	struct gmg_mcg *e, *old;

	rcu_read_lock();
	e = xa_load(&gmg_mcgs, id);
	if (e && !refcount_inc_not_zero(&e->ref))
		e = NULL;
	rcu_read_unlock();
	if (e || !create)
		return e;
	e = kzalloc(sizeof(*e), GMG_GFP);
	if (!e)
		return NULL;
	e->id = id;
	refcount_set(&e->ref, 2);
	mutex_init(&e->lock);
	old = xa_cmpxchg(&gmg_mcgs, id, NULL, e, GMG_GFP);
	if (old) {
		/* Created meanwhile (the next sample finds it), or no memory. */
		kfree(e);
		return NULL;
	}
	return e;
}

/* What an ETA or RECOVER event about a memcg says. */
struct gmg_mcg_event {
	char path[GMG_PATH_MAX];
	struct gmg_memcg_view view;
	struct gmg_memcg_lru lru;
	struct gmg_mcg_set set;
	s64 rate;
	u64 eta_ms, first_warn_ns;
	u32 eta_limit;
};

static int fill_mcg_event(struct sk_buff *skb, const void *arg, bool pids)
{
	const struct gmg_mcg_event *e = arg;

	if (gmg_fill_memcg(skb, e->path, &e->view, &e->lru) ||
	    nla_put_s64(skb, GOMEMGUARD_A_RATE, e->rate, GOMEMGUARD_A_PAD) ||
	    (e->eta_limit &&
	     (gmg_put_u64(skb, GOMEMGUARD_A_ETA_MS, e->eta_ms) ||
	      nla_put_u32(skb, GOMEMGUARD_A_ETA_LIMIT, e->eta_limit))) ||
	    nla_put_u32(skb, GOMEMGUARD_A_ETA_HORIZON_MS, e->set.horizon_ms) ||
	    nla_put_u32(skb, GOMEMGUARD_A_RATE_WINDOW_MS, e->set.window_ms) ||
	    (e->first_warn_ns &&
	     gmg_put_u64(skb, GOMEMGUARD_A_FIRST_WARN_NS, e->first_warn_ns)))
		return -EMSGSIZE;
	return 0;
}

/* Under e->lock. */
static void mcg_send(struct gmg_mcg *e, u32 type, struct mem_cgroup *memcg,
		     const struct gmg_memcg_view *v,
		     const struct gmg_memcg_lru *lru, u64 now)
{
	struct gmg_mcg_event *ev = kmalloc(sizeof(*ev), GMG_GFP);

	if (ev) {
		gmg_memcg_path(memcg, ev->path, sizeof(ev->path));
		ev->view = *v;
		ev->lru = *lru;
		ev->set.horizon_ms = max(e->set_cur.horizon_ms,
					 e->set_prev.horizon_ms);
		ev->set.window_ms = max(e->set_cur.window_ms,
					e->set_prev.window_ms);
		/* The memcg's own rate, not memcg.c's short view of it. */
		ev->rate = e->st.growth.rate;
		ev->eta_ms = e->st.eta_ms;
		ev->eta_limit = e->st.eta_limit;
		ev->first_warn_ns = e->st.first_warn_ns;
	}
	/* No memory for @ev: dropped, and counted as such. */
	gmg_event_send_fill(type, now, NLMSG_GOODSIZE, fill_mcg_event, ev,
			    &e->rl);
	kfree(ev);
}

void gmg_memcg_eta_track(struct mem_cgroup *memcg,
			 const struct gmg_memcg_view *v,
			 const struct gmg_memcg_lru *lru,
			 const struct gmg_settings *set, s64 own)
{
	struct gmg_memcg_verdict verdict;
	struct gmg_mcg *e;
	u32 horizon, window;
	u64 now;

	/* The root has no limits, and memcg.c no numbers for it. */
	if (!memcg || !memcg->css.parent)
		return;
	e = mcg_get(v->id, true);
	if (!e)
		return;
	mutex_lock(&e->lock);
	/*
	 * The time under the lock: the works of two processes there race
	 * for it, and the estimator's samples must come in time order.
	 */
	now = ktime_get_boottime_ns();
	WRITE_ONCE(e->used_ns, now);
	if (now - e->set_ns >= GMG_MCG_SET_NS) {
		e->set_prev = e->set_cur;
		e->set_cur = (struct gmg_mcg_set){};
		e->set_ns = now;
	}
	e->set_cur.horizon_ms = max(e->set_cur.horizon_ms, set->eta_horizon_ms);
	e->set_cur.window_ms = max(e->set_cur.window_ms, gmg_rate_window_ms(set));
	gmg_assess_memcg_owner(&e->st, own, now);
	if (!e->st.last_ns || now - e->st.last_ns >= GMG_MCG_PERIOD) {
		horizon = max(e->set_cur.horizon_ms, e->set_prev.horizon_ms);
		window = max(e->set_cur.window_ms, e->set_prev.window_ms);
		gmg_assess_memcg(&e->st, horizon, window, v, now, &verdict);
		if (verdict.eta)
			mcg_send(e, GOMEMGUARD_EVENT_ETA, memcg, v, lru, now);
		if (verdict.recover)
			mcg_send(e, GOMEMGUARD_EVENT_RECOVER, memcg, v, lru, now);
	}
	mutex_unlock(&e->lock);
	mcg_put(e);
}

/*
 * For an OOM report, in process context: the earliest first ETA among
 * @memcg and the memcgs below it -- the growth may have been a child's,
 * the limit the parent's -- of an episode in force at @kill_ns.  The kill
 * stops the growth, and the RECOVER that follows may come before the
 * report is made (~100 ms later): an episode that ended at or after the
 * kill still counts.  Under each entry's mutex: process context.
 */
u64 gmg_memcg_eta_first_warn(struct mem_cgroup *memcg, u64 kill_ns)
{
	struct cgroup_subsys_state *css;
	u64 first = 0, t, ids[16];
	struct gmg_mcg *e;
	int i, n = 0;

	if (xa_empty(&gmg_mcgs))
		return 0;
	/* The IDs first: the entries' mutexes are not taken under RCU. */
	rcu_read_lock();
	css_for_each_descendant_pre(css, &memcg->css) {
		if (xa_load(&gmg_mcgs, cgroup_id(css->cgroup)))
			ids[n++] = cgroup_id(css->cgroup);
		if (n == ARRAY_SIZE(ids))
			break;
	}
	rcu_read_unlock();
	for (i = 0; i < n; i++) {
		e = mcg_get(ids[i], false);
		if (!e)
			continue;
		mutex_lock(&e->lock);
		t = e->st.first_warn_ns;
		if (!t && e->st.recover_ns >= kill_ns)
			t = e->st.episode_ns;
		mutex_unlock(&e->lock);
		mcg_put(e);
		if (t && t <= kill_ns && (!first || t < first))
			first = t;
	}
	return first;
}

/* From the sampler: forget memcgs no watched process was seen in lately. */
void gmg_memcg_eta_housekeeping(bool all)
{
	u64 now = ktime_get_boottime_ns();
	struct gmg_mcg *e;
	unsigned long id;
	bool idle;

	xa_for_each(&gmg_mcgs, id, e) {
		/*
		 * No mutex: the sampler must not wait behind an entry's event
		 * send, and a stale time only keeps an entry a pass longer.
		 * Signed: a work item may have stamped the entry after @now
		 * was read, and that entry is in use, not an hour idle (the
		 * unsigned difference dropped busy memcgs' state mid-episode,
		 * and with it the OOM report's memcg lead).
		 */
		idle = (s64)(now - READ_ONCE(e->used_ns)) > (s64)GMG_MCG_IDLE;
		if ((all || idle) && xa_cmpxchg(&gmg_mcgs, id, e, NULL, 0) == e)
			mcg_put(e);
	}
}

void gmg_memcg_eta_uninit(void)
{
	gmg_memcg_eta_housekeeping(true);
	/* kfree_rcu() of the entries. */
	rcu_barrier();
}
