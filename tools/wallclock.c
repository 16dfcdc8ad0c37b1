// SPDX-License-Identifier: GPL-2.0
/*
 * Wall-clock time of the module's stamps (see wallclock.h).  Apart from
 * clock.c, which the tests replace, so that the tests run this.
 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "output.h"
#include "wallclock.h"

#define NSEC_PER_SEC 1000000000ULL

/*
 * The two clocks are read one after the other, so the offset between them
 * moves by some nanoseconds from call to call.  One event is printed more
 * than once (monitor -j, the JSON --exec gets on stdin, syslog) and must
 * read the same in each: the last stamp's answer is kept.
 */
static uint64_t last_boot, last_wall;
static bool last_valid;

uint64_t wallclock_ns(uint64_t boottime_ns)
{
	uint64_t real_now, boot_now;

	if (last_valid && boottime_ns == last_boot)
		return last_wall;
	clock_now(&real_now, &boot_now);
	/* A stamp from before the epoch would be a clock set oddly. */
	if (boottime_ns + real_now < boot_now)
		last_wall = 0;
	else
		last_wall = boottime_ns + real_now - boot_now;
	last_boot = boottime_ns;
	last_valid = true;
	return last_wall;
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
