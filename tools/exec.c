// SPDX-License-Identifier: GPL-2.0
/*
 * The --exec runner (see exec.h).  Commands start with posix_spawn(), which
 * returns as soon as the child has exec'd: no fork of a large process, no
 * window in which the child still runs gomemctl's code.  The child gets
 * every signal at its default disposition and none blocked (monitor blocks
 * SIGINT, SIGTERM and SIGCHLD for its signalfd, and systemd starts services
 * with SIGPIPE ignored) -- but glibc's two internal ones, which its
 * posix_spawn() leaves ignored and every glibc program sets up again --
 * the event on stdin, gomemctl's stderr as stdout and
 * stderr -- stdout is monitor's own output, which a command must not
 * interleave with -- and no other descriptor.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exec.h"
#include "gomemctl.h"

#define ENV_PREFIX "GOMEMGUARD_"

extern char **environ;

struct job {
	uint64_t seq;
	char *event;
	char *json;
};

struct slot {
	pid_t pid;		/* 0: free */
	uint64_t seq;
	char *event;
};

struct exec_runner {
	char *command;
	exec_log_fn log;
	void *log_arg;
	struct slot *slots;
	unsigned int max_running, running;
	/* A ring of waiting jobs, oldest at head. */
	struct job *queue;
	unsigned int max_queued, queued, head;
	struct exec_stats stats;
};

static void say(struct exec_runner *r, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct exec_runner *r, int priority, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->log(r->log_arg, priority, msg);
}

struct exec_runner *exec_new(const char *command, unsigned int max_running,
			     unsigned int max_queued, exec_log_fn log,
			     void *log_arg)
{
	struct exec_runner *r = calloc(1, sizeof(*r));

	if (!r)
		goto err_nomem;
	r->command = strdup(command);
	r->slots = calloc(max_running, sizeof(*r->slots));
	/* calloc(0) may return NULL: an empty queue still needs no memory. */
	r->queue = calloc(max_queued ? max_queued : 1, sizeof(*r->queue));
	if (!r->command || !r->slots || !r->queue)
		goto err_nomem;
	r->max_running = max_running;
	r->max_queued = max_queued;
	r->log = log;
	r->log_arg = log_arg;
	return r;

err_nomem:
	exec_free(r);
	gmc_err(NULL, "%s", strerror(ENOMEM));
	return NULL;
}

void exec_free(struct exec_runner *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->queued; i++) {
		struct job *j = &r->queue[(r->head + i) % r->max_queued];

		free(j->event);
		free(j->json);
	}
	for (i = 0; i < r->max_running && r->slots; i++)
		free(r->slots[i].event);
	free(r->queue);
	free(r->slots);
	free(r->command);
	free(r);
}

/* A JSON value as a variable's text; NULL (ok set) when it has none. */
static char *env_value(struct json_object *v, bool *ok)
{
	const int plain = JSON_C_TO_STRING_PLAIN;
	char *text = NULL;
	size_t len = 0, i, n;
	FILE *f;

	*ok = true;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return strdup(json_object_get_string(v));
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		return strdup(json_object_to_json_string_ext(v, plain));
	case json_type_array:
		break;
	default:
		return NULL;
	}
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		json_type t = json_object_get_type(json_object_array_get_idx(v, i));

		if (t == json_type_null || t == json_type_object ||
		    t == json_type_array)
			return NULL;
	}
	f = open_memstream(&text, &len);
	if (!f)
		goto err;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		fprintf(f, "%s%s", i ? "," : "",
			json_object_is_type(e, json_type_string) ?
			json_object_get_string(e) :
			json_object_to_json_string_ext(e, plain));
	}
	if (fclose(f))
		goto err;
	return text;
err:
	free(text);
	*ok = false;
	return NULL;
}

