/* SPDX-License-Identifier: Apache-2.0 */
/* test_yamltree: the YAML tree: documents, positions, scalar styles, aliases, limits, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/arena.h"
#include "barelb/yamltree.h"

static int parse(const char *text, struct ystream *s, struct yerror *e)
{
	return ystream_parse(text, strlen(text), s, e);
}

static void test_documents(void **state)
{
	(void)state;
	struct ystream s;
	struct yerror e;
	assert_int_equal(parse("a: 1\n---\n---\n- x\n...\n", &s, &e), 0);
	assert_int_equal(s.n_docs, 3);
	assert_non_null(s.docs[0].root);
	assert_int_equal(s.docs[0].root->kind, YN_MAP);
	assert_null(s.docs[1].root); /* empty document */
	assert_int_equal(s.docs[1].line, 2);
	assert_int_equal(s.docs[2].root->kind, YN_SEQ);
	assert_int_equal(s.docs[2].line, 3);
	ystream_free(&s);

	assert_int_equal(parse("", &s, &e), 0);
	assert_int_equal(s.n_docs, 0);
	ystream_free(&s);
	assert_int_equal(parse("# only a comment\n", &s, &e), 0);
	assert_int_equal(s.n_docs, 0);
	ystream_free(&s);
	ystream_free(NULL);
}

static void test_positions(void **state)
{
	(void)state;
	struct ystream s;
	struct yerror e;
	const char *t = "top:\n  key: value\n  list:\n  - one\n  -   two\n";
	assert_int_equal(parse(t, &s, &e), 0);
	const struct ynode *r = s.docs[0].root;
	assert_int_equal(r->line, 1);
	assert_int_equal(r->col, 1);
	const struct ynode *top = ymap_get(r, "top");
	assert_non_null(top);
	assert_int_equal(top->kind, YN_MAP);
	assert_int_equal(top->pairs[0].key->line, 2);
	assert_int_equal(top->pairs[0].key->col, 3);
	const struct ynode *v = ymap_get(top, "key");
	assert_string_equal(v->str, "value");
	assert_int_equal(v->line, 2);
	assert_int_equal(v->col, 8);
	const struct ynode *l = ymap_get(top, "list");
	assert_int_equal(l->n_items, 2);
	assert_int_equal(l->items[1]->line, 5);
	assert_int_equal(l->items[1]->col, 7);
	assert_null(ymap_get(top, "nope"));
	assert_null(ymap_get(v, "key")); /* not a map */
	ystream_free(&s);
}

static void test_scalar_styles(void **state)
{
	(void)state;
	struct ystream s;
	struct yerror e;
	const char *t = "a: plain\nb: \"dq\\x41\"\nc: 'sq'\nd: !!str tagged\ne: ~\nf: \"\"\ng:\n"
			"h: \"nul\\0x\"\ni: |\n  block\n";
	assert_int_equal(parse(t, &s, &e), 0);
	const struct ynode *r = s.docs[0].root;
	assert_true(ymap_get(r, "a")->plain);
	assert_false(ymap_get(r, "b")->plain);
	assert_string_equal(ymap_get(r, "b")->str, "dqA");
	assert_false(ymap_get(r, "c")->plain);
	assert_false(ymap_get(r, "d")->plain);
	assert_true(yscalar_is_null(ymap_get(r, "e")));
	assert_false(yscalar_is_null(ymap_get(r, "f"))); /* quoted empty is a string */
	assert_true(yscalar_is_null(ymap_get(r, "g")));
	const struct ynode *h = ymap_get(r, "h");
	assert_int_equal(h->len, 5);
	assert_int_equal(strlen(h->str), 3);
	assert_string_equal(ymap_get(r, "i")->str, "block\n");
	assert_string_equal(ynode_kind_name(YN_MAP), "a mapping");
	assert_string_equal(ynode_kind_name(YN_SEQ), "a list");
	assert_string_equal(ynode_kind_name(YN_SCALAR), "a string");
	ystream_free(&s);
}

static void test_aliases_share(void **state)
{
	(void)state;
	struct ystream s;
	struct yerror e;
	assert_int_equal(parse("a: &x {k: v}\nb: *x\nc: &y s\nd: *y\n", &s, &e), 0);
	const struct ynode *r = s.docs[0].root;
	assert_ptr_equal(ymap_get(r, "a"), ymap_get(r, "b"));
	assert_ptr_equal(ymap_get(r, "c"), ymap_get(r, "d"));
	ystream_free(&s);

	assert_int_equal(parse("a: *nope\n", &s, &e), -1);
	assert_int_equal(e.line, 1);
	assert_int_equal(e.col, 4);
	assert_non_null(strstr(e.msg, "undefined alias"));
	assert_int_equal(parse("a: &x [1, *x]\n", &s, &e), -1);
	assert_non_null(strstr(e.msg, "contains it"));
	/* anchors do not cross documents */
	assert_int_equal(parse("a: &x 1\n---\nb: *x\n", &s, &e), -1);
	assert_int_equal(e.line, 3);
}

