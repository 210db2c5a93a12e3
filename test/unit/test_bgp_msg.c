/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for speaker/bgp/msg.c: builders round-trip through the parsers, every truncation is
 * rejected without reading past the end, and a table of malformed messages gets the NOTIFICATION
 * (or RFC 7606 verdict) the RFCs ask for. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../../speaker/bgp/msg.h"

#define LOCAL_AS 64512u
#define PEER_AS  65001u

/* ---------- helpers ---------- */

static prefix_t pfx(const char *s)
{
	prefix_t p;
	assert_int_equal(prefix_parse(s, &p, NULL), 0);
	return p;
}

static addr_t ip(const char *s)
{
	addr_t a;
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

/* A message from a type and a body. */
static size_t mk(uint8_t *out, uint8_t type, const uint8_t *body, size_t blen)
{
	memset(out, 0xff, BGP_MARKER_LEN);
	out[16] = (uint8_t)((BGP_HDR_LEN + blen) >> 8);
	out[17] = (uint8_t)(BGP_HDR_LEN + blen);
	out[18] = type;
	if (blen > 0)
		memcpy(out + BGP_HDR_LEN, body, blen);
	return BGP_HDR_LEN + blen;
}

/* An UPDATE with no withdrawn routes, the given attributes and NLRI. */
static size_t mk_update(uint8_t *out, const uint8_t *attrs, size_t alen, const uint8_t *nlri,
			size_t nlen)
{
	uint8_t body[BGP_MAX_MSG];
	body[0] = body[1] = 0;
	body[2] = (uint8_t)(alen >> 8);
	body[3] = (uint8_t)alen;
	memcpy(body + 4, attrs, alen);
	memcpy(body + 4 + alen, nlri, nlen);
	return mk(out, BGP_UPDATE, body, 4 + alen + nlen);
}

static const struct bgp_dec ebgp_dec = {.as4 = true, .ibgp = false, .peer_as = PEER_AS};
static const struct bgp_dec ibgp_dec = {.as4 = true, .ibgp = true, .peer_as = 0};

/* Parse a copy in a buffer of exactly n bytes, so ASan catches any read past the end. The copy
 * stays in *hold (the previous one is freed) because u points into it. */
static enum bgp_verdict parse_exact(uint8_t **hold, const uint8_t *m, size_t n,
				    const struct bgp_dec *d, struct bgp_update *u,
				    struct bgp_err *err)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	memcpy(c, m, n);
	free(*hold);
	*hold = c;
	return bgp_update_parse(c, n, d, u, err);
}

static struct bgp_open full_open(uint32_t asn)
{
	struct bgp_open o = {0};
	o.asn = asn;
	o.hold_time = 90;
	o.bgp_id = 0x0a000001;
	o.cap_as4 = o.cap_mp_ipv4 = o.cap_mp_ipv6 = o.cap_route_refresh = true;
	o.cap_gr = true;
	o.gr_time = 120;
	o.gr_ipv4 = o.gr_ipv4_fwd = o.gr_ipv6 = true;
	return o;
}

/* ---------- OPEN ---------- */

static void test_open_roundtrip(void **state)
{
	uint8_t m[BGP_MAX_MSG];
	struct bgp_open in = full_open(4200000001u), out;
	struct bgp_err err;
	int n = bgp_open_build(&in, m, sizeof(m));
	assert_true(n > BGP_OPEN_MIN);
	assert_int_equal(bgp_open_parse(m, (size_t)n, &out, &err), 0);
	assert_int_equal(out.version, 4);
	assert_int_equal(out.my_as, BGP_AS_TRANS); /* RFC 6793: 4-octet AS goes as AS_TRANS */
	assert_int_equal(out.asn, 4200000001u);
	assert_int_equal(out.hold_time, 90);
	assert_int_equal(out.bgp_id, 0x0a000001);
	assert_true(out.has_caps && out.cap_as4 && out.cap_mp_ipv4 && out.cap_mp_ipv6);
	assert_true(out.cap_route_refresh && out.cap_gr);
	assert_int_equal(out.gr_time, 120);
	assert_false(out.gr_restarting);
	assert_true(out.gr_ipv4 && out.gr_ipv4_fwd && out.gr_ipv6);
	assert_false(out.gr_ipv6_fwd);

	/* a 2-octet AS is in My AS itself */
	in = full_open(LOCAL_AS);
	in.cap_gr = false;
	n = bgp_open_build(&in, m, sizeof(m));
	assert_int_equal(bgp_open_parse(m, (size_t)n, &out, &err), 0);
	assert_int_equal(out.my_as, LOCAL_AS);
	assert_int_equal(out.asn, LOCAL_AS);
	assert_false(out.cap_gr);

	/* too small a buffer fails cleanly */
	assert_int_equal(bgp_open_build(&in, m, 30), -1);
}

static void test_open_checks_and_caps(void **state)
{
	uint8_t m[BGP_MAX_MSG];
	struct bgp_open ours = full_open(LOCAL_AS), theirs = full_open(PEER_AS), o;
	struct bgp_err err;
	struct bgp_caps c;
	theirs.hold_time = 30;
	int n = bgp_open_build(&theirs, m, sizeof(m));
	assert_int_equal(bgp_open_parse(m, (size_t)n, &o, &err), 0);
	assert_int_equal(bgp_open_check(&o, PEER_AS, 0x0a000002, false, &err), 0);
	assert_int_equal(bgp_open_check(&o, PEER_AS + 1, 0x0a000002, false, &err), -1);
	assert_int_equal(err.code, BGP_ERR_OPEN);
	assert_int_equal(err.subcode, BGP_OPEN_BAD_PEER_AS);
	/* RFC 6286: same identifier is an error on iBGP only */
	assert_int_equal(bgp_open_check(&o, PEER_AS, 0x0a000001, false, &err), 0);
	assert_int_equal(bgp_open_check(&o, PEER_AS, 0x0a000001, true, &err), -1);
	assert_int_equal(err.subcode, BGP_OPEN_BAD_BGP_ID);

	bgp_caps_negotiate(&ours, &o, &c);
	assert_true(c.as4 && c.ipv4 && c.ipv6 && c.route_refresh && c.gr);
	assert_int_equal(c.hold_time, 30);

	/* a peer with no capabilities at all: IPv4 unicast only, 2-octet AS */
	struct bgp_open bare = {.asn = PEER_AS, .hold_time = 0, .bgp_id = 7};
	n = bgp_open_build(&bare, m, sizeof(m));
	assert_int_equal(bgp_open_parse(m, (size_t)n, &o, &err), 0);
	bgp_caps_negotiate(&ours, &o, &c);
	assert_true(c.ipv4);
	assert_false(c.ipv6 || c.as4 || c.gr || c.route_refresh);
	assert_int_equal(c.hold_time, 0);
	/* only IPv6 from the peer: no IPv4 */
	struct bgp_open v6only = {.asn = PEER_AS, .hold_time = 90, .bgp_id = 7, .cap_mp_ipv6 = true};
	n = bgp_open_build(&v6only, m, sizeof(m));
	assert_int_equal(bgp_open_parse(m, (size_t)n, &o, &err), 0);
	bgp_caps_negotiate(&ours, &o, &c);
	assert_false(c.ipv4);
	assert_true(c.ipv6);
}

