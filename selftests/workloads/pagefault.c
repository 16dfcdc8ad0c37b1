// SPDX-License-Identifier: GPL-2.0
/*
 * pagefault: a benchmark helper for the cost gomemguard adds to the paths
 * it hooks. Default mode: map -size bytes of fresh anonymous memory
 * (MADV_NOHUGEPAGE), fault it in page by page, unmap it; -rounds times.
 * -fork N mode: fork N children one after another, each _exit(0)ing at
 * once and reaped before the next; with -hold-children D, the N children
 * stay alive (blocked on a pipe) while the parent does D's worth of fixed
 * work, then all are released and reaped: long enough lived for a cgroup
 * tag to adopt them, and the fixed work lets the adoption's own time show
 * (on one CPU it takes turns with the work; a sleep would hide it). The
 * work's time alone, taken in the same round, is subtracted. Times are
 * CLOCK_MONOTONIC nanoseconds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wl.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: pagefault [-size SIZE] [-rounds N] [-fork N [-heap SIZE] [-hold-children D]]\n"
		"                 [-delay DURATION]\n"
		"                 [-readyfile PATH] [-sigfile PATH]\n"
		"\n"
		"Time faulting in SIZE bytes of fresh anonymous memory page by page (or,\n"
		"with -fork, N fork+exit+wait cycles), -rounds times; print each round\n"
		"and the median.\n"
		"\n"
		"  -size SIZE         bytes to fault in per round (default 256M)\n"
		"  -rounds N          rounds (default 5)\n"
		"  -fork N            time N fork+exit+wait cycles per round instead\n"
		"  -heap SIZE         -fork mode: resident memory the parent holds (default 0)\n"
		"  -hold-children D   -fork mode: keep all N children alive while the parent\n"
		"                     does D of fixed work (its time alone subtracted)\n"
		"  -delay DURATION    wait this long after ready before round 1 (default 0)\n"
		"  -readyfile PATH    write the pid here before round 1\n"
		"  -sigfile PATH      append a line here for each SIGUSR1\n");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t fault_round(size_t size)
{
	uint64_t t0 = wl_now_ns();
	void *p = wl_map(size, true);

	wl_touch(p, size);
	if (munmap(p, size))
		wl_die("munmap: %s", strerror(errno));
	return wl_now_ns() - t0;
}

/* Fixed work: the same instructions every time, whatever else runs. */
static void spin(uint64_t loops)
{
	volatile uint64_t x = 0;

	while (loops--)
		x++;
}

/* Loops of spin() that take about @ns with nothing else running. */
static uint64_t spin_calibrate(uint64_t ns)
{
	uint64_t loops = 1 << 20, t0, took;

	for (;;) {
		t0 = wl_now_ns();
		spin(loops);
		took = wl_now_ns() - t0;
		if (took >= 20000000 || loops >= (1ull << 40))
			return loops * ns / (took ? took : 1) + 1;
		loops *= 4;
	}
}

/*
 * N children alive at once, @loops of spin() while they live, then all
 * released and reaped; returns the time less that of the spin alone
 * (*@spin_ns, taken just before).
 */
static uint64_t fork_hold_round(unsigned int n, uint64_t loops, uint64_t *spin_ns)
{
	uint64_t t0, total;
	unsigned int i;
	int fds[2], status;
	pid_t pid;
	char c;

	t0 = wl_now_ns();
	spin(loops);
	*spin_ns = wl_now_ns() - t0;
	if (pipe(fds))
		wl_die("pipe: %s", strerror(errno));
	t0 = wl_now_ns();
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			wl_die("fork: %s", strerror(errno));
		if (!pid) {
			close(fds[1]);
			/* EOF once the parent closes its end. */
			_exit(read(fds[0], &c, 1) == 0 ? 0 : 1);
		}
	}
	spin(loops);
	close(fds[1]);
	for (i = 0; i < n; i++) {
		pid = wait(&status);
		if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			wl_die("child %d did not exit 0", pid);
	}
	total = wl_now_ns() - t0;
	close(fds[0]);
	return total > *spin_ns ? total - *spin_ns : 0;
}

