/* SPDX-License-Identifier: Apache-2.0 */
/* source_kube_write: what the kube backend writes. Service status and annotations as two merge
 * patches (the status subresource only takes status, the object only metadata/spec); Events
 * (events.k8s.io/v1) aggregated into series and rate-limited by a token bucket; Leases with
 * optimistic concurrency (the resourceVersion we read is the precondition of our update). */
#define _GNU_SOURCE
#include "source_kube_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barelb/xalloc.h"
#include "barelb/loop.h"
#include "kube_http.h"
#include "model_internal.h"

#define WRITE_TIMEOUT_S 30
#define EVENT_RATE 10.0             /* Event writes a second, on average */
#define EVENT_BURST 10.0
#define EVENT_SERIES_MS (10u * 60 * 1000) /* repeats within this window join one Event */
#define EVENT_TABLE_MAX 1024
#define EVENT_NOTE_MAX 1024         /* the API's limit on note */

enum { W_PATCH, W_LEASE, W_EVENT };

struct kevent_agg {
	struct kevent_agg *next;
	char *key;                  /* kind, namespace, name, uid, type, reason, note */
	char *name, *ns;            /* the Event object */
	uint32_t count, sent_count;
	int64_t first_us, last_us;  /* wall clock, for eventTime and lastObservedTime */
	uint64_t last_ms;           /* monotonic, for the series window */
	bool created, in_flight;
	char *body;                 /* the full Event for the first write */
};

struct klease_obs {
	struct klease_obs *next;
	char *name;
	char rv[64];
	uint64_t seen_ms;           /* when we saw this resourceVersion first */
};

struct kwrite {
	struct kube *k;
	struct kwrite *prev, *next;
	int type;
	struct kube_req *req[2];
	int pending;
	source_done_cb done;
	void *arg;
	char err[512];
	/* lease */
	char *name, *holder, *path;
	uint32_t duration_s;
	bool release;
	int retries;
	bool not_error;
	/* event */
	struct kevent_agg *agg;
	uint32_t count_sent;
};



static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *esc(const char *s, char *buf, size_t n)
{
	return kube_http_escape(s ? s : "", buf, n);
}

/* ---------- generic in-flight writes ---------- */

static struct kwrite *write_new(struct kube *k, int type, source_done_cb done, void *arg)
{
	struct kwrite *op;

	if (k->closing)
		return NULL;
	op = xcalloc(1, sizeof *op);
	op->k = k;
	op->type = type;
	op->done = done;
	op->arg = arg;
	op->next = k->writes;
	if (k->writes)
		k->writes->prev = op;
	k->writes = op;
	return op;
}

static void write_free(struct kwrite *op)
{
	struct kube *k = op->k;

	if (op->prev)
		op->prev->next = op->next;
	else
		k->writes = op->next;
	if (op->next)
		op->next->prev = op->prev;
	free(op->name);
	free(op->holder);
	free(op->path);
	free(op);
}

static void write_finish(struct kwrite *op, int status, const char *err)
{
	source_done_cb done = op->done;
	void *arg = op->arg;
	char msg[512];

	if (status < 0) {
		if (!op->not_error)
			op->k->s->stats.write_errors++;
		snprintf(msg, sizeof msg, "%s", err ? err : "failed");
	}
	write_free(op);
	if (done)
		done(arg, status, status < 0 ? msg : NULL);
}

static void resp_error(struct kwrite *op, const char *what, const struct kube_resp *r)
{
	char m[400];

	kube_describe_error(op->k, r, m, sizeof m);
	snprintf(op->err, sizeof op->err, "%s: %s", what, m);
}

/* ---------- Service status and annotations ---------- */

