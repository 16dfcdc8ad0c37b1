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
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid_namespace.h>
#include <linux/threads.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include "gomemguard.h"

/*
 * Reading state and receiving events need CAP_NET_ADMIN, like changing
 * anything, unless the administrator opens them at load time.  PIDs are
 * translated or left out for readers in other PID namespaces either way.
 */
static bool gmg_open_read;
module_param_named(open_read, gmg_open_read, bool, 0444);
MODULE_PARM_DESC(open_read,
		 "let any user read state and receive events (default: CAP_NET_ADMIN only)");

static int gmg_may_read(const struct sk_buff *skb, struct netlink_ext_ack *extack)
{
	if (gmg_open_read || netlink_capable(skb, CAP_NET_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "reading needs CAP_NET_ADMIN (or module parameter open_read=1)");
	return -EPERM;
}

/* Dumps check in their start callback, once per dump. */
static int gmg_read_start(struct netlink_callback *cb)
{
	return gmg_may_read(cb->skb, cb->extack);
}

/* The caller sees PIDs as they are in the initial PID namespace. */
static bool gmg_caller_init_ns(void)
{
	return task_active_pid_ns(current) == &init_pid_ns;
}

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

static struct netlink_range_validation gmg_pid_range __ro_after_init = {
	.min = 1,
	.max = PID_MAX_LIMIT,
};

static struct netlink_range_validation gmg_soft_limit_range __ro_after_init = {
	.min = 1,
	.max = GOMEMGUARD_SOFT_LIMIT_MAX,
};

static struct netlink_range_validation gmg_horizon_range __ro_after_init = {
	.min = GOMEMGUARD_ETA_HORIZON_MS_MIN,
	.max = GOMEMGUARD_ETA_HORIZON_MS_MAX,
};

static struct netlink_range_validation gmg_window_range __ro_after_init = {
	.min = GOMEMGUARD_RATE_WINDOW_MS_MIN,
	.max = GOMEMGUARD_RATE_WINDOW_MS_MAX,
};

static const struct nla_policy gmg_config_set_policy[GOMEMGUARD_A_MAX + 1] = {
	[GOMEMGUARD_A_EVENT_INTERVAL_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &gmg_interval_range),
	[GOMEMGUARD_A_EVENT_BURST] =
		NLA_POLICY_RANGE(NLA_U32, GOMEMGUARD_EVENT_BURST_MIN,
				 GOMEMGUARD_EVENT_BURST_MAX),
	[GOMEMGUARD_A_OOM_REPORTS_MAX] =
		NLA_POLICY_RANGE(NLA_U32, 1, GOMEMGUARD_OOM_REPORTS_MAX),
	[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT] = NLA_POLICY_RANGE(NLA_U32, 1, 100),
	[GOMEMGUARD_A_PRESSURE_CRITICAL_PCT] = NLA_POLICY_RANGE(NLA_U32, 1, 100),
};

/*
 * Tag commands: the policies bound every number (syntax); the handlers
 * check meaning -- which process, which signal, whose right -- and say why
 * in words.
 */
#define GMG_TAG_POLICY							\
	[GOMEMGUARD_A_PID] = NLA_POLICY_FULL_RANGE(NLA_U32, &gmg_pid_range), \
	[GOMEMGUARD_A_CGROUP] = { .type = NLA_NUL_STRING,		\
				  .len = GMG_PATH_MAX - 1 }

#define GMG_SETTINGS_POLICY						\
	[GOMEMGUARD_A_SOFT_LIMIT] =					\
		NLA_POLICY_FULL_RANGE(NLA_U64, &gmg_soft_limit_range),	\
	[GOMEMGUARD_A_LEVELS] = NLA_POLICY_RANGE(NLA_BINARY, sizeof(u32), \
					sizeof(u32) * GOMEMGUARD_LEVELS_MAX), \
	[GOMEMGUARD_A_ETA_HORIZON_MS] =					\
		NLA_POLICY_FULL_RANGE(NLA_U32, &gmg_horizon_range),	\
	[GOMEMGUARD_A_SIGNAL] = NLA_POLICY_MAX(NLA_U32, GOMEMGUARD_SIGNAL_MAX), \
	[GOMEMGUARD_A_RATE_WINDOW_MS] =					\
		NLA_POLICY_FULL_RANGE(NLA_U32, &gmg_window_range),	\
	[GOMEMGUARD_A_INHERIT] = NLA_POLICY_MAX(NLA_U8, 1),		\
	[GOMEMGUARD_A_LIMIT_ORIGIN] = NLA_POLICY_RANGE(NLA_U32,		\
					GOMEMGUARD_ORIGIN_USER,		\
					GOMEMGUARD_ORIGIN_MAX)

static const struct nla_policy gmg_tag_settings_policy[GOMEMGUARD_A_MAX + 1] = {
	GMG_TAG_POLICY,
	GMG_SETTINGS_POLICY,
};

static const struct nla_policy gmg_tag_policy[GOMEMGUARD_A_MAX + 1] = {
	GMG_TAG_POLICY,
};

static const struct nla_policy gmg_proc_get_policy[GOMEMGUARD_A_MAX + 1] = {
	[GOMEMGUARD_A_PID] = NLA_POLICY_FULL_RANGE(NLA_U32, &gmg_pid_range),
};

/* For the dumps that take no attributes. */
static const struct nla_policy gmg_no_attrs_policy[GOMEMGUARD_A_MAX + 1] = {
};

/* CONFIG_SET's pairs (the pressure thresholds) change together. */
static DEFINE_MUTEX(gmg_config_lock);

static int gmg_info_fill(struct sk_buff *msg)
{
	struct gmg_event_limit limit = gmg_events_limit();
	struct nlattr *hooks;
	u32 medium, critical;

	if (nla_put_string(msg, GOMEMGUARD_A_VERSION, GMG_VERSION) ||
	    nla_put_string(msg, GOMEMGUARD_A_KERNEL_RELEASE,
			   init_utsname()->release) ||
	    nla_put_u32(msg, GOMEMGUARD_A_TAGGED, gmg_tracker_count()) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_EVENTS_SENT, gmg_events_sent(),
			      GOMEMGUARD_A_PAD) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_EVENTS_DROPPED,
			      gmg_events_dropped(), GOMEMGUARD_A_PAD) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_EVENTS_OVERFLOWED,
			      gmg_events_overflowed(), GOMEMGUARD_A_PAD) ||
	    nla_put_u32(msg, GOMEMGUARD_A_LISTENERS, gmg_events_listeners()) ||
	    nla_put_u8(msg, GOMEMGUARD_A_OPEN_READ, gmg_open_read) ||
	    nla_put_u32(msg, GOMEMGUARD_A_EVENT_INTERVAL_MS, limit.interval_ms) ||
	    nla_put_u32(msg, GOMEMGUARD_A_EVENT_BURST, limit.burst) ||
	    nla_put_u32(msg, GOMEMGUARD_A_OOM_REPORTS_MAX, gmg_oom_reports_max()) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_OOM_KILLS, gmg_oom_kills_seen(),
			      GOMEMGUARD_A_PAD) ||
	    nla_put_u64_64bit(msg, GOMEMGUARD_A_EXITS_QUIET,
			      gmg_tracker_quiet_exits(), GOMEMGUARD_A_PAD))
		return -EMSGSIZE;
	gmg_pressure_thresholds(&medium, &critical);
	if (nla_put_u32(msg, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, medium) ||
	    nla_put_u32(msg, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, critical))
		return -EMSGSIZE;
	hooks = nla_nest_start(msg, GOMEMGUARD_A_HOOKS);
	if (!hooks || gmg_hooks_fill(msg))
		return -EMSGSIZE;
	nla_nest_end(msg, hooks);
	return 0;
}

