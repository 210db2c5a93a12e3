/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for speaker/bgp/session.c against a scripted BGP peer written here: a forked child enters a
 * new network namespace (unshare(CLONE_NEWNET)), brings lo up, and plays the router on a loopback
 * TCP listener while the session runs in the loop. Nothing leaves the namespace, which dies with
 * the child. Needs root; otherwise the whole file is one skipped test. */
#define _GNU_SOURCE /* unshare, accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "netns_main.h"

#include "../../speaker/bgp/session.h"
#include "barelb/log.h"
#include "barelb/loop.h"

#define LOCAL_AS 64512u
#define PEER_AS  4200000001u
#define PEER_ID  0x0a0000feu

struct t {
	struct loop *l;
	struct loop_timer *stop;
	struct bgp_session *s;
	int lfd, pfd;
	uint16_t port;
	uint8_t *in;
	size_t in_len;
	int done_calls;
	bool peer_gr;
};

#define INBOX (8u << 20)

/* ---------- plumbing ---------- */

static void on_stop(void *arg)
{
	loop_stop(arg);
}

static void pump(struct t *t, unsigned ms)
{
	loop_timer_arm(t->stop, ms);
	assert_int_equal(loop_run(t->l), 0);
	loop_timer_cancel(t->stop);
}

static void set_md5(int fd, const char *peer, const char *key)
{
	struct tcp_md5sig m;
	memset(&m, 0, sizeof(m));
	struct sockaddr_in *sin = (struct sockaddr_in *)&m.tcpm_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, peer, &sin->sin_addr);
	m.tcpm_keylen = (uint16_t)strlen(key);
	memcpy(m.tcpm_key, key, m.tcpm_keylen);
	assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof(m)), 0);
}

static void listen_on(struct t *t, bool v6, const char *md5key)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	t->lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(t->lfd >= 0);
	int one = 1;
	setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	}
	if (md5key != NULL)
		set_md5(t->lfd, "127.0.0.1", md5key);
	assert_int_equal(bind(t->lfd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(listen(t->lfd, 8), 0);
	assert_int_equal(getsockname(t->lfd, (struct sockaddr *)&ss, &sl), 0);
	t->port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			   : ((struct sockaddr_in *)&ss)->sin_port);
}

static struct bgp_session_cfg base_cfg(struct t *t, bool ibgp)
{
	struct bgp_session_cfg c = {0};
	c.name = "router";
	c.local_as = LOCAL_AS;
	c.peer_as = ibgp ? LOCAL_AS : PEER_AS;
	addr_parse("127.0.0.1", &c.peer_addr);
	c.peer_port = t->port;
	c.hold_time_s = 90;
	c.router_id = 0x0a000001;
	c.backoff_min_ms = 50;
	c.backoff_max_ms = 200;
	return c;
}

static bool peer_accept(struct t *t, unsigned ms)
{
	for (unsigned waited = 0; waited < ms; waited += 5) {
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (t->pfd >= 0)
				close(t->pfd);
			t->pfd = fd;
			t->in_len = 0;
			return true;
		}
		pump(t, 5);
	}
	return false;
}

/* Next whole message from the session: its type (copied to msg/n), -1 on timeout, -2 on EOF. */
static int peer_recv(struct t *t, uint8_t *msg, size_t *n, unsigned ms)
{
	for (unsigned waited = 0;; waited += 2) {
		if (t->in_len >= BGP_HDR_LEN) {
			size_t len = (size_t)t->in[16] << 8 | t->in[17];
			assert_true(len >= BGP_HDR_LEN && len <= BGP_MAX_MSG);
			if (t->in_len >= len) {
				int type = t->in[18];
				if (msg != NULL)
					memcpy(msg, t->in, len);
				if (n != NULL)
					*n = len;
				memmove(t->in, t->in + len, t->in_len - len);
				t->in_len -= len;
				return type;
			}
		}
		ssize_t k = recv(t->pfd, t->in + t->in_len, INBOX - t->in_len, 0);
		if (k == 0)
			return -2;
		if (k > 0) {
			t->in_len += (size_t)k;
			continue;
		}
		if (errno == ECONNRESET)
			return -2;
		if (waited >= ms)
			return -1;
		pump(t, 2);
	}
}

