/* SPDX-License-Identifier: Apache-2.0 */
/* speaker: decides, for every LoadBalancer Service with an IP, whether this node announces it, and
 * drives the layer-2 responder accordingly.
 *
 * Inputs: Services, EndpointSlices, Nodes and speaker Leases from the source; the config's pools and
 * L2Advertisements; the node's interfaces. Each change marks the Services it can affect (a Service
 * or its slices: that Service; a Node, a Lease or the config: all); a zero-delay timer then
 * re-runs the pure election (elect.c) for the marked Services only, and the union of what this
 * node owns is handed to the responder per interface. Never withdraws because the API is
 * unreachable: the source keeps its cache then, so nothing changes. */
#include "speaker.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <time.h>
#include <sys/socket.h>

#include "barelb/caps.h"
#include "barelb/config.h"
#include "barelb/control.h"
#include "barelb/jsonw.h"
#include "barelb/log.h"
#include "barelb/metrics.h"
#include "barelb/run.h"
#include "barelb/loop.h"
#include "barelb/source.h"
#include "barelb/source_metrics.h"
#include "barelb/store.h"
#include "barelb/strmap.h"
#include "barelb/xalloc.h"
#include "announce_bgp.h"
#include "elect.h"
#include "iface.h"
#include "bgp/session.h"
#include "l2/responder.h"
#include "liveness.h"

#define ANN_POOL_OUT "barelb.io/ip-allocated-from-pool"
/* a pass over at least this many Services returns the heap it freed to the system */
#define TRIM_AFTER_SERVICES 4096

/* What this node does for one Service. */
struct svc_state {
	bool owned;
	enum elect_reason reason;
	char *owner;           /* NULL if none */
	addr_t ips[2];
	size_t n_ips;
	bool all_ifaces;
	char **ifnames;
	size_t n_ifnames;
	uint64_t withdraw_at;  /* hold-down: still announced until this loop time (0: none) */
	uint64_t since_ms;     /* loop time this node started announcing it (owned) */
};

struct speaker {
	const struct daemon_opts *o;
	struct loop *l;
	const struct config *cfg;
	struct source *src;
	struct liveness *live;
	struct iface_table *ifaces;
	struct responder *resp;
	struct bgp_announcer *bgp;
	unsigned stop_pending;      /* hand-over steps still running on SIGTERM */
	void (*stop_done)(void *);
	void *stop_done_arg;
	struct strmap *state;  /* "ns/name" → struct svc_state */
	struct strmap *dirty;  /* "ns/name" → (void *)1 */
	bool all_dirty;
	bool synced;
	bool stopping;
	struct loop_timer *work;
	struct loop_timer *hold;    /* the earliest withdraw_at, or a Node's grace end */
	uint64_t next_wake;         /* when hold is armed for; 0 if not */
	struct metrics_family *m_owner_changes;
	struct coll {
		struct speaker *s;
		int what;
	} coll[24];
};

/* Wake the work timer at t (loop ms) to re-evaluate everything: a hold-down or a grace period
 * ends then. Keeps the earliest of several requests. */
static void wake_at(struct speaker *s, uint64_t t)
{
	uint64_t now = loop_now_ms(s->l);

	if (s->next_wake && s->next_wake <= t && loop_timer_pending(s->hold))
		return;
	s->next_wake = t;
	loop_timer_arm(s->hold, t > now ? t - now : 0);
}

static void state_free(void *p)
{
	struct svc_state *st = p;

	if (!st)
		return;
	free(st->owner);
	for (size_t i = 0; i < st->n_ifnames; i++)
		free(st->ifnames[i]);
	free(st->ifnames);
	free(st);
}

static void kick(struct speaker *s)
{
	if (s->synced && !s->stopping && !loop_timer_pending(s->work))
		loop_timer_arm(s->work, 0);
}

static void mark(struct speaker *s, const char *key)
{
	strmap_put(s->dirty, key, (void *)1);
	kick(s);
}

static void mark_all(struct speaker *s)
{
	s->all_dirty = true;
	kick(s);
}

static bool is_ours(const struct speaker *s, const struct kobj *svc)
{
	const char *want = s->o->lb_class;

	if (!svc || svc->u.svc.type != SVC_LOAD_BALANCER || svc->u.svc.n_ingress == 0)
		return false;
	if (want && *want)
		return svc->u.svc.lb_class && strcmp(svc->u.svc.lb_class, want) == 0;
	return svc->u.svc.lb_class == NULL;
}

/* The pool a Service's IPs came from: the controller's annotation, else the pool holding the first
 * ingress IP. */
static const struct cfg_pool *pool_of(const struct speaker *s, const struct kobj *svc)
{
	const char *name = kmeta_annotation(&svc->meta, ANN_POOL_OUT);
	const struct cfg_pool *p;

	if (!name)
		name = kmeta_annotation(&svc->meta, "metallb.io/ip-allocated-from-pool");
	if (name && (p = config_find_pool(s->cfg, name)))
		return p;
	for (size_t i = 0; i < s->cfg->n_pools; i++)
		for (size_t j = 0; j < s->cfg->pools[i].n_cidrs; j++)
			if (prefix_contains(&s->cfg->pools[i].cidrs[j], &svc->u.svc.ingress[0]))
				return &s->cfg->pools[i];
	return NULL;
}

