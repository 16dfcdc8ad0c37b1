// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl monitor: the module's events as they happen, one line each, on a
 * socket of its own in the "events" multicast group (the way iw event
 * listens).  Sequence numbers reveal lost events; an overflowing socket
 * loses them for sure, and a PROC_GET dump then says where things stand.
 * SIGINT and SIGTERM end it normally.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "memcg.h"
#include "nl.h"
#include "output.h"
#include "postmortem.h"
#include "proc.h"
#include "units.h"

#define VERB "monitor"
#define NSEC_PER_MSEC 1000000ULL

struct monitor {
	uint64_t count;		/* --count, or 0 */
	uint64_t events;	/* printed so far */
	uint64_t last_seq;
	bool have_seq;
	bool write_failed;	/* output gone: no point in going on */
};

/* What every event carries; the rest depends on what it is about. */
static const int event_required[] = {
	GOMEMGUARD_A_EVENT,
	GOMEMGUARD_A_SEQ,
	GOMEMGUARD_A_TIME_NS,
};

/* What monitor promises in every line about a process. */
static const int proc_event_required[] = {
	GOMEMGUARD_A_PID,
	GOMEMGUARD_A_COMM,
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_ANON,
	GOMEMGUARD_A_SWAP,
	GOMEMGUARD_A_SHMEM,
	GOMEMGUARD_A_FILE,
	GOMEMGUARD_A_RATE,
	GOMEMGUARD_A_SOFT_LIMIT,
	GOMEMGUARD_A_LEVEL_PCT,
	GOMEMGUARD_A_MEMCG_USAGE,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl monitor [-j | -p] [--count N] [--timeout DURATION]\n"
		"                        [--ready-file PATH]\n"
		"\n"
		"Print the module's events as they happen, one line each: warn (a level\n"
		"of the soft limit crossed), eta (a limit nearer than the horizon),\n"
		"recover and exit, about a process; pressure (a memory cgroup's reclaim\n"
		"pressure changed); oom (an OOM kill, with its post-mortem in JSON, as\n"
		"gomemctl oom prints it).  Lost events are reported on stderr (and as \"lost\"\n"
		"records with -j); after the event socket overflowed, every watched\n"
		"process is printed as a \"state\" record.  Runs until interrupted.\n"
		"\n"
		"Options:\n"
		"  -j, --json               print one JSON object per line\n"
		"  -p, --pretty             print indented JSON\n"
		"      --count N            exit after N events\n"
		"      --timeout DURATION   exit after DURATION, e.g. 30s, 5m\n"
		"      --ready-file PATH    create PATH once events are being received\n"
		"  -h, --help               print this help\n");
}

static const char *event_name(uint32_t event)
{
	switch (event) {
	case GOMEMGUARD_EVENT_WARN:
		return "warn";
	case GOMEMGUARD_EVENT_ETA:
		return "eta";
	case GOMEMGUARD_EVENT_RECOVER:
		return "recover";
	case GOMEMGUARD_EVENT_EXIT:
		return "exit";
	case GOMEMGUARD_EVENT_PRESSURE:
		return "pressure";
	case GOMEMGUARD_EVENT_OOM:
		return "oom";
	}
	return "unknown";
}

/* When it arrived, by the wall clock, for people; JSON has the kernel's time. */
static char *wall_clock(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ld", ts.tv_nsec / 1000000);
	return buf;
}

/*
 * An event, or a process's state after a resync (type 0): the event's name,
 * number and time, then show's fields for a process, the memcg's for
 * pressure.  An OOM kill (pm) is one object of oom -j.
 */
static int print_record(struct monitor *m, uint32_t type, const char *event,
			struct nlattr *tb[], const struct postmortem *pm)
{
	char clock[32];

