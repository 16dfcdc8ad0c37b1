/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names assess.c uses, for a user-space test. */
#ifndef GMG_KSHIM_OVERFLOW_H
#define GMG_KSHIM_OVERFLOW_H
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#endif