static bool ad_selects_pool(const struct cfg_l2adv *ad, const struct cfg_pool *p)
{
	if (ad->n_pools == 0 && ad->n_pool_selectors == 0)
		return true; /* no pool reference: every pool */
	for (size_t i = 0; i < ad->n_pools; i++)
		if (strcmp(ad->pools[i], p->name) == 0)
			return true;
	return ad->n_pool_selectors &&
	       cfg_selectors_match_any(ad->pool_selectors, ad->n_pool_selectors, p->labels, p->n_labels);
}

/* ---- the election's inputs, indexed once per pass ---- */

/* Built at the start of a pass and shared by every Service decided in it, so that a pass costs
 * O(slices + services + nodes) plus, per dirty Service, O(its slices + nodes): never a scan of
 * every object for every Service. */
struct slice_vec {
	const struct endpointslice **v;
	size_t n, cap;
};

struct pass {
	struct speaker *s;
	struct strmap *slices;  /* "ns/service" → struct slice_vec */
	struct strmap *ip_use;  /* ingress IP text → number of our Services holding it */
	struct elect_node *nodes;
	size_t n_nodes, cap_nodes;
	uint64_t wake_in_ms;    /* a Node's grace period ends in this many ms (0: none) */
};

static void slice_vec_free(void *p)
{
	struct slice_vec *v = p;
	if (v)
		free(v->v);
	free(v);
}

static void index_slice(const struct kobj *o, void *arg)
{
	struct pass *ps = arg;
	char key[512];
	struct slice_vec *v;

	if (!o->u.eps.service_name)
		return;
	snprintf(key, sizeof key, "%s/%s", o->meta.namespace ? o->meta.namespace : "",
		 o->u.eps.service_name);
	v = strmap_get(ps->slices, key);
	if (!v) {
		v = xcalloc(1, sizeof *v);
		strmap_put(ps->slices, key, v);
	}
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 2;
		v->v = xrealloc(v->v, v->cap * sizeof *v->v);
	}
	v->v[v->n++] = &o->u.eps;
}

static void index_ips(const struct kobj *o, void *arg)
{
	struct pass *ps = arg;
	char ip[ADDR_STRLEN];

	if (o->u.svc.type != SVC_LOAD_BALANCER)
		return;
	for (size_t i = 0; i < o->u.svc.n_ingress; i++) {
		addr_format(&o->u.svc.ingress[i], ip, sizeof ip);
		strmap_put(ps->ip_use, ip, (void *)((uintptr_t)strmap_get(ps->ip_use, ip) + 1));
	}
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ready False or Unknown for longer than the grace period: the node is broken even if its
 * speaker still renews (kubelet gone, node partitioned from the control plane). Before the
 * grace ends, ask for a re-evaluation at that moment (*wake_in_ms). */
static bool node_not_ready(const struct speaker *s, const struct kobj *o, uint64_t *wake_in_ms)
{
	const struct node *n = &o->u.node;
	int64_t grace = (int64_t)s->o->notready_grace_s * 1000, since, now, left;

	if (n->ready != KCOND_FALSE && n->ready != KCOND_UNKNOWN)
		return false;
	now = wall_ms();
	since = n->ready_since_ms ? n->ready_since_ms : now;
	if (now - since >= grace)
		return true;
	left = since + grace - now;
	if (!*wake_in_ms || (uint64_t)left < *wake_in_ms)
		*wake_in_ms = (uint64_t)left;
	return false;
}

static void index_node(const struct kobj *o, void *arg)
{
	struct pass *ps = arg;

	if (ps->n_nodes == ps->cap_nodes) {
		ps->cap_nodes = ps->cap_nodes ? ps->cap_nodes * 2 : 8;
		ps->nodes = xrealloc(ps->nodes, ps->cap_nodes * sizeof *ps->nodes);
	}
	ps->nodes[ps->n_nodes++] = (struct elect_node){
		.name = o->meta.name,
		.labels = o->meta.labels,
		.n_labels = o->meta.n_labels,
		.network_unavailable = o->u.node.network_unavailable,
		.alive = liveness_alive(ps->s->live, o->meta.name) &&
			 !node_not_ready(ps->s, o, &ps->wake_in_ms),
	};
}

static void pass_begin(struct pass *ps, struct speaker *s)
{
	memset(ps, 0, sizeof *ps);
	ps->s = s;
}

/* The indexes are built by the first decision that needs them: a pass in which no Service's pool
 * has an L2Advertisement (a BGP-only pool) never pays for them. */
static void pass_index(struct pass *ps)
{
	const struct store *st = source_store(ps->s->src);

	if (ps->slices)
		return;
	ps->slices = strmap_new();
	ps->ip_use = strmap_new();
	store_foreach(st, KOBJ_ENDPOINTSLICE, index_slice, ps);
	store_foreach(st, KOBJ_SERVICE, index_ips, ps);
	store_foreach(st, KOBJ_NODE, index_node, ps);
}

static void pass_end(struct pass *ps)
{
	if (ps->wake_in_ms)
		wake_at(ps->s, loop_now_ms(ps->s->l) + ps->wake_in_ms + 1);
	strmap_free(ps->slices, slice_vec_free);
	strmap_free(ps->ip_use, NULL);
	free(ps->nodes);
}

static bool shares_ip(const struct pass *ps, const struct kobj *svc)
{
	char ip[ADDR_STRLEN];

	for (size_t i = 0; i < svc->u.svc.n_ingress; i++) {
		addr_format(&svc->u.svc.ingress[i], ip, sizeof ip);
		if ((uintptr_t)strmap_get(ps->ip_use, ip) > 1)
			return true;
	}
	return false;
}

static struct svc_state *decide(struct pass *ps, const char *key, const struct kobj *svc)
{
	struct speaker *s = ps->s;
	const struct cfg_pool *pool;
	const struct cfg_l2adv **ads = NULL;
	const struct slice_vec *sv;
	size_t n_ads = 0;
	struct elect_input in = { 0 };
	struct elect_result res = { 0 };
	struct svc_state *out = xcalloc(1, sizeof *out);

	out->n_ips = svc->u.svc.n_ingress < 2 ? svc->u.svc.n_ingress : 2;
	memcpy(out->ips, svc->u.svc.ingress, out->n_ips * sizeof(addr_t));
	pool = pool_of(s, svc);
	if (!pool) {
		out->reason = ELECT_NO_ADVERTISEMENT;
		return out;
	}
	ads = xcalloc(s->cfg->n_l2advs + 1, sizeof *ads);
	for (size_t i = 0; i < s->cfg->n_l2advs; i++)
		if (ad_selects_pool(&s->cfg->l2advs[i], pool))
			ads[n_ads++] = &s->cfg->l2advs[i];
	if (n_ads == 0) {
		/* The pool is not announced on the LAN (BGP only, or no advertisement yet). */
		out->reason = ELECT_NO_ADVERTISEMENT;
		free(ads);
		return out;
	}
	pass_index(ps);
	sv = strmap_get(ps->slices, key);

	in.svc_key = key;
	in.svc_labels = svc->meta.labels;
	in.n_svc_labels = svc->meta.n_labels;
	in.ingress = svc->u.svc.ingress;
	in.n_ingress = svc->u.svc.n_ingress;
	in.etp = svc->u.svc.etp;
	in.shares_ip = shares_ip(ps, svc);
	in.slices = sv ? sv->v : NULL;
	in.n_slices = sv ? sv->n : 0;
	in.nodes = ps->nodes;
	in.n_nodes = ps->n_nodes;
	in.ads = ads;
	in.n_ads = n_ads;
	in.ready_only = s->o->terminating_drop;
	if (elect_l2(&in, &res) < 0)
		abort();
	out->reason = res.reason;
	if (res.owner) {
		out->owner = xstrdup(res.owner);
		out->owned = strcmp(res.owner, s->o->node) == 0;
	}
	out->all_ifaces = res.all_interfaces;
	if (res.n_interfaces) {
		out->ifnames = xcalloc(res.n_interfaces, sizeof *out->ifnames);
		for (size_t i = 0; i < res.n_interfaces; i++)
			out->ifnames[i] = xstrdup(res.interfaces[i]);
		out->n_ifnames = res.n_interfaces;
	}
	elect_result_free(&res);
	free(ads);
	return out;
}

/* ---- applying: owned IPs per interface ---- */

struct per_if {
	addr_t *ips;
	size_t n, cap;
};

struct apply_ctx {
	struct speaker *s;
	struct per_if *pi; /* indexed like iface_at() */
	size_t n_if;
};

static void per_if_add(struct per_if *p, const addr_t *ip)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->ips = realloc(p->ips, p->cap * sizeof *p->ips);
		if (!p->ips)
			abort();
	}
	p->ips[p->n++] = *ip;
}

