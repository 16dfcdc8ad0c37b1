// SPDX-License-Identifier: GPL-2.0
/*
 * mtgrow: many threads each fault in a few MiB, one 4 KiB page at a time,
 * then never run again. On Linux 6.1 each thread keeps up to 63 pages of
 * RSS changes in its own cache (task->rss_stat) until its next fault
 * syncs them, so an mm's RSS counters lag by that much per idle thread:
 * the case a per-mm RSS tracker must not be fooled by.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wl.h"

static unsigned int nthreads = 8;
static size_t per_thread = 4 << 20;
static bool concurrent;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned int finished;
static pthread_barrier_t start_line;

static void usage(void)
{
	fprintf(stderr,
		"usage: mtgrow [-threads N] [-per-thread SIZE] [-concurrent] [-hold DURATION]\n"
		"              [-readyfile PATH] [-sigfile PATH]\n"
		"\n"
		"Each of N threads maps SIZE bytes (MADV_NOHUGEPAGE) and faults it in page by\n"
		"page, one thread after another (or all at once with -concurrent), then sleeps\n"
		"forever without another fault or syscall. Prints \"done total=<bytes>\" and\n"
		"writes -readyfile once all have finished.\n"
		"\n"
		"  -threads N          threads (default 8)\n"
		"  -per-thread SIZE    bytes each thread touches (default 4M)\n"
		"  -concurrent         all threads fault at the same time\n"
		"  -hold DURATION      exit 0 this long after done (default 0: never)\n"
		"  -readyfile PATH     write the pid here once done\n"
		"  -sigfile PATH       append a line here for each SIGUSR1\n");
}

static void *worker(void *arg)
{
	char *p;

	(void)arg;
	p = wl_map(per_thread, true);
	if (concurrent)
		pthread_barrier_wait(&start_line);
	wl_touch(p, per_thread);
	atomic_fetch_add(&wl_bytes, (long long)per_thread);

	pthread_mutex_lock(&lock);
	finished++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	/* SIGUSR1 is blocked here: nothing wakes this thread again. */
	for (;;)
		pause();
	return NULL;
}

static void wait_finished(unsigned int n)
{
	pthread_mutex_lock(&lock);
	while (finished < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
	enum { O_THREADS, O_PER_THREAD, O_CONCURRENT, O_HOLD, O_READY, O_SIG, O_HELP };
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, O_THREADS },
		{ "per-thread", required_argument, NULL, O_PER_THREAD },
		{ "concurrent", no_argument, NULL, O_CONCURRENT },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "sigfile", required_argument, NULL, O_SIG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *readyfile = NULL, *sigfile = NULL;
	uint64_t hold = 0, size;
	pthread_attr_t attr;
	pthread_t th;
	sigset_t usr1, old;
	unsigned int i;
	int opt, err;

	wl_init("mtgrow", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_THREADS:
			nthreads = wl_uint_arg("threads", optarg);
			break;
		case O_PER_THREAD:
			size = wl_size_arg("per-thread", optarg);
			per_thread = (size + wl_page_size() - 1) / wl_page_size() * wl_page_size();
			break;
		case O_CONCURRENT:
			concurrent = true;
			break;
		case O_HOLD:
			hold = wl_duration_arg("hold", optarg);
			break;
		case O_READY:
			readyfile = optarg;
			break;
		case O_SIG:
			sigfile = optarg;
			break;
		case O_HELP:
			usage();
			return 0;
		default:
			wl_usage();
		}
	}
	wl_no_args(argc, argv);
	if (!nthreads)
		wl_usage_error("-threads must be at least 1");

	wl_sigusr1_init(sigfile, false);
	/* The workers inherit the blocked mask: SIGUSR1 goes to main only. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	if (concurrent && pthread_barrier_init(&start_line, NULL, nthreads))
		wl_die("pthread_barrier_init failed");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < nthreads; i++) {
		err = pthread_create(&th, &attr, worker, NULL);
		if (err)
			wl_die("pthread_create: %s", strerror(err));
		if (!concurrent)
			wait_finished(i + 1);
	}
	wait_finished(nthreads);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	printf("done total=%zu threads=%u per_thread=%zu\n",
	       (size_t)nthreads * per_thread, nthreads, per_thread);
	wl_ready(readyfile);
	if (!hold)
		for (;;)
			pause();
	wl_sleep_until(wl_now_ns() + hold);
	printf("exit\n");
	return 0;
}
