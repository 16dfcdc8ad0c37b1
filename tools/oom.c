// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl oom: the OOM post-mortems the module kept (OOM_GET), newest
 * first.  A JSON array, or one report after another for people.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>

#include <linux/gomemguard.h>

#include "fuseprof.h"
#include "gomemctl.h"
#include "nl.h"
#include "output.h"
#include "postmortem.h"
#include "wallclock.h"

#define VERB "oom"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl oom [-j | -p] [--profile-dir DIR]\n"
		"\n"
		"Show the OOM kills the module recorded, newest first: when, which process\n"
		"was killed and how big it was, whether its memory cgroup hit memory.max\n"
		"or the whole machine ran out, how long before the kill the first warning\n"
		"went out, and every watched process in that memory cgroup at the time.\n"
		"The module keeps the last %d by default (gomemctl config --oom-reports).\n"
		"\n"
		"Options:\n"
		"  -j, --json     print JSON\n"
		"  -p, --pretty   print indented JSON\n"
		"      --profile-dir DIR\n"
		"                 name each killed process's last heap profile that its\n"
		"                 go/fuse package wrote to DIR before the kill\n"
		"  -h, --help     print this help\n",
		GOMEMGUARD_OOM_REPORTS_DEFAULT);
}

/* --profile-dir, or NULL. */
static const char *profile_dir;

/* "last_profile": the victim's newest profile from before the kill, or null. */
static void print_last_profile(struct nlattr *tb[])
{
	uint64_t kill_ns = wallclock_ns(nla_get_u64(tb[GOMEMGUARD_A_TIME_NS]));
	uint32_t pid = nla_get_u32(tb[GOMEMGUARD_A_VICTIM_PID]);
	char when[WALLCLOCK_BUF_LEN];
	struct fuseprof fp;
	int64_t before;

	if (!pid || fuseprof_read(profile_dir, pid, kill_ns, &fp)) {
		out_json_null("last_profile");
		out_text("last heap profile: none of pid %u in %s\n", pid,
			 profile_dir);
		return;
	}
	before = (int64_t)(kill_ns / 1000000000ULL) - fp.time_unix;
	wallclock_rfc3339(when, sizeof(when),
			  (uint64_t)fp.time_unix * 1000000000ULL);
	out_object_begin("last_profile");
	out_json_str("path", fp.profile);
	out_json_str("time", when);
	out_json_s64("seconds_before_kill", before);
	out_json_u64("fuses", fp.fuses);
	out_object_end();
	out_text("last heap profile: %s, written %" PRId64 " s before the kill (fuse %" PRIu64 ")\n",
		 fp.profile, before, fp.fuses);
	fuseprof_free(&fp);
}

static int on_reply(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	unsigned int *reports = arg;
	struct postmortem pm;
	char name[16];
	int err;

	err = postmortem_parse(nl, tb, &pm);
	if (err > 0)
		gmc_err(VERB, "reply lacks %s%s (is the module older than gomemctl?)",
			gmc_nl_attr_name(err, name, sizeof(name)),
			pm.missing_in_snapshot ? " in a snapshot entry" : "");
	if (err)
		return -1;
	if ((*reports)++)
		out_text("\n");
	out_object_begin(NULL);
	postmortem_print(&pm);
	if (profile_dir)
		print_last_profile(tb);
	out_object_end();
	postmortem_free(&pm);
	return 0;
}

int oom_main(int argc, char *argv[])
{
	enum { OPT_PROFILE_DIR = 256 };
	static const struct option opts[] = {
		{ "json",   no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "profile-dir", required_argument, NULL, OPT_PROFILE_DIR },
		{ "help",   no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int reports = 0;
	struct nl_msg *req;
	struct gmc_nl *nl;
	int c, ret = GMC_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "+:jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			out_set_mode(OUT_JSON);
			break;
		case 'p':
			out_set_mode(OUT_JSON_PRETTY);
			break;
		case OPT_PROFILE_DIR:
			if (!*optarg) {
				gmc_err(VERB, "invalid --profile-dir \"\": an empty path");
				return GMC_EXIT_USAGE;
			}
			profile_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return GMC_EXIT_OK;
		default:
			gmc_bad_option(VERB, c, argv);
			return GMC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		gmc_err(VERB, "unexpected argument \"%s\"", argv[optind]);
		return GMC_EXIT_USAGE;
	}

	nl = gmc_nl_open(VERB);
	if (!nl)
		return GMC_EXIT_ERROR;
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_OOM_GET, NLM_F_DUMP);
	if (!req)
		goto out;
	out_begin_list();
	if (gmc_nl_transact(nl, req, on_reply, &reports)) {
		out_discard();
		goto out;
	}
	if (!reports)
		out_text("No OOM kill recorded.\n");
	if (!out_end())
		ret = GMC_EXIT_OK;
out:
	gmc_nl_close(nl);
	return ret;
}