static void apply_one(const char *key, void *val, void *arg)
{
	struct apply_ctx *a = arg;
	struct svc_state *st = val;
	(void)key;

	if (!st->owned)
		return;
	for (size_t k = 0; k < st->n_ips; k++) {
		for (size_t i = 0; i < a->n_if; i++) {
			const struct iface *ifc = iface_at(a->s->ifaces, i);
			bool want = false;

			if (!iface_usable(ifc))
				continue;
			if (st->all_ifaces || st->n_ifnames == 0) {
				/* Default: only interfaces whose configured subnet holds the IP, so a
				 * multi-NIC node never answers on the wrong LAN. */
				for (size_t p = 0; p < ifc->n_prefixes && !want; p++)
					want = prefix_contains(&ifc->prefixes[p].net, &st->ips[k]);
			} else {
				for (size_t n = 0; n < st->n_ifnames && !want; n++)
					want = strcmp(st->ifnames[n], ifc->name) == 0;
			}
			if (want)
				per_if_add(&a->pi[i], &st->ips[k]);
		}
	}
}

static void apply(struct speaker *s)
{
	struct apply_ctx a = { .s = s, .n_if = iface_count(s->ifaces) };

	a.pi = calloc(a.n_if + 1, sizeof *a.pi);
	if (!a.pi)
		abort();
	if (!s->stopping)
		strmap_foreach(s->state, apply_one, &a);
	for (size_t i = 0; i < a.n_if; i++) {
		const struct iface *ifc = iface_at(s->ifaces, i);
		if (iface_usable(ifc) && ifc->has_mac) {
			int rc = responder_set_owned(s->resp, ifc->index, a.pi[i].ips, a.pi[i].n);
			if (rc == -ENOENT && a.pi[i].n) {
				/* Interface not yet watched: start answering on it. */
				if (responder_add_iface(s->resp, ifc->index, ifc->name, ifc->mac) == 0)
					responder_set_owned(s->resp, ifc->index, a.pi[i].ips, a.pi[i].n);
			}
		}
		free(a.pi[i].ips);
	}
	free(a.pi);
}

static void log_transition(const char *key, const struct svc_state *was, const struct svc_state *now,
			   const char *self)
{
	char ip[ADDR_STRLEN] = "";

	if (now->n_ips)
		addr_format(&now->ips[0], ip, sizeof ip);
	if (now->owned && (!was || !was->owned))
		log_info("svc=%s msg=\"announcing\" ip=%s node=%s", key, ip, self);
	else if (!now->owned && was && was->owned)
		log_info("svc=%s msg=\"stopped announcing\" ip=%s owner=%s reason=%s", key, ip,
			 now->owner ? now->owner : "none", elect_reason_name(now->reason));
}

