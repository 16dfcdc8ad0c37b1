// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl tag: start watching a process or a cgroup; with --go, Go
 * programs, each with the soft limit its own settings imply.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "gosignal.h"
#include "goproc.h"
#include "nl.h"
#include "proc.h"
#include "tagargs.h"
#include "units.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl tag PID --soft-limit SIZE [options]\n"
		"       gomemctl tag --cgroup PATH --soft-limit SIZE [options]\n"
		"       gomemctl tag --go {--all | PID...} [--soft-limit SIZE] [options]\n"
		"\n"
		"Watch a process (PID: the whole thread group), or every process in a\n"
		"cgroup v2 directory and below, now and later.  PATH is a directory\n"
		"under the cgroup2 mount (/sys/fs/cgroup/app.slice) or a path relative\n"
		"to the cgroup root (/app.slice).  gomemguard warns when anon + swap\n"
		"crosses a level of the soft limit and when a limit is near.\n"
		"\n"
		"With --go, watch Go programs: the PIDs given, which must be Go\n"
		"programs, or with --all every one running (see \"gomemctl discover\").\n"
		"Without --soft-limit, each one's soft limit is its GOMEMLIMIT, else\n"
		"90%% of its memory cgroup's memory.max; a program with neither is\n"
		"refused.  One line per process; processes already watched are\n"
		"skipped.\n"
		"\n"
		"Options:\n"
		"      --cgroup PATH           tag the cgroup at PATH instead of a PID\n"
		"      --go                    tag Go programs (several PIDs, or --all)\n"
		"      --all                   with --go: every Go program running\n");
	tagargs_usage_settings(f);
	fprintf(f,
		"  -h, --help                  print this help\n");
}

struct go_tagger {
	const struct tag_verb *v;
	struct gmc_nl *nl;
	const struct tag_settings *s;
	struct proc_watched *watched;
	size_t n_watched;
	unsigned int seen, failed;
};

/* "(GOMEMLIMIT=64MiB)", "(90% of memory.max 256 MiB)", "(--soft-limit)" */
static void limit_source(char *buf, size_t len, const struct goproc *p,
			 uint32_t origin)
{
	char max[UNITS_BUF_LEN];

	switch (origin) {
	case GOMEMGUARD_ORIGIN_GOMEMLIMIT:
		snprintf(buf, len, "GOMEMLIMIT=%s", p->env.gomemlimit);
		break;
	case GOMEMGUARD_ORIGIN_MEMCG_MAX:
		snprintf(buf, len, "90%% of memory.max %s",
			 units_format_bytes(max, sizeof(max), p->memcg_max));
		break;
	default:
		snprintf(buf, len, "--soft-limit");
		break;
	}
}

/*
 * One Go program: skipped when watched, else tagged with --soft-limit or
 * its own limit, or refused.  0 (whatever became of it), or -1 after
 * reporting an error that ends tag --go (no memory).
 */
