// SPDX-License-Identifier: GPL-2.0
/*
 * Reconciling: a plan carried out against the kernel and remembered in the
 * state file, for "policy apply" and for the monitor's watch (at start, on
 * SIGHUP, every POLICY_RESCAN_S seconds).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "nl.h"
#include "policy.h"
#include "proc.h"
#include "units.h"

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

	if ((flags & POLICY_QUIET) && !gmc_nl_module_loaded())
		return GMC_EXIT_OK;
	if (!(flags & POLICY_DRY_RUN)) {
		lock = lock_state(verb, state_path);
		if (lock < 0)
			return GMC_EXIT_ERROR;
	}
	if (policy_snapshot_take(verb, set, state_path, &snap))
		goto out;
	if ((flags & POLICY_DRY_RUN) && !gmc_nl_module_loaded()) {
		/* A plan is no reason to load the module: it holds no tags. */
		gmc_note("%s: the module is not loaded: planning against no tags",
			 verb);
	} else {
		nl = gmc_nl_open(verb);
		if (!nl || policy_snapshot_ktags(nl, &snap))
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
	/* set is to be reconciled: dir was read, or found missing (no rules). */
	bool have_rules;
	/*
	 * Why dir could not be read at the last look (an errno), or 0.  A
	 * service must not flood its log: the rescan says a missing or
	 * unreadable dir only when this changes.
	 */
	int dir_err;
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

/* 0 when dir (or a rule file given for it) opens for reading, else errno. */
static int look_at(const char *dir)
{
	/* O_NONBLOCK: a FIFO there must not hang the monitor. */
	int fd = open(dir, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * dir could not be read (w->dir_err says why).  Missing, it holds no rules,
 * as for "policy apply": the tags they made go.  Unreadable, nobody knows
 * what it holds, so nothing changes: the rules read before, if any, stay.
 * Looked at again every rescan.
 */
static void dir_unreadable(struct policy_watch *w)
{
	if (w->dir_err == ENOENT) {
		policy_free(&w->set);
		w->have_rules = true;
		gmc_err(w->verb, "policy: cannot read %s: %s; no rules until it appears (looked for every %d s)",
			w->dir, strerror(w->dir_err), POLICY_RESCAN_S);
	} else if (w->set.n) {
		gmc_err(w->verb, "policy: cannot read %s: %s; keeping the %zu rule%s read before (tried again every %d s)",
			w->dir, strerror(w->dir_err), w->set.n,
			w->set.n == 1 ? "" : "s", POLICY_RESCAN_S);
	} else {
		gmc_err(w->verb, "policy: cannot read %s: %s; nothing applied until it can be (tried again every %d s)",
			w->dir, strerror(w->dir_err), POLICY_RESCAN_S);
	}
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
	w->dir_err = look_at(dir);
	if (w->dir_err) {
		/* Not there yet, or not readable: no reason to stop monitoring. */
		dir_unreadable(w);
	} else {
		ret = load_rules(verb, dir, &w->set, "not started");
		if (ret) {
			policy_watch_free(w);
			return ret;
		}
		w->have_rules = true;
	}
	/* A failure now is reported; the next rescan tries again. */
	if (w->have_rules)
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
	int err;

	while (read(w->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		hup = true;
	while (read(w->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		;
	/*
	 * The rules are read anew when asked, and when dir appeared,
	 * went or became readable or unreadable since the last look.
	 */
	err = look_at(w->dir);
	if (err) {
		if (hup || err != w->dir_err) {
			w->dir_err = err;
			dir_unreadable(w);
		}
	} else if (hup || w->dir_err) {
		w->dir_err = 0;
		if (!load_rules(w->verb, w->dir, &set,
				"the rules read before stay in force")) {
			policy_free(&w->set);
			w->set = set;
			w->have_rules = true;
			gmc_note("%s: policy: %zu rule%s read from %s", w->verb,
				 w->set.n, w->set.n == 1 ? "" : "s", w->dir);
		}
	}
	if (w->have_rules)
		policy_reconcile_set(w->verb, &w->set, w->state, POLICY_QUIET);
	return 0;
}
