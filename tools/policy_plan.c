// SPDX-License-Identifier: GPL-2.0
/*
 * The reconcile plan: which cgroups and processes the rules want tagged,
 * against what the kernel holds and what this engine made before.
 *
 * The engine remembers its own tags in a state file (POLICY_STATE, under
 * /run: gone at reboot, as the kernel's tags are).  A tag the kernel holds
 * that the file does not list was made by hand, or by tag --go, and is
 * never touched.  A process is remembered with its start time, so that a
 * PID reused by another process is not taken for the one tagged; an entry
 * whose tag the kernel no longer holds (the process exited, the module was
 * reloaded, someone untagged it) is forgotten, and tagged again if a rule
 * still wants it.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "output.h"
#include "policy.h"
#include "proc.h"
#include "units.h"

static bool any_glob(const struct policy_globs *g, const char *s, int flags)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		if (!fnmatch(g->v[i], s, flags))
			return true;
	}
	return false;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len > n && !memcmp(s + len - n, suffix, n);
}

/* A unit's cgroup, as systemd names them: "name.type". */
static bool unit_component(const char *s, size_t len)
{
	static const char *const types[] = { ".service", ".scope", ".socket",
					     ".mount", ".swap" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (has_suffix(s, len, types[i]))
			return true;
	}
	return false;
}

/*
 * The first unit below the slices (as systemd's cg_path_get_unit() finds
 * it); in a slice with no unit below, the innermost slice.  *at is where
 * its component ends in path.
 */
static bool find_unit(const char *path, char *buf, size_t len,
		      const char **at)
{
	const char *s = path, *end, *slice = NULL, *slice_end = NULL;
	size_t n;

	for (; *s; s = end) {
		while (*s == '/')
			s++;
		end = strchrnul(s, '/');
		n = (size_t)(end - s);
		if (!n)
			break;
		if (has_suffix(s, n, ".slice")) {
			slice = s;
			slice_end = end;
			continue;
		}
		if (!unit_component(s, n))
			break;
		slice = s;
		slice_end = end;
		break;
	}
	if (!slice || (size_t)(slice_end - slice) >= len)
		return false;
	memcpy(buf, slice, (size_t)(slice_end - slice));
	buf[slice_end - slice] = '\0';
	if (at)
		*at = slice_end;
	return true;
}

bool policy_cgroup_unit(const char *path, char *buf, size_t len)
{
	return find_unit(path, buf, len, NULL);
}

/*
 * The pod a kubepods cgroup belongs to.  The cgroupfs driver names pods
 * /kubepods/[burstable/|besteffort/]pod<UID>, the systemd driver
 * /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UID>.slice
 * with the UID's dashes turned into underscores, which are turned back.
 */
static bool find_pod(const char *path, char *buf, size_t len,
		     const char **at)
{
	const char *s = path, *end, *uid;
	bool kube = false;
	size_t n, i;

	for (; *s; s = end) {
		while (*s == '/')
			s++;
		end = strchrnul(s, '/');
		n = (size_t)(end - s);
		if (!n)
			break;
		if (!strncmp(s, "kubepods", 8))
			kube = true;
		if (!kube)
			continue;
		uid = has_suffix(s, n, ".slice") ? memmem(s, n, "-pod", 4) : NULL;
		if (n > 3 && !strncmp(s, "pod", 3)) {
			uid = s + 3;
			n -= 3;
		} else if (uid) {
			uid += 4;
			n = (size_t)(end - uid) - 6;
		} else {
			continue;
		}
		if (!n || n >= len)
			return false;
		for (i = 0; i < n; i++)
			buf[i] = uid[i] == '_' ? '-' : uid[i];
		buf[n] = '\0';
		if (at)
			*at = end;
		return true;
	}
	return false;
}

bool policy_cgroup_pod(const char *path, char *buf, size_t len)
{
	return find_pod(path, buf, len, NULL);
}

/*
 * For a process, its cgroup matches Unit= and KubernetesPod= at any depth
 * below the unit or pod; for a cgroup rule only the unit's or pod's own
 * cgroup does (exact), or the tags would nest.
 */
