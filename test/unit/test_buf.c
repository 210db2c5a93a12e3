/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for buf: reader getters, sub-readers, truncation safety, writer overflow, reserve/patch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "barelb/buf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* xorshift64*: deterministic pseudo-random numbers. */
static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s ? s : 1;
}

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* A heap copy of exactly n bytes, so ASan reports any read past the end. */
static uint8_t *exact_copy(const void *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	if (n > 0)
		memcpy(p, src, n);
	return p;
}

/* 10 bytes are read at most; two more for the partial-read cases. */
static const uint8_t sample[] = {0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8, 0x09, 0x1a, 0x2b, 0x3c};

/* ---------- getters ---------- */

enum op { OP_U8, OP_U16, OP_U32, OP_BYTES, OP_SKIP, OP_SUB, OP_PTR, OP_PEEK };

struct get_case {
	enum op op;
	size_t n;        /* bytes the operation needs */
	uint32_t value;  /* for the integer getters: the big-endian value of sample[0..n) */
	const char *name;
};

static const struct get_case get_cases[] = {
	{OP_U8, 1, 0x81, "u8"},
	{OP_U16, 2, 0x8192, "u16"},
	{OP_U32, 4, 0x8192a3b4, "u32"},
	{OP_BYTES, 1, 0, "bytes 1"},
	{OP_BYTES, 7, 0, "bytes 7"},
	{OP_BYTES, 10, 0, "bytes 10"},
	{OP_SKIP, 3, 0, "skip 3"},
	{OP_SKIP, 10, 0, "skip 10"},
	{OP_SUB, 5, 0, "sub 5"},
	{OP_SUB, 10, 0, "sub 10"},
	{OP_PTR, 2, 0, "ptr 2"},
	{OP_PTR, 10, 0, "ptr 10"},
	{OP_PEEK, 1, 0x81, "peek"},
};

/* Runs one getter on r; returns its status and checks the value it produced when it succeeded. */
static int run_get(const struct get_case *c, struct buf_reader *r, const uint8_t *expect)
{
	uint8_t u8 = 0x55, bytes[16];
	uint16_t u16 = 0x5555;
	uint32_t u32 = 0x55555555;
	struct buf_reader sub = {NULL, 77, 77};
	const uint8_t *ptr;
	int rc = -1;
	memset(bytes, 0x55, sizeof(bytes));
	switch (c->op) {
	case OP_U8:
		rc = buf_get_u8(r, &u8);
		if (rc == 0)
			assert_int_equal(u8, c->value);
		else
			assert_int_equal(u8, 0x55);
		break;
	case OP_U16:
		rc = buf_get_u16(r, &u16);
		if (rc == 0)
			assert_int_equal(u16, c->value);
		else
			assert_int_equal(u16, 0x5555);
		break;
	case OP_U32:
		rc = buf_get_u32(r, &u32);
		if (rc == 0)
			assert_int_equal(u32, c->value);
		else
			assert_int_equal(u32, 0x55555555);
		break;
	case OP_BYTES:
		rc = buf_get_bytes(r, bytes, c->n);
		if (rc == 0)
			assert_memory_equal(bytes, expect, c->n);
		assert_int_equal(bytes[c->n], 0x55); /* nothing copied past n */
		if (rc != 0)
			assert_int_equal(bytes[0], 0x55);
		break;
	case OP_SKIP:
		rc = buf_skip(r, c->n);
		break;
	case OP_SUB:
		rc = buf_get_sub(r, c->n, &sub);
		if (rc == 0) {
			assert_int_equal(sub.len, c->n);
			assert_int_equal(sub.off, 0);
			assert_int_equal(buf_left(&sub), c->n);
			assert_memory_equal(sub.p, expect, c->n);
		} else {
			assert_int_equal(sub.len, 77); /* untouched */
		}
		break;
	case OP_PTR:
		ptr = buf_get_ptr(r, c->n);
		rc = ptr != NULL ? 0 : -1;
		if (ptr != NULL)
			assert_memory_equal(ptr, expect, c->n);
		break;
	case OP_PEEK:
		rc = buf_peek_u8(r, &u8);
		if (rc == 0)
			assert_int_equal(u8, c->value);
		break;
	}
	return rc;
}

