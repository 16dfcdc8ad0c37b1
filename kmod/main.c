// SPDX-License-Identifier: GPL-2.0
/*
 * gomemguard: early warnings of anonymous-memory growth in tagged processes,
 * before the OOM killer acts.
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
	err = gmg_tracker_init();
	if (err)
		goto err_tracker;
	err = gmg_netlink_init();
	if (err)
		goto err_netlink;
	err = gmg_hooks_init();
	if (err)
		goto err_hooks;

	pr_info("version " GMG_VERSION " loaded\n");
	return 0;

err_hooks:
	gmg_events_close();
	gmg_netlink_uninit();
err_netlink:
	gmg_tracker_uninit();
err_tracker:
	gmg_memcg_uninit();
err_memcg:
	return err;
}

static void __exit gmg_exit(void)
{
	/* Inputs first (kernel hooks), then the control surface, then state. */
	gmg_hooks_uninit();
	gmg_events_close();
	gmg_netlink_uninit();
	gmg_tracker_uninit();
	gmg_memcg_uninit();
	pr_info("version " GMG_VERSION " unloaded\n");
}

module_init(gmg_init);
module_exit(gmg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Early warnings of anonymous-memory growth before OOM kills");
MODULE_AUTHOR("gomemguard developers");
MODULE_VERSION(GMG_VERSION);
