// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl policy: "check" reads rule files and says what is wrong with
 * them, "apply" reconciles the kernel's tags with them once.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "gomemctl.h"
#include "output.h"
#include "policy.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl policy check [PATH]\n"
		"       gomemctl policy apply [--policy-dir DIR] [--state FILE] [--dry-run]\n"
		"\n"
		"Policies tag cgroups and processes by rules, one per file in\n"
		"%s (see gomemguard.policy(5)).\n"
		"\n"
		"check: read the rules in PATH, a file or a directory (default the\n"
		"one above), and print each problem as \"file:line: message\"; exit\n"
		"status 2 when there is one.  With -j, the rules as JSON.\n"
		"\n"
		"apply: tag what the rules match and untag what this command\n"
		"tagged before and no rule matches any more; tags made otherwise\n"
		"are left alone.  Nothing changes while a rule file has a problem.\n"
		"\n"
		"Options:\n"
		"      --policy-dir DIR  the rules (default %s)\n"
		"      --state FILE      where apply remembers its own tags\n"
		"                        (default %s)\n"
		"  -n, --dry-run         print the plan, change nothing\n"
		"  -h, --help            print this help\n",
		POLICY_DIR, POLICY_DIR, POLICY_STATE);
}

static int check(int argc, char *argv[])
{
	const char *path = POLICY_DIR;
	struct policy_set set;
	int problems;

	if (argc - optind > 1) {
		gmc_err("policy", "unexpected argument \"%s\"", argv[optind + 1]);
		usage(stderr);
		return GMC_EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	problems = policy_load(path, false, stderr, &set);
	if (problems > 0)
		gmc_err("policy", "%d problem%s in %s", problems,
			problems == 1 ? "" : "s", path);
	else if (!problems && out_is_json())
		policy_print(&set);
	else if (!problems)
		printf("%zu rule%s in %zu file%s\n", set.n,
		       set.n == 1 ? "" : "s", set.n_files,
		       set.n_files == 1 ? "" : "s");
	policy_free(&set);
	if (problems < 0)
		return GMC_EXIT_ERROR;
	return problems ? GMC_EXIT_USAGE : GMC_EXIT_OK;
}

int policy_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "policy-dir", required_argument, NULL, 'd' },
		{ "state",      required_argument, NULL, 's' },
		{ "dry-run",    no_argument,       NULL, 'n' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = POLICY_DIR, *state = POLICY_STATE, *what;
	bool dry_run = false, apply_opts = false;
	int c;

	while ((c = getopt_long(argc, argv, ":nh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			apply_opts = true;
			break;
		case 's':
			state = optarg;
			apply_opts = true;
			break;
		case 'n':
			dry_run = true;
			apply_opts = true;
			break;
		case 'h':
			usage(stdout);
			return GMC_EXIT_OK;
		default:
			gmc_bad_option("policy", c, argv);
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		gmc_err("policy", "give a command: check or apply");
		usage(stderr);
		return GMC_EXIT_USAGE;
	}
	what = argv[optind++];
	if (!strcmp(what, "check")) {
		if (apply_opts) {
			gmc_err("policy", "check takes a PATH, not apply's options");
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
		return check(argc, argv);
	}
	if (!strcmp(what, "apply")) {
		if (optind < argc) {
			gmc_err("policy", "unexpected argument \"%s\"",
				argv[optind]);
			usage(stderr);
			return GMC_EXIT_USAGE;
		}
		return policy_reconcile("policy", dir, state,
					dry_run ? POLICY_DRY_RUN : 0);
	}
	gmc_err("policy", "unknown command \"%s\": check or apply", what);
	usage(stderr);
	return GMC_EXIT_USAGE;
}
