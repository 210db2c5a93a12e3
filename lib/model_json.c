/* SPDX-License-Identifier: Apache-2.0 */
/* model_json: the object decoder (cJSON tree → struct kobj) and the JSON encoders (status merge
 * patches, Leases, Events). The only file of the model that knows cJSON, with model_yaml.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "barelb/model.h"
#include "model_internal.h"

/* ---- scratch memory ----
 * The decoder builds the object in scratch memory (a stack buffer that covers typical objects,
 * then malloc'd chunks), and the result is compacted by kobj_clone into one exact block. */

#define SCRATCH_FIRST 4096

struct schunk {
	struct schunk *next;
	size_t pad; /* keeps data 16-byte aligned */
	_Alignas(16) unsigned char data[];
};

struct scratch {
	unsigned char *cur;
	size_t used, cap;
	struct schunk *chunks;
	_Alignas(16) unsigned char first[SCRATCH_FIRST];
};

static void scratch_init(struct scratch *sc)
{
	sc->cur = sc->first;
	sc->used = 0;
	sc->cap = sizeof sc->first;
	sc->chunks = NULL;
}

static void scratch_fini(struct scratch *sc)
{
	while (sc->chunks) {
		struct schunk *n = sc->chunks->next;
		free(sc->chunks);
		sc->chunks = n;
	}
}

static void *salloc(struct scratch *sc, size_t n)
{
	size_t off = (sc->used + 7) & ~(size_t)7;
	if (n > SIZE_MAX / 4) {
		fprintf(stderr, "barelb: object too large\n");
		abort();
	}
	if (off > sc->cap || sc->cap - off < n) {
		size_t cap = sc->cap * 2 > n ? sc->cap * 2 : n;
		struct schunk *c = malloc(sizeof *c + cap);
		if (!c) {
			fprintf(stderr, "barelb: out of memory (%zu bytes)\n", cap);
			abort();
		}
		c->next = sc->chunks;
		sc->chunks = c;
		sc->cur = c->data;
		sc->cap = cap;
		off = 0;
	}
	sc->used = off + n;
	memset(sc->cur + off, 0, n);
	return sc->cur + off;
}

static void *sarray(struct scratch *sc, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / 4 / size) {
		fprintf(stderr, "barelb: object too large\n");
		abort();
	}
	return salloc(sc, n * size);
}

static char *sdup(struct scratch *sc, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = salloc(sc, n);
	memcpy(p, s, n);
	return p;
}

/* ---- decoder context: scratch memory and the path for error messages ---- */

struct dctx {
	struct scratch *sc;
	char *err;
	size_t errlen;
	struct kpath path;
	int depth; /* may exceed KPATH_MAX; only the first KPATH_MAX are recorded */
	struct kpath *where;
};

static void push_key(struct dctx *c, const char *key)
{
	if (c->depth < KPATH_MAX) {
		c->path.at[c->depth].key = key;
		c->path.at[c->depth].idx = 0;
	}
	c->depth++;
}

static void push_idx(struct dctx *c, int idx)
{
	if (c->depth < KPATH_MAX) {
		c->path.at[c->depth].key = NULL;
		c->path.at[c->depth].idx = idx;
	}
	c->depth++;
}

static void pop(struct dctx *c)
{
	c->depth--;
}

static const char *jtype(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "a list";
	if (cJSON_IsObject(v))
		return "an object";
	return "an invalid value";
}

static int fail(struct dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct dctx *c, const char *fmt, ...)
{
	char path[256];
	size_t o = 0;
	int n = c->depth < KPATH_MAX ? c->depth : KPATH_MAX;

	path[0] = '\0';
	for (int i = 0; i < n && o < sizeof path; i++) {
		const char *k = c->path.at[i].key;
		int w;
		if (!k)
			w = snprintf(path + o, sizeof path - o, "[%d]", c->path.at[i].idx);
		else if (strpbrk(k, "./") || !*k)
			/* label and annotation keys have dots of their own */
			w = snprintf(path + o, sizeof path - o, "[%s]", k);
		else
			w = snprintf(path + o, sizeof path - o, "%s%s", o ? "." : "", k);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s%s%s", path, path[0] ? ": " : "", msg);
	if (c->where) {
		*c->where = c->path;
		c->where->depth = n;
	}
	return -1;
}

/* Keys are tested against literals: the first byte rejects most of them without a call, which
 * matters since every field of every object goes through a chain of these. */
static inline bool is(const cJSON *it, const char *key)
{
	const char *s = it->string;
	return s && s[0] == key[0] && strcmp(s, key) == 0;
}

/* cJSON_GetObjectItemCaseSensitive, with the same first-byte test: the first child named key. */
static const cJSON *child(const cJSON *o, const char *key)
{
	for (const cJSON *it = o ? o->child : NULL; it; it = it->next)
		if (is(it, key))
			return it;
	return NULL;
}

/* Type check of a container: 0 ok, 1 null (absent), -1 error. */
static int want(struct dctx *c, const cJSON *v, int type)
{
	if (cJSON_IsNull(v))
		return 1;
	if ((v->type & 0xff) == type)
		return 0;
	return fail(c, "expected %s, got %s", type == cJSON_Object ? "an object" : "a list",
		    jtype(v));
}

/* Strings: null means unset; an empty string is kept unless empty_is_unset. */
static int get_str(struct dctx *c, const cJSON *v, char **out, bool empty_is_unset)
{
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return fail(c, "expected a string, got %s", jtype(v));
	*out = empty_is_unset && !*v->valuestring ? NULL : sdup(c->sc, v->valuestring);
	return 0;
}

static int get_int(struct dctx *c, const cJSON *v, int64_t min, int64_t max, int64_t *out)
{
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return fail(c, "expected a number, got %s", jtype(v));
	double d = v->valuedouble;
	if (!isfinite(d) || d != floor(d))
		return fail(c, "expected an integer, got %g", d);
	if (d < (double)min || d > (double)max)
		return fail(c, "%.0f is out of range (%lld-%lld)", d, (long long)min,
			    (long long)max);
	*out = (int64_t)d;
	return 0;
}

static int get_bool(struct dctx *c, const cJSON *v, bool *out, bool *set)
{
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return fail(c, "expected a boolean, got %s", jtype(v));
	*out = cJSON_IsTrue(v);
	*set = true;
	return 0;
}

static int get_addr(struct dctx *c, const cJSON *v, addr_t *out)
{
	if (!cJSON_IsString(v))
		return fail(c, "expected a string, got %s", jtype(v));
	if (addr_parse(v->valuestring, out) < 0)
		return fail(c, "\"%.64s\" is not an IP address", v->valuestring);
	return 0;
}

static int get_time(struct dctx *c, const cJSON *v, int64_t *us)
{
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return fail(c, "expected a string, got %s", jtype(v));
	if (kobj_parse_time(v->valuestring, us) < 0)
		return fail(c, "\"%.64s\" is not an RFC 3339 time", v->valuestring);
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

/* Sorted by key, so that lookups can bisect and equality is element-wise. Duplicate keys (only
 * possible in hand-written JSON) are collapsed into one. */
static size_t kv_sort(struct kv *kv, size_t n)
{
	if (n < 2)
		return n;
	if (n <= 32) {
		/* insertion sort: maps are small, and the API server sends their keys sorted
		 * already, which makes this one pass without a comparison call per swap */
		for (size_t i = 1; i < n; i++) {
			struct kv x = kv[i];
			size_t j = i;
			while (j && strcmp(kv[j - 1].key, x.key) > 0) {
				kv[j] = kv[j - 1];
				j--;
			}
			kv[j] = x;
		}
	} else {
		qsort(kv, n, sizeof *kv, kv_cmp);
	}
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(kv[w - 1].key, kv[i].key) == 0)
			kv[w - 1] = kv[i];
		else
			kv[w++] = kv[i];
	}
	return w;
}

