/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels gomemguard supports lives here, and
 * only here.  Kbuild force-includes this header ahead of every module source
 * file, so the core files are written against one API and never test
 * LINUX_VERSION_CODE themselves.
 *
 * Differences are decided by what a kernel has, not by its version number:
 * a feature macro the kernel itself defines, or a GMG_HAVE_* flag that
 * kmod/Kbuild sets by looking into the kernel's headers.  Distributions
 * backport (Debian's 6.12 has get_mm_counter_sum(), which mainline got in
 * 6.16), so a version number would be wrong in both directions.
 *
 * Tested: Debian 12's 6.1 (linux-image-amd64) and 6.12
 * (linux-image-6.12-amd64) kernels, and Debian 13's 6.12 rt-amd64
 * (PREEMPT_RT).
 */
#ifndef _GMG_COMPAT_H
#define _GMG_COMPAT_H

/* Every message carries the module's name; set before any header sees it. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/percpu_counter.h>
#include <linux/sched/signal.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "gomemguard supports Linux 6.1 and later"
#endif

/*
 * PREEMPT_RT (Debian's rt-amd64) needs nothing here, only discipline: there
 * spinlock_t, rwlock_t and task_lock() sleep, so no probe (hooks.c, oom.c,
 * pressure.c) takes one, nor calls what does (cgroup_path(),
 * get_task_comm() before 6.13, kmalloc); the locks they share with
 * process context are raw and short.
 */

/*
 * oom:mark_victim, fired by mark_oom_victim() with the victim thread's
 * task_lock held (or on current) and its ->mm set.  "mm: update
 * mark_victim tracepoints fields" (mainline 6.8, stable 6.1.130; Debian's
 * 6.1, 6.12 and 7.2 have it) made its arguments (task, uid); before, the
 * thread's PID alone: then the thread is looked up -- the OOM killer holds
 * a reference to it while the event fires.  Kbuild looks at the event.
 * GMG_MARK_VICTIM_TASK is the thread, from GMG_MARK_VICTIM_PROTO's arguments.
 */
#ifdef GMG_HAVE_MARK_VICTIM_TASK
#define GMG_MARK_VICTIM_PROTO	void *data, struct task_struct *task, uid_t uid
#define GMG_MARK_VICTIM_TASK	(task)
#else
#define GMG_MARK_VICTIM_PROTO	void *data, int pid
#define GMG_MARK_VICTIM_TASK	gmg_mark_victim_thread(pid)
static inline struct task_struct *gmg_mark_victim_thread(int pid)
{
	struct task_struct *t;

	rcu_read_lock();
	t = pid_task(find_pid_ns(pid, &init_pid_ns), PIDTYPE_PID);
	rcu_read_unlock();
	return t;
}
#endif

/*
 * kmem:rss_stat.  SPLIT_RSS_COUNTING (each thread caching its counter
 * deltas) went away when the mm counters became percpu_counters
 * (f1a7941243c1, 6.2); the same change took the tracepoint's count argument
 * away and made it fire on every change.  With it, the tracepoint fires when
 * a thread's cached counts are folded into the mm (every 64 faults) and on
 * direct updates.
 */
#ifdef SPLIT_RSS_COUNTING
#define GMG_RSS_STAT_PROTO	void *data, struct mm_struct *mm, int member, \
				long count
#else
#define GMG_RSS_STAT_PROTO	void *data, struct mm_struct *mm, int member
#endif

/*
 * gmg_mm_counter_exact(): an mm counter including what is not yet folded in.
 * @leader is a thread of the process owning @mm; caller holds rcu_read_lock().
 *
 * With SPLIT_RSS_COUNTING each thread caches its own deltas and folds them
 * into the mm only every 64 faults: a thread that faulted in memory and then
 * went idle never does.  Adding the caches of all threads gives the number
 * /proc would show once they sync.  With percpu_counters the sum over CPUs
 * is exact: get_mm_counter_sum() where the kernel has it (mainline 6.16 and
 * stable backports), the same sum spelled out where it does not.
 */
#ifdef SPLIT_RSS_COUNTING
static inline unsigned long gmg_mm_counter_exact(struct task_struct *leader,
						 struct mm_struct *mm,
						 int member)
{
	long v = atomic_long_read(&mm->rss_stat.count[member]);
	struct task_struct *t;

	for_each_thread(leader, t)
		if (t->mm == mm)
			v += READ_ONCE(t->rss_stat.count[member]);
	return v > 0 ? v : 0;
}
#elif defined(GMG_HAVE_GET_MM_COUNTER_SUM)
static inline unsigned long gmg_mm_counter_exact(struct task_struct *leader,
						 struct mm_struct *mm,
						 int member)
{
	return get_mm_counter_sum(mm, member);
}
#else
static inline unsigned long gmg_mm_counter_exact(struct task_struct *leader,
						 struct mm_struct *mm,
						 int member)
{
	return percpu_counter_sum_positive(&mm->rss_stat[member]);
}
#endif

/*
 * The multi-gen LRU keeps its own page counts per generation, type and zone
 * (struct lru_gen_struct, later lru_gen_folio: the field is the same) and
 * does not update the classic lru_zone_size[][] for the folios it holds.
 * Without CONFIG_LRU_GEN there is nothing to add.
 */
#ifdef CONFIG_LRU_GEN
#define GMG_LRU_GENS		MAX_NR_GENS
static inline long gmg_lrugen_pages(struct lruvec *lruvec, int gen, bool file,
				    int zone)
{
	return READ_ONCE(lruvec->lrugen.nr_pages[gen]
			 [file ? LRU_GEN_FILE : LRU_GEN_ANON][zone]);
}
#else
#define GMG_LRU_GENS		0
static inline long gmg_lrugen_pages(struct lruvec *lruvec, int gen, bool file,
				    int zone)
{
	return 0;
}
#endif

/*
 * vmpressure(), kprobed by pressure.c: its arguments are read by position,
 * so a change of its prototype would be read as garbage, not refused.  7.x
 * put the allocation's order second, (gfp, order, memcg, tree, scanned,
 * reclaimed); Kbuild looks for that prototype in the kernel's header.
 */
#ifdef GMG_HAVE_VMPRESSURE_ORDER
#define GMG_VMPRESSURE_ARG_MEMCG	2
#else
#define GMG_VMPRESSURE_ARG_MEMCG	1
#endif
#define GMG_VMPRESSURE_ARG_TREE		(GMG_VMPRESSURE_ARG_MEMCG + 1)
#define GMG_VMPRESSURE_ARG_SCANNED	(GMG_VMPRESSURE_ARG_MEMCG + 2)
#define GMG_VMPRESSURE_ARG_RECLAIMED	(GMG_VMPRESSURE_ARG_MEMCG + 3)

#endif /* _GMG_COMPAT_H */
