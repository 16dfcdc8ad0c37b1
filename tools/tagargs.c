// SPDX-License-Identifier: GPL-2.0
/*
 * The tagging verbs' arguments.  The command line is checked for syntax,
 * and for the module's fixed bounds: a PID that is a number, sizes and
 * durations that fit their attributes, a soft limit of at most
 * GOMEMGUARD_SOFT_LIMIT_MAX, signal names that exist and are no stop
 * signal, level lists that are lists.  Whether the PID exists, the path is
 * a cgroup, the levels ascend, the caller may signal the process or the
 * other values are in range is the module's call, and its extack message
 * says why.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/gomemguard.h>

#include "cgroup.h"
#include "gomemctl.h"
#include "gosignal.h"
#include "goproc.h"
#include "levels.h"
#include "nl.h"
#include "signals.h"
#include "tagargs.h"
#include "units.h"

struct target {
	char **pid_args;	/* the PIDs given (tag --go takes several) */
	size_t n_pid_args;
	uint32_t pid;
	const char *cgroup_arg;
	char *cgroup;		/* relative to the cgroup root */
	bool go, all;
};

/*
 * The window the module gives a tag that names none: 5 s, or half the
 * horizon when that is longer (UAPI: GOMEMGUARD_RATE_WINDOW_MS_DEFAULT).
 */
static uint32_t tagargs_auto_window_ms(uint32_t eta_ms)
{
	uint32_t w = eta_ms / 2;

	if (w < GOMEMGUARD_RATE_WINDOW_MS_DEFAULT)
		w = GOMEMGUARD_RATE_WINDOW_MS_DEFAULT;
	if (w > GOMEMGUARD_RATE_WINDOW_MS_MAX)
		w = GOMEMGUARD_RATE_WINDOW_MS_MAX;
	return w;
}

void tagargs_usage_settings(FILE *f)
{
	char eta[UNITS_BUF_LEN], window[UNITS_BUF_LEN];

	units_format_ms(eta, sizeof(eta), GOMEMGUARD_ETA_HORIZON_MS_DEFAULT);
	units_format_ms(window, sizeof(window),
			GOMEMGUARD_RATE_WINDOW_MS_DEFAULT);
	fprintf(f,
		"      --soft-limit SIZE       anon + swap to warn about, e.g. 1536M, 2G\n"
		"                              (at most 1E)\n"
		"      --levels LIST           warn levels, %% of the soft limit, ascending,\n"
		"                              at most %d (default 80,90,100)\n"
		"      --eta DURATION          warn when the soft limit, memory.max or\n"
		"                              memory.high is nearer than this at the\n"
		"                              current growth rate (default %s)\n"
		"      --signal SIGNAL         send SIGNAL (USR1, SIGUSR2, RTMIN+3, 10; not\n"
		"                              a stop signal) to the process when it crosses\n"
		"                              100%% of the soft limit, if you could send it\n"
		"                              yourself; KILL kills it there (default: none)\n"
		"      --rate-window DURATION  average the growth rate over this long\n"
		"                              (default %s, or half the --eta horizon\n"
		"                              when that is longer)\n"
		"      --inherit               watch children the process forks, too\n",
		GOMEMGUARD_LEVELS_MAX, eta, window);
}

static int bad_value(const char *verb, const char *opt, const char *arg,
		     const char *why)
{
	gmc_err(verb, "invalid %s \"%s\": %s", opt, arg, why);
	return -1;
}

/* One settings option; -1 after reporting a bad value. */
static int parse_setting(const char *verb, int opt, const char *arg,
			 struct tag_settings *s)
{
	const char *why;