static void work_one(const char *key, void *val, void *arg)
{
	struct pass *ps = arg;
	struct speaker *s = ps->s;
	char ns[256], name[256];
	const char *slash = strchr(key, '/');
	const struct kobj *svc;
	struct svc_state *now = NULL, *was;
	(void)val;

	if (!slash || (size_t)(slash - key) >= sizeof ns || strlen(slash + 1) >= sizeof name)
		return;
	memcpy(ns, key, (size_t)(slash - key));
	ns[slash - key] = 0;
	strcpy(name, slash + 1);
	svc = store_get(source_store(s->src), KOBJ_SERVICE, ns, name);
	if (is_ours(s, svc) && s->cfg)
		now = decide(ps, key, svc);
	was = strmap_get(s->state, key);
	if (now && was && was->owned && !now->owned && !now->owner && s->o->withdraw_hold_ms &&
	    (now->reason == ELECT_NO_ENDPOINTS || now->reason == ELECT_NO_LOCAL_ENDPOINT)) {
		/* The last endpoint went and nobody else takes over: keep answering for the hold-down,
		 * so an endpoint that flaps does not flap the announcement (and its gratuitous bursts).
		 * When another node becomes the owner there is no hold: one owner at a time. */
		uint64_t t = loop_now_ms(s->l);
		if (!was->withdraw_at) {
			was->withdraw_at = t + s->o->withdraw_hold_ms;
			log_debug("svc=%s msg=\"no endpoint: withdrawing after the hold-down\" ms=%u", key,
				  s->o->withdraw_hold_ms);
		}
		if (t < was->withdraw_at) {
			wake_at(s, was->withdraw_at);
			state_free(now);
			return;
		}
	}
	if (now) {
		log_transition(key, was, now, s->o->node);
		if (was && s->m_owner_changes &&
		    !(was->owner == now->owner ||
		      (was->owner && now->owner && strcmp(was->owner, now->owner) == 0)))
			metrics_inc(s->m_owner_changes, NULL);
		now->since_ms = was && was->owned && now->owned ? was->since_ms : loop_now_ms(s->l);
		state_free(strmap_put(s->state, key, now));
	} else if (was) {
		if (was->owned)
			log_info("svc=%s msg=\"stopped announcing\" reason=service-gone", key);
		state_free(strmap_del(s->state, key));
	}
}

static void collect_all(const struct kobj *o, void *arg)
{
	char key[512];
	strmap_put(arg, kobj_key(o, key, sizeof key), (void *)1);
}

static void collect_state_keys(const char *key, void *val, void *arg)
{
	(void)val;
	strmap_put(arg, key, (void *)1);
}

static bool bgp_is_ours(const struct kobj *svc, void *arg)
{
	return is_ours(arg, svc);
}

/* This node may announce over BGP: its speaker is alive (own Lease seen) and its Node is not
 * NotReady past the grace period. The plan checks the exclude label and NetworkUnavailable. */
static bool self_eligible(struct speaker *s)
{
	const struct kobj *me = store_get(source_store(s->src), KOBJ_NODE, NULL, s->o->node);
	uint64_t wake = 0;

	if (!liveness_alive(s->live, s->o->node))
		return false;
	if (me && node_not_ready(s, me, &wake))
		return false;
	if (wake)
		wake_at(s, loop_now_ms(s->l) + wake + 1);
	return true;
}

static void do_work(void *arg)
{
	struct speaker *s = arg;
	struct strmap *todo = s->dirty;
	bool big;

	s->dirty = strmap_new();
	if (s->all_dirty) {
		store_foreach(source_store(s->src), KOBJ_SERVICE, collect_all, todo);
		/* and the ones we have state for, which may be gone from the store */
		strmap_foreach(s->state, collect_state_keys, todo);
		s->all_dirty = false;
	}
	if (s->cfg && s->cfg->n_l2advs == 0) {
		/* No L2Advertisement at all (a BGP-only setup): nothing is answered on the LAN, and no
		 * Service needs a layer-2 decision. Forget the ones we had. */
		strmap_free(s->state, state_free);
		s->state = strmap_new();
	} else if (strmap_count(todo)) {
		struct pass ps;
		pass_begin(&ps, s);
		strmap_foreach(todo, work_one, &ps);
		pass_end(&ps);
	}
	big = strmap_count(todo) >= TRIM_AFTER_SERVICES;
	strmap_free(todo, NULL);
	apply(s);
	if (s->cfg && (s->cfg->n_peers || bgp_announcer_session_count(s->bgp)))
		bgp_announcer_update(s->bgp, s->cfg, source_store(s->src), bgp_is_ours, s,
				     self_eligible(s), s->o->terminating_drop);
#ifdef __GLIBC__
	/* a pass over every Service (start, config reload) frees large temporary indexes and
	 * plans; glibc would keep that heap for good */
	if (big)
		malloc_trim(0);
#else
	(void)big;
#endif
}

/* ---- inputs ---- */

struct sharers {
	struct speaker *s;
	const struct kobj *a, *b;
};

static bool holds_ip(const struct kobj *o, const addr_t *ip)
{
	for (size_t i = 0; o && i < o->u.svc.n_ingress; i++)
		if (addr_eq(&o->u.svc.ingress[i], ip))
			return true;
	return false;
}

