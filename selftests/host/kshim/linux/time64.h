/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names assess.c uses, for a user-space test. */
#ifndef GMG_KSHIM_TIME64_H
#define GMG_KSHIM_TIME64_H
#define MSEC_PER_SEC	1000L
#define USEC_PER_SEC	1000000L
#define NSEC_PER_USEC	1000L
#define NSEC_PER_MSEC	1000000L
#define NSEC_PER_SEC	1000000000L
#endif
