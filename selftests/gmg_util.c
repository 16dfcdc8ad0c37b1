// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "gmg_util.h"

#define MODPROBE_SYSCTL "/proc/sys/kernel/modprobe"

static unsigned int time_scale;

unsigned int gmg_time_scale(void)
{
	const char *v = getenv("GMG_TIME_SCALE");
	unsigned long n;
	char *end;

	if (time_scale)
		return time_scale;
	if (!v || !*v) {
		time_scale = 1;
		return time_scale;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < 1 ||
	    n > GMG_TIME_SCALE_MAX) {
		fprintf(stderr, "GMG_TIME_SCALE=%s: not a whole number from 1 to %d\n",
			v, GMG_TIME_SCALE_MAX);
		exit(1);
	}
	time_scale = n;
	return time_scale;
}

bool gmg_timing_asserted(void)
{
	return gmg_time_scale() == 1;
}

/*
 * At start-up, before any test: a bad GMG_TIME_SCALE stops the program
 * there, not in the middle of a test that happens to wait first.
 */
__attribute__((constructor)) static void time_scale_check(void)
{
	gmg_time_scale();
}

int gmg_ms(int ms)
{
	return ms > 0 ? ms * (int)gmg_time_scale() : ms;
}

const char *gmg_env_path(const char *name)
{
	const char *p = getenv(name);

	if (!p || !*p) {
		fprintf(stderr, "# %s is not set: run the tests through selftests/guest-run.sh\n",
			name);
		return NULL;
	}
	return p;
}

int gmg_module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/gomemguard", &st) == 0;
}

int gmg_module_load(void)
{
	const char *ko = gmg_env_path("GMG_KO");
	int fd, ret;

	if (!ko)
		return -EINVAL;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

int gmg_module_unload(void)
{
	unsigned int tries;

	/* Up to 5 s (scaled) for the last users to let go. */
	for (tries = 0; tries < 100 * gmg_time_scale(); tries++) {
		if (!syscall(SYS_delete_module, "gomemguard", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		usleep(50000);
	}
	return -EBUSY;
}

static void drain(int fd, char *buf, size_t sz, size_t *len, int *open)
{
	ssize_t n;

	if (*len + 1 >= sz) {
		char sink[512];

		n = read(fd, sink, sizeof(sink));
	} else {
		n = read(fd, buf + *len, sz - 1 - *len);
		if (n > 0)
			*len += n;
	}
	if (n <= 0)
		*open = 0;
	buf[*len] = '\0';
}

int gmg_run_ctl(struct gmg_run *r, uid_t uid, const char *const *argv)
{
	const char *ctl = gmg_env_path("GOMEMCTL");
	int out[2], err[2], status, oo = 1, eo = 1;
	size_t ol = 0, el = 0;
	const char *args[32];
	pid_t pid;
	int i;

	memset(r, 0, sizeof(*r));
	if (!ctl)
		return -EINVAL;
	args[0] = "gomemctl";
	for (i = 0; argv[i] && i < 30; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd;

		dup2(out[1], 1);
		dup2(err[1], 2);
		/*
		 * Found while still root: a clone inside a 0700 directory
		 * (root's home, a mktemp -d) has a path the other user
		 * cannot walk, but the binary itself is theirs to run.
		 */
		fd = open(ctl, O_PATH | O_CLOEXEC);
		if (fd < 0)
			_exit(127);
		if (uid != (uid_t)-1 &&
		    (setresgid(uid, uid, uid) || setresuid(uid, uid, uid)))
			_exit(126);
		syscall(SYS_execveat, fd, "", (char *const *)args, environ,
			AT_EMPTY_PATH);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while (oo || eo) {
		struct pollfd p[2] = {
			{ .fd = oo ? out[0] : -1, .events = POLLIN },
			{ .fd = eo ? err[0] : -1, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			drain(out[0], r->out, sizeof(r->out), &ol, &oo);
		if (p[1].revents)
			drain(err[0], r->err, sizeof(r->err), &el, &eo);
	}
	close(out[0]);
	close(err[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status);
	return 0;
}

int gmg_set_modprobe(const char *path, char *old, size_t oldsz)
{
	FILE *f;

	if (old) {
		f = fopen(MODPROBE_SYSCTL, "r");
		if (!f)
			return -errno;
		if (!fgets(old, oldsz, f)) {
			fclose(f);
			return -EIO;
		}
		fclose(f);
		old[strcspn(old, "\n")] = '\0';
	}
	f = fopen(MODPROBE_SYSCTL, "w");
	if (!f)
		return -errno;
	/* An empty string is written as a lone newline: autoload off. */
	fprintf(f, "%s\n", path);
	return fclose(f) ? -errno : 0;
}