	switch (opt) {
	case TA_SOFT_LIMIT:
		if (units_parse_size(arg, &s->soft_limit, &why))
			return bad_value(verb, "--soft-limit", arg, why);
		if (s->soft_limit > GOMEMGUARD_SOFT_LIMIT_MAX)
			return bad_value(verb, "--soft-limit", arg,
					 "above the module's bound of 1 EiB");
		s->has_soft_limit = true;
		break;
	case TA_LEVELS:
		if (levels_parse(arg, s->levels, &s->n_levels, &why))
			return bad_value(verb, "--levels", arg, why);
		s->has_levels = true;
		break;
	case TA_ETA:
		if (units_parse_ms(arg, &s->eta_ms, &why))
			return bad_value(verb, "--eta", arg, why);
		s->has_eta = true;
		break;
	case TA_SIGNAL:
		if (signal_parse_fuse(arg, &s->signal, &why))
			return bad_value(verb, "--signal", arg, why);
		s->has_signal = true;
		break;
	case TA_NO_SIGNAL:
		s->signal = 0;
		s->has_signal = true;
		break;
	case TA_RATE_WINDOW:
		if (units_parse_ms(arg, &s->rate_window_ms, &why))
			return bad_value(verb, "--rate-window", arg, why);
		s->has_rate_window = true;
		break;
	case TA_INHERIT:
	case TA_NO_INHERIT:
		s->inherit = opt == TA_INHERIT;
		s->has_inherit = true;
		break;
	}
	return 0;
}

static bool any_setting(const struct tag_settings *s)
{
	return s->has_soft_limit || s->has_levels || s->has_eta ||
	       s->has_signal || s->has_rate_window || s->has_inherit;
}

/* tag --go: PIDs or --all, no cgroup; the soft limit may come from each. */
static int check_go(const struct tag_verb *v, const struct target *t)
{
	if (t->cgroup_arg) {
		gmc_err(v->name, "--go tags processes: give PIDs or --all, not --cgroup");
		return -1;
	}
	if (t->all && t->n_pid_args) {
		gmc_err(v->name, "give PIDs or --all, not both");
		return -1;
	}
	if (!t->all && !t->n_pid_args) {
		gmc_err(v->name, "--go needs the PIDs of Go programs, or --all");
		return -1;
	}
	return 0;
}

/* What the command line must hold besides well-formed values. */
static int check(const struct tag_verb *v, const struct target *t,
		 const struct tag_settings *s)
{
	if (t->all && !t->go) {
		gmc_err(v->name, "--all tags every Go program: give --go with it");
		return -1;
	}
	if (t->go)
		return check_go(v, t);
	if (t->n_pid_args > 1) {
		gmc_err(v->name, "unexpected argument \"%s\"", t->pid_args[1]);
		return -1;
	}
	if (t->n_pid_args && t->cgroup_arg) {
		gmc_err(v->name, "give a PID or --cgroup, not both");
		return -1;
	}
	if (!t->n_pid_args && !t->cgroup_arg) {
		gmc_err(v->name, "give a PID or --cgroup PATH");
		return -1;
	}
	if (v->need == TAGARGS_SOFT_LIMIT && !s->has_soft_limit) {
		gmc_err(v->name, "--soft-limit is required: the anon + swap size to warn about, e.g. --soft-limit 1536M");
		return -1;
	}
	if (v->need == TAGARGS_ANY_SETTING && !any_setting(s)) {
		gmc_err(v->name, "nothing to change: give at least one setting");
		return -1;
	}
	return 0;
}

int tagargs_put_settings(struct nl_msg *req, const struct tag_settings *s)
{
	if (s->has_soft_limit &&
	    nla_put_u64(req, GOMEMGUARD_A_SOFT_LIMIT, s->soft_limit))
		return -1;
	if (s->has_levels &&
	    nla_put(req, GOMEMGUARD_A_LEVELS,
		    (int)(s->n_levels * sizeof(s->levels[0])), s->levels))
		return -1;
	if (s->has_eta && nla_put_u32(req, GOMEMGUARD_A_ETA_HORIZON_MS, s->eta_ms))
		return -1;
	if (s->has_signal && nla_put_u32(req, GOMEMGUARD_A_SIGNAL, s->signal))
		return -1;
	if (s->has_rate_window &&
	    nla_put_u32(req, GOMEMGUARD_A_RATE_WINDOW_MS, s->rate_window_ms))
		return -1;
	if (s->has_inherit && nla_put_u8(req, GOMEMGUARD_A_INHERIT, s->inherit))
		return -1;
	if (s->has_limit_origin &&
	    nla_put_u32(req, GOMEMGUARD_A_LIMIT_ORIGIN, s->limit_origin))
		return -1;
	return 0;
}

