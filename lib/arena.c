/* SPDX-License-Identifier: Apache-2.0 */
/* arena: chunked bump allocator; everything handed out is freed at once by arena_free(). */
#include "barelb/xalloc.h"
#include "barelb/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunks are chained; allocation bumps inside the newest chunk. Requests larger than a quarter of a
 * chunk get a chunk of their own (inserted behind the current one) so that one big allocation does
 * not waste the remainder of the current chunk. */
#define ARENA_CHUNK (64u * 1024)
#define ARENA_ALIGN 16u

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct chunk *head; /* current chunk, bumped into */
	size_t handed_out;
};


struct arena *arena_new(void)
{
	struct arena *a = xmalloc(sizeof(*a));
	a->head = NULL;
	a->handed_out = 0;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
	free(a);
}

static struct chunk *chunk_new(size_t size)
{
	if (size > SIZE_MAX - sizeof(struct chunk)) {
		fprintf(stderr, "barelb: allocation too large\n");
		abort();
	}
	struct chunk *c = xmalloc(sizeof(struct chunk) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN) {
		fprintf(stderr, "barelb: allocation too large\n");
		abort();
	}
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct chunk *c = a->head;
	if (!c || c->size - c->used < need) {
		if (need > ARENA_CHUNK / 4) {
			struct chunk *big = chunk_new(need);
			big->used = need;
			if (c) {
				big->next = c->next;
				c->next = big;
			} else {
				a->head = big;
			}
			a->handed_out += n;
			memset(big->data, 0, need);
			return big->data;
		}
		c = chunk_new(ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	a->handed_out += n;
	memset(p, 0, need);
	return p;
}

void *arena_array(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		fprintf(stderr, "barelb: array allocation overflows (%zu x %zu)\n", n, size);
		abort();
	}
	return arena_alloc(a, n * size);
}

static char *copy_str(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	return copy_str(a, s, strnlen(s, n));
}

char *arena_strdup(struct arena *a, const char *s)
{
	return copy_str(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return arena_strdup(a, "");
	char *p = arena_alloc(a, (size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->handed_out;
}
