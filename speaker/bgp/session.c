/* SPDX-License-Identifier: Apache-2.0 */
/* bgp/session: one BGP session over a non-blocking TCP socket: socket options, framing, the FSM's
 * actions, send queue with back-pressure, and the Adj-RIB-Out diff that keeps UPDATEs incremental. */
#define _GNU_SOURCE
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "barelb/log.h"

#define HIGH_WATER   (256 * 1024) /* stop making UPDATEs while this much waits for the socket */
#define LOW_WATER    (64 * 1024)  /* and resume below this */
#define READS_PER_TURN 16         /* bounded work per readable event */
#define LINGER_MS    2000         /* how long a closing socket may take to flush its NOTIFICATION */
#define MD5_KEY_MAX  80           /* TCP_MD5SIG_MAXKEYLEN */
#define TTL_SINGLE_HOP 1
#define TTL_MULTI_HOP  255
#define TOS_CS6      0xc0         /* RFC 4594 network control */
#define DEF_GR_TIME  120

/* Interned attribute set: routes with equal attributes share one, so that grouping routes into
 * UPDATEs is a pointer comparison. */
struct attrset {
	struct attrset *next; /* hash chain */
	uint32_t hash;
	uint32_t refs;
	bool has_local_pref;
	uint32_t local_pref;
	bool has_nh;
	addr_t nh;
	size_t n_comm, n_large;
	uint32_t *comm;
	struct bgp_large_community *large;
};

/* One prefix of the Adj-RIB-Out and of what the announcer wants. */
struct rib_entry {
	prefix_t prefix;
	struct attrset *want; /* NULL: should not be announced */
	struct attrset *sent; /* NULL: not announced on this session */
};

struct timer_ref {
	struct bgp_session *s;
	enum bgp_timer t;
};

/* A connection being closed: its last bytes (a NOTIFICATION) are flushed before close(). */
struct closing {
	int fd;
	struct loop_fd *w;
	struct loop_timer *timeout;
	uint8_t *buf;
	size_t len, off;
};

struct bgp_session {
	struct loop *loop;
	struct bgp_session_cfg cfg;
	char name[96];
	char password[MD5_KEY_MAX + 1];
	struct bgp_fsm fsm;

	int fd;
	struct loop_fd *w;
	unsigned events;
	bool connecting;
	struct loop_timer *timer[BGP_T_COUNT];
	struct timer_ref tref[BGP_T_COUNT];
	struct loop_timer *kick; /* delivers kick_event from the loop */
	enum bgp_event_type kick_event;
	struct loop_timer *done_timer; /* runs the stop callback from the loop */
	struct closing cl;

	uint8_t in[2 * BGP_MAX_MSG];
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off, out_cap;

	struct bgp_open ours, theirs;
	struct bgp_caps caps;
	struct bgp_enc enc;
	addr_t local, local_ll; /* local_ll family 0 unless the peer is on-link */
	struct bgp_err pending;  /* data for the NOTIFICATION the FSM is about to send */
	int refresh_family;
	bool eor_sent;
	bool dirty; /* want and sent may differ: sync_routes has work */

	struct rib_entry *rib; /* sorted by prefix */
	size_t n_rib;
	struct attrset **htab;
	size_t hcap, n_sets;

	bgp_session_done_cb done;
	void *done_arg;
	bool stopping;
	struct bgp_session_stats st;
	struct log_ratelimit rl;
};

static void feed(struct bgp_session *s, struct bgp_event ev);
static void sync_routes(struct bgp_session *s);

/* ---------- attribute sets ---------- */

static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	return h * 16777619u;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_large(const void *a, const void *b)
{
	const struct bgp_large_community *x = a, *y = b;
	if (x->global != y->global)
		return x->global < y->global ? -1 : 1;
	if (x->local1 != y->local1)
		return x->local1 < y->local1 ? -1 : 1;
	if (x->local2 != y->local2)
		return x->local2 < y->local2 ? -1 : 1;
	return 0;
}

static uint32_t set_hash(const struct attrset *a)
{
	uint32_t h = 2166136261u;
	h = mix(h, a->has_local_pref ? a->local_pref : 0xffffffffu);
	h = mix(h, a->has_nh);
	for (size_t i = 0; i < 16; i++)
		h = mix(h, a->nh.b[i]);
	for (size_t i = 0; i < a->n_comm; i++)
		h = mix(h, a->comm[i]);
	for (size_t i = 0; i < a->n_large; i++)
		h = mix(mix(mix(h, a->large[i].global), a->large[i].local1), a->large[i].local2);
	return h;
}

static bool set_eq(const struct attrset *a, const struct attrset *b)
{
	return a->hash == b->hash && a->has_local_pref == b->has_local_pref &&
	       (!a->has_local_pref || a->local_pref == b->local_pref) && a->has_nh == b->has_nh &&
	       (!a->has_nh || addr_eq(&a->nh, &b->nh)) && a->n_comm == b->n_comm &&
	       a->n_large == b->n_large &&
	       (a->n_comm == 0 || memcmp(a->comm, b->comm, a->n_comm * sizeof(*a->comm)) == 0) &&
	       (a->n_large == 0 || memcmp(a->large, b->large, a->n_large * sizeof(*a->large)) == 0);
}

static void set_free(struct attrset *a)
{
	if (a == NULL)
		return;
	free(a->comm);
	free(a->large);
	free(a);
}

static void set_unref(struct bgp_session *s, struct attrset *a)
{
	if (a == NULL || --a->refs > 0)
		return;
	struct attrset **pp = &s->htab[a->hash & (s->hcap - 1)];
	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	s->n_sets--;
	set_free(a);
}

