// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for what operators type and read: units.c (sizes, durations,
 * plain integers, rates, spans of time in prose, hundredths), signals.c
 * (signal names) and levels.c (warn-level lists); good input, overflow, bad
 * input, and formatting for people.  KTAP on stdout; the exit status is
 * non-zero when any test fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../cgname.h"
#include "../levels.h"
#include "../signals.h"
#include "../units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

#define NS_S	1000000000ULL
#define KIB	1024ULL
#define MIB	(1024 * KIB)
#define GIB	(1024 * MIB)

struct parse_case {
	const char *in;
	int err;		/* 0, -EINVAL or -ERANGE */
	uint64_t want;		/* when err == 0 */
	const char *why;	/* when err != 0: part of the explanation */
};

static const struct parse_case u64_cases[] = {
	{ "0", 0, 0, NULL },
	{ "4096", 0, 4096, NULL },
	{ "007", 0, 7, NULL },
	{ "18446744073709551615", 0, UINT64_MAX, NULL },
	{ "18446744073709551616", -ERANGE, 0, "too large" },
	{ "", -EINVAL, 0, "empty" },
	{ "-1", -EINVAL, 0, "negative" },
	{ "+1", -EINVAL, 0, "not a number" },
	{ "1.5", -EINVAL, 0, "whole" },
	{ "10k", -EINVAL, 0, "whole" },
	{ " 1", -EINVAL, 0, "not a number" },
};

static const struct parse_case u32_cases[] = {
	{ "0", 0, 0, NULL },
	{ "4711", 0, 4711, NULL },
	{ "4294967295", 0, UINT32_MAX, NULL },
	{ "4294967296", -ERANGE, 0, "larger than 4294967295" },
	{ "abc", -EINVAL, 0, "not a number" },
	{ "-1", -EINVAL, 0, "negative" },
	{ "", -EINVAL, 0, "empty" },
};

/* Durations as the module's *_MS attributes take them. */
static const struct parse_case ms_cases[] = {
	{ "0", 0, 0, NULL },
	{ "250ms", 0, 250, NULL },
	{ "30s", 0, 30000, NULL },
	{ "1.5s", 0, 1500, NULL },
	{ "2m", 0, 120000, NULL },
	{ "49d17h2m47s295ms", 0, UINT32_MAX, NULL },
	{ "49d17h2m47s296ms", -ERANGE, 0, "longer than 4294967295ms" },
	{ "1.5ms", -EINVAL, 0, "whole number of milliseconds" },
	{ "1us", -EINVAL, 0, "whole number of milliseconds" },
	{ "30", -EINVAL, 0, "missing unit" },
	{ "x", -EINVAL, 0, "not a number" },
};

/* Names whose numbers are the same everywhere; RTMIN/RTMAX below. */
static const struct parse_case signal_cases[] = {
	{ "USR1", 0, SIGUSR1, NULL },
	{ "SIGUSR1", 0, SIGUSR1, NULL },
	{ "sigusr1", 0, SIGUSR1, NULL },
	{ "usr2", 0, SIGUSR2, NULL },
	{ "TERM", 0, SIGTERM, NULL },
	{ "SIGKILL", 0, SIGKILL, NULL },
	{ "HUP", 0, SIGHUP, NULL },
	{ "IOT", 0, SIGABRT, NULL },
	{ "CLD", 0, SIGCHLD, NULL },
	{ "SIGPOLL", 0, SIGIO, NULL },
	{ "WINCH", 0, SIGWINCH, NULL },
	{ "10", 0, 10, NULL },
	{ "0", 0, 0, NULL },
	{ "99", 0, 99, NULL },			/* the module's to refuse */
	{ "4294967295", 0, UINT32_MAX, NULL },
	{ "4294967296", -ERANGE, 0, "larger than 4294967295" },
	{ "", -EINVAL, 0, "empty" },
	{ "FOO", -EINVAL, 0, "unknown signal name" },
	{ "SIG", -EINVAL, 0, "unknown signal name" },
	{ "SIGSIGUSR1", -EINVAL, 0, "unknown signal name" },
	{ " USR1", -EINVAL, 0, "unknown signal name" },
	{ "USR1 ", -EINVAL, 0, "unknown signal name" },
	{ "-9", -EINVAL, 0, "unknown signal name" },
	{ "9x", -EINVAL, 0, "number" },
	{ "RTMIN-1", -EINVAL, 0, "unknown signal name" },
	{ "RTMAX+1", -EINVAL, 0, "unknown signal name" },
	{ "RTMIN+", -EINVAL, 0, "RTMIN+N and RTMAX-N need a number" },
	{ "RTMIN+x", -EINVAL, 0, "RTMIN+N and RTMAX-N need a number" },
	{ "RTMIN+99", -ERANGE, 0, "beyond the real-time signals" },
	{ "RTMINUS", -EINVAL, 0, "unknown signal name" },
};

