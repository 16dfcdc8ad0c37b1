// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel events gomemguard listens to, all core tracepoints:
 *
 *   kmem:rss_stat            an mm counter changed (see compat.h for 6.1)
 *   sched:sched_process_fork  a child to inherit a tag, or a new cgroup member
 *   sched:sched_process_exit  the last thread of a watched process is gone
 *   sched:sched_process_exec  a watched process has a new mm
 *   cgroup:cgroup_attach_task a process moved into a tagged cgroup
 *
 * register_trace_*() do not link from a module (their tracepoints are not
 * exported), so they are found by name with for_each_kernel_tracepoint().
 * A missing one fails the load, loudly: running half-blind would look like
 * working.  The probes hand over to the tracker and return.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <net/netlink.h>

#include "gomemguard.h"

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

static void gmg_probe_attach(void *data, struct cgroup *dst, const char *path,
			     struct task_struct *task, bool threadgroup)
{
	gmg_tracker_attached(dst, task);
}

struct gmg_hook {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static struct gmg_hook gmg_hooks[] = {
	{ .name = "rss_stat", .probe = gmg_probe_rss_stat },
	{ .name = "sched_process_fork", .probe = gmg_probe_fork },
	{ .name = "sched_process_exit", .probe = gmg_probe_exit },
	{ .name = "sched_process_exec", .probe = gmg_probe_exec },
	{ .name = "cgroup_attach_task", .probe = gmg_probe_attach },
};

static void gmg_find_tracepoint(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(gmg_hooks); i++)
		if (!strcmp(tp->name, gmg_hooks[i].name))
			gmg_hooks[i].tp = tp;
}

static void gmg_unregister(int n)
{
	while (n--)
		tracepoint_probe_unregister(gmg_hooks[n].tp, gmg_hooks[n].probe,
					    NULL);
	/* No probe is running, or will run, once this returns. */
	tracepoint_synchronize_unregister();
}

int gmg_hooks_fill(struct sk_buff *skb)
{
	char name[64];
	int i;

	for (i = 0; i < ARRAY_SIZE(gmg_hooks); i++) {
		snprintf(name, sizeof(name), "tracepoint:%s", gmg_hooks[i].name);
		if (nla_put_string(skb, GOMEMGUARD_A_HOOK, name))
			return -EMSGSIZE;
	}
	return 0;
}

int gmg_hooks_init(void)
{
	int i, err;

	for_each_kernel_tracepoint(gmg_find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(gmg_hooks); i++) {
		if (!gmg_hooks[i].tp) {
			pr_err("tracepoint %s not found in this kernel\n",
			       gmg_hooks[i].name);
			err = -ENOENT;
			goto err_unregister;
		}
		err = tracepoint_probe_register(gmg_hooks[i].tp,
						gmg_hooks[i].probe, NULL);
		if (err) {
			pr_err("cannot attach to tracepoint %s: %d\n",
			       gmg_hooks[i].name, err);
			goto err_unregister;
		}
	}
	return 0;

err_unregister:
	gmg_unregister(i);
	return err;
}

void gmg_hooks_uninit(void)
{
	gmg_unregister(ARRAY_SIZE(gmg_hooks));
}
