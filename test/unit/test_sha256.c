/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for speaker/sha256.c: FIPS 180-4 / NIST example vectors, padding boundaries, split updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../speaker/sha256.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check(const void *msg, size_t n, const char *want)
{
	uint8_t d[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];
	sha256(msg, n, d);
	hex(d, sizeof(d), got);
	assert_string_equal(got, want);
}

/* NIST CSRC "Examples with Intermediate Values", SHA-256 (FIPS 180-4). */
static void test_nist_vectors(void **state)
{
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 448 bits */
	check(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
			   "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"; /* 896 bits */
	check(four, strlen(four), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
	struct sha256_ctx c;
	uint8_t d[SHA256_LEN], chunk[1000];
	char got[2 * SHA256_LEN + 1];
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, chunk, sizeof(chunk));
	sha256_final(&c, d);
	hex(d, sizeof(d), got);
	assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The strings the L2 order hashes, checked against coreutils: printf 'node1#10.0.0.1' | sha256sum */
static void test_owner_order_inputs(void **state)
{
	check("node1#10.0.0.1", 14, "414b4c5392caa413d81d44f63a055c8b42cd8cfd6c339c8525f16eebc27e271b");
}

/* Every length around the padding boundaries (55, 56, 63, 64, 119, 120, 128), hashed in one call
 * and in every two-piece split, gives the same digest. */
static void test_splits_match_oneshot(void **state)
{
	uint8_t msg[200];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(msg); n++) {
		uint8_t one[SHA256_LEN];
		sha256(msg, n, one);
		for (size_t cut = 0; cut <= n; cut += (n > 70 ? 13 : 1)) {
			struct sha256_ctx c;
			uint8_t two[SHA256_LEN];
			sha256_init(&c);
			sha256_update(&c, msg, cut);
			sha256_update(&c, msg + cut, n - cut);
			sha256_final(&c, two);
			assert_memory_equal(one, two, SHA256_LEN);
		}
	}
}

/* Independent computation: coreutils sha256sum over lengths 0..130 of a fixed pattern. */
static void test_against_sha256sum(void **state)
{
	uint8_t msg[131];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)('A' + i % 26);
	for (size_t n = 0; n < sizeof(msg); n++) {
		char cmd[300], line[128], got[2 * SHA256_LEN + 1];
		uint8_t d[SHA256_LEN];
		snprintf(cmd, sizeof(cmd), "printf '%%s' '%.*s' | sha256sum", (int)n, (const char *)msg);
		FILE *p = popen(cmd, "r");
		if (p == NULL) {
			skip();
		}
		assert_non_null(fgets(line, sizeof(line), p));
		pclose(p);
		sha256(msg, n, d);
		hex(d, sizeof(d), got);
		assert_memory_equal(got, line, 64);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nist_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_owner_order_inputs),
		cmocka_unit_test(test_splits_match_oneshot),
		cmocka_unit_test(test_against_sha256sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
