/* SPDX-License-Identifier: Apache-2.0 */
/* source_kube: the Kubernetes API backend. For each watched kind: a paginated list, then a watch
 * from the list's resourceVersion with bookmarks; the stream is cut into lines as bytes arrive.
 * 410 Gone → relist and deliver only the difference; a dropped watch resumes from the last
 * resourceVersion after a jittered backoff. Nothing is ever removed from the cache because the API
 * is unreachable: only a complete list or a DELETED event removes an object. */
#define _GNU_SOURCE
#include "source_kube_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barelb/xalloc.h"
#include "barelb/loop.h"
#include "barelb/store.h"
#include "kube_http.h"
#include "model_internal.h"

#define LIST_LIMIT 500
#define LINE_MAX_BYTES (16u << 20)   /* a watch event longer than this is an error */
#define BACKOFF_BASE_MS 200u
/* The cap bounds how long a speaker stays blind after the API returns (a dead peer is then found
 * one Lease duration later): 8 s keeps that short, and a thousand speakers retrying every 4-8 s
 * during an outage are ~170 cheap requests a second. */
#define BACKOFF_CAP_MS 8000u
#define RETRY_AFTER_CAP_S 600        /* do not obey an absurd Retry-After */
#define LIST_TIMEOUT_S 60
#define HEALTHY_MS 30000u            /* a watch that lived this long resets the backoff */

/* why the stream consumer aborted a watch */
enum { KW_NONE, KW_RELIST, KW_MALFORMED, KW_ERROR, KW_TOO_LONG };



void kube_describe_error(const struct kube *k, const struct kube_resp *r, char *buf, size_t n)
{
	char msg[256] = "";
	cJSON *st;

	if (r->error) {
		if (r->tls_error)
			snprintf(buf, n, "TLS error talking to %s: %s (check the certificate authority "
				 "of %s)", k->cfg.server, r->error, k->cfg.origin);
		else
			snprintf(buf, n, "%s: %s", k->cfg.server, r->error);
		return;
	}
	/* The API server explains errors in a Status object. */
	st = r->len ? cJSON_ParseWithLength(r->body, r->len) : NULL;
	if (st) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "message");
		if (cJSON_IsString(m))
			snprintf(msg, sizeof msg, "%s", m->valuestring);
		cJSON_Delete(st);
	}
	if (r->status == 401)
		snprintf(buf, n, "401 Unauthorized from %s: the API server rejected the credentials "
			 "(token or client certificate of %s)", k->cfg.server, k->cfg.origin);
	else if (r->status == 403)
		snprintf(buf, n, "403 Forbidden: %s (check the RBAC rules of barelb's account)",
			 msg[0] ? msg : "no message");
	else
		snprintf(buf, n, "HTTP %ld%s%s", r->status, msg[0] ? ": " : "", msg);
}

/* ---------- scheduling ---------- */

static void list_start(struct kwatch *w);
static void watch_start(struct kwatch *w);

static void on_retry(void *arg)
{
	struct kwatch *w = arg;

	if (w->rv[0])
		watch_start(w);
	else
		list_start(w);
}

/* Jittered exponential backoff: [d/2, d] with d = base * 2^failures, capped. */
static void retry_later(struct kwatch *w, long retry_after_s)
{
	unsigned f = w->failures < 16 ? w->failures : 16;
	uint64_t d = (uint64_t)BACKOFF_BASE_MS << f;

	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	d = d / 2 + loop_random(w->k->l) % (d / 2 + 1);
	if (retry_after_s > 0) {
		if (retry_after_s > RETRY_AFTER_CAP_S)
			retry_after_s = RETRY_AFTER_CAP_S;
		if ((uint64_t)retry_after_s * 1000 > d)
			d = (uint64_t)retry_after_s * 1000;
	}
	w->failures++;
	log_debug("kube: %s: retry in %llu ms", kobj_kind_name(w->kind), (unsigned long long)d);
	loop_timer_arm(w->retry, d);
}

static void note_failure(struct kwatch *w, const char *what, const struct kube_resp *r)
{
	char msg[512];

	kube_describe_error(w->k, r, msg, sizeof msg);
	/* Bad credentials and TLS trouble are the operator's to fix: say so at error level. */
	log_ratelimited(&w->k->rl_err, 0,
			r->tls_error || r->status == 401 || r->status == 403 ? LOG_ERROR : LOG_WARN,
			"kube: %s %s failed: %s", what, kobj_kind_name(w->kind), msg);
}

