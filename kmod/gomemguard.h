/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the parts of gomemguard.ko.  A part that needs
 * setting up has an init/uninit pair; main.c calls them in order and unwinds
 * in reverse.
 */
#ifndef _GMG_GOMEMGUARD_H
#define _GMG_GOMEMGUARD_H

#include <linux/types.h>

#include <uapi/linux/gomemguard.h>

/* netlink.c: the generic-netlink family, the only control surface. */
int gmg_netlink_init(void);
void gmg_netlink_uninit(void);

/* events.c: event accounting and the per-process rate-limit settings. */
struct gmg_event_limit {
	u32 interval_ms;
	u32 burst;
};

u64 gmg_events_sent(void);
u64 gmg_events_dropped(void);
struct gmg_event_limit gmg_events_limit(void);
void gmg_events_set_limit(const u32 *interval_ms, const u32 *burst);

/* tracker.c: the tagged processes. */
u32 gmg_tracker_count(void);

#endif /* _GMG_GOMEMGUARD_H */
