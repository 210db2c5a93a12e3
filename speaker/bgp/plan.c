/* SPDX-License-Identifier: Apache-2.0 */
/* plan: the BGP announcement plan of one node (which prefix goes to which peer, with which
 * attributes). Pure.
 *
 * SPEC. Given this node N (name, labels, NetworkUnavailable), the config (IPAddressPools,
 * BGPAdvertisements, BGPPeers; Community aliases already resolved into values) and the services S
 * (labels, ingress IPs, externalTrafficPolicy, endpoint states, pool name):
 *  1. Peers of N: the BGPPeers whose nodeSelectors select N (no selector: every node), sorted by
 *     name. A peer is iBGP when its ASN equals the local ASN (localASN if set, else myASN;
 *     dynamicASN "internal" is iBGP, "external" eBGP). Sessions to these peers run even when N
 *     announces nothing.
 *  2. N announces nothing when it carries the exclude label (key present, any value) or is
 *     NetworkUnavailable (node-excluded).
 *  3. S without ingress IPs announces nothing (no-ip). For each ingress IP: its pool is the pool
 *     named by S (the controller's annotation) when the config has it, else the pool whose
 *     addresses hold the IP; none: no-pool.
 *  4. An advertisement A applies to (IP, S) when A selects the pool (ipAddressPools names,
 *     ipAddressPoolSelectors on the pool's labels; neither: every pool) and S (serviceSelectors on
 *     S's labels, OR-ed; none: every service). None: no-advertisement. A must also select N
 *     (nodeSelectors, OR-ed; none: every node), else node-not-selected.
 *  5. Endpoints (EndpointSlice conditions; "can serve" = ready, or serving while terminating):
 *     Cluster: announce while some endpoint anywhere can serve (no-endpoints otherwise; MetalLB
 *     withdraws services without endpoints too). Local: announce when N hosts a ready endpoint, or
 *     N hosts a serving (terminating) one and no ready endpoint exists anywhere, so that traffic
 *     drains to ready pods first and still flows while the last pods terminate
 *     (no-local-endpoint otherwise).
 *  6. Then A makes N send the prefix IP/aggregationLength (IPv6: aggregationLengthV6), host bits
 *     cleared, to every peer of N that A names in `peers` (empty: all peers of N) and that carries
 *     the IP's family: a peer carries the family of its peerAddress, and both families with
 *     dualStackAddressFamily or when it has no address (unnumbered), as in MetalLB's FRR mode.
 *     No peer: no-peer.
 *  7. One route per (peer, prefix), however many services and advertisements give it. Its
 *     communities and large communities are the union of those of every such advertisement,
 *     ascending and unique. LOCAL_PREF is sent to iBGP peers only, when one of the advertisements
 *     sets it; if they disagree (the loader rejects that within a pool, aggregation across pools
 *     can still fold two into one prefix) the highest value is sent and the case is counted.
 *  8. Output: per peer, routes ascending by prefix (addr_cmp, then length); attribute sets
 *     interned and in a canonical order. The order of services, IPs, labels and endpoints in the
 *     input never changes the output.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "barelb/addr.h"

struct peer_info {
	const struct cfg_peer *p;
	bool ibgp, v4, v6;
};

struct ad_info {
	bool node_ok;               /* selects this node */
	uint32_t *peers;            /* peer indices it sends to, ascending */
	size_t n_peers;
};

struct pool_ref {
	const struct cfg_pool *pool;
	uint32_t *ads;              /* advertisements that select the pool, ascending */
	size_t n_ads;
};

struct plan_ctx {
	const struct config *cfg;
	bool excluded;
	struct peer_info *peers;
	size_t n_peers;
	struct ad_info *ads;        /* one per cfg->bgpadvs */
	struct pool_ref *pools;     /* sorted by name */
	size_t n_pools;
};

/* ---------- small helpers ---------- */

static int grow(void **p, size_t *cap, size_t need, size_t elsz)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elsz);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* struct kv (model) and struct cfg_label (config) are distinct types: the selector code wants the
 * latter. Small sets use the caller's buffer. */
#define LABELS_ON_STACK 32
static struct cfg_label *labels_from_kv(const struct kv *kv, size_t n, struct cfg_label *buf)
{
	struct cfg_label *v = n <= LABELS_ON_STACK ? buf : calloc(n, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		v[i].key = kv[i].key;
		v[i].value = kv[i].value;
	}
	return v;
}

