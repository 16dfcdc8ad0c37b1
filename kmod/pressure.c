// SPDX-License-Identifier: GPL-2.0
/*
 * Reclaim pressure per memcg, from the kernel's own vmpressure() signal:
 * of the pages reclaim scanned on behalf of a memcg, how many it failed to
 * free.  A kprobe on vmpressure() (there is no tracepoint) adds up scanned
 * and reclaimed for the memcgs that hold watched processes; every
 * GMG_PRESSURE_WIN scanned pages -- the kernel's vmpressure window -- work
 * turns them into a level, and a change of level is an event.  So is a
 * change of kind at the same level (below).
 *
 * The event says what kind of pressure it is: reclaim that keeps succeeding
 * on page cache while anon stays flat ("cache churn": busy, not in danger),
 * or anon growing while reclaim runs out of room ("anon squeeze": the road
 * to an OOM kill; kind_of()).
 *
 * Entries are keyed by cgroup ID and hold no reference to the memcg: the
 * sampler refreshes each one's numbers and path whenever it samples a
 * watched process there, and the event reports those.  A removed memcg's
 * entry only waits to be pruned; it never keeps the memcg alive.
 */
#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/kprobes.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "gomemguard.h"

/* SWAP_CLUSTER_MAX * 16, as vmpressure_win. */
#define GMG_PRESSURE_WIN	512
/* No reclaim for this long: the pressure is over. */
#define GMG_PRESSURE_QUIET	(5 * HZ)
/* A level is reported at most this often per memcg. */
#define GMG_PRESSURE_MIN_GAP	HZ
/* An entry no watched process was seen in for this long is dropped. */
#define GMG_PRESSURE_IDLE	(60 * HZ)
/* A watched process there grew this recently: anon grows. */
#define GMG_PRESSURE_GROWING	(2 * HZ)
/* Cache below this share of usage: little left to reclaim. */
#define GMG_SQUEEZE_PCT		10

struct gmg_pressure {
	struct hlist_node node;		/* gmg_pressure_tab, RCU */
	u64 id;				/* the memcg's cgroup ID */
	atomic_long_t scanned, reclaimed;
	unsigned long last_reclaim;	/* jiffies */
	unsigned long last_event;	/* jiffies */
	u32 level, kind;		/* reported; under gmg_pressure_lock */
	spinlock_t lock;		/* what the sampler saw, below */
	unsigned long last_used;	/* jiffies: last watched process seen */
	unsigned long last_growing;	/* jiffies */
	struct gmg_memcg_view view;
	struct gmg_memcg_lru lru;
	char path[GMG_PATH_MAX];
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(gmg_pressure_tab, 6);
static DEFINE_MUTEX(gmg_pressure_lock);
static struct work_struct gmg_pressure_work;
static u32 gmg_medium = GOMEMGUARD_PRESSURE_MEDIUM_DEFAULT;
static u32 gmg_critical = GOMEMGUARD_PRESSURE_CRITICAL_DEFAULT;
static bool gmg_kprobe_usable, gmg_kprobe_on;

void gmg_pressure_thresholds(u32 *medium, u32 *critical)
{
	*medium = READ_ONCE(gmg_medium);
	*critical = READ_ONCE(gmg_critical);
}

void gmg_pressure_set_thresholds(u32 medium, u32 critical)
{
	WRITE_ONCE(gmg_medium, medium);
	WRITE_ONCE(gmg_critical, critical);
}

static struct gmg_pressure *lookup(u64 id)
{
	struct gmg_pressure *p;

	hash_for_each_possible_rcu(gmg_pressure_tab, p, node, id,
				   lockdep_is_held(&gmg_pressure_lock))
		if (p->id == id)
			return p;
	return NULL;
}

/* The sampler, for every memcg holding a watched process: process context. */
void gmg_pressure_track(struct mem_cgroup *memcg,
			const struct gmg_memcg_view *v,
			const struct gmg_memcg_lru *lru, bool growing)
{
	struct gmg_pressure *p;

	rcu_read_lock();
	p = lookup(v->id);
	if (p) {
		spin_lock(&p->lock);
		p->last_used = jiffies;
		if (growing)
			p->last_growing = jiffies;
		p->view = *v;
		p->lru = *lru;
		spin_unlock(&p->lock);
	}
	rcu_read_unlock();
	if (p)
		return;
	p = kzalloc(sizeof(*p), GMG_GFP);
	if (!p)
		return;
	p->id = v->id;
	spin_lock_init(&p->lock);
	p->last_used = jiffies;
	p->last_growing = growing ? jiffies : jiffies - GMG_PRESSURE_GROWING - 1;
	p->view = *v;
	p->lru = *lru;
	gmg_memcg_path(memcg, p->path, sizeof(p->path));
	mutex_lock(&gmg_pressure_lock);
	if (!lookup(v->id)) {
		hash_add_rcu(gmg_pressure_tab, &p->node, p->id);
		p = NULL;
	}
	mutex_unlock(&gmg_pressure_lock);
	kfree(p);
}

u32 gmg_pressure_level(u64 memcg_id)
{
	struct gmg_pressure *p;
	u32 level = GOMEMGUARD_PRESSURE_NONE;

	rcu_read_lock();
	p = lookup(memcg_id);
	if (p)
		level = READ_ONCE(p->level);
	rcu_read_unlock();
	return level;
}

/* ---- the probe: reclaim context, add and go ---- */

static int gmg_vmpressure_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct mem_cgroup *memcg;
	unsigned long scanned;
	struct gmg_pressure *p;

