/* SPDX-License-Identifier: Apache-2.0 */
/* alloc: the pure IP allocator of the controller (MetalLB's rules, deterministic and fast).
 * No I/O, no clock, no globals; the controller translates Services into requests. The rules are
 * stated as a spec at the top of alloc.c. */
#ifndef BARELB_ALLOC_H
#define BARELB_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"
#include "barelb/config.h"

struct alloc;

/* Why a request failed. ALLOC_OK is 0. */
enum alloc_err {
	ALLOC_OK = 0,
	ALLOC_E_EXHAUSTED,        /* every candidate pool is full (message gives the sizes) */
	ALLOC_E_NO_POOL,          /* no pool may be used automatically for this service */
	ALLOC_E_FAMILY,           /* candidate pools exist, none has the family (e.g. no IPv6 pool) */
	ALLOC_E_FAMILY_MISMATCH,  /* requested IPs' families differ from the service's, or
	                           * RequireDualStack without two cluster IP families */
	ALLOC_E_BAD_IP,           /* a requested IP is not an IP literal */
	ALLOC_E_BOTH_GIVEN,       /* spec.loadBalancerIP and the loadBalancerIPs annotation */
	ALLOC_E_TOO_MANY_IPS,     /* more than two requested IPs */
	ALLOC_E_SAME_FAMILY,      /* two requested IPs of the same family */
	ALLOC_E_IP_NOT_IN_POOL,   /* a requested IP is in no pool */
	ALLOC_E_BUGGY_IP,         /* a requested IP ends in .0/.255 in a pool with avoidBuggyIPs */
	ALLOC_E_DIFFERENT_POOLS,  /* the requested IPs are in different pools */
	ALLOC_E_NO_SUCH_POOL,     /* the requested pool does not exist */
	ALLOC_E_POOL_MISMATCH,    /* the requested IPs are not in the requested pool */
	ALLOC_E_POOL_NOT_ALLOWED, /* serviceAllocation excludes this namespace or service */
	ALLOC_E_SHARING_KEY,      /* the IP is held by a service with another (or no) sharing key */
	ALLOC_E_PORT_CONFLICT,    /* the IP is shared and a (protocol, port) is already taken */
	ALLOC_E_KEEP_ONLY,        /* keep_only request: nothing to keep (the reason is in the text) */
	ALLOC_E_NOMEM,
	ALLOC_E_COUNT
};

/* Stable short name of a reason ("PoolExhausted", ...), for Events and metrics labels. */
const char *alloc_err_name(enum alloc_err e);

/* Same numbering as enum kproto of model.h, so the controller can convert by value. */
enum alloc_proto { ALLOC_TCP, ALLOC_UDP, ALLOC_SCTP };

struct alloc_port {
	enum alloc_proto proto;
	uint16_t port;
};

enum alloc_policy {
	ALLOC_SINGLE_STACK = 0,   /* also for an unset ipFamilyPolicy */
	ALLOC_PREFER_DUAL,
	ALLOC_REQUIRE_DUAL,
};

/* One Service as the allocator sees it. Everything is borrowed for the duration of the call. */
struct alloc_request {
	const char *key;                  /* "ns/name" */
	const char *ns;
	const struct cfg_label *svc_labels;  /* for serviceSelectors */
	size_t n_svc_labels;
	const struct cfg_label *ns_labels;   /* the namespace's labels, for namespaceSelectors */
	size_t n_ns_labels;
	int families[2];                  /* AF_INET / AF_INET6 from clusterIPs (ipFamilies); [0] is
	                                   * the primary family; n_families 0 means IPv4 */
	size_t n_families;
	enum alloc_policy policy;
	const char *lb_ip;                /* spec.loadBalancerIP; NULL or "" if unset */
	const char *lb_ips;               /* loadBalancerIPs annotation ("a, b"); NULL or "" if unset */
	const char *pool;                 /* address-pool annotation; NULL or "" if unset */
	const char *sharing_key;          /* allow-shared-ip annotation; NULL or "" if none */
	const char *backend_key;          /* canonical selector iff externalTrafficPolicy Local, else
	                                   * NULL or "" */
	const struct alloc_port *ports;
	size_t n_ports;
	const addr_t *ingress;            /* status.loadBalancer.ingress IPs, in order */
	size_t n_ingress;
	/* Restart rebuild, phase 1: only re-take the current IPs (the table entry or the ingress);
	 * never allocate fresh ones. Fails with ALLOC_E_KEEP_ONLY and nothing allocated otherwise. */
	bool keep_only;
};

