/* SPDX-License-Identifier: Apache-2.0 */
/* config_crd: MetalLB's CRD kinds (IPAddressPool, L2Advertisement, BGPAdvertisement, BGPPeer,
 * BFDProfile, Community) read from one YAML document each, with per-object defaults and checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

#define FIELD_MAX 256

/* What every kind parser gets: the document split into its parts. */
struct obj {
	const char *kind;
	const char *api;
	char *name;                /* NULL when metadata.name is missing or not a string */
	bool keep;                 /* add the object to the config (it has a name) */
	const struct ynode *root, *meta, *spec;
};

/* A field that is absent or written as null is "not set", as in Kubernetes. */
static const struct ynode *opt(const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);
	return n && !yscalar_is_null(n) ? n : NULL;
}

static struct cfg_pos *positions(struct cfg_ctx *c, const struct ynode *list, size_t n)
{
	if (!list || list->kind != YN_SEQ || n == 0 || list->n_items != n)
		return NULL;
	struct cfg_pos *p = arena_array(c->cfg->mem, n, sizeof(*p));
	for (size_t i = 0; i < n; i++)
		p[i] = cfg_pos_of(c, list->items[i]);
	return p;
}

/* A list of object names (pools, peers): strings, not empty, no duplicates. */
static int get_name_list(struct cfg_ctx *c, const struct ynode *n, const char *field, char ***out,
			 size_t *n_out, struct cfg_pos **pos)
{
	*pos = NULL;
	if (cfg_get_string_list(c, n, field, out, n_out) < 0)
		return -1;
	int rc = 0;
	size_t *dups = cfg_dup_index((const char *const *)*out, *n_out);
	for (size_t i = 0; i < *n_out; i++) {
		if (!(*out)[i][0]) {
			cfg_error(c, n->items[i], "%s[%zu]: empty name, expected the name of an object",
				  field, i);
			rc = -1;
		}
		if (dups[i] != SIZE_MAX) {
			cfg_error(c, n->items[i], "%s[%zu]: \"%s\" is listed twice", field, i,
				  (*out)[i]);
			rc = -1;
		}
	}
	free(dups);
	*pos = positions(c, n, *n_out);
	return rc;
}

/* ---------- IPAddressPool ---------- */

/* spec.reserved (barelb): addresses or ranges inside the pool that are never handed out
 * automatically. Each must lie within one of the pool's entries, so a typo is not silently a
 * no-op. */
static void parse_reserved(struct cfg_ctx *c, const struct ynode *list, struct cfg_pool *p)
{
	char **v = NULL;
	size_t n = 0;

	if (cfg_get_string_list(c, list, "spec.reserved", &v, &n) < 0 || n == 0)
		return;
	p->reserved = v;
	p->reserved_ranges = arena_array(c->cfg->mem, n, sizeof(*p->reserved_ranges));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *e = list->items[i];
		range_t r;
		bool inside = false;

		if (range_parse(v[i], &r) < 0) {
			cfg_error(c, e, "spec.reserved[%zu]: \"%s\" is not an IP address, CIDR or start-end "
				  "range", i, v[i]);
			continue;
		}
		for (size_t k = 0; k < p->n_addresses && !inside; k++)
			inside = range_contains(&p->ranges[k], &r.lo) &&
				 range_contains(&p->ranges[k], &r.hi);
		if (!inside && p->n_addresses) {
			cfg_error(c, e, "spec.reserved[%zu]: \"%s\" is not inside the pool's addresses",
				  i, v[i]);
			continue;
		}
		p->reserved_ranges[p->n_reserved] = r;
		p->reserved[p->n_reserved++] = v[i];
	}
}