static char *status_patch(const addr_t *ingress, size_t n)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *lb = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "status"),
					    "loadBalancer");
	char *out;

	if (n == 0) {
		cJSON_AddNullToObject(lb, "ingress"); /* merge patch: null removes the list */
	} else {
		cJSON *arr = cJSON_AddArrayToObject(lb, "ingress");
		for (size_t i = 0; i < n; i++) {
			char ip[64];
			cJSON *e = cJSON_CreateObject();
			addr_format(&ingress[i], ip, sizeof ip);
			cJSON_AddStringToObject(e, "ip", ip);
			cJSON_AddItemToArray(arr, e);
		}
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static char *annotation_patch(const struct kv *a, size_t n)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *an = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "metadata"),
					    "annotations");
	char *out;

	for (size_t i = 0; i < n; i++) {
		if (a[i].value)
			cJSON_AddStringToObject(an, a[i].key, a[i].value);
		else
			cJSON_AddNullToObject(an, a[i].key);
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void patch_part_done(struct kwrite *op, int i, const char *what, const struct kube_resp *r)
{
	op->req[i] = NULL;
	if ((r->error || r->status < 200 || r->status >= 300) && !op->err[0])
		resp_error(op, what, r);
	if (--op->pending == 0)
		write_finish(op, op->err[0] ? -1 : 0, op->err);
}

static void on_status_patched(void *arg, const struct kube_resp *r)
{
	patch_part_done(arg, 0, "status patch", r);
}

static void on_annotations_patched(void *arg, const struct kube_resp *r)
{
	patch_part_done(arg, 1, "annotation patch", r);
}

int kube_patch_service(void *impl, const char *ns, const char *name, const addr_t *ingress,
		       size_t n_ingress, const struct kv *annotations, size_t n_annotations,
		       source_done_cb done, void *arg)
{
	struct kube *k = impl;
	struct kwrite *op = write_new(k, W_PATCH, done, arg);
	char path[768], e1[256], e2[256], *body;
	static const char ct[] = "application/merge-patch+json";

	if (!op)
		return -1;
	snprintf(path, sizeof path, "/api/v1/namespaces/%s/services/%s/status",
		 esc(ns, e1, sizeof e1), esc(name, e2, sizeof e2));
	body = status_patch(ingress, n_ingress);
	op->req[0] = body ? kube_http_request(k->http, "PATCH", path, ct, body, strlen(body),
					      WRITE_TIMEOUT_S, NULL, on_status_patched, op)
			  : NULL;
	free(body);
	if (!op->req[0]) {
		write_free(op);
		return -1;
	}
	op->pending = 1;
	if (n_annotations) {
		path[strlen(path) - strlen("/status")] = '\0';
		body = annotation_patch(annotations, n_annotations);
		op->req[1] = body ? kube_http_request(k->http, "PATCH", path, ct, body, strlen(body),
						      WRITE_TIMEOUT_S, NULL,
						      on_annotations_patched, op)
				  : NULL;
		free(body);
		if (op->req[1])
			op->pending++;
		else
			snprintf(op->err, sizeof op->err, "annotation patch: cannot start");
	}
	return 0;
}

/* ---------- Events ---------- */

static const char *api_version_of(enum kobj_kind k)
{
	switch (k) {
	case KOBJ_ENDPOINTSLICE:
		return "discovery.k8s.io/v1";
	case KOBJ_LEASE:
		return "coordination.k8s.io/v1";
	default:
		return "v1";
	}
}

static bool take_token(struct kube *k)
{
	uint64_t now = loop_now_ms(k->l);

	k->ev_tokens += (double)(now - k->ev_last_ms) * EVENT_RATE / 1000.0;
	if (k->ev_tokens > EVENT_BURST)
		k->ev_tokens = EVENT_BURST;
	k->ev_last_ms = now;
	if (k->ev_tokens < 1.0)
		return false;
	k->ev_tokens -= 1.0;
	return true;
}

static void agg_free(struct kevent_agg *a)
{
	free(a->key);
	free(a->name);
	free(a->ns);
	free(a->body);
	free(a);
}

static char *event_body(struct kube *k, const struct kobj *about, const char *type,
			const char *reason, const char *note, const char *name, const char *ns,
			int64_t now_us)
{
	cJSON *root = cJSON_CreateObject(), *md, *reg;
	char t[40], shortnote[EVENT_NOTE_MAX + 1];
	char *out;

	snprintf(shortnote, sizeof shortnote, "%s", note ? note : "");
	cJSON_AddStringToObject(root, "apiVersion", "events.k8s.io/v1");
	cJSON_AddStringToObject(root, "kind", "Event");
	md = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "namespace", ns);
	cJSON_AddStringToObject(root, "eventTime", kobj_format_microtime(now_us, t, sizeof t));
	cJSON_AddStringToObject(root, "reportingController",
				k->s->component ? k->s->component : "barelb");
	cJSON_AddStringToObject(root, "reportingInstance", k->instance);
	cJSON_AddStringToObject(root, "action", reason);
	cJSON_AddStringToObject(root, "reason", reason);
	cJSON_AddStringToObject(root, "note", shortnote);
	cJSON_AddStringToObject(root, "type", type);
	reg = cJSON_AddObjectToObject(root, "regarding");
	cJSON_AddStringToObject(reg, "kind", kobj_kind_name(about->kind));
	cJSON_AddStringToObject(reg, "apiVersion", api_version_of(about->kind));
	if (about->meta.namespace && *about->meta.namespace)
		cJSON_AddStringToObject(reg, "namespace", about->meta.namespace);
	cJSON_AddStringToObject(reg, "name", about->meta.name ? about->meta.name : "");
	if (about->meta.uid)
		cJSON_AddStringToObject(reg, "uid", about->meta.uid);
	if (about->meta.resource_version)
		cJSON_AddStringToObject(reg, "resourceVersion", about->meta.resource_version);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void ev_send(struct kube *k, struct kevent_agg *a);

static void on_event_written(void *arg, const struct kube_resp *r)
{
	struct kwrite *op = arg;
	struct kube *k = op->k;
	struct kevent_agg *a = op->agg;
	bool ok = !r->error && r->status >= 200 && r->status < 300;

	op->req[0] = NULL;
	a->in_flight = false;
	if (ok || (!a->created && r->status == 409)) {
		a->created = true;
		a->sent_count = op->count_sent;
		free(a->body);
		a->body = NULL;
	} else if (a->created && r->status == 404) {
		/* The Event expired on the server: the next repeat starts a new one. */
		a->created = false;
		a->count = a->sent_count = 0;
		a->last_ms = 0;
	} else {
		char m[400];
		kube_describe_error(k, r, m, sizeof m);
		k->s->stats.write_errors++;
		log_ratelimited(&k->rl_write, 0, LOG_WARN, "kube: writing Event %s/%s failed: %s",
				a->ns, a->name, m);
		a->sent_count = a->count; /* do not retry this one; the next repeat will */
	}
	write_free(op);
	if (a->created && a->count > a->sent_count)
		ev_send(k, a);
}

static void ev_send(struct kube *k, struct kevent_agg *a)
{
	char path[768], e1[256], e2[256], t[40];
	struct kwrite *op;
	char *body;

	if (a->in_flight || a->count == a->sent_count)
		return;
	if (!take_token(k)) {
		/* Over the rate: the Event (or the series update) waits for the next flush. The table
		 * of pending Events is bounded (EVENT_TABLE_MAX): past that the oldest idle one goes. */
		if (!loop_timer_pending(k->ev_flush))
			loop_timer_arm(k->ev_flush, 1000);
		return;
	}
	op = write_new(k, W_EVENT, NULL, NULL);
	if (!op)
		return;
	op->agg = a;
	op->count_sent = a->count;
	if (!a->created) {
		snprintf(path, sizeof path, "/apis/events.k8s.io/v1/namespaces/%s/events",
			 esc(a->ns, e1, sizeof e1));
		cJSON *root = cJSON_Parse(a->body);
		if (root && a->count > 1) {
			cJSON *series = cJSON_AddObjectToObject(root, "series");
			cJSON_AddNumberToObject(series, "count", a->count);
			cJSON_AddStringToObject(series, "lastObservedTime",
						kobj_format_microtime(a->last_us, t, sizeof t));
		}
		body = root ? cJSON_PrintUnformatted(root) : NULL;
		cJSON_Delete(root);
		op->req[0] = body ? kube_http_request(k->http, "POST", path, "application/json", body,
						      strlen(body), WRITE_TIMEOUT_S, NULL,
						      on_event_written, op)
				  : NULL;
	} else {
		cJSON *root = cJSON_CreateObject();
		cJSON *series = cJSON_AddObjectToObject(root, "series");
		cJSON_AddNumberToObject(series, "count", a->count);
		cJSON_AddStringToObject(series, "lastObservedTime",
					kobj_format_microtime(a->last_us, t, sizeof t));
		body = cJSON_PrintUnformatted(root);
		cJSON_Delete(root);
		snprintf(path, sizeof path, "/apis/events.k8s.io/v1/namespaces/%s/events/%s",
			 esc(a->ns, e1, sizeof e1), esc(a->name, e2, sizeof e2));
		op->req[0] = body ? kube_http_request(k->http, "PATCH", path,
						      "application/merge-patch+json", body,
						      strlen(body), WRITE_TIMEOUT_S, NULL,
						      on_event_written, op)
				  : NULL;
	}
	free(body);
	if (!op->req[0]) {
		write_free(op);
		return;
	}
	a->in_flight = true;
}

static void on_ev_flush(void *arg)
{
	struct kube *k = arg;

	for (struct kevent_agg *a = k->events; a; a = a->next)
		ev_send(k, a);
}

/* Drop series that ended (no repeat within the window) and, when the table is full, the
 * oldest idle one. */
static void ev_expire(struct kube *k, uint64_t now)
{
	struct kevent_agg **pp = &k->events, *a, **oldest = NULL;

	while ((a = *pp)) {
		/* Waiting to be written (first write or series update) is not idle. */
		bool idle = !a->in_flight && a->count == a->sent_count;
		if (idle && now - a->last_ms > EVENT_SERIES_MS) {
			*pp = a->next;
			agg_free(a);
			k->n_events--;
			continue;
		}
		if (idle && (!oldest || a->last_ms < (*oldest)->last_ms))
			oldest = pp;
		pp = &a->next;
	}
	if (k->n_events >= EVENT_TABLE_MAX && oldest) {
		a = *oldest;
		*oldest = a->next;
		agg_free(a);
		k->n_events--;
	}
}

int kube_event(void *impl, const struct kobj *about, const char *type, const char *reason,
	       const char *note)
{
	struct kube *k = impl;
	uint64_t now = loop_now_ms(k->l);
	int64_t now_us = wall_us();
	struct kevent_agg *a;
	char *key;

	if (!about || !type || !reason)
		return -1;
	if (asprintf(&key, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", kobj_kind_name(about->kind),
		     about->meta.namespace ? about->meta.namespace : "",
		     about->meta.name ? about->meta.name : "",
		     about->meta.uid ? about->meta.uid : "", type, reason, note ? note : "") < 0)
		return -1;
	ev_expire(k, now);
	for (a = k->events; a; a = a->next)
		if (strcmp(a->key, key) == 0 && (a->count == 0 || now - a->last_ms <= EVENT_SERIES_MS))
			break;
	if (a) {
		free(key);
		if (a->count == 0) { /* restarted after the server lost the Event */
			a->first_us = now_us;
			free(a->name);
			if (asprintf(&a->name, "%s.%llx", about->meta.name ? about->meta.name : "obj",
				     (unsigned long long)now_us * 1000 + (loop_random(k->l) & 0xfff)) < 0)
				abort();
			free(a->body);
			a->body = event_body(k, about, type, reason, note, a->name, a->ns, now_us);
		}
		a->count++;
		a->last_us = now_us;
		a->last_ms = now;
		ev_send(k, a);
		return 0;
	}
	if (k->n_events >= EVENT_TABLE_MAX) {
		/* Every slot holds an Event still waiting for the rate limit: bounded memory wins. */
		k->s->stats.write_errors++;
		log_ratelimited(&k->rl_write, 0, LOG_WARN, "kube: %zu Events waiting; dropping a new one "
				"(%s)", k->n_events, reason);
		free(key);
		return -1;
	}
	a = xcalloc(1, sizeof *a);
	a->key = key;
	a->ns = xstrdup(about->meta.namespace && *about->meta.namespace ? about->meta.namespace
									  : "default");
	/* Named like kubectl's recorder: object name and a timestamp, unique enough. */
	if (asprintf(&a->name, "%s.%llx", about->meta.name ? about->meta.name : "obj",
		     (unsigned long long)now_us * 1000 + (loop_random(k->l) & 0xfff)) < 0) {
		log_error("out of memory");
		abort();
	}
	a->count = 1;
	a->first_us = a->last_us = now_us;
	a->last_ms = now;
	a->body = event_body(k, about, type, reason, note, a->name, a->ns, now_us);
	if (!a->body) {
		agg_free(a);
		return -1;
	}
	a->next = k->events;
	k->events = a;
	k->n_events++;
	ev_send(k, a);
	return 0;
}

/* ---------- Leases ---------- */

static struct klease_obs *observe(struct kube *k, const char *name, const char *rv)
{
	struct klease_obs *o;

	for (o = k->leases; o; o = o->next)
		if (strcmp(o->name, name) == 0)
			break;
	if (!o) {
		o = xcalloc(1, sizeof *o);
		o->name = xstrdup(name);
		o->next = k->leases;
		k->leases = o;
	}
	if (rv && strcmp(o->rv, rv) != 0) {
		snprintf(o->rv, sizeof o->rv, "%s", rv);
		o->seen_ms = loop_now_ms(k->l);
	}
	return o;
}

static void lease_get(struct kwrite *op);

static void on_lease_written(void *arg, const struct kube_resp *r)
{
	struct kwrite *op = arg;
	cJSON *root;

	op->req[0] = NULL;
	if (r->status == 200 || r->status == 201) {
		root = cJSON_ParseWithLength(r->body, r->len);
		const cJSON *md = root ? cJSON_GetObjectItemCaseSensitive(root, "metadata") : NULL;
		const cJSON *rv = md ? cJSON_GetObjectItemCaseSensitive(md, "resourceVersion") : NULL;
		if (cJSON_IsString(rv))
			observe(op->k, op->name, rv->valuestring);
		cJSON_Delete(root);
		write_finish(op, 0, NULL);
		return;
	}
	if (r->status == 409 && op->retries > 0) {
		/* Someone wrote it between our read and our write: read again, decide again. */
		op->retries--;
		lease_get(op);
		return;
	}
	resp_error(op, op->release ? "lease release" : "lease update", r);
	write_finish(op, -1, op->err);
}

static void set_str(cJSON *o, const char *key, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, v);
}