static void test_open_extended_params(void **state)
{
	/* RFC 9072: optional parameter length 255, type 255, 2-octet lengths */
	uint8_t body[] = {4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1, 255, 255, 0, 9,
			  2, 0, 6, 65, 4, 0, 0, 0xfd, 0xe9};
	uint8_t m[64];
	struct bgp_open o;
	struct bgp_err err;
	size_t n = mk(m, BGP_OPEN, body, sizeof(body));
	assert_int_equal(bgp_open_parse(m, n, &o, &err), 0);
	assert_true(o.cap_as4);
	assert_int_equal(o.asn, PEER_AS);
}

/* ---------- UPDATE build and parse ---------- */

static void collect(struct buf_reader r, int family, prefix_t *out, size_t *n)
{
	prefix_t p;
	while (bgp_prefix_next(&r, family, &p) == 0)
		out[(*n)++] = p;
	assert_int_equal(buf_left(&r), 0);
}

static void test_update_v4_packs_and_roundtrips(void **state)
{
	uint8_t *hold = NULL;
	enum { N = 2000 };
	prefix_t *in = calloc(N, sizeof(*in)), *got = calloc(N, sizeof(*got));
	uint8_t m[BGP_MAX_MSG];
	uint32_t comm[] = {0xfde90064, 0xffffff01};
	struct bgp_large_community lc[] = {{64512, 1, 2}};
	struct bgp_enc e = {.local_as = LOCAL_AS, .ibgp = false, .as4 = true};
	struct bgp_attrs a = {.has_local_pref = true, .local_pref = 200, .communities = comm,
			      .n_communities = 2, .large = lc, .n_large = 1,
			      .next_hop = ip("192.0.2.1")};
	struct bgp_dec d = {.as4 = true, .ibgp = false, .peer_as = LOCAL_AS};
	size_t off = 0, ngot = 0, msgs = 0, bytes = 0;

	assert_non_null(in);
	assert_non_null(got);
	for (size_t i = 0; i < N; i++) {
		addr_from_v4(&in[i].a, 0x0a000000u + (uint32_t)i);
		in[i].len = 32;
	}
	while (off < N) {
		size_t used;
		struct bgp_update u;
		struct bgp_err err;
		int n = bgp_update_build(&e, &a, AF_INET, in + off, N - off, &used, m, sizeof(m));
		assert_true(n > 0 && n <= BGP_MAX_MSG);
		/* every message but the last is full: one more /32 (5 bytes) would not fit */
		if (off + used < N)
			assert_true(n + 5 > BGP_MAX_MSG);
		assert_int_equal(parse_exact(&hold, m, (size_t)n, &d, &u, &err), BGP_OK);
		assert_int_equal(u.n_nlri, used);
		assert_int_equal(u.origin, 0);
		assert_int_equal(u.as_path_len, 1);
		assert_int_equal(u.as_path[0], LOCAL_AS);
		assert_true(addr_eq(&u.next_hop, &a.next_hop));
		assert_false(u.seen & (1u << BGP_ATTR_LOCAL_PREF)); /* never to eBGP */
		assert_int_equal(u.n_communities, 2);
		assert_int_equal(bgp_update_community(&u, 0), comm[0]);
		assert_int_equal(bgp_update_community(&u, 1), comm[1]);
		assert_int_equal(u.n_large, 1);
		assert_int_equal(bgp_update_large(&u, 0).local2, 2);
		collect(u.nlri, AF_INET, got, &ngot);
		off += used;
		msgs++;
		bytes += (size_t)n;
	}
	assert_int_equal(ngot, N);
	for (size_t i = 0; i < N; i++)
		assert_true(addr_eq(&got[i].a, &in[i].a) && got[i].len == 32);
	print_message("# %d /32 in %zu UPDATEs, %.2f bytes per prefix\n", N, msgs,
		      (double)bytes / N);
	assert_true(msgs <= N * 5 / (BGP_MAX_MSG - 80) + 1);
	free(in);
	free(got);
	free(hold);
}

