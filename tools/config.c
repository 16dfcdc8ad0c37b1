// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl config: change module-wide settings.
 *
 * Only syntax is checked here (a duration that is whole milliseconds, a
 * number that fits the attribute); whether a value is in range, or the
 * medium pressure threshold below the critical one, is the module's call,
 * and its extack message says why when it is not.
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
		"                       [--oom-reports N] [--pressure-medium PCT]\n"
		"                       [--pressure-critical PCT]\n"
		"\n"
		"Change module-wide settings; settings not given keep their value.\n"
		"At least one option is required.\n"
		"\n"
		"Options:\n"
		"      --event-interval DURATION  per-process event rate-limit window,\n"
		"                                 e.g. 250ms, 2s, 1m (%s to %s, default %s)\n"
		"      --event-burst N            events allowed per process in a window\n"
		"                                 (%d to %d, default %d)\n"
		"      --oom-reports N            OOM post-mortems to keep, the oldest\n"
		"                                 dropped first (1 to %d, default %d)\n"
		"      --pressure-medium PCT      reclaim pressure is medium when reclaim\n"
		"                                 fails to free PCT%% of the pages it scans\n"
		"                                 (1 to 100, default %d)\n"
		"      --pressure-critical PCT    ... and critical from PCT%% (above the\n"
		"                                 medium threshold, up to 100, default %d)\n"
		"  -h, --help                     print this help\n",
		min, max, def,
		GOMEMGUARD_EVENT_BURST_MIN, GOMEMGUARD_EVENT_BURST_MAX,
		GOMEMGUARD_EVENT_BURST_DEFAULT,
		GOMEMGUARD_OOM_REPORTS_MAX, GOMEMGUARD_OOM_REPORTS_DEFAULT,
		GOMEMGUARD_PRESSURE_MEDIUM_DEFAULT,
		GOMEMGUARD_PRESSURE_CRITICAL_DEFAULT);
}

/* A percentage: "60" or "60%". */
static int parse_pct(const char *s, uint32_t *pct, const char **why)
{
	char buf[UNITS_BUF_LEN];
	size_t len = strlen(s);

	if (len && s[len - 1] == '%') {
		if (len > sizeof(buf) - 1) {
			*why = "not a number";
			return -EINVAL;
		}
		memcpy(buf, s, len - 1);
		buf[len - 1] = '\0';
		s = buf;
	}
	return units_parse_u32(s, pct, why);
}

/* Every setting is a u32 attribute; the order of the options in --help. */
static const struct setting {
	const char *name;
	int attr;
	int (*parse)(const char *s, uint32_t *v, const char **why);
} settings[] = {
	{ "event-interval", GOMEMGUARD_A_EVENT_INTERVAL_MS, units_parse_ms },
	{ "event-burst", GOMEMGUARD_A_EVENT_BURST, units_parse_u32 },
	{ "oom-reports", GOMEMGUARD_A_OOM_REPORTS_MAX, units_parse_u32 },
	{ "pressure-medium", GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, parse_pct },
	{ "pressure-critical", GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, parse_pct },
};

#define N_SETTINGS ARRAY_SIZE(settings)

int config_main(int argc, char *argv[])
{
	/* getopt_long() returns OPT_FIRST + the setting's index. */
	enum { OPT_FIRST = 256 };
	struct option opts[N_SETTINGS + 2];
	bool given[N_SETTINGS] = { false };
	uint32_t values[N_SETTINGS];
	bool any = false;
	struct nl_msg *req;
	struct gmc_nl *nl;
	const char *why;
	int c, ret = GMC_EXIT_ERROR;
	size_t i;

	for (i = 0; i < N_SETTINGS; i++)
		opts[i] = (struct option){ settings[i].name, required_argument,
					   NULL, OPT_FIRST + (int)i };
	opts[N_SETTINGS] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[N_SETTINGS + 1] = (struct option){ NULL, 0, NULL, 0 };

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c >= OPT_FIRST && c < OPT_FIRST + (int)N_SETTINGS) {
			i = (size_t)(c - OPT_FIRST);
			if (settings[i].parse(optarg, &values[i], &why)) {
				gmc_err(VERB, "invalid --%s \"%s\": %s",
					settings[i].name, optarg, why);
				return GMC_EXIT_USAGE;
			}
			given[i] = any = true;
			continue;
		}
		if (c == 'h') {
			usage(stdout);
			return GMC_EXIT_OK;
		}
		gmc_bad_option(VERB, c, argv);
		return GMC_EXIT_USAGE;
	}
	if (optind < argc) {
		gmc_err(VERB, "unexpected argument \"%s\"", argv[optind]);
		return GMC_EXIT_USAGE;
	}
	if (!any) {
		gmc_err(VERB, "nothing to change: give at least one setting");
		return GMC_EXIT_USAGE;
	}

	nl = gmc_nl_open(VERB);
	if (!nl)
		return GMC_EXIT_ERROR;
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_CONFIG_SET, 0);
	if (!req)
		goto out;
	for (i = 0; i < N_SETTINGS; i++) {
		if (given[i] &&
		    nla_put_u32(req, settings[i].attr, values[i]) < 0) {
			nlmsg_free(req);
			gmc_err(VERB, "%s", strerror(ENOMEM));
			goto out;
		}
	}
	if (!gmc_nl_transact(nl, req, NULL, NULL))
		ret = GMC_EXIT_OK;
out:
	gmc_nl_close(nl);
	return ret;
}