static int htab_grow(struct bgp_session *s)
{
	size_t ncap = s->hcap ? s->hcap * 2 : 64;
	struct attrset **n = calloc(ncap, sizeof(*n));
	if (n == NULL)
		return -1;
	for (size_t i = 0; i < s->hcap; i++) {
		struct attrset *a = s->htab[i], *next;
		for (; a != NULL; a = next) {
			next = a->next;
			a->next = n[a->hash & (ncap - 1)];
			n[a->hash & (ncap - 1)] = a;
		}
	}
	free(s->htab);
	s->htab = n;
	s->hcap = ncap;
	return 0;
}

/* The interned set for r's attributes with one more reference, or NULL on out of memory.
 * Communities are sorted and deduplicated so that their order does not split groups. */
static struct attrset *set_get(struct bgp_session *s, const struct bgp_route *r)
{
	struct attrset *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->has_local_pref = r->has_local_pref;
	a->local_pref = r->has_local_pref ? r->local_pref : 0;
	a->has_nh = r->has_next_hop;
	if (r->has_next_hop)
		a->nh = r->next_hop;
	if (r->n_communities > 0) {
		a->comm = malloc(r->n_communities * sizeof(*a->comm));
		if (a->comm == NULL)
			goto fail;
		memcpy(a->comm, r->communities, r->n_communities * sizeof(*a->comm));
		qsort(a->comm, r->n_communities, sizeof(*a->comm), cmp_u32);
		for (size_t i = 0; i < r->n_communities; i++)
			if (a->n_comm == 0 || a->comm[a->n_comm - 1] != a->comm[i])
				a->comm[a->n_comm++] = a->comm[i];
	}
	if (r->n_large > 0) {
		a->large = malloc(r->n_large * sizeof(*a->large));
		if (a->large == NULL)
			goto fail;
		memcpy(a->large, r->large, r->n_large * sizeof(*a->large));
		qsort(a->large, r->n_large, sizeof(*a->large), cmp_large);
		for (size_t i = 0; i < r->n_large; i++)
			if (a->n_large == 0 || cmp_large(&a->large[a->n_large - 1], &a->large[i]) != 0)
				a->large[a->n_large++] = a->large[i];
	}
	a->hash = set_hash(a);
	if (s->hcap == 0 && htab_grow(s) < 0)
		goto fail;
	for (struct attrset *x = s->htab[a->hash & (s->hcap - 1)]; x != NULL; x = x->next) {
		if (set_eq(x, a)) {
			set_free(a);
			x->refs++;
			return x;
		}
	}
	if (s->n_sets >= s->hcap && htab_grow(s) < 0)
		goto fail;
	a->refs = 1;
	a->next = s->htab[a->hash & (s->hcap - 1)];
	s->htab[a->hash & (s->hcap - 1)] = a;
	s->n_sets++;
	return a;
fail:
	set_free(a);
	return NULL;
}

/* ---------- logging helpers ---------- */

static void set_error(struct bgp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct bgp_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->st.last_error, sizeof(s->st.last_error), fmt, ap);
	va_end(ap);
}

static uint64_t now_ms(struct bgp_session *s)
{
	return loop_now_ms(s->loop);
}

/* ---------- socket addresses ---------- */

static socklen_t to_sockaddr(const addr_t *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->b, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->b, 16);
	return sizeof(*sin6);
}

static int from_sockaddr(const struct sockaddr *sa, addr_t *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static bool is_link_local6(const addr_t *a)
{
	return a->family == AF_INET6 && a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

/* After connect: our local address, and for IPv6 whether the peer is on-link (inside a subnet of
 * the interface holding our address), in which case RFC 2545 3 wants that interface's link-local
 * address as a second next hop. Also finds an IPv4 address for the router ID when none is set. */
static void learn_local(struct bgp_session *s, uint32_t *any_v4)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct ifaddrs *ifs = NULL, *i;
	char ifname[IF_NAMESIZE] = "";

	memset(&s->local, 0, sizeof(s->local));
	memset(&s->local_ll, 0, sizeof(s->local_ll));
	*any_v4 = 0;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
		from_sockaddr((struct sockaddr *)&ss, &s->local);
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		addr_t a, m;
		if (i->ifa_addr == NULL || from_sockaddr(i->ifa_addr, &a) < 0)
			continue;
		if (a.family == AF_INET && *any_v4 == 0 && !(i->ifa_flags & IFF_LOOPBACK))
			*any_v4 = addr_v4(&a);
		if (!addr_eq(&a, &s->local) || i->ifa_netmask == NULL ||
		    from_sockaddr(i->ifa_netmask, &m) < 0)
			continue;
		int len = 0;
		for (int b = 0; b < addr_bits(&m) && (m.b[b / 8] & (0x80 >> (b % 8))); b++)
			len++;
		prefix_t net = {.a = a, .len = (uint8_t)len};
		addr_mask(&net.a, len);
		if (prefix_contains(&net, &s->cfg.peer_addr) || is_link_local6(&s->cfg.peer_addr))
			snprintf(ifname, sizeof(ifname), "%s", i->ifa_name);
	}
	if (s->local.family == AF_INET6 && ifname[0] != '\0') {
		for (i = ifs; i != NULL; i = i->ifa_next) {
			addr_t a;
			if (i->ifa_addr != NULL && from_sockaddr(i->ifa_addr, &a) == 0 &&
			    is_link_local6(&a) && strcmp(i->ifa_name, ifname) == 0) {
				s->local_ll = a;
				break;
			}
		}
	}
	if (s->local.family == AF_INET)
		*any_v4 = addr_v4(&s->local);
	freeifaddrs(ifs);
}

/* ---------- output ---------- */

static void watch(struct bgp_session *s)
{
	unsigned ev = LOOP_READ;
	if (s->connecting || s->out_len > s->out_off)
		ev |= LOOP_WRITE;
	if (s->connecting)
		ev = LOOP_WRITE;
	if (s->w != NULL && ev != s->events) {
		loop_fd_set_events(s->w, ev);
		s->events = ev;
	}
}

