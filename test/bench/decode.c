/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark of the object decoder on the kube backend's paths: the initial List of 10,000 Services
 * and 10,000 EndpointSlices (pages of 500 as the backend asks for them, each item decoded with
 * kobj_from_cjson into the cache), and 100,000 MODIFIED watch events cut into lines from 64 KiB
 * reads; beside a bare cJSON_Parse + cJSON_Delete of the same bytes in the same run. Peak RSS of
 * the cache is compared with holding the cJSON trees of the same objects. Built with -O2.
 * Output: "bench NAME: FIGURE UNIT (baseline FIGURE UNIT, ratio X)"; '#' lines explain. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "barelb/store.h"
#include "model_internal.h"
#include "source_internal.h"

#define N_OBJ 10000        /* of each kind */
#define N_EVENTS 100000    /* in all: half Services, half EndpointSlices */
#define PAGE 500           /* the kube backend's list limit */
#define CHUNK 65536        /* bytes per read of the watch stream */
#define BLOCK (4u << 20)   /* the watch stream is generated and timed in blocks of ~4 MiB */
#define REPS 3
#define N_NS 40

/* ---------- text generation ---------- */

struct gen {
	char *p;
	size_t len, cap;
};

static void gput(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gput(struct gen *g, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(g->p + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < g->cap - g->len) {
			g->len += (size_t)n;
			return;
		}
		g->cap = g->cap ? g->cap * 2 : 1 << 20;
		while (g->cap - g->len <= (size_t)n)
			g->cap *= 2;
		g->p = realloc(g->p, g->cap);
		if (!g->p)
			abort();
	}
}

static const char *const apps[] = { "web", "api", "cart", "checkout", "search", "auth",
				     "payments", "catalog", "inventory", "frontend", "gateway",
				     "metrics" };
static const char *const tiers[] = { "frontend", "backend", "cache", "db" };