static void labels_release(struct cfg_label *v, const struct cfg_label *buf)
{
	if (v != buf)
		free(v);
}

static bool has_label(const struct kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return true;
	return false;
}

static int prefix_cmp(const prefix_t *a, const prefix_t *b)
{
	int c = addr_cmp(&a->a, &b->a);

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static int u32_cmp(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	return (a > b) - (a < b);
}

static int large_cmp(const struct bgp_large_community *a, const struct bgp_large_community *b)
{
	if (a->global != b->global)
		return a->global < b->global ? -1 : 1;
	if (a->local1 != b->local1)
		return a->local1 < b->local1 ? -1 : 1;
	if (a->local2 != b->local2)
		return a->local2 < b->local2 ? -1 : 1;
	return 0;
}

static int large_qcmp(const void *a, const void *b)
{
	return large_cmp(a, b);
}

static size_t uniq_u32(uint32_t *v, size_t n)
{
	size_t w = n ? 1 : 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] != v[w - 1])
			v[w++] = v[i];
	return w;
}

static size_t uniq_large(struct bgp_large_community *v, size_t n)
{
	size_t w = n ? 1 : 0;

	for (size_t i = 1; i < n; i++)
		if (large_cmp(&v[i], &v[w - 1]) != 0)
			v[w++] = v[i];
	return w;
}

static int contrib_cmp(const void *pa, const void *pb)
{
	const struct plan_contrib *a = pa, *b = pb;
	int c;

	if (a->peer != b->peer)
		return a->peer < b->peer ? -1 : 1;
	if ((c = prefix_cmp(&a->prefix, &b->prefix)))
		return c;
	return (a->ad > b->ad) - (a->ad < b->ad);
}

/* Sort v[from..n) and drop duplicates; returns the new n. */
static size_t contribs_sort_unique(struct plan_contrib *v, size_t from, size_t n)
{
	size_t w = from;

	if (n - from < 2)
		return n;
	qsort(v + from, n - from, sizeof(*v), contrib_cmp);
	for (size_t i = from; i < n; i++)
		if (w == from || contrib_cmp(&v[w - 1], &v[i]) != 0)
			v[w++] = v[i];
	return w;
}

/* ---------- the context ---------- */

static int peer_cmp(const void *pa, const void *pb)
{
	const struct peer_info *a = pa, *b = pb;
	return strcmp(a->p->name, b->p->name);
}

static int pool_cmp(const void *pa, const void *pb)
{
	const struct pool_ref *a = pa, *b = pb;
	return strcmp(a->pool->name, b->pool->name);
}

static bool peer_is_ibgp(const struct cfg_peer *p)
{
	uint32_t local = p->local_asn ? p->local_asn : p->my_asn;

	if (p->dynamic_asn)
		return strcmp(p->dynamic_asn, "internal") == 0;
	return p->peer_asn == local;
}

static bool ad_selects_pool(const struct cfg_bgpadv *ad, const struct cfg_pool *p)
{
	if (ad->n_pools == 0 && ad->n_pool_selectors == 0)
		return true; /* no pool reference: every pool */
	for (size_t i = 0; i < ad->n_pools; i++)
		if (strcmp(ad->pools[i], p->name) == 0)
			return true;
	return ad->n_pool_selectors &&
	       cfg_selectors_match_any(ad->pool_selectors, ad->n_pool_selectors, p->labels, p->n_labels);
}

static bool ad_names_peer(const struct cfg_bgpadv *ad, const char *name)
{
	if (ad->n_peers == 0)
		return true;
	for (size_t i = 0; i < ad->n_peers; i++)
		if (strcmp(ad->peers[i], name) == 0)
			return true;
	return false;
}

