/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for addr: parsing, RFC 5952 formatting, arithmetic, prefixes, ranges, summarisation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "barelb/addr.h"

#define U128_MAX (~(addr_u128)0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------- helpers ---------- */

/* Names the case being checked in the TAP output, with control characters escaped. */
static void note(const char *s)
{
	char esc[256];
	size_t o = 0;
	for (; *s && o + 5 < sizeof(esc); s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(esc + o, sizeof(esc) - o, "\\x%02x", c);
		else
			esc[o++] = (char)c;
	}
	esc[o] = '\0';
	print_message("# \"%s\"\n", esc);
}

static addr_t A(const char *s)
{
	addr_t a;
	if (addr_parse(s, &a) != 0)
		fail_msg("test setup: cannot parse address \"%s\"", s);
	return a;
}

static prefix_t P(const char *s)
{
	prefix_t p;
	if (prefix_parse(s, &p, NULL) != 0)
		fail_msg("test setup: cannot parse prefix \"%s\"", s);
	return p;
}

static range_t R(const char *s)
{
	range_t r;
	if (range_parse(s, &r) != 0)
		fail_msg("test setup: cannot parse range \"%s\"", s);
	return r;
}

static void assert_addr_text(const addr_t *a, const char *want)
{
	char buf[ADDR_STRLEN];
	int n = addr_format(a, buf, sizeof(buf));
	assert_int_not_equal(n, -1);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void assert_prefix_text(const prefix_t *p, const char *want)
{
	char buf[ADDR_STRLEN];
	int n = prefix_format(p, buf, sizeof(buf));
	assert_int_not_equal(n, -1);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void assert_u128_eq(addr_u128 got, addr_u128 want)
{
	assert_int_equal((uint64_t)(got >> 64), (uint64_t)(want >> 64));
	assert_int_equal((uint64_t)got, (uint64_t)want);
}

static addr_u128 pow2(int k)
{
	return (addr_u128)1 << k;
}

/* xorshift64*: deterministic pseudo-random numbers for the property tests. */
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

/* ---------- addresses: parse and format ---------- */

struct fmt_case {
	const char *in;
	int family;
	const char *out;
};

static const struct fmt_case fmt_cases[] = {
	{"0.0.0.0", AF_INET, "0.0.0.0"},
	{"1.2.3.4", AF_INET, "1.2.3.4"},
	{"192.168.0.1", AF_INET, "192.168.0.1"},
	{"10.0.0.10", AF_INET, "10.0.0.10"},
	{"255.255.255.255", AF_INET, "255.255.255.255"},
	/* RFC 5952 section 4 */
	{"2001:db8:0:0:1:0:0:1", AF_INET6, "2001:db8::1:0:0:1"},
	{"2001:0db8::0001", AF_INET6, "2001:db8::1"},
	{"2001:db8:0:1:1:1:1:1", AF_INET6, "2001:db8:0:1:1:1:1:1"},
	{"2001:db8::0:1", AF_INET6, "2001:db8::1"},
	{"2001:db8::1:0:0:1", AF_INET6, "2001:db8::1:0:0:1"},
	{"2001:DB8::A:B:C", AF_INET6, "2001:db8::a:b:c"},
	{"2001:db8:0:0:1:0:0:0", AF_INET6, "2001:db8:0:0:1::"},   /* longest run wins */
	{"1:0:0:2:0:0:3:4", AF_INET6, "1::2:0:0:3:4"},             /* first run wins ties */
	{"1:0:2:0:3:0:4:0", AF_INET6, "1:0:2:0:3:0:4:0"},          /* no single-group :: */
	{"1:2:3:4:5:6:7::", AF_INET6, "1:2:3:4:5:6:7:0"},
	{"::2:3:4:5:6:7:8", AF_INET6, "0:2:3:4:5:6:7:8"},
	{"0:0:0:0:0:0:0:0", AF_INET6, "::"},
	{"::", AF_INET6, "::"},
	{"::1", AF_INET6, "::1"},
	{"1::", AF_INET6, "1::"},
	{"fe80::", AF_INET6, "fe80::"},
	{"FE80:0000:0000:0000:0202:B3FF:FE1E:8329", AF_INET6, "fe80::202:b3ff:fe1e:8329"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"0:0:1::", AF_INET6, "0:0:1::"},
	{"0:0:1:0:0:0:0:0", AF_INET6, "0:0:1::"},
	{"::1:2", AF_INET6, "::1:2"},                                /* not shown as ::0.1.0.2 */
	/* IPv4 embedded: only IPv4-mapped uses mixed notation; the family stays IPv6. */
	{"::ffff:1.2.3.4", AF_INET6, "::ffff:1.2.3.4"},
	{"::FFFF:0102:0304", AF_INET6, "::ffff:1.2.3.4"},
	{"0:0:0:0:0:ffff:255.255.255.255", AF_INET6, "::ffff:255.255.255.255"},
	{"::ffff:0.0.0.0", AF_INET6, "::ffff:0.0.0.0"},
	{"::1.2.3.4", AF_INET6, "::102:304"},
	{"64:ff9b::1.2.3.4", AF_INET6, "64:ff9b::102:304"},
	{"::fffe:1.2.3.4", AF_INET6, "::fffe:102:304"},
	{"1::ffff:1.2.3.4", AF_INET6, "1::ffff:102:304"},
};

static void test_parse_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(fmt_cases); i++) {
		const struct fmt_case *c = &fmt_cases[i];
		addr_t a, again;
		print_message("# %s\n", c->in);
		assert_int_equal(addr_parse(c->in, &a), 0);
		assert_int_equal(a.family, c->family);
		assert_int_equal(addr_bits(&a), c->family == AF_INET ? 32 : 128);
		assert_int_equal(addr_is_v4(&a), c->family == AF_INET);
		if (c->family == AF_INET) {
			static const uint8_t zero[12];
			assert_memory_equal(a.b + 4, zero, sizeof(zero));
		}
		assert_addr_text(&a, c->out);
		/* The canonical form parses back to the same address and formats to itself. */
		assert_int_equal(addr_parse(c->out, &again), 0);
		assert_true(addr_eq(&a, &again));
		assert_memory_equal(&a, &again, sizeof(a));
	}
}

