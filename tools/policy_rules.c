// SPDX-License-Identifier: GPL-2.0
/*
 * Policy files: systemd-style INI read with libinih, one rule per file.
 *
 * libinih (Debian's build) hands the handler no line numbers, so it reads
 * through policy_reader(), which counts lines and does the syntax checks
 * itself (section headers, Key=Value lines, length), passing inih a blank
 * line instead of a bad one: every problem gets a line number, and inih is
 * left to split and trim.  Values go through the parsers tag's options use
 * (units.c, levels.c, signals.c), so that a value and the same option are
 * judged by the same code, in the same words.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "levels.h"
#include "output.h"
#include "policy.h"
#include "signals.h"
#include "units.h"

/* The longest line, newline aside; libinih's default is 198. */
#define POLICY_LINE_MAX 4096

enum section {
	SEC_NONE,
	SEC_MATCH,
	SEC_TAG,
	SEC_UNKNOWN,
};

enum key {
	K_CGROUP_PATH,
	K_UNIT,
	K_POD,
	K_EXE,
	K_COMM,
	K_GO_PROGRAM,
	K_SOFT_LIMIT,
	K_LEVELS,
	K_ETA,
	K_SIGNAL,
	K_RATE_WINDOW,
	K_INHERIT,
	K__COUNT,
};

static const struct {
	const char *name;
	enum section sec;
} keys[K__COUNT] = {
	[K_CGROUP_PATH]	= { "CgroupPath",    SEC_MATCH },
	[K_UNIT]	= { "Unit",          SEC_MATCH },
	[K_POD]		= { "KubernetesPod", SEC_MATCH },
	[K_EXE]		= { "Executable",    SEC_MATCH },
	[K_COMM]	= { "Comm",          SEC_MATCH },
	[K_GO_PROGRAM]	= { "GoProgram",     SEC_MATCH },
	[K_SOFT_LIMIT]	= { "SoftLimit",     SEC_TAG },
	[K_LEVELS]	= { "Levels",        SEC_TAG },
	[K_ETA]		= { "EtaHorizon",    SEC_TAG },
	[K_SIGNAL]	= { "Signal",        SEC_TAG },
	[K_RATE_WINDOW]	= { "RateWindow",    SEC_TAG },
	[K_INHERIT]	= { "Inherit",       SEC_TAG },
};

static const char *const section_names[] = {
	[SEC_MATCH] = "Match",
	[SEC_TAG] = "Tag",
};

/* One file being read. */
struct file_ctx {
	const char *file;
	FILE *f, *errs;
	int problems;
	unsigned int line;
	char *buf;
	size_t cap;
	enum section sec;
	unsigned int sec_line[SEC_UNKNOWN];	/* first header of each */
	unsigned int key_line[K__COUNT];	/* where each key was given */
	bool nomem;
	bool unreadable;	/* a line was not read: judge no rule whole */
	struct policy_rule r;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct file_ctx *c, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->errs, "%s:%u: ", c->file, line);
	va_start(ap, fmt);
	vfprintf(c->errs, fmt, ap);
	va_end(ap);
	fputc('\n', c->errs);
	c->problems++;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A section header "[Name]": which one, or a problem. */
static void read_header(struct file_ctx *c, const char *s)
{
	const char *end = strchr(s, ']');
	size_t len;
	int i;

	if (!end || *skip_space(end + 1) != '\0') {
		problem(c, c->line, "expected a section header \"[Name]\"");
		c->sec = SEC_UNKNOWN;
		c->unreadable = true;
		return;
	}
	len = (size_t)(end - s - 1);
	for (i = SEC_MATCH; i < SEC_UNKNOWN; i++) {
		if (strlen(section_names[i]) == len &&
		    !strncmp(s + 1, section_names[i], len)) {
			c->sec = (enum section)i;
			if (!c->sec_line[i])
				c->sec_line[i] = c->line;
			return;
		}
	}
	problem(c, c->line, "unknown section [%.*s]: expected [Match] or [Tag]",
		(int)len, s + 1);
	c->sec = SEC_UNKNOWN;
}

