/* SPDX-License-Identifier: Apache-2.0 */
/* config_print: a loaded config printed as canonical CRD YAML (sorted, defaults filled in). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/addr.h"
#include "barelb/config.h"

/*
 * Canonical form, chosen so that two configs that mean the same thing print the same bytes and so
 * that the output loads back to itself:
 * - one document per object, "---" between documents, kinds in the order BFDProfile, BGPPeer,
 *   Community, IPAddressPool, BGPAdvertisement, L2Advertisement, objects sorted by name;
 * - namespace always metallb-system, spec keys in alphabetical order (as kubectl prints them);
 * - every field that has a default is printed with its value; optional fields without a value
 *   (password, routerID, localASN, vrf, ...) and empty lists are left out; the FRR-only booleans
 *   (enableGracefulRestart, disableMP, dualStackAddressFamily) only when true;
 * - lists keep their order, label maps are sorted by key;
 * - every string value is double-quoted (so "64512:1" or "true" are never misread), numbers and
 *   booleans are plain, durations are Go durations ("1m30s").
 */

#define NS "metallb-system"

/* ---------- scalars ---------- */

/* Decode one UTF-8 sequence at s (valid UTF-8, as libyaml guarantees); returns its length. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd; /* not UTF-8: one byte, escaped below */
	return 1;
}

/* A YAML double-quoted scalar. Characters YAML does not allow unescaped are escaped. */
static void put_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (cp == 0xfffd && n == 1 && *p >= 0x80) {
			fprintf(f, "\\x%02x", *p); /* a stray byte: keep it visible */
		} else if (cp == '"' || cp == '\\') {
			fputc('\\', f);
			fputc((int)cp, f);
		} else if (cp == '\n') {
			fputs("\\n", f);
		} else if (cp == '\t') {
			fputs("\\t", f);
		} else if (cp == '\r') {
			fputs("\\r", f);
		} else if (cp < 0x20 || cp == 0x7f) {
			fprintf(f, "\\x%02x", (unsigned)cp);
		} else if ((cp >= 0x80 && cp <= 0x9f) || cp == 0xfeff || cp == 0xfffe || cp == 0xffff) {
			fprintf(f, "\\u%04x", (unsigned)cp);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
	fputc('"', f);
}

/* Go's time.Duration.String() for whole seconds: "0s", "30s", "1m30s", "2m0s", "1h0m0s". */
static void put_duration(FILE *f, uint32_t s)
{
	uint32_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;

	if (h)
		fprintf(f, "\"%uh%um%us\"", h, m, sec);
	else if (m)
		fprintf(f, "\"%um%us\"", m, sec);
	else
		fprintf(f, "\"%us\"", sec);
}

static void put_addr(FILE *f, const addr_t *a)
{
	char buf[ADDR_STRLEN];

	if (addr_format(a, buf, sizeof buf) < 0)
		buf[0] = '\0';
	put_str(f, buf);
}

/* ---------- block structure ----------
 * A key at indentation `ind` is started with key_start(); when *dash is set, the line is the first
 * of a list item and gets "- " in the two columns before the key. */

static void line_start(FILE *f, int ind, bool *dash)
{
	if (dash && *dash) {
		fprintf(f, "%*s- ", ind - 2, "");
		*dash = false;
	} else {
		fprintf(f, "%*s", ind, "");
	}
}

static void key_str(FILE *f, int ind, bool *dash, const char *key, const char *val)
{
	line_start(f, ind, dash);
	fprintf(f, "%s: ", key);
	put_str(f, val);
	fputc('\n', f);
}

static void key_uint(FILE *f, int ind, bool *dash, const char *key, uint64_t v)
{
	line_start(f, ind, dash);
	fprintf(f, "%s: %llu\n", key, (unsigned long long)v);
}

static void key_int(FILE *f, int ind, bool *dash, const char *key, long long v)
{
	line_start(f, ind, dash);
	fprintf(f, "%s: %lld\n", key, v);
}

static void key_bool(FILE *f, int ind, bool *dash, const char *key, bool v)
{
	line_start(f, ind, dash);
	fprintf(f, "%s: %s\n", key, v ? "true" : "false");
}

static void key_dur(FILE *f, int ind, bool *dash, const char *key, uint32_t v)
{
	line_start(f, ind, dash);
	fprintf(f, "%s: ", key);
	put_duration(f, v);
	fputc('\n', f);
}

/* key: then the list of strings, items at the key's indentation (kubectl's style). */
static void key_strlist(FILE *f, int ind, bool *dash, const char *key, char *const *v, size_t n)
{
	if (n == 0)
		return;
	line_start(f, ind, dash);
	fprintf(f, "%s:\n", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%*s- ", ind, "");
		put_str(f, v[i]);
		fputc('\n', f);
	}
}