static void mark_sharers(const char *key, void *val, void *arg)
{
	struct sharers *sh = arg;
	struct svc_state *st = val;

	for (size_t i = 0; i < st->n_ips; i++)
		if (holds_ip(sh->a, &st->ips[i]) || holds_ip(sh->b, &st->ips[i])) {
			strmap_put(sh->s->dirty, key, (void *)1);
			return;
		}
}

static void on_changed(void *arg, enum source_event ev, const struct kobj *old,
		       const struct kobj *now)
{
	struct speaker *s = arg;
	const struct kobj *o = now ? now : old;
	char key[512];

	switch (o->kind) {
	case KOBJ_SERVICE: {
		/* A shared IP changes the decision of every sharer: mark the Services we hold state
		 * for that have one of this Service's old or new IPs (a compare per Service, not an
		 * election per Service). */
		struct sharers sh = { s, old, now };
		mark(s, kobj_key(o, key, sizeof key));
		if ((old && old->u.svc.n_ingress) || (now && now->u.svc.n_ingress))
			strmap_foreach(s->state, mark_sharers, &sh);
		break;
	}
	case KOBJ_ENDPOINTSLICE:
		if (o->u.eps.service_name) {
			snprintf(key, sizeof key, "%s/%s", o->meta.namespace ? o->meta.namespace : "",
				 o->u.eps.service_name);
			mark(s, key);
		}
		break;
	case KOBJ_NODE:
		mark_all(s);
		break;
	case KOBJ_LEASE:
		liveness_on_lease(s->live, ev, old, now);
		break;
	default:
		break;
	}
}

struct owned_by {
	struct speaker *s;
	const char *node;
};

static void mark_if_owned_by(const char *key, void *val, void *arg)
{
	struct owned_by *ob = arg;
	struct svc_state *st = val;

	if (st->owner && strcmp(st->owner, ob->node) == 0)
		strmap_put(ob->s->dirty, key, (void *)1);
}

static void on_liveness(const char *node, bool alive, void *arg)
{
	struct speaker *s = arg;
	struct owned_by ob = { s, node };

	/* A node that joins may win any IP by its hash: everything is re-decided. A node that leaves
	 * only changes the services it owned. */
	if (alive) {
		mark_all(s);
		return;
	}
	strmap_foreach(s->state, mark_if_owned_by, &ob);
	kick(s);
}

static void on_hold(void *arg)
{
	struct speaker *s = arg;

	s->next_wake = 0;
	mark_all(s);
}

static void on_synced(void *arg)
{
	struct speaker *s = arg;

	s->synced = true;
	log_info("msg=\"cluster state synced\" services=%zu nodes=%zu",
		 store_count(source_store(s->src), KOBJ_SERVICE),
		 store_count(source_store(s->src), KOBJ_NODE));
	liveness_start(s->live);
	mark_all(s);
}

static void on_iface(const struct iface *ifc, enum iface_event ev, void *arg)
{
	struct speaker *s = arg;

	if (ev == IFACE_REMOVED || !iface_usable(ifc))
		responder_del_iface(s->resp, ifc->index);
	else if (ev == IFACE_CHANGED)
		responder_del_iface(s->resp, ifc->index); /* MAC or addresses: re-add on apply */
	log_debug("iface=%s msg=\"interface %s\"", ifc->name,
		  ev == IFACE_ADDED ? "added" : ev == IFACE_REMOVED ? "removed" : "changed");
	/* Owned IPs follow the interface at once. */
	if (s->synced)
		apply(s);
}

static int read_sysctl_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* kube-proxy in IPVS mode puts every service IP on kube-ipvs0; without strictARP (arp_ignore=1,
 * arp_announce=2) every node's kernel then answers ARP for them too, and the LAN sees several
 * owners. MetalLB users hit this often: say so at start. */
static void preflight_ipvs(const struct speaker *s)
{
	int ign, ann;

	if (!iface_by_name(s->ifaces, "kube-ipvs0"))
		return;
	ign = read_sysctl_int("/proc/sys/net/ipv4/conf/all/arp_ignore");
	ann = read_sysctl_int("/proc/sys/net/ipv4/conf/all/arp_announce");
	if (ign != 1 || ann != 2)
		log_warn("msg=\"kube-proxy IPVS mode without strictARP: every node will answer ARP for "
			 "service IPs; set strictARP: true in kube-proxy's config (arp_ignore=1, "
			 "arp_announce=2)\" arp_ignore=%d arp_announce=%d", ign, ann);
}

/* ---- metrics ---- */

enum coll_what {
	C_FRAMES, C_ARP_REQ, C_NS, C_ARP_REPLY, C_NA, C_GARP, C_UNSOL_NA, C_SEND_ERR, C_DROPS, C_CONFLICTS,
	C_ANNOUNCED, C_LEASE_ERR, C_BGP_UP, C_BGP_UPD_TX, C_BGP_UPD_RX, C_BGP_PFX, C_BGP_PENDING,
	C_BGP_NOTIF_TX, C_BGP_NOTIF_RX, C_BGP_MALFORMED, C_COUNT
};

struct announced_ctx {
	struct speaker *s;
	struct metrics_family *f;
};

static void announced_one(const char *key, void *val, void *arg)
{
	struct announced_ctx *ac = arg;
	struct svc_state *st = val;
	char ip[ADDR_STRLEN];

	if (!st->owned)
		return;
	for (size_t i = 0; i < st->n_ips; i++) {
		addr_format(&st->ips[i], ip, sizeof ip);
		metrics_set(ac->f, (const char *[]){ key, "layer2", ac->s->o->node, ip }, 1);
	}
}

