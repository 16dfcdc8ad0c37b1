// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl policy: check rule files, and reconcile the kernel's tags with
 * them.  The snapshot the plan is made from comes from procfs (goproc_root)
 * and the cgroup2 tree (GOMEMCTL_CGROUP2_ROOT, else the global root's
 * mount), the kernel's tags from PROC_GET and TAG_GET dumps.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/gomemguard.h>

#include "cgroup.h"
#include "gomemctl.h"
#include "goproc.h"
#include "memstat.h"
#include "nl.h"
#include "output.h"
#include "policy.h"
#include "proc.h"
#include "units.h"

#define PF_KTHREAD 0x00200000

static char *read_small(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* memory.max in dir: true with *v when it is a number. */
static bool read_max(const char *dir, uint64_t *v)
{
	char path[PATH_MAX], *text, *end;
	bool ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/memory.max", dir) >=
	    sizeof(path))
		return false;
	text = read_small(path);
	if (!text)
		return false;
	errno = 0;
	*v = strtoull(text, &end, 10);
	ok = text[0] >= '0' && text[0] <= '9' && !errno &&
	     (*end == '\n' || !*end);
	free(text);
	return ok;
}

struct walk {
	const char *root;
	struct policy_snapshot *snap;
	size_t cap;
	int err;
};

static int add_cgroup(struct walk *w, const char *rel, bool has_max,
		      uint64_t max)
{
	struct policy_cgroup *more;

	if (w->snap->n_cgroups == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		more = realloc(w->snap->cgroups, w->cap * sizeof(*more));
		if (!more)
			return -ENOMEM;
		w->snap->cgroups = more;
	}
	w->snap->cgroups[w->snap->n_cgroups] = (struct policy_cgroup){
		.path = strdup(rel), .has_max = has_max, .max = max,
	};
	if (!w->snap->cgroups[w->snap->n_cgroups].path)
		return -ENOMEM;
	w->snap->n_cgroups++;
	return 0;
}

/* rel and below, in preorder; the tightest memory.max passed down. */
static int walk_cgroups(struct walk *w, const char *rel, bool has_max,
			uint64_t max)
{
	char dir[PATH_MAX], child[GOMEMGUARD_PATH_MAX];
	struct dirent *d;
	uint64_t mine;
	DIR *dp;
	int err;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", w->root,
			     strcmp(rel, "/") ? rel : "") >= sizeof(dir))
		return 0;
	if (read_max(dir, &mine) && (!has_max || mine < max)) {
		has_max = true;
		max = mine;
	}
	err = add_cgroup(w, rel, has_max, max);
	if (err)
		return err;
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((d = readdir(dp))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s/%s",
				     strcmp(rel, "/") ? rel : "", d->d_name) >=
		    sizeof(child))
			continue;
		err = walk_cgroups(w, child, has_max, max);
		if (err)
			break;
	}
	closedir(dp);
	return err;
}

static const struct policy_cgroup *cgroup_find(const struct policy_snapshot *snap,
					       const char *path)
{
	size_t i;

	for (i = 0; i < snap->n_cgroups; i++) {
		if (!strcmp(snap->cgroups[i].path, path))
			return &snap->cgroups[i];
	}
	return NULL;
}

/* A process's tightest memory.max, from the walk or from cgroupfs. */
static void proc_max(const char *root, const struct policy_snapshot *snap,
		     struct policy_proc *p)
{
	const struct policy_cgroup *cg = cgroup_find(snap, p->cgroup);
	char dir[PATH_MAX], *slash;
	size_t root_len = strlen(root);
	uint64_t v;

	if (cg) {
		p->has_max = cg->has_max;
		p->max = cg->max;
		return;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", root,
			     strcmp(p->cgroup, "/") ? p->cgroup : "") >=
	    sizeof(dir))
		return;
	for (;;) {
		if (read_max(dir, &v) && (!p->has_max || v < p->max)) {
			p->has_max = true;
			p->max = v;
		}
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < root_len)
			break;
		*slash = '\0';
	}
}

