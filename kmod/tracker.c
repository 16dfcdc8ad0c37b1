// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker owns every watched process and every cgroup tag.
 *
 * Identity is a struct pid reference, never a bare number, because PIDs are
 * reused.  The probe on the page-fault path finds a process by its mm: one
 * bit of a filter for the mms we do not watch (nearly all), an RCU hash
 * table for the ones we do, and then it compares two numbers and at most
 * queues the process's work item.  Everything else -- sampling, assessment,
 * events, signals, adopting children and cgroup members -- runs from work
 * items, and none of it under gmg_lock but the changes of the tables.
 *
 * Lifetimes: a process is unhashed under gmg_lock, and freed by its own
 * work item once a grace period has passed: then no probe can see it any
 * more, or queue that work item again.
 * An mm it stops watching (exec) is dropped a grace period later, so that
 * RCU readers may read counters through p->mm.  A cgroup tag holds its
 * cgroup while the tag exists, is reference-counted by the processes it
 * brought in, and ends when the cgroup is removed.  A process holds its
 * memcg (for the numbers and the reports) only until a sample finds it
 * elsewhere or the memcg dying; nothing here outlives a removed cgroup.
 */
#include <linux/cgroup.h>
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/jump_label.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/page_counter.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "gomemguard.h"

#define GMG_HASH_BITS		12
/*
 * The untagged fast path: one bit per hash of an mm, set while some
 * watched process has an mm of that hash.  At 10,000 tagged processes
 * 4 % of the bits are set (32 KiB), against 91 % of 4,096 hash buckets:
 * an untagged process's page faults then almost never enter RCU or walk
 * a chain.  The hash table's bucket is the filter hash's top bits, so the
 * processes sharing a filter bit share a bucket.
 */
#define GMG_FILTER_BITS		18
/*
 * Processes that grow, or whose memcg does, are sampled every
 * GMG_HOT_PERIOD: their rate and ETA, the memcg's too (a tmpfs writer's
 * anon does not move, so no fault wakes it), are never more than that
 * late.  Every GMG_HOT_PER_SAMPLE of those periods (1 s), every other
 * process that is not quiet is sampled, even when nothing fires.
 */
#define GMG_HOT_PERIOD		msecs_to_jiffies(100)
#define GMG_HOT_PER_SAMPLE	10
/*
 * A process found quiet -- nothing pending, no ETA -- is sampled again only
 * when its anon + swap or its memcg's usage moved, or after GMG_QUIET_NS;
 * each sample that finds its anon + swap where the last one left them
 * doubles that, up to GMG_QUIET_MAX_SHIFT times (80 s), and each process
 * adds up to half of it again (proc_still_quiet()).  Idle processes are most
 * of a fleet's tags: 10,000 of them cost 10,000 work items a second sampled
 * every second, 1,000 every 10 s, and about 100 a second once they stayed
 * idle a few minutes -- the 1 s pass that looks at each of them remains.
 * Any move of its pages or its memcg has a process sampled in the next
 * 1 s pass, and its growth wakes it from the fault probe.
 */
#define GMG_QUIET_NS		(10 * NSEC_PER_SEC)
#define GMG_QUIET_MAX_SHIFT	3
/* While a process grows, the probe wakes an assessment at most this often. */
#define GMG_EVAL_INTERVAL	msecs_to_jiffies(100)
/*
 * Forks and cgroup moves are adopted in batches, this long after the first
 * one: a fork storm costs one walk of the process list per batch instead
 * of one per child, and a child gone within the delay -- most of a
 * fork+exec+exit storm -- is never added at all.  Nothing it did is lost:
 * a tag starts from the usage it finds.
 */
#define GMG_ADOPT_DELAY		msecs_to_jiffies(10)
#define GMG_ADOPT_BATCH		64
/* Batches per adoption run: bounded, whatever fails to be added. */
#define GMG_ADOPT_ROUNDS	64
/* Memcgs per MEMCG_GET dump round. */
#define GMG_MEMCG_DUMP_BATCH	16

#ifdef GMG_DEBUG
/*
 * Debug builds only (GMG_DEBUG=y): widen the window in which a hook stands
 * on a cgroup tag, so that a race with its removal shows in a test.
 */
static unsigned int gmg_debug_reader_delay_us;
module_param_named(debug_reader_delay_us, gmg_debug_reader_delay_us, uint, 0644);
MODULE_PARM_DESC(debug_reader_delay_us,
		 "debug: busy-wait this long on each cgroup tag a hook looks at");
#define gmg_debug_reader_delay()					\
	do {								\
		unsigned int us = READ_ONCE(gmg_debug_reader_delay_us);	\
		if (us)							\
			udelay(us);					\
	} while (0)

/*
 * And the window between TAG_NEW reading a process's mm and watching it,
 * so that an exec inside it shows in a test.
 */
static unsigned int gmg_debug_tag_delay_ms;
module_param_named(debug_tag_delay_ms, gmg_debug_tag_delay_ms, uint, 0644);
MODULE_PARM_DESC(debug_tag_delay_ms,
		 "debug: sleep this long in TAG_NEW between reading the mm and watching it");
#define gmg_debug_tag_delay()	msleep(READ_ONCE(gmg_debug_tag_delay_ms))
#else
#define gmg_debug_reader_delay()	do { } while (0)
#define gmg_debug_tag_delay()		do { } while (0)
#endif

struct gmg_cgtag {
	struct list_head node;		/* gmg_cgtags; RCU for the hooks */
	struct cgroup *cgrp;		/* referenced */
	u64 id;				/* dump key, ascending in the list */
	struct gmg_settings set;	/* under gmg_lock */
	u32 members;			/* under gmg_lock */
	bool removed;			/* under gmg_lock: off the list */
	refcount_t ref;			/* the list's, and one per member */
	struct rcu_head rcu;
};

enum {
	GMG_PROC_EXITED,	/* its last thread is gone */
	GMG_PROC_EXECED,	/* it has a new mm */
	GMG_PROC_DEAD,		/* unhashed; waiting to be freed */
	GMG_PROC_HOT,		/* growing: sampled every GMG_HOT_PERIOD */
	GMG_PROC_FREEABLE,	/* dead a grace period: its work frees it */
};

struct gmg_proc {
	struct hlist_node mm_node;	/* gmg_by_mm */
	struct hlist_node pid_node;	/* gmg_by_pid */
	struct list_head node;		/* gmg_procs, by id */
	struct pid *pid;		/* thread-group ID, referenced */
	struct mm_struct *mm;		/* mmgrab()ed: counters stay readable */
	struct gmg_cgtag *cgtag;	/* referenced; NULL for a PID tag */
	struct mem_cgroup *memcg;	/* at the last sample, referenced */
	u64 id;				/* dump key */
	/* Anon + swap, approximate, at the sample: only compared for a move. */
	u32 quiet_pages;
	u8 quiet_shift;			/* GMG_QUIET_NS << this: unmoved */
	char comm[TASK_COMM_LEN];	/* at the last sample: exit reports it */
	u32 source;			/* enum gomemguard_source */
	/*
	 * Settings and state.  Raw: the OOM probes copy them (oom.c) where
	 * nothing may sleep, and on PREEMPT_RT a spinlock_t does.  Every
	 * section under it is a copy or gmg_assess()'s arithmetic -- short,
	 * bounded, no allocation, no other lock -- and a raw lock keeps
	 * struct gmg_proc in kmalloc-512 there too (an RT spinlock_t is 32
	 * bytes).
	 */
	raw_spinlock_t lock;
	unsigned long flags;
	unsigned long next_eval;	/* jiffies */
	u64 wake_bytes;			/* probe wakes an assessment at */
	struct work_struct work;	/* sampling, assessing; at last, freeing */
	struct rcu_head rcu;
	struct gmg_ratelimit rl;	/* only touched by work */
	struct gmg_settings set;
	struct gmg_state st;
};

