// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker owns every watched process and every cgroup tag.
 *
 * Identity is a struct pid reference, never a bare number, because PIDs are
 * reused.  The probe on the page-fault path finds a process by its mm in an
 * RCU hash table and does nothing else for the processes we do not watch;
 * for those we do, it compares two numbers and at most queues the process's
 * work item.  Everything else -- sampling, assessment, events, signals,
 * adopting children and cgroup members -- runs from work items.
 *
 * Lifetimes: a process is unhashed under gmg_lock, and freed by an rcu_work
 * once no probe can see it any more; the free cancels its work item first.
 * A cgroup tag is reference-counted by the processes it brought in.
 */
#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/jump_label.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
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
 * when its anon + swap or its memcg's usage moved, or after this long: at
 * 10,000 idle tags the periodic sample costs 1,000 work items a second,
 * not 10,000.
 */
#define GMG_QUIET_NS		(10 * NSEC_PER_SEC)
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

struct gmg_cgtag {
	struct list_head node;		/* gmg_cgtags; RCU for the hooks */
	struct cgroup *cgrp;
	struct gmg_settings set;	/* under gmg_lock */
	u32 members;			/* under gmg_lock */
	refcount_t ref;			/* the list's, and one per member */
	struct rcu_head rcu;
};

enum {
	GMG_PROC_EXITED,	/* its last thread is gone */
	GMG_PROC_EXECED,	/* it has a new mm */
	GMG_PROC_DEAD,		/* unhashed; waiting to be freed */
	GMG_PROC_HOT,		/* growing: sampled every GMG_HOT_PERIOD */
};

struct gmg_proc {
	struct hlist_node mm_node;	/* gmg_by_mm */
	struct hlist_node pid_node;	/* gmg_by_pid */
	struct list_head node;		/* gmg_procs */
	struct pid *pid;		/* thread-group ID, referenced */
	struct mm_struct *mm;		/* mmgrab()ed: counters stay readable */
	struct gmg_cgtag *cgtag;	/* referenced; NULL for a PID tag */
	struct mem_cgroup *memcg;	/* at the last sample, referenced */
	char comm[TASK_COMM_LEN];	/* at the last sample: exit reports it */
	u32 source;			/* enum gomemguard_source */
	spinlock_t lock;		/* settings and state */
	unsigned long flags;
	unsigned long next_eval;	/* jiffies */
	u64 wake_bytes;			/* probe wakes an assessment at */
	struct work_struct work;
	struct rcu_work free_work;
	struct gmg_ratelimit rl;	/* only touched by work */
	struct gmg_settings set;
	struct gmg_state st;
};

static DEFINE_HASHTABLE(gmg_by_mm, GMG_HASH_BITS);
static DEFINE_HASHTABLE(gmg_by_pid, GMG_HASH_BITS);
static LIST_HEAD(gmg_procs);
static LIST_HEAD(gmg_cgtags);
/* Serialises every change of the tables, the lists and the cgroup tags. */
static DEFINE_MUTEX(gmg_lock);
static atomic_t gmg_nr_procs = ATOMIC_INIT(0);
/* Off while nothing is tagged: the hooks then cost a patched-out branch. */
static DEFINE_STATIC_KEY_FALSE(gmg_active);

static struct workqueue_struct *gmg_wq;
static struct delayed_work gmg_sampler;
/* Some process turned hot since the sampler last looked. */
static bool gmg_hot_seen;
/* The next sampler run samples everyone, quiet or not. */
static bool gmg_sample_everyone;
/* jiffies: the sampler's next full pass; only the sampler touches it. */
static unsigned long gmg_next_full;
static struct delayed_work gmg_adopt_work;

