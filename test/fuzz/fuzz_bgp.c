/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_bgp: libFuzzer target for the BGP codec. The first byte picks a mode: 0-4 one message into
 * each parser, 5 a byte stream framed like session.c does and fed through the parsers into the
 * FSM, 6 builder round trips (prefixes and attributes from the input, built, parsed back). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../../speaker/bgp/fsm.h"
#include "../../speaker/bgp/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parser may fail, but never silently: a failure names a NOTIFICATION. */
static void check_err(int rc, const struct bgp_err *err)
{
	if (rc < 0 && (err->code == 0 || err->verdict != BGP_RESET))
		__builtin_trap();
}

/* Every prefix list an accepted UPDATE claims must read back completely. */
static void check_update(const struct bgp_update *u)
{
	struct buf_reader r[4] = {u->withdrawn, u->nlri, u->mp_reach, u->mp_unreach};
	int fam[4] = {AF_INET, AF_INET, u->mp_reach_family, u->mp_unreach_family};
	size_t want[4] = {u->n_withdrawn, u->n_nlri, u->n_mp_reach, u->n_mp_unreach};
	for (int i = 0; i < 4; i++) {
		prefix_t p;
		size_t n = 0;
		if (fam[i] == 0)
			continue;
		while (bgp_prefix_next(&r[i], fam[i], &p) == 0)
			n++;
		if (n != want[i] || buf_left(&r[i]) != 0)
			__builtin_trap();
	}
	for (size_t i = 0; i < u->n_communities; i++)
		(void)bgp_update_community(u, i);
	for (size_t i = 0; i < u->n_large; i++)
		(void)bgp_update_large(u, i);
}

static void one(uint8_t mode, const uint8_t *p, size_t n, const struct bgp_dec *d)
{
	struct bgp_err err;
	switch (mode) {
	case 0: {
		struct bgp_open o;
		int rc = bgp_open_parse(p, n, &o, &err);
		check_err(rc, &err);
		if (rc == 0) {
			struct bgp_open ours = {.asn = 65000, .hold_time = 90, .bgp_id = 1,
						.cap_as4 = true, .cap_mp_ipv4 = true};
			struct bgp_caps c;
			bgp_caps_negotiate(&ours, &o, &c);
			if (c.hold_time > 90 || (o.hold_time == 1 || o.hold_time == 2))
				__builtin_trap();
			(void)bgp_open_check(&o, 65001, 1, true, &err);
		}
		break;
	}
	case 1: {
		struct bgp_update u;
		enum bgp_verdict v = bgp_update_parse(p, n, d, &u, &err);
		if (v != BGP_OK && err.code == 0)
			__builtin_trap();
		if (v != BGP_RESET)
			check_update(&u);
		break;
	}
	case 2: {
		struct bgp_notification x;
		check_err(bgp_notification_parse(p, n, &x, &err), &err);
		if (strlen(x.shutdown_msg) > 255)
			__builtin_trap();
		break;
	}
	case 3:
		check_err(bgp_keepalive_parse(p, n, &err), &err);
		break;
	case 4: {
		struct bgp_route_refresh x;
		check_err(bgp_route_refresh_parse(p, n, &x, &err), &err);
		break;
	}
	default:
		break;
	}
}

/* Frame a byte stream the way session.c does and drive the FSM with what comes out. */
static void stream(const uint8_t *p, size_t n)
{
	struct bgp_fsm f;
	struct bgp_fsm_cfg cfg = {.hold_time_s = 90};
	struct bgp_actions a;
	struct bgp_dec d = {.as4 = true, .ibgp = false, .peer_as = 65001};
	uint64_t now = 0;
	bgp_fsm_init(&f, &cfg, 1);
	bgp_fsm_event(&f, &(struct bgp_event){.type = BGP_EV_MANUAL_START}, now, &a);
	bgp_fsm_event(&f, &(struct bgp_event){.type = BGP_EV_TCP_CONNECTED}, now, &a);
	size_t off = 0;
	while (n - off >= BGP_HDR_LEN && f.state != BGP_IDLE) {
		uint16_t len;
		uint8_t type;
		struct bgp_err err;
		struct bgp_event ev = {0};
		now += 1000;
		if (bgp_hdr_parse(p + off, n - off, &len, &type, &err) < 0) {
			ev.type = BGP_EV_MSG_ERROR;
		} else if (n - off < len) {
			break;
		} else {
			const uint8_t *m = p + off;
			off += len;
			switch (type) {
			case BGP_OPEN: {
				struct bgp_open o;
				if (bgp_open_parse(m, len, &o, &err) < 0 ||
				    bgp_open_check(&o, 65001, 1, false, &err) < 0) {
					ev.type = BGP_EV_MSG_ERROR;
				} else {
					ev.type = BGP_EV_OPEN;
					ev.peer_hold = o.hold_time;
				}
				break;
			}
			case BGP_UPDATE: {
				struct bgp_update u;
				enum bgp_verdict v = bgp_update_parse(m, len, &d, &u, &err);
				ev.type = v == BGP_RESET ? BGP_EV_MSG_ERROR : BGP_EV_UPDATE;
				if (v != BGP_RESET)
					check_update(&u);
				break;
			}
			case BGP_NOTIFICATION:
				ev.type = BGP_EV_NOTIFICATION;
				break;
			case BGP_KEEPALIVE:
				ev.type = BGP_EV_KEEPALIVE;
				break;
			default: {
				struct bgp_route_refresh rr;
				ev.type = bgp_route_refresh_parse(m, len, &rr, &err) < 0
						  ? BGP_EV_MSG_ERROR
						  : BGP_EV_ROUTE_REFRESH;
				break;
			}
			}
		}
		ev.code = err.code;
		ev.subcode = err.subcode;
		enum bgp_state before = f.state;
		bgp_fsm_event(&f, &ev, now, &a);
		/* invariants: Established only from OpenConfirm on a KEEPALIVE; errors end it */
		if (f.state == BGP_ESTABLISHED && before != BGP_ESTABLISHED &&
		    !(before == BGP_OPENCONFIRM && ev.type == BGP_EV_KEEPALIVE))
			__builtin_trap();
		if (ev.type == BGP_EV_MSG_ERROR && f.state != BGP_IDLE)
			__builtin_trap();
		if (a.n > BGP_ACTIONS_MAX)
			__builtin_trap();
	}
}

