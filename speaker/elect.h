/* SPDX-License-Identifier: Apache-2.0 */
/* elect: which node answers ARP/NDP for a service's IPs in layer-2 mode. Pure: no I/O, no clock,
 * no globals; the same input gives the same answer on every speaker. The rule is stated as a spec
 * at the top of elect.c. */
#ifndef BARELB_SPEAKER_ELECT_H
#define BARELB_SPEAKER_ELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "barelb/addr.h"
#include "barelb/config.h"
#include "barelb/model.h"

/* Label Kubernetes puts on nodes that must not carry load-balancer traffic. */
#define ELECT_EXCLUDE_LABEL "node.kubernetes.io/exclude-from-external-load-balancers"

struct elect_node {
	const char *name;
	const struct kv *labels;  /* any order */
	size_t n_labels;
	bool network_unavailable; /* condition NetworkUnavailable == True */
	bool alive;               /* from liveness (fresh speaker Lease) */
};

struct elect_input {
	/* the service */
	const char *svc_key;                     /* "ns/name", only for messages */
	const struct kv *svc_labels;
	size_t n_svc_labels;
	const addr_t *ingress;                   /* status.loadBalancer.ingress IPs, in order */
	size_t n_ingress;
	enum svc_etp etp;
	bool shares_ip;                          /* another service holds one of these IPs */
	const struct endpointslice *const *slices; /* every EndpointSlice of the service */
	size_t n_slices;
	/* the cluster */
	const struct elect_node *nodes;          /* every Node, any order */
	size_t n_nodes;
	const struct cfg_l2adv *const *ads;      /* L2Advertisements that select the service's pool */
	size_t n_ads;
	const char *exclude_label;               /* NULL: ELECT_EXCLUDE_LABEL; "": do not check */
	bool ready_only;                         /* count only ready endpoints, never serving-but-
	                                          * terminating ones (default false: see step 6) */
};

enum elect_reason {
	ELECT_OWNED = 0,           /* owner is set */
	ELECT_NO_IP,               /* the service has no ingress IP yet */
	ELECT_SHARED_IP_SELECTORS, /* shared IP and an advertisement with serviceSelectors */
	ELECT_NO_ADVERTISEMENT,    /* no advertisement of the pool selects this service */
	ELECT_NO_ENDPOINTS,        /* no endpoint of the service can serve */
	ELECT_NO_ELIGIBLE_NODE,    /* no node is alive, usable and selected by an advertisement */
	ELECT_NO_LOCAL_ENDPOINT,   /* ETP Local: no eligible node hosts a serving endpoint */
	ELECT_REASON_COUNT
};

struct elect_result {
	enum elect_reason reason;
	const char *owner;         /* points into input nodes[].name; NULL unless ELECT_OWNED */
	int score;                 /* owner's preference score */
	size_t n_candidates;       /* eligible nodes the owner was chosen from */
	/* Interfaces to answer on, on the owner: the union of `interfaces` of the advertisements that
	 * select the owner. all_interfaces: one of them lists none, i.e. every interface whose subnet
	 * holds the IP. The names point into the advertisements; the array is the result's. */
	bool all_interfaces;
	const char **interfaces;   /* sorted, unique */
	size_t n_interfaces;
};

/* Decide. Returns 0 (result filled, reason says whether there is an owner) or -1 (out of memory).
 * elect_result_free() must be called after either. */
int elect_l2(const struct elect_input *in, struct elect_result *out);
void elect_result_free(struct elect_result *r); /* NULL-safe, idempotent */

/* The owner order key of one node: sha256(node + "#" + ip as RFC 5952 text). */
void elect_node_hash(const char *node, const addr_t *ip, unsigned char out[32]);
const char *elect_reason_name(enum elect_reason r); /* "owned", "no-ip", ... */

#endif
