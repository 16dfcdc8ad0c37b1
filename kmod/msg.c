// SPDX-License-Identifier: GPL-2.0
/*
 * The family's messages: its identity (what genlmsg_put() needs) and the
 * builders that replies, dumps and events share.  Everything that sends a
 * message of the family calls down into here; netlink.c, at the top, gives
 * the family its operations and registers it.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "gomemguard.h"

/*
 * netlink.c adds the operations before registering.  parallel_ops: no
 * command runs under the kernel-wide genl mutex -- ours are serialised by
 * the parts' own locks, none held across a send.  resv_start_op 0: every
 * command gets the strict checks, the family header's reserved byte
 * included; there is no legacy to keep.
 */
struct genl_family gmg_family __ro_after_init = {
	.name = GOMEMGUARD_GENL_NAME,
	.version = GOMEMGUARD_GENL_VERSION,
	.module = THIS_MODULE,
	.parallel_ops = true,
	.resv_start_op = 0,
};

void *gmg_genlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, int flags,
		      u8 cmd)
{
	return genlmsg_put(skb, portid, seq, &gmg_family, flags, cmd);
}

int gmg_put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put_u64_64bit(skb, type, v, GOMEMGUARD_A_PAD);
}

int gmg_fill_settings(struct sk_buff *skb, const struct gmg_settings *set)
{
	if (gmg_put_u64(skb, GOMEMGUARD_A_SOFT_LIMIT, set->soft_limit) ||
	    nla_put(skb, GOMEMGUARD_A_LEVELS, set->nr_levels * sizeof(u32),
		    set->levels) ||
	    nla_put_u32(skb, GOMEMGUARD_A_ETA_HORIZON_MS, set->eta_horizon_ms) ||
	    nla_put_u32(skb, GOMEMGUARD_A_SIGNAL, set->signal) ||
	    nla_put_u32(skb, GOMEMGUARD_A_RATE_WINDOW_MS, gmg_rate_window_ms(set)) ||
	    nla_put_u8(skb, GOMEMGUARD_A_INHERIT, set->inherit) ||
	    nla_put_u32(skb, GOMEMGUARD_A_LIMIT_ORIGIN, set->limit_origin))
		return -EMSGSIZE;
	return 0;
}

int gmg_fill_proc(struct sk_buff *skb, const struct gmg_snapshot *snap,
		  bool pid)
{
	const struct gmg_state *st = &snap->st;
	const struct gmg_sample *s = &st->last;
	u32 level = st->level ? snap->set.levels[st->level - 1] : 0;

	if ((pid && nla_put_u32(skb, GOMEMGUARD_A_PID, snap->pid)) ||
	    nla_put_string(skb, GOMEMGUARD_A_COMM, snap->comm) ||
	    nla_put_u32(skb, GOMEMGUARD_A_SOURCE, snap->source) ||
	    (snap->cgroup_path[0] &&
	     nla_put_string(skb, GOMEMGUARD_A_CGROUP, snap->cgroup_path)) ||
	    nla_put_string(skb, GOMEMGUARD_A_MEMCG, snap->memcg_path) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_ID, s->memcg.id) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_ANON, s->anon) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_SWAP, s->swap) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_SHMEM, s->shmem) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_FILE, s->file) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_HWM, st->hwm) ||
	    nla_put_s64(skb, GOMEMGUARD_A_RATE, st->growth.rate, GOMEMGUARD_A_PAD) ||
	    (st->eta_limit &&
	     (gmg_put_u64(skb, GOMEMGUARD_A_ETA_MS, st->eta_ms) ||
	      nla_put_u32(skb, GOMEMGUARD_A_ETA_LIMIT, st->eta_limit))) ||
	    nla_put_u32(skb, GOMEMGUARD_A_LEVEL_PCT, level) ||
	    nla_put_u32(skb, GOMEMGUARD_A_USAGE_PCT,
			gmg_usage_pct(st, &snap->set)) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_USAGE, s->memcg.usage) ||
	    (s->memcg.max != U64_MAX &&
	     gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_MAX, s->memcg.max)) ||
	    (s->memcg.high != U64_MAX &&
	     gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_HIGH, s->memcg.high)) ||
	    gmg_fill_settings(skb, &snap->set) ||
	    nla_put_u32(skb, GOMEMGUARD_A_SIGNALS_SENT, st->signals_sent) ||
	    (st->first_warn_ns &&
	     gmg_put_u64(skb, GOMEMGUARD_A_FIRST_WARN_NS, st->first_warn_ns)) ||
	    nla_put_u32(skb, GOMEMGUARD_A_SHAPE,
			st->growth.shape ?: GOMEMGUARD_SHAPE_STARTUP))
		return -EMSGSIZE;
	return 0;
}

int gmg_fill_memcg(struct sk_buff *skb, const char *path,
		   const struct gmg_memcg_view *v, const struct gmg_memcg_lru *lru)
{
	if (nla_put_string(skb, GOMEMGUARD_A_MEMCG, path) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_ID, v->id) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_USAGE, v->usage) ||
	    (v->max != U64_MAX &&
	     gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_MAX, v->max)) ||
	    (v->high != U64_MAX &&
	     gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_HIGH, v->high)) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_ANON, lru->anon) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_FILE, lru->file) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_MEMCG_UNEVICTABLE, lru->unevictable) ||
	    gmg_put_u64(skb, GOMEMGUARD_A_RECLAIMABLE, v->reclaimable))
		return -EMSGSIZE;
	return 0;
}