/*
 * The fuse: stop signals refused by any name; the numbers the same (the
 * ones numbered on this machine are checked in run_fuse()).
 */
static const struct parse_case fuse_cases[] = {
	{ "STOP", -EINVAL, 0, "a stop signal" },
	{ "SIGSTOP", -EINVAL, 0, "a stop signal" },
	{ "sigtstp", -EINVAL, 0, "a stop signal" },
	{ "TTIN", -EINVAL, 0, "a stop signal" },
	{ "SIGTTOU", -EINVAL, 0, "a stop signal" },
	{ "KILL", 0, SIGKILL, NULL },
	{ "CONT", 0, SIGCONT, NULL },
	{ "USR1", 0, SIGUSR1, NULL },
	{ "TERM", 0, SIGTERM, NULL },
	{ "FOO", -EINVAL, 0, "unknown signal name" },
	/* The module's policy range, 1..64, refused before asking it. */
	{ "64", 0, 64, NULL },
	{ "RTMAX", 0, 64, NULL },
	{ "65", -ERANGE, 0, "beyond the signals the kernel has (1 to 64" },
	{ "99", -ERANGE, 0, "beyond the signals the kernel has" },
	{ "4294967295", -ERANGE, 0, "beyond the signals the kernel has" },
};

static const struct parse_case size_cases[] = {
	{ "0", 0, 0, NULL },
	{ "4096", 0, 4096, NULL },
	{ "4096B", 0, 4096, NULL },
	{ "4096.0", 0, 4096, NULL },
	{ "1K", 0, KIB, NULL },
	{ "1k", 0, KIB, NULL },
	{ "1Ki", 0, KIB, NULL },
	{ "1KiB", 0, KIB, NULL },
	{ "1kib", 0, KIB, NULL },
	{ "1.5K", 0, 1536, NULL },
	{ "512M", 0, 512 * MIB, NULL },
	{ "64Mi", 0, 64 * MIB, NULL },
	/* Kubernetes' Mi and Gi mean the same; its M (10^6) is not ours. */
	{ "256Mi", 0, 268435456, NULL },
	{ "256M", 0, 268435456, NULL },
	{ "1Gi", 0, GIB, NULL },
	{ "244Mi", 0, 255852544, NULL },
	{ "2G", 0, 2 * GIB, NULL },
	{ "1.5GiB", 0, 1610612736, NULL },
	{ "0.1G", 0, 107374182, NULL },		/* 107374182.4, truncated */
	{ "1T", 0, 1ULL << 40, NULL },
	{ "1P", 0, 1ULL << 50, NULL },
	{ "1E", 0, 1ULL << 60, NULL },
	{ "15.999999999999999999E", 0, 18446744073709551614ULL, NULL },
	{ "18446744073709551615", 0, UINT64_MAX, NULL },
	{ "17179869183G", 0, 18446744072635809792ULL, NULL },
	{ "16E", -ERANGE, 0, "too large" },
	{ "17179869184G", -ERANGE, 0, "too large" },
	{ "18446744073709551616", -ERANGE, 0, "too large" },
	{ "99999999999999999999999K", -ERANGE, 0, "too large" },
	{ "", -EINVAL, 0, "empty" },
	{ "abc", -EINVAL, 0, "not a number" },
	{ "-1G", -EINVAL, 0, "negative" },
	{ "+1G", -EINVAL, 0, "not a number" },
	{ " 1G", -EINVAL, 0, "not a number" },
	{ "1G ", -EINVAL, 0, "unexpected" },
	{ "1.", -EINVAL, 0, "not a number" },
	{ ".5G", -EINVAL, 0, "not a number" },
	{ "1.5", -EINVAL, 0, "fraction of a byte" },
	{ "1.5B", -EINVAL, 0, "fraction of a byte" },
	{ "512MB", -EINVAL, 0, "ambiguous" },
	{ "1kb", -EINVAL, 0, "ambiguous" },
	{ "1X", -EINVAL, 0, "unknown unit" },
	{ "1KiBs", -EINVAL, 0, "unknown unit" },
	{ "0x10", -EINVAL, 0, "unexpected" },
	{ "1G2", -EINVAL, 0, "unexpected" },
	{ "1e3", -EINVAL, 0, "unexpected" },
	{ "1.2.3", -EINVAL, 0, "unexpected" },
};