/* comm, cgroup, start time and flags of pid; false: skip it. */
static bool read_proc(int pid, struct policy_proc *p)
{
	char path[PATH_MAX], link[PATH_MAX], *text, *s, *line;
	unsigned long flags = 0;
	unsigned long long start = 0;
	ssize_t n;
	bool ok;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "%s/%d/stat", goproc_root, pid);
	text = read_small(path);
	if (!text)
		return false;
	s = strrchr(text, ')');
	/* state ppid pgrp session tty_nr tpgid flags ... starttime (22) */
	ok = s && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &flags, &start) == 2;
	free(text);
	if (!ok || (flags & PF_KTHREAD))
		return false;
	p->start = start;
	snprintf(path, sizeof(path), "%s/%d/comm", goproc_root, pid);
	p->comm = read_small(path);
	if (!p->comm)
		return false;
	p->comm[strcspn(p->comm, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/%d/exe", goproc_root, pid);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	p->exe = strdup(link);
	snprintf(path, sizeof(path), "%s/%d/cgroup", goproc_root, pid);
	text = read_small(path);
	if (text) {
		for (line = strtok_r(text, "\n", &s); line;
		     line = strtok_r(NULL, "\n", &s)) {
			if (!strncmp(line, "0::/", 4)) {
				p->cgroup = strdup(line + 3);
				break;
			}
		}
		free(text);
	}
	/* Outside our cgroup namespace ("/.."): no path the module takes. */
	return p->exe && p->cgroup && strncmp(p->cgroup, "/..", 3);
}

/* Could a rule that needs to know about Go match p, Go aside? */
static bool needs_go(const struct policy_set *set, const struct policy_proc *p)
{
	struct policy_rule r;
	size_t i;

	for (i = 0; i < set->n; i++) {
		r = set->rules[i];
		if (!r.has_go_program && r.limit != POLICY_LIMIT_GOMEMLIMIT)
			continue;
		r.has_go_program = false;
		if (policy_match_proc(&r, p))
			return true;
	}
	return false;
}

/*
 * What goproc_read() said of the processes of the last scan, by PID, start
 * time and executable: reading every binary again at each of the monitor's
 * rescans would cost more than the rescan.  (A process that execs the same
 * path again with another GOMEMLIMIT keeps the old one until it exits.)
 */
struct go_seen {
	int pid;
	uint64_t start;
	char *exe;
	bool go, has_gomemlimit;
	uint64_t gomemlimit;
};

static struct {
	struct go_seen *last, *now;
	size_t n_last, n_now, cap_now;
} go_cache;

static void go_seen_free(struct go_seen *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].exe);
	free(v);
}

static int by_seen_pid(const void *a, const void *b)
{
	int x = ((const struct go_seen *)a)->pid;
	int y = ((const struct go_seen *)b)->pid;

	return (x > y) - (x < y);
}

/* The scan is over: what it saw is what the next one looks up. */
static void go_cache_turn(void)
{
	go_seen_free(go_cache.last, go_cache.n_last);
	go_cache.last = go_cache.now;
	go_cache.n_last = go_cache.n_now;
	go_cache.now = NULL;
	go_cache.n_now = go_cache.cap_now = 0;
	if (go_cache.last)
		qsort(go_cache.last, go_cache.n_last, sizeof(*go_cache.last),
		      by_seen_pid);
}

static void proc_go(struct policy_proc *p)
{
	struct go_seen key = { .pid = p->pid }, *seen, *more;
	struct goproc *g;

	seen = go_cache.last ? bsearch(&key, go_cache.last, go_cache.n_last,
				       sizeof(key), by_seen_pid) : NULL;
	if (seen && seen->start == p->start && !strcmp(seen->exe, p->exe)) {
		key = *seen;
	} else {
		g = malloc(sizeof(*g));
		if (!g)
			return;
		if (!goproc_read(p->pid, g)) {
			key.go = true;
			key.has_gomemlimit = goproc_gomemlimit(g, &key.gomemlimit);
		}
		free(g);
	}
	p->go = key.go;
	p->has_gomemlimit = key.has_gomemlimit;
	p->gomemlimit = key.gomemlimit;
	if (go_cache.n_now == go_cache.cap_now) {
		go_cache.cap_now = go_cache.cap_now ? go_cache.cap_now * 2 : 64;
		more = realloc(go_cache.now, go_cache.cap_now * sizeof(*more));
		if (!more)
			return;
		go_cache.now = more;
	}
	key.pid = p->pid;
	key.start = p->start;
	key.exe = strdup(p->exe);
	if (key.exe)
		go_cache.now[go_cache.n_now++] = key;
}

