/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names assess.c uses, for a user-space test. */
#ifndef GMG_KSHIM_KERNEL_H
#define GMG_KSHIM_KERNEL_H
#include <linux/types.h>
#include <linux/minmax.h>
#include <linux/math64.h>
#include <linux/time64.h>
#endif
