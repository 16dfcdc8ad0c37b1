// SPDX-License-Identifier: GPL-2.0
/*
 * Events: notifications to subscribed listeners, each with a global
 * sequence number so that a listener can tell when it lost some, and a
 * per-process rate limit so that a flapping process cannot flood listeners.
 * The counters answer, in `gomemctl info`, whether the system was quiet or
 * the module had to drop events.
 *
 * Whoever raises an event builds its messages (one with PIDs, one without,
 * as the listeners need), then numbers it and queues it, under a spinlock
 * held for a few instructions.  One work item sends the queue in order to
 * every listener, holding nothing while it sends: numbering and queueing
 * under one lock is what makes a gap in a listener's sequence a loss, not
 * a reordering.
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/pid_namespace.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "gomemguard.h"

/* Events built but not yet sent; beyond this they are dropped, counted. */
#define GMG_OUTQ_MAX	1024

static atomic64_t gmg_sent = ATOMIC64_INIT(0);
static atomic64_t gmg_dropped = ATOMIC64_INIT(0);
static atomic64_t gmg_overflowed = ATOMIC64_INIT(0);

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
	bool priv;		/* subscribed with CAP_NET_ADMIN */
	kuid_t uid;
	u64 from_seq;		/* gets events numbered above this */
};

/* The listener table; the sender copies it, and sends without the lock. */
static DEFINE_MUTEX(gmg_listeners_lock);
static struct gmg_listener gmg_listeners[GOMEMGUARD_LISTENERS_MAX];
static unsigned int gmg_nr_listeners;
/* Listeners of each kind, [1]: in the initial PID namespace. */
static atomic_t gmg_nr_kind[2];
/* Bumped by every change of the table: the sender copies it again. */
static atomic_t gmg_listeners_gen = ATOMIC_INIT(0);

/*
 * Numbering and queueing.  gmg_outq.lock is taken for both at once;
 * gmg_seq only ever changes under it.
 */
static struct sk_buff_head gmg_outq;
static u64 gmg_seq;
static bool gmg_gate_open;
static struct workqueue_struct *gmg_events_wq;
static struct work_struct gmg_send_work;

struct gmg_event_cb {
	u64 seq;
	bool pids;
};

static struct gmg_event_cb *event_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct gmg_event_cb) > sizeof(skb->cb));
	return (struct gmg_event_cb *)skb->cb;
}

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

	/* Signed: @now may have been read before a racing sender's. */
	if (!rl->start_ns ||
	    (s64)(now - rl->start_ns) >= (s64)limit.interval_ms * NSEC_PER_MSEC) {
		rl->start_ns = now;
		rl->count = 0;
	}
	if (rl->count >= limit.burst)
		return true;
	rl->count++;
	return false;
}

/*
 * One message of the event, with or without PIDs, its SEQ to be written
 * when it is numbered (*@seq_at); NULL: no memory or room.
 */
static struct sk_buff *gmg_event_build(u32 type, u64 now, size_t size,
				       gmg_event_fill_t fill, const void *arg,
				       bool pids, void **seq_at,
				       struct sk_buff *pre)
{
	struct sk_buff *skb = pre ?: genlmsg_new(size, GMG_GFP);
	struct nlattr *seq;
	void *hdr;

	if (!skb)
		return NULL;
	hdr = gmg_genlmsg_put(skb, 0, 0, 0, GOMEMGUARD_CMD_EVENT);
	if (!hdr)
		goto err;
	seq = nla_reserve_64bit(skb, GOMEMGUARD_A_SEQ, sizeof(u64), GOMEMGUARD_A_PAD);
	if (!seq || nla_put_u32(skb, GOMEMGUARD_A_EVENT, type) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_TIME_NS, now) || fill(skb, arg, pids))
		goto err;
	genlmsg_end(skb, hdr);
	*seq_at = nla_data(seq);
	event_cb(skb)->pids = pids;
	return skb;
err:
	nlmsg_free(skb);
	return NULL;
}

/*
 * Send one event that happened at @when (CLOCK_BOOTTIME ns; 0: now), in a
 * message of @size bytes of payload; @fill adds what it is about.  @arg
 * NULL: the caller could not even describe it (no memory).  @rl NULL: not
 * rate-limited (EXIT and OOM come once per process or kill).  An event
 * that passes the rate limit and gets its messages takes a sequence
 * number, listened to or not; one that does not is dropped and counted,
 * and takes none.  A listener whose socket is full loses it, which its
 * sequence gap and the overflow counter both show.
 */
int gmg_event_send_fill(u32 type, u64 when, size_t size, gmg_event_fill_t fill,
			const void *arg, struct gmg_ratelimit *rl)
{
	return gmg_event_send_pre(type, when, size, fill, arg, rl, NULL);
}

/*
 * As gmg_event_send_fill(), in messages the caller allocated beforehand
 * (genlmsg_new(@size)) where @pre has them: [1] for listeners that see
 * PIDs, [0] for the others.  Those used are taken, and NULL in @pre after.
 */
