/* SPDX-License-Identifier: Apache-2.0 */
/* model: kind names, keys, equality, compact copies and RFC 3339 times of the decoded objects.
 * The decoders live in model_json.c (cJSON) and model_yaml.c (manifests). */
#include "barelb/model.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "barelb/store.h"
#include "model_internal.h"

static const struct {
	const char *kind, *plural;
} kind_names[KOBJ_KIND_COUNT] = {
	[KOBJ_SERVICE] = { "Service", "services" },
	[KOBJ_ENDPOINTSLICE] = { "EndpointSlice", "endpointslices" },
	[KOBJ_NODE] = { "Node", "nodes" },
	[KOBJ_NAMESPACE] = { "Namespace", "namespaces" },
	[KOBJ_LEASE] = { "Lease", "leases" },
	[KOBJ_POD] = { "Pod", "pods" },
};

const char *kobj_kind_name(enum kobj_kind k)
{
	if ((unsigned)k >= KOBJ_KIND_COUNT)
		return "Unknown";
	return kind_names[k].kind;
}

int kobj_kind_from_name(const char *kind)
{
	if (!kind)
		return -1;
	/* Kinds are matched exactly; resource names as kubectl takes them ("services", "service",
	 * "Services") case-insensitively. */
	for (int k = 0; k < KOBJ_KIND_COUNT; k++)
		if (strcmp(kind, kind_names[k].kind) == 0 ||
		    strcasecmp(kind, kind_names[k].plural) == 0 ||
		    strcasecmp(kind, kind_names[k].kind) == 0)
			return k;
	return -1;
}

int kmodel_kind_exact(const char *kind)
{
	for (int k = 0; k < KOBJ_KIND_COUNT; k++)
		if (strcmp(kind, kind_names[k].kind) == 0)
			return k;
	return -1;
}

#define BUMP_ALIGN 8u
/* where copy_obj puts the reference count: the first aligned offset after the struct */
#define KOBJ_REFS_OFF ((sizeof(struct kobj) + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1))

/* Objects made by kobj_clone are one block that starts with the struct itself, followed by a
 * reference count (see kobj_share): the object is freed when its last holder lets go. */
static unsigned *kobj_refs(const struct kobj *o)
{
	return (unsigned *)((unsigned char *)o->mem + KOBJ_REFS_OFF);
}

void kobj_free(struct kobj *o)
{
	if (!o)
		return;
	if (o->mem == (void *)o && --*kobj_refs(o))
		return;
	free(o->mem);
}

struct kobj *kobj_share(const struct kobj *o)
{
	if (!o)
		return NULL;
	if (o->mem != (const void *)o)
		return kobj_clone(o);
	(*kobj_refs(o))++;
	return (struct kobj *)o;
}

const char *kobj_key(const struct kobj *o, char *buf, size_t n)
{
	const char *ns = o->meta.namespace;
	const char *name = o->meta.name ? o->meta.name : "";
	if (ns && *ns)
		snprintf(buf, n, "%s/%s", ns, name);
	else
		snprintf(buf, n, "%s", name);
	return buf;
}

static int kv_cmp_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct kv *)elem)->key);
}

const char *kmodel_kv_get(const struct kv *kv, size_t n, const char *key)
{
	if (!n)
		return NULL;
	const struct kv *e = bsearch(key, kv, n, sizeof *kv, kv_cmp_key);
	return e ? e->value : NULL;
}

const char *kmeta_label(const struct kmeta *m, const char *key)
{
	return kmodel_kv_get(m->labels, m->n_labels, key);
}

const char *kmeta_annotation(const struct kmeta *m, const char *key)
{
	return kmodel_kv_get(m->annotations, m->n_annotations, key);
}

/* ---- equality ---- */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A missing namespace and an empty one mean the same (cluster-scoped). */
static bool ns_eq(const char *a, const char *b)
{
	return str_eq(a && *a ? a : NULL, b && *b ? b : NULL);
}

static bool kv_eq(const struct kv *a, size_t na, const struct kv *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i].key, b[i].key) || !str_eq(a[i].value, b[i].value))
			return false;
	return true;
}

