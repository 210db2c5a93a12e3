/* SPDX-License-Identifier: Apache-2.0 */
/* config_legacy: MetalLB's legacy ConfigMap format (<= v0.12) read into the CRD-form structures. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/addr.h"
#include "barelb/arena.h"
#include "barelb/config.h"
#include "barelb/yamltree.h"
#include "config_internal.h"

/*
 * The mapping follows MetalLB's converter (configmaptocrs): peer N becomes BGPPeer "peer<N>", a pool
 * becomes an IPAddressPool with a DNS-1123 name, a layer2 pool gets L2Advertisement
 * "l2advertisement<N>", each bgp-advertisements entry of a bgp pool a BGPAdvertisement
 * "bgpadvertisement<N>" (one default advertisement when there is none), bgp-communities become the
 * aliases of a Community named "communities", bfd-profiles become BFDProfiles. Numbering is global
 * across the file, in file order. Parsing is strict like MetalLB's yaml.UnmarshalStrict: an unknown
 * key is an error at every level. Checks that involve several objects are config_validate's.
 */

#define LEGACY_COMMUNITY_OWNER "communities"
#define DEFAULT_HOLD_S 90

static const char *const top_keys[] = {"peers", "bgp-communities", "address-pools", "bfd-profiles",
				       NULL};
static const char *const peer_keys[] = {
	"my-asn",   "peer-asn", "peer-address", "source-address", "peer-port",     "hold-time",
	"keepalive-time", "router-id", "password", "bfd-profile", "ebgp-multihop", "node-selectors",
	NULL};
static const char *const pool_keys[] = {"name",	       "protocol",    "addresses",
					"avoid-buggy-ips", "auto-assign", "bgp-advertisements",
					NULL};
static const char *const adv_keys[] = {"aggregation-length", "aggregation-length-v6", "localpref",
				       "communities", NULL};
static const char *const bfd_keys[] = {"name",		"receive-interval", "transmit-interval",
				       "echo-interval", "echo-mode",	    "passive-mode",
				       "minimum-ttl",	"detect-multiplier", NULL};

/* ---------- small helpers ---------- */

static char *fld(struct cfg_ctx *c, const char *parent, const char *key)
{
	return arena_printf(c->cfg->mem, "%s.%s", parent, key);
}

static char *fld_idx(struct cfg_ctx *c, const char *parent, size_t i)
{
	return arena_printf(c->cfg->mem, "%s[%zu]", parent, i);
}

static int pos_line(const struct cfg_ctx *c, const struct ynode *n)
{
	return cfg_pos_of(c, n).line;
}

static int pos_col(const struct cfg_ctx *c, const struct ynode *n)
{
	return cfg_pos_of(c, n).col;
}

/* The key node of `key` in map (ymap_get gives the value). */
static const struct ynode *map_key(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YN_MAP)
		return NULL;
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;

		if (k && k->kind == YN_SCALAR && strcmp(k->str, key) == 0)
			return k;
	}
	return NULL;
}

/* A list field: 0 and *out = NULL for absent or null, 0 with the list, or -1 (reported). */
static int want_seq(struct cfg_ctx *c, const struct ynode *n, const char *field,
		    const struct ynode **out)
{
	*out = NULL;
	if (!n || (n->kind == YN_SCALAR && yscalar_is_null(n)))
		return 0;
	if (n->kind != YN_SEQ) {
		cfg_error(c, n, "%s: expected a list, got %s", field, ynode_kind_name(n->kind));
		return -1;
	}
	*out = n;
	return 0;
}

/* The list item must be a mapping with only allowed keys; returns 0 when it is worth reading. */
static int item_map(struct cfg_ctx *c, const struct ynode *n, const char *field,
		    const char *const *allowed)
{
	if (cfg_want_map(c, n, field) != 0)
		return -1;
	cfg_check_keys(c, n, field, allowed);
	return 0;
}

static char **one_name(struct cfg_ctx *c, const char *name)
{
	char **v = arena_array(c->cfg->mem, 1, sizeof *v);

	v[0] = arena_strdup(c->cfg->mem, name);
	return v;
}

/* ---------- names ---------- */