static const struct parse_case duration_cases[] = {
	{ "0", 0, 0, NULL },
	{ "0.0", 0, 0, NULL },
	{ "1ns", 0, 1, NULL },
	{ "1us", 0, 1000, NULL },
	{ "0.5ms", 0, 500000, NULL },
	{ "250ms", 0, 250000000, NULL },
	{ "1s", 0, NS_S, NULL },
	{ "1.5s", 0, 1500000000, NULL },
	{ "30s", 0, 30 * NS_S, NULL },
	{ "2m", 0, 120 * NS_S, NULL },
	{ "1min", 0, 60 * NS_S, NULL },
	{ "1h", 0, 3600 * NS_S, NULL },
	{ "1d", 0, 86400 * NS_S, NULL },
	{ "1h30m", 0, 5400 * NS_S, NULL },
	{ "1m30.5s", 0, 90500000000ULL, NULL },
	{ "1S", 0, NS_S, NULL },
	{ "1MS", 0, 1000000, NULL },
	{ "1.0000000009s", 0, NS_S, NULL },	/* below 1ns: truncated */
	{ "18446744073709551615ns", 0, UINT64_MAX, NULL },
	{ "213503d23h34m33s709ms551us615ns", 0, UINT64_MAX, NULL },
	{ "213503d23h34m33s709ms551us616ns", -ERANGE, 0, "too large" },
	{ "213504d", -ERANGE, 0, "too large" },
	{ "18446744073709551616ns", -ERANGE, 0, "too large" },
	{ "", -EINVAL, 0, "empty" },
	{ "10", -EINVAL, 0, "missing unit" },
	{ "1s1", -EINVAL, 0, "missing unit" },
	{ "00s0", -EINVAL, 0, "missing unit" },
	{ "5x", -EINVAL, 0, "unknown unit" },
	{ "1sec", -EINVAL, 0, "unknown unit" },
	{ "s", -EINVAL, 0, "not a number" },
	{ "-1s", -EINVAL, 0, "negative" },
	{ "1s ", -EINVAL, 0, "unexpected" },
	{ "1s-1s", -EINVAL, 0, "unexpected" },
	{ "1..5s", -EINVAL, 0, "not a number" },
	{ "1.5ns", -EINVAL, 0, "fraction of a nanosecond" },
};

/* RTMIN and RTMAX are the C library's, known only at run time. */
struct rt_case {
	const char *in;
	bool from_max;		/* else from RTMIN */
	int offset;
};

static const struct rt_case rt_cases[] = {
	{ "RTMIN", false, 0 },
	{ "SIGRTMIN", false, 0 },
	{ "rtmin+3", false, 3 },
	{ "SIGRTMIN+3", false, 3 },
	{ "RTMAX", true, 0 },
	{ "SIGRTMAX-1", true, -1 },
};

struct levels_case {
	const char *in;
	int err;
	size_t n;
	uint32_t want[GOMEMGUARD_LEVELS_MAX];
	const char *why;
};