static DEFINE_HASHTABLE(gmg_by_mm, GMG_HASH_BITS);
static DEFINE_HASHTABLE(gmg_by_pid, GMG_HASH_BITS);
static DECLARE_BITMAP(gmg_mm_filter, 1 << GMG_FILTER_BITS);
static LIST_HEAD(gmg_procs);
static LIST_HEAD(gmg_cgtags);
/* Serialises every change of the tables, the lists and the cgroup tags. */
static DEFINE_MUTEX(gmg_lock);
static atomic_t gmg_nr_procs = ATOMIC_INIT(0);
static atomic_t gmg_nr_cgtags = ATOMIC_INIT(0);
/* Exits counted instead of sent: see exit_is_news(). */
static atomic64_t gmg_quiet_exits = ATOMIC64_INIT(0);
/* Under gmg_lock: the next dump keys. */
static u64 gmg_next_proc_id = 1, gmg_next_tag_id = 1;
/* Bumped by every change of the sets: a dump across one is flagged. */
static atomic_t gmg_gen = ATOMIC_INIT(1);
/* Off while nothing is tagged: the hooks then cost a patched-out branch. */
static DEFINE_STATIC_KEY_FALSE(gmg_active);

static struct workqueue_struct *gmg_wq;
static struct delayed_work gmg_sampler;
/* Some process turned hot since the sampler last looked. */
static bool gmg_hot_seen;
/* The next sampler run is a full pass. */
static bool gmg_full_soon;
/* jiffies: the sampler's next full pass; only the sampler touches it. */
static unsigned long gmg_next_full;
static struct delayed_work gmg_adopt_work;

u32 gmg_tracker_count(void)
{
	return atomic_read(&gmg_nr_procs);
}

u32 gmg_tracker_cgroup_tags(void)
{
	return atomic_read(&gmg_nr_cgtags);
}

u64 gmg_tracker_quiet_exits(void)
{
	return atomic64_read(&gmg_quiet_exits);
}

static bool anything_tagged(void)
{
	return atomic_read(&gmg_nr_procs) || atomic_read(&gmg_nr_cgtags);
}

static void sampler_start(void)
{
	queue_delayed_work(gmg_wq, &gmg_sampler, GMG_HOT_PERIOD);
}

/* Caller holds rcu_read_lock() or gmg_lock. */
static struct gmg_proc *proc_by_pid(struct pid *pid)
{
	struct gmg_proc *p;

	hash_for_each_possible_rcu(gmg_by_pid, p, pid_node, (unsigned long)pid,
				   lockdep_is_held(&gmg_lock))
		if (p->pid == pid)
			return p;
	return NULL;
}

/*
 * Caller holds rcu_read_lock() or gmg_lock.  A tag being removed may still
 * be seen here by a reader that stood on it: list_del_rcu() leaves its
 * next pointer intact, so the walk goes on; whoever acts on the tag
 * checks ->removed under gmg_lock.
 */
static struct gmg_cgtag *cgtag_covering(struct cgroup *cgrp)
{
	struct gmg_cgtag *tag;

	list_for_each_entry_rcu(tag, &gmg_cgtags, node,
				lockdep_is_held(&gmg_lock)) {
		gmg_debug_reader_delay();
		if (cgroup_is_descendant(cgrp, tag->cgrp))
			return tag;
	}
	return NULL;
}

static void cgtag_put(struct gmg_cgtag *tag)
{
	if (refcount_dec_and_test(&tag->ref)) {
		cgroup_put(tag->cgrp);
		kfree_rcu(tag, rcu);
	}
}

/* ---- the mm filter, under gmg_lock ---- */

static void filter_add(struct mm_struct *mm)
{
	__set_bit(hash_ptr(mm, GMG_FILTER_BITS), gmg_mm_filter);
}

/* @mm no longer names @p; clear its bit unless another process shares it. */
static void filter_del(struct gmg_proc *p, struct mm_struct *mm)
{
	u32 bit = hash_ptr(mm, GMG_FILTER_BITS);
	struct gmg_proc *q;

	hash_for_each_possible(gmg_by_mm, q, mm_node, (unsigned long)mm)
		if (q != p && hash_ptr(q->mm, GMG_FILTER_BITS) == bit)
			return;
	__clear_bit(bit, gmg_mm_filter);
}

/* ---- hooks: atomic context, no allocation ---- */

void gmg_tracker_rss_changed(struct mm_struct *mm)
{
	struct gmg_proc *p;
	u64 used;

	if (!static_branch_unlikely(&gmg_active))
		return;
	/*
	 * Most mms are not watched: say so with one bit, without an RCU
	 * read-side section (two calls on a preemptible-RCU kernel) on every
	 * page fault.  A process tagged a moment ago may miss this one
	 * change; its first sample sees it.
	 */
	if (!test_bit(hash_ptr(mm, GMG_FILTER_BITS), gmg_mm_filter))
		return;
	rcu_read_lock();
	hash_for_each_possible_rcu(gmg_by_mm, p, mm_node, (unsigned long)mm) {
		if (READ_ONCE(p->mm) != mm)
			continue;
		used = (u64)(get_mm_counter(mm, MM_ANONPAGES) +
			     get_mm_counter(mm, MM_SWAPENTS)) << PAGE_SHIFT;
		if (used >= READ_ONCE(p->wake_bytes) ||
		    time_after(jiffies, READ_ONCE(p->next_eval)))
			queue_work(gmg_wq, &p->work);
		break;
	}
	rcu_read_unlock();
}

/* Would the adoption walk take @task, whose parent is @parent? */
static bool adoption_wanted(struct task_struct *parent, struct task_struct *task)
{
	struct gmg_proc *p;
	bool adopt;

	rcu_read_lock();
	p = proc_by_pid(task_tgid(parent));
	adopt = (p && READ_ONCE(p->set.inherit)) ||
		(atomic_read(&gmg_nr_cgtags) &&
		 cgtag_covering(task_dfl_cgroup(task)));
	rcu_read_unlock();
	return adopt;
}

void gmg_tracker_forked(struct task_struct *parent, struct task_struct *child)
{
	if (!static_branch_unlikely(&gmg_active))
		return;
	/* A new thread joins a process already watched as a whole. */
	if (child->tgid == parent->tgid)
		return;
	if (adoption_wanted(parent, child))
		queue_delayed_work(gmg_wq, &gmg_adopt_work, GMG_ADOPT_DELAY);
}

void gmg_tracker_attached(struct cgroup *dst, struct task_struct *task)
{
	struct gmg_proc *p;
	bool adopt;

	if (!static_branch_unlikely(&gmg_active))
		return;
	rcu_read_lock();
	p = proc_by_pid(task_tgid(task));
	/* Watched: it may have left its tag's cgroup; its sample will say. */
	if (p)
		queue_work(gmg_wq, &p->work);
	adopt = !p && cgtag_covering(dst);
	rcu_read_unlock();
	if (adopt)
		queue_delayed_work(gmg_wq, &gmg_adopt_work, GMG_ADOPT_DELAY);
}

/* Returns whether @task's process is watched. */
static bool flag_proc(struct task_struct *task, int bit)
{
	struct gmg_proc *p;

	rcu_read_lock();
	p = proc_by_pid(task_tgid(task));
	if (p) {
		set_bit(bit, &p->flags);
		queue_work(gmg_wq, &p->work);
	}
	rcu_read_unlock();
	return p;
}

void gmg_tracker_exited(struct task_struct *task)
{
	if (!static_branch_unlikely(&gmg_active))
		return;
	/* Only the last thread out ends the process. */
	if (atomic_read(&task->signal->live))
		return;
	flag_proc(task, GMG_PROC_EXITED);
}

