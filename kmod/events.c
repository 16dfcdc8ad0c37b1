// SPDX-License-Identifier: GPL-2.0
/*
 * Events: notifications to subscribed listeners, each with a global
 * sequence number so that a listener can tell when it lost some, and a
 * per-process rate limit so that a flapping process cannot flood listeners.
 * The counters answer, in `gomemctl info`, whether the system was quiet or
 * the module had to drop events.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/pid_namespace.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <net/sock.h>

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
 * Listeners subscribe with EVENTS_SUBSCRIBE and get every event by unicast,
 * with PIDs as their own PID namespace may see them: a listener in the
 * initial namespace gets them, one elsewhere gets events without PIDs (a
 * multicast group could not tell its members apart).  The subscriber's
 * socket is held so that a closed one is recognised even before the
 * netlink notifier has removed it, and its port ID cannot be inherited by
 * a later socket.
 */
struct gmg_listener {
	u32 portid;
	struct sock *sk;
	bool init_ns;		/* in the initial PID namespace */
};

/*
 * Numbering, the listener table and sending, all under this lock, so that
 * listeners receive events in sequence order and a gap always means a loss.
 * Unload closes the gate under it before the family goes away.
 */
static DEFINE_MUTEX(gmg_send_lock);
static bool gmg_gate_open;
static struct gmg_listener gmg_listeners[GOMEMGUARD_LISTENERS_MAX];
static unsigned int gmg_nr_listeners;
static atomic64_t gmg_overflowed = ATOMIC64_INIT(0);

u64 gmg_events_sent(void)
{
	return atomic64_read(&gmg_sent);
}

u64 gmg_events_dropped(void)
{
	return atomic64_read(&gmg_dropped);
}

u64 gmg_events_overflowed(void)
{
	return atomic64_read(&gmg_overflowed);
}