struct plan_ctx *plan_ctx_new(const struct config *cfg, const struct plan_node *node,
			      const char *exclude_label)
{
	struct cfg_label buf[LABELS_ON_STACK], *nl = NULL;
	struct plan_ctx *c = calloc(1, sizeof(*c));
	size_t n_ads = cfg->n_bgpadvs;

	if (!c)
		return NULL;
	c->cfg = cfg;
	if (!exclude_label)
		exclude_label = PLAN_EXCLUDE_LABEL;
	c->excluded = node->network_unavailable ||
		      (*exclude_label && has_label(node->labels, node->n_labels, exclude_label));
	nl = labels_from_kv(node->labels, node->n_labels, buf);
	c->peers = calloc(cfg->n_peers + 1, sizeof(*c->peers));
	c->ads = calloc(n_ads + 1, sizeof(*c->ads));
	c->pools = calloc(cfg->n_pools + 1, sizeof(*c->pools));
	if (!nl || !c->peers || !c->ads || !c->pools)
		goto fail;

	/* Rule 1: this node's peers, by name. */
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct cfg_peer *p = &cfg->peers[i];
		struct peer_info *pi;

		if (!cfg_selectors_match_any(p->node_selectors, p->n_node_selectors, nl, node->n_labels))
			continue;
		pi = &c->peers[c->n_peers++];
		pi->p = p;
		pi->ibgp = peer_is_ibgp(p);
		if (!p->has_peer_address || p->dual_stack_address_family) {
			pi->v4 = pi->v6 = true;
		} else {
			pi->v4 = addr_is_v4(&p->peer_address);
			pi->v6 = !pi->v4;
		}
	}
	qsort(c->peers, c->n_peers, sizeof(*c->peers), peer_cmp);

	/* Per advertisement: does it select this node, and which of its peers does it name. */
	for (size_t a = 0; a < n_ads; a++) {
		const struct cfg_bgpadv *ad = &cfg->bgpadvs[a];
		struct ad_info *ai = &c->ads[a];

		ai->node_ok = cfg_selectors_match_any(ad->node_selectors, ad->n_node_selectors, nl,
						      node->n_labels);
		ai->peers = calloc(c->n_peers + 1, sizeof(*ai->peers));
		if (!ai->peers)
			goto fail;
		for (size_t i = 0; i < c->n_peers; i++)
			if (ad_names_peer(ad, c->peers[i].p->name))
				ai->peers[ai->n_peers++] = (uint32_t)i;
	}

	/* Per pool: the advertisements that select it. */
	c->n_pools = cfg->n_pools;
	for (size_t k = 0; k < cfg->n_pools; k++) {
		struct pool_ref *pr = &c->pools[k];

		pr->pool = &cfg->pools[k];
		pr->ads = calloc(n_ads + 1, sizeof(*pr->ads));
		if (!pr->ads)
			goto fail;
		for (size_t a = 0; a < n_ads; a++)
			if (ad_selects_pool(&cfg->bgpadvs[a], pr->pool))
				pr->ads[pr->n_ads++] = (uint32_t)a;
	}
	qsort(c->pools, c->n_pools, sizeof(*c->pools), pool_cmp);
	labels_release(nl, buf);
	return c;
fail:
	if (nl)
		labels_release(nl, buf);
	plan_ctx_free(c);
	return NULL;
}

void plan_ctx_free(struct plan_ctx *c)
{
	if (!c)
		return;
	for (size_t a = 0; c->ads && a < c->cfg->n_bgpadvs; a++)
		free(c->ads[a].peers);
	for (size_t k = 0; c->pools && k < c->cfg->n_pools; k++)
		free(c->pools[k].ads);
	free(c->ads);
	free(c->pools);
	free(c->peers);
	free(c);
}

size_t plan_ctx_peer_count(const struct plan_ctx *c)
{
	return c->n_peers;
}

const struct cfg_peer *plan_ctx_peer(const struct plan_ctx *c, size_t i)
{
	return i < c->n_peers ? c->peers[i].p : NULL;
}

bool plan_ctx_peer_ibgp(const struct plan_ctx *c, size_t i)
{
	return i < c->n_peers && c->peers[i].ibgp;
}

/* ---------- one service ---------- */

