/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An OOM post-mortem, as OOM_GET replies and OOM events carry it: the
 * kill, why it happened, how much warning there was, and a SNAPSHOT of the
 * watched processes there at the time.  The one place it becomes JSON and
 * text, for oom and monitor alike.
 */
#ifndef GOMEMCTL_POSTMORTEM_H
#define GOMEMCTL_POSTMORTEM_H

#include <stdbool.h>
#include <stddef.h>

#include <netlink/attr.h>
#include <linux/gomemguard.h>

#include "nl.h"

struct postmortem {
	struct nlattr **tb;		/* the report's attributes */
	size_t n_procs;
	/* The attributes of each SNAPSHOT_PROC, in the module's order. */
	struct nlattr *(*procs)[GOMEMGUARD_A_MAX + 1];
	bool missing_in_snapshot;	/* what postmortem_parse() missed */
};

/*
 * Opens the report in tb[] (which must outlive pm): 0; -1 after reporting
 * a malformed nest; or, unreported, the type of a required attribute that
 * is missing, in the report or (missing_in_snapshot) in a snapshot entry.
 */
int postmortem_parse(struct gmc_nl *nl, struct nlattr *tb[],
		     struct postmortem *pm);
void postmortem_free(struct postmortem *pm);

/*
 * Every field into the current JSON object, "event" and "seq" included;
 * or, for people, the report over several lines: when, what was killed and
 * why, how much warning there was, and a table of the snapshot.
 */
void postmortem_print(const struct postmortem *pm);

/*
 * One line of prose for people, as monitor prints it: "memcg /app.slice:
 * killed payments[4711] (tagged, anon 1.9 GiB); first warning 28 s before
 * (post-mortem #3)".  Text only.
 */
void postmortem_describe(const struct postmortem *pm);

#endif /* GOMEMCTL_POSTMORTEM_H */
