/* SPDX-License-Identifier: Apache-2.0 */
/* controller: the I/O around the allocator: Services in from the source, IPs out to their status. */
#ifndef BARELB_CONTROLLER_H
#define BARELB_CONTROLLER_H

#include "barelb/daemon.h"

struct loop;
struct config;
struct controller;

struct controller *controller_new(const struct daemon_opts *o);
/* daemon_hooks callbacks (lib/run.h) */
int controller_start(struct loop *l, const struct config *cfg, void *arg);
void controller_config_changed(const struct config *cfg, void *arg);
void controller_stop(void *arg, void (*done)(void *), void *done_arg);
void controller_free(struct controller *c);

#endif