static int gmg_info_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = gmg_may_read(skb, info->extack);
	if (err)
		return err;
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
	struct nlattr *reports = info->attrs[GOMEMGUARD_A_OOM_REPORTS_MAX];
	struct nlattr *med = info->attrs[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT];
	struct nlattr *crit = info->attrs[GOMEMGUARD_A_PRESSURE_CRITICAL_PCT];
	u32 interval_ms, burst_n, medium, critical;

	if (!interval && !burst && !reports && !med && !crit) {
		GENL_SET_ERR_MSG(info, "nothing to set: give at least one setting");
		return -EINVAL;
	}
	mutex_lock(&gmg_config_lock);
	gmg_pressure_thresholds(&medium, &critical);
	if (med)
		medium = nla_get_u32(med);
	if (crit)
		critical = nla_get_u32(crit);
	if (medium >= critical) {
		mutex_unlock(&gmg_config_lock);
		NL_SET_ERR_MSG_ATTR(info->extack, med ?: crit,
				    "medium pressure threshold must be below the critical one");
		return -EINVAL;
	}
	gmg_pressure_set_thresholds(medium, critical);
	if (reports)
		gmg_oom_set_reports_max(nla_get_u32(reports));
	if (interval)
		interval_ms = nla_get_u32(interval);
	if (burst)
		burst_n = nla_get_u32(burst);
	gmg_events_set_limit(interval ? &interval_ms : NULL,
			     burst ? &burst_n : NULL);
	mutex_unlock(&gmg_config_lock);
	return 0;
}

