/* SPDX-License-Identifier: Apache-2.0 */
/* controller: watches Services (and Namespaces) through the source, converges each LoadBalancer
 * Service of our class with the allocator, and writes the result into the Service's status and its
 * barelb.io/ip-allocated-from-pool annotation, with an Event that says what happened and why.
 *
 * Order of work, which is what keeps IPs from moving across a restart:
 *   1. wait for the source's first full sync (and, with --leader-elect, for the Lease);
 *   2. rebuild: every Service that already has ingress IPs re-takes exactly those (keep_only);
 *   3. converge every Service, in name order, then only the ones that change (a dirty set). */
#include "controller.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"
#include "barelb/xalloc.h"
#include "barelb/caps.h"
#include "barelb/config.h"
#include "barelb/control.h"
#include "barelb/jsonw.h"
#include "barelb/leader.h"
#include "barelb/log.h"
#include "barelb/metrics.h"
#include "barelb/loop.h"
#include "barelb/model.h"
#include "barelb/run.h"
#include "barelb/source.h"
#include "barelb/source_metrics.h"
#include "barelb/store.h"
#include "barelb/strmap.h"

#define ANN_POOL_OUT "barelb.io/ip-allocated-from-pool"

struct controller {
	const struct daemon_opts *o;
	struct loop *l;
	struct source *src;
	struct leader *leader;
	struct alloc *alloc;
	const struct config *cfg;
	bool synced, leading, rebuilt;
	/* Services to converge: keys "ns/name", deduplicated when processed. */
	char **dirty;
	size_t n_dirty, cap_dirty;
	bool all_dirty;
	struct loop_timer *work;
	struct loop_timer *hold_timer; /* a hold-down ends: failed services may succeed now */
	struct strmap *failures;       /* "ns/name" → last allocation failure text, for `services` */
	struct strmap *inflight;       /* "ns/name" → struct inflight: status writes not yet echoed */
	char **retry;                  /* Services whose status write failed: converge again */
	size_t n_retry;
	uint64_t retry_ms;             /* current backoff; 0 after a success */
	struct loop_timer *retry_timer;
	bool closing;
	struct metrics_family *m_fail; /* barelb_allocator_allocation_failures_total{reason} */
	struct pool_collect {
		struct controller *c;
		int what;
	} pool_collect[6];
};


static void kick(struct controller *c)
{
	if (c->synced && c->leading && !loop_timer_pending(c->work))
		loop_timer_arm(c->work, 0);
}

static void mark_dirty(struct controller *c, const char *key)
{
	if (c->n_dirty == c->cap_dirty) {
		c->cap_dirty = c->cap_dirty ? c->cap_dirty * 2 : 64;
		c->dirty = xrealloc(c->dirty, c->cap_dirty * sizeof *c->dirty);
	}
	c->dirty[c->n_dirty] = strdup(key);
	if (!c->dirty[c->n_dirty])
		abort();
	c->n_dirty++;
	kick(c);
}

static void mark_all_dirty(struct controller *c)
{
	c->all_dirty = true;
	kick(c);
}

/* Is this Service ours: type LoadBalancer and of our class (--lb-class; none: no class set). */
static bool is_ours(const struct controller *c, const struct kobj *svc)
{
	const char *want = c->o->lb_class;

	if (!svc || svc->kind != KOBJ_SERVICE || svc->meta.deleting)
		return false;
	if (svc->u.svc.type != SVC_LOAD_BALANCER)
		return false;
	if (want && *want)
		return svc->u.svc.lb_class && strcmp(svc->u.svc.lb_class, want) == 0;
	return svc->u.svc.lb_class == NULL;
}

/* Annotation under barelb.io/, else metallb.io/, else metallb.universe.tf/ (migration). */
static const char *annotation(const struct kobj *o, const char *suffix)
{
	static const char *const prefixes[] = { "barelb.io/", "metallb.io/", "metallb.universe.tf/" };
	char key[128];

	for (size_t i = 0; i < 3; i++) {
		snprintf(key, sizeof key, "%s%s", prefixes[i], suffix);
		const char *v = kmeta_annotation(&o->meta, key);
		if (v)
			return v;
	}
	return NULL;
}