static void parse_pool(struct cfg_ctx *c, struct obj *o)
{
	static const char *const keys[] = {"addresses", "autoAssign", "avoidBuggyIPs",
					   "serviceAllocation", "reserved", "allocationHoldDown", NULL};
	static const char *const sa_keys[] = {"priority", "namespaces", "namespaceSelectors",
					      "serviceSelectors", NULL};
	struct cfg_pool p;
	memset(&p, 0, sizeof(p));
	p.name = o->name;
	p.auto_assign = true;
	struct cfg_pos at = cfg_pos_of(c, o->root);
	p.line = at.line;
	p.col = at.col;
	cfg_get_labels(c, opt(o->meta, "labels"), "metadata.labels", &p.labels, &p.n_labels);
	const struct ynode *spec = o->spec;
	if (!spec) {
		cfg_error(c, o->root, "spec: required field missing (spec.addresses lists the pool's "
			  "addresses)");
	} else if (cfg_want_map(c, spec, "spec") == 0) {
		cfg_check_keys(c, spec, "spec", keys);
		const struct ynode *n = ymap_get(spec, "addresses");
		if (!n)
			cfg_error(c, spec, "spec.addresses: required field missing, expected a list of "
				  "CIDRs or start-end ranges");
		else
			cfg_parse_pool_addresses(c, n, "spec.addresses", &p);
		if ((n = opt(spec, "autoAssign")))
			cfg_get_bool(c, n, "spec.autoAssign", &p.auto_assign);
		if ((n = opt(spec, "avoidBuggyIPs")))
			cfg_get_bool(c, n, "spec.avoidBuggyIPs", &p.avoid_buggy_ips);
		if ((n = opt(spec, "allocationHoldDown")))
			cfg_get_duration_s(c, n, "spec.allocationHoldDown", &p.hold_down_s);
		if ((n = opt(spec, "reserved")))
			parse_reserved(c, n, &p);
		const struct ynode *sa = opt(spec, "serviceAllocation");
		if (sa && cfg_want_map(c, sa, "spec.serviceAllocation") == 0) {
			p.has_service_allocation = true;
			cfg_check_keys(c, sa, "spec.serviceAllocation", sa_keys);
			int64_t prio;
			if ((n = opt(sa, "priority")) &&
			    cfg_get_int(c, n, "spec.serviceAllocation.priority", 0, INT32_MAX, &prio) == 0)
				p.priority = (int)prio;
			cfg_get_string_list(c, opt(sa, "namespaces"), "spec.serviceAllocation.namespaces",
					    &p.namespaces, &p.n_namespaces);
			cfg_get_selector_list(c, opt(sa, "namespaceSelectors"),
					      "spec.serviceAllocation.namespaceSelectors", false,
					      &p.namespace_selectors, &p.n_namespace_selectors);
			cfg_get_selector_list(c, opt(sa, "serviceSelectors"),
					      "spec.serviceAllocation.serviceSelectors", false,
					      &p.service_selectors, &p.n_service_selectors);
		}
	}
	if (o->keep)
		*cfg_add_pool(c) = p;
}

/* ---------- L2Advertisement ---------- */

static void parse_l2adv(struct cfg_ctx *c, struct obj *o)
{
	static const char *const keys[] = {"ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors",
					   "interfaces", "serviceSelectors", "preferredNodeSelectors",
					   NULL};
	static const char *const pref_keys[] = {"weight", "preference", NULL};
	struct cfg_l2adv a;
	memset(&a, 0, sizeof(a));
	a.name = o->name;
	struct cfg_pos at = cfg_pos_of(c, o->root);
	a.line = at.line;
	a.col = at.col;
	const struct ynode *spec = o->spec;
	/* No spec at all is MetalLB's "advertise every pool from every node". */
	if (spec && cfg_want_map(c, spec, "spec") == 0) {
		cfg_check_keys(c, spec, "spec", keys);
		get_name_list(c, opt(spec, "ipAddressPools"), "spec.ipAddressPools", &a.pools,
			      &a.n_pools, &a.pool_pos);
		cfg_get_selector_list(c, opt(spec, "ipAddressPoolSelectors"),
				      "spec.ipAddressPoolSelectors", false, &a.pool_selectors,
				      &a.n_pool_selectors);
		cfg_get_selector_list(c, opt(spec, "nodeSelectors"), "spec.nodeSelectors", false,
				      &a.node_selectors, &a.n_node_selectors);
		const struct ynode *ifs = opt(spec, "interfaces");
		if (cfg_get_string_list(c, ifs, "spec.interfaces", &a.interfaces, &a.n_interfaces) == 0)
			for (size_t i = 0; i < a.n_interfaces; i++) {
				size_t l = strlen(a.interfaces[i]);
				if (l == 0 || l > 15 || strchr(a.interfaces[i], '/') ||
				    strpbrk(a.interfaces[i], " \t"))
					cfg_error(c, ifs->items[i], "spec.interfaces[%zu]: \"%s\" is not "
						  "an interface name, expected 1 to 15 characters without "
						  "'/' or spaces", i, a.interfaces[i]);
			}
		cfg_get_selector_list(c, opt(spec, "serviceSelectors"), "spec.serviceSelectors", false,
				      &a.service_selectors, &a.n_service_selectors);
		const struct ynode *pref = opt(spec, "preferredNodeSelectors");
		if (pref && pref->kind != YN_SEQ) {
			cfg_error(c, pref, "spec.preferredNodeSelectors: expected a list, got %s",
				  ynode_kind_name(pref->kind));
		} else if (pref) {
			a.preferred = arena_array(c->cfg->mem, pref->n_items, sizeof(*a.preferred));
			for (size_t i = 0; i < pref->n_items; i++) {
				const struct ynode *e = pref->items[i];
				char f[FIELD_MAX], g[FIELD_MAX];
				cfg_field(f, sizeof(f), "spec.preferredNodeSelectors[%zu]", i);
				if (cfg_want_map(c, e, f) < 0)
					continue;
				cfg_check_keys(c, e, f, pref_keys);
				struct cfg_pref_node *pn = &a.preferred[a.n_preferred];
				const struct ynode *w = opt(e, "weight");
				int64_t wv = 0;
				cfg_field(g, sizeof(g), "%s.weight", f);
				if (!w)
					cfg_error(c, e, "%s: required field missing, expected 1..100", g);
				else if (cfg_get_int(c, w, g, 1, 100, &wv) < 0)
					continue;
				pn->weight = (int)wv;
				cfg_field(g, sizeof(g), "%s.preference", f);
				const struct ynode *pr = opt(e, "preference");
				if (!pr) {
					cfg_error(c, e, "%s: required field missing", g);
					continue;
				}
				if (cfg_get_selector(c, pr, g, false, &pn->preference) == 0 && w)
					a.n_preferred++;
			}
		}
	}
	if (o->keep)
		*cfg_add_l2adv(c) = a;
}