static void test_parse_v6_bytes(void **state)
{
	(void)state;
	addr_t a = A("2001:db8::1:0:0:1");
	static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	assert_memory_equal(a.b, want, 16);
	addr_t m = A("::ffff:10.20.30.40");
	static const uint8_t wantm[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 30, 40};
	assert_memory_equal(m.b, wantm, 16);
	addr_t v4 = A("10.20.30.40");
	assert_memory_equal(v4.b, "\x0a\x14\x1e\x28", 4);
	assert_false(addr_eq(&m, &v4));
}

static const char *const bad_addrs[] = {
	"", " ", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "1.2.3 .4", "\t::1", "::1 ",
	"010.0.0.1", "1.02.3.4", "1.2.3.04", "00.1.2.3", "1.2.3.0004", "0000.0.0.0",
	"256.0.0.0", "1.2.3.256", "1.2.3.1000", "1.2.3", "1.2", "1", "1.2.3.4.5", "1..2.3", ".1.2.3",
	"1.2.3.", "1.2.3.-4", "+1.2.3.4", "0x1.2.3.4", "1.2.3.a", "1.2.3.4/32", "1.2.3.4:80",
	"4294967295", "localhost", "a.b.c.d",
	"fe80::1%eth0", "fe80::1%1", "fe80::%25eth0", "[::1]", ":::", "1:::2", "1::2::3", ":1::",
	"1::2:", ":", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
	"::1:2:3:4:5:6:7:8", "g::", "::ffff:1.2.3", "::ffff:010.0.0.1", "::ffff:1.2.3.256",
	"::ffff:1.2.3.4.5", "1.2.3.4::", "::1/128", "::-1", "2001:db8::1 ",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
};

static void test_parse_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_addrs); i++) {
		addr_t a;
		memset(&a, 0x5a, sizeof(a));
		addr_t before = a;
		note(bad_addrs[i]);
		assert_int_equal(addr_parse(bad_addrs[i], &a), -1);
		assert_memory_equal(&a, &before, sizeof(a)); /* untouched on failure */
	}
	addr_t a;
	assert_int_equal(addr_parse(NULL, &a), -1);
	/* An embedded NUL ends the string: what follows it is not looked at. */
	assert_int_equal(addr_parse("1.2.3.4\0junk", &a), 0);
}

struct size_case {
	const char *in;
	size_t len;
};

static void test_format_buffer_size(void **state)
{
	(void)state;
	static const struct size_case cases[] = {
		{"255.255.255.255", 15},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 39},
		{"::ffff:255.255.255.255", 22},
		{"::", 2},
		{"0.0.0.0", 7},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		addr_t a = A(cases[i].in);
		char buf[ADDR_STRLEN];
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(addr_format(&a, buf, cases[i].len + 1), (int)cases[i].len);
		assert_string_equal(buf, cases[i].in);
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(addr_format(&a, buf, cases[i].len), -1);
		assert_int_equal(buf[cases[i].len], 'X'); /* nothing written past n */
		assert_int_equal(addr_format(&a, buf, 0), -1);
	}
	/* Unknown family. */
	addr_t bad;
	memset(&bad, 0, sizeof(bad));
	char buf[ADDR_STRLEN];
	assert_int_equal(addr_format(&bad, buf, sizeof(buf)), -1);

	/* The longest prefix text fits ADDR_STRLEN. */
	prefix_t p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_int_equal(prefix_format(&p, buf, sizeof(buf)), 43);
	assert_int_equal(prefix_format(&p, buf, 44), 43);
	assert_int_equal(prefix_format(&p, buf, 43), -1);
	p = P("::ffff:255.255.255.255/128");
	assert_prefix_text(&p, "::ffff:255.255.255.255/128");
}

/* Random IPv6 addresses (many zero groups) round-trip, and agree with glibc's inet_ntop wherever glibc
 * does not use its IPv4-compatible mixed notation (first 80 bits zero). */
