// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl set: change the settings of a tag.
 */
#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "tagargs.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl set PID [options]\n"
		"       gomemctl set --cgroup PATH [options]\n"
		"\n"
		"Change the settings of a process tagged by PID, or of a tagged cgroup\n"
		"and all its processes.  Settings not given keep their value; at least\n"
		"one is required.\n"
		"\n"
		"Options:\n"
		"      --cgroup PATH           change the tag of the cgroup at PATH\n");
	tagargs_usage_settings(f);
	fprintf(f,
		"      --no-signal             send no signal\n"
		"      --no-inherit            do not watch children forked from now on\n"
		"  -h, --help                  print this help\n");
}

int set_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		TAGARGS_OPT_CGROUP,
		TAGARGS_OPTS_SETTINGS,
		TAGARGS_OPTS_UNSET,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct tag_verb verb = {
		.name = "set",
		.cmd = GOMEMGUARD_CMD_TAG_SET,
		.opts = opts,
		.usage = usage,
		.need = TAGARGS_ANY_SETTING,
	};

	return tagargs_main(&verb, argc, argv);
}