static void test_update_ibgp_and_as_trans(void **state)
{
	uint8_t *hold = NULL;
	uint8_t m[BGP_MAX_MSG];
	prefix_t p = pfx("198.51.100.0/24");
	size_t used;
	struct bgp_update u;
	struct bgp_err err;
	struct bgp_attrs a = {.has_local_pref = true, .local_pref = 300,
			      .next_hop = ip("192.0.2.1")};

	/* iBGP: empty AS_PATH and LOCAL_PREF */
	struct bgp_enc e = {.local_as = LOCAL_AS, .ibgp = true, .as4 = true};
	int n = bgp_update_build(&e, &a, AF_INET, &p, 1, &used, m, sizeof(m));
	assert_int_equal(parse_exact(&hold, m, (size_t)n, &ibgp_dec, &u, &err), BGP_OK);
	assert_int_equal(u.as_path_len, 0);
	assert_true(u.seen & (1u << BGP_ATTR_AS_PATH));
	assert_true(u.seen & (1u << BGP_ATTR_LOCAL_PREF));
	assert_int_equal(u.local_pref, 300);

	/* eBGP, 4-octet AS to a 2-octet peer: AS_PATH [AS_TRANS] and AS4_PATH [AS] */
	struct bgp_enc e2 = {.local_as = 4200000001u, .ibgp = false, .as4 = false};
	struct bgp_dec d2 = {.as4 = false, .ibgp = false, .peer_as = 4200000001u};
	n = bgp_update_build(&e2, &a, AF_INET, &p, 1, &used, m, sizeof(m));
	assert_int_equal(parse_exact(&hold, m, (size_t)n, &d2, &u, &err), BGP_OK);
	assert_int_equal(u.as_path_len, 1);
	assert_int_equal(u.as_path[0], BGP_AS_TRANS);
	assert_true(u.seen & (1u << BGP_ATTR_AS4_PATH));

	/* 2-octet encoding of a 2-octet AS: no AS4_PATH */
	struct bgp_enc e3 = {.local_as = LOCAL_AS, .ibgp = false, .as4 = false};
	struct bgp_dec d3 = {.as4 = false, .ibgp = false, .peer_as = LOCAL_AS};
	n = bgp_update_build(&e3, &a, AF_INET, &p, 1, &used, m, sizeof(m));
	assert_int_equal(parse_exact(&hold, m, (size_t)n, &d3, &u, &err), BGP_OK);
	assert_int_equal(u.as_path[0], LOCAL_AS);
	assert_false(u.seen & (1u << BGP_ATTR_AS4_PATH));

	/* wrong family of prefix or next hop is refused */
	prefix_t p6 = pfx("2001:db8::/64");
	assert_int_equal(bgp_update_build(&e, &a, AF_INET6, &p6, 1, &used, m, sizeof(m)), -1);
	assert_int_equal(bgp_update_build(&e, &a, AF_INET, &p6, 1, &used, m, sizeof(m)), -1);
	assert_int_equal(bgp_update_build(&e, &a, AF_INET, &p, 0, &used, m, sizeof(m)), -1);
	free(hold);
}

static void test_update_v6_mp_reach(void **state)
{
	uint8_t *hold = NULL;
	enum { N = 700 };
	prefix_t in[N], got[N];
	uint8_t m[BGP_MAX_MSG];
	struct bgp_large_community lc[] = {{1, 2, 3}, {4, 5, 6}};
	struct bgp_enc e = {.local_as = LOCAL_AS, .ibgp = false, .as4 = true};
	struct bgp_attrs a = {.large = lc, .n_large = 2, .next_hop = ip("2001:db8::1"),
			      .has_ll = true, .next_hop_ll = ip("fe80::1")};
	struct bgp_dec d = {.as4 = true, .peer_as = LOCAL_AS};
	size_t off = 0, ngot = 0, msgs = 0;
	for (size_t i = 0; i < N; i++) {
		char s[64];
		snprintf(s, sizeof(s), "2001:db8:%zx::%zx/128", i / 256, i % 256 + 1);
		in[i] = pfx(s);
	}
	while (off < N) {
		size_t used;
		struct bgp_update u;
		struct bgp_err err;
		int n = bgp_update_build(&e, &a, AF_INET6, in + off, N - off, &used, m, sizeof(m));
		assert_true(n > 0 && n <= BGP_MAX_MSG);
		if (off + used < N)
			assert_true(n + 17 > BGP_MAX_MSG);
		assert_int_equal(parse_exact(&hold, m, (size_t)n, &d, &u, &err), BGP_OK);
		assert_int_equal(u.n_nlri, 0);
		assert_int_equal(u.mp_reach_family, AF_INET6);
		assert_int_equal(u.n_mp_reach, used);
		assert_true(addr_eq(&u.mp_next_hop, &a.next_hop));
		assert_true(addr_eq(&u.mp_next_hop_ll, &a.next_hop_ll));
		assert_false(u.seen & (1u << BGP_ATTR_NEXT_HOP));
		assert_int_equal(u.n_large, 2);
		collect(u.mp_reach, AF_INET6, got, &ngot);
		off += used;
		msgs++;
	}
	assert_int_equal(ngot, N);
	for (size_t i = 0; i < N; i++)
		assert_true(addr_eq(&got[i].a, &in[i].a) && got[i].len == 128);
	assert_true(msgs >= 3);

	/* without link-local: next hop length 16 */
	a.has_ll = false;
	size_t used;
	struct bgp_update u;
	struct bgp_err err;
	int n = bgp_update_build(&e, &a, AF_INET6, in, 1, &used, m, sizeof(m));
	assert_int_equal(parse_exact(&hold, m, (size_t)n, &d, &u, &err), BGP_OK);
	assert_int_equal(u.mp_next_hop_ll.family, 0);
	free(hold);
}

static void test_withdraw_and_eor(void **state)
{
	uint8_t *hold = NULL;
	enum { N = 3000 };
	static prefix_t in[N], got[N];
	uint8_t m[BGP_MAX_MSG];
	for (int fam = 0; fam < 2; fam++) {
		size_t off = 0, ngot = 0;
		for (size_t i = 0; i < N; i++) {
			char s[64];
			if (fam == 0)
				snprintf(s, sizeof(s), "10.%zu.%zu.0/24", i / 256, i % 256);
			else
				snprintf(s, sizeof(s), "2001:db8:%zx::/48", i);
			in[i] = pfx(s);
		}
		int family = fam == 0 ? AF_INET : AF_INET6;
		while (off < N) {
			size_t used;
			struct bgp_update u;
			struct bgp_err err;
			int n = bgp_withdraw_build(family, in + off, N - off, &used, m, sizeof(m));
			assert_true(n > 0 && n <= BGP_MAX_MSG);
			assert_int_equal(parse_exact(&hold, m, (size_t)n, &ebgp_dec, &u, &err), BGP_OK);
			assert_false(u.eor);
			if (family == AF_INET) {
				assert_int_equal(u.n_withdrawn, used);
				collect(u.withdrawn, AF_INET, got, &ngot);
			} else {
				assert_int_equal(u.mp_unreach_family, AF_INET6);
				assert_int_equal(u.n_mp_unreach, used);
				collect(u.mp_unreach, AF_INET6, got, &ngot);
			}
			off += used;
		}
		assert_int_equal(ngot, N);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(prefix_format(&got[i], (char[64]){0}, 64) > 0 &&
						 addr_eq(&got[i].a, &in[i].a) && got[i].len == in[i].len,
					 1);
		/* End-of-RIB */
		struct bgp_update u;
		struct bgp_err err;
		int n = bgp_eor_build(family, m, sizeof(m));
		assert_int_equal(n, family == AF_INET ? 23 : 29);
		assert_int_equal(parse_exact(&hold, m, (size_t)n, &ebgp_dec, &u, &err), BGP_OK);
		assert_true(u.eor);
		assert_int_equal(u.eor_family, family);
	}
	free(hold);
}