/* MetalLB's backend key: the selector as "k=v,k2=v2" (sorted) for ETP Local, else "". */
static char *backend_key(const struct kobj *svc)
{
	const struct service *s = &svc->u.svc;
	size_t len = 1;
	char *out, *p;

	if (s->etp != SVC_ETP_LOCAL)
		return NULL;
	for (size_t i = 0; i < s->n_selector; i++)
		len += strlen(s->selector[i].key) + strlen(s->selector[i].value) + 2;
	out = p = malloc(len);
	if (!out)
		abort();
	*p = 0;
	for (size_t i = 0; i < s->n_selector; i++)
		p += sprintf(p, "%s%s=%s", i ? "," : "", s->selector[i].key, s->selector[i].value);
	return out;
}

static void format_ips(const addr_t *ips, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && off < len; i++) {
		char a[ADDR_STRLEN];
		addr_format(&ips[i], a, sizeof a);
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", a);
	}
}

static bool same_ips(const addr_t *a, size_t na, const addr_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!addr_eq(&a[i], &b[i]))
			return false;
	return true;
}

/* A status write on its way: what it sets and when it left. The watch brings the change back a
 * moment later; until then (at most WRITE_ECHO_MS) the same write is not sent again, so that the
 * first of the two echoes (status and annotation arrive as separate events) does not trigger a
 * second, identical write. */
#define WRITE_ECHO_MS 10000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000

struct inflight {
	char *sig;
	uint64_t sent_ms;
};

struct patch_ctx {
	struct controller *c;
	char *key;
};

static void inflight_free(void *p)
{
	struct inflight *f = p;
	if (f)
		free(f->sig);
	free(f);
}

static void on_retry(void *arg)
{
	struct controller *c = arg;
	char **keys = c->retry;
	size_t n = c->n_retry;

	c->retry = NULL;
	c->n_retry = 0;
	for (size_t i = 0; i < n; i++) {
		mark_dirty(c, keys[i]);
		free(keys[i]);
	}
	free(keys);
}

static void patch_done(void *arg, int status, const char *err)
{
	struct patch_ctx *pc = arg;
	struct controller *c = pc->c;

	if (status == 0) {
		c->retry_ms = 0;
	} else if (!c->closing) {
		/* Nothing will come back through the watch: try again after a backoff. */
		inflight_free(strmap_del(c->inflight, pc->key));
		c->retry_ms = c->retry_ms ? c->retry_ms * 2 : RETRY_MIN_MS;
		if (c->retry_ms > RETRY_MAX_MS)
			c->retry_ms = RETRY_MAX_MS;
		log_warn("svc=%s msg=\"status update failed; retrying\" in_ms=%llu err=\"%s\"", pc->key,
			 (unsigned long long)c->retry_ms, err ? err : "?");
		c->retry = xrealloc(c->retry, (c->n_retry + 1) * sizeof *c->retry);
		c->retry[c->n_retry++] = xstrdup(pc->key);
		if (!loop_timer_pending(c->retry_timer))
			loop_timer_arm_jitter(c->retry_timer, c->retry_ms, 20);
	}
	free(pc->key);
	free(pc);
}

static char *status_sig(const addr_t *ips, size_t n, const char *pool)
{
	char buf[256];

	format_ips(ips, n, buf, sizeof buf - 64);
	strncat(buf, "|", sizeof buf - strlen(buf) - 1);
	strncat(buf, pool ? pool : "-", sizeof buf - strlen(buf) - 1);
	return xstrdup(buf);
}

