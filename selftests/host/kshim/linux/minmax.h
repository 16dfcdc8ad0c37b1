/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names assess.c uses, for a user-space test. */
#ifndef GMG_KSHIM_MINMAX_H
#define GMG_KSHIM_MINMAX_H
#define min(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; })
#define max(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; })
#define min_t(t, a, b)	min((t)(a), (t)(b))
#define max_t(t, a, b)	max((t)(a), (t)(b))
#define clamp_t(t, v, lo, hi)	min_t(t, max_t(t, v, lo), hi)
#define min3(x, y, z)	min(min(x, y), z)
#endif
