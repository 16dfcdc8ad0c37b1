// SPDX-License-Identifier: GPL-2.0
/*
 * Reclaim pressure per memcg, from the kernel's own vmpressure() signal:
 * of the pages reclaim scanned on behalf of a memcg, how many it failed to
 * free.  A kprobe on vmpressure() (there is no tracepoint) adds up scanned
 * and reclaimed for the memcgs that hold watched processes; every
 * GMG_PRESSURE_WIN scanned pages -- the kernel's vmpressure window -- work
 * turns them into a level, and a change of level is an event.
 *
 * The event says what kind of pressure it is: reclaim that keeps succeeding
 * on page cache while anon stays flat ("cache churn": busy, not in danger),
 * or little reclaimable cache left while anon grows ("anon squeeze": the
 * road to an OOM kill).
 */
#include <linux/hashtable.h>
#include <linux/kprobes.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "gomemguard.h"

/* SWAP_CLUSTER_MAX * 16, as vmpressure_win. */
#define GMG_PRESSURE_WIN	512
/* No reclaim for this long: the pressure is over. */
#define GMG_PRESSURE_QUIET	(5 * HZ)
/* A level is reported at most this often per memcg. */
#define GMG_PRESSURE_MIN_GAP	HZ
/* Cache below this share of usage: little left to reclaim. */
#define GMG_SQUEEZE_PCT		10

struct gmg_pressure {
	struct hlist_node node;		/* gmg_pressure_tab, RCU */
	struct mem_cgroup *memcg;	/* referenced */
	atomic_long_t scanned, reclaimed;
	unsigned long last_reclaim;	/* jiffies */
	unsigned long last_event;	/* jiffies */
	unsigned long last_used;	/* jiffies: last watched process seen */
	u32 level;			/* reported; under gmg_pressure_lock */
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(gmg_pressure_tab, 6);
static DEFINE_MUTEX(gmg_pressure_lock);
static struct work_struct gmg_pressure_work;
static u32 gmg_medium = GOMEMGUARD_PRESSURE_MEDIUM_DEFAULT;
static u32 gmg_critical = GOMEMGUARD_PRESSURE_CRITICAL_DEFAULT;
static bool gmg_kprobe_on;

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

static struct gmg_pressure *lookup(struct mem_cgroup *memcg)
{
	struct gmg_pressure *p;

	hash_for_each_possible_rcu(gmg_pressure_tab, p, node, (unsigned long)memcg,
				   lockdep_is_held(&gmg_pressure_lock))
		if (p->memcg == memcg)
			return p;
	return NULL;
}

/* The sampler, for every memcg holding a watched process: process context. */
void gmg_pressure_track(struct mem_cgroup *memcg)
{
	struct gmg_pressure *p;

	rcu_read_lock();
	p = lookup(memcg);
	if (p)
		WRITE_ONCE(p->last_used, jiffies);
	rcu_read_unlock();
	if (p)
		return;
	mutex_lock(&gmg_pressure_lock);
	if (!lookup(memcg)) {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (p) {
			css_get(&memcg->css);
			p->memcg = memcg;
			p->last_used = jiffies;
			hash_add_rcu(gmg_pressure_tab, &p->node, (unsigned long)memcg);
		}
	}
	mutex_unlock(&gmg_pressure_lock);
}

u32 gmg_pressure_level(struct mem_cgroup *memcg)
{
	struct gmg_pressure *p;
	u32 level = GOMEMGUARD_PRESSURE_NONE;

	rcu_read_lock();
	p = lookup(memcg);
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

	/* vmpressure(gfp, memcg, tree, scanned, reclaimed): tree is the
	 * signal for the memcg whose limit is being reclaimed against.
	 */
	if (!regs_get_kernel_argument(regs, 2))
		return 0;
	memcg = (struct mem_cgroup *)regs_get_kernel_argument(regs, 1);
	scanned = regs_get_kernel_argument(regs, 3);
	if (!memcg || !scanned)
		return 0;
	rcu_read_lock();
	p = lookup(memcg);
	if (p) {
		atomic_long_add(regs_get_kernel_argument(regs, 4), &p->reclaimed);
		WRITE_ONCE(p->last_reclaim, jiffies);
		if (atomic_long_add_return(scanned, &p->scanned) >= GMG_PRESSURE_WIN)
			queue_work(system_unbound_wq, &gmg_pressure_work);
	}
	rcu_read_unlock();
	return 0;
}

static struct kprobe gmg_vmpressure_kprobe = {
	.symbol_name = "vmpressure",
	.pre_handler = gmg_vmpressure_pre,
};

/* ---- the work: levels and events ---- */

struct gmg_pressure_event {
	char path[GMG_PATH_MAX];
	struct gmg_memcg_full full;
	u32 level, kind;
};

static int gmg_fill_pressure(struct sk_buff *skb, const void *arg, bool pids)
{
	const struct gmg_pressure_event *e = arg;
	const struct gmg_memcg_view *v = &e->full.view;

	if (nla_put_string(skb, GOMEMGUARD_A_MEMCG, e->path) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_MEMCG_ID, v->id, GOMEMGUARD_A_PAD) ||
	    nla_put_u32(skb, GOMEMGUARD_A_PRESSURE_LEVEL, e->level) ||
	    (e->level != GOMEMGUARD_PRESSURE_NONE &&
	     nla_put_u32(skb, GOMEMGUARD_A_PRESSURE_KIND, e->kind)) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_MEMCG_USAGE, v->usage, GOMEMGUARD_A_PAD) ||
	    (v->max != U64_MAX &&
	     nla_put_u64_64bit(skb, GOMEMGUARD_A_MEMCG_MAX, v->max, GOMEMGUARD_A_PAD)) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_MEMCG_ANON, e->full.anon, GOMEMGUARD_A_PAD) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_RECLAIMABLE, v->reclaimable,
			      GOMEMGUARD_A_PAD) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_PINNED, e->full.pinned, GOMEMGUARD_A_PAD))
		return -EMSGSIZE;
	return 0;
}

