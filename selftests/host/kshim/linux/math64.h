/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names assess.c uses, for a user-space test. */
#ifndef GMG_KSHIM_MATH64_H
#define GMG_KSHIM_MATH64_H
#include <linux/types.h>
static inline u64 div_u64(u64 a, u32 b) { return a / b; }
static inline u64 div64_u64(u64 a, u64 b) { return a / b; }
static inline u64 div_u64_rem(u64 a, u32 b, u32 *rem) { *rem = a % b; return a / b; }
static inline u64 div64_u64_rem(u64 a, u64 b, u64 *rem) { *rem = a % b; return a / b; }
#endif