/* ---------- list ---------- */

static void seen_clear(struct kwatch *w)
{
	for (size_t i = 0; i < w->n_seen; i++)
		free(w->seen[i]);
	w->n_seen = 0;
}

static void seen_add(struct kwatch *w, const char *ns, const char *name)
{
	char *key;

	if (w->n_seen == w->cap_seen) {
		size_t cap = w->cap_seen ? w->cap_seen * 2 : 256;
		char **p = realloc(w->seen, cap * sizeof *p);
		if (!p) {
			log_error("out of memory");
			abort();
		}
		w->seen = p;
		w->cap_seen = cap;
	}
	if (asprintf(&key, "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "/" : "", name) < 0) {
		log_error("out of memory");
		abort();
	}
	w->seen[w->n_seen++] = key;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct gone {
	struct kwatch *w;
	char **keys; /* "ns\0name" pairs of cached objects the list no longer has */
	size_t n, cap;
};

static void find_gone(const struct kobj *o, void *arg)
{
	struct gone *g = arg;
	char key[512], *kp = key;

	kobj_key(o, key, sizeof key);
	if (g->w->n_seen && bsearch(&kp, g->w->seen, g->w->n_seen, sizeof *g->w->seen, cmp_str))
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->keys = realloc(g->keys, g->cap * 2 * sizeof *g->keys);
		if (!g->keys) {
			log_error("out of memory");
			abort();
		}
	}
	g->keys[2 * g->n] = xstrdup(o->meta.namespace);
	g->keys[2 * g->n + 1] = xstrdup(o->meta.name);
	g->n++;
}

/* A complete list: everything cached but not listed is gone (deleted while we were not
 * watching). Everything listed was already applied page by page; source_apply skipped the
 * objects that did not change, so only the difference was delivered. */
static void list_complete(struct kwatch *w, const char *rv)
{
	struct kube *k = w->k;
	struct gone g = { .w = w };

	if (w->n_seen)
		qsort(w->seen, w->n_seen, sizeof *w->seen, cmp_str);
	store_foreach(source_store(k->s), w->kind, find_gone, &g);
	for (size_t i = 0; i < g.n; i++) {
		source_remove(k->s, w->kind, g.keys[2 * i], g.keys[2 * i + 1]);
		free(g.keys[2 * i]);
		free(g.keys[2 * i + 1]);
	}
	free(g.keys);
	seen_clear(w);
	snprintf(w->rv, sizeof w->rv, "%s", rv);
	w->listing = false;
	w->failures = 0;
	log_debug("kube: listed %s at resourceVersion %s (%zu removed)", kobj_kind_name(w->kind),
		  w->rv, g.n);
	if (!w->listed) {
		w->listed = true;
		if (++k->n_listed == k->n_kinds)
			source_mark_synced(k->s);
	}
	watch_start(w);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void decode_error(struct kwatch *w, const char *where, const char *ns, const char *name,
			 const char *err)
{
	w->k->s->stats.decode_errors++;
	log_ratelimited(&w->k->rl_decode, 0, LOG_WARN, "kube: %s %s %s%s%s: %s (skipped)", where,
			kobj_kind_name(w->kind), ns ? ns : "", ns && *ns ? "/" : "",
			name ? name : "?", err);
}

static void on_list_done(void *arg, const struct kube_resp *r)
{
	struct kwatch *w = arg;
	cJSON *root = NULL;
	const cJSON *items, *item, *md;
	const char *rv, *cont;

	w->req = NULL;
	if (r->error || r->status != 200) {
		note_failure(w, "list", r);
		/* Start the list over (a 410 here means the continue token expired). */
		free(w->cont);
		w->cont = NULL;
		seen_clear(w);
		retry_later(w, r->status == 429 || r->status == 503 ? r->retry_after_s : -1);
		return;
	}
	root = cJSON_ParseWithLength(r->body, r->len);
	items = root ? cJSON_GetObjectItemCaseSensitive(root, "items") : NULL;
	md = root ? cJSON_GetObjectItemCaseSensitive(root, "metadata") : NULL;
	rv = md ? jstr(md, "resourceVersion") : NULL;
	if (!root || !cJSON_IsArray(items) || !rv || !*rv) {
		struct kube_resp bad = { .status = 200, .error = "malformed list response" };
		w->k->s->stats.decode_errors++;
		note_failure(w, "list", &bad);
		cJSON_Delete(root);
		free(w->cont);
		w->cont = NULL;
		seen_clear(w);
		retry_later(w, -1);
		return;
	}
	cJSON_ArrayForEach(item, items) {
		const cJSON *imd = cJSON_GetObjectItemCaseSensitive(item, "metadata");
		const char *ns = imd ? jstr(imd, "namespace") : NULL;
		const char *name = imd ? jstr(imd, "name") : NULL;
		struct kobj *o = NULL;
		char err[256];
		int rc;

		if (!name) {
			decode_error(w, "list", ns, name, "no metadata.name");
			continue;
		}
		/* Listed means present, even when this version does not decode: the cached one
		 * stays rather than being deleted over a bad field. */
		seen_add(w, ns, name);
		rc = kobj_from_cjson(item, (int)w->kind, &o, err, sizeof err);
		if (rc == 0)
			source_apply(w->k->s, o);
		else if (rc < 0)
			decode_error(w, "list", ns, name, err);
	}
	cont = md ? jstr(md, "continue") : NULL;
	free(w->cont);
	w->cont = cont && *cont ? xstrdup(cont) : NULL;
	if (w->cont) {
		cJSON_Delete(root);
		list_start(w);
		return;
	}
	list_complete(w, rv);
	cJSON_Delete(root);
}

static void list_start(struct kwatch *w)
{
	char q[1024], esc[800];

	if (!w->cont) {
		seen_clear(w);
		w->rv[0] = '\0';
	}
	w->listing = true;
	if (w->cont)
		snprintf(q, sizeof q, "%s?limit=%d&continue=%s", w->path, LIST_LIMIT,
			 kube_http_escape(w->cont, esc, sizeof esc));
	else
		snprintf(q, sizeof q, "%s?limit=%d", w->path, LIST_LIMIT);
	w->req = kube_http_request(w->k->http, "GET", q, NULL, NULL, 0, LIST_TIMEOUT_S, NULL,
				   on_list_done, w);
	if (!w->req) {
		free(w->cont);
		w->cont = NULL;
		retry_later(w, -1);
	}
}

/* ---------- watch ---------- */

/* One watch event line. 0: go on; -1: stop this watch (w->abort_why says why). */
static int handle_line(struct kwatch *w, const char *line, size_t len)
{
	struct kube *k = w->k;
	cJSON *ev;
	const cJSON *obj, *md;
	const char *type, *rv;
	int ret = 0;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	ev = cJSON_ParseWithLength(line, len);
	obj = ev ? cJSON_GetObjectItemCaseSensitive(ev, "object") : NULL;
	type = ev ? jstr(ev, "type") : NULL;
	if (!ev || !type || !cJSON_IsObject(obj)) {
		k->s->stats.decode_errors++;
		log_ratelimited(&k->rl_decode, 0, LOG_WARN, "kube: malformed watch event for %s "
				"(%zu bytes); restarting the watch from resourceVersion %s",
				kobj_kind_name(w->kind), len, w->rv);
		w->abort_why = KW_MALFORMED;
		cJSON_Delete(ev);
		return -1;
	}
	md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	rv = md ? jstr(md, "resourceVersion") : NULL;

	if (strcmp(type, "ERROR") == 0) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		const char *msg = jstr(obj, "message");
		if (cJSON_IsNumber(code) && code->valueint == 410) {
			log_info("kube: watch of %s expired (%s): relisting", kobj_kind_name(w->kind),
				 msg ? msg : "410 Gone");
			w->abort_why = KW_RELIST;
		} else {
			log_ratelimited(&k->rl_err, 0, LOG_WARN, "kube: watch of %s: error event %d: %s",
					kobj_kind_name(w->kind),
					cJSON_IsNumber(code) ? code->valueint : 0, msg ? msg : "");
			w->abort_why = KW_ERROR;
		}
		cJSON_Delete(ev);
		return -1;
	}
	if (!rv || !*rv || strlen(rv) >= sizeof w->rv) {
		k->s->stats.decode_errors++;
		log_ratelimited(&k->rl_decode, 0, LOG_WARN, "kube: watch event %s for %s without a "
				"resourceVersion; restarting the watch", type,
				kobj_kind_name(w->kind));
		w->abort_why = KW_MALFORMED;
		cJSON_Delete(ev);
		return -1;
	}
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		struct kobj *o = NULL;
		char err[256];
		int rc = kobj_from_cjson(obj, (int)w->kind, &o, err, sizeof err);

		if (rc == 0)
			source_apply(k->s, o);
		else if (rc < 0)
			decode_error(w, "watch", jstr(md, "namespace"), jstr(md, "name"), err);
	} else if (strcmp(type, "DELETED") == 0) {
		const char *name = jstr(md, "name");
		if (name)
			source_remove(k->s, w->kind, jstr(md, "namespace"), name);
		else
			decode_error(w, "watch", NULL, NULL, "DELETED without metadata.name");
	} else if (strcmp(type, "BOOKMARK") != 0) {
		k->s->stats.decode_errors++;
		log_ratelimited(&k->rl_decode, 0, LOG_WARN, "kube: unknown watch event type \"%s\" "
				"for %s; restarting the watch", type, kobj_kind_name(w->kind));
		w->abort_why = KW_MALFORMED;
		ret = -1;
	}
	if (ret == 0) {
		/* Only a complete, understood event moves the resume point. */
		snprintf(w->rv, sizeof w->rv, "%s", rv);
		w->progress = true;
		w->failures = 0;
	}
	cJSON_Delete(ev);
	return ret;
}