static void test_getters_exact(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(get_cases); i++) {
		const struct get_case *c = &get_cases[i];
		print_message("# %s on exactly %zu bytes\n", c->name, c->n);
		uint8_t *mem = exact_copy(sample, c->n);
		struct buf_reader r;
		buf_reader_init(&r, mem, c->n);
		assert_int_equal(buf_left(&r), c->n);
		assert_int_equal(run_get(c, &r, sample), 0);
		/* peek does not move; everything else consumes exactly n */
		assert_int_equal(r.off, c->op == OP_PEEK ? 0 : c->n);
		assert_int_equal(buf_left(&r), c->op == OP_PEEK ? c->n : 0);
		free(mem);
	}
}

static void test_getters_short(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(get_cases); i++) {
		const struct get_case *c = &get_cases[i];
		for (size_t have = 0; have < c->n; have++) {
			print_message("# %s on %zu bytes\n", c->name, have);
			uint8_t *mem = exact_copy(sample, have);
			struct buf_reader r;
			buf_reader_init(&r, mem, have);
			assert_int_equal(run_get(c, &r, sample), -1);
			assert_int_equal(r.off, 0);
			assert_int_equal(buf_left(&r), have);
			free(mem);
		}
		/* short after a partial read: the cursor stays where it was */
		uint8_t *mem = exact_copy(sample, c->n + 1);
		struct buf_reader r;
		buf_reader_init(&r, mem, c->n + 1);
		assert_int_equal(buf_skip(&r, 2), 0);
		assert_int_equal(run_get(c, &r, sample + 2), -1); /* n-1 left */
		assert_int_equal(r.off, 2);
		free(mem);
	}
}

static void test_getters_sequence(void **state)
{
	(void)state;
	struct buf_reader r;
	buf_reader_init(&r, sample, 10);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint8_t two[2];
	assert_int_equal(buf_peek_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x81);
	assert_int_equal(buf_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x81);
	assert_int_equal(buf_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x92a3);
	assert_int_equal(buf_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xb4c5d6e7);
	assert_int_equal(buf_left(&r), 3);
	assert_int_equal(buf_get_u32(&r, &u32), -1);
	assert_int_equal(buf_left(&r), 3);
	assert_int_equal(buf_get_bytes(&r, two, 2), 0);
	assert_memory_equal(two, "\xf8\x09", 2);
	assert_int_equal(buf_peek_u8(&r, &u8), 0);
	assert_int_equal(u8, 0x1a);
	assert_int_equal(buf_left(&r), 1);
	const uint8_t *p = buf_get_ptr(&r, 1);
	assert_ptr_equal(p, sample + 9);
	assert_int_equal(buf_left(&r), 0);
	assert_int_equal(buf_peek_u8(&r, &u8), -1);
	assert_int_equal(buf_get_u8(&r, &u8), -1);
	/* zero-length operations succeed at the end and do not move */
	assert_int_equal(buf_skip(&r, 0), 0);
	assert_int_equal(buf_get_bytes(&r, NULL, 0), 0);
	assert_non_null(buf_get_ptr(&r, 0));
	assert_int_equal(r.off, 10);
	/* huge sizes do not wrap the bounds check */
	buf_reader_init(&r, sample, sizeof(sample));
	assert_int_equal(buf_skip(&r, 1), 0);
	assert_int_equal(buf_skip(&r, SIZE_MAX), -1);
	assert_null(buf_get_ptr(&r, SIZE_MAX - 1));
	struct buf_reader sub;
	assert_int_equal(buf_get_sub(&r, SIZE_MAX, &sub), -1);
	assert_int_equal(r.off, 1);
	/* an empty reader */
	buf_reader_init(&r, NULL, 0);
	assert_int_equal(buf_left(&r), 0);
	assert_int_equal(buf_get_u8(&r, &u8), -1);
	assert_int_equal(buf_skip(&r, 0), 0);
}

/* ---------- sub-readers ---------- */

