/* SPDX-License-Identifier: Apache-2.0 */
/* liveness: turns its signals into the set of alive speakers. Today one signal: each speaker's
 * Lease barelb-speaker-<node> (renewed by its owner; Kubernetes coordination.k8s.io or a file in
 * the state directory). Faster signals (speaker-to-speaker heartbeats) can be added here without
 * touching the callers. */
#ifndef BARELB_SPEAKER_LIVENESS_H
#define BARELB_SPEAKER_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include "barelb/model.h"
#include "barelb/source.h"

#define LIVENESS_LEASE_PREFIX "barelb-speaker-"

struct loop;
struct liveness;

struct liveness_opts {
	const char *node;        /* this speaker's node name */
	uint32_t duration_s;     /* lease duration: a speaker is dead this long after its last renewal */
	uint32_t renew_ms;       /* how often this speaker renews its own lease */
	/* Called (from the loop) when the alive set changed; node is the one that changed. */
	void (*changed)(const char *node, bool alive, void *arg);
	void *arg;
};

struct liveness *liveness_new(struct loop *l, struct source *s, const struct liveness_opts *o);
void liveness_free(struct liveness *lv); /* NULL-safe */
/* Start renewing this speaker's own lease. */
int liveness_start(struct liveness *lv);
/* Feed every Lease event of the source. */
void liveness_on_lease(struct liveness *lv, enum source_event ev, const struct kobj *old,
		       const struct kobj *now);
bool liveness_alive(const struct liveness *lv, const char *node);
/* Every alive node name, for the election. cb must not change liveness. */
void liveness_foreach(const struct liveness *lv, void (*cb)(const char *node, void *arg),
		      void *arg);
/* Stop renewing and release the lease (clean stop: the next owner takes over at once). */
void liveness_leave(struct liveness *lv, void (*done)(void *arg), void *arg);
/* Renewals that failed since start, for metrics. */
uint64_t liveness_renew_errors(const struct liveness *lv);

#endif