/* inih's fgets-like reader: one line, checked, or a blank one instead. */
static char *policy_reader(char *str, int num, void *stream)
{
	struct file_ctx *c = stream;
	const char *s;
	ssize_t len;
	bool bad = false;

	len = getline(&c->buf, &c->cap, c->f);
	if (len < 0)
		return NULL;
	c->line++;
	while (len && (c->buf[len - 1] == '\n' || c->buf[len - 1] == '\r'))
		c->buf[--len] = '\0';
	s = skip_space(c->buf);
	/* A UTF-8 byte order mark, which inih skips too. */
	if (c->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s = skip_space(s + 3);
	if (len + 2 > num) {
		problem(c, c->line, "line longer than %d bytes", num - 2);
		bad = true;
	} else if (strlen(c->buf) != (size_t)len) {
		problem(c, c->line, "a NUL byte in the line");
		bad = true;
	} else if (*s == '[') {
		read_header(c, s);
	} else if (*s && *s != '#' && *s != ';' && !strchr(s, '=')) {
		problem(c, c->line, "expected Key=Value, a [Section] or a comment");
		bad = true;
	} else if (*s && *s != '#' && *s != ';' && c->sec == SEC_NONE) {
		problem(c, c->line, "Key=Value before any section: start with [Match]");
		bad = true;
	}
	c->unreadable |= bad;
	/* inih's own idea of the section is not used: the reader's is. */
	if (bad || c->sec == SEC_UNKNOWN || *s == '[') {
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	snprintf(str, (size_t)num, "%s\n", c->buf);
	return str;
}

/* systemd's booleans. */
static int parse_bool(const char *v, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "y", "t" };
	static const char *const no[] = { "no", "false", "off", "0", "n", "f" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*b = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Whitespace-separated globs; each checked by what it names. */
static int parse_globs(struct file_ctx *c, enum key k, const char *value,
		       struct policy_globs *g)
{
	char *copy, *tok, *save = NULL, **v;
	int ret = 0;

	copy = strdup(value);
	if (!copy)
		goto nomem;
	for (tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		bool absolute = k == K_CGROUP_PATH || k == K_EXE;

		if (absolute && tok[0] != '/') {
			problem(c, c->line, "invalid %s= \"%s\": not an absolute path (start with \"/\")",
				keys[k].name, tok);
			ret = -1;
			continue;
		}
		if (!absolute && strchr(tok, '/')) {
			problem(c, c->line, "invalid %s= \"%s\": a name, without \"/\"",
				keys[k].name, tok);
			ret = -1;
			continue;
		}
		if (k == K_CGROUP_PATH && strlen(tok) >= GOMEMGUARD_PATH_MAX) {
			problem(c, c->line, "invalid %s= \"%s\": longer than the module's %d bytes",
				keys[k].name, tok, GOMEMGUARD_PATH_MAX - 1);
			ret = -1;
			continue;
		}
		v = realloc(g->v, (g->n + 1) * sizeof(*v));
		if (!v)
			goto nomem;
		g->v = v;
		g->v[g->n] = strdup(tok);
		if (!g->v[g->n])
			goto nomem;
		g->n++;
	}
	free(copy);
	return ret;
nomem:
	free(copy);
	c->nomem = true;
	return -1;
}

static int parse_soft_limit(struct file_ctx *c, const char *v)
{
	struct policy_rule *r = &c->r;
	size_t len = strlen(v);
	const char *why;
	char *pct;

	if (!strcmp(v, "GOMEMLIMIT")) {
		r->limit = POLICY_LIMIT_GOMEMLIMIT;
		return 0;
	}
	if (len && v[len - 1] == '%') {
		pct = strndup(v, len - 1);
		if (!pct) {
			c->nomem = true;
			return -1;
		}
		if (units_parse_u32(pct, &r->limit_pct, &why)) {
			free(pct);
			problem(c, c->line, "invalid SoftLimit= \"%s\": %s", v, why);
			return -1;
		}
		free(pct);
		if (r->limit_pct < 1 || r->limit_pct > 100) {
			problem(c, c->line, "invalid SoftLimit= \"%s\": a percentage of memory.max from 1%% to 100%%",
				v);
			return -1;
		}
		r->limit = POLICY_LIMIT_PERCENT;
		return 0;
	}
	if (units_parse_size(v, &r->limit_bytes, &why)) {
		problem(c, c->line, "invalid SoftLimit= \"%s\": %s (or GOMEMLIMIT, or a percentage of memory.max such as 80%%)",
			v, why);
		return -1;
	}
	if (!r->limit_bytes || r->limit_bytes > GOMEMGUARD_SOFT_LIMIT_MAX) {
		problem(c, c->line, "invalid SoftLimit= \"%s\": %s", v,
			r->limit_bytes ? "above the module's bound of 1 EiB" :
					 "zero");
		return -1;
	}
	r->limit = POLICY_LIMIT_BYTES;
	return 0;
}

/* Levels= as --levels takes it, and what the module would refuse. */
static int parse_levels(struct file_ctx *c, const char *v)
{
	struct tag_settings *s = &c->r.s;
	const char *why;
	size_t i;

	if (levels_parse(v, s->levels, &s->n_levels, &why)) {
		problem(c, c->line, "invalid Levels= \"%s\": %s", v, why);
		return -1;
	}
	for (i = 0; i < s->n_levels; i++) {
		if (s->levels[i] < 1 || s->levels[i] > GOMEMGUARD_LEVEL_PCT_MAX ||
		    (i && s->levels[i] <= s->levels[i - 1])) {
			problem(c, c->line, "invalid Levels= \"%s\": levels ascend strictly, from 1 to %d",
				v, GOMEMGUARD_LEVEL_PCT_MAX);
			return -1;
		}
	}
	s->has_levels = true;
	return 0;
}

static int parse_value(struct file_ctx *c, enum key k, const char *v)
{
	struct policy_rule *r = &c->r;
	const char *why = NULL;
	bool b;

	switch (k) {
	case K_CGROUP_PATH:
		return parse_globs(c, k, v, &r->cgroup_path);
	case K_UNIT:
		return parse_globs(c, k, v, &r->unit);
	case K_POD:
		return parse_globs(c, k, v, &r->pod);
	case K_EXE:
		return parse_globs(c, k, v, &r->exe);
	case K_COMM:
		return parse_globs(c, k, v, &r->comm);
	case K_GO_PROGRAM:
	case K_INHERIT:
		if (parse_bool(v, &b)) {
			problem(c, c->line, "invalid %s= \"%s\": yes or no",
				keys[k].name, v);
			return -1;
		}
		if (k == K_GO_PROGRAM) {
			r->has_go_program = true;
			r->go_program = b;
		} else {
			r->s.has_inherit = true;
			r->s.inherit = b;
		}
		return 0;
	case K_SOFT_LIMIT:
		return parse_soft_limit(c, v);
	case K_LEVELS:
		return parse_levels(c, v);
	case K_ETA:
		if (units_parse_ms(v, &r->s.eta_ms, &why))
			break;
		r->s.has_eta = true;
		return 0;
	case K_SIGNAL:
		if (signal_parse_fuse(v, &r->s.signal, &why))
			break;
		r->s.has_signal = true;
		return 0;
	case K_RATE_WINDOW:
		if (units_parse_ms(v, &r->s.rate_window_ms, &why))
			break;
		r->s.has_rate_window = true;
		return 0;
	case K__COUNT:
		break;
	}
	problem(c, c->line, "invalid %s= \"%s\": %s", keys[k].name, v,
		why ? why : "?");
	return -1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct file_ctx *c = user;
	int k;

	(void)section;	/* the reader knows it, with its line */
	if (c->sec == SEC_UNKNOWN || c->sec == SEC_NONE)
		return 1;
	for (k = 0; k < K__COUNT; k++) {
		if (!strcmp(name, keys[k].name))
			break;
	}
	if (k == K__COUNT || keys[k].sec != c->sec) {
		if (k < K__COUNT)
			problem(c, c->line, "%s= belongs in [%s], not [%s]",
				name, section_names[keys[k].sec],
				section_names[c->sec]);
		else
			problem(c, c->line, "unknown key \"%s\" in [%s]",
				name, section_names[c->sec]);
		return 1;
	}
	if (c->key_line[k]) {
		problem(c, c->line, "duplicate key %s= (first on line %u)",
			name, c->key_line[k]);
		return 1;
	}
	c->key_line[k] = c->line;
	if (!*value) {
		problem(c, c->line, "empty value for %s=", name);
		return 1;
	}
	parse_value(c, (enum key)k, value);
	return 1;
}

static bool has_match(const struct file_ctx *c)
{
	int k;

	for (k = K_CGROUP_PATH; k <= K_GO_PROGRAM; k++) {
		if (c->key_line[k])
			return true;
	}
	return false;
}

/* What no single line shows: the rule as a whole. */
static void check_rule(struct file_ctx *c)
{
	struct policy_rule *r = &c->r;
	unsigned int match = c->sec_line[SEC_MATCH], tag = c->sec_line[SEC_TAG];

	/* At the section's header; without one, at the other's, or line 1. */
	if (!has_match(c))
		problem(c, match ? match : tag ? tag : 1,
			"no [Match] key: a rule without one would tag everything (CgroupPath=/ tags the root cgroup)");
	if (!c->key_line[K_SOFT_LIMIT])
		problem(c, tag ? tag : match ? match : 1,
			"no SoftLimit= in [Tag]: the module needs a soft limit");
	r->target = r->exe.n || r->comm.n || r->has_go_program ?
		    POLICY_TARGET_PROCESS : POLICY_TARGET_CGROUP;
	if (c->key_line[K_SOFT_LIMIT] && r->limit == POLICY_LIMIT_GOMEMLIMIT) {
		if (r->target == POLICY_TARGET_CGROUP)
			problem(c, c->key_line[K_SOFT_LIMIT],
				"SoftLimit=GOMEMLIMIT conflicts with a rule that tags cgroups: a cgroup has no GOMEMLIMIT (add GoProgram=yes to tag its Go programs)");
		else if (r->has_go_program && !r->go_program)
			problem(c, c->key_line[K_SOFT_LIMIT],
				"SoftLimit=GOMEMLIMIT conflicts with GoProgram=no (line %u): only Go programs have a GOMEMLIMIT",
				c->key_line[K_GO_PROGRAM]);
	}
}

static void globs_free(struct policy_globs *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static void rule_free(struct policy_rule *r)
{
	globs_free(&r->cgroup_path);
	globs_free(&r->unit);
	globs_free(&r->pod);
	globs_free(&r->exe);
	globs_free(&r->comm);
	free(r->file);
	free(r->name);
}

static int add_rule(struct policy_set *set, struct policy_rule *r)
{
	struct policy_rule *rules;

	rules = realloc(set->rules, (set->n + 1) * sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	set->rules = rules;
	set->rules[set->n++] = *r;
	return 0;
}

/* One rule file: its problems, or -errno (reported). */
static int load_file(const char *file, FILE *errs, struct policy_set *set)
{
	struct file_ctx c = { .file = file, .errs = errs };
	const char *base = strrchr(file, '/');
	int ret;

	c.f = fopen(file, "re");
	if (!c.f) {
		ret = -errno;
		fprintf(errs, "%s: cannot read it: %s\n", file, strerror(errno));
		return ret;
	}
	ret = ini_parse_stream(policy_reader, &c, handler, &c);
	free(c.buf);
	if (ferror(c.f)) {
		fprintf(errs, "%s: cannot read it: %s\n", file, strerror(EIO));
		fclose(c.f);
		rule_free(&c.r);
		return -EIO;
	}
	fclose(c.f);
	if (ret == -2 || c.nomem) {
		rule_free(&c.r);
		fprintf(errs, "%s: %s\n", file, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (ret > 0 && !c.problems)
		problem(&c, (unsigned int)ret, "syntax error");
	if (!c.unreadable)
		check_rule(&c);
	if (c.problems) {
		rule_free(&c.r);
		return c.problems;
	}
	c.r.file = strdup(file);
	c.r.name = strdup(base ? base + 1 : file);
	if (!c.r.file || !c.r.name || add_rule(set, &c.r)) {
		rule_free(&c.r);
		fprintf(errs, "%s: %s\n", file, strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

static int conf_file(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	       !strcmp(d->d_name + len - 5, ".conf");
}

/* Lexical order, whatever the locale says. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* systemd's mask: a symlink to /dev/null. */
static bool masked(const char *file)
{
	char target[16];
	ssize_t n;

	n = readlink(file, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "/dev/null");
}

static int load_dir(const char *dir, bool missing_ok, FILE *errs,
		    struct policy_set *set)
{
	struct dirent **names;
	int n, i, ret, problems = 0, fatal = 0;
	char *file;

	n = scandir(dir, &names, conf_file, by_name);
	if (n < 0) {
		ret = -errno;
		if (ret == -ENOENT && missing_ok)
			return 0;
		fprintf(errs, "%s: cannot read it: %s\n", dir, strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++) {
		if (!fatal) {
			if (asprintf(&file, "%s%s%s", dir,
				     dir[strlen(dir) - 1] == '/' ? "" : "/",
				     names[i]->d_name) < 0) {
				fatal = -ENOMEM;
				fprintf(errs, "%s: %s\n", dir, strerror(ENOMEM));
			} else {
				set->n_files++;
				ret = masked(file) ? 0 : load_file(file, errs, set);
				if (ret < 0)
					fatal = ret;
				else
					problems += ret;
				free(file);
			}
		}
		free(names[i]);
	}
	free(names);
	return fatal ? fatal : problems;
}

int policy_load(const char *path, bool missing_ok, FILE *errs,
		struct policy_set *set)
{
	struct stat st;
	int ret;

	memset(set, 0, sizeof(*set));
	/* systemd's syntax: no Python-style continuation, no inline comments. */
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	/* Room for long glob lists: a heap line buffer of POLICY_LINE_MAX. */
	ini_use_stack = false;
	ini_max_line = POLICY_LINE_MAX + 2;
	ini_initial_alloc = POLICY_LINE_MAX + 2;
	if (stat(path, &st)) {
		ret = -errno;
		if (ret == -ENOENT && missing_ok)
			return 0;
		fprintf(errs, "%s: cannot read it: %s\n", path, strerror(-ret));
		return ret;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(path, missing_ok, errs, set);
	set->n_files = 1;
	return load_file(path, errs, set);
}

void policy_free(struct policy_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		rule_free(&set->rules[i]);
	free(set->rules);
	memset(set, 0, sizeof(*set));
}

static void print_globs(const char *key, const struct policy_globs *g)
{
	size_t i;

	if (!g->n)
		return;
	out_array_begin(key);
	for (i = 0; i < g->n; i++)
		out_json_str(NULL, g->v[i]);
	out_array_end();
}

static void print_rule_json(const struct policy_rule *r)
{
	const struct tag_settings *s = &r->s;
	char sig[SIGNAL_BUF_LEN];
	size_t i;

	out_object_begin(NULL);
	out_json_str("file", r->file);
	out_json_str("target", r->target == POLICY_TARGET_CGROUP ?
		     "cgroup" : "process");
	out_object_begin("match");
	print_globs("cgroup_path", &r->cgroup_path);
	print_globs("unit", &r->unit);
	print_globs("kubernetes_pod", &r->pod);
	print_globs("executable", &r->exe);
	print_globs("comm", &r->comm);
	if (r->has_go_program)
		out_json_bool("go_program", r->go_program);
	out_object_end();
	out_object_begin("tag");
	switch (r->limit) {
	case POLICY_LIMIT_BYTES:
		out_json_u64("soft_limit", r->limit_bytes);
		break;
	case POLICY_LIMIT_GOMEMLIMIT:
		out_json_str("soft_limit_from", "gomemlimit");
		break;
	case POLICY_LIMIT_PERCENT:
		out_json_str("soft_limit_from", "memcg_max");
		out_json_u64("soft_limit_pct", r->limit_pct);
		break;
	}
	if (s->has_levels) {
		out_array_begin("levels");
		for (i = 0; i < s->n_levels; i++)
			out_json_u64(NULL, s->levels[i]);
		out_array_end();
	}
	if (s->has_eta)
		out_json_u64("eta_horizon_ms", s->eta_ms);
	if (s->has_signal) {
		out_json_u64("signal", s->signal);
		out_json_str("signal_name",
			     signal_format(sig, sizeof(sig), s->signal));
	}
	if (s->has_rate_window)
		out_json_u64("rate_window_ms", s->rate_window_ms);
	if (s->has_inherit)
		out_json_bool("inherit", s->inherit);
	out_object_end();
	out_object_end();
}

void policy_print(const struct policy_set *set)
{
	size_t i;

	if (!out_is_json()) {
		for (i = 0; i < set->n; i++)
			printf("%s: tags %s\n", set->rules[i].file,
			       set->rules[i].target == POLICY_TARGET_CGROUP ?
			       "cgroups" : "processes");
		return;
	}
	out_begin_list();
	for (i = 0; i < set->n; i++)
		print_rule_json(&set->rules[i]);
	out_end();
}