static const struct levels_case levels_cases[] = {
	{ "80,90,100", 0, 3, { 80, 90, 100 }, NULL },
	{ "95", 0, 1, { 95 }, NULL },
	{ "80%,90%,100%", 0, 3, { 80, 90, 100 }, NULL },
	{ "100,90", 0, 2, { 100, 90 }, NULL },		/* order: the module's */
	{ "0,1000,5000", 0, 3, { 0, 1000, 5000 }, NULL }, /* range: too */
	{ "1,2,3,4,5,6,7,8", 0, 8, { 1, 2, 3, 4, 5, 6, 7, 8 }, NULL },
	{ "4294967295", 0, 1, { UINT32_MAX }, NULL },
	{ "", -EINVAL, 0, { 0 }, "empty" },
	{ ",80", -EINVAL, 0, { 0 }, "empty level" },
	{ "80,", -EINVAL, 0, { 0 }, "empty level" },
	{ "80,,90", -EINVAL, 0, { 0 }, "empty level" },
	{ "1,2,3,4,5,6,7,8,9", -EINVAL, 0, { 0 }, "more than 8 levels" },
	{ "x", -EINVAL, 0, { 0 }, "not a number" },
	{ "80x", -EINVAL, 0, { 0 }, "not a number" },
	{ "80, 90", -EINVAL, 0, { 0 }, "not a number" },
	{ "%", -EINVAL, 0, { 0 }, "not a number" },
	{ "80%%", -EINVAL, 0, { 0 }, "not a number" },
	{ "1.5", -EINVAL, 0, { 0 }, "not a number" },
	{ "-5", -EINVAL, 0, { 0 }, "must not be negative" },
	{ "4294967296", -ERANGE, 0, { 0 }, "larger than 4294967295" },
};

struct format_case {
	uint64_t in;
	const char *want;
};

static const struct format_case bytes_cases[] = {
	{ 0, "0 B" },
	{ 1, "1 B" },
	{ 1023, "1023 B" },
	{ 1024, "1 KiB" },
	{ 1536, "1.5 KiB" },
	{ 10239, "10 KiB" },		/* 9.999 rounds up to two digits */
	{ 102359, "100 KiB" },		/* 99.96 rounds up to three */
	{ 1000 * KIB, "1000 KiB" },
	{ 1048575, "1 MiB" },		/* 1023.999 KiB is not "1024 KiB" */
	{ 12345678, "11.8 MiB" },
	{ 123456789, "118 MiB" },
	{ 310 * MIB, "310 MiB" },
	{ 1739461754, "1.62 GiB" },
	{ 1ULL << 60, "1 EiB" },
	{ UINT64_MAX, "16 EiB" },
};

static const struct format_case duration_fmt_cases[] = {
	{ 0, "0s" },
	{ 1, "1ns" },
	{ 1000, "1us" },
	{ 250000000, "250ms" },
	{ NS_S, "1s" },
	{ 1500000000, "1s500ms" },
	{ 90 * NS_S, "1m30s" },
	{ 3600 * NS_S, "1h" },
	{ 93600 * NS_S, "1d2h" },
	{ UINT64_MAX, "213503d23h34m33s709ms551us615ns" },
};

struct rate_case {
	int64_t in;
	const char *want;
};

static const struct rate_case rate_cases[] = {
	{ 0, "-" },
	{ 1023, "-" },
	{ -1023, "-" },
	{ 1024, "+1 KiB/s" },
	{ -1536, "-1.5 KiB/s" },
	{ 10276044, "+9.8 MiB/s" },
	{ INT64_MAX, "+8 EiB/s" },
	{ INT64_MIN, "-8 EiB/s" },
};

static const struct format_case signal_fmt_cases[] = {
	{ SIGUSR1, "SIGUSR1" },
	{ SIGABRT, "SIGABRT" },		/* not SIGIOT: the first name */
	{ SIGCHLD, "SIGCHLD" },
	{ 99, "99" },
};

