/* SPDX-License-Identifier: Apache-2.0 */
/* alloc_table: the allocator's table: services, IP entries, sharing groups and hold-downs. */
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc_internal.h"

#define U128_MAX (~(addr_u128)0)

/* ---------- maps ---------- */

static bool svc_eq(const void *e, const void *k)
{
	return strcmp(((const struct asvc *)e)->key, k) == 0;
}

static bool ip_eq(const void *e, const void *k)
{
	return addr_eq(&((const struct aip *)e)->addr, k);
}

bool al_grp_eq(const void *e, const void *k)
{
	return strcmp(((const struct agroup *)e)->key, k) == 0;
}

static bool held_eq(const void *e, const void *k)
{
	return strcmp(((const struct aheld *)e)->key, k) == 0;
}

struct asvc *al_svc_get(const struct alloc *a, const char *key)
{
	return hmap_get(&a->svcs, hash_str(key), svc_eq, key);
}

struct aip *al_ip_get(const struct alloc *a, const addr_t *ip)
{
	return hmap_get(&a->ips, hash_addr(ip), ip_eq, ip);
}

/* ---------- sharing groups ---------- */

static void group_leave(struct alloc *a, struct aip *ip)
{
	struct agroup *g = ip->grp;
	if (!g)
		return;
	g->v[ip->grp_idx] = g->v[--g->n];
	g->v[ip->grp_idx]->grp_idx = ip->grp_idx;
	ip->grp = NULL;
	if (g->n == 0) {
		hmap_del(&a->groups, hash_str(g->key), al_grp_eq, g->key);
		free(g->key);
		free(g->v);
		free(g);
	}
}

static int group_join(struct alloc *a, struct aip *ip, const char *key)
{
	uint64_t h = hash_str(key);
	struct agroup *g = hmap_get(&a->groups, h, al_grp_eq, key);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || !(g->key = al_xstrdup(key)) || hmap_put(&a->groups, h, g) != 0) {
			if (g)
				free(g->key);
			free(g);
			return -1;
		}
	}
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 4;
		struct aip **nv = realloc(g->v, nc * sizeof(*nv));
		if (!nv)
			return -1; /* an empty new group stays in the map; harmless */
		g->v = nv;
		g->cap = nc;
	}
	ip->grp = g;
	ip->grp_idx = g->n;
	g->v[g->n++] = ip;
	return 0;
}

/* Put ip in the group of its services' sharing key (none when unused or unshared). */
int al_regroup(struct alloc *a, struct aip *ip)
{
	const char *key = ip->n_svcs ? ip->svcs[0]->sharing : "";
	if (ip->grp && strcmp(ip->grp->key, key) == 0)
		return 0;
	group_leave(a, ip);
	return key[0] ? group_join(a, ip, key) : 0;
}

/* ---------- IP entries ---------- */

struct aip *al_ip_new(struct alloc *a, const addr_t *addr, int pool, int cidx)
{
	struct aip *ip = calloc(1, sizeof(*ip));
	if (!ip)
		return NULL;
	ip->addr = *addr;
	ip->v = addr_to_u128(addr);
	ip->fam = al_fam_index(addr->family);
	ip->pool = pool;
	ip->cidx = cidx;
	ip->svcs = ip->inl;
	ip->cap = 2;
	if (hmap_put(&a->ips, hash_addr(addr), ip) != 0) {
		free(ip);
		return NULL;
	}
	if (al_block(a, ip) != 0) {
		hmap_del(&a->ips, hash_addr(addr), ip_eq, addr);
		free(ip);
		return NULL;
	}
	return ip;
}

/* Forget ip entirely (no services, no hold). unblk: also al_unblock it in its pool. */
void al_ip_drop(struct alloc *a, struct aip *ip, bool unblk)
{
	group_leave(a, ip);
	if (unblk && ip->pool >= 0)
		al_unblock(a, ip);
	hmap_del(&a->ips, hash_addr(&ip->addr), ip_eq, &ip->addr);
	if (ip->svcs != ip->inl)
		free(ip->svcs);
	free(ip->held_key);
	free(ip);
}

struct aheld *al_held_get(const struct alloc *a, const char *key)
{
	return hmap_get(&a->helds, hash_str(key), held_eq, key);
}

