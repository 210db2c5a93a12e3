/* SPDX-License-Identifier: Apache-2.0 */
/* announce_bgp: the speaker's BGP side: one session per BGPPeer that selects this node, fed with
 * the routes of the pure plan (bgp/plan.c). */
#ifndef BARELB_SPEAKER_ANNOUNCE_BGP_H
#define BARELB_SPEAKER_ANNOUNCE_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct config;
struct store;
struct kobj;
struct bgp_announcer;

/* Which Services are the speaker's (type LoadBalancer of its class, with IPs). */
typedef bool (*bgp_is_ours_fn)(const struct kobj *svc, void *arg);

struct bgp_announcer *bgp_announcer_new(struct loop *l, const char *node);
void bgp_announcer_free(struct bgp_announcer *a); /* closes every session at once */
/* Recompute: sessions follow the config's BGPPeers for this node (added, changed, removed without
 * touching the others), routes follow the plan over every Service in the store. alive: this
 * node's own eligibility from liveness/Node conditions (false: announce nothing, keep sessions). */
void bgp_announcer_update(struct bgp_announcer *a, const struct config *cfg,
			  const struct store *st, bgp_is_ours_fn is_ours, void *arg, bool eligible,
			  bool ready_only);
/* SIGTERM: NOTIFICATION Cease to every peer, then done(arg) once all connections are closed. */
void bgp_announcer_stop(struct bgp_announcer *a, void (*done)(void *arg), void *arg);
size_t bgp_announcer_session_count(const struct bgp_announcer *a);

struct bgp_session;
/* What the configuration said about a peer, for metrics and `barelbctl peers`. */
struct bgp_peer_info {
	const char *name;
	const char *address; /* text */
	uint16_t port;
	uint32_t peer_asn, my_asn;
};
/* Visit every session (order unspecified). */
void bgp_announcer_foreach(const struct bgp_announcer *a,
			   void (*cb)(const struct bgp_peer_info *p, const struct bgp_session *s,
				      void *arg),
			   void *arg);

#endif