void gmg_tracker_execed(struct task_struct *task)
{
	struct task_struct *parent;
	bool adopt;

	if (!static_branch_unlikely(&gmg_active))
		return;
	if (flag_proc(task, GMG_PROC_EXECED))
		return;
	/* A vfork() child the adoption walk left alone has a memory now. */
	rcu_read_lock();
	parent = rcu_dereference(task->real_parent);
	adopt = adoption_wanted(parent, task);
	rcu_read_unlock();
	if (adopt)
		queue_delayed_work(gmg_wq, &gmg_adopt_work, GMG_ADOPT_DELAY);
}

/* ---- adding and removing ---- */

/* What gmg_proc_alloc() took, given back: @p was never published. */
static void gmg_proc_destroy(struct gmg_proc *p)
{
	if (p->cgtag)
		cgtag_put(p->cgtag);
	if (p->memcg)
		css_put(&p->memcg->css);
	mmdrop(p->mm);
	put_pid(p->pid);
	kfree(p);
}

/*
 * A grace period after the process was unhashed: nothing can find it, so
 * nothing but this queues its work item again -- which frees it, after any
 * run already under way (a work item never runs twice at once).
 */
static void gmg_proc_rcu_done(struct rcu_head *rcu)
{
	struct gmg_proc *p = container_of(rcu, struct gmg_proc, rcu);

	set_bit(GMG_PROC_FREEABLE, &p->flags);
	queue_work(gmg_wq, &p->work);
}

static void gmg_proc_work(struct work_struct *w);

/*
 * A process of @task, not yet watched: everything that may sleep or
 * allocate, done before gmg_lock.  @tag (referenced) becomes the
 * process's on success.  @gfp: GFP_KERNEL for a command, GMG_GFP for work.
 */
static struct gmg_proc *gmg_proc_alloc(struct task_struct *task, u32 source,
				       const struct gmg_settings *set,
				       struct gmg_cgtag *tag, gfp_t gfp)
{
	struct mm_struct *mm;
	struct gmg_proc *p;

	/* What a tag costs: one kmalloc-512 object (lock debugging aside). */
	BUILD_BUG_ON(!IS_ENABLED(CONFIG_DEBUG_SPINLOCK) &&
		     !IS_ENABLED(CONFIG_DEBUG_LOCK_ALLOC) && sizeof(*p) > 512);
	mm = get_task_mm(task);
	if (!mm)
		return ERR_PTR(-ESRCH);
	p = kzalloc(sizeof(*p), gfp);
	if (!p) {
		mmput(mm);
		return ERR_PTR(-ENOMEM);
	}
	mmgrab(mm);
	mmput(mm);
	p->mm = mm;
	p->pid = get_task_pid(task, PIDTYPE_TGID);
	p->source = source;
	p->cgtag = tag;
	p->set = *set;
	get_task_comm(p->comm, task);
	p->wake_bytes = 0;		/* assess at the first fault */
	p->next_eval = jiffies;
	raw_spin_lock_init(&p->lock);
	INIT_WORK(&p->work, gmg_proc_work);
	return p;
}

/* Watch @p.  Caller holds gmg_lock and has checked it is not watched. */
static void gmg_proc_insert(struct gmg_proc *p)
{
	lockdep_assert_held(&gmg_lock);
	if (p->cgtag)
		p->cgtag->members++;
	p->id = gmg_next_proc_id++;
	hash_add_rcu(gmg_by_pid, &p->pid_node, (unsigned long)p->pid);
	hash_add_rcu(gmg_by_mm, &p->mm_node, (unsigned long)p->mm);
	filter_add(p->mm);
	list_add_tail_rcu(&p->node, &gmg_procs);
	atomic_inc(&gmg_nr_procs);
	atomic_inc(&gmg_gen);
	static_branch_inc(&gmg_active);
	/*
	 * An exec between gmg_proc_alloc()'s get_task_mm() and now found
	 * nothing to flag: p->mm may be the mm the exec threw away, whose
	 * counters never move again -- a tag that never warns.  Any exec
	 * from here on is flagged by the hook; for one before, the first
	 * run of the work item checks.
	 */
	set_bit(GMG_PROC_EXECED, &p->flags);
	queue_work(gmg_wq, &p->work);
	sampler_start();
}

static void gmg_proc_remove(struct gmg_proc *p)
{
	lockdep_assert_held(&gmg_lock);
	if (test_and_set_bit(GMG_PROC_DEAD, &p->flags))
		return;
	hash_del_rcu(&p->pid_node);
	hash_del_rcu(&p->mm_node);
	filter_del(p, p->mm);
	list_del_rcu(&p->node);
	if (p->cgtag)
		p->cgtag->members--;
	atomic_dec(&gmg_nr_procs);
	atomic_inc(&gmg_gen);
	static_branch_dec(&gmg_active);
	call_rcu(&p->rcu, gmg_proc_rcu_done);
}

/* ---- assessment ---- */

/* The cgroup tag's cgroup a snapshot of @p names; NULL: none. */
static struct cgroup *proc_tag_cgroup(struct gmg_proc *p)
{
	return p->source == GOMEMGUARD_SOURCE_CGROUP && p->cgtag ?
	       p->cgtag->cgrp : NULL;
}

/*
 * The paths of a snapshot.  Process context: cgroup_path() takes kernfs's
 * rename lock, an rwlock_t, which sleeps on PREEMPT_RT.
 */
static void snapshot_paths(struct gmg_snapshot *snap, struct mem_cgroup *memcg,
			   struct cgroup *cgrp)
{
	gmg_memcg_path(memcg, snap->memcg_path, sizeof(snap->memcg_path));
	snap->cgroup_path[0] = '\0';
	if (cgrp && cgroup_path(cgrp, snap->cgroup_path,
				sizeof(snap->cgroup_path)) < 0)
		snap->cgroup_path[0] = '\0';
}

/*
 * All of a snapshot but its paths: any context, under rcu_read_lock().
 * @ns translates the PID, 0 when it is not visible there.  With @peek,
 * references to what the paths are of, for gmg_tracker_peek_done().
 */
static void snapshot_state(struct gmg_proc *p, struct gmg_snapshot *snap,
			   struct pid_namespace *ns, struct gmg_peek *peek)
{
	snap->pid = ns ? pid_nr_ns(p->pid, ns) : pid_nr(p->pid);
	snap->source = p->source;
	raw_spin_lock(&p->lock);
	memcpy(snap->comm, p->comm, sizeof(snap->comm));
	snap->set = p->set;
	snap->st = p->st;
	/*
	 * The sampler swaps p->memcg under this lock and puts the old one
	 * after: here p's reference is still there to add ours to.
	 */
	if (peek) {
		peek->memcg = p->memcg;
		if (peek->memcg)
			css_get(&peek->memcg->css);
	}
	raw_spin_unlock(&p->lock);
	/*
	 * p holds its tag until it is freed, a grace period after it was
	 * unhashed, and the tag holds its cgroup.
	 */
	if (peek) {
		peek->cgrp = proc_tag_cgroup(p);
		if (peek->cgrp)
			cgroup_get(peek->cgrp);
	}
}

/* Copy what events and dumps report.  Process context, rcu_read_lock(). */
static void gmg_snapshot(struct gmg_proc *p, struct gmg_snapshot *snap,
			 struct pid_namespace *ns)
{
	/* Swapped by the sampler; the old one is freed after a grace period. */
	snapshot_paths(snap, READ_ONCE(p->memcg), proc_tag_cgroup(p));
	snapshot_state(p, snap, ns, NULL);
}

