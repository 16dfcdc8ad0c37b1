// SPDX-License-Identifier: GPL-2.0
/*
 * Both clocks, read back to back: their difference is the offset that turns
 * the module's CLOCK_BOOTTIME stamps into wall-clock time (as far as nobody
 * has set the clock since).
 */
#include <time.h>

#include "clock.h"

static uint64_t ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void clock_now(uint64_t *realtime_ns, uint64_t *boottime_ns)
{
	*realtime_ns = ns(CLOCK_REALTIME);
	*boottime_ns = ns(CLOCK_BOOTTIME);
}
