// SPDX-License-Identifier: GPL-2.0
/*
 * gomemguard: early warnings of anonymous-memory growth in tagged processes,
 * before the OOM killer acts.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "gomemguard.h"

static int __init gmg_init(void)
{
	int err;

	err = gmg_netlink_init();
	if (err)
		goto err_netlink;

	pr_info("version " GMG_VERSION " loaded\n");
	return 0;

err_netlink:
	return err;
}

static void __exit gmg_exit(void)
{
	gmg_netlink_uninit();
	pr_info("version " GMG_VERSION " unloaded\n");
}

module_init(gmg_init);
module_exit(gmg_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Early warnings of anonymous-memory growth before OOM kills");
MODULE_AUTHOR("gomemguard developers");
MODULE_VERSION(GMG_VERSION);
