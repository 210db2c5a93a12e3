/* SPDX-License-Identifier: Apache-2.0 */
/* daemon: what barelb-controller and barelb-speaker share at start-up: the common command line,
 * --check-config/--print-config, and the config that is reloaded on SIGHUP and on file changes. */
#ifndef BARELB_DAEMON_H
#define BARELB_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "barelb/log.h"

#define BARELB_VERSION "0.1.0"
#define DAEMON_DEFAULT_CONFIG "/etc/barelb/config.yaml"
/* Speaker liveness defaults (README "Failover" explains the choice). */
#define DAEMON_LEASE_DURATION_S 3
#define DAEMON_LEASE_RENEW_MS 1000
#define DAEMON_WITHDRAW_HOLD_MS 500
#define DAEMON_NOTREADY_GRACE_S 20

struct config;
struct loop;

struct daemon_opts {
	const char *prog;       /* "barelb-controller" or "barelb-speaker" */
	bool speaker;           /* takes --node */
	const char *config;     /* --config */
	const char *source;     /* --source kube|dir:PATH */
	const char *kubeconfig; /* --kubeconfig */
	const char *lb_class;   /* --lb-class */
	const char *metrics;    /* --metrics ADDR:PORT */
	const char *control;    /* --control PATH */
	const char *node;       /* --node (speaker), default $NODE_NAME */
	enum log_level level;   /* --log-level */
	bool run_once;          /* --exit-after-load: load, report, exit (tests, demo) */
	bool leader_elect;      /* --leader-elect (controller) */
	const char *namespace;  /* --namespace: where Leases live (default $POD_NAMESPACE, else
	                         * barelb-system) */
	const char *identity;   /* leader-election identity: $POD_NAME, else the host name */
	char identity_buf[256];
	uint32_t lease_duration_s; /* --lease-duration SECONDS (speaker) */
	uint32_t lease_renew_ms;   /* --lease-renew MS (speaker) */
	uint32_t withdraw_hold_ms; /* --withdraw-hold MS: delay before withdrawing for lack of endpoints */
	uint32_t notready_grace_s; /* --node-notready-grace S: Ready False/Unknown this long = ineligible */
	bool terminating_drop;     /* --terminating-endpoints drop: serving-but-terminating do not count */
};

/* Parse argv. Returns -1 to go on running, or an exit status (0 for --help/--version/a valid
 * --check-config, 1 for an invalid one, 2 for a usage error) after printing what it has to. */
int daemon_parse_args(int argc, char **argv, struct daemon_opts *o);

/* Load a config file and print its diagnostics to stderr (and, with print, the canonical form to
 * stdout). Returns the exit status: 0 valid, 1 invalid. Shared by both daemons and barelbctl. */
int daemon_check_config(const char *path, bool print);

/* The config in force, reloaded on SIGHUP and when the file changes (inotify on its directory, so a
 * ConfigMap's symlink swap is seen). An invalid new file is rejected with its errors logged and the
 * old config stays in force; `stale` says so until a good file is loaded. */
struct config_holder;
typedef void (*config_changed_cb)(const struct config *now, void *arg);

struct config_holder *config_holder_new(struct loop *l, const char *path, config_changed_cb cb,
					void *arg);
void config_holder_free(struct config_holder *h);
/* First load: 0, or -1 with the errors logged (the daemon exits: bad config at start). */
int config_holder_load(struct config_holder *h);
/* Reload now; 0 when the new file was taken (or unchanged), -1 when it was rejected. */
int config_holder_reload(struct config_holder *h);
const struct config *config_holder_get(const struct config_holder *h);
bool config_holder_stale(const struct config_holder *h);
uint64_t config_holder_reloads(const struct config_holder *h);     /* successful loads */
uint64_t config_holder_failures(const struct config_holder *h);    /* rejected reloads */

#endif
