/* SPDX-License-Identifier: Apache-2.0 */
/* config_validate: checks across objects, for both config forms (duplicate names, overlapping
 * pools, references, community aliases, aggregation lengths, localPref conflicts), then sorting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

static struct cfg_pos pos_or(const struct cfg_pos *v, size_t i, int line, int col)
{
	if (v && v[i].line > 0)
		return v[i];
	return (struct cfg_pos){line, col};
}

static struct cfg_pos pos1_or(struct cfg_pos p, int line, int col)
{
	if (p.line > 0)
		return p;
	return (struct cfg_pos){line, col};
}

static bool pos_before(struct cfg_pos a, struct cfg_pos b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* ---------- duplicate names ---------- */

struct named {
	const char *name;
	struct cfg_pos pos;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	if (r)
		return r;
	return pos_before(x->pos, y->pos) ? -1 : pos_before(y->pos, x->pos) ? 1 : 0;
}

/* Reports every object whose name was used before it in the file. */
static void dup_names(struct cfg_ctx *c, const char *kind, struct named *v, size_t n)
{
	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i].name, v[i - 1].name) == 0) {
			size_t first = i - 1;
			while (first > 0 && strcmp(v[first - 1].name, v[i].name) == 0)
				first--;
			cfg_error_at(c, v[i].pos.line, v[i].pos.col,
				     "%s \"%s\": metadata.name: duplicate name, a %s of that name is "
				     "already defined at line %d", kind, v[i].name, kind,
				     v[first].pos.line);
		}
}

#define CHECK_DUPS(kind, arr, cnt)                                                              \
	do {                                                                                    \
		struct named *v_ = malloc((g->cnt ? g->cnt : 1) * sizeof(*v_));                 \
		if (!v_)                                                                        \
			abort();                                                                \
		for (size_t i_ = 0; i_ < g->cnt; i_++)                                          \
			v_[i_] = (struct named){g->arr[i_].name, {g->arr[i_].line, g->arr[i_].col}}; \
		dup_names(c, kind, v_, g->cnt);                                                 \
		free(v_);                                                                       \
	} while (0)

static int alias_ptr_cmp(const void *a, const void *b)
{
	const struct cfg_alias *x = *(const struct cfg_alias *const *)a;
	const struct cfg_alias *y = *(const struct cfg_alias *const *)b;
	int r = strcmp(x->name, y->name);
	if (r)
		return r;
	struct cfg_pos px = {x->line, x->col}, py = {y->line, y->col};
	return pos_before(px, py) ? -1 : pos_before(py, px) ? 1 : 0;
}

static void check_duplicates(struct cfg_ctx *c)
{
	struct config *g = c->cfg;
	CHECK_DUPS("IPAddressPool", pools, n_pools);
	CHECK_DUPS("L2Advertisement", l2advs, n_l2advs);
	CHECK_DUPS("BGPAdvertisement", bgpadvs, n_bgpadvs);
	CHECK_DUPS("BGPPeer", peers, n_peers);
	CHECK_DUPS("BFDProfile", bfds, n_bfds);
	/* Community aliases are one namespace across every Community object. Sorted copy of
	 * pointers, so that a huge file costs n log n, not n squared. */
	const struct cfg_alias **v = malloc((g->n_aliases ? g->n_aliases : 1) * sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < g->n_aliases; i++)
		v[i] = &g->aliases[i];
	qsort(v, g->n_aliases, sizeof(*v), alias_ptr_cmp);
	for (size_t i = 1; i < g->n_aliases; i++) {
		if (strcmp(v[i]->name, v[i - 1]->name) != 0)
			continue;
		size_t first = i - 1;
		while (first > 0 && strcmp(v[first - 1]->name, v[i]->name) == 0)
			first--;
		cfg_error_at(c, v[i]->line, v[i]->col,
			     "Community \"%s\": alias \"%s\" is already defined in Community \"%s\" "
			     "(line %d), expected alias names unique across all Community objects",
			     v[i]->owner, v[i]->name, v[first]->owner, v[first]->line);
	}
	free(v);
}

/* ---------- overlapping pools ---------- */

struct entry {
	const struct cfg_pool *pool;
	size_t idx;
	struct cfg_pos pos;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = addr_cmp(&x->pool->ranges[x->idx].lo, &y->pool->ranges[y->idx].lo);
	if (r)
		return r;
	return addr_cmp(&x->pool->ranges[x->idx].hi, &y->pool->ranges[y->idx].hi);
}