static void gmg_pressure_report(struct gmg_pressure *p, u32 level)
{
	struct gmg_pressure_event *e = kmalloc(sizeof(*e), GFP_KERNEL);

	p->level = level;
	p->last_event = jiffies;
	if (e) {
		gmg_memcg_read_full(p->memcg, &e->full);
		gmg_memcg_path(p->memcg, e->path, sizeof(e->path));
		e->level = level;
		e->kind = e->full.view.reclaimable * 100 <
			  e->full.view.usage * GMG_SQUEEZE_PCT &&
			  gmg_tracker_memcg_growing(p->memcg) ?
			  GOMEMGUARD_KIND_ANON_SQUEEZE : GOMEMGUARD_KIND_CACHE_CHURN;
	}
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
	u32 level;
	int bkt;

	mutex_lock(&gmg_pressure_lock);
	hash_for_each(gmg_pressure_tab, bkt, p, node) {
		if (atomic_long_read(&p->scanned) < GMG_PRESSURE_WIN)
			continue;
		scanned = atomic_long_xchg(&p->scanned, 0);
		reclaimed = atomic_long_xchg(&p->reclaimed, 0);
		level = level_of(scanned, reclaimed);
		/* Changes only, and not more often than once a second. */
		if (level != p->level &&
		    time_after(jiffies, p->last_event + GMG_PRESSURE_MIN_GAP))
			gmg_pressure_report(p, level);
	}
	mutex_unlock(&gmg_pressure_lock);
}

/* From the sampler: pressure that stopped, and memcgs nobody watches. */
void gmg_pressure_housekeeping(void)
{
	struct gmg_pressure *p;
	struct hlist_node *tmp;
	int bkt;

	mutex_lock(&gmg_pressure_lock);
	hash_for_each_safe(gmg_pressure_tab, bkt, tmp, p, node) {
		if (p->level != GOMEMGUARD_PRESSURE_NONE &&
		    time_after(jiffies, READ_ONCE(p->last_reclaim) + GMG_PRESSURE_QUIET))
			gmg_pressure_report(p, GOMEMGUARD_PRESSURE_NONE);
		if (time_after(jiffies, READ_ONCE(p->last_used) + 60 * HZ)) {
			hash_del_rcu(&p->node);
			css_put(&p->memcg->css);
			kfree_rcu(p, rcu);
		}
	}
	mutex_unlock(&gmg_pressure_lock);
}

int gmg_pressure_fill_hooks(struct sk_buff *skb)
{
	if (gmg_kprobe_on && nla_put_string(skb, GOMEMGUARD_A_HOOK, "kprobe:vmpressure"))
		return -EMSGSIZE;
	return 0;
}

int gmg_pressure_init(void)
{
	int err;

	INIT_WORK(&gmg_pressure_work, gmg_pressure_workfn);
	err = register_kprobe(&gmg_vmpressure_kprobe);
	if (err)
		pr_warn("kprobe on vmpressure unavailable (%d): no pressure events\n", err);
	gmg_kprobe_on = !err;
	return 0;
}

void gmg_pressure_uninit(void)
{
	struct gmg_pressure *p;
	struct hlist_node *tmp;
	int bkt;

	if (gmg_kprobe_on)
		unregister_kprobe(&gmg_vmpressure_kprobe);
	cancel_work_sync(&gmg_pressure_work);
	hash_for_each_safe(gmg_pressure_tab, bkt, tmp, p, node) {
		hash_del_rcu(&p->node);
		css_put(&p->memcg->css);
		kfree_rcu(p, rcu);
	}
	rcu_barrier();
}