/* Write ingress + pool annotation when they differ from what the Service shows. */
static void write_status(struct controller *c, const struct kobj *svc, const addr_t *ips, size_t n,
			 const char *pool)
{
	const char *cur_pool = kmeta_annotation(&svc->meta, ANN_POOL_OUT);
	struct kv ann = { .key = (char *)ANN_POOL_OUT, .value = (char *)pool };
	struct inflight *f;
	struct patch_ctx *pc;
	char key[512], *sig;
	uint64_t now = loop_now_ms(c->l);

	kobj_key(svc, key, sizeof key);
	if (same_ips(svc->u.svc.ingress, svc->u.svc.n_ingress, ips, n) &&
	    ((!pool && !cur_pool) || (pool && cur_pool && strcmp(pool, cur_pool) == 0))) {
		inflight_free(strmap_del(c->inflight, key)); /* the write came back: done */
		return;
	}
	sig = status_sig(ips, n, pool);
	f = strmap_get(c->inflight, key);
	if (f && strcmp(f->sig, sig) == 0 && now - f->sent_ms < WRITE_ECHO_MS) {
		free(sig);
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->sig = sig;
	f->sent_ms = now;
	inflight_free(strmap_put(c->inflight, key, f));
	pc = xcalloc(1, sizeof *pc);
	pc->c = c;
	pc->key = xstrdup(key);
	if (source_patch_service(c->src, svc->meta.namespace, svc->meta.name, ips, n, &ann, 1,
				 patch_done, pc) < 0) {
		log_warn("svc=%s msg=\"cannot send the status update\"", key);
		inflight_free(strmap_del(c->inflight, key));
		free(pc->key);
		free(pc);
	}
}

static void clear_if_ours(struct controller *c, const struct kobj *svc, bool released)
{
	/* Only clear what barelb wrote: another LoadBalancer implementation may own other classes. */
	if (!svc || (!released && !kmeta_annotation(&svc->meta, ANN_POOL_OUT)))
		return;
	if (svc->u.svc.n_ingress == 0 && !kmeta_annotation(&svc->meta, ANN_POOL_OUT))
		return;
	write_status(c, svc, NULL, 0, NULL);
}

static void converge(struct controller *c, const char *key, uint64_t now, bool keep_only)
{
	char ns[256], name[256];
	const char *slash = strchr(key, '/');
	const struct store *st = source_store(c->src);
	const struct kobj *svc, *nso;
	struct alloc_request rq = { 0 };
	struct alloc_result res;
	struct cfg_label *svc_labels = NULL, *ns_labels = NULL;
	struct alloc_port *ports = NULL;
	char *bk = NULL;
	int released;

	if (!slash || (size_t)(slash - key) >= sizeof ns || strlen(slash + 1) >= sizeof name)
		return;
	memcpy(ns, key, (size_t)(slash - key));
	ns[slash - key] = 0;
	strcpy(name, slash + 1);
	svc = store_get(st, KOBJ_SERVICE, ns, name);
	if (!is_ours(c, svc)) {
		free(strmap_del(c->failures, key));
		released = alloc_release(c->alloc, key, now);
		if (released)
			log_info("svc=%s msg=\"released its IPs\"", key);
		/* A Service that left our care (type or class change) keeps no IP of ours. */
		if (svc && svc->u.svc.type != SVC_LOAD_BALANCER)
			clear_if_ours(c, svc, released > 0);
		return;
	}
	if (svc->u.svc.n_cluster_ips == 0 && svc->u.svc.n_families == 0) {
		/* MetalLB: no cluster IP (headless or not yet assigned) ⇒ no external IP either. */
		alloc_release(c->alloc, key, now);
		clear_if_ours(c, svc, true);
		return;
	}
	/* kv and cfg_label have the same shape, but convert by copying, not by casting. */
	svc_labels = calloc(svc->meta.n_labels + 1, sizeof *svc_labels);
	for (size_t i = 0; i < svc->meta.n_labels; i++)
		svc_labels[i] = (struct cfg_label){ svc->meta.labels[i].key, svc->meta.labels[i].value };
	nso = store_get(st, KOBJ_NAMESPACE, NULL, ns);
	if (nso) {
		ns_labels = calloc(nso->meta.n_labels + 1, sizeof *ns_labels);
		for (size_t i = 0; i < nso->meta.n_labels; i++)
			ns_labels[i] = (struct cfg_label){ nso->meta.labels[i].key,
							   nso->meta.labels[i].value };
	}
	ports = calloc(svc->u.svc.n_ports + 1, sizeof *ports);
	if (!svc_labels || !ports || (nso && !ns_labels))
		abort();
	for (size_t i = 0; i < svc->u.svc.n_ports; i++)
		ports[i] = (struct alloc_port){ (enum alloc_proto)svc->u.svc.ports[i].protocol,
						svc->u.svc.ports[i].port };
	bk = backend_key(svc);
	rq.key = key;
	rq.ns = ns;
	rq.svc_labels = svc_labels;
	rq.n_svc_labels = svc->meta.n_labels;
	rq.ns_labels = ns_labels;
	rq.n_ns_labels = nso ? nso->meta.n_labels : 0;
	if (svc->u.svc.n_families) {
		rq.n_families = svc->u.svc.n_families;
		memcpy(rq.families, svc->u.svc.families, sizeof rq.families);
	} else {
		for (size_t i = 0; i < svc->u.svc.n_cluster_ips && i < 2; i++)
			rq.families[rq.n_families++] = svc->u.svc.cluster_ips[i].family;
	}
	rq.policy = svc->u.svc.ipfp == SVC_IPFP_PREFER_DUAL    ? ALLOC_PREFER_DUAL :
		    svc->u.svc.ipfp == SVC_IPFP_REQUIRE_DUAL ? ALLOC_REQUIRE_DUAL :
							      ALLOC_SINGLE_STACK;
	rq.lb_ip = svc->u.svc.lb_ip;
	rq.lb_ips = annotation(svc, "loadBalancerIPs");
	rq.pool = annotation(svc, "address-pool");
	rq.sharing_key = annotation(svc, "allow-shared-ip");
	rq.backend_key = bk;
	rq.ports = ports;
	rq.n_ports = svc->u.svc.n_ports;
	rq.ingress = svc->u.svc.ingress;
	rq.n_ingress = svc->u.svc.n_ingress;
	rq.keep_only = keep_only;

	alloc_service(c->alloc, &rq, now, &res);
	if (keep_only) {
		if (res.err != ALLOC_OK && res.err != ALLOC_E_KEEP_ONLY)
			log_warn("svc=%s msg=\"its current IPs cannot be kept; it gets new ones\" "
				 "reason=%s detail=\"%s\"", key, alloc_err_name(res.err), res.msg);
		goto out;
	}
	if (res.err != ALLOC_OK) {
		char note[ALLOC_MSG_MAX + 64];
		log_warn("svc=%s msg=\"allocation failed\" reason=%s detail=\"%s\"", key,
			 alloc_err_name(res.err), res.msg);
		snprintf(note, sizeof note, "%s: %s", alloc_err_name(res.err), res.msg);
		source_event(c->src, svc, "Warning", "AllocationFailed", note);
		free(strmap_put(c->failures, key, xstrdup(note)));
		if (c->m_fail)
			metrics_inc(c->m_fail, (const char *[]){ alloc_err_name(res.err) });
		if (res.n_ips == 0 && svc->u.svc.n_ingress > 0)
			clear_if_ours(c, svc, true);
		goto out;
	}
	free(strmap_del(c->failures, key));
	if (res.changed || !kmeta_annotation(&svc->meta, ANN_POOL_OUT)) {
		char ips[128], note[256];
		format_ips(res.ips, res.n_ips, ips, sizeof ips);
		if (res.changed) {
			log_info("svc=%s msg=\"assigned\" ips=%s pool=%s", key, ips, res.pool);
			snprintf(note, sizeof note, "Assigned IP [%s] from pool %s", ips, res.pool);
			source_event(c->src, svc, "Normal", "IPAllocated", note);
		}
	}
	write_status(c, svc, res.ips, res.n_ips, res.pool);
out:
	free(bk);
	free(ports);
	free(svc_labels);
	free(ns_labels);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_keys(char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_str);
}

struct key_list {
	char **v;
	size_t n, cap;
	bool with_ingress_only;
};

static void collect_key(const struct kobj *o, void *arg)
{
	struct key_list *kl = arg;
	char key[512];

	if (kl->with_ingress_only && o->u.svc.n_ingress == 0)
		return;
	if (kl->n == kl->cap) {
		kl->cap = kl->cap ? kl->cap * 2 : 256;
		kl->v = xrealloc(kl->v, kl->cap * sizeof *kl->v);
	}
	kl->v[kl->n] = strdup(kobj_key(o, key, sizeof key));
	if (!kl->v[kl->n])
		abort();
	kl->n++;
}

static void free_keys(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void schedule_hold_expiry(struct controller *c, uint64_t now)
{
	uint64_t next = alloc_tick(c->alloc, now);

	if (next != UINT64_MAX)
		loop_timer_arm(c->hold_timer, next > now ? next - now : 0);
}

static void do_work(void *arg)
{
	struct controller *c = arg;
	uint64_t now = loop_now_ms(c->l);
	struct key_list kl = { 0 };
	const struct store *st = source_store(c->src);

	if (!c->synced || !c->leading || !c->cfg)
		return;
	if (!c->rebuilt) {
		/* Phase 1 of a start: everything that has IPs keeps exactly those, before anything new
		 * is handed out, in name order. */
		kl.with_ingress_only = true;
		store_foreach(st, KOBJ_SERVICE, collect_key, &kl);
		sort_keys(kl.v, kl.n);
		for (size_t i = 0; i < kl.n; i++)
			converge(c, kl.v[i], now, true);
		log_info("msg=\"allocation table rebuilt from Service status\" services=%zu kept=%zu",
			 kl.n, alloc_service_count(c->alloc));
		free_keys(kl.v, kl.n);
		memset(&kl, 0, sizeof kl);
		c->rebuilt = true;
		c->all_dirty = true;
	}
	if (c->all_dirty) {
		/* Start from the dirty keys: a deleted Service is only there, no longer in the store,
		 * and must still be converged (released). Duplicates are skipped below. */
		kl.v = c->dirty;
		kl.n = c->n_dirty;
		kl.cap = c->cap_dirty;
		c->dirty = NULL;
		c->n_dirty = c->cap_dirty = 0;
		store_foreach(st, KOBJ_SERVICE, collect_key, &kl);
		c->all_dirty = false;
	} else {
		kl.v = c->dirty;
		kl.n = c->n_dirty;
		c->dirty = NULL;
		c->n_dirty = c->cap_dirty = 0;
	}
	sort_keys(kl.v, kl.n);
	for (size_t i = 0; i < kl.n; i++)
		if (i == 0 || strcmp(kl.v[i], kl.v[i - 1]) != 0)
			converge(c, kl.v[i], now, false);
	free_keys(kl.v, kl.n);
	schedule_hold_expiry(c, now);
}

static void on_hold_expiry(void *arg)
{
	struct controller *c = arg;
	/* An address came out of hold-down: services that failed for lack of one may succeed. */
	mark_all_dirty(c);
}

static void on_changed(void *arg, enum source_event ev, const struct kobj *old,
		       const struct kobj *now)
{
	struct controller *c = arg;
	const struct kobj *o = now ? now : old;
	char key[512];

	if (o->kind == KOBJ_NAMESPACE) {
		/* Namespace labels feed serviceAllocation.namespaceSelectors. */
		mark_all_dirty(c);
		return;
	}
	if (o->kind != KOBJ_SERVICE)
		return;
	mark_dirty(c, kobj_key(o, key, sizeof key));
	/* A freed IP may be what a failed Service was waiting for (MetalLB reprocesses all too). */
	if (ev == SOURCE_DELETED)
		mark_all_dirty(c);
}

static void on_synced(void *arg)
{
	struct controller *c = arg;

	c->synced = true;
	log_info("msg=\"cluster state synced\" services=%zu",
		 store_count(source_store(c->src), KOBJ_SERVICE));
	kick(c);
}

static void on_started_leading(void *arg)
{
	struct controller *c = arg;

	log_info("msg=\"leading: allocating\" identity=%s", c->o->identity);
	c->leading = true;
	/* A new leader starts from the Services' status, like a restart. */
	alloc_free(c->alloc);
	c->alloc = alloc_new();
	if (!c->alloc)
		abort();
	if (c->cfg)
		alloc_set_pools(c->alloc, c->cfg->pools, c->cfg->n_pools, NULL, NULL, 0);
	c->rebuilt = false;
	kick(c);
}

static void on_stopped_leading(void *arg)
{
	struct controller *c = arg;

	log_warn("msg=\"lost the leader Lease: standing by\"");
	c->leading = false;
}

struct controller *controller_new(const struct daemon_opts *o)
{
	struct controller *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->o = o;
	c->failures = strmap_new();
	c->inflight = strmap_new();
	c->alloc = alloc_new();
	if (!c->alloc) {
		free(c);
		return NULL;
	}
	return c;
}

static void apply_pools(struct controller *c, const struct config *cfg)
{
	struct alloc_changes ch = { 0 };
	char msg[256] = "";

	/* barelb's pool extensions (reserved addresses, hold-down) first, so that the re-mapping
	 * below already sees them. A pool without them goes back to the defaults. */
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct cfg_pool *p = &cfg->pools[i];
		struct alloc_pool_options po = { .reserved = p->reserved_ranges,
						 .n_reserved = p->n_reserved,
						 .hold_ms = (uint64_t)p->hold_down_s * 1000 };
		alloc_set_pool_options(c->alloc, p->name,
				       p->n_reserved || p->hold_down_s ? &po : NULL);
	}
	if (alloc_set_pools(c->alloc, cfg->pools, cfg->n_pools, &ch, msg, sizeof msg) < 0) {
		log_error("msg=\"the allocator refused the new pools\" detail=\"%s\"", msg);
		return;
	}
	for (size_t i = 0; i < ch.n_invalid; i++)
		log_info("svc=%s msg=\"its IP left every pool; allocating again\"", ch.invalid[i]);
	alloc_changes_free(&ch);
	c->cfg = cfg;
}

/* ---- metrics and commands ---- */

enum pool_metric { PM_TOTAL, PM_IN_USE, PM_V4_TOTAL, PM_V4_IN_USE, PM_V6_TOTAL, PM_V6_IN_USE };

static double u128d(addr_u128 v)
{
	return (double)v;
}

static void collect_pools(struct metrics_family *f, void *arg)
{
	struct pool_collect *pc = arg;
	struct alloc_pool_stats st;

	for (size_t i = 0; i < alloc_pool_count(pc->c->alloc); i++) {
		double v = 0;
		if (alloc_pool_stats(pc->c->alloc, i, &st) < 0)
			continue;
		switch ((enum pool_metric)pc->what) {
		case PM_TOTAL: v = u128d(st.size_v4) + u128d(st.size_v6); break;
		case PM_IN_USE: v = (double)(st.used_v4 + st.used_v6); break;
		case PM_V4_TOTAL: v = u128d(st.size_v4); break;
		case PM_V4_IN_USE: v = (double)st.used_v4; break;
		case PM_V6_TOTAL: v = u128d(st.size_v6); break;
		case PM_V6_IN_USE: v = (double)st.used_v6; break;
		}
		metrics_set(f, (const char *[]){ st.name }, v);
	}
}

static void register_metrics(struct controller *c, struct metrics *m)
{
	static const struct { const char *name, *help; enum pool_metric what; } fams[] = {
		{ "barelb_allocator_addresses_total", "Usable addresses per pool.", PM_TOTAL },
		{ "barelb_allocator_addresses_in_use_total", "Addresses in use per pool.", PM_IN_USE },
		{ "barelb_allocator_ipv4_addresses_total", "Usable IPv4 addresses per pool.", PM_V4_TOTAL },
		{ "barelb_allocator_ipv4_addresses_in_use_total", "IPv4 addresses in use per pool.",
		  PM_V4_IN_USE },
		{ "barelb_allocator_ipv6_addresses_total", "Usable IPv6 addresses per pool.", PM_V6_TOTAL },
		{ "barelb_allocator_ipv6_addresses_in_use_total", "IPv6 addresses in use per pool.",
		  PM_V6_IN_USE },
	};
	for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		struct pool_collect *pc = &c->pool_collect[i];
		pc->c = c;
		pc->what = fams[i].what;
		metrics_on_collect(metrics_gauge(m, fams[i].name, fams[i].help, "pool"), collect_pools,
				   pc);
	}
	c->m_fail = metrics_counter(m, "barelb_allocator_allocation_failures_total",
				    "Allocations that failed, by reason.", "reason");
	source_register_metrics(c->src, m);
}