static void report_overlap(struct cfg_ctx *c, const struct entry *x, const struct entry *y)
{
	/* The message goes to whichever entry comes later in the file. */
	if (pos_before(y->pos, x->pos)) {
		const struct entry *t = x;
		x = y;
		y = t;
	}
	cfg_error_at(c, y->pos.line, y->pos.col,
		     "IPAddressPool \"%s\": spec.addresses[%zu]: \"%s\" overlaps \"%s\" "
		     "(IPAddressPool \"%s\" spec.addresses[%zu], line %d), expected pools "
		     "that share no address",
		     y->pool->name, y->idx, y->pool->addresses[y->idx], x->pool->addresses[x->idx],
		     x->pool->name, x->idx, x->pos.line);
}

/* Sort every entry by start address, then sweep with the entry that reaches furthest so far:
 * any entry starting before that reach overlaps it. O(n log n) for any number of entries. */
static void check_overlaps(struct cfg_ctx *c)
{
	struct config *g = c->cfg;
	size_t n = 0;
	for (size_t i = 0; i < g->n_pools; i++)
		n += g->pools[i].n_addresses;
	if (n < 2)
		return;
	struct entry *v = malloc(n * sizeof(*v));
	if (!v)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < g->n_pools; i++) {
		const struct cfg_pool *p = &g->pools[i];
		for (size_t j = 0; j < p->n_addresses; j++)
			v[k++] = (struct entry){p, j, pos_or(p->address_pos, j, p->line, p->col)};
	}
	qsort(v, n, sizeof(*v), entry_cmp);
	const struct entry *reach = &v[0];
	for (size_t i = 1; i < n; i++) {
		const range_t *r = &v[i].pool->ranges[v[i].idx];
		const range_t *m = &reach->pool->ranges[reach->idx];
		if (r->lo.family != m->lo.family) {
			reach = &v[i];
			continue;
		}
		if (addr_cmp(&r->lo, &m->hi) <= 0)
			report_overlap(c, reach, &v[i]);
		if (addr_cmp(&r->hi, &m->hi) > 0)
			reach = &v[i];
	}
	free(v);
}

/* ---------- lookups (lists are sorted by name before the checks run) ---------- */

static int pool_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cfg_pool *)elem)->name);
}

static const struct cfg_pool *pool_by_name(const struct config *g, const char *name)
{
	if (!g->n_pools)
		return NULL;
	return bsearch(name, g->pools, g->n_pools, sizeof(*g->pools), pool_key_cmp);
}

static int peer_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cfg_peer *)elem)->name);
}

static int bfd_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cfg_bfd *)elem)->name);
}

static int alias_name_cmp(const void *a, const void *b)
{
	const struct cfg_alias *x = *(const struct cfg_alias *const *)a;
	const struct cfg_alias *y = *(const struct cfg_alias *const *)b;
	return strcmp(x->name, y->name);
}

static int alias_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct cfg_alias *const *)elem)->name);
}

/* ---------- references ---------- */

static void check_pool_refs(struct cfg_ctx *c, const char *kind, const char *name, char **pools,
			    size_t n, const struct cfg_pos *pos, int line, int col)
{
	const struct config *g = c->cfg;
	for (size_t i = 0; i < n; i++) {
		if (pool_by_name(g, pools[i]))
			continue;
		struct cfg_pos p = pos_or(pos, i, line, col);
		/* A file with no pool at all is a fragment (as MetalLB's samples are, applied next to
		 * other objects): say so, but do not fail. With pools present it is a typo. */
		if (g->n_pools == 0)
			cfg_diag_at(c, CFG_WARNING, p.line, p.col,
				    "%s \"%s\": spec.ipAddressPools[%zu]: IPAddressPool \"%s\" is not "
				    "defined (this config has no IPAddressPool)", kind, name, i, pools[i]);
		else
			cfg_error_at(c, p.line, p.col,
				     "%s \"%s\": spec.ipAddressPools[%zu]: IPAddressPool \"%s\" is not "
				     "defined, expected the name of an IPAddressPool", kind, name, i,
				     pools[i]);
	}
}

struct cval {
	struct cfg_community_value v;
	size_t i;
};

