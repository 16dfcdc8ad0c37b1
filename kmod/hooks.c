// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel hooks gomemguard needs, registered only while something is
 * tagged: loaded and unused, the module costs the kernel nothing.
 *
 * Core tracepoints:
 *   kmem:rss_stat            an mm counter changed (see compat.h for 6.1)
 *   sched:sched_process_fork  a child to inherit a tag, or a new cgroup member
 *   sched:sched_process_exit  the last thread of a watched process is gone
 *   sched:sched_process_exec  a watched process has a new mm
 *   oom:mark_victim           the OOM killer marks its victim, holding the
 *                             victim's task_lock: oom.c reads it there
 *   cgroup:cgroup_attach_task a process moved into a tagged cgroup -- only
 *                             while a cgroup is tagged: with a probe on it,
 *                             every migration on the host formats the
 *                             cgroup's path under a global IRQ-off lock
 * and oom.c's and pressure.c's kprobes and notifier.
 *
 * register_trace_*() do not link from a module (their tracepoints are not
 * exported), so they are found by name with for_each_kernel_tracepoint().
 * A missing one fails the load, loudly: running half-blind would look like
 * working.  The probes hand over to the tracker (or oom.c) and return;
 * they run where nothing may sleep -- on PREEMPT_RT, not even a spinlock_t.
 *
 * A command that tags registers what is missing before it tags.  When
 * nothing is tagged any more, the hooks go GMG_HOOKS_LINGER later (a
 * tag-untag loop does not re-patch the kernel each time): a delayed work
 * item checks while they are registered, and only then.
 */
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <net/netlink.h>

#include "gomemguard.h"

#define GMG_HOOKS_LINGER	(2 * HZ)

static void gmg_probe_rss_stat(GMG_RSS_STAT_PROTO)
{
	gmg_tracker_rss_changed(mm);
}

static void gmg_probe_fork(void *data, struct task_struct *parent,
			   struct task_struct *child)
{
	gmg_tracker_forked(parent, child);
}

static void gmg_probe_exit(void *data, struct task_struct *task)
{
	gmg_tracker_exited(task);
}

static void gmg_probe_exec(void *data, struct task_struct *task, pid_t old_pid,
			   struct linux_binprm *bprm)
{
	gmg_tracker_execed(task);
}

static void gmg_probe_mark_victim(GMG_MARK_VICTIM_PROTO)
{
	struct task_struct *victim = GMG_MARK_VICTIM_TASK;

	if (victim)
		gmg_oom_victim_marked(victim);
}

static void gmg_probe_attach(void *data, struct cgroup *dst, const char *path,
			     struct task_struct *task, bool threadgroup)
{
	gmg_tracker_attached(dst, task);
}

struct gmg_hook {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	bool on;
};

/* The cgroup-attach hook is last: it comes and goes on its own. */
enum { GMG_HOOK_ATTACH = 5 };

static struct gmg_hook gmg_hooks[] = {
	{ .name = "rss_stat", .probe = gmg_probe_rss_stat },
	{ .name = "sched_process_fork", .probe = gmg_probe_fork },
	{ .name = "sched_process_exit", .probe = gmg_probe_exit },
	{ .name = "sched_process_exec", .probe = gmg_probe_exec },
	{ .name = "mark_victim", .probe = gmg_probe_mark_victim },
	[GMG_HOOK_ATTACH] = { .name = "cgroup_attach_task", .probe = gmg_probe_attach },
};

/* The hooks' state; held across (un)registration, never by a probe. */
static DEFINE_MUTEX(gmg_hooks_lock);
static bool gmg_procs_on;		/* everything but the attach hook */
static unsigned int gmg_users;		/* commands between get and put */
static struct delayed_work gmg_hooks_idle;

static void gmg_find_tracepoint(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(gmg_hooks); i++)
		if (!strcmp(tp->name, gmg_hooks[i].name))
			gmg_hooks[i].tp = tp;
}

static int hook_on(struct gmg_hook *h)
{
	int err;

	if (h->on)
		return 0;
	err = tracepoint_probe_register(h->tp, h->probe, NULL);
	if (err) {
		pr_err("cannot attach to tracepoint %s: %d\n", h->name, err);
		return err;
	}
	h->on = true;
	return 0;
}

/* The caller waits for running probes: tracepoint_synchronize_unregister(). */
static void hook_off(struct gmg_hook *h)
{
	if (!h->on)
		return;
	tracepoint_probe_unregister(h->tp, h->probe, NULL);
	h->on = false;
}

