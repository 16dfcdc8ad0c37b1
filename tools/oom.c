// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl oom: the OOM post-mortems the module kept (OOM_GET), newest
 * first.  A JSON array, or one report after another for people.
 */
#include <getopt.h>
#include <stdbool.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "nl.h"
#include "output.h"
#include "postmortem.h"

#define VERB "oom"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl oom [-j | -p]\n"
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
		"  -h, --help     print this help\n",
		GOMEMGUARD_OOM_REPORTS_DEFAULT);
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
	out_object_end();
	postmortem_free(&pm);
	return 0;
}

int oom_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json",   no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
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
