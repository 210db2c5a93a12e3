/* SPDX-License-Identifier: Apache-2.0 */
/* responder: AF_PACKET backend of the layer-2 data path (see responder.h for the contract). */
#include "responder.h"

/* Receive buffer of each interface socket (see responder_add_iface). */
#define RESPONDER_RCVBUF (4 * 1024 * 1024)

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arp.h"
#include "barelb/buf.h"
#include "barelb/log.h"
#include "ndp.h"

#define RX_BUF        9216 /* a jumbo frame; anything larger is counted as truncated */
#define RX_PER_TURN   64   /* frames read per socket per loop turn */
#define TX_BUF        128  /* our frames are at most NDP_NA_FRAME_LEN */
#define REFRESH_JITTER_PCT 10

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 /* Linux 4.20 uapi */
#endif

struct rif {
	struct responder *r;
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t mac[L2_MAC_LEN];
	int fd;
	struct loop_fd *watch;
};

/* One owned (interface, IP). gen changes each time the pair becomes owned, so that announcements
 * queued for an earlier ownership are recognised as stale. */
struct owned {
	addr_t ip;
	int ifindex; /* 0 = empty slot (interface indexes start at 1) */
	uint32_t gen;
	uint32_t mark;
};

struct table {
	struct owned *v;
	size_t cap; /* power of two */
	size_t n;
};

struct pending {
	addr_t ip;
	int ifindex;
	uint32_t gen;
	uint32_t left;
	uint64_t due_ms;
};

/* Growable FIFO; each one is kept in due order by construction (see announce_timer). */
struct queue {
	struct pending *v;
	size_t cap, head, n;
};

struct responder {
	struct loop *loop;
	struct responder_opts o;
	struct rif **ifs;
	size_t n_ifs;
	struct table owned;
	struct queue first;  /* due now: first round of a takeover, refresh rounds */
	struct queue repeat; /* later rounds, due = time of the previous round + interval */
	struct loop_timer *announce, *refresh;
	uint32_t gen, mark;
	uint64_t seed;
	struct responder_counters c;
	struct log_ratelimit send_rl;
	struct log_ratelimit conflict_rl; /* address conflicts: remote hosts trigger them */
	uint8_t rx[RX_BUF];
};

/* ---------- owned-IP hash (linear probing, backward-shift deletion, load <= 1/2) ---------- */

static uint64_t key_hash(uint64_t seed, int ifindex, const addr_t *ip)
{
	/* FNV-1a over the key, then a 64-bit finaliser (splitmix64) to spread the low bits. */
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	uint8_t k[21];
	memcpy(k, &ifindex, 4);
	k[4] = ip->family;
	memcpy(k + 5, ip->b, 16);
	for (size_t i = 0; i < sizeof(k); i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static struct owned *tab_find(const struct table *t, uint64_t seed, int ifindex, const addr_t *ip)
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = key_hash(seed, ifindex, ip) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct owned *e = &t->v[i];
		if (e->ifindex == 0)
			return NULL;
		if (e->ifindex == ifindex && addr_eq(&e->ip, ip))
			return e;
	}
}

static int tab_grow(struct table *t, uint64_t seed)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct owned *v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -1;
	for (size_t j = 0; j < t->cap; j++) {
		if (t->v[j].ifindex == 0)
			continue;
		size_t i = key_hash(seed, t->v[j].ifindex, &t->v[j].ip) & (cap - 1);
		while (v[i].ifindex != 0)
			i = (i + 1) & (cap - 1);
		v[i] = t->v[j];
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

static struct owned *tab_insert(struct table *t, uint64_t seed, int ifindex, const addr_t *ip)
{
	if ((t->n + 1) * 2 > t->cap && tab_grow(t, seed) < 0)
		return NULL;
	size_t i = key_hash(seed, ifindex, ip) & (t->cap - 1);
	while (t->v[i].ifindex != 0)
		i = (i + 1) & (t->cap - 1);
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->v[i].ifindex = ifindex;
	t->v[i].ip = *ip;
	t->n++;
	return &t->v[i];
}

static void tab_remove(struct table *t, uint64_t seed, struct owned *e)
{
	size_t mask = t->cap - 1, i = (size_t)(e - t->v), j = i;
	/* Backward shift: move later entries of the probe run into the hole when allowed. */
	for (;;) {
		j = (j + 1) & mask;
		if (t->v[j].ifindex == 0)
			break;
		size_t home = key_hash(seed, t->v[j].ifindex, &t->v[j].ip) & mask;
		/* Can v[j] move to i? Only if its home is not within (i, j] cyclically. */
		bool in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!in_between) {
			t->v[i] = t->v[j];
			i = j;
		}
	}
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->n--;
}