static int get_map(struct dctx *c, const cJSON *v, struct kv **out, size_t *n_out)
{
	int r = want(c, v, cJSON_Object);
	if (r)
		return r > 0 ? 0 : -1;
	size_t n = (size_t)cJSON_GetArraySize(v);
	if (!n)
		return 0;
	struct kv *kv = sarray(c->sc, n, sizeof *kv);
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		push_key(c, it->string ? it->string : "");
		if (!cJSON_IsString(it))
			return fail(c, "expected a string, got %s", jtype(it));
		pop(c);
		kv[i].key = sdup(c->sc, it->string ? it->string : "");
		kv[i].value = sdup(c->sc, it->valuestring);
		i++;
	}
	*out = kv;
	*n_out = kv_sort(kv, i);
	return 0;
}

static int get_proto(struct dctx *c, const cJSON *v, enum kproto *out)
{
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return fail(c, "expected a string, got %s", jtype(v));
	const char *s = v->valuestring;
	if (strcmp(s, "TCP") == 0)
		*out = KPROTO_TCP;
	else if (strcmp(s, "UDP") == 0)
		*out = KPROTO_UDP;
	else if (strcmp(s, "SCTP") == 0)
		*out = KPROTO_SCTP;
	else
		return fail(c, "unknown protocol \"%.32s\" (TCP, UDP or SCTP)", s);
	return 0;
}

/* Calls fn for each element of an array field with the index pushed on the path. */
#define FOR_ITEMS(c, arr, i, it)                                            \
	for (const cJSON *it = (arr)->child; it; it = it->next)            \
		for (int once_ = (push_idx((c), (i)), 1); once_; once_ = 0, pop(c), (i)++)

/* ---- metadata ---- */

static int decode_meta(struct dctx *c, const cJSON *v, struct kmeta *m, bool namespaced)
{
	int r = 0;
	if (v) {
		push_key(c, "metadata");
		r = want(c, v, cJSON_Object);
		if (r < 0)
			return -1;
		const cJSON *it;
		if (r == 0) {
			cJSON_ArrayForEach(it, v) {
				push_key(c, it->string);
				if (is(it, "name"))
					r = get_str(c, it, &m->name, false);
				else if (is(it, "namespace"))
					r = get_str(c, it, &m->namespace, true);
				else if (is(it, "uid"))
					r = get_str(c, it, &m->uid, true);
				else if (is(it, "resourceVersion"))
					r = get_str(c, it, &m->resource_version, true);
				else if (is(it, "labels"))
					r = get_map(c, it, &m->labels, &m->n_labels);
				else if (is(it, "annotations"))
					r = get_map(c, it, &m->annotations, &m->n_annotations);
				else if (is(it, "deletionTimestamp")) {
					int64_t us = 0;
					r = get_time(c, it, &us);
					m->deleting = !cJSON_IsNull(it);
				}
				if (r < 0)
					return -1;
				pop(c);
			}
		}
		pop(c);
	}
	if (!m->name || !*m->name) {
		push_key(c, "metadata");
		push_key(c, "name");
		return fail(c, "missing");
	}
	if (!namespaced)
		m->namespace = NULL;
	else if (!m->namespace)
		/* a manifest without a namespace goes to "default", as with kubectl apply */
		m->namespace = sdup(c->sc, "default");
	return 0;
}

/* ---- Service ---- */

