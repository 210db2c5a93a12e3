/* SPDX-License-Identifier: Apache-2.0 */
/* plan: what this node announces over BGP, to which peer, with which attributes. Pure: no I/O, no
 * clock, no globals; the same input in any order gives the same plan. The rules are stated as a
 * spec at the top of plan.c. */
#ifndef BARELB_SPEAKER_BGP_PLAN_H
#define BARELB_SPEAKER_BGP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"
#include "barelb/config.h"
#include "barelb/model.h"
#include "msg.h" /* struct bgp_large_community: plan_attrs feed struct bgp_route as they are */

/* Label Kubernetes puts on nodes that must not carry load-balancer traffic (same as elect.h). */
#define PLAN_EXCLUDE_LABEL "node.kubernetes.io/exclude-from-external-load-balancers"

/* ---------- inputs ---------- */

struct plan_node {              /* this node */
	const char *name;
	const struct kv *labels;    /* any order; NULL/0 when there is no Node object */
	size_t n_labels;
	bool network_unavailable;   /* condition NetworkUnavailable == True */
};

/* Endpoints of a service, as far as announcing cares (see plan_ep_state). */
enum plan_ep {
	PLAN_EP_NONE = 0,           /* no endpoint that can serve */
	PLAN_EP_SERVING = 1,        /* only terminating endpoints that still serve */
	PLAN_EP_READY = 2,          /* at least one ready endpoint */
};

struct plan_service {
	const char *key;            /* "ns/name"; only for messages, never compared */
	const struct kv *labels;    /* metadata.labels, for serviceSelectors; any order */
	size_t n_labels;
	const addr_t *ingress;      /* status.loadBalancer.ingress IPs */
	size_t n_ingress;
	enum svc_etp etp;
	enum plan_ep ep_anywhere;   /* best endpoint state over every node */
	enum plan_ep ep_here;       /* best endpoint state on this node */
	const char *pool;           /* pool the IPs came from (annotation); NULL or unknown: the
				     * pool whose addresses hold each IP */
};

/* ---------- the per-node context (rebuild when the config or this node's labels change) ---------- */

struct plan_ctx;

/* exclude_label: NULL means PLAN_EXCLUDE_LABEL, "" means do not check. cfg and node must outlive
 * the context (names and community arrays are not copied). NULL on out of memory. */
struct plan_ctx *plan_ctx_new(const struct config *cfg, const struct plan_node *node,
			      const char *exclude_label);
void plan_ctx_free(struct plan_ctx *c); /* NULL-safe */

/* Peers whose sessions run on this node: the config's BGPPeers whose nodeSelectors select it,
 * sorted by name. Index i is the "peer index" used below. Sessions run even when the node is
 * excluded (it then announces nothing), like MetalLB. */
size_t plan_ctx_peer_count(const struct plan_ctx *c);
const struct cfg_peer *plan_ctx_peer(const struct plan_ctx *c, size_t i);
bool plan_ctx_peer_ibgp(const struct plan_ctx *c, size_t i); /* peer ASN == local ASN */

/* ---------- why a service is or is not announced by this node ---------- */

enum plan_reason {
	PLAN_ANNOUNCED = 0,         /* at least one prefix goes to at least one peer */
	PLAN_NO_IP,                 /* no ingress IP */
	PLAN_NODE_EXCLUDED,         /* exclude label or NetworkUnavailable */
	PLAN_NO_POOL,               /* no pool holds the IPs */
	PLAN_NO_ADVERTISEMENT,      /* no BGPAdvertisement selects the pool and the service */
	PLAN_NODE_NOT_SELECTED,     /* advertisements exist, none selects this node */
	PLAN_NO_ENDPOINTS,          /* ETP Cluster: no endpoint can serve anywhere */
	PLAN_NO_LOCAL_ENDPOINT,     /* ETP Local: no (suitable) endpoint on this node */
	PLAN_NO_PEER,               /* announceable, but no peer of this node takes it */
	PLAN_REASON_COUNT
};
const char *plan_reason_name(enum plan_reason r); /* "announced", "no-ip", ... */

/* ---------- one service: its contributions (for incremental callers) ---------- */

/* "This advertisement makes this node send this prefix to this peer." */
struct plan_contrib {
	uint32_t peer;              /* peer index (plan_ctx_peer) */
	uint32_t ad;                /* index into cfg->bgpadvs */
	prefix_t prefix;            /* IP masked to the advertisement's aggregation length */
};

/* Appends the service's contributions to *v (realloc'd; *n and *cap updated), sorted within the
 * call by (peer, prefix, ad) and unique. Returns the reason, or -1 on out of memory. */
int plan_service_contribs(const struct plan_ctx *c, const struct plan_service *s,
			  struct plan_contrib **v, size_t *n, size_t *cap);

/* ---------- the whole plan ---------- */

/* Path attributes barelb varies per prefix. Interned: routes with equal attributes share one. */
struct plan_attrs {
	bool has_local_pref;        /* only for iBGP peers */
	uint32_t local_pref;
	const uint32_t *communities; /* RFC 1997, (A << 16) | B; ascending, unique */
	size_t n_communities;
	const struct bgp_large_community *large; /* ascending (global, local1, local2), unique */
	size_t n_large;
};

struct plan_route {
	prefix_t prefix;
	uint32_t attrs;             /* index into plan.attrs */
};

struct plan_peer {
	const struct cfg_peer *peer; /* name: peer->name */
	bool ibgp;
	struct plan_route *routes;  /* ascending by prefix (addr_cmp, then length); unique */
	size_t n_routes;
};

struct plan {
	struct plan_peer *peers;    /* every peer of this node (plan_ctx_peer order: by name) */
	size_t n_peers;
	struct plan_attrs *attrs;   /* distinct attribute sets, in a canonical order */
	size_t n_attrs;
	enum plan_reason *reasons;  /* one per input service, same order */
	size_t n_reasons;
	/* Prefixes that two advertisements send to one peer with different localPref. The config
	 * loader rejects that within one pool; across pools (aggregation folding two pools into one
	 * prefix) it can remain: the highest localPref is sent, and this counts the cases. */
	size_t n_local_pref_conflicts;
	/* private */
	uint32_t *comm_mem;
	struct bgp_large_community *large_mem;
};

/* Build the plan for services svcs[0..n). 0, or -1 on out of memory (out is then empty).
 * plan_free() after either. */
int plan_build(const struct plan_ctx *c, const struct plan_service *svcs, size_t n,
	       struct plan *out);
void plan_free(struct plan *p); /* NULL-safe, idempotent */

/* ---------- helpers ---------- */

/* Best endpoint state of a service over its EndpointSlices, on node (or anywhere if NULL):
 * READY when an endpoint is ready, SERVING when one only serves (terminating), else NONE. */
enum plan_ep plan_ep_state(const struct endpointslice *const *slices, size_t n, const char *node);

/* "10.0.0.0/24 local-pref 100 communities 65000:1,65000:2 large 1:2:3" (parts without values are
 * left out). Returns the length, or -1 if it did not fit (buf then holds a truncated text). */
int plan_route_format(const struct plan *p, const struct plan_route *r, char *buf, size_t n);

#endif
