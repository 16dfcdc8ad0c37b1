// SPDX-License-Identifier: GPL-2.0
/*
 * Event accounting: how many notifications went out, how many were lost, and
 * the per-process rate limit that keeps a flapping process from flooding
 * listeners.  The counters are read by GOMEMGUARD_CMD_INFO_GET so that an
 * operator can tell a quiet system from a lossy one.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>

#include "gomemguard.h"

static atomic64_t gmg_sent = ATOMIC64_INIT(0);
static atomic64_t gmg_dropped = ATOMIC64_INIT(0);

/*
 * Written by CONFIG_SET, read locklessly from the event path.  The two fields
 * are independent: a reader that sees a new interval with an old burst sees a
 * limit that an operator could have set, never a torn value.
 */
static u32 gmg_interval_ms = GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT;
static u32 gmg_burst = GOMEMGUARD_EVENT_BURST_DEFAULT;

u64 gmg_events_sent(void)
{
	return atomic64_read(&gmg_sent);
}

u64 gmg_events_dropped(void)
{
	return atomic64_read(&gmg_dropped);
}

struct gmg_event_limit gmg_events_limit(void)
{
	return (struct gmg_event_limit) {
		.interval_ms = READ_ONCE(gmg_interval_ms),
		.burst = READ_ONCE(gmg_burst),
	};
}

/* A NULL argument keeps the current value. */
void gmg_events_set_limit(const u32 *interval_ms, const u32 *burst)
{
	if (interval_ms)
		WRITE_ONCE(gmg_interval_ms, *interval_ms);
	if (burst)
		WRITE_ONCE(gmg_burst, *burst);
}