static void test_sub_readers(void **state)
{
	(void)state;
	uint8_t *mem = exact_copy(sample, 10);
	struct buf_reader r, sub, inner;
	buf_reader_init(&r, mem, 10);
	assert_int_equal(buf_skip(&r, 1), 0);
	assert_int_equal(buf_get_sub(&r, 4, &sub), 0);
	assert_int_equal(r.off, 5); /* parent advanced past the sub-range */
	assert_ptr_equal(sub.p, mem + 1);

	/* the sub-reader is bounded by its own length, though the parent has more */
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	assert_int_equal(buf_get_u16(&sub, &u16), 0);
	assert_int_equal(u16, 0x92a3);
	assert_int_equal(buf_get_u32(&sub, &u32), -1);
	assert_int_equal(buf_get_sub(&sub, 3, &inner), -1);
	assert_int_equal(buf_get_sub(&sub, 2, &inner), 0);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(buf_get_u8(&sub, &u8), -1);

	/* nested */
	assert_int_equal(buf_get_u8(&inner, &u8), 0);
	assert_int_equal(u8, 0xb4);
	assert_int_equal(buf_get_u8(&inner, &u8), 0);
	assert_int_equal(u8, 0xc5);
	assert_int_equal(buf_get_u8(&inner, &u8), -1);

	/* reading the sub-reader did not move the parent */
	assert_int_equal(r.off, 5);
	assert_int_equal(buf_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xd6);

	/* an empty sub-reader at the very end */
	assert_int_equal(buf_skip(&r, 4), 0);
	assert_int_equal(buf_get_sub(&r, 0, &sub), 0);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(buf_get_u8(&sub, &u8), -1);
	free(mem);
}

/* ---------- truncation of a sample message ---------- */

/* A small TLV message:
 *   u8 version (1), u8 type, u16 body length, u32 id,
 *   body: TLVs of u8 type, u8 length, value; type 1 carries a u16, type 2 a u32, others skipped;
 *   u16 trailer (0xbeef). */
struct msg {
	uint8_t type;
	uint32_t id;
	uint16_t t1;
	uint32_t t2;
	int n_tlv;
	uint8_t other[8];
	size_t n_other;
};

static int parse_msg(const uint8_t *p, size_t n, struct msg *m)
{
	struct buf_reader r, body, val;
	uint8_t version, t, l;
	uint16_t blen, trailer;
	memset(m, 0, sizeof(*m));
	buf_reader_init(&r, p, n);
	if (buf_get_u8(&r, &version) || version != 1 || buf_get_u8(&r, &m->type) ||
	    buf_get_u16(&r, &blen) || buf_get_u32(&r, &m->id) || buf_get_sub(&r, blen, &body))
		return -1;
	while (buf_left(&body) > 0) {
		if (buf_get_u8(&body, &t) || buf_get_u8(&body, &l) || buf_get_sub(&body, l, &val))
			return -1;
		m->n_tlv++;
		if (t == 1) {
			if (buf_get_u16(&val, &m->t1) || buf_left(&val) != 0)
				return -1;
		} else if (t == 2) {
			if (buf_get_u32(&val, &m->t2) || buf_left(&val) != 0)
				return -1;
		} else {
			size_t k = buf_left(&val);
			const uint8_t *v = buf_get_ptr(&val, k);
			if (v == NULL || k > sizeof(m->other) - m->n_other)
				return -1;
			memcpy(m->other + m->n_other, v, k);
			m->n_other += k;
		}
	}
	if (buf_get_u16(&r, &trailer) || trailer != 0xbeef || buf_left(&r) != 0)
		return -1;
	return 0;
}

static const uint8_t sample_msg[] = {
	0x01, 0x07, 0x00, 0x11, 0xde, 0xad, 0x10, 0x01, /* header, body length 17 */
	0x01, 0x02, 0x12, 0x34,                         /* t1 = 0x1234 */
	0x02, 0x04, 0xca, 0xfe, 0xba, 0xbe,             /* t2 = 0xcafebabe */
	0x09, 0x03, 0xaa, 0xbb, 0xcc,                   /* other */
	0x09, 0x00,                                     /* empty other */
	0xbe, 0xef,                                     /* trailer */
};

static void check_sample(const struct msg *m)
{
	assert_int_equal(m->type, 7);
	assert_int_equal(m->id, 0xdead1001);
	assert_int_equal(m->t1, 0x1234);
	assert_int_equal(m->t2, 0xcafebabe);
	assert_int_equal(m->n_tlv, 4);
	assert_int_equal(m->n_other, 3);
	assert_memory_equal(m->other, "\xaa\xbb\xcc", 3);
}