static void peer_send(struct t *t, const uint8_t *m, size_t n)
{
	assert_int_equal(send(t->pfd, m, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void peer_send_open(struct t *t, uint32_t asn, uint16_t hold)
{
	uint8_t m[BGP_MAX_MSG];
	struct bgp_open o = {.asn = asn, .hold_time = hold, .bgp_id = PEER_ID, .cap_as4 = true,
			     .cap_mp_ipv4 = true, .cap_mp_ipv6 = true, .cap_route_refresh = true};
	if (t->peer_gr) {
		o.cap_gr = true;
		o.gr_time = 120;
		o.gr_ipv4 = o.gr_ipv6 = true;
	}
	int n = bgp_open_build(&o, m, sizeof(m));
	assert_true(n > 0);
	peer_send(t, m, (size_t)n);
}

static void peer_send_keepalive(struct t *t)
{
	uint8_t m[BGP_HDR_LEN];
	assert_int_equal(bgp_keepalive_build(m, sizeof(m)), BGP_HDR_LEN);
	peer_send(t, m, sizeof(m));
}

static bool wait_state(struct t *t, enum bgp_state st, unsigned ms)
{
	for (unsigned waited = 0; waited <= ms; waited += 5) {
		if (bgp_session_state(t->s) == st)
			return true;
		pump(t, 5);
	}
	return bgp_session_state(t->s) == st;
}

/* Accept the session's connection and do the OPEN exchange; Established at the end. */
static void handshake(struct t *t, uint32_t asn, uint16_t hold, struct bgp_open *theirs)
{
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	struct bgp_err err;
	assert_true(peer_accept(t, 3000));
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_OPEN);
	struct bgp_open o;
	assert_int_equal(bgp_open_parse(m, n, &o, &err), 0);
	if (theirs != NULL)
		*theirs = o;
	peer_send_open(t, asn, hold);
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_KEEPALIVE);
	peer_send_keepalive(t);
	assert_true(wait_state(t, BGP_ESTABLISHED, 2000));
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->l = loop_new();
	t->stop = loop_timer_new(t->l, on_stop, t->l);
	t->in = malloc(INBOX);
	assert_non_null(t->in);
	t->pfd = -1;
	listen_on(t, false, NULL);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	bgp_session_free(t->s);
	if (t->pfd >= 0)
		close(t->pfd);
	close(t->lfd);
	loop_timer_free(t->stop);
	loop_free(t->l);
	free(t->in);
	free(t);
	return 0;
}

/* Decoded UPDATEs: prefixes announced/withdrawn, End-of-RIB markers, plus the last attributes. */
struct seen {
	size_t announced, withdrawn, updates, eor;
	prefix_t *ann;   /* announced prefixes, in order */
	size_t cap;
	struct bgp_update last;
	uint8_t last_msg[BGP_MAX_MSG];
};

static void seen_add(struct seen *s, const prefix_t *p)
{
	if (s->announced == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->ann = realloc(s->ann, s->cap * sizeof(*s->ann));
		assert_non_null(s->ann);
	}
	s->ann[s->announced++] = *p;
}

/* Read UPDATEs until none arrives for quiet_ms; any other message type fails. */
static void collect(struct t *t, const struct bgp_dec *d, struct seen *s, unsigned quiet_ms)
{
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	int type;
	while ((type = peer_recv(t, m, &n, quiet_ms)) >= 0) {
		if (type == BGP_KEEPALIVE)
			continue;
		assert_int_equal(type, BGP_UPDATE);
		struct bgp_update u;
		struct bgp_err err;
		memcpy(s->last_msg, m, n);
		assert_int_equal(bgp_update_parse(s->last_msg, n, d, &u, &err), BGP_OK);
		s->updates++;
		if (u.eor) {
			s->eor++;
			continue;
		}
		prefix_t p;
		while (bgp_prefix_next(&u.nlri, AF_INET, &p) == 0)
			seen_add(s, &p);
		while (bgp_prefix_next(&u.mp_reach, AF_INET6, &p) == 0)
			seen_add(s, &p);
		s->withdrawn += u.n_withdrawn + u.n_mp_unreach;
		s->last = u;
	}
	assert_int_equal(type, -1);
}

/* ---------- tests ---------- */

static void test_established_only_after_keepalive(void **state)
{
	struct t *t = *state;
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	struct bgp_err err;
	struct bgp_session_cfg c = base_cfg(t, true);
	c.graceful_restart = true;
	t->peer_gr = true;
	t->s = bgp_session_new(t->l, &c);
	assert_non_null(t->s);
	assert_int_equal(bgp_session_state(t->s), BGP_IDLE);
	bgp_session_start(t->s);
	assert_true(peer_accept(t, 2000));
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_OPEN);
	struct bgp_open o;
	assert_int_equal(bgp_open_parse(m, n, &o, &err), 0);
	assert_int_equal(o.asn, LOCAL_AS);
	assert_int_equal(o.hold_time, 90);
	assert_int_equal(o.bgp_id, 0x0a000001);
	assert_true(o.cap_as4 && o.cap_mp_ipv4 && o.cap_mp_ipv6 && o.cap_route_refresh && o.cap_gr);
	assert_int_equal(o.gr_time, 120);
	assert_int_equal(bgp_session_state(t->s), BGP_OPENSENT);
	peer_send_open(t, LOCAL_AS, 90);
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_KEEPALIVE);
	/* our KEEPALIVE is out, the peer's is not: not Established (MetalLB's bug) */
	pump(t, 200);
	assert_int_equal(bgp_session_state(t->s), BGP_OPENCONFIRM);
	peer_send_keepalive(t);
	assert_true(wait_state(t, BGP_ESTABLISHED, 2000));
	/* graceful restart negotiated and no routes: End-of-RIB for IPv4 and IPv6 */
	struct seen s = {0};
	struct bgp_dec d = {.as4 = true, .ibgp = true};
	collect(t, &d, &s, 300);
	assert_int_equal(s.eor, 2);
	assert_int_equal(s.announced, 0);
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.state, BGP_ESTABLISHED);
	assert_int_equal(st.established_count, 1);
	assert_int_equal(st.hold_time_s, 90);
	assert_true(st.caps.gr && st.caps.as4 && st.caps.ipv4 && st.caps.ipv6);
	assert_int_equal(st.peer_id, PEER_ID);
	free(s.ann);
}