static int gmg_parse_levels(struct nlattr *a, struct gmg_settings *set,
			    struct netlink_ext_ack *extack)
{
	u32 n = nla_len(a) / sizeof(u32), i, pct;

	if (nla_len(a) % sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(extack, a, "levels must be an array of u32 percentages");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		memcpy(&pct, (u8 *)nla_data(a) + i * sizeof(u32), sizeof(pct));
		if (!pct || pct > GOMEMGUARD_LEVEL_PCT_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "levels must be within 1..1000 % of the soft limit");
			return -ERANGE;
		}
		if (i && pct <= set->levels[i - 1]) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "levels must be in strictly ascending order");
			return -EINVAL;
		}
		set->levels[i] = pct;
	}
	set->nr_levels = n;
	return 0;
}

/*
 * Values present in @info into @u; the policy has bounded them.  @creating:
 * SIGNAL 0 is meaningless then.
 */
static int gmg_parse_update(struct genl_info *info, struct gmg_update *u,
			    bool creating)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **tb = info->attrs;
	int err;
	u32 v;

	if (tb[GOMEMGUARD_A_SOFT_LIMIT]) {
		u->val.soft_limit = nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]);
		u->soft_limit = true;
	}
	if (tb[GOMEMGUARD_A_LEVELS]) {
		err = gmg_parse_levels(tb[GOMEMGUARD_A_LEVELS], &u->val, extack);
		if (err)
			return err;
		u->levels = true;
	}
	if (tb[GOMEMGUARD_A_ETA_HORIZON_MS]) {
		u->val.eta_horizon_ms = nla_get_u32(tb[GOMEMGUARD_A_ETA_HORIZON_MS]);
		u->eta_horizon = true;
	}
	if (tb[GOMEMGUARD_A_SIGNAL]) {
		v = nla_get_u32(tb[GOMEMGUARD_A_SIGNAL]);
		if (creating && !v) {
			NL_SET_ERR_MSG_ATTR(extack, tb[GOMEMGUARD_A_SIGNAL],
					    "signal must be within 1..64 (leave it out for no fuse)");
			return -ERANGE;
		}
		if (v && !gmg_fuse_signal_ok(v)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[GOMEMGUARD_A_SIGNAL],
					    "stop signals are refused: a stopped process looks alive and serves nothing");
			return -EINVAL;
		}
		u->val.signal = v;
		/* Whose right the fuse uses: the caller's, as of now. */
		gmg_fuse_signer(&u->val.signer);
		u->signal = true;
	}
	if (tb[GOMEMGUARD_A_RATE_WINDOW_MS]) {
		u->val.rate_window_ms = nla_get_u32(tb[GOMEMGUARD_A_RATE_WINDOW_MS]);
		u->rate_window = true;
	}
	if (tb[GOMEMGUARD_A_INHERIT]) {
		u->val.inherit = nla_get_u8(tb[GOMEMGUARD_A_INHERIT]);
		u->inherit = true;
	}
	if (tb[GOMEMGUARD_A_LIMIT_ORIGIN]) {
		u->val.limit_origin = nla_get_u32(tb[GOMEMGUARD_A_LIMIT_ORIGIN]);
		u->limit_origin = true;
	}
	return 0;
}