/* Build from fuzzed prefixes and attributes, parse back, compare. */
static void roundtrip(const uint8_t *p, size_t n)
{
	struct buf_reader r;
	uint8_t flags = 0, nc = 0, nl = 0, np = 0;
	prefix_t px[64];
	uint32_t comm[32];
	struct bgp_large_community lc[16];
	uint8_t m[BGP_MAX_MSG];

	buf_reader_init(&r, p, n);
	if (buf_get_u8(&r, &flags) < 0 || buf_get_u8(&r, &nc) < 0 || buf_get_u8(&r, &nl) < 0 ||
	    buf_get_u8(&r, &np) < 0)
		return;
	int family = (flags & 1) ? AF_INET6 : AF_INET;
	nc %= 32;
	nl %= 16;
	np %= 64;
	for (uint8_t i = 0; i < nc; i++)
		if (buf_get_u32(&r, &comm[i]) < 0)
			return;
	for (uint8_t i = 0; i < nl; i++)
		if (buf_get_u32(&r, &lc[i].global) < 0 || buf_get_u32(&r, &lc[i].local1) < 0 ||
		    buf_get_u32(&r, &lc[i].local2) < 0)
			return;
	size_t k = 0;
	for (; k < np; k++) {
		uint8_t len;
		memset(&px[k], 0, sizeof(px[k]));
		if (buf_get_u8(&r, &len) < 0 || buf_get_bytes(&r, px[k].a.b, 16) < 0)
			break;
		px[k].a.family = (uint8_t)family;
		px[k].len = (uint8_t)(len % (family == AF_INET ? 33 : 129));
		addr_mask(&px[k].a, px[k].len);
	}
	if (k == 0)
		return;
	struct bgp_enc e = {.local_as = (flags & 2) ? 4200000000u : 65000, .ibgp = (flags & 4) != 0,
			    .as4 = (flags & 8) != 0};
	struct bgp_attrs at = {.has_local_pref = (flags & 16) != 0, .local_pref = 100,
			       .communities = comm, .n_communities = nc, .large = lc, .n_large = nl,
			       .has_ll = family == AF_INET6 && (flags & 32)};
	addr_parse(family == AF_INET ? "192.0.2.1" : "2001:db8::1", &at.next_hop);
	addr_parse("fe80::1", &at.next_hop_ll);
	struct bgp_dec d = {.as4 = e.as4, .ibgp = e.ibgp, .peer_as = e.ibgp ? 0 : e.local_as};
	size_t off = 0;
	bool withdraw = (flags & 64) != 0;
	while (off < k) {
		size_t used = 0;
		int len = withdraw ? bgp_withdraw_build(family, px + off, k - off, &used, m, sizeof(m))
				   : bgp_update_build(&e, &at, family, px + off, k - off, &used, m,
						      sizeof(m));
		if (len < 0 || used == 0 || len > BGP_MAX_MSG)
			__builtin_trap();
		struct bgp_update u;
		struct bgp_err err;
		if (bgp_update_parse(m, (size_t)len, &d, &u, &err) != BGP_OK)
			__builtin_trap();
		struct buf_reader pr = withdraw ? (family == AF_INET ? u.withdrawn : u.mp_unreach)
						: (family == AF_INET ? u.nlri : u.mp_reach);
		for (size_t i = 0; i < used; i++) {
			prefix_t got;
			if (bgp_prefix_next(&pr, family, &got) < 0 || got.len != px[off + i].len ||
			    !addr_eq(&got.a, &px[off + i].a))
				__builtin_trap();
		}
		if (!withdraw && u.n_communities != nc)
			__builtin_trap();
		off += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 7;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	static const struct bgp_dec decs[2] = {{.as4 = true, .ibgp = false, .peer_as = 65001},
					       {.as4 = false, .ibgp = true, .peer_as = 0}};
	if (mode <= 4) {
		one(mode, p, n, &decs[data[0] / 7 % 2]);
		/* and every parser on the same bytes, whatever their type */
		for (uint8_t m = 0; m <= 4; m++)
			if (m != mode)
				one(m, p, n, &decs[0]);
	} else if (mode == 5) {
		stream(p, n);
	} else {
		roundtrip(p, n);
	}
	return 0;
}
