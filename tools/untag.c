// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl untag: stop watching a process or a cgroup.
 */
#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "tagargs.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl untag PID\n"
		"       gomemctl untag --cgroup PATH\n"
		"\n"
		"Stop watching a process tagged by PID, or a tagged cgroup and every\n"
		"process it brought in.  A process watched because of its cgroup is\n"
		"untagged with its cgroup.\n"
		"\n"
		"Options:\n"
		"      --cgroup PATH  untag the cgroup at PATH instead of a PID\n"
		"  -h, --help         print this help\n");
}

int untag_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		TAGARGS_OPT_CGROUP,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct tag_verb verb = {
		.name = "untag",
		.cmd = GOMEMGUARD_CMD_TAG_DEL,
		.opts = opts,
		.usage = usage,
		.need = TAGARGS_TARGET_ONLY,
	};

	return tagargs_main(&verb, argc, argv);
}