/* ---------- BGPAdvertisement ---------- */

/* Text that is meant as a community value rather than an alias name. */
static bool looks_like_community(const char *s)
{
	if (strncmp(s, "large:", 6) == 0)
		return true;
	bool colon = false;
	for (; *s; s++) {
		if (*s == ':')
			colon = true;
		else if (*s < '0' || *s > '9')
			return false;
	}
	return colon;
}

static void parse_bgpadv(struct cfg_ctx *c, struct obj *o)
{
	static const char *const keys[] = {"aggregationLength", "aggregationLengthV6", "localPref",
					   "communities", "ipAddressPools", "ipAddressPoolSelectors",
					   "nodeSelectors", "peers", "serviceSelectors", NULL};
	struct cfg_bgpadv a;
	memset(&a, 0, sizeof(a));
	a.name = o->name;
	a.aggregation_length = 32;
	a.aggregation_length_v6 = 128;
	struct cfg_pos at = cfg_pos_of(c, o->root);
	a.line = at.line;
	a.col = at.col;
	const struct ynode *spec = o->spec;
	if (spec && cfg_want_map(c, spec, "spec") == 0) {
		cfg_check_keys(c, spec, "spec", keys);
		const struct ynode *n;
		int64_t v;
		uint64_t u;
		if ((n = opt(spec, "aggregationLength"))) {
			a.aggregation_length_pos = cfg_pos_of(c, n);
			if (cfg_get_int(c, n, "spec.aggregationLength", 0, 32, &v) == 0)
				a.aggregation_length = (int)v;
		}
		if ((n = opt(spec, "aggregationLengthV6"))) {
			a.aggregation_length_v6_pos = cfg_pos_of(c, n);
			if (cfg_get_int(c, n, "spec.aggregationLengthV6", 0, 128, &v) == 0)
				a.aggregation_length_v6 = (int)v;
		}
		if ((n = opt(spec, "localPref"))) {
			a.local_pref_pos = cfg_pos_of(c, n);
			if (cfg_get_uint(c, n, "spec.localPref", 0, UINT32_MAX, &u) == 0) {
				a.has_local_pref = true;
				a.local_pref = (uint32_t)u;
			}
		}
		const struct ynode *cl = opt(spec, "communities");
		if (cfg_get_string_list(c, cl, "spec.communities", &a.communities, &a.n_communities) == 0) {
			a.community_values = arena_array(c->cfg->mem, a.n_communities,
							 sizeof(*a.community_values));
			a.community_pos = positions(c, cl, a.n_communities);
			size_t *dups = cfg_dup_index((const char *const *)a.communities,
						     a.n_communities);
			for (size_t i = 0; i < a.n_communities; i++) {
				const char *s = a.communities[i];
				/* Aliases are resolved once every Community object is known
				 * (config_validate); here only the literal values. */
				if (dups[i] != SIZE_MAX)
					cfg_error(c, cl->items[i], "spec.communities[%zu]: \"%s\" is "
						  "listed twice", i, s);
				if (cfg_parse_community(s, &a.community_values[i]) == 0)
					continue;
				if (looks_like_community(s) || !s[0] || strchr(s, ':'))
					cfg_error(c, cl->items[i], "spec.communities[%zu]: \"%s\" is not a "
						  "valid community, expected A:B (16-bit numbers), "
						  "large:A:B:C (32-bit numbers) or a Community alias", i, s);
			}
			free(dups);
		}
		get_name_list(c, opt(spec, "ipAddressPools"), "spec.ipAddressPools", &a.pools,
			      &a.n_pools, &a.pool_pos);
		cfg_get_selector_list(c, opt(spec, "ipAddressPoolSelectors"),
				      "spec.ipAddressPoolSelectors", false, &a.pool_selectors,
				      &a.n_pool_selectors);
		cfg_get_selector_list(c, opt(spec, "nodeSelectors"), "spec.nodeSelectors", false,
				      &a.node_selectors, &a.n_node_selectors);
		get_name_list(c, opt(spec, "peers"), "spec.peers", &a.peers, &a.n_peers, &a.peer_pos);
		const struct ynode *ss = opt(spec, "serviceSelectors");
		cfg_get_selector_list(c, ss, "spec.serviceSelectors", false, &a.service_selectors,
				      &a.n_service_selectors);
		/* MetalLB: an aggregated prefix covers other services' IPs, so it cannot be tied to
		 * the services a selector picks. */
		if (a.n_service_selectors &&
		    (a.aggregation_length != 32 || a.aggregation_length_v6 != 128))
			cfg_error(c, ss, "spec.serviceSelectors: cannot be used with a non-default "
				  "aggregation length (aggregationLength %d, aggregationLengthV6 %d), "
				  "expected 32 and 128", a.aggregation_length, a.aggregation_length_v6);
	}
	if (o->keep)
		*cfg_add_bgpadv(c) = a;
}