static size_t queued(const struct bgp_session *s)
{
	return s->out_len - s->out_off;
}

/* Room for one more message at the end of the queue; NULL on out of memory. */
static uint8_t *out_room(struct bgp_session *s)
{
	if (s->out_off > 0 && s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
	if (s->out_len + BGP_MAX_MSG > s->out_cap) {
		if (s->out_off > 0) {
			memmove(s->out, s->out + s->out_off, queued(s));
			s->out_len -= s->out_off;
			s->out_off = 0;
		}
		if (s->out_len + BGP_MAX_MSG > s->out_cap) {
			size_t ncap = s->out_cap ? s->out_cap * 2 : 4 * BGP_MAX_MSG;
			while (ncap < s->out_len + BGP_MAX_MSG)
				ncap *= 2;
			uint8_t *n = realloc(s->out, ncap);
			if (n == NULL)
				return NULL;
			s->out = n;
			s->out_cap = ncap;
		}
	}
	return s->out + s->out_len;
}

static void flush(struct bgp_session *s)
{
	while (s->fd >= 0 && queued(s) > 0) {
		ssize_t k = send(s->fd, s->out + s->out_off, queued(s), MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				set_error(s, "send: %s", strerror(errno));
				s->kick_event = BGP_EV_TCP_FAILS;
				loop_timer_arm(s->kick, 0);
			}
			break;
		}
		s->out_off += (size_t)k;
	}
	watch(s);
}

/* Account for a message of len bytes just built at out_room() and queue it. */
static void commit_msg(struct bgp_session *s, int len, uint8_t type)
{
	if (len <= 0)
		return;
	s->out_len += (size_t)len;
	s->st.messages_sent++;
	if (type == BGP_UPDATE)
		s->st.updates_sent++;
}

static void send_simple(struct bgp_session *s, uint8_t type)
{
	uint8_t *p = s->fd >= 0 ? out_room(s) : NULL;
	if (p == NULL)
		return;
	int len = type == BGP_KEEPALIVE ? bgp_keepalive_build(p, BGP_MAX_MSG)
					: bgp_open_build(&s->ours, p, BGP_MAX_MSG);
	commit_msg(s, len, type);
	flush(s);
}

static void send_notification(struct bgp_session *s, uint8_t code, uint8_t sub)
{
	uint8_t *p = s->fd >= 0 ? out_room(s) : NULL;
	int len;
	char nm[96];
	if (p == NULL)
		return;
	if (code == BGP_ERR_CEASE && sub == BGP_CEASE_ADMIN_SHUTDOWN)
		len = bgp_shutdown_build(sub, "barelb: speaker stopping or peer removed", p,
					 BGP_MAX_MSG);
	else if (s->pending.code == code && s->pending.subcode == sub)
		len = bgp_notification_build(code, sub, s->pending.data, s->pending.data_len, p,
					     BGP_MAX_MSG);
	else
		len = bgp_notification_build(code, sub, NULL, 0, p, BGP_MAX_MSG);
	commit_msg(s, len, BGP_NOTIFICATION);
	s->st.notifications_sent++;
	s->st.last_sent_code = code;
	s->st.last_sent_subcode = sub;
	bgp_err_name(code, sub, nm, sizeof(nm));
	if (code != BGP_ERR_CEASE) {
		set_error(s, "sent NOTIFICATION %s%s%s", nm, s->pending.why ? ": " : "",
			  s->pending.why ? s->pending.why : "");
		log_warn("peer=%s msg=\"sending NOTIFICATION\" error=\"%s\" why=\"%s\"", s->name, nm,
			 s->pending.why ? s->pending.why : "");
	}
	flush(s);
}

/* ---------- closing: flush the last bytes, then close ---------- */

static void closing_end(struct bgp_session *s)
{
	if (s->cl.fd < 0)
		return;
	loop_fd_del(s->cl.w);
	loop_timer_cancel(s->cl.timeout);
	/* Read what the peer still sent, so that close() sends FIN, not RST (which could make the
	 * peer's kernel discard our NOTIFICATION before the peer reads it). */
	char junk[512];
	while (recv(s->cl.fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	close(s->cl.fd);
	s->cl.fd = -1;
	s->cl.w = NULL;
	free(s->cl.buf);
	s->cl.buf = NULL;
	if (s->stopping && s->done != NULL)
		loop_timer_arm(s->done_timer, 0);
}

static void closing_io(int fd, unsigned events, void *arg)
{
	struct bgp_session *s = arg;
	while (s->cl.off < s->cl.len) {
		ssize_t k = send(fd, s->cl.buf + s->cl.off, s->cl.len - s->cl.off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0)
			break;
		s->cl.off += (size_t)k;
	}
	shutdown(fd, SHUT_WR);
	closing_end(s);
}

static void closing_timeout(void *arg)
{
	closing_end(arg);
}

/* Hand the connection, with whatever is still queued, to the closer; the session can connect
 * again at once. */
static void drop(struct bgp_session *s)
{
	if (s->fd < 0) {
		if (s->stopping && s->cl.fd < 0 && s->done != NULL)
			loop_timer_arm(s->done_timer, 0);
		return;
	}
	flush(s);
	loop_timer_cancel(s->kick); /* a pending failure of this connection is moot now */
	loop_fd_del(s->w);
	s->w = NULL;
	s->events = 0;
	if (s->cl.fd >= 0) /* one closer at a time: the older one has had its chance */
		closing_end(s);
	s->cl.fd = s->fd;
	s->fd = -1;
	s->connecting = false;
	s->cl.len = queued(s);
	s->cl.off = 0;
	s->cl.buf = s->cl.len > 0 ? malloc(s->cl.len) : NULL;
	if (s->cl.buf != NULL)
		memcpy(s->cl.buf, s->out + s->out_off, s->cl.len);
	else
		s->cl.len = 0;
	s->out_len = s->out_off = 0;
	s->in_len = 0;
	if (s->cl.len == 0) {
		shutdown(s->cl.fd, SHUT_WR);
		closing_end(s);
		return;
	}
	s->cl.w = loop_fd_add(s->loop, s->cl.fd, LOOP_WRITE, closing_io, s);
	loop_timer_arm(s->cl.timeout, LINGER_MS);
	if (s->cl.w == NULL)
		closing_end(s);
}

/* ---------- connect ---------- */

static void on_io(int fd, unsigned events, void *arg);

static int set_md5(struct bgp_session *s, int fd)
{
	struct tcp_md5sig md5;
	struct sockaddr_storage ss;
	memset(&md5, 0, sizeof(md5));
	to_sockaddr(&s->cfg.peer_addr, 0, &ss);
	memcpy(&md5.tcpm_addr, &ss, sizeof(md5.tcpm_addr));
	md5.tcpm_keylen = (uint16_t)strlen(s->password);
	memcpy(md5.tcpm_key, s->password, md5.tcpm_keylen);
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5));
}