static int decode_svc_port(struct dctx *c, const cJSON *v, struct svc_port *p)
{
	int r = want(c, v, cJSON_Object);
	if (r)
		return r < 0 ? -1 : fail(c, "expected an object, got null");
	bool have_port = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		int64_t n = -1;
		push_key(c, it->string);
		if (is(it, "name"))
			r = get_str(c, it, &p->name, true);
		else if (is(it, "protocol"))
			r = get_proto(c, it, &p->protocol);
		else if (is(it, "port")) {
			r = get_int(c, it, 1, 65535, &n);
			if (n >= 0) {
				p->port = (uint16_t)n;
				have_port = true;
			}
		} else if (is(it, "nodePort")) {
			r = get_int(c, it, 0, 65535, &n);
			if (n >= 0)
				p->node_port = (uint16_t)n;
		} else if (is(it, "targetPort")) {
			/* IntOrString: kept as written */
			if (cJSON_IsString(it)) {
				p->target_port = sdup(c->sc, it->valuestring);
			} else if (!cJSON_IsNull(it)) {
				r = get_int(c, it, 1, 65535, &n);
				if (r == 0 && n >= 0) {
					char buf[16];
					snprintf(buf, sizeof buf, "%d", (int)n);
					p->target_port = sdup(c->sc, buf);
				}
			}
		}
		if (r < 0)
			return -1;
		pop(c);
	}
	if (!have_port) {
		push_key(c, "port");
		return fail(c, "missing");
	}
	return 0;
}

/* An array of IP strings; "None" (headless) and "" are skipped when skip_none. */
static int decode_ip_list(struct dctx *c, const cJSON *v, addr_t **out, size_t *n_out,
			  bool skip_none, size_t max)
{
	int r = want(c, v, cJSON_Array);
	if (r)
		return r > 0 ? 0 : -1;
	size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
	if (max && n > max)
		return fail(c, "at most %zu entries, got %zu", max, n);
	addr_t *a = n ? sarray(c->sc, n, sizeof *a) : NULL;
	int i = 0;
	FOR_ITEMS(c, v, i, it) {
		if (skip_none && cJSON_IsString(it) &&
		    (strcmp(it->valuestring, "None") == 0 || !*it->valuestring))
			continue;
		if (get_addr(c, it, &a[k]) < 0)
			return -1;
		k++;
	}
	*out = a;
	*n_out = k;
	return 0;
}

static int decode_families(struct dctx *c, const cJSON *v, struct service *s)
{
	int r = want(c, v, cJSON_Array);
	if (r)
		return r > 0 ? 0 : -1;
	if (cJSON_GetArraySize(v) > 2)
		return fail(c, "at most 2 entries, got %d", cJSON_GetArraySize(v));
	/* A repeated key (YAML allows it, JSON parsers differ) is decoded again: the last one
	 * wins, never both (found by fuzz_manifest: two ipFamilies overflowed families[2]). */
	s->n_families = 0;
	int i = 0;
	FOR_ITEMS(c, v, i, it) {
		if (!cJSON_IsString(it))
			return fail(c, "expected a string, got %s", jtype(it));
		if (strcmp(it->valuestring, "IPv4") == 0)
			s->families[s->n_families++] = AF_INET;
		else if (strcmp(it->valuestring, "IPv6") == 0)
			s->families[s->n_families++] = AF_INET6;
		else
			return fail(c, "unknown IP family \"%.32s\" (IPv4 or IPv6)",
				    it->valuestring);
	}
	return 0;
}

