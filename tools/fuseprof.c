// SPDX-License-Identifier: GPL-2.0
/*
 * go/fuse's record of a process's newest heap profile, read with json-c:
 * {"pid":4711,"time":"2024-05-01T03:15:02Z","profile":"/var/lib/x/heap-...",
 *  "signal":10,"fuses":3}.  Keys may be added; a record lacking one of
 * these, or of another shape, names nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "fuseprof.h"

#define NSEC_PER_SEC 1000000000ULL

static bool get(struct json_object *o, const char *key, enum json_type type,
		struct json_object **v)
{
	return json_object_object_get_ex(o, key, v) &&
	       json_object_get_type(*v) == type;
}

int fuseprof_read(const char *dir, uint32_t pid, uint64_t kill_unix_ns,
		  struct fuseprof *fp)
{
	struct json_object *o, *v;
	const char *end;
	struct tm tm = { 0 };
	char *path;
	int ret = -1;

	memset(fp, 0, sizeof(*fp));
	if (asprintf(&path, "%s/fuse-%u.json", dir, pid) < 0)
		return -1;
	o = json_object_from_file(path);
	free(path);
	if (!o)
		return -1;
	if (!get(o, "pid", json_type_int, &v) ||
	    json_object_get_int64(v) != (int64_t)pid ||
	    !get(o, "time", json_type_string, &v))
		goto out;
	end = strptime(json_object_get_string(v), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		goto out;
	fp->time_unix = (int64_t)timegm(&tm);
	/* Whole seconds: the profile's second may be the kill's. */
	if (fp->time_unix < 0 ||
	    (uint64_t)fp->time_unix > kill_unix_ns / NSEC_PER_SEC ||
	    !get(o, "profile", json_type_string, &v))
		goto out;
	fp->profile = strdup(json_object_get_string(v));
	if (!fp->profile)
		goto out;
	if (get(o, "fuses", json_type_int, &v) && json_object_get_int64(v) > 0)
		fp->fuses = (uint64_t)json_object_get_int64(v);
	ret = 0;
out:
	json_object_put(o);
	if (ret)
		fuseprof_free(fp);
	return ret;
}

void fuseprof_free(struct fuseprof *fp)
{
	free(fp->profile);
	fp->profile = NULL;
}
