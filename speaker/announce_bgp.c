/* SPDX-License-Identifier: Apache-2.0 */
/* announce_bgp: keeps one bgp_session per BGPPeer of this node and hands each the routes the plan
 * gives it. The plan is pure and cheap, so every update rebuilds it whole; the sessions diff it
 * against what they sent, so only changes go on the wire. */
#include "announce_bgp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "barelb/config.h"
#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/model.h"
#include "barelb/store.h"
#include "barelb/strmap.h"
#include "barelb/xalloc.h"
#include "bgp/plan.h"
#include "bgp/session.h"

struct peer_slot {
	struct bgp_session *s;
	char *sig; /* the peer's config as text: a change means a new session */
	bool seen; /* still configured (mark and sweep) */
	struct bgp_peer_info info;
	char addr[ADDR_STRLEN];
};

struct bgp_announcer {
	struct loop *l;
	char *node;
	struct strmap *peers; /* peer name → struct peer_slot */
	/* stop */
	size_t stopping;
	void (*done)(void *);
	void *done_arg;
};

static void on_state(struct bgp_session *s, enum bgp_state from, enum bgp_state to, void *arg)
{
	(void)arg;
	if (to == BGP_ESTABLISHED)
		log_info("peer=%s msg=\"BGP session established\"", bgp_session_name(s));
	else if (from == BGP_ESTABLISHED)
		log_warn("peer=%s msg=\"BGP session down\" state=%s", bgp_session_name(s),
			 bgp_state_name(to));
	else
		log_debug("peer=%s msg=\"BGP state\" from=%s to=%s", bgp_session_name(s),
			  bgp_state_name(from), bgp_state_name(to));
}

static char *peer_sig(const struct cfg_peer *p)
{
	char a[ADDR_STRLEN] = "", s[ADDR_STRLEN] = "", r[ADDR_STRLEN] = "", buf[1024];

	addr_format(&p->peer_address, a, sizeof a);
	if (p->has_source_address)
		addr_format(&p->source_address, s, sizeof s);
	if (p->has_router_id)
		addr_format(&p->router_id, r, sizeof r);
	snprintf(buf, sizeof buf, "%u|%u|%s|%s|%u|%u|%u|%u|%s|%s|%d|%d", p->my_asn, p->peer_asn, a, s,
		 p->peer_port, p->hold_time, p->keepalive_time, p->has_connect_time ? p->connect_time : 0,
		 r, p->password ? p->password : "", p->ebgp_multihop, p->enable_graceful_restart);
	return xstrdup(buf);
}

static struct bgp_session *session_for(struct bgp_announcer *a, const struct cfg_peer *p)
{
	if (p->password_secret_name && !p->password)
		log_warn("peer=%s msg=\"passwordSecret is not read (Secrets are not watched yet): the "
			 "session runs without TCP-MD5; set password instead\" secret=%s", p->name,
			 p->password_secret_name);
	struct bgp_session_cfg sc = {
		.name = p->name,
		.local_as = p->my_asn,
		.peer_as = p->peer_asn,
		.peer_addr = p->peer_address,
		.has_source_addr = p->has_source_address,
		.source_addr = p->source_address,
		.peer_port = p->peer_port,
		.hold_time_s = p->hold_time,
		.keepalive_s = p->keepalive_time,
		.connect_time_s = p->has_connect_time ? p->connect_time : 0,
		.router_id = p->has_router_id ? addr_v4(&p->router_id) : 0,
		.password = p->password,
		.ebgp_multihop = p->ebgp_multihop,
		.graceful_restart = p->enable_graceful_restart,
		.on_state = on_state,
		.arg = a,
	};
	return bgp_session_new(a->l, &sc);
}

struct bgp_announcer *bgp_announcer_new(struct loop *l, const char *node)
{
	struct bgp_announcer *a = xcalloc(1, sizeof *a);

	a->l = l;
	a->node = xstrdup(node);
	a->peers = strmap_new();
	return a;
}

static void slot_free(void *p)
{
	struct peer_slot *ps = p;

	if (!ps)
		return;
	bgp_session_free(ps->s);
	free(ps->sig);
	free(ps);
}

void bgp_announcer_free(struct bgp_announcer *a)
{
	if (!a)
		return;
	strmap_free(a->peers, slot_free);
	free(a->node);
	free(a);
}

size_t bgp_announcer_session_count(const struct bgp_announcer *a)
{
	return strmap_count(a->peers);
}