static void set_num(cJSON *o, const char *key, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddNumberToObject(o, key, v);
}

static void lease_put(struct kwrite *op, cJSON *root)
{
	char *body = cJSON_PrintUnformatted(root);

	op->req[0] = body ? kube_http_request(op->k->http, "PUT", op->path, "application/json", body,
					      strlen(body), WRITE_TIMEOUT_S, NULL, on_lease_written,
					      op)
			  : NULL;
	free(body);
	if (!op->req[0])
		write_finish(op, -1, "cannot start the request");
}

static void lease_create(struct kwrite *op)
{
	cJSON *root = cJSON_CreateObject(), *md, *spec;
	char t[40], coll[768];
	char *body;

	kobj_format_microtime(wall_us(), t, sizeof t);
	cJSON_AddStringToObject(root, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(root, "kind", "Lease");
	md = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(md, "name", op->name);
	cJSON_AddStringToObject(md, "namespace", op->k->lease_ns);
	spec = cJSON_AddObjectToObject(root, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", op->holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", op->duration_s);
	cJSON_AddStringToObject(spec, "acquireTime", t);
	cJSON_AddStringToObject(spec, "renewTime", t);
	cJSON_AddNumberToObject(spec, "leaseTransitions", 0);
	body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	snprintf(coll, sizeof coll, "%s", op->path);
	*strrchr(coll, '/') = '\0';
	op->req[0] = body ? kube_http_request(op->k->http, "POST", coll, "application/json", body,
					      strlen(body), WRITE_TIMEOUT_S, NULL, on_lease_written,
					      op)
			  : NULL;
	free(body);
	if (!op->req[0])
		write_finish(op, -1, "cannot start the request");
}

static void on_lease_read(void *arg, const struct kube_resp *r)
{
	struct kwrite *op = arg;
	struct kube *k = op->k;
	struct kobj *lease = NULL;
	struct klease_obs *obs;
	cJSON *root, *spec;
	char err[256], t[40];
	const char *holder;
	bool ours, free_, expired;
	uint32_t dur;

	op->req[0] = NULL;
	if (r->status == 404) {
		if (op->release)
			write_finish(op, 0, NULL);
		else
			lease_create(op);
		return;
	}
	if (r->error || r->status != 200) {
		resp_error(op, "lease read", r);
		write_finish(op, -1, op->err);
		return;
	}
	root = cJSON_ParseWithLength(r->body, r->len);
	if (!root || kobj_from_cjson(root, KOBJ_LEASE, &lease, err, sizeof err) != 0) {
		cJSON_Delete(root);
		snprintf(op->err, sizeof op->err, "lease %s: cannot decode: %s", op->name,
			 root ? err : "not JSON");
		write_finish(op, -1, op->err);
		return;
	}
	obs = observe(k, op->name, lease->meta.resource_version);
	holder = lease->u.lease.holder;
	ours = holder && strcmp(holder, op->holder) == 0;
	free_ = !holder || !*holder;
	dur = lease->u.lease.duration_s ? lease->u.lease.duration_s : op->duration_s;
	/* Expiry is judged on our own clock: the record must not have changed for a whole
	 * duration since we first saw it. Clocks of other nodes do not matter. */
	expired = loop_now_ms(k->l) - obs->seen_ms >= (uint64_t)dur * 1000;
	spec = cJSON_GetObjectItemCaseSensitive(root, "spec");
	if (!cJSON_IsObject(spec)) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "spec");
		spec = cJSON_AddObjectToObject(root, "spec");
	}
	kobj_format_microtime(wall_us(), t, sizeof t);
	if (op->release) {
		if (!ours) {
			write_finish(op, 0, NULL); /* nothing of ours to release */
		} else {
			/* Like client-go: clear the holder and shorten the duration, so that a
			 * standby takes over at once. */
			cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
			set_num(spec, "leaseDurationSeconds", 1);
			set_str(spec, "renewTime", t);
			lease_put(op, root);
		}
	} else if (ours || free_ || expired) {
		if (!ours) {
			set_str(spec, "acquireTime", t);
			/* like client-go: every change of holder is a transition */
			set_num(spec, "leaseTransitions", lease->u.lease.transitions + 1);
		}
		set_str(spec, "holderIdentity", op->holder);
		set_num(spec, "leaseDurationSeconds", op->duration_s);
		set_str(spec, "renewTime", t);
		lease_put(op, root);
	} else {
		snprintf(op->err, sizeof op->err, "lease %s/%s is held by %s", k->lease_ns, op->name,
			 holder);
		op->not_error = true; /* someone else leads: an answer, not a failed write */
		write_finish(op, -1, op->err);
	}
	kobj_free(lease);
	cJSON_Delete(root);
}

