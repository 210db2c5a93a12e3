/* SPDX-License-Identifier: Apache-2.0 */
/* alloc_index: the allocator's indexes: interval sets of blocked addresses (treap) and a pointer
 * hash map. Pure data structures, no I/O. */
#include "alloc_internal.h"

#include <stdlib.h>
#include <string.h>

#define U128_MAX (~(addr_u128)0)

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* ---------- interval set ---------- */

bool ivl_is_buggy(addr_u128 x)
{
	unsigned last = (unsigned)(x & 0xff);
	return x <= 0xffffffffu && (last == 0 || last == 255);
}

/* May intervals ending at a and starting at b (a < b) be joined: nothing or only buggy
 * addresses between them? */
static bool joinable(const struct ivl_set *s, addr_u128 a, addr_u128 b)
{
	if (b <= a || b - a == 1)
		return true;
	if (!s->skip_buggy || b - a > 3)
		return false;
	for (addr_u128 x = a + 1; x < b; x++)
		if (!ivl_is_buggy(x))
			return false;
	return true;
}

void ivl_init(struct ivl_set *s, bool skip_buggy)
{
	s->root = NULL;
	s->n = 0;
	s->skip_buggy = skip_buggy;
}

static void free_tree(struct ivl *t)
{
	while (t) {
		free_tree(t->l);
		struct ivl *r = t->r;
		free(t);
		t = r;
	}
}

void ivl_clear(struct ivl_set *s)
{
	free_tree(s->root);
	s->root = NULL;
	s->n = 0;
}

/* The interval with the greatest lo <= x. */
static struct ivl *find_le(const struct ivl_set *s, addr_u128 x)
{
	struct ivl *t = s->root, *best = NULL;
	while (t) {
		if (t->lo <= x) {
			best = t;
			t = t->r;
		} else {
			t = t->l;
		}
	}
	return best;
}

const struct ivl *ivl_containing(const struct ivl_set *s, addr_u128 x)
{
	const struct ivl *t = find_le(s, x);
	return t && t->hi >= x ? t : NULL;
}

static struct ivl *rot_right(struct ivl *t)
{
	struct ivl *l = t->l;
	t->l = l->r;
	l->r = t;
	return l;
}

static struct ivl *rot_left(struct ivl *t)
{
	struct ivl *r = t->r;
	t->r = r->l;
	r->l = t;
	return r;
}

static struct ivl *tr_insert(struct ivl *t, struct ivl *n)
{
	if (!t)
		return n;
	if (n->lo < t->lo) {
		t->l = tr_insert(t->l, n);
		if (t->l->prio > t->prio)
			t = rot_right(t);
	} else {
		t->r = tr_insert(t->r, n);
		if (t->r->prio > t->prio)
			t = rot_left(t);
	}
	return t;
}

static struct ivl *tr_merge(struct ivl *a, struct ivl *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->prio > b->prio) {
		a->r = tr_merge(a->r, b);
		return a;
	}
	b->l = tr_merge(a, b->l);
	return b;
}

/* Unlink the node n (found earlier) from the tree; does not free it. */
static struct ivl *tr_unlink(struct ivl *t, const struct ivl *n)
{
	if (!t)
		return NULL;
	if (t == n)
		return tr_merge(t->l, t->r);
	if (n->lo < t->lo)
		t->l = tr_unlink(t->l, n);
	else
		t->r = tr_unlink(t->r, n);
	return t;
}

static struct ivl *new_node(addr_u128 lo, addr_u128 hi)
{
	struct ivl *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	n->lo = lo;
	n->hi = hi;
	n->l = n->r = NULL;
	n->prio = mix64((uint64_t)lo ^ mix64((uint64_t)(lo >> 64)));
	return n;
}

static void remove_node(struct ivl_set *s, struct ivl *n)
{
	s->root = tr_unlink(s->root, n);
	free(n);
	s->n--;
}

int ivl_add(struct ivl_set *s, addr_u128 lo, addr_u128 hi)
{
	/* Absorb every interval joinable with [lo, hi]; they all have lo <= hi + 3 (a joinable gap
	 * is at most two buggy addresses). Walk down from that bound by predecessor. */
	struct ivl *keep = NULL; /* reuse one absorbed node so this cannot fail after changes */
	addr_u128 bound = hi > U128_MAX - 3 ? U128_MAX : hi + 3;
	for (;;) {
		struct ivl *j = find_le(s, bound);
		if (!j)
			break;
		bool right = j->lo > hi, left = j->hi < lo;
		bool join = (!right || joinable(s, hi, j->lo)) && (!left || joinable(s, j->hi, lo));
		if (!join) {
			if (left)
				break;
			if (j->lo == 0)
				break;
			bound = j->lo - 1;
			continue;
		}
		if (j->lo < lo)
			lo = j->lo;
		if (j->hi > hi)
			hi = j->hi;
		bound = hi > U128_MAX - 3 ? U128_MAX : hi + 3;
		if (!keep) {
			keep = j;
			s->root = tr_unlink(s->root, j);
			s->n--;
		} else {
			remove_node(s, j);
		}
	}
	if (!keep) {
		keep = new_node(lo, hi);
		if (!keep)
			return -1;
	} else {
		keep->l = keep->r = NULL;
		keep->lo = lo;
		keep->hi = hi;
	}
	s->root = tr_insert(s->root, keep);
	s->n++;
	return 0;
}

