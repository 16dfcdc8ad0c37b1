// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl info: which module is loaded on which kernel, and its counters.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "gomemctl.h"
#include "nl.h"
#include "output.h"

#define VERB "info"

struct info {
	char *version;
	char *kernel_release;
	uint32_t tagged;
	uint64_t events_sent;
	uint64_t events_dropped;
	uint32_t event_interval_ms;
	uint32_t event_burst;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl info [-j | -p]\n"
		"\n"
		"Show the module's version, the running kernel, how many processes are\n"
		"tagged, how many events were sent and dropped, and the event rate limit.\n"
		"\n"
		"Options:\n"
		"  -j, --json     print JSON\n"
		"  -p, --pretty   print indented JSON\n"
		"  -h, --help     print this help\n");
}

static int info_reply(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = {
		GOMEMGUARD_A_VERSION,
		GOMEMGUARD_A_KERNEL_RELEASE,
		GOMEMGUARD_A_TAGGED,
		GOMEMGUARD_A_EVENTS_SENT,
		GOMEMGUARD_A_EVENTS_DROPPED,
		GOMEMGUARD_A_EVENT_INTERVAL_MS,
		GOMEMGUARD_A_EVENT_BURST,
	};
	struct info *info = arg;

	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE(required)))
		return -1;
	free(info->version);
	free(info->kernel_release);
	info->version = strdup(nla_get_string(tb[GOMEMGUARD_A_VERSION]));
	info->kernel_release = strdup(nla_get_string(tb[GOMEMGUARD_A_KERNEL_RELEASE]));
	if (!info->version || !info->kernel_release) {
		gmc_err(VERB, "%s", strerror(ENOMEM));
		return -1;
	}
	info->tagged = nla_get_u32(tb[GOMEMGUARD_A_TAGGED]);
	info->events_sent = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_SENT]);
	info->events_dropped = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_DROPPED]);
	info->event_interval_ms = nla_get_u32(tb[GOMEMGUARD_A_EVENT_INTERVAL_MS]);
	info->event_burst = nla_get_u32(tb[GOMEMGUARD_A_EVENT_BURST]);
	return 0;
}

static int info_print(const struct info *info)
{
	out_begin();
	out_str("version", "gomemguard %s", info->version);
	out_str("kernel_release", " on %s\n", info->kernel_release);
	out_u64("tagged", "  tagged processes: %" PRIu64 "\n", info->tagged);
	out_u64("events_sent", "  events: %" PRIu64 " sent", info->events_sent);
	out_u64("events_dropped", ", %" PRIu64 " dropped\n", info->events_dropped);
	out_u64("event_burst", "  event rate limit: %" PRIu64, info->event_burst);
	out_ms("event_interval_ms", " per %s per process\n",
	       info->event_interval_ms);
	return out_end();
}

int info_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json",   no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help",   no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct info info = { 0 };
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
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		gmc_err(VERB, "unexpected argument \"%s\"", argv[optind]);
		usage(stderr);
		return GMC_EXIT_USAGE;
	}

	nl = gmc_nl_open(VERB);
	if (!nl)
		return GMC_EXIT_ERROR;
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_INFO_GET, 0);
	if (req && !gmc_nl_transact(nl, req, info_reply, &info) &&
	    !info_print(&info))
		ret = GMC_EXIT_OK;
	gmc_nl_close(nl);
	free(info.version);
	free(info.kernel_release);
	return ret;
}