/* Milliseconds as a sentence says them: two units at most, rounded down. */
static const struct format_case elapsed_cases[] = {
	{ 0, "0 ms" },
	{ 350, "350 ms" },
	{ 999, "999 ms" },
	{ 1000, "1 s" },
	{ 28500, "28 s" },
	{ 59999, "59 s" },
	{ 60000, "1 min" },
	{ 90000, "1 min 30 s" },
	{ 28 * 60000 + 30999, "28 min 30 s" },
	{ 6 * 3600000ULL, "6 h" },
	{ 6 * 3600000ULL + 59999, "6 h" },
	{ 6 * 3600000ULL + 60000, "6 h 1 min" },
	{ 3 * 86400000ULL + 4 * 3600000ULL + 5000, "3 d 4 h" },
	{ UINT64_MAX, "213503982334 d 14 h" },
};

static const struct format_case hundredths_cases[] = {
	{ 0, "0.00" },
	{ 5, "0.05" },
	{ 1234, "12.34" },
	{ 10000, "100.00" },
	{ UINT64_MAX, "184467440737095516.15" },
};

/* Values that must survive format then parse unchanged. */
static const uint64_t roundtrip_cases[] = {
	0, 1, 999, 1000, 1001, 250000000, 1500000000, 61 * NS_S,
	86399 * NS_S, 86400 * NS_S + 1, UINT64_MAX,
};

#define N_TRUNCATION_TESTS 2
#define N_FUSE_NUMBER_TESTS 4
#define N_RT_FORMAT_TESTS 4
#define N_LEVELS_FORMAT_TESTS 3
/* Memory cgroup paths as systemd and the kubelet lay them out. */
static const struct {
	const char *path;
	const char *unit, *pod_uid, *container_id;
} cgname_cases[] = {
	{ "/system.slice/payments.service", "payments.service", "", "" },
	{ "/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", "" },
	{ "/app.slice", "app.slice", "", "" },
	{ "/", "", "", "" },
	{ "/batch/worker", "", "", "" },
	/* cgroupfs driver: burstable, and guaranteed (no QoS level). */
	{ "/kubepods/burstable/pod5d3c4a5e-9b0a-4e0c-8e3a-2c9f6f1b7d21/"
	  "8f1e0c7b2a9d4e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
	  "", "5d3c4a5e-9b0a-4e0c-8e3a-2c9f6f1b7d21",
	  "8f1e0c7b2a9d4e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f" },
	{ "/kubepods/pod0a1b2c3d-0000-4000-8000-000000000001/abc123",
	  "", "0a1b2c3d-0000-4000-8000-000000000001", "abc123" },
	{ "/kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-000000000002",
	  "", "0a1b2c3d-0000-4000-8000-000000000002", "" },
	/* systemd driver: containerd, docker, CRI-O; guaranteed has no QoS slice. */
	{ "/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod5d3c4a5e_9b0a_4e0c_8e3a_2c9f6f1b7d21.slice/"
	  "cri-containerd-8f1e0c7b2a9d4e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f.scope",
	  "cri-containerd-8f1e0c7b2a9d4e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f.scope",
	  "5d3c4a5e-9b0a-4e0c-8e3a-2c9f6f1b7d21",
	  "8f1e0c7b2a9d4e3f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f" },
	{ "/kubepods.slice/kubepods-pod0a1b2c3d_0000_4000_8000_000000000001.slice/"
	  "docker-4b825dc642cb6eb9a060e54bf8d69288fbee4904.scope",
	  "docker-4b825dc642cb6eb9a060e54bf8d69288fbee4904.scope",
	  "0a1b2c3d-0000-4000-8000-000000000001",
	  "4b825dc642cb6eb9a060e54bf8d69288fbee4904" },
	{ "/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod0a1b2c3d_0000_4000_8000_000000000002.slice/"
	  "crio-1234abcd.scope",
	  "crio-1234abcd.scope", "0a1b2c3d-0000-4000-8000-000000000002",
	  "1234abcd" },
	/* The pod's own slice, before a container is in it. */
	{ "/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod0a1b2c3d_0000_4000_8000_000000000003.slice",
	  "kubepods-burstable-pod0a1b2c3d_0000_4000_8000_000000000003.slice",
	  "0a1b2c3d-0000-4000-8000-000000000003", "" },
	/* conmon is CRI-O's monitor, not the container. */
	{ "/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod0a1b2c3d_0000_4000_8000_000000000004.slice/"
	  "crio-conmon-1234abcd.scope",
	  "crio-conmon-1234abcd.scope", "0a1b2c3d-0000-4000-8000-000000000004",
	  "" },
	/* Not under kubepods: a pod-looking name is no pod. */
	{ "/system.slice/podman-1234.scope", "podman-1234.scope", "", "" },
	{ "/podcasts/pod7", "", "", "" },
};

