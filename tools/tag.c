// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl tag: start watching a process or a cgroup.
 */
#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "tagargs.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl tag PID --soft-limit SIZE [options]\n"
		"       gomemctl tag --cgroup PATH --soft-limit SIZE [options]\n"
		"\n"
		"Watch a process (PID: the whole thread group), or every process in a\n"
		"cgroup v2 directory and below, now and later.  PATH is a directory\n"
		"under the cgroup2 mount (/sys/fs/cgroup/app.slice) or a path relative\n"
		"to the cgroup root (/app.slice).  gomemguard warns when anon + swap\n"
		"crosses a level of the soft limit and when a limit is near.\n"
		"\n"
		"Options:\n"
		"      --cgroup PATH           tag the cgroup at PATH instead of a PID\n");
	tagargs_usage_settings(f);
	fprintf(f,
		"  -h, --help                  print this help\n");
}

int tag_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		TAGARGS_OPT_CGROUP,
		TAGARGS_OPTS_SETTINGS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct tag_verb verb = {
		.name = "tag",
		.cmd = GOMEMGUARD_CMD_TAG_NEW,
		.opts = opts,
		.usage = usage,
		.need = TAGARGS_SOFT_LIMIT,
	};

	return tagargs_main(&verb, argc, argv);
}
