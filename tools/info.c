// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl info: which module is loaded on which kernel, its counters, its
 * settings, and which kernel hooks it has registered (none while nothing is
 * tagged: it registers them only then).
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
	uint64_t events_overflowed;
	uint32_t listeners;
	bool open_read;
	uint32_t event_interval_ms;
	uint32_t event_burst;
	uint32_t oom_reports_max;
	uint64_t oom_kills;
	bool has_exits_quiet;		/* a module from before it: absent */
	uint64_t exits_quiet;
	uint32_t pressure_medium_pct;
	uint32_t pressure_critical_pct;
	char **hooks;
	size_t n_hooks;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl info [-j | -p]\n"
		"\n"
		"Show the module's version, the running kernel, how many processes are\n"
		"tagged, how many events were sent and dropped, how many exits of adopted\n"
		"processes that never warned were counted instead of sent, the event rate\n"
		"limit, how many OOM kills the machine had since the module was loaded and\n"
		"how many post-mortems it keeps, the reclaim pressure thresholds, and the\n"
		"kernel hooks it has registered (none while nothing is tagged).\n"
		"\n"
		"Options:\n"
		"  -j, --json     print JSON\n"
		"  -p, --pretty   print indented JSON\n"
		"  -h, --help     print this help\n");
}

static void free_hooks(struct info *info)
{
	while (info->n_hooks)
		free(info->hooks[--info->n_hooks]);
	free(info->hooks);
	info->hooks = NULL;
}

/* The HOOK strings of the HOOKS nest, in the module's order. */
static int get_hooks(struct gmc_nl *nl, struct info *info,
		     struct nlattr *hooks)
{
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1], *a;
	size_t n = 0;
	int rem;

	if (gmc_nl_parse_nested(nl, tb, hooks))
		return -1;
	nla_for_each_nested(a, hooks, rem)
		n += nla_type(a) == GOMEMGUARD_A_HOOK;
	free_hooks(info);
	info->hooks = calloc(n ? n : 1, sizeof(*info->hooks));
	if (!info->hooks)
		goto err_nomem;
	nla_for_each_nested(a, hooks, rem) {
		if (nla_type(a) != GOMEMGUARD_A_HOOK)
			continue;
		info->hooks[info->n_hooks] = strdup(nla_get_string(a));
		if (!info->hooks[info->n_hooks])
			goto err_nomem;
		info->n_hooks++;
	}
	return 0;

err_nomem:
	gmc_err(VERB, "%s", strerror(ENOMEM));
	return -1;
}

static int info_reply(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = {
		GOMEMGUARD_A_VERSION,
		GOMEMGUARD_A_KERNEL_RELEASE,
		GOMEMGUARD_A_TAGGED,
		GOMEMGUARD_A_EVENTS_SENT,
		GOMEMGUARD_A_EVENTS_DROPPED,
		GOMEMGUARD_A_EVENTS_OVERFLOWED,
		GOMEMGUARD_A_LISTENERS,
		GOMEMGUARD_A_OPEN_READ,
		GOMEMGUARD_A_EVENT_INTERVAL_MS,
		GOMEMGUARD_A_EVENT_BURST,
		GOMEMGUARD_A_OOM_REPORTS_MAX,
		GOMEMGUARD_A_OOM_KILLS,
		GOMEMGUARD_A_PRESSURE_MEDIUM_PCT,
		GOMEMGUARD_A_PRESSURE_CRITICAL_PCT,
		GOMEMGUARD_A_HOOKS,
	};
	struct info *info = arg;

	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE(required)) ||
	    get_hooks(nl, info, tb[GOMEMGUARD_A_HOOKS]))
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
	info->events_overflowed = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_OVERFLOWED]);
	info->listeners = nla_get_u32(tb[GOMEMGUARD_A_LISTENERS]);
	info->open_read = nla_get_u8(tb[GOMEMGUARD_A_OPEN_READ]);
	info->event_interval_ms = nla_get_u32(tb[GOMEMGUARD_A_EVENT_INTERVAL_MS]);
	info->event_burst = nla_get_u32(tb[GOMEMGUARD_A_EVENT_BURST]);
	info->oom_reports_max = nla_get_u32(tb[GOMEMGUARD_A_OOM_REPORTS_MAX]);
	info->oom_kills = nla_get_u64(tb[GOMEMGUARD_A_OOM_KILLS]);
	/* Optional: a module still running from before an upgrade lacks it. */
	info->has_exits_quiet = tb[GOMEMGUARD_A_EXITS_QUIET];
	if (info->has_exits_quiet)
		info->exits_quiet = nla_get_u64(tb[GOMEMGUARD_A_EXITS_QUIET]);
	info->pressure_medium_pct =
		nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT]);
	info->pressure_critical_pct =
		nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_CRITICAL_PCT]);
	return 0;
}

static int info_print(const struct info *info)
{
	size_t i;

	out_begin();
	out_str("version", "gomemguard %s", info->version);
	out_str("kernel_release", " on %s\n", info->kernel_release);
	out_u64("tagged_processes", "  tagged processes: %" PRIu64 "\n", info->tagged);
	out_u64("events_sent", "  events: %" PRIu64 " sent", info->events_sent);
	out_u64("events_dropped", ", %" PRIu64 " dropped", info->events_dropped);
	out_u64("events_overflowed", ", %" PRIu64 " lost in full listener sockets\n",
		info->events_overflowed);
	if (info->has_exits_quiet)
		out_u64("exits_quiet",
			"  quiet exits: %" PRIu64 " (adopted processes that never warned: counted, not sent)\n",
			info->exits_quiet);
	out_u64("listeners", "  listeners: %" PRIu64, info->listeners);
	out_json_bool("open_read", info->open_read);
	out_text("; reading %s\n", info->open_read ?
		 "open to every user (open_read=1)" : "needs CAP_NET_ADMIN");
	out_u64("event_burst", "  event rate limit: %" PRIu64, info->event_burst);
	out_ms("event_interval_ms", " per %s per process\n",
	       info->event_interval_ms);
	out_u64("oom_kills", "  OOM kills on the machine since load: %" PRIu64,
		info->oom_kills);
	out_u64("oom_reports_max", "; post-mortems kept: the last %" PRIu64 "\n",
		info->oom_reports_max);
	out_u64("pressure_medium_pct",
		"  reclaim pressure: medium from %" PRIu64 "%%",
		info->pressure_medium_pct);
	out_u64("pressure_critical_pct",
		", critical from %" PRIu64 "%% of scanned pages not reclaimed\n",
		info->pressure_critical_pct);
	out_text("  hooks:");
	out_array_begin("hooks");
	for (i = 0; i < info->n_hooks; i++)
		out_str(NULL, i ? ", %s" : " %s", info->hooks[i]);
	out_array_end();
	/* The module registers them only while something is tagged. */
	if (!info->n_hooks)
		out_text(" none registered%s",
			 info->tagged ? "" : " (nothing tagged)");
	out_text("\n");
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
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_INFO_GET, 0);
	if (req && !gmc_nl_transact(nl, req, info_reply, &info) &&
	    !info_print(&info))
		ret = GMC_EXIT_OK;
	gmc_nl_close(nl);
	free(info.version);
	free(info.kernel_release);
	free_hooks(&info);
	return ret;
}
