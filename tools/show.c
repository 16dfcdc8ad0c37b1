// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl show: the watched processes (PROC_GET), the cgroup tags
 * (TAG_GET) or the memory cgroups of watched processes (MEMCG_GET).  A JSON
 * array in each case, a table for people.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "goproc.h"
#include "levels.h"
#include "memcg.h"
#include "nl.h"
#include "output.h"
#include "proc.h"
#include "signals.h"
#include "units.h"

#define VERB "show"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl show [PID] [-j | -p]\n"
		"       gomemctl show --tags [-j | -p]\n"
		"       gomemctl show --memcg [-j | -p]\n"
		"\n"
		"Show every watched process, or the one with PID: its anonymous, file,\n"
		"shmem and swapped memory, how fast anon + swap grows, how long until it\n"
		"reaches its nearest limit, its soft limit and where that came from, the\n"
		"highest warn level it crossed and its memory cgroup; under a Go\n"
		"program, what is wrong with its GOMEMLIMIT.  JSON has every counter\n"
		"and setting.\n"
		"With --tags, show the tagged cgroups, their settings and how many\n"
		"processes each one watches.  With --memcg, show the memory cgroups that\n"
		"hold watched processes: usage and limits, anon, file and shmem memory\n"
		"and PSI memory pressure (from memory.stat and memory.pressure, \"-\"\n"
		"where they cannot be read), the module's swap-backed, unevictable and\n"
		"reclaimable page counts, how much page cache is pinned, reclaim\n"
		"pressure and OOM kills.\n"
		"\n"
		"Options:\n"
		"      --tags     show cgroup tags instead of processes\n"
		"      --memcg    show memory cgroups instead of processes\n"
		"  -j, --json     print JSON\n"
		"  -p, --pretty   print indented JSON\n"
		"  -h, --help     print this help\n");
}

static const int tag_required[] = {
	GOMEMGUARD_A_CGROUP,
	GOMEMGUARD_A_SOFT_LIMIT,
	GOMEMGUARD_A_LEVELS,
	GOMEMGUARD_A_ETA_HORIZON_MS,
	GOMEMGUARD_A_RATE_WINDOW_MS,
	GOMEMGUARD_A_TAG_MEMBERS,
};

static void tag_print_header(void)
{
	out_text("%9s %-14s %7s %-12s %7s %-7s %7s %s\n", "SOFT", "LEVELS",
		 "ETA", "SIGNAL", "WINDOW", "INHERIT", "MEMBERS", "CGROUP");
}

/* Settings as they were given; no signal and no INHERIT when absent. */
static void tag_print(struct nlattr *tb[])
{
	uint32_t levels[GOMEMGUARD_LEVELS_MAX];
	char buf[SIGNAL_BUF_LEN];
	struct nlattr *a;
	uint32_t sig;

	out_bytes("soft_limit_bytes", "%9s",
		  nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]));
	out_levels("levels", " %-14s", levels,
		   gmc_nl_get_levels(tb[GOMEMGUARD_A_LEVELS], levels));
	out_ms("eta_horizon_ms", " %7s",
	       nla_get_u32(tb[GOMEMGUARD_A_ETA_HORIZON_MS]));
	a = tb[GOMEMGUARD_A_SIGNAL];
	sig = a ? nla_get_u32(a) : 0;
	if (sig)
		out_u64_str("signal", " %-12s", sig,
			    signal_format(buf, sizeof(buf), sig));
	else
		out_null("signal", " %-12s", "-");
	out_ms("rate_window_ms", " %7s",
	       nla_get_u32(tb[GOMEMGUARD_A_RATE_WINDOW_MS]));
	a = tb[GOMEMGUARD_A_INHERIT];
	out_bool("inherit", " %-7s", a && nla_get_u8(a));
	out_u64("members", " %7" PRIu64, nla_get_u32(tb[GOMEMGUARD_A_TAG_MEMBERS]));
	out_str("cgroup", " %s\n", nla_get_string(tb[GOMEMGUARD_A_CGROUP]));
}

/*
 * What is wrong with a watched Go program's settings, from /proc: the
 * "warnings" array, or lines under its row.  Not a Go program, or gone:
 * none.
 */
static void proc_print_warnings(struct nlattr *tb[])
{
	uint32_t pid = nla_get_u32(tb[GOMEMGUARD_A_PID]);
	uint64_t anon = nla_get_u64(tb[GOMEMGUARD_A_ANON]);
	struct goproc p;

	if (pid <= INT32_MAX && !goproc_read((int)pid, &p))
		goproc_print_warnings(&p, goproc_warnings(&p, true, anon), anon);
	else
		goproc_print_warnings(NULL, 0, 0);
}

enum what {
	SHOW_PROCS,
	SHOW_TAGS,
	SHOW_MEMCGS,
};

struct show {
	enum what what;
	unsigned int rows;
};

