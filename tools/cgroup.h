/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --cgroup PATH as the module takes it: relative to the cgroup v2 root.
 */
#ifndef GOMEMCTL_CGROUP_H
#define GOMEMCTL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_MOUNTINFO "/proc/self/mountinfo"
#define CGROUP_NS "/proc/self/ns/cgroup"

/*
 * arg is a directory under a cgroup2 mount listed in mountinfo, such as
 * /sys/fs/cgroup/app.slice, or a path that does not exist in the filesystem
 * and starts with "/", taken as already relative to the cgroup root.  Sets
 * *path to the relative form ("/app.slice"; the root itself is "/"),
 * which the caller frees.  A path of the second kind must exist below the
 * cgroup2 root (GOMEMCTL_CGROUP2_ROOT, else the global root in mountinfo)
 * when that root can be seen; otherwise whether it names a cgroup is the
 * module's call.  Returns 0, or after reporting GMC_EXIT_USAGE (arg cannot
 * be a cgroup) or GMC_EXIT_ERROR ("no such cgroup", or the system could
 * not tell).
 */
int cgroup_resolve(const char *verb, const char *arg, const char *mountinfo,
		   char **path);

/*
 * Where the root of the global cgroup v2 hierarchy is mounted, which the
 * module's paths (MEMCG in replies and events) are relative to: the first
 * cgroup2 mount in mountinfo whose root is "/", when cgroupns (the caller's
 * cgroup namespace file) is the initial namespace -- in another one "/" is
 * only that namespace's root, and the global root's mount shows as "/.."
 * repeated.  A path the caller frees, or NULL when there is none, or it
 * cannot be told (nothing reported).
 */
char *cgroup_global_root(const char *mountinfo, const char *cgroupns);

/*
 * Our cgroup namespace's root as a path of the global hierarchy: "/" in the
 * initial namespace.  In another one (a container's), found below the mount
 * of the whole hierarchy (cgroup_global_root()): the cgroup as many levels
 * down as mountinfo's ".." for that mount say, plus our own path in the
 * namespace (self_cgroup, /proc/self/cgroup), whose cgroup.procs lists pid.
 * A string the caller frees, or NULL when it cannot be told.
 */
char *cgroup_ns_root(const char *mountinfo, const char *cgroupns,
		     const char *self_cgroup, pid_t pid);

/*
 * path as /proc/PID/cgroup and mountinfo show it, relative to a namespace
 * whose root is ns_root, as a global path ("/../x" from "/a/b" is "/a/x").
 * NULL when it leaves the hierarchy or memory is short.
 */
char *cgroup_join_ns(const char *ns_root, const char *path);

/*
 * The same for our own namespace, found once per run: path itself (a copy)
 * in the initial one.  The module's paths are global: a path of a process,
 * read here in a container, is compared with them after this.
 */
char *cgroup_from_ns(const char *path);

/*
 * The smallest memory.max from path (relative to the cgroup2 root, as
 * cgroup_resolve() makes it) up to the root's children: 0 with *max, or
 * -1 when all are "max" or none can be read.
 */
int cgroup_memory_max(const char *mountinfo, const char *path, uint64_t *max);

/*
 * Whether proc_cgroups (CGROUP_PROC_CGROUPS) puts the memory controller on
 * a cgroup v1 hierarchy (a v1 or hybrid host), where the module refuses to
 * load.
 */
#define CGROUP_PROC_CGROUPS "/proc/cgroups"
bool cgroup_memory_on_v1(const char *proc_cgroups);

#endif /* GOMEMCTL_CGROUP_H */