static void test_every_truncation(void **state)
{
	(void)state;
	struct msg m;
	uint8_t *full = exact_copy(sample_msg, sizeof(sample_msg));
	assert_int_equal(parse_msg(full, sizeof(sample_msg), &m), 0);
	check_sample(&m);
	free(full);
	for (size_t n = 0; n < sizeof(sample_msg); n++) {
		uint8_t *cut = exact_copy(sample_msg, n);
		print_message("# truncated to %zu bytes\n", n);
		assert_int_equal(parse_msg(cut, n, &m), -1);
		free(cut);
	}
	/* one byte too many is rejected too */
	uint8_t longer[sizeof(sample_msg) + 1];
	memcpy(longer, sample_msg, sizeof(sample_msg));
	longer[sizeof(sample_msg)] = 0;
	assert_int_equal(parse_msg(longer, sizeof(longer), &m), -1);
}

/* ---------- writer ---------- */

enum wop { W_U8, W_U16, W_U32, W_BYTES, W_ZERO, W_RESERVE };

struct put_case {
	enum wop op;
	size_t n;
	const char *bytes; /* what it writes */
	const char *name;
};

static const struct put_case put_cases[] = {
	{W_U8, 1, "\xa5", "u8"},
	{W_U16, 2, "\x12\x34", "u16"},
	{W_U32, 4, "\x12\x34\x56\x78", "u32"},
	{W_BYTES, 3, "abc", "bytes"},
	{W_ZERO, 5, "\0\0\0\0\0", "zero"},
	{W_RESERVE, 3, "\0\0\0", "reserve"},
};

static int run_put(const struct put_case *c, struct buf_writer *w)
{
	size_t at = 12345;
	int rc = -1;
	switch (c->op) {
	case W_U8:
		rc = buf_put_u8(w, 0xa5);
		break;
	case W_U16:
		rc = buf_put_u16(w, 0x1234);
		break;
	case W_U32:
		rc = buf_put_u32(w, 0x12345678);
		break;
	case W_BYTES:
		rc = buf_put_bytes(w, "abc", 3);
		break;
	case W_ZERO:
		rc = buf_put_zero(w, 5);
		break;
	case W_RESERVE:
		rc = buf_reserve(w, 3, &at);
		if (rc == 0)
			assert_int_equal(at, buf_written(w) - 3);
		else
			assert_int_equal(at, 12345);
		break;
	}
	return rc;
}

static void test_writer_puts(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(put_cases); i++) {
		const struct put_case *c = &put_cases[i];
		uint8_t mem[16];
		struct buf_writer w;

		/* exactly enough room, after a prefix byte */
		print_message("# %s with room\n", c->name);
		memset(mem, 0xee, sizeof(mem));
		buf_writer_init(&w, mem, 1 + c->n);
		assert_int_equal(buf_put_u8(&w, 0x7f), 0);
		assert_int_equal(run_put(c, &w), 0);
		assert_int_equal(w.failed, 0);
		assert_int_equal(buf_written(&w), 1 + c->n);
		assert_int_equal(mem[0], 0x7f);
		assert_memory_equal(mem + 1, c->bytes, c->n);
		assert_int_equal(mem[1 + c->n], 0xee); /* nothing written past */
		/* full now: a further write fails and sticks */
		assert_int_equal(buf_put_u8(&w, 1), -1);
		assert_int_equal(w.failed, 1);
		assert_int_equal(buf_written(&w), 1 + c->n);
		assert_int_equal(mem[1 + c->n], 0xee);

		/* one byte short: fails, writes nothing, sticks */
		print_message("# %s one byte short\n", c->name);
		memset(mem, 0xee, sizeof(mem));
		buf_writer_init(&w, mem, c->n); /* the prefix byte leaves n-1 */
		assert_int_equal(buf_put_u8(&w, 0x7f), 0);
		assert_int_equal(run_put(c, &w), -1);
		assert_int_equal(w.failed, 1);
		assert_int_equal(buf_written(&w), 1);
		for (size_t k = 1; k < sizeof(mem); k++)
			assert_int_equal(mem[k], 0xee);
		/* later writes that would fit are refused too */
		assert_int_equal(buf_put_bytes(&w, "", 0), -1);
		if (c->n > 1)
			assert_int_equal(buf_put_u8(&w, 1), -1);
		assert_int_equal(buf_written(&w), 1);
		assert_int_equal(w.failed, 1);
	}
}