char *cfg_legacy_name(struct cfg_ctx *c, const char *name)
{
	size_t n = strlen(name), o = 0, i = 0;
	char *out = arena_alloc(c->cfg->mem, n + 1);

	/* lowercase, '_' -> '-' */
	for (size_t k = 0; k < n; k++) {
		char ch = (char)tolower((unsigned char)name[k]);
		out[k] = ch == '_' ? '-' : ch;
	}
	out[n] = '\0';
	/* drop leading characters that are not a-z (the converter turns "01-x" into "x") */
	while (out[i] && !(out[i] >= 'a' && out[i] <= 'z'))
		i++;
	while (out[i] && o < 63)
		out[o++] = out[i++];
	out[o] = '\0';
	return out;
}

/* name: required string, converted; NULL when missing or unusable (reported). */
static char *legacy_object_name(struct cfg_ctx *c, const struct ynode *map, const char *field)
{
	const struct ynode *n = ymap_get(map, "name");
	char *f = fld(c, field, "name"), *raw, *name;

	if (!n || (n->kind == YN_SCALAR && yscalar_is_null(n))) {
		cfg_error(c, n ? n : map, "%s: required", f);
		return NULL;
	}
	if (cfg_get_string(c, n, f, &raw) != 0)
		return NULL;
	if (raw[0] == '\0') {
		cfg_error(c, n, "%s: required, got an empty string", f);
		return NULL;
	}
	name = cfg_legacy_name(c, raw);
	if (name[0] == '\0') {
		cfg_error(c, n, "%s: \"%s\" has no letter to start a Kubernetes name with", f, raw);
		return NULL;
	}
	return name;
}

/* ---------- peers ---------- */

static void parse_peer(struct cfg_ctx *c, const struct ynode *m, const char *field)
{
	struct cfg_peer *p;
	const struct ynode *n;
	uint64_t u;
	bool has_keepalive = false;
	char *s;

	if (item_map(c, m, field, peer_keys) != 0)
		return;
	p = cfg_add_peer(c);
	p->name = arena_printf(c->cfg->mem, "peer%d", ++c->legacy_peer_seq);
	p->line = pos_line(c, m);
	p->col = pos_col(c, m);
	p->peer_port = 179;
	p->hold_time = DEFAULT_HOLD_S;

	if (!(n = ymap_get(m, "my-asn")))
		cfg_error(c, m, "%s: required", fld(c, field, "my-asn"));
	else if (cfg_get_uint(c, n, fld(c, field, "my-asn"), 1, UINT32_MAX, &u) == 0)
		p->my_asn = (uint32_t)u;

	if (!(n = ymap_get(m, "peer-asn")))
		cfg_error(c, m, "%s: required", fld(c, field, "peer-asn"));
	else if (cfg_get_uint(c, n, fld(c, field, "peer-asn"), 1, UINT32_MAX, &u) == 0)
		p->peer_asn = (uint32_t)u;

	if (!(n = ymap_get(m, "peer-address")))
		cfg_error(c, m, "%s: required", fld(c, field, "peer-address"));
	else if (cfg_get_addr(c, n, fld(c, field, "peer-address"), &p->peer_address) == 0)
		p->has_peer_address = true;

	if ((n = ymap_get(m, "source-address")) &&
	    cfg_get_addr(c, n, fld(c, field, "source-address"), &p->source_address) == 0)
		p->has_source_address = true;

	/* MetalLB: 0 means the default port */
	if ((n = ymap_get(m, "peer-port")) &&
	    cfg_get_uint(c, n, fld(c, field, "peer-port"), 0, 65535, &u) == 0 && u != 0)
		p->peer_port = (uint16_t)u;

	if ((n = ymap_get(m, "hold-time"))) {
		char *f = fld(c, field, "hold-time");
		uint32_t v;

		if (cfg_get_duration_s(c, n, f, &v) == 0) {
			if (v != 0 && v < 3)
				cfg_error(c, n, "%s: must be 0s or at least 3s, got %us", f, v);
			else
				p->hold_time = v;
		}
	}
	if ((n = ymap_get(m, "keepalive-time"))) {
		uint32_t v;

		if (cfg_get_duration_s(c, n, fld(c, field, "keepalive-time"), &v) == 0) {
			p->keepalive_time = v;
			has_keepalive = true;
		}
	}
	if (!has_keepalive)
		p->keepalive_time = p->hold_time / 3;
	else if (p->keepalive_time > p->hold_time)
		cfg_error(c, ymap_get(m, "keepalive-time"),
			  "%s: must not be longer than the hold time (%us), got %us",
			  fld(c, field, "keepalive-time"), p->hold_time, p->keepalive_time);

	if ((n = ymap_get(m, "router-id")) &&
	    cfg_get_addr(c, n, fld(c, field, "router-id"), &p->router_id) == 0) {
		if (!addr_is_v4(&p->router_id))
			cfg_error(c, n, "%s: expected an IPv4 address, got \"%s\"",
				  fld(c, field, "router-id"), n->str);
		else
			p->has_router_id = true;
	}

	if ((n = ymap_get(m, "password")) && cfg_get_string(c, n, fld(c, field, "password"), &s) == 0)
		p->password = s;

	if ((n = ymap_get(m, "bfd-profile")) &&
	    cfg_get_string(c, n, fld(c, field, "bfd-profile"), &s) == 0 && s[0] != '\0') {
		p->bfd_profile = cfg_legacy_name(c, s);
		p->bfd_profile_pos = cfg_pos_of(c, n);
	}

	if ((n = ymap_get(m, "ebgp-multihop")) &&
	    cfg_get_bool(c, n, fld(c, field, "ebgp-multihop"), &p->ebgp_multihop) == 0 &&
	    p->ebgp_multihop && p->my_asn && p->my_asn == p->peer_asn)
		cfg_error(c, n, "%s: only for eBGP peers, but my-asn and peer-asn are both %u",
			  fld(c, field, "ebgp-multihop"), p->my_asn);

	if ((n = ymap_get(m, "node-selectors")))
		cfg_get_selector_list(c, n, fld(c, field, "node-selectors"), true,
				      &p->node_selectors, &p->n_node_selectors);
}

