/* SPDX-License-Identifier: GPL-2.0 */
/*
 * monitor --exec: a shell command run once per event, with the event as one
 * JSON object on its stdin and as GOMEMGUARD_* variables in its environment.
 *
 * The event loop must never wait for a command: at most max_running run at
 * once, max_queued more wait their turn, and events beyond that are dropped
 * and counted.  The event reaches the command through a memfd, never a pipe
 * that a slow reader could fill; finished commands are reaped when the
 * caller sees SIGCHLD (exec_reap() never blocks).
 */
#ifndef GOMEMCTL_EXEC_H
#define GOMEMCTL_EXEC_H

#include <stdbool.h>
#include <stdint.h>

struct exec_runner;

/* How the runner reports what went wrong with a command (priority: syslog's). */
typedef void (*exec_log_fn)(void *arg, int priority, const char *msg);

struct exec_stats {
	uint64_t started;	/* commands started */
	uint64_t failed;	/* exited non-zero, were killed or could not start */
	uint64_t dropped;	/* events dropped because the queue was full */
	unsigned int running;
	unsigned int queued;
};

/*
 * command runs as /bin/sh -c command.  NULL on failure (reported on
 * stderr).  log receives one line per failed command.
 */
struct exec_runner *exec_new(const char *command, unsigned int max_running,
			     unsigned int max_queued, exec_log_fn log,
			     void *log_arg);
/* Forgets queued events; running commands are left to finish on their own. */
void exec_free(struct exec_runner *r);

/*
 * The event numbered seq, called event ("warn"...), as one line of JSON:
 * starts the command, or queues it.  Returns 0, or 1 when the queue was
 * full and the event is dropped (counted, for the caller to report).
 */
int exec_submit(struct exec_runner *r, uint64_t seq, const char *event,
		const char *json);

/* Collects finished commands, logs failures, starts queued ones. */
void exec_reap(struct exec_runner *r);

/* Commands running or queued. */
bool exec_busy(const struct exec_runner *r);

void exec_get_stats(const struct exec_runner *r, struct exec_stats *st);

/*
 * The environment of a command: env (NULL-terminated) without its own
 * GOMEMGUARD_* variables, then one GOMEMGUARD_<KEY>=<value> per top-level
 * key of the JSON object: numbers as written, strings as they are, true
 * and false, arrays of numbers or strings joined by commas; null, objects
 * and arrays of objects are left out.  NULL-terminated, for exec_env_free().
 * NULL when json is not an object or memory ran out.
 */
char **exec_env(char *const env[], const char *json);
void exec_env_free(char **env);

#endif /* GOMEMCTL_EXEC_H */
