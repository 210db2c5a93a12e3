/* SPDX-License-Identifier: Apache-2.0 */
/* alloc_pool: the allocator's pools: addresses, sizes, reserved ranges, who may use them, and
 * re-mapping allocations when the pool set changes. */
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc_internal.h"

#define U128_MAX (~(addr_u128)0)

/* ---------- pools ---------- */

/* Number of x in [lo, hi] (IPv4 values) with x % 256 == k. */
static addr_u128 count_mod(addr_u128 lo, addr_u128 hi, unsigned k)
{
	addr_u128 upto_hi = hi >= k ? (hi - k) / 256 + 1 : 0;
	addr_u128 below_lo = lo > k ? (lo - 1 - k) / 256 + 1 : 0;
	return upto_hi - below_lo;
}

static addr_u128 count_usable(const struct apool *p, int f, addr_u128 lo, addr_u128 hi)
{
	addr_u128 n = hi - lo == U128_MAX ? U128_MAX : hi - lo + 1;
	if (f == 0 && p->cfg->avoid_buggy_ips)
		n -= count_mod(lo, hi, 0) + count_mod(lo, hi, 255);
	return n;
}

static addr_u128 add_sat(addr_u128 x, addr_u128 y)
{
	return x > U128_MAX - y ? U128_MAX : x + y;
}

int al_find_pool(const struct alloc *a, const char *name)
{
	size_t lo = 0, hi = a->n_pools;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(a->pools[mid].name, name);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The span holding v in family f, or NULL. */
const struct span *al_span_of(const struct span *s, size_t n, addr_u128 v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s[mid].hi < v)
			lo = mid + 1;
		else if (s[mid].lo > v)
			hi = mid;
		else
			return &s[mid];
	}
	return NULL;
}

bool al_pool_buggy(const struct apool *p, int f, addr_u128 v)
{
	return f == 0 && p->cfg->avoid_buggy_ips && ivl_is_buggy(v);
}

static bool is_reserved(const struct apool *p, int f, addr_u128 v)
{
	size_t lo = 0, hi = p->n_resv[f];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->resv[f][mid].hi < v)
			lo = mid + 1;
		else if (p->resv[f][mid].lo > v)
			hi = mid;
		else
			return true;
	}
	return false;
}

void al_pool_clear(struct apool *p)
{
	free(p->name);
	for (int f = 0; f < 2; f++) {
		free(p->cidr[f]);
		free(p->resv[f]);
		ivl_clear(&p->set[f]);
	}
	memset(p, 0, sizeof(*p));
}

static const struct popt *opt_find(const struct alloc *a, const char *name)
{
	for (size_t i = 0; i < a->n_opts; i++)
		if (strcmp(a->opts[i].name, name) == 0)
			return &a->opts[i];
	return NULL;
}

static int cmp_acidr(const void *x, const void *y)
{
	const struct acidr *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Reserved ranges of the options, clipped to the pool's CIDRs, sorted and merged. */
static int pool_set_reserved(struct apool *p, const struct popt *o)
{
	for (int f = 0; f < 2; f++) {
		free(p->resv[f]);
		p->resv[f] = NULL;
		p->n_resv[f] = 0;
		p->reserved[f] = 0;
	}
	p->hold_ms = o ? o->hold_ms : 0;
	if (!o)
		return 0;
	for (int f = 0; f < 2; f++) {
		size_t cap = o->n_resv * p->n_cidr[f], n = 0;
		if (cap == 0)
			continue;
		struct acidr *v = calloc(cap, sizeof(*v));
		if (!v)
			return -1;
		for (size_t i = 0; i < o->n_resv; i++) {
			if (al_fam_index(o->resv[i].lo.family) != f)
				continue;
			addr_u128 rlo = addr_to_u128(&o->resv[i].lo), rhi = addr_to_u128(&o->resv[i].hi);
			for (size_t c = 0; c < p->n_cidr[f]; c++) {
				addr_u128 lo = rlo > p->cidr[f][c].lo ? rlo : p->cidr[f][c].lo;
				addr_u128 hi = rhi < p->cidr[f][c].hi ? rhi : p->cidr[f][c].hi;
				if (lo <= hi)
					v[n++] = (struct acidr){ lo, hi };
			}
		}
		qsort(v, n, sizeof(*v), cmp_acidr);
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			if (m > 0 && v[i].lo <= v[m - 1].hi + 1) {
				if (v[i].hi > v[m - 1].hi)
					v[m - 1].hi = v[i].hi;
			} else {
				v[m++] = v[i];
			}
		}
		p->resv[f] = v;
		p->n_resv[f] = m;
		for (size_t i = 0; i < m; i++)
			p->reserved[f] = add_sat(p->reserved[f], count_usable(p, f, v[i].lo, v[i].hi));
	}
	return 0;
}

