/* SPDX-License-Identifier: Apache-2.0 */
/* speaker: the daemon around the pure election and the layer-2 responder. */
#ifndef BARELB_SPEAKER_SPEAKER_H
#define BARELB_SPEAKER_SPEAKER_H

#include "barelb/daemon.h"

struct loop;
struct config;
struct speaker;

struct speaker *speaker_new(const struct daemon_opts *o);
int speaker_start(struct loop *l, const struct config *cfg, void *arg);
void speaker_config_changed(const struct config *cfg, void *arg);
void speaker_stop(void *arg, void (*done)(void *), void *done_arg);
void speaker_free(struct speaker *s);

#endif
