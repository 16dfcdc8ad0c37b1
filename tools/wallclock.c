// SPDX-License-Identifier: GPL-2.0
/*
 * Wall-clock time of the module's stamps (see wallclock.h).  Apart from
 * clock.c, which the tests replace, so that the tests run this.
 */
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "output.h"
#include "wallclock.h"

#define NSEC_PER_SEC 1000000000ULL

uint64_t wallclock_ns(uint64_t boottime_ns)
{
	uint64_t real_now, boot_now;

	clock_now(&real_now, &boot_now);
	/* A stamp from before the epoch would be a clock set oddly. */
	if (boottime_ns + real_now < boot_now)
		return 0;
	return boottime_ns + real_now - boot_now;
}

char *wallclock_rfc3339(char *buf, size_t len, uint64_t wall_ns)
{
	time_t secs = (time_t)(wall_ns / NSEC_PER_SEC);
	struct tm tm;
	size_t n;

	n = gmtime_r(&secs, &tm) ?
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
	snprintf(buf + n, len - n, ".%09lluZ",
		 (unsigned long long)(wall_ns % NSEC_PER_SEC));
	return buf;
}

char *wallclock_local_ms(char *buf, size_t len, uint64_t wall_ns)
{
	time_t secs = (time_t)(wall_ns / NSEC_PER_SEC);
	struct tm tm;
	size_t n;

	n = localtime_r(&secs, &tm) ? strftime(buf, len, "%H:%M:%S", &tm) : 0;
	snprintf(buf + n, len - n, ".%03llu",
		 (unsigned long long)(wall_ns % NSEC_PER_SEC / 1000000));
	return buf;
}

void wallclock_json(uint64_t boottime_ns)
{
	char buf[WALLCLOCK_BUF_LEN];
	uint64_t wall = wallclock_ns(boottime_ns);

	out_json_str("time", wallclock_rfc3339(buf, sizeof(buf), wall));
	out_json_u64("time_unix_ns", wall);
}
