/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the object store: put/replace/take/get/foreach/count, 100,000 objects, growth
 * and deletion in every order (the table uses backward-shift deletion, easy to get wrong). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/store.h"

static struct kobj *mk(enum kobj_kind k, const char *ns, const char *name, const char *rv)
{
	struct kobj o;
	memset(&o, 0, sizeof o);
	o.kind = k;
	o.meta.namespace = (char *)ns;
	o.meta.name = (char *)name;
	o.meta.resource_version = (char *)rv;
	return kobj_clone(&o);
}

static void count_cb(const struct kobj *o, void *arg)
{
	(void)o;
	(*(size_t *)arg)++;
}

static void test_basic(void **state)
{
	(void)state;
	struct store *s = store_new();
	assert_null(store_get(s, KOBJ_SERVICE, "a", "x"));
	assert_null(store_take(s, KOBJ_SERVICE, "a", "x"));
	assert_null(store_put(s, mk(KOBJ_SERVICE, "a", "x", "1")));
	assert_null(store_put(s, mk(KOBJ_SERVICE, "b", "x", "1")));
	/* "a/x" must not collide with namespace "a/" name "x" or cluster-scoped "a/x" */
	assert_null(store_put(s, mk(KOBJ_NODE, NULL, "x", "1")));
	assert_null(store_put(s, mk(KOBJ_SERVICE, NULL, "a/x", "1")));
	assert_int_equal(store_count(s, KOBJ_SERVICE), 3);
	assert_int_equal(store_count(s, KOBJ_NODE), 1);
	assert_int_equal(store_count(s, KOBJ_POD), 0);
	const struct kobj *g = store_get(s, KOBJ_SERVICE, "a", "x");
	assert_non_null(g);
	assert_string_equal(g->meta.namespace, "a");
	/* a cluster-scoped object is found with NULL or "" */
	assert_non_null(store_get(s, KOBJ_NODE, "", "x"));
	assert_non_null(store_get(s, KOBJ_NODE, NULL, "x"));
	assert_null(store_get(s, KOBJ_NODE, "a", "x"));
	/* replace returns the old one */
	struct kobj *old = store_put(s, mk(KOBJ_SERVICE, "a", "x", "2"));
	assert_non_null(old);
	assert_string_equal(old->meta.resource_version, "1");
	kobj_free(old);
	assert_string_equal(store_get(s, KOBJ_SERVICE, "a", "x")->meta.resource_version, "2");
	assert_int_equal(store_count(s, KOBJ_SERVICE), 3);
	size_t n = 0;
	store_foreach(s, KOBJ_SERVICE, count_cb, &n);
	assert_int_equal(n, 3);
	struct kobj *t = store_take(s, KOBJ_SERVICE, "b", "x");
	assert_non_null(t);
	kobj_free(t);
	assert_null(store_get(s, KOBJ_SERVICE, "b", "x"));
	assert_int_equal(store_count(s, KOBJ_SERVICE), 2);
	store_free(s);
	store_free(NULL);
}

#define MANY 100000

