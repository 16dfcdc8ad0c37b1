/* SPDX-License-Identifier: GPL-2.0 */
/* See types.h: the names gomemguard.h uses, for a user-space test. */
#ifndef GMG_KSHIM_SCHED_H
#define GMG_KSHIM_SCHED_H
#define TASK_COMM_LEN	16
struct cgroup;
struct mm_struct;
struct pid;
struct task_struct;
#endif
