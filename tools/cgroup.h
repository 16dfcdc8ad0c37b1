/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --cgroup PATH as the module takes it: relative to the cgroup v2 root.
 */
#ifndef GOMEMCTL_CGROUP_H
#define GOMEMCTL_CGROUP_H

#define CGROUP_MOUNTINFO "/proc/self/mountinfo"

/*
 * arg is a directory under a cgroup2 mount listed in mountinfo, such as
 * /sys/fs/cgroup/app.slice, or a path that does not exist in the filesystem
 * and starts with "/", taken as already relative to the cgroup root.  Sets
 * *path to the relative form ("/app.slice"; the root itself is "/"),
 * which the caller frees.  Whether it names a cgroup is the module's call.
 * Returns 0, or after reporting GMC_EXIT_USAGE (arg cannot be a cgroup) or
 * GMC_EXIT_ERROR (the system could not tell).
 */
int cgroup_resolve(const char *verb, const char *arg, const char *mountinfo,
		   char **path);

#endif /* GOMEMCTL_CGROUP_H */