static void test_many(void **state)
{
	(void)state;
	struct store *s = store_new();
	char ns[32], name[32];
	for (int i = 0; i < MANY; i++) {
		snprintf(ns, sizeof ns, "ns%d", i % 97);
		snprintf(name, sizeof name, "svc-%d", i);
		assert_null(store_put(s, mk(KOBJ_SERVICE, ns, name, "1")));
	}
	assert_int_equal(store_count(s, KOBJ_SERVICE), MANY);
	for (int i = 0; i < MANY; i++) {
		snprintf(ns, sizeof ns, "ns%d", i % 97);
		snprintf(name, sizeof name, "svc-%d", i);
		const struct kobj *o = store_get(s, KOBJ_SERVICE, ns, name);
		assert_non_null(o);
		assert_string_equal(o->meta.name, name);
	}
	/* take every third, in a scattered order, then check that all others are still found */
	/* k -> k * 7919 mod 33334 is a permutation (7919 is prime to 33334) */
	for (int k = 0; k < MANY / 3 + 1; k++) {
		int j = 3 * (int)(((long)k * 7919) % (MANY / 3 + 1));
		snprintf(ns, sizeof ns, "ns%d", j % 97);
		snprintf(name, sizeof name, "svc-%d", j);
		kobj_free(store_take(s, KOBJ_SERVICE, ns, name));
	}
	size_t left = 0;
	for (int i = 0; i < MANY; i++) {
		snprintf(ns, sizeof ns, "ns%d", i % 97);
		snprintf(name, sizeof name, "svc-%d", i);
		const struct kobj *o = store_get(s, KOBJ_SERVICE, ns, name);
		if (i % 3 == 0) {
			assert_null(o);
		} else {
			assert_non_null(o);
			left++;
		}
	}
	assert_int_equal(store_count(s, KOBJ_SERVICE), left);
	size_t n = 0;
	store_foreach(s, KOBJ_SERVICE, count_cb, &n);
	assert_int_equal(n, left);
	/* take the rest */
	for (int i = 0; i < MANY; i++) {
		if (i % 3 == 0)
			continue;
		snprintf(ns, sizeof ns, "ns%d", i % 97);
		snprintf(name, sizeof name, "svc-%d", i);
		struct kobj *o = store_take(s, KOBJ_SERVICE, ns, name);
		assert_non_null(o);
		kobj_free(o);
	}
	assert_int_equal(store_count(s, KOBJ_SERVICE), 0);
	store_free(s);
}

/* Small table, many collisions: every deletion order of a cluster keeps the rest reachable. */
static void test_churn(void **state)
{
	(void)state;
	struct store *s = store_new();
	char name[32];
	unsigned seed = 12345;
	int present[2000] = { 0 };
	for (int step = 0; step < 200000; step++) {
		seed = seed * 1103515245u + 12345u;
		int i = (int)((seed >> 8) % 2000);
		snprintf(name, sizeof name, "p%d", i);
		if (present[i]) {
			struct kobj *o = store_take(s, KOBJ_POD, "ns", name);
			assert_non_null(o);
			kobj_free(o);
			present[i] = 0;
		} else {
			assert_null(store_put(s, mk(KOBJ_POD, "ns", name, "1")));
			present[i] = 1;
		}
	}
	size_t want = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "p%d", i);
		assert_int_equal(store_get(s, KOBJ_POD, "ns", name) != NULL, present[i]);
		want += (size_t)present[i];
	}
	assert_int_equal(store_count(s, KOBJ_POD), want);
	store_free(s);
}

/* One object in two stores (kobj_share): each holder frees its reference, the last one the
 * block (ASan would report a double free or a leak). */
static void test_share(void **state)
{
	(void)state;
	struct store *a = store_new(), *b = store_new();
	struct kobj *o = mk(KOBJ_SERVICE, "ns", "x", "1");
	assert_null(store_put(a, o));
	struct kobj *o2 = kobj_share(o);
	assert_ptr_equal(o2, o);
	assert_null(store_put(b, o2));
	kobj_free(store_take(a, KOBJ_SERVICE, "ns", "x"));
	const struct kobj *g = store_get(b, KOBJ_SERVICE, "ns", "x");
	assert_non_null(g);
	assert_string_equal(g->meta.resource_version, "1");
	/* a shared object replaced in one store stays alive in the other */
	struct kobj *o3 = kobj_share(g);
	kobj_free(store_put(b, mk(KOBJ_SERVICE, "ns", "x", "2")));
	assert_string_equal(o3->meta.name, "x");
	kobj_free(o3);
	/* an object that is not one block (on the stack) is copied, not shared */
	struct kobj st;
	memset(&st, 0, sizeof st);
	st.kind = KOBJ_NODE;
	st.meta.name = (char *)"n";
	struct kobj *c = kobj_share(&st);
	assert_ptr_not_equal(c, &st);
	assert_string_equal(c->meta.name, "n");
	kobj_free(c);
	store_free(a);
	store_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_share),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