/* ---- gathering services ---- */

/* Every EndpointSlice with a service name, hashed by (namespace, service name): built once per
 * update, so that finding a Service's slices is one hash lookup, not a scan of every slice (with
 * 100,000 Services the scan made an update take minutes; a sorted index still cost ~100 ms). */
struct slice_ref {
	const char *svc, *ns;
	const struct endpointslice *eps;
	uint32_t hash;
	uint32_t next;              /* next entry of the same bucket, or NONE */
};

#define NONE UINT32_MAX

struct slice_index {
	struct slice_ref *v;
	size_t n, cap;
	uint32_t *head;             /* bucket -> first entry, or NONE */
	size_t mask;
};

static uint32_t name_hash(const char *svc, const char *ns)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *svc; svc++)
		h = (h ^ (unsigned char)*svc) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (; *ns; ns++)
		h = (h ^ (unsigned char)*ns) * 16777619u;
	return h;
}

static void index_slice(const struct kobj *o, void *arg)
{
	struct slice_index *ix = arg;
	const char *ns = o->meta.namespace ? o->meta.namespace : "";

	if (!o->u.eps.service_name || ix->n >= NONE)
		return;
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 64;
		ix->v = xrealloc(ix->v, ix->cap * sizeof *ix->v);
	}
	ix->v[ix->n++] = (struct slice_ref){ o->u.eps.service_name, ns, &o->u.eps,
					     name_hash(o->u.eps.service_name, ns), NONE };
}

static void slice_index_build(struct slice_index *ix, const struct store *st)
{
	size_t nb = 16;

	store_foreach(st, KOBJ_ENDPOINTSLICE, index_slice, ix);
	while (nb < 2 * ix->n)
		nb *= 2;
	ix->mask = nb - 1;
	ix->head = xmalloc(nb * sizeof *ix->head);
	memset(ix->head, 0xff, nb * sizeof *ix->head);
	for (size_t i = 0; i < ix->n; i++) {
		uint32_t b = ix->v[i].hash & ix->mask;
		ix->v[i].next = ix->head[b];
		ix->head[b] = (uint32_t)i;
	}
}

static void slice_index_free(struct slice_index *ix)
{
	free(ix->v);
	free(ix->head);
}

struct svc_vec {
	struct plan_service *v;
	size_t n, cap;
	const struct slice_index *ix;
	const char *node;
	bgp_is_ours_fn is_ours;
	void *arg;
	bool ready_only;
	/* slices of the current service, for plan_ep_state */
	const struct endpointslice **sl;
	size_t n_sl, cap_sl;
};

static enum plan_ep ep_filter(enum plan_ep e, bool ready_only)
{
	return ready_only && e == PLAN_EP_SERVING ? PLAN_EP_NONE : e;
}

static void svc_cb(const struct kobj *o, void *arg)
{
	struct svc_vec *sv = arg;
	struct plan_service *ps;
	const char *ns = o->meta.namespace ? o->meta.namespace : "";
	uint32_t h;

	if (!sv->is_ours(o, sv->arg))
		return;
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 64;
		sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	ps = &sv->v[sv->n++];
	memset(ps, 0, sizeof *ps);
	ps->key = o->meta.name;
	ps->labels = o->meta.labels;
	ps->n_labels = o->meta.n_labels;
	ps->ingress = o->u.svc.ingress;
	ps->n_ingress = o->u.svc.n_ingress;
	ps->etp = o->u.svc.etp;
	ps->pool = kmeta_annotation(&o->meta, "barelb.io/ip-allocated-from-pool");
	sv->n_sl = 0;
	h = name_hash(o->meta.name, ns);
	for (uint32_t i = sv->ix->head ? sv->ix->head[h & sv->ix->mask] : NONE; i != NONE;
	     i = sv->ix->v[i].next) {
		const struct slice_ref *r = &sv->ix->v[i];
		if (r->hash != h || strcmp(r->svc, o->meta.name) != 0 || strcmp(r->ns, ns) != 0)
			continue;
		if (sv->n_sl == sv->cap_sl) {
			sv->cap_sl = sv->cap_sl ? sv->cap_sl * 2 : 4;
			sv->sl = xrealloc(sv->sl, sv->cap_sl * sizeof *sv->sl);
		}
		sv->sl[sv->n_sl++] = r->eps;
	}
	ps->ep_anywhere = ep_filter(plan_ep_state(sv->sl, sv->n_sl, NULL), sv->ready_only);
	ps->ep_here = ep_filter(plan_ep_state(sv->sl, sv->n_sl, sv->node), sv->ready_only);
}

