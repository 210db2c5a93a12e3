/* SPDX-License-Identifier: Apache-2.0 */
/* strmap: string-keyed hash map (open addressing, linear probing, tombstone-free deletion by
 * backward shift). Keys are copied; values are the caller's pointers. */
#ifndef BARELB_STRMAP_H
#define BARELB_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map and its key copies; free_val (may be NULL) is called on every value. */
void strmap_free(struct strmap *m, void (*free_val)(void *));
/* Insert or replace; returns the previous value (or NULL). Aborts on out of memory. */
void *strmap_put(struct strmap *m, const char *key, void *val);
void *strmap_get(const struct strmap *m, const char *key);
/* Remove; returns the value (or NULL). */
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);
/* Visit every entry; cb must not change the map. */
void strmap_foreach(const struct strmap *m, void (*cb)(const char *key, void *val, void *arg),
		    void *arg);

#endif
