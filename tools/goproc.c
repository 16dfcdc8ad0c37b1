// SPDX-License-Identifier: GPL-2.0
/*
 * Go programs from /proc.  A process can exit, exec or change its cgroup
 * between any two reads: each read that fails makes that part unknown (or
 * the process skipped), never an error of the whole command.
 *
 * Memory cgroups: /proc/PID/cgroup gives the cgroup v2 path relative to the
 * root of our cgroup namespace; /proc/self/mountinfo says where cgroup2 is
 * mounted and which subtree of the hierarchy each mount shows (a container's
 * may show only its own), relative to the same root.  Both are made global
 * (cgroup_from_ns()), as the module's paths are: in a container with a
 * cgroup namespace of its own, another pod's "/../../kubepods.slice/x" is
 * found below the host's /sys/fs/cgroup mounted in it.  Limits are read from the cgroup up to the top of
 * the mount, the tightest of each kind winning: a service cgroup without a
 * limit of its own is still stopped by its slice's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "goproc.h"
#include "output.h"
#include "units.h"

const char *goproc_root = "/proc";

/* Small procfs and cgroupfs files: status, cgroup, mountinfo, memory.max. */
#define SMALL_FILE_MAX (256 << 10)

/* The whole file, NUL-terminated, in a buffer the caller frees; or NULL. */
static char *read_file(const char *path, size_t *len, int *err)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *bigger;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	for (;;) {
		if (!buf || n + 1 == cap) {
			if (buf)
				cap *= 2;
			bigger = cap > SMALL_FILE_MAX ? NULL : realloc(buf, cap);
			if (!bigger) {
				*err = cap > SMALL_FILE_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			buf = bigger;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = -errno;
			break;
		}
		if (r == 0) {
			close(fd);
			buf[n] = '\0';
			if (len)
				*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	close(fd);
	free(buf);
	return NULL;
}

static void proc_path(char *buf, size_t len, int pid, const char *file)
{
	snprintf(buf, len, "%s/%d/%s", goproc_root, pid, file);
}

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

/* How much of path lies below root: its length, or -1 if not below it. */
static ssize_t below(const char *path, const char *root)
{
	size_t len = strlen(root);

	if (!strcmp(root, "/"))
		return 0;
	if (strncmp(path, root, len) || (path[len] && path[len] != '/'))
		return -1;
	return (ssize_t)len;
}

/*
 * The directory of cgroup path (global) in the cgroup2 mount that shows the
 * most of it; the mount point's length in *mnt_len.  0, or -1 when no mount
 * shows it.
 */
static int cgroup_dir(const char *path, char *dir, size_t size, size_t *mnt_len)
{
	char mi[4096], *text, *line, *save = NULL;
	ssize_t best = -1;
	int err;

	snprintf(mi, sizeof(mi), "%s/self/mountinfo", goproc_root);
	text = read_file(mi, NULL, &err);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *field[5], *tok, *fsave = NULL, *fstype = NULL, *root;
		size_t n = 0;
		ssize_t skip;

		for (tok = strtok_r(line, " ", &fsave); tok;
		     tok = strtok_r(NULL, " ", &fsave)) {
			if (n < 5) {
				field[n++] = tok;
			} else if (!strcmp(tok, "-")) {
				fstype = strtok_r(NULL, " ", &fsave);
				break;
			}
		}
		if (n < 5 || !fstype || strcmp(fstype, "cgroup2"))
			continue;
		unescape(field[3]);
		unescape(field[4]);
		root = cgroup_from_ns(field[3]);
		skip = root ? below(path, root) : -1;
		free(root);
		if (skip < 0 || (best >= 0 && skip <= best))
			continue;
		if ((size_t)snprintf(dir, size, "%s%s", field[4], path + skip) >= size)
			continue;
		best = skip;
		*mnt_len = strlen(field[4]);
	}
	free(text);
	return best >= 0 ? 0 : -1;
}

/* memory.max or memory.high in dir: 0 with *v, 1 for "max", -1 unknown. */
static int read_limit(const char *dir, const char *file, uint64_t *v)
{
	char path[PATH_MAX + 32], *text, *end;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	text = read_file(path, NULL, &err);
	if (!text)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	if (!strcmp(text, "max")) {
		err = 1;
	} else if (text[0] >= '0' && text[0] <= '9') {
		errno = 0;
		*v = strtoull(text, &end, 10);
		err = errno || *end ? -1 : 0;
	} else {
		err = -1;
	}
	free(text);
	return err;
}

static void tighten(const char *dir, const char *file, bool *has, uint64_t *v)
{
	uint64_t limit;

	if (!read_limit(dir, file, &limit) && (!*has || limit < *v)) {
		*has = true;
		*v = limit;
	}
}

static void read_memcg(struct goproc *p)
{
	char path[PATH_MAX], dir[PATH_MAX], *text, *line, *save = NULL, *slash;
	char *memcg = NULL;
	size_t mnt_len = 0;
	int err;

	proc_path(path, sizeof(path), p->pid, "cgroup");
	text = read_file(path, NULL, &err);
	if (!text)
		return;
	/* The cgroup v2 line: "0::/path". */
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "0::/", 4))
			break;
	}
	/* Outside our cgroup namespace it starts "/..": made global. */
	if (line)
		memcg = cgroup_from_ns(line + 3);
	free(text);
	if (!memcg || strlen(memcg) >= sizeof(p->memcg)) {
		free(memcg);
		return;
	}
	snprintf(p->memcg, sizeof(p->memcg), "%s", memcg);
	free(memcg);
	if (cgroup_dir(p->memcg, dir, sizeof(dir), &mnt_len))
		return;
	for (;;) {
		tighten(dir, "memory.max", &p->has_max, &p->memcg_max);
		tighten(dir, "memory.high", &p->has_high, &p->memcg_high);
		slash = strrchr(dir, '/');
		if (strlen(dir) <= mnt_len || !slash)
			break;
		/* Up one level, the mount point (even "/") being the last. */
		if ((size_t)(slash - dir) < mnt_len)
			dir[mnt_len] = '\0';
		else
			*slash = '\0';
	}
}