static int decode_enum(struct dctx *c, const cJSON *v, const char *const *names, int n,
		       int *out)
{
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return fail(c, "expected a string, got %s", jtype(v));
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(v->valuestring, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return fail(c, "unknown value \"%.32s\"", v->valuestring);
}

static int decode_svc_spec(struct dctx *c, const cJSON *v, struct service *s)
{
	static const char *const types[] = { "ClusterIP", "NodePort", "LoadBalancer",
					     "ExternalName" };
	/* "Global" is the legacy spelling of Cluster (Kubernetes before 1.12). */
	static const char *const etps[] = { "Cluster", "Local", "Global" };
	static const char *const ipfps[] = { NULL, "SingleStack", "PreferDualStack",
					     "RequireDualStack" };
	addr_t *cip1 = NULL;
	size_t n_cip1 = 0;
	bool have_cips = false;
	const cJSON *it;
	int r, e;

	cJSON_ArrayForEach(it, v) {
		r = 0;
		push_key(c, it->string);
		if (is(it, "type")) {
			e = (int)s->type;
			r = decode_enum(c, it, types, 4, &e);
			s->type = (enum svc_type)e;
		} else if (is(it, "ports")) {
			r = want(c, it, cJSON_Array);
			if (r == 0) {
				s->n_ports = (size_t)cJSON_GetArraySize(it);
				s->ports = sarray(c->sc, s->n_ports, sizeof *s->ports);
				int i = 0;
				FOR_ITEMS(c, it, i, p) {
					if (decode_svc_port(c, p, &s->ports[i]) < 0)
						return -1;
				}
			}
		} else if (is(it, "selector")) {
			r = get_map(c, it, &s->selector, &s->n_selector);
		} else if (is(it, "externalTrafficPolicy")) {
			e = (int)s->etp;
			r = decode_enum(c, it, etps, 3, &e);
			s->etp = e == SVC_ETP_LOCAL ? SVC_ETP_LOCAL : SVC_ETP_CLUSTER;
		} else if (is(it, "loadBalancerClass")) {
			r = get_str(c, it, &s->lb_class, true);
		} else if (is(it, "loadBalancerIP")) {
			r = get_str(c, it, &s->lb_ip, true);
		} else if (is(it, "clusterIPs")) {
			r = decode_ip_list(c, it, &s->cluster_ips, &s->n_cluster_ips, true, 2);
			have_cips = !cJSON_IsNull(it);
		} else if (is(it, "clusterIP")) {
			if (cJSON_IsString(it) && strcmp(it->valuestring, "None") != 0 &&
			    *it->valuestring) {
				cip1 = salloc(c->sc, sizeof *cip1);
				n_cip1 = 1;
				r = get_addr(c, it, cip1);
			} else if (!cJSON_IsString(it) && !cJSON_IsNull(it)) {
				r = fail(c, "expected a string, got %s", jtype(it));
			}
		} else if (is(it, "ipFamilies")) {
			r = decode_families(c, it, s);
		} else if (is(it, "ipFamilyPolicy")) {
			e = (int)s->ipfp;
			r = decode_enum(c, it, ipfps, 4, &e);
			s->ipfp = (enum svc_ipfp)e;
		}
		if (r < 0)
			return -1;
		pop(c);
	}
	/* clusterIPs is authoritative when given; clusterIP is its first entry otherwise. */
	if (!have_cips) {
		s->cluster_ips = cip1;
		s->n_cluster_ips = n_cip1;
	}
	return 0;
}

static int decode_ingress(struct dctx *c, const cJSON *v, struct service *s)
{
	int r = want(c, v, cJSON_Array);
	if (r) {
		s->ingress = NULL;
		s->n_ingress = 0;
		return r > 0 ? 0 : -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(v), k = 0;
	addr_t *a = n ? sarray(c->sc, n, sizeof *a) : NULL;
	int i = 0;
	FOR_ITEMS(c, v, i, e) {
		if (want(c, e, cJSON_Object))
			return fail(c, "expected an object, got %s", jtype(e));
		const cJSON *ip = child(e, "ip");
		/* entries with only a hostname carry no address for barelb */
		if (!ip || cJSON_IsNull(ip) || (cJSON_IsString(ip) && !*ip->valuestring))
			continue;
		push_key(c, "ip");
		if (get_addr(c, ip, &a[k]) < 0)
			return -1;
		pop(c);
		k++;
	}
	s->ingress = a;
	s->n_ingress = k;
	return 0;
}

/* status (of a Service, or of a Service merge patch): loadBalancer.ingress */
static int decode_svc_status(struct dctx *c, const cJSON *v, struct service *s)
{
	int r = want(c, v, cJSON_Object);
	if (r) {
		s->ingress = NULL;
		s->n_ingress = 0;
		return r > 0 ? 0 : -1;
	}
	const cJSON *lb = child(v, "loadBalancer");
	if (!lb)
		return 0;
	push_key(c, "loadBalancer");
	r = want(c, lb, cJSON_Object);
	if (r < 0)
		return -1;
	if (r > 0) {
		s->ingress = NULL;
		s->n_ingress = 0;
	} else {
		const cJSON *ing = child(lb, "ingress");
		if (ing) {
			push_key(c, "ingress");
			if (decode_ingress(c, ing, s) < 0)
				return -1;
			pop(c);
		}
	}
	pop(c);
	return 0;
}

/* ---- EndpointSlice ---- */

static int decode_endpoint(struct dctx *c, const cJSON *v, int af, struct endpoint *e)
{
	int r = want(c, v, cJSON_Object);
	if (r)
		return r < 0 ? -1 : fail(c, "expected an object, got null");
	bool ready = true, serving = false, terminating = false;
	bool ready_set = false, serving_set = false, term_set = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		r = 0;
		push_key(c, it->string);
		if (is(it, "addresses")) {
			r = want(c, it, cJSON_Array);
			if (r == 0) {
				size_t n = (size_t)cJSON_GetArraySize(it);
				e->addrs = n ? sarray(c->sc, n, sizeof *e->addrs) : NULL;
				e->n_addrs = 0;
				int i = 0;
				FOR_ITEMS(c, it, i, a) {
					if (!cJSON_IsString(a))
						return fail(c, "expected a string, got %s", jtype(a));
					if (af == 0) /* FQDN slices: names, not addresses */
						continue;
					addr_t *x = &e->addrs[e->n_addrs];
					if (get_addr(c, a, x) < 0)
						return -1;
					if (x->family != af)
						return fail(c, "\"%.64s\" is not an %s address",
							    a->valuestring,
							    af == AF_INET ? "IPv4" : "IPv6");
					e->n_addrs++;
				}
			}
		} else if (is(it, "nodeName")) {
			r = get_str(c, it, &e->node_name, true);
		} else if (is(it, "conditions")) {
			r = want(c, it, cJSON_Object);
			const cJSON *k;
			if (r == 0) {
				cJSON_ArrayForEach(k, it) {
					push_key(c, k->string);
					if (is(k, "ready"))
						r = get_bool(c, k, &ready, &ready_set);
					else if (is(k, "serving"))
						r = get_bool(c, k, &serving, &serving_set);
					else if (is(k, "terminating"))
						r = get_bool(c, k, &terminating, &term_set);
					if (r < 0)
						return -1;
					pop(c);
				}
			}
		}
		if (r < 0)
			return -1;
		pop(c);
	}
	/* The API's defaults: absent ready is ready; absent serving follows ready; absent
	 * terminating is not terminating. */
	e->ready = ready_set ? ready : true;
	e->serving = serving_set ? serving : e->ready;
	e->terminating = term_set ? terminating : false;
	return 0;
}

static int decode_eps(struct dctx *c, const cJSON *root, struct kobj *o)
{
	struct endpointslice *s = &o->u.eps;
	const cJSON *at = child(root, "addressType");
	push_key(c, "addressType");
	if (!at || cJSON_IsNull(at))
		return fail(c, "missing");
	if (!cJSON_IsString(at))
		return fail(c, "expected a string, got %s", jtype(at));
	if (strcmp(at->valuestring, "IPv4") == 0)
		s->address_type = AF_INET;
	else if (strcmp(at->valuestring, "IPv6") == 0)
		s->address_type = AF_INET6;
	else if (strcmp(at->valuestring, "FQDN") == 0)
		s->address_type = 0;
	else
		return fail(c, "unknown address type \"%.32s\" (IPv4, IPv6 or FQDN)",
			    at->valuestring);
	pop(c);
	const cJSON *eps = child(root, "endpoints");
	if (eps) {
		push_key(c, "endpoints");
		int r = want(c, eps, cJSON_Array);
		if (r < 0)
			return -1;
		if (r == 0) {
			s->n_endpoints = (size_t)cJSON_GetArraySize(eps);
			s->endpoints = sarray(c->sc, s->n_endpoints, sizeof *s->endpoints);
			int i = 0;
			FOR_ITEMS(c, eps, i, e) {
				if (decode_endpoint(c, e, s->address_type, &s->endpoints[i]) < 0)
					return -1;
			}
		}
		pop(c);
	}
	const char *svc = kmodel_kv_get(o->meta.labels, o->meta.n_labels,
					"kubernetes.io/service-name");
	s->service_name = svc ? sdup(c->sc, svc) : NULL;
	return 0;
}

/* ---- Node ---- */

struct cond {
	char *type, *status;
	int64_t since_us;
};

static int decode_cond(struct dctx *c, const cJSON *v, struct cond *k)
{
	int r = want(c, v, cJSON_Object);
	if (r)
		return r < 0 ? -1 : fail(c, "expected an object, got null");
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		r = 0;
		push_key(c, it->string);
		if (is(it, "type"))
			r = get_str(c, it, &k->type, true);
		else if (is(it, "status"))
			r = get_str(c, it, &k->status, true);
		else if (is(it, "lastTransitionTime"))
			r = get_time(c, it, &k->since_us);
		if (r < 0)
			return -1;
		pop(c);
	}
	return 0;
}