#define N_TESTS (ARRAY_SIZE(u64_cases) + ARRAY_SIZE(u32_cases) +	\
		 ARRAY_SIZE(ms_cases) + ARRAY_SIZE(size_cases) +	\
		 ARRAY_SIZE(duration_cases) + ARRAY_SIZE(signal_cases) +	\
		 ARRAY_SIZE(fuse_cases) + N_FUSE_NUMBER_TESTS +		\
		 ARRAY_SIZE(rt_cases) + ARRAY_SIZE(levels_cases) +	\
		 ARRAY_SIZE(bytes_cases) + ARRAY_SIZE(duration_fmt_cases) + \
		 ARRAY_SIZE(rate_cases) + ARRAY_SIZE(signal_fmt_cases) +	\
		 ARRAY_SIZE(elapsed_cases) + ARRAY_SIZE(hundredths_cases) + \
		 N_RT_FORMAT_TESTS + N_LEVELS_FORMAT_TESTS +		\
		 ARRAY_SIZE(roundtrip_cases) + N_TRUNCATION_TESTS +	\
		 ARRAY_SIZE(cgname_cases))

static unsigned int test_no, passed, failed;

static void report(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u ", ok ? "ok" : "not ok", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		passed++;
	else
		failed++;
}

typedef int (*parse_fn)(const char *s, uint64_t *out, const char **why);

static void run_parse(const char *name, parse_fn parse,
		      const struct parse_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct parse_case *c = &cases[i];
		const char *why = NULL;
		uint64_t out = SENTINEL;
		bool ok;
		int err;

		err = parse(c->in, &out, &why);
		if (c->err == 0)
			ok = err == 0 && out == c->want;
		else
			ok = err == c->err && out == SENTINEL && why &&
			     strstr(why, c->why);
		if (!ok) {
			printf("# %s(\"%s\"): returned %d, value %" PRIu64 ", why \"%s\"\n",
			       name, c->in, err, out, why ? why : "(none)");
			if (c->err == 0)
				printf("# expected 0, value %" PRIu64 "\n", c->want);
			else
				printf("# expected %d, value untouched, why containing \"%s\"\n",
				       c->err, c->why);
		}
		report(ok, "%s \"%s\"", name, c->in);
	}
}

/* The 32-bit parsers, seen as the 64-bit ones: the value only on success. */
static int parse_u32(const char *s, uint64_t *out, const char **why)
{
	uint32_t v;
	int err = units_parse_u32(s, &v, why);

	if (!err)
		*out = v;
	return err;
}

static int parse_ms(const char *s, uint64_t *out, const char **why)
{
	uint32_t v;
	int err = units_parse_ms(s, &v, why);

	if (!err)
		*out = v;
	return err;
}

static int parse_signal(const char *s, uint64_t *out, const char **why)
{
	uint32_t v;
	int err = signal_parse(s, &v, why);

	if (!err)
		*out = v;
	return err;
}

static int parse_fuse(const char *s, uint64_t *out, const char **why)
{
	uint32_t v;
	int err = signal_parse_fuse(s, &v, why);

	if (!err)
		*out = v;
	return err;
}