/* ---------- address pools ---------- */

static void parse_adv(struct cfg_ctx *c, const struct ynode *m, const char *field,
		      const char *pool)
{
	struct cfg_bgpadv *a;
	const struct ynode *n;
	int64_t v;
	uint64_t u;

	if (m->kind == YN_SCALAR && yscalar_is_null(m)) {
		/* "- " with nothing: an advertisement with every default */
	} else if (item_map(c, m, field, adv_keys) != 0) {
		return;
	}
	a = cfg_add_bgpadv(c);
	a->name = arena_printf(c->cfg->mem, "bgpadvertisement%d", ++c->legacy_bgpadv_seq);
	a->line = pos_line(c, m);
	a->col = pos_col(c, m);
	a->aggregation_length = 32;
	a->aggregation_length_v6 = 128;
	a->pools = one_name(c, pool);
	a->n_pools = 1;
	if (m->kind != YN_MAP)
		return;

	if ((n = ymap_get(m, "aggregation-length")) &&
	    cfg_get_int(c, n, fld(c, field, "aggregation-length"), 0, 32, &v) == 0) {
		a->aggregation_length = (int)v;
		a->aggregation_length_pos = cfg_pos_of(c, n);
	}
	if ((n = ymap_get(m, "aggregation-length-v6")) &&
	    cfg_get_int(c, n, fld(c, field, "aggregation-length-v6"), 0, 128, &v) == 0) {
		a->aggregation_length_v6 = (int)v;
		a->aggregation_length_v6_pos = cfg_pos_of(c, n);
	}
	if ((n = ymap_get(m, "localpref")) &&
	    cfg_get_uint(c, n, fld(c, field, "localpref"), 0, UINT32_MAX, &u) == 0) {
		a->has_local_pref = true;
		a->local_pref = (uint32_t)u;
		a->local_pref_pos = cfg_pos_of(c, n);
	}
	if ((n = ymap_get(m, "communities"))) {
		char *f = fld(c, field, "communities");
		char **v_str;
		size_t k;

		if (cfg_get_string_list(c, n, f, &v_str, &k) != 0)
			return;
		a->communities = v_str;
		a->n_communities = k;
		a->community_values = arena_array(c->cfg->mem, k ? k : 1, sizeof *a->community_values);
		a->community_pos = arena_array(c->cfg->mem, k ? k : 1, sizeof *a->community_pos);
		for (size_t i = 0; i < k; i++) {
			const struct ynode *item = n->kind == YN_SEQ && i < n->n_items ? n->items[i] : n;

			a->community_pos[i] = cfg_pos_of(c, item);

			for (size_t j = 0; j < i; j++)
				if (strcmp(v_str[j], v_str[i]) == 0) {
					cfg_error(c, item, "%s[%zu]: duplicate community \"%s\"", f,
						  i, v_str[i]);
					break;
				}
			/* Without a colon it is an alias of bgp-communities (resolved later). */
			if (!strchr(v_str[i], ':'))
				continue;
			if (cfg_parse_community(v_str[i], &a->community_values[i]) != 0 ||
			    a->community_values[i].large)
				cfg_error(c, item,
					  "%s[%zu]: invalid community \"%s\", expected A:B with A and "
					  "B in 0..65535, or a bgp-communities name",
					  f, i, v_str[i]);
		}
	}
}

