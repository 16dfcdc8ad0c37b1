// SPDX-License-Identifier: GPL-2.0
/* The side-by-side detectors; see detect.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "detect.h"
#include "wl.h"

#define LINE_MAX_LEN	(256 * 1024)
#define READY_WAIT_NS	(20 * NSEC_PER_SEC)

enum { EV_HIGH, EV_MAX, EV_OOM, EV_OOM_KILL, EV_N };
static const char *const ev_keys[EV_N] = { "high", "max", "oom", "oom_kill" };

struct detect {
	struct detect_opts o;
	pid_t mon_pid;
	int mon_fd, psi_fd, ev_fd, cgev_fd, cur_fd, timer_fd, stop_fd;
	char *line;			/* the monitor's partial line */
	size_t line_len;
	uint64_t ev[EV_N];
	bool poll_armed, populated, emptied, high_seen;
	uint64_t empty_at, high_end, ev_printed;
	_Atomic uint64_t poll_high, poll_low;	/* detect_set_poll() may move them */
};

uint64_t detect_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, flags | O_CLOEXEC);
}

/* The whole of a small pseudo-file, re-read from the start. */
static ssize_t reread(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		wl_die("reading a cgroup file: %s", strerror(errno));
	buf[n] = '\0';
	return n;
}

static uint64_t key_value(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static void read_events(struct detect *d, bool report)
{
	uint64_t v[EV_N], t;
	char buf[512];
	bool changed;
	int i;

	reread(d->ev_fd, buf, sizeof(buf));
	t = detect_now();
	for (i = 0; i < EV_N; i++)
		v[i] = key_value(buf, ev_keys[i]);
	/*
	 * "max" counts every charge that hit the limit: plain cache churn.
	 * Above memory.high, "high" rises with every throttled return to
	 * user space: its first rise is the news, later ones once a second.
	 */
	changed = v[EV_OOM] != d->ev[EV_OOM] || v[EV_OOM_KILL] != d->ev[EV_OOM_KILL] ||
		  (v[EV_HIGH] != d->ev[EV_HIGH] &&
		   (!d->ev_printed || t - d->ev_printed >= NSEC_PER_SEC));
	if (!changed && report)
		return;
	memcpy(d->ev, v, sizeof(v));
	if (!report)
		return;
	d->ev_printed = t;
	if (v[EV_HIGH] && d->o.high_grace_ns && !d->high_seen) {
		d->high_seen = true;
		d->high_end = t + d->o.high_grace_ns;
	}
	printf("events t=%" PRIu64 " high=%" PRIu64 " max=%" PRIu64 " oom=%" PRIu64
	       " oom_kill=%" PRIu64 "\n", t, v[EV_HIGH], v[EV_MAX], v[EV_OOM],
	       v[EV_OOM_KILL]);
}

static void read_cgroup_events(struct detect *d)
{
	char buf[256];

	reread(d->cgev_fd, buf, sizeof(buf));
	if (key_value(buf, "populated")) {
		d->populated = true;
	} else if (d->populated && !d->emptied) {
		d->emptied = true;
		d->empty_at = detect_now();
		printf("empty t=%" PRIu64 "\n", d->empty_at);
	}
}

static void poll_current(struct detect *d)
{
	uint64_t v, t;
	char buf[64];

	reread(d->cur_fd, buf, sizeof(buf));
	t = detect_now();
	v = strtoull(buf, NULL, 10);
	if (d->poll_armed && v >= atomic_load(&d->poll_high)) {
		d->poll_armed = false;
		printf("poll t=%" PRIu64 " current=%" PRIu64 "\n", t, v);
	} else if (!d->poll_armed && v < atomic_load(&d->poll_low)) {
		d->poll_armed = true;
	}
}

/* Print every whole line the monitor has written; false at EOF. */
static bool read_monitor(struct detect *d)
{
	char buf[65536], *nl, *p;
	ssize_t n;
	uint64_t t;
	size_t k;

	n = read(d->mon_fd, buf, sizeof(buf));
	t = detect_now();
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	for (p = buf; p < buf + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + n - p));
		k = (size_t)((nl ? nl : buf + n) - p);
		if (d->line_len + k >= LINE_MAX_LEN)
			wl_die("a monitor line longer than %d bytes", LINE_MAX_LEN);
		memcpy(d->line + d->line_len, p, k);
		d->line_len += k;
		if (!nl)
			break;
		d->line[d->line_len] = '\0';
		printf("gmg t=%" PRIu64 " %s\n", t, d->line);
		d->line_len = 0;
	}
	return true;
}