u32 gmg_events_listeners(void)
{
	return READ_ONCE(gmg_nr_listeners);
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

/* Under gmg_send_lock: forget listener @i. */
static void gmg_listener_drop(unsigned int i)
{
	sock_put(gmg_listeners[i].sk);
	gmg_listeners[i] = gmg_listeners[--gmg_nr_listeners];
}

/* One message of the event, with or without PIDs; NULL: no memory or room. */
static struct sk_buff *gmg_event_build(u32 type, u64 now, u64 number,
				       size_t size, gmg_event_fill_t fill,
				       const void *arg, bool pids)
{
	struct sk_buff *skb = genlmsg_new(size, GFP_KERNEL);
	void *hdr;

	if (!skb)
		return NULL;
	hdr = gmg_genlmsg_put(skb, 0, 0, 0, GOMEMGUARD_CMD_EVENT);
	if (!hdr || nla_put_u64_64bit(skb, GOMEMGUARD_A_SEQ, number, GOMEMGUARD_A_PAD) ||
	    nla_put_u32(skb, GOMEMGUARD_A_EVENT, type) ||
	    nla_put_u64_64bit(skb, GOMEMGUARD_A_TIME_NS, now, GOMEMGUARD_A_PAD) ||
	    fill(skb, arg, pids)) {
		nlmsg_free(skb);
		return NULL;
	}
	genlmsg_end(skb, hdr);
	return skb;
}

/*
 * Send one event that happened at @when (CLOCK_BOOTTIME ns; 0: now), in a
 * message of @size bytes of payload; @fill adds what it is about.  @arg
 * NULL: the caller could not even describe it (no memory); the event is
 * counted as dropped.  @rl NULL: not rate-limited (EXIT and OOM come once
 * per process or kill).  Every event that passes the rate limit takes a
 * sequence number, listened to or not; a listener whose socket is full
 * loses it, which its sequence gap and the overflow counter both show.
 */
void gmg_event_send_fill(u32 type, u64 when, size_t size, gmg_event_fill_t fill,
			 const void *arg, struct gmg_ratelimit *rl)
{
	u64 now = when ?: ktime_get_boottime_ns();
	struct sk_buff *msg[2] = {}, *skb;	/* [1]: with PIDs */
	struct gmg_listener *l;
	unsigned int i;
	u64 number;
	int err;

	if (!arg || (rl && gmg_ratelimited(rl, now))) {
		atomic64_inc(&gmg_dropped);
		return;
	}

	mutex_lock(&gmg_send_lock);
	if (!gmg_gate_open)
		goto out;
	number = atomic64_inc_return(&gmg_seq);
	atomic64_inc(&gmg_sent);
	for (i = 0; i < gmg_nr_listeners; ) {
		l = &gmg_listeners[i];
		/* Closed, the notifier not yet run: gone all the same. */
		if (sock_flag(l->sk, SOCK_DEAD)) {
			gmg_listener_drop(i);
			continue;
		}
		i++;
		if (!msg[l->init_ns])
			msg[l->init_ns] = gmg_event_build(type, now, number,
							  size, fill, arg,
							  l->init_ns);
		skb = msg[l->init_ns] ? skb_clone(msg[l->init_ns], GFP_KERNEL) : NULL;
		if (!skb) {
			atomic64_inc(&gmg_overflowed);
			continue;
		}
		err = genlmsg_unicast(&init_net, skb, l->portid);
		if (err)
			atomic64_inc(&gmg_overflowed);
	}
out:
	mutex_unlock(&gmg_send_lock);
	nlmsg_free(msg[0]);
	nlmsg_free(msg[1]);
}

static int gmg_fill_proc_arg(struct sk_buff *skb, const void *snap, bool pids)
{
	return gmg_fill_proc(skb, snap, pids);
}

void gmg_event_send(u32 type, const struct gmg_snapshot *snap,
		    struct gmg_ratelimit *rl)
{
	gmg_event_send_fill(type, 0, NLMSG_GOODSIZE, gmg_fill_proc_arg, snap, rl);
}

/* The answer to EVENTS_SUBSCRIBE: SEQ, the last number taken so far. */
static int gmg_events_subscribed_reply(struct genl_info *info)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = gmg_genlmsg_put(msg, info->snd_portid, info->snd_seq, 0,
			      GOMEMGUARD_CMD_EVENTS_SUBSCRIBE);
	if (!hdr || nla_put_u64_64bit(msg, GOMEMGUARD_A_SEQ,
				      atomic64_read(&gmg_seq), GOMEMGUARD_A_PAD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/*
 * EVENTS_SUBSCRIBE from the socket that sent @skb.  Subscribing twice is
 * harmless; the table is bounded so that unprivileged listeners (with the
 * open_read parameter) cannot make every event cost unbounded work.
 */
int gmg_events_subscribe(struct sk_buff *skb, struct genl_info *info)
{
	struct sock *sk = NETLINK_CB(skb).sk;
	u32 portid = info->snd_portid;
	unsigned int i;
	int err = 0;

	mutex_lock(&gmg_send_lock);
	if (!gmg_gate_open) {
		GENL_SET_ERR_MSG(info, "gomemguard is loading or unloading: try again");
		err = -ESHUTDOWN;
		goto out;
	}
	for (i = 0; i < gmg_nr_listeners; i++) {
		if (gmg_listeners[i].portid != portid)
			continue;
		if (gmg_listeners[i].sk == sk) {
			err = gmg_events_subscribed_reply(info);
			goto out;
		}
		/* An old socket's leftover: the port is this one's now. */
		gmg_listener_drop(i);
		break;
	}
	if (gmg_nr_listeners == GOMEMGUARD_LISTENERS_MAX) {
		GENL_SET_ERR_MSG(info, "too many event listeners (64)");
		err = -EBUSY;
		goto out;
	}
	/* The reply goes out before any event can: both under the lock. */
	err = gmg_events_subscribed_reply(info);
	if (err)
		goto out;
	sock_hold(sk);
	gmg_listeners[gmg_nr_listeners++] = (struct gmg_listener) {
		.portid = portid,
		.sk = sk,
		.init_ns = task_active_pid_ns(current) == &init_pid_ns,
	};
out:
	mutex_unlock(&gmg_send_lock);
	return err;
}

/* A generic-netlink socket closed: if it listened, it no longer does. */
static int gmg_netlink_notify(struct notifier_block *nb, unsigned long what,
			      void *data)
{
	struct netlink_notify *n = data;
	unsigned int i;

	if (what != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !READ_ONCE(gmg_nr_listeners))
		return NOTIFY_DONE;
	mutex_lock(&gmg_send_lock);
	for (i = 0; i < gmg_nr_listeners; i++) {
		if (gmg_listeners[i].portid == n->portid &&
		    net_eq(sock_net(gmg_listeners[i].sk), n->net) &&
		    sock_flag(gmg_listeners[i].sk, SOCK_DEAD)) {
			gmg_listener_drop(i);
			break;
		}
	}
	mutex_unlock(&gmg_send_lock);
	return NOTIFY_DONE;
}

static struct notifier_block gmg_netlink_nb = {
	.notifier_call = gmg_netlink_notify,
};

/* Once the family is registered; until then subscribing is refused. */
int gmg_events_open(void)
{
	int err = netlink_register_notifier(&gmg_netlink_nb);

	if (err)
		return err;
	mutex_lock(&gmg_send_lock);
	gmg_gate_open = true;
	mutex_unlock(&gmg_send_lock);
	return 0;
}

/* Before the family is unregistered: no sender may still be using it. */
void gmg_events_close(void)
{
	mutex_lock(&gmg_send_lock);
	gmg_gate_open = false;
	while (gmg_nr_listeners)
		gmg_listener_drop(0);
	mutex_unlock(&gmg_send_lock);
	netlink_unregister_notifier(&gmg_netlink_nb);
}
