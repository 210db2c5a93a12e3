/* SPDX-License-Identifier: Apache-2.0 */
/* config: the barelb/MetalLB configuration file (CRD form or legacy ConfigMap form), loaded and
 * validated into one plain structure. No libyaml type appears here. One config_free() frees it all. */
#ifndef BARELB_CONFIG_H
#define BARELB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "barelb/addr.h"

/* A config file larger than this is refused before it is parsed. */
#define CONFIG_MAX_BYTES (16u * 1024 * 1024)

struct arena;

/* ---------- label selectors (Kubernetes metav1.LabelSelector) ---------- */

struct cfg_label {
	char *key;
	char *value;
};

enum cfg_sel_op { CFG_SEL_IN, CFG_SEL_NOT_IN, CFG_SEL_EXISTS, CFG_SEL_DOES_NOT_EXIST };

struct cfg_sel_expr {
	char *key;
	enum cfg_sel_op op;
	char **values; /* In/NotIn: at least one; Exists/DoesNotExist: none */
	size_t n_values;
};

/* All labels AND all expressions must match. An empty selector matches everything. */
struct cfg_selector {
	struct cfg_label *labels; /* sorted by key, keys unique */
	size_t n_labels;
	struct cfg_sel_expr *exprs;
	size_t n_exprs;
};

/* Does the selector match this label set? */
bool cfg_selector_matches(const struct cfg_selector *s, const struct cfg_label *labels, size_t n);
/* A list of selectors is OR-ed; an empty list means "all" (returns true). */
bool cfg_selectors_match_any(const struct cfg_selector *s, size_t n, const struct cfg_label *labels,
			     size_t n_labels);

/* ---------- objects ---------- */

struct cfg_pool {                /* IPAddressPool */
	char *name;
	struct cfg_label *labels;    /* metadata.labels, for ipAddressPoolSelectors */
	size_t n_labels;
	char **addresses;            /* entries as written, in configuration order */
	range_t *ranges;             /* one per entry */
	size_t n_addresses;
	prefix_t *cidrs;             /* entries summarized to CIDRs, in configuration order */
	size_t n_cidrs;
	bool auto_assign;            /* default true */
	bool avoid_buggy_ips;        /* default false */
	bool has_service_allocation; /* serviceAllocation present: pool is exclusive */
	int priority;                /* 0 = unset = lowest */
	char **namespaces;
	size_t n_namespaces;
	struct cfg_selector *namespace_selectors;
	size_t n_namespace_selectors;
	struct cfg_selector *service_selectors;
	size_t n_service_selectors;
	int line, col;               /* where the object starts, for later messages */
};

struct cfg_pref_node {           /* preferredNodeSelectors entry */
	int weight;                  /* 1..100 */
	struct cfg_selector preference;
};

struct cfg_l2adv {               /* L2Advertisement */
	char *name;
	char **pools;                /* ipAddressPools (names; all must exist) */
	size_t n_pools;
	struct cfg_selector *pool_selectors;
	size_t n_pool_selectors;
	struct cfg_selector *node_selectors;
	size_t n_node_selectors;
	char **interfaces;
	size_t n_interfaces;
	struct cfg_selector *service_selectors;
	size_t n_service_selectors;
	struct cfg_pref_node *preferred;
	size_t n_preferred;
	int line, col;
};

struct cfg_community_value {
	bool large;                  /* large:A:B:C (RFC 8092) or A:B (RFC 1997) */
	uint32_t a, b, c;            /* for A:B, a and b are 16-bit */
};

struct cfg_bgpadv {              /* BGPAdvertisement */
	char *name;
	int aggregation_length;      /* default 32 */
	int aggregation_length_v6;   /* default 128 */
	bool has_local_pref;
	uint32_t local_pref;
	char **communities;          /* as written: "A:B", "large:A:B:C" or an alias name */
	struct cfg_community_value *community_values; /* resolved, same order */
	size_t n_communities;
	char **pools;
	size_t n_pools;
	struct cfg_selector *pool_selectors;
	size_t n_pool_selectors;
	struct cfg_selector *node_selectors;
	size_t n_node_selectors;
	char **peers;                /* BGPPeer names; empty = all */
	size_t n_peers;
	struct cfg_selector *service_selectors;
	size_t n_service_selectors;
	int line, col;
};

