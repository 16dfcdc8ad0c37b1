// SPDX-License-Identifier: GPL-2.0
/*
 * OOM post-mortems: for every OOM kill whose victim is watched, or whose
 * memcg holds watched processes, an OOM event and a stored report -- what
 * was killed and why, what every watched process there was doing, and how
 * long before the kill the first warning went out.
 *
 * Memcg OOMs never reach the OOM notifier, so the kill itself is hooked:
 * a kretprobe on oom_kill_process(), which sees the oom_control (memcg, or
 * NULL for a global OOM) and the victim on the way in, and the oom:mark_victim
 * tracepoint in between, where the victim can be read (see the probes
 * below).  The probes run inside the OOM killer: they only copy into a
 * preallocated slot and queue work.  The global OOM notifier, which runs
 * before a victim is chosen, is used as what it is: a hint to sample now
 * what is not quiet, so the report is fresh.
 *
 * The report is built while the machine may be out of memory: into a
 * buffer allocated when the hooks were registered, then kept in an exact
 * copy allocated without waiting for reclaim (GMG_GFP).  If even that
 * fails, the event still goes out -- without its snapshot if the full
 * message cannot be had -- and the report is not kept.
 */
#include <linux/kprobes.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "gomemguard.h"

#define GMG_OOM_PENDING	8

struct gmg_oom_entry {
	struct gmg_snapshot snap;
	s64 lead_ms;			/* -1: never warned */
};

struct gmg_oom_report {
	struct list_head node;		/* gmg_reports, newest first */
	u32 id;
	u64 time_ns;
	u32 constraint;
	char memcg_path[GMG_PATH_MAX];
	pid_t victim_pid;
	char victim_comm[TASK_COMM_LEN];
	bool victim_tagged;
	u64 victim_anon, victim_file, victim_shmem;
	s64 lead_ms;			/* -1: no warning at all */
	s64 memcg_lead_ms;		/* -1: no memcg ETA */
	u64 unfreed;			/* U64_MAX: not a memcg OOM */
	int nr;
	/* Each its own allocation: no high-order one while memory is short. */
	struct gmg_oom_entry *entries[GOMEMGUARD_OOM_SNAPSHOT_MAX];
};

/* Filled by the probes, emptied by the work. */
struct gmg_oom_pending {
	atomic_t state;			/* GMG_SLOT_* */
	struct task_struct *killer;	/* in oom_kill_process(); compared only */
	u64 time_ns;
	struct pid *victim;		/* referenced */
	struct mem_cgroup *memcg;	/* referenced; NULL: not a memcg OOM */
	u32 constraint;
	/* From oom:mark_victim; empty if it did not fire. */
	char comm[TASK_COMM_LEN];
	u64 anon, file, shmem;
	bool tagged;
	struct gmg_snapshot snap;	/* the victim's, when tagged */
	struct gmg_peek peek;		/* for snap's paths */
};

/*
 * FREE -> FILLING -> KILLING (entering oom_kill_process) -> MARKED
 * (oom:mark_victim for its victim) -> READY (leaving it), or KILLING ->
 * MISSED (leaving it, nobody marked) -> FREE (the work).
 */
enum {
	GMG_SLOT_FREE,
	GMG_SLOT_FILLING,
	GMG_SLOT_KILLING,
	GMG_SLOT_MARKED,
	GMG_SLOT_READY,
	GMG_SLOT_MISSED,
};

static struct gmg_oom_pending gmg_pending[GMG_OOM_PENDING];
static LIST_HEAD(gmg_reports);
static DEFINE_MUTEX(gmg_reports_lock);
static u32 gmg_nr_reports;
static u32 gmg_next_id = 1;
/* Bumped by every change of the list: a dump across one is flagged. */
static u32 gmg_reports_gen = 1;
static u32 gmg_reports_max = GOMEMGUARD_OOM_REPORTS_DEFAULT;
/* The kernel's own count of OOM kills when the module loaded. */
static unsigned long gmg_oom_kills_base;
/*
 * The report is built this long after the kill: by then the victim's
 * memory is on its way back, and the report's allocations do not race the
 * OOM killer for the memory it is freeing.  The kill's time is the probe's.
 */
