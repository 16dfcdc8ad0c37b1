/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policies (gomemguard.policy(5)): rules in the *.conf files of /etc/gomemguard/policy.d
 * that say which cgroups and processes to tag, and how; and the engine that
 * reconciles the kernel's tags with them.
 *
 *   policy.c           the policy verb: check and apply
 *   policy_rules.c     the files: parsing (libinih) and checking, JSON
 *   policy_plan.c      matching and the plan: what to tag and untag, given
 *                      a snapshot of the system, the kernel's tags and the
 *                      tags this engine made (its state file); no I/O but
 *                      the state file's
 *   policy_snapshot.c  the snapshot, from procfs, cgroupfs and the kernel
 *   policy_apply.c     carrying out a plan; the monitor's watch
 *
 * Each file is one rule: a [Match] section (every key given must match) and
 * a [Tag] section (the settings, as tag's options).  Files are read in
 * lexical order; the first rule that matches a cgroup or process decides.
 */
#ifndef GOMEMCTL_POLICY_H
#define GOMEMCTL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tagargs.h"

#define POLICY_DIR "/etc/gomemguard/policy.d"
#define POLICY_STATE "/run/gomemguard/policy.state"

/* A whitespace-separated list of globs: any one may match. */
struct policy_globs {
	char **v;
	size_t n;
};

/* What a rule tags: the cgroups it matches, or processes by PID. */
enum policy_target {
	POLICY_TARGET_CGROUP,
	POLICY_TARGET_PROCESS,
};

/* Where SoftLimit= takes the soft limit from. */
enum policy_limit {
	POLICY_LIMIT_BYTES,		/* SoftLimit=2G */
	POLICY_LIMIT_GOMEMLIMIT,	/* SoftLimit=GOMEMLIMIT */
	POLICY_LIMIT_PERCENT,		/* SoftLimit=80%: of memory.max */
};

struct policy_rule {
	char *file;		/* as given or found: "policy.d/50-go.conf" */
	char *name;		/* its base name, which the state file keeps */
	struct policy_globs cgroup_path, unit, pod, exe, comm;
	bool has_go_program, go_program;
	enum policy_target target;
	enum policy_limit limit;
	uint64_t limit_bytes;
	uint32_t limit_pct;
	/* The other settings; has_soft_limit is not used here. */
	struct tag_settings s;
};

struct policy_set {
	struct policy_rule *rules;	/* in the order they apply */
	size_t n;
	size_t n_files;			/* files read, masked ones included */
};

/*
 * Reads path: a rule file, or a directory whose *.conf files (not hidden
 * ones; a symlink to /dev/null masks a file, as in systemd) are read in
 * lexical order.  Every problem is printed on errs as "file:line: message".
 * Returns the number of problems (set then holds the good rules only), or
 * -errno when path cannot be read at all (reported on errs).  A directory
 * that does not exist is read as empty when missing_ok.
 */
int policy_load(const char *path, bool missing_ok, FILE *errs,
		struct policy_set *set);
void policy_free(struct policy_set *set);

/* The rules as a JSON array (out_*), or a line each for people. */
void policy_print(const struct policy_set *set);

/*
 * The snapshot the plan is made from.  Cgroup paths are relative to the
 * cgroup v2 root, "/" being the root, as the module takes them.
 */
struct policy_proc {
	int pid;
	uint64_t start;			/* /proc/PID/stat starttime */
	char *comm, *exe, *cgroup;	/* exe: "" when unreadable */
	bool go;			/* a Go program (goproc.c) */
	bool has_gomemlimit, has_max;
	uint64_t gomemlimit, max;	/* max: the tightest memory.max */
};

struct policy_cgroup {
	char *path;
	bool has_max;
	uint64_t max;			/* its own memory.max */
};

/* A tag the kernel holds: a cgroup's, or a process's by PID. */
struct policy_ktag {
	bool cgroup;
	char *path;			/* cgroup */
	int pid;			/* process */
	uint32_t source;		/* process: GOMEMGUARD_SOURCE_* */
};

/* A tag this engine made, as its state file remembers it. */
struct policy_owned {
	bool cgroup;
	char *path;
	int pid;
	uint64_t start;			/* tells the process from a reused PID */
	char *rule;			/* the rule's file name */
	uint64_t soft_limit;
};

struct policy_snapshot {
	struct policy_proc *procs;
	size_t n_procs;
	struct policy_cgroup *cgroups;
	size_t n_cgroups;
	struct policy_ktag *ktags;
	size_t n_ktags;
	struct policy_owned *owned;
	size_t n_owned;
};

enum policy_op {
	POLICY_ADD,	/* tag it */
	POLICY_KEEP,	/* ours, and still wanted as it is */
	POLICY_REMOVE,	/* ours, and no rule wants it (or not so) any more */
	POLICY_SKIP,	/* wanted, but cannot be: why says why */
};

struct policy_action {
	enum policy_op op;
	bool cgroup;
	char *path;			/* cgroup; the process's for people */
	int pid;
	uint64_t start;
	char *comm;			/* process: for people */
	const struct policy_rule *rule;	/* NULL for REMOVE of a gone rule */
	char *rule_name;
	struct tag_settings s;		/* ADD: what to send */
	const char *why;		/* SKIP; REMOVE: the reason */
};

struct policy_plan {
	struct policy_action *a;
	size_t n;
};

/*
 * What to do: for each cgroup and process the first matching rule, its
 * soft limit worked out; tags made by hand (not in owned) are never
 * touched, and neither is anything the kernel already watches.  Returns 0
 * or -ENOMEM.
 */
int policy_plan(const struct policy_set *set,
		const struct policy_snapshot *snap, struct policy_plan *plan);
void policy_plan_free(struct policy_plan *plan);

/*
 * The snapshot but the kernel's tags: the state file, and the cgroups and
 * processes set's rules could match.  0, or -1 after reporting.
 */
int policy_snapshot_take(const char *verb, const struct policy_set *set,
			 const char *state_path, struct policy_snapshot *snap);
/* The kernel's tags into snap, by two dumps on nl; 0 or -1 (reported). */
struct gmc_nl;
int policy_snapshot_ktags(struct gmc_nl *nl, struct policy_snapshot *snap);

/* The plan for people (one line per action) or as JSON. */
void policy_plan_print(const struct policy_plan *plan, bool dry_run);

/* Does rule match process p / cgroup path?  For the tests, too. */
bool policy_match_proc(const struct policy_rule *r,
		       const struct policy_proc *p);
bool policy_match_cgroup(const struct policy_rule *r, const char *path);

/*
 * The systemd unit and the Kubernetes pod UID a cgroup path belongs to, into
 * buf; false when it belongs to none.
 */
bool policy_cgroup_unit(const char *path, char *buf, size_t len);
bool policy_cgroup_pod(const char *path, char *buf, size_t len);

/*
 * The state file: one line per tag this engine made, "cgroup PATH RULE
 * SOFT_LIMIT" or "pid PID START RULE SOFT_LIMIT".  A missing file is an
 * empty state.  Returns 0 or -errno.
 */
int policy_state_read(const char *path, struct policy_owned **owned,
		      size_t *n);
/* Writes it anew (atomically, by rename). */
int policy_state_write(const char *path, const struct policy_owned *owned,
		       size_t n);
void policy_owned_free(struct policy_owned *owned, size_t n);
void policy_snapshot_free(struct policy_snapshot *snap);

/* How policy_reconcile() goes about it. */
enum {
	POLICY_DRY_RUN = 1 << 0,	/* print the plan, change nothing */
	/*
	 * Print no plan: only what changed, one line each on stderr
	 * ("policy: tagged cgroup /a.slice (50-a.conf), soft limit 1 GiB"),
	 * for the monitor.  And when the module is not loaded, do nothing
	 * rather than load it (resolving the family would).
	 */
	POLICY_QUIET = 1 << 1,
};

/*
 * One reconcile of the rules in set: reads the system and the kernel's
 * tags, tags and untags by the plan and remembers what it made in
 * state_path.  verb names the caller in messages.  Returns a GMC_EXIT_*
 * code: 1 when something failed.
 */
int policy_reconcile_set(const char *verb, const struct policy_set *set,
			 const char *state_path, unsigned int flags);

/*
 * The same after reading the rules in dir ("policy apply"): 2 when they
 * have problems (reported), and then nothing changes.
 */
int policy_reconcile(const char *verb, const char *dir,
		     const char *state_path, unsigned int flags);

/*
 * monitor --policy-dir DIR: the rules reconciled at start, again (read
 * anew) on SIGHUP, and every POLICY_RESCAN_S seconds for processes and
 * cgroups that appeared and a module that was loaded again.  The monitor
 * polls policy_watch_fd() with its other descriptors and calls
 * policy_watch_event() when it is readable.  SIGHUP is blocked from
 * policy_watch_new() on and read from that descriptor.
 */
#define POLICY_RESCAN_S 10

struct policy_watch;

/*
 * Reads the rules and reconciles once.  Returns 0 with *w, or a GMC_EXIT_*
 * code after reporting: 2 when the rules have problems.  A dir that is
 * missing (no rules) or cannot be read (nothing applied) is reported and
 * looked at again at every rescan: no reason to fail.
 */
int policy_watch_new(const char *verb, const char *dir, const char *state_path,
		     struct policy_watch **w);
int policy_watch_fd(const struct policy_watch *w);
/*
 * What made the descriptor readable: a SIGHUP (the rules are read again;
 * with problems, they are reported and the old ones stay in force), or the
 * rescan timer (the rules are read again only when dir appeared, went, or
 * became readable or unreadable since the last look; that is said once per
 * change).  Failures are reported and the watch goes on: returns 0.
 */
int policy_watch_event(struct policy_watch *w);
void policy_watch_free(struct policy_watch *w);

#endif /* GOMEMCTL_POLICY_H */