static void mk_routes(struct bgp_route *r, size_t n, uint32_t base, const uint32_t *comm)
{
	for (size_t i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		addr_from_v4(&r[i].prefix.a, base + (uint32_t)i);
		r[i].prefix.len = 32;
		r[i].communities = comm;
		r[i].n_communities = comm ? 1 : 0;
		r[i].has_local_pref = true;
		r[i].local_pref = 150;
	}
}

static bool has_prefix(const struct seen *s, uint32_t v4)
{
	addr_t a;
	addr_from_v4(&a, v4);
	for (size_t i = 0; i < s->announced; i++)
		if (addr_eq(&s->ann[i].a, &a))
			return true;
	return false;
}

static void test_routes_incremental_and_refresh(void **state)
{
	struct t *t = *state;
	enum { N = 1000 };
	static struct bgp_route r[N + 10];
	uint32_t comm_a = 0xfc000001, comm_b = 0xfc000002;
	struct bgp_large_community lc = {LOCAL_AS, 7, 8};
	struct bgp_session_cfg c = base_cfg(t, false);
	struct bgp_dec d = {.as4 = true, .ibgp = false, .peer_as = LOCAL_AS};
	t->s = bgp_session_new(t->l, &c);
	mk_routes(r, N, 0x0a000000, &comm_a);
	/* five IPv6 routes with a given next hop and a large community */
	for (size_t i = 0; i < 5; i++) {
		struct bgp_route *x = &r[N + i];
		memset(x, 0, sizeof(*x));
		char p[64];
		snprintf(p, sizeof(p), "2001:db8:%zx::/64", i);
		assert_int_equal(prefix_parse(p, &x->prefix, NULL), 0);
		x->has_next_hop = true;
		addr_parse("2001:db8::1", &x->next_hop);
		x->large = &lc;
		x->n_large = 1;
	}
	/* routes set before the session is up are sent when it comes up */
	assert_int_equal(bgp_session_set_routes(t->s, r, N + 5), 0);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 90, NULL);
	struct seen s = {0};
	collect(t, &d, &s, 300);
	assert_int_equal(s.announced, N + 5);
	assert_int_equal(s.withdrawn, 0);
	assert_int_equal(s.eor, 0); /* the peer did not offer graceful restart */
	assert_true(s.updates <= 4); /* packed: 1000 v4 /32 fit in 2 UPDATEs, v6 in 1 */
	for (uint32_t i = 0; i < N; i++)
		assert_true(has_prefix(&s, 0x0a000000 + i));
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.prefixes_sent, N + 5);

	/* incremental: drop 10, add 5, change the community of 3 */
	mk_routes(r, N, 0x0a000000, &comm_a);
	for (size_t i = 0; i < 3; i++)
		r[20 + i].communities = &comm_b;
	mk_routes(r + N, 5, 0x0b000000, &comm_a);
	assert_int_equal(bgp_session_set_routes(t->s, r + 10, N - 10 + 5), 0);
	memset(&s, 0, sizeof(s));
	collect(t, &d, &s, 300);
	assert_int_equal(s.withdrawn, 10 + 5); /* 10 IPv4 and the 5 IPv6 no longer given */
	assert_int_equal(s.announced, 5 + 3);
	assert_true(has_prefix(&s, 0x0b000000) && has_prefix(&s, 0x0a000014));
	assert_false(has_prefix(&s, 0x0a000030));
	/* the same routes again: nothing to send */
	assert_int_equal(bgp_session_set_routes(t->s, r + 10, N - 10 + 5), 0);
	free(s.ann);
	memset(&s, 0, sizeof(s));
	collect(t, &d, &s, 200);
	assert_int_equal(s.updates, 0);

	/* ROUTE-REFRESH for IPv4: the whole IPv4 table again */
	uint8_t m[64];
	int n = bgp_route_refresh_build(BGP_AFI_IPV4, BGP_SAFI_UNICAST, m, sizeof(m));
	peer_send(t, m, (size_t)n);
	collect(t, &d, &s, 300);
	assert_int_equal(s.announced, N - 10 + 5);
	assert_int_equal(s.withdrawn, 0);
	/* its attributes: eBGP, so AS_PATH [us], no LOCAL_PREF, our address as next hop */
	assert_int_equal(s.last.as_path_len, 1);
	assert_int_equal(s.last.as_path[0], LOCAL_AS);
	assert_false(s.last.seen & (1u << BGP_ATTR_LOCAL_PREF));
	addr_t lo;
	addr_parse("127.0.0.1", &lo);
	assert_true(addr_eq(&s.last.next_hop, &lo));
	assert_int_equal(s.last.n_communities, 1);
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.state, BGP_ESTABLISHED);
	assert_int_equal(st.prefixes_sent, N - 10 + 5);
	free(s.ann);
}