static int scan_procs(const struct policy_set *set, const char *root,
		      struct policy_snapshot *snap)
{
	struct policy_proc p, *more;
	struct dirent *d;
	size_t cap = 0;
	char *end;
	long pid;
	DIR *dp;
	int err = 0;

	dp = opendir(goproc_root);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		if (!read_proc((int)pid, &p)) {
			free(p.comm);
			free(p.exe);
			free(p.cgroup);
			continue;
		}
		if (needs_go(set, &p))
			proc_go(&p);
		proc_max(root, snap, &p);
		if (snap->n_procs == cap) {
			cap = cap ? cap * 2 : 256;
			more = realloc(snap->procs, cap * sizeof(*more));
			if (!more) {
				free(p.comm);
				free(p.exe);
				free(p.cgroup);
				err = -ENOMEM;
				break;
			}
			snap->procs = more;
		}
		snap->procs[snap->n_procs++] = p;
	}
	closedir(dp);
	go_cache_turn();
	return err;
}

static int by_pid(const void *a, const void *b)
{
	int x = ((const struct policy_proc *)a)->pid;
	int y = ((const struct policy_proc *)b)->pid;

	return (x > y) - (x < y);
}

static int add_ktag(struct policy_snapshot *snap, const struct policy_ktag *k)
{
	struct policy_ktag *more;

	more = realloc(snap->ktags, (snap->n_ktags + 1) * sizeof(*more));
	if (!more)
		return -1;
	snap->ktags = more;
	snap->ktags[snap->n_ktags] = *k;
	if (k->path) {
		snap->ktags[snap->n_ktags].path = strdup(k->path);
		if (!snap->ktags[snap->n_ktags].path)
			return -1;
	}
	snap->n_ktags++;
	return 0;
}

static int on_proc(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = { GOMEMGUARD_A_PID, GOMEMGUARD_A_SOURCE };
	struct policy_ktag k = { 0 };

	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE(required)))
		return -1;
	k.pid = (int)nla_get_u32(tb[GOMEMGUARD_A_PID]);
	k.source = nla_get_u32(tb[GOMEMGUARD_A_SOURCE]);
	if (add_ktag(arg, &k)) {
		gmc_err(NULL, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

static int on_tag(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = { GOMEMGUARD_A_CGROUP };
	struct policy_ktag k = { .cgroup = true };

	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE(required)))
		return -1;
	k.path = nla_get_string(tb[GOMEMGUARD_A_CGROUP]);
	if (add_ktag(arg, &k)) {
		gmc_err(NULL, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* The kernel's tags, by two dumps; -1 after reporting. */
static int read_ktags(struct gmc_nl *nl, struct policy_snapshot *snap)
{
	struct nl_msg *req;

	req = gmc_nl_request(nl, GOMEMGUARD_CMD_PROC_GET, NLM_F_DUMP);
	if (!req || gmc_nl_transact(nl, req, on_proc, snap))
		return -1;
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_TAG_GET, NLM_F_DUMP);
	if (!req || gmc_nl_transact(nl, req, on_tag, snap))
		return -1;
	return 0;
}

static bool wants(const struct policy_set *set, enum policy_target t)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->rules[i].target == t)
			return true;
	}
	return false;
}

static bool owns_pids(const struct policy_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->n_owned; i++) {
		if (!snap->owned[i].cgroup)
			return true;
	}
	return false;
}

static char *cgroup_root(void)
{
	const char *env = getenv(MEMSTAT_ROOT_ENV);
	char *root;

	if (env && *env)
		return strdup(env);
	root = cgroup_global_root(CGROUP_MOUNTINFO, CGROUP_NS);
	return root ? root : strdup("/sys/fs/cgroup");
}

