// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot a policy plan is made from: the cgroups (the cgroup2 tree
 * under GOMEMCTL_CGROUP2_ROOT, else the global root's mount) and processes
 * (procfs at goproc_root) the rules could match, the tags this engine made
 * (its state file) and the kernel's tags (PROC_GET and TAG_GET dumps).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/gomemguard.h>

#include "cgroup.h"
#include "gomemctl.h"
#include "goproc.h"
#include "memstat.h"
#include "nl.h"
#include "policy.h"

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
				/* Global, as the rules and the module have it. */
				p->cgroup = cgroup_from_ns(line + 3);
				break;
			}
		}
		free(text);
	}
	return p->exe && p->cgroup;
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

int policy_snapshot_ktags(struct gmc_nl *nl, struct policy_snapshot *snap)
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

int policy_snapshot_take(const char *verb, const struct policy_set *set,
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