static void test_writer_overflow_sticks(void **state)
{
	(void)state;
	uint8_t mem[6];
	struct buf_writer w;
	buf_writer_init(&w, mem, sizeof(mem));
	assert_int_equal(buf_put_u32(&w, 0x01020304), 0);
	assert_int_equal(buf_put_u32(&w, 0x05060708), -1); /* 2 left, needs 4 */
	assert_int_equal(w.failed, 1);
	assert_int_equal(buf_put_u16(&w, 0x0506), -1);      /* would fit, but refused */
	assert_int_equal(buf_put_u8(&w, 5), -1);
	assert_int_equal(buf_put_zero(&w, 1), -1);
	size_t at = 99;
	assert_int_equal(buf_reserve(&w, 1, &at), -1);
	assert_int_equal(at, 99);
	assert_int_equal(buf_patch_u8(&w, 0, 9), -1);
	assert_int_equal(buf_written(&w), 4);
	assert_memory_equal(mem, "\x01\x02\x03\x04", 4);
	/* re-init clears the failure */
	buf_writer_init(&w, mem, sizeof(mem));
	assert_int_equal(w.failed, 0);
	assert_int_equal(buf_put_u16(&w, 0xabcd), 0);
	/* a zero-capacity writer */
	buf_writer_init(&w, NULL, 0);
	assert_int_equal(buf_put_bytes(&w, NULL, 0), 0);
	assert_int_equal(buf_put_u8(&w, 1), -1);
	assert_int_equal(w.failed, 1);
	/* huge sizes do not wrap the bounds check */
	buf_writer_init(&w, mem, sizeof(mem));
	assert_int_equal(buf_put_u8(&w, 1), 0);
	assert_int_equal(buf_put_zero(&w, SIZE_MAX), -1);
	assert_int_equal(buf_written(&w), 1);
}

static void test_reserve_patch(void **state)
{
	(void)state;
	uint8_t mem[32];
	memset(mem, 0xaa, sizeof(mem));
	struct buf_writer w;
	buf_writer_init(&w, mem, sizeof(mem));
	size_t at_type, at_len;
	assert_int_equal(buf_put_u8(&w, 1), 0);
	assert_int_equal(buf_reserve(&w, 1, &at_type), 0);
	assert_int_equal(at_type, 1);
	assert_int_equal(buf_reserve(&w, 2, &at_len), 0);
	assert_int_equal(at_len, 2);
	assert_memory_equal(mem + 1, "\0\0\0", 3); /* reserved bytes are zeroed */
	assert_int_equal(buf_put_u32(&w, 0xdead1001), 0);
	/* the body (TLVs) follows the id; its length is patched in at the end */
	size_t body_at = buf_written(&w);
	assert_int_equal(buf_put_u8(&w, 1), 0);
	assert_int_equal(buf_put_u8(&w, 2), 0);
	assert_int_equal(buf_put_u16(&w, 0x1234), 0);
	assert_int_equal(buf_put_u8(&w, 2), 0);
	assert_int_equal(buf_put_u8(&w, 4), 0);
	assert_int_equal(buf_put_u32(&w, 0xcafebabe), 0);
	assert_int_equal(buf_put_u8(&w, 9), 0);
	size_t tlv_len;
	assert_int_equal(buf_reserve(&w, 1, &tlv_len), 0);
	assert_int_equal(buf_put_bytes(&w, "\xaa\xbb\xcc", 3), 0);
	assert_int_equal(buf_patch_u8(&w, tlv_len, 3), 0);
	assert_int_equal(buf_put_u16(&w, 0x0900), 0);
	size_t body_len = buf_written(&w) - body_at;
	assert_int_equal(buf_put_u16(&w, 0xbeef), 0);
	assert_int_equal(buf_patch_u8(&w, at_type, 7), 0);
	assert_int_equal(buf_patch_u16(&w, at_len, (uint16_t)body_len), 0);
	assert_int_equal(w.failed, 0);

	/* the writer built exactly the sample message, and the parser reads it back */
	assert_int_equal(buf_written(&w), sizeof(sample_msg));
	assert_memory_equal(mem, sample_msg, sizeof(sample_msg));
	assert_int_equal(mem[sizeof(sample_msg)], 0xaa);
	struct msg m;
	assert_int_equal(parse_msg(mem, buf_written(&w), &m), 0);
	check_sample(&m);

	/* patches must land inside what was written; a bad patch changes nothing and fails the writer */
	size_t end = buf_written(&w);
	assert_int_equal(buf_patch_u16(&w, end - 2, 0xbeef), 0); /* the last two bytes: fine */
	assert_int_equal(buf_patch_u16(&w, end - 1, 0x1111), -1); /* straddles the end */
	assert_int_equal(w.failed, 1);
	assert_memory_equal(mem, sample_msg, sizeof(sample_msg));
	assert_int_equal(mem[end], 0xaa);

	buf_writer_init(&w, mem, sizeof(mem));
	assert_int_equal(buf_put_u8(&w, 0), 0);
	assert_int_equal(buf_patch_u8(&w, 1, 5), -1); /* at == written */
	assert_int_equal(w.failed, 1);
	buf_writer_init(&w, mem, sizeof(mem));
	assert_int_equal(buf_patch_u16(&w, SIZE_MAX, 5), -1);
	buf_writer_init(&w, mem, sizeof(mem));
	assert_int_equal(buf_patch_u8(&w, SIZE_MAX, 5), -1);

	/* reserve that does not fit */
	uint8_t small[3];
	buf_writer_init(&w, small, sizeof(small));
	size_t at = 42;
	assert_int_equal(buf_reserve(&w, 4, &at), -1);
	assert_int_equal(at, 42);
	assert_int_equal(buf_written(&w), 0);
	assert_int_equal(w.failed, 1);
}