/* Everything but the kernel's tags; -1 after reporting. */
static int take_snapshot(const char *verb, const struct policy_set *set,
			 const char *state_path, struct policy_snapshot *snap)
{
	struct walk w = { .snap = snap };
	char *root;
	int err = 0;

	root = cgroup_root();
	if (!root) {
		gmc_err(verb, "%s", strerror(ENOMEM));
		return -1;
	}
	w.root = root;
	err = policy_state_read(state_path, &snap->owned, &snap->n_owned);
	if (err) {
		gmc_err(verb, "cannot read %s: %s", state_path, strerror(-err));
		free(root);
		return -1;
	}
	if (wants(set, POLICY_TARGET_CGROUP))
		err = walk_cgroups(&w, "/", false, 0);
	/* Processes this engine tagged are told from reused PIDs by them. */
	if (!err && (wants(set, POLICY_TARGET_PROCESS) || owns_pids(snap))) {
		err = scan_procs(set, root, snap);
		if (err && err != -ENOMEM)
			gmc_err(verb, "cannot list the processes in %s: %s",
				goproc_root, strerror(-err));
	}
	free(root);
	if (err == -ENOMEM)
		gmc_err(verb, "%s", strerror(ENOMEM));
	if (err)
		return -1;
	if (snap->n_procs)
		qsort(snap->procs, snap->n_procs, sizeof(*snap->procs), by_pid);
	return 0;
}

static int remember(struct policy_owned **v, size_t *n,
		    const struct policy_action *a)
{
	struct policy_owned *more;

	more = realloc(*v, (*n + 1) * sizeof(*more));
	if (!more)
		return -1;
	*v = more;
	more[*n] = (struct policy_owned){
		.cgroup = a->cgroup, .pid = a->pid, .start = a->start,
		.soft_limit = a->s.soft_limit,
		.path = a->cgroup ? strdup(a->path) : NULL,
		.rule = strdup(a->rule_name),
	};
	(*n)++;
	if (!more[*n - 1].rule || (a->cgroup && !more[*n - 1].path))
		return -1;
	return 0;
}

/* One ADD or REMOVE sent; -1 after the error was reported. */
static int carry_out(struct gmc_nl *nl, const struct policy_action *a)
{
	struct nl_msg *req;
	int err;

	req = gmc_nl_request(nl, a->op == POLICY_ADD ? GOMEMGUARD_CMD_TAG_NEW :
				 GOMEMGUARD_CMD_TAG_DEL, 0);
	if (!req)
		return -1;
	err = a->cgroup ? nla_put_string(req, GOMEMGUARD_A_CGROUP, a->path) :
			  nla_put_u32(req, GOMEMGUARD_A_PID, (uint32_t)a->pid);
	if (!err && a->op == POLICY_ADD)
		err = tagargs_put_settings(req, &a->s);
	if (err) {
		nlmsg_free(req);
		gmc_err(NULL, "%s", strerror(ENOMEM));
		return -1;
	}
	return gmc_nl_transact(nl, req, NULL, NULL);
}

static void say_failed(const struct policy_action *a)
{
	if (a->cgroup)
		gmc_note("cgroup %s: not %s (%s)", a->path,
			 a->op == POLICY_ADD ? "tagged" : "untagged",
			 a->rule_name);
	else
		gmc_note("pid %d (%s): not %s (%s)", a->pid, a->comm,
			 a->op == POLICY_ADD ? "tagged" : "untagged",
			 a->rule_name);
}

/* "policy: tagged cgroup /a.slice (50-a.conf), soft limit 1 GiB from user" */
static void say_changed(const char *verb, const struct policy_action *a)
{
	char what[GOMEMGUARD_PATH_MAX + 64], size[UNITS_BUF_LEN];

	if (a->cgroup)
		snprintf(what, sizeof(what), "cgroup %s", a->path);
	else
		snprintf(what, sizeof(what), "pid %d (%s)", a->pid,
			 a->comm ? a->comm : "?");
	if (a->op == POLICY_ADD)
		gmc_note("%s: policy: tagged %s (%s), soft limit %s from %s",
			 verb, what, a->rule_name,
			 units_format_bytes(size, sizeof(size), a->s.soft_limit),
			 proc_origin_words(a->s.limit_origin));
	else
		gmc_note("%s: policy: untagged %s (%s): %s", verb, what,
			 a->rule_name, a->why);
}

