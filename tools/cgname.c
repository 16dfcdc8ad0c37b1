// SPDX-License-Identifier: GPL-2.0
/*
 * Names from a cgroup path (see cgname.h).  Only the path is read: no
 * container runtime is asked, so the names are what the layout says.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cgname.h"

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len > n && !memcmp(s, prefix, n);
}

static void set(char *field, const char *s, size_t len)
{
	if (len >= CGNAME_LEN)
		len = CGNAME_LEN - 1;
	memcpy(field, s, len);
	field[len] = '\0';
}

/* "kubepods-burstable-pod1a2b_3c.slice": the UID after "pod", "_" as "-". */
static bool systemd_pod(const char *s, size_t len, struct cgname *n)
{
	const char *pod;
	char *c;

	if (!starts_with(s, len, "kubepods") || !ends_with(s, len, ".slice"))
		return false;
	pod = memmem(s, len, "-pod", 4);
	if (!pod)
		return false;
	pod += 4;
	set(n->pod_uid, pod, (size_t)(s + len - strlen(".slice") - pod));
	for (c = n->pod_uid; *c; c++)
		if (*c == '_')
			*c = '-';
	return true;
}

/* "cri-containerd-<id>.scope", "docker-<id>.scope", "crio-<id>.scope". */
static void systemd_container(const char *s, size_t len, struct cgname *n)
{
	static const char *const prefixes[] = {
		"cri-containerd-", "docker-", "crio-",
	};
	size_t i, p;

	if (!ends_with(s, len, ".scope") || starts_with(s, len, "crio-conmon-"))
		return;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		p = strlen(prefixes[i]);
		if (starts_with(s, len, prefixes[i]) && len > p + strlen(".scope")) {
			set(n->container_id, s + p, len - p - strlen(".scope"));
			return;
		}
	}
}

void cgname_parse(const char *path, struct cgname *n)
{
	bool in_kubepods = false, after_pod = false;
	const char *s = path;

	n->unit[0] = n->pod_uid[0] = n->container_id[0] = '\0';
	while (*s) {
		size_t len;

		s += strspn(s, "/");
		len = strcspn(s, "/");
		if (!len)
			break;
		if (ends_with(s, len, ".service") || ends_with(s, len, ".scope") ||
		    ends_with(s, len, ".slice"))
			set(n->unit, s, len);
		if (starts_with(s, len, "kubepods") || (len == 8 &&
		    !memcmp(s, "kubepods", 8)))
			in_kubepods = true;
		if (in_kubepods && systemd_pod(s, len, n)) {
			after_pod = true;
		} else if (in_kubepods && !after_pod &&
			   starts_with(s, len, "pod")) {
			/* cgroupfs: "pod<uid>", the container below it. */
			set(n->pod_uid, s + 3, len - 3);
			after_pod = true;
		} else if (after_pod && !n->container_id[0]) {
			systemd_container(s, len, n);
			if (!n->container_id[0] && !ends_with(s, len, ".scope") &&
			    !ends_with(s, len, ".slice"))
				set(n->container_id, s, len);
		}
		s += len;
	}
}