static void print_header(const struct show *sh)
{
	switch (sh->what) {
	case SHOW_TAGS:
		tag_print_header();
		break;
	case SHOW_MEMCGS:
		memcg_print_header();
		break;
	case SHOW_PROCS:
		proc_print_header(PROC_VIEW_SHOW);
		break;
	}
}

static int on_reply(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct show *sh = arg;
	struct memstat ms;
	int err = 0;

	switch (sh->what) {
	case SHOW_TAGS:
		err = gmc_nl_require(nl, tb, tag_required,
				     ARRAY_SIZE(tag_required));
		break;
	case SHOW_MEMCGS:
		err = gmc_nl_require(nl, tb, memcg_required, memcg_n_required);
		break;
	case SHOW_PROCS:
		err = gmc_nl_require(nl, tb, proc_required, proc_n_required);
		break;
	}
	if (err)
		return -1;
	if (!sh->rows++)
		print_header(sh);
	out_object_begin(NULL);
	switch (sh->what) {
	case SHOW_TAGS:
		tag_print(tb);
		break;
	case SHOW_MEMCGS:
		memstat_read(nla_get_string(tb[GOMEMGUARD_A_MEMCG]), &ms);
		memcg_print(tb, &ms);
		break;
	case SHOW_PROCS:
		proc_print(tb, PROC_VIEW_SHOW);
		proc_print_warnings(tb);
		break;
	}
	out_object_end();
	return 0;
}

static struct nl_msg *request(struct gmc_nl *nl, const struct show *sh,
			      const char *pid_arg, uint32_t pid)
{
	struct nl_msg *req;

	if (sh->what == SHOW_TAGS)
		return gmc_nl_request(nl, GOMEMGUARD_CMD_TAG_GET, NLM_F_DUMP);
	if (sh->what == SHOW_MEMCGS)
		return gmc_nl_request(nl, GOMEMGUARD_CMD_MEMCG_GET, NLM_F_DUMP);
	if (!pid_arg)
		return gmc_nl_request(nl, GOMEMGUARD_CMD_PROC_GET, NLM_F_DUMP);
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_PROC_GET, 0);
	if (req && nla_put_u32(req, GOMEMGUARD_A_PID, pid) < 0) {
		nlmsg_free(req);
		gmc_err(VERB, "%s", strerror(ENOMEM));
		return NULL;
	}
	return req;
}

int show_main(int argc, char *argv[])
{
	enum { OPT_TAGS = 256, OPT_MEMCG };
	static const struct option opts[] = {
		{ "tags",   no_argument, NULL, OPT_TAGS },
		{ "memcg",  no_argument, NULL, OPT_MEMCG },
		{ "json",   no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help",   no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pid_arg = NULL, *why;
	struct show sh = { 0 };
	struct nl_msg *req;
	struct gmc_nl *nl;
	uint32_t pid = 0;
	int c, ret = GMC_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, ":jph", opts, NULL)) != -1) {
		switch (c) {
		case OPT_TAGS:
		case OPT_MEMCG:
			if (sh.what != SHOW_PROCS &&
			    sh.what != (c == OPT_TAGS ? SHOW_TAGS : SHOW_MEMCGS)) {
				gmc_err(VERB, "--tags and --memcg are different lists: give one");
				return GMC_EXIT_USAGE;
			}
			sh.what = c == OPT_TAGS ? SHOW_TAGS : SHOW_MEMCGS;
			break;
		case 'j':
			out_set_mode(OUT_JSON);
			break;
		case 'p':
			out_set_mode(OUT_JSON_PRETTY);
			break;
		case 'h':
			usage(stdout);
			return GMC_EXIT_OK;
		default:
			gmc_bad_option(VERB, c, argv);
			return GMC_EXIT_USAGE;
		}
	}
	if (optind < argc)
		pid_arg = argv[optind++];
	if (optind < argc) {
		gmc_err(VERB, "unexpected argument \"%s\"", argv[optind]);
		return GMC_EXIT_USAGE;
	}
	if (pid_arg && sh.what == SHOW_TAGS) {
		gmc_err(VERB, "--tags lists cgroup tags: give no PID with it");
		return GMC_EXIT_USAGE;
	}
	if (pid_arg && sh.what == SHOW_MEMCGS) {
		gmc_err(VERB, "--memcg lists memory cgroups: give no PID with it");
		return GMC_EXIT_USAGE;
	}
	if (pid_arg && units_parse_u32(pid_arg, &pid, &why)) {
		gmc_err(VERB, "invalid PID \"%s\": %s", pid_arg, why);
		return GMC_EXIT_USAGE;
	}

	nl = gmc_nl_open(VERB);
	if (!nl)
		return GMC_EXIT_ERROR;
	req = request(nl, &sh, pid_arg, pid);
	if (!req)
		goto out;
	out_begin_list();
	if (gmc_nl_transact(nl, req, on_reply, &sh)) {
		out_discard();
		goto out;
	}
	if (!sh.rows)
		print_header(&sh);
	if (!out_end())
		ret = GMC_EXIT_OK;
out:
	gmc_nl_close(nl);
	return ret;
}