/* ---------- every truncation ---------- */

struct sample {
	const char *name;
	uint8_t m[BGP_MAX_MSG];
	size_t n;
};

static int parse_any(const uint8_t *p, size_t n, bool *ok_out)
{
	uint16_t len;
	uint8_t type;
	struct bgp_err err;
	*ok_out = false;
	if (bgp_hdr_parse(p, n, &len, &type, &err) < 0) {
		assert_int_equal(err.verdict, BGP_RESET);
		return -1;
	}
	int rc = -1;
	switch (type) {
	case BGP_OPEN: {
		struct bgp_open o;
		rc = bgp_open_parse(p, n, &o, &err);
		break;
	}
	case BGP_UPDATE: {
		struct bgp_update u;
		rc = bgp_update_parse(p, n, &ibgp_dec, &u, &err) == BGP_RESET ? -1 : 0;
		break;
	}
	case BGP_NOTIFICATION: {
		struct bgp_notification x;
		rc = bgp_notification_parse(p, n, &x, &err);
		break;
	}
	case BGP_KEEPALIVE:
		rc = bgp_keepalive_parse(p, n, &err);
		break;
	case BGP_ROUTE_REFRESH: {
		struct bgp_route_refresh x;
		rc = bgp_route_refresh_parse(p, n, &x, &err);
		break;
	}
	}
	if (rc < 0)
		assert_true(err.code != 0);
	*ok_out = rc == 0;
	return rc;
}

static size_t samples(struct sample *s)
{
	size_t k = 0, used;
	struct bgp_open o = full_open(4200000001u);
	struct bgp_enc e = {.local_as = LOCAL_AS, .ibgp = true, .as4 = true};
	uint32_t comm[] = {1, 2, 3};
	struct bgp_large_community lc[] = {{7, 8, 9}};
	struct bgp_attrs a4 = {.has_local_pref = true, .local_pref = 100, .communities = comm,
			       .n_communities = 3, .large = lc, .n_large = 1,
			       .next_hop = ip("192.0.2.1")};
	struct bgp_attrs a6 = {.communities = comm, .n_communities = 1, .next_hop = ip("2001:db8::1"),
			       .has_ll = true, .next_hop_ll = ip("fe80::2")};
	prefix_t p4[] = {pfx("10.0.0.0/8"), pfx("192.0.2.7/32"), pfx("0.0.0.0/0")};
	prefix_t p6[] = {pfx("2001:db8::/32"), pfx("2001:db8::5/128")};
	int n;
#define ADD(nm, expr)                                    \
	do {                                             \
		s[k].name = nm;                          \
		n = (expr);                              \
		assert_true(n > 0);                      \
		s[k++].n = (size_t)n;                    \
	} while (0)
	ADD("OPEN", bgp_open_build(&o, s[k].m, BGP_MAX_MSG));
	ADD("UPDATE v4", bgp_update_build(&e, &a4, AF_INET, p4, 3, &used, s[k].m, BGP_MAX_MSG));
	ADD("UPDATE v6", bgp_update_build(&e, &a6, AF_INET6, p6, 2, &used, s[k].m, BGP_MAX_MSG));
	ADD("withdraw v4", bgp_withdraw_build(AF_INET, p4, 3, &used, s[k].m, BGP_MAX_MSG));
	ADD("withdraw v6", bgp_withdraw_build(AF_INET6, p6, 2, &used, s[k].m, BGP_MAX_MSG));
	ADD("EoR v6", bgp_eor_build(AF_INET6, s[k].m, BGP_MAX_MSG));
	ADD("NOTIFICATION", bgp_shutdown_build(BGP_CEASE_ADMIN_SHUTDOWN, "bye", s[k].m, BGP_MAX_MSG));
	ADD("KEEPALIVE", bgp_keepalive_build(s[k].m, BGP_MAX_MSG));
	ADD("ROUTE-REFRESH", bgp_route_refresh_build(BGP_AFI_IPV6, 1, s[k].m, BGP_MAX_MSG));
#undef ADD
	return k;
}

static void test_every_truncation_rejected(void **state)
{
	static struct sample s[16];
	size_t ns = samples(s), checked = 0, inner_ok = 0;
	for (size_t i = 0; i < ns; i++) {
		bool ok;
		assert_int_equal(parse_any(s[i].m, s[i].n, &ok), 0);
		for (size_t cut = 0; cut < s[i].n; cut++) {
			/* the bytes end early: always rejected */
			uint8_t *c = malloc(cut ? cut : 1);
			assert_non_null(c);
			memcpy(c, s[i].m, cut);
			if (parse_any(c, cut, &ok) == 0)
				fail_msg("%s cut at %zu accepted", s[i].name, cut);
			/* the same bytes with the length field saying so: never read past the end;
			 * may be valid (an UPDATE cut after a whole prefix) */
			if (cut >= BGP_HDR_LEN) {
				c[16] = (uint8_t)(cut >> 8);
				c[17] = (uint8_t)cut;
				if (parse_any(c, cut, &ok) == 0)
					inner_ok++;
			}
			free(c);
			checked++;
		}
	}
	print_message("# %zu truncations of %zu messages rejected (%zu length-patched cuts valid)\n",
		      checked, ns, inner_ok);
	assert_true(checked > 300);
}

/* ---------- malformed messages ---------- */

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Attribute building blocks (eBGP from AS 65001 = 0x0000fde9, 4-octet AS_PATH). */
#define ORIGIN 0x40, 1, 1, 0
#define ASPATH 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9
#define NH     0x40, 3, 4, 192, 0, 2, 1
#define NLRI   24, 198, 51, 100