struct bgp_coll {
	struct metrics_family *f;
	enum coll_what what;
};

static void bgp_one(const struct bgp_peer_info *p, const struct bgp_session *bs, void *arg)
{
	struct bgp_coll *bc = arg;
	struct bgp_session_stats st;
	char peer[ADDR_STRLEN + 8];
	double v = 0;

	bgp_session_stats(bs, &st);
	snprintf(peer, sizeof peer, "%s:%u", p->address, p->port ? p->port : 179);
	switch (bc->what) {
	case C_BGP_UP: v = st.state == BGP_ESTABLISHED; break;
	case C_BGP_UPD_TX: v = (double)st.updates_sent; break;
	case C_BGP_UPD_RX: v = (double)st.updates_received; break;
	case C_BGP_PFX: v = (double)st.prefixes_sent; break;
	case C_BGP_PENDING:
		v = st.prefixes_wanted > st.prefixes_sent ? (double)(st.prefixes_wanted - st.prefixes_sent) : 0;
		break;
	case C_BGP_NOTIF_TX: v = (double)st.notifications_sent; break;
	case C_BGP_NOTIF_RX: v = (double)st.notifications_received; break;
	case C_BGP_MALFORMED: v = (double)st.malformed_received; break;
	default: break;
	}
	metrics_set(bc->f, (const char *[]){ peer }, v);
}

static void collect(struct metrics_family *f, void *arg)
{
	struct coll *c = arg;
	struct speaker *s = c->s;
	struct responder_counters rc;
	enum coll_what w = (enum coll_what)c->what;

	if (w == C_ANNOUNCED) {
		struct announced_ctx ac = { s, f };
		strmap_foreach(s->state, announced_one, &ac);
		return;
	}
	if (w == C_LEASE_ERR) {
		char lease[300];
		snprintf(lease, sizeof lease, "%s%s", LIVENESS_LEASE_PREFIX, s->o->node);
		metrics_set(f, (const char *[]){ lease },
			    s->live ? (double)liveness_renew_errors(s->live) : 0);
		return;
	}
	if (w >= C_BGP_UP) {
		struct bgp_coll bc = { f, w };
		if (s->bgp)
			bgp_announcer_foreach(s->bgp, bgp_one, &bc);
		return;
	}
	if (!s->resp)
		return;
	responder_get_counters(s->resp, &rc);
	switch (w) {
	case C_FRAMES: metrics_set(f, NULL, (double)rc.frames_received); break;
	case C_ARP_REQ: metrics_set(f, NULL, (double)rc.arp_requests); break;
	case C_NS: metrics_set(f, NULL, (double)rc.ns_received); break;
	case C_ARP_REPLY: metrics_set(f, NULL, (double)rc.arp_replies_sent); break;
	case C_NA: metrics_set(f, NULL, (double)rc.na_replies_sent); break;
	case C_GARP: metrics_set(f, NULL, (double)rc.garp_sent); break;
	case C_UNSOL_NA: metrics_set(f, NULL, (double)rc.unsolicited_na_sent); break;
	case C_SEND_ERR: metrics_set(f, NULL, (double)rc.send_errors); break;
	case C_CONFLICTS: metrics_set(f, NULL, (double)rc.conflicts); break;
	case C_DROPS:
		for (int d = 0; d < RESP_DROP_COUNT; d++)
			metrics_set(f, (const char *[]){ responder_drop_name((enum responder_drop)d) },
				    (double)rc.drops[d]);
		break;
	default: break;
	}
}

static void register_metrics(struct speaker *s, struct metrics *m)
{
	static const struct { enum coll_what w; bool gauge; const char *name, *help, *labels; } fams[] = {
		{ C_FRAMES, false, "barelb_layer2_frames_received_total", "Frames read by the layer-2 responder.", NULL },
		{ C_ARP_REQ, false, "barelb_layer2_arp_requests_received_total", "Well-formed ARP requests received.", NULL },
		{ C_NS, false, "barelb_layer2_ns_received_total", "Well-formed neighbour solicitations received.", NULL },
		{ C_ARP_REPLY, false, "barelb_layer2_arp_replies_sent_total", "ARP replies sent.", NULL },
		{ C_NA, false, "barelb_layer2_na_sent_total", "Solicited neighbour advertisements sent.", NULL },
		{ C_GARP, false, "barelb_layer2_gratuitous_arp_sent_total", "Gratuitous ARP frames sent.", NULL },
		{ C_UNSOL_NA, false, "barelb_layer2_unsolicited_na_sent_total", "Unsolicited neighbour advertisements sent.", NULL },
		{ C_SEND_ERR, false, "barelb_layer2_send_errors_total", "Frames that could not be sent.", NULL },
		{ C_DROPS, false, "barelb_layer2_dropped_total", "Received frames dropped, by kind.", "kind" },
		{ C_CONFLICTS, false, "barelb_layer2_conflicts_total", "Frames from another MAC claiming an IP this node owns (duplicate address).", NULL },
		{ C_ANNOUNCED, true, "barelb_speaker_announced", "Service IPs this node announces.", "service,protocol,node,ip" },
		{ C_LEASE_ERR, false, "barelb_lease_renew_errors_total", "Lease renewals that failed.", "lease" },
		{ C_BGP_UP, true, "barelb_bgp_session_up", "1 while the BGP session is Established.", "peer" },
		{ C_BGP_UPD_TX, false, "barelb_bgp_updates_total", "BGP UPDATE messages sent.", "peer" },
		{ C_BGP_UPD_RX, false, "barelb_bgp_updates_total_received", "BGP UPDATE messages received.", "peer" },
		{ C_BGP_PFX, true, "barelb_bgp_announced_prefixes_total", "Prefixes announced to the peer now.", "peer" },
		{ C_BGP_PENDING, true, "barelb_bgp_pending_prefixes_total", "Prefixes wanted but not yet sent.", "peer" },
		{ C_BGP_NOTIF_TX, false, "barelb_bgp_notifications_sent", "NOTIFICATION messages sent.", "peer" },
		{ C_BGP_NOTIF_RX, false, "barelb_bgp_notifications_received", "NOTIFICATION messages received.", "peer" },
		{ C_BGP_MALFORMED, false, "barelb_bgp_malformed_received_total", "Malformed messages received.", "peer" },
	};
	for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		struct metrics_family *f = fams[i].gauge ?
			metrics_gauge(m, fams[i].name, fams[i].help, fams[i].labels) :
			metrics_counter(m, fams[i].name, fams[i].help, fams[i].labels);
		s->coll[i] = (struct coll){ s, fams[i].w };
		metrics_on_collect(f, collect, &s->coll[i]);
	}
	s->m_owner_changes = metrics_counter(m, "barelb_layer2_owner_changes_total",
					     "Times a service's elected layer-2 owner changed.", NULL);
	source_register_metrics(s->src, m);
}

