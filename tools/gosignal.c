// SPDX-License-Identifier: GPL-2.0
/*
 * What Go does with a signal the program did not ask for (os/signal's
 * package documentation): SIGHUP, SIGINT and SIGTERM end it; SIGQUIT,
 * SIGILL, SIGTRAP, SIGABRT, SIGSTKFLT and SIGSYS end it with a stack dump;
 * SIGPROF feeds the CPU profiler; the others are caught and nothing is done.
 * SIGKILL needs no handler: a fuse of SIGKILL is meant to kill.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "gomemctl.h"
#include "goproc.h"
#include "gosignal.h"
#include "signals.h"

static const char *go_default(uint32_t sig)
{
	switch (sig) {
	case SIGHUP:
	case SIGINT:
	case SIGTERM:
		return "Go exits on it: the fuse would end the service";
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGSTKFLT:
	case SIGSYS:
		return "Go exits on it with a stack dump: the fuse would end the service";
	case SIGPROF:
		return "Go takes it for CPU profiling: the fuse would go unnoticed";
	default:
		return "Go ignores it: the fuse would go unnoticed";
	}
}

void gosignal_warn_info(const char *verb, uint32_t pid, const char *comm,
			const struct goelf_info *gi, uint32_t sig)
{
	char name[32];

	if (!sig || sig == SIGKILL || gi->uses_fuse)
		return;
	gmc_note("gomemctl: %s: warning: pid %u (%s) is a Go program (%s) not built with %s: whether it handles %s cannot be told from outside; unless it calls signal.Notify for it, %s",
		 verb, pid, comm, *gi->version ? gi->version : "version unknown",
		 GOELF_FUSE_MODULE, signal_format(name, sizeof(name), sig),
		 go_default(sig));
}

void gosignal_warn(const char *verb, uint32_t pid, uint32_t sig)
{
	char path[PATH_MAX], comm[32] = "?";
	struct goelf_info gi;
	FILE *f;
	int fd;

	if (!sig || sig == SIGKILL)
		return;
	snprintf(path, sizeof(path), "%s/%u/exe", goproc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (goelf_read_fd(fd, &gi)) {
		close(fd);
		return;
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/%u/comm", goproc_root, pid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%31[^\n]", comm) != 1)
			snprintf(comm, sizeof(comm), "?");
		fclose(f);
	}
	gosignal_warn_info(verb, pid, comm, &gi, sig);
}