#define GMG_OOM_REPORT_DELAY	(HZ / 10)
static struct delayed_work gmg_oom_work;
/* The report being built: only the (non-reentrant) work touches it. */
static struct gmg_oom_report *gmg_scratch;
static struct gmg_oom_entry *gmg_scratch_entries;
/*
 * The OOM event's messages, allocated while memory is plenty: [1] for
 * listeners that see PIDs, [0] for the others.  Taken by a report, and
 * allocated again (GMG_GFP) by gmg_oom_refill until that succeeds.
 */
static struct sk_buff *gmg_oom_pre[2];
static DEFINE_MUTEX(gmg_oom_pre_lock);
static struct delayed_work gmg_oom_refill;
static bool gmg_kprobe_usable, gmg_kprobe_on, gmg_notifier_on;

static unsigned long oom_kills_now(void)
{
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += per_cpu(vm_event_states, cpu).event[OOM_KILL];
	return n;
}

u64 gmg_oom_kills_seen(void)
{
	return oom_kills_now() - gmg_oom_kills_base;
}

u32 gmg_oom_reports_max(void)
{
	return READ_ONCE(gmg_reports_max);
}

static void report_free(struct gmg_oom_report *r)
{
	int i;

	for (i = 0; i < r->nr; i++)
		kfree(r->entries[i]);
	kfree(r);
}

static void gmg_reports_trim(void)
{
	struct gmg_oom_report *r;

	lockdep_assert_held(&gmg_reports_lock);
	while (gmg_nr_reports > gmg_reports_max) {
		r = list_last_entry(&gmg_reports, struct gmg_oom_report, node);
		list_del(&r->node);
		report_free(r);
		gmg_nr_reports--;
		gmg_reports_gen++;
	}
}

void gmg_oom_set_reports_max(u32 max)
{
	mutex_lock(&gmg_reports_lock);
	WRITE_ONCE(gmg_reports_max, max);
	gmg_reports_trim();
	mutex_unlock(&gmg_reports_lock);
}

/* ---- the probes: inside the OOM killer, copy and go ---- */

/*
 * A kill passes three probes, all in the OOM killer's task, none of which
 * may sleep -- on PREEMPT_RT not even on a spinlock_t, so not on
 * task_lock() or get_task_comm() either:
 *
 *  - entering oom_kill_process(): the kill -- its memcg, constraint and
 *    chosen process -- into a free slot, KILLING;
 *  - oom:mark_victim, fired by mark_oom_victim() with the victim thread's
 *    task_lock held by the OOM killer and its ->mm set and stable (the
 *    function's contract, which the event's own fields rely on): the
 *    victim's name, counters and tracker state, MARKED;
 *  - leaving oom_kill_process(): MARKED is READY for the work; still
 *    KILLING, it marked nobody -- the victim was already exiting, or
 *    already a victim -- and goes back to the work MISSED.
 *
 * Kills do not overlap (out_of_memory() runs under oom_lock), and a slot
 * is KILLING or MARKED only inside one oom_kill_process() call, where only
 * its killer moves it on; the kretprobe instance remembers which slot.
 */
