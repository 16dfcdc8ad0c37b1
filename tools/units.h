/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sizes and durations as operators type and read them.
 *
 * Parsers take the whole string or nothing: on failure they return -EINVAL
 * (not a valid value) or -ERANGE (does not fit in 64 bits) and point *why at
 * a short static explanation fit to follow "invalid value "X": ".
 */
#ifndef GOMEMCTL_UNITS_H
#define GOMEMCTL_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for any string the formatters produce. */
#define UNITS_BUF_LEN 48

/* A plain decimal integer: "0", "4096". */
int units_parse_u64(const char *s, uint64_t *out, const char **why);

/* The same, no larger than UINT32_MAX: what a u32 attribute holds. */
int units_parse_u32(const char *s, uint32_t *out, const char **why);

/*
 * Bytes: "4096", "4096B", "512K", "512M", "2G", "1.5GiB", "64Mi".  K, M, G,
 * T, P, E are powers of 1024 (like cgroup files and the kernel's memparse),
 * optionally followed by "i" or "iB"; letters are case-insensitive.  "MB"
 * and friends are refused as ambiguous.  A fraction is allowed with a unit
 * and truncated to whole bytes.
 */
int units_parse_size(const char *s, uint64_t *bytes, const char **why);

/*
 * Nanoseconds: one or more <number><unit> with unit ns, us, ms, s, m (or
 * min), h, d, e.g. "250ms", "30s", "1.5s", "1h30m".  A bare "0" is allowed;
 * any other number needs a unit.
 */
int units_parse_duration(const char *s, uint64_t *ns, const char **why);

/*
 * A duration for a u32 attribute counting milliseconds: whole milliseconds,
 * at most UINT32_MAX of them.
 */
int units_parse_ms(const char *s, uint32_t *ms, const char **why);

/* "0 B", "1023 B", "1.5 KiB", "1.62 GiB", "310 MiB": three significant digits. */
char *units_format_bytes(char *buf, size_t len, uint64_t bytes);

/* Exact and parseable back: "0s", "250ms", "1s", "1m30s", "1d2h". */
char *units_format_duration(char *buf, size_t len, uint64_t ns);

/* The same for milliseconds (beyond what nanoseconds can hold: the most). */
char *units_format_ms(char *buf, size_t len, uint64_t ms);

/*
 * A span of time as a sentence says it, the two largest units, rounded
 * down: "350 ms", "28 s", "1 min 30 s", "28 min", "6 h", "3 d 4 h".
 */
char *units_format_elapsed(char *buf, size_t len, uint64_t ms);

/* Hundredths as a decimal: 1234 is "12.34", 5 is "0.05". */
char *units_format_hundredths(char *buf, size_t len, uint64_t hundredths);

/*
 * A growth rate in bytes per second: "+9.8 MiB/s", "-512 KiB/s"; "-" when
 * it is below UNITS_RATE_FLAT in either direction.
 */
#define UNITS_RATE_FLAT 1024
char *units_format_rate(char *buf, size_t len, int64_t bytes_per_sec);

#endif /* GOMEMCTL_UNITS_H */
