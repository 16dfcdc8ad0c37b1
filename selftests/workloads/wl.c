// SPDX-License-Identifier: GPL-2.0
/* What the C workloads share; see wl.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "wl.h"

_Atomic long long wl_bytes;

static const char *prog = "workload";
static void (*usage_fn)(void);

void wl_init(const char *name, void (*usage)(void))
{
	prog = name;
	usage_fn = usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
}

const char *wl_prog(void)
{
	return prog;
}

void wl_usage(void)
{
	usage_fn();
	exit(2);
}

void wl_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void wl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	wl_usage();
}

static _Noreturn void bad_arg(const char *what, const char *opt, const char *arg)
{
	wl_usage_error("bad %s for -%s: '%s'", what, opt, arg);
}

int wl_parse_size(const char *s, uint64_t *bytes)
{
	static const char units[] = "kmgt";
	uint64_t v = 0;
	unsigned int shift = 0;
	const char *p = s, *u;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
	if (u) {
		shift = 10 * (unsigned int)(u - units + 1);
		p++;
		if (!strcasecmp(p, "ib"))
			p += 2;
	}
	if (!strcasecmp(p, "b"))
		p++;
	if (*p || v > (uint64_t)LLONG_MAX >> shift)
		return -1;
	*bytes = v << shift;
	return 0;
}

int wl_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *name;
		double ns;
	} units[] = {
		{ "", 1e9 }, { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	char *end;
	double v;
	size_t i;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcmp(end, units[i].name)) {
			v *= units[i].ns;
			if (!(v < 1e18))
				return -1;
			*ns = (uint64_t)llround(v);
			return 0;
		}
	}
	return -1;
}

uint64_t wl_size_arg(const char *opt, const char *arg)
{
	uint64_t v;

	if (wl_parse_size(arg, &v))
		bad_arg("size", opt, arg);
	return v;
}

uint64_t wl_duration_arg(const char *opt, const char *arg)
{
	uint64_t v;

	if (wl_parse_duration(arg, &v))
		bad_arg("duration", opt, arg);
	return v;
}

unsigned int wl_uint_arg(const char *opt, const char *arg)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end || errno || v > UINT_MAX)
		bad_arg("number", opt, arg);
	return (unsigned int)v;
}

void wl_no_args(int argc, char **argv)
{
	if (optind < argc)
		wl_usage_error("unexpected argument '%s'", argv[optind]);
}

uint64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void wl_sleep_until(uint64_t when)
{
	struct timespec ts = {
		.tv_sec = (time_t)(when / NSEC_PER_SEC),
		.tv_nsec = (long)(when % NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const char *sig_path;
static bool sig_with_pid;

/* Async-signal-safe formatting: no stdio in the handler. */
static size_t put_str(char *buf, size_t n, const char *s)
{
	while (*s)
		buf[n++] = *s++;
	return n;
}

static size_t put_u64(char *buf, size_t n, unsigned long long v)
{
	char tmp[24];
	size_t i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		buf[n++] = tmp[--i];
	return n;
}

static bool put_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

static void on_sigusr1(int sig)
{
	int saved_errno = errno;
	long long bytes = atomic_load_explicit(&wl_bytes, memory_order_relaxed);
	struct timespec ts;
	char line[128];
	size_t n = 0;
	int fd;

	(void)sig;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = put_str(line, n, "SIGUSR1 ");
	n = put_u64(line, n, (unsigned long long)ts.tv_sec * NSEC_PER_SEC +
			     (unsigned long long)ts.tv_nsec);
	n = put_str(line, n, " ");
	n = put_u64(line, n, bytes > 0 ? (unsigned long long)bytes : 0);
	if (sig_with_pid) {
		n = put_str(line, n, " pid=");
		n = put_u64(line, n, (unsigned long long)getpid());
	}
	line[n++] = '\n';
	if (sig_path) {
		fd = open(sig_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (put_all(fd, line, n))
				fsync(fd);
			close(fd);
		}
	}
	put_all(STDOUT_FILENO, line, n);
	errno = saved_errno;
}

void wl_sigusr1_init(const char *sigfile, bool with_pid)
{
	struct sigaction sa = { .sa_handler = on_sigusr1, .sa_flags = SA_RESTART };

	sig_path = sigfile;
	sig_with_pid = with_pid;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_die("sigaction: %s", strerror(errno));
}

void wl_ready(const char *readyfile)
{
	char tmp[PATH_MAX];
	FILE *f;
	int pid = getpid();

	if (readyfile) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", readyfile, pid) >= (int)sizeof(tmp))
			wl_die("readyfile: path too long");
		f = fopen(tmp, "w");
		if (!f)
			wl_die("readyfile: %s: %s", tmp, strerror(errno));
		if (fprintf(f, "%d\n", pid) < 0 || fflush(f) || fsync(fileno(f)) ||
		    fclose(f) || rename(tmp, readyfile)) {
			unlink(tmp);
			wl_die("readyfile: %s: %s", readyfile, strerror(errno));
		}
	}
	printf("ready pid=%d\n", pid);
}

size_t wl_page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

void *wl_map(size_t size, bool nohuge)
{
	void *p;

	if (!size)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap %zu bytes: %s", size, strerror(errno));
	/*
	 * EINVAL: a kernel without transparent huge pages (Debian's
	 * rt-amd64: PREEMPT_RT builds none), whose pages are small anyway.
	 */
	if (nohuge && madvise(p, size, MADV_NOHUGEPAGE) && errno != EINVAL)
		wl_die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	return p;
}

void wl_touch(void *p, size_t size)
{
	volatile char *c = p;
	size_t page = wl_page_size(), off;

	for (off = 0; off < size; off += page)
		c[off] = 1;
	if (size)
		c[size - 1] = 1;
}