/* The plan carried out; the state it leaves. */
static int execute(const char *verb, struct gmc_nl *nl,
		   const struct policy_plan *plan, const char *state_path,
		   size_t n_before, bool say_changes)
{
	struct policy_owned *now = NULL;
	size_t i, n = 0;
	int failed = 0, err;
	bool changed = false;

	for (i = 0; i < plan->n; i++) {
		const struct policy_action *a = &plan->a[i];

		changed |= a->op == POLICY_ADD || a->op == POLICY_REMOVE;
		switch (a->op) {
		case POLICY_ADD:
			if (carry_out(nl, a)) {
				say_failed(a);
				failed++;
				break;
			}
			if (say_changes)
				say_changed(verb, a);
			if (remember(&now, &n, a))
				goto nomem;
			break;
		case POLICY_REMOVE:
			if (carry_out(nl, a)) {
				say_failed(a);
				failed++;
				/* Still ours: the next run tries again. */
				if (remember(&now, &n, a))
					goto nomem;
			} else if (say_changes) {
				say_changed(verb, a);
			}
			break;
		case POLICY_KEEP:
			if (remember(&now, &n, a))
				goto nomem;
			break;
		case POLICY_SKIP:
			break;
		}
	}
	/* Unchanged (the monitor's usual rescan): nothing to write. */
	if (!changed && n == n_before) {
		policy_owned_free(now, n);
		return failed ? GMC_EXIT_ERROR : GMC_EXIT_OK;
	}
	err = policy_state_write(state_path, now, n);
	policy_owned_free(now, n);
	if (err) {
		gmc_err(verb, "cannot write %s: %s", state_path, strerror(-err));
		return GMC_EXIT_ERROR;
	}
	return failed ? GMC_EXIT_ERROR : GMC_EXIT_OK;
nomem:
	policy_owned_free(now, n);
	gmc_err(verb, "%s", strerror(ENOMEM));
	return GMC_EXIT_ERROR;
}

/* The module's sysfs directory: loaded, without loading it. */
const char *policy_module_dir = "/sys/module/gomemguard";

/*
 * "policy apply" run by hand while the monitor reconciles: one at a time,
 * from reading the state file to writing it.  The lock's descriptor, or -1
 * after reporting.
 */
