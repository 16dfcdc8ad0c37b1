// SPDX-License-Identifier: GPL-2.0
/*
 * Where cgroup v2 is mounted is read from mountinfo, never assumed: it is
 * /sys/fs/cgroup on most hosts, /sys/fs/cgroup/unified on hybrid ones, and
 * a bind mount of a subtree in many containers (the mount's root field says
 * which subtree).  The module's paths in replies and events start at the
 * root of the whole hierarchy: only a mount of that root, seen from the
 * initial cgroup namespace, holds them where they say.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "gomemctl.h"
#include "memstat.h"

/* The mount that holds the path: the longest mount point above it. */
struct cg_mount {
	char *root;		/* the subtree of the hierarchy mounted there */
	char *dir;		/* where it is mounted */
	char *first_dir;	/* the first cgroup2 mount, for messages */
	char *root_dir;		/* the first mount of the whole hierarchy */
	char *up_dir;		/* the same, seen from another cgroup namespace */
	int up;			/* the ".." levels from ours up to it */
	bool any;		/* saw a cgroup2 mount at all */
};

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* The part of path below dir ("" for dir itself), or NULL if not below it. */
static const char *below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (!strcmp(dir, "/"))
		return path[1] ? path : "";
	if (strncmp(path, dir, len) || (path[len] && path[len] != '/'))
		return NULL;
	return path + len;
}

static int set(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	return *field ? 0 : -1;
}

/* How many "/.." a root made of nothing else has; -1 for any other. */
static int only_dotdots(const char *root)
{
	int n = 0;

	while (!strncmp(root, "/..", 3) && (root[3] == '/' || !root[3])) {
		root += 3;
		n++;
	}
	return *root ? -1 : n;
}

/*
 * In another cgroup namespace, mountinfo gives a mount's root relative to
 * that namespace's root: a container's hostPath /sys/fs/cgroup shows
 * "/../../..", three levels up.  Up to the whole hierarchy, or only to an
 * ancestor of ours: the root cgroup alone has no cgroup.type.
 */
static bool whole_hierarchy(const char *dir)
{
	char *file;
	bool whole;

	if (asprintf(&file, "%s/cgroup.type", dir) < 0)
		return false;
	whole = access(file, F_OK) && errno == ENOENT;
	free(file);
	return whole;
}

/*
 * "36 35 98:0 /root /mount/point rw,relatime shared:1 - cgroup2 none rw":
 * the fields after the optional ones start with the separator "-".
 */
static int scan_line(char *line, const char *path, struct cg_mount *m)
{
	char *field[5], *tok, *save = NULL, *fstype = NULL;
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (n < 5) {
			field[n++] = tok;
		} else if (!strcmp(tok, "-")) {
			fstype = strtok_r(NULL, " ", &save);
			break;
		}
	}
	if (n < 5 || !fstype || strcmp(fstype, "cgroup2"))
		return 0;
	unescape(field[3]);
	unescape(field[4]);
	m->any = true;
	if (!m->first_dir && set(&m->first_dir, field[4]))
		return -1;
	if (!m->root_dir && !strcmp(field[3], "/") &&
	    set(&m->root_dir, field[4]))
		return -1;
	if (!m->up_dir && only_dotdots(field[3]) > 0 &&
	    whole_hierarchy(field[4])) {
		if (set(&m->up_dir, field[4]))
			return -1;
		m->up = only_dotdots(field[3]);
	}
	if (path && below(path, field[4]) &&
	    (!m->dir || strlen(field[4]) > strlen(m->dir))) {
		if (set(&m->dir, field[4]) || set(&m->root, field[3]))
			return -1;
	}
	return 0;
}

static int no_memory(const char *verb)
{
	gmc_err(verb, "%s", strerror(ENOMEM));
	return GMC_EXIT_ERROR;
}