/* Re-key a process that exec()ed: it has a new mm.  Its own work item. */
static void gmg_proc_rekey(struct gmg_proc *p)
{
	struct task_struct *task = get_pid_task(p->pid, PIDTYPE_TGID);
	struct mm_struct *mm, *old = NULL;

	if (!task)
		return;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return;
	/* Only this work item changes p->mm: no exec, nothing to do. */
	if (mm == p->mm) {
		mmput(mm);
		return;
	}
	mutex_lock(&gmg_lock);
	if (mm != p->mm && !test_bit(GMG_PROC_DEAD, &p->flags)) {
		old = p->mm;
		mmgrab(mm);
		hash_del_rcu(&p->mm_node);
		filter_del(p, old);
		WRITE_ONCE(p->mm, mm);
		hash_add_rcu(gmg_by_mm, &p->mm_node, (unsigned long)mm);
		filter_add(mm);
		/* A new program: its growth starts from here. */
		raw_spin_lock(&p->lock);
		p->st.growth.quarters = 0;
		raw_spin_unlock(&p->lock);
	}
	mutex_unlock(&gmg_lock);
	mmput(mm);
	if (old) {
		/* The sampler reads counters through p->mm under RCU. */
		synchronize_rcu();
		mmdrop(old);
	}
}

enum gmg_sampled { GMG_SAMPLED, GMG_GONE, GMG_LEFT };

/* Read the process's counters, its name and its memcg.  Its own work item. */
static enum gmg_sampled gmg_proc_sample(struct gmg_proc *p, struct gmg_sample *s,
					struct gmg_memcg_lru *lru)
{
	struct mem_cgroup *memcg, *old;
	char comm[TASK_COMM_LEN];
	struct task_struct *task;
	bool member = true;
	u64 approx;

	rcu_read_lock();
	task = pid_task(p->pid, PIDTYPE_TGID);
	if (!task ||
	    ((task->flags & PF_EXITING) && !atomic_read(&task->signal->live))) {
		rcu_read_unlock();
		return GMG_GONE;
	}
	s->anon = (u64)gmg_mm_counter_exact(task, p->mm, MM_ANONPAGES) << PAGE_SHIFT;
	s->swap = (u64)gmg_mm_counter_exact(task, p->mm, MM_SWAPENTS) << PAGE_SHIFT;
	s->shmem = (u64)gmg_mm_counter_exact(task, p->mm, MM_SHMEMPAGES) << PAGE_SHIFT;
	s->file = (u64)gmg_mm_counter_exact(task, p->mm, MM_FILEPAGES) << PAGE_SHIFT;
	approx = get_mm_counter(p->mm, MM_ANONPAGES) +
		 get_mm_counter(p->mm, MM_SWAPENTS);
	get_task_comm(comm, task);
	if (p->source == GOMEMGUARD_SOURCE_CGROUP)
		member = cgroup_is_descendant(task_dfl_cgroup(task), p->cgtag->cgrp);
	rcu_read_unlock();

	memcg = get_mem_cgroup_from_mm(p->mm);
	gmg_memcg_read(memcg, &s->memcg, lru);
	s->memcg.fold = p->source == GOMEMGUARD_SOURCE_PID;
	s->time_ns = ktime_get_boottime_ns();
	/* Keep the memcg (and the name) for the reports, even after exit. */
	raw_spin_lock(&p->lock);
	old = p->memcg;
	WRITE_ONCE(p->memcg, memcg);
	memcpy(p->comm, comm, sizeof(comm));
	if ((u32)approx != p->quiet_pages)
		p->quiet_shift = 0;
	else if (p->quiet_shift < GMG_QUIET_MAX_SHIFT)
		p->quiet_shift++;
	p->quiet_pages = (u32)approx;
	raw_spin_unlock(&p->lock);
	if (old)
		css_put(&old->css);
	return member ? GMG_SAMPLED : GMG_LEFT;
}

/*
 * Is @p's exit worth an EXIT event?  A process tagged by PID: always --
 * someone named it and waits to hear of it.  A process adopted -- by a
 * cgroup tag, or by INHERIT from a watched parent, whether that parent
 * was tagged by PID or adopted itself -- was named by nobody: a shell loop
 * in a tagged cgroup adopts every child it forks, and an EXIT for each
 * buries the warnings.  Its exit is news only if it raised a WARN or ETA
 * event during its life (whoever got that wants to know how it ended);
 * otherwise it is counted in INFO_GET's EXITS_QUIET.
 *
 * st.warned is set by gmg_assess() under p->lock, and only from p's own
 * work item -- the one calling this, which never runs twice at once -- so
 * the answer read here holds until the process is removed.  It is read
 * under p->lock all the same, as every reader of p->st does, so that it
 * agrees with the rest of the state the last assessment left.
 */
static bool exit_is_news(struct gmg_proc *p)
{
	bool warned;

	if (p->source == GOMEMGUARD_SOURCE_PID)
		return true;
	raw_spin_lock(&p->lock);
	warned = p->st.warned;
	raw_spin_unlock(&p->lock);
	return warned;
}

/*
 * Under gmg_lock, so that a process untagged while its work item ran (and
 * perhaps tagged again since) is not reported as exiting: only the watch
 * that is still current sends EXIT, or counts a quiet one.  Its own work
 * item.
 */
static void gmg_proc_exit(struct gmg_proc *p, bool exited)
{
	struct gmg_snapshot *snap = NULL;
	bool report, news = exited && exit_is_news(p);

	if (news)
		snap = kmalloc(sizeof(*snap), GMG_GFP);
	mutex_lock(&gmg_lock);
	report = exited && !test_bit(GMG_PROC_DEAD, &p->flags);
	if (report && snap) {
		rcu_read_lock();
		gmg_snapshot(p, snap, NULL);
		rcu_read_unlock();
	}
	gmg_proc_remove(p);
	mutex_unlock(&gmg_lock);
	/* No memory for the snapshot: counted as dropped. */
	if (report && news)
		gmg_event_send(GOMEMGUARD_EVENT_EXIT, snap, NULL);
	else if (report)
		atomic64_inc(&gmg_quiet_exits);
	kfree(snap);
}

static void gmg_proc_work(struct work_struct *w)
{
	struct gmg_proc *p = container_of(w, struct gmg_proc, work);
	struct gmg_snapshot *snap;
	struct gmg_settings set;
	struct gmg_memcg_lru lru;
	struct gmg_verdict v;
	struct gmg_sample s;
	struct mem_cgroup *memcg;
	bool grows;
	s64 own;
	int i;

	if (test_bit(GMG_PROC_DEAD, &p->flags)) {
		if (test_bit(GMG_PROC_FREEABLE, &p->flags))
			gmg_proc_destroy(p);
		return;
	}
	if (test_and_clear_bit(GMG_PROC_EXECED, &p->flags))
		gmg_proc_rekey(p);
	if (test_bit(GMG_PROC_EXITED, &p->flags)) {
		gmg_proc_exit(p, true);
		return;
	}
	switch (gmg_proc_sample(p, &s, &lru)) {
	case GMG_GONE:
		/* Our exit hook has not run yet, or missed it: gone all the same. */
		gmg_proc_exit(p, true);
		return;
	case GMG_LEFT:
		/* Left the tagged cgroup: no longer ours to watch. */
		gmg_proc_exit(p, false);
		return;
	case GMG_SAMPLED:
		break;
	}

	raw_spin_lock(&p->lock);
	gmg_assess(&p->st, &p->set, &s, &v);
	grows = p->st.growth.sustained && p->st.growth.rate > 0;
	own = gmg_assess_own_rate(&p->st);
	set = p->set;
	raw_spin_unlock(&p->lock);
	WRITE_ONCE(p->wake_bytes, v.wake_bytes);
	WRITE_ONCE(p->next_eval, jiffies + GMG_EVAL_INTERVAL);
	if (v.growing) {
		set_bit(GMG_PROC_HOT, &p->flags);
		WRITE_ONCE(gmg_hot_seen, true);
	} else {
		clear_bit(GMG_PROC_HOT, &p->flags);
	}
	/* Only this work item changes p->memcg: it stays while we use it. */
	memcg = p->memcg;
	gmg_pressure_track(memcg, &s.memcg, &lru, grows);
	gmg_memcg_eta_track(memcg, &s.memcg, &lru, &set, own);

	if (v.fire_signal && !gmg_fuse_fire(p->pid, &p->set)) {
		raw_spin_lock(&p->lock);
		gmg_assess_unsent(&p->st);
		raw_spin_unlock(&p->lock);
	}
	if (!v.nr_warn && !v.eta && !v.recover)
		return;

	snap = kmalloc(sizeof(*snap), GMG_GFP);
	if (!snap) {
		gmg_event_send(GOMEMGUARD_EVENT_WARN, NULL, &p->rl);
		return;
	}
	rcu_read_lock();
	gmg_snapshot(p, snap, NULL);
	rcu_read_unlock();
	for (i = 0; i < v.nr_warn; i++) {
		snap->st.level = v.warn_level[i];
		gmg_event_send(GOMEMGUARD_EVENT_WARN, snap, &p->rl);
	}
	if (v.eta)
		gmg_event_send(GOMEMGUARD_EVENT_ETA, snap, &p->rl);
	if (v.recover)
		gmg_event_send(GOMEMGUARD_EVENT_RECOVER, snap, &p->rl);
	kfree(snap);
}