static void read_anon(struct goproc *p)
{
	char path[PATH_MAX], *text, *line;
	unsigned long long kb;
	int err;

	proc_path(path, sizeof(path), p->pid, "status");
	text = read_file(path, NULL, &err);
	if (!text)
		return;
	line = strstr(text, "\nRssAnon:");
	if (line && sscanf(line, "\nRssAnon: %llu kB", &kb) == 1 &&
	    kb <= UINT64_MAX / 1024) {
		p->anon = (uint64_t)kb * 1024;
		p->has_anon = true;
	}
	free(text);
}

static int read_comm(struct goproc *p)
{
	char path[PATH_MAX], *text;
	size_t len;
	int err;

	proc_path(path, sizeof(path), p->pid, "comm");
	text = read_file(path, &len, &err);
	if (!text)
		return err == -ENOENT ? -ESRCH : err;
	if (len && text[len - 1] == '\n')
		len--;
	goenv_printable(p->comm, sizeof(p->comm), text, len);
	free(text);
	return 0;
}

/*
 * What the last few executables said, by identity: `show` on 10,000
 * processes of one program (a pre-forking server, a node full of one
 * sidecar) reads its ELF once, not 10,000 times.  Only running programs'
 * files are read here, and the kernel refuses to write to those (ETXTBSY):
 * a file with the same device, inode, size, mtime and ctime is the same.
 */
#define EXE_CACHE_SIZE 8

struct exe_cache_entry {
	bool used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int err;
	struct goelf_info elf;
};

static struct exe_cache_entry exe_cache[EXE_CACHE_SIZE];
static unsigned int exe_cache_next;

static bool same_file(const struct exe_cache_entry *e, const struct stat *st)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec &&
	       e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static const struct exe_cache_entry *cached(const struct stat *st)
{
	unsigned int i;

	for (i = 0; i < EXE_CACHE_SIZE; i++)
		if (same_file(&exe_cache[i], st))
			return &exe_cache[i];
	return NULL;
}

/*
 * What the executable at @path (/proc/PID/exe) says.  A stat() first:
 * where the file is known, it is not opened at all (opening costs a round
 * trip to the server on a network or 9p root).
 */