static const struct pool_ref *pool_by_name(const struct plan_ctx *c, const char *name)
{
	size_t lo = 0, hi = c->n_pools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, c->pools[mid].pool->name);

		if (r == 0)
			return &c->pools[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct pool_ref *pool_by_ip(const struct plan_ctx *c, const addr_t *ip)
{
	for (size_t k = 0; k < c->n_pools; k++) {
		const struct cfg_pool *p = c->pools[k].pool;

		for (size_t j = 0; j < p->n_cidrs; j++)
			if (prefix_contains(&p->cidrs[j], ip))
				return &c->pools[k];
	}
	return NULL;
}

/* Rule 5. */
static bool endpoints_ok(const struct plan_service *s)
{
	if (s->etp == SVC_ETP_LOCAL)
		return s->ep_here == PLAN_EP_READY ||
		       (s->ep_here == PLAN_EP_SERVING && s->ep_anywhere != PLAN_EP_READY);
	return s->ep_anywhere != PLAN_EP_NONE;
}

static enum plan_reason worse(enum plan_reason have, enum plan_reason now)
{
	/* The reasons after PLAN_NODE_EXCLUDED are ordered by how far the rules got: report the
	 * furthest stage any IP reached. */
	return now > have ? now : have;
}

int plan_service_contribs(const struct plan_ctx *c, const struct plan_service *s,
			  struct plan_contrib **v, size_t *n, size_t *cap)
{
	struct cfg_label buf[LABELS_ON_STACK], *sl = NULL;
	enum plan_reason reason = PLAN_NO_POOL;
	size_t n0 = *n;
	bool ep_ok = endpoints_ok(s);

	if (s->n_ingress == 0)
		return PLAN_NO_IP;
	if (c->excluded)
		return PLAN_NODE_EXCLUDED;
	sl = labels_from_kv(s->labels, s->n_labels, buf);
	if (!sl)
		return -1;
	for (size_t i = 0; i < s->n_ingress; i++) {
		const addr_t *ip = &s->ingress[i];
		const struct pool_ref *pr = s->pool ? pool_by_name(c, s->pool) : NULL;
		bool v4 = addr_is_v4(ip);

		if (!pr)
			pr = pool_by_ip(c, ip);
		if (!pr)
			continue;
		reason = worse(reason, PLAN_NO_ADVERTISEMENT);
		for (size_t k = 0; k < pr->n_ads; k++) {
			const struct cfg_bgpadv *ad = &c->cfg->bgpadvs[pr->ads[k]];
			const struct ad_info *ai = &c->ads[pr->ads[k]];
			prefix_t pfx;

			if (!cfg_selectors_match_any(ad->service_selectors, ad->n_service_selectors, sl,
						     s->n_labels))
				continue;
			reason = worse(reason, PLAN_NODE_NOT_SELECTED);
			if (!ai->node_ok)
				continue;
			reason = worse(reason, s->etp == SVC_ETP_LOCAL ? PLAN_NO_LOCAL_ENDPOINT
								       : PLAN_NO_ENDPOINTS);
			if (!ep_ok)
				continue;
			reason = worse(reason, PLAN_NO_PEER);
			pfx.a = *ip;
			pfx.len = (uint8_t)(v4 ? ad->aggregation_length : ad->aggregation_length_v6);
			if (pfx.len > addr_bits(ip))
				pfx.len = (uint8_t)addr_bits(ip);
			addr_mask(&pfx.a, pfx.len);
			for (size_t j = 0; j < ai->n_peers; j++) {
				const struct peer_info *pi = &c->peers[ai->peers[j]];

				if (!(v4 ? pi->v4 : pi->v6))
					continue;
				if (grow((void **)v, cap, *n + 1, sizeof(**v)) < 0) {
					labels_release(sl, buf);
					return -1;
				}
				(*v)[(*n)++] = (struct plan_contrib){ .peer = ai->peers[j],
								      .ad = pr->ads[k],
								      .prefix = pfx };
			}
		}
	}
	labels_release(sl, buf);
	*n = contribs_sort_unique(*v, n0, *n);
	return *n > n0 ? PLAN_ANNOUNCED : (int)reason;
}

/* ---------- the whole plan ---------- */

/* Attributes of one route before interning: communities live in the builder's pools. */
struct tmp_attrs {
	size_t route;               /* index into the flat route list */
	bool has_lp;
	uint32_t lp;
	size_t c_off, c_n, l_off, l_n;
	/* set once the pools stop growing */
	const uint32_t *c;
	const struct bgp_large_community *l;
};

struct builder {
	uint32_t *comm;
	size_t n_comm, cap_comm;
	struct bgp_large_community *large;
	size_t n_large, cap_large;
};

static int tmp_cmp(const void *pa, const void *pb)
{
	const struct tmp_attrs *a = pa, *b = pb;

	if (a->has_lp != b->has_lp)
		return a->has_lp ? 1 : -1;
	if (a->lp != b->lp)
		return a->lp < b->lp ? -1 : 1;
	for (size_t i = 0; i < a->c_n && i < b->c_n; i++)
		if (a->c[i] != b->c[i])
			return a->c[i] < b->c[i] ? -1 : 1;
	if (a->c_n != b->c_n)
		return a->c_n < b->c_n ? -1 : 1;
	for (size_t i = 0; i < a->l_n && i < b->l_n; i++) {
		int r = large_cmp(&a->l[i], &b->l[i]);
		if (r)
			return r;
	}
	if (a->l_n != b->l_n)
		return a->l_n < b->l_n ? -1 : 1;
	return 0;
}

/* Rule 7 for one run of contributions with the same (peer, prefix). */
static int run_attrs(const struct plan_ctx *c, const struct plan_contrib *run, size_t n,
		     struct builder *bd, struct tmp_attrs *t, bool *lp_conflict)
{
	bool ibgp = c->peers[run[0].peer].ibgp;
	uint32_t first_lp = 0;

	t->has_lp = false;
	t->lp = 0;
	t->c_off = bd->n_comm;
	t->l_off = bd->n_large;
	*lp_conflict = false;
	for (size_t i = 0; i < n; i++) {
		const struct cfg_bgpadv *ad = &c->cfg->bgpadvs[run[i].ad];

		if (ibgp) {
			/* Unset counts as 0 for the conflict check, as in the loader. */
			uint32_t val = ad->has_local_pref ? ad->local_pref : 0;

			if (i == 0)
				first_lp = val;
			else if (val != first_lp)
				*lp_conflict = true;
			if (ad->has_local_pref && (!t->has_lp || val > t->lp)) {
				t->has_lp = true;
				t->lp = val;
			}
		}
		for (size_t k = 0; k < ad->n_communities; k++) {
			const struct cfg_community_value *cv = &ad->community_values[k];

			if (cv->large) {
				if (grow((void **)&bd->large, &bd->cap_large, bd->n_large + 1,
					 sizeof(*bd->large)) < 0)
					return -1;
				bd->large[bd->n_large++] =
					(struct bgp_large_community){ .global = cv->a, .local1 = cv->b,
							     .local2 = cv->c };
			} else {
				if (grow((void **)&bd->comm, &bd->cap_comm, bd->n_comm + 1,
					 sizeof(*bd->comm)) < 0)
					return -1;
				bd->comm[bd->n_comm++] = (cv->a & 0xffffu) << 16 | (cv->b & 0xffffu);
			}
		}
	}
	/* Sort and unique this route's communities in place (they are at the end of the pools). */
	t->c_n = bd->n_comm - t->c_off;
	if (t->c_n) {
		qsort(bd->comm + t->c_off, t->c_n, sizeof(*bd->comm), u32_cmp);
		t->c_n = uniq_u32(bd->comm + t->c_off, t->c_n);
	}
	bd->n_comm = t->c_off + t->c_n;
	t->l_n = bd->n_large - t->l_off;
	if (t->l_n) {
		qsort(bd->large + t->l_off, t->l_n, sizeof(*bd->large), large_qcmp);
		t->l_n = uniq_large(bd->large + t->l_off, t->l_n);
	}
	bd->n_large = t->l_off + t->l_n;
	return 0;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_peers; i++)
		free(p->peers[i].routes);
	free(p->peers);
	free(p->attrs);
	free(p->reasons);
	free(p->comm_mem);
	free(p->large_mem);
	memset(p, 0, sizeof(*p));
}