static int pool_init(struct apool *p, const struct cfg_pool *c, const struct popt *o)
{
	memset(p, 0, sizeof(*p));
	p->cfg = c;
	p->name = al_xstrdup(c->name);
	if (!p->name)
		return -1;
	for (int f = 0; f < 2; f++) {
		ivl_init(&p->set[f], f == 0 && c->avoid_buggy_ips);
		if (c->n_cidrs && !(p->cidr[f] = calloc(c->n_cidrs, sizeof(struct acidr))))
			return -1;
	}
	for (size_t i = 0; i < c->n_cidrs; i++) {
		int f = al_fam_index(c->cidrs[i].a.family);
		addr_t lo, hi;
		prefix_first(&c->cidrs[i], &lo);
		prefix_last(&c->cidrs[i], &hi);
		struct acidr *x = &p->cidr[f][p->n_cidr[f]++];
		x->lo = addr_to_u128(&lo);
		x->hi = addr_to_u128(&hi);
		p->size[f] = add_sat(p->size[f], count_usable(p, f, x->lo, x->hi));
	}
	return pool_set_reserved(p, o);
}

/* Is pool p allowed for the request? If not, why in msg. */
bool al_pool_allows(const struct apool *p, const struct want *w, char *msg, size_t n)
{
	const struct cfg_pool *c = p->cfg;
	const struct alloc_request *rq = w->rq;
	if (!c->has_service_allocation)
		return true;
	if (c->n_namespaces || c->n_namespace_selectors) {
		bool in = false;
		for (size_t i = 0; i < c->n_namespaces && !in; i++)
			in = strcmp(c->namespaces[i], al_nz(rq->ns)) == 0;
		if (!in && c->n_namespace_selectors)
			in = cfg_selectors_match_any(c->namespace_selectors, c->n_namespace_selectors,
						     rq->ns_labels, rq->n_ns_labels);
		if (!in) {
			if (msg)
				snprintf(msg, n, "pool %s is not allowed for namespace %s (serviceAllocation)",
					 p->name, al_nz(rq->ns));
			return false;
		}
	}
	if (c->n_service_selectors &&
	    !cfg_selectors_match_any(c->service_selectors, c->n_service_selectors, rq->svc_labels,
				     rq->n_svc_labels)) {
		if (msg)
			snprintf(msg, n,
				 "pool %s is not allowed for this service: its labels match no "
				 "serviceSelector",
				 p->name);
		return false;
	}
	return true;
}

/* ---------- blocking ---------- */

int al_block(struct alloc *a, const struct aip *ip)
{
	return ivl_add(&a->pools[ip->pool].set[ip->fam], ip->v, ip->v);
}

void al_unblock(struct alloc *a, const struct aip *ip)
{
	struct apool *p = &a->pools[ip->pool];
	if (!is_reserved(p, ip->fam, ip->v))
		(void)ivl_del(&p->set[ip->fam], ip->v); /* ENOMEM leaves it blocked: safe */
}

/* ---------- pool changes ---------- */

static int cmp_span(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int cmp_pool_name(const void *x, const void *y)
{
	return strcmp(((const struct apool *)x)->name, ((const struct apool *)y)->name);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Blocked sets of every pool from the IPs that stay, using npool/ncidx. */
static int build_sets(const struct alloc *a, struct apool *pools, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct apool *p = &pools[i];
		for (int f = 0; f < 2; f++) {
			ivl_clear(&p->set[f]);
			p->used[f] = p->held[f] = 0;
			for (size_t r = 0; r < p->n_resv[f]; r++)
				if (ivl_add(&p->set[f], p->resv[f][r].lo, p->resv[f][r].hi) != 0)
					return -1;
		}
	}
	for (size_t i = 0; i < a->ips.cap; i++) {
		const struct aip *ip = a->ips.s[i].p;
		if (!ip || ip->npool < 0)
			continue;
		struct apool *p = &pools[ip->npool];
		if (ivl_add(&p->set[ip->fam], ip->v, ip->v) != 0)
			return -1;
		/* counts are provisional here (invalid services still attached); fixed at commit */
	}
	return 0;
}

static void recount(struct alloc *a)
{
	for (size_t i = 0; i < a->n_pools; i++)
		for (int f = 0; f < 2; f++)
			a->pools[i].used[f] = a->pools[i].held[f] = 0;
	for (size_t i = 0; i < a->ips.cap; i++) {
		const struct aip *ip = a->ips.s[i].p;
		if (!ip)
			continue;
		if (ip->n_svcs)
			a->pools[ip->pool].used[ip->fam]++;
		else if (ip->held_key)
			a->pools[ip->pool].held[ip->fam]++;
	}
}

static int push_key(char ***v, size_t *n, const char *key)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = al_xstrdup(key)))
		return -1;
	(*n)++;
	return 0;
}