static int lock_state(const char *verb, const char *state_path)
{
	char *lock = NULL, *dir, *slash;
	int fd = -1;

	dir = strdup(state_path);
	if (!dir || asprintf(&lock, "%s.lock", state_path) < 0) {
		free(dir);
		gmc_err(verb, "%s", strerror(ENOMEM));
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		gmc_err(verb, "cannot lock %s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(lock);
	free(dir);
	return fd;
}

int policy_reconcile_set(const char *verb, const struct policy_set *set,
			 const char *state_path, unsigned int flags)
{
	struct policy_snapshot snap = { 0 };
	struct policy_plan plan = { 0 };
	struct gmc_nl *nl = NULL;
	int ret = GMC_EXIT_ERROR, lock = -1;

	if ((flags & POLICY_QUIET) && access(policy_module_dir, F_OK))
		return GMC_EXIT_OK;
	if (!(flags & POLICY_DRY_RUN)) {
		lock = lock_state(verb, state_path);
		if (lock < 0)
			return GMC_EXIT_ERROR;
	}
	if (take_snapshot(verb, set, state_path, &snap))
		goto out;
	if ((flags & POLICY_DRY_RUN) && access(policy_module_dir, F_OK)) {
		/* A plan is no reason to load the module: it holds no tags. */
		gmc_note("%s: the module is not loaded: planning against no tags",
			 verb);
	} else {
		nl = gmc_nl_open(verb);
		if (!nl || read_ktags(nl, &snap))
			goto out;
	}
	if (policy_plan(set, &snap, &plan)) {
		gmc_err(verb, "%s", strerror(ENOMEM));
		goto out;
	}
	if (!(flags & POLICY_QUIET))
		policy_plan_print(&plan, flags & POLICY_DRY_RUN);
	if (flags & POLICY_DRY_RUN)
		ret = GMC_EXIT_OK;
	else
		ret = execute(verb, nl, &plan, state_path, snap.n_owned,
			      flags & POLICY_QUIET);
out:
	gmc_nl_close(nl);
	policy_plan_free(&plan);
	policy_snapshot_free(&snap);
	if (lock >= 0)
		close(lock);
	return ret;
}

/* The rules in dir, or a GMC_EXIT_* code after reporting their problems. */
static int load_rules(const char *verb, const char *dir, struct policy_set *set,
		      const char *consequence)
{
	int problems = policy_load(dir, true, stderr, set);

	if (!problems)
		return 0;
	if (problems > 0)
		gmc_err(verb, "%d problem%s in %s: %s", problems,
			problems == 1 ? "" : "s", dir, consequence);
	policy_free(set);
	return problems > 0 ? GMC_EXIT_USAGE : GMC_EXIT_ERROR;
}

int policy_reconcile(const char *verb, const char *dir,
		     const char *state_path, unsigned int flags)
{
	struct policy_set set;
	int ret;

	ret = load_rules(verb, dir, &set, "nothing changed");
	if (ret)
		return ret;
	ret = policy_reconcile_set(verb, &set, state_path, flags);
	policy_free(&set);
	return ret;
}

struct policy_watch {
	char *verb, *dir, *state;
	struct policy_set set;
	int epfd, sfd, tfd;
};

void policy_watch_free(struct policy_watch *w)
{
	if (!w)
		return;
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->sfd >= 0)
		close(w->sfd);
	if (w->tfd >= 0)
		close(w->tfd);
	policy_free(&w->set);
	free(w->verb);
	free(w->dir);
	free(w->state);
	free(w);
}

/* SIGHUP on a signalfd and the rescan timer, behind one epoll descriptor. */
static int watch_fds(struct policy_watch *w)
{
	struct itimerspec its = {
		.it_interval = { POLICY_RESCAN_S, 0 },
		.it_value = { POLICY_RESCAN_S, 0 },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t hup;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &hup, NULL))
		return -1;
	w->sfd = signalfd(-1, &hup, SFD_CLOEXEC | SFD_NONBLOCK);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->sfd < 0 || w->tfd < 0 || w->epfd < 0 ||
	    timerfd_settime(w->tfd, 0, &its, NULL))
		return -1;
	ev.data.fd = w->sfd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->sfd, &ev))
		return -1;
	ev.data.fd = w->tfd;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ev);
}

int policy_watch_new(const char *verb, const char *dir, const char *state_path,
		     struct policy_watch **wp)
{
	struct policy_watch *w;
	int ret;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		gmc_err(verb, "%s", strerror(ENOMEM));
		return GMC_EXIT_ERROR;
	}
	w->epfd = w->sfd = w->tfd = -1;
	w->verb = strdup(verb);
	w->dir = strdup(dir);
	w->state = strdup(state_path);
	if (!w->verb || !w->dir || !w->state) {
		policy_watch_free(w);
		gmc_err(verb, "%s", strerror(ENOMEM));
		return GMC_EXIT_ERROR;
	}
	if (watch_fds(w)) {
		gmc_err(verb, "--policy-dir: cannot set up SIGHUP and the rescan timer: %s",
			strerror(errno));
		policy_watch_free(w);
		return GMC_EXIT_ERROR;
	}
	ret = load_rules(verb, dir, &w->set, "not started");
	if (ret) {
		policy_watch_free(w);
		return ret;
	}
	/* A failure now is reported; the next rescan tries again. */
	policy_reconcile_set(verb, &w->set, w->state, POLICY_QUIET);
	*wp = w;
	return 0;
}

int policy_watch_fd(const struct policy_watch *w)
{
	return w->epfd;
}

