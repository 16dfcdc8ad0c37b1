// SPDX-License-Identifier: GPL-2.0
/*
 * Events: notifications on the "events" multicast group, each with a global
 * sequence number so that a listener can tell when it lost some, and a
 * per-process rate limit so that a flapping process cannot flood listeners.
 * The counters answer, in `gomemctl info`, whether the system was quiet or
 * the module had to drop events.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>

#include "gomemguard.h"

static atomic64_t gmg_seq = ATOMIC64_INIT(0);
static atomic64_t gmg_sent = ATOMIC64_INIT(0);
static atomic64_t gmg_dropped = ATOMIC64_INIT(0);

/*
 * Written by CONFIG_SET, read locklessly by the event path.  The two fields
 * are independent: a reader that sees a new interval with an old burst sees a
 * limit that an operator could have set, never a torn value.
 */
static u32 gmg_interval_ms = GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT;
static u32 gmg_burst = GOMEMGUARD_EVENT_BURST_DEFAULT;

/*
 * Numbering and sending happen together under this lock, so that listeners
 * receive events in sequence order and a gap always means a loss.  Unload
 * closes the gate under it before the family goes away.
 */
static DEFINE_MUTEX(gmg_send_lock);
static bool gmg_gate_open;

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

static bool gmg_ratelimited(struct gmg_ratelimit *rl, u64 now)
{
	struct gmg_event_limit limit = gmg_events_limit();

	if (!rl->start_ns || now - rl->start_ns >= (u64)limit.interval_ms * NSEC_PER_MSEC) {
		rl->start_ns = now;
		rl->count = 0;
	}
	if (rl->count >= limit.burst)
		return true;
	rl->count++;
	return false;
}

/*
 * Send one event that happened at @when (CLOCK_BOOTTIME ns; 0: now), in a
 * message of @size bytes of payload; @fill adds what it is about.  @arg NULL: the caller could
 * not even describe it (no memory); the event is counted as dropped.  @rl
 * NULL: not rate-limited (EXIT and OOM come once per process or kill).
 */
void gmg_event_send_fill(u32 type, u64 when, size_t size,
			 int (*fill)(struct sk_buff *, const void *),
			 const void *arg, struct gmg_ratelimit *rl)
{
	u64 now = when ?: ktime_get_boottime_ns();
	struct nlattr *seq;
	struct sk_buff *skb;
	u64 number;
	void *hdr;

	if (!arg || (rl && gmg_ratelimited(rl, now)))
		goto drop;
	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		goto drop;
	hdr = gmg_genlmsg_put(skb, 0, 0, 0, GOMEMGUARD_CMD_EVENT);
	if (!hdr)
		goto drop_skb;
	/* Room for the number now: once taken, a number must be sent. */
	seq = nla_reserve_64bit(skb, GOMEMGUARD_A_SEQ, sizeof(u64),
				GOMEMGUARD_A_PAD);
	if (!seq || nla_put_u32(skb, GOMEMGUARD_A_EVENT, type) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_TIME_NS, now, GOMEMGUARD_A_PAD) ||
	    fill(skb, arg))
		goto drop_skb;
	genlmsg_end(skb, hdr);

	mutex_lock(&gmg_send_lock);
	if (!gmg_gate_open) {
		mutex_unlock(&gmg_send_lock);
		goto drop_skb;
	}
	number = atomic64_inc_return(&gmg_seq);
	memcpy(nla_data(seq), &number, sizeof(number));
	/* -ESRCH: nobody listens; the event still happened. */
	gmg_multicast_event(skb);
	atomic64_inc(&gmg_sent);
	mutex_unlock(&gmg_send_lock);
	return;

drop_skb:
	nlmsg_free(skb);
drop:
	atomic64_inc(&gmg_dropped);
}

static int gmg_fill_proc_arg(struct sk_buff *skb, const void *snap)
{
	return gmg_fill_proc(skb, snap);
}

void gmg_event_send(u32 type, const struct gmg_snapshot *snap,
		    struct gmg_ratelimit *rl)
{
	gmg_event_send_fill(type, 0, NLMSG_GOODSIZE, gmg_fill_proc_arg, snap, rl);
}

/* Once the family is registered. */
void gmg_events_open(void)
{
	mutex_lock(&gmg_send_lock);
	gmg_gate_open = true;
	mutex_unlock(&gmg_send_lock);
}

/* Before the family is unregistered: no sender may still be using it. */
void gmg_events_close(void)
{
	mutex_lock(&gmg_send_lock);
	gmg_gate_open = false;
	mutex_unlock(&gmg_send_lock);
}