int plan_build(const struct plan_ctx *c, const struct plan_service *svcs, size_t n,
	       struct plan *out)
{
	struct plan_contrib *v = NULL;
	size_t nv = 0, cap = 0, n_routes = 0, w;
	struct builder bd = { 0 };
	struct tmp_attrs *tmp = NULL;
	size_t *route_attr = NULL;
	size_t *peer_fill = NULL;
	size_t tc = 0, lc = 0;

	memset(out, 0, sizeof(*out));
	out->reasons = calloc(n + 1, sizeof(*out->reasons));
	out->peers = calloc(c->n_peers + 1, sizeof(*out->peers));
	if (!out->reasons || !out->peers)
		goto fail;
	out->n_reasons = n;
	out->n_peers = c->n_peers;
	for (size_t i = 0; i < c->n_peers; i++) {
		out->peers[i].peer = c->peers[i].p;
		out->peers[i].ibgp = c->peers[i].ibgp;
	}
	for (size_t i = 0; i < n; i++) {
		int r = plan_service_contribs(c, &svcs[i], &v, &nv, &cap);
		if (r < 0)
			goto fail;
		out->reasons[i] = (enum plan_reason)r;
	}
	if (nv > 1) {
		qsort(v, nv, sizeof(*v), contrib_cmp);
		w = 1;
		for (size_t i = 1; i < nv; i++)
			if (contrib_cmp(&v[w - 1], &v[i]) != 0)
				v[w++] = v[i];
		nv = w;
	}