static int decode_node_status(struct dctx *c, const cJSON *v, struct node *n)
{
	int r = want(c, v, cJSON_Object);
	if (r)
		return r > 0 ? 0 : -1;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		push_key(c, it->string);
		if (is(it, "conditions")) {
			r = want(c, it, cJSON_Array);
			if (r < 0)
				return -1;
			int i = 0;
			FOR_ITEMS(c, it, i, e) {
				struct cond k = { 0 };
				if (decode_cond(c, e, &k) < 0)
					return -1;
				if (!k.type || !k.status)
					continue;
				if (strcmp(k.type, "Ready") == 0) {
					n->ready = strcmp(k.status, "True") == 0    ? KCOND_TRUE
						   : strcmp(k.status, "False") == 0 ? KCOND_FALSE
										    : KCOND_UNKNOWN;
					n->ready_since_ms = k.since_us / 1000;
				} else if (strcmp(k.type, "NetworkUnavailable") == 0) {
					n->network_unavailable = strcmp(k.status, "True") == 0;
				}
			}
		} else if (is(it, "addresses")) {
			r = want(c, it, cJSON_Array);
			if (r < 0)
				return -1;
			size_t cap = r ? 0 : (size_t)cJSON_GetArraySize(it);
			n->addrs = cap ? sarray(c->sc, cap, sizeof *n->addrs) : NULL;
			n->n_addrs = 0;
			int i = 0;
			FOR_ITEMS(c, it, i, e) {
				if (want(c, e, cJSON_Object))
					return fail(c, "expected an object, got %s", jtype(e));
				const cJSON *t = child(e, "type");
				const cJSON *a = child(e, "address");
				if (t && !cJSON_IsString(t)) {
					push_key(c, "type");
					return fail(c, "expected a string, got %s", jtype(t));
				}
				if (!t || (strcmp(t->valuestring, "InternalIP") != 0 &&
					   strcmp(t->valuestring, "ExternalIP") != 0))
					continue;
				push_key(c, "address");
				if (!a)
					return fail(c, "missing");
				if (get_addr(c, a, &n->addrs[n->n_addrs]) < 0)
					return -1;
				pop(c);
				n->n_addrs++;
			}
		}
		pop(c);
	}
	return 0;
}

/* ---- Lease ---- */

static int decode_lease_spec(struct dctx *c, const cJSON *v, struct lease *l)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		int r = 0;
		int64_t n = -1;
		push_key(c, it->string);
		if (is(it, "holderIdentity"))
			r = get_str(c, it, &l->holder, true);
		else if (is(it, "acquireTime"))
			r = get_time(c, it, &l->acquire_us);
		else if (is(it, "renewTime"))
			r = get_time(c, it, &l->renew_us);
		else if (is(it, "leaseDurationSeconds")) {
			r = get_int(c, it, 0, INT32_MAX, &n);
			if (n >= 0)
				l->duration_s = (uint32_t)n;
		} else if (is(it, "leaseTransitions")) {
			r = get_int(c, it, 0, INT32_MAX, &n);
			if (n >= 0)
				l->transitions = (uint32_t)n;
		}
		if (r < 0)
			return -1;
		pop(c);
	}
	return 0;
}

/* ---- Pod ---- */

static int decode_container_ports(struct dctx *c, const cJSON *v, struct pod_port *out,
				  size_t *n)
{
	int i = 0;
	FOR_ITEMS(c, v, i, p) {
		struct pod_port *pp = &out[(*n)];
		int r = want(c, p, cJSON_Object);
		if (r)
			return r < 0 ? -1 : fail(c, "expected an object, got null");
		bool have = false;
		const cJSON *it;
		cJSON_ArrayForEach(it, p) {
			int64_t x = -1;
			push_key(c, it->string);
			if (is(it, "name"))
				r = get_str(c, it, &pp->name, true);
			else if (is(it, "protocol"))
				r = get_proto(c, it, &pp->protocol);
			else if (is(it, "containerPort")) {
				r = get_int(c, it, 1, 65535, &x);
				if (x >= 0) {
					pp->port = (uint16_t)x;
					have = true;
				}
			}
			if (r < 0)
				return -1;
			pop(c);
		}
		if (!have) {
			push_key(c, "containerPort");
			return fail(c, "missing");
		}
		(*n)++;
	}
	return 0;
}