struct bad_update {
	const char *name;
	const uint8_t *attrs;
	size_t alen;
	bool nlri;
	bool ibgp;
	enum bgp_verdict verdict;
	uint8_t code, subcode;
};

static const struct bad_update bad_updates[] = {
	{"valid", B(ORIGIN, ASPATH, NH), true, false, BGP_OK, 0, 0},
	{"valid, no NLRI, no attributes needed", B(0xc0, 99, 1, 0), false, false, BGP_OK, 0, 0},
	{"unknown optional attribute ignored", B(ORIGIN, ASPATH, NH, 0xc0, 99, 2, 1, 2), true,
	 false, BGP_OK, 0, 0},
	{"ORIGIN length 2", B(0x40, 1, 2, 0, 0, ASPATH, NH), true, false, BGP_TREAT_AS_WITHDRAW,
	 3, BGP_UPD_ATTR_LENGTH},
	{"ORIGIN value 3", B(0x40, 1, 1, 3, ASPATH, NH), true, false, BGP_TREAT_AS_WITHDRAW, 3,
	 BGP_UPD_INVALID_ORIGIN},
	{"ORIGIN flagged optional", B(0xc0, 1, 1, 0, ASPATH, NH), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_FLAGS},
	{"ORIGIN missing", B(ASPATH, NH), true, false, BGP_TREAT_AS_WITHDRAW, 3,
	 BGP_UPD_MISSING_WELLKNOWN},
	{"AS_PATH missing", B(ORIGIN, NH), true, false, BGP_TREAT_AS_WITHDRAW, 3,
	 BGP_UPD_MISSING_WELLKNOWN},
	{"NEXT_HOP missing", B(ORIGIN, ASPATH), true, false, BGP_TREAT_AS_WITHDRAW, 3,
	 BGP_UPD_MISSING_WELLKNOWN},
	{"AS_PATH segment type 5", B(ORIGIN, 0x40, 2, 6, 5, 1, 0, 0, 0xfd, 0xe9, NH), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_MALFORMED_AS_PATH},
	{"AS_PATH segment of 0 ASes", B(ORIGIN, 0x40, 2, 2, 2, 0, NH), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_MALFORMED_AS_PATH},
	{"AS_PATH segment overruns", B(ORIGIN, 0x40, 2, 6, 2, 2, 0, 0, 0xfd, 0xe9, NH), true,
	 false, BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_MALFORMED_AS_PATH},
	{"AS_PATH does not start with the peer", B(ORIGIN, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea, NH),
	 true, false, BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_MALFORMED_AS_PATH},
	{"AS_PATH empty from eBGP", B(ORIGIN, 0x40, 2, 0, NH), true, false, BGP_TREAT_AS_WITHDRAW,
	 3, BGP_UPD_MALFORMED_AS_PATH},
	{"NEXT_HOP length 3", B(ORIGIN, ASPATH, 0x40, 3, 3, 1, 2, 3), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_LENGTH},
	{"NEXT_HOP multicast", B(ORIGIN, ASPATH, 0x40, 3, 4, 224, 0, 0, 1), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_INVALID_NEXT_HOP},
	{"NEXT_HOP 0.0.0.0", B(ORIGIN, ASPATH, 0x40, 3, 4, 0, 0, 0, 0), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_INVALID_NEXT_HOP},
	{"MED length 2", B(ORIGIN, ASPATH, NH, 0x80, 4, 2, 0, 0), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_LENGTH},
	{"LOCAL_PREF from eBGP", B(ORIGIN, ASPATH, NH, 0x40, 5, 4, 0, 0, 0, 100), true, false,
	 BGP_ATTR_DISCARD, 3, BGP_UPD_OPTIONAL_ATTR},
	{"LOCAL_PREF length 3 on iBGP", B(ORIGIN, 0x40, 2, 0, NH, 0x40, 5, 3, 0, 0, 100), true,
	 true, BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_LENGTH},
	{"ATOMIC_AGGREGATE length 1", B(ORIGIN, ASPATH, NH, 0x40, 6, 1, 0), true, false,
	 BGP_ATTR_DISCARD, 3, BGP_UPD_ATTR_LENGTH},
	{"AGGREGATOR length 5", B(ORIGIN, ASPATH, NH, 0xc0, 7, 5, 0, 0, 0, 0, 0), true, false,
	 BGP_ATTR_DISCARD, 3, BGP_UPD_ATTR_LENGTH},
	{"COMMUNITIES length 5", B(ORIGIN, ASPATH, NH, 0xc0, 8, 5, 0, 0, 0, 0, 0), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_OPTIONAL_ATTR},
	{"COMMUNITIES flagged well-known", B(ORIGIN, ASPATH, NH, 0x40, 8, 4, 0, 0, 0, 1), true,
	 false, BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_FLAGS},
	{"ORIGINATOR_ID length 2", B(ORIGIN, ASPATH, NH, 0x80, 9, 2, 0, 0), true, true,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_LENGTH},
	{"CLUSTER_LIST length 3", B(ORIGIN, 0x40, 2, 0, NH, 0x80, 10, 3, 0, 0, 0), true, true,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_OPTIONAL_ATTR},
	{"LARGE_COMMUNITY length 13", B(ORIGIN, ASPATH, NH, 0xc0, 32, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0),
	 true, false, BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_OPTIONAL_ATTR},
	{"AS4_PATH malformed", B(ORIGIN, ASPATH, NH, 0xc0, 17, 3, 2, 1, 0), true, false,
	 BGP_ATTR_DISCARD, 3, BGP_UPD_OPTIONAL_ATTR},
	{"AS4_AGGREGATOR length 6", B(ORIGIN, ASPATH, NH, 0xc0, 18, 6, 0, 0, 0, 0, 0, 0), true,
	 false, BGP_ATTR_DISCARD, 3, BGP_UPD_OPTIONAL_ATTR},
	{"ORIGIN twice", B(ORIGIN, ORIGIN, ASPATH, NH), true, false, BGP_ATTR_DISCARD, 3,
	 BGP_UPD_MALFORMED_ATTR_LIST},
	{"unrecognized well-known attribute", B(ORIGIN, ASPATH, NH, 0x40, 99, 0), true, false,
	 BGP_RESET, 3, BGP_UPD_UNRECOGNIZED_WELLKNOWN},
	{"attribute header cut (2 bytes left)", B(ORIGIN, ASPATH, NH, 0x40, 1), true, false,
	 BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_MALFORMED_ATTR_LIST},
	{"attribute overruns the attribute field", B(ORIGIN, ASPATH, NH, 0xc0, 8, 8, 0, 0, 0, 1),
	 true, false, BGP_TREAT_AS_WITHDRAW, 3, BGP_UPD_ATTR_LENGTH},
	{"MP_REACH overruns", B(ORIGIN, ASPATH, 0x80, 14, 40, 0, 2, 1, 16), false, false, BGP_RESET,
	 3, BGP_UPD_OPTIONAL_ATTR},
	{"MP_REACH next hop length 5", B(ORIGIN, ASPATH, 0x80, 14, 11, 0, 2, 1, 5, 1, 2, 3, 4, 5,
					 0, 0),
	 false, false, BGP_RESET, 3, BGP_UPD_OPTIONAL_ATTR},
	{"MP_REACH truncated before the reserved byte", B(ORIGIN, ASPATH, 0x80, 14, 3, 0, 2, 1),
	 false, false, BGP_RESET, 3, BGP_UPD_OPTIONAL_ATTR},
	{"MP_REACH prefix length 129", B(ORIGIN, ASPATH, 0x80, 14, 22, 0, 2, 1, 16, 0x20, 1, 0xd,
					 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 129),
	 false, false, BGP_RESET, 3, BGP_UPD_INVALID_NETWORK},
	{"MP_REACH twice", B(ORIGIN, ASPATH, 0x80, 14, 5, 0, 99, 1, 0, 0, 0x80, 14, 5, 0, 99, 1, 0, 0),
	 false, false, BGP_RESET, 3, BGP_UPD_MALFORMED_ATTR_LIST},
	{"MP_UNREACH truncated", B(0x80, 15, 2, 0, 2), false, false, BGP_RESET, 3,
	 BGP_UPD_OPTIONAL_ATTR},
	{"MP_UNREACH prefix cut", B(0x80, 15, 5, 0, 2, 1, 64, 0x20), false, false, BGP_RESET, 3,
	 BGP_UPD_INVALID_NETWORK},
	{"valid MP_REACH v6 without NEXT_HOP", B(ORIGIN, ASPATH, 0x80, 14, 26, 0, 2, 1, 16, 0x20, 1,
						 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
						 0, 32, 0x20, 1, 0xd, 0xb8),
	 false, false, BGP_OK, 0, 0},
	{"MP_REACH for an unknown AFI is skipped", B(ORIGIN, ASPATH, 0x80, 14, 5, 0, 99, 1, 0, 0),
	 false, false, BGP_OK, 0, 0},
	{"treat-as-withdraw and reset: reset wins", B(0x40, 1, 1, 9, ASPATH, NH, 0x40, 99, 0), true,
	 false, BGP_RESET, 3, BGP_UPD_UNRECOGNIZED_WELLKNOWN},
};