int kube_watch_feed(struct kwatch *w, const char *data, size_t len)
{
	size_t start = 0;
	char *nl;

	if (w->len + len + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 65536;
		char *p;
		while (cap < w->len + len + 1)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			log_error("out of memory");
			abort();
		}
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	/* Events may arrive split across reads or several in one read. */
	while ((nl = memchr(w->buf + w->scanned, '\n', w->len - w->scanned))) {
		size_t end = (size_t)(nl - w->buf);
		if (handle_line(w, w->buf + start, end - start) < 0) {
			w->len = w->scanned = 0;
			return -1;
		}
		start = end + 1;
		w->scanned = start;
	}
	if (start) {
		memmove(w->buf, w->buf + start, w->len - start);
		w->len -= start;
	}
	w->scanned = w->len;
	if (w->len > LINE_MAX_BYTES) {
		w->k->s->stats.decode_errors++;
		log_ratelimited(&w->k->rl_decode, 0, LOG_WARN, "kube: watch event for %s longer than "
				"%u bytes; restarting the watch", kobj_kind_name(w->kind),
				LINE_MAX_BYTES);
		w->abort_why = KW_TOO_LONG;
		w->len = w->scanned = 0;
		return -1;
	}
	return 0;
}

static int on_watch_data(void *arg, const char *data, size_t len)
{
	return kube_watch_feed(arg, data, len);
}