static int decode_pod_spec(struct dctx *c, const cJSON *v, struct pod *p)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		int r = 0;
		push_key(c, it->string);
		if (is(it, "nodeName")) {
			r = get_str(c, it, &p->node_name, true);
		} else if (is(it, "containers")) {
			r = want(c, it, cJSON_Array);
			if (r < 0)
				return -1;
			/* first pass: how many ports in all containers */
			size_t total = 0;
			const cJSON *k;
			cJSON_ArrayForEach(k, it) {
				const cJSON *ports = child(k, "ports");
				if (cJSON_IsArray(ports))
					total += (size_t)cJSON_GetArraySize(ports);
			}
			p->ports = total ? sarray(c->sc, total, sizeof *p->ports) : NULL;
			p->n_ports = 0;
			int i = 0;
			FOR_ITEMS(c, it, i, ct) {
				if (want(c, ct, cJSON_Object))
					return fail(c, "expected an object, got %s", jtype(ct));
				const cJSON *ports = child(ct, "ports");
				if (!ports)
					continue;
				push_key(c, "ports");
				r = want(c, ports, cJSON_Array);
				if (r < 0)
					return -1;
				if (r == 0 && decode_container_ports(c, ports, p->ports, &p->n_ports) < 0)
					return -1;
				pop(c);
			}
			r = 0;
		}
		if (r < 0)
			return -1;
		pop(c);
	}
	return 0;
}

static int decode_pod_status(struct dctx *c, const cJSON *v, struct pod *p)
{
	addr_t *ip1 = NULL;
	bool have_ips = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		int r = 0;
		push_key(c, it->string);
		if (is(it, "podIP")) {
			if (cJSON_IsString(it) && *it->valuestring) {
				ip1 = salloc(c->sc, sizeof *ip1);
				r = get_addr(c, it, ip1);
			} else if (!cJSON_IsNull(it) && !cJSON_IsString(it)) {
				r = fail(c, "expected a string, got %s", jtype(it));
			}
		} else if (is(it, "podIPs")) {
			r = want(c, it, cJSON_Array);
			if (r == 0) {
				size_t n = (size_t)cJSON_GetArraySize(it);
				p->ips = n ? sarray(c->sc, n, sizeof *p->ips) : NULL;
				p->n_ips = 0;
				have_ips = true;
				int i = 0;
				FOR_ITEMS(c, it, i, e) {
					if (want(c, e, cJSON_Object))
						return fail(c, "expected an object, got %s", jtype(e));
					const cJSON *ip = child(e, "ip");
					if (!ip)
						continue;
					push_key(c, "ip");
					if (get_addr(c, ip, &p->ips[p->n_ips]) < 0)
						return -1;
					pop(c);
					p->n_ips++;
				}
			}
		} else if (is(it, "phase")) {
			char *phase = NULL;
			r = get_str(c, it, &phase, true);
			p->finished = phase && (strcmp(phase, "Succeeded") == 0 ||
						strcmp(phase, "Failed") == 0);
		} else if (is(it, "conditions")) {
			r = want(c, it, cJSON_Array);
			if (r == 0) {
				int i = 0;
				FOR_ITEMS(c, it, i, e) {
					struct cond k = { 0 };
					if (decode_cond(c, e, &k) < 0)
						return -1;
					if (k.type && strcmp(k.type, "Ready") == 0)
						p->ready = k.status && strcmp(k.status, "True") == 0;
				}
			}
		}
		if (r < 0)
			return -1;
		pop(c);
	}
	if (!have_ips && ip1) {
		p->ips = ip1;
		p->n_ips = 1;
	}
	return 0;
}

/* ---- the object ---- */

/* The API group each kind must come from: a Knative "Service" (serving.knative.dev) or any other
 * CRD that reuses a kind name is not ours. */
static bool group_ok(enum kobj_kind k, const char *api_version)
{
	const char *slash = strchr(api_version, '/');
	size_t glen = slash ? (size_t)(slash - api_version) : 0;
	const char *want_group = "";
	switch (k) {
	case KOBJ_ENDPOINTSLICE:
		want_group = "discovery.k8s.io";
		break;
	case KOBJ_LEASE:
		want_group = "coordination.k8s.io";
		break;
	default:
		break;
	}
	return strlen(want_group) == glen && strncmp(api_version, want_group, glen) == 0;
}

/* Calls fn on the object-valued child `key` of root with the path set. */
static int with_obj(struct dctx *c, const cJSON *root, const char *key,
		    int (*fn)(struct dctx *, const cJSON *, void *), void *arg)
{
	const cJSON *v = child(root, key);
	if (!v)
		return 0;
	push_key(c, key);
	int r = want(c, v, cJSON_Object);
	if (r == 0)
		r = fn(c, v, arg);
	if (r < 0)
		return -1;
	pop(c);
	return 0;
}

static int fn_svc_spec(struct dctx *c, const cJSON *v, void *a)
{
	return decode_svc_spec(c, v, a);
}
static int fn_svc_status(struct dctx *c, const cJSON *v, void *a)
{
	return decode_svc_status(c, v, a);
}
static int fn_node_status(struct dctx *c, const cJSON *v, void *a)
{
	return decode_node_status(c, v, a);
}
static int fn_lease_spec(struct dctx *c, const cJSON *v, void *a)
{
	return decode_lease_spec(c, v, a);
}
static int fn_pod_spec(struct dctx *c, const cJSON *v, void *a)
{
	return decode_pod_spec(c, v, a);
}
static int fn_pod_status(struct dctx *c, const cJSON *v, void *a)
{
	return decode_pod_status(c, v, a);
}