#define ALLOC_MSG_MAX 512

struct alloc_result {
	enum alloc_err err;
	char msg[ALLOC_MSG_MAX];          /* one line; "" when err is ALLOC_OK */
	/* What the service holds after the call (also on error: a request that cannot even be read
	 * leaves the previous allocation in place). Primary family first. */
	addr_t ips[2];
	size_t n_ips;
	const char *pool;                 /* allocator's copy of the pool name; NULL if no IPs. Valid
	                                   * until the next alloc_set_pools or alloc_free */
	bool changed;                     /* ips differ from request->ingress */
};

/* Per-pool options that the config may grow later; keyed by pool name, kept across
 * alloc_set_pools (they apply whenever a pool of that name exists). */
struct alloc_pool_options {
	const range_t *reserved;          /* never handed out automatically; allowed when requested
	                                   * explicitly (or kept when already held) */
	size_t n_reserved;
	uint64_t hold_ms;                 /* a released IP goes to no OTHER service for this long;
	                                   * 0 = off */
};

/* Lists of service keys (sorted), owned by the caller after alloc_set_pools. */
struct alloc_changes {
	char **invalid;                   /* lost their IPs: allocate them again */
	size_t n_invalid;
	char **moved;                     /* kept their IPs, whose pool name changed */
	size_t n_moved;
};
void alloc_changes_free(struct alloc_changes *c); /* frees the lists, not the struct */

struct alloc_pool_stats {
	const char *name;
	addr_u128 size_v4, size_v6;       /* addresses that can be allocated (buggy ones not
	                                   * counted); saturates at 2^128-1 */
	addr_u128 reserved_v4, reserved_v6;
	uint64_t used_v4, used_v6;        /* distinct IPs held by at least one service */
	uint64_t held_v4, held_v6;        /* released IPs in hold-down */
};

struct alloc *alloc_new(void);
void alloc_free(struct alloc *a); /* NULL-safe */

/* Replace the pool set. The allocator copies names and addresses and BORROWS the rest of each
 * cfg_pool (namespaces, selectors) until the next alloc_set_pools or alloc_free, so keep the
 * config alive that long. Existing allocations are re-mapped: an IP in no pool any more, or now a
 * buggy IP of an avoidBuggyIPs pool, is released (no hold-down) and its service listed in
 * ch->invalid; services whose IPs are still in a pool keep them (ch->moved if that pool has
 * another name). Returns 0, or -1 with nothing changed (out of memory, or overlapping pools; msg
 * says which, msg may be NULL). ch may be NULL. */
int alloc_set_pools(struct alloc *a, const struct cfg_pool *pools, size_t n,
		    struct alloc_changes *ch, char *msg, size_t msglen);

/* Options for the pool called name (NULL o: back to defaults). Returns 0, -1 on ENOMEM. */
int alloc_set_pool_options(struct alloc *a, const char *name, const struct alloc_pool_options *o);

/* Converge one service: keep its IPs if they are still valid for the request, otherwise release
 * them and allocate again. Returns res->err (0 on success). */
int alloc_service(struct alloc *a, const struct alloc_request *rq, uint64_t now_ms,
		  struct alloc_result *res);

/* The service is gone (deleted, no longer type LoadBalancer, other class): free its IPs; with a
 * hold-down they stay reserved for key until now_ms + hold_ms. Returns 1 if it held IPs. */
int alloc_release(struct alloc *a, const char *key, uint64_t now_ms);

/* End the hold-downs that expired by now_ms (also done at the start of every call that takes
 * now_ms). Returns the time of the next expiry, or UINT64_MAX if nothing is held: an
 * allocation that failed for lack of addresses may succeed then. */
uint64_t alloc_tick(struct alloc *a, uint64_t now_ms);

/* The current allocation of key: number of IPs (0 if none); ips gets up to 2, *pool (may be
 * NULL) the pool name. */
size_t alloc_get(const struct alloc *a, const char *key, addr_t ips[2], const char **pool);
size_t alloc_service_count(const struct alloc *a);

/* Pools in name order. */
size_t alloc_pool_count(const struct alloc *a);
int alloc_pool_stats(const struct alloc *a, size_t i, struct alloc_pool_stats *st);

#endif
