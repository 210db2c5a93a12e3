/* SPDX-License-Identifier: Apache-2.0 */
/* controller: the I/O around the allocator: Services in from the source, IPs out to their status. */
#ifndef BARELB_CONTROLLER_H
#define BARELB_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>

#include "barelb/daemon.h"

struct loop;
struct config;
struct controller;

struct daemon_env;
struct jsonw;

struct controller *controller_new(const struct daemon_opts *o);
/* daemon_hooks callbacks (lib/run.h) */
int controller_start(struct daemon_env *env, const struct config *cfg, void *arg);
void controller_config_changed(const struct config *cfg, void *arg);
void controller_stop(void *arg, void (*done)(void *), void *done_arg);
bool controller_ready(void *arg, char *why, size_t n);
void controller_status(void *arg, struct jsonw *w);
void controller_cleanup(void *arg); /* frees the controller */
void controller_free(struct controller *c);

#endif