/* ---------- announcement queues ---------- */

static int q_push(struct queue *q, const struct pending *p)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct pending *v = malloc(cap * sizeof(*v));
		if (v == NULL)
			return -1;
		for (size_t i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->n) % q->cap] = *p;
	q->n++;
	return 0;
}

static const struct pending *q_front(const struct queue *q)
{
	return q->n ? &q->v[q->head] : NULL;
}

static void q_pop(struct queue *q)
{
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

/* ---------- helpers ---------- */

static struct rif *rif_find(const struct responder *r, int ifindex)
{
	for (size_t i = 0; i < r->n_ifs; i++)
		if (r->ifs[i]->ifindex == ifindex)
			return r->ifs[i];
	return NULL;
}

static void send_frame(struct rif *rif, const uint8_t *f, int n, uint64_t *ok_counter)
{
	struct responder *r = rif->r;
	if (n < 0)
		return;
	if (send(rif->fd, f, (size_t)n, MSG_DONTWAIT) == n) {
		(*ok_counter)++;
		return;
	}
	r->c.send_errors++;
	log_ratelimited(&r->send_rl, 0, LOG_WARN, "iface=%s msg=\"send failed: %s\"", rif->name,
			strerror(errno));
}

static void membership(struct rif *rif, const addr_t *ip, bool join)
{
	struct packet_mreq m;
	addr_t group;
	memset(&m, 0, sizeof(m));
	ndp_solicited_node(ip, &group);
	m.mr_ifindex = rif->ifindex;
	m.mr_type = PACKET_MR_MULTICAST;
	m.mr_alen = L2_MAC_LEN;
	ndp_mcast_mac(&group, m.mr_address);
	/* The kernel counts memberships per socket, so IPs sharing a group each add and drop one. */
	if (setsockopt(rif->fd, SOL_PACKET, join ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &m,
		       sizeof(m)) < 0)
		log_warn("iface=%s msg=\"%s solicited-node group failed: %s\"", rif->name,
			 join ? "joining" : "leaving", strerror(errno));
}

static void arm_announce(struct responder *r)
{
	const struct pending *a = q_front(&r->first), *b = q_front(&r->repeat);
	uint64_t now = loop_now_ms(r->loop), due;
	if (a == NULL && b == NULL) {
		loop_timer_cancel(r->announce);
		return;
	}
	due = a ? a->due_ms : b->due_ms;
	if (a && b && b->due_ms < due)
		due = b->due_ms;
	loop_timer_arm(r->announce, due > now ? due - now : 0);
}

static void announce_one(struct responder *r, struct rif *rif, const addr_t *ip)
{
	uint8_t f[TX_BUF];
	if (ip->family == AF_INET) {
		send_frame(rif, f, arp_build_gratuitous(f, sizeof(f), rif->mac, ip, ARP_OP_REQUEST),
			   &r->c.garp_sent);
		send_frame(rif, f, arp_build_gratuitous(f, sizeof(f), rif->mac, ip, ARP_OP_REPLY),
			   &r->c.garp_sent);
	} else {
		send_frame(rif, f, ndp_build_na(f, sizeof(f), rif->mac, ip, NULL),
			   &r->c.unsolicited_na_sent);
	}
}

/* Pops due items from both queues within the budget. The "repeat" queue stays in due order
 * because every push to it is now + a constant interval, and now never goes back; the "first"
 * queue holds items due at their push time. */
static void announce_timer(void *arg)
{
	struct responder *r = arg;
	uint64_t now = loop_now_ms(r->loop);
	unsigned budget = r->o.send_budget;
	struct queue *qs[2] = {&r->first, &r->repeat};

	for (int k = 0; k < 2; k++) {
		const struct pending *p;
		while (budget > 0 && (p = q_front(qs[k])) != NULL && p->due_ms <= now) {
			struct pending it = *p;
			q_pop(qs[k]);
			const struct owned *e = tab_find(&r->owned, r->seed, it.ifindex, &it.ip);
			struct rif *rif = rif_find(r, it.ifindex);
			if (e == NULL || e->gen != it.gen || rif == NULL)
				continue; /* ownership lost (or re-gained) since it was queued */
			announce_one(r, rif, &it.ip);
			budget--;
			if (--it.left > 0) {
				it.due_ms = now + r->o.garp_interval_ms;
				if (q_push(&r->repeat, &it) < 0)
					log_warn("msg=\"announcement dropped: out of memory\"");
			}
		}
	}
	arm_announce(r);
}

static void refresh_timer(void *arg)
{
	struct responder *r = arg;
	uint64_t now = loop_now_ms(r->loop);
	for (size_t i = 0; i < r->owned.cap; i++) {
		const struct owned *e = &r->owned.v[i];
		if (e->ifindex == 0)
			continue;
		struct pending p = {.ip = e->ip, .ifindex = e->ifindex, .gen = e->gen, .left = 1,
				    .due_ms = now};
		if (q_push(&r->first, &p) < 0)
			break;
	}
	arm_announce(r);
	loop_timer_arm_jitter(r->refresh, r->o.refresh_ms, REFRESH_JITTER_PCT);
}

/* ---------- receive path ---------- */

static void drop(struct responder *r, enum responder_drop d)
{
	r->c.drops[d]++;
}

/* ---------- address conflicts ---------- */

/* A foreign claim to ip on rif's interface (see responder.h): count and warn, rate-limited. */
static void conflict_check(struct rif *rif, const addr_t *ip, const uint8_t mac[L2_MAC_LEN],
			   const uint8_t eth_src[L2_MAC_LEN])
{
	struct responder *r = rif->r;
	char ips[ADDR_STRLEN];

	if (memcmp(mac, rif->mac, L2_MAC_LEN) == 0 || memcmp(eth_src, rif->mac, L2_MAC_LEN) == 0)
		return; /* our own frame */
	if (tab_find(&r->owned, r->seed, rif->ifindex, ip) == NULL)
		return;
	r->c.conflicts++;
	if (addr_format(ip, ips, sizeof(ips)) < 0)
		snprintf(ips, sizeof(ips), "?");
	log_ratelimited(&r->conflict_rl, 0, LOG_WARN,
			"iface=%s ip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x msg=\"address conflict: "
			"another host claims an IP this node owns\" conflicts=%llu",
			rif->name, ips, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			(unsigned long long)r->c.conflicts);
}

/* ARP packets that are not requests (arp_parse said ARP_NOT_REQUEST, so the whole body is there
 * and the types and lengths are Ethernet/IPv4): a reply's sender is a claim (RFC 5227 2.4). */
static void arp_reply_claim(struct rif *rif, const uint8_t *f, size_t n)
{
	struct buf_reader rd;
	uint8_t eth_src[L2_MAC_LEN], sha[L2_MAC_LEN];
	uint16_t op;
	addr_t spa;

	memset(&spa, 0, sizeof(spa));
	spa.family = AF_INET;
	buf_reader_init(&rd, f, n);
	if (buf_skip(&rd, L2_MAC_LEN) < 0 || buf_get_bytes(&rd, eth_src, L2_MAC_LEN) < 0 ||
	    buf_skip(&rd, 2 + 6) < 0 || buf_get_u16(&rd, &op) < 0 ||
	    buf_get_bytes(&rd, sha, L2_MAC_LEN) < 0 || buf_get_bytes(&rd, spa.b, 4) < 0)
		return;
	if (op == ARP_OP_REPLY) /* RFC 826: only requests and replies exist */
		conflict_check(rif, &spa, sha, eth_src);
}

/* A neighbour advertisement, checked as RFC 4861 7.1.2 asks (no extension headers, as ndp_parse),
 * claims its target for its target link-layer address, else for its Ethernet source. */
static void na_claim(struct rif *rif, const uint8_t *f, size_t n)
{
	struct buf_reader rd, icmp;
	uint8_t eth_src[L2_MAC_LEN], mac[L2_MAC_LEN], next, hops, type, code;
	uint16_t plen;
	uint32_t vtf;
	addr_t src, dst, target;
	const uint8_t *msg;

	memset(&src, 0, sizeof(src));
	src.family = AF_INET6;
	dst = target = src;
	buf_reader_init(&rd, f, n);
	if (buf_skip(&rd, L2_MAC_LEN) < 0 || buf_get_bytes(&rd, eth_src, L2_MAC_LEN) < 0 ||
	    buf_skip(&rd, 2) < 0 || buf_get_u32(&rd, &vtf) < 0 || buf_get_u16(&rd, &plen) < 0 ||
	    buf_get_u8(&rd, &next) < 0 || buf_get_u8(&rd, &hops) < 0 ||
	    buf_get_bytes(&rd, src.b, 16) < 0 || buf_get_bytes(&rd, dst.b, 16) < 0)
		return;
	if (vtf >> 28 != IPV6_VERSION || next != IPV6_NEXT_ICMPV6 || hops != NDP_HOP_LIMIT ||
	    plen < NDP_NS_MIN_LEN || (msg = buf_get_ptr(&rd, plen)) == NULL)
		return;
	if (ndp_icmp6_checksum(&src, &dst, msg, plen) != 0)
		return;
	buf_reader_init(&icmp, msg, plen);
	if (buf_get_u8(&icmp, &type) < 0 || buf_get_u8(&icmp, &code) < 0 || buf_skip(&icmp, 6) < 0 ||
	    buf_get_bytes(&icmp, target.b, 16) < 0 || type != ICMPV6_NA || code != 0 ||
	    ndp_is_multicast(&target))
		return;
	memcpy(mac, eth_src, L2_MAC_LEN);
	while (buf_left(&icmp) > 0) { /* RFC 4861 4.6: options, none of length zero */
		uint8_t otype, units;
		struct buf_reader body;
		if (buf_get_u8(&icmp, &otype) < 0 || buf_get_u8(&icmp, &units) < 0 || units == 0 ||
		    buf_get_sub(&icmp, (size_t)units * NDP_OPT_UNIT - 2, &body) < 0)
			return;
		if (otype == NDP_OPT_TLLA && buf_get_bytes(&body, mac, L2_MAC_LEN) < 0)
			return;
	}
	conflict_check(rif, &target, mac, eth_src);
}

static enum responder_drop arp_drop(enum arp_why w)
{
	switch (w) {
	case ARP_TRUNCATED:
		return RESP_DROP_TRUNCATED;
	case ARP_NOT_REQUEST:
	case ARP_NOT_ARP:
		return RESP_DROP_NOT_REQUEST;
	case ARP_NOT_FOR_US:
		return RESP_DROP_NOT_FOR_US;
	case ARP_OWN_FRAME:
		return RESP_DROP_OWN_FRAME;
	default:
		return RESP_DROP_MALFORMED;
	}
}

static enum responder_drop ndp_drop(enum ndp_why w)
{
	switch (w) {
	case NDP_TRUNCATED:
		return RESP_DROP_TRUNCATED;
	case NDP_NOT_IPV6:
	case NDP_NOT_ICMPV6:
	case NDP_NOT_NS:
		return RESP_DROP_NOT_REQUEST;
	case NDP_NOT_FOR_US:
		return RESP_DROP_NOT_FOR_US;
	case NDP_OWN_FRAME:
		return RESP_DROP_OWN_FRAME;
	default:
		return RESP_DROP_MALFORMED;
	}
}

/* Owned here? Otherwise count why not (owned elsewhere, or not at all). */
static bool owned_here(struct responder *r, int ifindex, const addr_t *ip)
{
	if (tab_find(&r->owned, r->seed, ifindex, ip) != NULL)
		return true;
	for (size_t i = 0; i < r->n_ifs; i++) {
		if (r->ifs[i]->ifindex != ifindex &&
		    tab_find(&r->owned, r->seed, r->ifs[i]->ifindex, ip) != NULL) {
			drop(r, RESP_DROP_WRONG_IFACE);
			return false;
		}
	}
	drop(r, RESP_DROP_NOT_OWNED);
	return false;
}

static void handle_frame(struct rif *rif, const uint8_t *f, size_t n)
{
	struct responder *r = rif->r;
	uint8_t out[TX_BUF];
	if (n < L2_ETH_HLEN) {
		drop(r, RESP_DROP_TRUNCATED);
		return;
	}
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == L2_ETHERTYPE_ARP) {
		struct arp_pkt p;
		enum arp_why why;
		if (arp_parse(f, n, rif->mac, &p, &why) < 0) {
			if (why == ARP_NOT_REQUEST)
				arp_reply_claim(rif, f, n);
			drop(r, arp_drop(why));
			return;
		}
		r->c.arp_requests++;
		/* a request from an owned IP (a gratuitous one, or a host using our address); not
		 * from 0.0.0.0, the RFC 5227 probe, which asks and claims nothing */
		if (p.spa.b[0] | p.spa.b[1] | p.spa.b[2] | p.spa.b[3])
			conflict_check(rif, &p.spa, p.sha, p.eth_src);
		if (owned_here(r, rif->ifindex, &p.tpa))
			send_frame(rif, out, arp_build_reply(out, sizeof(out), rif->mac, &p),
				   &r->c.arp_replies_sent);
	} else if (type == L2_ETHERTYPE_IPV6) {
		struct ndp_ns ns;
		enum ndp_why why;
		if (ndp_parse(f, n, rif->mac, &ns, &why) < 0) {
			if (why == NDP_NOT_NS)
				na_claim(rif, f, n);
			drop(r, ndp_drop(why));
			return;
		}
		r->c.ns_received++;
		if (!ns.dad) /* a DAD probe (source ::) asks and claims nothing */
			conflict_check(rif, &ns.src, ns.has_slla ? ns.slla : ns.eth_src, ns.eth_src);
		if (owned_here(r, rif->ifindex, &ns.target))
			send_frame(rif, out, ndp_build_na(out, sizeof(out), rif->mac, &ns.target, &ns),
				   &r->c.na_replies_sent);
	} else {
		drop(r, RESP_DROP_NOT_REQUEST);
	}
}