int gmg_event_send_pre(u32 type, u64 when, size_t size, gmg_event_fill_t fill,
		       const void *arg, struct gmg_ratelimit *rl,
		       struct sk_buff **pre)
{
	u64 now = when ?: ktime_get_boottime_ns();
	struct sk_buff *msg[2] = {};		/* [1]: with PIDs */
	void *seq_at[2] = {};
	int i, err = 0;
	u64 number;

	if (!arg || (rl && gmg_ratelimited(rl, now))) {
		atomic64_inc(&gmg_dropped);
		return arg ? 0 : -ENOMEM;
	}
	for (i = 0; i < 2; i++) {
		if (!atomic_read(&gmg_nr_kind[i]))
			continue;
		msg[i] = gmg_event_build(type, now, size, fill, arg, i, &seq_at[i],
					 pre ? pre[i] : NULL);
		if (pre)
			pre[i] = NULL;
		if (!msg[i])
			err = -ENOMEM;
	}

	spin_lock(&gmg_outq.lock);
	if (!gmg_gate_open || err ||
	    skb_queue_len(&gmg_outq) + 2 > GMG_OUTQ_MAX) {
		spin_unlock(&gmg_outq.lock);
		atomic64_inc(&gmg_dropped);
		goto out;
	}
	number = ++gmg_seq;
	for (i = 0; i < 2; i++) {
		if (!msg[i])
			continue;
		memcpy(seq_at[i], &number, sizeof(number));
		event_cb(msg[i])->seq = number;
		__skb_queue_tail(&gmg_outq, msg[i]);
		msg[i] = NULL;
	}
	spin_unlock(&gmg_outq.lock);
	atomic64_inc(&gmg_sent);
	queue_work(gmg_events_wq, &gmg_send_work);
out:
	kfree_skb(msg[0]);
	kfree_skb(msg[1]);
	return err;
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

/* Under gmg_listeners_lock: forget listener @i. */
static void gmg_listener_drop(unsigned int i)
{
	lockdep_assert_held(&gmg_listeners_lock);
	atomic_dec(&gmg_nr_kind[gmg_listeners[i].init_ns]);
	sock_put(gmg_listeners[i].sk);
	gmg_listeners[i] = gmg_listeners[--gmg_nr_listeners];
	atomic_inc(&gmg_listeners_gen);
}

/* The sender's copy of the table, each socket held. */
struct gmg_send_view {
	int gen;
	unsigned int n;
	struct gmg_listener l[GOMEMGUARD_LISTENERS_MAX];
};

static void view_release(struct gmg_send_view *v)
{
	while (v->n)
		sock_put(v->l[--v->n].sk);
}

static void view_take(struct gmg_send_view *v)
{
	unsigned int i;

	view_release(v);
	mutex_lock(&gmg_listeners_lock);
	v->gen = atomic_read(&gmg_listeners_gen);
	for (i = 0; i < gmg_nr_listeners; ) {
		/* Closed, the notifier not yet run: gone all the same. */
		if (sock_flag(gmg_listeners[i].sk, SOCK_DEAD)) {
			gmg_listener_drop(i);
			v->gen = atomic_read(&gmg_listeners_gen);
			continue;
		}
		v->l[v->n] = gmg_listeners[i++];
		sock_hold(v->l[v->n++].sk);
	}
	mutex_unlock(&gmg_listeners_lock);
}

/* The one sender: in sequence order, to every listener, holding no lock. */
static void gmg_send_workfn(struct work_struct *w)
{
	static struct gmg_send_view view;	/* only this work item uses it */
	struct gmg_event_cb *cb;
	struct sk_buff *skb, *copy;
	unsigned int i;

	view.gen = -1;
	while ((skb = skb_dequeue(&gmg_outq))) {
		if (view.gen != atomic_read(&gmg_listeners_gen))
			view_take(&view);
		cb = event_cb(skb);
		for (i = 0; i < view.n; i++) {
			if (view.l[i].init_ns != cb->pids ||
			    cb->seq <= view.l[i].from_seq)
				continue;
			copy = skb_clone(skb, GMG_GFP);
			if (!copy || genlmsg_unicast(&init_net, copy, view.l[i].portid))
				atomic64_inc(&gmg_overflowed);
		}
		kfree_skb(skb);
		cond_resched();
	}
	view_release(&view);
}

static int gmg_events_subscribed_reply(struct genl_info *info, u64 seq)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = gmg_genlmsg_put(msg, info->snd_portid, info->snd_seq, 0,
			      GOMEMGUARD_CMD_EVENTS_SUBSCRIBE);
	if (!hdr || gmg_put_u64(msg, GOMEMGUARD_A_SEQ, seq)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Under gmg_listeners_lock: may one more listener of this caller come in? */
static int gmg_listener_room(bool priv, kuid_t uid, struct genl_info *info)
{
	unsigned int i, unpriv = 0, mine = 0;

	if (gmg_nr_listeners == GOMEMGUARD_LISTENERS_MAX) {
		GENL_SET_ERR_MSG(info, "too many event listeners (64)");
		return -EBUSY;
	}
	if (priv)
		return 0;
	for (i = 0; i < gmg_nr_listeners; i++) {
		if (gmg_listeners[i].priv)
			continue;
		unpriv++;
		mine += uid_eq(gmg_listeners[i].uid, uid);
	}
	if (mine >= GOMEMGUARD_LISTENERS_PER_USER) {
		GENL_SET_ERR_MSG(info,
				 "too many event listeners for this user (4 without CAP_NET_ADMIN)");
		return -EBUSY;
	}
	if (unpriv >= GOMEMGUARD_LISTENERS_UNPRIV_MAX) {
		GENL_SET_ERR_MSG(info, "too many event listeners without CAP_NET_ADMIN (32)");
		return -EBUSY;
	}
	return 0;
}

/*
 * EVENTS_SUBSCRIBE from the socket that sent @skb.  Subscribing twice is
 * harmless; the table is bounded, and listeners without CAP_NET_ADMIN
 * (the open_read parameter) get only part of it, so that they can neither
 * make every event cost unbounded work nor crowd out an administrator.
 */
int gmg_events_subscribe(struct sk_buff *skb, struct genl_info *info)
{
	bool priv = netlink_capable(skb, CAP_NET_ADMIN);
	bool init_ns = task_active_pid_ns(current) == &init_pid_ns;
	struct sock *sk = NETLINK_CB(skb).sk;
	kuid_t uid = current_uid();
	u32 portid = info->snd_portid;
	unsigned int i;
	u64 from;
	int err;

	mutex_lock(&gmg_listeners_lock);
	spin_lock(&gmg_outq.lock);
	from = gmg_seq;
	err = gmg_gate_open ? 0 : -ESHUTDOWN;
	spin_unlock(&gmg_outq.lock);
	if (err) {
		GENL_SET_ERR_MSG(info, "gomemguard is loading or unloading: try again");
		goto out;
	}
	for (i = 0; i < gmg_nr_listeners; i++) {
		if (gmg_listeners[i].portid != portid)
			continue;
		if (gmg_listeners[i].sk == sk) {
			err = gmg_events_subscribed_reply(info, from);
			goto out;
		}
		/* An old socket's leftover: the port is this one's now. */
		gmg_listener_drop(i);
		break;
	}
	err = gmg_listener_room(priv, uid, info);
	if (err)
		goto out;
	/*
	 * The reply is on the socket before the sender can see the listener:
	 * it comes before any event, and the events after it start at
	 * from + 1.
	 */
	err = gmg_events_subscribed_reply(info, from);
	if (err)
		goto out;
	sock_hold(sk);
	gmg_listeners[gmg_nr_listeners++] = (struct gmg_listener) {
		.portid = portid,
		.sk = sk,
		.init_ns = init_ns,
		.priv = priv,
		.uid = uid,
		.from_seq = from,
	};
	atomic_inc(&gmg_nr_kind[init_ns]);
	atomic_inc(&gmg_listeners_gen);
out:
	mutex_unlock(&gmg_listeners_lock);
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
	mutex_lock(&gmg_listeners_lock);
	for (i = 0; i < gmg_nr_listeners; i++) {
		if (gmg_listeners[i].portid == n->portid &&
		    net_eq(sock_net(gmg_listeners[i].sk), n->net) &&
		    sock_flag(gmg_listeners[i].sk, SOCK_DEAD)) {
			gmg_listener_drop(i);
			break;
		}
	}
	mutex_unlock(&gmg_listeners_lock);
	return NOTIFY_DONE;
}

static struct notifier_block gmg_netlink_nb = {
	.notifier_call = gmg_netlink_notify,
};

int gmg_events_init(void)
{
	skb_queue_head_init(&gmg_outq);
	INIT_WORK(&gmg_send_work, gmg_send_workfn);
	/* WQ_MEM_RECLAIM: warnings matter most when memory is short. */
	gmg_events_wq = alloc_workqueue("gomemguard_events",
					WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_HIGHPRI, 1);
	return gmg_events_wq ? 0 : -ENOMEM;
}

void gmg_events_uninit(void)
{
	destroy_workqueue(gmg_events_wq);
}

/* Once the family is registered; until then subscribing is refused. */
int gmg_events_open(void)
{
	int err = netlink_register_notifier(&gmg_netlink_nb);

	if (err)
		return err;
	spin_lock(&gmg_outq.lock);
	gmg_gate_open = true;
	spin_unlock(&gmg_outq.lock);
	return 0;
}

/* Before the family is unregistered: nothing is queued or sent after this. */
void gmg_events_close(void)
{
	spin_lock(&gmg_outq.lock);
	gmg_gate_open = false;
	spin_unlock(&gmg_outq.lock);
	cancel_work_sync(&gmg_send_work);
	skb_queue_purge(&gmg_outq);
	mutex_lock(&gmg_listeners_lock);
	while (gmg_nr_listeners)
		gmg_listener_drop(0);
	mutex_unlock(&gmg_listeners_lock);
	netlink_unregister_notifier(&gmg_netlink_nb);
}