/* ---- control commands ---- */

static void ips_json(struct jsonw *w, const struct svc_state *st)
{
	char ip[ADDR_STRLEN];

	jsonw_key(w, "ips");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < st->n_ips; i++) {
		addr_format(&st->ips[i], ip, sizeof ip);
		jsonw_str(w, ip);
	}
	jsonw_arr_end(w);
}

static void svc_json(const char *key, void *val, void *arg)
{
	struct jsonw *w = arg;
	struct svc_state *st = val;

	jsonw_obj_begin(w);
	jsonw_kv_str(w, "service", key);
	ips_json(w, st);
	jsonw_kv_str(w, "mode", "layer2");
	jsonw_kv_str(w, "owner", st->owner);
	jsonw_kv_str(w, "reason", st->withdraw_at ? "withdrawing (hold-down)" :
				  elect_reason_name(st->reason));
	jsonw_obj_end(w);
}

static int cmd_services(void *arg, const char *args, struct jsonw *w, char *err, size_t errlen)
{
	struct speaker *s = arg;

	(void)args;
	(void)err;
	(void)errlen;
	jsonw_obj_begin(w);
	jsonw_key(w, "services");
	jsonw_arr_begin(w);
	strmap_foreach(s->state, svc_json, w);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

struct ann_ctx {
	struct speaker *s;
	struct jsonw *w;
	uint64_t now;
};

static void ann_one(const char *key, void *val, void *arg)
{
	struct ann_ctx *ac = arg;
	struct svc_state *st = val;
	char ip[ADDR_STRLEN];

	if (!st->owned)
		return;
	for (size_t i = 0; i < st->n_ips; i++) {
		for (size_t k = 0; k < iface_count(ac->s->ifaces); k++) {
			const struct iface *ifc = iface_at(ac->s->ifaces, k);
			if (!responder_owns(ac->s->resp, ifc->index, &st->ips[i]))
				continue;
			addr_format(&st->ips[i], ip, sizeof ip);
			jsonw_obj_begin(ac->w);
			jsonw_kv_str(ac->w, "ip", ip);
			jsonw_kv_str(ac->w, "service", key);
			jsonw_kv_str(ac->w, "interface", ifc->name);
			jsonw_kv_str(ac->w, "mode", "layer2");
			jsonw_kv_uint(ac->w, "age_s", (ac->now - st->since_ms) / 1000);
			jsonw_obj_end(ac->w);
		}
	}
}

static int cmd_announcements(void *arg, const char *args, struct jsonw *w, char *err,
			     size_t errlen)
{
	struct speaker *s = arg;
	struct ann_ctx ac = { s, w, loop_now_ms(s->l) };

	(void)args;
	(void)err;
	(void)errlen;
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "node", s->o->node);
	jsonw_key(w, "announcements");
	jsonw_arr_begin(w);
	if (s->resp && s->ifaces)
		strmap_foreach(s->state, ann_one, &ac);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static void peer_json(const struct bgp_peer_info *p, const struct bgp_session *bs, void *arg)
{
	struct jsonw *w = arg;
	struct bgp_session_stats st;

	bgp_session_stats(bs, &st);
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "name", p->name);
	jsonw_kv_str(w, "address", p->address);
	jsonw_kv_uint(w, "port", p->port ? p->port : 179);
	jsonw_kv_uint(w, "peer_asn", p->peer_asn);
	jsonw_kv_uint(w, "my_asn", p->my_asn);
	jsonw_kv_str(w, "state", bgp_state_name(st.state));
	if (st.state == BGP_ESTABLISHED)
		jsonw_kv_uint(w, "uptime_s", st.uptime_ms / 1000);
	else
		jsonw_kv_null(w, "uptime_s");
	jsonw_kv_uint(w, "prefixes_sent", st.prefixes_sent);
	jsonw_kv_str(w, "last_error", st.last_error[0] ? st.last_error : NULL);
	if (st.notifications_received || st.notifications_sent) {
		bool rx = st.notifications_received != 0;
		jsonw_key(w, "last_notification");
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "direction", rx ? "received" : "sent");
		jsonw_kv_uint(w, "code", rx ? st.last_recv_code : st.last_sent_code);
		jsonw_kv_uint(w, "subcode", rx ? st.last_recv_subcode : st.last_sent_subcode);
		jsonw_obj_end(w);
	} else {
		jsonw_kv_null(w, "last_notification");
	}
	jsonw_obj_end(w);
}