static void on_readable(int fd, unsigned events, void *arg)
{
	struct rif *rif = arg;
	struct responder *r = rif->r;
	for (int i = 0; i < RX_PER_TURN; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, r->rx, sizeof(r->rx), MSG_TRUNC | MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return; /* EAGAIN, or an error the next turn will show again */
		r->c.frames_received++;
		if (from.sll_pkttype == PACKET_OUTGOING) { /* kernels without PACKET_IGNORE_OUTGOING */
			drop(r, RESP_DROP_OWN_FRAME);
			continue;
		}
		if ((size_t)n > sizeof(r->rx)) {
			drop(r, RESP_DROP_TRUNCATED);
			continue;
		}
		handle_frame(rif, r->rx, (size_t)n);
	}
}

/* ---------- interfaces ---------- */

/* Classic BPF run by the kernel on each frame: pass ARP requests and replies (RFC 826 ops 1 and 2)
 * and IPv6 packets whose next header is ICMPv6 with type 135 or 136 (RFC 4861 4.3, 4.4); drop the
 * rest before they are queued. Replies and advertisements are read for conflicts only. A jump
 * goes to the instruction after it plus its offset. */
static int attach_filter(int fd)
{
	struct sock_filter code[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* EtherType */
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, L2_ETHERTYPE_ARP, 0, 3),
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, L2_ETH_HLEN + 6), /* ARP op */
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARP_OP_REQUEST, 7, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARP_OP_REPLY, 6, 7),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, L2_ETHERTYPE_IPV6, 0, 6),
		/* 6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, L2_ETH_HLEN + 6), /* next header */
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPV6_NEXT_ICMPV6, 0, 4),
		/* 8 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, L2_ETH_HLEN + IPV6_HDR_LEN), /* ICMPv6 type */
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMPV6_NS, 1, 0),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMPV6_NA, 0, 1),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, 0x40000), /* accept the whole frame */
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),      /* drop */
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static void rif_free(struct rif *rif)
{
	if (rif == NULL)
		return;
	loop_fd_del(rif->watch);
	if (rif->fd >= 0)
		close(rif->fd);
	free(rif);
}

