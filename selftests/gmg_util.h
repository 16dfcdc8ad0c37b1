/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the selftests: module state and running gomemctl. */
#ifndef GMG_UTIL_H
#define GMG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Path from the environment, or NULL with a message on stderr. */
const char *gmg_env_path(const char *name);

int gmg_module_loaded(void);
/* finit_module() the .ko named by $GMG_KO; 0 or -errno. */
int gmg_module_load(void);
/* delete_module(), waiting for users to go; 0, -ENOENT when not loaded. */
int gmg_module_unload(void);

struct gmg_run {
	int status;		/* exit status, or 128 + signal */
	char out[16384];
	char err[4096];
};

/*
 * Run $GOMEMCTL with @argv (NULL-terminated, without argv[0]) as @uid
 * (-1: unchanged), collect stdout/stderr.  0 or -errno.
 */
int gmg_run_ctl(struct gmg_run *r, uid_t uid, const char *const *argv);

/* Replace /proc/sys/kernel/modprobe, saving the old value in @old. */
int gmg_set_modprobe(const char *path, char *old, size_t oldsz);

/*
 * GMG_TIME_SCALE (a whole number from 1 to GMG_TIME_SCALE_MAX, default 1):
 * how many times slower than a plain TCG guest this kernel is, e.g. a
 * KASAN and lockdep kernel (make check-debug).  Every timeout, deadline and
 * bounded wait of the tests is multiplied by it; waits that let time pass
 * for a measurement are not.  A bad value stops the test program at start,
 * with a message.
 */
#define GMG_TIME_SCALE_MAX 1000
unsigned int gmg_time_scale(void);
/* @ms times the scale; 0 and negative (poll()'s "forever") unchanged. */
int gmg_ms(int ms);
/*
 * Whether checks of how well a forecast matched the workload are asserted:
 * only at scale 1.  A workload on a kernel that much slower cannot keep
 * its pace (a "16 MiB/s" leak crawls and stalls in reclaim), so the ETA
 * it is measured against is not the one it was given; the numbers are
 * still logged.  Everything else is asserted at any scale.
 */
bool gmg_timing_asserted(void);

#endif /* GMG_UTIL_H */