/* Open the socket and start connecting; -1 (errno kept in last_error) if that failed at once. */
static int start_connect(struct bgp_session *s)
{
	const addr_t *peer = &s->cfg.peer_addr;
	bool v6 = peer->family == AF_INET6;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;
	int ttl = (s->enc.ibgp || s->cfg.ebgp_multihop) ? TTL_MULTI_HOP : TTL_SINGLE_HOP;
	int tos = TOS_CS6;

	int fd = socket(peer->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		set_error(s, "socket: %s", strerror(errno));
		return -1;
	}
	/* RIG-NOTES: without TCP_NODELAY a sender stalls 44 ms on delayed ACKs after the OPEN */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		set_error(s, "TCP_NODELAY: %s", strerror(errno));
		goto fail;
	}
	/* RFC 4271 is silent; single-hop eBGP with TTL 1 keeps the session on the link */
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &ttl,
		       sizeof(ttl)) < 0) {
		set_error(s, "TTL: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof(tos));
	if (s->password[0] != '\0' && set_md5(s, fd) < 0) { /* RFC 2385, before connect() */
		set_error(s, "TCP_MD5SIG: %s", strerror(errno));
		goto fail;
	}
	if (s->cfg.has_source_addr) {
		sl = to_sockaddr(&s->cfg.source_addr, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			char a[ADDR_STRLEN];
			addr_format(&s->cfg.source_addr, a, sizeof(a));
			set_error(s, "bind to sourceAddress %s: %s", a, strerror(errno));
			goto fail;
		}
	}
	sl = to_sockaddr(peer, s->cfg.peer_port ? s->cfg.peer_port : BGP_PORT, &ss);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		set_error(s, "connect: %s", strerror(errno));
		goto fail;
	}
	s->w = loop_fd_add(s->loop, fd, LOOP_WRITE, on_io, s);
	if (s->w == NULL) {
		set_error(s, "cannot watch the socket");
		goto fail;
	}
	s->fd = fd;
	s->events = LOOP_WRITE;
	s->connecting = true;
	return 0;
fail:
	close(fd);
	return -1;
}

/* ---------- FSM glue ---------- */

static void make_open(struct bgp_session *s, uint32_t any_v4)
{
	struct bgp_open *o = &s->ours;
	memset(o, 0, sizeof(*o));
	o->asn = s->cfg.local_as;
	o->hold_time = (uint16_t)s->cfg.hold_time_s;
	o->bgp_id = s->cfg.router_id ? s->cfg.router_id : any_v4;
	if (o->bgp_id == 0) { /* an IPv6-only host: any stable non-zero value will do */
		uint32_t h = 2166136261u;
		for (const char *c = s->name; *c; c++)
			h = mix(h, (uint8_t)*c);
		o->bgp_id = h ? h : 1;
	}
	o->cap_as4 = true;
	o->cap_mp_ipv4 = o->cap_mp_ipv6 = true;
	o->cap_route_refresh = true;
	if (s->cfg.graceful_restart) {
		o->cap_gr = true;
		o->gr_time = s->cfg.gr_restart_time_s ? s->cfg.gr_restart_time_s : DEF_GR_TIME;
		/* the node keeps forwarding to its pods while the speaker restarts */
		o->gr_ipv4 = o->gr_ipv4_fwd = o->gr_ipv6 = o->gr_ipv6_fwd = true;
	}
}

static void clear_sent(struct bgp_session *s, int family)
{
	for (size_t i = 0; i < s->n_rib; i++) {
		struct rib_entry *e = &s->rib[i];
		if (family == 0 || (e->prefix.a.family == family && e->want != NULL)) {
			set_unref(s, e->sent);
			e->sent = NULL;
		}
	}
}

static void run_actions(struct bgp_session *s, const struct bgp_actions *acts)
{
	for (size_t i = 0; i < acts->n; i++) {
		const struct bgp_action *a = &acts->a[i];
		switch (a->type) {
		case BGP_A_CONNECT:
			if (start_connect(s) < 0) {
				log_ratelimited(&s->rl, 0, LOG_WARN, "peer=%s msg=\"cannot connect\" err=\"%s\"",
						s->name, s->st.last_error);
				s->kick_event = BGP_EV_TCP_FAILS;
				loop_timer_arm(s->kick, 0);
			}
			break;
		case BGP_A_DROP:
			drop(s);
			break;
		case BGP_A_SEND_OPEN:
			send_simple(s, BGP_OPEN);
			break;
		case BGP_A_SEND_KEEPALIVE:
			send_simple(s, BGP_KEEPALIVE);
			break;
		case BGP_A_SEND_NOTIFICATION:
			send_notification(s, a->code, a->subcode);
			break;
		case BGP_A_ARM:
			loop_timer_arm(s->timer[a->timer], a->ms);
			break;
		case BGP_A_CANCEL:
			loop_timer_cancel(s->timer[a->timer]);
			break;
		case BGP_A_UP:
			s->st.established_count++;
			s->eor_sent = false;
			clear_sent(s, 0);
			s->dirty = true;
			sync_routes(s);
			break;
		case BGP_A_DOWN:
			clear_sent(s, 0);
			break;
		case BGP_A_RESEND:
			clear_sent(s, s->refresh_family);
			s->dirty = true;
			sync_routes(s);
			break;
		}
	}
}

