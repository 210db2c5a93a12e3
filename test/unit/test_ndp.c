/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for speaker/l2/ndp.c: every truncation, each RFC 4861 7.1.1 check, NA fields and
 * checksums (against values computed separately with Python, and against this file's own sum). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../../speaker/l2/ndp.h"

static const uint8_t OURS[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t THEIRS[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

enum { O_ETH = 0, O_IP = 14, O_PLEN = 18, O_NEXT = 20, O_HOPS = 21, O_SRC = 22, O_DST = 38,
       O_ICMP = 54, O_CODE = 55, O_CK = 56, O_TARGET = 62, O_OPT = 78 };

/* NS from 2001:db8::1 (THEIRS) for 2001:db8::64 to ff02::1:ff00:64 with an SLLA option.
 * Checksum 0x1acb computed with Python's struct/ipaddress over the RFC 8200 8.1 pseudo-header. */
static const uint8_t NS[86] = {
	0x33, 0x33, 0xff, 0x00, 0x00, 0x64, 0x02, 0x00, 0x00, 0x00, 0x00, 0x99, 0x86, 0xdd,
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 58, 255,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,       /* src */
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x00, 0x64, /* dst */
	135, 0, 0x1a, 0xcb, 0, 0, 0, 0,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64,       /* target */
	1, 1, 0x02, 0x00, 0x00, 0x00, 0x00, 0x99,                           /* SLLA */
};

/* This test's own ones-complement sum: pseudo-header laid out in a buffer, 32-bit words. */
static uint16_t ref_checksum(const uint8_t *frame)
{
	size_t plen = (size_t)(frame[O_PLEN] << 8 | frame[O_PLEN + 1]);
	uint8_t *b = calloc(1, 40 + plen + 4);
	uint32_t sum = 0;
	assert_non_null(b);
	memcpy(b, frame + O_SRC, 32);
	b[34] = (uint8_t)(plen >> 8);
	b[35] = (uint8_t)plen;
	b[39] = 58;
	memcpy(b + 40, frame + O_ICMP, plen);
	b[40 + 2] = b[40 + 3] = 0;
	for (size_t i = 0; i < 40 + plen + 1; i += 2) {
		sum += (uint32_t)b[i] << 8 | b[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	free(b);
	return (uint16_t)~sum;
}

static void fix_checksum(uint8_t *frame)
{
	uint16_t c = ref_checksum(frame);
	frame[O_CK] = (uint8_t)(c >> 8);
	frame[O_CK + 1] = (uint8_t)c;
}

static int parse_exact(const uint8_t *frame, size_t n, struct ndp_ns *ns, enum ndp_why *why)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, frame, n);
	int rc = ndp_parse(copy, n, OURS, ns, why);
	free(copy);
	return rc;
}

static void v6(const char *s, addr_t *a)
{
	assert_int_equal(addr_parse(s, a), 0);
}

static void test_valid_ns(void **state)
{
	struct ndp_ns ns;
	enum ndp_why why;
	addr_t a;
	assert_int_equal(ref_checksum(NS), 0x1acb);
	assert_int_equal(parse_exact(NS, sizeof(NS), &ns, &why), 0);
	v6("2001:db8::1", &a);
	assert_true(addr_eq(&ns.src, &a));
	v6("ff02::1:ff00:64", &a);
	assert_true(addr_eq(&ns.dst, &a));
	v6("2001:db8::64", &a);
	assert_true(addr_eq(&ns.target, &a));
	assert_true(ns.has_slla);
	assert_memory_equal(ns.slla, THEIRS, 6);
	assert_memory_equal(ns.eth_src, THEIRS, 6);
	assert_false(ns.dad);
}

static void test_every_truncation_rejected(void **state)
{
	for (size_t n = 0; n < sizeof(NS); n++) {
		struct ndp_ns ns;
		enum ndp_why why = NDP_OK;
		assert_int_equal(parse_exact(NS, n, &ns, &why), -1);
		assert_int_equal(why, NDP_TRUNCATED);
	}
}

/* Unicast NUD probe to the target itself, without SLLA (RFC 4861 7.2.2 allows omitting it). */
static void test_unicast_probe(void **state)
{
	uint8_t f[78];
	struct ndp_ns ns;
	enum ndp_why why;
	memcpy(f, NS, sizeof(f));
	memcpy(f, OURS, 6);
	memcpy(f + O_DST, NS + O_TARGET, 16);
	f[O_PLEN + 1] = 24;
	fix_checksum(f);
	assert_int_equal(parse_exact(f, sizeof(f), &ns, &why), 0);
	assert_false(ns.has_slla);
	assert_true(addr_eq(&ns.dst, &ns.target));
}

static void test_dad_probe(void **state)
{
	uint8_t f[78];
	struct ndp_ns ns;
	enum ndp_why why;
	memcpy(f, NS, sizeof(f));
	memset(f + O_SRC, 0, 16);
	f[O_PLEN + 1] = 24;
	fix_checksum(f);
	assert_int_equal(ref_checksum(f), 0x4c27); /* Python, same inputs */
	assert_int_equal(parse_exact(f, sizeof(f), &ns, &why), 0);
	assert_true(ns.dad);
	/* DAD with an SLLA option: invalid. */
	uint8_t g[86];
	memcpy(g, NS, sizeof(g));
	memset(g + O_SRC, 0, 16);
	fix_checksum(g);
	assert_int_equal(parse_exact(g, sizeof(g), &ns, &why), -1);
	assert_int_equal(why, NDP_BAD_DAD);
	/* DAD to a unicast destination: invalid. */
	memcpy(f, NS, sizeof(f));
	memset(f + O_SRC, 0, 16);
	memcpy(f, OURS, 6);
	memcpy(f + O_DST, NS + O_TARGET, 16);
	f[O_PLEN + 1] = 24;
	fix_checksum(f);
	assert_int_equal(parse_exact(f, sizeof(f), &ns, &why), -1);
	assert_int_equal(why, NDP_BAD_DAD);
}

/* Unknown options are skipped; a second, longer frame with a nonce option after the SLLA. */
static void test_unknown_option_skipped(void **state)
{
	uint8_t f[94] = {0};
	struct ndp_ns ns;
	enum ndp_why why;
	memcpy(f, NS, sizeof(NS));
	f[O_PLEN + 1] = 40;
	f[86] = 14; /* RFC 3971 nonce */
	f[87] = 1;
	fix_checksum(f);
	assert_int_equal(parse_exact(f, sizeof(f), &ns, &why), 0);
	assert_true(ns.has_slla);
	/* Ethernet padding after the payload is ignored. */
	uint8_t g[100] = {0};
	memcpy(g, NS, sizeof(NS));
	assert_int_equal(parse_exact(g, sizeof(g), &ns, &why), 0);
}

struct mutation {
	size_t off;
	uint8_t val;
	int fix_ck;
	enum ndp_why want;
	const char *what;
};

static void test_each_check(void **state)
{
	static const struct mutation m[] = {
		{12, 0x08, 0, NDP_NOT_IPV6, "EtherType 0x08dd"},
		{O_IP, 0x40, 0, NDP_BAD_VERSION, "IP version 4"},
		{O_PLEN + 1, 0x28, 0, NDP_TRUNCATED, "payload length past the frame"},
		{O_NEXT, 0, 0, NDP_NOT_ICMPV6, "hop-by-hop header first"},
		{O_NEXT, 17, 0, NDP_NOT_ICMPV6, "UDP"},
		{O_ICMP, 136, 1, NDP_NOT_NS, "type NA"},
		{O_ICMP, 133, 1, NDP_NOT_NS, "type RS"},
		{O_HOPS, 64, 0, NDP_BAD_HOP_LIMIT, "RFC 4861 7.1.1 hop limit 64"},
		{O_HOPS, 254, 0, NDP_BAD_HOP_LIMIT, "RFC 4861 7.1.1 hop limit 254 (one router)"},
		{O_CK + 1, 0xcc, 0, NDP_BAD_CHECKSUM, "RFC 4861 7.1.1 checksum off by one"},
		{O_TARGET + 15, 0x65, 0, NDP_BAD_CHECKSUM, "RFC 4861 7.1.1 payload changed, checksum kept"},
		{O_SRC + 15, 0x02, 0, NDP_BAD_CHECKSUM, "RFC 4861 7.1.1 pseudo-header changed"},
		{O_CODE, 1, 1, NDP_BAD_CODE, "RFC 4861 7.1.1 code 1"},
		{O_PLEN + 1, 20, 0, NDP_BAD_LENGTH, "RFC 4861 7.1.1 ICMP length 20"},
		{O_PLEN + 1, 1, 0, NDP_BAD_LENGTH, "RFC 4861 7.1.1 ICMP length 1"},
		{O_TARGET, 0xff, 1, NDP_TARGET_MULTICAST, "RFC 4861 7.1.1 target multicast"},
		{O_OPT + 1, 0, 1, NDP_BAD_OPTION, "RFC 4861 7.1.1 option length 0"},
		{O_OPT + 1, 2, 1, NDP_BAD_OPTION, "RFC 4861 7.1.1 option past the end"},
		{O_OPT + 1, 255, 1, NDP_BAD_OPTION, "RFC 4861 7.1.1 option length 255"},
		{O_SRC, 0xff, 1, NDP_BAD_SOURCE, "RFC 4291 2.7 multicast source"},
		{0, 0x02, 0, NDP_NOT_FOR_US, "Ethernet dst another host"},
		{5, 0x65, 0, NDP_NOT_FOR_US, "Ethernet dst a multicast MAC not of the IPv6 dst"},
		{11, 0x01, 0, NDP_OWN_FRAME, "Ethernet source is ours"},
		{O_OPT + 7, 0x01, 1, NDP_OWN_FRAME, "SLLA is ours"},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint8_t f[sizeof(NS)];
		struct ndp_ns ns;
		enum ndp_why why = NDP_OK;
		memcpy(f, NS, sizeof(f));
		f[m[i].off] = m[i].val;
		if (m[i].fix_ck)
			fix_checksum(f);
		int rc = parse_exact(f, sizeof(f), &ns, &why);
		if (rc != -1 || why != m[i].want)
			fail_msg("%s: rc %d why %s, want %s", m[i].what, rc, ndp_why_name(why),
				 ndp_why_name(m[i].want));
	}
	/* An SLLA option of two units is not an Ethernet address (RFC 2464 section 8). */
	uint8_t g[94] = {0};
	struct ndp_ns ns;
	enum ndp_why why;
	memcpy(g, NS, sizeof(NS));
	g[O_PLEN + 1] = 40;
	g[O_OPT + 1] = 2;
	fix_checksum(g);
	assert_int_equal(parse_exact(g, sizeof(g), &ns, &why), -1);
	assert_int_equal(why, NDP_BAD_OPTION);
}

static void check_na_common(const uint8_t *f, const char *dst, const uint8_t *eth_dst, uint8_t flags,
			    uint16_t want_ck)
{
	addr_t a;
	assert_memory_equal(f + 0, eth_dst, 6);
	assert_memory_equal(f + 6, OURS, 6);
	assert_int_equal(f[12] << 8 | f[13], 0x86dd);
	assert_int_equal(f[O_IP], 0x60);
	assert_int_equal(f[O_IP + 1] | f[O_IP + 2] | f[O_IP + 3], 0);
	assert_int_equal(f[O_PLEN] << 8 | f[O_PLEN + 1], 32);
	assert_int_equal(f[O_NEXT], 58);
	assert_int_equal(f[O_HOPS], 255);
	v6("2001:db8::64", &a);
	assert_memory_equal(f + O_SRC, a.b, 16); /* source = the service IP */
	assert_memory_equal(f + O_TARGET, a.b, 16);
	v6(dst, &a);
	assert_memory_equal(f + O_DST, a.b, 16);
	assert_int_equal(f[O_ICMP], 136);
	assert_int_equal(f[O_CODE], 0);
	assert_int_equal(f[O_ICMP + 4], flags);
	assert_int_equal(f[O_ICMP + 5] | f[O_ICMP + 6] | f[O_ICMP + 7], 0);
	assert_int_equal(f[O_OPT], 2); /* TLLA */
	assert_int_equal(f[O_OPT + 1], 1);
	assert_memory_equal(f + O_OPT + 2, OURS, 6);
	assert_int_equal(f[O_CK] << 8 | f[O_CK + 1], want_ck);
	assert_int_equal(ref_checksum(f), want_ck);
}

static void test_build_na(void **state)
{
	struct ndp_ns ns;
	enum ndp_why why;
	uint8_t out[NDP_NA_FRAME_LEN];
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};

	assert_int_equal(parse_exact(NS, sizeof(NS), &ns, &why), 0);
	assert_int_equal(ndp_build_na(out, sizeof(out), OURS, &ns.target, &ns), NDP_NA_FRAME_LEN);
	/* Checksums 0x89ae / 0xf864 computed with Python for the same fields. */
	check_na_common(out, "2001:db8::1", THEIRS, 0x60, 0x89ae);

	/* Without SLLA: to the Ethernet source of the solicitation. */
	ns.has_slla = false;
	memset(ns.eth_src, 0x0a, 6);
	assert_int_equal(ndp_build_na(out, sizeof(out), OURS, &ns.target, &ns), NDP_NA_FRAME_LEN);
	static const uint8_t tens[6] = {10, 10, 10, 10, 10, 10};
	assert_memory_equal(out, tens, 6);

	/* Unsolicited (takeover) and the answer to a DAD probe: all-nodes, O only. */
	assert_int_equal(ndp_build_na(out, sizeof(out), OURS, &ns.target, NULL), NDP_NA_FRAME_LEN);
	check_na_common(out, "ff02::1", all_nodes_mac, 0x20, 0xf864);
	ns.dad = true;
	memset(ns.src.b, 0, 16);
	assert_int_equal(ndp_build_na(out, sizeof(out), OURS, &ns.target, &ns), NDP_NA_FRAME_LEN);
	check_na_common(out, "ff02::1", all_nodes_mac, 0x20, 0xf864);

	/* Refusals */
	addr_t v4;
	assert_int_equal(addr_parse("10.0.0.1", &v4), 0);
	assert_int_equal(ndp_build_na(out, sizeof(out), OURS, &v4, NULL), -1);
	assert_int_equal(ndp_build_na(out, NDP_NA_FRAME_LEN - 1, OURS, &ns.target, NULL), -1);
}

static void test_helpers(void **state)
{
	addr_t ip, g, want;
	uint8_t mac[6];
	static const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0x45, 0x67, 0x89};
	v6("2001:db8::1:2345:6789", &ip);
	ndp_solicited_node(&ip, &g);
	v6("ff02::1:ff45:6789", &want);
	assert_true(addr_eq(&g, &want));
	assert_true(ndp_is_solicited_node(&g));
	assert_false(ndp_is_solicited_node(&ip));
	v6("ff02::1", &want);
	assert_false(ndp_is_solicited_node(&want));
	assert_true(ndp_is_multicast(&want));
	assert_false(ndp_is_multicast(&ip));
	ndp_mcast_mac(&g, mac);
	assert_memory_equal(mac, want_mac, 6);
	/* The checksum of a valid message, checksum included, folds to zero. */
	addr_t s, d;
	v6("2001:db8::1", &s);
	v6("ff02::1:ff00:64", &d);
	assert_int_equal(ndp_icmp6_checksum(&s, &d, NS + O_ICMP, 32), 0);
	for (int i = 0; i < NDP_WHY_COUNT; i++)
		assert_string_not_equal(ndp_why_name((enum ndp_why)i), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_ns),
		cmocka_unit_test(test_every_truncation_rejected),
		cmocka_unit_test(test_unicast_probe),
		cmocka_unit_test(test_dad_probe),
		cmocka_unit_test(test_unknown_option_skipped),
		cmocka_unit_test(test_each_check),
		cmocka_unit_test(test_build_na),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