static int read_exe(const char *path, struct goelf_info *elf)
{
	const struct exe_cache_entry *hit;
	struct exe_cache_entry *e;
	struct stat st;
	int fd, err;

	/* Kernel threads and zombies have no executable. */
	if (stat(path, &st))
		return errno == ENOENT ? -ENOEXEC : -errno;
	hit = cached(&st);
	if (hit) {
		*elf = hit->elf;
		return hit->err;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOEXEC : -errno;
	/* It may have exec'd since: the file read is the one to remember. */
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = goelf_read_fd(fd, elf);
	close(fd);
	/* A failed read may succeed next time: only verdicts are kept. */
	if (err && err != -ENOEXEC)
		return err;
	e = &exe_cache[exe_cache_next++ % EXE_CACHE_SIZE];
	*e = (struct exe_cache_entry){
		.used = true, .dev = st.st_dev, .ino = st.st_ino,
		.size = st.st_size, .mtime = st.st_mtim, .ctime = st.st_ctim,
		.err = err, .elf = *elf,
	};
	return err;
}

int goproc_read(int pid, struct goproc *p)
{
	char path[PATH_MAX], link[GOPROC_EXE_MAX];
	ssize_t n;
	int err;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	goenv_parse("", 0, &p->env);
	err = read_comm(p);
	if (err)
		return err;
	proc_path(path, sizeof(path), pid, "exe");
	err = read_exe(path, &p->elf);
	if (err)
		return err;
	n = readlink(path, link, sizeof(link));
	if (n > 0)
		goenv_printable(p->exe, sizeof(p->exe), link, (size_t)n);
	if (goenv_read(goproc_root, pid, &p->env))
		goenv_parse("", 0, &p->env);
	read_memcg(p);
	read_anon(p);
	return 0;
}

static int compare_pids(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The numeric entries of procfs: every process there is. */
static int list_pids(int **pids, size_t *n)
{
	size_t cap = 0;
	struct dirent *d;
	int *bigger;
	DIR *dir;
	char *end;
	long v;

	*pids = NULL;
	*n = 0;
	dir = opendir(goproc_root);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		errno = 0;
		v = strtol(d->d_name, &end, 10);
		if (errno || *end || v > INT_MAX)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			bigger = realloc(*pids, cap * sizeof(**pids));
			if (!bigger) {
				closedir(dir);
				free(*pids);
				*pids = NULL;
				return -ENOMEM;
			}
			*pids = bigger;
		}
		(*pids)[(*n)++] = (int)v;
	}
	closedir(dir);
	/* qsort() of no array (NULL) is undefined, even of 0 elements. */
	if (*n)
		qsort(*pids, *n, sizeof(**pids), compare_pids);
	return 0;
}

int goproc_scan(int (*fn)(const struct goproc *p, void *arg), void *arg)
{
	struct goproc *p;
	size_t i, n;
	int *pids, ret;

	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	ret = list_pids(&pids, &n);
	for (i = 0; !ret && i < n; i++) {
		if (!goproc_read(pids[i], p))
			ret = fn(p, arg);
	}
	free(pids);
	free(p);
	return ret;
}

int goproc_memcg_max(int pid, uint64_t *max, char *memcg, size_t len)
{
	struct goproc *p = calloc(1, sizeof(*p));
	int ret = -1;

	if (!p)
		return -1;
	p->pid = pid;
	read_memcg(p);
	if (p->has_max) {
		*max = p->memcg_max;
		snprintf(memcg, len, "%s", p->memcg);
		ret = 0;
	}
	free(p);
	return ret;
}

#define CAP_SYS_PTRACE_BIT 19	/* linux/capability.h */

bool goproc_can_read_all(void)
{
	unsigned long long caps = ~0ULL;
	char *path, *text, *line;
	size_t len;
	int err;

	if (asprintf(&path, "%s/self/status", goproc_root) < 0)
		return true;
	text = read_file(path, &len, &err);
	free(path);
	if (!text)
		return true;
	line = strstr(text, "\nCapEff:");
	if (line)
		caps = strtoull(line + 8, NULL, 16);
	free(text);
	return caps & (1ULL << CAP_SYS_PTRACE_BIT);
}

bool goproc_gomemlimit(const struct goproc *p, uint64_t *bytes)
{
	if (p->env.memlimit != GOENV_BYTES || !p->env.memlimit_bytes ||
	    !goelf_version_at_least(p->elf.version, 1, 19))
		return false;
	*bytes = p->env.memlimit_bytes;
	return true;
}