static int gmg_oom_kill_enter(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct oom_control *oc = (struct oom_control *)regs_get_kernel_argument(regs, 0);
	struct task_struct *victim = oc->chosen;
	struct gmg_oom_pending *slot = NULL;
	int i;

	/* chosen is -1 when the OOM killer aborts; NULL cannot be killed. */
	if (!victim || victim == (void *)-1UL)
		return 1;
	for (i = 0; i < GMG_OOM_PENDING; i++) {
		if (atomic_cmpxchg(&gmg_pending[i].state, GMG_SLOT_FREE,
				   GMG_SLOT_FILLING) == GMG_SLOT_FREE) {
			slot = &gmg_pending[i];
			break;
		}
	}
	/* More kills in flight than slots: this one goes unreported. */
	if (!slot)
		return 1;

	slot->killer = current;
	slot->time_ns = ktime_get_boottime_ns();
	slot->victim = get_pid(task_tgid(victim));
	slot->memcg = oc->memcg;
	switch (oc->constraint) {
	case CONSTRAINT_CPUSET:
		slot->constraint = GOMEMGUARD_CONSTRAINT_CPUSET;
		break;
	case CONSTRAINT_MEMORY_POLICY:
		slot->constraint = GOMEMGUARD_CONSTRAINT_MEMPOLICY;
		break;
	default:
		slot->constraint = oc->memcg ? GOMEMGUARD_CONSTRAINT_MEMCG :
					       GOMEMGUARD_CONSTRAINT_GLOBAL;
	}
	/* Until the work has the report: a moment, not the memcg's life. */
	if (slot->memcg)
		css_get(&slot->memcg->css);
	slot->comm[0] = '\0';
	slot->anon = 0;
	slot->file = 0;
	slot->shmem = 0;
	slot->tagged = false;
	*(struct gmg_oom_pending **)ri->data = slot;
	atomic_set_release(&slot->state, GMG_SLOT_KILLING);
	return 0;
}

/* hooks.c's oom:mark_victim probe: @task's task_lock is held, ->mm set. */
void gmg_oom_victim_marked(struct task_struct *task)
{
	struct gmg_oom_pending *slot;
	struct mm_struct *mm = task->mm;
	int i;

	for (i = 0; i < GMG_OOM_PENDING; i++) {
		slot = &gmg_pending[i];
		if (atomic_read_acquire(&slot->state) == GMG_SLOT_KILLING &&
		    slot->killer == current && slot->victim == task_tgid(task))
			break;
	}
	/* Not the victim of a kill we saw start (or a group kill's others). */
	if (i == GMG_OOM_PENDING)
		return;

	/* task_lock() is held: the name cannot change under us. */
	strscpy_pad(slot->comm, task->comm, sizeof(slot->comm));
	rcu_read_lock();
	slot->anon = (u64)gmg_mm_counter_exact(task, mm, MM_ANONPAGES) << PAGE_SHIFT;
	slot->file = (u64)gmg_mm_counter_exact(task, mm, MM_FILEPAGES) << PAGE_SHIFT;
	slot->shmem = (u64)gmg_mm_counter_exact(task, mm, MM_SHMEMPAGES) << PAGE_SHIFT;
	/* Its tracker state may be gone by the time the work runs: copy it. */
	slot->tagged = gmg_tracker_peek(slot->victim, &slot->snap, &slot->peek);
	rcu_read_unlock();
	atomic_set_release(&slot->state, GMG_SLOT_MARKED);
}

static int gmg_oom_kill_leave(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct gmg_oom_pending *slot = *(struct gmg_oom_pending **)ri->data;

	atomic_set_release(&slot->state,
			   atomic_read(&slot->state) == GMG_SLOT_MARKED ?
			   GMG_SLOT_READY : GMG_SLOT_MISSED);
	queue_delayed_work(system_unbound_wq, &gmg_oom_work, GMG_OOM_REPORT_DELAY);
	return 0;
}

static struct kretprobe gmg_oom_kretprobe;

static void kretprobe_reset(void)
{
	/* A kretprobe is registered again only from a clean slate. */
	memset(&gmg_oom_kretprobe, 0, sizeof(gmg_oom_kretprobe));
	gmg_oom_kretprobe.kp.symbol_name = "oom_kill_process";
	gmg_oom_kretprobe.entry_handler = gmg_oom_kill_enter;
	gmg_oom_kretprobe.handler = gmg_oom_kill_leave;
	gmg_oom_kretprobe.data_size = sizeof(struct gmg_oom_pending *);
}

static int gmg_oom_notify(struct notifier_block *nb, unsigned long unused,
			  void *freed)
{
	gmg_tracker_sample_soon();
	return NOTIFY_DONE;
}

static struct notifier_block gmg_oom_nb = {
	.notifier_call = gmg_oom_notify,
};

/* ---- the work: build, store and announce the report ---- */

