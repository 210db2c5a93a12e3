/* SPDX-License-Identifier: Apache-2.0 */
/* strmap: a small string-keyed hash map for daemon state (per-service decisions, indexes). */
#include "barelb/xalloc.h"
#include "barelb/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *key; /* NULL: empty */
	uint64_t hash;
	void *val;
};

struct strmap {
	struct slot *v;
	size_t cap; /* power of two */
	size_t n;
};

static uint64_t hash_str(const char *s)
{
	/* FNV-1a, then a final mix so that linear probing sees spread-out low bits. */
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}


struct strmap *strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof *m);
	m->cap = 16;
	m->v = xcalloc(m->cap, sizeof *m->v);
	return m;
}

void strmap_free(struct strmap *m, void (*free_val)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].key) {
			free(m->v[i].key);
			if (free_val)
				free_val(m->v[i].val);
		}
	free(m->v);
	free(m);
}

static size_t find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	while (m->v[i].key && (m->v[i].hash != h || strcmp(m->v[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

static void grow(struct strmap *m)
{
	struct slot *old = m->v;
	size_t oldcap = m->cap;

	m->cap *= 2;
	m->v = xcalloc(m->cap, sizeof *m->v);
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key) {
			size_t j = old[i].hash & (m->cap - 1);
			while (m->v[j].key)
				j = (j + 1) & (m->cap - 1);
			m->v[j] = old[i];
		}
	free(old);
}

void *strmap_put(struct strmap *m, const char *key, void *val)
{
	uint64_t h = hash_str(key);
	size_t i;
	void *prev;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = find(m, key, h);
	if (m->v[i].key) {
		prev = m->v[i].val;
		m->v[i].val = val;
		return prev;
	}
	m->v[i].key = strdup(key);
	if (!m->v[i].key) {
		fprintf(stderr, "barelb: out of memory\n");
		abort();
	}
	m->v[i].hash = h;
	m->v[i].val = val;
	m->n++;
	return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	size_t i = find(m, key, hash_str(key));
	return m->v[i].key ? m->v[i].val : NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = find(m, key, hash_str(key)), j;
	void *val;

	if (!m->v[i].key)
		return NULL;
	val = m->v[i].val;
	free(m->v[i].key);
	m->v[i].key = NULL;
	m->n--;
	/* Backward-shift: move later entries of the same probe run into the hole, so no tombstones. */
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->v[j].key)
			break;
		size_t home = m->v[j].hash & mask;
		/* Does j's home lie cyclically in (i, j]? Then it must stay. */
		if ((i < j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->v[i] = m->v[j];
		m->v[j].key = NULL;
		i = j;
	}
	return val;
}

size_t strmap_count(const struct strmap *m)
{
	return m->n;
}

void strmap_foreach(const struct strmap *m, void (*cb)(const char *key, void *val, void *arg),
		    void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].key)
			cb(m->v[i].key, m->v[i].val, arg);
}