static void test_bad_updates(void **state)
{
	uint8_t *hold = NULL;
	static const uint8_t nlri[] = {NLRI};
	uint8_t m[BGP_MAX_MSG];
	for (size_t i = 0; i < sizeof(bad_updates) / sizeof(bad_updates[0]); i++) {
		const struct bad_update *b = &bad_updates[i];
		struct bgp_update u;
		struct bgp_err err;
		size_t n = mk_update(m, b->attrs, b->alen, nlri, b->nlri ? sizeof(nlri) : 0);
		enum bgp_verdict v = parse_exact(&hold, m, n, b->ibgp ? &ibgp_dec : &ebgp_dec, &u, &err);
		if (v != b->verdict || (v != BGP_OK && (err.code != b->code ||
							err.subcode != b->subcode)))
			fail_msg("%s: got verdict %d %u/%u (%s), want %d %u/%u", b->name, v, err.code,
				 err.subcode, err.why, b->verdict, b->code, b->subcode);
	}
	free(hold);
}

static void test_missing_attr_data(void **state)
{
	uint8_t *hold = NULL;
	static const uint8_t attrs[] = {ASPATH, NH};
	static const uint8_t nlri[] = {NLRI};
	uint8_t m[BGP_MAX_MSG];
	struct bgp_update u;
	struct bgp_err err;
	size_t n = mk_update(m, attrs, sizeof(attrs), nlri, sizeof(nlri));
	assert_int_equal(parse_exact(&hold, m, n, &ebgp_dec, &u, &err), BGP_TREAT_AS_WITHDRAW);
	/* RFC 4271 6.3: the data of Missing Well-known Attribute is the missing type code */
	assert_int_equal(err.data_len, 1);
	assert_int_equal(err.data[0], BGP_ATTR_ORIGIN);
	free(hold);
}

struct bad_raw {
	const char *name;
	uint8_t type;
	const uint8_t *body;
	size_t blen;
	uint8_t code, subcode;
	int fix; /* 1: break the marker, 2: length field 18, 3: length field 4097 */
	/* rows: name, type, body (B(...) gives bytes and length), code, subcode, fix */
};

/* OPEN body: version, AS 65001, hold 90, id 10.0.0.1, optional parameters. */
#define OPENH(ver, hold, id0) ver, 0xfd, 0xe9, 0, hold, id0, 0, 0, 1