static void on_watch_done(void *arg, const struct kube_resp *r)
{
	struct kwatch *w = arg;
	uint64_t lived = loop_now_ms(w->k->l) - w->started_ms;
	int why = w->abort_why;

	w->req = NULL;
	w->len = w->scanned = 0; /* a partial line of a cut stream is never an event */
	w->abort_why = KW_NONE;
	w->k->s->stats.watch_restarts++;
	if (lived >= HEALTHY_MS)
		w->failures = 0;
	if (why == KW_RELIST || r->status == 410) {
		w->k->s->stats.relists++;
		list_start(w);
		return;
	}
	if (why == KW_MALFORMED || why == KW_TOO_LONG || why == KW_ERROR) {
		retry_later(w, -1);
		return;
	}
	if (r->error || r->status != 200) {
		if (r->status == 200 && w->progress)
			log_ratelimited(&w->k->rl_err, 0, LOG_INFO, "kube: watch of %s dropped (%s); "
					"resuming from resourceVersion %s", kobj_kind_name(w->kind),
					r->error, w->rv);
		else
			note_failure(w, "watch", r);
		retry_later(w, r->status == 429 || r->status == 503 ? r->retry_after_s : -1);
		return;
	}
	/* The server ended the watch (timeoutSeconds): go on at once, unless it ends them as fast
	 * as we open them. */
	if (!w->progress && lived < 1000)
		retry_later(w, -1);
	else
		watch_start(w);
}

static void watch_start(struct kwatch *w)
{
	char q[512];
	/* Spread the reconnects of many clients: 5 to 10 minutes. */
	unsigned timeout = 300 + loop_random(w->k->l) % 301;

	snprintf(q, sizeof q, "%s?watch=true&resourceVersion=%s&allowWatchBookmarks=true"
		 "&timeoutSeconds=%u", w->path, w->rv, timeout);
	w->started_ms = loop_now_ms(w->k->l);
	w->progress = false;
	w->abort_why = KW_NONE;
	w->len = w->scanned = 0;
	w->req = kube_http_request(w->k->http, "GET", q, NULL, NULL, 0, (long)timeout + 60,
				   on_watch_data, on_watch_done, w);
	if (!w->req)
		retry_later(w, -1);
}