static long long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- sessions ---- */

static void clear_seen(const char *k, void *v, void *arg)
{
	(void)k;
	(void)arg;
	((struct peer_slot *)v)->seen = false;
}

struct sweep {
	char **gone;
	size_t n;
};

static void collect_unseen(const char *k, void *v, void *arg)
{
	struct sweep *sw = arg;

	if (((struct peer_slot *)v)->seen)
		return;
	sw->gone = xrealloc(sw->gone, (sw->n + 1) * sizeof *sw->gone);
	sw->gone[sw->n++] = xstrdup(k);
}

static void stopped_free(struct bgp_session *s, void *arg)
{
	(void)arg;
	bgp_session_free(s);
}

static void drop_peer(struct bgp_announcer *a, const char *name, const char *why)
{
	struct peer_slot *ps = strmap_del(a->peers, name);

	if (!ps)
		return;
	log_info("peer=%s msg=\"closing BGP session\" why=%s", name, why);
	/* Cease: the router drops our routes at once; the session frees itself when closed. */
	bgp_session_stop(ps->s, stopped_free, NULL);
	ps->s = NULL;
	slot_free(ps);
}

static void sync_sessions(struct bgp_announcer *a, const struct plan_ctx *pc)
{
	struct sweep sw = { 0 };

	strmap_foreach(a->peers, clear_seen, NULL);
	for (size_t i = 0; i < plan_ctx_peer_count(pc); i++) {
		const struct cfg_peer *p = plan_ctx_peer(pc, i);
		struct peer_slot *ps = strmap_get(a->peers, p->name);
		char *sig = peer_sig(p);

		if (ps && strcmp(ps->sig, sig) != 0) {
			drop_peer(a, p->name, "config-changed");
			ps = NULL;
		}
		if (!ps) {
			struct bgp_session *s = session_for(a, p);
			if (!s) {
				log_warn("peer=%s msg=\"cannot create the BGP session\"", p->name);
				free(sig);
				continue;
			}
			ps = xcalloc(1, sizeof *ps);
			ps->s = s;
			ps->sig = sig;
			addr_format(&p->peer_address, ps->addr, sizeof ps->addr);
			ps->info = (struct bgp_peer_info){ .name = bgp_session_name(s), .address = ps->addr,
							   .port = p->peer_port, .peer_asn = p->peer_asn,
							   .my_asn = p->my_asn };
			sig = NULL;
			strmap_put(a->peers, p->name, ps);
			log_info("peer=%s msg=\"starting BGP session\"", p->name);
			bgp_session_start(s);
		}
		free(sig);
		ps->seen = true;
	}
	strmap_foreach(a->peers, collect_unseen, &sw);
	for (size_t i = 0; i < sw.n; i++) {
		drop_peer(a, sw.gone[i], "peer-removed");
		free(sw.gone[i]);
	}
	free(sw.gone);
}

static void feed(struct bgp_announcer *a, const struct plan *pl)
{
	/* The plan's large communities, in the session's type (converted once per attribute set). */
	struct bgp_large_community **large = xcalloc(pl->n_attrs + 1, sizeof *large);

	for (size_t i = 0; i < pl->n_attrs; i++) {
		large[i] = xcalloc(pl->attrs[i].n_large + 1, sizeof **large);
		for (size_t k = 0; k < pl->attrs[i].n_large; k++)
			large[i][k] = (struct bgp_large_community){ pl->attrs[i].large[k].global,
								    pl->attrs[i].large[k].local1,
								    pl->attrs[i].large[k].local2 };
	}
	for (size_t i = 0; i < pl->n_peers; i++) {
		const struct plan_peer *pp = &pl->peers[i];
		struct peer_slot *ps = strmap_get(a->peers, pp->peer->name);
		struct bgp_route *r;

		if (!ps)
			continue;
		r = xcalloc(pp->n_routes + 1, sizeof *r);
		for (size_t k = 0; k < pp->n_routes; k++) {
			const struct plan_attrs *at = &pl->attrs[pp->routes[k].attrs];
			r[k].prefix = pp->routes[k].prefix;
			r[k].has_local_pref = at->has_local_pref;
			r[k].local_pref = at->local_pref;
			r[k].communities = at->communities;
			r[k].n_communities = at->n_communities;
			r[k].large = large[pp->routes[k].attrs];
			r[k].n_large = at->n_large;
		}
		if (bgp_session_set_routes(ps->s, r, pp->n_routes) < 0)
			log_error("peer=%s msg=\"out of memory setting routes\"", pp->peer->name);
		free(r);
	}
	for (size_t i = 0; i < pl->n_attrs; i++)
		free(large[i]);
	free(large);
}