static const struct bad_raw bad_raws[] = {
	{"marker not all ones", BGP_KEEPALIVE, B(0), 1, BGP_HDR_NOT_SYNC, 1},
	{"length 18", BGP_KEEPALIVE, B(0), 1, BGP_HDR_BAD_LENGTH, 2},
	{"length 4097", BGP_KEEPALIVE, B(0), 1, BGP_HDR_BAD_LENGTH, 3},
	{"type 0", 0, B(0), 1, BGP_HDR_BAD_TYPE, 0},
	{"type 6", 6, B(0), 1, BGP_HDR_BAD_TYPE, 0},
	{"KEEPALIVE of 20 bytes", BGP_KEEPALIVE, B(0), 1, BGP_HDR_BAD_LENGTH, 0},
	{"OPEN of 28 bytes", BGP_OPEN, B(OPENH(4, 90, 10)), 1, BGP_HDR_BAD_LENGTH, 0},
	{"UPDATE of 22 bytes", BGP_UPDATE, B(0, 0, 0), 1, BGP_HDR_BAD_LENGTH, 0},
	{"NOTIFICATION of 20 bytes", BGP_NOTIFICATION, B(6), 1, BGP_HDR_BAD_LENGTH, 0},
	{"ROUTE-REFRESH of 22 bytes", BGP_ROUTE_REFRESH, B(0, 1, 0), 1, BGP_HDR_BAD_LENGTH, 0},
	{"ROUTE-REFRESH of 24 bytes", BGP_ROUTE_REFRESH, B(0, 1, 0, 1, 0), BGP_ERR_ROUTE_REFRESH,
	 BGP_RR_BAD_LENGTH, 0},
	{"OPEN version 3", BGP_OPEN, B(OPENH(3, 90, 10), 0), BGP_ERR_OPEN, BGP_OPEN_UNSUP_VERSION,
	 0},
	{"OPEN hold time 1", BGP_OPEN, B(OPENH(4, 1, 10), 0), BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, 0},
	{"OPEN hold time 2", BGP_OPEN, B(OPENH(4, 2, 10), 0), BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, 0},
	{"OPEN BGP identifier 0", BGP_OPEN, B(4, 0xfd, 0xe9, 0, 90, 0, 0, 0, 0, 0), BGP_ERR_OPEN,
	 BGP_OPEN_BAD_BGP_ID, 0},
	{"OPEN AS 0", BGP_OPEN, B(4, 0, 0, 0, 90, 10, 0, 0, 1, 0), BGP_ERR_OPEN,
	 BGP_OPEN_BAD_PEER_AS, 0},
	{"OPEN authentication parameter", BGP_OPEN, B(OPENH(4, 90, 10), 3, 1, 1, 0), BGP_ERR_OPEN,
	 BGP_OPEN_UNSUP_OPT_PARAM, 0},
	{"OPEN parameters overrun", BGP_OPEN, B(OPENH(4, 90, 10), 8, 2, 2, 2, 0), BGP_ERR_OPEN, 0,
	 0},
	{"OPEN bytes after parameters", BGP_OPEN, B(OPENH(4, 90, 10), 0, 0), BGP_ERR_OPEN, 0, 0},
	{"OPEN capability overruns", BGP_OPEN, B(OPENH(4, 90, 10), 4, 2, 2, 65, 4), BGP_ERR_OPEN, 0,
	 0},
	{"OPEN 4-octet AS capability of 2", BGP_OPEN, B(OPENH(4, 90, 10), 6, 2, 4, 65, 2, 0, 1),
	 BGP_ERR_OPEN, 0, 0},
	{"OPEN 4-octet AS 0", BGP_OPEN, B(OPENH(4, 90, 10), 8, 2, 6, 65, 4, 0, 0, 0, 0),
	 BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, 0},
	{"OPEN multiprotocol capability of 3", BGP_OPEN, B(OPENH(4, 90, 10), 7, 2, 5, 1, 3, 0, 1, 0),
	 BGP_ERR_OPEN, 0, 0},
	{"OPEN graceful restart capability of 3", BGP_OPEN,
	 B(OPENH(4, 90, 10), 7, 2, 5, 64, 3, 0, 0, 0), BGP_ERR_OPEN, 0, 0},
	{"UPDATE withdrawn length overruns", BGP_UPDATE, B(0, 9, 0, 0), BGP_ERR_UPDATE,
	 BGP_UPD_MALFORMED_ATTR_LIST, 0},
	{"UPDATE attribute length overruns", BGP_UPDATE, B(0, 0, 0, 9, 0x40, 1, 1, 0),
	 BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, 0},
	{"UPDATE withdrawn prefix /33", BGP_UPDATE, B(0, 5, 33, 10, 0, 0, 0, 0, 0), BGP_ERR_UPDATE,
	 BGP_UPD_INVALID_NETWORK, 0},
	{"UPDATE NLRI prefix cut", BGP_UPDATE, B(0, 0, 0, 0, 24, 10, 0), BGP_ERR_UPDATE,
	 BGP_UPD_INVALID_NETWORK, 0},
};

static void test_bad_messages(void **state)
{
	uint8_t m[BGP_MAX_MSG + 8];
	for (size_t i = 0; i < sizeof(bad_raws) / sizeof(bad_raws[0]); i++) {
		const struct bad_raw *b = &bad_raws[i];
		uint8_t code = b->code, sub = b->subcode;
		size_t n = mk(m, b->type, b->body, b->blen);
		if (b->fix == 1)
			m[3] = 0xfe;
		if (b->fix == 2)
			m[16] = 0, m[17] = 18;
		if (b->fix == 3)
			m[16] = 0x10, m[17] = 0x01;
		bool ok;
		struct bgp_err err;
		uint8_t *c = malloc(n);
		assert_non_null(c);
		memcpy(c, m, n);
		int rc = -1;
		uint16_t len;
		uint8_t type;
		if (bgp_hdr_parse(c, n, &len, &type, &err) == 0) {
			rc = parse_any(c, n, &ok);
			/* parse_any does not give us err; parse again by type for the codes */
			switch (type) {
			case BGP_OPEN: {
				struct bgp_open o;
				bgp_open_parse(c, n, &o, &err);
				break;
			}
			case BGP_UPDATE: {
				struct bgp_update u;
				bgp_update_parse(c, n, &ebgp_dec, &u, &err);
				break;
			}
			case BGP_ROUTE_REFRESH: {
				struct bgp_route_refresh r;
				bgp_route_refresh_parse(c, n, &r, &err);
				break;
			}
			default:
				break;
			}
		}
		free(c);
		if (rc == 0 || err.code != code || err.subcode != sub)
			fail_msg("%s: got rc %d %u/%u (%s), want %u/%u", b->name, rc, err.code,
				 err.subcode, err.why, code, sub);
	}
}