static void feed(struct bgp_session *s, struct bgp_event ev)
{
	struct bgp_actions acts;
	enum bgp_state from = s->fsm.state;
	enum bgp_state to = bgp_fsm_event(&s->fsm, &ev, now_ms(s), &acts);
	if (from != to) {
		log_info("peer=%s msg=\"session %s -> %s\" event=%s", s->name, bgp_state_name(from),
			 bgp_state_name(to), bgp_event_name(ev.type));
		s->st.state = to;
	}
	run_actions(s, &acts);
	s->pending.code = s->pending.subcode = 0;
	s->pending.data_len = 0;
	s->pending.why = NULL;
	if (from != to && s->cfg.on_state != NULL)
		s->cfg.on_state(s, from, to, s->cfg.arg);
}

static void msg_error(struct bgp_session *s, const struct bgp_err *err)
{
	s->st.malformed_received++;
	s->pending = *err;
	feed(s, (struct bgp_event){.type = BGP_EV_MSG_ERROR, .code = err->code,
				   .subcode = err->subcode});
}

static void on_timer(void *arg)
{
	const struct timer_ref *r = arg;
	static const enum bgp_event_type ev[BGP_T_COUNT] = {
		[BGP_T_CONNECT_RETRY] = BGP_EV_CONNECT_RETRY_EXPIRES,
		[BGP_T_HOLD] = BGP_EV_HOLD_EXPIRES,
		[BGP_T_KEEPALIVE] = BGP_EV_KEEPALIVE_EXPIRES,
		[BGP_T_IDLE_HOLD] = BGP_EV_IDLE_HOLD_EXPIRES,
	};
	if (r->t == BGP_T_HOLD)
		set_error(r->s, "hold timer expired");
	feed(r->s, (struct bgp_event){.type = ev[r->t]});
}

static void on_kick(void *arg)
{
	struct bgp_session *s = arg;
	feed(s, (struct bgp_event){.type = s->kick_event});
}

static void on_done(void *arg)
{
	struct bgp_session *s = arg;
	if (s->stopping && s->fd < 0 && s->cl.fd < 0 && s->done != NULL) {
		bgp_session_done_cb cb = s->done;
		s->done = NULL;
		cb(s, s->done_arg); /* may free s */
	}
}

/* ---------- input ---------- */

static void on_open(struct bgp_session *s, const uint8_t *p, size_t n)
{
	struct bgp_open o;
	struct bgp_err err;
	if (bgp_open_parse(p, n, &o, &err) < 0 ||
	    bgp_open_check(&o, s->cfg.peer_as, s->ours.bgp_id, s->enc.ibgp, &err) < 0) {
		msg_error(s, &err);
		return;
	}
	if (s->fsm.state == BGP_OPENSENT) {
		s->theirs = o;
		bgp_caps_negotiate(&s->ours, &o, &s->caps);
		s->enc.as4 = s->caps.as4;
		s->st.caps = s->caps;
		s->st.hold_time_s = s->caps.hold_time;
		s->st.peer_id = o.bgp_id;
	}
	feed(s, (struct bgp_event){.type = BGP_EV_OPEN, .peer_hold = o.hold_time});
}

static void on_update(struct bgp_session *s, const uint8_t *p, size_t n)
{
	struct bgp_update u;
	struct bgp_err err;
	struct bgp_dec d = {.as4 = s->caps.as4, .ibgp = s->enc.ibgp, .peer_as = s->cfg.peer_as};
	s->st.updates_received++;
	enum bgp_verdict v = bgp_update_parse(p, n, &d, &u, &err);
	if (v == BGP_RESET) {
		msg_error(s, &err);
		return;
	}
	if (v != BGP_OK) {
		/* RFC 7606: keep the session; the routes are ignored anyway */
		char nm[96];
		s->st.malformed_received++;
		log_ratelimited(&s->rl, 0, LOG_WARN,
				"peer=%s msg=\"malformed UPDATE ignored\" rfc7606=%s error=\"%s\" why=\"%s\"",
				s->name, v == BGP_TREAT_AS_WITHDRAW ? "treat-as-withdraw" : "attribute-discard",
				bgp_err_name(err.code, err.subcode, nm, sizeof(nm)), err.why);
	}
	feed(s, (struct bgp_event){.type = BGP_EV_UPDATE});
}