u32 gmg_tracker_count(void)
{
	return atomic_read(&gmg_nr_procs);
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

/* Caller holds rcu_read_lock() or gmg_lock. */
static struct gmg_cgtag *cgtag_covering(struct cgroup *cgrp)
{
	struct gmg_cgtag *tag;

	list_for_each_entry_rcu(tag, &gmg_cgtags, node,
				lockdep_is_held(&gmg_lock))
		if (cgroup_is_descendant(cgrp, tag->cgrp))
			return tag;
	return NULL;
}

static void cgtag_put(struct gmg_cgtag *tag)
{
	if (refcount_dec_and_test(&tag->ref)) {
		cgroup_put(tag->cgrp);
		kfree_rcu(tag, rcu);
	}
}

/* ---- hooks: atomic context, no allocation ---- */

void gmg_tracker_rss_changed(struct mm_struct *mm)
{
	struct gmg_proc *p;
	u64 used;

	if (!static_branch_unlikely(&gmg_active))
		return;
	/*
	 * Most mms are not watched, and their bucket is empty: say so without
	 * an RCU read-side section, which is two calls on a preemptible-RCU
	 * kernel, on every page fault.  A process tagged a moment ago may
	 * miss this one change; its first sample sees it.
	 */
	if (hlist_empty(&gmg_by_mm[hash_min((unsigned long)mm,
					    HASH_BITS(gmg_by_mm))]))
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
		cgtag_covering(task_dfl_cgroup(task));
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
	bool adopt;

	if (!static_branch_unlikely(&gmg_active))
		return;
	rcu_read_lock();
	adopt = cgtag_covering(dst);
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

static void gmg_proc_free(struct work_struct *w)
{
	struct gmg_proc *p = container_of(to_rcu_work(w), struct gmg_proc,
					  free_work);

	cancel_work_sync(&p->work);
	if (p->cgtag)
		cgtag_put(p->cgtag);
	if (p->memcg)
		css_put(&p->memcg->css);
	mmdrop(p->mm);
	put_pid(p->pid);
	kfree(p);
}

static void gmg_proc_work(struct work_struct *w);

/* Watch @task's process.  Caller holds gmg_lock; @tag referenced for us. */
static struct gmg_proc *gmg_proc_add(struct task_struct *task, u32 source,
				     const struct gmg_settings *set,
				     struct gmg_cgtag *tag)
{
	struct mm_struct *mm;
	struct gmg_proc *p;

	lockdep_assert_held(&gmg_lock);
	mm = get_task_mm(task);
	if (!mm)
		return ERR_PTR(-ESRCH);
	/* What a tag costs: one kmalloc-512 object (lock debugging aside). */
	BUILD_BUG_ON(!IS_ENABLED(CONFIG_DEBUG_SPINLOCK) &&
		     !IS_ENABLED(CONFIG_DEBUG_LOCK_ALLOC) && sizeof(*p) > 512);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
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
	spin_lock_init(&p->lock);
	INIT_WORK(&p->work, gmg_proc_work);
	INIT_RCU_WORK(&p->free_work, gmg_proc_free);
	if (tag)
		tag->members++;

	hash_add_rcu(gmg_by_pid, &p->pid_node, (unsigned long)p->pid);
	hash_add_rcu(gmg_by_mm, &p->mm_node, (unsigned long)mm);
	list_add_tail_rcu(&p->node, &gmg_procs);
	atomic_inc(&gmg_nr_procs);
	static_branch_inc(&gmg_active);
	queue_work(gmg_wq, &p->work);
	return p;
}

static void gmg_proc_remove(struct gmg_proc *p)
{
	lockdep_assert_held(&gmg_lock);
	if (test_and_set_bit(GMG_PROC_DEAD, &p->flags))
		return;
	hash_del_rcu(&p->pid_node);
	hash_del_rcu(&p->mm_node);
	list_del_rcu(&p->node);
	if (p->cgtag)
		p->cgtag->members--;
	atomic_dec(&gmg_nr_procs);
	static_branch_dec(&gmg_active);
	queue_rcu_work(gmg_wq, &p->free_work);
}

/* ---- assessment ---- */

/*
 * Copy what events and dumps report.  Caller holds rcu_read_lock();
 * @ns translates the PID, 0 when it is not visible there.
 */
static void gmg_snapshot(struct gmg_proc *p, struct gmg_snapshot *snap,
			 struct pid_namespace *ns)
{
	snap->pid = ns ? pid_nr_ns(p->pid, ns) : pid_nr(p->pid);
	snap->source = p->source;
	/* Swapped by the sampler; the old one is freed after a grace period. */
	gmg_memcg_path(READ_ONCE(p->memcg), snap->memcg_path,
		       sizeof(snap->memcg_path));
	snap->cgroup_path[0] = '\0';
	if (p->source == GOMEMGUARD_SOURCE_CGROUP && p->cgtag &&
	    cgroup_path(p->cgtag->cgrp, snap->cgroup_path,
			sizeof(snap->cgroup_path)) < 0)
		snap->cgroup_path[0] = '\0';
	spin_lock(&p->lock);
	memcpy(snap->comm, p->comm, sizeof(snap->comm));
	snap->set = p->set;
	snap->st = p->st;
	spin_unlock(&p->lock);
}

/* Re-key a process that exec()ed: it has a new mm. */
static void gmg_proc_rekey(struct gmg_proc *p)
{
	struct task_struct *task = get_pid_task(p->pid, PIDTYPE_TGID);
	struct mm_struct *mm, *old;

	if (!task)
		return;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return;
	mutex_lock(&gmg_lock);
	old = p->mm;
	if (mm != old && !test_bit(GMG_PROC_DEAD, &p->flags)) {
		mmgrab(mm);
		hash_del_rcu(&p->mm_node);
		WRITE_ONCE(p->mm, mm);
		hash_add_rcu(gmg_by_mm, &p->mm_node, (unsigned long)mm);
		/* A new program: its growth starts from here. */
		spin_lock(&p->lock);
		p->st.growth.ring_len = 0;
		spin_unlock(&p->lock);
		mmdrop(old);
	}
	mutex_unlock(&gmg_lock);
	mmput(mm);
}

enum gmg_sampled { GMG_SAMPLED, GMG_GONE, GMG_LEFT };

/* Read the process's counters, its name and its memcg. */
static enum gmg_sampled gmg_proc_sample(struct gmg_proc *p, struct gmg_sample *s)
{
	struct mem_cgroup *memcg, *old;
	char comm[TASK_COMM_LEN];
	struct task_struct *task;
	bool member = true;

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
	get_task_comm(comm, task);
	if (p->source == GOMEMGUARD_SOURCE_CGROUP)
		member = cgroup_is_descendant(task_dfl_cgroup(task), p->cgtag->cgrp);
	rcu_read_unlock();

	memcg = get_mem_cgroup_from_mm(p->mm);
	gmg_memcg_read(memcg, &s->memcg);
	gmg_pressure_track(memcg);
	s->time_ns = ktime_get_boottime_ns();
	/* Keep the memcg (and the name) for the reports, even after exit. */
	spin_lock(&p->lock);
	old = p->memcg;
	WRITE_ONCE(p->memcg, memcg);
	memcg = old;
	memcpy(p->comm, comm, sizeof(comm));
	spin_unlock(&p->lock);
	if (memcg)
		css_put(&memcg->css);
	return member ? GMG_SAMPLED : GMG_LEFT;
}

/*
 * Under gmg_lock, so that a process untagged while its work item ran (and
 * perhaps tagged again since) is not reported as exiting: only the watch
 * that is still current sends EXIT.
 */
static void gmg_proc_exit(struct gmg_proc *p, bool exited)
{
	struct gmg_snapshot *snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	bool report;

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
	if (report)
		gmg_event_send(GOMEMGUARD_EVENT_EXIT, snap, NULL);
	kfree(snap);
}

static void gmg_proc_work(struct work_struct *w)
{
	struct gmg_proc *p = container_of(w, struct gmg_proc, work);
	struct gmg_snapshot *snap;
	struct gmg_verdict v;
	struct gmg_sample s;
	int i;

	if (test_bit(GMG_PROC_DEAD, &p->flags))
		return;
	if (test_and_clear_bit(GMG_PROC_EXECED, &p->flags))
		gmg_proc_rekey(p);
	if (test_bit(GMG_PROC_EXITED, &p->flags)) {
		gmg_proc_exit(p, true);
		return;
	}
	switch (gmg_proc_sample(p, &s)) {
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

	spin_lock(&p->lock);
	gmg_assess(&p->st, &p->set, &s, &v);
	spin_unlock(&p->lock);
	WRITE_ONCE(p->wake_bytes, v.wake_bytes);
	WRITE_ONCE(p->next_eval, jiffies + GMG_EVAL_INTERVAL);
	if (v.growing) {
		set_bit(GMG_PROC_HOT, &p->flags);
		WRITE_ONCE(gmg_hot_seen, true);
	} else {
		clear_bit(GMG_PROC_HOT, &p->flags);
	}

	if (v.fire_signal)
		kill_pid(p->pid, READ_ONCE(p->set.signal), 1);
	if (!v.nr_warn && !v.eta && !v.recover)
		return;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
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
		tag = cgtag_covering(task_dfl_cgroup(t));
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
			spin_lock(&parent->lock);
			a[n].set = parent->set;
			spin_unlock(&parent->lock);
		}
		a[n].pid = get_pid(task_tgid(t));
		if (++n == GMG_ADOPT_BATCH)
			break;
	}
	rcu_read_unlock();
	return n;
}

static void gmg_adopt(struct work_struct *w)
{
	int i, n, rounds = GMG_ADOPT_ROUNDS;
	struct gmg_adoptee *a;
	struct task_struct *t;

	a = kmalloc_array(GMG_ADOPT_BATCH, sizeof(*a), GFP_KERNEL);
	if (!a)
		return;
	do {
		n = gmg_adopt_collect(a);
		for (i = 0; i < n; i++) {
			struct gmg_proc *p = NULL;

			mutex_lock(&gmg_lock);
			t = get_pid_task(a[i].pid, PIDTYPE_TGID);
			/* The tag may have gone meanwhile. */
			if (t && !proc_by_pid(a[i].pid) &&
			    (!a[i].tag || !list_empty(&a[i].tag->node)))
				p = gmg_proc_add(t, a[i].source, &a[i].set, a[i].tag);
			mutex_unlock(&gmg_lock);
			if (t)
				put_task_struct(t);
			if (IS_ERR_OR_NULL(p) && a[i].tag)
				cgtag_put(a[i].tag);
			put_pid(a[i].pid);
		}
	} while (n == GMG_ADOPT_BATCH && --rounds);
	kfree(a);
}

/*
 * May the periodic sample skip @p?  Only while its last assessment found it
 * quiet -- no level crossed, no ETA, nothing to recover from -- less than
 * GMG_QUIET_NS ago, its anon and swap have not moved since, and its memcg
 * has not used up a sixteenth of the room it had left below memory.max or
 * memory.high (a tmpfs writer or a sibling: the ETA may be the memcg's).
 * Caller holds gmg_lock (an exec replaces and drops p->mm under it) and
 * rcu_read_lock() (p->memcg is freed a grace period after its last put).
 */
static bool proc_still_quiet(struct gmg_proc *p, u64 now)
{
	const struct gmg_state *st = &p->st;
	u64 anon, swap, usage, limit, then;
	struct mem_cgroup *memcg;
	struct task_struct *task;
	bool quiet;

	task = pid_task(p->pid, PIDTYPE_TGID);
	memcg = READ_ONCE(p->memcg);
	if (!task || !memcg)
		return false;
	anon = (u64)gmg_mm_counter_exact(task, p->mm, MM_ANONPAGES) << PAGE_SHIFT;
	swap = (u64)gmg_mm_counter_exact(task, p->mm, MM_SWAPENTS) << PAGE_SHIFT;
	usage = (u64)page_counter_read(&memcg->memory) << PAGE_SHIFT;
	limit = (u64)min(READ_ONCE(memcg->memory.max),
			 READ_ONCE(memcg->memory.high)) << PAGE_SHIFT;

	spin_lock(&p->lock);
	then = st->last.memcg.usage;
	quiet = !st->eta_limit && !st->level && !st->eta_warned &&
		!st->first_warn_ns && !st->over_soft &&
		st->last.time_ns && now - st->last.time_ns < GMG_QUIET_NS &&
		anon == st->last.anon && swap == st->last.swap &&
		(usage <= then || limit <= then ||
		 usage - then < (limit - then) / 16);
	spin_unlock(&p->lock);
	return quiet;
}

/*
 * Every GMG_HOT_PER_SAMPLE hot periods (1 s): everyone who is not quiet,
 * and housekeeping.  In between, every GMG_HOT_PERIOD, the hot processes --
 * only while there are any: with none, the sampler sleeps to the next full
 * sample (ten wake-ups a second for nothing cost an untagged process's
 * page faults 0.4 % in the benchmark guest).
 */
static void gmg_sample(struct work_struct *w)
{
	bool everyone = xchg(&gmg_sample_everyone, false);
	u64 now = ktime_get_boottime_ns();
	unsigned long delay;
	struct gmg_proc *p;
	bool hot = false;

	if (everyone || time_after_eq(jiffies, gmg_next_full)) {
		gmg_next_full = jiffies + GMG_HOT_PER_SAMPLE * GMG_HOT_PERIOD;
		WRITE_ONCE(gmg_hot_seen, false);
		mutex_lock(&gmg_lock);
		rcu_read_lock();
		list_for_each_entry_rcu(p, &gmg_procs, node) {
			hot |= test_bit(GMG_PROC_HOT, &p->flags);
			if (everyone || !proc_still_quiet(p, now))
				queue_work(gmg_wq, &p->work);
		}
		rcu_read_unlock();
		mutex_unlock(&gmg_lock);
		gmg_memcg_housekeeping();
		gmg_pressure_housekeeping();
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
	delay = GMG_HOT_PERIOD;
	if (!hot && !READ_ONCE(gmg_hot_seen) &&
	    time_before(jiffies, gmg_next_full))
		delay = gmg_next_full - jiffies;
	queue_delayed_work(gmg_wq, &gmg_sampler, delay);
}

/* ---- for OOM post-mortems and the memcg view ---- */

/* Any context, under rcu_read_lock(): the watched state of @pid's process. */
bool gmg_tracker_peek(struct pid *pid, struct gmg_snapshot *snap)
{
	struct gmg_proc *p = proc_by_pid(pid);

	if (!p)
		return false;
	gmg_snapshot(p, snap, NULL);
	return true;
}

/* Is @p's memcg (at its last sample) @memcg or below it?  NULL: anywhere. */
static bool proc_in_memcg(struct gmg_proc *p, struct mem_cgroup *memcg)
{
	struct mem_cgroup *m = READ_ONCE(p->memcg);

	return !memcg || (m && cgroup_is_descendant(m->css.cgroup,
						     memcg->css.cgroup));
}

int gmg_tracker_snapshot_memcg(struct mem_cgroup *memcg, struct pid *skip,
			       struct gmg_snapshot *out, int max)
{
	struct gmg_proc *p;
	int n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &gmg_procs, node) {
		if (n == max)
			break;
		if (p->pid == skip || !proc_in_memcg(p, memcg))
			continue;
		gmg_snapshot(p, &out[n++], NULL);
	}
	rcu_read_unlock();
	return n;
}

int gmg_tracker_memcgs(struct mem_cgroup **out, int max)
{
	struct mem_cgroup *m;
	struct gmg_proc *p;
	int i, n = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &gmg_procs, node) {
		/* The sampler may be dropping it: only a live one is taken. */
		m = READ_ONCE(p->memcg);
		if (!m)
			continue;
		for (i = 0; i < n && out[i] != m; i++)
			;
		if (i < n || n == max || !css_tryget(&m->css))
			continue;
		out[n++] = m;
	}
	rcu_read_unlock();
	return n;
}