	/* vmpressure(gfp, [order,] memcg, tree, scanned, reclaimed): tree
	 * is the signal for the memcg whose limit is being reclaimed against.
	 */
	if (!regs_get_kernel_argument(regs, GMG_VMPRESSURE_ARG_TREE))
		return 0;
	memcg = (struct mem_cgroup *)regs_get_kernel_argument(regs, GMG_VMPRESSURE_ARG_MEMCG);
	scanned = regs_get_kernel_argument(regs, GMG_VMPRESSURE_ARG_SCANNED);
	if (!memcg || !scanned)
		return 0;
	rcu_read_lock();
	p = lookup(cgroup_id(memcg->css.cgroup));
	if (p) {
		atomic_long_add(regs_get_kernel_argument(regs, GMG_VMPRESSURE_ARG_RECLAIMED),
				&p->reclaimed);
		WRITE_ONCE(p->last_reclaim, jiffies);
		if (atomic_long_add_return(scanned, &p->scanned) >= GMG_PRESSURE_WIN)
			queue_work(system_unbound_wq, &gmg_pressure_work);
	}
	rcu_read_unlock();
	return 0;
}

static struct kprobe gmg_vmpressure_kprobe;

static void kprobe_reset(void)
{
	/* A kprobe is registered again only from a clean slate. */
	memset(&gmg_vmpressure_kprobe, 0, sizeof(gmg_vmpressure_kprobe));
	gmg_vmpressure_kprobe.symbol_name = "vmpressure";
	gmg_vmpressure_kprobe.pre_handler = gmg_vmpressure_pre;
}

/* ---- the work: levels and events ---- */

struct gmg_pressure_event {
	char path[GMG_PATH_MAX];
	struct gmg_memcg_view view;
	struct gmg_memcg_lru lru;
	u32 level, kind;
	/* The window whose share set the level; 0 scanned: none behind it. */
	unsigned long scanned, reclaimed;
};

static int gmg_fill_pressure(struct sk_buff *skb, const void *arg, bool pids)
{
	const struct gmg_pressure_event *e = arg;

	if (gmg_fill_memcg(skb, e->path, &e->view, &e->lru) ||
	    nla_put_u32(skb, GOMEMGUARD_A_PRESSURE_LEVEL, e->level) ||
	    (e->level != GOMEMGUARD_PRESSURE_NONE &&
	     nla_put_u32(skb, GOMEMGUARD_A_PRESSURE_KIND, e->kind)) ||
	    (e->scanned &&
	     (gmg_put_u64(skb, GOMEMGUARD_A_RECLAIM_SCANNED, e->scanned) ||
	      gmg_put_u64(skb, GOMEMGUARD_A_RECLAIM_RECLAIMED, e->reclaimed))))
		return -EMSGSIZE;
	return 0;
}

/*
 * Under p->lock: what kind of pressure @level is, from the sampler's
 * numbers.  A squeeze is anon growing while reclaim runs out of room: little
 * cache left to reclaim, or reclaim failing on most of what it scans.  The
 * latter matters: page cache the reclaimer cannot take fast enough (young
 * MGLRU generations, pages under I/O) does not count as room, and a memcg
 * can be killed with a sixth of it still cache.  Cache churn is reclaim
 * with anon flat, however hard -- a reader's own writeback can fail it --
 * and so is a garbage-collected heap's sawtooth, whose growth is never
 * sustained.
 */
static u32 kind_of(const struct gmg_pressure *p, u32 level)
{
	bool growing = time_before(jiffies, p->last_growing + GMG_PRESSURE_GROWING);
	bool little = p->view.reclaimable * 100 < p->view.usage * GMG_SQUEEZE_PCT;

	return growing && (little || level >= GOMEMGUARD_PRESSURE_MEDIUM) ?
	       GOMEMGUARD_KIND_ANON_SQUEEZE : GOMEMGUARD_KIND_CACHE_CHURN;
}

/*
 * Under gmg_pressure_lock.  @scanned, @reclaimed: the window that gave
 * @level, said in the event; 0 scanned when no window is behind it.
 */
static void gmg_pressure_report(struct gmg_pressure *p, u32 level,
				unsigned long scanned, unsigned long reclaimed)
{
	struct gmg_pressure_event *e = kmalloc(sizeof(*e), GMG_GFP);
	u32 kind;

	spin_lock(&p->lock);
	kind = kind_of(p, level);
	if (e) {
		memcpy(e->path, p->path, sizeof(e->path));
		e->view = p->view;
		e->lru = p->lru;
		e->level = level;
		e->kind = kind;
		e->scanned = scanned;
		e->reclaimed = reclaimed;
	}
	spin_unlock(&p->lock);
	p->level = level;
	p->kind = kind;
	p->last_event = jiffies;
	gmg_event_send_fill(GOMEMGUARD_EVENT_PRESSURE, 0, NLMSG_GOODSIZE,
			    gmg_fill_pressure, e, NULL);
	kfree(e);
}

