/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names gomemguard.h uses, for a user-space test. */
#ifndef GMG_KSHIM_GFP_H
#define GMG_KSHIM_GFP_H
typedef unsigned int gfp_t;
#define GFP_KERNEL	0u
#define __GFP_NORETRY	0u
#define __GFP_NOWARN	0u
#endif