/*
 * Adopt processes that a cgroup tag or an inheriting parent brings in.
 * The hooks cannot allocate, so they only queue this; it walks the process
 * list under RCU, takes references to a batch, and adds them outside it.
 */
struct gmg_adoptee {
	struct pid *pid;
	struct gmg_cgtag *tag;		/* referenced, or NULL */
	u32 source;
	struct gmg_settings set;
};

static int gmg_adopt_collect(struct gmg_adoptee *a)
{
	struct task_struct *t;
	struct gmg_proc *parent;
	struct gmg_cgtag *tag;
	int n = 0;

	rcu_read_lock();
	for_each_process(t) {
		if (t->flags & (PF_KTHREAD | PF_EXITING) || !t->mm)
			continue;
		/*
		 * A vfork() child runs on its parent's memory until it execs
		 * or exits: it has nothing of its own to watch (the parent's
		 * tag sees that memory), and most exit at once -- Go's os/exec
		 * and posix_spawn() start every process this way.  The exec
		 * hook brings it back here.
		 */
		if (t->mm == rcu_dereference(t->real_parent)->mm)
			continue;
		if (proc_by_pid(task_tgid(t)))
			continue;
		tag = atomic_read(&gmg_nr_cgtags) ?
		      cgtag_covering(task_dfl_cgroup(t)) : NULL;
		if (tag && refcount_inc_not_zero(&tag->ref)) {
			a[n].tag = tag;
			a[n].source = GOMEMGUARD_SOURCE_CGROUP;
			a[n].set = tag->set;
		} else {
			parent = proc_by_pid(task_tgid(rcu_dereference(t->real_parent)));
			if (!parent || !READ_ONCE(parent->set.inherit))
				continue;
			a[n].tag = NULL;
			if (parent->cgtag && refcount_inc_not_zero(&parent->cgtag->ref))
				a[n].tag = parent->cgtag;
			a[n].source = GOMEMGUARD_SOURCE_INHERIT;
			raw_spin_lock(&parent->lock);
			a[n].set = parent->set;
			raw_spin_unlock(&parent->lock);
		}
		/* The fuse reaches only whom its setter may signal. */
		if (a[n].set.signal && !gmg_fuse_allowed(&a[n].set.signer, t))
			a[n].set.signal = 0;
		a[n].pid = get_pid(task_tgid(t));
		if (++n == GMG_ADOPT_BATCH)
			break;
	}
	rcu_read_unlock();
	return n;
}

static void gmg_adopt_one(struct gmg_adoptee *a)
{
	struct task_struct *t = get_pid_task(a->pid, PIDTYPE_TGID);
	struct gmg_proc *p = NULL;
	bool added = false;

	if (t) {
		p = gmg_proc_alloc(t, a->source, &a->set, a->tag, GMG_GFP);
		put_task_struct(t);
	}
	if (IS_ERR_OR_NULL(p)) {
		if (a->tag)
			cgtag_put(a->tag);
		return;
	}
	mutex_lock(&gmg_lock);
	/* Tagged meanwhile, or its tag gone. */
	if (!proc_by_pid(a->pid) && (!a->tag || !a->tag->removed)) {
		gmg_proc_insert(p);
		added = true;
	}
	mutex_unlock(&gmg_lock);
	if (!added)
		gmg_proc_destroy(p);
}

static void gmg_adopt(struct work_struct *w)
{
	int i, n, rounds = GMG_ADOPT_ROUNDS;
	struct gmg_adoptee *a;

	a = kmalloc_array(GMG_ADOPT_BATCH, sizeof(*a), GMG_GFP);
	if (!a)
		return;
	do {
		n = gmg_adopt_collect(a);
		for (i = 0; i < n; i++) {
			gmg_adopt_one(&a[i]);
			put_pid(a[i].pid);
		}
	} while (n == GMG_ADOPT_BATCH && --rounds);
	kfree(a);
}

/*
 * May the periodic sample skip @p?  Only while its last assessment found it
 * quiet -- no level crossed, no ETA, nothing to recover from -- less than
 * GMG_QUIET_NS ago (doubled for each sample in a row that found its pages
 * where they were), its anon and swap have not moved since, its memcg has
 * not used up a sixteenth of the room it had left below memory.max or
 * memory.high (a tmpfs writer or a sibling: the ETA may be the memcg's),
 * and that memcg is not being removed (the sample lets go of it).
 * Caller holds rcu_read_lock(): p->mm and p->memcg are dropped a grace
 * period after they change.  The counters read are the cheap, approximate
 * ones, compared with the same taken at the sample.
 */
static bool proc_still_quiet(struct gmg_proc *p, u64 now)
{
	const struct gmg_state *st = &p->st;
	u64 pages, usage, limit, then, quiet_ns;
	struct mem_cgroup *memcg;
	struct mm_struct *mm;
	bool quiet;

	memcg = READ_ONCE(p->memcg);
	mm = READ_ONCE(p->mm);
	if (!memcg || css_is_dying(&memcg->css))
		return false;
	pages = get_mm_counter(mm, MM_ANONPAGES) + get_mm_counter(mm, MM_SWAPENTS);
	usage = (u64)page_counter_read(&memcg->memory) << PAGE_SHIFT;
	limit = (u64)min(READ_ONCE(memcg->memory.max),
			 READ_ONCE(memcg->memory.high)) << PAGE_SHIFT;

	raw_spin_lock(&p->lock);
	then = st->last.memcg.usage;
	quiet_ns = GMG_QUIET_NS << p->quiet_shift;
	/*
	 * Plus up to half of it again, by ID: processes tagged together --
	 * a cgroup tag adopting thousands, a deploy starting a fleet's
	 * services -- drift apart instead of being sampled in one wave.
	 */
	quiet_ns += (quiet_ns >> 5) * hash_64(p->id, 4);
	quiet = !st->eta_limit && !st->level && !st->eta_warned &&
		!st->first_warn_ns && !st->over_soft &&
		st->last.time_ns && now - st->last.time_ns < quiet_ns &&
		(u32)pages == p->quiet_pages &&
		(usage <= then || limit <= then ||
		 usage - then < (limit - then) / 16);
	raw_spin_unlock(&p->lock);
	return quiet;
}

/* Cgroup tags whose cgroup was removed end here: they would pin it. */
static void cgtags_prune(void);

/*
 * Every GMG_HOT_PER_SAMPLE hot periods (1 s): everyone who is not quiet,
 * and housekeeping.  In between, every GMG_HOT_PERIOD, the hot processes --
 * only while there are any: with none, the sampler sleeps to the next full
 * sample (ten wake-ups a second for nothing cost an untagged process's
 * page faults 0.4 % in the benchmark guest).  With nothing tagged it stops,
 * and lets go of every cache.
 */