/* ---------- random input ---------- */

/* Random getters over random bytes: every call either succeeds and moves the cursor by exactly its
 * size, or fails and leaves it; the cursor never passes the end. ASan checks the reads. */
static void reader_loop(const uint8_t *p, size_t n)
{
	struct buf_reader r, sub;
	buf_reader_init(&r, p, n);
	int misses = 0;
	while (misses < 8) {
		size_t before = r.off, want = 0;
		int rc = 0;
		uint8_t u8, tmp[64];
		uint16_t u16;
		uint32_t u32;
		switch (rng() % 8) {
		case 0:
			want = 1;
			rc = buf_get_u8(&r, &u8);
			break;
		case 1:
			want = 2;
			rc = buf_get_u16(&r, &u16);
			break;
		case 2:
			want = 4;
			rc = buf_get_u32(&r, &u32);
			break;
		case 3:
			want = rng() % sizeof(tmp);
			rc = buf_get_bytes(&r, tmp, want);
			break;
		case 4:
			want = rng() % 16;
			rc = buf_skip(&r, want);
			break;
		case 5: /* length-prefixed sub-reader, walked recursively */
			if (buf_peek_u8(&r, &u8) != 0) {
				rc = -1;
				want = 1;
				break;
			}
			want = u8;
			rc = buf_get_sub(&r, want, &sub);
			if (rc == 0) {
				assert_int_equal(sub.len, want);
				while (buf_get_u8(&sub, &u8) == 0)
					;
				assert_int_equal(buf_left(&sub), 0);
			}
			break;
		case 6:
			want = rng() % 8;
			rc = buf_get_ptr(&r, want) != NULL ? 0 : -1;
			break;
		default:
			want = 0;
			rc = buf_peek_u8(&r, &u8);
			if (rc == 0)
				assert_int_equal(u8, p[r.off]);
			break;
		}
		size_t left = n - before;
		if (rc == 0) {
			assert_true(want <= left);
			assert_int_equal(r.off, before + want);
		} else {
			assert_true(want > left || (want == 0 && left == 0));
			assert_int_equal(r.off, before);
			misses++;
		}
		assert_true(r.off <= r.len);
		assert_int_equal(buf_left(&r), r.len - r.off);
	}
}

static void test_random_bytes(void **state)
{
	(void)state;
	rng_seed(0xb0f);
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)(rng() % 80);
		uint8_t *mem = malloc(n ? n : 1);
		assert_non_null(mem);
		for (size_t i = 0; i < n; i++)
			mem[i] = (uint8_t)rng();
		/* half the time start from the real message with some bytes flipped */
		if (iter % 2 == 0 && n >= 2) {
			size_t k = n < sizeof(sample_msg) ? n : sizeof(sample_msg);
			memcpy(mem, sample_msg, k);
			mem[rng() % k] ^= (uint8_t)(1u << (rng() % 8));
		}
		reader_loop(mem, n);
		struct msg m;
		(void)parse_msg(mem, n, &m);
		free(mem);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters_exact),
		cmocka_unit_test(test_getters_short),
		cmocka_unit_test(test_getters_sequence),
		cmocka_unit_test(test_sub_readers),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_writer_puts),
		cmocka_unit_test(test_writer_overflow_sticks),
		cmocka_unit_test(test_reserve_patch),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