static s64 lead_from(u64 first, u64 kill_ns)
{
	if (!first || first > kill_ns)
		return -1;
	return div_u64(kill_ns - first, NSEC_PER_MSEC);
}

static s64 lead_of(const struct gmg_snapshot *snap, u64 kill_ns)
{
	return lead_from(snap->st.first_warn_ns, kill_ns);
}

/*
 * What the memcg itself says: its own first ETA (memcg_eta.c), and what
 * its swap-backed and unevictable LRUs still hold now, a moment after the
 * kill -- tmpfs, shmem, mlocked pages, the survivors' anon: what this kill
 * did not free.  Only LRU sizes are read: nothing allocates, nothing waits.
 */
static void report_memcg(struct gmg_oom_report *r, struct mem_cgroup *memcg)
{
	struct gmg_memcg_lru lru;

	r->memcg_lead_ms = -1;
	r->unfreed = U64_MAX;
	if (!memcg)
		return;
	r->memcg_lead_ms = lead_from(gmg_memcg_eta_first_warn(memcg, r->time_ns),
				     r->time_ns);
	gmg_memcg_lru_now(memcg, &lru);
	r->unfreed = lru.anon + lru.unevictable;
}

/* Room for one snapshot entry's attributes, its strings aside. */
#define GMG_OOM_ENTRY_FIXED	768

/* The message of @r with its first @nr entries. */
static size_t msg_size(const struct gmg_oom_report *r, int nr)
{
	size_t size = 1024 + strlen(r->memcg_path);
	int i;

	for (i = 0; i < nr; i++)
		size += GMG_OOM_ENTRY_FIXED + strlen(r->entries[i]->snap.memcg_path) +
			strlen(r->entries[i]->snap.cgroup_path);
	return size;
}

/* The dump buffer a post-mortem of GOMEMGUARD_OOM_SNAPSHOT_MAX needs. */
size_t gmg_oom_msg_size(void)
{
	return 1024 + GMG_PATH_MAX +
	       GOMEMGUARD_OOM_SNAPSHOT_MAX * (GMG_OOM_ENTRY_FIXED + 2 * GMG_PATH_MAX);
}

/* An event of the first @nr entries of the report. */
struct gmg_oom_event {
	const struct gmg_oom_report *r;
	int nr;
};

static int fill_oom(struct sk_buff *skb, const struct gmg_oom_report *r,
		    bool pids, int nr)
{
	struct nlattr *snap, *proc;
	int i;

	if (nla_put_u32(skb, GOMEMGUARD_A_OOM_ID, r->id) ||
	    nla_put_u32(skb, GOMEMGUARD_A_CONSTRAINT, r->constraint) ||
	    nla_put_string(skb, GOMEMGUARD_A_MEMCG, r->memcg_path) ||
	    (pids && nla_put_u32(skb, GOMEMGUARD_A_VICTIM_PID, r->victim_pid)) ||
	    nla_put_string(skb, GOMEMGUARD_A_VICTIM_COMM, r->victim_comm) ||
	    nla_put_u8(skb, GOMEMGUARD_A_VICTIM_TAGGED, r->victim_tagged) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_VICTIM_ANON, r->victim_anon) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_VICTIM_FILE, r->victim_file) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_VICTIM_SHMEM, r->victim_shmem) ||
	    (r->lead_ms >= 0 &&
	     gmg_put_u64(skb, GOMEMGUARD_A_LEAD_MS, r->lead_ms)) ||
	    (r->memcg_lead_ms >= 0 &&
	     gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_LEAD_MS, r->memcg_lead_ms)) ||
	    (r->unfreed != U64_MAX &&
	     gmg_put_u64(skb, GOMEMGUARD_A_UNFREED, r->unfreed)))
		return -EMSGSIZE;
	snap = nla_nest_start(skb, GOMEMGUARD_A_SNAPSHOT);
	if (!snap)
		return -EMSGSIZE;
	for (i = 0; i < nr; i++) {
		proc = nla_nest_start(skb, GOMEMGUARD_A_SNAPSHOT_PROC);
		if (!proc || gmg_fill_proc(skb, &r->entries[i]->snap, pids) ||
		    (r->entries[i]->lead_ms >= 0 &&
		     gmg_put_u64(skb, GOMEMGUARD_A_LEAD_MS, r->entries[i]->lead_ms)))
			return -EMSGSIZE;
		nla_nest_end(skb, proc);
	}
	nla_nest_end(skb, snap);
	return 0;
}