static void gmg_sample(struct work_struct *w)
{
	u64 now = ktime_get_boottime_ns();
	unsigned long delay;
	struct gmg_proc *p;
	bool hot = false;

	if (xchg(&gmg_full_soon, false) || time_after_eq(jiffies, gmg_next_full)) {
		gmg_next_full = jiffies + GMG_HOT_PER_SAMPLE * GMG_HOT_PERIOD;
		WRITE_ONCE(gmg_hot_seen, false);
		rcu_read_lock();
		list_for_each_entry_rcu(p, &gmg_procs, node) {
			hot |= test_bit(GMG_PROC_HOT, &p->flags);
			if (!proc_still_quiet(p, now))
				queue_work(gmg_wq, &p->work);
		}
		rcu_read_unlock();
		cgtags_prune();
		gmg_memcg_housekeeping(false);
		gmg_memcg_eta_housekeeping(false);
		gmg_pressure_housekeeping(false);
	} else {
		/* Each hot process's assessment sets it again. */
		WRITE_ONCE(gmg_hot_seen, false);
		rcu_read_lock();
		list_for_each_entry_rcu(p, &gmg_procs, node) {
			if (test_bit(GMG_PROC_HOT, &p->flags)) {
				hot = true;
				queue_work(gmg_wq, &p->work);
			}
		}
		rcu_read_unlock();
	}
	if (!anything_tagged()) {
		gmg_memcg_housekeeping(true);
		gmg_memcg_eta_housekeeping(true);
		gmg_pressure_housekeeping(true);
		/* A tag that came meanwhile has queued the sampler again. */
		return;
	}
	delay = GMG_HOT_PERIOD;
	if (!hot && !READ_ONCE(gmg_hot_seen) &&
	    time_before(jiffies, gmg_next_full))
		delay = gmg_next_full - jiffies;
	queue_delayed_work(gmg_wq, &gmg_sampler, delay);
}

/* ---- for OOM post-mortems ---- */

/*
 * The watched state of @pid's process, for the OOM probes: any context,
 * under rcu_read_lock(); no path, nothing that sleeps.
 */
bool gmg_tracker_peek(struct pid *pid, struct gmg_snapshot *snap,
		      struct gmg_peek *peek)
{
	struct gmg_proc *p = proc_by_pid(pid);

	if (!p)
		return false;
	snapshot_state(p, snap, NULL, peek);
	return true;
}

/* Process context: the paths of a peeked snapshot; lets go of @peek. */
void gmg_tracker_peek_done(struct gmg_snapshot *snap, struct gmg_peek *peek)
{
	snapshot_paths(snap, peek->memcg, peek->cgrp);
	if (peek->memcg)
		css_put(&peek->memcg->css);
	if (peek->cgrp)
		cgroup_put(peek->cgrp);
	peek->memcg = NULL;
	peek->cgrp = NULL;
}

/* Is @p's memcg (at its last sample) @memcg or below it?  NULL: anywhere. */
static bool proc_in_memcg(struct gmg_proc *p, struct mem_cgroup *memcg)
{
	struct mem_cgroup *m = READ_ONCE(p->memcg);

	return !memcg || (m && cgroup_is_descendant(m->css.cgroup,
						     memcg->css.cgroup));
}

/* Into *@out[0], *@out[1]... (each entry its own place). */
int gmg_tracker_snapshot_memcg(struct mem_cgroup *memcg, struct pid *skip,
			       struct gmg_snapshot **out, int max)
{
	struct gmg_proc *p;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &gmg_procs, node) {
		if (n == max)
			break;
		if (p->pid == skip || !proc_in_memcg(p, memcg))
			continue;
		gmg_snapshot(p, out[n++], NULL);
	}
	rcu_read_unlock();
	return n;
}

/* The OOM killer is at work: sample what is not quiet, now. */
void gmg_tracker_sample_soon(void)
{
	if (!anything_tagged())
		return;
	WRITE_ONCE(gmg_full_soon, true);
	mod_delayed_work(gmg_wq, &gmg_sampler, 0);
}

/* ---- commands ---- */

/* The process @nr names in the caller's PID namespace, referenced. */
static struct task_struct *task_by_nr(pid_t nr, struct netlink_ext_ack *extack)
{
	struct task_struct *task, *thread;
	struct pid *pid;

	if (nr <= 0) {
		NL_SET_ERR_MSG(extack, "PID must be a positive process ID");
		return ERR_PTR(-EINVAL);
	}
	pid = find_get_pid(nr);
	thread = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	task = NULL;
	if (thread) {
		/* A thread's ID names its whole process. */
		rcu_read_lock();
		task = get_task_struct(thread->group_leader);
		rcu_read_unlock();
		put_task_struct(thread);
	}
	if (!task) {
		NL_SET_ERR_MSG(extack, "no process with this PID in the caller's PID namespace");
		return ERR_PTR(-ESRCH);
	}
	if (task->flags & PF_KTHREAD) {
		put_task_struct(task);
		NL_SET_ERR_MSG(extack, "PID is a kernel thread: it has no user memory to watch");
		return ERR_PTR(-EINVAL);
	}
	return task;
}

static void already_watched(struct gmg_proc *p, struct netlink_ext_ack *extack)
{
	if (p->source == GOMEMGUARD_SOURCE_PID)
		NL_SET_ERR_MSG(extack, "process is already tagged");
	else
		NL_SET_ERR_MSG(extack,
			       "process is already watched through a cgroup tag or its parent");
}

int gmg_tag_pid(pid_t nr, const struct gmg_settings *set,
		struct netlink_ext_ack *extack)
{
	struct task_struct *task = task_by_nr(nr, extack);
	struct gmg_proc *p, *old;
	int err = 0;

	if (IS_ERR(task))
		return PTR_ERR(task);
	if (set->signal) {
		err = gmg_fuse_check(task, set->signal, extack);
		if (err)
			goto out;
	}
	rcu_read_lock();
	old = proc_by_pid(task_tgid(task));
	if (old)
		already_watched(old, extack);
	rcu_read_unlock();
	if (old) {
		err = -EEXIST;
		goto out;
	}
	p = gmg_proc_alloc(task, GOMEMGUARD_SOURCE_PID, set, NULL, GFP_KERNEL);
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
		if (err == -ESRCH)
			NL_SET_ERR_MSG(extack, "process is exiting");
		goto out;
	}
	gmg_debug_tag_delay();
	mutex_lock(&gmg_lock);
	old = proc_by_pid(p->pid);
	if (old) {
		already_watched(old, extack);
		err = -EEXIST;
	} else {
		gmg_proc_insert(p);
	}
	mutex_unlock(&gmg_lock);
	if (err)
		gmg_proc_destroy(p);
out:
	put_task_struct(task);
	return err;
}

/* Caller holds gmg_lock or rcu_read_lock(). */
static struct gmg_proc *proc_by_nr(pid_t nr, struct netlink_ext_ack *extack)
{
	struct task_struct *task = task_by_nr(nr, extack);
	struct gmg_proc *p;

	if (IS_ERR(task))
		return ERR_CAST(task);
	p = proc_by_pid(task_tgid(task));
	put_task_struct(task);
	if (!p) {
		NL_SET_ERR_MSG(extack, "process is not tagged");
		return ERR_PTR(-ENOENT);
	}
	return p;
}

int gmg_untag_pid(pid_t nr, struct netlink_ext_ack *extack)
{
	struct gmg_proc *p;
	int err = 0;

	mutex_lock(&gmg_lock);
	p = proc_by_nr(nr, extack);
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
	} else if (p->source == GOMEMGUARD_SOURCE_CGROUP) {
		NL_SET_ERR_MSG(extack, "process is watched through a cgroup tag: untag the cgroup");
		err = -EBUSY;
	} else {
		gmg_proc_remove(p);
	}
	mutex_unlock(&gmg_lock);
	return err;
}

