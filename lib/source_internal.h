/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by source.c (the front: cache and change delivery) and its backends source_dir.c and
 * source_kube.c. Not a public header. */
#ifndef BARELB_SOURCE_INTERNAL_H
#define BARELB_SOURCE_INTERNAL_H

#include "barelb/source.h"
#include "barelb/store.h"

struct source_backend_ops {
	const char *name; /* "kube", "dir" */
	int (*start)(void *impl);
	void (*free)(void *impl);
	int (*patch_service)(void *impl, const char *ns, const char *name, const addr_t *ingress,
			     size_t n_ingress, const struct kv *annotations, size_t n_annotations,
			     source_done_cb done, void *arg);
	int (*event)(void *impl, const struct kobj *about, const char *type, const char *reason,
		     const char *note);
	int (*lease_renew)(void *impl, const char *name, const char *holder, uint32_t duration_s,
			   source_done_cb done, void *arg);
	int (*lease_release)(void *impl, const char *name, const char *holder, source_done_cb done,
			     void *arg);
};

struct source {
	struct loop *l;
	struct store *store;
	struct source_handlers h;
	/* copies of the option strings, owned */
	char *kubeconfig, *lease_namespace, *component, *node;
	unsigned kinds;
	bool writes_status;
	bool synced;
	struct source_stats stats;
	const struct source_backend_ops *ops;
	void *impl;
};

/* For backends (source.c): */
/* Put o into the cache (ownership passes) and deliver ADDED, or MODIFIED when it differs from the
 * cached one (kobj_equal), or nothing when it is the same. */
void source_apply(struct source *s, struct kobj *o);
/* Remove from the cache and deliver DELETED, if it was there. */
void source_remove(struct source *s, enum kobj_kind k, const char *ns, const char *name);
/* Deliver synced once. */
void source_mark_synced(struct source *s);

/* Backend constructors: NULL with a logged reason on failure. */
void *source_dir_new(struct source *s, const char *path);
void *source_kube_new(struct source *s);
extern const struct source_backend_ops source_dir_ops;
extern const struct source_backend_ops source_kube_ops;

#endif
