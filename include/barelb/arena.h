/* SPDX-License-Identifier: Apache-2.0 */
/* arena: bump allocator so that a whole structure (a parsed YAML tree, a loaded config) is freed by
 * one call. Allocation failure aborts with a message (out of memory is not recoverable here). */
#ifndef BARELB_ARENA_H
#define BARELB_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);                 /* NULL-safe */
void *arena_alloc(struct arena *a, size_t n);     /* zeroed, aligned for any type */
void *arena_array(struct arena *a, size_t n, size_t size); /* checks n*size for overflow */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t arena_used(const struct arena *a);         /* bytes handed out, for limits and metrics */

#endif