static void test_bad_open_data(void **state)
{
	uint8_t m[64];
	struct bgp_open o;
	struct bgp_err err;
	size_t n = mk(m, BGP_OPEN, B(OPENH(3, 90, 10), 0));
	assert_int_equal(bgp_open_parse(m, n, &o, &err), -1);
	/* RFC 4271 6.2: the data is the largest supported version as 2 octets */
	assert_int_equal(err.data_len, 2);
	assert_int_equal(err.data[0], 0);
	assert_int_equal(err.data[1], 4);
	/* RFC 4271 6.1: Bad Message Length carries the length field */
	uint16_t len;
	uint8_t type;
	m[16] = 0x20;
	m[17] = 0x00;
	assert_int_equal(bgp_hdr_parse(m, n, &len, &type, &err), -1);
	assert_int_equal(err.data_len, 2);
	assert_int_equal(err.data[0], 0x20);
	assert_int_equal(err.data[1], 0x00);
}

/* ---------- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ---------- */

static void test_notification(void **state)
{
	uint8_t m[BGP_MAX_MSG];
	struct bgp_notification x;
	struct bgp_err err;
	int n = bgp_shutdown_build(BGP_CEASE_ADMIN_SHUTDOWN, "maintenance\nnow", m, sizeof(m));
	assert_int_equal(n, 21 + 1 + 15);
	assert_int_equal(bgp_notification_parse(m, (size_t)n, &x, &err), 0);
	assert_int_equal(x.code, BGP_ERR_CEASE);
	assert_int_equal(x.subcode, BGP_CEASE_ADMIN_SHUTDOWN);
	assert_string_equal(x.shutdown_msg, "maintenance?now");
	/* a Shutdown Communication whose length overruns is left unread */
	m[21] = 200;
	assert_int_equal(bgp_notification_parse(m, (size_t)n, &x, &err), 0);
	assert_string_equal(x.shutdown_msg, "");
	/* long messages are cut at 255 bytes */
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = bgp_shutdown_build(BGP_CEASE_ADMIN_RESET, big, m, sizeof(m));
	assert_int_equal(n, 21 + 1 + 255);
	assert_int_equal(bgp_notification_parse(m, (size_t)n, &x, &err), 0);
	assert_int_equal(strlen(x.shutdown_msg), 255);

	uint8_t data[] = {0, 4};
	n = bgp_notification_build(BGP_ERR_OPEN, BGP_OPEN_UNSUP_VERSION, data, 2, m, sizeof(m));
	assert_int_equal(bgp_notification_parse(m, (size_t)n, &x, &err), 0);
	assert_int_equal(x.data_len, 2);
	assert_int_equal(x.data[1], 4);
	assert_string_equal(x.shutdown_msg, "");
}

static void test_keepalive_route_refresh(void **state)
{
	uint8_t m[64];
	struct bgp_err err;
	struct bgp_route_refresh r;
	int n = bgp_keepalive_build(m, sizeof(m));
	assert_int_equal(n, 19);
	assert_int_equal(bgp_keepalive_parse(m, 19, &err), 0);
	assert_int_equal(bgp_keepalive_build(m, 18), -1);
	n = bgp_route_refresh_build(BGP_AFI_IPV4, BGP_SAFI_UNICAST, m, sizeof(m));
	assert_int_equal(n, 23);
	assert_int_equal(bgp_route_refresh_parse(m, 23, &r, &err), 0);
	assert_int_equal(r.afi, 1);
	assert_int_equal(r.safi, 1);
	assert_int_equal(r.subtype, 0);
	/* a parser for one type refuses another */
	assert_int_equal(bgp_keepalive_parse(m, 23, &err), -1);
	assert_int_equal(err.subcode, BGP_HDR_BAD_TYPE);
}

static void test_names(void **state)
{
	char b[96];
	assert_string_equal(bgp_err_name(6, 2, b, sizeof(b)), "Cease/Administrative Shutdown");
	assert_string_equal(bgp_err_name(2, 2, b, sizeof(b)), "OPEN Message Error/Bad Peer AS");
	assert_string_equal(bgp_err_name(4, 0, b, sizeof(b)), "Hold Timer Expired");
	assert_string_equal(bgp_err_name(3, 99, b, sizeof(b)), "UPDATE Message Error/subcode 99");
	assert_string_equal(bgp_err_name(42, 1, b, sizeof(b)), "code 42/subcode 1");
	assert_string_equal(bgp_type_name(BGP_ROUTE_REFRESH), "ROUTE-REFRESH");
	assert_string_equal(bgp_type_name(9), "?");
}

static void test_prefix_encoding(void **state)
{
	/* RFC 4271 4.3: trailing bits past the length are ignored; lengths past the family fail */
	uint8_t b[] = {20, 10, 1, 0xff, 0, 33, 1, 2, 3, 4, 5};
	struct buf_reader r;
	prefix_t p;
	char s[64];
	buf_reader_init(&r, b, sizeof(b));
	assert_int_equal(bgp_prefix_next(&r, AF_INET, &p), 0);
	prefix_format(&p, s, sizeof(s));
	assert_string_equal(s, "10.1.240.0/20");
	assert_int_equal(bgp_prefix_next(&r, AF_INET, &p), 0);
	prefix_format(&p, s, sizeof(s));
	assert_string_equal(s, "0.0.0.0/0");
	assert_int_equal(bgp_prefix_next(&r, AF_INET, &p), -1);
	assert_int_equal(buf_left(&r), 6); /* the cursor stays on the bad prefix */
	prefix_t q = pfx("10.0.0.0/9");
	assert_int_equal(bgp_prefix_wire_len(&q), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_roundtrip),
		cmocka_unit_test(test_open_checks_and_caps),
		cmocka_unit_test(test_open_extended_params),
		cmocka_unit_test(test_update_v4_packs_and_roundtrips),
		cmocka_unit_test(test_update_ibgp_and_as_trans),
		cmocka_unit_test(test_update_v6_mp_reach),
		cmocka_unit_test(test_withdraw_and_eor),
		cmocka_unit_test(test_every_truncation_rejected),
		cmocka_unit_test(test_bad_updates),
		cmocka_unit_test(test_missing_attr_data),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_bad_open_data),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_keepalive_route_refresh),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_prefix_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