static int fill_oom_event(struct sk_buff *skb, const void *arg, bool pids)
{
	const struct gmg_oom_event *e = arg;

	return fill_oom(skb, e->r, pids, e->nr);
}

/* An exact copy of @r to keep, small allocations only; NULL: none. */
static struct gmg_oom_report *report_copy(const struct gmg_oom_report *r)
{
	struct gmg_oom_report *kept = kmemdup(r, sizeof(*r), GMG_GFP);
	int i;

	if (!kept)
		return NULL;
	for (i = 0; i < r->nr; i++) {
		kept->entries[i] = kmemdup(r->entries[i], sizeof(*r->entries[i]),
					   GMG_GFP);
		if (!kept->entries[i]) {
			kept->nr = i;
			report_free(kept);
			return NULL;
		}
	}
	return kept;
}

static void gmg_oom_report(struct gmg_oom_pending *slot)
{
	struct gmg_snapshot *snaps[GOMEMGUARD_OOM_SNAPSHOT_MAX];
	int i, n, max = GOMEMGUARD_OOM_SNAPSHOT_MAX;
	struct gmg_oom_report *r = gmg_scratch, *kept;
	struct gmg_oom_event ev;
	int err;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < max; i++) {
		r->entries[i] = &gmg_scratch_entries[i];
		snaps[i] = &r->entries[i]->snap;
	}
	r->time_ns = slot->time_ns;
	r->constraint = slot->constraint;
	gmg_memcg_path(slot->memcg, r->memcg_path, sizeof(r->memcg_path));
	if (!slot->memcg)
		strscpy(r->memcg_path, "/", sizeof(r->memcg_path));
	r->victim_pid = pid_nr(slot->victim);
	memcpy(r->victim_comm, slot->comm, sizeof(r->victim_comm));
	r->victim_tagged = slot->tagged;
	r->victim_anon = slot->anon;
	r->victim_file = slot->file;
	r->victim_shmem = slot->shmem;

	n = 0;
	if (slot->tagged) {
		gmg_tracker_peek_done(&slot->snap, &slot->peek);
		r->entries[n++]->snap = slot->snap;
	}
	n += gmg_tracker_snapshot_memcg(slot->memcg, slot->victim, snaps + n,
					max - n);
	/* Not our business: no watched process was involved. */
	if (!n)
		return;
	r->nr = n;
	report_memcg(r, slot->memcg);
	/*
	 * The lead: the victim's own first warning, when it was watched and
	 * warned; else the earliest of anyone's there, the memcg's own ETA
	 * included -- the dd a tmpfs-filling loop had just forked never
	 * warned, its memcg did.
	 */
	r->lead_ms = r->memcg_lead_ms;
	for (i = 0; i < n; i++) {
		r->entries[i]->lead_ms = lead_of(&r->entries[i]->snap, r->time_ns);
		r->lead_ms = max(r->lead_ms, r->entries[i]->lead_ms);
	}
	if (slot->tagged && r->entries[0]->lead_ms >= 0)
		r->lead_ms = r->entries[0]->lead_ms;

	kept = report_copy(r);
	mutex_lock(&gmg_reports_lock);
	r->id = gmg_next_id++;
	if (kept) {
		kept->id = r->id;
		list_add(&kept->node, &gmg_reports);
		gmg_nr_reports++;
		gmg_reports_gen++;
		gmg_reports_trim();
	}
	mutex_unlock(&gmg_reports_lock);
	/*
	 * In the messages allocated beforehand.  Without them (two reports
	 * in a row), short of memory for the whole story: half the snapshot,
	 * and so on down to the kill alone.  OOM_GET has it all, if it was
	 * kept.
	 */
	ev.r = r;
	ev.nr = n;
	mutex_lock(&gmg_oom_pre_lock);
	err = gmg_event_send_pre(GOMEMGUARD_EVENT_OOM, r->time_ns,
				 gmg_oom_msg_size(), fill_oom_event, &ev, NULL,
				 gmg_oom_pre);
	mutex_unlock(&gmg_oom_pre_lock);
	if (err == -ENOMEM) {
		for (ev.nr = n / 2; ; ev.nr /= 2) {
			if (gmg_event_send_fill(GOMEMGUARD_EVENT_OOM, r->time_ns,
						msg_size(r, ev.nr), fill_oom_event,
						&ev, NULL) != -ENOMEM || !ev.nr)
				break;
		}
	}
	mod_delayed_work(system_unbound_wq, &gmg_oom_refill, 0);
}

