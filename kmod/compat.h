/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels gomemguard supports lives here, and
 * only here.  Kbuild force-includes this header ahead of every module source
 * file, so the core files are written against one API and never test
 * LINUX_VERSION_CODE themselves.
 *
 * Supported: Debian 12's 6.1 (linux-image-amd64) and 6.12
 * (linux-image-6.12-amd64) kernels.
 */
#ifndef _GMG_COMPAT_H
#define _GMG_COMPAT_H

/* Every message carries the module's name; set before any header sees it. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "gomemguard supports Linux 6.1 and later"
#endif

/*
 * kmem:rss_stat.  6.2 turned the mm counters into percpu_counters
 * (f1a7941243c1): the tracepoint lost its count argument and fires on every
 * change.  Before, it fires when a thread's cached counts are folded into the
 * mm (every 64 faults) and on direct updates.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define GMG_RSS_STAT_PROTO	void *data, struct mm_struct *mm, int member
#else
#define GMG_RSS_STAT_PROTO	void *data, struct mm_struct *mm, int member, \
				long count
#endif

/*
 * gmg_mm_counter_exact(): an mm counter including what is not yet folded in.
 * @leader is a thread of the process owning @mm; caller holds rcu_read_lock().
 *
 * Before 6.2 each thread caches its own deltas (SPLIT_RSS_COUNTING) and
 * folds them into the mm only every 64 faults: a thread that faulted in
 * memory and then went idle never does.  Adding the caches of all threads
 * gives the number /proc would show once they sync.  Since 6.2 a
 * percpu_counter sum is exact.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
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
	long v = atomic_long_read(&mm->rss_stat.count[member]);
	struct task_struct *t;

	for_each_thread(leader, t)
		if (t->mm == mm)
			v += READ_ONCE(t->rss_stat.count[member]);
	return v > 0 ? v : 0;
}
#endif

#endif /* _GMG_COMPAT_H */