void bgp_announcer_update(struct bgp_announcer *a, const struct config *cfg,
			  const struct store *st, bgp_is_ours_fn is_ours, void *arg, bool eligible,
			  bool ready_only)
{
	const struct kobj *me = store_get(st, KOBJ_NODE, NULL, a->node);
	struct plan_node pn = {
		.name = a->node,
		.labels = me ? me->meta.labels : NULL,
		.n_labels = me ? me->meta.n_labels : 0,
		.network_unavailable = me ? me->u.node.network_unavailable : false,
	};
	struct slice_index ix = { 0 };
	long long t0, t1, t2;
	struct svc_vec sv = { .ix = &ix, .node = a->node, .is_ours = is_ours, .arg = arg,
			      .ready_only = ready_only };
	struct plan pl = { 0 };
	struct plan_ctx *pc;

	if (a->stopping || !cfg)
		return;
	pc = plan_ctx_new(cfg, &pn, NULL);
	if (!pc) {
		log_error("msg=\"out of memory building the BGP plan\"");
		return;
	}
	sync_sessions(a, pc);
	if (strmap_count(a->peers) == 0) {
		plan_ctx_free(pc);
		return;
	}
	/* A node that is not alive (its own Lease) or not Ready announces nothing, but keeps its
	 * sessions: it is still a BGP speaker, with an empty table. */
	t0 = mono_us();
	if (eligible) {
		slice_index_build(&ix, st);
		store_foreach(st, KOBJ_SERVICE, svc_cb, &sv);
	}
	t1 = mono_us();
	if (plan_build(pc, sv.v, sv.n, &pl) < 0) {
		log_error("msg=\"out of memory building the BGP plan\"");
	} else {
		t2 = mono_us();
		feed(a, &pl);
		log_debug("msg=\"BGP plan fed to the sessions\" services=%zu gather_us=%lld plan_us=%lld "
			  "feed_us=%lld", sv.n, t1 - t0, t2 - t1, mono_us() - t2);
	}
	plan_free(&pl);
	plan_ctx_free(pc);
	free(sv.v);
	free(sv.sl);
	slice_index_free(&ix);
}

static void stop_one_done(struct bgp_session *s, void *arg)
{
	struct bgp_announcer *a = arg;

	(void)s;
	if (a->stopping && --a->stopping == 0 && a->done)
		a->done(a->done_arg);
}

static void stop_each(const char *k, void *v, void *arg)
{
	struct bgp_announcer *a = arg;
	(void)k;
	/* With graceful restart negotiated the router keeps our routes while we restart (RFC 4724);
	 * otherwise this is a Cease, and the router drops them at once. */
	bgp_session_stop_graceful(((struct peer_slot *)v)->s, stop_one_done, a);
}

void bgp_announcer_stop(struct bgp_announcer *a, void (*done)(void *arg), void *arg)
{
	a->done = done;
	a->done_arg = arg;
	a->stopping = strmap_count(a->peers);
	if (a->stopping == 0) {
		if (done)
			done(arg);
		return;
	}
	log_info("msg=\"closing every BGP session (Cease, administrative shutdown)\" sessions=%zu",
		 a->stopping);
	strmap_foreach(a->peers, stop_each, a);
}

struct fe {
	void (*cb)(const struct bgp_peer_info *p, const struct bgp_session *s, void *arg);
	void *arg;
};

static void fe_one(const char *k, void *v, void *arg)
{
	struct fe *f = arg;
	struct peer_slot *ps = v;
	(void)k;
	f->cb(&ps->info, ps->s, f->arg);
}

void bgp_announcer_foreach(const struct bgp_announcer *a,
			   void (*cb)(const struct bgp_peer_info *p, const struct bgp_session *s,
				      void *arg),
			   void *arg)
{
	struct fe f = { cb, arg };
	strmap_foreach(a->peers, fe_one, &f);
}