/* Change @set as @u says; @signer reached @task (NULL: not checked yet). */
static void apply_update(struct gmg_settings *set, const struct gmg_update *u,
			 struct task_struct *task)
{
	if (u->soft_limit)
		set->soft_limit = u->val.soft_limit;
	if (u->levels) {
		memcpy(set->levels, u->val.levels, sizeof(set->levels));
		set->nr_levels = u->val.nr_levels;
	}
	if (u->eta_horizon)
		set->eta_horizon_ms = u->val.eta_horizon_ms;
	if (u->signal) {
		set->signal = u->val.signal;
		set->signer = u->val.signer;
		/* A member its setter may not signal is watched without a fuse. */
		if (set->signal && task && !gmg_fuse_allowed(&set->signer, task))
			set->signal = 0;
	}
	if (u->rate_window)
		set->rate_window_ms = u->val.rate_window_ms;
	if (u->inherit)
		set->inherit = u->val.inherit;
	if (u->limit_origin)
		set->limit_origin = u->val.limit_origin;
}

int gmg_set_pid(pid_t nr, const struct gmg_update *u,
		struct netlink_ext_ack *extack)
{
	struct task_struct *task = task_by_nr(nr, extack);
	struct gmg_proc *p;
	int err = 0;

	if (IS_ERR(task))
		return PTR_ERR(task);
	if (u->signal && u->val.signal) {
		err = gmg_fuse_check(task, u->val.signal, extack);
		if (err)
			goto out;
	}
	mutex_lock(&gmg_lock);
	p = proc_by_pid(task_tgid(task));
	if (!p) {
		NL_SET_ERR_MSG(extack, "process is not tagged");
		err = -ENOENT;
	} else {
		raw_spin_lock(&p->lock);
		apply_update(&p->set, u, NULL);
		raw_spin_unlock(&p->lock);
		queue_work(gmg_wq, &p->work);
	}
	mutex_unlock(&gmg_lock);
out:
	put_task_struct(task);
	return err;
}

static struct cgroup *cgroup_by_path(const char *path,
				     struct netlink_ext_ack *extack)
{
	struct cgroup *cgrp;

	if (path[0] != '/') {
		NL_SET_ERR_MSG(extack,
			       "cgroup path must start with '/' (relative to the cgroup2 root)");
		return ERR_PTR(-EINVAL);
	}
	/* A file in a cgroup (-ENOTDIR) is no more a cgroup than nothing is. */
	cgrp = cgroup_get_from_path(path);
	if (IS_ERR(cgrp)) {
		NL_SET_ERR_MSG(extack, "not a cgroup v2 directory");
		return ERR_PTR(-ENOENT);
	}
	return cgrp;
}

static struct gmg_cgtag *cgtag_by_cgroup(struct cgroup *cgrp)
{
	struct gmg_cgtag *tag;

	list_for_each_entry(tag, &gmg_cgtags, node)
		if (tag->cgrp == cgrp)
			return tag;
	return NULL;
}

int gmg_tag_cgroup(const char *path, const struct gmg_settings *set,
		   struct netlink_ext_ack *extack)
{
	struct cgroup *cgrp = cgroup_by_path(path, extack);
	struct gmg_cgtag *tag;
	int err = 0;

	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	tag = kzalloc(sizeof(*tag), GFP_KERNEL);
	if (!tag) {
		cgroup_put(cgrp);
		return -ENOMEM;
	}
	mutex_lock(&gmg_lock);
	if (cgtag_by_cgroup(cgrp)) {
		NL_SET_ERR_MSG(extack, "cgroup is already tagged");
		err = -EEXIST;
	} else {
		tag->cgrp = cgrp;
		tag->set = *set;
		tag->id = gmg_next_tag_id++;
		refcount_set(&tag->ref, 1);
		list_add_tail_rcu(&tag->node, &gmg_cgtags);
		atomic_inc(&gmg_nr_cgtags);
		atomic_inc(&gmg_gen);
		static_branch_inc(&gmg_active);
		sampler_start();
	}
	mutex_unlock(&gmg_lock);
	if (err) {
		kfree(tag);
		cgroup_put(cgrp);
		return err;
	}
	/* Current members are watched by the time the command returns. */
	mod_delayed_work(gmg_wq, &gmg_adopt_work, 0);
	flush_delayed_work(&gmg_adopt_work);
	return 0;
}

static void cgtag_remove(struct gmg_cgtag *tag)
{
	struct gmg_proc *p, *tmp;

	lockdep_assert_held(&gmg_lock);
	/*
	 * No INIT_LIST_HEAD() after list_del_rcu(): a hook may still stand on
	 * this node, and a node pointing at itself would keep it there for
	 * ever.  ->removed is what adoption checks.
	 */
	list_del_rcu(&tag->node);
	tag->removed = true;
	list_for_each_entry_safe(p, tmp, &gmg_procs, node)
		if (p->cgtag == tag)
			gmg_proc_remove(p);
	atomic_dec(&gmg_nr_cgtags);
	atomic_inc(&gmg_gen);
	static_branch_dec(&gmg_active);
	cgtag_put(tag);
}

static void cgtags_prune(void)
{
	struct gmg_cgtag *tag, *tmp;
	bool dying = false;

	rcu_read_lock();
	list_for_each_entry_rcu(tag, &gmg_cgtags, node)
		dying |= css_is_dying(&tag->cgrp->self);
	rcu_read_unlock();
	if (!dying)
		return;
	mutex_lock(&gmg_lock);
	list_for_each_entry_safe(tag, tmp, &gmg_cgtags, node)
		if (css_is_dying(&tag->cgrp->self))
			cgtag_remove(tag);
	mutex_unlock(&gmg_lock);
}

int gmg_untag_cgroup(const char *path, struct netlink_ext_ack *extack)
{
	struct cgroup *cgrp = cgroup_by_path(path, extack);
	struct gmg_cgtag *tag;
	int err = 0;

	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	mutex_lock(&gmg_lock);
	tag = cgtag_by_cgroup(cgrp);
	if (tag) {
		cgtag_remove(tag);
	} else {
		NL_SET_ERR_MSG(extack, "cgroup is not tagged");
		err = -ENOENT;
	}
	mutex_unlock(&gmg_lock);
	cgroup_put(cgrp);
	return err;
}

int gmg_set_cgroup(const char *path, const struct gmg_update *u,
		   struct netlink_ext_ack *extack)
{
	struct cgroup *cgrp = cgroup_by_path(path, extack);
	struct task_struct *task;
	struct gmg_cgtag *tag;
	struct gmg_proc *p;
	int err = 0;

	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	mutex_lock(&gmg_lock);
	tag = cgtag_by_cgroup(cgrp);
	if (!tag) {
		NL_SET_ERR_MSG(extack, "cgroup is not tagged");
		err = -ENOENT;
		goto out;
	}
	apply_update(&tag->set, u, NULL);
	list_for_each_entry(p, &gmg_procs, node) {
		if (p->cgtag != tag)
			continue;
		rcu_read_lock();
		task = pid_task(p->pid, PIDTYPE_TGID);
		raw_spin_lock(&p->lock);
		if (task)
			apply_update(&p->set, u, task);
		raw_spin_unlock(&p->lock);
		rcu_read_unlock();
		queue_work(gmg_wq, &p->work);
	}
out:
	mutex_unlock(&gmg_lock);
	cgroup_put(cgrp);
	return err;
}

/* ---- dumps: by key, flagged when the set changed meanwhile ---- */

static int fill_proc_msg(struct sk_buff *skb, struct netlink_callback *cb,
			 u32 portid, u32 seq, int flags, struct gmg_proc *p,
			 struct gmg_snapshot *snap)
{
	void *hdr;

