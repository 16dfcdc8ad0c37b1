// SPDX-License-Identifier: GPL-2.0
/*
 * The memcg side of the picture: how full a process's memory cgroup is, and
 * how much of that the kernel could drop without an OOM kill.
 *
 * Everything is read from the kernel's own structures, never from cgroupfs
 * files: a module that mounts cgroup2 re-applies its (empty) mount options
 * to the one cgroup2 superblock in the initial namespace -- nsdelegate and
 * memory_recursiveprot gone for the whole host -- and file I/O from kernel
 * code has no business here anyway.  The statistics behind memory.stat are
 * private since 6.x, but two things are public on every supported kernel:
 *
 *  - the page counters: usage, memory.max, memory.high;
 *  - the sizes of the memcg's LRU lists, per node and zone: the classic
 *    lru_zone_size[][] *and* the multi-gen LRU's lrugen.nr_pages[][][],
 *    which does not update the former (Debian's 6.12 runs MGLRU by default,
 *    its 6.1 builds it in, off).  Every folio is on exactly one of them.
 *
 * The LRU of a memcg holds its own pages, not its children's: the numbers
 * of a memcg are summed over its subtree, as usage is.  The swap-backed LRU
 * holds anon *and* shmem/tmpfs pages -- which is where they belong here:
 * without swap, reclaim cannot take either.  What reclaim can drop is the
 * file LRU.  What usage holds beyond the LRUs is kernel memory.
 *
 * Summing a large subtree costs microseconds, and every watched process of
 * the memcg asks at every sample, so the sums are kept per memcg for
 * GMG_LRU_TTL.  The cache is keyed by cgroup ID and holds no reference:
 * a removed cgroup's entry only waits to be pruned.
 */
#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/page_counter.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/xarray.h>

#include "gomemguard.h"

/* Sums this old are taken again: the hot sampling period. */
#define GMG_LRU_TTL		(100 * NSEC_PER_MSEC)
/* An entry nobody asked about for this long is dropped. */
#define GMG_STAT_IDLE		(60 * NSEC_PER_SEC)
/* How fast what the memcg cannot reclaim grows: a steady, short view. */
#define GMG_MEMCG_WINDOW	(2 * NSEC_PER_SEC)

struct gmg_memcg_stat {
	spinlock_t lock;		/* the fields below */
	u64 read_ns;			/* sums taken; 0: never */
	u64 used_ns;			/* last asked for */
	struct gmg_memcg_lru lru;
	struct gmg_growth growth;	/* of usage - reclaimable */
	struct rcu_head rcu;
};

static DEFINE_XARRAY(gmg_stats);	/* cgroup ID -> struct gmg_memcg_stat */

/* Pages, summed over @memcg's subtree, every node and zone, both LRUs. */
static void lru_sizes(struct mem_cgroup *memcg, struct gmg_memcg_lru *out)
{
	long anon = 0, file = 0, unevictable = 0;
	struct cgroup_subsys_state *css;
	struct mem_cgroup_per_node *mz;
	int nid, z, gen;

	rcu_read_lock();
	css_for_each_descendant_pre(css, &memcg->css) {
		struct mem_cgroup *m = mem_cgroup_from_css(css);

		for_each_node(nid) {
			mz = m->nodeinfo[nid];
			for (z = 0; z < MAX_NR_ZONES; z++) {
				anon += READ_ONCE(mz->lru_zone_size[z][LRU_INACTIVE_ANON]) +
					READ_ONCE(mz->lru_zone_size[z][LRU_ACTIVE_ANON]);
				file += READ_ONCE(mz->lru_zone_size[z][LRU_INACTIVE_FILE]) +
					READ_ONCE(mz->lru_zone_size[z][LRU_ACTIVE_FILE]);
				unevictable +=
					READ_ONCE(mz->lru_zone_size[z][LRU_UNEVICTABLE]);
				/* Briefly negative entries are fine: only sums count. */
				for (gen = 0; gen < GMG_LRU_GENS; gen++) {
					anon += gmg_lrugen_pages(&mz->lruvec, gen,
								 false, z);
					file += gmg_lrugen_pages(&mz->lruvec, gen,
								 true, z);
				}
			}
		}
	}
	rcu_read_unlock();
	out->anon = (u64)max(anon, 0L) << PAGE_SHIFT;
	out->file = (u64)max(file, 0L) << PAGE_SHIFT;
	out->unevictable = (u64)max(unevictable, 0L) << PAGE_SHIFT;
}

/* An entry for @id, unless there is one or no memory for it. */
static void stat_create(u64 id)
{
	struct gmg_memcg_stat *st = kzalloc(sizeof(*st), GMG_GFP);

	if (!st)
		return;
	spin_lock_init(&st->lock);
	if (xa_cmpxchg(&gmg_stats, id, NULL, st, GMG_GFP))
		kfree(st);
}