static int put(struct nl_msg *req, const struct target *t,
	       const struct tag_settings *s)
{
	if (t->cgroup ? nla_put_string(req, GOMEMGUARD_A_CGROUP, t->cgroup) :
			nla_put_u32(req, GOMEMGUARD_A_PID, t->pid))
		return -1;
	return tagargs_put_settings(req, s);
}

/* A tag already there for the target, from a PROC_GET or TAG_GET dump. */
struct existing {
	const struct target *t;
	bool found;
	bool other_source;	/* the PID is watched through a cgroup tag */
	struct tag_settings s;
};

static int on_existing(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct existing *e = arg;
	struct tag_settings *s = &e->s;

	(void)nl;
	if (e->t->cgroup ? !tb[GOMEMGUARD_A_CGROUP] ||
			   strcmp(nla_get_string(tb[GOMEMGUARD_A_CGROUP]),
				  e->t->cgroup) :
			   !tb[GOMEMGUARD_A_PID] ||
			   nla_get_u32(tb[GOMEMGUARD_A_PID]) != e->t->pid)
		return 0;
	e->found = true;
	if (!e->t->cgroup && (!tb[GOMEMGUARD_A_SOURCE] ||
			      nla_get_u32(tb[GOMEMGUARD_A_SOURCE]) !=
			      GOMEMGUARD_SOURCE_PID)) {
		e->other_source = true;
		return 0;
	}
	if (!tb[GOMEMGUARD_A_SOFT_LIMIT] || !tb[GOMEMGUARD_A_LEVELS] ||
	    !tb[GOMEMGUARD_A_ETA_HORIZON_MS] || !tb[GOMEMGUARD_A_RATE_WINDOW_MS]) {
		/* Not comparable: TAG_NEW gets the module's answer. */
		e->other_source = true;
		return 0;
	}
	s->soft_limit = nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]);
	s->n_levels = gmc_nl_get_levels(tb[GOMEMGUARD_A_LEVELS], s->levels);
	s->eta_ms = nla_get_u32(tb[GOMEMGUARD_A_ETA_HORIZON_MS]);
	s->rate_window_ms = nla_get_u32(tb[GOMEMGUARD_A_RATE_WINDOW_MS]);
	s->signal = tb[GOMEMGUARD_A_SIGNAL] ?
		    nla_get_u32(tb[GOMEMGUARD_A_SIGNAL]) : 0;
	s->inherit = tb[GOMEMGUARD_A_INHERIT] ?
		     nla_get_u8(tb[GOMEMGUARD_A_INHERIT]) : 0;
	return 0;
}

/*
 * The options of s that differ from the tag e, comma-separated in diff;
 * a setting not given is the module's default, as TAG_NEW would make it.
 */
static void differences(const struct tag_settings *s,
			const struct tag_settings *e, char *diff, size_t len)
{
	static const uint32_t default_levels[] = { 80, 90, 100 };
	const uint32_t *levels = s->has_levels ? s->levels : default_levels;
	size_t n_levels = s->has_levels ? s->n_levels : ARRAY_SIZE(default_levels);
	size_t n = 0;

	diff[0] = '\0';
#define DIFFERS(cond, opt)						\
	do {								\
		if ((cond) && n < len)					\
			n += (size_t)snprintf(diff + n, len - n, "%s%s", \
					      n ? ", " : "", (opt));	\
	} while (0)
	DIFFERS(s->soft_limit != e->soft_limit, "--soft-limit");
	DIFFERS(n_levels != e->n_levels ||
		memcmp(levels, e->levels, n_levels * sizeof(*levels)),
		"--levels");
	DIFFERS((s->has_eta ? s->eta_ms : GOMEMGUARD_ETA_HORIZON_MS_DEFAULT) !=
		e->eta_ms, "--eta");
	DIFFERS((s->has_signal ? s->signal : 0) != e->signal, "--signal");
	DIFFERS((s->has_rate_window ? s->rate_window_ms :
		 tagargs_auto_window_ms(s->has_eta ? s->eta_ms :
					GOMEMGUARD_ETA_HORIZON_MS_DEFAULT)) !=
		e->rate_window_ms, "--rate-window");
	DIFFERS((s->has_inherit ? s->inherit : 0) != e->inherit, "--inherit");
#undef DIFFERS
}

