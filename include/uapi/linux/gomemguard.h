/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gomemguard: early warnings of anonymous-memory growth before the OOM killer.
 *
 * This header is the whole user-space contract of gomemguard.ko.  It is
 * included from the source tree by the module, by gomemctl and by the
 * selftests, never from /usr/include, so the three cannot disagree.
 *
 * Transport: generic netlink family GOMEMGUARD_GENL_NAME, version
 * GOMEMGUARD_GENL_VERSION, no family-specific header.  The module carries
 * MODULE_ALIAS_GENL_FAMILY(), so resolving the family autoloads it.
 *
 * Every request is validated strictly: unknown attributes, attributes of the
 * wrong length and values out of range are rejected with an errno and an
 * extended-ACK message naming the attribute.  Mutating commands need
 * CAP_NET_ADMIN.  Reading state needs it as well: counters and settings
 * describe other users' processes.
 *
 * Commands
 *
 * GOMEMGUARD_CMD_INFO_GET (do; admin)
 *	Request: no attributes.
 *	Reply:   GOMEMGUARD_CMD_INFO_GET with VERSION, KERNEL_RELEASE,
 *		 TAGGED, EVENTS_SENT, EVENTS_DROPPED, EVENT_INTERVAL_MS,
 *		 EVENT_BURST.
 *
 * GOMEMGUARD_CMD_CONFIG_SET (do; admin)
 *	Request: any of EVENT_INTERVAL_MS, EVENT_BURST; at least one.
 *	Changes module-wide settings; attributes not given keep their value.
 *	Reply:   plain ACK.
 *
 * Multicast groups
 *
 * GOMEMGUARD_MCGRP_EVENTS ("events"; joining needs CAP_NET_ADMIN)
 *	Early-warning notifications.
 */
#ifndef _UAPI_LINUX_GOMEMGUARD_H
#define _UAPI_LINUX_GOMEMGUARD_H

#define GOMEMGUARD_GENL_NAME		"gomemguard"
#define GOMEMGUARD_GENL_VERSION		1
#define GOMEMGUARD_MCGRP_EVENTS		"events"

/* Longest string the module returns in VERSION or KERNEL_RELEASE. */
#define GOMEMGUARD_STR_MAX		64

/*
 * Per-process event rate limit: at most EVENT_BURST events per process in any
 * EVENT_INTERVAL_MS window; events beyond that are counted in EVENTS_DROPPED.
 */
#define GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT	1000
#define GOMEMGUARD_EVENT_INTERVAL_MS_MIN	10
#define GOMEMGUARD_EVENT_INTERVAL_MS_MAX	3600000
#define GOMEMGUARD_EVENT_BURST_DEFAULT		10
#define GOMEMGUARD_EVENT_BURST_MIN		1
#define GOMEMGUARD_EVENT_BURST_MAX		1000

enum gomemguard_cmd {
	GOMEMGUARD_CMD_UNSPEC,
	GOMEMGUARD_CMD_INFO_GET,
	GOMEMGUARD_CMD_CONFIG_SET,

	__GOMEMGUARD_CMD_MAX,
	GOMEMGUARD_CMD_MAX = __GOMEMGUARD_CMD_MAX - 1
};

enum gomemguard_attr {
	GOMEMGUARD_A_UNSPEC,
	GOMEMGUARD_A_PAD,		/* alignment padding for u64 */
	GOMEMGUARD_A_VERSION,		/* string: module version */
	GOMEMGUARD_A_KERNEL_RELEASE,	/* string: running kernel release */
	GOMEMGUARD_A_TAGGED,		/* u32: processes currently tagged */
	GOMEMGUARD_A_EVENTS_SENT,	/* u64: events multicast since load */
	GOMEMGUARD_A_EVENTS_DROPPED,	/* u64: events lost (rate limit, no memory) */
	GOMEMGUARD_A_EVENT_INTERVAL_MS,	/* u32: rate-limit window, ms */
	GOMEMGUARD_A_EVENT_BURST,	/* u32: events per process per window */

	__GOMEMGUARD_A_MAX,
	GOMEMGUARD_A_MAX = __GOMEMGUARD_A_MAX - 1
};

#endif /* _UAPI_LINUX_GOMEMGUARD_H */