/* ---------- BGPPeer ---------- */

static void parse_peer(struct cfg_ctx *c, struct obj *o)
{
	static const char *const keys_v1beta1[] = {
		"myASN", "peerASN", "peerAddress", "sourceAddress", "peerPort", "holdTime",
		"keepaliveTime", "routerID", "nodeSelectors", "password", "bfdProfile", "ebgpMultiHop",
		NULL};
	static const char *const keys_v1beta2[] = {
		"myASN", "peerASN", "dynamicASN", "localASN", "peerAddress", "interface",
		"sourceAddress", "peerPort", "holdTime", "keepaliveTime", "connectTime", "routerID",
		"nodeSelectors", "password", "passwordSecret", "bfdProfile", "ebgpMultiHop",
		"enableGracefulRestart", "vrf", "disableMP", "dualStackAddressFamily", NULL};
	static const char *const secret_keys[] = {"name", "namespace", NULL};
	struct cfg_peer p;
	memset(&p, 0, sizeof(p));
	p.name = o->name;
	p.peer_port = 179;
	struct cfg_pos at = cfg_pos_of(c, o->root);
	p.line = at.line;
	p.col = at.col;
	const struct ynode *spec = o->spec;
	if (!spec) {
		cfg_error(c, o->root, "spec: required field missing (a BGPPeer needs at least myASN, "
			  "peerASN and peerAddress)");
		goto out;
	}
	if (cfg_want_map(c, spec, "spec") < 0)
		goto out;
	bool v1beta1 = strcmp(o->api, "metallb.io/v1beta1") == 0;
	if (v1beta1) {
		/* Point at the newer version for fields that only exist there. */
		for (size_t i = 0; i < spec->n_pairs; i++) {
			const struct ynode *k = spec->pairs[i].key;
			if (k->kind != YN_SCALAR)
				continue;
			bool in1 = false, in2 = false;
			for (size_t j = 0; keys_v1beta1[j]; j++)
				in1 |= strcmp(k->str, keys_v1beta1[j]) == 0;
			for (size_t j = 0; keys_v1beta2[j]; j++)
				in2 |= strcmp(k->str, keys_v1beta2[j]) == 0;
			if (!in1 && in2)
				cfg_error(c, k, "spec.%s: unknown field in metallb.io/v1beta1, expected "
					  "apiVersion metallb.io/v1beta2 to use it", k->str);
		}
	}
	/* v1beta2-only keys under v1beta1 were reported above; this reports the rest. */
	cfg_check_keys(c, spec, "spec", keys_v1beta2);

	const struct ynode *n, *my = opt(spec, "myASN"), *pa = opt(spec, "peerASN"),
			       *dyn = opt(spec, "dynamicASN");
	uint64_t u;
	if (!my)
		cfg_error(c, spec, "spec.myASN: required field missing, expected an AS number "
			  "1..4294967295");
	else if (cfg_get_uint(c, my, "spec.myASN", 1, UINT32_MAX, &u) == 0)
		p.my_asn = (uint32_t)u;
	bool pa_ok = pa && cfg_get_uint(c, pa, "spec.peerASN", 0, UINT32_MAX, &u) == 0;
	if (pa_ok)
		p.peer_asn = (uint32_t)u;
	if (dyn) {
		if (cfg_get_string(c, dyn, "spec.dynamicASN", &p.dynamic_asn) == 0 &&
		    strcmp(p.dynamic_asn, "internal") != 0 && strcmp(p.dynamic_asn, "external") != 0) {
			cfg_error(c, dyn, "spec.dynamicASN: \"%s\" is not allowed, expected internal or "
				  "external", p.dynamic_asn);
			p.dynamic_asn = NULL;
		}
		if (p.peer_asn != 0)
			cfg_error(c, dyn, "spec.dynamicASN: cannot be set together with peerASN, "
				  "expected one of them");
	} else if (!pa) {
		cfg_error(c, spec, "spec.peerASN: required field missing, expected an AS number "
			  "1..4294967295 (or dynamicASN: internal|external)");
	} else if (pa_ok && p.peer_asn == 0) {
		cfg_error(c, pa, "spec.peerASN: 0 is not an AS number, expected 1..4294967295 (or "
			  "dynamicASN: internal|external)");
	}
	if ((n = opt(spec, "localASN"))) {
		if (cfg_get_uint(c, n, "spec.localASN", 1, UINT32_MAX, &u) == 0) {
			p.local_asn = (uint32_t)u;
			cfg_warn(c, n, "spec.localASN: barelb does not implement localASN; sessions use "
				 "myASN %u", p.my_asn);
		}
	}

	const struct ynode *addr = opt(spec, "peerAddress"), *ifc = opt(spec, "interface");
	if (addr && cfg_get_addr(c, addr, "spec.peerAddress", &p.peer_address) == 0)
		p.has_peer_address = true;
	if (ifc && cfg_get_string(c, ifc, "spec.interface", &p.interface) == 0)
		cfg_warn(c, ifc, "spec.interface: barelb does not implement unnumbered BGP sessions; "
			 "this peer gets no session");
	if (addr && ifc)
		cfg_error(c, ifc, "spec.interface: cannot be set together with peerAddress, expected "
			  "one of them");
	else if (!addr && !ifc)
		cfg_error(c, spec, "spec.peerAddress: required field missing, expected the peer's IP "
			  "address (or interface)");
	if ((n = opt(spec, "sourceAddress")) &&
	    cfg_get_addr(c, n, "spec.sourceAddress", &p.source_address) == 0) {
		p.has_source_address = true;
		if (p.has_peer_address && p.source_address.family != p.peer_address.family)
			cfg_error(c, n, "spec.sourceAddress: %s address for an %s peerAddress, expected "
				  "the same family", addr_is_v4(&p.source_address) ? "an IPv4" : "an IPv6",
				  addr_is_v4(&p.peer_address) ? "IPv4" : "IPv6");
	}
	if ((n = opt(spec, "peerPort")) && cfg_get_uint(c, n, "spec.peerPort", 1, 16384, &u) == 0)
		p.peer_port = (uint16_t)u;

	/* Timers, as MetalLB's parseTimers: one given derives the other; none gives 90s/30s. */
	const struct ynode *ht = opt(spec, "holdTime"), *ka = opt(spec, "keepaliveTime");
	uint32_t hold = 90, keep = 30;
	bool ht_ok = ht && cfg_get_duration_s(c, ht, "spec.holdTime", &hold) == 0;
	bool ka_ok = ka && cfg_get_duration_s(c, ka, "spec.keepaliveTime", &keep) == 0;
	if (ht_ok && !ka)
		keep = hold / 3;
	else if (ka_ok && !ht)
		hold = keep > UINT32_MAX / 3 ? UINT32_MAX : keep * 3;
	if ((ht_ok || !ht) && (ka_ok || !ka)) {
		if (hold != 0 && hold < 3)
			cfg_error(c, ht ? ht : ka, "spec.holdTime: %us is too short, expected 0s or at "
				  "least 3s", hold);
		else if (keep > hold)
			cfg_error(c, ka ? ka : ht, "spec.keepaliveTime: %us is longer than holdTime %us, "
				  "expected at most the hold time", keep, hold);
		else if (ka && keep == 0 && hold != 0)
			cfg_warn(c, ka, "spec.keepaliveTime: 0s sends no KEEPALIVE, so the peer will "
				 "close the session after holdTime %us without UPDATEs", hold);
	}
	p.hold_time = hold;
	p.keepalive_time = keep;
	if ((n = opt(spec, "connectTime"))) {
		uint32_t ct;
		uint64_t ns = 0;
		if (cfg_get_duration_s(c, n, "spec.connectTime", &ct) == 0) {
			cfg_parse_duration_ns(n->str, &ns);
			if (ns % 1000000000ull != 0 || ct < 1 || ct > 65535)
				cfg_error(c, n, "spec.connectTime: \"%s\" is not allowed, expected whole "
					  "seconds from 1s to 65535s", n->str);
			else {
				p.has_connect_time = true;
				p.connect_time = ct;
			}
		}
	}
	if ((n = opt(spec, "routerID")) && cfg_get_addr(c, n, "spec.routerID", &p.router_id) == 0) {
		if (!addr_is_v4(&p.router_id))
			cfg_error(c, n, "spec.routerID: \"%s\" is an IPv6 address, expected an IPv4 "
				  "address", n->str);
		else
			p.has_router_id = true;
	}

	const struct ynode *pw = opt(spec, "password"), *ps = opt(spec, "passwordSecret");
	if (pw)
		cfg_get_string(c, pw, "spec.password", &p.password);
	/* `passwordSecret: {}` is what MetalLB's converter writes for "none". */
	if (ps && cfg_want_map(c, ps, "spec.passwordSecret") == 0 && ps->n_pairs) {
		cfg_check_keys(c, ps, "spec.passwordSecret", secret_keys);
		if ((n = opt(ps, "name")))
			cfg_get_string(c, n, "spec.passwordSecret.name", &p.password_secret_name);
		else
			cfg_error(c, ps, "spec.passwordSecret.name: required field missing, expected "
				  "the name of a kubernetes.io/basic-auth Secret");
		if ((n = opt(ps, "namespace")))
			cfg_get_string(c, n, "spec.passwordSecret.namespace",
				       &p.password_secret_namespace);
		if (pw)
			cfg_error(c, ps, "spec.passwordSecret: cannot be set together with password, "
				  "expected one of them");
		else if (p.password_secret_name)
			/* Honest until Secrets are watched: a session without its key fails the MD5 check
			 * at the router, and the user should know why before that. */
			cfg_warn(c, ps, "spec.passwordSecret: barelb does not read Secrets yet; the "
				 "session to this peer runs without TCP-MD5 (set spec.password instead)");
	}
	if ((n = opt(spec, "bfdProfile")) &&
	    cfg_get_string(c, n, "spec.bfdProfile", &p.bfd_profile) == 0) {
		/* the "not implemented" warning comes from config_validate, for both forms */
		p.bfd_profile_pos = cfg_pos_of(c, n);
	}
	if ((n = opt(spec, "ebgpMultiHop")) &&
	    cfg_get_bool(c, n, "spec.ebgpMultiHop", &p.ebgp_multihop) == 0 && p.ebgp_multihop) {
		bool ibgp = (p.my_asn && p.peer_asn && p.my_asn == p.peer_asn) ||
			    (p.dynamic_asn && strcmp(p.dynamic_asn, "internal") == 0);
		if (ibgp)
			cfg_error(c, n, "spec.ebgpMultiHop: true is only for eBGP, but this is an iBGP "
				  "session (myASN equals the peer's ASN)");
	}
	if ((n = opt(spec, "enableGracefulRestart")))
		cfg_get_bool(c, n, "spec.enableGracefulRestart", &p.enable_graceful_restart);
	if ((n = opt(spec, "vrf")) && cfg_get_string(c, n, "spec.vrf", &p.vrf) == 0) {
		if (!p.vrf[0])
			p.vrf = NULL; /* "" is the default VRF, as in MetalLB */
		else
			cfg_warn(c, n, "spec.vrf: barelb does not implement VRFs; the session uses the "
				 "default VRF instead of \"%s\"", p.vrf);
	}
	if ((n = opt(spec, "disableMP")))
		cfg_get_bool(c, n, "spec.disableMP", &p.disable_mp);
	if ((n = opt(spec, "dualStackAddressFamily")))
		cfg_get_bool(c, n, "spec.dualStackAddressFamily", &p.dual_stack_address_family);
	cfg_get_selector_list(c, opt(spec, "nodeSelectors"), "spec.nodeSelectors", false,
			      &p.node_selectors, &p.n_node_selectors);
out:
	if (o->keep)
		*cfg_add_peer(c) = p;
}