/* STOP, TSTP, TTIN and TTOU by their numbers, whatever they are here. */
static void run_fuse(void)
{
	static const int stops[N_FUSE_NUMBER_TESTS] = {
		SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
	};
	const char *why = NULL;
	char num[16];
	uint32_t got;
	size_t i;

	for (i = 0; i < N_FUSE_NUMBER_TESTS; i++) {
		snprintf(num, sizeof(num), "%d", stops[i]);
		why = NULL;
		report(signal_parse_fuse(num, &got, &why) == -EINVAL && why &&
		       strstr(why, "a stop signal"),
		       "signal_parse_fuse \"%s\" is a stop signal", num);
	}
}

static void run_rt(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rt_cases); i++) {
		const struct rt_case *c = &rt_cases[i];
		uint32_t want = (uint32_t)((c->from_max ? SIGRTMAX : SIGRTMIN) +
					   c->offset);
		const char *why = NULL;
		uint32_t got = 0;
		bool ok;

		ok = !signal_parse(c->in, &got, &why) && got == want;
		if (!ok)
			printf("# signal_parse(\"%s\") = %" PRIu32 " (%s), expected %" PRIu32 "\n",
			       c->in, got, why ? why : "parsed", want);
		report(ok, "signal_parse \"%s\"", c->in);
	}
}

static void run_levels(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(levels_cases); i++) {
		const struct levels_case *c = &levels_cases[i];
		uint32_t got[GOMEMGUARD_LEVELS_MAX] = { 0 };
		size_t n = 99;
		const char *why = NULL;
		bool ok;
		int err;

		err = levels_parse(c->in, got, &n, &why);
		if (c->err == 0)
			ok = err == 0 && n == c->n &&
			     !memcmp(got, c->want, n * sizeof(got[0]));
		else
			ok = err == c->err && n == 99 && why &&
			     strstr(why, c->why);
		if (!ok)
			printf("# levels_parse(\"%s\"): returned %d, %zu levels, why \"%s\"\n",
			       c->in, err, n, why ? why : "(none)");
		report(ok, "levels_parse \"%s\"", c->in);
	}
}

static void run_rate(void)
{
	char buf[UNITS_BUF_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rate_cases); i++) {
		bool ok;

		units_format_rate(buf, sizeof(buf), rate_cases[i].in);
		ok = !strcmp(buf, rate_cases[i].want);
		if (!ok)
			printf("# format_rate(%" PRId64 ") = \"%s\", expected \"%s\"\n",
			       rate_cases[i].in, buf, rate_cases[i].want);
		report(ok, "format_rate %" PRId64, rate_cases[i].in);
	}
}

static void check_str(const char *got, const char *want, const char *name)
{
	bool ok = !strcmp(got, want);

	if (!ok)
		printf("# \"%s\", expected \"%s\"\n", got, want);
	report(ok, "%s", name);
}

static void run_formats(void)
{
	static const uint32_t levels[] = { 80, 90, 100 };
	char buf[LEVELS_BUF_LEN];

	check_str(signal_format(buf, sizeof(buf), (uint32_t)SIGRTMIN),
		  "SIGRTMIN", "signal_format RTMIN");
	check_str(signal_format(buf, sizeof(buf), (uint32_t)SIGRTMIN + 3),
		  "SIGRTMIN+3", "signal_format RTMIN+3");
	check_str(signal_format(buf, sizeof(buf), (uint32_t)SIGRTMAX),
		  "SIGRTMAX", "signal_format RTMAX");
	check_str(signal_format(buf, sizeof(buf), (uint32_t)SIGRTMAX + 1),
		  "65", "signal_format beyond RTMAX");
	check_str(levels_format(buf, sizeof(buf), levels, 3), "80,90,100",
		  "levels_format 80,90,100");
	check_str(levels_format(buf, sizeof(buf), levels, 1), "80",
		  "levels_format 80");
	check_str(levels_format(buf, sizeof(buf), levels, 0), "-",
		  "levels_format none");
}

static char *format_signal(char *buf, size_t len, uint64_t v)
{
	return signal_format(buf, len, (uint32_t)v);
}

typedef char *(*format_fn)(char *buf, size_t len, uint64_t v);

