/* SPDX-License-Identifier: Apache-2.0 */
/* store: the object cache. One open-addressing table per kind (linear probing, backward-shift
 * deletion, so no tombstones pile up), keyed by namespace/name, owning its objects. */
#include "barelb/xalloc.h"
#include "barelb/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t hash; /* cached: growth and probing compare hashes before strings */
	struct kobj *o; /* NULL: empty */
};

struct table {
	struct slot *slots;
	size_t cap;   /* power of two, or 0 before the first insert */
	size_t count;
};

struct store {
	struct table t[KOBJ_KIND_COUNT];
};

static const char *norm_ns(const char *ns)
{
	return ns && *ns ? ns : NULL;
}

/* FNV-1a over "ns/name" without building the string. */
static uint64_t key_hash(const char *ns, const char *name)
{
	uint64_t h = 14695981039346656037ull;
	if (ns) {
		for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ '/') * 1099511628211ull;
	}
	for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	/* final mix: linear probing wants the low bits well spread */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static bool key_eq(const struct kobj *o, const char *ns, const char *name)
{
	const char *ons = norm_ns(o->meta.namespace);
	if (!ons != !ns)
		return false;
	if (ns && strcmp(ons, ns) != 0)
		return false;
	return strcmp(o->meta.name ? o->meta.name : "", name ? name : "") == 0;
}


struct store *store_new(void)
{
	return xcalloc(1, sizeof(struct store));
}

void store_free(struct store *s)
{
	if (!s)
		return;
	for (int k = 0; k < KOBJ_KIND_COUNT; k++) {
		struct table *t = &s->t[k];
		for (size_t i = 0; i < t->cap; i++)
			kobj_free(t->slots[i].o);
		free(t->slots);
	}
	free(s);
}

static size_t find(const struct table *t, uint64_t h, const char *ns, const char *name)
{
	size_t mask = t->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct slot *sl = &t->slots[i];
		if (!sl->o || (sl->hash == h && key_eq(sl->o, ns, name)))
			return i;
	}
}

static void grow(struct table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 16;
	struct slot *ns = xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *sl = &t->slots[i];
		if (!sl->o)
			continue;
		size_t j = sl->hash & (ncap - 1);
		while (ns[j].o)
			j = (j + 1) & (ncap - 1);
		ns[j] = *sl;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
}

struct kobj *store_put(struct store *s, struct kobj *o)
{
	if ((unsigned)o->kind >= KOBJ_KIND_COUNT) {
		kobj_free(o);
		return NULL;
	}
	struct table *t = &s->t[o->kind];
	/* load factor at most 3/4 keeps probe sequences short */
	if ((t->count + 1) * 4 > t->cap * 3)
		grow(t);
	const char *ns = norm_ns(o->meta.namespace);
	uint64_t h = key_hash(ns, o->meta.name);
	size_t i = find(t, h, ns, o->meta.name);
	struct kobj *old = t->slots[i].o;
	t->slots[i].o = o;
	t->slots[i].hash = h;
	if (!old)
		t->count++;
	return old;
}

struct kobj *store_take(struct store *s, enum kobj_kind k, const char *ns, const char *name)
{
	if ((unsigned)k >= KOBJ_KIND_COUNT)
		return NULL;
	struct table *t = &s->t[k];
	if (!t->count)
		return NULL;
	ns = norm_ns(ns);
	size_t i = find(t, key_hash(ns, name), ns, name);
	struct kobj *o = t->slots[i].o;
	if (!o)
		return NULL;
	/* Backward-shift deletion: move later members of the cluster into the hole when their
	 * home slot is at or before it, so that every lookup still finds them. */
	size_t mask = t->cap - 1, hole = i;
	for (size_t j = (i + 1) & mask; t->slots[j].o; j = (j + 1) & mask) {
		size_t home = t->slots[j].hash & mask;
		/* is home cyclically outside (hole, j]? then it may move to hole */
		bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
		if (movable) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	t->slots[hole].o = NULL;
	t->slots[hole].hash = 0;
	t->count--;
	return o;
}

const struct kobj *store_get(const struct store *s, enum kobj_kind k, const char *ns,
			     const char *name)
{
	if ((unsigned)k >= KOBJ_KIND_COUNT)
		return NULL;
	const struct table *t = &s->t[k];
	if (!t->count)
		return NULL;
	ns = norm_ns(ns);
	return t->slots[find(t, key_hash(ns, name), ns, name)].o;
}

size_t store_count(const struct store *s, enum kobj_kind k)
{
	if ((unsigned)k >= KOBJ_KIND_COUNT)
		return 0;
	return s->t[k].count;
}

void store_foreach(const struct store *s, enum kobj_kind k,
		   void (*cb)(const struct kobj *o, void *arg), void *arg)
{
	if ((unsigned)k >= KOBJ_KIND_COUNT)
		return;
	const struct table *t = &s->t[k];
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].o)
			cb(t->slots[i].o, arg);
}