/*
 * The watchers run at nice -10, as dist/gomemctl-monitor.service runs the
 * monitor: a watcher at nice 0 queues behind the very process it watches,
 * which keeps its CPU busy.  The reader of the monitor's lines stands in
 * for what consumes them (syslog, --exec), and shares its thread with the
 * poller and the PSI trigger: they all get the same priority.  Applies to
 * the calling thread.
 */
static void raise_priority(void)
{
	if (setpriority(PRIO_PROCESS, 0, -10))
		wl_die("setpriority: %s", strerror(errno));
}

/* In a child about to exec: move into @cgroup (NULL: stay). */
static int join(const char *cgroup)
{
	int fd;

	if (!cgroup)
		return 0;
	fd = open_in(cgroup, "cgroup.procs", O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		return -1;
	close(fd);
	return 0;
}

static void start_monitor(struct detect *d)
{
	char ready[64], *argv[6];
	uint64_t deadline;
	int fds[2];

	snprintf(ready, sizeof(ready), "/tmp/bench-monitor.%d", (int)getpid());
	unlink(ready);
	if (pipe2(fds, O_CLOEXEC))
		wl_die("pipe: %s", strerror(errno));
	d->mon_pid = fork();
	if (d->mon_pid < 0)
		wl_die("fork: %s", strerror(errno));
	if (!d->mon_pid) {
		argv[0] = (char *)d->o.gomemctl;
		argv[1] = "monitor";
		argv[2] = "-j";
		argv[3] = "--ready-file";
		argv[4] = ready;
		argv[5] = NULL;
		raise_priority();
		if (join(d->o.tool_cgroup) || dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	d->mon_fd = fds[0];
	d->line = malloc(LINE_MAX_LEN);
	if (!d->line)
		wl_die("out of memory");
	deadline = detect_now() + READY_WAIT_NS;
	while (access(ready, F_OK)) {
		if (detect_now() > deadline || waitpid(d->mon_pid, NULL, WNOHANG))
			wl_die("gomemctl monitor did not start");
		usleep(10000);
	}
	unlink(ready);
}

struct detect *detect_start(const struct detect_opts *o)
{
	struct detect *d = calloc(1, sizeof(*d));
	struct itimerspec its = { 0 };
	char buf[64];

	if (!d)
		wl_die("out of memory");
	d->o = *o;
	d->mon_fd = d->psi_fd = d->ev_fd = d->cgev_fd = d->cur_fd = d->timer_fd = -1;
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->stop_fd < 0)
		wl_die("eventfd: %s", strerror(errno));
	if (o->psi) {
		d->psi_fd = open_in(o->cgroup, "memory.pressure", O_RDWR | O_NONBLOCK);
		/* The trigger lives as long as this descriptor. */
		if (d->psi_fd < 0 || write(d->psi_fd, o->psi, strlen(o->psi) + 1) < 0) {
			printf("psi unavailable error=%s\n", strerror(errno));
			if (d->psi_fd >= 0)
				close(d->psi_fd);
			d->psi_fd = -1;
		}
	}
	if (o->events) {
		d->ev_fd = open_in(o->cgroup, "memory.events", O_RDONLY);
		if (d->ev_fd < 0)
			wl_die("%s/memory.events: %s", o->cgroup, strerror(errno));
		read_events(d, false);
	}
	if (o->until_empty) {
		d->cgev_fd = open_in(o->cgroup, "cgroup.events", O_RDONLY);
		if (d->cgev_fd < 0)
			wl_die("%s/cgroup.events: %s", o->cgroup, strerror(errno));
		read_cgroup_events(d);
	}
	if (o->poll_ns) {
		d->cur_fd = open_in(o->cgroup, "memory.current", O_RDONLY);
		if (d->cur_fd < 0)
			wl_die("%s/memory.current: %s", o->cgroup, strerror(errno));
		d->poll_high = o->poll_high;
		d->poll_low = o->poll_low;
		reread(d->cur_fd, buf, sizeof(buf));
		d->poll_armed = strtoull(buf, NULL, 10) < o->poll_low;
		d->timer_fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
		if (d->timer_fd < 0)
			wl_die("timerfd: %s", strerror(errno));
		its.it_value.tv_sec = its.it_interval.tv_sec = o->poll_ns / NSEC_PER_SEC;
		its.it_value.tv_nsec = its.it_interval.tv_nsec = o->poll_ns % NSEC_PER_SEC;
		if (timerfd_settime(d->timer_fd, 0, &its, NULL))
			wl_die("timerfd_settime: %s", strerror(errno));
	}
	if (o->gomemctl)
		start_monitor(d);
	return d;
}

void detect_set_poll(struct detect *d, uint64_t high, uint64_t low)
{
	/* The poller arms itself once it sees usage below the low mark. */
	atomic_store(&d->poll_low, low);
	atomic_store(&d->poll_high, high);
}

static int timeout_ms(const struct detect *d)
{
	uint64_t now = detect_now(), until = 0;

	if (d->o.end_ns)
		until = d->o.end_ns;
	if (d->high_seen && (!until || d->high_end < until))
		until = d->high_end;
	if (d->emptied && (!until || d->empty_at + d->o.grace_ns < until))
		until = d->empty_at + d->o.grace_ns;
	if (!until)
		return -1;
	if (until <= now)
		return 0;
	return (int)((until - now) / 1000000 + 1);
}

void detect_loop(struct detect *d)
{
	enum { F_STOP, F_MON, F_PSI, F_EV, F_CGEV, F_TIMER, F_N };
	struct pollfd pfd[F_N];
	uint64_t ticks;
	int tmo;

	raise_priority();
	for (;;) {
		tmo = timeout_ms(d);
		if (!tmo)
			return;
		pfd[F_STOP] = (struct pollfd){ d->stop_fd, POLLIN, 0 };
		pfd[F_MON] = (struct pollfd){ d->mon_fd, POLLIN, 0 };
		pfd[F_PSI] = (struct pollfd){ d->psi_fd, POLLPRI, 0 };
		pfd[F_EV] = (struct pollfd){ d->ev_fd, POLLPRI, 0 };
		pfd[F_CGEV] = (struct pollfd){ d->cgev_fd, POLLPRI, 0 };
		pfd[F_TIMER] = (struct pollfd){ d->timer_fd, POLLIN, 0 };
		if (poll(pfd, F_N, tmo) < 0) {
			if (errno == EINTR)
				continue;
			wl_die("poll: %s", strerror(errno));
		}
		if (pfd[F_STOP].revents)
			return;
		if (pfd[F_MON].revents && !read_monitor(d)) {
			close(d->mon_fd);
			d->mon_fd = -1;
			printf("monitor gone t=%" PRIu64 "\n", detect_now());
		}
		if (pfd[F_PSI].revents & POLLPRI)
			printf("psi t=%" PRIu64 "\n", detect_now());
		else if (pfd[F_PSI].revents & (POLLERR | POLLNVAL))
			wl_die("the PSI trigger failed");
		if (pfd[F_EV].revents)
			read_events(d, true);
		if (pfd[F_CGEV].revents)
			read_cgroup_events(d);
		if (pfd[F_TIMER].revents &&
		    read(d->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
			poll_current(d);
	}
}

void detect_stop(struct detect *d)
{
	uint64_t one = 1;

	if (write(d->stop_fd, &one, sizeof(one)) != sizeof(one))
		wl_die("eventfd write: %s", strerror(errno));
}

void detect_finish(struct detect *d)
{
	int fds[] = { d->psi_fd, d->ev_fd, d->cgev_fd, d->cur_fd, d->timer_fd, d->stop_fd };
	unsigned int i;

	if (d->mon_pid > 0) {
		kill(d->mon_pid, SIGTERM);
		if (d->mon_fd >= 0) {
			fcntl(d->mon_fd, F_SETFL, 0);
			while (read_monitor(d))
				;
			close(d->mon_fd);
		}
		waitpid(d->mon_pid, NULL, 0);
	}
	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(d->line);
	free(d);
}

int detect_run(char *const argv[], const char *cgroup, char *out, size_t len)
{
	int fds[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		wl_die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		wl_die("fork: %s", strerror(errno));
	if (!pid) {
		if (join(cgroup))
			_exit(126);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + used, len - 1 - used)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			wl_die("read: %s", strerror(errno));
		used += (size_t)n;
		if (used == len - 1) {
			/* Drain the rest: the child must not block on a full pipe. */
			char sink[4096];

			while (read(fds[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[used] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			wl_die("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