/* Allocate the OOM event's messages again, once memory allows. */
static void gmg_oom_refill_fn(struct work_struct *w)
{
	bool again;
	int i;

	mutex_lock(&gmg_oom_pre_lock);
	for (i = 0; i < 2; i++)
		if (!gmg_oom_pre[i])
			gmg_oom_pre[i] = genlmsg_new(gmg_oom_msg_size(), GMG_GFP);
	again = !gmg_oom_pre[0] || !gmg_oom_pre[1];
	mutex_unlock(&gmg_oom_pre_lock);
	if (again)
		queue_delayed_work(system_unbound_wq, &gmg_oom_refill, HZ);
}

static void gmg_oom_workfn(struct work_struct *w)
{
	struct gmg_oom_pending *slot;
	int i;

	for (i = 0; i < GMG_OOM_PENDING; i++) {
		slot = &gmg_pending[i];
		switch (atomic_read_acquire(&slot->state)) {
		case GMG_SLOT_READY:
			gmg_oom_report(slot);
			break;
		case GMG_SLOT_MISSED:
			/* No victim marked: the kill killed no one new. */
			break;
		default:
			continue;
		}
		put_pid(slot->victim);
		if (slot->memcg)
			css_put(&slot->memcg->css);
		atomic_set_release(&slot->state, GMG_SLOT_FREE);
	}
}