	/* Runs of equal (peer, prefix) become routes. */
	for (size_t i = 0; i < nv; i++)
		if (i == 0 || v[i].peer != v[i - 1].peer || prefix_cmp(&v[i].prefix, &v[i - 1].prefix))
			out->peers[v[i].peer].n_routes++;
	for (size_t i = 0; i < c->n_peers; i++) {
		n_routes += out->peers[i].n_routes;
		out->peers[i].routes = calloc(out->peers[i].n_routes + 1, sizeof(struct plan_route));
		if (!out->peers[i].routes)
			goto fail;
	}
	tmp = calloc(n_routes + 1, sizeof(*tmp));
	route_attr = calloc(n_routes + 1, sizeof(*route_attr));
	peer_fill = calloc(c->n_peers + 1, sizeof(*peer_fill));
	if (!tmp || !route_attr || !peer_fill)
		goto fail;
	for (size_t i = 0, r = 0; i < nv; r++) {
		size_t j = i + 1;
		struct plan_peer *pp = &out->peers[v[i].peer];
		bool conflict;

		while (j < nv && v[j].peer == v[i].peer && prefix_cmp(&v[j].prefix, &v[i].prefix) == 0)
			j++;
		pp->routes[peer_fill[v[i].peer]++].prefix = v[i].prefix;
		tmp[r].route = r;
		if (run_attrs(c, &v[i], j - i, &bd, &tmp[r], &conflict) < 0)
			goto fail;
		out->n_local_pref_conflicts += conflict;
		i = j;
	}

	/* Intern the attribute sets in canonical order. */
	for (size_t i = 0; i < n_routes; i++) {
		tmp[i].c = tmp[i].c_n ? bd.comm + tmp[i].c_off : NULL;
		tmp[i].l = tmp[i].l_n ? bd.large + tmp[i].l_off : NULL;
	}
	qsort(tmp, n_routes, sizeof(*tmp), tmp_cmp);
	for (size_t i = 0; i < n_routes; i++)
		if (i == 0 || tmp_cmp(&tmp[i - 1], &tmp[i]) != 0) {
			out->n_attrs++;
			tc += tmp[i].c_n;
			lc += tmp[i].l_n;
		}
	out->attrs = calloc(out->n_attrs + 1, sizeof(*out->attrs));
	out->comm_mem = calloc(tc + 1, sizeof(*out->comm_mem));
	out->large_mem = calloc(lc + 1, sizeof(*out->large_mem));
	if (!out->attrs || !out->comm_mem || !out->large_mem)
		goto fail;
	tc = lc = 0;
	for (size_t i = 0, a = 0; i < n_routes; i++) {
		if (i > 0 && tmp_cmp(&tmp[i - 1], &tmp[i]) == 0) {
			route_attr[tmp[i].route] = a - 1;
			continue;
		}
		struct plan_attrs *pa = &out->attrs[a];
		pa->has_local_pref = tmp[i].has_lp;
		pa->local_pref = tmp[i].lp;
		if (tmp[i].c_n)
			memcpy(out->comm_mem + tc, tmp[i].c, tmp[i].c_n * sizeof(uint32_t));
		pa->communities = out->comm_mem + tc;
		pa->n_communities = tmp[i].c_n;
		tc += tmp[i].c_n;
		if (tmp[i].l_n)
			memcpy(out->large_mem + lc, tmp[i].l, tmp[i].l_n * sizeof(struct bgp_large_community));
		pa->large = out->large_mem + lc;
		pa->n_large = tmp[i].l_n;
		lc += tmp[i].l_n;
		route_attr[tmp[i].route] = a++;
	}
	/* Routes were numbered peer by peer, in order. */
	for (size_t p = 0, r = 0; p < c->n_peers; p++)
		for (size_t k = 0; k < out->peers[p].n_routes; k++)
			out->peers[p].routes[k].attrs = (uint32_t)route_attr[r++];

