/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's CLOCK_BOOTTIME stamps as wall-clock time: the stamp plus
 * CLOCK_REALTIME now less CLOCK_BOOTTIME now (clock_now()), which holds as
 * long as nobody set the clock between the stamp and now.
 */
#ifndef GOMEMCTL_WALLCLOCK_H
#define GOMEMCTL_WALLCLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for "2026-11-27T09:00:00.123456789Z" and local forms. */
#define WALLCLOCK_BUF_LEN 48

/* Nanoseconds since the epoch at boottime_ns; 0 if before the epoch. */
uint64_t wallclock_ns(uint64_t boottime_ns);

/* RFC 3339 in UTC with nanoseconds: "2026-11-27T09:00:00.123456789Z". */
char *wallclock_rfc3339(char *buf, size_t len, uint64_t wall_ns);

/* Local time for people, to the millisecond: "10:00:00.123". */
char *wallclock_local_ms(char *buf, size_t len, uint64_t wall_ns);

/* JSON "time" and "time_unix_ns" for a boottime stamp. */
void wallclock_json(uint64_t boottime_ns);

#endif /* GOMEMCTL_WALLCLOCK_H */