/* OOM_GET dump, newest first: the reports older than the last one sent. */
int gmg_oom_dump(struct sk_buff *skb, struct netlink_callback *cb, bool pids)
{
	u32 *before = (u32 *)&cb->args[0];
	struct gmg_oom_report *r;
	int err = 0;
	void *hdr;

	mutex_lock(&gmg_reports_lock);
	cb->seq = gmg_reports_gen;
	list_for_each_entry(r, &gmg_reports, node) {
		if (*before && r->id >= *before)
			continue;
		hdr = gmg_genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      GOMEMGUARD_CMD_OOM_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		genl_dump_check_consistent(cb, hdr);
		if (gmg_put_u64(skb, GOMEMGUARD_A_TIME_NS, r->time_ns) ||
		    fill_oom(skb, r, pids, r->nr)) {
			genlmsg_cancel(skb, hdr);
			err = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		*before = r->id;
	}
	mutex_unlock(&gmg_reports_lock);
	return err;
}

/* Under the hooks' lock. */
int gmg_oom_fill_hooks(struct sk_buff *skb)
{
	if ((gmg_kprobe_on &&
	     nla_put_string(skb, GOMEMGUARD_A_HOOK, "kprobe:oom_kill_process")) ||
	    (gmg_notifier_on &&
	     nla_put_string(skb, GOMEMGUARD_A_HOOK, "oom_notifier")))
		return -EMSGSIZE;
	return 0;
}

static void oom_buffers_free(void)
{
	kfree(gmg_scratch);
	gmg_scratch = NULL;
	kvfree(gmg_scratch_entries);
	gmg_scratch_entries = NULL;
	nlmsg_free(gmg_oom_pre[0]);
	nlmsg_free(gmg_oom_pre[1]);
	gmg_oom_pre[0] = NULL;
	gmg_oom_pre[1] = NULL;
}

/* hooks.c, when something is tagged: process context, not an OOM. */
int gmg_oom_hooks_on(void)
{
	int err;

	gmg_scratch = kzalloc(sizeof(*gmg_scratch), GFP_KERNEL);
	gmg_scratch_entries = kvcalloc(GOMEMGUARD_OOM_SNAPSHOT_MAX,
				       sizeof(*gmg_scratch_entries), GFP_KERNEL);
	gmg_oom_pre[0] = genlmsg_new(gmg_oom_msg_size(), GFP_KERNEL);
	gmg_oom_pre[1] = genlmsg_new(gmg_oom_msg_size(), GFP_KERNEL);
	if (!gmg_scratch || !gmg_scratch_entries || !gmg_oom_pre[0] ||
	    !gmg_oom_pre[1]) {
		oom_buffers_free();
		return -ENOMEM;
	}
	if (gmg_kprobe_usable) {
		kretprobe_reset();
		err = register_kretprobe(&gmg_oom_kretprobe);
		if (err)
			pr_warn("kretprobe on oom_kill_process failed (%d): no OOM post-mortems\n",
				err);
		gmg_kprobe_on = !err;
	}
	err = register_oom_notifier(&gmg_oom_nb);
	if (err)
		pr_warn("OOM notifier unavailable (%d)\n", err);
	gmg_notifier_on = !err;
	return 0;
}

/*
 * A kill under way when the kretprobe went does not leave through it: its
 * slot is the work's now.  No probe runs any more (hooks.c waited for the
 * mark_victim probe before calling gmg_oom_hooks_off()).
 */
static void slots_reclaim(void)
{
	int i;

	for (i = 0; i < GMG_OOM_PENDING; i++) {
		atomic_cmpxchg(&gmg_pending[i].state, GMG_SLOT_MARKED,
			       GMG_SLOT_READY);
		atomic_cmpxchg(&gmg_pending[i].state, GMG_SLOT_KILLING,
			       GMG_SLOT_MISSED);
	}
}

/* hooks.c, when nothing is tagged any more, the tracepoints off and idle. */
void gmg_oom_hooks_off(void)
{
	if (gmg_notifier_on)
		unregister_oom_notifier(&gmg_oom_nb);
	if (gmg_kprobe_on)
		unregister_kretprobe(&gmg_oom_kretprobe);
	gmg_notifier_on = false;
	gmg_kprobe_on = false;
	slots_reclaim();
	/* No probe runs any more; finish what it left. */
	mod_delayed_work(system_unbound_wq, &gmg_oom_work, 0);
	flush_delayed_work(&gmg_oom_work);
	cancel_delayed_work_sync(&gmg_oom_refill);
	oom_buffers_free();
}

int gmg_oom_init(void)
{
	int i, err;

	INIT_DELAYED_WORK(&gmg_oom_work, gmg_oom_workfn);
	INIT_DELAYED_WORK(&gmg_oom_refill, gmg_oom_refill_fn);
	for (i = 0; i < GMG_OOM_PENDING; i++)
		atomic_set(&gmg_pending[i].state, GMG_SLOT_FREE);
	gmg_oom_kills_base = oom_kills_now();
	/*
	 * A static function: a future kernel may inline it away.  Find out
	 * now, loudly, rather than when the first tag needs it; then go on
	 * without post-mortems rather than refuse to load.
	 */
	kretprobe_reset();
	err = register_kretprobe(&gmg_oom_kretprobe);
	if (err) {
		pr_warn("kretprobe on oom_kill_process unavailable (%d): no OOM post-mortems\n",
			err);
	} else {
		unregister_kretprobe(&gmg_oom_kretprobe);
		gmg_kprobe_usable = true;
	}
	return 0;
}

void gmg_oom_uninit(void)
{
	struct gmg_oom_report *r, *tmp;

	/* The hooks are off: nothing queues work any more. */
	flush_delayed_work(&gmg_oom_work);
	list_for_each_entry_safe(r, tmp, &gmg_reports, node)
		report_free(r);
	INIT_LIST_HEAD(&gmg_reports);
	gmg_nr_reports = 0;
}