/* Exactly one of PID and CGROUP: which process or cgroup a command is about. */
static int gmg_parse_target(struct genl_info *info, pid_t *pid,
			    const char **cgroup)
{
	struct nlattr *p = info->attrs[GOMEMGUARD_A_PID];
	struct nlattr *c = info->attrs[GOMEMGUARD_A_CGROUP];

	if (!p == !c) {
		GENL_SET_ERR_MSG(info, "give exactly one of PID and CGROUP");
		return -EINVAL;
	}
	/*
	 * A cgroup may hold processes the caller cannot see, and its path is
	 * the host's: only a caller in the initial PID namespace may name one.
	 */
	if (c && !gmg_caller_init_ns()) {
		NL_SET_ERR_MSG_ATTR(info->extack, c,
				    "cgroup tags need the initial PID namespace: tag processes by PID");
		return -EPERM;
	}
	*pid = p ? nla_get_u32(p) : 0;
	*cgroup = c ? nla_data(c) : NULL;
	return 0;
}

static int gmg_tag_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct gmg_update u = {
		.val = {
			.levels = { 80, 90, 100 },
			.nr_levels = 3,
			.eta_horizon_ms = GOMEMGUARD_ETA_HORIZON_MS_DEFAULT,
			/* None named: it follows the horizon. */
			.rate_window_ms = 0,
			.limit_origin = GOMEMGUARD_ORIGIN_USER,
		},
	};
	const char *cgroup;
	pid_t pid;
	int err;

	err = gmg_parse_target(info, &pid, &cgroup);
	if (err)
		return err;
	if (GENL_REQ_ATTR_CHECK(info, GOMEMGUARD_A_SOFT_LIMIT))
		return -EINVAL;
	err = gmg_parse_update(info, &u, true);
	if (err)
		return err;
	/* The hooks see the process or cgroup from the moment it is tagged. */
	err = gmg_hooks_get(cgroup, info->extack);
	if (err)
		return err;
	err = cgroup ? gmg_tag_cgroup(cgroup, &u.val, info->extack) :
		       gmg_tag_pid(pid, &u.val, info->extack);
	gmg_hooks_put();
	return err;
}

static int gmg_tag_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	const char *cgroup;
	pid_t pid;
	int err;

	err = gmg_parse_target(info, &pid, &cgroup);
	if (err)
		return err;
	return cgroup ? gmg_untag_cgroup(cgroup, info->extack) :
			gmg_untag_pid(pid, info->extack);
}

static int gmg_tag_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct gmg_update u = {};
	const char *cgroup;
	pid_t pid;
	int err;

	err = gmg_parse_target(info, &pid, &cgroup);
	if (err)
		return err;
	err = gmg_parse_update(info, &u, false);
	if (err)
		return err;
	if (!u.soft_limit && !u.levels && !u.eta_horizon && !u.signal &&
	    !u.rate_window && !u.inherit && !u.limit_origin) {
		GENL_SET_ERR_MSG(info, "nothing to set: give at least one setting");
		return -EINVAL;
	}
	return cgroup ? gmg_set_cgroup(cgroup, &u, info->extack) :
			gmg_set_pid(pid, &u, info->extack);
}

static int gmg_proc_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	int err = gmg_may_read(skb, info->extack);

	if (err)
		return err;
	if (GENL_REQ_ATTR_CHECK(info, GOMEMGUARD_A_PID))
		return -EINVAL;
	return gmg_tracker_get_proc(nla_get_u32(info->attrs[GOMEMGUARD_A_PID]),
				    info);
}

/* Full: send what fits and come back for the rest. */
static int gmg_dump_result(struct sk_buff *skb, int err)
{
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

static int gmg_proc_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return gmg_dump_result(skb, gmg_tracker_dump_procs(skb, cb));
}