/*
 * TAG_NEW refused with EEXIST: a target tagged already.  With the same
 * settings that is what was asked for (exit 0, "already tagged"); with
 * others, the user is sent to set, which changes a tag, rather than tag
 * changing it behind their back.  A process watched through a cgroup tag
 * gets the module's word.
 */
static int already_tagged(const struct tag_verb *v, struct gmc_nl *nl,
			  const struct target *t, const struct tag_settings *s)
{
	struct existing e = { .t = t };
	char what[PATH_MAX + 16], diff[128], size[UNITS_BUF_LEN];
	struct nl_msg *req;

	req = gmc_nl_request(nl, t->cgroup ? GOMEMGUARD_CMD_TAG_GET :
					     GOMEMGUARD_CMD_PROC_GET, NLM_F_DUMP);
	if (!req || gmc_nl_transact(nl, req, on_existing, &e))
		return GMC_EXIT_ERROR;
	if (!e.found || e.other_source) {
		gmc_nl_report_held(nl);
		return GMC_EXIT_ERROR;
	}
	if (t->cgroup)
		snprintf(what, sizeof(what), "cgroup %s", t->cgroup);
	else
		snprintf(what, sizeof(what), "pid %" PRIu32, t->pid);
	differences(s, &e.s, diff, sizeof(diff));
	if (!diff[0]) {
		printf("%s: already tagged with these settings\n", what);
		return GMC_EXIT_OK;
	}
	gmc_err(v->name, "%s is already tagged, with another %s (soft limit %s): change a tag with \"gomemctl set %s%s ...\"",
		what, diff,
		units_format_bytes(size, sizeof(size), e.s.soft_limit),
		t->cgroup ? "--cgroup " : "", t->cgroup ? t->cgroup : what + 4);
	return GMC_EXIT_ERROR;
}

/*
 * A soft limit above memory.max warns of nothing: the OOM killer acts
 * first.  Often a unit mix-up: Kubernetes' 256M is 256 * 10^6 bytes, ours
 * 256 MiB.  Where memory.max cannot be read, the module is asked anyway.
 */
static int check_memory_max(const struct tag_verb *v, const struct target *t,
			    const struct tag_settings *s)
{
	char memcg[PATH_MAX], a[UNITS_BUF_LEN], b[UNITS_BUF_LEN];
	uint64_t max;
	int err;

	if (!s->has_soft_limit)
		return 0;
	if (t->cgroup) {
		err = cgroup_memory_max(CGROUP_MOUNTINFO, t->cgroup, &max);
		snprintf(memcg, sizeof(memcg), "%s", t->cgroup);
	} else {
		err = goproc_memcg_max((int)t->pid, &max, memcg, sizeof(memcg));
	}
	if (err || s->soft_limit <= max)
		return 0;
	gmc_err(v->name, "--soft-limit %s (%" PRIu64 " bytes) is above memory.max %s (%" PRIu64 " bytes) of %s: the OOM killer would act before any warning (Kubernetes' M is 10^6 bytes, gomemctl's M is MiB: use Mi, or bytes)",
		units_format_bytes(a, sizeof(a), s->soft_limit), s->soft_limit,
		units_format_bytes(b, sizeof(b), max), max, memcg);
	return GMC_EXIT_ERROR;
}