static void test_ibgp_attributes_and_ipv6_session(void **state)
{
	struct t *t = *state;
	struct bgp_route r[2];
	uint32_t comm = 0xfc000009;
	close(t->lfd);
	listen_on(t, true, NULL);
	struct bgp_session_cfg c = base_cfg(t, true);
	addr_parse("::1", &c.peer_addr);
	t->s = bgp_session_new(t->l, &c);
	mk_routes(r, 1, 0x0a000000, &comm); /* IPv4 prefix on an IPv6 session: no next hop */
	memset(&r[1], 0, sizeof(r[1]));
	assert_int_equal(prefix_parse("2001:db8:5::/64", &r[1].prefix, NULL), 0);
	r[1].has_local_pref = true;
	r[1].local_pref = 250;
	assert_int_equal(bgp_session_set_routes(t->s, r, 2), 0);
	bgp_session_start(t->s);
	handshake(t, LOCAL_AS, 90, NULL);
	struct seen s = {0};
	struct bgp_dec d = {.as4 = true, .ibgp = true};
	collect(t, &d, &s, 300);
	assert_int_equal(s.announced, 1);
	assert_int_equal(s.last.mp_reach_family, AF_INET6);
	addr_t lo;
	addr_parse("::1", &lo);
	assert_true(addr_eq(&s.last.mp_next_hop, &lo));
	assert_int_equal(s.last.as_path_len, 0);
	assert_true(s.last.seen & (1u << BGP_ATTR_LOCAL_PREF));
	assert_int_equal(s.last.local_pref, 250);
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.prefixes_unsendable, 1);
	assert_int_equal(st.prefixes_sent, 1);
	free(s.ann);
}

