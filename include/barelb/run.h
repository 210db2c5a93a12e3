/* SPDX-License-Identifier: Apache-2.0 */
/* run: the common main loop skeleton of the two daemons (config holder, signals, clean stop, the
 * metrics/health HTTP server and the control socket). */
#ifndef BARELB_RUN_H
#define BARELB_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "barelb/daemon.h"

struct loop;
struct config;
struct metrics;
struct control;
struct jsonw;

#define DAEMON_STOP_GRACE_MS 2000

/* What a daemon gets at start: the loop, the metrics registry (never NULL) and the control socket
 * (NULL when disabled or when it could not be opened) to register its own metrics and commands. */
struct daemon_env {
	struct loop *l;
	struct metrics *m;
	struct control *ctl;
	const struct daemon_opts *o;
};

struct daemon_hooks {
	/* Called after the first config load, before the loop runs; non-zero aborts start-up. */
	int (*start)(struct daemon_env *env, const struct config *cfg, void *arg);
	/* Called when a new valid config replaced the old one. */
	void (*config_changed)(const struct config *cfg, void *arg);
	/* Called on SIGTERM/SIGINT. The daemon hands over (releases Leases, withdraws routes) and
	 * calls done(done_arg) when finished; the loop stops then, or after DAEMON_STOP_GRACE_MS. */
	void (*stop)(void *arg, void (*done)(void *done_arg), void *done_arg);
	/* /readyz and `status`: ready to serve (first sync done ...); else a one-line reason. */
	bool (*ready)(void *arg, char *why, size_t why_len);
	/* `status`: the daemon's own fields ("synced", "leader", ...) inside the status object. */
	void (*status)(void *arg, struct jsonw *w);
	/* Called once at the end, before the loop is freed: free everything (arg included). */
	void (*cleanup)(void *arg);
	void *arg;
};

/* Load the config (exit 1 on errors), run the loop until SIGTERM/SIGINT, return the exit status. */
int daemon_run(const struct daemon_opts *o, const struct daemon_hooks *hooks);

#endif