static bool addrs_eq(const addr_t *a, size_t na, const addr_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!addr_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool svc_eq(const struct service *a, const struct service *b)
{
	if (a->type != b->type || a->etp != b->etp || a->ipfp != b->ipfp ||
	    a->n_ports != b->n_ports || a->n_families != b->n_families ||
	    !str_eq(a->lb_class, b->lb_class) || !str_eq(a->lb_ip, b->lb_ip) ||
	    !kv_eq(a->selector, a->n_selector, b->selector, b->n_selector) ||
	    !addrs_eq(a->cluster_ips, a->n_cluster_ips, b->cluster_ips, b->n_cluster_ips) ||
	    !addrs_eq(a->ingress, a->n_ingress, b->ingress, b->n_ingress))
		return false;
	for (size_t i = 0; i < a->n_families; i++)
		if (a->families[i] != b->families[i])
			return false;
	for (size_t i = 0; i < a->n_ports; i++) {
		const struct svc_port *p = &a->ports[i], *q = &b->ports[i];
		if (p->protocol != q->protocol || p->port != q->port || p->node_port != q->node_port ||
		    !str_eq(p->name, q->name) || !str_eq(p->target_port, q->target_port))
			return false;
	}
	return true;
}

static bool eps_eq(const struct endpointslice *a, const struct endpointslice *b)
{
	if (!str_eq(a->service_name, b->service_name) || a->address_type != b->address_type ||
	    a->n_endpoints != b->n_endpoints)
		return false;
	for (size_t i = 0; i < a->n_endpoints; i++) {
		const struct endpoint *p = &a->endpoints[i], *q = &b->endpoints[i];
		if (p->ready != q->ready || p->serving != q->serving ||
		    p->terminating != q->terminating || !str_eq(p->node_name, q->node_name) ||
		    !addrs_eq(p->addrs, p->n_addrs, q->addrs, q->n_addrs))
			return false;
	}
	return true;
}

static bool pod_eq(const struct pod *a, const struct pod *b)
{
	if (!str_eq(a->node_name, b->node_name) || a->ready != b->ready ||
	    a->terminating != b->terminating || a->finished != b->finished ||
	    a->n_ports != b->n_ports || !addrs_eq(a->ips, a->n_ips, b->ips, b->n_ips))
		return false;
	for (size_t i = 0; i < a->n_ports; i++) {
		const struct pod_port *p = &a->ports[i], *q = &b->ports[i];
		if (p->protocol != q->protocol || p->port != q->port || !str_eq(p->name, q->name))
			return false;
	}
	return true;
}

bool kobj_equal(const struct kobj *a, const struct kobj *b)
{
	if (a == b)
		return true;
	if (!a || !b || a->kind != b->kind)
		return false;
	const struct kmeta *m = &a->meta, *n = &b->meta;
	if (!str_eq(m->name, n->name) || !ns_eq(m->namespace, n->namespace) ||
	    !str_eq(m->uid, n->uid) || m->deleting != n->deleting ||
	    !kv_eq(m->labels, m->n_labels, n->labels, n->n_labels) ||
	    !kv_eq(m->annotations, m->n_annotations, n->annotations, n->n_annotations))
		return false;
	switch (a->kind) {
	case KOBJ_SERVICE:
		return svc_eq(&a->u.svc, &b->u.svc);
	case KOBJ_ENDPOINTSLICE:
		return eps_eq(&a->u.eps, &b->u.eps);
	case KOBJ_NODE:
		return a->u.node.ready == b->u.node.ready &&
		       a->u.node.ready_since_ms == b->u.node.ready_since_ms &&
		       a->u.node.network_unavailable == b->u.node.network_unavailable &&
		       addrs_eq(a->u.node.addrs, a->u.node.n_addrs, b->u.node.addrs,
				b->u.node.n_addrs);
	case KOBJ_LEASE:
		return str_eq(a->u.lease.holder, b->u.lease.holder) &&
		       a->u.lease.acquire_us == b->u.lease.acquire_us &&
		       a->u.lease.renew_us == b->u.lease.renew_us &&
		       a->u.lease.duration_s == b->u.lease.duration_s &&
		       a->u.lease.transitions == b->u.lease.transitions;
	case KOBJ_POD:
		return pod_eq(&a->u.pod, &b->u.pod);
	case KOBJ_NAMESPACE:
	case KOBJ_KIND_COUNT:
		break;
	}
	return true;
}

/* ---- compact copies ----
 * One walk serves two passes: with base NULL it only measures, then the same walk copies into a
 * block of exactly that size. Keeping one function for both makes it impossible for the size and
 * the copy to disagree. */

struct bump {
	unsigned char *base; /* NULL: measure only */
	size_t used;
};


static void *bump(struct bump *b, size_t n)
{
	size_t off = (b->used + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1);
	if (n > SIZE_MAX / 2 || off > SIZE_MAX / 2) {
		fprintf(stderr, "barelb: object too large\n");
		abort();
	}
	b->used = off + n;
	return b->base ? b->base + off : NULL;
}

static void *bump_array(struct bump *b, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / 4 / size) {
		fprintf(stderr, "barelb: object too large\n");
		abort();
	}
	return bump(b, n * size);
}

