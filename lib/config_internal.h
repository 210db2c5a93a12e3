/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the config loader's files (config.c, config_common.c, config_crd.c,
 * config_legacy.c, config_validate.c, config_print.c). Not a public header. */
#ifndef BARELB_CONFIG_INTERNAL_H
#define BARELB_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/arena.h"
#include "barelb/config.h"
#include "barelb/yamltree.h"

/* Growable arrays built while parsing, copied into the arena at the end of each object. */
struct cfg_ctx {
	const char *file;        /* name used in messages */
	struct cfg_diags *d;
	struct config *cfg;      /* being built; its arena owns all strings */
	/* growable lists (capacity tracked here; the config's n_* are the counts) */
	size_t cap_pools, cap_l2advs, cap_bgpadvs, cap_peers, cap_bfds, cap_aliases;
	/* legacy form: counters for generated names */
	int legacy_peer_seq, legacy_bgpadv_seq, legacy_l2adv_seq;
	/* Added to node positions in messages: set while parsing a legacy body that came from a
	 * ConfigMap's block scalar, so that messages point into the outer file. */
	int line_off, col_off;
	/* Object being parsed, e.g. "IPAddressPool \"prod\"": when set, cfg_error/cfg_warn/cfg_note
	 * prefix their message with it and ": ". NULL for none. */
	const char *obj;
};

