// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroup_util.h"
#include "gmg_util.h"

int cg_write(const char *cg, const char *file, const char *value)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static int cg_read(const char *cg, const char *file, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

long long cg_read_ll(const char *cg, const char *file)
{
	char buf[64];

	if (cg_read(cg, file, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

long long cg_read_key(const char *cg, const char *file, const char *key)
{
	char buf[4096], *p = buf;
	size_t klen = strlen(key);

	if (cg_read(cg, file, buf, sizeof(buf)))
		return -1;
	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoll(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int cg_destroy(const char *cg)
{
	char procs[64];
	unsigned int i;

	cg_write(cg, "cgroup.kill", "1");
	/* Up to 10 s (scaled) for the killed to exit. */
	for (i = 0; i < 200 * gmg_time_scale(); i++) {
		if (cg_read(cg, "cgroup.procs", procs, sizeof(procs)) || !procs[0])
			break;
		sleep_ms(50);
	}
	return rmdir(cg) && errno != ENOENT ? -errno : 0;
}

int cg_create(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/gmgtest.%s", CG_ROOT, name);
	cg_destroy(path);
	if (mkdir(path, 0755))
		return -errno;
	return 0;
}

pid_t spawn(const char *cg, const char *const argv[], const char *log)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	if (cg && cg_write(cg, "cgroup.procs", "0"))
		_exit(125);
	fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/*
 * Workloads run from a copy in /tmp (tmpfs), made by the test itself: their
 * text is then page cache charged to the test's cgroup, not to the cgroup
 * under test, whose reclaim would otherwise refetch it from the read-only 9p
 * share, slowly, while it thrashes towards its OOM kill -- as a service's
 * binary, read long ago by someone else, would not be either.
 */
const char *workload(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("GMG_WORKLOADS");
	char src[512], cmd[1200];
	struct stat st;

	snprintf(buf, len, "/tmp/gmg-bin/%s", name);
	if (!stat(buf, &st))
		return buf;
	snprintf(src, sizeof(src), "%s/%s", dir ? dir : "/nonexistent", name);
	snprintf(cmd, sizeof(cmd), "mkdir -p /tmp/gmg-bin && cp '%s' '%s'", src, buf);
	if (system(cmd))
		snprintf(buf, len, "%s", src);
	return buf;
}

int wait_ready(const char *file, int ms)
{
	for (ms = gmg_ms(ms); ms > 0; ms -= 50) {
		if (!access(file, R_OK))
			return 0;
		sleep_ms(50);
	}
	return -ETIMEDOUT;
}

void drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

static pid_t cachereader(const char *cg, const char *file, const char *heap,
			 const char *ready, bool mapped)
{
	char bin[256];
	const char *argv[] = { workload("cachereader", bin, sizeof(bin)),
			       "-file", file, "-heap", heap, "-readyfile", ready,
			       mapped ? "-mmap" : NULL, NULL };

	/*
	 * The file's pages still cached from an earlier reader stay charged
	 * to that reader's (removed) memcg: this one would find them there,
	 * and never fill its own memcg, nor make reclaim run in it.
	 */
	drop_caches();
	unlink(ready);
	return spawn(cg, argv, "/tmp/cachereader.log");
}

pid_t spawn_cachereader(const char *cg, const char *file, const char *heap,
			const char *ready)
{
	return cachereader(cg, file, heap, ready, false);
}

pid_t spawn_cachereader_mapped(const char *cg, const char *file, const char *heap,
			       const char *ready)
{
	return cachereader(cg, file, heap, ready, true);
}

uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int wait_comm(pid_t pid, const char *comm)
{
	char path[64], buf[32];
	int i, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	for (i = 0; i < gmg_ms(5000) / 10; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n - 1 : 0] = '\0';
		if (!strcmp(buf, comm))
			return 0;
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
