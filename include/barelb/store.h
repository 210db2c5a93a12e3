/* SPDX-License-Identifier: Apache-2.0 */
/* store: the object cache, one hash table per kind keyed by namespace/name. It owns its objects. */
#ifndef BARELB_STORE_H
#define BARELB_STORE_H

#include <stddef.h>

#include "barelb/model.h"

struct store;

/* One object held by several stores (or holders) at once: returns o with one more reference;
 * each kobj_free drops one, the last frees it. The object must not be modified while shared.
 * An object not made by kobj_clone/the decoders is copied instead. (Lives in model.c.) */
struct kobj *kobj_share(const struct kobj *o);

struct store *store_new(void);
void store_free(struct store *s); /* frees every object; NULL-safe */

/* Insert or replace. Takes ownership of o. Returns the previous object with the same key (now
 * owned by the caller, to compare and free) or NULL. */
struct kobj *store_put(struct store *s, struct kobj *o);
/* Remove and return (caller frees), or NULL. */
struct kobj *store_take(struct store *s, enum kobj_kind k, const char *ns, const char *name);
const struct kobj *store_get(const struct store *s, enum kobj_kind k, const char *ns,
			     const char *name);
size_t store_count(const struct store *s, enum kobj_kind k);
/* Visit every object of a kind (order unspecified); cb must not modify the store. */
void store_foreach(const struct store *s, enum kobj_kind k,
		   void (*cb)(const struct kobj *o, void *arg), void *arg);

#endif