static void test_hold_timer_silent_peer(void **state)
{
	struct t *t = *state;
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	struct bgp_session_cfg c = base_cfg(t, false);
	c.hold_time_s = 3;
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 3, NULL);
	uint64_t t0 = loop_now_ms(t->l);
	int keepalives = 0, type;
	/* the peer says nothing more; the session keeps sending KEEPALIVEs, then gives up */
	while ((type = peer_recv(t, m, &n, 5000)) == BGP_KEEPALIVE)
		keepalives++;
	uint64_t dt = loop_now_ms(t->l) - t0;
	assert_int_equal(type, BGP_NOTIFICATION);
	assert_int_equal(m[19], BGP_ERR_HOLD);
	assert_true(dt >= 2800 && dt <= 4000);
	assert_true(keepalives >= 2);
	assert_int_equal(peer_recv(t, m, &n, 2000), -2);
	print_message("# hold timer: NOTIFICATION after %llu ms, %d keepalives\n",
		      (unsigned long long)dt, keepalives);
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.notifications_sent, 1);
	assert_int_equal(st.last_sent_code, BGP_ERR_HOLD);
	assert_string_equal(st.last_error, "sent NOTIFICATION Hold Timer Expired");
	/* and it comes back by itself */
	handshake(t, PEER_AS, 3, NULL);
}

struct bad {
	const char *name;
	uint8_t msg[64];
	size_t n;
	uint8_t code, subcode;
};

