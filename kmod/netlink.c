// SPDX-License-Identifier: GPL-2.0
/*
 * The generic-netlink family: gomemguard's only control surface.
 *
 * Policies check syntax (types, lengths, ranges) and the core rejects what
 * they do not allow, with an extack message naming the attribute.  Handlers
 * check meaning and always say why in extack.  Every operation has its own
 * policy so that an attribute a command does not take is refused rather than
 * silently ignored.
 */
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include "gomemguard.h"

/* Nothing is accepted: every slot is NLA_UNSPEC, which strict parsing rejects. */
static const struct nla_policy gmg_info_get_policy[GOMEMGUARD_A_MAX + 1] = {
};

/*
 * NLA_POLICY_RANGE() holds only s16 bounds.  Not const: 6.1 declares the
 * policy's range pointer without it.
 */
static struct netlink_range_validation gmg_interval_range __ro_after_init = {
	.min = GOMEMGUARD_EVENT_INTERVAL_MS_MIN,
	.max = GOMEMGUARD_EVENT_INTERVAL_MS_MAX,
};

static const struct nla_policy gmg_config_set_policy[GOMEMGUARD_A_MAX + 1] = {
	[GOMEMGUARD_A_EVENT_INTERVAL_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &gmg_interval_range),
	[GOMEMGUARD_A_EVENT_BURST] =
		NLA_POLICY_RANGE(NLA_U32, GOMEMGUARD_EVENT_BURST_MIN,
				 GOMEMGUARD_EVENT_BURST_MAX),
};

static struct genl_family gmg_family;

static int gmg_info_fill(struct sk_buff *msg)
{
	struct gmg_event_limit limit = gmg_events_limit();

	if (nla_put_string(msg, GOMEMGUARD_A_VERSION, GMG_VERSION) ||
	    nla_put_string(msg, GOMEMGUARD_A_KERNEL_RELEASE,
			   init_utsname()->release) ||
	    nla_put_u32(msg, GOMEMGUARD_A_TAGGED, gmg_tracker_count()) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_EVENTS_SENT, gmg_events_sent(),
			      GOMEMGUARD_A_PAD) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_EVENTS_DROPPED,
			      gmg_events_dropped(), GOMEMGUARD_A_PAD) ||
	    nla_put_u32(msg, GOMEMGUARD_A_EVENT_INTERVAL_MS, limit.interval_ms) ||
	    nla_put_u32(msg, GOMEMGUARD_A_EVENT_BURST, limit.burst))
		return -EMSGSIZE;
	return 0;
}

static int gmg_info_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &gmg_family, 0,
				GOMEMGUARD_CMD_INFO_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}
	err = gmg_info_fill(msg);
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static int gmg_config_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *interval = info->attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS];
	struct nlattr *burst = info->attrs[GOMEMGUARD_A_EVENT_BURST];
	u32 interval_ms, burst_n;

	if (!interval && !burst) {
		GENL_SET_ERR_MSG(info,
				 "nothing to set: give EVENT_INTERVAL_MS and/or EVENT_BURST");
		return -EINVAL;
	}
	if (interval)
		interval_ms = nla_get_u32(interval);
	if (burst)
		burst_n = nla_get_u32(burst);
	gmg_events_set_limit(interval ? &interval_ms : NULL,
			     burst ? &burst_n : NULL);
	return 0;
}

static const struct genl_ops gmg_ops[] = {
	{
		.cmd = GOMEMGUARD_CMD_INFO_GET,
		.flags = GENL_ADMIN_PERM,
		.policy = gmg_info_get_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_info_get_doit,
	},
	{
		.cmd = GOMEMGUARD_CMD_CONFIG_SET,
		.flags = GENL_ADMIN_PERM,
		.policy = gmg_config_set_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_config_set_doit,
	},
};

static const struct genl_multicast_group gmg_mcgrps[] = {
	{
		.name = GOMEMGUARD_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family gmg_family __ro_after_init = {
	.name = GOMEMGUARD_GENL_NAME,
	.version = GOMEMGUARD_GENL_VERSION,
	.module = THIS_MODULE,
	.ops = gmg_ops,
	.n_ops = ARRAY_SIZE(gmg_ops),
	/* Strict validation for every command: there is no legacy to keep. */
	.resv_start_op = GOMEMGUARD_CMD_MAX + 1,
	.mcgrps = gmg_mcgrps,
	.n_mcgrps = ARRAY_SIZE(gmg_mcgrps),
};

int __init gmg_netlink_init(void)
{
	return genl_register_family(&gmg_family);
}

void gmg_netlink_uninit(void)
{
	genl_unregister_family(&gmg_family);
}

MODULE_ALIAS_GENL_FAMILY(GOMEMGUARD_GENL_NAME);