/* ---------- backend ---------- */

static int kube_collection(struct kube *k, enum kobj_kind kind, char *buf, size_t n)
{
	char ns[256];

	switch (kind) {
	case KOBJ_SERVICE:
		return snprintf(buf, n, "/api/v1/services");
	case KOBJ_ENDPOINTSLICE:
		return snprintf(buf, n, "/apis/discovery.k8s.io/v1/endpointslices");
	case KOBJ_NODE:
		return snprintf(buf, n, "/api/v1/nodes");
	case KOBJ_NAMESPACE:
		return snprintf(buf, n, "/api/v1/namespaces");
	case KOBJ_POD:
		return snprintf(buf, n, "/api/v1/pods");
	case KOBJ_LEASE: /* barelb's own Leases only */
		return snprintf(buf, n, "/apis/coordination.k8s.io/v1/namespaces/%s/leases",
				kube_http_escape(k->lease_ns, ns, sizeof ns));
	default:
		return -1;
	}
}

static void kube_free(void *impl)
{
	struct kube *k = impl;

	if (!k)
		return;
	kube_write_free(k);
	for (int i = 0; i < KOBJ_KIND_COUNT; i++) {
		struct kwatch *w = &k->w[i];
		kube_http_cancel(w->req);
		loop_timer_free(w->retry);
		seen_clear(w);
		free(w->seen);
		free(w->cont);
		free(w->buf);
	}
	kube_http_free(k->http);
	kubeconfig_clear(&k->cfg);
	free(k->lease_ns);
	free(k->instance);
	free(k);
}

void *source_kube_new(struct source *s)
{
	struct kube *k = xcalloc(1, sizeof *k);
	char err[512], ua[128], host[256] = "";

	k->s = s;
	k->l = s->l;
	k->rl_err = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	k->rl_decode = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	k->rl_write = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	if (kubeconfig_load(s->kubeconfig, &k->cfg, err, sizeof err) < 0) {
		log_error("kube: %s", err);
		free(k);
		return NULL;
	}
	k->lease_ns = xstrdup(s->lease_namespace && *s->lease_namespace ? s->lease_namespace
									 : "barelb-system");
	if (!s->node || !*s->node)
		gethostname(host, sizeof host - 1);
	if (asprintf(&k->instance, "%s-%s", s->component ? s->component : "barelb",
		     s->node && *s->node ? s->node : host) < 0) {
		log_error("out of memory");
		abort();
	}
	snprintf(ua, sizeof ua, "%s/barelb", s->component ? s->component : "barelb");
	k->http = kube_http_new(s->l, &k->cfg, ua);
	if (!k->http) {
		log_error("kube: cannot set up the HTTP client");
		kube_free(k);
		return NULL;
	}
	for (int i = 0; i < KOBJ_KIND_COUNT; i++) {
		struct kwatch *w = &k->w[i];
		w->k = k;
		w->kind = (enum kobj_kind)i;
		w->on = (s->kinds & (1u << i)) != 0;
		if (!w->on)
			continue;
		if (kube_collection(k, w->kind, w->path, sizeof w->path) < 0) {
			log_error("kube: cannot watch %s", kobj_kind_name(w->kind));
			kube_free(k);
			return NULL;
		}
		w->retry = loop_timer_new(s->l, on_retry, w);
		k->n_kinds++;
	}
	if (kube_write_init(k) < 0) {
		kube_free(k);
		return NULL;
	}
	log_info("kube: API server %s (from %s)%s", k->cfg.server, k->cfg.origin,
		 k->cfg.insecure ? ", TLS NOT verified" : "");
	return k;
}

static int kube_start(void *impl)
{
	struct kube *k = impl;

	if (k->started)
		return 0;
	k->started = true;
	for (int i = 0; i < KOBJ_KIND_COUNT; i++)
		if (k->w[i].on)
			list_start(&k->w[i]);
	if (k->n_kinds == 0) /* nothing to watch (a write-only user): synced at once */
		source_mark_synced(k->s);
	return 0;
}

const struct source_backend_ops source_kube_ops = {
	.name = "kube",
	.start = kube_start,
	.free = kube_free,
	.patch_service = kube_patch_service,
	.event = kube_event,
	.lease_renew = kube_lease_renew,
	.lease_release = kube_lease_release,
};
