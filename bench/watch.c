// SPDX-License-Identifier: GPL-2.0
/*
 * watch: the detectors of detect.h on one memory cgroup, for as long as a
 * workload runs in it: started before the workload, it returns once the
 * cgroup has held processes and is empty again (killed, or done), a grace
 * period later, so that late events (gomemguard's oom event) still count.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "detect.h"
#include "wl.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: watch -cgroup DIR [-gomemctl PATH] [-psi TRIGGER] [-events]\n"
		"             [-poll DURATION -poll-threshold SIZE] [-duration DURATION]\n"
		"             [-grace DURATION] [-after-high DURATION] [-readyfile PATH]\n"
		"\n"
		"Print what each detector sees in the memory cgroup DIR until it empties.\n"
		"\n"
		"  -cgroup DIR            cgroup v2 directory to watch\n"
		"  -gomemctl PATH         run PATH monitor -j and print its lines\n"
		"  -psi TRIGGER           PSI trigger for memory.pressure, e.g.\n"
		"                         \"some 150000 1000000\"\n"
		"  -events                report memory.events changes\n"
		"  -poll DURATION         read memory.current this often...\n"
		"  -poll-threshold SIZE   ...and report when it reaches SIZE\n"
		"  -duration DURATION     give up after this long (default 120s)\n"
		"  -grace DURATION        keep watching this long after the cgroup\n"
		"                         empties (default 1500ms)\n"
		"  -after-high DURATION   with -events: stop this long after memory.events\n"
		"                         high first rises (memory.high throttling may\n"
		"                         hold a leak off memory.max for good)\n"
		"  -readyfile PATH        write the pid here once every detector is armed\n");
}

int main(int argc, char **argv)
{
	enum { O_CGROUP, O_GOMEMCTL, O_PSI, O_EVENTS, O_POLL, O_THRESHOLD, O_DURATION,
	       O_GRACE, O_AFTER_HIGH, O_READY, O_HELP };
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "gomemctl", required_argument, NULL, O_GOMEMCTL },
		{ "psi", required_argument, NULL, O_PSI },
		{ "events", no_argument, NULL, O_EVENTS },
		{ "poll", required_argument, NULL, O_POLL },
		{ "poll-threshold", required_argument, NULL, O_THRESHOLD },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "after-high", required_argument, NULL, O_AFTER_HIGH },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct detect_opts o = { .until_empty = true, .grace_ns = 1500000000ULL };
	uint64_t duration = 120 * NSEC_PER_SEC;
	const char *readyfile = NULL;
	struct detect *d;
	int opt;

	wl_init("watch", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_CGROUP:
			o.cgroup = optarg;
			break;
		case O_GOMEMCTL:
			o.gomemctl = optarg;
			break;
		case O_PSI:
			o.psi = optarg;
			break;
		case O_EVENTS:
			o.events = true;
			break;
		case O_POLL:
			o.poll_ns = wl_duration_arg("poll", optarg);
			break;
		case O_THRESHOLD:
			o.poll_high = wl_size_arg("poll-threshold", optarg);
			break;
		case O_DURATION:
			duration = wl_duration_arg("duration", optarg);
			break;
		case O_GRACE:
			o.grace_ns = wl_duration_arg("grace", optarg);
			break;
		case O_AFTER_HIGH:
			o.high_grace_ns = wl_duration_arg("after-high", optarg);
			break;
		case O_READY:
			readyfile = optarg;
			break;
		case O_HELP:
			usage();
			return 0;
		default:
			wl_usage();
		}
	}
	wl_no_args(argc, argv);
	if (!o.cgroup)
		wl_usage_error("-cgroup is required");
	if (!o.poll_ns != !o.poll_high)
		wl_usage_error("-poll and -poll-threshold go together");
	/* One report per upward crossing: re-armed 5 % below. */
	o.poll_low = o.poll_high - o.poll_high / 20;
	o.end_ns = detect_now() + duration;

	d = detect_start(&o);
	printf("start t=%" PRIu64 "\n", detect_now());
	wl_ready(readyfile);
	detect_loop(d);
	detect_finish(d);
	printf("end t=%" PRIu64 "\n", detect_now());
	return 0;
}
