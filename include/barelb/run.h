/* SPDX-License-Identifier: Apache-2.0 */
/* run: the common main loop skeleton of the two daemons (config holder, signals, clean stop). */
#ifndef BARELB_RUN_H
#define BARELB_RUN_H

#include "barelb/daemon.h"

struct loop;
struct config;

#define DAEMON_STOP_GRACE_MS 2000

struct daemon_hooks {
	/* Called after the first config load, before the loop runs; non-zero aborts start-up. */
	int (*start)(struct loop *l, const struct config *cfg, void *arg);
	/* Called when a new valid config replaced the old one. */
	void (*config_changed)(const struct config *cfg, void *arg);
	/* Called on SIGTERM/SIGINT. The daemon hands over (releases Leases, withdraws routes) and
	 * calls done(done_arg) when finished; the loop stops then, or after DAEMON_STOP_GRACE_MS. */
	void (*stop)(void *arg, void (*done)(void *done_arg), void *done_arg);
	void *arg;
};

/* Load the config (exit 1 on errors), run the loop until SIGTERM/SIGINT, return the exit status. */
int daemon_run(const struct daemon_opts *o, const struct daemon_hooks *hooks);

#endif