static void test_alias_bomb(void **state)
{
	(void)state;
	char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof(buf), "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 10; i++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "a%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s*a%d", j ? ", " : "", i - 1);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]\n");
	}
	struct ystream s;
	struct yerror e;
	assert_int_equal(parse(buf, &s, &e), -1);
	assert_non_null(strstr(e.msg, "alias bomb"));
	assert_true(e.line > 1);
	/* A small reuse stays fine. */
	assert_int_equal(parse("a: &a [x, x]\nb: [*a, *a, *a]\n", &s, &e), 0);
	ystream_free(&s);
}

static void test_depth(void **state)
{
	(void)state;
	char buf[2 * YAML_MAX_DEPTH + 16];
	struct ystream s;
	struct yerror e;
	memset(buf, '[', YAML_MAX_DEPTH);
	memset(buf + YAML_MAX_DEPTH, ']', YAML_MAX_DEPTH);
	buf[2 * YAML_MAX_DEPTH] = '\0';
	assert_int_equal(parse(buf, &s, &e), 0);
	ystream_free(&s);
	memset(buf, '[', YAML_MAX_DEPTH + 1);
	memset(buf + YAML_MAX_DEPTH + 1, ']', YAML_MAX_DEPTH + 1);
	buf[2 * YAML_MAX_DEPTH + 2] = '\0';
	assert_int_equal(parse(buf, &s, &e), -1);
	assert_non_null(strstr(e.msg, "nesting"));
	assert_int_equal(e.col, YAML_MAX_DEPTH + 1);
	/* an alias cannot smuggle depth in */
	char *deep = malloc(4 * YAML_MAX_DEPTH + 64);
	size_t o = (size_t)sprintf(deep, "a: &d ");
	memset(deep + o, '[', 200);
	memset(deep + o + 200, ']', 200);
	o += 400;
	o += (size_t)sprintf(deep + o, "\nb: ");
	memset(deep + o, '[', 100);
	o += 100;
	o += (size_t)sprintf(deep + o, "*d");
	memset(deep + o, ']', 100);
	deep[o + 100] = '\0';
	assert_int_equal(parse(deep, &s, &e), -1);
	assert_non_null(strstr(e.msg, "deeper"));
	free(deep);
}

static void test_garbage(void **state)
{
	(void)state;
	struct ystream s;
	struct yerror e;
	assert_int_equal(parse("a: b\n c: d\n", &s, &e), -1);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.col, 3);
	assert_non_null(strstr(e.msg, "YAML:"));
	assert_int_equal(parse("a: [1, 2\nb: 3\n", &s, &e), -1);
	assert_true(e.line >= 1);
	assert_int_equal(parse("ok: 1\nbad: \x01\n", &s, &e), -1);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.col, 6);
	const char bin[] = "\x89PNG\r\n\x1a\n";
	assert_int_equal(ystream_parse(bin, sizeof(bin) - 1, &s, &e), -1);
	assert_true(e.msg[0] != '\0');
	/* invalid UTF-8 */
	assert_int_equal(parse("a: \xc3\x28\n", &s, &e), -1);
	assert_int_equal(e.line, 1);
}

/* Every prefix of a valid multi-document file either parses or fails cleanly. */
static void test_truncations(void **state)
{
	(void)state;
	const char *t = "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n"
			"  name: &n prod\n  labels: {a: \"b\", c: 'd'}\nspec:\n"
			"  addresses: [10.0.0.0/24, \"10.1.0.1-10.1.0.9\"]\n  x: *n\n"
			"  blk: |\n    text\n---\n- [a, {b: c}]\n- ? complex\n  : value\n";
	size_t n = strlen(t);
	int ok = 0;
	for (size_t len = 0; len <= n; len++) {
		char *buf = malloc(len + 1);
		memcpy(buf, t, len);
		buf[len] = '\0';
		struct ystream s;
		struct yerror e;
		/* not NUL-terminated for the parser: length is what counts */
		if (ystream_parse(buf, len, &s, &e) == 0) {
			ok++;
			ystream_free(&s);
		} else {
			assert_true(e.msg[0] != '\0');
		}
		free(buf);
	}
	assert_true(ok > 10);
}

static void test_arena(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	char *s = arena_printf(a, "%s-%d", "x", 42);
	assert_string_equal(s, "x-42");
	assert_string_equal(arena_strndup(a, "hello", 3), "hel");
	assert_string_equal(arena_strdup(a, "w"), "w");
	unsigned char *big = arena_alloc(a, 1 << 20);
	for (size_t i = 0; i < (1u << 20); i += 4096)
		assert_int_equal(big[i], 0);
	void *p = arena_array(a, 3, 8);
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_true(arena_used(a) >= (1u << 20) + 24);
	arena_free(a);
	arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documents),   cmocka_unit_test(test_positions),
		cmocka_unit_test(test_scalar_styles), cmocka_unit_test(test_aliases_share),
		cmocka_unit_test(test_alias_bomb),  cmocka_unit_test(test_depth),
		cmocka_unit_test(test_garbage),     cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
