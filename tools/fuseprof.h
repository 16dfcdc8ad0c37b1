/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The last heap profile a Go service wrote on its fuse, as go/fuse records
 * it: DIR/fuse-PID.json, replaced after each profile (go/fuse/doc.go, "Files
 * in ProfileDir").  gomemctl oom --profile-dir names it beside the kill.
 */
#ifndef GOMEMCTL_FUSEPROF_H
#define GOMEMCTL_FUSEPROF_H

#include <stdint.h>

struct fuseprof {
	char *profile;		/* its absolute path */
	int64_t time_unix;	/* when it was written, whole seconds */
	uint64_t fuses;		/* the fuses the process had handled */
};

/*
 * The record for pid in dir, if its profile was written no later than
 * kill_unix_ns (a record from after the kill is another process's: PIDs are
 * reused): 0 with *fp, which fuseprof_free() releases; -1 when there is
 * none, or it cannot be read or used.
 */
int fuseprof_read(const char *dir, uint32_t pid, uint64_t kill_unix_ns,
		  struct fuseprof *fp);
void fuseprof_free(struct fuseprof *fp);

#endif /* GOMEMCTL_FUSEPROF_H */