static bool match_cgroup_keys(const struct policy_rule *r, const char *path,
			      bool exact)
{
	char name[GOMEMGUARD_PATH_MAX];
	const char *at;

	if (r->cgroup_path.n && !any_glob(&r->cgroup_path, path, FNM_PATHNAME))
		return false;
	if (r->unit.n) {
		if (!find_unit(path, name, sizeof(name), &at) ||
		    (exact && *at) || !any_glob(&r->unit, name, 0))
			return false;
	}
	if (r->pod.n) {
		if (!find_pod(path, name, sizeof(name), &at) ||
		    (exact && *at) || !any_glob(&r->pod, name, 0))
			return false;
	}
	return true;
}

bool policy_match_cgroup(const struct policy_rule *r, const char *path)
{
	return r->target == POLICY_TARGET_CGROUP &&
	       match_cgroup_keys(r, path, true);
}

bool policy_match_proc(const struct policy_rule *r,
		       const struct policy_proc *p)
{
	if (r->target != POLICY_TARGET_PROCESS)
		return false;
	if (r->exe.n && (!*p->exe || !any_glob(&r->exe, p->exe, FNM_PATHNAME)))
		return false;
	if (r->comm.n && !any_glob(&r->comm, p->comm, 0))
		return false;
	if (r->has_go_program && p->go != r->go_program)
		return false;
	return match_cgroup_keys(r, p->cgroup, false);
}

/* Is path at or below cgroup? */
static bool below(const char *path, const char *cgroup)
{
	size_t n = strlen(cgroup);

	if (!strcmp(cgroup, "/"))
		return true;
	return !strncmp(path, cgroup, n) && (path[n] == '\0' || path[n] == '/');
}

static int push(struct policy_plan *plan, const struct policy_action *a)
{
	struct policy_action *more;

	more = realloc(plan->a, (plan->n + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	plan->a = more;
	plan->a[plan->n] = *a;
	plan->a[plan->n].path = a->path ? strdup(a->path) : NULL;
	plan->a[plan->n].comm = a->comm ? strdup(a->comm) : NULL;
	plan->a[plan->n].rule_name = a->rule_name ? strdup(a->rule_name) : NULL;
	plan->n++;
	if ((a->path && !plan->a[plan->n - 1].path) ||
	    (a->comm && !plan->a[plan->n - 1].comm) ||
	    (a->rule_name && !plan->a[plan->n - 1].rule_name))
		return -ENOMEM;
	return 0;
}

/* The soft limit rule r gives; NULL, or why there is none. */
static const char *soft_limit(const struct policy_rule *r, bool has_gml,
			      uint64_t gml, bool has_max, uint64_t max,
			      struct tag_settings *s)
{
	*s = r->s;
	s->has_soft_limit = true;
	s->has_limit_origin = true;
	switch (r->limit) {
	case POLICY_LIMIT_BYTES:
		s->soft_limit = r->limit_bytes;
		s->limit_origin = GOMEMGUARD_ORIGIN_USER;
		break;
	case POLICY_LIMIT_GOMEMLIMIT:
		if (!has_gml)
			return "no GOMEMLIMIT that its Go reads";
		s->soft_limit = gml;
		s->limit_origin = GOMEMGUARD_ORIGIN_GOMEMLIMIT;
		break;
	case POLICY_LIMIT_PERCENT:
		if (!has_max)
			return "no memory.max to take a percentage of";
		s->soft_limit = max / 100 * r->limit_pct +
				max % 100 * r->limit_pct / 100;
		s->limit_origin = GOMEMGUARD_ORIGIN_MEMCG_MAX;
		break;
	}
	if (!s->soft_limit)
		return "a soft limit of 0";
	if (s->soft_limit > GOMEMGUARD_SOFT_LIMIT_MAX)
		return "a soft limit above the module's bound of 1 EiB";
	return NULL;
}

static const struct policy_ktag *ktag_cgroup(const struct policy_snapshot *snap,
					     const char *path)
{
	size_t i;

	for (i = 0; i < snap->n_ktags; i++) {
		if (snap->ktags[i].cgroup && !strcmp(snap->ktags[i].path, path))
			return &snap->ktags[i];
	}
	return NULL;
}

static const struct policy_ktag *ktag_pid(const struct policy_snapshot *snap,
					  int pid)
{
	size_t i;

	for (i = 0; i < snap->n_ktags; i++) {
		if (!snap->ktags[i].cgroup && snap->ktags[i].pid == pid)
			return &snap->ktags[i];
	}
	return NULL;
}

static const struct policy_proc *proc_find(const struct policy_snapshot *snap,
					   int pid)
{
	size_t i;

	for (i = 0; i < snap->n_procs; i++) {
		if (snap->procs[i].pid == pid)
			return &snap->procs[i];
	}
	return NULL;
}

/* The engine's entry for a target, when it is still the same one. */
static struct policy_owned *owned_find(const struct policy_snapshot *snap,
				       bool cgroup, const char *path, int pid,
				       uint64_t start)
{
	size_t i;

	for (i = 0; i < snap->n_owned; i++) {
		struct policy_owned *o = &snap->owned[i];

		if (o->cgroup != cgroup)
			continue;
		if (cgroup ? !strcmp(o->path, path) :
			     o->pid == pid && o->start == start)
			return o;
	}
	return NULL;
}

/*
 * One target a rule wants: ADD, KEEP, or REMOVE and ADD when the engine's
 * tag was made by another rule or with another soft limit; nothing for a
 * tag made by hand.  handled[] marks the owned entries dealt with.
 */
static int want(struct policy_plan *plan, const struct policy_snapshot *snap,
		struct policy_action *a, bool tagged, bool *handled)
{
	struct policy_owned *o;
	struct policy_action rm;

	o = owned_find(snap, a->cgroup, a->path, a->pid, a->start);
	if (o && tagged) {
		handled[o - snap->owned] = true;
		if (!strcmp(o->rule, a->rule_name) &&
		    o->soft_limit == a->s.soft_limit) {
			a->op = POLICY_KEEP;
			return push(plan, a);
		}
		rm = *a;
		rm.op = POLICY_REMOVE;
		rm.rule = NULL;
		rm.rule_name = o->rule;
		rm.why = strcmp(o->rule, a->rule_name) ?
			 "another rule matches first now" :
			 "its soft limit changed";
		if (push(plan, &rm))
			return -ENOMEM;
		a->op = POLICY_ADD;
		return push(plan, a);
	}
	if (tagged) {
		a->op = POLICY_SKIP;
		a->why = "already tagged, not by a policy";
		return push(plan, a);
	}
	a->op = POLICY_ADD;
	return push(plan, a);
}

static const struct policy_rule *first_cgroup_rule(const struct policy_set *set,
						   const char *path)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (policy_match_cgroup(&set->rules[i], path))
			return &set->rules[i];
	}
	return NULL;
}