static void test_malformed_resets_session(void **state)
{
	struct t *t = *state;
	static struct bad bads[] = {
		{"bad marker", {0}, 19, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC},
		{"unknown type", {0}, 19, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE},
		{"length 5000", {0}, 19, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH},
		{"withdrawn length overruns", {0}, 23, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST},
		{"OPEN in Established", {0}, 0, BGP_ERR_FSM, BGP_FSM_IN_ESTABLISHED},
		{"ROUTE-REFRESH of 24 bytes", {0}, 24, BGP_ERR_ROUTE_REFRESH, BGP_RR_BAD_LENGTH},
	};
	struct bgp_session_cfg c = base_cfg(t, false);
	struct bgp_open ours = {.asn = PEER_AS, .hold_time = 90, .bgp_id = 9, .cap_as4 = true};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct bad *b = &bads[i];
		memset(b->msg, 0xff, 16);
		b->msg[16] = 0;
		b->msg[17] = (uint8_t)b->n;
		b->msg[18] = BGP_KEEPALIVE;
	}
	bads[0].msg[5] = 0;
	bads[1].msg[18] = 9;
	bads[2].msg[16] = 0x13;
	bads[2].msg[17] = 0x88;
	bads[3].msg[18] = BGP_UPDATE;
	bads[3].msg[19] = 0;
	bads[3].msg[20] = 7;
	bads[4].n = (size_t)bgp_open_build(&ours, bads[4].msg, sizeof(bads[4].msg));
	bads[5].msg[18] = BGP_ROUTE_REFRESH;
	bads[5].msg[19] = 0;
	bads[5].msg[20] = 1;
	bads[5].msg[21] = 0;
	bads[5].msg[22] = 1;

	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		uint8_t m[BGP_MAX_MSG];
		size_t n;
		int type;
		handshake(t, PEER_AS, 90, NULL);
		peer_send(t, bads[i].msg, bads[i].n);
		while ((type = peer_recv(t, m, &n, 2000)) == BGP_KEEPALIVE)
			;
		if (type != BGP_NOTIFICATION || m[19] != bads[i].code || m[20] != bads[i].subcode)
			fail_msg("%s: got type %d %u/%u, want NOTIFICATION %u/%u", bads[i].name, type,
				 type == BGP_NOTIFICATION ? m[19] : 0, type == BGP_NOTIFICATION ? m[20] : 0,
				 bads[i].code, bads[i].subcode);
		if (bads[i].code == BGP_ERR_HEADER && bads[i].subcode == BGP_HDR_BAD_LENGTH) {
			/* RFC 4271 6.1: the data is the erroneous length */
			assert_int_equal(n, 23);
			assert_int_equal(m[21], 0x13);
			assert_int_equal(m[22], 0x88);
		}
		assert_int_equal(peer_recv(t, m, &n, 2000), -2); /* and the connection closes */
		assert_true(bgp_session_state(t->s) != BGP_ESTABLISHED);
	}
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.notifications_sent, 6);
	assert_int_equal(st.malformed_received, 5); /* the OPEN was well-formed, just unexpected */

	/* an RFC 7606 treat-as-withdraw fault keeps the session */
	handshake(t, PEER_AS, 90, NULL);
	static const uint8_t taw[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 31, BGP_UPDATE, 0, 0,
				      0, 4, 0x40, 1, 1, 9, 24, 198, 51, 100};
	peer_send(t, taw, sizeof(taw));
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	int type;
	while ((type = peer_recv(t, m, &n, 300)) == BGP_KEEPALIVE)
		;
	assert_int_equal(type, -1);
	assert_int_equal(bgp_session_state(t->s), BGP_ESTABLISHED);
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.malformed_received, 6);
	assert_int_equal(st.updates_received, 2);
}

static void test_framing(void **state)
{
	struct t *t = *state;
	struct bgp_session_cfg c = base_cfg(t, false);
	uint8_t ka[BGP_HDR_LEN], many[256];
	struct bgp_session_stats st0, st;
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 90, NULL);
	bgp_session_stats(t->s, &st0);
	bgp_keepalive_build(ka, sizeof(ka));
	/* one message, a byte at a time */
	for (size_t i = 0; i < sizeof(ka); i++) {
		peer_send(t, ka + i, 1);
		pump(t, 2);
	}
	/* three in one write: KEEPALIVE, an End-of-RIB UPDATE, KEEPALIVE */
	size_t off = 0;
	memcpy(many, ka, sizeof(ka));
	off += sizeof(ka);
	off += (size_t)bgp_eor_build(AF_INET6, many + off, sizeof(many) - off);
	memcpy(many + off, ka, sizeof(ka));
	off += sizeof(ka);
	peer_send(t, many, off);
	/* and one split across two writes with a pause */
	peer_send(t, ka, 7);
	pump(t, 50);
	peer_send(t, ka + 7, sizeof(ka) - 7);
	pump(t, 100);
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.state, BGP_ESTABLISHED);
	assert_int_equal(st.messages_received - st0.messages_received, 5);
	assert_int_equal(st.updates_received - st0.updates_received, 1);
}

