/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rss hook's fast path, inlined into the probe (hooks.c) and kept by
 * the tracker (tracker.c).
 *
 * The hook runs on every change of every process's mm counters -- every
 * page fault where they are percpu_counters (6.2 on) -- and almost none of
 * those mms is watched.  Its first test is: off while nothing is tagged,
 * then one bit per hash of a watched mm.  At 10,000 tags 4 % of the bits
 * are set, against 91 % of 4,096 hash buckets: an untagged process's
 * faults almost never go further.  A process tagged a moment ago may miss
 * one change; its first sample sees it.
 *
 * Kernel only: the host's unit tests build gomemguard.h without it.
 */
#ifndef _GMG_MM_FILTER_H
#define _GMG_MM_FILTER_H

#include <linux/bitops.h>
#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/mm_types.h>

#define GMG_FILTER_BITS		18
/* Set while some watched process has an mm of that hash; 32 KiB. */
extern unsigned long gmg_mm_filter[];
DECLARE_STATIC_KEY_FALSE(gmg_active);

static inline bool gmg_tracker_may_watch(struct mm_struct *mm)
{
	return static_branch_unlikely(&gmg_active) &&
	       test_bit(hash_ptr(mm, GMG_FILTER_BITS), gmg_mm_filter);
}

#endif /* _GMG_MM_FILTER_H */
