/* SPDX-License-Identifier: Apache-2.0 */
/* model_yaml: manifest streams (YAML or JSON, several documents, Lists) read through yamltree,
 * turned into cJSON and decoded by the one object decoder; errors carry the line of the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/model.h"
#include "barelb/yamltree.h"
#include "model_internal.h"

/* ---- YAML scalars as JSON values (YAML 1.2 core schema, which is what JSON text reads as) ---- */

static bool all_digits(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_float(const char *s)
{
	size_t i = 0, d1 = 0, d2 = 0;
	if (s[i] == '-' || s[i] == '+')
		i++;
	while (s[i] >= '0' && s[i] <= '9')
		i++, d1++;
	if (s[i] == '.') {
		i++;
		while (s[i] >= '0' && s[i] <= '9')
			i++, d2++;
	}
	if (d1 + d2 == 0)
		return false;
	if (s[i] == 'e' || s[i] == 'E') {
		size_t d3 = 0;
		i++;
		if (s[i] == '-' || s[i] == '+')
			i++;
		while (s[i] >= '0' && s[i] <= '9')
			i++, d3++;
		if (!d3)
			return false;
	}
	return s[i] == '\0';
}

static cJSON *scalar_json(const struct ynode *n)
{
	const char *s = n->str;
	if (!n->plain)
		return cJSON_CreateString(s);
	if (yscalar_is_null(n))
		return cJSON_CreateNull();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return cJSON_CreateTrue();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return cJSON_CreateFalse();
	if (s[0] == '0' && s[1] == 'x' && all_digits(s + 2, "0123456789abcdefABCDEF"))
		return cJSON_CreateNumber((double)strtoull(s + 2, NULL, 16));
	if (s[0] == '0' && s[1] == 'o' && all_digits(s + 2, "01234567"))
		return cJSON_CreateNumber((double)strtoull(s + 2, NULL, 8));
	if (is_float(s))
		return cJSON_CreateNumber(strtod(s, NULL));
	return cJSON_CreateString(s);
}

/* NULL with *bad set to the offending node when a mapping key is not a scalar. */
static cJSON *to_json(const struct ynode *n, const struct ynode **bad)
{
	cJSON *j = NULL;
	switch (n->kind) {
	case YN_SCALAR:
		return scalar_json(n);
	case YN_SEQ:
		j = cJSON_CreateArray();
		for (size_t i = 0; j && i < n->n_items; i++) {
			cJSON *c = to_json(n->items[i], bad);
			if (!c) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToArray(j, c);
		}
		return j;
	case YN_MAP:
		j = cJSON_CreateObject();
		for (size_t i = 0; j && i < n->n_pairs; i++) {
			const struct ypair *p = &n->pairs[i];
			if (p->key->kind != YN_SCALAR) {
				*bad = p->key;
				cJSON_Delete(j);
				return NULL;
			}
			cJSON *c = to_json(p->val, bad);
			if (!c) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToObject(j, p->key->str, c);
		}
		return j;
	}
	return NULL;
}

/* The node a decode error points at: follow the path as far as the tree goes. */
static const struct ynode *resolve(const struct ynode *n, const struct kpath *where)
{
	for (int i = 0; i < where->depth && i < KPATH_MAX; i++) {
		const struct ynode *next = NULL;
		if (where->at[i].key)
			next = ymap_get(n, where->at[i].key);
		else if (n->kind == YN_SEQ && where->at[i].idx >= 0 &&
			 (size_t)where->at[i].idx < n->n_items)
			next = n->items[where->at[i].idx];
		if (!next)
			break;
		n = next;
	}
	return n;
}

struct mctx {
	kobj_cb cb;
	kobj_err_cb errcb;
	void *arg;
};

static void report(const struct mctx *m, int line, int col, const char *msg)
{
	if (m->errcb)
		m->errcb(line, col, msg, m->arg);
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void decode_one(const struct mctx *m, const cJSON *j, const struct ynode *n, int hint)
{
	char err[320];
	struct kpath where;
	struct kobj *o = NULL;
	int r = kobj_from_cjson_at(j, hint, &o, err, sizeof err, &where);
	if (r == 0) {
		if (m->cb)
			m->cb(o, n->line, m->arg);
		else
			kobj_free(o);
		return;
	}
	if (r > 0)
		return; /* a kind barelb does not use */
	const struct ynode *at = resolve(n, &where);
	/* Name the object when it can be named, so that a stream of many says which one. */
	const char *kind = str_at(j, "kind", NULL);
	const char *name = str_at(j, "metadata", "name");
	const char *ns = str_at(j, "metadata", "namespace");
	char msg[512];
	if (!kind && hint >= 0)
		kind = kobj_kind_name((enum kobj_kind)hint);
	if (name && kind)
		snprintf(msg, sizeof msg, "%s %s%s%s: %s", kind, ns ? ns : "", ns ? "/" : "", name,
			 err);
	else
		snprintf(msg, sizeof msg, "%s", err);
	report(m, at->line, at->col, msg);
}

/* "List", "ServiceList", ...: a list of objects of one kind (or of any kind). */
static bool list_kind(const char *kind, int *hint)
{
	size_t n = strlen(kind);
	if (n < 4 || strcmp(kind + n - 4, "List") != 0)
		return false;
	*hint = -1;
	if (n > 4) {
		char k[64];
		if (n - 4 >= sizeof k)
			return true;
		memcpy(k, kind, n - 4);
		k[n - 4] = '\0';
		*hint = kmodel_kind_exact(k);
	}
	return true;
}

static void decode_doc(const struct mctx *m, const struct ynode *root)
{
	if (root->kind != YN_MAP) {
		char msg[96];
		snprintf(msg, sizeof msg, "a document must be an object, got %s",
			 ynode_kind_name(root->kind));
		report(m, root->line, root->col, msg);
		return;
	}
	const struct ynode *bad = NULL;
	cJSON *j = to_json(root, &bad);
	if (!j) {
		if (bad)
			report(m, bad->line, bad->col, "mapping keys must be strings");
		else
			report(m, root->line, root->col, "out of memory");
		return;
	}
	const char *kind = str_at(j, "kind", NULL);
	int hint;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
	if (kind && list_kind(kind, &hint) && items) {
		const struct ynode *yitems = ymap_get(root, "items");
		if (!cJSON_IsArray(items) || !yitems || yitems->kind != YN_SEQ) {
			report(m, yitems ? yitems->line : root->line, yitems ? yitems->col : root->col,
			       "items: expected a list");
		} else {
			size_t i = 0;
			const cJSON *it;
			cJSON_ArrayForEach(it, items) {
				if (i >= yitems->n_items)
					break;
				decode_one(m, it, yitems->items[i++], hint);
			}
		}
	} else {
		decode_one(m, j, root, -1);
	}
	cJSON_Delete(j);
}

int kobj_decode_manifests(const char *data, size_t len, kobj_cb cb, kobj_err_cb errcb, void *arg)
{
	struct mctx m = { cb, errcb, arg };
	struct ystream ys;
	struct yerror ye;
	memset(&ye, 0, sizeof ye);
	if (ystream_parse(data, len, &ys, &ye) < 0) {
		report(&m, ye.line, ye.col, ye.msg);
		return -1;
	}
	for (size_t i = 0; i < ys.n_docs; i++)
		if (ys.docs[i].root)
			decode_doc(&m, ys.docs[i].root);
	ystream_free(&ys);
	return 0;
}