static char *bstr(struct bump *b, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = bump(b, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static void *bmem(struct bump *b, const void *src, size_t n, size_t size)
{
	if (!n)
		return NULL;
	void *p = bump_array(b, n, size);
	if (p)
		memcpy(p, src, n * size);
	return p;
}

static struct kv *bkv(struct bump *b, const struct kv *src, size_t n)
{
	if (!n)
		return NULL;
	struct kv *d = bump_array(b, n, sizeof *d);
	for (size_t i = 0; i < n; i++) {
		char *k = bstr(b, src[i].key);
		char *v = bstr(b, src[i].value);
		if (d) {
			d[i].key = k;
			d[i].value = v;
		}
	}
	return d;
}

/* Copies a pointer field: d is NULL while measuring. */
#define CP(dst, expr)                      \
	do {                               \
		__typeof__(dst) v_ = (expr); \
		if (d)                     \
			(dst) = v_;        \
	} while (0)

static void copy_svc(struct bump *b, struct kobj *d, const struct service *s)
{
	struct svc_port *ports = bmem(b, s->ports, s->n_ports, sizeof *s->ports);
	for (size_t i = 0; i < s->n_ports; i++) {
		char *name = bstr(b, s->ports[i].name);
		char *tp = bstr(b, s->ports[i].target_port);
		if (ports) {
			ports[i].name = name;
			ports[i].target_port = tp;
		}
	}
	CP(d->u.svc.ports, ports);
	CP(d->u.svc.selector, bkv(b, s->selector, s->n_selector));
	CP(d->u.svc.lb_class, bstr(b, s->lb_class));
	CP(d->u.svc.lb_ip, bstr(b, s->lb_ip));
	CP(d->u.svc.cluster_ips, bmem(b, s->cluster_ips, s->n_cluster_ips, sizeof(addr_t)));
	CP(d->u.svc.ingress, bmem(b, s->ingress, s->n_ingress, sizeof(addr_t)));
}

static void copy_eps(struct bump *b, struct kobj *d, const struct endpointslice *s)
{
	struct endpoint *eps = bmem(b, s->endpoints, s->n_endpoints, sizeof *s->endpoints);
	for (size_t i = 0; i < s->n_endpoints; i++) {
		const struct endpoint *e = &s->endpoints[i];
		addr_t *addrs = bmem(b, e->addrs, e->n_addrs, sizeof(addr_t));
		char *node = bstr(b, e->node_name);
		if (eps) {
			eps[i].addrs = addrs;
			eps[i].node_name = node;
		}
	}
	CP(d->u.eps.endpoints, eps);
	CP(d->u.eps.service_name, bstr(b, s->service_name));
}

static void copy_pod(struct bump *b, struct kobj *d, const struct pod *s)
{
	struct pod_port *ports = bmem(b, s->ports, s->n_ports, sizeof *s->ports);
	for (size_t i = 0; i < s->n_ports; i++) {
		char *name = bstr(b, s->ports[i].name);
		if (ports)
			ports[i].name = name;
	}
	CP(d->u.pod.ports, ports);
	CP(d->u.pod.node_name, bstr(b, s->node_name));
	CP(d->u.pod.ips, bmem(b, s->ips, s->n_ips, sizeof(addr_t)));
}

static struct kobj *copy_obj(struct bump *b, const struct kobj *s)
{
	struct kobj *d = bump(b, sizeof *d);
	unsigned *refs = bump(b, sizeof *refs);
	if (d) {
		*d = *s;
		d->mem = d;
		*refs = 1;
	}
	CP(d->meta.name, bstr(b, s->meta.name));
	CP(d->meta.namespace, bstr(b, s->meta.namespace));
	CP(d->meta.uid, bstr(b, s->meta.uid));
	CP(d->meta.resource_version, bstr(b, s->meta.resource_version));
	CP(d->meta.labels, bkv(b, s->meta.labels, s->meta.n_labels));
	CP(d->meta.annotations, bkv(b, s->meta.annotations, s->meta.n_annotations));
	switch (s->kind) {
	case KOBJ_SERVICE:
		copy_svc(b, d, &s->u.svc);
		break;
	case KOBJ_ENDPOINTSLICE:
		copy_eps(b, d, &s->u.eps);
		break;
	case KOBJ_NODE:
		CP(d->u.node.addrs, bmem(b, s->u.node.addrs, s->u.node.n_addrs, sizeof(addr_t)));
		break;
	case KOBJ_LEASE:
		CP(d->u.lease.holder, bstr(b, s->u.lease.holder));
		break;
	case KOBJ_POD:
		copy_pod(b, d, &s->u.pod);
		break;
	case KOBJ_NAMESPACE:
	case KOBJ_KIND_COUNT:
		break;
	}
	return d;
}

size_t kmodel_size(const struct kobj *o)
{
	struct bump m = { NULL, 0 };
	copy_obj(&m, o);
	return m.used;
}

struct kobj *kobj_clone(const struct kobj *o)
{
	if (!o)
		return NULL;
	struct bump m = { NULL, 0 };
	copy_obj(&m, o);
	unsigned char *block = malloc(m.used);
	if (!block) {
		fprintf(stderr, "barelb: out of memory (%zu bytes)\n", m.used);
		abort();
	}
	struct bump c = { block, 0 };
	struct kobj *d = copy_obj(&c, o);
	assert(c.used == m.used && (void *)d == (void *)block);
	return d;
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so
 * that no time zone or libc state is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int kobj_parse_time(const char *s, int64_t *us)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec;
	const char *p = s;

	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60) /* a leap second is read as the next second, as Go does */
		sec = 59;
	int64_t frac = 0;
	if (*p == '.') {
		p++;
		int nd = 0;
		int64_t scale = 1000000;
		while (*p >= '0' && *p <= '9') {
			if (nd < 6) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			nd++;
			p++;
		}
		if (nd == 0)
			return -1;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		       sec - off;
	*us = secs * 1000000 + frac;
	return 0;
}

const char *kobj_format_microtime(int64_t us, char *buf, size_t n)
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, n, "%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (long long)frac);
	return buf;
}
