/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's <linux/types.h> and friends to compile
 * kmod/assess.c -- pure arithmetic -- into a user-space test
 * (selftests/host/assess_test.c).  Not kernel code: the kernel's own
 * definitions are not copied here, only the names assess.c uses.
 */
#ifndef GMG_KSHIM_TYPES_H
#define GMG_KSHIM_TYPES_H

#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define U8_MAX		UINT8_MAX
#define U32_MAX		UINT32_MAX
#define U64_MAX		UINT64_MAX
#define S64_MAX		INT64_MAX

#endif
