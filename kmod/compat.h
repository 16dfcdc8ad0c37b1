/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels gomemguard supports lives here, and
 * only here.  Kbuild force-includes this header ahead of every module source
 * file, so the core files are written against one API and never test
 * LINUX_VERSION_CODE themselves.
 *
 * Supported: Debian 12's 6.1 (linux-image-amd64) and 6.12
 * (linux-image-6.12-amd64) kernels.
 */
#ifndef _GMG_COMPAT_H
#define _GMG_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "gomemguard supports Linux 6.1 and later"
#endif

#endif /* _GMG_COMPAT_H */
