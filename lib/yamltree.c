/* SPDX-License-Identifier: Apache-2.0 */
/* yamltree: libyaml's event stream turned into a plain tree with positions, bounded in size. */
#include "barelb/yamltree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "barelb/arena.h"

/* An anchored node, with what it costs to use it again: its expanded node count and its height,
 * so that an alias can be charged for everything it stands for without walking it. */
struct anchor {
	char *name;
	struct ynode *node;
	size_t expanded;
	int height;
	struct anchor *next; /* hash chain */
};

#define ANCHOR_BUCKETS 1024

/* A container being built: children are collected in a malloc'd vector, copied into the arena
 * when the container closes (the arena cannot grow a block in place). */
struct frame {
	struct ynode *node;
	char *anchor;      /* malloc'd; registered when the node is complete */
	void *items;       /* struct ynode ** (seq) or struct ypair * (map) */
	size_t n, cap;     /* for maps: number of nodes pushed (keys and values) */
	size_t expanded;   /* nodes below and including this one */
	int height;        /* height of the tallest child */
};

struct builder {
	struct arena *mem;
	struct anchor *buckets[ANCHOR_BUCKETS];
	struct frame *stack;
	int depth;           /* frames in use */
	size_t doc_nodes;    /* expanded nodes of the current document */
	struct ynode *root;
	size_t root_expanded;
	int root_height;
	struct yerror *err;
};