static uint64_t fork_round(unsigned int n)
{
	uint64_t t0 = wl_now_ns();
	unsigned int i;
	int status;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			wl_die("fork: %s", strerror(errno));
		if (!pid)
			_exit(0);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			wl_die("child %d did not exit 0", pid);
	}
	return wl_now_ns() - t0;
}

int main(int argc, char **argv)
{
	enum { O_SIZE, O_ROUNDS, O_FORK, O_HEAP, O_HOLD, O_DELAY, O_READY, O_SIG, O_HELP };
	static const struct option opts[] = {
		{ "size", required_argument, NULL, O_SIZE },
		{ "rounds", required_argument, NULL, O_ROUNDS },
		{ "fork", required_argument, NULL, O_FORK },
		{ "heap", required_argument, NULL, O_HEAP },
		{ "hold-children", required_argument, NULL, O_HOLD },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "sigfile", required_argument, NULL, O_SIG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *readyfile = NULL, *sigfile = NULL;
	uint64_t size = 256 << 20, heap = 0, delay = 0, hold = 0, loops = 0, spin_ns = 0;
	uint64_t *ns, med;
	unsigned int rounds = 5, forks = 0, i;
	size_t pages;
	int opt;

	wl_init("pagefault", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_SIZE:
			size = wl_size_arg("size", optarg);
			break;
		case O_ROUNDS:
			rounds = wl_uint_arg("rounds", optarg);
			break;
		case O_FORK:
			forks = wl_uint_arg("fork", optarg);
			break;
		case O_HEAP:
			heap = wl_size_arg("heap", optarg);
			break;
		case O_HOLD:
			hold = wl_duration_arg("hold-children", optarg);
			break;
		case O_DELAY:
			delay = wl_duration_arg("delay", optarg);
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
	if (!rounds || (!forks && !size))
		wl_usage_error("-rounds and -size must not be 0");
	ns = calloc(rounds, sizeof(*ns));
	if (!ns)
		wl_die("out of memory");

	wl_sigusr1_init(sigfile, false);
	if (forks && heap) {
		wl_touch(wl_map(heap, true), heap);
		atomic_store(&wl_bytes, (long long)heap);
	}
	if (forks && hold)
		loops = spin_calibrate(hold);
	wl_ready(readyfile);
	if (delay)
		wl_sleep_until(wl_now_ns() + delay);

	pages = (size + wl_page_size() - 1) / wl_page_size();
	for (i = 0; i < rounds; i++) {
		if (forks && hold) {
			ns[i] = fork_hold_round(forks, loops, &spin_ns);
			printf("round=%u forks=%u ns=%llu ns_per_fork=%.0f spin_ns=%llu\n", i + 1,
			       forks, (unsigned long long)ns[i], (double)ns[i] / forks,
			       (unsigned long long)spin_ns);
		} else if (forks) {
			ns[i] = fork_round(forks);
			printf("round=%u forks=%u ns=%llu ns_per_fork=%.0f\n", i + 1, forks,
			       (unsigned long long)ns[i], (double)ns[i] / forks);
		} else {
			ns[i] = fault_round(size);
			printf("round=%u bytes=%llu ns=%llu ns_per_page=%.1f\n", i + 1,
			       (unsigned long long)size, (unsigned long long)ns[i],
			       (double)ns[i] / (double)pages);
		}
	}
	med = median(ns, rounds);
	if (forks)
		printf("median_ns=%llu median_ns_per_fork=%.0f\n", (unsigned long long)med,
		       (double)med / forks);
	else
		printf("median_ns=%llu median_ns_per_page=%.1f\n", (unsigned long long)med,
		       (double)med / (double)pages);
	free(ns);
	return 0;
}