static int cval_cmp(const void *a, const void *b)
{
	const struct cval *x = a, *y = b;
	if (x->v.large != y->v.large)
		return x->v.large ? 1 : -1;
	if (x->v.a != y->v.a)
		return x->v.a < y->v.a ? -1 : 1;
	if (x->v.b != y->v.b)
		return x->v.b < y->v.b ? -1 : 1;
	if (x->v.c != y->v.c)
		return x->v.c < y->v.c ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Resolve community aliases of one advertisement and find one value written two ways. Literal
 * values were checked (bad ones reported) by the form parsers; only names without ':' are looked
 * up here. */
static void check_communities(struct cfg_ctx *c, struct cfg_bgpadv *a,
			      const struct cfg_alias **by_name, size_t n_alias)
{
	struct cval *ok = malloc((a->n_communities ? a->n_communities : 1) * sizeof(*ok));
	if (!ok)
		abort();
	size_t n_ok = 0;
	for (size_t j = 0; j < a->n_communities; j++) {
		const char *s = a->communities[j];
		if (cfg_parse_community(s, &a->community_values[j]) == 0) {
			ok[n_ok++] = (struct cval){a->community_values[j], j};
			continue;
		}
		if (strchr(s, ':') || !s[0])
			continue;
		const struct cfg_alias *const *al =
			n_alias ? bsearch(s, by_name, n_alias, sizeof(*by_name), alias_key_cmp) : NULL;
		if (!al) {
			struct cfg_pos p = pos_or(a->community_pos, j, a->line, a->col);
			cfg_error_at(c, p.line, p.col,
				     "BGPAdvertisement \"%s\": spec.communities[%zu]: \"%s\" is neither a "
				     "community value (A:B or large:A:B:C) nor an alias defined in a "
				     "Community object", a->name, j, s);
			continue;
		}
		a->community_values[j] = (*al)->v;
		ok[n_ok++] = (struct cval){(*al)->v, j};
	}
	qsort(ok, n_ok, sizeof(*ok), cval_cmp);
	size_t head = 0;
	for (size_t k = 1; k < n_ok; k++) {
		struct cval x = ok[head], y = ok[k];
		y.i = x.i; /* compare values only */
		if (cval_cmp(&x, &y) != 0) {
			head = k;
			continue;
		}
		size_t j = ok[k].i, f = ok[head].i;
		/* the same text twice was reported by the form parser */
		if (strcmp(a->communities[j], a->communities[f]) == 0)
			continue;
		struct cfg_pos p = pos_or(a->community_pos, j, a->line, a->col);
		cfg_error_at(c, p.line, p.col,
			     "BGPAdvertisement \"%s\": spec.communities[%zu]: \"%s\" is the same "
			     "community as \"%s\" (spec.communities[%zu]), expected each community once",
			     a->name, j, a->communities[j], a->communities[f], f);
	}
	free(ok);
}

static void check_refs(struct cfg_ctx *c)
{
	struct config *g = c->cfg;
	for (size_t i = 0; i < g->n_l2advs; i++) {
		const struct cfg_l2adv *a = &g->l2advs[i];
		check_pool_refs(c, "L2Advertisement", a->name, a->pools, a->n_pools, a->pool_pos,
				a->line, a->col);
	}
	const struct cfg_alias **by_name = malloc((g->n_aliases ? g->n_aliases : 1) * sizeof(*by_name));
	if (!by_name)
		abort();
	for (size_t i = 0; i < g->n_aliases; i++)
		by_name[i] = &g->aliases[i];
	qsort(by_name, g->n_aliases, sizeof(*by_name), alias_name_cmp);
	for (size_t i = 0; i < g->n_bgpadvs; i++) {
		struct cfg_bgpadv *a = &g->bgpadvs[i];
		check_pool_refs(c, "BGPAdvertisement", a->name, a->pools, a->n_pools, a->pool_pos,
				a->line, a->col);
		for (size_t j = 0; j < a->n_peers; j++) {
			if (g->n_peers && bsearch(a->peers[j], g->peers, g->n_peers, sizeof(*g->peers),
						  peer_key_cmp))
				continue;
			struct cfg_pos p = pos_or(a->peer_pos, j, a->line, a->col);
			if (g->n_peers == 0)
				cfg_diag_at(c, CFG_WARNING, p.line, p.col,
					    "BGPAdvertisement \"%s\": spec.peers[%zu]: BGPPeer \"%s\" is "
					    "not defined (this config has no BGPPeer)", a->name, j,
					    a->peers[j]);
			else
				cfg_error_at(c, p.line, p.col,
					     "BGPAdvertisement \"%s\": spec.peers[%zu]: BGPPeer \"%s\" is "
					     "not defined, expected the name of a BGPPeer", a->name, j,
					     a->peers[j]);
		}
		check_communities(c, a, by_name, g->n_aliases);
	}
	free(by_name);
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct cfg_peer *p = &g->peers[i];
		if (!p->bfd_profile)
			continue;
		bool found = g->n_bfds && bsearch(p->bfd_profile, g->bfds, g->n_bfds,
						  sizeof(*g->bfds), bfd_key_cmp);
		struct cfg_pos q = pos1_or(p->bfd_profile_pos, p->line, p->col);
		if (found)
			cfg_diag_at(c, CFG_WARNING, q.line, q.col,
				    "BGPPeer \"%s\": spec.bfdProfile: barelb does not implement BFD; "
				    "profile \"%s\" is ignored", p->name, p->bfd_profile);
		else
			cfg_error_at(c, q.line, q.col,
				     "BGPPeer \"%s\": spec.bfdProfile: BFDProfile \"%s\" is not defined, "
				     "expected the name of a BFDProfile", p->name, p->bfd_profile);
	}
}