static u32 level_of(unsigned long scanned, unsigned long reclaimed)
{
	unsigned long pct;
	u32 medium, critical;

	gmg_pressure_thresholds(&medium, &critical);
	pct = reclaimed >= scanned ? 0 : (scanned - reclaimed) * 100 / scanned;
	if (pct >= critical)
		return GOMEMGUARD_PRESSURE_CRITICAL;
	if (pct >= medium)
		return GOMEMGUARD_PRESSURE_MEDIUM;
	return GOMEMGUARD_PRESSURE_LOW;
}

static void gmg_pressure_workfn(struct work_struct *w)
{
	unsigned long scanned, reclaimed;
	struct gmg_pressure *p;
	u32 level, kind;
	int bkt;

	mutex_lock(&gmg_pressure_lock);
	hash_for_each(gmg_pressure_tab, bkt, p, node) {
		if (atomic_long_read(&p->scanned) < GMG_PRESSURE_WIN)
			continue;
		scanned = atomic_long_xchg(&p->scanned, 0);
		reclaimed = atomic_long_xchg(&p->reclaimed, 0);
		level = level_of(scanned, reclaimed);
		spin_lock(&p->lock);
		kind = kind_of(p, level);
		spin_unlock(&p->lock);
		/*
		 * Changes only, and not more often than once a second.  Cache
		 * churn turning into an anon squeeze at the same level is a
		 * change: reclaim still succeeds, on less and less cache, on
		 * the way to an OOM kill.
		 */
		if ((level != p->level ||
		     (level != GOMEMGUARD_PRESSURE_NONE && kind != p->kind)) &&
		    time_after(jiffies, p->last_event + GMG_PRESSURE_MIN_GAP))
			gmg_pressure_report(p, level, scanned, reclaimed);
	}
	mutex_unlock(&gmg_pressure_lock);
}

/* From the sampler: pressure that stopped, and memcgs nobody watches. */
void gmg_pressure_housekeeping(bool all)
{
	struct gmg_pressure *p;
	struct hlist_node *tmp;
	bool idle;
	int bkt;

	mutex_lock(&gmg_pressure_lock);
	hash_for_each_safe(gmg_pressure_tab, bkt, tmp, p, node) {
		if (!all && p->level != GOMEMGUARD_PRESSURE_NONE &&
		    time_after(jiffies, READ_ONCE(p->last_reclaim) + GMG_PRESSURE_QUIET))
			gmg_pressure_report(p, GOMEMGUARD_PRESSURE_NONE, 0, 0);
		spin_lock(&p->lock);
		idle = time_after(jiffies, p->last_used + GMG_PRESSURE_IDLE);
		spin_unlock(&p->lock);
		if (all || idle) {
			hash_del_rcu(&p->node);
			kfree_rcu(p, rcu);
		}
	}
	mutex_unlock(&gmg_pressure_lock);
}

/* Under the hooks' lock. */
int gmg_pressure_fill_hooks(struct sk_buff *skb)
{
	if (gmg_kprobe_on && nla_put_string(skb, GOMEMGUARD_A_HOOK, "kprobe:vmpressure"))
		return -EMSGSIZE;
	return 0;
}

/* hooks.c, when something is tagged. */
int gmg_pressure_hooks_on(void)
{
	int err;

	if (!gmg_kprobe_usable)
		return 0;
	kprobe_reset();
	err = register_kprobe(&gmg_vmpressure_kprobe);
	if (err)
		pr_warn("kprobe on vmpressure failed (%d): no pressure events\n", err);
	gmg_kprobe_on = !err;
	return 0;
}

/* hooks.c, when nothing is tagged any more. */
void gmg_pressure_hooks_off(void)
{
	if (gmg_kprobe_on)
		unregister_kprobe(&gmg_vmpressure_kprobe);
	gmg_kprobe_on = false;
	cancel_work_sync(&gmg_pressure_work);
}

int gmg_pressure_init(void)
{
	int err;

	INIT_WORK(&gmg_pressure_work, gmg_pressure_workfn);
	/* See oom.c: a kprobe target is checked at load, and let go. */
	kprobe_reset();
	err = register_kprobe(&gmg_vmpressure_kprobe);
	if (err) {
		pr_warn("kprobe on vmpressure unavailable (%d): no pressure events\n", err);
	} else {
		unregister_kprobe(&gmg_vmpressure_kprobe);
		gmg_kprobe_usable = true;
	}
	return 0;
}

void gmg_pressure_uninit(void)
{
	cancel_work_sync(&gmg_pressure_work);
	gmg_pressure_housekeeping(true);
	rcu_barrier();
}