static unsigned mix(unsigned x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static void uid(char *buf, unsigned seed)
{
	unsigned a = mix(seed), b = mix(a), c = mix(b), d = mix(c);
	snprintf(buf, 40, "%08x-%04x-%04x-%04x-%04x%08x", a, b & 0xffff, 0x4000 | (c & 0xfff),
		 0x8000 | (c >> 20), d & 0xffff, mix(d));
}

struct ident {
	char name[64], ns[32], app[32], uid[40];
	const char *tier;
	bool lb;
};

static void ident_of(unsigned i, struct ident *id)
{
	const char *app = apps[i % (sizeof apps / sizeof *apps)];
	snprintf(id->app, sizeof id->app, "%s-%u", app, i);
	snprintf(id->name, sizeof id->name, "%s-%u", app, i);
	snprintf(id->ns, sizeof id->ns, "team-%02u", i % N_NS);
	uid(id->uid, i * 2 + 1);
	id->tier = tiers[i % 4];
	id->lb = i % 3 == 0; /* a third are LoadBalancers, the rest ClusterIP */
}

/* A Service as the API server returns it. round > 0 changes a label (watch events). */
static void gen_service(struct gen *g, unsigned i, unsigned long rv, unsigned round, bool kind,
			bool mf)
{
	struct ident id;
	ident_of(i, &id);
	unsigned a = i / 250 % 250, b = i % 250 + 1;
	gput(g, "{%s\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"%s\","
		"\"resourceVersion\":\"%lu\",\"creationTimestamp\":\"2026-11-02T10:15:22Z\","
		"\"labels\":{\"app.kubernetes.io/name\":\"%s\",\"app.kubernetes.io/part-of\":\"shop\","
		"\"app.kubernetes.io/managed-by\":\"kubectl\",\"tier\":\"%s\",\"rollout\":\"%u\"},"
		"\"annotations\":{",
	     kind ? "\"kind\":\"Service\",\"apiVersion\":\"v1\"," : "", id.name, id.ns, id.uid, rv,
	     id.app, id.tier, round);
	if (i % 2 == 0)
		gput(g, "\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":"
			"\\\"v1\\\",\\\"kind\\\":\\\"Service\\\",\\\"metadata\\\":{\\\"annotations\\\":{},"
			"\\\"labels\\\":{\\\"app.kubernetes.io/name\\\":\\\"%s\\\",\\\"tier\\\":\\\"%s\\\"},"
			"\\\"name\\\":\\\"%s\\\",\\\"namespace\\\":\\\"%s\\\"},\\\"spec\\\":{\\\"ports\\\":"
			"[{\\\"name\\\":\\\"http\\\",\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\","
			"\\\"targetPort\\\":8080}],\\\"selector\\\":{\\\"app.kubernetes.io/name\\\":"
			"\\\"%s\\\"},\\\"type\\\":\\\"%s\\\"}}\\n\",",
		     id.app, id.tier, id.name, id.ns, id.app, id.lb ? "LoadBalancer" : "ClusterIP");
	gput(g, "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"9090\"%s}",
	     id.lb ? ",\"metallb.universe.tf/address-pool\":\"production\"" : "");
	if (mf) {
		gput(g, ",\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\","
			"\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-11-02T10:15:22Z\","
			"\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:annotations\":"
			"{\".\":{},\"f:kubectl.kubernetes.io/last-applied-configuration\":{},"
			"\"f:prometheus.io/port\":{},\"f:prometheus.io/scrape\":{}},\"f:labels\":{\".\":{},"
			"\"f:app.kubernetes.io/managed-by\":{},\"f:app.kubernetes.io/name\":{},"
			"\"f:app.kubernetes.io/part-of\":{},\"f:tier\":{}}},\"f:spec\":{"
			"\"f:externalTrafficPolicy\":{},\"f:internalTrafficPolicy\":{},\"f:ports\":{\".\":{},"
			"\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:name\":{},"
			"\"f:port\":{},\"f:protocol\":{},\"f:targetPort\":{}},"
			"\"k:{\\\"port\\\":443,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:name\":{},"
			"\"f:port\":{},\"f:protocol\":{},\"f:targetPort\":{}}},\"f:selector\":{},"
			"\"f:sessionAffinity\":{},\"f:type\":{}}}}");
		if (id.lb)
			gput(g, ",{\"manager\":\"barelb-controller\",\"operation\":\"Update\","
				"\"apiVersion\":\"v1\",\"time\":\"2026-11-02T10:15:23Z\",\"fieldsType\":"
				"\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:loadBalancer\":"
				"{\"f:ingress\":{}}}},\"subresource\":\"status\"}");
		gput(g, "]");
	}
	gput(g, "},\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80,"
		"\"targetPort\":8080%s},{\"name\":\"https\",\"protocol\":\"TCP\",\"port\":443,"
		"\"targetPort\":\"https\"%s}],\"selector\":{\"app.kubernetes.io/name\":\"%s\","
		"\"tier\":\"%s\"},\"clusterIP\":\"10.96.%u.%u\",\"clusterIPs\":[\"10.96.%u.%u\"],"
		"\"type\":\"%s\",\"sessionAffinity\":\"None\",%s\"ipFamilies\":[\"IPv4\"],"
		"\"ipFamilyPolicy\":\"SingleStack\",\"internalTrafficPolicy\":\"Cluster\"},",
	     id.lb ? ",\"nodePort\":31080" : "", id.lb ? ",\"nodePort\":31443" : "", id.app, id.tier,
	     a, b, a, b, id.lb ? "LoadBalancer" : "ClusterIP",
	     id.lb ? "\"externalTrafficPolicy\":\"Local\",\"allocateLoadBalancerNodePorts\":true,"
		     "\"healthCheckNodePort\":32000," : "");
	if (id.lb)
		gput(g, "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.168.%u.%u\","
			"\"ipMode\":\"VIP\"}]}}}", 100 + a % 100, b);
	else
		gput(g, "\"status\":{\"loadBalancer\":{}}}");
}

/* An EndpointSlice of the EndpointSlice controller: 3 endpoints. round > 0 flips one endpoint's
 * readiness and moves a trigger time (watch events). */
static void gen_slice(struct gen *g, unsigned i, unsigned long rv, unsigned round, bool kind,
		      bool mf)
{
	struct ident id;
	char suffix[8], puid[40];
	ident_of(i, &id);
	snprintf(suffix, sizeof suffix, "%05x", mix(i) & 0xfffff);
	gput(g, "{%s\"metadata\":{\"name\":\"%s-%s\",\"generateName\":\"%s-\",\"namespace\":"
		"\"%s\",\"uid\":\"%s\",\"resourceVersion\":\"%lu\",\"generation\":%u,"
		"\"creationTimestamp\":\"2026-11-02T10:15:22Z\",\"labels\":{"
		"\"app.kubernetes.io/name\":\"%s\",\"tier\":\"%s\",\"endpointslice.kubernetes.io/"
		"managed-by\":\"endpointslice-controller.k8s.io\",\"kubernetes.io/service-name\":"
		"\"%s\"},\"annotations\":{\"endpoints.kubernetes.io/last-change-trigger-time\":"
		"\"2026-11-02T10:%02u:%02uZ\"},\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":"
		"\"Service\",\"name\":\"%s\",\"uid\":\"%s\",\"controller\":true,"
		"\"blockOwnerDeletion\":true}]",
	     kind ? "\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\"," : "",
	     id.name, suffix, id.name, id.ns, id.uid, rv, round + 1, id.app, id.tier, id.name,
	     16 + round % 40, i % 60, id.name, id.uid);
	if (mf)
		gput(g, ",\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":"
			"\"Update\",\"apiVersion\":\"discovery.k8s.io/v1\",\"time\":"
			"\"2026-11-02T10:15:22Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
			"\"f:addressType\":{},\"f:endpoints\":{},\"f:metadata\":{\"f:annotations\":{\".\":{},"
			"\"f:endpoints.kubernetes.io/last-change-trigger-time\":{}},\"f:generateName\":{},"
			"\"f:labels\":{\".\":{},\"f:app.kubernetes.io/name\":{},"
			"\"f:endpointslice.kubernetes.io/managed-by\":{},"
			"\"f:kubernetes.io/service-name\":{},\"f:tier\":{}},\"f:ownerReferences\":{\".\":{},"
			"\"k:{\\\"uid\\\":\\\"%s\\\"}\":{}}},\"f:ports\":{}}}]",
		     id.uid);
	gput(g, "},\"addressType\":\"IPv4\",\"endpoints\":[");
	for (unsigned e = 0; e < 3; e++) {
		unsigned p = i * 3 + e;
		bool ready = !(round && e == round % 3 && round % 2);
		uid(puid, p * 7 + 5);
		gput(g, "%s{\"addresses\":[\"10.244.%u.%u\"],\"conditions\":{\"ready\":%s,"
			"\"serving\":%s,\"terminating\":false},\"nodeName\":\"node-%u\",\"targetRef\":"
			"{\"kind\":\"Pod\",\"namespace\":\"%s\",\"name\":\"%s-7c9f8d%04x-%05x\",\"uid\":"
			"\"%s\"},\"zone\":\"zone-%c\"}",
		     e ? "," : "", p / 250 % 250, p % 250 + 1, ready ? "true" : "false",
		     ready ? "true" : "false", mix(p) % 50, id.ns, id.name, mix(i) & 0xffff,
		     mix(p) & 0xfffff, puid, 'a' + (int)(p % 3));
	}
	gput(g, "],\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":8080},{\"name\":"
		"\"https\",\"protocol\":\"TCP\",\"port\":8443}]}");
}

static void gen_obj(struct gen *g, enum kobj_kind k, unsigned i, unsigned long rv,
		    unsigned round, bool kind, bool mf)
{
	if (k == KOBJ_SERVICE)
		gen_service(g, i, rv, round, kind, mf);
	else
		gen_slice(g, i, rv, round, kind, mf);
}

/* One page of a List response, as the API server sends it for ?limit=500. */
static void gen_page(struct gen *g, enum kobj_kind k, unsigned first, bool mf)
{
	unsigned n = N_OBJ - first < PAGE ? N_OBJ - first : PAGE;
	g->len = 0;
	gput(g, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
		"\"1000000\"",
	     k == KOBJ_SERVICE ? "ServiceList" : "EndpointSliceList",
	     k == KOBJ_SERVICE ? "v1" : "discovery.k8s.io/v1");
	if (first + n < N_OBJ)
		gput(g, ",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTAwMDAwMCwic3RhcnQiOiIl"
			"dSJ9%u\",\"remainingItemCount\":%u",
		     first + n, N_OBJ - first - n);
	gput(g, "},\"items\":[");
	for (unsigned i = first; i < first + n; i++) {
		if (i > first)
			gput(g, ",");
		gen_obj(g, k, i, 1000 + (unsigned long)i * 2 + (k == KOBJ_ENDPOINTSLICE), 0, false,
			mf);
	}
	gput(g, "]}\n");
}

/* ---------- timing ---------- */

/* CPU time of this process: the machine is shared, and time spent descheduled is not ours. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------- the kube backend's list path (on_list_done, list_complete) ---------- */

struct sync {
	struct source *s;
	enum kobj_kind kind;
	char **seen;
	size_t n_seen, cap_seen;
	unsigned long added, modified, errors, gone;
	char rv[64];
};

static void changed(void *arg, enum source_event ev, const struct kobj *old,
		    const struct kobj *now)
{
	struct sync *y = arg;
	(void)old;
	(void)now;
	if (ev == SOURCE_ADDED)
		y->added++;
	else if (ev == SOURCE_MODIFIED)
		y->modified++;
}

/* A source without a backend: the front (cache + change delivery) the backends feed. */
static struct source *bare_source(struct sync *y)
{
	struct source *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->store = store_new();
	s->kinds = (1u << KOBJ_KIND_COUNT) - 1;
	s->h.changed = changed;
	s->h.arg = y;
	return s;
}

static void bare_source_free(struct source *s)
{
	store_free(s->store);
	free(s);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void seen_add(struct sync *y, const char *ns, const char *name)
{
	char *key;
	if (y->n_seen == y->cap_seen) {
		y->cap_seen = y->cap_seen ? y->cap_seen * 2 : 256;
		y->seen = realloc(y->seen, y->cap_seen * sizeof *y->seen);
		if (!y->seen)
			abort();
	}
	if (asprintf(&key, "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "/" : "", name) < 0)
		abort();
	y->seen[y->n_seen++] = key;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One page: what on_list_done does with a 200 response, logging aside. */
static int list_page(struct sync *y, const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *items = root ? cJSON_GetObjectItemCaseSensitive(root, "items") : NULL;
	const cJSON *md = root ? cJSON_GetObjectItemCaseSensitive(root, "metadata") : NULL;
	const char *rv = md ? jstr(md, "resourceVersion") : NULL;
	const cJSON *item;
	if (!root || !cJSON_IsArray(items) || !rv || !*rv) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(item, items) {
		const cJSON *imd = cJSON_GetObjectItemCaseSensitive(item, "metadata");
		const char *ns = imd ? jstr(imd, "namespace") : NULL;
		const char *name = imd ? jstr(imd, "name") : NULL;
		struct kobj *o = NULL;
		char err[256];
		if (!name) {
			y->errors++;
			continue;
		}
		seen_add(y, ns, name);
		int rc = kobj_from_cjson(item, (int)y->kind, &o, err, sizeof err);
		if (rc == 0)
			source_apply(y->s, o);
		else if (rc < 0)
			y->errors++;
	}
	snprintf(y->rv, sizeof y->rv, "%s", rv);
	cJSON_Delete(root);
	return 0;
}

static void find_gone(const struct kobj *o, void *arg)
{
	struct sync *y = arg;
	char key[512], *kp = key;
	kobj_key(o, key, sizeof key);
	if (!y->n_seen || !bsearch(&kp, y->seen, y->n_seen, sizeof *y->seen, cmp_str))
		y->gone++;
}

/* list_complete: what the cache has and the list had not is gone. */
static void list_done(struct sync *y)
{
	if (y->n_seen)
		qsort(y->seen, y->n_seen, sizeof *y->seen, cmp_str);
	store_foreach(source_store(y->s), y->kind, find_gone, y);
	for (size_t i = 0; i < y->n_seen; i++)
		free(y->seen[i]);
	y->n_seen = 0;
}

/* ---------- the kube backend's watch path (on_watch_data, handle_line) ---------- */

struct wstream {
	struct sync *y;
	char *buf;
	size_t len, cap, scanned;
	char rv[64];
	unsigned long events;
};

static int watch_line(struct wstream *w, const char *line, size_t len)
{
	struct sync *y = w->y;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	cJSON *ev = cJSON_ParseWithLength(line, len);
	const cJSON *obj = ev ? cJSON_GetObjectItemCaseSensitive(ev, "object") : NULL;
	const char *type = ev ? jstr(ev, "type") : NULL;
	if (!ev || !type || !cJSON_IsObject(obj)) {
		cJSON_Delete(ev);
		return -1;
	}
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *rv = md ? jstr(md, "resourceVersion") : NULL;
	int ret = 0;
	if (strcmp(type, "ERROR") == 0 || !rv || !*rv || strlen(rv) >= sizeof w->rv) {
		cJSON_Delete(ev);
		return -1;
	}
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		struct kobj *o = NULL;
		char err[256];
		int rc = kobj_from_cjson(obj, (int)y->kind, &o, err, sizeof err);
		if (rc == 0)
			source_apply(y->s, o);
		else if (rc < 0)
			y->errors++;
	} else if (strcmp(type, "DELETED") == 0) {
		const char *name = jstr(md, "name");
		if (name)
			source_remove(y->s, y->kind, jstr(md, "namespace"), name);
	} else if (strcmp(type, "BOOKMARK") != 0) {
		ret = -1;
	}
	if (ret == 0) {
		snprintf(w->rv, sizeof w->rv, "%s", rv);
		w->events++;
	}
	cJSON_Delete(ev);
	return ret;
}

static int watch_data(struct wstream *w, const char *data, size_t len)
{
	size_t start = 0;
	char *nl;
	if (w->len + len + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 65536;
		while (cap < w->len + len + 1)
			cap *= 2;
		w->buf = realloc(w->buf, cap);
		if (!w->buf)
			abort();
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	while ((nl = memchr(w->buf + w->scanned, '\n', w->len - w->scanned))) {
		size_t end = (size_t)(nl - w->buf);
		if (watch_line(w, w->buf + start, end - start) < 0) {
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
	return 0;
}

/* ---------- the runs ---------- */

struct figures {
	double sync_ours, sync_base; /* CPU seconds for all 20k objects */
	double watch_ours, watch_base;
	size_t list_bytes, watch_bytes;
};

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

static int bare_parse(const char *p, size_t n)
{
	cJSON *root = cJSON_ParseWithLength(p, n);
	if (!root)
		return -1;
	cJSON_Delete(root);
	return 0;
}

/* The initial sync of both kinds into y[kind]'s source, page by page, each page timed through
 * the bare parse and through the list path in alternating order. */
static int run_sync(struct sync *ys, struct gen *g, bool mf, struct figures *f)
{
	double ours = 0, base = 0;
	size_t bytes = 0;
	int turn = 0;
	for (int k = 0; k < 2; k++) {
		struct sync *y = &ys[k];
		for (unsigned first = 0; first < N_OBJ; first += PAGE) {
			gen_page(g, y->kind, first, mf);
			bytes += g->len;
			for (int pass = 0; pass < 2; pass++) {
				double t0 = cpu_s();
				if ((pass + turn) % 2 == 0) {
					if (bare_parse(g->p, g->len) < 0)
						return -1;
					base += cpu_s() - t0;
				} else {
					if (list_page(y, g->p, g->len) < 0)
						return -1;
					ours += cpu_s() - t0;
				}
			}
			turn++;
		}
		double t0 = cpu_s();
		list_done(y);
		ours += cpu_s() - t0;
	}
	f->sync_ours = ours;
	f->sync_base = base;
	f->list_bytes = bytes;
	return 0;
}

/* 50,000 MODIFIED events of each kind (5 rounds over the 10,000 objects), in blocks; each
 * block goes through the bare parse of its lines and through the stream path in 64 KiB reads,
 * in alternating order. */
static int run_watch(struct sync *ys, struct gen *g, bool mf, struct figures *f)
{
	double ours = 0, base = 0;
	size_t bytes = 0, *offs = NULL, cap_offs = 0;
	int turn = 0;
	unsigned long rv = 2000000;
	for (int k = 0; k < 2; k++) {
		struct sync *y = &ys[k];
		struct wstream w = { .y = y };
		unsigned e = 0, per_kind = N_EVENTS / 2;
		while (e < per_kind) {
			size_t n_lines = 0;
			g->len = 0;
			while (e < per_kind && g->len < BLOCK) {
				if (n_lines == cap_offs) {
					cap_offs = cap_offs ? cap_offs * 2 : 4096;
					offs = realloc(offs, (cap_offs + 1) * sizeof *offs);
					if (!offs)
						abort();
				}
				offs[n_lines++] = g->len;
				gput(g, "{\"type\":\"MODIFIED\",\"object\":");
				gen_obj(g, y->kind, e % N_OBJ, rv++, e / N_OBJ + 1, true, mf);
				gput(g, "}\n");
				e++;
			}
			offs[n_lines] = g->len;
			bytes += g->len;
			for (int pass = 0; pass < 2; pass++) {
				double t0 = cpu_s();
				if ((pass + turn) % 2 == 0) {
					for (size_t i = 0; i < n_lines; i++)
						if (bare_parse(g->p + offs[i],
							       offs[i + 1] - offs[i] - 1) < 0)
							return -1;
					base += cpu_s() - t0;
				} else {
					for (size_t o = 0; o < g->len; o += CHUNK) {
						size_t n = g->len - o < CHUNK ? g->len - o : CHUNK;
						if (watch_data(&w, g->p + o, n) < 0)
							return -1;
					}
					ours += cpu_s() - t0;
				}
			}
			turn++;
		}
		free(w.buf);
		if (w.events != per_kind)
			return -1;
	}
	free(offs);
	f->watch_ours = ours;
	f->watch_base = base;
	f->watch_bytes = bytes;
	return 0;
}

static int run_once(bool mf, struct figures *f, size_t *cache_bytes)
{
	struct sync ys[2] = { { .kind = KOBJ_SERVICE }, { .kind = KOBJ_ENDPOINTSLICE } };
	struct gen g = { 0 };
	int rc = -1;
	for (int k = 0; k < 2; k++)
		ys[k].s = bare_source(&ys[k]);
	struct mallinfo2 m0 = mallinfo2();
	if (run_sync(ys, &g, mf, f) < 0)
		goto out;
	struct mallinfo2 m1 = mallinfo2();
	if (cache_bytes)
		*cache_bytes = (m1.uordblks + m1.hblkhd) - (m0.uordblks + m0.hblkhd) - g.cap;
	for (int k = 0; k < 2; k++)
		if (ys[k].added != N_OBJ || ys[k].errors || ys[k].gone ||
		    store_count(source_store(ys[k].s), ys[k].kind) != N_OBJ) {
			fprintf(stderr, "decode: initial sync of %s: %lu added, %lu errors\n",
				kobj_kind_name(ys[k].kind), ys[k].added, ys[k].errors);
			goto out;
		}
	if (run_watch(ys, &g, mf, f) < 0)
		goto out;
	for (int k = 0; k < 2; k++)
		if (ys[k].modified != N_EVENTS / 2 || ys[k].errors) {
			fprintf(stderr, "decode: watch of %s: %lu modified (want %d), %lu errors\n",
				kobj_kind_name(ys[k].kind), ys[k].modified, N_EVENTS / 2,
				ys[k].errors);
			goto out;
		}
	rc = 0;
out:
	for (int k = 0; k < 2; k++) {
		bare_source_free(ys[k].s);
		free(ys[k].seen);
	}
	free(g.p);
	return rc;
}

/* ---------- peak RSS, each case in a child of its own ---------- */

enum rss_case { RSS_FLOOR, RSS_OURS, RSS_TREES };

static long vm_hwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* FLOOR: the pages generated and parsed one at a time, nothing kept (the process, the text of
 * one page, its transient tree). OURS: the list path into the cache. TREES: every page's cJSON
 * tree kept, which is what a cache of cJSON trees would hold. */
static long rss_child(enum rss_case c, bool mf)
{
	struct sync ys[2] = { { .kind = KOBJ_SERVICE }, { .kind = KOBJ_ENDPOINTSLICE } };
	struct gen g = { 0 };
	cJSON **trees = calloc(2 * (N_OBJ / PAGE + 1), sizeof *trees);
	size_t n_trees = 0;
	for (int k = 0; k < 2; k++) {
		ys[k].s = bare_source(&ys[k]);
		for (unsigned first = 0; first < N_OBJ; first += PAGE) {
			gen_page(&g, ys[k].kind, first, mf);
			if (c == RSS_OURS) {
				if (list_page(&ys[k], g.p, g.len) < 0)
					return -1;
			} else {
				cJSON *t = cJSON_ParseWithLength(g.p, g.len);
				if (!t)
					return -1;
				if (c == RSS_TREES)
					trees[n_trees++] = t;
				else
					cJSON_Delete(t);
			}
		}
		if (c == RSS_OURS)
			list_done(&ys[k]);
	}
	long kib = vm_hwm_kib();
	/* nothing is freed: the child exits */
	return kib > 0 ? kib : -1;
}

static long rss_of(enum rss_case c, bool mf)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		long kib = rss_child(c, mf);
		if (write(fds[1], &kib, sizeof kib) != sizeof kib)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	long kib = -1;
	if (read(fds[0], &kib, sizeof kib) != sizeof kib)
		kib = -1;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? kib : -1;
}

/* ---------- main ---------- */

struct rss {
	long floor, ours, trees;
};

/* Measured first, while the parent's heap is small: a child inherits every page its parent
 * touched, and would reuse the parent's freed memory. */
static int measure_rss(bool mf, struct rss *r)
{
	r->floor = rss_of(RSS_FLOOR, mf);
	r->ours = rss_of(RSS_OURS, mf);
	r->trees = rss_of(RSS_TREES, mf);
	return r->floor < 0 || r->ours < 0 || r->trees < 0 ? -1 : 0;
}

static int bench(bool mf, const char *suffix, const struct rss *rs)
{
	struct figures best = { 1e9, 1e9, 1e9, 1e9, 0, 0 };
	size_t cache_bytes = 0;
	for (int r = 0; r < REPS; r++) {
		struct figures f;
		if (run_once(mf, &f, r == 0 ? &cache_bytes : NULL) < 0)
			return -1;
		best.sync_ours = min_d(best.sync_ours, f.sync_ours);
		best.sync_base = min_d(best.sync_base, f.sync_base);
		best.watch_ours = min_d(best.watch_ours, f.watch_ours);
		best.watch_base = min_d(best.watch_base, f.watch_base);
		best.list_bytes = f.list_bytes;
		best.watch_bytes = f.watch_bytes;
	}
	double n_sync = 2.0 * N_OBJ, n_watch = N_EVENTS;
	printf("# %s: list pages %.1f MB (%.0f bytes per object), watch stream %.1f MB; "
	       "CPU time, best of %d interleaved runs\n",
	       mf ? "with metadata.managedFields, as the API sends them"
		  : "without metadata.managedFields",
	       (double)best.list_bytes / 1e6, (double)best.list_bytes / n_sync,
	       (double)best.watch_bytes / 1e6, REPS);
	printf("# the list path costs %.2fx the bare parse, the watch path %.2fx (aim: at most "
	       "2x); the cache holds %.0f bytes per object\n",
	       best.sync_ours / best.sync_base, best.watch_ours / best.watch_base,
	       (double)cache_bytes / n_sync);
	printf("bench decode_initial_sync_20k%s: %.0f objects/s (baseline %.0f objects/s, ratio "
	       "%.2f)\n",
	       suffix, n_sync / best.sync_ours, n_sync / best.sync_base,
	       best.sync_base / best.sync_ours);
	printf("bench decode_watch_100k%s: %.0f objects/s (baseline %.0f objects/s, ratio %.2f)\n",
	       suffix, n_watch / best.watch_ours, n_watch / best.watch_base,
	       best.watch_base / best.watch_ours);
	long floor = rs->floor, ours = rs->ours, trees = rs->trees;
	printf("# peak RSS of a process that lists the 20k objects: into the cache, or keeping the "
	       "cJSON trees; %ld KiB of it is the floor (process, one page of text and its tree): "
	       "above it %ld KiB vs %ld KiB, ratio %.3f\n",
	       floor, ours - floor, trees - floor, (double)(ours - floor) / (double)(trees - floor));
	printf("bench decode_rss_20k%s: %ld KiB (baseline %ld KiB, ratio %.2f)\n", suffix, ours,
	       trees, (double)ours / (double)trees);
	fflush(stdout);
	return 0;
}

int main(void)
{
	printf("# objects/s: ratio = ours / bare parse (1 = free decoding, 0.5 = decoding costs "
	       "as much as the parse); RSS: ratio = ours / trees (lower is better)\n");
	struct rss rss_mf, rss_nomf;
	if (measure_rss(true, &rss_mf) < 0 || measure_rss(false, &rss_nomf) < 0 ||
	    bench(true, "", &rss_mf) < 0 || bench(false, "_nomf", &rss_nomf) < 0) {
		fprintf(stderr, "decode: benchmark failed\n");
		return 1;
	}
	return 0;
}