/* ---- diagnostics (config.c) ---- */
void cfg_error(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_error_at(struct cfg_ctx *c, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void cfg_warn(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_note(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Any level at an explicit position, with the cfg_ctx.obj prefix when set. */
void cfg_diag_at(struct cfg_ctx *c, enum cfg_diag_level lvl, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void cfg_diag_add(struct cfg_diags *d, enum cfg_diag_level lvl, const char *file, int line, int col,
		  const char *msg);

/* ---- object slots (config.c): append a zeroed object and return it ---- */
struct cfg_pool *cfg_add_pool(struct cfg_ctx *c);
struct cfg_l2adv *cfg_add_l2adv(struct cfg_ctx *c);
struct cfg_bgpadv *cfg_add_bgpadv(struct cfg_ctx *c);
struct cfg_peer *cfg_add_peer(struct cfg_ctx *c);
struct cfg_bfd *cfg_add_bfd(struct cfg_ctx *c);
struct cfg_alias *cfg_add_alias(struct cfg_ctx *c);

/* ---- typed readers (config_common.c) ----
 * Each checks the node's kind/format, reports "FIELD: expected ..., got ..." at the node on error
 * and returns -1; 0 on success. `field` is the full field path used in messages, e.g.
 * "spec.autoAssign". */
int cfg_get_string(struct cfg_ctx *c, const struct ynode *n, const char *field, char **out);
int cfg_get_bool(struct cfg_ctx *c, const struct ynode *n, const char *field, bool *out);
int cfg_get_uint(struct cfg_ctx *c, const struct ynode *n, const char *field, uint64_t min,
		 uint64_t max, uint64_t *out);
int cfg_get_int(struct cfg_ctx *c, const struct ynode *n, const char *field, int64_t min,
		int64_t max, int64_t *out);
/* Go duration ("90s", "1m30s", "9m0s", "500ms") rounded down to whole seconds. A bare plain integer
 * is refused (MetalLB's CRDs take metav1.Duration; legacy also a Go duration string). */
int cfg_get_duration_s(struct cfg_ctx *c, const struct ynode *n, const char *field, uint32_t *out);
/* The Go duration syntax itself ("1m30s", "1.5h", "0"): 0 and *ns, or -1 (negative, malformed or
 * over UINT64_MAX ns). No message. */
int cfg_parse_duration_ns(const char *s, uint64_t *ns);
/* Field path for messages, e.g. cfg_field(f, sizeof(f), "%s[%zu]", field, i); truncates quietly. */
void cfg_field(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* For each i, the index of the first earlier string equal to s[i], or SIZE_MAX when none (NULL
 * entries match nothing). n log n, so that a huge list cannot make duplicate checks quadratic.
 * Returns a malloc'd array the caller frees (NULL when n is 0). */
size_t *cfg_dup_index(const char *const *s, size_t n);
/* Kubernetes object name rule (DNS-1123 subdomain: lowercase letters, digits, '-', '.'; at most 253). */
bool cfg_dns1123_subdomain_ok(const char *s);
/* Position of a node in the outer file (line_off/col_off applied). */
struct cfg_pos cfg_pos_of(const struct cfg_ctx *c, const struct ynode *n);
int cfg_get_addr(struct cfg_ctx *c, const struct ynode *n, const char *field, addr_t *out);
/* List of strings; a null node is an empty list. */
int cfg_get_string_list(struct cfg_ctx *c, const struct ynode *n, const char *field, char ***out,
			size_t *n_out);
/* Map of string to string (labels, matchLabels); sorted by key on return. */
int cfg_get_labels(struct cfg_ctx *c, const struct ynode *n, const char *field,
		   struct cfg_label **out, size_t *n_out);
/* Label selector. legacy=true takes match-labels/match-expressions, else matchLabels/matchExpressions.
 * Operators In, NotIn, Exists, DoesNotExist; values required for In/NotIn, forbidden otherwise. */
int cfg_get_selector(struct cfg_ctx *c, const struct ynode *n, const char *field, bool legacy,
		     struct cfg_selector *out);
int cfg_get_selector_list(struct cfg_ctx *c, const struct ynode *n, const char *field, bool legacy,
			  struct cfg_selector **out, size_t *n_out);
/* "A:B" (each 0..65535) or "large:A:B:C" (each 0..4294967295). 0 or -1; no message. */
int cfg_parse_community(const char *s, struct cfg_community_value *out);
/* Parse addresses entries of a pool into ranges and cidrs (CIDR or start-end); errors at the entry. */
int cfg_parse_pool_addresses(struct cfg_ctx *c, const struct ynode *list, const char *field,
			     struct cfg_pool *p);

/* Check a mapping's keys against the allowed list. Unknown key: error at the key,
 * "FIELD.key: unknown field" plus ", did you mean \"x\"?" when one allowed key is close (case-insensitive
 * equal, or edit distance <= 2). Duplicate keys are errors too. Returns the number of bad keys. */
int cfg_check_keys(struct cfg_ctx *c, const struct ynode *map, const char *field,
		   const char *const *allowed);

/* A node that must be a mapping: error "FIELD: expected a mapping, got a list" if not. */
int cfg_want_map(struct cfg_ctx *c, const struct ynode *n, const char *field);

/* ---- forms ---- */
/* One CRD-form document (apiVersion/kind/metadata/spec). Non-config kinds get a note and are skipped;
 * a ConfigMap holding data.config is handed to the legacy parser. (config_crd.c) */
void config_parse_crd_doc(struct cfg_ctx *c, const struct ynode *root);
/* The legacy body: the mapping with peers/address-pools/bgp-communities/bfd-profiles. (config_legacy.c) */
void config_parse_legacy(struct cfg_ctx *c, const struct ynode *body);
/* A ConfigMap document (kind: ConfigMap): parse its data.config string as YAML (positions mapped
 * back into the outer file through line_off/col_off) and hand it to config_parse_legacy. A ConfigMap
 * without data.config is an error. (config_legacy.c) */
void config_parse_legacy_configmap(struct cfg_ctx *c, const struct ynode *root);
/* Legacy name → DNS-1123 name, as MetalLB's converter does (lowercase, '_' → '-', leading
 * non-alphanumerics dropped, at most 63 characters). */
char *cfg_legacy_name(struct cfg_ctx *c, const char *name);

/* Cross-object checks and defaults after every document is read: duplicate names, overlaps,
 * references, aggregation lengths, timers, communities. Then sorts every list by name. (config_validate.c) */
void config_validate(struct cfg_ctx *c);

#endif
