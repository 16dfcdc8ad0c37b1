// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl discover: the Go programs running here, their memory settings
 * and limits, whether gomemguard watches them, and what is wrong with their
 * settings.  It reads /proc and cgroupfs; the module only says which are
 * watched, and discover still lists them when it cannot ask.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gomemctl.h"
#include "goproc.h"
#include "nl.h"
#include "output.h"
#include "proc.h"
#include "units.h"

#define VERB "discover"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gomemctl discover [-j | -p]\n"
		"\n"
		"List the Go programs running here, recognised by their executable\n"
		"(Go build info or build ID, read through /proc/PID/exe), not by their\n"
		"name: Go version, GOMEMLIMIT and GOGC from the environment they were\n"
		"started with, the memory.max and memory.high that apply to their\n"
		"memory cgroup, whether gomemguard watches them and with which soft\n"
		"limit, and misconfigurations (GOMEMLIMIT unset under memory.max, or\n"
		"above it; anonymous memory well above GOMEMLIMIT).  Processes that\n"
		"cannot be read are left out.\n"
		"\n"
		"Options:\n"
		"  -j, --json     print JSON\n"
		"  -p, --pretty   print indented JSON\n"
		"  -h, --help     print this help\n");
}

struct discover {
	bool know_watched;	/* the module said which processes it watches */
	struct proc_watched *watched;
	size_t n_watched;
	unsigned int rows;
};

static void print_header(void)
{
	out_text("%7s %-15s %-10s %10s %5s %9s %9s %-10s %s\n", "PID", "COMM",
		 "GO", "GOMEMLIMIT", "GOGC", "MAX", "SOFT", "ORIGIN", "MEMCG");
}

/* A string only JSON has, or null when empty. */
static void json_str_or_null(const char *key, const char *s)
{
	if (s[0])
		out_json_str(key, s);
	else
		out_json_null(key);
}

static void print_gomemlimit(const struct goenv *e)
{
	if (!out_is_json()) {
		switch (e->memlimit) {
		case GOENV_BYTES:
			out_bytes("gomemlimit_bytes", " %10s", e->memlimit_bytes);
			break;
		case GOENV_OFF:
			out_text(" %10s", "off");
			break;
		case GOENV_INVALID:
			out_text(" %10s", "invalid");
			break;
		case GOENV_UNSET:
			out_text(" %10s", "-");
			break;
		}
		return;
	}
	if (e->has_gomemlimit)
		out_json_str("gomemlimit", e->gomemlimit);
	else
		out_json_null("gomemlimit");
	if (e->memlimit == GOENV_BYTES)
		out_json_u64("gomemlimit_bytes", e->memlimit_bytes);
	else
		out_json_null("gomemlimit_bytes");
}

static void print_gogc(const struct goenv *e)
{
	char buf[16];

	if (!out_is_json()) {
		snprintf(buf, sizeof(buf), "%" PRId32, e->gogc_pct);
		out_text(" %5s", e->gogc_off ? "off" : buf);
		return;
	}
	if (e->has_gogc)
		out_json_str("gogc", e->gogc);
	else
		out_json_null("gogc");
	if (e->gogc_off)
		out_json_null("gogc_pct");
	else
		out_json_s64("gogc_pct", e->gogc_pct);
}

/* A limit in bytes; null / "max" when unlimited, "-" when unknown. */
static void print_limit(const struct goproc *p, const char *key, bool has,
			uint64_t v)
{
	if (has)
		out_bytes(key, " %9s", v);
	else
		out_null(key, " %9s", p->memcg[0] ? "max" : "-");
}

static void print_watched(const struct discover *d, const struct goproc *p)
{
	const struct proc_watched *w = NULL;

	if (d->know_watched)
		w = proc_watched_find(d->watched, d->n_watched, (uint32_t)p->pid);
	if (out_is_json()) {
		if (d->know_watched)
			out_json_bool("tagged", w != NULL);
		else
			out_json_null("tagged");
	}
	if (w)
		out_bytes("soft_limit_bytes", " %9s", w->soft_limit);
	else
		out_null("soft_limit_bytes", " %9s", d->know_watched ? "-" : "?");
	if (w && w->origin)
		out_str("limit_origin", " %-10s", out_is_json() ?
			proc_origin_name(w->origin) : proc_origin_words(w->origin));
	else
		out_null("limit_origin", " %-10s", "-");
}

static int print_one(const struct goproc *p, void *arg)
{
	struct discover *d = arg;

	if (!d->rows++)
		print_header();
	out_object_begin(NULL);
	out_u64("pid", "%7" PRIu64, (uint64_t)p->pid);
	out_str("comm", " %-15s", p->comm);
	if (out_is_json())
		out_json_str("exe", p->exe);
	if (p->elf.version[0])
		out_str("go_version", " %-10s", p->elf.version);
	else
		out_null("go_version", " %-10s", "unknown");
	if (out_is_json()) {
		json_str_or_null("go_path", p->elf.path);
		json_str_or_null("go_module", p->elf.module);
	}
	print_gomemlimit(&p->env);
	print_gogc(&p->env);
	print_limit(p, "memcg_max_bytes", p->has_max, p->memcg_max);
	if (out_is_json())
		print_limit(p, "memcg_high_bytes", p->has_high, p->memcg_high);
	print_watched(d, p);
	if (p->memcg[0])
		out_str("memcg", " %s", p->memcg);
	else
		out_null("memcg", " %s", "-");
	if (out_is_json()) {
		if (p->has_anon)
			out_json_u64("anon_bytes", p->anon);
		else
			out_json_null("anon_bytes");
	}
	out_text("\n");
	goproc_print_warnings(p, goproc_warnings(p, p->has_anon, p->anon),
			      p->anon);
	out_object_end();
	return 0;
}

/* Which processes the module watches; without it, discover goes on. */
static void get_watched(struct discover *d)
{
	struct gmc_nl *nl = gmc_nl_open(VERB);

	if (nl && !proc_watched_get(nl, &d->watched, &d->n_watched))
		d->know_watched = true;
	else
		gmc_note("(listing Go programs without saying which are watched)");
	gmc_nl_close(nl);
}

int discover_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json",   no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help",   no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct discover d = { 0 };
	int c, err, ret = GMC_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, ":jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			out_set_mode(OUT_JSON);
			break;
		case 'p':
			out_set_mode(OUT_JSON_PRETTY);
			break;
		case 'h':
			usage(stdout);
			return GMC_EXIT_OK;
		default:
			gmc_bad_option(VERB, c, argv);
			return GMC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		gmc_err(VERB, "unexpected argument \"%s\"", argv[optind]);
		return GMC_EXIT_USAGE;
	}

	get_watched(&d);
	out_begin_list();
	err = goproc_scan(print_one, &d);
	if (err) {
		out_discard();
		gmc_err(VERB, "cannot list the processes in %s: %s", goproc_root,
			strerror(-err));
		goto out;
	}
	/*
	 * Without CAP_SYS_PTRACE only our own processes could be read: an
	 * empty list would say there is no Go program when there may be many.
	 */
	if (!d.rows && !goproc_can_read_all()) {
		out_discard();
		gmc_err(VERB, "needs root (CAP_SYS_PTRACE) to read other users' processes (/proc/PID/exe and environ); none of yours is a Go program");
		goto out;
	}
	if (!goproc_can_read_all())
		gmc_note("(only your own processes: other users' need root, CAP_SYS_PTRACE)");
	if (!d.rows)
		print_header();
	if (!out_end())
		ret = GMC_EXIT_OK;
out:
	free(d.watched);
	return ret;
}
