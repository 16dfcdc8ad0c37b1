/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names people search by, read from a memory cgroup's path: the systemd
 * unit, and for Kubernetes pods the pod's UID and the container's ID, as
 * the kubelet lays cgroups out with either cgroup driver:
 *
 *   cgroupfs: /kubepods/burstable/pod<uid>/<container id>
 *   systemd:  /kubepods.slice/kubepods-burstable.slice/
 *             kubepods-burstable-pod<uid, "_" for "-">.slice/
 *             cri-containerd-<id>.scope (or docker-<id>, crio-<id>)
 */
#ifndef GOMEMCTL_CGNAME_H
#define GOMEMCTL_CGNAME_H

#define CGNAME_LEN 256

struct cgname {
	char unit[CGNAME_LEN];		/* last *.service, *.scope or *.slice */
	char pod_uid[CGNAME_LEN];	/* with dashes, as kubectl shows it */
	char container_id[CGNAME_LEN];
};

/* Each field "" when the path does not say it. */
void cgname_parse(const char *path, struct cgname *n);

#endif /* GOMEMCTL_CGNAME_H */
