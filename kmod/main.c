// SPDX-License-Identifier: GPL-2.0
/*
 * gomemguard: early warnings of anonymous-memory growth in tagged processes,
 * before the OOM killer acts.
 *
 * Each part is set up after what it uses and torn down before it: the
 * tracker's sampler feeds pressure.c, the OOM probes use the tracker, the
 * hooks (registered only while something is tagged) feed them, and the
 * family, last up and first down, serves them all.  Events flow only while
 * the gate is open: no message is sent once the family is on its way out.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "gomemguard.h"

static int __init gmg_init(void)
{
	int err;

	err = gmg_memcg_init();
	if (err)
		goto err_memcg;
	err = gmg_events_init();
	if (err)
		goto err_events_init;
	err = gmg_tracker_init();
	if (err)
		goto err_tracker;
	err = gmg_pressure_init();
	if (err)
		goto err_pressure;
	err = gmg_oom_init();
	if (err)
		goto err_oom;
	err = gmg_hooks_init();
	if (err)
		goto err_hooks;
	err = gmg_events_open();
	if (err)
		goto err_events;
	err = gmg_netlink_init();
	if (err)
		goto err_netlink;

	pr_info("version " GMG_VERSION " loaded\n");
	return 0;

err_netlink:
	gmg_events_close();
err_events:
	gmg_hooks_uninit();
err_hooks:
	gmg_oom_uninit();
err_oom:
	gmg_pressure_uninit();
err_pressure:
	gmg_tracker_uninit();
	gmg_memcg_eta_uninit();
err_tracker:
	gmg_events_uninit();
err_events_init:
	gmg_memcg_uninit();
err_memcg:
	return err;
}

static void __exit gmg_exit(void)
{
	gmg_netlink_uninit();
	gmg_events_close();
	gmg_hooks_uninit();
	gmg_oom_uninit();
	gmg_pressure_uninit();
	gmg_tracker_uninit();
	gmg_memcg_eta_uninit();
	gmg_events_uninit();
	gmg_memcg_uninit();
	pr_info("version " GMG_VERSION " unloaded\n");
}

module_init(gmg_init);
module_exit(gmg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Early warnings of anonymous-memory growth before OOM kills");
MODULE_AUTHOR("gomemguard developers");
MODULE_VERSION(GMG_VERSION);