static void set_err(struct yerror *err, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_err(struct yerror *err, int line, int col, const char *fmt, ...)
{
	va_list ap;
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static unsigned hash_name(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % ANCHOR_BUCKETS;
}

static struct anchor *anchor_find(struct builder *b, const char *name)
{
	for (struct anchor *a = b->buckets[hash_name(name)]; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* Takes ownership of name. A later anchor of the same name replaces the earlier one (YAML 1.2). */
static void anchor_put(struct builder *b, char *name, struct ynode *n, size_t expanded, int height)
{
	struct anchor *a = anchor_find(b, name);
	if (a) {
		free(name);
	} else {
		a = malloc(sizeof(*a));
		if (!a)
			abort();
		unsigned h = hash_name(name);
		a->name = name;
		a->next = b->buckets[h];
		b->buckets[h] = a;
	}
	a->node = n;
	a->expanded = expanded;
	a->height = height;
}

static void anchors_clear(struct builder *b)
{
	for (size_t i = 0; i < ANCHOR_BUCKETS; i++) {
		struct anchor *a = b->buckets[i];
		while (a) {
			struct anchor *n = a->next;
			free(a->name);
			free(a);
			a = n;
		}
		b->buckets[i] = NULL;
	}
}

static char *dup_anchor(const yaml_char_t *s)
{
	if (!s)
		return NULL;
	char *p = strdup((const char *)s);
	if (!p)
		abort();
	return p;
}

/* Charge `expanded` nodes to the document; -1 (error set) over the limit. */
static int charge(struct builder *b, size_t expanded, int line, int col)
{
	b->doc_nodes += expanded;
	if (b->doc_nodes > YAML_MAX_NODES) {
		b->err->line = line;
		b->err->col = col;
		snprintf(b->err->msg, sizeof(b->err->msg),
			 "document expands to more than %d nodes (alias bomb?)", YAML_MAX_NODES);
		return -1;
	}
	return 0;
}

/* Attach a finished node (own or aliased) to the open container, or make it the root. */
static int attach(struct builder *b, struct ynode *n, size_t expanded, int height)
{
	if (b->depth == 0) {
		b->root = n;
		b->root_expanded = expanded;
		b->root_height = height;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	/* maps collect keys and values alternately in the same vector */
	size_t esz = sizeof(struct ynode *);
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;
		void *p = realloc(f->items, ncap * esz);
		if (!p)
			abort();
		f->items = p;
		f->cap = ncap;
	}
	((struct ynode **)f->items)[f->n++] = n;
	f->expanded += expanded;
	if (height > f->height)
		f->height = height;
	return 0;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind k, yaml_mark_t m)
{
	struct ynode *n = arena_alloc(b->mem, sizeof(*n));
	n->kind = k;
	n->line = (int)m.line + 1;
	n->col = (int)m.column + 1;
	return n;
}

static int open_container(struct builder *b, enum ynode_kind k, yaml_mark_t m,
			  const yaml_char_t *anchor)
{
	if (b->depth >= YAML_MAX_DEPTH) {
		b->err->line = (int)m.line + 1;
		b->err->col = (int)m.column + 1;
		snprintf(b->err->msg, sizeof(b->err->msg), "nesting deeper than %d levels",
			 YAML_MAX_DEPTH);
		return -1;
	}
	struct ynode *n = new_node(b, k, m);
	if (charge(b, 1, n->line, n->col) < 0)
		return -1;
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = dup_anchor(anchor);
	f->expanded = 1;
	return 0;
}

static int close_container(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	struct ynode *n = f->node;
	struct ynode **kids = f->items;
	if (n->kind == YN_SEQ) {
		n->items = arena_array(b->mem, f->n, sizeof(*n->items));
		if (f->n)
			memcpy(n->items, kids, f->n * sizeof(*kids));
		n->n_items = f->n;
	} else {
		/* libyaml guarantees key/value alternation, so n is even */
		n->n_pairs = f->n / 2;
		n->pairs = arena_array(b->mem, n->n_pairs, sizeof(*n->pairs));
		for (size_t i = 0; i < n->n_pairs; i++) {
			n->pairs[i].key = kids[2 * i];
			n->pairs[i].val = kids[2 * i + 1];
		}
	}
	free(f->items);
	f->items = NULL;
	int height = f->height + 1;
	size_t expanded = f->expanded;
	if (f->anchor) {
		anchor_put(b, f->anchor, n, expanded, height);
		f->anchor = NULL;
	}
	return attach(b, n, expanded, height);
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	if (b->depth >= YAML_MAX_DEPTH) {
		set_err(b->err, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			"nesting deeper than %d levels", YAML_MAX_DEPTH);
		return -1;
	}
	struct ynode *n = new_node(b, YN_SCALAR, ev->start_mark);
	if (charge(b, 1, n->line, n->col) < 0)
		return -1;
	size_t len = ev->data.scalar.length;
	char *s = arena_alloc(b->mem, len + 1);
	if (len)
		memcpy(s, ev->data.scalar.value, len);
	s[len] = '\0';
	n->str = s;
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	if (ev->data.scalar.anchor)
		anchor_put(b, dup_anchor(ev->data.scalar.anchor), n, 1, 1);
	return attach(b, n, 1, 1);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	const char *name = (const char *)ev->data.alias.anchor;
	struct anchor *a = anchor_find(b, name);
	if (!a) {
		/* Either never defined, or its node is still open (a node that contains itself). */
		for (int i = 0; i < b->depth; i++)
			if (b->stack[i].anchor && strcmp(b->stack[i].anchor, name) == 0) {
				set_err(b->err, line, col,
					"alias *%.200s refers to a node that contains it", name);
				return -1;
			}
		set_err(b->err, line, col, "undefined alias *%.200s", name);
		return -1;
	}
	if (b->depth + a->height > YAML_MAX_DEPTH) {
		b->err->line = line;
		b->err->col = col;
		snprintf(b->err->msg, sizeof(b->err->msg),
			 "alias expands to nesting deeper than %d levels", YAML_MAX_DEPTH);
		return -1;
	}
	if (charge(b, a->expanded, line, col) < 0)
		return -1;
	return attach(b, a->node, a->expanded, a->height);
}

static void parser_error(const yaml_parser_t *p, const char *data, size_t len, struct yerror *err)
{
	int line = 0, col = 0;
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a mark: count lines ourselves. */
		size_t off = p->problem_offset < len ? p->problem_offset : len;
		line = 1;
		col = 1;
		for (size_t i = 0; i < off; i++) {
			if (data[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		snprintf(err->msg, sizeof(err->msg), "YAML: %s (byte 0x%02x)",
			 p->problem ? p->problem : "cannot read input", (unsigned)(p->problem_value & 0xff));
	} else {
		line = (int)p->problem_mark.line + 1;
		col = (int)p->problem_mark.column + 1;
		if (p->context)
			snprintf(err->msg, sizeof(err->msg), "YAML: %s %s (started at line %d)",
				 p->problem ? p->problem : "syntax error", p->context,
				 (int)p->context_mark.line + 1);
		else
			snprintf(err->msg, sizeof(err->msg), "YAML: %s",
				 p->problem ? p->problem : "syntax error");
	}
	err->line = line;
	err->col = col;
}

struct docvec {
	struct ydoc *v;
	size_t n, cap;
};

int ystream_parse(const char *data, size_t len, struct ystream *out, struct yerror *err)
{
	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err->msg, sizeof(err->msg), "YAML: cannot initialize the parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

	struct builder *b = calloc(1, sizeof(*b));
	struct frame *stack = calloc(YAML_MAX_DEPTH, sizeof(*stack));
	if (!b || !stack)
		abort();
	b->mem = arena_new();
	b->stack = stack;
	b->err = err;
	struct docvec docs = {0};
	int rc = -1;
	int doc_line = 0, doc_col = 0;

	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&parser, data, len, err);
			goto out;
		}
		int r = 0;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			rc = 0;
			goto out;
		case YAML_DOCUMENT_START_EVENT:
			b->doc_nodes = 0;
			b->root = NULL;
			doc_line = (int)ev.start_mark.line + 1;
			doc_col = (int)ev.start_mark.column + 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (docs.n == docs.cap) {
				size_t ncap = docs.cap ? docs.cap * 2 : 4;
				struct ydoc *p = realloc(docs.v, ncap * sizeof(*p));
				if (!p)
					abort();
				docs.v = p;
				docs.cap = ncap;
			}
			/* An empty document is an implicit empty plain scalar; callers want NULL. */
			struct ynode *root = b->root;
			if (root && root->kind == YN_SCALAR && root->plain && root->len == 0)
				root = NULL;
			docs.v[docs.n++] = (struct ydoc){.root = root, .line = doc_line, .col = doc_col};
			/* Anchors do not cross documents. */
			anchors_clear(b);
			break;
		case YAML_SCALAR_EVENT:
			r = on_scalar(b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			r = on_alias(b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			r = open_container(b, YN_SEQ, ev.start_mark, ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
			r = open_container(b, YN_MAP, ev.start_mark, ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			r = close_container(b);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
out:
	for (int i = 0; i < b->depth; i++) {
		free(b->stack[i].items);
		free(b->stack[i].anchor);
	}
	anchors_clear(b);
	yaml_parser_delete(&parser);
	if (rc == 0) {
		out->mem = b->mem;
		out->n_docs = docs.n;
		out->docs = arena_array(b->mem, docs.n, sizeof(*out->docs));
		if (docs.n)
			memcpy(out->docs, docs.v, docs.n * sizeof(*docs.v));
	} else {
		arena_free(b->mem);
	}
	free(docs.v);
	free(stack);
	free(b);
	return rc;
}

void ystream_free(struct ystream *s)
{
	if (!s)
		return;
	arena_free(s->mem);
	s->mem = NULL;
	s->docs = NULL;
	s->n_docs = 0;
}

const struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YN_MAP)
		return NULL;
	size_t kl = strlen(key);
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		if (k->kind == YN_SCALAR && k->len == kl && memcmp(k->str, key, kl) == 0)
			return map->pairs[i].val;
	}
	return NULL;
}

bool yscalar_is_null(const struct ynode *n)
{
	if (!n || n->kind != YN_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	       strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

const char *ynode_kind_name(enum ynode_kind k)
{
	switch (k) {
	case YN_SCALAR:
		return "a string";
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	}
	return "a node";
}
