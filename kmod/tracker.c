// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker owns the state of every tagged process.  Identity is a
 * struct pid reference, never a bare number, because PIDs are reused.
 */
#include <linux/atomic.h>

#include "gomemguard.h"

static atomic_t gmg_tagged = ATOMIC_INIT(0);

u32 gmg_tracker_count(void)
{
	return atomic_read(&gmg_tagged);
}
