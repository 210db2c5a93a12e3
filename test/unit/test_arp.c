/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for speaker/l2/arp.c: every truncation, each RFC 826 check, built frames field by field. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../speaker/l2/arp.h"

static const uint8_t OURS[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t THEIRS[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* A request from 10.0.0.1 (THEIRS) for 10.0.0.100, written out by hand byte by byte. */
static const uint8_t REQ[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* Ethernet dst: broadcast */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x99,     /* Ethernet src */
	0x08, 0x06,                             /* EtherType ARP */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04,     /* htype 1, ptype 0x0800, hlen 6, plen 4 */
	0x00, 0x01,                             /* op request */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x99,     /* sha */
	10, 0, 0, 1,                            /* spa */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* tha */
	10, 0, 0, 100,                          /* tpa */
};

/* Parse from a heap copy of exactly n bytes, so that ASan catches any read past the end. */
static int parse_exact(const uint8_t *frame, size_t n, struct arp_pkt *pkt, enum arp_why *why)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, frame, n);
	int rc = arp_parse(copy, n, OURS, pkt, why);
	free(copy);
	return rc;
}

static void test_valid_request(void **state)
{
	struct arp_pkt p;
	enum arp_why why;
	assert_int_equal(parse_exact(REQ, sizeof(REQ), &p, &why), 0);
	assert_int_equal(why, ARP_OK);
	assert_int_equal(p.op, ARP_OP_REQUEST);
	assert_memory_equal(p.sha, THEIRS, 6);
	assert_memory_equal(p.eth_src, THEIRS, 6);
	assert_memory_equal(p.eth_dst, BCAST, 6);
	addr_t want;
	assert_int_equal(addr_parse("10.0.0.1", &want), 0);
	assert_true(addr_eq(&p.spa, &want));
	assert_int_equal(addr_parse("10.0.0.100", &want), 0);
	assert_true(addr_eq(&p.tpa, &want));

	/* With Ethernet padding to 60 bytes, and unicast to our MAC (a re-check from a client). */
	uint8_t padded[60] = {0};
	memcpy(padded, REQ, sizeof(REQ));
	memcpy(padded, OURS, 6);
	assert_int_equal(parse_exact(padded, sizeof(padded), &p, &why), 0);
}

static void test_every_truncation_rejected(void **state)
{
	for (size_t n = 0; n < sizeof(REQ); n++) {
		struct arp_pkt p;
		enum arp_why why = ARP_OK;
		assert_int_equal(parse_exact(REQ, n, &p, &why), -1);
		assert_int_equal(why, ARP_TRUNCATED);
	}
}

struct mutation {
	size_t off;
	uint8_t val;
	enum arp_why want;
	const char *what;
};

static void test_each_check(void **state)
{
	static const struct mutation m[] = {
		{12, 0x86, ARP_NOT_ARP, "EtherType 0x8606"},
		{13, 0x00, ARP_NOT_ARP, "EtherType 0x0800 (low byte)"},
		{15, 0x06, ARP_BAD_HTYPE, "hardware type 6 (IEEE 802)"},
		{14, 0x01, ARP_BAD_HTYPE, "hardware type 0x0101"},
		{16, 0x86, ARP_BAD_PTYPE, "protocol type 0x8600"},
		{17, 0x06, ARP_BAD_PTYPE, "protocol type 0x0806"},
		{18, 0x08, ARP_BAD_HLEN, "hardware length 8"},
		{19, 0x10, ARP_BAD_PLEN, "protocol length 16"},
		{21, 0x02, ARP_NOT_REQUEST, "op reply"},
		{21, 0x03, ARP_NOT_REQUEST, "op RARP request"},
		{20, 0x01, ARP_NOT_REQUEST, "op 0x0101"},
		{0, 0x02, ARP_NOT_FOR_US, "Ethernet dst unicast to another host"},
		{0, 0x01, ARP_NOT_FOR_US, "Ethernet dst a multicast group"},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint8_t f[sizeof(REQ)];
		struct arp_pkt p;
		enum arp_why why = ARP_OK;
		memcpy(f, REQ, sizeof(f));
		f[m[i].off] = m[i].val;
		int rc = parse_exact(f, sizeof(f), &p, &why);
		if (rc != -1 || why != m[i].want)
			fail_msg("%s: rc %d why %s, want %s", m[i].what, rc, arp_why_name(why),
				 arp_why_name(m[i].want));
	}
}

static void test_own_frames_ignored(void **state)
{
	uint8_t f[sizeof(REQ)];
	struct arp_pkt p;
	enum arp_why why;
	memcpy(f, REQ, sizeof(f));
	memcpy(f + 6, OURS, 6); /* Ethernet source is us */
	assert_int_equal(parse_exact(f, sizeof(f), &p, &why), -1);
	assert_int_equal(why, ARP_OWN_FRAME);
	memcpy(f, REQ, sizeof(f));
	memcpy(f + 22, OURS, 6); /* ARP sender is us (our own gratuitous request) */
	assert_int_equal(parse_exact(f, sizeof(f), &p, &why), -1);
	assert_int_equal(why, ARP_OWN_FRAME);
}