static void test_bad_open(void **state)
{
	struct t *t = *state;
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	struct bgp_session_cfg c = base_cfg(t, false);
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	/* wrong AS: OPEN Message Error / Bad Peer AS */
	assert_true(peer_accept(t, 2000));
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_OPEN);
	peer_send_open(t, PEER_AS + 1, 90);
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_NOTIFICATION);
	assert_int_equal(m[19], BGP_ERR_OPEN);
	assert_int_equal(m[20], BGP_OPEN_BAD_PEER_AS);
	assert_int_equal(peer_recv(t, m, &n, 2000), -2);
	/* hold time 1: Unacceptable Hold Time */
	assert_true(peer_accept(t, 2000));
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_OPEN);
	peer_send_open(t, PEER_AS, 1);
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_NOTIFICATION);
	assert_int_equal(m[19], BGP_ERR_OPEN);
	assert_int_equal(m[20], BGP_OPEN_BAD_HOLD);
	/* the peer rejects us in OpenConfirm: never Established */
	assert_true(peer_accept(t, 2000));
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_OPEN);
	peer_send_open(t, PEER_AS, 90);
	assert_int_equal(peer_recv(t, m, &n, 2000), BGP_KEEPALIVE);
	int k = bgp_notification_build(BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0, m, sizeof(m));
	peer_send(t, m, (size_t)k);
	assert_int_equal(peer_recv(t, m, &n, 2000), -2);
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.established_count, 0);
	assert_int_equal(st.notifications_received, 1);
	assert_int_equal(st.last_recv_code, BGP_ERR_OPEN);
	assert_int_equal(st.last_recv_subcode, BGP_OPEN_BAD_PEER_AS);
	assert_string_equal(st.last_error, "received NOTIFICATION OPEN Message Error/Bad Peer AS");
}

static void on_done(struct bgp_session *s, void *arg)
{
	struct t *t = arg;
	t->done_calls++;
}

static void test_stop_sends_cease(void **state)
{
	struct t *t = *state;
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	int type;
	struct bgp_session_cfg c = base_cfg(t, false);
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 90, NULL);
	bgp_session_stop(t->s, on_done, t);
	while ((type = peer_recv(t, m, &n, 2000)) == BGP_KEEPALIVE)
		;
	assert_int_equal(type, BGP_NOTIFICATION);
	struct bgp_notification x;
	struct bgp_err err;
	assert_int_equal(bgp_notification_parse(m, n, &x, &err), 0);
	assert_int_equal(x.code, BGP_ERR_CEASE);
	assert_int_equal(x.subcode, BGP_CEASE_ADMIN_SHUTDOWN);
	assert_non_null(strstr(x.shutdown_msg, "barelb"));
	assert_int_equal(peer_recv(t, m, &n, 2000), -2);
	pump(t, 50);
	assert_int_equal(t->done_calls, 1);
	assert_int_equal(bgp_session_state(t->s), BGP_IDLE);
	/* stopped means stopped: no reconnect */
	assert_false(peer_accept(t, 400));
}

static void test_graceful_stop(void **state)
{
	struct t *t = *state;
	uint8_t m[BGP_MAX_MSG];
	size_t n;
	int type;
	struct bgp_session_cfg c = base_cfg(t, false);
	c.graceful_restart = true;
	t->peer_gr = true;
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 90, NULL);
	bgp_session_stop_graceful(t->s, on_done, t);
	/* End-of-RIB may still be in flight; then a plain close, no NOTIFICATION (RFC 4724 4.2) */
	while ((type = peer_recv(t, m, &n, 2000)) == BGP_KEEPALIVE || type == BGP_UPDATE)
		;
	assert_int_equal(type, -2);
	pump(t, 50);
	assert_int_equal(t->done_calls, 1);
	struct bgp_session_stats st;
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.notifications_sent, 0);
}