/* End the hold of ip (it stays in the table; the caller decides what follows). */
void al_unhold(struct alloc *a, struct aip *ip)
{
	struct aheld *h = al_held_get(a, ip->held_key);
	if (h) {
		for (size_t i = 0; i < h->n; i++)
			if (h->ip[i] == ip)
				h->ip[i] = h->ip[--h->n];
		if (h->n == 0) {
			hmap_del(&a->helds, hash_str(h->key), held_eq, h->key);
			free(h->key);
			free(h);
		}
	}
	if (ip->pool >= 0)
		a->pools[ip->pool].held[ip->fam]--;
	free(ip->held_key);
	ip->held_key = NULL;
}

static int heap_push(struct alloc *a, uint64_t until, const addr_t *addr)
{
	if (a->n_heap == a->cap_heap) {
		size_t nc = a->cap_heap ? a->cap_heap * 2 : 64;
		struct hexp *nh = realloc(a->heap, nc * sizeof(*nh));
		if (!nh)
			return -1;
		a->heap = nh;
		a->cap_heap = nc;
	}
	size_t i = a->n_heap++;
	while (i > 0 && a->heap[(i - 1) / 2].until > until) {
		a->heap[i] = a->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	a->heap[i] = (struct hexp){ until, *addr };
	return 0;
}

void al_heap_pop(struct alloc *a)
{
	struct hexp last = a->heap[--a->n_heap];
	size_t i = 0, n = a->n_heap;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && a->heap[c + 1].until < a->heap[c].until)
			c++;
		if (a->heap[c].until >= last.until)
			break;
		a->heap[i] = a->heap[c];
		i = c;
	}
	if (n)
		a->heap[i] = last;
}

/* Put an unused ip in hold-down for key. -1 on ENOMEM (then the caller drops it). */
static int hold(struct alloc *a, struct aip *ip, const char *key, uint64_t until)
{
	uint64_t h = hash_str(key);
	struct aheld *r = hmap_get(&a->helds, h, held_eq, key);
	if (r && r->n == 2)
		return -1; /* cannot happen: a service holds at most two IPs */
	if (!(ip->held_key = al_xstrdup(key)))
		return -1;
	if (heap_push(a, until, &ip->addr) != 0)
		goto fail;
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))) || !(r->key = al_xstrdup(key)) ||
		    hmap_put(&a->helds, h, r) != 0) {
			if (r)
				free(r->key);
			free(r);
			goto fail; /* the heap entry goes stale: harmless */
		}
	}
	r->ip[r->n++] = ip;
	ip->held_until = until;
	a->pools[ip->pool].held[ip->fam]++;
	return 0;
fail:
	free(ip->held_key);
	ip->held_key = NULL;
	return -1;
}

int al_attach(struct aip *ip, struct asvc *s)
{
	if (ip->n_svcs == ip->cap) {
		size_t nc = ip->cap * 2;
		struct asvc **nv = malloc(nc * sizeof(*nv));
		if (!nv)
			return -1;
		memcpy(nv, ip->svcs, ip->n_svcs * sizeof(*nv));
		if (ip->svcs != ip->inl)
			free(ip->svcs);
		ip->svcs = nv;
		ip->cap = nc;
	}
	ip->svcs[ip->n_svcs++] = s;
	return 0;
}

static void detach(struct aip *ip, const struct asvc *s)
{
	for (size_t i = 0; i < ip->n_svcs; i++) {
		if (ip->svcs[i] == s) {
			memmove(&ip->svcs[i], &ip->svcs[i + 1], (ip->n_svcs - i - 1) * sizeof(ip->svcs[0]));
			ip->n_svcs--;
			return;
		}
	}
}

/* ---------- services ---------- */

static struct asvc *svc_make(const struct want *w)
{
	const struct alloc_request *rq = w->rq;
	size_t lk = strlen(rq->key) + 1, ls = strlen(w->sharing) + 1, lb = strlen(w->backend) + 1;
	size_t lp = rq->n_ports * sizeof(struct alloc_port);
	struct asvc *s = malloc(sizeof(*s) + lp + lk + ls + lb);
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	char *p = (char *)(s + 1);
	s->ports = (struct alloc_port *)p;
	if (lp)
		memcpy(p, rq->ports, lp);
	s->n_ports = rq->n_ports;
	p += lp;
	s->key = memcpy(p, rq->key, lk);
	s->sharing = memcpy(p + lk, w->sharing, ls);
	s->backend = memcpy(p + lk + ls, w->backend, lb);
	s->pool = -1;
	return s;
}