/* ---------- advertisements against pools ---------- */

/* Which pools one BGPAdvertisement selects: every pool (no reference at all, as in MetalLB), or
 * the listed names plus the pools its selectors match. */
struct adv_sel {
	bool all;
	size_t *idx;
	size_t n;
};

static void select_pools(const struct config *g, const struct cfg_bgpadv *a, size_t *stamp,
			 size_t mark, struct adv_sel *out)
{
	memset(out, 0, sizeof(*out));
	if (a->n_pools == 0 && a->n_pool_selectors == 0) {
		out->all = true;
		return;
	}
	size_t cap = a->n_pools + (a->n_pool_selectors ? g->n_pools : 0);
	out->idx = malloc((cap ? cap : 1) * sizeof(*out->idx));
	if (!out->idx)
		abort();
	for (size_t i = 0; i < a->n_pools; i++) {
		const struct cfg_pool *p = pool_by_name(g, a->pools[i]);
		size_t k = p ? (size_t)(p - g->pools) : 0;
		if (p && stamp[k] != mark) {
			stamp[k] = mark;
			out->idx[out->n++] = k;
		}
	}
	for (size_t k = 0; a->n_pool_selectors && k < g->n_pools; k++)
		if (stamp[k] != mark && cfg_selectors_match_any(a->pool_selectors, a->n_pool_selectors,
								g->pools[k].labels, g->pools[k].n_labels)) {
			stamp[k] = mark;
			out->idx[out->n++] = k;
		}
}

static size_t sel_count(const struct config *g, const struct adv_sel *s)
{
	return s->all ? g->n_pools : s->n;
}

static size_t sel_at(const struct adv_sel *s, size_t i)
{
	return s->all ? i : s->idx[i];
}

/* Per pool and family: the widest CIDR of any address entry (its shortest prefix length), and
 * which entry holds it. -1 when the pool has no address of that family. */
struct pool_widest {
	int len[2];
	size_t entry[2];
};

static void pool_widest(const struct cfg_pool *p, struct pool_widest *w)
{
	prefix_t pfx[256];
	w->len[0] = w->len[1] = -1;
	w->entry[0] = w->entry[1] = 0;
	for (size_t k = 0; k < p->n_addresses; k++) {
		const range_t *r = &p->ranges[k];
		size_t np = range_to_prefixes(r, pfx, 256);
		if (np > 256)
			np = 256;
		if (np == 0)
			continue;
		int fam = addr_is_v4(&r->lo) ? 0 : 1;
		/* the entry's lowest mask; the pool's worst entry is the one where it is highest */
		int lowest = 128;
		for (size_t m = 0; m < np; m++)
			if (pfx[m].len < lowest)
				lowest = pfx[m].len;
		if (lowest > w->len[fam]) {
			w->len[fam] = lowest;
			w->entry[fam] = k;
		}
	}
}

/* The aggregation length must not be shorter than the widest CIDR of any address entry of a
 * selected pool (MetalLB validateBGPAdvPerPool): a shorter one would announce addresses that are
 * not in the pool. One message per advertisement, pool and family, naming the worst entry. */