static void test_tcp_md5(void **state)
{
	struct t *t = *state;
	close(t->lfd);
	listen_on(t, false, "s3cret");
	/* matching key: the handshake works */
	struct bgp_session_cfg c = base_cfg(t, false);
	c.password = "s3cret";
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 90, NULL);
	bgp_session_free(t->s);
	close(t->pfd);
	t->pfd = -1;
	/* wrong key: the listener's kernel drops the SYNs, nothing is accepted */
	c.password = "wrong";
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	assert_false(peer_accept(t, 1500));
	assert_true(bgp_session_state(t->s) == BGP_CONNECT || bgp_session_state(t->s) == BGP_ACTIVE);
	bgp_session_free(t->s);
	/* no key at all: dropped too */
	c.password = NULL;
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	assert_false(peer_accept(t, 1000));
}

static void test_many_prefixes_back_pressure(void **state)
{
	struct t *t = *state;
	enum { N = 100000 };
	struct bgp_route *r = calloc(N, sizeof(*r));
	assert_non_null(r);
	struct bgp_session_cfg c = base_cfg(t, false);
	struct bgp_dec d = {.as4 = true, .ibgp = false, .peer_as = LOCAL_AS};
	t->s = bgp_session_new(t->l, &c);
	bgp_session_start(t->s);
	handshake(t, PEER_AS, 90, NULL);
	mk_routes(r, N, 0x0a000000, NULL);
	uint64_t t0 = loop_now_ms(t->l);
	assert_int_equal(bgp_session_set_routes(t->s, r, N), 0);
	/* the peer does not read for a while: the session's own queue stays bounded */
	struct bgp_session_stats st;
	for (int i = 0; i < 10; i++) {
		pump(t, 10);
		bgp_session_stats(t->s, &st);
		assert_true(st.out_queued <= 256 * 1024 + BGP_MAX_MSG);
	}
	struct seen s = {0};
	collect(t, &d, &s, 300);
	uint64_t dt = loop_now_ms(t->l) - t0 - 300;
	assert_int_equal(s.announced, N);
	print_message("# %d prefixes in %zu UPDATEs, %llu ms (ASan build, reader included)\n", N,
		      s.updates, (unsigned long long)dt);
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.prefixes_sent, N);
	assert_int_equal(st.updates_sent, s.updates);
	/* withdraw all */
	assert_int_equal(bgp_session_set_routes(t->s, NULL, 0), 0);
	free(s.ann);
	memset(&s, 0, sizeof(s));
	collect(t, &d, &s, 300);
	assert_int_equal(s.withdrawn, N);
	bgp_session_stats(t->s, &st);
	assert_int_equal(st.prefixes_sent, 0);
	free(s.ann);
	free(r);
}

static void test_bad_config(void **state)
{
	struct t *t = *state;
	struct bgp_session_cfg c = base_cfg(t, false);
	FILE *null = fopen("/dev/null", "w");
	log_set_stream(null); /* the refusals are logged; not needed here */
	c.hold_time_s = 2; /* RFC 4271 4.2: 0 or >= 3 */
	assert_null(bgp_session_new(t->l, &c));
	c = base_cfg(t, false);
	c.local_as = 0;
	assert_null(bgp_session_new(t->l, &c));
	c = base_cfg(t, false);
	c.peer_addr.family = 0;
	assert_null(bgp_session_new(t->l, &c));
	c = base_cfg(t, false);
	c.password = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901";
	assert_null(bgp_session_new(t->l, &c));
	log_set_stream(stderr);
	if (null != NULL)
		fclose(null);
}

/* ---------- namespace ---------- */

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0)
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return rc;
}

static int run_in_namespace(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..1\nok 1 # SKIP unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	if (lo_up() < 0) {
		printf("1..1\nnot ok 1 - bringing lo up in the test namespace\n");
		return 1;
	}
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_established_only_after_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_incremental_and_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ibgp_attributes_and_ipv6_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_timer_silent_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_resets_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_sends_cease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_graceful_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_md5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_prefixes_back_pressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
	return netns_main(run_in_namespace);
}