void alloc_changes_free(struct alloc_changes *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_invalid; i++)
		free(c->invalid[i]);
	for (size_t i = 0; i < c->n_moved; i++)
		free(c->moved[i]);
	free(c->invalid);
	free(c->moved);
	memset(c, 0, sizeof(*c));
}

int alloc_set_pools(struct alloc *a, const struct cfg_pool *cfg, size_t n,
		    struct alloc_changes *ch, char *msg, size_t msglen)
{
	struct apool *pools = calloc(n + 1, sizeof(*pools));
	struct span *span[2] = { NULL, NULL };
	size_t n_span[2] = { 0, 0 }, total = 0;
	struct alloc_changes local = { 0 };
	char tmp[ALLOC_MSG_MAX];
	if (!msg) {
		msg = tmp;
		msglen = sizeof(tmp);
	}
	if (!pools)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (pool_init(&pools[i], &cfg[i], opt_find(a, cfg[i].name)) != 0) {
			n = i + 1;
			goto nomem;
		}
		total += cfg[i].n_cidrs;
	}
	qsort(pools, n, sizeof(*pools), cmp_pool_name);
	for (int f = 0; f < 2; f++)
		if (!(span[f] = calloc(total + 1, sizeof(struct span))))
			goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(pools[i].name, pools[i - 1].name) == 0) {
			snprintf(msg, msglen, "two pools are called %s", pools[i].name);
			goto fail;
		}
		for (int f = 0; f < 2; f++)
			for (size_t c = 0; c < pools[i].n_cidr[f]; c++)
				span[f][n_span[f]++] = (struct span){ pools[i].cidr[f][c].lo,
								      pools[i].cidr[f][c].hi, (int)i, (int)c };
	}
	for (int f = 0; f < 2; f++) {
		qsort(span[f], n_span[f], sizeof(struct span), cmp_span);
		for (size_t i = 1; i < n_span[f]; i++) {
			if (span[f][i].lo <= span[f][i - 1].hi) {
				snprintf(msg, msglen, "pools %s and %s overlap", pools[span[f][i - 1].pool].name,
					 pools[span[f][i].pool].name);
				goto fail;
			}
		}
	}
	/* Re-map every IP, then decide for every service. */
	for (size_t i = 0; i < a->ips.cap; i++) {
		struct aip *ip = a->ips.s[i].p;
		if (!ip)
			continue;
		const struct span *sp = al_span_of(span[ip->fam], n_span[ip->fam], ip->v);
		ip->npool = sp && !al_pool_buggy(&pools[sp->pool], ip->fam, ip->v) ? sp->pool : -1;
		ip->ncidx = sp ? sp->cidx : 0;
	}
	for (size_t i = 0; i < a->svcs.cap; i++) {
		struct asvc *s = a->svcs.s[i].p;
		if (!s)
			continue;
		int p = s->ip[0]->npool;
		s->invalid = p < 0 || (s->n_ips > 1 && s->ip[1]->npool != p);
		if (s->invalid ? push_key(&local.invalid, &local.n_invalid, s->key)
			       : (strcmp(pools[p].name, a->pools[s->pool].name) != 0 &&
				  push_key(&local.moved, &local.n_moved, s->key)))
			goto nomem;
	}
	/* An IP stays if it is in a pool and held or used by a valid service. */
	for (size_t i = 0; i < a->ips.cap; i++) {
		struct aip *ip = a->ips.s[i].p;
		if (!ip || ip->npool < 0)
			continue;
		bool stays = ip->held_key != NULL;
		for (size_t k = 0; k < ip->n_svcs && !stays; k++)
			stays = !ip->svcs[k]->invalid;
		if (!stays)
			ip->npool = -1;
	}
	if (build_sets(a, pools, n) != 0)
		goto nomem;

	/* Commit: nothing below can fail. */
	for (size_t i = 0; i < a->n_pools; i++)
		al_pool_clear(&a->pools[i]);
	free(a->pools);
	free(a->span[0]);
	free(a->span[1]);
	a->pools = pools;
	a->n_pools = n;
	for (int f = 0; f < 2; f++) {
		a->span[f] = span[f];
		a->n_span[f] = n_span[f];
	}
	for (size_t i = 0; i < a->ips.cap; i++) {
		struct aip *ip = a->ips.s[i].p;
		if (!ip)
			continue;
		ip->pool = ip->npool; /* -1 for the IPs about to go */
		ip->cidx = ip->ncidx;
	}
	for (size_t i = 0; i < local.n_invalid; i++) {
		struct asvc *s = al_svc_get(a, local.invalid[i]);
		al_svc_release(a, s, 0); /* IPs with pool -1 are dropped without touching any set */
	}
	for (size_t i = 0; i < a->svcs.cap; i++) {
		struct asvc *s = a->svcs.s[i].p;
		if (s)
			s->pool = s->ip[0]->pool;
	}
	for (size_t i = 0; i < a->ips.cap;) {
		struct aip *ip = a->ips.s[i].p;
		if (ip && ip->pool < 0 && ip->n_svcs == 0) {
			if (ip->held_key)
				al_unhold(a, ip);
			al_ip_drop(a, ip, false); /* backward shift may move another entry into slot i */
			continue;
		}
		i++;
	}
	recount(a);
	if (local.n_invalid)
		qsort(local.invalid, local.n_invalid, sizeof(char *), cmp_str);
	if (local.n_moved)
		qsort(local.moved, local.n_moved, sizeof(char *), cmp_str);
	if (ch)
		*ch = local;
	else
		alloc_changes_free(&local);
	msg[0] = '\0';
	return 0;