int ivl_del(struct ivl_set *s, addr_u128 x)
{
	/* A buggy address is never free in such a set; splitting at it would leave two intervals
	 * separated only by buggy addresses and break the invariant. */
	if (s->skip_buggy && ivl_is_buggy(x))
		return 0;
	struct ivl *t = find_le(s, x);
	if (!t || t->hi < x)
		return 0;
	if (t->lo == x && t->hi == x) {
		remove_node(s, t);
	} else if (t->lo == x) {
		t->lo = x + 1; /* still above its predecessor: order kept */
	} else if (t->hi == x) {
		t->hi = x - 1;
	} else {
		struct ivl *n = new_node(x + 1, t->hi);
		if (!n)
			return -1;
		t->hi = x - 1;
		s->root = tr_insert(s->root, n);
		s->n++;
	}
	return 0;
}

static bool skip_buggy(const struct ivl_set *s, addr_u128 *x, addr_u128 hi)
{
	while (s->skip_buggy && ivl_is_buggy(*x)) {
		if (*x >= hi)
			return false;
		(*x)++;
	}
	return true;
}

bool ivl_first_free(const struct ivl_set *s, addr_u128 lo, addr_u128 hi, addr_u128 *out)
{
	addr_u128 x = lo;
	if (!skip_buggy(s, &x, hi))
		return false;
	const struct ivl *t = find_le(s, x);
	if (t && t->hi >= x) {
		if (t->hi >= hi)
			return false;
		x = t->hi + 1;
		if (!skip_buggy(s, &x, hi))
			return false;
		/* By the invariant x starts no interval and lies in none. */
	}
	if (x > hi)
		return false;
	*out = x;
	return true;
}

/* ---------- hash map ---------- */

void *hmap_get(const struct hmap *m, uint64_t h, hmap_eq_fn eq, const void *key)
{
	if (m->cap == 0)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const struct hslot *sl = &m->s[i];
		if (!sl->p)
			return NULL;
		if (sl->h == h && eq(sl->p, key))
			return sl->p;
	}
}

static void put_raw(struct hslot *s, size_t cap, uint64_t h, void *p)
{
	size_t mask = cap - 1;
	size_t i = (size_t)h & mask;
	while (s[i].p)
		i = (i + 1) & mask;
	s[i].h = h;
	s[i].p = p;
}

int hmap_put(struct hmap *m, uint64_t h, void *p)
{
	if ((m->n + 1) * 4 > m->cap * 3) { /* keep the load under 3/4 */
		size_t ncap = m->cap ? m->cap * 2 : 16;
		struct hslot *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].p)
				put_raw(ns, ncap, m->s[i].h, m->s[i].p);
		free(m->s);
		m->s = ns;
		m->cap = ncap;
	}
	put_raw(m->s, m->cap, h, p);
	m->n++;
	return 0;
}

void *hmap_del(struct hmap *m, uint64_t h, hmap_eq_fn eq, const void *key)
{
	if (m->cap == 0)
		return NULL;
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	for (;; i = (i + 1) & mask) {
		if (!m->s[i].p)
			return NULL;
		if (m->s[i].h == h && eq(m->s[i].p, key))
			break;
	}
	void *found = m->s[i].p;
	/* Backward shift: move later entries of the cluster into the hole when their home slot
	 * does not lie cyclically in (hole, j]. */
	size_t hole = i;
	for (size_t j = (i + 1) & mask; m->s[j].p; j = (j + 1) & mask) {
		size_t home = (size_t)m->s[j].h & mask;
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			m->s[hole] = m->s[j];
			hole = j;
		}
	}
	m->s[hole].p = NULL;
	m->s[hole].h = 0;
	m->n--;
	return found;
}

void hmap_free(struct hmap *m)
{
	free(m->s);
	m->s = NULL;
	m->cap = m->n = 0;
}

uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then mixed */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return mix64(h);
}

uint64_t hash_addr(const addr_t *a)
{
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	return mix64(x ^ mix64(y ^ a->family));
}