static void test_format_random_v6(void **state)
{
	(void)state;
	rng_seed(0x5952);
	for (int iter = 0; iter < 20000; iter++) {
		addr_t a;
		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		uint64_t r = rng();
		for (int g = 0; g < 8; g++) {
			if ((r >> g) & 1) {
				uint16_t v = (uint16_t)(rng() >> ((r >> 8 & 3) * 4)); /* vary digit counts */
				a.b[2 * g] = (uint8_t)(v >> 8);
				a.b[2 * g + 1] = (uint8_t)v;
			}
		}
		char mine[ADDR_STRLEN], glibc[INET6_ADDRSTRLEN];
		int n = addr_format(&a, mine, sizeof(mine));
		assert_true(n > 0);
		assert_int_equal((size_t)n, strlen(mine));
		addr_t back;
		assert_int_equal(addr_parse(mine, &back), 0);
		assert_memory_equal(&back, &a, sizeof(a));
		static const uint8_t zero10[10];
		if (memcmp(a.b, zero10, 10) != 0) {
			assert_non_null(inet_ntop(AF_INET6, a.b, glibc, sizeof(glibc)));
			assert_string_equal(mine, glibc);
		}
		/* never "::" twice, never upper case, never a leading zero in a group */
		assert_null(strstr(strstr(mine, "::") ? strstr(mine, "::") + 1 : mine, "::"));
		for (const char *c = mine; *c; c++)
			assert_false(*c >= 'A' && *c <= 'F');
		for (const char *c = mine; *c; c++)
			if (*c == '0' && (c == mine || c[-1] == ':'))
				assert_true(c[1] == ':' || c[1] == '.' || c[1] == '\0');
	}
}

/* ---------- addresses: compare, conversions, arithmetic ---------- */

struct cmp_case {
	const char *a, *b;
	int want;
};