	gmg_snapshot(p, snap, task_active_pid_ns(current));
	/* Not visible from the caller's PID namespace: not reported. */
	if (!snap->pid)
		return 0;
	hdr = gmg_genlmsg_put(skb, portid, seq, flags, GOMEMGUARD_CMD_PROC_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (gmg_fill_proc(skb, snap, true)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int gmg_tracker_dump_procs(struct sk_buff *skb, struct netlink_callback *cb)
{
	u64 *after = (u64 *)&cb->args[0];
	struct gmg_snapshot *snap;
	struct gmg_proc *p;
	int err = 0;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	cb->seq = atomic_read(&gmg_gen);
	/* The list is in id order: new processes come after the key. */
	rcu_read_lock();
	list_for_each_entry_rcu(p, &gmg_procs, node) {
		if (p->id <= *after || test_bit(GMG_PROC_DEAD, &p->flags))
			continue;
		err = fill_proc_msg(skb, cb, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI, p, snap);
		if (err)
			break;
		*after = p->id;
	}
	rcu_read_unlock();
	kfree(snap);
	return err;
}

int gmg_tracker_get_proc(pid_t nr, struct genl_info *info)
{
	struct gmg_snapshot *snap;
	struct sk_buff *msg;
	struct gmg_proc *p;
	int err;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!snap || !msg) {
		err = -ENOMEM;
		goto err_free;
	}
	rcu_read_lock();
	p = proc_by_nr(nr, info->extack);
	if (IS_ERR(p))
		err = PTR_ERR(p);
	else
		err = fill_proc_msg(msg, NULL, info->snd_portid, info->snd_seq,
				    0, p, snap);
	rcu_read_unlock();
	if (err)
		goto err_free;
	kfree(snap);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	kfree(snap);
	return err;
}

int gmg_tracker_dump_tags(struct sk_buff *skb, struct netlink_callback *cb)
{
	char *path = kmalloc(GMG_PATH_MAX, GFP_KERNEL);
	u64 *after = (u64 *)&cb->args[0];
	struct gmg_cgtag *tag;
	int err = 0;
	void *hdr;

	if (!path)
		return -ENOMEM;
	mutex_lock(&gmg_lock);
	cb->seq = atomic_read(&gmg_gen);
	list_for_each_entry(tag, &gmg_cgtags, node) {
		if (tag->id <= *after)
			continue;
		if (cgroup_path(tag->cgrp, path, GMG_PATH_MAX) < 0)
			strscpy(path, "?", GMG_PATH_MAX);
		hdr = gmg_genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      GOMEMGUARD_CMD_TAG_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		genl_dump_check_consistent(cb, hdr);
		if (nla_put_string(skb, GOMEMGUARD_A_CGROUP, path) ||
		    nla_put_u32(skb, GOMEMGUARD_A_TAG_MEMBERS, tag->members) ||
		    gmg_fill_settings(skb, &tag->set)) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		*after = tag->id;
	}
	mutex_unlock(&gmg_lock);
	kfree(path);
	return err;
}

/*
 * The next memcgs of watched processes after @after, in ID order, each
 * referenced: a walk of the processes per GMG_MEMCG_DUMP_BATCH memcgs.
 */
static int next_memcgs(u64 after, struct mem_cgroup **out, u64 *ids)
{
	struct mem_cgroup *m;
	struct gmg_proc *p;
	int i, n = 0;
	u64 id;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &gmg_procs, node) {
		m = READ_ONCE(p->memcg);
		if (!m)
			continue;
		id = cgroup_id(m->css.cgroup);
		if (id <= after)
			continue;
		for (i = 0; i < n && ids[i] < id; i++)
			;
		if ((i < n && ids[i] == id) || i == GMG_MEMCG_DUMP_BATCH ||
		    !css_tryget(&m->css))
			continue;
		if (n == GMG_MEMCG_DUMP_BATCH)
			css_put(&out[--n]->css);
		memmove(&out[i + 1], &out[i], (n - i) * sizeof(*out));
		memmove(&ids[i + 1], &ids[i], (n - i) * sizeof(*ids));
		out[i] = m;
		ids[i] = id;
		n++;
	}
	rcu_read_unlock();
	return n;
}

int gmg_tracker_dump_memcgs(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct mem_cgroup *memcgs[GMG_MEMCG_DUMP_BATCH];
	u64 ids[GMG_MEMCG_DUMP_BATCH];
	u64 *after = (u64 *)&cb->args[0];
	struct gmg_memcg_full *f;
	int i = 0, n, err = 0;
	char *path;
	void *hdr;

	f = kmalloc(sizeof(*f), GFP_KERNEL);
	path = kmalloc(GMG_PATH_MAX, GFP_KERNEL);
	if (!f || !path) {
		err = -ENOMEM;
		goto out;
	}
	cb->seq = atomic_read(&gmg_gen);
	do {
		n = next_memcgs(*after, memcgs, ids);
		for (i = 0; i < n; i++) {
			gmg_memcg_read_full(memcgs[i], f);
			gmg_memcg_path(memcgs[i], path, GMG_PATH_MAX);
			hdr = gmg_genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					      cb->nlh->nlmsg_seq, NLM_F_MULTI,
					      GOMEMGUARD_CMD_MEMCG_GET);
			if (!hdr) {
				err = -EMSGSIZE;
				break;
			}
			genl_dump_check_consistent(cb, hdr);
			if (gmg_fill_memcg(skb, path, &f->view, &f->lru) ||
			    nla_put_u32(skb, GOMEMGUARD_A_PRESSURE_LEVEL,
					gmg_pressure_level(ids[i])) ||
			    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_EVENTS_HIGH, f->events_high) ||
			    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_EVENTS_MAX, f->events_max) ||
			    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_EVENTS_OOM, f->events_oom) ||
			    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL,
					f->events_oom_kill)) {
				genlmsg_cancel(skb, hdr);
				err = -EMSGSIZE;
				break;
			}
			genlmsg_end(skb, hdr);
			*after = ids[i];
			css_put(&memcgs[i]->css);
		}
		for (; i < n; i++)
			css_put(&memcgs[i]->css);
	} while (!err && n == GMG_MEMCG_DUMP_BATCH);
out:
	kfree(path);
	kfree(f);
	return err;
}

/* ---- life cycle ---- */

int gmg_tracker_init(void)
{
	/*
	 * WQ_MEM_RECLAIM: warnings matter most when memory is short, so their
	 * work must make progress then.  WQ_HIGHPRI: the process it warns
	 * about is usually busy on every CPU; at nice 0 a work item waits its
	 * turn behind it (p99 of 6-10 ms from crossing to event in the TCG
	 * benchmark), at the high-priority pool's nice -20 it does not.  The
	 * items are short, the periodic sample skips quiet processes, and at
	 * most four run at once: an OOM that wakes every watched process
	 * does not make the kernel start a worker thread for each.
	 */
	gmg_wq = alloc_workqueue("gomemguard",
				 WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_HIGHPRI, 4);
	if (!gmg_wq)
		return -ENOMEM;
	INIT_DELAYED_WORK(&gmg_adopt_work, gmg_adopt);
	INIT_DELAYED_WORK(&gmg_sampler, gmg_sample);
	gmg_next_full = jiffies;
	return 0;
}

/* Called with the hooks and the netlink family already gone. */
void gmg_tracker_uninit(void)
{
	struct gmg_cgtag *tag, *ttmp;
	struct gmg_proc *p, *tmp;

	cancel_delayed_work_sync(&gmg_adopt_work);
	mutex_lock(&gmg_lock);
	list_for_each_entry_safe(tag, ttmp, &gmg_cgtags, node)
		cgtag_remove(tag);
	list_for_each_entry_safe(p, tmp, &gmg_procs, node)
		gmg_proc_remove(p);
	mutex_unlock(&gmg_lock);
	/* With nothing tagged, the sampler no longer queues itself. */
	cancel_delayed_work_sync(&gmg_sampler);
	/* The processes' RCU callbacks queue their frees; wait for those. */
	rcu_barrier();
	destroy_workqueue(gmg_wq);
	/* kfree_rcu() of cgroup tags. */
	rcu_barrier();
	gmg_memcg_housekeeping(true);
	gmg_pressure_housekeeping(true);
	WARN_ON(atomic_read(&gmg_nr_procs));
}