	free(v);
	free(tmp);
	free(route_attr);
	free(peer_fill);
	free(bd.comm);
	free(bd.large);
	return 0;
fail:
	free(v);
	free(tmp);
	free(route_attr);
	free(peer_fill);
	free(bd.comm);
	free(bd.large);
	plan_free(out);
	return -1;
}

/* ---------- helpers ---------- */

enum plan_ep plan_ep_state(const struct endpointslice *const *slices, size_t n, const char *node)
{
	enum plan_ep best = PLAN_EP_NONE;

	for (size_t i = 0; i < n; i++) {
		const struct endpointslice *s = slices[i];

		for (size_t j = 0; s && j < s->n_endpoints; j++) {
			const struct endpoint *e = &s->endpoints[j];

			if (node && (!e->node_name || strcmp(e->node_name, node) != 0))
				continue;
			if (e->ready)
				return PLAN_EP_READY;
			if (e->serving)
				best = PLAN_EP_SERVING;
		}
	}
	return best;
}

const char *plan_reason_name(enum plan_reason r)
{
	static const char *const names[PLAN_REASON_COUNT] = {
		[PLAN_ANNOUNCED] = "announced",
		[PLAN_NO_IP] = "no-ip",
		[PLAN_NODE_EXCLUDED] = "node-excluded",
		[PLAN_NO_POOL] = "no-pool",
		[PLAN_NO_ADVERTISEMENT] = "no-advertisement",
		[PLAN_NODE_NOT_SELECTED] = "node-not-selected",
		[PLAN_NO_ENDPOINTS] = "no-endpoints",
		[PLAN_NO_LOCAL_ENDPOINT] = "no-local-endpoint",
		[PLAN_NO_PEER] = "no-peer",
	};
	return (unsigned)r < PLAN_REASON_COUNT ? names[r] : "unknown";
}

/* snprintf that keeps a running offset and remembers overflow. */
struct out_text {
	char *buf;
	size_t n, off;
	bool over;
};

static void put(struct out_text *o, const char *s)
{
	size_t l = strlen(s);

	if (o->off + l >= o->n) {
		o->over = true;
		l = o->off < o->n ? o->n - o->off - 1 : 0;
	}
	memcpy(o->buf + o->off, s, l);
	o->off += l;
	o->buf[o->off] = '\0';
}

static void put_u32(struct out_text *o, uint32_t v)
{
	char t[12];
	size_t i = sizeof(t) - 1;

	t[i] = '\0';
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, t + i);
}

int plan_route_format(const struct plan *p, const struct plan_route *r, char *buf, size_t n)
{
	struct out_text o = { .buf = buf, .n = n };
	const struct plan_attrs *a = r->attrs < p->n_attrs ? &p->attrs[r->attrs] : NULL;
	char pfx[ADDR_STRLEN];

	if (n == 0)
		return -1;
	buf[0] = '\0';
	if (prefix_format(&r->prefix, pfx, sizeof(pfx)) < 0)
		return -1;
	put(&o, pfx);
	if (a && a->has_local_pref) {
		put(&o, " local-pref ");
		put_u32(&o, a->local_pref);
	}
	for (size_t i = 0; a && i < a->n_communities; i++) {
		put(&o, i ? "," : " communities ");
		put_u32(&o, a->communities[i] >> 16);
		put(&o, ":");
		put_u32(&o, a->communities[i] & 0xffffu);
	}
	for (size_t i = 0; a && i < a->n_large; i++) {
		put(&o, i ? "," : " large ");
		put_u32(&o, a->large[i].global);
		put(&o, ":");
		put_u32(&o, a->large[i].local1);
		put(&o, ":");
		put_u32(&o, a->large[i].local2);
	}
	return o.over ? -1 : (int)o.off;
}
