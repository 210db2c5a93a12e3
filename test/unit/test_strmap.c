/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/strmap.c, checked against a plain array model under random operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "barelb/strmap.h"

static void test_basic(void **state)
{
	struct strmap *m = strmap_new();
	int a = 1, b = 2;

	assert_null(strmap_get(m, "x"));
	assert_null(strmap_put(m, "x", &a));
	assert_ptr_equal(strmap_get(m, "x"), &a);
	assert_ptr_equal(strmap_put(m, "x", &b), &a);
	assert_int_equal(strmap_count(m), 1);
	assert_ptr_equal(strmap_del(m, "x"), &b);
	assert_null(strmap_del(m, "x"));
	assert_int_equal(strmap_count(m), 0);
	strmap_free(m, NULL);
}

static void count_cb(const char *key, void *val, void *arg)
{
	(void)key;
	*(size_t *)arg += (size_t)(uintptr_t)val;
}

/* 200,000 random put/del/get against a direct-indexed model: catches probe-chain breakage in the
 * backward-shift deletion, which is the subtle part. */
static void test_random_against_model(void **state)
{
	enum { KEYS = 5000, OPS = 200000 };
	uintptr_t *model = calloc(KEYS, sizeof *model);
	struct strmap *m = strmap_new();
	uint64_t x = 88172645463325252ull;
	size_t live = 0, sum = 0, expect = 0;
	char key[32];

	for (int op = 0; op < OPS; op++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned k = (unsigned)(x % KEYS);
		snprintf(key, sizeof key, "ns-%u/svc", k);
		switch ((x >> 32) % 3) {
		case 0: {
			uintptr_t v = (uintptr_t)op + 1;
			void *prev = strmap_put(m, key, (void *)v);
			assert_ptr_equal(prev, (void *)model[k]);
			live += model[k] == 0;
			model[k] = v;
			break;
		}
		case 1: {
			void *prev = strmap_del(m, key);
			assert_ptr_equal(prev, (void *)model[k]);
			live -= model[k] != 0;
			model[k] = 0;
			break;
		}
		default:
			assert_ptr_equal(strmap_get(m, key), (void *)model[k]);
		}
		assert_int_equal(strmap_count(m), live);
	}
	for (unsigned k = 0; k < KEYS; k++) {
		snprintf(key, sizeof key, "ns-%u/svc", k);
		assert_ptr_equal(strmap_get(m, key), (void *)model[k]);
		expect += model[k];
	}
	strmap_foreach(m, count_cb, &sum);
	assert_int_equal(sum, expect);
	strmap_free(m, NULL);
	free(model);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