static int cmp_label(const void *a, const void *b)
{
	const struct cfg_label *x = *(const struct cfg_label *const *)a;
	const struct cfg_label *y = *(const struct cfg_label *const *)b;

	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

/* key: then the label map sorted by key. */
static void key_labels(FILE *f, int ind, bool *dash, const char *key, const struct cfg_label *l,
		       size_t n)
{
	const struct cfg_label **v;

	if (n == 0)
		return;
	v = calloc(n, sizeof *v);
	if (!v) {
		fprintf(stderr, "config_print: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &l[i];
	qsort(v, n, sizeof *v, cmp_label);
	line_start(f, ind, dash);
	fprintf(f, "%s:\n", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%*s", ind + 2, "");
		put_str(f, v[i]->key);
		fputs(": ", f);
		put_str(f, v[i]->value);
		fputc('\n', f);
	}
	free(v);
}

static bool selector_empty(const struct cfg_selector *s)
{
	return s->n_labels == 0 && s->n_exprs == 0;
}

static const char *op_name(enum cfg_sel_op op)
{
	switch (op) {
	case CFG_SEL_IN:
		return "In";
	case CFG_SEL_NOT_IN:
		return "NotIn";
	case CFG_SEL_EXISTS:
		return "Exists";
	case CFG_SEL_DOES_NOT_EXIST:
		return "DoesNotExist";
	}
	return "In";
}

/* The keys of a non-empty selector at indentation ind. */
static void selector_body(FILE *f, int ind, bool *dash, const struct cfg_selector *s)
{
	if (s->n_exprs) {
		line_start(f, ind, dash);
		fputs("matchExpressions:\n", f);
		for (size_t i = 0; i < s->n_exprs; i++) {
			const struct cfg_sel_expr *e = &s->exprs[i];
			bool d = true;

			key_str(f, ind + 2, &d, "key", e->key);
			key_str(f, ind + 2, &d, "operator", op_name(e->op));
			key_strlist(f, ind + 2, &d, "values", e->values, e->n_values);
		}
	}
	key_labels(f, ind, dash, "matchLabels", s->labels, s->n_labels);
}

/* key: then a list of selectors ("- {}" for an empty one). */
static void key_selectors(FILE *f, int ind, bool *dash, const char *key,
			  const struct cfg_selector *s, size_t n)
{
	if (n == 0)
		return;
	line_start(f, ind, dash);
	fprintf(f, "%s:\n", key);
	for (size_t i = 0; i < n; i++) {
		bool d = true;

		if (selector_empty(&s[i]))
			fprintf(f, "%*s- {}\n", ind, "");
		else
			selector_body(f, ind + 2, &d, &s[i]);
	}
}

/* ---------- documents ---------- */

static void doc_begin(FILE *f, bool *first, const char *api, const char *kind, const char *name,
		      const struct cfg_label *labels, size_t n_labels)
{
	if (!*first)
		fputs("---\n", f);
	*first = false;
	fprintf(f, "apiVersion: %s\nkind: %s\nmetadata:\n", api, kind);
	key_labels(f, 2, NULL, "labels", labels, n_labels);
	key_str(f, 2, NULL, "name", name);
	fputs("  namespace: " NS "\n", f);
}

/* spec: with nothing in it is printed as "spec: {}"; callers know whether anything follows. */
static void spec_begin(FILE *f, bool empty)
{
	fputs(empty ? "spec: {}\n" : "spec:\n", f);
}

static void print_bfd(FILE *f, bool *first, const struct cfg_bfd *b)
{
	doc_begin(f, first, "metallb.io/v1beta1", "BFDProfile", b->name, NULL, 0);
	spec_begin(f, false);
	key_uint(f, 2, NULL, "detectMultiplier", b->detect_multiplier);
	key_uint(f, 2, NULL, "echoInterval", b->echo_interval);
	key_bool(f, 2, NULL, "echoMode", b->echo_mode);
	key_uint(f, 2, NULL, "minimumTtl", b->minimum_ttl);
	key_bool(f, 2, NULL, "passiveMode", b->passive_mode);
	key_uint(f, 2, NULL, "receiveInterval", b->receive_interval);
	key_uint(f, 2, NULL, "transmitInterval", b->transmit_interval);
}

static void print_peer(FILE *f, bool *first, const struct cfg_peer *p)
{
	doc_begin(f, first, "metallb.io/v1beta2", "BGPPeer", p->name, NULL, 0);
	spec_begin(f, false);
	if (p->bfd_profile)
		key_str(f, 2, NULL, "bfdProfile", p->bfd_profile);
	if (p->has_connect_time)
		key_dur(f, 2, NULL, "connectTime", p->connect_time);
	if (p->disable_mp)
		key_bool(f, 2, NULL, "disableMP", true);
	if (p->dual_stack_address_family)
		key_bool(f, 2, NULL, "dualStackAddressFamily", true);
	if (p->dynamic_asn)
		key_str(f, 2, NULL, "dynamicASN", p->dynamic_asn);
	key_bool(f, 2, NULL, "ebgpMultiHop", p->ebgp_multihop);
	if (p->enable_graceful_restart)
		key_bool(f, 2, NULL, "enableGracefulRestart", true);
	key_dur(f, 2, NULL, "holdTime", p->hold_time);
	if (p->interface)
		key_str(f, 2, NULL, "interface", p->interface);
	key_dur(f, 2, NULL, "keepaliveTime", p->keepalive_time);
	if (p->local_asn)
		key_uint(f, 2, NULL, "localASN", p->local_asn);
	key_uint(f, 2, NULL, "myASN", p->my_asn);
	key_selectors(f, 2, NULL, "nodeSelectors", p->node_selectors, p->n_node_selectors);
	if (p->password)
		key_str(f, 2, NULL, "password", p->password);
	if (p->password_secret_name) {
		fputs("  passwordSecret:\n", f);
		key_str(f, 4, NULL, "name", p->password_secret_name);
		if (p->password_secret_namespace)
			key_str(f, 4, NULL, "namespace", p->password_secret_namespace);
	}
	if (!p->dynamic_asn)
		key_uint(f, 2, NULL, "peerASN", p->peer_asn);
	if (p->has_peer_address) {
		fputs("  peerAddress: ", f);
		put_addr(f, &p->peer_address);
		fputc('\n', f);
	}
	key_uint(f, 2, NULL, "peerPort", p->peer_port);
	if (p->has_router_id) {
		fputs("  routerID: ", f);
		put_addr(f, &p->router_id);
		fputc('\n', f);
	}
	if (p->has_source_address) {
		fputs("  sourceAddress: ", f);
		put_addr(f, &p->source_address);
		fputc('\n', f);
	}
	if (p->vrf)
		key_str(f, 2, NULL, "vrf", p->vrf);
}

/* One Community object: every alias owned by `owner`, in the config's order. */
static void print_community(FILE *f, bool *first, const struct config *c, const char *owner)
{
	doc_begin(f, first, "metallb.io/v1beta1", "Community", owner, NULL, 0);
	spec_begin(f, false);
	fputs("  communities:\n", f);
	for (size_t i = 0; i < c->n_aliases; i++) {
		const struct cfg_alias *a = &c->aliases[i];
		bool d = true;

		if (strcmp(a->owner ? a->owner : "", owner) != 0)
			continue;
		key_str(f, 4, &d, "name", a->name);
		key_str(f, 4, &d, "value", a->value);
	}
}

static void print_pool(FILE *f, bool *first, const struct cfg_pool *p)
{
	/* barelb's extensions are not MetalLB's: a pool that uses them prints as barelb.io/v1, so
	 * that MetalLB's tools never see fields they do not know under their own group. */
	doc_begin(f, first, p->n_reserved || p->hold_down_s ? "barelb.io/v1" : "metallb.io/v1beta1",
		  "IPAddressPool", p->name, p->labels, p->n_labels);
	spec_begin(f, false);
	key_strlist(f, 2, NULL, "addresses", p->addresses, p->n_addresses);
	if (p->hold_down_s)
		key_dur(f, 2, NULL, "allocationHoldDown", p->hold_down_s);
	key_bool(f, 2, NULL, "autoAssign", p->auto_assign);
	key_bool(f, 2, NULL, "avoidBuggyIPs", p->avoid_buggy_ips);
	key_strlist(f, 2, NULL, "reserved", p->reserved, p->n_reserved);
	if (p->has_service_allocation) {
		fputs("  serviceAllocation:\n", f);
		key_selectors(f, 4, NULL, "namespaceSelectors", p->namespace_selectors,
			      p->n_namespace_selectors);
		key_strlist(f, 4, NULL, "namespaces", p->namespaces, p->n_namespaces);
		key_int(f, 4, NULL, "priority", p->priority);
		key_selectors(f, 4, NULL, "serviceSelectors", p->service_selectors,
			      p->n_service_selectors);
	}
}

static void print_bgpadv(FILE *f, bool *first, const struct cfg_bgpadv *a)
{
	doc_begin(f, first, "metallb.io/v1beta1", "BGPAdvertisement", a->name, NULL, 0);
	spec_begin(f, false);
	key_int(f, 2, NULL, "aggregationLength", a->aggregation_length);
	key_int(f, 2, NULL, "aggregationLengthV6", a->aggregation_length_v6);
	key_strlist(f, 2, NULL, "communities", a->communities, a->n_communities);
	key_selectors(f, 2, NULL, "ipAddressPoolSelectors", a->pool_selectors, a->n_pool_selectors);
	key_strlist(f, 2, NULL, "ipAddressPools", a->pools, a->n_pools);
	/* MetalLB's localPref is a plain uint32: 0 and "not set" are the same thing. */
	if (a->local_pref)
		key_uint(f, 2, NULL, "localPref", a->local_pref);
	key_selectors(f, 2, NULL, "nodeSelectors", a->node_selectors, a->n_node_selectors);
	key_strlist(f, 2, NULL, "peers", a->peers, a->n_peers);
	key_selectors(f, 2, NULL, "serviceSelectors", a->service_selectors, a->n_service_selectors);
}

static void print_l2adv(FILE *f, bool *first, const struct cfg_l2adv *a)
{
	bool empty = a->n_interfaces == 0 && a->n_pool_selectors == 0 && a->n_pools == 0 &&
		     a->n_node_selectors == 0 && a->n_preferred == 0 && a->n_service_selectors == 0;

	doc_begin(f, first, "metallb.io/v1beta1", "L2Advertisement", a->name, NULL, 0);
	spec_begin(f, empty);
	key_strlist(f, 2, NULL, "interfaces", a->interfaces, a->n_interfaces);
	key_selectors(f, 2, NULL, "ipAddressPoolSelectors", a->pool_selectors, a->n_pool_selectors);
	key_strlist(f, 2, NULL, "ipAddressPools", a->pools, a->n_pools);
	key_selectors(f, 2, NULL, "nodeSelectors", a->node_selectors, a->n_node_selectors);
	if (a->n_preferred) {
		fputs("  preferredNodeSelectors:\n", f);
		for (size_t i = 0; i < a->n_preferred; i++) {
			const struct cfg_pref_node *pn = &a->preferred[i];
			bool d = true;

			line_start(f, 4, &d);
			if (selector_empty(&pn->preference)) {
				fputs("preference: {}\n", f);
			} else {
				fputs("preference:\n", f);
				selector_body(f, 6, NULL, &pn->preference);
			}
			key_int(f, 4, &d, "weight", pn->weight);
		}
	}
	key_selectors(f, 2, NULL, "serviceSelectors", a->service_selectors, a->n_service_selectors);
}

/* ---------- ordering ---------- */

/* Every object struct starts with its name: sort pointers to objects by it. */
static int cmp_by_name(const void *a, const void *b)
{
	const char *x = **(char *const *const *)a;
	const char *y = **(char *const *const *)b;

	return strcmp(x ? x : "", y ? y : "");
}

static const void **sorted(const void *base, size_t n, size_t size)
{
	const void **v;

	if (n == 0)
		return NULL;
	v = calloc(n, sizeof *v);
	if (!v) {
		fprintf(stderr, "config_print: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (const char *)base + i * size;
	qsort(v, n, sizeof *v, cmp_by_name);
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_communities(FILE *f, bool *first, const struct config *c)
{
	const char **owners;
	size_t n = 0;

	if (c->n_aliases == 0)
		return;
	owners = calloc(c->n_aliases, sizeof *owners);
	if (!owners) {
		fprintf(stderr, "config_print: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < c->n_aliases; i++) {
		const char *o = c->aliases[i].owner ? c->aliases[i].owner : "";
		size_t j;

		for (j = 0; j < n && strcmp(owners[j], o) != 0; j++)
			;
		if (j == n)
			owners[n++] = o;
	}
	qsort(owners, n, sizeof *owners, cmp_str);
	for (size_t i = 0; i < n; i++)
		print_community(f, first, c, owners[i]);
	free(owners);
}

int config_print(const struct config *c, FILE *f)
{
	bool first = true;
	const void **v;

	if (!c || !f)
		return -1;

	v = sorted(c->bfds, c->n_bfds, sizeof *c->bfds);
	for (size_t i = 0; i < c->n_bfds; i++)
		print_bfd(f, &first, v[i]);
	free(v);

	v = sorted(c->peers, c->n_peers, sizeof *c->peers);
	for (size_t i = 0; i < c->n_peers; i++)
		print_peer(f, &first, v[i]);
	free(v);

	print_communities(f, &first, c);

	v = sorted(c->pools, c->n_pools, sizeof *c->pools);
	for (size_t i = 0; i < c->n_pools; i++)
		print_pool(f, &first, v[i]);
	free(v);

	v = sorted(c->bgpadvs, c->n_bgpadvs, sizeof *c->bgpadvs);
	for (size_t i = 0; i < c->n_bgpadvs; i++)
		print_bgpadv(f, &first, v[i]);
	free(v);

	v = sorted(c->l2advs, c->n_l2advs, sizeof *c->l2advs);
	for (size_t i = 0; i < c->n_l2advs; i++)
		print_l2adv(f, &first, v[i]);
	free(v);

	if (fflush(f) != 0 || ferror(f))
		return -1;
	return 0;
}