static void run_format(const char *name, format_fn format,
		       const struct format_case *cases, size_t n)
{
	char buf[UNITS_BUF_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		bool ok;

		format(buf, sizeof(buf), cases[i].in);
		ok = !strcmp(buf, cases[i].want);
		if (!ok)
			printf("# %s(%" PRIu64 ") = \"%s\", expected \"%s\"\n",
			       name, cases[i].in, buf, cases[i].want);
		report(ok, "%s %" PRIu64, name, cases[i].in);
	}
}

static void run_roundtrip(void)
{
	char buf[UNITS_BUF_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roundtrip_cases); i++) {
		uint64_t v = roundtrip_cases[i], back = SENTINEL;
		const char *why = NULL;
		bool ok;

		units_format_duration(buf, sizeof(buf), v);
		ok = !units_parse_duration(buf, &back, &why) && back == v;
		if (!ok)
			printf("# %" PRIu64 " -> \"%s\" -> %" PRIu64 " (%s)\n",
			       v, buf, back, why ? why : "parsed");
		report(ok, "duration roundtrip %" PRIu64, v);
	}
}

/* Short buffers are cut, never overrun (ASan checks the "never"). */
static void run_truncation(void)
{
	char buf[6];

	memset(buf, 'x', sizeof(buf));
	units_format_duration(buf, 4, UINT64_MAX);
	report(strlen(buf) < 4 && buf[4] == 'x',
	       "format_duration into a 4-byte buffer stays inside it");

	memset(buf, 'x', sizeof(buf));
	units_format_bytes(buf, 4, UINT64_MAX);
	report(strlen(buf) == 3 && buf[4] == 'x',
	       "format_bytes into a 4-byte buffer is cut and terminated");
}

static void run_cgname(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cgname_cases); i++) {
		struct cgname n;

		cgname_parse(cgname_cases[i].path, &n);
		report(!strcmp(n.unit, cgname_cases[i].unit) &&
		       !strcmp(n.pod_uid, cgname_cases[i].pod_uid) &&
		       !strcmp(n.container_id, cgname_cases[i].container_id),
		       "cgname %s: unit \"%s\", pod_uid \"%s\", container_id \"%s\"",
		       cgname_cases[i].path, n.unit, n.pod_uid, n.container_id);
	}
}

int main(void)
{
	printf("TAP version 13\n1..%zu\n", (size_t)N_TESTS);
	run_parse("parse_u64", units_parse_u64, u64_cases, ARRAY_SIZE(u64_cases));
	run_parse("parse_u32", parse_u32, u32_cases, ARRAY_SIZE(u32_cases));
	run_parse("parse_ms", parse_ms, ms_cases, ARRAY_SIZE(ms_cases));
	run_parse("parse_size", units_parse_size, size_cases,
		  ARRAY_SIZE(size_cases));
	run_parse("parse_duration", units_parse_duration, duration_cases,
		  ARRAY_SIZE(duration_cases));
	run_parse("signal_parse", parse_signal, signal_cases,
		  ARRAY_SIZE(signal_cases));
	run_parse("signal_parse_fuse", parse_fuse, fuse_cases,
		  ARRAY_SIZE(fuse_cases));
	run_fuse();
	run_rt();
	run_levels();
	run_format("format_bytes", units_format_bytes, bytes_cases,
		   ARRAY_SIZE(bytes_cases));
	run_format("format_duration", units_format_duration, duration_fmt_cases,
		   ARRAY_SIZE(duration_fmt_cases));
	run_format("format_elapsed", units_format_elapsed, elapsed_cases,
		   ARRAY_SIZE(elapsed_cases));
	run_format("format_hundredths", units_format_hundredths,
		   hundredths_cases, ARRAY_SIZE(hundredths_cases));
	run_rate();
	run_format("signal_format", format_signal, signal_fmt_cases,
		   ARRAY_SIZE(signal_fmt_cases));
	run_formats();
	run_roundtrip();
	run_truncation();
	run_cgname();
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
	       passed, failed);
	return failed || test_no != N_TESTS;
}