int goproc_default_limit(const struct goproc *p, uint64_t *limit,
			 uint32_t *origin)
{
	if (goproc_gomemlimit(p, limit)) {
		*origin = GOMEMGUARD_ORIGIN_GOMEMLIMIT;
		return 0;
	}
	/* 90 %, without overflowing near UINT64_MAX. */
	if (p->has_max && p->memcg_max / 10 * 9 + p->memcg_max % 10 * 9 / 10) {
		*limit = p->memcg_max / 10 * 9 + p->memcg_max % 10 * 9 / 10;
		*origin = GOMEMGUARD_ORIGIN_MEMCG_MAX;
		return 0;
	}
	return -ENOENT;
}

unsigned int goproc_warnings(const struct goproc *p, bool has_anon,
			     uint64_t anon)
{
	unsigned int w = 0;
	uint64_t limit;

	if (p->env.memlimit == GOENV_BYTES &&
	    !goelf_version_at_least(p->elf.version, 1, 19)) {
		w |= GOPROC_WARN_GOMEMLIMIT_IGNORED;
	} else if (goproc_gomemlimit(p, &limit)) {
		if (p->has_max && limit > p->memcg_max)
			w |= GOPROC_WARN_GOMEMLIMIT_ABOVE_MAX;
		if (has_anon && anon > limit + limit / 10)
			w |= GOPROC_WARN_ANON_ABOVE_GOMEMLIMIT;
	} else if (p->env.memlimit != GOENV_BYTES && p->has_max) {
		/* Unset, empty, "off", or malformed (which only old Go survives). */
		w |= GOPROC_WARN_GOMEMLIMIT_UNSET;
	}
	return w;
}

static const struct {
	unsigned int bit;
	const char *id;
} warning_ids[] = {
	{ GOPROC_WARN_GOMEMLIMIT_UNSET, "gomemlimit_unset" },
	{ GOPROC_WARN_GOMEMLIMIT_ABOVE_MAX, "gomemlimit_above_memory_max" },
	{ GOPROC_WARN_ANON_ABOVE_GOMEMLIMIT, "anon_above_gomemlimit" },
	{ GOPROC_WARN_GOMEMLIMIT_IGNORED, "gomemlimit_ignored" },
};

/* One line for people, under the row it is about. */
static void warning_text(const struct goproc *p, unsigned int bit,
			 uint64_t anon)
{
	char a[UNITS_BUF_LEN], b[UNITS_BUF_LEN];
	uint64_t limit = p->env.memlimit_bytes, pct;

	switch (bit) {
	case GOPROC_WARN_GOMEMLIMIT_UNSET:
		out_text("        ! GOMEMLIMIT unset under memory.max %s: Go's GC does not know the limit\n",
			 units_format_bytes(a, sizeof(a), p->memcg_max));
		break;
	case GOPROC_WARN_GOMEMLIMIT_ABOVE_MAX:
		out_text("        ! GOMEMLIMIT %s above memory.max %s: the OOM kill comes first\n",
			 units_format_bytes(a, sizeof(a), limit),
			 units_format_bytes(b, sizeof(b), p->memcg_max));
		break;
	case GOPROC_WARN_ANON_ABOVE_GOMEMLIMIT:
		/* limit > 0 here; anon * 100 fits unless anon is absurd. */
		pct = anon <= UINT64_MAX / 100 ? anon * 100 / limit :
						 anon / (limit / 100 + 1);
		out_text("        ! anon %s is %" PRIu64 "%% of GOMEMLIMIT %s: memory Go does not account (cgo, non-Go threads)\n",
			 units_format_bytes(a, sizeof(a), anon),
			 pct,
			 units_format_bytes(b, sizeof(b), limit));
		break;
	case GOPROC_WARN_GOMEMLIMIT_IGNORED:
		out_text("        ! GOMEMLIMIT is set, but %s ignores it (Go 1.19 and later read it)\n",
			 p->elf.version);
		break;
	}
}

void goproc_print_warnings(const struct goproc *p, unsigned int warnings,
			   uint64_t anon)
{
	size_t i;

	out_array_begin("warnings");
	for (i = 0; i < sizeof(warning_ids) / sizeof(warning_ids[0]); i++) {
		if (!(warnings & warning_ids[i].bit))
			continue;
		if (out_is_json())
			out_json_str(NULL, warning_ids[i].id);
		else
			warning_text(p, warning_ids[i].bit, anon);
	}
	out_array_end();
}