	out_begin();
	out_text("%s ", wall_clock(clock, sizeof(clock)));
	if (pm && out_is_json()) {
		postmortem_print(pm);
	} else if (out_is_json()) {
		out_json_str("event", event);
		if (tb[GOMEMGUARD_A_SEQ])
			out_json_u64("seq", nla_get_u64(tb[GOMEMGUARD_A_SEQ]));
		if (tb[GOMEMGUARD_A_TIME_NS])
			out_json_u64("time_ns",
				     nla_get_u64(tb[GOMEMGUARD_A_TIME_NS]));
		if (type == GOMEMGUARD_EVENT_PRESSURE)
			pressure_print(tb);
		else
			proc_print(tb, PROC_VIEW_SHOW);
	} else {
		printf("%s ", event);
		if (pm)
			postmortem_describe(pm);
		else if (type == GOMEMGUARD_EVENT_PRESSURE)
			pressure_describe(tb);
		else
			proc_describe(tb);
	}
	if (out_end()) {
		m->write_failed = true;
		return -1;
	}
	return 0;
}

static int report_lost(struct monitor *m, uint64_t first, uint64_t last)
{
	uint64_t n = last - first + 1;

	gmc_err(VERB, "lost %" PRIu64 " event%s (seq %" PRIu64 "..%" PRIu64 ")",
		n, n == 1 ? "" : "s", first, last);
	if (!out_is_json())
		return 0;
	out_begin();
	out_json_str("event", "lost");
	out_json_u64("count", n);
	out_json_u64("first_seq", first);
	out_json_u64("last_seq", last);
	if (out_end()) {
		m->write_failed = true;
		return -1;
	}
	return 0;
}

/*
 * 0 when tb[] holds what an event of its type must; -1 when it does not
 * (reported: the event is skipped).  An OOM kill's post-mortem is opened
 * into pm.
 */
static int check_event(struct gmc_nl *nl, struct nlattr *tb[], uint32_t type,
		       struct postmortem *pm)
{
	bool in_snapshot = false;
	char name[16];
	int missing;

	missing = gmc_nl_missing(tb, event_required,
				 ARRAY_SIZE(event_required));
	if (missing)
		goto lacking;
	switch (type) {
	case GOMEMGUARD_EVENT_PRESSURE:
		missing = gmc_nl_missing(tb, pressure_required,
					 pressure_n_required);
		break;
	case GOMEMGUARD_EVENT_OOM:
		missing = postmortem_parse(nl, tb, pm);
		if (missing < 0)
			return -1;
		in_snapshot = pm->missing_in_snapshot;
		break;
	default:
		missing = gmc_nl_missing(tb, proc_event_required,
					 ARRAY_SIZE(proc_event_required));
	}
	if (!missing)
		return 0;
lacking:
	gmc_err(VERB, "event lacks %s%s (is the module older than gomemctl?); skipped",
		gmc_nl_attr_name(missing, name, sizeof(name)),
		in_snapshot ? " in a snapshot entry" : "");
	return -1;
}

static int on_event(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct postmortem pm = { 0 };
	struct monitor *m = arg;
	uint32_t type;
	uint64_t seq;
	int err;

	if (m->count && m->events == m->count)
		return 0;
	if (tb[GOMEMGUARD_A_SEQ]) {
		seq = nla_get_u64(tb[GOMEMGUARD_A_SEQ]);
		/* A reloaded module counts from the start again: no loss. */
		if (m->have_seq && seq > m->last_seq + 1 &&
		    report_lost(m, m->last_seq + 1, seq - 1))
			return -1;
		m->last_seq = seq;
		m->have_seq = true;
	}
	type = tb[GOMEMGUARD_A_EVENT] ? nla_get_u32(tb[GOMEMGUARD_A_EVENT]) : 0;
	if (check_event(nl, tb, type, &pm))
		return 0;
	err = print_record(m, type, event_name(type), tb,
			   type == GOMEMGUARD_EVENT_OOM ? &pm : NULL);
	postmortem_free(&pm);
	if (err)
		return -1;
	m->events++;
	return 0;
}

static int on_state(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	(void)nl;
	return print_record(arg, 0, "state", tb, NULL);
}

/*
 * What was lost is gone; what matters now is where every watched process
 * stands.  A failed dump is reported and monitoring goes on.
 */