static int send_request(const struct tag_verb *v, const struct target *t,
			const struct tag_settings *s)
{
	struct nl_msg *req;
	struct gmc_nl *nl;
	int ret = GMC_EXIT_ERROR;

	ret = check_memory_max(v, t, s);
	if (ret)
		return ret;
	ret = GMC_EXIT_ERROR;
	nl = gmc_nl_open(v->name);
	if (!nl)
		return GMC_EXIT_ERROR;
	req = gmc_nl_request(nl, v->cmd, 0);
	if (!req)
		goto out;
	if (put(req, t, s)) {
		nlmsg_free(req);
		gmc_err(v->name, "%s", strerror(ENOMEM));
		goto out;
	}
	if (v->cmd == GOMEMGUARD_CMD_TAG_NEW)
		gmc_nl_expect_error(nl, -EEXIST);
	if (!gmc_nl_transact(nl, req, NULL, NULL))
		ret = GMC_EXIT_OK;
	else if (gmc_nl_held_error(nl) == -EEXIST)
		ret = already_tagged(v, nl, t, s);
	if (!ret && !t->cgroup && s->has_signal)
		gosignal_warn(v->name, t->pid, s->signal);
out:
	gmc_nl_close(nl);
	return ret;
}

/* The PIDs of tag --go, parsed; the exit code. */
static int run_go(const struct tag_verb *v, const struct target *t,
		  const struct tag_settings *s)
{
	struct tag_go g = { .all = t->all, .s = s };
	const char *why;
	uint32_t *pids;
	size_t i;
	int ret;

	pids = calloc(t->n_pid_args ? t->n_pid_args : 1, sizeof(*pids));
	if (!pids) {
		gmc_err(v->name, "%s", strerror(ENOMEM));
		return GMC_EXIT_ERROR;
	}
	for (i = 0; i < t->n_pid_args; i++) {
		if (units_parse_u32(t->pid_args[i], &pids[i], &why)) {
			gmc_err(v->name, "invalid PID \"%s\": %s", t->pid_args[i],
				why);
			free(pids);
			return GMC_EXIT_USAGE;
		}
	}
	g.pids = pids;
	g.n_pids = t->n_pid_args;
	ret = v->go(v, &g);
	free(pids);
	return ret;
}

int tagargs_main(const struct tag_verb *v, int argc, char *argv[])
{
	struct tag_settings s = { 0 };
	struct target t = { 0 };
	const char *why;
	int c, ret;

	/* No "+": options may come after the PID, as in "tag 4711 --inherit". */
	while ((c = getopt_long(argc, argv, ":h", v->opts, NULL)) != -1) {
		switch (c) {
		case TA_CGROUP:
			t.cgroup_arg = optarg;
			break;
		case TA_GO:
			t.go = true;
			break;
		case TA_ALL:
			t.all = true;
			break;
		case 'h':
			v->usage(stdout);
			return GMC_EXIT_OK;
		case '?':
		case ':':
			gmc_bad_option(v->name, c, argv);
			return GMC_EXIT_USAGE;
		default:
			if (parse_setting(v->name, c, optarg, &s))
				return GMC_EXIT_USAGE;
			break;
		}
	}
	t.pid_args = argv + optind;
	t.n_pid_args = (size_t)(argc - optind);
	if (check(v, &t, &s))
		return GMC_EXIT_USAGE;
	if (t.go)
		return run_go(v, &t, &s);
	if (t.n_pid_args &&
	    units_parse_u32(t.pid_args[0], &t.pid, &why)) {
		gmc_err(v->name, "invalid PID \"%s\": %s", t.pid_args[0], why);
		return GMC_EXIT_USAGE;
	}
	if (t.cgroup_arg) {
		ret = cgroup_resolve(v->name, t.cgroup_arg, CGROUP_MOUNTINFO,
				     &t.cgroup);
		if (ret)
			return ret;
	}
	ret = send_request(v, &t, &s);
	free(t.cgroup);
	return ret;
}