static int gmg_tag_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return gmg_dump_result(skb, gmg_tracker_dump_tags(skb, cb));
}

/* One post-mortem may not fit a default dump buffer: ask for more. */
static int gmg_oom_get_start(struct netlink_callback *cb)
{
	cb->min_dump_alloc = gmg_oom_msg_size();
	return gmg_read_start(cb);
}

static int gmg_oom_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return gmg_dump_result(skb, gmg_oom_dump(skb, cb, gmg_caller_init_ns()));
}

static int gmg_memcg_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return gmg_dump_result(skb, gmg_tracker_dump_memcgs(skb, cb));
}

static int gmg_events_subscribe_doit(struct sk_buff *skb,
				     struct genl_info *info)
{
	int err = gmg_may_read(skb, info->extack);

	return err ?: gmg_events_subscribe(skb, info);
}

static const struct genl_ops gmg_ops[] = {
	{
		.cmd = GOMEMGUARD_CMD_INFO_GET,
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
	{
		.cmd = GOMEMGUARD_CMD_TAG_NEW,
		.flags = GENL_ADMIN_PERM,
		.policy = gmg_tag_settings_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_tag_new_doit,
	},
	{
		.cmd = GOMEMGUARD_CMD_TAG_DEL,
		.flags = GENL_ADMIN_PERM,
		.policy = gmg_tag_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_tag_del_doit,
	},
	{
		.cmd = GOMEMGUARD_CMD_TAG_SET,
		.flags = GENL_ADMIN_PERM,
		.policy = gmg_tag_settings_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_tag_set_doit,
	},
	{
		.cmd = GOMEMGUARD_CMD_PROC_GET,
		.policy = gmg_proc_get_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_proc_get_doit,
		.start = gmg_read_start,
		.dumpit = gmg_proc_get_dumpit,
	},
	{
		.cmd = GOMEMGUARD_CMD_TAG_GET,
		.policy = gmg_no_attrs_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.start = gmg_read_start,
		.dumpit = gmg_tag_get_dumpit,
	},
	{
		.cmd = GOMEMGUARD_CMD_MEMCG_GET,
		.policy = gmg_no_attrs_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.start = gmg_read_start,
		.dumpit = gmg_memcg_get_dumpit,
	},
	{
		.cmd = GOMEMGUARD_CMD_OOM_GET,
		.policy = gmg_no_attrs_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.start = gmg_oom_get_start,
		.dumpit = gmg_oom_get_dumpit,
	},
	{
		.cmd = GOMEMGUARD_CMD_EVENTS_SUBSCRIBE,
		.policy = gmg_no_attrs_policy,
		.maxattr = GOMEMGUARD_A_MAX,
		.doit = gmg_events_subscribe_doit,
	},
};

int __init gmg_netlink_init(void)
{
	/* msg.c holds the family's identity; the operations are here. */
	gmg_family.ops = gmg_ops;
	gmg_family.n_ops = ARRAY_SIZE(gmg_ops);
	return genl_register_family(&gmg_family);
}

#ifdef GMG_DEBUG
/*
 * Debug builds only (GMG_DEBUG=y): the time rmmod spends with the family
 * gone and the module still in sysfs, widened, so that a test can show
 * what looks the family up meanwhile (and would load the module again).
 */
static unsigned int gmg_debug_exit_delay_ms;
module_param_named(debug_exit_delay_ms, gmg_debug_exit_delay_ms, uint, 0644);
MODULE_PARM_DESC(debug_exit_delay_ms,
		 "debug: sleep this long in rmmod once the netlink family is gone");
#define gmg_debug_exit_delay()						\
	do {								\
		unsigned int ms = READ_ONCE(gmg_debug_exit_delay_ms);	\
		if (ms)	/* msleep(0) would still sleep a jiffy */	\
			msleep(ms);					\
	} while (0)
#else
#define gmg_debug_exit_delay()	do { } while (0)
#endif

void gmg_netlink_uninit(void)
{
	genl_unregister_family(&gmg_family);
	gmg_debug_exit_delay();
}

MODULE_ALIAS_GENL_FAMILY(GOMEMGUARD_GENL_NAME);