/* ---------- BFDProfile ---------- */

static void get_ms(struct cfg_ctx *c, const struct ynode *spec, const char *key, uint64_t min,
		   uint64_t max, uint32_t *out)
{
	const struct ynode *n = opt(spec, key);
	char f[FIELD_MAX];
	uint64_t u;
	cfg_field(f, sizeof(f), "spec.%s", key);
	if (n && cfg_get_uint(c, n, f, min, max, &u) == 0)
		*out = (uint32_t)u;
}

static void parse_bfd(struct cfg_ctx *c, struct obj *o)
{
	static const char *const keys[] = {"receiveInterval", "transmitInterval", "detectMultiplier",
					   "echoInterval", "echoMode", "passiveMode", "minimumTtl",
					   NULL};
	struct cfg_bfd b = {
		.name = o->name,
		.receive_interval = 300,
		.transmit_interval = 300,
		.detect_multiplier = 3,
		.echo_interval = 50,
		.minimum_ttl = 254,
	};
	struct cfg_pos at = cfg_pos_of(c, o->root);
	b.line = at.line;
	b.col = at.col;
	const struct ynode *spec = o->spec, *n;
	if (spec && cfg_want_map(c, spec, "spec") == 0) {
		cfg_check_keys(c, spec, "spec", keys);
		get_ms(c, spec, "receiveInterval", 10, 60000, &b.receive_interval);
		get_ms(c, spec, "transmitInterval", 10, 60000, &b.transmit_interval);
		get_ms(c, spec, "echoInterval", 10, 60000, &b.echo_interval);
		get_ms(c, spec, "detectMultiplier", 2, 255, &b.detect_multiplier);
		get_ms(c, spec, "minimumTtl", 1, 254, &b.minimum_ttl);
		if ((n = opt(spec, "echoMode")))
			cfg_get_bool(c, n, "spec.echoMode", &b.echo_mode);
		if ((n = opt(spec, "passiveMode")))
			cfg_get_bool(c, n, "spec.passiveMode", &b.passive_mode);
	}
	if (o->keep)
		*cfg_add_bfd(c) = b;
}

