// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl: the operators' command line for gomemguard.ko.
 *
 * Global flags, then one verb from the table; each verb lives in its own file
 * and parses its own options.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gomemctl.h"
#include "nl.h"
#include "output.h"

#ifndef GOMEMCTL_VERSION
#error "GOMEMCTL_VERSION is set by the Makefile"
#endif

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *help;
} verbs[] = {
	{ "tag",     tag_main,     "watch a process or a cgroup" },
	{ "untag",   untag_main,   "stop watching a process or a cgroup" },
	{ "set",     set_main,     "change the settings of a tag" },
	{ "show",    show_main,    "show watched processes, cgroup tags or memcgs" },
	{ "oom",     oom_main,     "show what the module recorded of OOM kills" },
	{ "monitor", monitor_main, "print warnings as they happen" },
	{ "info",    info_main,    "show module version, kernel and counters" },
	{ "config",  config_main,  "change module-wide settings" },
	{ "discover", discover_main, "list running Go programs and their memory settings" },
	{ "policy",  policy_main,  "check policy files, tag and untag by them" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: gomemctl [-j | -p] <command> [<args>]\n"
		"       gomemctl -V | -h\n"
		"\n"
		"Early warnings of anonymous-memory growth in Go services, before the\n"
		"OOM killer acts; gomemctl drives the gomemguard kernel module.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f,
		"  %-8s %s\n"
		"\n"
		"Options:\n"
		"  -j, --json     print JSON\n"
		"  -p, --pretty   print indented JSON (implies -j)\n"
		"  -V, --version  print gomemctl's version\n"
		"  -h, --help     print this help\n"
		"\n"
		"Run \"gomemctl <command> --help\" for the options of a command.\n",
		"help", "show this help, or a command's with \"help <command>\"");
}

static char *capture;
static size_t capture_len;

void gmc_err_capture(char *buf, size_t len)
{
	capture = buf;
	capture_len = len;
	if (buf && len)
		buf[0] = '\0';
}

/* A line into the capture buffer, after "; " if it holds one already. */
static void captured(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static void captured(const char *fmt, va_list ap)
{
	size_t n = strlen(capture);

	if (n && n + 2 < capture_len) {
		memcpy(capture + n, "; ", 3);
		n += 2;
	}
	if (n + 1 < capture_len)
		vsnprintf(capture + n, capture_len - n, fmt, ap);
}

void gmc_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (capture) {
		captured(fmt, ap);
		va_end(ap);
		return;
	}
	fputs("gomemctl: ", stderr);
	if (verb)
		fprintf(stderr, "%s: ", verb);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void gmc_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (capture) {
		captured(fmt, ap);
		va_end(ap);
		return;
	}
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void gmc_bad_option(const char *verb, int c, char *argv[])
{
	/* getopt has just stepped past the argument holding the option. */
	const char *arg = argv[optind - 1];

	if (c == ':')
		gmc_err(verb, "option \"%s\" needs a value", arg);
	else if (optopt && !strncmp(arg, "--", 2))
		/* A known long option with "=value": its val is no character. */
		gmc_err(verb, "option \"%.*s\" takes no value", (int)strcspn(arg, "="),
			arg);
	else if (optopt)
		gmc_err(verb, "unknown option \"-%c\"", optopt);
	else
		gmc_err(verb, "unknown option \"%s\"", arg);
}

/*
 * Output that could not be written is a failure, even of --help.  A verb
 * that failed as the module is not there says 3, whatever verb it was.
 */
static int finish(int ret)
{
	if (ret == GMC_EXIT_ERROR && gmc_nl_module_missing())
		ret = GMC_EXIT_UNAVAILABLE;
	if ((fflush(stdout) == EOF || ferror(stdout)) && ret == GMC_EXIT_OK) {
		gmc_err(NULL, "cannot write the output: %s", strerror(errno));
		ret = GMC_EXIT_ERROR;
	}
	return ret;
}

/*
 * A usage error is the line that says what is wrong, and where to read
 * more: never the whole help, which would bury that line.
 */
static int try_help(const char *verb)
{
	gmc_note("Try 'gomemctl%s%s --help'.", verb ? " " : "", verb ? verb : "");
	return GMC_EXIT_USAGE;
}

static int run_verb(int argc, char *argv[])
{
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (!strcmp(argv[0], verbs[i].name)) {
			optind = 0;	/* glibc: start over, at argv[1] */
			ret = verbs[i].main(argc, argv);
			return ret == GMC_EXIT_USAGE ? try_help(verbs[i].name) :
						       ret;
		}
	}
	gmc_err(NULL, "unknown command \"%s\"", argv[0]);
	return try_help(NULL);
}

/* "help" and "help <command>" */
static int help(int argc, char *argv[])
{
	char help_flag[] = "--help";
	char *verb_argv[] = { NULL, help_flag, NULL };

	if (argc == 1) {
		usage(stdout);
		return GMC_EXIT_OK;
	}
	if (argc > 2) {
		gmc_err(NULL, "help: unexpected argument \"%s\"", argv[2]);
		return try_help(NULL);
	}
	verb_argv[0] = argv[1];
	return run_verb(2, verb_argv);
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json",    no_argument, NULL, 'j' },
		{ "pretty",  no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help",    no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;	/* gmc_bad_option() speaks instead */
	while ((c = getopt_long(argc, argv, "+:jpVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			out_set_mode(OUT_JSON);
			break;
		case 'p':
			out_set_mode(OUT_JSON_PRETTY);
			break;
		case 'V':
			printf("gomemctl %s\n", GOMEMCTL_VERSION);
			return finish(GMC_EXIT_OK);
		case 'h':
			usage(stdout);
			return finish(GMC_EXIT_OK);
		default:
			gmc_bad_option(NULL, c, argv);
			return try_help(NULL);
		}
	}
	if (optind == argc) {
		gmc_err(NULL, "no command given");
		return try_help(NULL);
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return finish(help(argc, argv));
	return finish(run_verb(argc, argv));
}
