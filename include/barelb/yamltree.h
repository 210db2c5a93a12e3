/* SPDX-License-Identifier: Apache-2.0 */
/* yamltree: a YAML stream read with libyaml into a plain tree (no libyaml types leave yamltree.c).
 * Every node keeps its 1-based line and column for error messages. Aliases share the anchored node;
 * the expanded size of each document is bounded so that an alias bomb is an error, not a hang. */
#ifndef BARELB_YAMLTREE_H
#define BARELB_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode;

struct ypair {
	struct ynode *key; /* always a scalar in what this project accepts; may be another kind */
	struct ynode *val;
};

struct ynode {
	enum ynode_kind kind;
	int line, col;   /* 1-based position of the node's start */
	/* YN_SCALAR */
	const char *str; /* NUL-terminated; may contain NUL bytes up to len */
	size_t len;
	bool plain;      /* unquoted, no explicit tag: may be read as null/bool/int */
	/* YN_SEQ */
	struct ynode **items;
	size_t n_items;
	/* YN_MAP */
	struct ypair *pairs;
	size_t n_pairs;
};

struct ydoc {
	struct ynode *root; /* NULL for an empty document */
	int line, col;      /* where the document starts */
};

struct ystream {
	struct arena *mem;  /* owns everything below */
	struct ydoc *docs;
	size_t n_docs;
};

/* Limits: at most YAML_MAX_NODES nodes per document counting every alias expansion, and nesting at
 * most YAML_MAX_DEPTH deep. */
#define YAML_MAX_NODES 1000000
#define YAML_MAX_DEPTH 256

struct yerror {
	int line, col;  /* 1-based; 0 when unknown */
	char msg[256];
};

/* Parse a whole stream. 0 and *out filled; or -1 with *err filled (and nothing to free). */
int ystream_parse(const char *data, size_t len, struct ystream *out, struct yerror *err);
void ystream_free(struct ystream *s); /* NULL-safe; frees the arena */

/* Helpers */
const struct ynode *ymap_get(const struct ynode *map, const char *key); /* NULL if absent/not a map */
bool yscalar_is_null(const struct ynode *n);  /* plain "", "~", "null", "Null", "NULL" */
const char *ynode_kind_name(enum ynode_kind k); /* "a string", "a list", "a mapping" */

#endif
