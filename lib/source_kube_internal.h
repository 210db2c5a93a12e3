/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the kube backend's files: source_kube.c (configuration, list and watch) and
 * source_kube_write.c (status and annotation patches, Events, Leases). Not a public header. */
#ifndef BARELB_SOURCE_KUBE_INTERNAL_H
#define BARELB_SOURCE_KUBE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/kubeconfig.h"
#include "barelb/log.h"
#include "source_internal.h"

struct kube_http;
struct kube_req;
struct loop_timer;
struct kwrite;
struct kevent_agg;
struct klease_obs;

/* One watched kind: list (paginated) then watch, forever. */
struct kwatch {
	struct kube *k;
	enum kobj_kind kind;
	bool on;
	char path[256];          /* collection path, e.g. /api/v1/services */
	char rv[64];             /* last good resourceVersion; "" before the first list */
	bool listed;             /* first complete list done (counts toward synced) */
	bool listing;            /* a list is in progress (else: watching or waiting) */
	struct kube_req *req;
	struct loop_timer *retry;
	unsigned failures;       /* consecutive failures without progress, for the backoff */
	uint64_t started_ms;     /* when the current watch started */
	bool progress;           /* the current watch delivered at least one event */
	int abort_why;           /* why the stream consumer stopped the watch (KW_*) */
	char *cont;              /* continue token of the list in progress */
	char **seen;             /* keys ("ns/name") listed so far in this list */
	size_t n_seen, cap_seen;
	char *buf;               /* partial watch line */
	size_t len, cap, scanned;
};

struct kube {
	struct source *s;
	struct loop *l;
	struct kube_http *http;
	struct kube_config cfg;
	char *lease_ns;
	char *instance;          /* reportingInstance / identity: component-node */
	struct kwatch w[KOBJ_KIND_COUNT];
	unsigned n_kinds, n_listed;
	bool started;
	bool closing;             /* being freed: no new writes */
	struct log_ratelimit rl_err, rl_decode, rl_write;
	/* writes (source_kube_write.c) */
	struct kwrite *writes;               /* in flight, for cancelling on free */
	struct kevent_agg *events;           /* aggregation table */
	size_t n_events;
	double ev_tokens;                    /* token bucket for Event writes */
	uint64_t ev_last_ms;
	struct loop_timer *ev_flush;         /* sends postponed series updates */
	struct klease_obs *leases;           /* when each Lease last changed, as we observed it */
};

/* source_kube.c: the watch stream consumer. Bytes of a watch response as they arrive: cut into
 * lines (events may be split across calls or several in one), each decoded and applied to the
 * source. 0: go on; -1: stop this watch (w->abort_why says why; the partial line is dropped).
 * Exported for the fuzz target; the loop calls it through the HTTP client's data callback. */
int kube_watch_feed(struct kwatch *w, const char *data, size_t len);

/* source_kube_write.c */
int kube_write_init(struct kube *k);
void kube_write_free(struct kube *k);  /* pending writes get done(-1, "source closed") */
int kube_patch_service(void *impl, const char *ns, const char *name, const addr_t *ingress,
		       size_t n_ingress, const struct kv *annotations, size_t n_annotations,
		       source_done_cb done, void *arg);
int kube_event(void *impl, const struct kobj *about, const char *type, const char *reason,
	       const char *note);
int kube_lease_renew(void *impl, const char *name, const char *holder, uint32_t duration_s,
		     source_done_cb done, void *arg);
int kube_lease_release(void *impl, const char *name, const char *holder, source_done_cb done,
		       void *arg);

/* A short description of a failed response for logs and done callbacks. */
struct kube_resp;
void kube_describe_error(const struct kube *k, const struct kube_resp *r, char *buf, size_t n);

#endif