static void lease_get(struct kwrite *op)
{
	op->req[0] = kube_http_request(op->k->http, "GET", op->path, NULL, NULL, 0, WRITE_TIMEOUT_S,
				       NULL, on_lease_read, op);
	if (!op->req[0])
		write_finish(op, -1, "cannot start the request");
}

static int lease_op(struct kube *k, const char *name, const char *holder, uint32_t duration_s,
		    bool release, source_done_cb done, void *arg)
{
	struct kwrite *op;
	char e1[256], e2[256];

	if (!name || !*name || !holder || !*holder)
		return -1;
	op = write_new(k, W_LEASE, done, arg);
	if (!op)
		return -1;
	op->name = xstrdup(name);
	op->holder = xstrdup(holder);
	op->duration_s = duration_s ? duration_s : 15;
	op->release = release;
	op->retries = 1;
	if (asprintf(&op->path, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
		     esc(k->lease_ns, e1, sizeof e1), esc(name, e2, sizeof e2)) < 0) {
		op->path = NULL;
		write_free(op);
		return -1;
	}
	lease_get(op);
	return 0;
}

int kube_lease_renew(void *impl, const char *name, const char *holder, uint32_t duration_s,
		     source_done_cb done, void *arg)
{
	return lease_op(impl, name, holder, duration_s, false, done, arg);
}