/* Process context: may sleep.  @lru may be NULL. */
void gmg_memcg_read(struct mem_cgroup *memcg, struct gmg_memcg_view *v,
		    struct gmg_memcg_lru *lru)
{
	u64 now = ktime_get_boottime_ns();
	struct gmg_memcg_lru sums = {};
	struct gmg_memcg_stat *st;
	unsigned long max, high;
	bool stale;

	memset(v, 0, sizeof(*v));
	v->id = cgroup_id(memcg->css.cgroup);
	v->usage = (u64)page_counter_read(&memcg->memory) << PAGE_SHIFT;
	max = READ_ONCE(memcg->memory.max);
	high = READ_ONCE(memcg->memory.high);
	v->max = max == PAGE_COUNTER_MAX ? U64_MAX : (u64)max << PAGE_SHIFT;
	v->high = high == PAGE_COUNTER_MAX ? U64_MAX : (u64)high << PAGE_SHIFT;
	/*
	 * The root is not charged (its usage reads 0) and has no limits:
	 * summing the whole machine's LRUs would say nothing.
	 */
	if (!memcg->css.parent)
		goto out;

	if (!xa_load(&gmg_stats, v->id))
		stat_create(v->id);
	/* Pruning frees an entry a grace period after taking it out. */
	rcu_read_lock();
	st = xa_load(&gmg_stats, v->id);
	if (!st) {
		/* No memory for the cache: sum now, and know no rate. */
		rcu_read_unlock();
		lru_sizes(memcg, &sums);
		goto out;
	}
	spin_lock(&st->lock);
	st->used_ns = now;
	stale = !st->read_ns || now - st->read_ns >= GMG_LRU_TTL;
	spin_unlock(&st->lock);
	if (stale)
		lru_sizes(memcg, &sums);
	spin_lock(&st->lock);
	if (stale && now > st->read_ns) {
		st->read_ns = now;
		st->lru = sums;
		gmg_growth_update(&st->growth, GMG_MEMCG_WINDOW, now,
				  v->usage - min(v->usage, sums.file));
	}
	sums = st->lru;
	v->rate = st->growth.rate;
	v->sustained = st->growth.sustained;
	spin_unlock(&st->lock);
	rcu_read_unlock();
out:
	v->reclaimable = min(sums.file, v->usage);
	if (lru)
		*lru = sums;
}

/* The full picture, for MEMCG_GET and pressure events: process context. */
void gmg_memcg_read_full(struct mem_cgroup *memcg, struct gmg_memcg_full *f)
{
	memset(f, 0, sizeof(*f));
	gmg_memcg_read(memcg, &f->view, &f->lru);
	f->events_high = atomic_long_read(&memcg->memory_events[MEMCG_HIGH]);
	f->events_max = atomic_long_read(&memcg->memory_events[MEMCG_MAX]);
	f->events_oom = atomic_long_read(&memcg->memory_events[MEMCG_OOM]);
	f->events_oom_kill = atomic_long_read(&memcg->memory_events[MEMCG_OOM_KILL]);
}

void gmg_memcg_lru_now(struct mem_cgroup *memcg, struct gmg_memcg_lru *lru)
{
	lru_sizes(memcg, lru);
}

/* @memcg may be NULL (task gone): "?". */
void gmg_memcg_path(struct mem_cgroup *memcg, char *buf, size_t len)
{
	if (!memcg || cgroup_path(memcg->css.cgroup, buf, len) < 0)
		strscpy(buf, "?", len);
}

/* From the sampler: forget memcgs nobody asked about lately (@all: all). */
void gmg_memcg_housekeeping(bool all)
{
	u64 now = ktime_get_boottime_ns();
	struct gmg_memcg_stat *st;
	unsigned long id;
	bool idle;

	xa_for_each(&gmg_stats, id, st) {
		spin_lock(&st->lock);
		/* Signed: a user may have stamped it after @now was read. */
		idle = (s64)(now - st->used_ns) > (s64)GMG_STAT_IDLE;
		spin_unlock(&st->lock);
		if (all || idle) {
			xa_erase(&gmg_stats, id);
			kfree_rcu(st, rcu);
		}
	}
}

int gmg_memcg_init(void)
{
	if (mem_cgroup_disabled()) {
		pr_err("the memory cgroup controller is disabled (cgroup_disable=memory)\n");
		return -ENODEV;
	}
	/*
	 * A cgroup v1 or hybrid host has the controller on a v1 hierarchy:
	 * no memory.high, no v2 events, limits in other files.  Every figure
	 * would be wrong, silently: refuse, saying what is needed.
	 */
	if (!cgroup_subsys_on_dfl(memory_cgrp_subsys)) {
		pr_err("the memory controller is on a cgroup v1 hierarchy; gomemguard needs it on the unified hierarchy (cgroup v2: boot with systemd.unified_cgroup_hierarchy=1)\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

void gmg_memcg_uninit(void)
{
	gmg_memcg_housekeeping(true);
	/* kfree_rcu() of the entries. */
	rcu_barrier();
}