/* Scans mountinfo for path (NULL: none) into m: 0, -ENOMEM or -errno. */
static int scan(const char *mountinfo, const char *path, struct cg_mount *m)
{
	size_t cap = 0;
	char *line = NULL;
	int err = 0;
	FILE *f;

	f = fopen(mountinfo, "re");
	if (!f)
		return -errno;
	while (!err && getline(&line, &cap, f) > 0)
		err = scan_line(line, path, m) ? -ENOMEM : 0;
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

static void free_mount(struct cg_mount *m)
{
	free(m->root);
	free(m->dir);
	free(m->first_dir);
	free(m->root_dir);
	free(m->up_dir);
}

static int find_mount(const char *verb, const char *mountinfo,
		      const char *path, struct cg_mount *m)
{
	int err = scan(mountinfo, path, m);

	if (err == -ENOMEM)
		no_memory(verb);
	else if (err)
		gmc_err(verb, "cannot read %s: %s", mountinfo, strerror(-err));
	return err ? -1 : 0;
}

/* root + rel, where rel is "" or starts with "/". */
static char *join(const char *root, const char *rel)
{
	char *s;

	if (!strcmp(root, "/"))
		return strdup(*rel ? rel : "/");
	if (asprintf(&s, "%s%s", root, rel) < 0)
		return NULL;
	return s;
}

/* GOMEMCTL_CGROUP2_ROOT, else the global root in mountinfo; or NULL. */
static char *v2_root(const char *mountinfo)
{
	const char *env = getenv(MEMSTAT_ROOT_ENV);

	return env && *env ? strdup(env) :
	       cgroup_global_root(mountinfo, CGROUP_NS);
}

int cgroup_memory_max(const char *mountinfo, const char *path, uint64_t *max)
{
	char *root = v2_root(mountinfo), *dir = NULL, *slash, buf[32];
	bool found = false;
	size_t root_len;
	FILE *f;

	if (!root)
		return -1;
	root_len = strlen(root);
	if (asprintf(&dir, "%s%s", root, strcmp(path, "/") ? path : "") < 0) {
		free(root);
		return -1;
	}
	/* The root cgroup has no memory.max: stop below it. */
	while (strlen(dir) > root_len) {
		char *file;

		if (asprintf(&file, "%s/memory.max", dir) >= 0) {
			f = fopen(file, "re");
			if (f && fgets(buf, sizeof(buf), f) &&
			    buf[0] >= '0' && buf[0] <= '9') {
				uint64_t v = strtoull(buf, NULL, 10);

				if (!found || v < *max)
					*max = v;
				found = true;
			}
			if (f)
				fclose(f);
			free(file);
		}
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(dir);
	free(root);
	return found ? 0 : -1;
}

/*
 * A path relative to the cgroup root that names no directory under the
 * root where it can be seen: said here, rather than the kernel's bare
 * ENOENT.  Where the root cannot be seen (another cgroup namespace), the
 * module judges.
 */
static int check_exists(const char *verb, const char *arg,
			const char *mountinfo)
{
	char *root = v2_root(mountinfo), *dir = NULL;
	struct stat st;
	int ret = 0;

	if (!root)
		return 0;
	if (asprintf(&dir, "%s%s", root, arg) < 0) {
		ret = no_memory(verb);
	} else if (stat(dir, &st) && (errno == ENOENT || errno == ENOTDIR)) {
		gmc_err(verb, "no such cgroup: %s (no directory %s)", arg, dir);
		ret = GMC_EXIT_ERROR;
	}
	free(dir);
	free(root);
	return ret;
}

int cgroup_resolve(const char *verb, const char *arg, const char *mountinfo,
		   char **path)
{
	struct cg_mount m = { 0 };
	char *real;
	int ret;

	real = realpath(arg, NULL);
	if (!real) {
		if (errno != ENOENT && errno != ENOTDIR) {
			gmc_err(verb, "--cgroup \"%s\": %s", arg, strerror(errno));
			return GMC_EXIT_ERROR;
		}
		if (arg[0] != '/') {
			gmc_err(verb, "--cgroup \"%s\": no such directory (a cgroup path starts with \"/\", e.g. /app.slice)",
				arg);
			return GMC_EXIT_USAGE;
		}
		ret = check_exists(verb, arg, mountinfo);
		if (ret)
			return ret;
		*path = strdup(arg);
		return *path ? 0 : no_memory(verb);
	}

	if (find_mount(verb, mountinfo, real, &m)) {
		ret = GMC_EXIT_ERROR;
	} else if (m.dir) {
		char *rel = join(m.root, below(real, m.dir));

		/*
		 * Global, as the module takes it: a container's mount of the
		 * host's hierarchy has "/../.." for root.  Where that cannot
		 * be told, the module judges the path as it is.
		 */
		*path = rel ? cgroup_from_ns(rel) : NULL;
		if (!*path) {
			*path = rel;
			rel = NULL;
		}
		free(rel);
		ret = *path ? 0 : no_memory(verb);
	} else if (m.any) {
		gmc_err(verb, "--cgroup \"%s\": not under the cgroup2 mount %s (give a directory below it, or a cgroup path such as /app.slice)",
			arg, m.first_dir);
		ret = GMC_EXIT_USAGE;
	} else {
		gmc_err(verb, "--cgroup \"%s\": no cgroup2 filesystem is mounted here (see %s)",
			arg, mountinfo);
		ret = GMC_EXIT_ERROR;
	}
	free(real);
	free_mount(&m);
	return ret;
}

/* What the kernel numbers the initial cgroup namespace (proc_ns.h). */
#define CGROUP_NS_INIT_INO 0xEFFFFFFBU

/* 1: the initial cgroup namespace (or a kernel without them), 0: another, -1: unknown. */
static int initial_ns(const char *cgroupns)
{
	struct stat st;

	if (stat(cgroupns, &st))
		return errno == ENOENT ? 1 : -1;
	return st.st_ino == CGROUP_NS_INIT_INO;
}

char *cgroup_global_root(const char *mountinfo, const char *cgroupns)
{
	struct cg_mount m = { 0 };
	int initial = initial_ns(cgroupns);
	char *dir;

	if (initial < 0 || scan(mountinfo, NULL, &m)) {
		free_mount(&m);
		return NULL;
	}
	/* In another namespace a mount's root "/" is only that namespace's. */
	if (initial) {
		dir = m.root_dir;
		m.root_dir = NULL;
	} else {
		dir = m.up_dir;
		m.up_dir = NULL;
	}
	free_mount(&m);
	return dir;
}

/*
 * Whether the cgroup at dir, depth levels below it, lists pid in its
 * cgroup.procs; dir (a buffer of PATH_MAX) is left naming it.
 */
static bool find_pid(char *dir, int depth, const char *pid)
{
	size_t len = strlen(dir), plen = strlen(pid);
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	struct dirent *e;
	DIR *d;
	FILE *f;

	if (!depth) {
		if (len + sizeof("/cgroup.procs") > PATH_MAX)
			return false;
		strcpy(dir + len, "/cgroup.procs");
		f = fopen(dir, "re");
		dir[len] = '\0';
		if (!f)
			return false;
		while (!found && getline(&line, &cap, f) > 0)
			found = !strncmp(line, pid, plen) && line[plen] == '\n';
		free(line);
		fclose(f);
		return found;
	}
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
		    len + 1 + strlen(e->d_name) >= PATH_MAX)
			continue;
		dir[len] = '/';
		strcpy(dir + len + 1, e->d_name);
		found = find_pid(dir, depth - 1, pid);
		if (!found)
			dir[len] = '\0';
	}
	closedir(d);
	return found;
}