int kube_lease_release(void *impl, const char *name, const char *holder, source_done_cb done,
		       void *arg)
{
	return lease_op(impl, name, holder, 0, true, done, arg);
}

/* ---------- setup ---------- */

int kube_write_init(struct kube *k)
{
	k->ev_tokens = EVENT_BURST;
	k->ev_last_ms = loop_now_ms(k->l);
	k->ev_flush = loop_timer_new(k->l, on_ev_flush, k);
	return k->ev_flush ? 0 : -1;
}

void kube_write_free(struct kube *k)
{
	struct klease_obs *o, *on;
	struct kevent_agg *a, *an;

	/* Pending writes end with an error so that their owners can free what they passed;
	 * nothing new starts from their callbacks. */
	k->closing = true;
	while (k->writes) {
		struct kwrite *op = k->writes;
		kube_http_cancel(op->req[0]);
		kube_http_cancel(op->req[1]);
		op->req[0] = op->req[1] = NULL;
		write_finish(op, -1, "source closed");
	}
	for (a = k->events; a; a = an) {
		an = a->next;
		agg_free(a);
	}
	k->events = NULL;
	for (o = k->leases; o; o = on) {
		on = o->next;
		free(o->name);
		free(o);
	}
	k->leases = NULL;
	loop_timer_free(k->ev_flush);
	k->ev_flush = NULL;
}