static void procs_off(void)
{
	int i;

	lockdep_assert_held(&gmg_hooks_lock);
	for (i = 0; i < GMG_HOOK_ATTACH; i++)
		hook_off(&gmg_hooks[i]);
	if (gmg_procs_on) {
		gmg_pressure_hooks_off();
		/* oom.c takes its slots back from the mark_victim probe. */
		tracepoint_synchronize_unregister();
		gmg_oom_hooks_off();
		gmg_procs_on = false;
	}
}

static int procs_on(void)
{
	int i, err;

	lockdep_assert_held(&gmg_hooks_lock);
	if (gmg_procs_on)
		return 0;
	for (i = 0; i < GMG_HOOK_ATTACH; i++) {
		err = hook_on(&gmg_hooks[i]);
		if (err)
			goto err;
	}
	err = gmg_oom_hooks_on();
	if (err)
		goto err;
	/* From here procs_off() undoes oom.c's and pressure.c's hooks too. */
	gmg_procs_on = true;
	err = gmg_pressure_hooks_on();
	if (err)
		goto err;
	return 0;
err:
	procs_off();
	tracepoint_synchronize_unregister();
	return err;
}

/* Let go of what nothing needs; reschedules itself while hooks are on. */
static void gmg_hooks_idle_fn(struct work_struct *w)
{
	bool procs, cgroups, off = false;

	mutex_lock(&gmg_hooks_lock);
	procs = gmg_users || gmg_tracker_count() || gmg_tracker_cgroup_tags();
	cgroups = gmg_users || gmg_tracker_cgroup_tags();
	if (!cgroups && gmg_hooks[GMG_HOOK_ATTACH].on) {
		hook_off(&gmg_hooks[GMG_HOOK_ATTACH]);
		off = true;
	}
	if (!procs && gmg_procs_on) {
		procs_off();
		off = true;
	}
	if (gmg_procs_on)
		schedule_delayed_work(&gmg_hooks_idle, GMG_HOOKS_LINGER);
	/* No probe is running, or will run, once this returns. */
	if (off)
		tracepoint_synchronize_unregister();
	mutex_unlock(&gmg_hooks_lock);
}

int gmg_hooks_get(bool cgroup, struct netlink_ext_ack *extack)
{
	int err;

	mutex_lock(&gmg_hooks_lock);
	err = procs_on();
	if (!err && cgroup) {
		err = hook_on(&gmg_hooks[GMG_HOOK_ATTACH]);
		if (err && !gmg_tracker_count() && !gmg_tracker_cgroup_tags() &&
		    !gmg_users) {
			procs_off();
			tracepoint_synchronize_unregister();
		}
	}
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "cannot register gomemguard's kernel hooks (see the kernel log)");
	} else {
		gmg_users++;
		schedule_delayed_work(&gmg_hooks_idle, GMG_HOOKS_LINGER);
	}
	mutex_unlock(&gmg_hooks_lock);
	return err;
}

void gmg_hooks_put(void)
{
	mutex_lock(&gmg_hooks_lock);
	gmg_users--;
	mutex_unlock(&gmg_hooks_lock);
}

int gmg_hooks_fill(struct sk_buff *skb)
{
	char name[64];
	int i, err = 0;

	mutex_lock(&gmg_hooks_lock);
	for (i = 0; i < ARRAY_SIZE(gmg_hooks) && !err; i++) {
		if (!gmg_hooks[i].on)
			continue;
		snprintf(name, sizeof(name), "tracepoint:%s", gmg_hooks[i].name);
		if (nla_put_string(skb, GOMEMGUARD_A_HOOK, name))
			err = -EMSGSIZE;
	}
	if (!err && gmg_procs_on &&
	    (gmg_oom_fill_hooks(skb) || gmg_pressure_fill_hooks(skb)))
		err = -EMSGSIZE;
	mutex_unlock(&gmg_hooks_lock);
	return err;
}

/* Every tracepoint is looked up at load: a kernel without one is refused. */
int gmg_hooks_init(void)
{
	int i;

	INIT_DELAYED_WORK(&gmg_hooks_idle, gmg_hooks_idle_fn);
	for_each_kernel_tracepoint(gmg_find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(gmg_hooks); i++) {
		if (!gmg_hooks[i].tp) {
			pr_err("tracepoint %s not found in this kernel\n",
			       gmg_hooks[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

/* After the family is gone: no command can register anything again. */
void gmg_hooks_uninit(void)
{
	cancel_delayed_work_sync(&gmg_hooks_idle);
	mutex_lock(&gmg_hooks_lock);
	hook_off(&gmg_hooks[GMG_HOOK_ATTACH]);
	procs_off();
	tracepoint_synchronize_unregister();
	mutex_unlock(&gmg_hooks_lock);
}