static int cmd_peers(void *arg, const char *args, struct jsonw *w, char *err, size_t errlen)
{
	struct speaker *s = arg;

	(void)args;
	(void)err;
	(void)errlen;
	jsonw_obj_begin(w);
	jsonw_key(w, "peers");
	jsonw_arr_begin(w);
	if (s->bgp)
		bgp_announcer_foreach(s->bgp, peer_json, w);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}


struct speaker *speaker_new(const struct daemon_opts *o)
{
	struct speaker *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->o = o;
	s->state = strmap_new();
	s->dirty = strmap_new();
	return s;
}

int speaker_start(struct daemon_env *env, const struct config *cfg, void *arg)
{
	struct speaker *s = arg;
	struct loop *l = env->l;
	struct source_opts so = {
		.kubeconfig = s->o->kubeconfig,
		.kinds = (1u << KOBJ_SERVICE) | (1u << KOBJ_ENDPOINTSLICE) | (1u << KOBJ_NODE) |
			 (1u << KOBJ_LEASE),
		.lease_namespace = s->o->namespace,
		.component = "barelb-speaker",
		.node = s->o->node,
	};
	struct source_handlers h = { .changed = on_changed, .synced = on_synced, .arg = s };
	struct liveness_opts lo = {
		.node = s->o->node,
		.duration_s = s->o->lease_duration_s,
		.renew_ms = s->o->lease_renew_ms,
		.changed = on_liveness,
		.arg = s,
	};

	s->l = l;
	s->cfg = cfg;
	s->work = loop_timer_new(l, do_work, s);
	s->hold = loop_timer_new(l, on_hold, s);
	s->resp = responder_new(l, NULL);
	s->bgp = bgp_announcer_new(l, s->o->node);
	s->ifaces = iface_table_new(l, NULL, on_iface, s);
	if (!s->resp || !s->ifaces) {
		log_error("msg=\"cannot open the layer-2 responder or the interface table (needs "
			  "CAP_NET_RAW and CAP_NET_ADMIN)\"");
		return -1;
	}
	preflight_ipvs(s);
	s->src = source_new(l, s->o->source, &so, &h);
	if (!s->src)
		return -1;
	/* Sockets and netlink are open: from here on only new raw sockets (interfaces that appear
	 * later) and multicast membership need privileges. */
	const int keep[] = { CAP_NET_RAW, CAP_NET_ADMIN };
	if (caps_keep_only(keep, 2) < 0)
		log_warn("msg=\"cannot drop capabilities\" err=\"%s\"", strerror(errno));
	s->live = liveness_new(l, s->src, &lo);
	if (!s->live)
		return -1;
	register_metrics(s, env->m);
	if (env->ctl) {
		control_register(env->ctl, "services", "Services with IPs: owner and why", cmd_services,
				 s);
		control_register(env->ctl, "announcements", "IPs this node answers for", cmd_announcements,
				 s);
		control_register(env->ctl, "peers", "BGP sessions", cmd_peers, s);
	}
	return source_start(s->src);
}

void speaker_config_changed(const struct config *cfg, void *arg)
{
	struct speaker *s = arg;

	s->cfg = cfg;
	mark_all(s);
}

static void stop_step_done(void *arg)
{
	struct speaker *s = arg;

	if (s->stop_pending && --s->stop_pending == 0)
		s->stop_done(s->stop_done_arg);
}

void speaker_stop(void *arg, void (*done)(void *), void *done_arg)
{
	struct speaker *s = arg;

	/* Stop answering first, then release the Lease so the next owner takes over at once, and
	 * close the BGP sessions with a Cease so routers drop our routes at once. */
	s->stopping = true;
	s->stop_done = done;
	s->stop_done_arg = done_arg;
	s->stop_pending = 2;
	if (s->ifaces && s->resp)
		apply(s);
	if (s->live)
		liveness_leave(s->live, stop_step_done, s);
	else
		stop_step_done(s);
	if (s->bgp)
		bgp_announcer_stop(s->bgp, stop_step_done, s);
	else
		stop_step_done(s);
}

void speaker_cleanup(void *arg)
{
	speaker_free(arg);
}

bool speaker_ready(void *arg, char *why, size_t n)
{
	struct speaker *s = arg;

	if (!s->synced) {
		snprintf(why, n, "waiting for the first sync of the cluster state");
		return false;
	}
	return true;
}

void speaker_status(void *arg, struct jsonw *w)
{
	struct speaker *s = arg;

	jsonw_kv_bool(w, "synced", s->synced);
	jsonw_kv_bool(w, "alive", s->live && liveness_alive(s->live, s->o->node));
	jsonw_kv_uint(w, "owned_ips", s->resp ? responder_owned_count(s->resp) : 0);
	jsonw_kv_uint(w, "bgp_sessions", s->bgp ? bgp_announcer_session_count(s->bgp) : 0);
}

void speaker_free(struct speaker *s)
{
	if (!s)
		return;
	liveness_free(s->live);
	bgp_announcer_free(s->bgp);
	source_free(s->src);
	responder_free(s->resp);
	iface_table_free(s->ifaces);
	loop_timer_free(s->work);
	loop_timer_free(s->hold);
	strmap_free(s->state, state_free);
	strmap_free(s->dirty, NULL);
	free(s);
}