static void on_message(struct bgp_session *s, const uint8_t *p, size_t n, uint8_t type)
{
	struct bgp_err err;
	s->st.messages_received++;
	switch (type) {
	case BGP_OPEN:
		on_open(s, p, n);
		break;
	case BGP_UPDATE:
		on_update(s, p, n);
		break;
	case BGP_NOTIFICATION: {
		struct bgp_notification m;
		char nm[96];
		if (bgp_notification_parse(p, n, &m, &err) < 0) {
			feed(s, (struct bgp_event){.type = BGP_EV_TCP_FAILS});
			break;
		}
		s->st.notifications_received++;
		s->st.last_recv_code = m.code;
		s->st.last_recv_subcode = m.subcode;
		bgp_err_name(m.code, m.subcode, nm, sizeof(nm));
		set_error(s, "received NOTIFICATION %s%s%s", nm, m.shutdown_msg[0] ? ": " : "",
			  m.shutdown_msg);
		log_ratelimited(&s->rl, 0, LOG_WARN,
				"peer=%s msg=\"received NOTIFICATION\" error=\"%s\" shutdown=\"%s\"",
				s->name, nm, m.shutdown_msg);
		feed(s, (struct bgp_event){.type = BGP_EV_NOTIFICATION});
		break;
	}
	case BGP_KEEPALIVE:
		if (bgp_keepalive_parse(p, n, &err) < 0)
			msg_error(s, &err);
		else
			feed(s, (struct bgp_event){.type = BGP_EV_KEEPALIVE});
		break;
	case BGP_ROUTE_REFRESH: {
		struct bgp_route_refresh rr;
		if (bgp_route_refresh_parse(p, n, &rr, &err) < 0) {
			msg_error(s, &err);
			break;
		}
		int fam = rr.safi != BGP_SAFI_UNICAST ? 0
			  : rr.afi == BGP_AFI_IPV4    ? AF_INET
			  : rr.afi == BGP_AFI_IPV6    ? AF_INET6
						      : 0;
		/* RFC 2918 4: an AFI/SAFI we did not advertise is ignored; RFC 7313 3: so are
		 * BoRR/EoRR markers and unknown subtypes */
		if (fam == 0 || rr.subtype != 0) {
			feed(s, (struct bgp_event){.type = BGP_EV_KEEPALIVE}); /* still proof of life */
			break;
		}
		s->refresh_family = fam;
		feed(s, (struct bgp_event){.type = BGP_EV_ROUTE_REFRESH});
		break;
	}
	default:
		break;
	}
}

/* Split the buffered bytes into messages. Returns -1 once the connection was dropped. */
static int frame(struct bgp_session *s)
{
	size_t off = 0;
	int fd = s->fd;
	while (s->fd == fd && s->in_len - off >= BGP_HDR_LEN) {
		uint16_t len;
		uint8_t type;
		struct bgp_err err;
		if (bgp_hdr_parse(s->in + off, s->in_len - off, &len, &type, &err) < 0) {
			msg_error(s, &err);
			break;
		}
		if (s->in_len - off < len)
			break;
		on_message(s, s->in + off, len, type);
		off += len;
	}
	if (s->fd != fd || s->fd < 0)
		return -1;
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
	return 0;
}

static void on_readable(struct bgp_session *s)
{
	int fd = s->fd;
	for (int i = 0; i < READS_PER_TURN && s->fd == fd; i++) {
		ssize_t k = recv(fd, s->in + s->in_len, sizeof(s->in) - s->in_len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0) {
			set_error(s, k == 0 ? "connection closed by the peer" : "recv: %s",
				  strerror(errno));
			feed(s, (struct bgp_event){.type = BGP_EV_TCP_FAILS});
			return;
		}
		s->in_len += (size_t)k;
		if (frame(s) < 0)
			return;
	}
}

static void on_io(int fd, unsigned events, void *arg)
{
	struct bgp_session *s = arg;
	if (s->connecting) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e != 0) {
			set_error(s, "connect: %s", strerror(e));
			log_ratelimited(&s->rl, 0, LOG_INFO, "peer=%s msg=\"connect failed\" err=\"%s\"",
					s->name, strerror(e));
			feed(s, (struct bgp_event){.type = BGP_EV_TCP_FAILS});
			return;
		}
		uint32_t any_v4;
		s->connecting = false;
		learn_local(s, &any_v4);
		s->st.local_addr = s->local;
		make_open(s, any_v4);
		watch(s);
		feed(s, (struct bgp_event){.type = BGP_EV_TCP_CONNECTED});
		return;
	}
	if (events & LOOP_WRITE) {
		flush(s);
		if (queued(s) < LOW_WATER)
			sync_routes(s);
	}
	if ((events & LOOP_READ) && s->fd == fd)
		on_readable(s);
}

/* ---------- Adj-RIB-Out ---------- */