/* Path components: "/" has none. */
static int depth_of(const char *path)
{
	int n = 0;

	for (; *path; path++)
		n += path[0] == '/' && path[1];
	return n;
}

char *cgroup_ns_root(const char *mountinfo, const char *cgroupns,
		     const char *self_cgroup, pid_t pid)
{
	char *text = NULL, *own = NULL, dir[PATH_MAX], num[24], *root = NULL;
	struct cg_mount m = { 0 };
	size_t cap = 0, mlen;
	int initial = initial_ns(cgroupns);
	FILE *f;

	if (initial)
		return initial > 0 ? strdup("/") : NULL;
	/* Where we are in our namespace: "0::/" at its root. */
	f = fopen(self_cgroup, "re");
	while (f && getline(&text, &cap, f) > 0) {
		if (!strncmp(text, "0::/", 4)) {
			text[strcspn(text, "\n")] = '\0';
			own = text + 3;
			break;
		}
	}
	if (f)
		fclose(f);
	if (!own || only_dotdots(own) >= 0 || strstr(own, "/..") ||
	    scan(mountinfo, NULL, &m) || !m.up_dir ||
	    strlen(m.up_dir) >= sizeof(dir))
		goto out;
	strcpy(dir, m.up_dir);
	mlen = strlen(dir);
	snprintf(num, sizeof(num), "%d", (int)pid);
	if (!find_pid(dir, m.up + depth_of(own), num))
		goto out;
	/* dir is the mount, our namespace's root, then our own path. */
	if (strcmp(own, "/"))
		dir[strlen(dir) - strlen(own)] = '\0';
	root = strdup(dir[mlen] ? dir + mlen : "/");
out:
	free(text);
	free_mount(&m);
	return root;
}

char *cgroup_join_ns(const char *ns_root, const char *path)
{
	char *out, *p, *end;
	size_t len;

	if (path[0] != '/' ||
	    asprintf(&out, "%s%s", strcmp(ns_root, "/") ? ns_root : "",
		     path) < 0)
		return NULL;
	/* ".." and "." resolved, lexically: cgroupfs has no symbolic links. */
	len = 0;
	for (p = out; *p; p = end) {
		while (*p == '/')
			p++;
		end = p + strcspn(p, "/");
		if (end == p)
			break;
		if (end - p == 1 && p[0] == '.')
			continue;
		if (end - p == 2 && p[0] == '.' && p[1] == '.') {
			if (!len) {
				free(out);
				return NULL;
			}
			while (out[--len] != '/')
				;
			continue;
		}
		out[len++] = '/';
		memmove(out + len, p, (size_t)(end - p));
		len += (size_t)(end - p);
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

char *cgroup_from_ns(const char *path)
{
	static char *ns_root;
	static bool looked;

	if (!looked) {
		ns_root = cgroup_ns_root(CGROUP_MOUNTINFO, CGROUP_NS,
					 "/proc/self/cgroup", getpid());
		looked = true;
	}
	return ns_root ? cgroup_join_ns(ns_root, path) : NULL;
}

bool cgroup_memory_on_v1(const char *proc_cgroups)
{
	char name[32], *line = NULL;
	unsigned int hierarchy;
	bool v1 = false;
	size_t cap = 0;
	FILE *f;

	f = fopen(proc_cgroups, "re");
	if (!f)
		return false;
	/* "#subsys_name hierarchy num_cgroups enabled": 0 is cgroup v2. */
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%31s %u", name, &hierarchy) == 2 &&
		    !strcmp(name, "memory")) {
			v1 = hierarchy != 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return v1;
}