/* ---------- Community ---------- */

static void parse_community(struct cfg_ctx *c, struct obj *o)
{
	static const char *const keys[] = {"communities", NULL};
	static const char *const entry_keys[] = {"name", "value", NULL};
	const struct ynode *spec = o->spec;
	if (!spec || cfg_want_map(c, spec, "spec") < 0)
		return; /* no aliases; nothing else to check */
	cfg_check_keys(c, spec, "spec", keys);
	const struct ynode *list = opt(spec, "communities");
	if (!list)
		return;
	if (list->kind != YN_SEQ) {
		cfg_error(c, list, "spec.communities: expected a list of {name, value}, got %s",
			  ynode_kind_name(list->kind));
		return;
	}
	for (size_t i = 0; i < list->n_items; i++) {
		const struct ynode *e = list->items[i];
		char f[FIELD_MAX], g[FIELD_MAX];
		cfg_field(f, sizeof(f), "spec.communities[%zu]", i);
		if (cfg_want_map(c, e, f) < 0)
			continue;
		cfg_check_keys(c, e, f, entry_keys);
		struct cfg_alias al;
		memset(&al, 0, sizeof(al));
		const struct ynode *nm = opt(e, "name"), *val = opt(e, "value");
		bool ok = true;
		cfg_field(g, sizeof(g), "%s.name", f);
		if (!nm) {
			cfg_error(c, e, "%s: required field missing", g);
			ok = false;
		} else if (cfg_get_string(c, nm, g, &al.name) < 0) {
			ok = false;
		} else if (!al.name[0] || looks_like_community(al.name)) {
			cfg_error(c, nm, "%s: \"%s\" cannot be an alias name, expected a name that is "
				  "not itself a community value", g, al.name);
			ok = false;
		}
		cfg_field(g, sizeof(g), "%s.value", f);
		if (!val) {
			cfg_error(c, e, "%s: required field missing, expected A:B or large:A:B:C", g);
			ok = false;
		} else if (cfg_get_string(c, val, g, &al.value) < 0) {
			ok = false;
		} else if (cfg_parse_community(al.value, &al.v) < 0) {
			cfg_error(c, val, "%s: \"%s\" is not a valid community, expected A:B (16-bit "
				  "numbers) or large:A:B:C (32-bit numbers)", g, al.value);
			ok = false;
		}
		if (!ok || !o->keep)
			continue;
		struct cfg_pos p = cfg_pos_of(c, nm);
		al.line = p.line;
		al.col = p.col;
		al.owner = o->name;
		*cfg_add_alias(c) = al;
	}
}