/* Does the stored service differ from the request in what sharing looks at? */
bool al_svc_differs(const struct asvc *s, const struct want *w)
{
	if (strcmp(s->sharing, w->sharing) != 0 || strcmp(s->backend, w->backend) != 0 ||
	    s->n_ports != w->rq->n_ports)
		return true;
	return s->n_ports && memcmp(s->ports, w->rq->ports, s->n_ports * sizeof(s->ports[0])) != 0;
}

/* Release s's IPs and free it. hold_until 0: no hold-down. */
void al_svc_release(struct alloc *a, struct asvc *s, uint64_t hold_until)
{
	for (size_t i = 0; i < s->n_ips; i++) {
		struct aip *ip = s->ip[i];
		detach(ip, s);
		if (ip->n_svcs > 0) {
			(void)al_regroup(a, ip); /* may only leave a group: cannot fail */
			continue;
		}
		if (ip->pool >= 0)
			a->pools[ip->pool].used[ip->fam]--;
		group_leave(a, ip);
		if (hold_until && ip->pool >= 0 && a->pools[ip->pool].hold_ms &&
		    hold(a, ip, s->key, hold_until) == 0)
			continue;
		al_ip_drop(a, ip, true);
	}
	hmap_del(&a->svcs, hash_str(s->key), svc_eq, s->key);
	free(s);
}

/* Give the IPs to the service (a new entry). The IPs were checked. */
enum alloc_err al_svc_take(struct alloc *a, const struct want *w, const addr_t *ips, size_t n,
			       int pool, struct asvc **out)
{
	struct asvc *s = svc_make(w);
	if (!s || hmap_put(&a->svcs, hash_str(s->key), s) != 0) {
		free(s);
		return ALLOC_E_NOMEM;
	}
	s->pool = pool;
	for (size_t i = 0; i < n; i++) {
		struct aip *ip = al_ip_get(a, &ips[i]);
		if (!ip) {
			int f = al_fam_index(ips[i].family);
			const struct span *sp = al_span_of(a->span[f], a->n_span[f], addr_to_u128(&ips[i]));
			ip = sp ? al_ip_new(a, &ips[i], pool, sp->cidx) : NULL;
		} else if (ip->held_key) {
			al_unhold(a, ip);
		}
		if (!ip || al_attach(ip, s) != 0) {
			if (ip && ip->n_svcs == 0 && !ip->held_key)
				al_ip_drop(a, ip, true);
			al_svc_release(a, s, 0);
			return ALLOC_E_NOMEM;
		}
		if (ip->n_svcs == 1)
			a->pools[pool].used[ip->fam]++;
		s->ip[s->n_ips++] = ip;
		if (al_regroup(a, ip) != 0) {
			al_svc_release(a, s, 0);
			return ALLOC_E_NOMEM;
		}
	}
	if (out)
		*out = s;
	return ALLOC_OK;
}

/* Replace s by a record with the request's sharing key, backend and ports. */
enum alloc_err al_svc_update(struct alloc *a, struct asvc *s, const struct want *w,
				 struct asvc **out)
{
	struct asvc *n = svc_make(w);
	if (!n)
		return ALLOC_E_NOMEM;
	n->pool = s->pool;
	n->n_ips = s->n_ips;
	memcpy(n->ip, s->ip, sizeof(n->ip));
	uint64_t h = hash_str(s->key);
	hmap_del(&a->svcs, h, svc_eq, s->key);
	if (hmap_put(&a->svcs, h, n) != 0) { /* cannot fail: a slot was just freed */
		hmap_put(&a->svcs, h, s);
		free(n);
		return ALLOC_E_NOMEM;
	}
	enum alloc_err err = ALLOC_OK;
	for (size_t i = 0; i < n->n_ips; i++) {
		struct aip *ip = n->ip[i];
		for (size_t j = 0; j < ip->n_svcs; j++)
			if (ip->svcs[j] == s)
				ip->svcs[j] = n;
		if (al_regroup(a, ip) != 0)
			err = ALLOC_E_NOMEM;
	}
	free(s);
	*out = n;
	return err;
}

/* Release the IPs held for key that the service did not take back. */
void al_drop_holds(struct alloc *a, const char *key)
{
	struct aheld *h;
	while ((h = al_held_get(a, key)) != NULL) {
		struct aip *ip = h->ip[0];
		al_unhold(a, ip);
		al_ip_drop(a, ip, true);
	}
}