static const struct policy_rule *first_proc_rule(const struct policy_set *set,
						 const struct policy_proc *p)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (policy_match_proc(&set->rules[i], p))
			return &set->rules[i];
	}
	return NULL;
}

static int plan_cgroups(const struct policy_set *set,
			const struct policy_snapshot *snap,
			struct policy_plan *plan, bool *handled)
{
	size_t i;

	for (i = 0; i < snap->n_cgroups; i++) {
		const struct policy_cgroup *cg = &snap->cgroups[i];
		const struct policy_rule *r = first_cgroup_rule(set, cg->path);
		struct policy_action a = { .cgroup = true, .path = cg->path };

		if (!r)
			continue;
		a.rule = r;
		a.rule_name = r->name;
		a.why = soft_limit(r, false, 0, cg->has_max, cg->max, &a.s);
		if (a.why) {
			a.op = POLICY_SKIP;
			if (push(plan, &a))
				return -ENOMEM;
			continue;
		}
		if (want(plan, snap, &a, ktag_cgroup(snap, cg->path), handled))
			return -ENOMEM;
	}
	return 0;
}

/* Will a cgroup tag, the kernel's or one this plan adds, cover path? */
static bool covered(const struct policy_snapshot *snap,
		    const struct policy_plan *plan, const char *path)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		const struct policy_action *a = &plan->a[i];

		if (a->cgroup && (a->op == POLICY_ADD || a->op == POLICY_KEEP) &&
		    below(path, a->path))
			return true;
	}
	for (i = 0; i < snap->n_ktags; i++) {
		if (snap->ktags[i].cgroup && below(path, snap->ktags[i].path))
			return true;
	}
	return false;
}

static int plan_procs(const struct policy_set *set,
		      const struct policy_snapshot *snap,
		      struct policy_plan *plan, bool *handled)
{
	size_t i;

