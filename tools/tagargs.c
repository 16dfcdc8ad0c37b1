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
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/gomemguard.h>

#include "cgroup.h"
#include "gomemctl.h"
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
		"                              (default %s)\n"
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

static int send_request(const struct tag_verb *v, const struct target *t,
			const struct tag_settings *s)
{
	struct nl_msg *req;
	struct gmc_nl *nl;
	int ret = GMC_EXIT_ERROR;

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
	if (!gmc_nl_transact(nl, req, NULL, NULL))
		ret = GMC_EXIT_OK;
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
			v->usage(stderr);
			return GMC_EXIT_USAGE;
		default:
			if (parse_setting(v->name, c, optarg, &s))
				return GMC_EXIT_USAGE;
			break;
		}
	}
	t.pid_args = argv + optind;
	t.n_pid_args = (size_t)(argc - optind);
	if (check(v, &t, &s)) {
		v->usage(stderr);
		return GMC_EXIT_USAGE;
	}
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