nomem:
	snprintf(msg, msglen, "out of memory");
fail:
	if (pools)
		for (size_t i = 0; i < n; i++)
			al_pool_clear(&pools[i]);
	free(pools);
	free(span[0]);
	free(span[1]);
	alloc_changes_free(&local);
	return -1;
}

int alloc_set_pool_options(struct alloc *a, const char *name, const struct alloc_pool_options *o)
{
	size_t i;
	for (i = 0; i < a->n_opts; i++)
		if (strcmp(a->opts[i].name, name) == 0)
			break;
	if (i == a->n_opts) {
		if (!o)
			return 0;
		struct popt *nv = realloc(a->opts, (a->n_opts + 1) * sizeof(*nv));
		if (!nv)
			return -1;
		a->opts = nv;
		memset(&nv[i], 0, sizeof(nv[i]));
		if (!(nv[i].name = al_xstrdup(name)))
			return -1;
		a->n_opts++;
	}
	struct popt *po = &a->opts[i];
	range_t *resv = NULL;
	if (o && o->n_reserved) {
		if (!(resv = malloc(o->n_reserved * sizeof(*resv))))
			return -1;
		memcpy(resv, o->reserved, o->n_reserved * sizeof(*resv));
	}
	free(po->resv);
	po->resv = resv;
	po->n_resv = o ? o->n_reserved : 0;
	po->hold_ms = o ? o->hold_ms : 0;
	int pi = al_find_pool(a, name);
	if (pi < 0)
		return 0;
	/* Rebuild that pool's blocked sets with the new reserved ranges. */
	struct apool *p = &a->pools[pi];
	if (pool_set_reserved(p, po) != 0)
		return -1;
	for (int f = 0; f < 2; f++) {
		ivl_clear(&p->set[f]);
		for (size_t r = 0; r < p->n_resv[f]; r++)
			if (ivl_add(&p->set[f], p->resv[f][r].lo, p->resv[f][r].hi) != 0)
				return -1;
	}
	for (size_t k = 0; k < a->ips.cap; k++) {
		const struct aip *ip = a->ips.s[k].p;
		if (ip && ip->pool == pi && ivl_add(&p->set[ip->fam], ip->v, ip->v) != 0)
			return -1;
	}
	return 0;
}
