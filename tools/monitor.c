// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl monitor: the module's events as they happen, one line each, on a
 * socket of its own subscribed to them.  Sequence numbers reveal lost
 * events; an overflowing socket loses them for sure, and a PROC_GET dump
 * then says where things stand.  SIGINT and SIGTERM end it normally.
 *
 * As a service, each event can also go to syslog, start a command
 * (exec.c), and refresh a Prometheus textfile (prom.c).  Everything happens
 * in one poll loop over the event socket, a signalfd (SIGINT, SIGTERM,
 * SIGCHLD of the commands) and a timerfd (the textfile's next refresh):
 * commands never make it wait, and a refresh is a few netlink round trips.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/gomemguard.h>

#include "cgname.h"
#include "exec.h"
#include "gomemctl.h"
#include "memcg.h"
#include "nl.h"
#include "output.h"
#include "policy.h"
#include "postmortem.h"
#include "proc.h"
#include "prom.h"
#include "units.h"
#include "wallclock.h"

#define VERB "monitor"
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

#define EXEC_MAX_DEFAULT 4
#define EXEC_MAX_LIMIT 1024
#define EXEC_QUEUE_DEFAULT 64
#define EXEC_QUEUE_LIMIT 65536
#define PROM_INTERVAL_DEFAULT (10 * NSEC_PER_SEC)
#define PROM_INTERVAL_MIN NSEC_PER_SEC
/*
 * Events refresh the textfile, at most this often: a burst of them costs
 * one refresh, not one each.
 */
#define PROM_EVENT_GAP NSEC_PER_SEC
/*
 * Until monitor has first subscribed, it looks for the module again (which
 * loads it, as root: a service started before DKMS had built it) after 1 s,
 * then twice as long each time up to 30 s.  Once it has seen the module,
 * it never loads it: after an unload it checks sysfs every second and
 * subscribes when someone loaded the module again.  While the module is
 * there, monitor looks every 10 s whether it was unloaded or reloaded (a
 * reloaded family has a new ID, and has forgotten our subscription).
 */
#define RETRY_MIN_NS NSEC_PER_SEC
#define RETRY_MAX_NS (30 * NSEC_PER_SEC)
#define HEALTH_INTERVAL_NS (10 * NSEC_PER_SEC)

struct options {
	uint64_t timeout_ns;
	const char *ready_file;
	const char *exec;
	uint64_t exec_max, exec_queue;
	bool exec_max_given, exec_queue_given;
	const char *prom_file;
	uint64_t prom_interval_ns;
	bool prom_interval_given;
	const char *policy_dir;
	const char *policy_state;
};

struct monitor {
	uint64_t count;		/* --count, or 0 */
	uint64_t events;	/* handled so far */
	uint64_t last_seq;
	bool have_seq;
	bool write_failed;	/* output gone: no point in going on */
	bool quiet;		/* nothing on stdout */
	bool syslog;
	struct exec_runner *exec;
	uint64_t drops_said;	/* --exec drops reported so far */
	struct prom *prom;
	int timer;		/* the textfile's refreshes */
	uint64_t prom_interval_ns;
	uint64_t prom_last_ns;	/* the last refresh */
	bool prom_dirty;	/* events since then */
	struct prom_counters counters;
	struct gmc_nl *nl;	/* the event socket; NULL while the module is away */
	int family;		/* its family ID */
	uint64_t next_check_ns;	/* the next look for the module */
	uint64_t retry_ns;	/* the back-off while it is away */
	char down_why[512];	/* said when it went away; "" while it is there */
	char try_why[512];	/* what the last try to subscribe said */
	bool seen_module;	/* subscribed once: never load it again */
	const char *ready_file;	/* still to create once subscribed */
	struct policy_watch *policy;	/* --policy-dir, or NULL */
};

/* What every event carries; the rest depends on what it is about. */
static const int event_required[] = {
	GOMEMGUARD_A_EVENT,
	GOMEMGUARD_A_SEQ,
	GOMEMGUARD_A_TIME_NS,
};

/*
 * What monitor promises in every line about a process.  Not its PID: a
 * monitor outside the initial PID namespace gets events without one ("pid":
 * null), the module having no way to name the process there.
 */
static const int proc_event_required[] = {
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
		"Usage: gomemctl monitor [-j | -p] [-q] [--count N] [--timeout DURATION]\n"
		"                        [--ready-file PATH] [--syslog]\n"
		"                        [--exec COMMAND [--exec-max N] [--exec-queue N]]\n"
		"                        [--prom-file PATH [--prom-interval DURATION]]\n"
		"                        [--policy-dir DIR [--policy-state PATH]]\n"
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
		"  -q, --quiet              print nothing on stdout\n"
		"      --count N            exit after N events\n"
		"      --timeout DURATION   exit after DURATION, e.g. 30s, 5m\n"
		"      --ready-file PATH    create PATH once events are being received\n"
		"      --syslog             also log each event to syslog (daemon facility)\n"
		"      --exec COMMAND       run COMMAND with /bin/sh for each event, the event\n"
		"                           as JSON on its stdin and in GOMEMGUARD_* variables\n"
		"      --exec-max N         run at most N commands at once (default %d)\n"
		"      --exec-queue N       let at most N more events wait, drop the rest\n"
		"                           (default %d)\n"
		"      --prom-file PATH     keep PATH up to date for node_exporter's textfile\n"
		"                           collector\n"
		"      --prom-interval DURATION\n"
		"                           refresh it at least this often (default 10s)\n"
		"      --policy-dir DIR     apply the rules in DIR (gomemguard.policy(5)) at\n"
		"                           start, on SIGHUP, when the module is loaded again\n"
		"                           and every %ds for new processes and cgroups\n"
		"      --policy-state PATH  where the tags they made are kept\n"
		"                           (default " POLICY_STATE ")\n"
		"  -h, --help               print this help\n",
		EXEC_MAX_DEFAULT, EXEC_QUEUE_DEFAULT, POLICY_RESCAN_S);
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

/* A notice on stderr and, with --syslog, in the system log. */
static void say(struct monitor *m, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct monitor *m, int priority, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gmc_err(VERB, "%s", msg);
	if (m->syslog)
		syslog(priority, "%s", msg);
}

/* What --exec reports about its commands. */
static void exec_log(void *arg, int priority, const char *msg)
{
	say(arg, priority, "--exec: %s", msg);
}

/* What --prom-file reports about its file. */
static void prom_log(void *arg, int priority, const char *msg)
{
	say(arg, priority, "%s", msg);
}

/*
 * When it happened, in local wall-clock time, for people: the module's
 * stamp, or for a state record (which has none) now.
 */
static char *wall_clock(char *buf, size_t len, struct nlattr **tb)
{
	struct nlattr *a = tb[GOMEMGUARD_A_TIME_NS];
	struct timespec ts;

	if (a)
		return wallclock_local_ms(buf, len, wallclock_ns(nla_get_u64(a)));
	clock_gettime(CLOCK_REALTIME, &ts);
	return wallclock_local_ms(buf, len, (uint64_t)ts.tv_sec * NSEC_PER_SEC +
					    (uint64_t)ts.tv_nsec);
}

/*
 * An event, or a process's state after a resync (type 0, "state"): the
 * event's name, number and time, then show's fields for a process, the
 * memcg's for pressure (with its memory.stat and memory.pressure as read
 * when the event came, once for every output).  An OOM kill (pm) is one
 * object of oom -j.
 */
struct record {
	uint32_t type;
	const char *event;
	struct nlattr **tb;
	const struct postmortem *pm;
	struct memstat ms;
};

static void json_name(const char *key, const char *value)
{
	if (*value)
		out_json_str(key, value);
	else
		out_json_null(key);
}

/* The systemd unit and Kubernetes names its memcg's path holds. */
static void print_names(struct nlattr **tb)
{
	struct cgname n;

	if (!tb[GOMEMGUARD_A_MEMCG])
		return;
	cgname_parse(nla_get_string(tb[GOMEMGUARD_A_MEMCG]), &n);
	json_name("unit", n.unit);
	json_name("pod_uid", n.pod_uid);
	json_name("container_id", n.container_id);
}

/* The record's fields in the current output mode (see out_capture()). */
static void print_fields(void *arg)
{
	const struct record *r = arg;
	struct nlattr **tb = r->tb;

	if (r->pm && out_is_json()) {
		postmortem_print(r->pm);
	} else if (out_is_json()) {
		out_json_str("event", r->event);
		if (tb[GOMEMGUARD_A_SEQ])
			out_json_u64("seq", nla_get_u64(tb[GOMEMGUARD_A_SEQ]));
		if (tb[GOMEMGUARD_A_TIME_NS]) {
			out_json_u64("time_ns",
				     nla_get_u64(tb[GOMEMGUARD_A_TIME_NS]));
			wallclock_json(nla_get_u64(tb[GOMEMGUARD_A_TIME_NS]));
		}
		if (r->type == GOMEMGUARD_EVENT_PRESSURE)
			pressure_print(tb, &r->ms);
		else if (memcg_eta_event(r->type, tb))
			memcg_eta_print(tb, &r->ms);
		else
			proc_print(tb, PROC_VIEW_SHOW);
		print_names(tb);
	} else {
		printf("%s ", r->event);
		if (r->pm)
			postmortem_describe(r->pm);
		else if (r->type == GOMEMGUARD_EVENT_PRESSURE)
			pressure_describe(tb, &r->ms);
		else if (memcg_eta_event(r->type, tb))
			memcg_eta_describe(r->type, tb, &r->ms);
		else
			proc_describe(tb);
	}
}

static int print_record(struct monitor *m, struct record *r)
{
	char clock[WALLCLOCK_BUF_LEN];

	if (m->quiet)
		return 0;
	out_begin();
	out_text("%s ", wall_clock(clock, sizeof(clock), r->tb));
	print_fields(r);
	if (out_end()) {
		m->write_failed = true;
		return -1;
	}
	return 0;
}

/* How loud an event is in syslog: what needs acting on is a warning. */
static int priority(const struct record *r)
{
	struct nlattr *level, *kind;

	switch (r->type) {
	case GOMEMGUARD_EVENT_OOM:
		return LOG_ERR;
	case GOMEMGUARD_EVENT_WARN:
	case GOMEMGUARD_EVENT_ETA:
		return LOG_WARNING;
	case GOMEMGUARD_EVENT_PRESSURE:
		level = r->tb[GOMEMGUARD_A_PRESSURE_LEVEL];
		kind = r->tb[GOMEMGUARD_A_PRESSURE_KIND];
		if (nla_get_u32(level) == GOMEMGUARD_PRESSURE_CRITICAL ||
		    (kind && nla_get_u32(kind) == GOMEMGUARD_KIND_ANON_SQUEEZE))
			return LOG_WARNING;
		return LOG_NOTICE;
	case GOMEMGUARD_EVENT_RECOVER:
		return LOG_NOTICE;
	case GOMEMGUARD_EVENT_EXIT:
	case 0:			/* a state record */
		return LOG_INFO;
	}
	return LOG_NOTICE;
}

/* The line people read, without the clock: syslog has its own. */
static void log_record(struct monitor *m, struct record *r)
{
	char *text;

	if (!m->syslog)
		return;
	text = out_capture(OUT_TEXT, print_fields, r);
	if (text)
		syslog(priority(r), "%s", text);
	free(text);
}

/* The JSON of monitor -j, to the command. */
static void run_command(struct monitor *m, struct record *r, uint64_t seq)
{
	char *json;

	if (!m->exec)
		return;
	json = out_capture(OUT_JSON, print_fields, r);
	if (json)
		exec_submit(m->exec, seq, r->event, json);
	free(json);
}

/* Once per batch of events, not once per event: a burst is one line. */
static void report_drops(struct monitor *m)
{
	struct exec_stats st;
	uint64_t n;

	if (!m->exec)
		return;
	exec_get_stats(m->exec, &st);
	n = st.dropped - m->drops_said;
	if (!n)
		return;
	say(m, LOG_WARNING, "--exec: %" PRIu64 " event%s dropped, the queue is full (%" PRIu64 " in all)",
	    n, n == 1 ? "" : "s", st.dropped);
	m->drops_said = st.dropped;
}

static int report_lost(struct monitor *m, uint64_t first, uint64_t last)
{
	uint64_t n = last - first + 1;

	m->counters.lost += n;
	say(m, LOG_WARNING, "lost %" PRIu64 " event%s (seq %" PRIu64 "..%" PRIu64 ")",
	    n, n == 1 ? "" : "s", first, last);
	if (!out_is_json() || m->quiet)
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
static int check_event(struct monitor *m, struct gmc_nl *nl,
		       struct nlattr *tb[], uint32_t type,
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
	case GOMEMGUARD_EVENT_ETA:
	case GOMEMGUARD_EVENT_RECOVER:
		if (memcg_eta_event(type, tb)) {
			missing = gmc_nl_missing(tb, memcg_eta_required,
						 memcg_eta_n_required);
			break;
		}
		/* fall through */
	default:
		missing = gmc_nl_missing(tb, proc_event_required,
					 ARRAY_SIZE(proc_event_required));
	}
	if (!missing)
		return 0;
lacking:
	say(m, LOG_WARNING, "event lacks %s%s (is the module older than gomemctl?); skipped",
	    gmc_nl_attr_name(missing, name, sizeof(name)),
	    in_snapshot ? " in a snapshot entry" : "");
	return -1;
}

static int on_event(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct postmortem pm = { 0 };
	struct monitor *m = arg;
	struct record r = { .tb = tb };
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
	r.type = tb[GOMEMGUARD_A_EVENT] ? nla_get_u32(tb[GOMEMGUARD_A_EVENT]) : 0;
	if (check_event(m, nl, tb, r.type, &pm))
		return 0;
	r.event = event_name(r.type);
	if (r.type == GOMEMGUARD_EVENT_OOM)
		r.pm = &pm;
	if (r.type == GOMEMGUARD_EVENT_PRESSURE || memcg_eta_event(r.type, tb))
		memstat_read(nla_get_string(tb[GOMEMGUARD_A_MEMCG]), &r.ms);
	m->counters.events[r.type < ARRAY_SIZE(m->counters.events) ? r.type : 0]++;
	m->prom_dirty = true;
	err = print_record(m, &r);
	if (!err) {
		log_record(m, &r);
		run_command(m, &r, nla_get_u64(tb[GOMEMGUARD_A_SEQ]));
	}
	postmortem_free(&pm);
	if (err)
		return -1;
	m->events++;
	return 0;
}

static int on_state(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct record r = { .event = "state", .tb = tb };
	struct monitor *m = arg;

	(void)nl;
	if (print_record(m, &r))
		return -1;
	log_record(m, &r);
	return 0;
}

/*
 * Whether to look the module's family up: until monitor has seen it (a
 * lookup then loads it), or while sysfs shows it (looked up without
 * loading: gmc_nl_autoload(false)).
 */
static bool may_look_up(const struct monitor *m)
{
	return !m->seen_module || gmc_nl_module_loaded();
}

/*
 * What was lost is gone; what matters now is where every watched process
 * stands.  A failed dump is reported and monitoring goes on.
 */
static int resync(struct monitor *m)
{
	struct nl_msg *req;
	struct gmc_nl *nl;

	m->counters.overflows++;
	m->prom_dirty = true;
	say(m, LOG_WARNING, "event socket overflowed; resyncing");
	if (!may_look_up(m))
		return 0;
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
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void module_down(struct monitor *m, bool unloaded);

static int prom_refresh_now(struct monitor *m)
{
	bool look;
	int err;

	if (m->exec) {
		m->counters.exec = true;
		exec_get_stats(m->exec, &m->counters.exec_stats);
	}
	m->prom_dirty = false;
	look = may_look_up(m);
	err = prom_refresh(m->prom, &m->counters, look);
	m->prom_last_ns = now_ns();
	/* Its family gone from under the refresh: no need to wait for a check. */
	if (m->nl && (!look || gmc_nl_module_missing()))
		module_down(m, !look);
	return err;
}

/* Sets the timer to the next refresh: the interval's, or an event's. */
static void prom_arm(struct monitor *m)
{
	uint64_t next = m->prom_last_ns + m->prom_interval_ns;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (m->prom_dirty && m->prom_last_ns + PROM_EVENT_GAP < next)
		next = m->prom_last_ns + PROM_EVENT_GAP;
	/* A time gone by fires at once; 0 would disarm the timer. */
	if (!next)
		next = 1;
	its.it_value.tv_sec = (time_t)(next / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(next % NSEC_PER_SEC);
	timerfd_settime(m->timer, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Takes in the signals that came: true when asked to stop. */
static bool take_signals(struct monitor *m, int sfd)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		stop |= si.ssi_signo != SIGCHLD;
	if (m->exec)
		exec_reap(m->exec);
	return stop;
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

/*
 * The event socket, subscribed: false when the module cannot be had.
 * quiet: why not is kept in try_why, to be said once by module_down().
 */
static bool connect_events(struct monitor *m, bool quiet)
{
	if (quiet)
		gmc_err_capture(m->try_why, sizeof(m->try_why));
	m->nl = gmc_nl_open_events(VERB);
	if (quiet)
		gmc_err_capture(NULL, 0);
	if (!m->nl)
		return false;
	/* Commands must not inherit it, whatever libnl did. */
	fcntl(gmc_nl_fd(m->nl), F_SETFD, FD_CLOEXEC);
	m->family = gmc_nl_family(m->nl);
	/* A module loaded again counts its events from 1. */
	m->have_seq = false;
	m->seen_module = true;
	/* From now on an rmmod stands, even one caught in its exit. */
	gmc_nl_autoload(false);
	m->next_check_ns = now_ns() + HEALTH_INTERVAL_NS;
	m->prom_dirty = true;
	return true;
}

#define UNLOADED "the gomemguard module was unloaded"

/*
 * The module is away (unloaded: sysfs said so), or will not take us: said
 * once per reason, tried again later.
 */
static void module_down(struct monitor *m, bool unloaded)
{
	const char *why = unloaded ? UNLOADED : gmc_nl_resolve_why();
	bool gone = *why;	/* no family: nothing can be read either */

	gmc_nl_close(m->nl);
	m->nl = NULL;
	if (!gone)
		why = *m->try_why ? m->try_why :
				    "cannot subscribe to the module's events";
	if (strcmp(why, m->down_why))
		say(m, LOG_ERR, "%s; %s%s", why,
		    unloaded ? "waiting until it is loaded again" :
		    gone ? "looking for it again every 30 s at most" :
			   "subscribing again every 30 s at most",
		    gone && m->prom ? ", gomemguard_module_up 0 meanwhile" : "");
	snprintf(m->down_why, sizeof(m->down_why), "%s", why);
	m->retry_ns = RETRY_MIN_NS;
	m->next_check_ns = now_ns() + m->retry_ns;
	m->prom_dirty = true;
}

/* Subscribed again; -1 when the --ready-file cannot be made. */
static int module_back(struct monitor *m, const char *how)
{
	if (*m->down_why || how)
		say(m, LOG_NOTICE, "the gomemguard module is %s: receiving its events again",
		    how ? how : "loaded");
	m->down_why[0] = '\0';
	if (m->ready_file && touch(m->ready_file))
		return -1;
	m->ready_file = NULL;
	return 0;
}

/*
 * A module loaded (again) holds none of the policy's tags: they are made
 * at once, not at the next rescan, before --ready-file says so.
 */
static void policy_now(struct monitor *m)
{
	if (m->policy)
		policy_watch_event(m->policy);
}

/*
 * Away: subscribe if it came back.  There: look it up on a socket of its
 * own; gone is down, another family ID is a module loaded again, which
 * knows nothing of our subscription.  -1 only on a --ready-file error.
 */
static int check_module(struct monitor *m)
{
	struct gmc_nl *probe;
	const char *why;
	int family;

	if (!m->nl) {
		if (!may_look_up(m)) {
			/* Cheap: no back-off. */
			m->next_check_ns = now_ns() + RETRY_MIN_NS;
			return 0;
		}
		if (connect_events(m, true)) {
			policy_now(m);
			return module_back(m, NULL);
		}
		/* Another reason than before is news. */
		why = *gmc_nl_resolve_why() ? gmc_nl_resolve_why() : m->try_why;
		if (*why && strcmp(why, m->down_why))
			module_down(m, false);
		if (m->retry_ns < RETRY_MAX_NS / 2)
			m->retry_ns *= 2;
		else
			m->retry_ns = RETRY_MAX_NS;
		m->next_check_ns = now_ns() + m->retry_ns;
		return 0;
	}
	m->next_check_ns = now_ns() + HEALTH_INTERVAL_NS;
	if (!may_look_up(m)) {
		module_down(m, true);
		return 0;
	}
	/* Unloaded since (or unloading): the family is not found, not loaded. */
	probe = gmc_nl_open(VERB);
	if (!probe) {
		if (gmc_nl_module_missing())
			module_down(m, false);
		return 0;
	}
	family = gmc_nl_family(probe);
	gmc_nl_close(probe);
	if (family == m->family)
		return 0;
	gmc_nl_close(m->nl);
	m->nl = NULL;
	if (!connect_events(m, true)) {
		module_down(m, false);
		return 0;
	}
	policy_now(m);
	return module_back(m, "loaded again");
}

/* Until the signal, the deadline (0: none) or --count; -1 on errors. */
static int listen_loop(int sfd, struct monitor *m, uint64_t deadline)
{
	/* Descriptors that are -1 (no --prom-file...) are not polled. */
	struct pollfd pfd[] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
		{ .fd = m->timer, .events = POLLIN },
		{ .fd = m->policy ? policy_watch_fd(m->policy) : -1,
		  .events = POLLIN },
	};

	for (;;) {
		uint64_t now = now_ns(), until = m->next_check_ns, ms;
		int timeout, err;

		if (m->count && m->events == m->count)
			return 0;
		if (deadline && now >= deadline)
			return 0;
		if (now >= m->next_check_ns) {
			if (check_module(m))
				return -1;
			continue;
		}
		if (deadline && deadline < until)
			until = deadline;
		ms = (until - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
		timeout = ms > INT_MAX ? INT_MAX : (int)ms;
		pfd[1].fd = m->nl ? gmc_nl_fd(m->nl) : -1;
		if (m->prom)
			prom_arm(m);
		if (poll(pfd, ARRAY_SIZE(pfd), timeout) < 0) {
			if (errno == EINTR)
				continue;
			gmc_err(VERB, "cannot wait for events: %s",
				strerror(errno));
			return -1;
		}
		if (pfd[0].revents && take_signals(m, sfd))
			return 0;
		if (m->prom && pfd[2].revents) {
			uint64_t expirations;

			/* Only to clear it: the refresh time is ours to say. */
			if (read(m->timer, &expirations, sizeof(expirations)) > 0)
				prom_refresh_now(m);
		}
		if (pfd[3].revents)
			policy_watch_event(m->policy);
		if (!m->nl || !pfd[1].revents)
			continue;
		err = gmc_nl_listen(m->nl, GOMEMGUARD_CMD_EVENT, on_event, m);
		if (err == -ENOBUFS)
			err = resync(m);
		report_drops(m);
		if (err)
			return -1;
	}
}

/*
 * Commands already started or queued were for events that happened: let
 * them run before exiting.  A SIGINT or SIGTERM now stops the wait.
 */
static void drain(struct monitor *m, int sfd)
{
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	struct exec_stats st;

	if (!m->exec)
		return;
	exec_reap(m->exec);
	while (exec_busy(m->exec)) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		if (take_signals(m, sfd))
			break;
	}
	exec_get_stats(m->exec, &st);
	if (st.running || st.queued)
		say(m, LOG_WARNING, "--exec: exiting with %u commands still running; %u waiting events not run",
		    st.running, st.queued);
}

static int bad_value(const char *opt, const char *arg, const char *why)
{
	gmc_err(VERB, "invalid %s \"%s\": %s", opt, arg, why);
	return GMC_EXIT_USAGE;
}

/* A count for opt between min and max. */
static int parse_count(const char *opt, const char *arg, uint64_t min,
		       uint64_t max, uint64_t *out)
{
	char why[64];
	const char *w;

	if (units_parse_u64(arg, out, &w))
		return bad_value(opt, arg, w);
	if (*out < min || *out > max) {
		if (max == UINT64_MAX)
			snprintf(why, sizeof(why), "must be at least %" PRIu64,
				 min);
		else
			snprintf(why, sizeof(why), "must be %" PRIu64 " to %" PRIu64,
				 min, max);
		return bad_value(opt, arg, why);
	}
	return -1;
}

/* Options that tune another one need it. */
static int check_combinations(const struct options *o)
{
	const char *lone = NULL, *needs = NULL;

	if (!o->exec && (o->exec_max_given || o->exec_queue_given)) {
		lone = o->exec_max_given ? "--exec-max" : "--exec-queue";
		needs = "--exec";
	} else if (!o->prom_file && o->prom_interval_given) {
		lone = "--prom-interval";
		needs = "--prom-file";
	} else if (!o->policy_dir && o->policy_state) {
		lone = "--policy-state";
		needs = "--policy-dir";
	}
	if (!lone)
		return -1;
	gmc_err(VERB, "%s needs %s", lone, needs);
	return GMC_EXIT_USAGE;
}

/* Returns -1 to go on, or the exit code (after --help, or a usage error). */
static int parse_args(int argc, char *argv[], struct monitor *m,
		      struct options *o)
{
	enum {
		OPT_COUNT = 256, OPT_TIMEOUT, OPT_READY_FILE, OPT_SYSLOG,
		OPT_EXEC, OPT_EXEC_MAX, OPT_EXEC_QUEUE, OPT_PROM_FILE,
		OPT_PROM_INTERVAL, OPT_POLICY_DIR, OPT_POLICY_STATE,
	};
	static const struct option opts[] = {
		{ "json",	   no_argument,	      NULL, 'j' },
		{ "pretty",	   no_argument,	      NULL, 'p' },
		{ "quiet",	   no_argument,	      NULL, 'q' },
		{ "count",	   required_argument, NULL, OPT_COUNT },
		{ "timeout",	   required_argument, NULL, OPT_TIMEOUT },
		{ "ready-file",	   required_argument, NULL, OPT_READY_FILE },
		{ "syslog",	   no_argument,	      NULL, OPT_SYSLOG },
		{ "exec",	   required_argument, NULL, OPT_EXEC },
		{ "exec-max",	   required_argument, NULL, OPT_EXEC_MAX },
		{ "exec-queue",	   required_argument, NULL, OPT_EXEC_QUEUE },
		{ "prom-file",	   required_argument, NULL, OPT_PROM_FILE },
		{ "prom-interval", required_argument, NULL, OPT_PROM_INTERVAL },
		{ "policy-dir",	   required_argument, NULL, OPT_POLICY_DIR },
		{ "policy-state",  required_argument, NULL, OPT_POLICY_STATE },
		{ "help",	   no_argument,	      NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+:jpqh", opts, NULL)) != -1) {
		ret = -1;
		switch (c) {
		case 'j':
			out_set_mode(OUT_JSON);
			break;
		case 'p':
			out_set_mode(OUT_JSON_PRETTY);
			break;
		case 'q':
			m->quiet = true;
			break;
		case OPT_COUNT:
			ret = parse_count("--count", optarg, 1, UINT64_MAX,
					  &m->count);
			break;
		case OPT_TIMEOUT:
			if (units_parse_duration(optarg, &o->timeout_ns, &why))
				return bad_value("--timeout", optarg, why);
			if (!o->timeout_ns)
				return bad_value("--timeout", optarg,
						 "must be longer than 0");
			break;
		case OPT_READY_FILE:
			o->ready_file = optarg;
			break;
		case OPT_SYSLOG:
			m->syslog = true;
			break;
		case OPT_EXEC:
			if (!*optarg)
				return bad_value("--exec", optarg,
						 "an empty command");
			o->exec = optarg;
			break;
		case OPT_EXEC_MAX:
			o->exec_max_given = true;
			ret = parse_count("--exec-max", optarg, 1,
					  EXEC_MAX_LIMIT, &o->exec_max);
			break;
		case OPT_EXEC_QUEUE:
			o->exec_queue_given = true;
			ret = parse_count("--exec-queue", optarg, 0,
					  EXEC_QUEUE_LIMIT, &o->exec_queue);
			break;
		case OPT_PROM_FILE:
			if (!*optarg)
				return bad_value("--prom-file", optarg,
						 "an empty path");
			o->prom_file = optarg;
			break;
		case OPT_PROM_INTERVAL:
			o->prom_interval_given = true;
			if (units_parse_duration(optarg, &o->prom_interval_ns,
						 &why))
				return bad_value("--prom-interval", optarg, why);
			if (o->prom_interval_ns < PROM_INTERVAL_MIN)
				return bad_value("--prom-interval", optarg,
						 "must be at least 1s");
			break;
		case OPT_POLICY_DIR:
			if (!*optarg)
				return bad_value("--policy-dir", optarg,
						 "an empty path");
			o->policy_dir = optarg;
			break;
		case OPT_POLICY_STATE:
			if (!*optarg)
				return bad_value("--policy-state", optarg,
						 "an empty path");
			o->policy_state = optarg;
			break;
		case 'h':
			usage(stdout);
			return GMC_EXIT_OK;
		default:
			gmc_bad_option(VERB, c, argv);
			return GMC_EXIT_USAGE;
		}
		if (ret >= 0)
			return ret;
	}
	if (optind < argc) {
		gmc_err(VERB, "unexpected argument \"%s\"", argv[optind]);
		return GMC_EXIT_USAGE;
	}
	return check_combinations(o);
}

/* Everything but the event socket, which comes after: -1 (reported) or 0. */
static int setup_outputs(struct monitor *m, const struct options *o)
{
	if (m->syslog)
		openlog("gomemctl", LOG_PID, LOG_DAEMON);
	if (o->exec) {
		m->exec = exec_new(o->exec, (unsigned int)o->exec_max,
				   (unsigned int)o->exec_queue, exec_log, m);
		if (!m->exec)
			return -1;
	}
	if (!o->prom_file)
		return 0;
	m->prom_interval_ns = o->prom_interval_ns;
	m->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (m->timer < 0) {
		gmc_err(VERB, "cannot set up --prom-file refreshes: %s",
			strerror(errno));
		return -1;
	}
	m->prom = prom_new(VERB, o->prom_file, prom_log, m);
	return m->prom ? 0 : -1;
}

int monitor_main(int argc, char *argv[])
{
	struct options o = {
		.exec_max = EXEC_MAX_DEFAULT,
		.exec_queue = EXEC_QUEUE_DEFAULT,
		.prom_interval_ns = PROM_INTERVAL_DEFAULT,
	};
	struct monitor m = { .timer = -1 };
	uint64_t deadline = 0;
	sigset_t mask;
	int sfd, ret;

	ret = parse_args(argc, argv, &m, &o);
	if (ret >= 0)
		return ret;

	/*
	 * Signals become readable on a descriptor, polled with the socket: no
	 * race between checking a flag and going to sleep, and libnl, which
	 * retries interrupted reads, never sees them.  The mask stays until
	 * gomemctl exits; commands get an empty one (exec.c).
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (o.exec)
		sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		gmc_err(VERB, "cannot watch for signals: %s", strerror(errno));
		return GMC_EXIT_ERROR;
	}

	ret = GMC_EXIT_ERROR;
	if (setup_outputs(&m, &o))
		goto out;
	/*
	 * A service (--prom-file) waits for a module that is not there yet,
	 * and says why once; at a terminal, that is an error at once.  Either
	 * way, once running, monitor outlives the module's unloads.
	 */
	gmc_nl_quiet_resolve(m.prom);
	if (!connect_events(&m, m.prom)) {
		if (!m.prom)
			goto out;
		module_down(&m, false);
	}
	gmc_nl_quiet_resolve(true);
	/*
	 * The rules, applied before the textfile and --ready-file say we are
	 * up; with problems in them, monitor does not start (exit 2).
	 */
	if (o.policy_dir) {
		ret = policy_watch_new(VERB, o.policy_dir,
				       o.policy_state ? o.policy_state :
							POLICY_STATE,
				       &m.policy);
		if (ret)
			goto out;
		ret = GMC_EXIT_ERROR;
	}
	/*
	 * At once, whatever the module: a file that cannot be written is a
	 * mistake to hear of now, and one from before a reboot must not stay.
	 */
	if (m.prom && prom_refresh_now(&m))
		goto out;
	m.ready_file = o.ready_file;
	if (m.nl && module_back(&m, NULL))
		goto out;
	if (o.timeout_ns)
		deadline = now_ns() + o.timeout_ns;
	if (!listen_loop(sfd, &m, deadline))
		ret = GMC_EXIT_OK;
	drain(&m, sfd);
	/* What the last events and commands changed. */
	if (m.prom && prom_refresh_now(&m))
		ret = GMC_EXIT_ERROR;
out:
	policy_watch_free(m.policy);
	gmc_nl_close(m.nl);
	exec_free(m.exec);
	prom_free(m.prom);
	if (m.timer >= 0)
		close(m.timer);
	if (m.syslog)
		closelog();
	close(sfd);
	return ret;
}