bool gmg_tracker_memcg_growing(struct mem_cgroup *memcg)
{
	struct gmg_proc *p;
	bool growing = false;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &gmg_procs, node) {
		if (READ_ONCE(p->memcg) == memcg &&
		    READ_ONCE(p->st.growth.sustained) &&
		    READ_ONCE(p->st.growth.rate) > 0) {
			growing = true;
			break;
		}
	}
	rcu_read_unlock();
	return growing;
}

/* A hint that the machine is out of memory: sample everyone right now. */
void gmg_tracker_sample_now(void)
{
	WRITE_ONCE(gmg_sample_everyone, true);
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

int gmg_tag_pid(pid_t nr, const struct gmg_settings *set,
		struct netlink_ext_ack *extack)
{
	struct task_struct *task = task_by_nr(nr, extack);
	struct gmg_proc *p;
	int err = 0;

	if (IS_ERR(task))
		return PTR_ERR(task);
	mutex_lock(&gmg_lock);
	p = proc_by_pid(task_tgid(task));
	if (p) {
		if (p->source == GOMEMGUARD_SOURCE_PID)
			NL_SET_ERR_MSG(extack, "process is already tagged");
		else
			NL_SET_ERR_MSG(extack,
				       "process is already watched through a cgroup tag or its parent");
		err = -EEXIST;
	} else {
		p = gmg_proc_add(task, GOMEMGUARD_SOURCE_PID, set, NULL);
		if (IS_ERR(p)) {
			err = PTR_ERR(p);
			if (err == -ESRCH)
				NL_SET_ERR_MSG(extack, "process is exiting");
		}
	}
	mutex_unlock(&gmg_lock);
	put_task_struct(task);
	return err;
}

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

int gmg_set_pid(pid_t nr, void (*apply)(struct gmg_settings *, const void *),
		const void *arg, struct netlink_ext_ack *extack)
{
	struct gmg_proc *p;
	int err = 0;

	mutex_lock(&gmg_lock);
	p = proc_by_nr(nr, extack);
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
	} else {
		spin_lock(&p->lock);
		apply(&p->set, arg);
		spin_unlock(&p->lock);
		queue_work(gmg_wq, &p->work);
	}
	mutex_unlock(&gmg_lock);
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
	mutex_lock(&gmg_lock);
	if (cgtag_by_cgroup(cgrp)) {
		NL_SET_ERR_MSG(extack, "cgroup is already tagged");
		err = -EEXIST;
		goto out;
	}
	tag = kzalloc(sizeof(*tag), GFP_KERNEL);
	if (!tag) {
		err = -ENOMEM;
		goto out;
	}
	tag->cgrp = cgrp;
	cgrp = NULL;		/* the tag owns the reference now */
	tag->set = *set;
	refcount_set(&tag->ref, 1);
	list_add_tail_rcu(&tag->node, &gmg_cgtags);
	static_branch_inc(&gmg_active);
out:
	mutex_unlock(&gmg_lock);
	if (cgrp)
		cgroup_put(cgrp);
	if (!err) {
		/* Current members are watched by the time the command returns. */
		mod_delayed_work(gmg_wq, &gmg_adopt_work, 0);
		flush_delayed_work(&gmg_adopt_work);
	}
	return err;
}