static void parse_pool(struct cfg_ctx *c, const struct ynode *m, const char *field)
{
	struct cfg_pool *p;
	const struct ynode *n, *proto_n, *ads_n, *ads = NULL;
	char *name, *proto = NULL;
	enum { P_NONE, P_L2, P_BGP } kind = P_NONE;

	if (item_map(c, m, field, pool_keys) != 0)
		return;
	name = legacy_object_name(c, m, field);

	proto_n = ymap_get(m, "protocol");
	if (!proto_n || (proto_n->kind == YN_SCALAR && yscalar_is_null(proto_n))) {
		cfg_error(c, proto_n ? proto_n : m, "%s: required, one of layer2, bgp",
			  fld(c, field, "protocol"));
	} else if (cfg_get_string(c, proto_n, fld(c, field, "protocol"), &proto) == 0) {
		if (strcmp(proto, "layer2") == 0)
			kind = P_L2;
		else if (strcmp(proto, "bgp") == 0)
			kind = P_BGP;
		else if (proto[0] == '\0')
			cfg_error(c, proto_n, "%s: required, one of layer2, bgp",
				  fld(c, field, "protocol"));
		else
			cfg_error(c, proto_n, "%s: unknown protocol \"%s\", expected one of layer2, bgp",
				  fld(c, field, "protocol"), proto);
	}

	p = cfg_add_pool(c);
	p->name = name ? name : arena_strdup(c->cfg->mem, "");
	p->line = pos_line(c, m);
	p->col = pos_col(c, m);
	p->auto_assign = true;

	n = ymap_get(m, "addresses");
	if (!n || (n->kind == YN_SCALAR && yscalar_is_null(n)))
		cfg_error(c, n ? n : m, "%s: required, a list of CIDRs or start-end ranges",
			  fld(c, field, "addresses"));
	else
		cfg_parse_pool_addresses(c, n, fld(c, field, "addresses"), p);

	if ((n = ymap_get(m, "avoid-buggy-ips")))
		cfg_get_bool(c, n, fld(c, field, "avoid-buggy-ips"), &p->avoid_buggy_ips);
	if ((n = ymap_get(m, "auto-assign")))
		cfg_get_bool(c, n, fld(c, field, "auto-assign"), &p->auto_assign);

	ads_n = ymap_get(m, "bgp-advertisements");
	if (want_seq(c, ads_n, fld(c, field, "bgp-advertisements"), &ads) != 0)
		return;
	if (kind == P_L2) {
		if (ads_n && !(ads_n->kind == YN_SCALAR && yscalar_is_null(ads_n))) {
			cfg_error(c, map_key(m, "bgp-advertisements"),
				  "%s: only for protocol bgp, this pool is layer2",
				  fld(c, field, "bgp-advertisements"));
			return;
		}
		if (!name)
			return;
		struct cfg_l2adv *l2 = cfg_add_l2adv(c);

		l2->name = arena_printf(c->cfg->mem, "l2advertisement%d", ++c->legacy_l2adv_seq);
		l2->line = p->line;
		l2->col = p->col;
		l2->pools = one_name(c, name);
		l2->n_pools = 1;
	} else if (kind == P_BGP && name) {
		char *af = fld(c, field, "bgp-advertisements");

		if (!ads || ads->n_items == 0) {
			/* no advertisement written: one with every default (the converter's rule) */
			struct cfg_bgpadv *a = cfg_add_bgpadv(c);

			a->name = arena_printf(c->cfg->mem, "bgpadvertisement%d",
					       ++c->legacy_bgpadv_seq);
			a->line = p->line;
			a->col = p->col;
			a->aggregation_length = 32;
			a->aggregation_length_v6 = 128;
			a->pools = one_name(c, name);
			a->n_pools = 1;
			return;
		}
		for (size_t i = 0; i < ads->n_items; i++)
			parse_adv(c, ads->items[i], fld_idx(c, af, i), name);
	}
}

/* ---------- communities ---------- */

