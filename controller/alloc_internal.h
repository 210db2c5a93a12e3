/* SPDX-License-Identifier: Apache-2.0 */
/* alloc_internal: the allocator's state and indexes, shared by controller/alloc*.c only. */
#ifndef BARELB_ALLOC_INTERNAL_H
#define BARELB_ALLOC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "barelb/addr.h"
#include "barelb/config.h"
#include "alloc.h"

/* ---------- interval set: the blocked addresses of one pool and family ----------
 * A set of disjoint intervals [lo, hi] in a treap keyed by lo (priorities from a hash of the
 * key, so the shape is deterministic). Invariant: no two intervals touch, overlap, or are
 * separated only by "buggy" addresses (last octet 0 or 255, when the set was made with
 * skip_buggy). So "first unblocked address >= x" is one predecessor lookup plus at most one
 * skip over buggy addresses: O(log intervals), whatever the number of blocked addresses. */
struct ivl {
	addr_u128 lo, hi;
	struct ivl *l, *r;
	uint64_t prio;
};

struct ivl_set {
	struct ivl *root;
	size_t n;          /* intervals */
	bool skip_buggy;   /* IPv4 with avoidBuggyIPs */
};

void ivl_init(struct ivl_set *s, bool skip_buggy);
void ivl_clear(struct ivl_set *s);
/* The interval containing x, or NULL. */
const struct ivl *ivl_containing(const struct ivl_set *s, addr_u128 x);
/* Block [lo, hi]. 0, or -1 on ENOMEM (set unchanged). */
int ivl_add(struct ivl_set *s, addr_u128 lo, addr_u128 hi);
/* Unblock the single address x (a no-op for a buggy x when skip_buggy). 0, or -1 on ENOMEM
 * (set unchanged). */
int ivl_del(struct ivl_set *s, addr_u128 x);
/* First address in [lo, hi] that is neither blocked nor buggy; false if none. */
bool ivl_first_free(const struct ivl_set *s, addr_u128 lo, addr_u128 hi, addr_u128 *out);
/* Is x an address that skip_buggy sets skip (IPv4 value ending in .0 or .255)? */
bool ivl_is_buggy(addr_u128 x);

/* ---------- hash map of pointers (open addressing, linear probing, backward-shift delete) ---------- */
struct hslot {
	uint64_t h;
	void *p;
};

struct hmap {
	struct hslot *s;
	size_t cap, n; /* cap is 0 or a power of two */
};

typedef bool (*hmap_eq_fn)(const void *elem, const void *key);

void *hmap_get(const struct hmap *m, uint64_t h, hmap_eq_fn eq, const void *key);
int hmap_put(struct hmap *m, uint64_t h, void *p); /* key must be absent; 0 or -1 (ENOMEM) */
void *hmap_del(struct hmap *m, uint64_t h, hmap_eq_fn eq, const void *key);
void hmap_free(struct hmap *m);

uint64_t hash_str(const char *s);
uint64_t hash_addr(const addr_t *a);

/* ---------- the allocator's state (alloc*.c) ---------- */

struct acidr {
	addr_u128 lo, hi;
};

/* One CIDR of the whole configuration, for "which pool holds this IP" by binary search. */
struct span {
	addr_u128 lo, hi;
	int pool;
	int cidx; /* index in that pool's list of CIDRs of this family */
};

struct apool {
	char *name;
	const struct cfg_pool *cfg;        /* borrowed */
	struct acidr *cidr[2];             /* per family (0 IPv4, 1 IPv6), configuration order */
	size_t n_cidr[2];
	struct acidr *resv[2];             /* reserved, clipped to the pool, sorted, disjoint */
	size_t n_resv[2];
	addr_u128 size[2], reserved[2];
	uint64_t used[2], held[2];
	uint64_t hold_ms;
	struct ivl_set set[2];             /* blocked: used, held and reserved addresses */
};

struct asvc;

struct agroup { /* the IPs in use whose services have one sharing key */
	char *key;
	struct aip **v;
	size_t n, cap;
};

struct aip {
	addr_t addr;
	addr_u128 v;
	int fam;
	int pool, cidx;
	int npool, ncidx;                  /* scratch for alloc_set_pools */
	struct asvc *inl[2];
	struct asvc **svcs;                /* inl, or a heap array when more than two */
	size_t n_svcs, cap;
	struct agroup *grp;
	size_t grp_idx;
	char *held_key;                    /* non-NULL while in hold-down */
	uint64_t held_until;
};

struct asvc { /* one block: the struct, then ports, then the strings */
	char *key, *sharing, *backend;
	struct alloc_port *ports;
	size_t n_ports;
	int pool;
	size_t n_ips;
	struct aip *ip[2];
	bool invalid;                      /* scratch for alloc_set_pools */
};

struct aheld { /* IPs held for one key */
	char *key;
	struct aip *ip[2];
	size_t n;
};

struct hexp {
	uint64_t until;
	addr_t addr;
};

struct popt {
	char *name;
	range_t *resv;
	size_t n_resv;
	uint64_t hold_ms;
};

struct alloc {
	struct apool *pools;               /* sorted by name */
	size_t n_pools;
	struct span *span[2];
	size_t n_span[2];
	struct hmap svcs, ips, groups, helds;
	struct hexp *heap;
	size_t n_heap, cap_heap;
	struct popt *opts;
	size_t n_opts;
};

/* The request, read and checked. */
struct want {
	const struct alloc_request *rq;
	const char *sharing, *backend;
	int fam[2];                        /* family indexes (0/1), primary first */
	size_t n_fam;
	bool prefer;                       /* PreferDualStack with two families */
	addr_t req[2];
	size_t n_req;
	int req_pool;                      /* -1: none; -2: named but missing */
	const char *req_pool_name;
};


/* alloc.c */
int al_fam_index(int af);
const char *al_nz(const char *s);
char *al_xstrdup(const char *s);

/* alloc_pool.c */
int al_block(struct alloc *a, const struct aip *ip);
int al_find_pool(const struct alloc *a, const char *name);
bool al_pool_allows(const struct apool *p, const struct want *w, char *msg, size_t n);
bool al_pool_buggy(const struct apool *p, int f, addr_u128 v);
void al_pool_clear(struct apool *p);
const struct span *al_span_of(const struct span *s, size_t n, addr_u128 v);
void al_unblock(struct alloc *a, const struct aip *ip);

/* alloc_table.c */
int al_attach(struct aip *ip, struct asvc *s);
void al_drop_holds(struct alloc *a, const char *key);
bool al_grp_eq(const void *e, const void *k);
void al_heap_pop(struct alloc *a);
struct aheld *al_held_get(const struct alloc *a, const char *key);
void al_ip_drop(struct alloc *a, struct aip *ip, bool unblk);
struct aip *al_ip_get(const struct alloc *a, const addr_t *ip);
struct aip *al_ip_new(struct alloc *a, const addr_t *addr, int pool, int cidx);
int al_regroup(struct alloc *a, struct aip *ip);
bool al_svc_differs(const struct asvc *s, const struct want *w);
struct asvc *al_svc_get(const struct alloc *a, const char *key);
void al_svc_release(struct alloc *a, struct asvc *s, uint64_t hold_until);
enum alloc_err al_svc_take(struct alloc *a, const struct want *w, const addr_t *ips, size_t n,
			       int pool, struct asvc **out);
enum alloc_err al_svc_update(struct alloc *a, struct asvc *s, const struct want *w,
				 struct asvc **out);
void al_unhold(struct alloc *a, struct aip *ip);

#endif
