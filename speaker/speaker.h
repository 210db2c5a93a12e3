/* SPDX-License-Identifier: Apache-2.0 */
/* speaker: the daemon around the pure election and the layer-2 responder. */
#ifndef BARELB_SPEAKER_SPEAKER_H
#define BARELB_SPEAKER_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>

#include "barelb/daemon.h"

struct loop;
struct config;
struct speaker;

struct daemon_env;
struct jsonw;

struct speaker *speaker_new(const struct daemon_opts *o);
int speaker_start(struct daemon_env *env, const struct config *cfg, void *arg);
void speaker_config_changed(const struct config *cfg, void *arg);
void speaker_stop(void *arg, void (*done)(void *), void *done_arg);
bool speaker_ready(void *arg, char *why, size_t n);
void speaker_status(void *arg, struct jsonw *w);
void speaker_cleanup(void *arg); /* frees the speaker */
void speaker_free(struct speaker *s);

#endif