static int tag_one(struct go_tagger *t, const struct goproc *p)
{
	const struct proc_watched *w;
	struct tag_settings s = *t->s;
	char size[UNITS_BUF_LEN], from[96];
	struct nl_msg *req;

	t->seen++;
	w = proc_watched_find(t->watched, t->n_watched, (uint32_t)p->pid);
	if (w) {
		printf("pid %d (%s): already watched, soft limit %s%s%s, skipped\n",
		       p->pid, p->comm,
		       units_format_bytes(size, sizeof(size), w->soft_limit),
		       w->origin ? " from " : "",
		       w->origin ? proc_origin_words(w->origin) : "");
		return 0;
	}
	if (!s.has_soft_limit) {
		if (goproc_default_limit(p, &s.soft_limit, &s.limit_origin)) {
			gmc_err(t->v->name, "pid %d (%s): no --soft-limit, no GOMEMLIMIT and no memory.max: give --soft-limit",
				p->pid, p->comm);
			t->failed++;
			return 0;
		}
		if (s.soft_limit > GOMEMGUARD_SOFT_LIMIT_MAX) {
			limit_source(from, sizeof(from), p, s.limit_origin);
			gmc_err(t->v->name, "pid %d (%s): %s is above the module's bound of 1 EiB for a soft limit: give --soft-limit",
				p->pid, p->comm, from);
			t->failed++;
			return 0;
		}
		s.has_soft_limit = true;
	} else {
		s.limit_origin = GOMEMGUARD_ORIGIN_USER;
	}
	s.has_limit_origin = true;

	req = gmc_nl_request(t->nl, t->v->cmd, 0);
	if (!req)
		return -1;
	if (nla_put_u32(req, GOMEMGUARD_A_PID, (uint32_t)p->pid) ||
	    tagargs_put_settings(req, &s)) {
		nlmsg_free(req);
		gmc_err(t->v->name, "%s", strerror(ENOMEM));
		return -1;
	}
	if (gmc_nl_transact(t->nl, req, NULL, NULL)) {
		gmc_note("pid %d (%s): not tagged", p->pid, p->comm);
		t->failed++;
		return 0;
	}
	limit_source(from, sizeof(from), p, s.limit_origin);
	printf("pid %d (%s): tagged, soft limit %s (%s)\n", p->pid, p->comm,
	       units_format_bytes(size, sizeof(size), s.soft_limit), from);
	if (s.has_signal)
		gosignal_warn_info(t->v->name, (uint32_t)p->pid, p->comm,
				   &p->elf, s.signal);
	return 0;
}

/* goproc_scan() stops at non-zero; -errno would be its own failure. */
static int tag_found(const struct goproc *p, void *arg)
{
	return tag_one(arg, p) ? 1 : 0;
}

/* A PID given on the command line: it must be a Go program. */
static int tag_pid(struct go_tagger *t, uint32_t pid, struct goproc *p)
{
	const char *verb = t->v->name;
	int err;

	err = pid > INT_MAX ? -ESRCH : goproc_read((int)pid, p);
	if (!err)
		return tag_one(t, p);
	t->failed++;
	if (err == -ESRCH)
		gmc_err(verb, "pid %" PRIu32 ": no such process", pid);
	else if (err == -ENOEXEC)
		gmc_err(verb, "pid %" PRIu32 " (%s): not a Go program (its executable has no Go build info or build ID); tag it without --go",
			pid, p->comm);
	else
		gmc_err(verb, "pid %" PRIu32 " (%s): cannot read its executable: %s",
			pid, p->comm, strerror(-err));
	return 0;
}

static int tag_go(const struct tag_verb *v, const struct tag_go *g)
{
	struct go_tagger t = { .v = v, .s = g->s };
	struct goproc *p = NULL;
	int err = 0, ret = GMC_EXIT_ERROR;
	size_t i;

	t.nl = gmc_nl_open(v->name);
	if (!t.nl)
		return GMC_EXIT_ERROR;
	if (proc_watched_get(t.nl, &t.watched, &t.n_watched))
		goto out;
	if (g->all) {
		err = goproc_scan(tag_found, &t);
		if (err < 0)
			gmc_err(v->name, "cannot list the processes in %s: %s",
				goproc_root, strerror(-err));
	} else {
		p = malloc(sizeof(*p));
		if (!p) {
			gmc_err(v->name, "%s", strerror(ENOMEM));
			goto out;
		}
		for (i = 0; !err && i < g->n_pids; i++)
			err = tag_pid(&t, g->pids[i], p);
	}
	if (err)
		goto out;
	if (g->all && !t.seen)
		printf("no Go programs running\n");
	ret = t.failed ? GMC_EXIT_ERROR : GMC_EXIT_OK;
out:
	free(p);
	free(t.watched);
	gmc_nl_close(t.nl);
	return ret;
}

int tag_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		TAGARGS_OPT_CGROUP,
		TAGARGS_OPTS_SETTINGS,
		TAGARGS_OPTS_GO,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct tag_verb verb = {
		.name = "tag",
		.cmd = GOMEMGUARD_CMD_TAG_NEW,
		.opts = opts,
		.usage = usage,
		.need = TAGARGS_SOFT_LIMIT,
		.go = tag_go,
	};

	return tagargs_main(&verb, argc, argv);
}