static void parse_communities(struct cfg_ctx *c, const struct ynode *m, const char *field)
{
	if (!m || (m->kind == YN_SCALAR && yscalar_is_null(m)))
		return;
	if (cfg_want_map(c, m, field) != 0)
		return;
	for (size_t i = 0; i < m->n_pairs; i++) {
		const struct ynode *k = m->pairs[i].key, *v = m->pairs[i].val;
		struct cfg_community_value cv;
		struct cfg_alias *a;
		char *name, *value, *f;

		if (k->kind != YN_SCALAR) {
			cfg_error(c, k, "%s: expected a community name, got %s", field,
				  ynode_kind_name(k->kind));
			continue;
		}
		f = fld(c, field, k->str);
		name = arena_strndup(c->cfg->mem, k->str, k->len);
		if (name[0] == '\0' || strlen(name) != k->len) {
			cfg_error(c, k, "%s: a community name must not be empty", field);
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct ynode *pk = m->pairs[j].key;

			if (pk->kind == YN_SCALAR && strcmp(pk->str, name) == 0) {
				cfg_error(c, k, "%s: duplicate community name \"%s\"", field, name);
				name = NULL;
				break;
			}
		}
		if (!name || cfg_get_string(c, v, f, &value) != 0)
			continue;
		if (cfg_parse_community(value, &cv) != 0 || cv.large) {
			cfg_error(c, v,
				  "%s: invalid community \"%s\", expected A:B with A and B in 0..65535",
				  f, value);
			continue;
		}
		a = cfg_add_alias(c);
		a->name = name;
		a->value = value;
		a->v = cv;
		a->owner = arena_strdup(c->cfg->mem, LEGACY_COMMUNITY_OWNER);
		a->line = pos_line(c, k);
		a->col = pos_col(c, k);
	}
}

/* ---------- BFD profiles ---------- */

static void bfd_field(struct cfg_ctx *c, const struct ynode *m, const char *field, const char *key,
		      uint64_t min, uint64_t max, uint32_t *out)
{
	const struct ynode *n = ymap_get(m, key);
	uint64_t u;

	if (n && cfg_get_uint(c, n, fld(c, field, key), min, max, &u) == 0)
		*out = (uint32_t)u;
}

static void parse_bfd(struct cfg_ctx *c, const struct ynode *m, const char *field)
{
	struct cfg_bfd *b;
	const struct ynode *n;
	char *name;

	if (item_map(c, m, field, bfd_keys) != 0)
		return;
	name = legacy_object_name(c, m, field);
	b = cfg_add_bfd(c);
	b->name = name ? name : arena_strdup(c->cfg->mem, "");
	b->line = pos_line(c, m);
	b->col = pos_col(c, m);
	b->receive_interval = 300;
	b->transmit_interval = 300;
	b->detect_multiplier = 3;
	b->echo_interval = 50;
	b->minimum_ttl = 254;
	bfd_field(c, m, field, "receive-interval", 10, 60000, &b->receive_interval);
	bfd_field(c, m, field, "transmit-interval", 10, 60000, &b->transmit_interval);
	bfd_field(c, m, field, "echo-interval", 10, 60000, &b->echo_interval);
	bfd_field(c, m, field, "detect-multiplier", 2, 255, &b->detect_multiplier);
	bfd_field(c, m, field, "minimum-ttl", 1, 254, &b->minimum_ttl);
	if ((n = ymap_get(m, "echo-mode")))
		cfg_get_bool(c, n, fld(c, field, "echo-mode"), &b->echo_mode);
	if ((n = ymap_get(m, "passive-mode")))
		cfg_get_bool(c, n, fld(c, field, "passive-mode"), &b->passive_mode);
}

/* ---------- the body ---------- */

typedef void (*item_fn)(struct cfg_ctx *c, const struct ynode *m, const char *field);

static void each_item(struct cfg_ctx *c, const struct ynode *body, const char *key, item_fn fn)
{
	const struct ynode *list;

	if (want_seq(c, ymap_get(body, key), key, &list) != 0 || !list)
		return;
	for (size_t i = 0; i < list->n_items; i++)
		fn(c, list->items[i], fld_idx(c, key, i));
}

void config_parse_legacy(struct cfg_ctx *c, const struct ynode *body)
{
	if (!body || (body->kind == YN_SCALAR && yscalar_is_null(body)))
		return; /* an empty legacy config: nothing configured */
	if (cfg_want_map(c, body, "config") != 0)
		return;
	cfg_check_keys(c, body, "config", top_keys);
	/* Order matters only for the generated names: peers, then pools with their advertisements. */
	each_item(c, body, "peers", parse_peer);
	parse_communities(c, ymap_get(body, "bgp-communities"), "bgp-communities");
	each_item(c, body, "address-pools", parse_pool);
	each_item(c, body, "bfd-profiles", parse_bfd);
}

