/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module stamps events with CLOCK_BOOTTIME; people read wall-clock
 * time.  Kept apart so that the tests can stand in for the clocks.
 */
#ifndef GOMEMCTL_CLOCK_H
#define GOMEMCTL_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME and CLOCK_BOOTTIME now, in nanoseconds. */
void clock_now(uint64_t *realtime_ns, uint64_t *boottime_ns);

#endif /* GOMEMCTL_CLOCK_H */