	for (i = 0; i < snap->n_procs; i++) {
		const struct policy_proc *p = &snap->procs[i];
		const struct policy_rule *r = first_proc_rule(set, p);
		const struct policy_ktag *k = ktag_pid(snap, p->pid);
		struct policy_action a = {
			.path = p->cgroup, .pid = p->pid, .start = p->start,
			.comm = p->comm,
		};

		if (!r)
			continue;
		a.rule = r;
		a.rule_name = r->name;
		if ((k && k->source != GOMEMGUARD_SOURCE_PID) ||
		    (!k && covered(snap, plan, p->cgroup))) {
			/* A cgroup tag or an inheriting parent watches it. */
			a.op = POLICY_SKIP;
			a.why = "already watched through a cgroup tag or its parent";
			if (push(plan, &a))
				return -ENOMEM;
			continue;
		}
		a.why = soft_limit(r, p->has_gomemlimit, p->gomemlimit,
				   p->has_max, p->max, &a.s);
		if (a.why) {
			a.op = POLICY_SKIP;
			if (push(plan, &a))
				return -ENOMEM;
			continue;
		}
		if (want(plan, snap, &a, k != NULL, handled))
			return -ENOMEM;
	}
	return 0;
}

/* The engine's tags that no rule wants any more, where the kernel has them. */
static int plan_removals(const struct policy_snapshot *snap,
			 struct policy_plan *plan, const bool *handled)
{
	size_t i;

	for (i = 0; i < snap->n_owned; i++) {
		const struct policy_owned *o = &snap->owned[i];
		const struct policy_proc *p;
		const struct policy_ktag *k;
		struct policy_action a = {
			.op = POLICY_REMOVE, .cgroup = o->cgroup,
			.path = o->path, .pid = o->pid, .start = o->start,
			.rule_name = o->rule,
			.why = "no rule matches it any more",
		};

		if (handled[i])
			continue;
		if (o->cgroup) {
			if (!ktag_cgroup(snap, o->path))
				continue;
		} else {
			k = ktag_pid(snap, o->pid);
			p = proc_find(snap, o->pid);
			/* Exited, or the PID is another process's now. */
			if (!k || k->source != GOMEMGUARD_SOURCE_PID || !p ||
			    p->start != o->start)
				continue;
			a.path = p->cgroup;
			a.comm = p->comm;
		}
		if (push(plan, &a))
			return -ENOMEM;
	}
	return 0;
}

int policy_plan(const struct policy_set *set,
		const struct policy_snapshot *snap, struct policy_plan *plan)
{
	bool *handled;
	int err;

	memset(plan, 0, sizeof(*plan));
	handled = calloc(snap->n_owned + 1, sizeof(*handled));
	if (!handled)
		return -ENOMEM;
	err = plan_cgroups(set, snap, plan, handled);
	if (!err)
		err = plan_procs(set, snap, plan, handled);
	if (!err)
		err = plan_removals(snap, plan, handled);
	free(handled);
	if (err)
		policy_plan_free(plan);
	return err;
}

void policy_plan_free(struct policy_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		free(plan->a[i].path);
		free(plan->a[i].comm);
		free(plan->a[i].rule_name);
	}
	free(plan->a);
	memset(plan, 0, sizeof(*plan));
}

static const char *const op_names[] = {
	[POLICY_ADD] = "add",
	[POLICY_KEEP] = "keep",
	[POLICY_REMOVE] = "remove",
	[POLICY_SKIP] = "skip",
};

static void print_action(const struct policy_action *a)
{
	char size[UNITS_BUF_LEN];
	bool limit = a->op == POLICY_ADD || a->op == POLICY_KEEP;

	if (out_is_json()) {
		out_object_begin(NULL);
		out_json_str("op", op_names[a->op]);
		out_json_str("target", a->cgroup ? "cgroup" : "process");
		if (a->path)
			out_json_str("cgroup", a->path);
		if (!a->cgroup) {
			out_json_u64("pid", (uint64_t)a->pid);
			if (a->comm)
				out_json_str("comm", a->comm);
		}
		out_json_str("rule", a->rule_name);
		if (limit) {
			out_json_u64("soft_limit", a->s.soft_limit);
			out_json_str("soft_limit_origin",
				     proc_origin_name(a->s.limit_origin));
		}
		if (a->why && !limit)
			out_json_str("why", a->why);
		out_object_end();
		return;
	}
	printf("%-6s ", op_names[a->op]);
	if (a->cgroup)
		printf("cgroup %s", a->path);
	else
		printf("pid %d (%s) in %s", a->pid, a->comm ? a->comm : "?",
		       a->path ? a->path : "?");
	if (limit)
		printf(", soft limit %s from %s",
		       units_format_bytes(size, sizeof(size), a->s.soft_limit),
		       proc_origin_words(a->s.limit_origin));
	if (a->why && !limit)
		printf(": %s", a->why);
	printf(" (%s)\n", a->rule_name);
}