static void check_aggregation(struct cfg_ctx *c, const struct adv_sel *sel,
			      const struct pool_widest *w)
{
	struct config *g = c->cfg;
	for (size_t i = 0; i < g->n_bgpadvs; i++) {
		const struct cfg_bgpadv *a = &g->bgpadvs[i];
		for (size_t s = 0; s < sel_count(g, &sel[i]); s++) {
			size_t j = sel_at(&sel[i], s);
			const struct cfg_pool *p = &g->pools[j];
			for (int fam = 0; fam < 2; fam++) {
				int agg = fam ? a->aggregation_length_v6 : a->aggregation_length;
				if (w[j].len[fam] < 0 || agg >= w[j].len[fam])
					continue;
				struct cfg_pos q = pos1_or(fam ? a->aggregation_length_v6_pos
							       : a->aggregation_length_pos,
							   a->line, a->col);
				cfg_error_at(c, q.line, q.col,
					     "BGPAdvertisement \"%s\": spec.%s: %d is shorter than the "
					     "/%d prefix of \"%s\" in IPAddressPool \"%s\", expected at "
					     "least %d",
					     a->name, fam ? "aggregationLengthV6" : "aggregationLength", agg,
					     w[j].len[fam], p->addresses[w[j].entry[fam]], p->name,
					     w[j].len[fam]);
			}
		}
	}
}

static bool peers_meet(const struct cfg_bgpadv *x, const struct cfg_bgpadv *y, const char **which)
{
	*which = NULL;
	if (x->n_peers == 0 || y->n_peers == 0) {
		if (x->n_peers)
			*which = x->peers[0];
		else if (y->n_peers)
			*which = y->peers[0];
		return true;
	}
	for (size_t i = 0; i < x->n_peers; i++)
		for (size_t j = 0; j < y->n_peers; j++)
			if (strcmp(x->peers[i], y->peers[j]) == 0) {
				*which = x->peers[i];
				return true;
			}
	return false;
}

static bool adv_before(const struct cfg_bgpadv *x, const struct cfg_bgpadv *y)
{
	return pos_before((struct cfg_pos){x->line, x->col}, (struct cfg_pos){y->line, y->col});
}

/* One conflict per advertisement at most (the later one in the file gets the message). */
static void lp_pair(struct cfg_ctx *c, size_t xi, size_t yi, const char *pool, bool *reported)
{
	const struct cfg_bgpadv *x = &c->cfg->bgpadvs[xi], *y = &c->cfg->bgpadvs[yi];
	if (x->local_pref == y->local_pref)
		return;
	if (adv_before(y, x)) {
		const struct cfg_bgpadv *t = x;
		x = y;
		y = t;
		yi = xi;
	}
	if (reported[yi])
		return;
	const char *peer;
	if (!peers_meet(x, y, &peer))
		return;
	reported[yi] = true;
	struct cfg_pos q = pos1_or(y->local_pref_pos, y->line, y->col);
	char who[300];
	if (peer)
		snprintf(who, sizeof(who), "BGPPeer \"%s\"", peer);
	else
		snprintf(who, sizeof(who), "every peer");
	cfg_error_at(c, q.line, q.col,
		     "BGPAdvertisement \"%s\": spec.localPref: %u conflicts with BGPAdvertisement "
		     "\"%s\" (localPref %u, line %d): both send IPAddressPool \"%s\" to %s, expected "
		     "the same localPref",
		     y->name, y->local_pref, x->name, x->local_pref, x->line, pool, who);
}

/* MetalLB BGPAdvertisementsHaveCompatibleLocalPref: one prefix cannot go to one peer with two
 * LOCAL_PREF values. Pairs are only formed among advertisements that share a pool (per-pool
 * lists), so that many advertisements of distinct pools cost nothing. */