static void test_cmp(void **state)
{
	(void)state;
	static const struct cmp_case cases[] = {
		{"1.2.3.4", "1.2.3.4", 0},
		{"1.2.3.4", "1.2.3.5", -1},
		{"10.0.0.1", "9.255.255.255", 1}, /* numeric, not textual */
		{"0.0.0.0", "255.255.255.255", -1},
		{"255.255.255.255", "::", -1}, /* IPv4 before IPv6 */
		{"::", "0.0.0.0", 1},
		{"::ffff:1.2.3.4", "1.2.3.4", 1}, /* mapped is IPv6, not equal to the IPv4 */
		{"::2", "::10", -1},
		{"2001:db8::1", "2001:db8::1", 0},
		{"2001:db8::1", "2001:db8::", 1},
		{"8000::", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
		{"::1", "ffff::", -1},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		addr_t a = A(cases[i].a), b = A(cases[i].b);
		print_message("# %s vs %s\n", cases[i].a, cases[i].b);
		assert_int_equal(addr_cmp(&a, &b), cases[i].want);
		assert_int_equal(addr_cmp(&b, &a), -cases[i].want);
		assert_int_equal(addr_eq(&a, &b), cases[i].want == 0);
	}
}

static void test_conversions(void **state)
{
	(void)state;
	addr_t a;
	memset(&a, 0x77, sizeof(a));
	addr_from_v4(&a, 0x0a000102u);
	assert_int_equal(a.family, AF_INET);
	assert_addr_text(&a, "10.0.1.2");
	static const uint8_t zero[12];
	assert_memory_equal(a.b + 4, zero, sizeof(zero));
	assert_int_equal(addr_v4(&a), 0x0a000102u);
	assert_int_equal(addr_v4(&(addr_t){0}) , 0);
	addr_t top = A("255.255.255.255");
	assert_int_equal(addr_v4(&top), 0xffffffffu);
	assert_u128_eq(addr_to_u128(&top), 0xffffffffu);
	assert_u128_eq(addr_to_u128(&a), 0x0a000102u);

	addr_t v6 = A("2001:db8::1:2");
	addr_u128 want = (addr_u128)0x20010db800000000ull << 64 | 0x0000000000010002ull;
	assert_u128_eq(addr_to_u128(&v6), want);
	addr_t back;
	memset(&back, 0x77, sizeof(back));
	addr_from_u128(&back, AF_INET6, want);
	assert_memory_equal(&back, &v6, sizeof(v6));
	addr_from_u128(&back, AF_INET, 0xc0a80001u);
	assert_addr_text(&back, "192.168.0.1");
	assert_memory_equal(back.b + 4, zero, sizeof(zero));
	addr_t all6 = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_u128_eq(addr_to_u128(&all6), U128_MAX);
	addr_from_u128(&back, AF_INET6, U128_MAX);
	assert_true(addr_eq(&back, &all6));
}

struct add_case {
	const char *in;
	addr_u128 n;
	const char *out; /* NULL: overflow */
};

static void test_next_add(void **state)
{
	(void)state;
	static const struct add_case cases[] = {
		{"1.2.3.4", 1, "1.2.3.5"},
		{"1.2.3.255", 1, "1.2.4.0"},
		{"0.255.255.255", 1, "1.0.0.0"},
		{"255.255.255.254", 1, "255.255.255.255"},
		{"255.255.255.255", 1, NULL},
		{"255.255.255.254", 2, NULL},
		{"0.0.0.0", 0xffffffffu, "255.255.255.255"},
		{"0.0.0.0", 0x100000000ull, NULL}, /* IPv4 does not spill into the other bytes */
		{"0.0.0.1", 0xffffffffu, NULL},
		{"10.0.0.0", 0, "10.0.0.0"},
		{"255.255.255.255", 0, "255.255.255.255"},
		{"::", 1, "::1"},
		{"::ffff", 1, "::1:0"},
		{"::ffff:ffff:ffff", 1, "::1:0:0:0"}, /* an IPv6 carry, not an IPv4 wrap */
		{"0:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, "1::"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, NULL},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 2, NULL},
		{"::", U128_MAX, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"::1", U128_MAX, NULL},
		{"8000::", (addr_u128)1 << 127, NULL},
		{"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", (addr_u128)1 << 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct add_case *c = &cases[i];
		addr_t a = A(c->in), orig = a;
		print_message("# %s + %llu\n", c->in, (unsigned long long)c->n);
		if (c->out == NULL) {
			assert_int_equal(addr_add(&a, c->n), -1);
			assert_memory_equal(&a, &orig, sizeof(a));
		} else {
			assert_int_equal(addr_add(&a, c->n), 0);
			assert_addr_text(&a, c->out);
			assert_int_equal(a.family, orig.family);
		}
		if (c->n == 1) { /* addr_next agrees with addr_add(.., 1) */
			addr_t b = orig;
			assert_int_equal(addr_next(&b), c->out ? 0 : -1);
			if (c->out)
				assert_addr_text(&b, c->out);
			else
				assert_memory_equal(&b, &orig, sizeof(b));
		}
	}
}

struct mask_case {
	const char *in;
	int len;
	const char *out;
};

static void test_mask(void **state)
{
	(void)state;
	static const struct mask_case cases[] = {
		{"10.1.2.3", 8, "10.0.0.0"},
		{"10.1.2.3", 0, "0.0.0.0"},
		{"10.1.2.3", 32, "10.1.2.3"},
		{"10.1.2.3", 31, "10.1.2.2"},
		{"1.2.3.255", 25, "1.2.3.128"},
		{"255.255.255.255", 1, "128.0.0.0"},
		{"255.255.255.255", 12, "255.240.0.0"},
		{"2001:db8:ffff::1", 33, "2001:db8:8000::"},
		{"2001:db8:ffff::1", 128, "2001:db8:ffff::1"},
		{"2001:db8:ffff::1", 0, "::"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 127, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 64, "ffff:ffff:ffff:ffff::"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65, "ffff:ffff:ffff:ffff:8000::"},
		{"::ffff:1.2.3.4", 96, "::ffff:0.0.0.0"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		addr_t a = A(cases[i].in);
		print_message("# %s /%d\n", cases[i].in, cases[i].len);
		addr_mask(&a, cases[i].len);
		assert_addr_text(&a, cases[i].out);
	}
}

/* ---------- prefixes ---------- */

struct prefix_case {
	const char *in;
	const char *out; /* NULL: rejected */
	bool host_bits;
};

static void test_prefix_parse(void **state)
{
	(void)state;
	static const struct prefix_case cases[] = {
		{"10.0.0.0/8", "10.0.0.0/8", false},
		{"10.1.2.3/8", "10.0.0.0/8", true},
		{"10.0.0.1", "10.0.0.1/32", false},
		{"10.0.0.1/32", "10.0.0.1/32", false},
		{"10.0.0.1/31", "10.0.0.0/31", true},
		{"0.0.0.0/0", "0.0.0.0/0", false},
		{"1.2.3.4/0", "0.0.0.0/0", true},
		{"192.168.1.128/25", "192.168.1.128/25", false},
		{"192.168.1.129/25", "192.168.1.128/25", true},
		{"10.0.0.0/08", "10.0.0.0/8", false}, /* as Go's net.ParseCIDR */
		{"::1", "::1/128", false},
		{"::/0", "::/0", false},
		{"ffff::/0", "::/0", true},
		{"fc00::/7", "fc00::/7", false},
		{"fd00::1/7", "fc00::/7", true},
		{"2001:DB8::/32", "2001:db8::/32", false},
		{"2001:db8::1/127", "2001:db8::/127", true},
		{"2001:db8::1/128", "2001:db8::1/128", false},
		{"::ffff:1.2.3.4/96", "::ffff:0.0.0.0/96", true},
		{"::ffff:1.2.3.4/120", "::ffff:1.2.3.0/120", true}, /* IPv6 lengths for mapped */
		{"10.0.0.0/33", NULL, false},
		{"10.0.0.0/100", NULL, false},
		{"::/129", NULL, false},
		{"10.0.0.0/", NULL, false},
		{"/8", NULL, false},
		{"/", NULL, false},
		{"", NULL, false},
		{"10.0.0.0/-1", NULL, false},
		{"10.0.0.0/+8", NULL, false},
		{"10.0.0.0/8 ", NULL, false},
		{" 10.0.0.0/8", NULL, false},
		{"10.0.0.0 /8", NULL, false},
		{"10.0.0.0/ 8", NULL, false},
		{"10.0.0.0/8/8", NULL, false},
		{"10.0.0.0/a", NULL, false},
		{"10.0.0.0/0x8", NULL, false},
		{"010.0.0.0/8", NULL, false},
		{"fe80::%eth0/64", NULL, false},
		{"fe80::/64%eth0", NULL, false},
		{"10.0.0.0/99999999999999999999", NULL, false},
		{"10.0.0.0-10.0.0.255", NULL, false},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct prefix_case *c = &cases[i];
		prefix_t p;
		bool hb = !c->host_bits;
		note(c->in);
		if (c->out == NULL) {
			assert_int_equal(prefix_parse(c->in, &p, &hb), -1);
			continue;
		}
		assert_int_equal(prefix_parse(c->in, &p, &hb), 0);
		assert_int_equal(hb, c->host_bits);
		assert_prefix_text(&p, c->out);
		/* host_bits may be NULL */
		prefix_t q;
		assert_int_equal(prefix_parse(c->in, &q, NULL), 0);
		assert_memory_equal(&p, &q, sizeof(p));
		/* the network address really has no host bits */
		addr_t m = p.a;
		addr_mask(&m, p.len);
		assert_true(addr_eq(&m, &p.a));
	}
	prefix_t p;
	assert_int_equal(prefix_parse(NULL, &p, NULL), -1);
}

struct contains_case {
	const char *prefix, *addr;
	bool want;
};

struct overlap_case {
	const char *x, *y;
	bool want;
};

static void test_prefix_contains_overlap(void **state)
{
	(void)state;
	static const struct contains_case cc[] = {
		{"10.0.0.0/8", "10.0.0.0", true},
		{"10.0.0.0/8", "10.255.255.255", true},
		{"10.0.0.0/8", "11.0.0.0", false},
		{"10.0.0.0/8", "9.255.255.255", false},
		{"10.0.0.1/32", "10.0.0.1", true},
		{"10.0.0.1/32", "10.0.0.2", false},
		{"0.0.0.0/0", "255.255.255.255", true},
		{"0.0.0.0/0", "::ffff:1.2.3.4", false}, /* family mismatch */
		{"0.0.0.0/0", "::", false},
		{"::/0", "1.2.3.4", false},
		{"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fc00::/7", "fdff:ffff::1", true},
		{"fc00::/7", "fe00::", false},
		{"2001:db8::/127", "2001:db8::1", true},
		{"2001:db8::/127", "2001:db8::2", false},
		{"::ffff:0.0.0.0/96", "::ffff:1.2.3.4", true},
		{"::ffff:0.0.0.0/96", "1.2.3.4", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(cc); i++) {
		prefix_t p = P(cc[i].prefix);
		addr_t a = A(cc[i].addr);
		print_message("# %s contains %s\n", cc[i].prefix, cc[i].addr);
		assert_int_equal(prefix_contains(&p, &a), cc[i].want);
	}
	static const struct overlap_case oc[] = {
		{"10.0.0.0/8", "10.1.0.0/16", true},
		{"10.0.0.0/8", "10.0.0.0/8", true},
		{"10.0.0.0/8", "11.0.0.0/8", false},
		{"10.0.0.0/8", "9.0.0.0/8", false},
		{"10.0.0.0/7", "11.0.0.0/8", true},
		{"0.0.0.0/0", "192.168.0.1/32", true},
		{"192.168.0.0/32", "192.168.0.1/32", false},
		{"0.0.0.0/0", "::/0", false},
		{"::/0", "2001:db8::/32", true},
		{"fc00::/7", "fd00::/8", true},
		{"fc00::/8", "fd00::/8", false},
		{"2001:db8::/64", "2001:db8:0:1::/64", false},
		{"::ffff:0.0.0.0/96", "0.0.0.0/0", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(oc); i++) {
		prefix_t x = P(oc[i].x), y = P(oc[i].y);
		print_message("# %s overlaps %s\n", oc[i].x, oc[i].y);
		assert_int_equal(prefix_overlap(&x, &y), oc[i].want);
		assert_int_equal(prefix_overlap(&y, &x), oc[i].want);
	}
}

struct bounds_case {
	const char *prefix, *first, *last;
	addr_u128 size;
};

static void test_prefix_bounds_size(void **state)
{
	(void)state;
	const struct bounds_case cases[] = {
		{"10.0.0.0/8", "10.0.0.0", "10.255.255.255", pow2(24)},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255", pow2(32)},
		{"1.2.3.4/32", "1.2.3.4", "1.2.3.4", 1},
		{"1.2.3.4/31", "1.2.3.4", "1.2.3.5", 2},
		{"192.168.1.128/25", "192.168.1.128", "192.168.1.255", 128},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", U128_MAX}, /* saturates */
		{"::/1", "::", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", pow2(127)},
		{"8000::/1", "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", pow2(127)},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", pow2(96)},
		{"2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", pow2(64)},
		{"2001:db8::/96", "2001:db8::", "2001:db8::ffff:ffff", pow2(32)},
		{"::1/128", "::1", "::1", 1},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct bounds_case *c = &cases[i];
		prefix_t p = P(c->prefix);
		addr_t first, last;
		print_message("# %s\n", c->prefix);
		prefix_first(&p, &first);
		prefix_last(&p, &last);
		assert_addr_text(&first, c->first);
		assert_addr_text(&last, c->last);
		assert_u128_eq(prefix_size(&p), c->size);
		assert_true(prefix_contains(&p, &first));
		assert_true(prefix_contains(&p, &last));
		range_t r;
		range_from_prefix(&r, &p);
		assert_true(addr_eq(&r.lo, &first));
		assert_true(addr_eq(&r.hi, &last));
		assert_u128_eq(range_size(&r), c->size);
		/* just outside the prefix */
		addr_t out = last;
		if (addr_next(&out) == 0)
			assert_false(prefix_contains(&p, &out));
	}
}

/* ---------- ranges ---------- */

struct range_case {
	const char *in;
	const char *lo, *hi; /* lo NULL: rejected */
};

static void test_range_parse(void **state)
{
	(void)state;
	static const struct range_case cases[] = {
		{"192.168.1.1-192.168.1.10", "192.168.1.1", "192.168.1.10"},
		{" 192.168.1.1 - 192.168.1.10 ", "192.168.1.1", "192.168.1.10"},
		{"192.168.1.1 -192.168.1.10", "192.168.1.1", "192.168.1.10"},
		{"\t1.2.3.4\t-\t1.2.3.5\n", "1.2.3.4", "1.2.3.5"},
		{"1.2.3.4-1.2.3.4", "1.2.3.4", "1.2.3.4"},
		{"0.0.0.0-255.255.255.255", "0.0.0.0", "255.255.255.255"},
		{"::1-::2", "::1", "::2"},
		{"fc00::-fc00::ff", "fc00::", "fc00::ff"},
		{"2001:db8::1 - 2001:db8::1:0", "2001:db8::1", "2001:db8::1:0"},
		{"::ffff:1.2.3.4-::ffff:1.2.3.9", "::ffff:1.2.3.4", "::ffff:1.2.3.9"},
		{"10.0.0.0/24", "10.0.0.0", "10.0.0.255"},
		{"10.0.0.7/24", "10.0.0.0", "10.0.0.255"}, /* host bits cleared, as net.ParseCIDR */
		{"10.0.0.7", "10.0.0.7", "10.0.0.7"},
		{"10.0.0.7/32", "10.0.0.7", "10.0.0.7"},
		{"2001:db8::/126", "2001:db8::", "2001:db8::3"},
		{"::", "::", "::"},
		{"1.2.3.5-1.2.3.4", NULL, NULL}, /* lo > hi */
		{"::2-::1", NULL, NULL},
		{"1.2.3.4-::1", NULL, NULL}, /* mixed families */
		{"::1-1.2.3.4", NULL, NULL},
		{"::ffff:1.2.3.4-1.2.3.5", NULL, NULL},
		{"", NULL, NULL},
		{"-", NULL, NULL},
		{" - ", NULL, NULL},
		{"1.2.3.4-", NULL, NULL},
		{"-1.2.3.4", NULL, NULL},
		{"1.2.3.4--1.2.3.5", NULL, NULL},
		{"1.2.3.4-1.2.3.5-1.2.3.6", NULL, NULL},
		{"10.0.0.0/24-10.0.1.0/24", NULL, NULL},
		{"10.0.0.0-10.0.0.255/24", NULL, NULL},
		{" 10.0.0.1", NULL, NULL},
		{"10.0.0.0/24 ", NULL, NULL},
		{"010.0.0.1-10.0.0.2", NULL, NULL},
		{"1.2.3.4 - 1.2.3 .5", NULL, NULL},
		{"fe80::1%eth0-fe80::2%eth0", NULL, NULL},
		{"10.0.0.0/33", NULL, NULL},
		{"garbage", NULL, NULL},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct range_case *c = &cases[i];
		range_t r;
		memset(&r, 0x5a, sizeof(r));
		range_t before = r;
		note(c->in);
		if (c->lo == NULL) {
			assert_int_equal(range_parse(c->in, &r), -1);
			assert_memory_equal(&r, &before, sizeof(r));
			continue;
		}
		assert_int_equal(range_parse(c->in, &r), 0);
		assert_addr_text(&r.lo, c->lo);
		assert_addr_text(&r.hi, c->hi);
		assert_true(addr_cmp(&r.lo, &r.hi) <= 0);
	}
	range_t r;
	assert_int_equal(range_parse(NULL, &r), -1);
}

struct rsize_case {
	const char *range;
	addr_u128 size;
};

static void test_range_ops(void **state)
{
	(void)state;
	const struct rsize_case sc[] = {
		{"1.2.3.4-1.2.3.4", 1},
		{"192.168.9.1-192.168.9.5", 5},
		{"0.0.0.0-255.255.255.255", pow2(32)},
		{"::-::1", 2},
		{"::/1", pow2(127)},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", U128_MAX}, /* saturates */
		{"::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", U128_MAX},  /* exactly 2^128-1 */
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", U128_MAX},
		{"::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", U128_MAX - 1},
	};
	for (size_t i = 0; i < ARRAY_LEN(sc); i++) {
		range_t r = R(sc[i].range);
		print_message("# size %s\n", sc[i].range);
		assert_u128_eq(range_size(&r), sc[i].size);
	}

	static const struct contains_case cc[] = {
		{"10.0.0.5-10.0.0.9", "10.0.0.5", true},
		{"10.0.0.5-10.0.0.9", "10.0.0.9", true},
		{"10.0.0.5-10.0.0.9", "10.0.0.7", true},
		{"10.0.0.5-10.0.0.9", "10.0.0.4", false},
		{"10.0.0.5-10.0.0.9", "10.0.0.10", false},
		{"10.0.0.5-10.0.0.9", "::ffff:10.0.0.7", false},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1.2.3.4", false},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::1", true},
		{"0.0.0.0-255.255.255.255", "::", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(cc); i++) {
		range_t r = R(cc[i].prefix);
		addr_t a = A(cc[i].addr);
		print_message("# %s contains %s\n", cc[i].prefix, cc[i].addr);
		assert_int_equal(range_contains(&r, &a), cc[i].want);
	}

	static const struct overlap_case oc[] = {
		{"10.0.0.1-10.0.0.5", "10.0.0.5-10.0.0.9", true}, /* touching at one address */
		{"10.0.0.1-10.0.0.4", "10.0.0.5-10.0.0.9", false},  /* adjacent */
		{"10.0.0.1-10.0.0.9", "10.0.0.3-10.0.0.4", true},   /* nested */
		{"10.0.0.0/24", "10.0.0.255", true},
		{"10.0.0.0/24", "10.0.1.0", false},
		{"0.0.0.0-255.255.255.255", "::-::1", false},
		{"::-::ffff", "::ffff:0.0.0.0/96", false},
		{"::-::1:0", "::ffff", true},
	};
	for (size_t i = 0; i < ARRAY_LEN(oc); i++) {
		range_t x = R(oc[i].x), y = R(oc[i].y);
		print_message("# %s overlaps %s\n", oc[i].x, oc[i].y);
		assert_int_equal(range_overlap(&x, &y), oc[i].want);
		assert_int_equal(range_overlap(&y, &x), oc[i].want);
	}
}

/* ---------- summarisation ---------- */

struct summ_case {
	const char *range;
	const char *const *want; /* NULL-terminated */
};

static const char *const s_small[] = {"192.168.9.1/32", "192.168.9.2/31", "192.168.9.4/31", NULL};
static const char *const s_all4[] = {"0.0.0.0/0", NULL};
static const char *const s_all6[] = {"::/0", NULL};
static const char *const s_one[] = {"10.0.0.0/32", NULL};
static const char *const s_top4[] = {"255.255.255.255/32", NULL};
static const char *const s_top6[] = {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", NULL};
static const char *const s_cidr[] = {"10.0.0.0/24", NULL};
static const char *const s_aligned[] = {"1.2.3.4/30", NULL};
static const char *const s_ten[] = {"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31",
				    "10.0.0.10/32", NULL};
static const char *const s_span[] = {"10.0.0.255/32", "10.0.1.0/32", NULL};
static const char *const s_v6[] = {"2001:db8::ffff/128", "2001:db8::1:0/112", "2001:db8::2:0/128", NULL};
static const char *const s_half[] = {"8000::/1", NULL};

static void check_summary(const char *text, const char *const *want)
{
	range_t r = R(text);
	prefix_t out[256];
	size_t n = range_to_prefixes(&r, out, ARRAY_LEN(out));
	size_t nwant = 0;
	while (want[nwant] != NULL)
		nwant++;
	print_message("# summarise %s\n", text);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_prefix_text(&out[i], want[i]);
}

static void test_summarize_table(void **state)
{
	(void)state;
	static const struct summ_case cases[] = {
		{"192.168.9.1-192.168.9.5", s_small},
		{"0.0.0.0-255.255.255.255", s_all4},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", s_all6},
		{"10.0.0.0-10.0.0.0", s_one},
		{"255.255.255.255-255.255.255.255", s_top4},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", s_top6},
		{"10.0.0.0/24", s_cidr},
		{"1.2.3.4-1.2.3.7", s_aligned},
		{" 10.0.0.1 - 10.0.0.10 ", s_ten},
		{"10.0.0.255-10.0.1.0", s_span},
		{"2001:db8::ffff-2001:db8::2:0", s_v6},
		{"8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", s_half},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_summary(cases[i].range, cases[i].want);
}

struct count_case {
	const char *range;
	size_t count;
	const char *first, *last;
};

static void test_summarize_extremes(void **state)
{
	(void)state;
	static const struct count_case cases[] = {
		{"0.0.0.1-255.255.255.255", 32, "0.0.0.1/32", "128.0.0.0/1"},
		{"0.0.0.0-255.255.255.254", 32, "0.0.0.0/1", "255.255.255.254/32"},
		{"0.0.0.1-255.255.255.254", 62, "0.0.0.1/32", "255.255.255.254/32"},
		{"::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128, "::1/128", "8000::/1"},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 128, "::/1",
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128"},
		/* the worst case: 2*128-2 prefixes */
		{"::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 254, "::1/128",
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		range_t r = R(cases[i].range);
		prefix_t out[256];
		print_message("# %s\n", cases[i].range);
		assert_int_equal(range_to_prefixes(&r, NULL, 0), cases[i].count);
		size_t n = range_to_prefixes(&r, out, ARRAY_LEN(out));
		assert_int_equal(n, cases[i].count);
		assert_prefix_text(&out[0], cases[i].first);
		assert_prefix_text(&out[n - 1], cases[i].last);
	}

	/* max smaller than needed: returns the full count, writes only max entries. */
	range_t r = R("192.168.9.1-192.168.9.5");
	prefix_t out[4];
	memset(out, 0x5a, sizeof(out));
	prefix_t sentinel = out[2];
	assert_int_equal(range_to_prefixes(&r, out, 2), 3);
	assert_prefix_text(&out[0], "192.168.9.1/32");
	assert_prefix_text(&out[1], "192.168.9.2/31");
	assert_memory_equal(&out[2], &sentinel, sizeof(sentinel));

	/* an invalid range (lo > hi, mixed families) needs nothing */
	range_t bad = {A("10.0.0.2"), A("10.0.0.1")};
	assert_int_equal(range_to_prefixes(&bad, out, 4), 0);
	range_t mixed = {A("10.0.0.1"), A("::1")};
	assert_int_equal(range_to_prefixes(&mixed, out, 4), 0);
}

/* The prefixes cover exactly [lo, hi]: first starts at lo, last ends at hi, each starts right after
 * the previous one ends (so disjoint and ascending), the sizes add up to range_size, and each is
 * maximal (its parent block is not inside the range), which makes the cover minimal. */
static void check_summary_property(const range_t *r)
{
	prefix_t out[256];
	size_t n = range_to_prefixes(r, out, ARRAY_LEN(out));
	assert_true(n >= 1 && n <= 256);
	assert_int_equal(range_to_prefixes(r, NULL, 0), n);
	int bits = addr_bits(&r->lo);
	assert_true(n <= (size_t)(2 * bits));
	addr_u128 lo = addr_to_u128(&r->lo), hi = addr_to_u128(&r->hi);
	addr_u128 total = 0, expect_next = lo;
	bool saturated = false;
	for (size_t i = 0; i < n; i++) {
		const prefix_t *p = &out[i];
		assert_int_equal(p->a.family, r->lo.family);
		assert_true(p->len <= bits);
		addr_t first, last;
		prefix_first(p, &first);
		prefix_last(p, &last);
		assert_true(addr_eq(&first, &p->a)); /* no host bits */
		assert_u128_eq(addr_to_u128(&first), expect_next);
		if (i > 0) {
			addr_t prev_last;
			prefix_last(&out[i - 1], &prev_last);
			assert_true(addr_cmp(&prev_last, &first) < 0);
			assert_false(prefix_overlap(&out[i - 1], p));
		}
		if (i + 1 < n)
			expect_next = addr_to_u128(&last) + 1;
		else
			assert_u128_eq(addr_to_u128(&last), hi);
		addr_u128 sz = prefix_size(p);
		if (total > U128_MAX - sz)
			saturated = true;
		else
			total += sz;
		/* maximal: the enclosing prefix one bit shorter reaches outside [lo, hi] */
		if (p->len > 0) {
			prefix_t parent = *p;
			parent.len = (uint8_t)(p->len - 1);
			addr_mask(&parent.a, parent.len);
			addr_t pf, pl;
			prefix_first(&parent, &pf);
			prefix_last(&parent, &pl);
			assert_true(addr_to_u128(&pf) < lo || addr_to_u128(&pl) > hi);
		}
	}
	addr_u128 want = range_size(r);
	if (saturated || want == U128_MAX)
		assert_true(want == U128_MAX && (saturated || total == U128_MAX));
	else
		assert_u128_eq(total, want);
}

/* lo random; the span random with a random number of significant bits, so small and huge ranges
 * both occur. */
static void random_range(range_t *r, int family)
{
	int bits = family == AF_INET ? 32 : 128;
	addr_u128 v = (addr_u128)rng() << 64 | rng();
	if (bits == 32)
		v &= 0xffffffffu;
	int sb = (int)(rng() % (uint64_t)(bits + 1));
	addr_u128 span = ((addr_u128)rng() << 64 | rng()) & (sb >= 128 ? U128_MAX : (((addr_u128)1 << sb) - 1));
	addr_u128 max = bits == 32 ? 0xffffffffu : U128_MAX;
	/* sometimes start aligned, which exercises large blocks */
	if (rng() % 4 == 0 && sb > 0 && sb < bits)
		v &= ~(((addr_u128)1 << sb) - 1);
	if (span > max - v)
		span = max - v;
	addr_from_u128(&r->lo, family, v);
	addr_from_u128(&r->hi, family, v + span);
}

static void test_summarize_random_v4(void **state)
{
	(void)state;
	rng_seed(0xba7e1b);
	for (int i = 0; i < 1000; i++) {
		range_t r;
		random_range(&r, AF_INET);
		check_summary_property(&r);
	}
}

static void test_summarize_random_v6(void **state)
{
	(void)state;
	rng_seed(0xba7e1b6);
	for (int i = 0; i < 1000; i++) {
		range_t r;
		random_range(&r, AF_INET6);
		check_summary_property(&r);
	}
}

/* Exhaustive over every range inside a small IPv4 window, against a brute-force count of maximal
 * aligned blocks. */
static void test_summarize_exhaustive_small(void **state)
{
	(void)state;
	const uint32_t base = 0xc0a80000u;
	for (uint32_t a = 0; a < 40; a++) {
		for (uint32_t b = a; b < 40; b++) {
			range_t r;
			addr_from_v4(&r.lo, base + a);
			addr_from_v4(&r.hi, base + b);
			check_summary_property(&r);
			/* brute force: greedy by single addresses */
			size_t want = 0;
			uint32_t cur = a;
			while (cur <= b) {
				uint32_t blk = 1;
				while (((base + cur) & (blk * 2 - 1)) == 0 && cur + blk * 2 - 1 <= b)
					blk *= 2;
				want++;
				cur += blk;
			}
			assert_int_equal(range_to_prefixes(&r, NULL, 0), want);
		}
	}
}

static void test_u128_format(void **state)
{
	char b[48];
	addr_u128 max = ~(addr_u128)0;

	assert_string_equal(addr_u128_format(0, b, sizeof b), "0");
	assert_string_equal(addr_u128_format(18446744073709551615ull, b, sizeof b),
			    "18446744073709551615");
	assert_string_equal(addr_u128_format((addr_u128)1 << 64, b, sizeof b), "18446744073709551616");
	assert_string_equal(addr_u128_format(max, b, sizeof b),
			    "340282366920938463463374607431768211455");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u128_format),
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_parse_v6_bytes),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_format_buffer_size),
		cmocka_unit_test(test_format_random_v6),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_next_add),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_contains_overlap),
		cmocka_unit_test(test_prefix_bounds_size),
		cmocka_unit_test(test_range_parse),
		cmocka_unit_test(test_range_ops),
		cmocka_unit_test(test_summarize_table),
		cmocka_unit_test(test_summarize_extremes),
		cmocka_unit_test(test_summarize_random_v4),
		cmocka_unit_test(test_summarize_random_v6),
		cmocka_unit_test(test_summarize_exhaustive_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