void policy_plan_print(const struct policy_plan *plan, bool dry_run)
{
	size_t i;

	if (out_is_json()) {
		out_begin_list();
		for (i = 0; i < plan->n; i++)
			print_action(&plan->a[i]);
		out_end();
		return;
	}
	if (dry_run)
		printf("plan (dry run, nothing changed):\n");
	for (i = 0; i < plan->n; i++)
		print_action(&plan->a[i]);
	if (!plan->n)
		printf("nothing to do\n");
}

void policy_owned_free(struct policy_owned *owned, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(owned[i].path);
		free(owned[i].rule);
	}
	free(owned);
}

void policy_snapshot_free(struct policy_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->n_procs; i++) {
		free(snap->procs[i].comm);
		free(snap->procs[i].exe);
		free(snap->procs[i].cgroup);
	}
	free(snap->procs);
	for (i = 0; i < snap->n_cgroups; i++)
		free(snap->cgroups[i].path);
	free(snap->cgroups);
	for (i = 0; i < snap->n_ktags; i++)
		free(snap->ktags[i].path);
	free(snap->ktags);
	policy_owned_free(snap->owned, snap->n_owned);
	memset(snap, 0, sizeof(*snap));
}

/* "cgroup\tRULE\tSOFT_LIMIT\tPATH" or "pid\tRULE\tSOFT_LIMIT\tPID\tSTART" */
static int parse_state_line(char *line, struct policy_owned *o)
{
	char *f[5], *save = NULL, *end;
	size_t n = 0;

	memset(o, 0, sizeof(*o));
	for (f[n] = strtok_r(line, "\t", &save); f[n] && n < 4;
	     f[++n] = strtok_r(NULL, "\t", &save))
		;
	if (n < 4)
		return -EINVAL;
	o->soft_limit = strtoull(f[2], &end, 10);
	if (*end)
		return -EINVAL;
	if (!strcmp(f[0], "cgroup")) {
		o->cgroup = true;
		o->path = strdup(f[3]);
	} else if (!strcmp(f[0], "pid") && f[4]) {
		o->pid = (int)strtol(f[3], &end, 10);
		if (*end || o->pid <= 0)
			return -EINVAL;
		o->start = strtoull(f[4], &end, 10);
		if (*end)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	o->rule = strdup(f[1]);
	if (!o->rule || (o->cgroup && !o->path)) {
		free(o->rule);
		free(o->path);
		return -ENOMEM;
	}
	return 0;
}

int policy_state_read(const char *path, struct policy_owned **owned,
		      size_t *n)
{
	struct policy_owned *v = NULL, *more, o;
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t len;
	FILE *f;
	int err = 0;

	*owned = NULL;
	*n = 0;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		err = parse_state_line(line, &o);
		if (err == -EINVAL) {
			/* A line this version cannot read: not ours to act on. */
			err = 0;
			continue;
		}
		if (err)
			break;
		more = realloc(v, (count + 1) * sizeof(*v));
		if (!more) {
			free(o.path);
			free(o.rule);
			err = -ENOMEM;
			break;
		}
		v = more;
		v[count++] = o;
	}
	free(line);
	fclose(f);
	if (err) {
		policy_owned_free(v, count);
		return err;
	}
	*owned = v;
	*n = count;
	return 0;
}

int policy_state_write(const char *path, const struct policy_owned *owned,
		       size_t n)
{
	char *tmp = NULL, *dir, *slash;
	FILE *f;
	size_t i;
	int err = 0;

	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			err = -errno;
	}
	free(dir);
	if (err)
		return err;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	f = fopen(tmp, "we");
	if (!f) {
		err = -errno;
		free(tmp);
		return err;
	}
	fprintf(f, "# The tags gomemctl policy made (gomemguard.policy(5)); tags not listed are left alone.\n");
	for (i = 0; i < n; i++) {
		const struct policy_owned *o = &owned[i];

		if (o->cgroup)
			fprintf(f, "cgroup\t%s\t%" PRIu64 "\t%s\n", o->rule,
				o->soft_limit, o->path);
		else
			fprintf(f, "pid\t%s\t%" PRIu64 "\t%d\t%" PRIu64 "\n",
				o->rule, o->soft_limit, o->pid, o->start);
	}
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
