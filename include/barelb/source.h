/* SPDX-License-Identifier: Apache-2.0 */
/* source: where the daemons learn the cluster. One interface, two backends:
 *   "kube"      the Kubernetes API (libcurl multi in the event loop; list + watch)
 *   "dir:PATH"  a state directory of manifests, watched with inotify
 * The source owns the object cache (store) and tells its user what changed. While the API is
 * unreachable the cache keeps every object: nothing is deleted because of an outage. */
#ifndef BARELB_SOURCE_H
#define BARELB_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "barelb/model.h"

struct loop;
struct source;
struct store;

enum source_event { SOURCE_ADDED, SOURCE_MODIFIED, SOURCE_DELETED };

struct source_handlers {
	/* Called after the cache was updated. ADDED: old NULL; DELETED: now NULL (old is valid
	 * during the call only). */
	void (*changed)(void *arg, enum source_event ev, const struct kobj *old,
			const struct kobj *now);
	/* Called once when every watched kind has been listed for the first time. */
	void (*synced)(void *arg);
	void *arg;
};

struct source_opts {
	const char *kubeconfig;   /* kube: --kubeconfig, else $KUBECONFIG, ~/.kube/config, in-cluster */
	unsigned kinds;           /* bit (1u << KOBJ_x) per kind to watch */
	const char *lease_namespace; /* where speaker and controller Leases live (default barelb-system) */
	const char *component;    /* "barelb-controller" / "barelb-speaker": Event source, user agent */
	const char *node;         /* speaker's node name, for Event source.host */
	/* This daemon writes Service status (the controller). dir: only the writer removes the status
	 * file of a Service that is gone (also one deleted while it was down, at start), so a
	 * re-created Service with the same name never inherits a stale IP. */
	bool writes_status;
};

/* spec is "kube" or "dir:PATH". NULL with a logged reason on a bad spec or kube configuration. */
struct source *source_new(struct loop *l, const char *spec, const struct source_opts *opts,
			  const struct source_handlers *h);
int source_start(struct source *s);
void source_free(struct source *s);            /* NULL-safe; cancels pending requests */
const struct store *source_store(const struct source *s);
bool source_synced(const struct source *s);

/* ---- writes: asynchronous; done (may be NULL) gets 0, or -1 with a message ---- */
typedef void (*source_done_cb)(void *arg, int status, const char *err);

/* Set a Service's status.loadBalancer.ingress and its annotations (merge patch semantics:
 * a NULL value in annotations removes the key). kube: PATCH of the status subresource and of the
 * object's metadata; dir: PATH/status/<ns>/<name>.json written atomically. */
int source_patch_service(struct source *s, const char *ns, const char *name,
			 const addr_t *ingress, size_t n_ingress, const struct kv *annotations,
			 size_t n_annotations, source_done_cb done, void *arg);

/* Events (events.k8s.io/v1) about an object; the backend aggregates repeats of the same
 * (object, reason, note) into one Event with a count, and rate-limits. type: "Normal"/"Warning". */
int source_event(struct source *s, const struct kobj *about, const char *type, const char *reason,
		 const char *note);

/* Leases (coordination.k8s.io/v1 in lease_namespace; dir: PATH/leases/<name>.json).
 * Acquire/renew: create when absent, else update when we hold it or it has expired, with optimistic
 * concurrency (resourceVersion). done gets 0 when we hold it after the call, -1 when someone else
 * holds a fresh lease or the write failed. */
int source_lease_renew(struct source *s, const char *name, const char *holder, uint32_t duration_s,
		       source_done_cb done, void *arg);
int source_lease_release(struct source *s, const char *name, const char *holder,
			 source_done_cb done, void *arg);

/* Counters for metrics */
struct source_stats {
	uint64_t watch_restarts;
	uint64_t relists;
	uint64_t decode_errors;
	uint64_t write_errors;
};
void source_get_stats(const struct source *s, struct source_stats *out);

#endif