int responder_add_iface(struct responder *r, int ifindex, const char *name, const uint8_t mac[6])
{
	struct rif *rif = NULL, **ifs;
	struct sockaddr_ll sll;
	int one = 1, err;
	int rcvbuf = RESPONDER_RCVBUF;

	if (ifindex <= 0)
		return -EINVAL;
	if (rif_find(r, ifindex) != NULL)
		return -EEXIST;
	ifs = realloc(r->ifs, (r->n_ifs + 1) * sizeof(*ifs));
	if (ifs == NULL)
		return -ENOMEM;
	r->ifs = ifs;
	rif = calloc(1, sizeof(*rif));
	if (rif == NULL)
		return -ENOMEM;
	rif->r = r;
	rif->ifindex = ifindex;
	snprintf(rif->name, sizeof(rif->name), "%s", name ? name : "?");
	memcpy(rif->mac, mac, L2_MAC_LEN);
	/* Protocol 0: the socket receives nothing until it is bound, by which time the filter is on,
	 * so no unfiltered frame is ever queued. */
	rif->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rif->fd < 0)
		goto fail;
	if (attach_filter(rif->fd) < 0)
		goto fail;
	/* Best effort: kernels before 4.20 lack it, and on_readable drops PACKET_OUTGOING instead. */
	(void)setsockopt(rif->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	/* A burst of requests must not overflow the socket while the loop is busy: the default
	 * receive buffer (rmem_default, ~208 KiB) holds only 200-270 small frames, and the bench
	 * measured losses from 20,000 requests/s with it, none up to 120,000/s with 4 MiB.
	 * SO_RCVBUFFORCE passes rmem_max (needs CAP_NET_ADMIN, which the speaker keeps); without it,
	 * SO_RCVBUF gets what rmem_max allows. */
	if (setsockopt(rif->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(rif->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(rif->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	rif->watch = loop_fd_add(r->loop, rif->fd, LOOP_READ, on_readable, rif);
	if (rif->watch == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	r->ifs[r->n_ifs++] = rif;
	log_info("iface=%s msg=\"answering ARP and NDP\"", rif->name);
	return 0;
fail:
	err = errno;
	log_warn("iface=%s msg=\"cannot open a packet socket: %s\"", rif->name, strerror(err));
	rif_free(rif);
	return -err;
}

/* Remove every owned entry of ifindex, leaving groups when leave is set. */
static int forget_iface(struct responder *r, int ifindex, uint32_t keep_mark, bool leave)
{
	struct rif *rif = rif_find(r, ifindex);
	size_t n = 0;
	addr_t *gone = NULL;
	for (size_t i = 0; i < r->owned.cap; i++)
		if (r->owned.v[i].ifindex == ifindex && r->owned.v[i].mark != keep_mark)
			n++;
	if (n == 0)
		return 0;
	gone = malloc(n * sizeof(*gone));
	if (gone == NULL)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < r->owned.cap; i++)
		if (r->owned.v[i].ifindex == ifindex && r->owned.v[i].mark != keep_mark)
			gone[n++] = r->owned.v[i].ip;
	for (size_t i = 0; i < n; i++) {
		struct owned *e = tab_find(&r->owned, r->seed, ifindex, &gone[i]);
		tab_remove(&r->owned, r->seed, e);
		if (leave && rif && gone[i].family == AF_INET6)
			membership(rif, &gone[i], false);
	}
	free(gone);
	return 0;
}

void responder_del_iface(struct responder *r, int ifindex)
{
	for (size_t i = 0; i < r->n_ifs; i++) {
		if (r->ifs[i]->ifindex != ifindex)
			continue;
		/* Closing the socket releases its groups; dropping entries stops queued sends. */
		(void)forget_iface(r, ifindex, 0, false);
		log_info("iface=%s msg=\"no longer answering\"", r->ifs[i]->name);
		rif_free(r->ifs[i]);
		r->ifs[i] = r->ifs[--r->n_ifs];
		return;
	}
}

int responder_set_owned(struct responder *r, int ifindex, const addr_t *ips, size_t n)
{
	struct rif *rif = rif_find(r, ifindex);
	uint64_t now = loop_now_ms(r->loop);
	uint32_t mark;

	if (rif == NULL)
		return -ENOENT;
	if (++r->mark == 0) /* 0 is "never marked" */
		++r->mark;
	mark = r->mark;
	for (size_t i = 0; i < n; i++) {
		struct owned *e = tab_find(&r->owned, r->seed, ifindex, &ips[i]);
		if (e != NULL) {
			e->mark = mark;
			continue;
		}
		e = tab_insert(&r->owned, r->seed, ifindex, &ips[i]);
		if (e == NULL)
			return -ENOMEM;
		e->mark = mark;
		e->gen = ++r->gen;
		if (ips[i].family == AF_INET6)
			membership(rif, &ips[i], true);
		if (r->o.garp_count > 0) {
			struct pending p = {.ip = ips[i], .ifindex = ifindex, .gen = e->gen,
					    .left = r->o.garp_count, .due_ms = now};
			if (q_push(&r->first, &p) < 0)
				return -ENOMEM;
		}
	}
	int rc = forget_iface(r, ifindex, mark, true);
	arm_announce(r);
	return rc;
}

bool responder_owns(const struct responder *r, int ifindex, const addr_t *ip)
{
	return tab_find(&r->owned, r->seed, ifindex, ip) != NULL;
}

size_t responder_owned_count(const struct responder *r)
{
	return r->owned.n;
}

void responder_get_counters(const struct responder *r, struct responder_counters *out)
{
	*out = r->c;
}

const char *responder_drop_name(enum responder_drop d)
{
	static const char *const names[RESP_DROP_COUNT] = {
		[RESP_DROP_TRUNCATED] = "truncated",
		[RESP_DROP_MALFORMED] = "malformed",
		[RESP_DROP_NOT_REQUEST] = "not_request",
		[RESP_DROP_NOT_FOR_US] = "not_for_us",
		[RESP_DROP_OWN_FRAME] = "own_frame",
		[RESP_DROP_NOT_OWNED] = "not_owned",
		[RESP_DROP_WRONG_IFACE] = "wrong_interface",
	};
	return (unsigned)d < RESP_DROP_COUNT ? names[d] : "?";
}

/* ---------- lifetime ---------- */

struct responder *responder_new(struct loop *l, const struct responder_opts *o)
{
	struct responder *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->loop = l;
	if (o != NULL) {
		r->o = *o;
	} else {
		r->o.garp_count = RESPONDER_GARP_COUNT;
		r->o.garp_interval_ms = RESPONDER_GARP_INTERVAL_MS;
		r->o.send_budget = RESPONDER_SEND_BUDGET;
	}
	if (r->o.send_budget == 0)
		r->o.send_budget = 1;
	r->seed = (uint64_t)loop_random(l) << 32 | loop_random(l);
	r->send_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1.0, 5.0);
	r->conflict_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1.0, 5.0);
	r->announce = loop_timer_new(l, announce_timer, r);
	r->refresh = loop_timer_new(l, refresh_timer, r);
	if (r->announce == NULL || r->refresh == NULL) {
		responder_free(r);
		return NULL;
	}
	if (r->o.refresh_ms > 0)
		loop_timer_arm_jitter(r->refresh, r->o.refresh_ms, REFRESH_JITTER_PCT);
	return r;
}

void responder_free(struct responder *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_ifs; i++)
		rif_free(r->ifs[i]);
	free(r->ifs);
	loop_timer_free(r->announce);
	loop_timer_free(r->refresh);
	free(r->owned.v);
	free(r->first.v);
	free(r->repeat.v);
	free(r);
}