static void check_local_pref(struct cfg_ctx *c, const struct adv_sel *sel)
{
	struct config *g = c->cfg;
	size_t na = g->n_bgpadvs, np = g->n_pools;
	if (na < 2 || np == 0)
		return;
	bool *reported = calloc(na, sizeof(*reported));
	size_t *start = calloc(np + 1, sizeof(*start));
	if (!reported || !start)
		abort();
	size_t total = 0;
	for (size_t i = 0; i < na; i++)
		if (!sel[i].all)
			for (size_t s = 0; s < sel[i].n; s++) {
				start[sel[i].idx[s] + 1]++;
				total++;
			}
	for (size_t k = 0; k < np; k++)
		start[k + 1] += start[k];
	size_t *list = malloc((total ? total : 1) * sizeof(*list));
	size_t *fill = malloc(np * sizeof(*fill));
	if (!list || !fill)
		abort();
	memcpy(fill, start, np * sizeof(*fill));
	for (size_t i = 0; i < na; i++)
		if (!sel[i].all)
			for (size_t s = 0; s < sel[i].n; s++)
				list[fill[sel[i].idx[s]]++] = i;
	for (size_t k = 0; k < np; k++) {
		size_t b = start[k], e = start[k + 1];
		bool mixed = false;
		for (size_t i = b + 1; i < e && !mixed; i++)
			mixed = g->bgpadvs[list[i]].local_pref != g->bgpadvs[list[b]].local_pref;
		for (size_t i = b; mixed && i < e; i++)
			for (size_t j = i + 1; j < e; j++)
				lp_pair(c, list[i], list[j], g->pools[k].name, reported);
	}
	/* Advertisements of every pool share a pool with any advertisement that selects one. */
	for (size_t x = 0; x < na; x++) {
		if (!sel[x].all)
			continue;
		for (size_t y = 0; y < na; y++) {
			if (y == x || (sel[y].all && y < x) || sel_count(g, &sel[y]) == 0)
				continue;
			lp_pair(c, x, y, g->pools[sel_at(&sel[y], 0)].name, reported);
		}
	}
	free(list);
	free(fill);
	free(start);
	free(reported);
}

static void check_advertisements(struct cfg_ctx *c)
{
	struct config *g = c->cfg;
	struct adv_sel *sel = calloc(g->n_bgpadvs ? g->n_bgpadvs : 1, sizeof(*sel));
	size_t *stamp = calloc(g->n_pools ? g->n_pools : 1, sizeof(*stamp));
	struct pool_widest *w = calloc(g->n_pools ? g->n_pools : 1, sizeof(*w));
	if (!sel || !stamp || !w)
		abort();
	for (size_t j = 0; j < g->n_pools; j++)
		pool_widest(&g->pools[j], &w[j]);
	for (size_t i = 0; i < g->n_bgpadvs; i++)
		select_pools(g, &g->bgpadvs[i], stamp, i + 1, &sel[i]);
	check_aggregation(c, sel, w);
	check_local_pref(c, sel);
	for (size_t i = 0; i < g->n_bgpadvs; i++)
		free(sel[i].idx);
	free(sel);
	free(stamp);
	free(w);
}

/* ---------- sorting ---------- */

#define NAME_CMP(fn, type)                                                                      \
	static int fn(const void *a, const void *b)                                              \
	{                                                                                       \
		return strcmp(((const type *)a)->name, ((const type *)b)->name);                 \
	}
NAME_CMP(pool_cmp, struct cfg_pool)
NAME_CMP(l2_cmp, struct cfg_l2adv)
NAME_CMP(bgp_cmp, struct cfg_bgpadv)
NAME_CMP(peer_cmp, struct cfg_peer)
NAME_CMP(bfd_cmp, struct cfg_bfd)

static int alias_cmp(const void *a, const void *b)
{
	const struct cfg_alias *x = a, *y = b;
	int r = strcmp(x->owner, y->owner);
	return r ? r : strcmp(x->name, y->name);
}

void config_validate(struct cfg_ctx *c)
{
	struct config *g = c->cfg;
	const char *saved = c->obj;
	c->obj = NULL; /* every message here names its objects itself */
	/* Sorted first, so that the checks can look names up by bisection. Messages carry their
	 * own positions and are put in file order by the loader. */
	if (g->n_pools)
		qsort(g->pools, g->n_pools, sizeof(*g->pools), pool_cmp);
	if (g->n_l2advs)
		qsort(g->l2advs, g->n_l2advs, sizeof(*g->l2advs), l2_cmp);
	if (g->n_bgpadvs)
		qsort(g->bgpadvs, g->n_bgpadvs, sizeof(*g->bgpadvs), bgp_cmp);
	if (g->n_peers)
		qsort(g->peers, g->n_peers, sizeof(*g->peers), peer_cmp);
	if (g->n_bfds)
		qsort(g->bfds, g->n_bfds, sizeof(*g->bfds), bfd_cmp);
	if (g->n_aliases)
		qsort(g->aliases, g->n_aliases, sizeof(*g->aliases), alias_cmp);
	check_duplicates(c);
	check_overlaps(c);
	check_refs(c);
	check_advertisements(c);
	c->obj = saved;
}
