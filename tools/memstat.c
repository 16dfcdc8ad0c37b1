// SPDX-License-Identifier: GPL-2.0
/*
 * memory.stat and memory.pressure of a memory cgroup (see memstat.h), read
 * afresh each time they are shown.  The module's paths start at the global
 * root of the hierarchy, so they are looked up under the mount of that root
 * (cgroup.c), or under GOMEMCTL_CGROUP2_ROOT.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "memstat.h"
#include "units.h"

/* The memory.stat keys read, and where they go. */
static const struct {
	const char *key;
	size_t off;
} stat_keys[] = {
	{ "anon", offsetof(struct memstat, anon) },
	{ "file", offsetof(struct memstat, file) },
	{ "shmem", offsetof(struct memstat, shmem) },
	{ "file_dirty", offsetof(struct memstat, file_dirty) },
	{ "file_writeback", offsetof(struct memstat, file_writeback) },
};

#define N_STAT_KEYS (sizeof(stat_keys) / sizeof(stat_keys[0]))

/* A path from the root, every component a name: no ".", "..", or "//". */
static bool plain_path(const char *path)
{
	const char *p = path, *end;

	if (*p != '/')
		return false;
	while (*++p) {
		end = strchrnul(p, '/');
		if (end == p || (end - p == 1 && p[0] == '.') ||
		    (end - p == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = end;
		if (!*p)
			break;
	}
	return true;
}

/* file of memcg under the global root, opened; NULL when it cannot be. */
static FILE *open_file(const char *memcg, const char *file)
{
	const char *env = getenv(MEMSTAT_ROOT_ENV);
	char *root, *path;
	FILE *f = NULL;

	if (!plain_path(memcg))
		return NULL;
	root = env && *env ? strdup(env) :
	       cgroup_global_root(CGROUP_MOUNTINFO, CGROUP_NS);
	if (!root)
		return NULL;
	/* The root cgroup is the directory itself. */
	if (asprintf(&path, "%s%s/%s", root, strcmp(memcg, "/") ? memcg : "",
		     file) >= 0) {
		f = fopen(path, "re");
		free(path);
	}
	free(root);
	return f;
}

/* "anon 1234": the value of a key stat_keys[] has, or no match. */
static void take_stat_line(char *line, struct memstat *ms, unsigned int *seen)
{
	char *value = strchr(line, ' ');
	const char *why;
	uint64_t v;
	size_t i;

	if (!value)
		return;
	*value++ = '\0';
	value[strcspn(value, "\n")] = '\0';
	for (i = 0; i < N_STAT_KEYS; i++) {
		if (strcmp(line, stat_keys[i].key) ||
		    units_parse_u64(value, &v, &why))
			continue;
		*(uint64_t *)((char *)ms + stat_keys[i].off) = v;
		*seen |= 1U << i;
	}
}

static void read_stat(const char *memcg, struct memstat *ms)
{
	FILE *f = open_file(memcg, "memory.stat");
	unsigned int seen = 0;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0)
		take_stat_line(line, ms, &seen);
	ms->has_stat = !ferror(f) && seen == (1U << N_STAT_KEYS) - 1;
	free(line);
	fclose(f);
}

/*
 * "avg10=12.34" among the fields of a PSI line, as the kernel prints it
 * (two decimals): 1234.  0, or -1 when the line has no such field.
 */
static int avg10(char *fields, uint32_t *hundredths)
{
	char *tok, *save = NULL, *dot;
	const char *why;
	uint32_t whole;

	for (tok = strtok_r(fields, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (strncmp(tok, "avg10=", 6))
			continue;
		dot = strchr(tok + 6, '.');
		if (!dot || strlen(dot + 1) != 2 || dot[1] < '0' ||
		    dot[1] > '9' || dot[2] < '0' || dot[2] > '9')
			return -1;
		*dot = '\0';
		if (units_parse_u32(tok + 6, &whole, &why) ||
		    whole > (UINT32_MAX - 99) / 100)
			return -1;
		*hundredths = whole * 100 + (uint32_t)(dot[1] - '0') * 10 +
			      (uint32_t)(dot[2] - '0');
		return 0;
	}
	return -1;
}

static void read_pressure(const char *memcg, struct memstat *ms)
{
	FILE *f = open_file(memcg, "memory.pressure");
	bool some = false, full = false;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "some ", 5))
			some = !avg10(line + 5, &ms->psi_some);
		else if (!strncmp(line, "full ", 5))
			full = !avg10(line + 5, &ms->psi_full);
	}
	ms->has_psi = !ferror(f) && some && full;
	free(line);
	fclose(f);
}

void memstat_read(const char *memcg, struct memstat *ms)
{
	memset(ms, 0, sizeof(*ms));
	read_stat(memcg, ms);
	read_pressure(memcg, ms);
	if (!ms->has_stat)
		ms->anon = ms->file = ms->shmem = ms->file_dirty =
			ms->file_writeback = 0;
	if (!ms->has_psi)
		ms->psi_some = ms->psi_full = 0;
}

uint64_t memstat_pinned(const struct memstat *ms)
{
	return ms->shmem + ms->file_dirty + ms->file_writeback;
}