static int cmp_prefix(const prefix_t *a, const prefix_t *b)
{
	int c = addr_cmp(&a->a, &b->a);
	return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

struct new_route {
	prefix_t prefix;
	struct attrset *attrs;
	size_t idx;
};

static int cmp_new(const void *x, const void *y)
{
	const struct new_route *a = x, *b = y;
	int c = cmp_prefix(&a->prefix, &b->prefix);
	return c != 0 ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

int bgp_session_set_routes(struct bgp_session *s, const struct bgp_route *routes, size_t n)
{
	struct new_route *nr = n ? calloc(n, sizeof(*nr)) : NULL;
	struct rib_entry *rib = calloc(n + s->n_rib + 1, sizeof(*rib));
	size_t k = 0, i, j, m = 0;

	if ((n > 0 && nr == NULL) || rib == NULL)
		goto oom;
	for (k = 0; k < n; k++) {
		nr[k].prefix = routes[k].prefix;
		addr_mask(&nr[k].prefix.a, nr[k].prefix.len);
		nr[k].idx = k;
		if ((nr[k].attrs = set_get(s, &routes[k])) == NULL)
			goto oom;
	}
	if (n > 1) /* qsort(NULL, 0) is undefined */
		qsort(nr, n, sizeof(*nr), cmp_new);
	/* merge the wanted routes into the table; old entries keep what was sent */
	for (i = 0, j = 0; i < n || j < s->n_rib;) {
		int c = i >= n ? 1 : j >= s->n_rib ? -1 : cmp_prefix(&nr[i].prefix, &s->rib[j].prefix);
		if (i > 0 && i < n && c <= 0 && cmp_prefix(&nr[i].prefix, &nr[i - 1].prefix) == 0) {
			set_unref(s, nr[i].attrs); /* a prefix given twice keeps its first entry */
			i++;
			continue;
		}
		if (c < 0) {
			rib[m++] = (struct rib_entry){nr[i].prefix, nr[i].attrs, NULL};
			i++;
		} else if (c > 0) {
			set_unref(s, s->rib[j].want);
			if (s->rib[j].sent != NULL)
				rib[m++] = (struct rib_entry){s->rib[j].prefix, NULL, s->rib[j].sent};
			j++;
		} else {
			set_unref(s, s->rib[j].want);
			rib[m++] = (struct rib_entry){nr[i].prefix, nr[i].attrs, s->rib[j].sent};
			i++;
			j++;
		}
	}
	free(s->rib);
	free(nr);
	s->rib = rib;
	s->n_rib = m;
	s->st.prefixes_wanted = 0;
	for (i = 0; i < m; i++)
		s->st.prefixes_wanted += rib[i].want != NULL;
	s->dirty = true;
	sync_routes(s);
	return 0;
oom:
	for (i = 0; i < k; i++)
		set_unref(s, nr[i].attrs);
	free(nr);
	free(rib);
	log_error("peer=%s msg=\"out of memory setting routes; keeping the previous ones\"", s->name);
	return -1;
}

/* The attributes to send for e->want on this session, or false if it cannot be sent (family
 * not negotiated, or no next hop of the prefix's family). */
static bool encode_attrs(const struct bgp_session *s, const struct attrset *a, int family,
			 struct bgp_attrs *out)
{
	memset(out, 0, sizeof(*out));
	if ((family == AF_INET && !s->caps.ipv4) || (family == AF_INET6 && !s->caps.ipv6))
		return false;
	out->has_local_pref = a->has_local_pref;
	out->local_pref = a->local_pref;
	out->communities = a->comm;
	out->n_communities = a->n_comm;
	out->large = a->large;
	out->n_large = a->n_large;
	if (a->has_nh) {
		out->next_hop = a->nh;
	} else {
		out->next_hop = s->local;
		if (family == AF_INET6 && s->local_ll.family == AF_INET6) {
			out->has_ll = true;
			out->next_hop_ll = s->local_ll;
		}
	}
	return out->next_hop.family == family;
}

struct pend {
	size_t idx;
	const struct attrset *a;
	int family;
};

static int cmp_pend(const void *x, const void *y)
{
	const struct pend *a = x, *b = y;
	if (a->a != b->a)
		return (uintptr_t)a->a < (uintptr_t)b->a ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Send what differs between want and sent, as long as the send queue has room: withdrawals
 * first (they free router memory and cannot conflict), then announcements grouped by attributes
 * so each UPDATE carries as many prefixes as fit. Then End-of-RIB once per session. */
static void sync_routes(struct bgp_session *s)
{
	if (!s->dirty || s->fsm.state != BGP_ESTABLISHED || s->fd < 0 || queued(s) >= HIGH_WATER)
		return;
	struct pend *pd = malloc((s->n_rib + 1) * sizeof(*pd));
	prefix_t *px = malloc((s->n_rib + 1) * sizeof(*px));
	size_t np = 0, unsendable = 0;
	struct bgp_attrs ba;
	bool done = false;

	if (pd == NULL || px == NULL)
		goto out;
	for (size_t i = 0; i < s->n_rib; i++) {
		struct rib_entry *e = &s->rib[i];
		int fam = e->prefix.a.family;
		const struct attrset *w = e->want;
		if (w != NULL && !encode_attrs(s, w, fam, &ba)) {
			unsendable++;
			w = NULL;
		}
		if (w == e->sent)
			continue;
		pd[np++] = (struct pend){i, w, fam};
	}
	s->st.prefixes_unsendable = unsendable;
	qsort(pd, np, sizeof(*pd), cmp_pend); /* NULL (withdrawals) sorts first */
	size_t g = 0;
	while (g < np && queued(s) < HIGH_WATER) {
		size_t end = g, k = 0;
		while (end < np && pd[end].a == pd[g].a && pd[end].family == pd[g].family)
			end++;
		for (size_t i = g; i < end; i++)
			px[i - g] = s->rib[pd[i].idx].prefix;
		size_t total = end - g;
		bool ok = pd[g].a == NULL || encode_attrs(s, pd[g].a, pd[g].family, &ba);
		while (ok && k < total && queued(s) < HIGH_WATER) {
			size_t used = 0;
			uint8_t *p = out_room(s);
			int len = p == NULL ? -1
				  : pd[g].a == NULL
				      ? bgp_withdraw_build(pd[g].family, px + k, total - k, &used, p,
							   BGP_MAX_MSG)
				      : bgp_update_build(&s->enc, &ba, pd[g].family, px + k, total - k,
							 &used, p, BGP_MAX_MSG);
			if (len < 0) {
				log_error("peer=%s msg=\"cannot encode an UPDATE (attributes too long?)\"",
					  s->name);
				ok = false;
				break;
			}
			commit_msg(s, len, BGP_UPDATE);
			for (size_t i = g + k; i < g + k + used; i++) {
				struct rib_entry *e = &s->rib[pd[i].idx];
				set_unref(s, e->sent);
				e->sent = (struct attrset *)pd[i].a;
				if (e->sent != NULL)
					e->sent->refs++;
			}
			k += used;
			flush(s);
			if (s->fd < 0)
				goto out;
		}
		if (k < total && ok)
			break; /* back-pressure: resume when the socket drains */
		g = end;
	}
	done = g >= np;
out:
	free(pd);
	free(px);
	if (!done || s->fd < 0)
		return;
	s->dirty = false;
	/* drop entries that are neither wanted nor announced any more */
	size_t m = 0;
	s->st.prefixes_sent = 0;
	for (size_t i = 0; i < s->n_rib; i++) {
		if (s->rib[i].want != NULL || s->rib[i].sent != NULL)
			s->rib[m++] = s->rib[i];
		s->st.prefixes_sent += s->rib[i].sent != NULL;
	}
	s->n_rib = m;
	if (s->caps.gr && !s->eor_sent) { /* RFC 4724 2: End-of-RIB after the initial table */
		for (int f = 0; f < 2; f++) {
			int fam = f == 0 ? AF_INET : AF_INET6;
			uint8_t *p;
			if ((fam == AF_INET ? s->caps.ipv4 : s->caps.ipv6) && (p = out_room(s)) != NULL)
				commit_msg(s, bgp_eor_build(fam, p, BGP_MAX_MSG), BGP_UPDATE);
		}
		s->eor_sent = true;
		flush(s);
	}
}

/* ---------- public API ---------- */

struct bgp_session *bgp_session_new(struct loop *l, const struct bgp_session_cfg *cfg)
{
	char a[ADDR_STRLEN];
	if (cfg->local_as == 0 || cfg->peer_as == 0 ||
	    (cfg->peer_addr.family != AF_INET && cfg->peer_addr.family != AF_INET6) ||
	    (cfg->hold_time_s != 0 && cfg->hold_time_s < BGP_HOLD_MIN) || cfg->hold_time_s > 0xffff ||
	    (cfg->has_source_addr && cfg->source_addr.family != cfg->peer_addr.family) ||
	    (cfg->password != NULL && strlen(cfg->password) > MD5_KEY_MAX)) {
		log_error("msg=\"invalid BGP session settings\" peer=%s",
			  cfg->name ? cfg->name : "?");
		return NULL;
	}
	struct bgp_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->loop = l;
	s->cfg = *cfg;
	s->fd = -1;
	s->cl.fd = -1;
	addr_format(&cfg->peer_addr, a, sizeof(a));
	snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : a);
	s->cfg.name = s->name;
	if (cfg->password != NULL)
		snprintf(s->password, sizeof(s->password), "%s", cfg->password);
	s->cfg.password = NULL; /* the copy lives in s->password */
	s->enc.local_as = cfg->local_as;
	s->enc.ibgp = cfg->local_as == cfg->peer_as;
	s->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1.0, 5.0);
	struct bgp_fsm_cfg fc = {
		.hold_time_s = cfg->hold_time_s,
		.keepalive_s = cfg->keepalive_s,
		.connect_time_s = cfg->connect_time_s,
		.backoff_min_ms = cfg->backoff_min_ms,
		.backoff_max_ms = cfg->backoff_max_ms,
		.stable_ms = cfg->stable_ms,
	};
	bgp_fsm_init(&s->fsm, &fc, ((uint64_t)loop_random(l) << 32) | loop_random(l));
	for (int t = 0; t < BGP_T_COUNT; t++) {
		s->tref[t] = (struct timer_ref){s, (enum bgp_timer)t};
		if ((s->timer[t] = loop_timer_new(l, on_timer, &s->tref[t])) == NULL)
			goto fail;
	}
	s->kick = loop_timer_new(l, on_kick, s);
	s->done_timer = loop_timer_new(l, on_done, s);
	s->cl.timeout = loop_timer_new(l, closing_timeout, s);
	if (s->kick == NULL || s->done_timer == NULL || s->cl.timeout == NULL)
		goto fail;
	s->st.state = BGP_IDLE;
	return s;
fail:
	bgp_session_free(s);
	return NULL;
}

void bgp_session_start(struct bgp_session *s)
{
	s->stopping = false;
	s->done = NULL;
	feed(s, (struct bgp_event){.type = BGP_EV_MANUAL_START});
}

static void stop(struct bgp_session *s, bool graceful, bgp_session_done_cb done, void *arg)
{
	s->stopping = true;
	s->done = done;
	s->done_arg = arg;
	/* RFC 4724 4.2: a TCP close without NOTIFICATION lets the peer keep our routes; closing
	 * first makes the FSM's Cease NOTIFICATION go nowhere */
	if (graceful && s->fsm.state == BGP_ESTABLISHED && s->caps.gr)
		drop(s);
	feed(s, (struct bgp_event){.type = BGP_EV_MANUAL_STOP});
	if (s->fd < 0 && s->cl.fd < 0 && s->done != NULL)
		loop_timer_arm(s->done_timer, 0); /* nothing to close: report from the loop */
}

void bgp_session_stop(struct bgp_session *s, bgp_session_done_cb done, void *arg)
{
	stop(s, false, done, arg);
}

void bgp_session_stop_graceful(struct bgp_session *s, bgp_session_done_cb done, void *arg)
{
	stop(s, true, done, arg);
}

void bgp_session_free(struct bgp_session *s)
{
	if (s == NULL)
		return;
	s->done = NULL;
	loop_fd_del(s->w);
	if (s->fd >= 0)
		close(s->fd);
	if (s->cl.fd >= 0)
		closing_end(s);
	for (int t = 0; t < BGP_T_COUNT; t++)
		loop_timer_free(s->timer[t]);
	loop_timer_free(s->kick);
	loop_timer_free(s->done_timer);
	loop_timer_free(s->cl.timeout);
	for (size_t i = 0; i < s->n_rib; i++) {
		set_unref(s, s->rib[i].want);
		set_unref(s, s->rib[i].sent);
	}
	free(s->rib);
	free(s->htab);
	free(s->out);
	free(s);
}

void bgp_session_stats(const struct bgp_session *s, struct bgp_session_stats *out)
{
	*out = s->st;
	out->state = s->fsm.state;
	out->uptime_ms = s->fsm.state == BGP_ESTABLISHED
				 ? loop_now_ms(s->loop) - s->fsm.established_at
				 : 0;
	out->out_queued = queued(s);
	size_t sent = 0;
	for (size_t i = 0; i < s->n_rib; i++)
		sent += s->rib[i].sent != NULL;
	out->prefixes_sent = sent;
}

enum bgp_state bgp_session_state(const struct bgp_session *s)
{
	return s->fsm.state;
}

const char *bgp_session_name(const struct bgp_session *s)
{
	return s->name;
}