static int decode_obj(struct dctx *c, const cJSON *root, int hint, struct kobj **out)
{
	if (!cJSON_IsObject(root))
		return fail(c, "expected an object, got %s", jtype(root));
	const cJSON *kind = child(root, "kind");
	const cJSON *apiv = child(root, "apiVersion");
	int k;
	if (kind && !cJSON_IsNull(kind)) {
		push_key(c, "kind");
		if (!cJSON_IsString(kind))
			return fail(c, "expected a string, got %s", jtype(kind));
		pop(c);
		k = kmodel_kind_exact(kind->valuestring);
		if (k < 0)
			return 1;
	} else {
		if (hint < 0 || hint >= KOBJ_KIND_COUNT) {
			push_key(c, "kind");
			return fail(c, "missing");
		}
		k = hint;
	}
	if (apiv && !cJSON_IsNull(apiv)) {
		push_key(c, "apiVersion");
		if (!cJSON_IsString(apiv))
			return fail(c, "expected a string, got %s", jtype(apiv));
		pop(c);
		if (!group_ok((enum kobj_kind)k, apiv->valuestring))
			return 1;
	}
	struct kobj *o = salloc(c->sc, sizeof *o);
	o->kind = (enum kobj_kind)k;
	bool namespaced = k != KOBJ_NODE && k != KOBJ_NAMESPACE;
	if (decode_meta(c, child(root, "metadata"), &o->meta, namespaced) < 0)
		return -1;
	int r = 0;
	switch (o->kind) {
	case KOBJ_SERVICE:
		r = with_obj(c, root, "spec", fn_svc_spec, &o->u.svc);
		if (r == 0)
			r = with_obj(c, root, "status", fn_svc_status, &o->u.svc);
		break;
	case KOBJ_ENDPOINTSLICE:
		r = decode_eps(c, root, o);
		break;
	case KOBJ_NODE:
		r = with_obj(c, root, "status", fn_node_status, &o->u.node);
		break;
	case KOBJ_LEASE:
		r = with_obj(c, root, "spec", fn_lease_spec, &o->u.lease);
		break;
	case KOBJ_POD:
		/* ready unless a Ready condition says otherwise: hand-written manifests of the
		 * dir: source give a podIP and no conditions */
		o->u.pod.ready = true;
		r = with_obj(c, root, "spec", fn_pod_spec, &o->u.pod);
		if (r == 0)
			r = with_obj(c, root, "status", fn_pod_status, &o->u.pod);
		o->u.pod.terminating = o->meta.deleting;
		break;
	case KOBJ_NAMESPACE:
	case KOBJ_KIND_COUNT:
		break;
	}
	if (r < 0)
		return -1;
	*out = kobj_clone(o);
	return 0;
}

int kobj_from_cjson_at(const cJSON *obj, int hint, struct kobj **out, char *err, size_t errlen,
		       struct kpath *where)
{
	/* On the stack: most objects decode without a single malloc before the final block. */
	struct scratch sc;
	scratch_init(&sc);
	struct dctx c = { .sc = &sc, .err = err, .errlen = errlen, .where = where };
	*out = NULL;
	if (where)
		where->depth = 0;
	if (err && errlen)
		err[0] = '\0';
	int r = decode_obj(&c, obj, hint, out);
	scratch_fini(&sc);
	return r;
}

int kobj_from_cjson(const cJSON *obj, int hint, struct kobj **out, char *err, size_t errlen)
{
	return kobj_from_cjson_at(obj, hint, out, err, errlen, NULL);
}

int kobj_decode_json(const char *json, size_t len, int hint, struct kobj **out, char *err,
		     size_t errlen)
{
	const char *end = NULL;
	*out = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!root) {
		size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
		if (err && errlen)
			snprintf(err, errlen, "invalid JSON at byte %zu", off);
		return -1;
	}
	int r = kobj_from_cjson(root, hint, out, err, errlen);
	cJSON_Delete(root);
	return r;
}

/* ---- encoders ---- */

static cJSON *obj_child(cJSON *parent, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (cJSON_IsObject(v))
		return v;
	cJSON *n = cJSON_CreateObject();
	if (v)
		cJSON_ReplaceItemInObjectCaseSensitive(parent, key, n);
	else
		cJSON_AddItemToObject(parent, key, n);
	return n;
}

static void set_item(cJSON *parent, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(parent, key))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, key, v);
	else
		cJSON_AddItemToObject(parent, key, v);
}

char *kobj_service_patch_json(const char *base, size_t base_len, const addr_t *ingress,
			      size_t n_ingress, const struct kv *annotations, size_t n_annotations)
{
	cJSON *root = base ? cJSON_ParseWithLength(base, base_len) : NULL;
	if (root && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		root = NULL;
	}
	if (!root)
		root = cJSON_CreateObject();
	if (!root)
		return NULL;
	if (n_annotations) {
		cJSON *ann = obj_child(obj_child(root, "metadata"), "annotations");
		for (size_t i = 0; i < n_annotations; i++)
			set_item(ann, annotations[i].key,
				 annotations[i].value ? cJSON_CreateString(annotations[i].value)
						      : cJSON_CreateNull());
	}
	cJSON *lb = obj_child(obj_child(root, "status"), "loadBalancer");
	cJSON *ing = cJSON_CreateArray();
	for (size_t i = 0; i < n_ingress; i++) {
		char buf[ADDR_STRLEN];
		cJSON *e = cJSON_CreateObject();
		if (addr_format(&ingress[i], buf, sizeof buf) < 0)
			buf[0] = '\0';
		cJSON_AddStringToObject(e, "ip", buf);
		cJSON_AddItemToArray(ing, e);
	}
	set_item(lb, "ingress", ing);
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}

