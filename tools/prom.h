/* SPDX-License-Identifier: GPL-2.0 */
/*
 * monitor --prom-file: the module's state and monitor's own counters in
 * Prometheus' text exposition format, for node_exporter's textfile
 * collector.  Every metric is named gomemguard_*, has HELP and TYPE lines
 * and no timestamp (the collector refuses them).  What is absent is left
 * out, never NaN: a process that is not growing has no ETA series, an
 * unlimited memcg no max series.  The file is replaced atomically.
 */
#ifndef GOMEMCTL_PROM_H
#define GOMEMCTL_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/gomemguard.h>

#include "exec.h"

/* What monitor counted itself since it started. */
struct prom_counters {
	/* Events received, by enum gomemguard_event; [0]: types unknown here. */
	uint64_t events[GOMEMGUARD_EVENT_OOM + 1];
	uint64_t lost;		/* events missing from the sequence */
	uint64_t overflows;	/* times the event socket overflowed */
	bool exec;		/* --exec given: exec_stats is meaningful */
	struct exec_stats exec_stats;
};

/* A watched process, from a PROC_GET dump. */
struct prom_proc {
	uint32_t pid;
	char *comm;
	char *memcg;
	const char *source;	/* "pid", "cgroup", "inherit", as show -j says */
	uint64_t anon, file, shmem, swap, hwm, soft_limit;
	int64_t rate;
	bool has_eta;
	uint64_t eta_ms;
	const char *eta_limit;	/* "soft", "memcg_max", "memcg_high" */
	uint32_t level_pct, usage_pct;
	uint32_t eta_horizon_ms;	/* the tag's --eta */
	uint32_t signals_sent;		/* the fuse fired so often */
};

/*
 * A memory cgroup, from a MEMCG_GET dump (usage, limits, LRU sizes) and
 * its memory.stat and memory.pressure (the rest, has_stat and has_psi).
 */
struct prom_memcg {
	char *memcg;
	uint64_t usage, max, high, swapbacked, unevictable, reclaimable;
	uint64_t anon, file, shmem, pinned;
	uint64_t oom_kills;	/* memory.events oom_kill */
	bool has_max, has_high, has_stat, has_psi;
	uint32_t pressure;	/* enum gomemguard_pressure */
	uint32_t psi_some, psi_full;	/* hundredths of a percent */
};

/* The module as INFO_GET, PROC_GET and MEMCG_GET describe it. */
struct prom_snapshot {
	bool up;		/* all of it could be read */
	char *version;
	char *kernel_release;
	uint32_t tagged;
	uint64_t events_sent, events_dropped, oom_kills;
	bool has_exits_quiet;	/* a module from before EXITS_QUIET: absent */
	uint64_t exits_quiet;
	struct prom_proc *procs;
	size_t n_procs;
	struct prom_memcg *memcgs;
	size_t n_memcgs;
};

/*
 * Reads the module's state into s (zeroed by the caller) on a socket of
 * its own: 0, or -1 after reporting why (s is freed and zeroed again, up
 * false).
 */
int prom_collect(const char *verb, struct prom_snapshot *s);
void prom_snapshot_free(struct prom_snapshot *s);

/* The whole file's text. */
void prom_render(FILE *f, const struct prom_snapshot *s,
		 const struct prom_counters *c);

/*
 * A label value between its quotes: backslash, double quote and newline
 * escaped, bytes that are not UTF-8 (comm can hold any) as U+FFFD.
 */
void prom_escape(FILE *f, const char *value);

/*
 * text into path through path.tmp.<pid> in the same directory: written,
 * fsynced, renamed over path.  0, or a negative errno (nothing reported).
 */
int prom_write_atomic(const char *path, const char *text, size_t len);

struct prom;

/* Same as exec_log_fn. */
typedef void (*prom_log_fn)(void *arg, int priority, const char *msg);

/* NULL when out of memory (reported). */
struct prom *prom_new(const char *verb, const char *path, prom_log_fn log,
		      void *log_arg);
void prom_free(struct prom *p);

/*
 * Collects, renders and writes the file.  Returns 0, or -1 when the file
 * could not be written: said once through log, and again ("written again")
 * once it can be.  A module that cannot be read is gomemguard_module_up 0;
 * so is one not looked for (!look: looking it up would load it).
 */
int prom_refresh(struct prom *p, const struct prom_counters *c, bool look);

#endif /* GOMEMCTL_PROM_H */