struct svc_list {
	struct controller *c;
	struct jsonw *w;
};

static void list_service(const struct kobj *o, void *arg)
{
	struct svc_list *sl = arg;
	char key[512], ip[ADDR_STRLEN];
	addr_t ips[2];
	const char *pool = NULL, *fail;
	size_t n;

	if (!is_ours(sl->c, o))
		return;
	kobj_key(o, key, sizeof key);
	n = alloc_get(sl->c->alloc, key, ips, &pool);
	fail = strmap_get(sl->c->failures, key);
	jsonw_obj_begin(sl->w);
	jsonw_kv_str(sl->w, "service", key);
	jsonw_key(sl->w, "ips");
	jsonw_arr_begin(sl->w);
	for (size_t i = 0; i < n; i++) {
		addr_format(&ips[i], ip, sizeof ip);
		jsonw_str(sl->w, ip);
	}
	jsonw_arr_end(sl->w);
	jsonw_kv_str(sl->w, "pool", pool);
	jsonw_kv_str(sl->w, "reason", fail ? fail : n ? "allocated" : "pending");
	jsonw_obj_end(sl->w);
}

static int cmd_services(void *arg, const char *args, struct jsonw *w, char *err, size_t errlen)
{
	struct svc_list sl = { arg, w };

	(void)args;
	(void)err;
	(void)errlen;
	jsonw_obj_begin(w);
	jsonw_key(w, "services");
	jsonw_arr_begin(w);
	store_foreach(source_store(sl.c->src), KOBJ_SERVICE, list_service, &sl);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static void pool_row(struct jsonw *w, const char *name, const char *fam, addr_u128 size,
		     uint64_t used, uint64_t held)
{
	char buf[48];
	addr_u128 used_all = (addr_u128)used + held;

	jsonw_obj_begin(w);
	jsonw_kv_str(w, "pool", name);
	jsonw_kv_str(w, "family", fam);
	jsonw_key(w, "size");
	jsonw_num_text(w, addr_u128_format(size, buf, sizeof buf));
	jsonw_kv_uint(w, "used", used);
	jsonw_kv_uint(w, "held", held);
	jsonw_key(w, "free");
	jsonw_num_text(w, addr_u128_format(size > used_all ? size - used_all : 0, buf, sizeof buf));
	jsonw_obj_end(w);
}

static int cmd_pools(void *arg, const char *args, struct jsonw *w, char *err, size_t errlen)
{
	struct controller *c = arg;
	struct alloc_pool_stats st;

	(void)args;
	(void)err;
	(void)errlen;
	jsonw_obj_begin(w);
	jsonw_key(w, "pools");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < alloc_pool_count(c->alloc); i++) {
		if (alloc_pool_stats(c->alloc, i, &st) < 0)
			continue;
		if (st.size_v4)
			pool_row(w, st.name, "ipv4", st.size_v4, st.used_v4, st.held_v4);
		if (st.size_v6)
			pool_row(w, st.name, "ipv6", st.size_v6, st.used_v6, st.held_v6);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

int controller_start(struct daemon_env *env, const struct config *cfg, void *arg)
{
	struct controller *c = arg;
	struct loop *l = env->l;
	struct source_opts so = {
		.kubeconfig = c->o->kubeconfig,
		.kinds = (1u << KOBJ_SERVICE) | (1u << KOBJ_NAMESPACE),
		.lease_namespace = c->o->namespace,
		.component = "barelb-controller",
		.writes_status = true,
	};
	struct source_handlers h = { .changed = on_changed, .synced = on_synced, .arg = c };

	c->l = l;
	c->work = loop_timer_new(l, do_work, c);
	c->hold_timer = loop_timer_new(l, on_hold_expiry, c);
	c->retry_timer = loop_timer_new(l, on_retry, c);
	apply_pools(c, cfg);
	c->src = source_new(l, c->o->source, &so, &h);
	if (!c->src)
		return -1;
	register_metrics(c, env->m);
	if (env->ctl) {
		control_register(env->ctl, "services", "Services, their IPs and why", cmd_services, c);
		control_register(env->ctl, "pools", "pool sizes and use by family", cmd_pools, c);
	}
	/* The controller is an API client and a file writer: it needs no capability at all. */
	if (caps_keep_only(NULL, 0) < 0)
		log_warn("msg=\"cannot drop capabilities\" err=\"%s\"", strerror(errno));
	if (c->o->leader_elect) {
		struct leader_opts lo = {
			.lease_name = "barelb-controller",
			.identity = c->o->identity,
			.on_started_leading = on_started_leading,
			.on_stopped_leading = on_stopped_leading,
			.arg = c,
		};
		c->leader = leader_new(l, c->src, &lo);
		if (!c->leader || leader_start(c->leader) < 0)
			return -1;
	} else {
		c->leading = true;
	}
	return source_start(c->src);
}

void controller_config_changed(const struct config *cfg, void *arg)
{
	struct controller *c = arg;

	apply_pools(c, cfg);
	mark_all_dirty(c);
}

void controller_stop(void *arg, void (*done)(void *), void *done_arg)
{
	struct controller *c = arg;

	/* Release the Lease so that a standby takes over at once instead of after its expiry. */
	if (c->leader)
		leader_release(c->leader, done, done_arg);
	else
		done(done_arg);
}

void controller_free(struct controller *c)
{
	if (!c)
		return;
	c->closing = true; /* pending writes are ended by source_free: no retries now */
	leader_free(c->leader);
	source_free(c->src);
	loop_timer_free(c->retry_timer);
	free_keys(c->retry, c->n_retry);
	strmap_free(c->inflight, inflight_free);
	loop_timer_free(c->work);
	loop_timer_free(c->hold_timer);
	alloc_free(c->alloc);
	free_keys(c->dirty, c->n_dirty);
	strmap_free(c->failures, free);
	free(c);
}

void controller_cleanup(void *arg)
{
	controller_free(arg);
}

bool controller_ready(void *arg, char *why, size_t n)
{
	struct controller *c = arg;

	/* A standby (not leading) is ready too: it is healthy and waiting for the Lease. */
	if (!c->synced) {
		snprintf(why, n, "waiting for the first sync of the cluster state");
		return false;
	}
	return true;
}

void controller_status(void *arg, struct jsonw *w)
{
	struct controller *c = arg;

	jsonw_kv_bool(w, "synced", c->synced);
	if (c->o->leader_elect)
		jsonw_kv_bool(w, "leader", c->leading);
	jsonw_kv_uint(w, "services_allocated", alloc_service_count(c->alloc));
}

