// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl config: change module-wide settings.
 *
 * Only syntax is checked here (a duration that is whole milliseconds and fits
 * the attribute); whether a value is in range is the module's call, and its
 * extack message says why when it is not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "gomemctl.h"
#include "nl.h"
#include "units.h"

#define VERB "config"

static void usage(FILE *f)
{
	char min[UNITS_BUF_LEN], max[UNITS_BUF_LEN], def[UNITS_BUF_LEN];

	units_format_ms(min, sizeof(min), GOMEMGUARD_EVENT_INTERVAL_MS_MIN);
	units_format_ms(max, sizeof(max), GOMEMGUARD_EVENT_INTERVAL_MS_MAX);
	units_format_ms(def, sizeof(def), GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT);
	fprintf(f,
		"Usage: gomemctl config [--event-interval DURATION] [--event-burst N]\n"
		"\n"
		"Change module-wide settings; settings not given keep their value.\n"
		"At least one option is required.\n"
		"\n"
		"Options:\n"
		"      --event-interval DURATION  per-process event rate-limit window,\n"
		"                                 e.g. 250ms, 2s, 1m (%s to %s, default %s)\n"
		"      --event-burst N            events allowed per process in a window\n"
		"                                 (%d to %d, default %d)\n"
		"  -h, --help                     print this help\n",
		min, max, def,
		GOMEMGUARD_EVENT_BURST_MIN, GOMEMGUARD_EVENT_BURST_MAX,
		GOMEMGUARD_EVENT_BURST_DEFAULT);
}

static int parse_interval(const char *arg, uint32_t *ms)
{
	const char *why;

	if (units_parse_ms(arg, ms, &why)) {
		gmc_err(VERB, "invalid --event-interval \"%s\": %s", arg, why);
		return -1;
	}
	return 0;
}

static int parse_burst(const char *arg, uint32_t *burst)
{
	const char *why;

	if (units_parse_u32(arg, burst, &why)) {
		gmc_err(VERB, "invalid --event-burst \"%s\": %s", arg, why);
		return -1;
	}
	return 0;
}

int config_main(int argc, char *argv[])
{
	enum { OPT_INTERVAL = 256, OPT_BURST };
	static const struct option opts[] = {
		{ "event-interval", required_argument, NULL, OPT_INTERVAL },
		{ "event-burst",    required_argument, NULL, OPT_BURST },
		{ "help",	    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool set_interval = false, set_burst = false;
	uint32_t interval_ms = 0, burst = 0;
	struct nl_msg *req;
	struct gmc_nl *nl;
	int c, ret = GMC_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_INTERVAL:
			if (parse_interval(optarg, &interval_ms))
				return GMC_EXIT_USAGE;
			set_interval = true;
			break;
		case OPT_BURST:
			if (parse_burst(optarg, &burst))
				return GMC_EXIT_USAGE;
			set_burst = true;
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
	if (!set_interval && !set_burst) {
		gmc_err(VERB, "nothing to change: give --event-interval and/or --event-burst");
		usage(stderr);
		return GMC_EXIT_USAGE;
	}

	nl = gmc_nl_open(VERB);
	if (!nl)
		return GMC_EXIT_ERROR;
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_CONFIG_SET, 0);
	if (!req)
		goto out;
	if ((set_interval &&
	     nla_put_u32(req, GOMEMGUARD_A_EVENT_INTERVAL_MS, interval_ms) < 0) ||
	    (set_burst && nla_put_u32(req, GOMEMGUARD_A_EVENT_BURST, burst) < 0)) {
		nlmsg_free(req);
		gmc_err(VERB, "%s", strerror(ENOMEM));
		goto out;
	}
	if (!gmc_nl_transact(nl, req, NULL, NULL))
		ret = GMC_EXIT_OK;
out:
	gmc_nl_close(nl);
	return ret;
}
