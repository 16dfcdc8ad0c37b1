/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names gomemguard.h uses, for a user-space test. */
#ifndef GMG_KSHIM_UIDGID_H
#define GMG_KSHIM_UIDGID_H
#include <sys/types.h>
typedef struct { uid_t val; } kuid_t;
#endif