/* ---------- dispatch ---------- */

struct kind_def {
	const char *kind;
	bool peer_versions; /* BGPPeer: v1beta1 and v1beta2 */
	void (*parse)(struct cfg_ctx *, struct obj *);
};

static const struct kind_def kinds[] = {
	{"IPAddressPool", false, parse_pool},    {"L2Advertisement", false, parse_l2adv},
	{"BGPAdvertisement", false, parse_bgpadv}, {"BGPPeer", true, parse_peer},
	{"BFDProfile", false, parse_bfd},        {"Community", false, parse_community},
};

/* MetalLB kinds that are status, not configuration: kubectl dumps may contain them. */
static const char *const status_kinds[] = {"ServiceL2Status", "ServiceBGPStatus",
					   "ConfigurationState", NULL};

static bool api_ok(const struct kind_def *k, const char *api)
{
	if (strcmp(api, "metallb.io/v1beta1") == 0 || strcmp(api, "barelb.io/v1") == 0)
		return true;
	return k->peer_versions && strcmp(api, "metallb.io/v1beta2") == 0;
}

static bool our_group(const char *api)
{
	return strncmp(api, "metallb.io/", 11) == 0 || strncmp(api, "barelb.io/", 10) == 0;
}

static const char *scalar_or_null(const struct ynode *n)
{
	return n && n->kind == YN_SCALAR && !yscalar_is_null(n) && strlen(n->str) == n->len ? n->str
											     : NULL;
}