static int resync(struct monitor *m)
{
	struct nl_msg *req;
	struct gmc_nl *nl;

	gmc_err(VERB, "event socket overflowed; resyncing");
	nl = gmc_nl_open(VERB);
	if (!nl)
		return 0;
	req = gmc_nl_request(nl, GOMEMGUARD_CMD_PROC_GET, NLM_F_DUMP);
	if (req)
		gmc_nl_transact(nl, req, on_state, m);
	gmc_nl_close(nl);
	return m->write_failed ? -1 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Until the signal, the deadline (0: none) or --count; -1 on errors. */
static int listen_loop(struct gmc_nl *nl, int sfd, struct monitor *m,
		       uint64_t deadline)
{
	struct pollfd pfd[] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = gmc_nl_fd(nl), .events = POLLIN },
	};

	for (;;) {
		int timeout = -1, err;

		if (m->count && m->events == m->count)
			return 0;
		if (deadline) {
			uint64_t now = now_ns(), ms;

			if (now >= deadline)
				return 0;
			ms = (deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
			timeout = ms > INT_MAX ? INT_MAX : (int)ms;
		}
		if (poll(pfd, ARRAY_SIZE(pfd), timeout) < 0) {
			if (errno == EINTR)
				continue;
			gmc_err(VERB, "cannot wait for events: %s",
				strerror(errno));
			return -1;
		}
		if (pfd[0].revents)
			return 0;
		if (!pfd[1].revents)
			continue;
		err = gmc_nl_listen(nl, GOMEMGUARD_CMD_EVENT, on_event, m);
		if (err == -ENOBUFS)
			err = resync(m);
		if (err)
			return -1;
	}
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || close(fd)) {
		gmc_err(VERB, "cannot create --ready-file \"%s\": %s", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int bad_value(const char *opt, const char *arg, const char *why)
{
	gmc_err(VERB, "invalid %s \"%s\": %s", opt, arg, why);
	return GMC_EXIT_USAGE;
}

/* Returns -1 to go on, or the exit code (after --help, or a usage error). */
static int parse_args(int argc, char *argv[], struct monitor *m,
		      uint64_t *timeout_ns, const char **ready_file)
{
	enum { OPT_COUNT = 256, OPT_TIMEOUT, OPT_READY_FILE };
	static const struct option opts[] = {
		{ "json",	no_argument,	   NULL, 'j' },
		{ "pretty",	no_argument,	   NULL, 'p' },
		{ "count",	required_argument, NULL, OPT_COUNT },
		{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
		{ "ready-file", required_argument, NULL, OPT_READY_FILE },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "+:jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			out_set_mode(OUT_JSON);
			break;
		case 'p':
			out_set_mode(OUT_JSON_PRETTY);
			break;
		case OPT_COUNT:
			if (units_parse_u64(optarg, &m->count, &why))
				return bad_value("--count", optarg, why);
			if (!m->count)
				return bad_value("--count", optarg,
						 "must be at least 1");
			break;
		case OPT_TIMEOUT:
			if (units_parse_duration(optarg, timeout_ns, &why))
				return bad_value("--timeout", optarg, why);
			if (!*timeout_ns)
				return bad_value("--timeout", optarg,
						 "must be longer than 0");
			break;
		case OPT_READY_FILE:
			*ready_file = optarg;
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
	return -1;
}

int monitor_main(int argc, char *argv[])
{
	const char *ready_file = NULL;
	struct monitor m = { 0 };
	uint64_t timeout_ns = 0, deadline = 0;
	struct gmc_nl *nl;
	sigset_t mask;
	int sfd, ret;

	ret = parse_args(argc, argv, &m, &timeout_ns, &ready_file);
	if (ret >= 0)
		return ret;

	/*
	 * Signals become readable on a descriptor, polled with the socket: no
	 * race between checking a flag and going to sleep, and libnl, which
	 * retries interrupted reads, never sees them.  The mask stays until
	 * gomemctl exits.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		gmc_err(VERB, "cannot watch for signals: %s", strerror(errno));
		return GMC_EXIT_ERROR;
	}

	ret = GMC_EXIT_ERROR;
	nl = gmc_nl_open_events(VERB);
	if (!nl)
		goto out;
	if (ready_file && touch(ready_file))
		goto out;
	if (timeout_ns)
		deadline = now_ns() + timeout_ns;
	if (!listen_loop(nl, sfd, &m, deadline))
		ret = GMC_EXIT_OK;
out:
	gmc_nl_close(nl);
	close(sfd);
	return ret;
}