int policy_watch_event(struct policy_watch *w)
{
	struct signalfd_siginfo si;
	struct policy_set set;
	uint64_t ticks;
	bool hup = false;

	while (read(w->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		hup = true;
	while (read(w->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		;
	if (hup) {
		if (!load_rules(w->verb, w->dir, &set,
				"the rules read before stay in force")) {
			policy_free(&w->set);
			w->set = set;
			gmc_note("%s: policy: %zu rule%s read from %s", w->verb,
				 w->set.n, w->set.n == 1 ? "" : "s", w->dir);
		}
	}
	policy_reconcile_set(w->verb, &w->set, w->state, POLICY_QUIET);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl policy check [PATH]\n"
		"       gomemctl policy apply [--policy-dir DIR] [--state FILE] [--dry-run]\n"
		"\n"
		"Policies tag cgroups and processes by rules, one per file in\n"
		"%s (see gomemguard.policy(5)).\n"
		"\n"
		"check: read the rules in PATH, a file or a directory (default the\n"
		"one above), and print each problem as \"file:line: message\"; exit\n"
		"status 2 when there is one.  With -j, the rules as JSON.\n"
		"\n"
		"apply: tag what the rules match and untag what this command\n"
		"tagged before and no rule matches any more; tags made otherwise\n"
		"are left alone.  Nothing changes while a rule file has a problem.\n"
		"\n"
		"Options:\n"
		"      --policy-dir DIR  the rules (default %s)\n"
		"      --state FILE      where apply remembers its own tags\n"
		"                        (default %s)\n"
		"  -n, --dry-run         print the plan, change nothing\n"
		"  -h, --help            print this help\n",
		POLICY_DIR, POLICY_DIR, POLICY_STATE);
}

static int check(int argc, char *argv[])
{
	const char *path = POLICY_DIR;
	struct policy_set set;
	int problems;

	if (argc - optind > 1) {
		gmc_err("policy", "unexpected argument \"%s\"", argv[optind + 1]);
		usage(stderr);
		return GMC_EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	problems = policy_load(path, false, stderr, &set);
	if (problems > 0)
		gmc_err("policy", "%d problem%s in %s", problems,
			problems == 1 ? "" : "s", path);
	else if (!problems && out_is_json())
		policy_print(&set);
	else if (!problems)
		printf("%zu rule%s in %zu file%s\n", set.n,
		       set.n == 1 ? "" : "s", set.n_files,
		       set.n_files == 1 ? "" : "s");
	policy_free(&set);
	if (problems < 0)
		return GMC_EXIT_ERROR;
	return problems ? GMC_EXIT_USAGE : GMC_EXIT_OK;
}

int policy_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "policy-dir", required_argument, NULL, 'd' },
		{ "state",      required_argument, NULL, 's' },
		{ "dry-run",    no_argument,       NULL, 'n' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = POLICY_DIR, *state = POLICY_STATE, *what;
	bool dry_run = false, apply_opts = false;
	int c;

	while ((c = getopt_long(argc, argv, ":nh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			apply_opts = true;
			break;
		case 's':
			state = optarg;
			apply_opts = true;
			break;
		case 'n':
			dry_run = true;
			apply_opts = true;
			break;
		case 'h':
			usage(stdout);
			return GMC_EXIT_OK;
		default:
			gmc_bad_option("policy", c, argv);
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		gmc_err("policy", "give a command: check or apply");
		usage(stderr);
		return GMC_EXIT_USAGE;
	}
	what = argv[optind++];
	if (!strcmp(what, "check")) {
		if (apply_opts) {
			gmc_err("policy", "check takes a PATH, not apply's options");
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
		return check(argc, argv);
	}
	if (!strcmp(what, "apply")) {
		if (optind < argc) {
			gmc_err("policy", "unexpected argument \"%s\"",
				argv[optind]);
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
		return policy_reconcile("policy", dir, state,
					dry_run ? POLICY_DRY_RUN : 0);
	}
	gmc_err("policy", "unknown command \"%s\": check or apply", what);
	usage(stderr);
	return GMC_EXIT_USAGE;
}