/* An RFC 5227 probe (sender IP 0.0.0.0) is a request like any other and is answered. */
static void test_probe_accepted(void **state)
{
	uint8_t f[sizeof(REQ)];
	struct arp_pkt p;
	enum arp_why why;
	memcpy(f, REQ, sizeof(f));
	memset(f + 28, 0, 4);
	assert_int_equal(parse_exact(f, sizeof(f), &p, &why), 0);
	assert_int_equal(addr_v4(&p.spa), 0);
}

static void test_reply_fields(void **state)
{
	struct arp_pkt req;
	enum arp_why why;
	uint8_t out[64];
	assert_int_equal(parse_exact(REQ, sizeof(REQ), &req, &why), 0);
	int n = arp_build_reply(out, sizeof(out), OURS, &req);
	assert_int_equal(n, 60);
	assert_memory_equal(out + 0, THEIRS, 6);   /* unicast to the requester */
	assert_memory_equal(out + 6, OURS, 6);
	assert_int_equal(out[12] << 8 | out[13], 0x0806);
	assert_int_equal(out[14] << 8 | out[15], 1);
	assert_int_equal(out[16] << 8 | out[17], 0x0800);
	assert_int_equal(out[18], 6);
	assert_int_equal(out[19], 4);
	assert_int_equal(out[20] << 8 | out[21], ARP_OP_REPLY);
	assert_memory_equal(out + 22, OURS, 6);    /* sender MAC: ours */
	const uint8_t vip[4] = {10, 0, 0, 100}, cli[4] = {10, 0, 0, 1};
	assert_memory_equal(out + 28, vip, 4);     /* sender IP: the VIP */
	assert_memory_equal(out + 32, THEIRS, 6);  /* target: the requester */
	assert_memory_equal(out + 38, cli, 4);
	for (int i = 42; i < 60; i++)
		assert_int_equal(out[i], 0);
	/* Too small a buffer is refused. */
	assert_int_equal(arp_build_reply(out, 59, OURS, &req), -1);
}

static void test_gratuitous(void **state)
{
	uint8_t out[60];
	addr_t vip, v6;
	assert_int_equal(addr_parse("192.0.2.7", &vip), 0);
	const uint8_t ip[4] = {192, 0, 2, 7}, zero[6] = {0};
	assert_int_equal(arp_build_gratuitous(out, sizeof(out), OURS, &vip, ARP_OP_REQUEST), 60);
	assert_memory_equal(out, BCAST, 6);
	assert_memory_equal(out + 6, OURS, 6);
	assert_int_equal(out[20] << 8 | out[21], ARP_OP_REQUEST);
	assert_memory_equal(out + 22, OURS, 6);
	assert_memory_equal(out + 28, ip, 4);
	assert_memory_equal(out + 32, zero, 6);
	assert_memory_equal(out + 38, ip, 4);
	assert_int_equal(arp_build_gratuitous(out, sizeof(out), OURS, &vip, ARP_OP_REPLY), 60);
	assert_memory_equal(out, BCAST, 6);
	assert_int_equal(out[20] << 8 | out[21], ARP_OP_REPLY);
	assert_memory_equal(out + 22, OURS, 6);
	assert_memory_equal(out + 28, ip, 4);
	assert_memory_equal(out + 32, OURS, 6);
	assert_memory_equal(out + 38, ip, 4);
	/* Our own announcement read back is recognised as ours and never answered. */
	struct arp_pkt p;
	enum arp_why why;
	assert_int_equal(arp_build_gratuitous(out, sizeof(out), OURS, &vip, ARP_OP_REQUEST), 60);
	assert_int_equal(parse_exact(out, 60, &p, &why), -1);
	assert_int_equal(why, ARP_OWN_FRAME);
	/* Refusals */
	assert_int_equal(addr_parse("2001:db8::1", &v6), 0);
	assert_int_equal(arp_build_gratuitous(out, sizeof(out), OURS, &v6, ARP_OP_REQUEST), -1);
	assert_int_equal(arp_build_gratuitous(out, sizeof(out), OURS, &vip, 3), -1);
	assert_int_equal(arp_build_gratuitous(out, 41, OURS, &vip, ARP_OP_REQUEST), -1);
}

static void test_why_names(void **state)
{
	for (int i = 0; i < ARP_WHY_COUNT; i++)
		assert_string_not_equal(arp_why_name((enum arp_why)i), "?");
	assert_string_equal(arp_why_name(ARP_WHY_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_request),
		cmocka_unit_test(test_every_truncation_rejected),
		cmocka_unit_test(test_each_check),
		cmocka_unit_test(test_own_frames_ignored),
		cmocka_unit_test(test_probe_accepted),
		cmocka_unit_test(test_reply_fields),
		cmocka_unit_test(test_gratuitous),
		cmocka_unit_test(test_why_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