static void cgtag_remove(struct gmg_cgtag *tag)
{
	struct gmg_proc *p, *tmp;

	lockdep_assert_held(&gmg_lock);
	list_del_rcu(&tag->node);
	INIT_LIST_HEAD(&tag->node);	/* list_empty(): removed, for adoption */
	list_for_each_entry_safe(p, tmp, &gmg_procs, node)
		if (p->cgtag == tag)
			gmg_proc_remove(p);
	static_branch_dec(&gmg_active);
	cgtag_put(tag);
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

int gmg_set_cgroup(const char *path,
		   void (*apply)(struct gmg_settings *, const void *),
		   const void *arg, struct netlink_ext_ack *extack)
{
	struct cgroup *cgrp = cgroup_by_path(path, extack);
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
	apply(&tag->set, arg);
	list_for_each_entry(p, &gmg_procs, node) {
		if (p->cgtag != tag)
			continue;
		spin_lock(&p->lock);
		apply(&p->set, arg);
		spin_unlock(&p->lock);
		queue_work(gmg_wq, &p->work);
	}
out:
	mutex_unlock(&gmg_lock);
	cgroup_put(cgrp);
	return err;
}

/* ---- dumps ---- */

static int fill_proc_msg(struct sk_buff *skb, u32 portid, u32 seq, int flags,
			 struct gmg_proc *p, struct gmg_snapshot *snap)
{
	void *hdr;

	gmg_snapshot(p, snap, task_active_pid_ns(current));
	/* Not visible from the caller's PID namespace: not reported. */
	if (!snap->pid)
		return 0;
	hdr = gmg_genlmsg_put(skb, portid, seq, flags, GOMEMGUARD_CMD_PROC_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (gmg_fill_proc(skb, snap, true)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int gmg_tracker_dump_procs(struct sk_buff *skb, u32 portid, u32 seq,
			   unsigned long *pos)
{
	struct gmg_snapshot *snap;
	struct gmg_proc *p;
	unsigned long i = 0;
	int err = 0;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	/* Under gmg_lock: the list does not shift under our position. */
	mutex_lock(&gmg_lock);
	rcu_read_lock();
	list_for_each_entry(p, &gmg_procs, node) {
		if (i++ < *pos)
			continue;
		err = fill_proc_msg(skb, portid, seq, NLM_F_MULTI, p, snap);
		if (err)
			break;
		(*pos)++;
	}
	rcu_read_unlock();
	mutex_unlock(&gmg_lock);
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
	mutex_lock(&gmg_lock);
	p = proc_by_nr(nr, info->extack);
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
	} else {
		rcu_read_lock();
		err = fill_proc_msg(msg, info->snd_portid, info->snd_seq, 0, p, snap);
		rcu_read_unlock();
	}
	mutex_unlock(&gmg_lock);
	if (err)
		goto err_free;
	kfree(snap);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	kfree(snap);
	return err;
}

int gmg_tracker_dump_tags(struct sk_buff *skb, u32 portid, u32 seq,
			  unsigned long *pos)
{
	char *path = kmalloc(GMG_PATH_MAX, GFP_KERNEL);
	struct gmg_cgtag *tag;
	unsigned long i = 0;
	int err = 0;
	void *hdr;

	if (!path)
		return -ENOMEM;
	mutex_lock(&gmg_lock);
	list_for_each_entry(tag, &gmg_cgtags, node) {
		if (i++ < *pos)
			continue;
		if (cgroup_path(tag->cgrp, path, GMG_PATH_MAX) < 0)
			strscpy(path, "?", GMG_PATH_MAX);
		hdr = gmg_genlmsg_put(skb, portid, seq, NLM_F_MULTI,
				      GOMEMGUARD_CMD_TAG_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		if (nla_put_string(skb, GOMEMGUARD_A_CGROUP, path) ||
		    nla_put_u32(skb, GOMEMGUARD_A_TAG_MEMBERS, tag->members) ||
		    gmg_fill_settings(skb, &tag->set)) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		(*pos)++;
	}
	mutex_unlock(&gmg_lock);
	kfree(path);
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
	 * items are short, and the periodic sample skips quiet processes.
	 */
	gmg_wq = alloc_workqueue("gomemguard",
				 WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!gmg_wq)
		return -ENOMEM;
	INIT_DELAYED_WORK(&gmg_adopt_work, gmg_adopt);
	INIT_DELAYED_WORK(&gmg_sampler, gmg_sample);
	gmg_next_full = jiffies;
	queue_delayed_work(gmg_wq, &gmg_sampler, GMG_HOT_PERIOD);
	return 0;
}

/* Called with the hooks and the netlink family already gone. */
void gmg_tracker_uninit(void)
{
	struct gmg_cgtag *tag, *ttmp;
	struct gmg_proc *p, *tmp;

	cancel_delayed_work_sync(&gmg_sampler);
	cancel_delayed_work_sync(&gmg_adopt_work);
	mutex_lock(&gmg_lock);
	list_for_each_entry_safe(tag, ttmp, &gmg_cgtags, node)
		cgtag_remove(tag);
	list_for_each_entry_safe(p, tmp, &gmg_procs, node)
		gmg_proc_remove(p);
	mutex_unlock(&gmg_lock);
	/* queue_rcu_work() queues after a grace period; wait for those. */
	rcu_barrier();
	destroy_workqueue(gmg_wq);
	/* kfree_rcu() of cgroup tags. */
	rcu_barrier();
	WARN_ON(atomic_read(&gmg_nr_procs));
}