struct cfg_peer {                /* BGPPeer (v1beta1 and v1beta2) */
	char *name;
	uint32_t my_asn;             /* required, != 0 */
	uint32_t peer_asn;           /* 0 when dynamic_asn is set */
	char *dynamic_asn;           /* NULL, "internal" or "external" */
	uint32_t local_asn;          /* 0 = unset */
	bool has_peer_address;
	addr_t peer_address;
	char *interface;             /* unnumbered peering; NULL if unset */
	bool has_source_address;
	addr_t source_address;
	uint16_t peer_port;          /* default 179 */
	uint32_t hold_time;          /* seconds; default 90 */
	uint32_t keepalive_time;     /* seconds; default hold/3 */
	bool has_connect_time;
	uint32_t connect_time;       /* seconds */
	bool has_router_id;
	addr_t router_id;            /* IPv4 */
	char *password;              /* NULL if unset */
	char *password_secret_name;  /* passwordSecret.name; NULL if unset */
	char *password_secret_namespace;
	char *bfd_profile;           /* NULL if unset; must name a BFDProfile */
	bool ebgp_multihop;
	bool enable_graceful_restart;
	char *vrf;                   /* NULL if unset */
	bool disable_mp;
	bool dual_stack_address_family;
	struct cfg_selector *node_selectors;
	size_t n_node_selectors;
	int line, col;
};

struct cfg_bfd {                 /* BFDProfile; values in ms, defaults filled in */
	char *name;
	uint32_t receive_interval;   /* default 300 */
	uint32_t transmit_interval;  /* default 300 */
	uint32_t detect_multiplier;  /* default 3 */
	uint32_t echo_interval;      /* default 50 */
	bool echo_mode;
	bool passive_mode;
	uint32_t minimum_ttl;        /* default 254 */
	int line, col;
};

struct cfg_alias {               /* one entry of a Community object */
	char *name;
	char *value;                 /* as written */
	struct cfg_community_value v;
	char *owner;                 /* name of the Community object that holds it */
};

struct config {
	struct arena *mem;           /* owns everything below */
	char *path;
	struct cfg_pool *pools;      /* sorted by name after loading */
	size_t n_pools;
	struct cfg_l2adv *l2advs;
	size_t n_l2advs;
	struct cfg_bgpadv *bgpadvs;
	size_t n_bgpadvs;
	struct cfg_peer *peers;
	size_t n_peers;
	struct cfg_bfd *bfds;
	size_t n_bfds;
	struct cfg_alias *aliases;   /* sorted by owner then name */
	size_t n_aliases;
};

/* ---------- diagnostics ---------- */

enum cfg_diag_level { CFG_ERROR, CFG_WARNING, CFG_NOTE };

struct cfg_diag {
	enum cfg_diag_level level;
	char *file;
	int line, col;               /* 1-based; 0 when the message is about the whole file */
	char *msg;
};

struct cfg_diags {
	struct cfg_diag *v;
	size_t n, cap;
	size_t n_errors;
};

/* Printed as "FILE:LINE:COL: message" (errors), "FILE:LINE:COL: warning: message",
 * "FILE:LINE:COL: note: message". */
void cfg_diags_print(const struct cfg_diags *d, FILE *f);
void cfg_diags_free(struct cfg_diags *d); /* frees the entries; the struct itself is the caller's */

/* ---------- loading ---------- */

/* Load and validate. Returns 0 with *out set, or -1 with every error of the file in d (and *out
 * NULL). d also receives warnings and notes (e.g. skipped kinds) in both cases. */
int config_load_file(const char *path, struct config **out, struct cfg_diags *d);
int config_load_buf(const char *name, const char *data, size_t len, struct config **out,
		    struct cfg_diags *d);
void config_free(struct config *c); /* NULL-safe */

/* Canonical CRD form: kinds in a fixed order (BFDProfile, BGPPeer, Community, IPAddressPool,
 * BGPAdvertisement, L2Advertisement), objects sorted by name, defaults filled in, one document each.
 * A legacy file and its converted twin print the same text. */
int config_print(const struct config *c, FILE *f);

/* Helpers shared by the daemons */
const struct cfg_pool *config_find_pool(const struct config *c, const char *name);
const struct cfg_peer *config_find_peer(const struct config *c, const char *name);

#endif