void exec_env_free(char **env)
{
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

char **exec_env(char *const env[], const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	size_t n_env = 0, n = 0, i;
	char **out = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		goto err;
	while (env[n_env])
		n_env++;
	out = calloc(n_env + (size_t)json_object_object_length(o) + 1,
		     sizeof(*out));
	if (!out)
		goto err;
	/* What the caller inherited must not pass for this event's. */
	for (i = 0; i < n_env; i++) {
		if (!strncmp(env[i], ENV_PREFIX, strlen(ENV_PREFIX)))
			continue;
		out[n] = strdup(env[i]);
		if (!out[n++])
			goto err;
	}
	json_object_object_foreach(o, key, val) {
		char *value, *name, *p;
		bool ok;

		value = env_value(val, &ok);
		if (!ok)
			goto err;
		if (!value)
			continue;
		if (asprintf(&name, ENV_PREFIX "%s=%s", key, value) < 0) {
			free(value);
			goto err;
		}
		free(value);
		/* Keys are lower-case words: names are upper-case ones. */
		for (p = name + strlen(ENV_PREFIX); *p != '='; p++)
			*p = isalnum((unsigned char)*p) ?
			     (char)toupper((unsigned char)*p) : '_';
		out[n++] = name;
	}
	json_object_put(o);
	return out;

err:
	json_object_put(o);
	exec_env_free(out);
	return NULL;
}

/* The event as a file: a reader that never reads cannot block us. */
static int event_fd(const char *json)
{
	size_t len = strlen(json), off = 0;
	int fd = memfd_create("gomemctl-event", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	while (off <= len) {
		/* The JSON, then its newline: one line, as monitor -j prints it. */
		const char *p = off < len ? json + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* errno-style error, or 0 with *pid set. */
static int spawn(struct exec_runner *r, const struct job *j, pid_t *pid)
{
	char sh[] = "/bin/sh", dash_c[] = "-c";
	char *argv[] = { sh, dash_c, r->command, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	char **env;
	int fd, err;

	fd = event_fd(j->json);
	if (fd < 0)
		return errno;
	env = exec_env(environ, j->json);
	if (!env) {
		close(fd);
		return ENOMEM;
	}
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	err = posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO,
						       STDOUT_FILENO);
	/* Whatever a library left open without O_CLOEXEC stays here too. */
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(&fa,
							       STDERR_FILENO + 1);
	if (!err)
		err = posix_spawnattr_setsigdefault(&attr, &all);
	if (!err)
		err = posix_spawnattr_setsigmask(&attr, &none);
	if (!err)
		err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
						      POSIX_SPAWN_SETSIGMASK);
	if (!err)
		err = posix_spawn(pid, sh, &fa, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	exec_env_free(env);
	close(fd);
	return err;
}

/* Runs j in a free slot; j's strings go to the slot or are freed. */
static void start(struct exec_runner *r, struct job *j)
{
	struct slot *s = r->slots;
	pid_t pid;
	int err;

	while (s->pid)
		s++;
	err = spawn(r, j, &pid);
	free(j->json);
	j->json = NULL;
	if (err) {
		say(r, LOG_ERR, "cannot run the command for event %" PRIu64 " (%s): %s",
		    j->seq, j->event, strerror(err));
		r->stats.failed++;
		free(j->event);
		return;
	}
	r->stats.started++;
	s->pid = pid;
	s->seq = j->seq;
	s->event = j->event;
	r->running++;
}

int exec_submit(struct exec_runner *r, uint64_t seq, const char *event,
		const char *json)
{
	struct job j = { .seq = seq };

	if (r->running == r->max_running && r->queued == r->max_queued) {
		r->stats.dropped++;
		return 1;
	}
	j.event = strdup(event);
	j.json = strdup(json);
	if (!j.event || !j.json) {
		free(j.event);
		free(j.json);
		say(r, LOG_ERR, "cannot run the command for event %" PRIu64 " (%s): %s",
		    seq, event, strerror(ENOMEM));
		r->stats.failed++;
		return 0;
	}
	if (r->running < r->max_running)
		start(r, &j);
	else
		r->queue[(r->head + r->queued++) % r->max_queued] = j;
	return 0;
}

static void report_exit(struct exec_runner *r, const struct slot *s,
			int status)
{
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return;
	r->stats.failed++;
	if (WIFEXITED(status))
		say(r, LOG_WARNING, "the command for event %" PRIu64 " (%s) exited with status %d",
		    s->seq, s->event, WEXITSTATUS(status));
	else if (sigabbrev_np(WTERMSIG(status)))
		say(r, LOG_WARNING, "the command for event %" PRIu64 " (%s) was killed by SIG%s",
		    s->seq, s->event, sigabbrev_np(WTERMSIG(status)));
	else
		say(r, LOG_WARNING, "the command for event %" PRIu64 " (%s) was killed by signal %d",
		    s->seq, s->event, WTERMSIG(status));
}

void exec_reap(struct exec_runner *r)
{
	unsigned int i;

	for (i = 0; i < r->max_running; i++) {
		struct slot *s = &r->slots[i];
		int status;
		pid_t pid;

		if (!s->pid)
			continue;
		pid = waitpid(s->pid, &status, WNOHANG);
		if (pid == 0 || (pid < 0 && errno == EINTR))
			continue;
		/* ECHILD: someone else reaped it; it is gone all the same. */
		if (pid > 0)
			report_exit(r, s, status);
		free(s->event);
		s->event = NULL;
		s->pid = 0;
		r->running--;
	}
	while (r->queued && r->running < r->max_running) {
		struct job j = r->queue[r->head];

		r->head = (r->head + 1) % r->max_queued;
		r->queued--;
		start(r, &j);
	}
}

bool exec_busy(const struct exec_runner *r)
{
	return r->running || r->queued;
}

void exec_get_stats(const struct exec_runner *r, struct exec_stats *st)
{
	*st = r->stats;
	st->running = r->running;
	st->queued = r->queued;
}