static int patch_annotations(struct dctx *c, const cJSON *ann, struct kmeta *m)
{
	int r = want(c, ann, cJSON_Object);
	if (r < 0)
		return -1;
	if (r > 0) { /* null removes them all (RFC 7386) */
		m->annotations = NULL;
		m->n_annotations = 0;
		return 0;
	}
	size_t cap = m->n_annotations + (size_t)cJSON_GetArraySize(ann), n = m->n_annotations;
	struct kv *kv = cap ? sarray(c->sc, cap, sizeof *kv) : NULL;
	if (n)
		memcpy(kv, m->annotations, n * sizeof *kv);
	const cJSON *it;
	cJSON_ArrayForEach(it, ann) {
		const char *key = it->string ? it->string : "";
		size_t i;
		for (i = 0; i < n && strcmp(kv[i].key, key) != 0; i++)
			;
		if (cJSON_IsNull(it)) {
			if (i < n)
				kv[i] = kv[--n];
			continue;
		}
		push_key(c, key);
		if (!cJSON_IsString(it))
			return fail(c, "expected a string, got %s", jtype(it));
		pop(c);
		if (i == n) {
			kv[n].key = sdup(c->sc, key);
			n++;
		}
		kv[i].value = sdup(c->sc, it->valuestring);
	}
	m->annotations = kv;
	m->n_annotations = kv_sort(kv, n);
	return 0;
}

int kobj_service_apply_patch(const struct kobj *svc, const char *patch, size_t len,
			     struct kobj **out, char *err, size_t errlen)
{
	*out = NULL;
	cJSON *root = cJSON_ParseWithLength(patch, len);
	if (!root || !cJSON_IsObject(root)) {
		if (err && errlen)
			snprintf(err, errlen, "not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	struct scratch sc;
	scratch_init(&sc);
	struct dctx c = { .sc = &sc, .err = err, .errlen = errlen };
	struct kobj tmp = *svc;
	int r = 0;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	if (cJSON_IsObject(meta)) {
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
		if (ann) {
			push_key(&c, "metadata");
			push_key(&c, "annotations");
			r = patch_annotations(&c, ann, &tmp.meta);
			pop(&c);
			pop(&c);
		}
	}
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (r == 0 && status && tmp.kind == KOBJ_SERVICE) {
		push_key(&c, "status");
		r = decode_svc_status(&c, status, &tmp.u.svc);
		pop(&c);
	}
	if (r == 0)
		*out = kobj_clone(&tmp);
	scratch_fini(&sc);
	cJSON_Delete(root);
	return r;
}

static void add_time(cJSON *o, const char *key, int64_t us)
{
	char buf[40];
	if (us)
		cJSON_AddStringToObject(o, key, kobj_format_microtime(us, buf, sizeof buf));
}

char *kobj_lease_json(const struct kobj *lease)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "apiVersion", "coordination.k8s.io/v1");
	cJSON_AddStringToObject(root, "kind", "Lease");
	cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(meta, "name", lease->meta.name ? lease->meta.name : "");
	if (lease->meta.namespace)
		cJSON_AddStringToObject(meta, "namespace", lease->meta.namespace);
	if (lease->meta.resource_version)
		cJSON_AddStringToObject(meta, "resourceVersion", lease->meta.resource_version);
	cJSON *spec = cJSON_AddObjectToObject(root, "spec");
	const struct lease *l = &lease->u.lease;
	if (l->holder)
		cJSON_AddStringToObject(spec, "holderIdentity", l->holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", l->duration_s);
	add_time(spec, "acquireTime", l->acquire_us);
	add_time(spec, "renewTime", l->renew_us);
	cJSON_AddNumberToObject(spec, "leaseTransitions", l->transitions);
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}

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

char *kobj_event_json(const struct kobj_event_info *ev)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	const struct kobj *o = ev->about;
	const char *ns = o && o->meta.namespace && *o->meta.namespace ? o->meta.namespace
								      : "default";
	cJSON_AddStringToObject(root, "apiVersion", "events.k8s.io/v1");
	cJSON_AddStringToObject(root, "kind", "Event");
	cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
	char gen[300];
	snprintf(gen, sizeof gen, "%s.", o && o->meta.name ? o->meta.name : "barelb");
	cJSON_AddStringToObject(meta, "generateName", gen);
	cJSON_AddStringToObject(meta, "namespace", ns);
	add_time(root, "eventTime", ev->first_us);
	if (ev->controller)
		cJSON_AddStringToObject(root, "reportingController", ev->controller);
	if (ev->instance)
		cJSON_AddStringToObject(root, "reportingInstance", ev->instance);
	cJSON_AddStringToObject(root, "action", ev->action ? ev->action : ev->reason);
	cJSON_AddStringToObject(root, "reason", ev->reason ? ev->reason : "");
	cJSON_AddStringToObject(root, "note", ev->note ? ev->note : "");
	cJSON_AddStringToObject(root, "type", ev->type ? ev->type : "Normal");
	if (o) {
		cJSON *reg = cJSON_AddObjectToObject(root, "regarding");
		cJSON_AddStringToObject(reg, "apiVersion", api_version_of(o->kind));
		cJSON_AddStringToObject(reg, "kind", kobj_kind_name(o->kind));
		if (o->meta.namespace && *o->meta.namespace)
			cJSON_AddStringToObject(reg, "namespace", o->meta.namespace);
		cJSON_AddStringToObject(reg, "name", o->meta.name ? o->meta.name : "");
		if (o->meta.uid)
			cJSON_AddStringToObject(reg, "uid", o->meta.uid);
	}
	if (ev->count > 1) {
		cJSON *series = cJSON_AddObjectToObject(root, "series");
		cJSON_AddNumberToObject(series, "count", ev->count);
		add_time(series, "lastObservedTime", ev->last_us);
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}