/* ---------- the ConfigMap around it ---------- */

/*
 * Where does the text of data.config start in the outer file? The tree keeps positions but not the
 * source, so this is worked out from the nodes:
 * - a block scalar ("config: |"): its node starts at the '|' on the key's line; the text starts on
 *   the next line, indented one step deeper than the key. The step is taken from the file itself
 *   (the distance from "data:" to "config:"), 2 when that is not usable. An explicit indentation
 *   indicator ("|4") or a folded scalar can make columns wrong: best effort.
 * - a quoted one-line string: just after the opening quote; a plain one: at the node.
 */
static void map_position(struct cfg_ctx *c, const struct ynode *data_key,
			 const struct ynode *config_key, const struct ynode *v)
{
	bool multiline = memchr(v->str, '\n', v->len) != NULL;
	bool block = !v->plain && multiline && config_key && v->line == config_key->line &&
		     v->col > config_key->col;

	if (block) {
		int step = 2;

		if (data_key && config_key->col > data_key->col && config_key->line > data_key->line)
			step = config_key->col - data_key->col;
		c->line_off = c->line_off + v->line;
		c->col_off = c->col_off + (config_key->col - 1) + step;
	} else if (!v->plain) {
		c->line_off = c->line_off + v->line - 1;
		c->col_off = c->col_off + v->col; /* past the quote */
	} else {
		c->line_off = c->line_off + v->line - 1;
		c->col_off = c->col_off + v->col - 1;
	}
}

/* libyaml's messages may say "(started at line N)" about the inner text: make N an outer line. */
static void fix_context_line(char *msg, size_t size, int line_off)
{
	static const char tag[] = "(started at line ";
	char *p = strstr(msg, tag), *end;
	long n;

	if (!p || line_off == 0)
		return;
	n = strtol(p + sizeof tag - 1, &end, 10);
	if (end == p + sizeof tag - 1 || *end != ')')
		return;
	snprintf(p, size - (size_t)(p - msg), "%s%ld)", tag, n + line_off);
}

void config_parse_legacy_configmap(struct cfg_ctx *c, const struct ynode *root)
{
	const struct ynode *data, *v;
	struct ystream inner;
	struct yerror err;
	int save_line = c->line_off, save_col = c->col_off;
	bool empty = false;

	data = ymap_get(root, "data");
	v = data ? ymap_get(data, "config") : NULL;
	if (!v || (v->kind == YN_SCALAR && yscalar_is_null(v))) {
		cfg_error(c, data ? data : root,
			  "%s: required: a MetalLB ConfigMap holds its configuration in data.config",
			  data ? "data.config" : "data");
		return;
	}
	if (v->kind != YN_SCALAR) {
		cfg_error(c, v, "data.config: expected a string holding YAML, got %s",
			  ynode_kind_name(v->kind));
		return;
	}

	memset(&inner, 0, sizeof inner);
	memset(&err, 0, sizeof err);
	map_position(c, map_key(root, "data"), map_key(data, "config"), v);
	if (ystream_parse(v->str, v->len, &inner, &err) != 0) {
		fix_context_line(err.msg, sizeof err.msg, c->line_off);
		if (err.line > 0)
			cfg_error_at(c, err.line + c->line_off, err.col + c->col_off, "data.config: %s",
				     err.msg);
		else
			cfg_error(c, v, "data.config: %s", err.msg);
	} else {
		const struct ynode *body = NULL;

		for (size_t i = 0; i < inner.n_docs; i++) {
			const struct ynode *r = inner.docs[i].root;

			if (!r || (r->kind == YN_SCALAR && yscalar_is_null(r)))
				continue;
			if (body) {
				cfg_error_at(c, inner.docs[i].line + c->line_off,
					     inner.docs[i].col + c->col_off,
					     "data.config: expected one YAML document, got another one here");
				break;
			}
			body = r;
		}
		if (body)
			config_parse_legacy(c, body);
		else
			empty = true;
	}
	ystream_free(&inner);
	c->line_off = save_line;
	c->col_off = save_col;
	if (empty)
		cfg_warn(c, v, "data.config is empty: no address pools, nothing to announce");
}