static void parse_list(struct cfg_ctx *c, const struct ynode *root)
{
	static const char *const keys[] = {"apiVersion", "kind", "metadata", "items", NULL};
	cfg_check_keys(c, root, "", keys);
	const struct ynode *items = opt(root, "items");
	if (!items)
		return;
	if (items->kind != YN_SEQ) {
		cfg_error(c, items, "items: expected a list of objects, got %s",
			  ynode_kind_name(items->kind));
		return;
	}
	for (size_t i = 0; i < items->n_items; i++) {
		const struct ynode *it = items->items[i];
		c->obj = NULL;
		if (yscalar_is_null(it))
			continue;
		if (it->kind != YN_MAP) {
			cfg_error(c, it, "items[%zu]: expected an object (a mapping), got %s", i,
				  ynode_kind_name(it->kind));
			continue;
		}
		config_parse_crd_doc(c, it);
	}
	c->obj = NULL;
}

void config_parse_crd_doc(struct cfg_ctx *c, const struct ynode *root)
{
	static const char *const top_keys[] = {"apiVersion", "kind", "metadata", "spec", "status",
					       NULL};
	const char *saved_obj = c->obj;
	c->obj = NULL;
	const struct ynode *kn = ymap_get(root, "kind"), *an = ymap_get(root, "apiVersion");
	const char *kind = scalar_or_null(kn), *api = scalar_or_null(an);
	if (!kind) {
		if (kn)
			cfg_error(c, kn, "kind: expected a string such as IPAddressPool, got %s",
				  ynode_kind_name(kn->kind));
		else
			cfg_error(c, root, "kind: required field missing (apiVersion is set)");
		goto out;
	}
	if (strcmp(kind, "List") == 0 || (strcmp(kind, "ConfigMapList") == 0)) {
		parse_list(c, root);
		goto out;
	}
	if (strcmp(kind, "ConfigMap") == 0) {
		config_parse_legacy_configmap(c, root);
		goto out;
	}
	const struct ynode *meta = ymap_get(root, "metadata");
	const char *name = scalar_or_null(ymap_get(meta, "name"));
	const struct kind_def *k = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !k; i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			k = &kinds[i];
	if (!k) {
		bool status = false;
		for (size_t i = 0; status_kinds[i]; i++)
			status |= strcmp(status_kinds[i], kind) == 0;
		if (api && our_group(api) && !status) {
			/* A typo in a kind of our own group would otherwise skip the object quietly. */
			cfg_error(c, kn, "kind: \"%s\" is not a kind of %s, expected IPAddressPool, "
				  "L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile or Community",
				  kind, api);
			goto out;
		}
		if (name)
			cfg_note(c, root, "skipping %s \"%s\": not a barelb config kind", kind, name);
		else
			cfg_note(c, root, "skipping %s: not a barelb config kind", kind);
		goto out;
	}

	struct obj o = {.kind = kind, .api = api ? api : "", .root = root, .meta = meta};
	if (name)
		c->obj = arena_printf(c->cfg->mem, "%s \"%s\"", kind, name);
	else
		c->obj = kind;
	cfg_check_keys(c, root, "", top_keys);
	if (!an)
		cfg_error(c, root, "apiVersion: required field missing, expected %s",
			  k->peer_versions ? "metallb.io/v1beta2" : "metallb.io/v1beta1");
	else if (!api || !api_ok(k, api))
		cfg_error(c, an, "apiVersion: \"%s\" is not a version of %s, expected %s", api ? api : "",
			  kind,
			  k->peer_versions ? "metallb.io/v1beta2, metallb.io/v1beta1 or barelb.io/v1"
					   : "metallb.io/v1beta1 or barelb.io/v1");
	if (!meta || yscalar_is_null(meta)) {
		cfg_error(c, root, "metadata.name: required field missing");
	} else if (cfg_want_map(c, meta, "metadata") == 0) {
		const struct ynode *nn = ymap_get(meta, "name");
		if (!nn || yscalar_is_null(nn)) {
			cfg_error(c, meta, "metadata.name: required field missing");
		} else if (cfg_get_string(c, nn, "metadata.name", &o.name) == 0) {
			if (!cfg_dns1123_subdomain_ok(o.name))
				cfg_error(c, nn, "metadata.name: \"%s\" is not a valid name, expected "
					  "lowercase letters, digits, '-' and '.', starting and "
					  "ending with a letter or digit (DNS-1123 subdomain)", o.name);
			o.keep = true;
		}
	}
	const struct ynode *spec = ymap_get(root, "spec");
	o.spec = spec && !yscalar_is_null(spec) ? spec : NULL;
	k->parse(c, &o);
out:
	c->obj = saved_obj;
}
