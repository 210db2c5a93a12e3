/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/jsonw.c: exact output, commas, escaping, UTF-8 repair, numbers, misuse. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "barelb/jsonw.h"

static void expect(struct jsonw *w, const char *text)
{
	size_t len;
	const char *d = jsonw_data(w, &len);

	assert_true(jsonw_ok(w));
	assert_string_equal(d, text);
	assert_int_equal(len, strlen(text));
}

static void test_nested(void **state)
{
	struct jsonw *w = jsonw_new();

	jsonw_obj_begin(w);
	jsonw_kv_str(w, "a", "x");
	jsonw_key(w, "list");
	jsonw_arr_begin(w);
	jsonw_int(w, -3);
	jsonw_uint(w, UINT64_MAX);
	jsonw_bool(w, true);
	jsonw_null(w);
	jsonw_obj_begin(w);
	jsonw_obj_end(w);
	jsonw_arr_begin(w);
	jsonw_arr_end(w);
	jsonw_arr_end(w);
	jsonw_kv_bool(w, "f", false);
	jsonw_kv_null(w, "n");
	jsonw_kv_str(w, "s", NULL);
	jsonw_kv_int(w, "i", INT64_MIN);
	jsonw_obj_end(w);
	expect(w, "{\"a\":\"x\",\"list\":[-3,18446744073709551615,true,null,{},[]],\"f\":false,"
		  "\"n\":null,\"s\":null,\"i\":-9223372036854775808}");
	jsonw_free(w);
}

static void test_escaping(void **state)
{
	struct jsonw *w = jsonw_new();

	jsonw_arr_begin(w);
	jsonw_str(w, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f");
	jsonw_str(w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  /* valid UTF-8 kept as is */
	jsonw_str(w, "bad\xff\xc3(\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80!"); /* U+FFFD per bad byte: 2+3+2+4 */
	jsonw_strn(w, "a\0b", 3);
	jsonw_arr_end(w);
	expect(w, "[\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\","
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
		  "\"bad\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!\","
		  "\"a\\u0000b\"]");
	jsonw_free(w);
}

static void test_keys_escaped(void **state)
{
	struct jsonw *w = jsonw_new();

	jsonw_obj_begin(w);
	jsonw_kv_uint(w, "k\"\n", 1);
	jsonw_obj_end(w);
	expect(w, "{\"k\\\"\\n\":1}");
	jsonw_free(w);
}

static void test_numbers(void **state)
{
	struct jsonw *w = jsonw_new();

	jsonw_arr_begin(w);
	jsonw_double(w, 0.1);
	jsonw_double(w, 1.5);
	jsonw_double(w, 3);
	jsonw_double(w, 1e300);
	jsonw_double(w, NAN);
	jsonw_double(w, INFINITY);
	jsonw_double(w, 0.30000000000000004);
	jsonw_num_text(w, "340282366920938463463374607431768211455");
	jsonw_num_text(w, "0");
	jsonw_num_text(w, "007");
	jsonw_num_text(w, "1e5");
	jsonw_num_text(w, "");
	jsonw_num_text(w, NULL);
	jsonw_arr_end(w);
	expect(w, "[0.1,1.5,3,1e+300,null,null,0.30000000000000004,"
		  "340282366920938463463374607431768211455,0,null,null,null,null]");
	jsonw_free(w);
}

static void test_scalar_document_and_reset(void **state)
{
	struct jsonw *w = jsonw_new();

	assert_false(jsonw_ok(w)); /* nothing written is not a document */
	assert_string_equal(jsonw_data(w, NULL), "");
	jsonw_str(w, "x");
	expect(w, "\"x\"");
	jsonw_str(w, "y"); /* a second top-level value */
	assert_true(jsonw_failed(w));
	jsonw_reset(w);
	assert_false(jsonw_failed(w));
	jsonw_int(w, 7);
	expect(w, "7");
	jsonw_free(w);
	jsonw_free(NULL);
}

static void test_misuse(void **state)
{
	struct jsonw *w;

	/* a value where a key is due */
	w = jsonw_new();
	jsonw_obj_begin(w);
	jsonw_int(w, 1);
	assert_true(jsonw_failed(w));
	jsonw_obj_end(w);
	assert_false(jsonw_ok(w));
	/* a key in an array */
	jsonw_reset(w);
	jsonw_arr_begin(w);
	jsonw_key(w, "k");
	assert_true(jsonw_failed(w));
	/* closing the wrong container */
	jsonw_reset(w);
	jsonw_arr_begin(w);
	jsonw_obj_end(w);
	assert_true(jsonw_failed(w));
	/* closing an object after a key without its value */
	jsonw_reset(w);
	jsonw_obj_begin(w);
	jsonw_key(w, "k");
	jsonw_obj_end(w);
	assert_true(jsonw_failed(w));
	/* unbalanced: not an error yet, but not a document */
	jsonw_reset(w);
	jsonw_arr_begin(w);
	assert_false(jsonw_failed(w));
	assert_false(jsonw_ok(w));
	/* too many ends */
	jsonw_reset(w);
	jsonw_arr_begin(w);
	jsonw_arr_end(w);
	jsonw_arr_end(w);
	assert_true(jsonw_failed(w));
	/* a NULL key */
	jsonw_reset(w);
	jsonw_obj_begin(w);
	jsonw_key(w, NULL);
	assert_true(jsonw_failed(w));
	jsonw_free(w);
}

static void test_depth_limit(void **state)
{
	struct jsonw *w = jsonw_new();

	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_begin(w);
	assert_false(jsonw_failed(w));
	jsonw_arr_begin(w);
	assert_true(jsonw_failed(w));
	jsonw_reset(w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_begin(w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_end(w);
	assert_true(jsonw_ok(w));
	jsonw_free(w);
}

/* Whatever bytes go in, the output parses as JSON and the strings come back (valid UTF-8 as is). */
static void test_roundtrip_through_cjson(void **state)
{
	struct jsonw *w = jsonw_new();
	char s[256];
	uint32_t x = 12345;

	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(round % 40);
		cJSON *root, *item;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			s[i] = (char)(x >> 16);
		}
		s[n] = '\0';
		jsonw_reset(w);
		jsonw_obj_begin(w);
		jsonw_key(w, "v");
		jsonw_arr_begin(w);
		jsonw_str(w, s);
		jsonw_str(w, "plain ascii");
		jsonw_double(w, (double)x / 7.0);
		jsonw_arr_end(w);
		jsonw_obj_end(w);
		assert_true(jsonw_ok(w));
		root = cJSON_Parse(jsonw_data(w, NULL));
		assert_non_null(root);
		item = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "v"), 1);
		assert_string_equal(cJSON_GetStringValue(item), "plain ascii");
		item = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "v"), 2);
		assert_true(cJSON_GetNumberValue(item) == (double)x / 7.0);
		cJSON_Delete(root);
	}
	jsonw_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_scalar_document_and_reset),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_roundtrip_through_cjson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
