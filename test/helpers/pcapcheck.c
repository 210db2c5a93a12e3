/* SPDX-License-Identifier: Apache-2.0 */
/* pcapcheck: capture ARP / NDP frames with libpcap and check them field by field (TAP), count them,
 * or time request->reply pairs (client-side latency), with its own small frame parsers.
 *
 *   pcapcheck -i IFACE [-f FILTER] [-c N] [-t SECONDS] [-r READYFILE] [-m check|time|count] ...
 *
 * check (default): every captured frame must be of the kind given by --expect (arp or na) and
 *   match every expectation given; prints one TAP line per frame ("ok" when every field matched),
 *   one "not ok" line per wrong field, a line for the number of frames (--min/--max), and the plan.
 *   Always checked: ARP htype 1, ptype 0x0800, hlen 6, plen 4, frame length; for an NA: EtherType,
 *   IP version, payload length, next header 58, hop limit 255, type 136, code 0, ICMPv6 checksum
 *   (recomputed), ICMP length, options well formed (non-zero lengths inside the message), Ethernet
 *   destination of a multicast IPv6 destination (RFC 2464 section 7), target not multicast.
 *   Optional: --eth-src --eth-dst --op --sha --spa --tha --tpa --min-len (ARP),
 *   --eth-src --eth-dst --ip6-src --ip6-dst --target --tlla --flags (NA; letters S O R, upper case
 *   = set, lower case = clear, e.g. "SOr"; --tlla none = no TLLA option).
 * time: pairs ARP requests with replies (by the IP asked for) and NS with NA (by target) and prints
 *   "rtt IP USEC" per pair, then per IP "stat IP requests R replies P pairs N median_us M p99_us Q".
 * count: prints per IP "count IP requests R replies P" (a flood counter; capture replies only
 *   with the filter to keep the capture cheap).
 * Every mode ends with "pcap received N dropped D" (from pcap_stats) and stops after N frames
 * (check, count) or N pairs (time), after SECONDS, or on SIGTERM/SIGINT. Exit status: 0 when every
 * check passed (and nothing was dropped by the capture), 1 otherwise, 2 on usage errors. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define MAXIP 64

enum mode { M_CHECK, M_TIME, M_COUNT };
enum kind { K_ANY, K_ARP, K_NA };

struct mac_opt {
	bool set;
	uint8_t v[6];
};
struct ip_opt {
	bool set;
	bool none; /* --tlla none */
	uint8_t v[16];
};

struct expect {
	enum kind kind;
	struct mac_opt eth_src, eth_dst, sha, tha, tlla;
	struct ip_opt spa, tpa, ip6_src, ip6_dst, target;
	int op;         /* -1 = any */
	int flags_mask; /* NA flag bits given */
	int flags_val;
	unsigned min_len;
	bool tlla_none;
	long min, max; /* frame count; max -1 = unlimited */
};

struct ipstat {
	int family;
	uint8_t ip[16];
	unsigned long requests, replies;
	bool pending;
	struct timespec req_ts;
	double *rtt;
	size_t n, cap;
};

static struct {
	enum mode mode;
	struct expect e;
	long limit; /* frames or pairs; 0 = none */
	long frames, pairs;
	int tap_n, tap_fail;
	struct ipstat ips[MAXIP];
	size_t n_ips;
	pcap_t *p;
	bool quiet_rtt;
} g;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
	if (g.p)
		pcap_breakloop(g.p);
}

/* ---------- TAP ---------- */

static void tap(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool pass, const char *fmt, ...)
{
	va_list ap;
	g.tap_n++;
	if (!pass)
		g.tap_fail++;
	printf("%s %d - ", pass ? "ok" : "not ok", g.tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---------- formatting and parsing of addresses ---------- */

static void fmt_mac(const uint8_t *m, char *out)
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void fmt_ip(int family, const uint8_t *b, char *out, size_t n)
{
	if (inet_ntop(family, b, out, (socklen_t)n) == NULL)
		snprintf(out, n, "?");
}

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 4443 2.3 / RFC 8200 8.1: one's complement sum over the pseudo-header and the message, with
 * the message's checksum field taken as zero; returns the checksum the message should carry. */
static uint16_t icmp6_cksum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len)
{
	uint64_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += rd16(src + i) + rd16(dst + i);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + 58;
	for (size_t i = 0; i + 1 < len; i += 2)
		if (i != 2) /* the checksum field */
			sum += rd16(msg + i);
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---------- check mode ---------- */

struct fcheck {
	long frame;
	bool ok;
	int fields;
};

static void field_mac(struct fcheck *c, const char *name, const struct mac_opt *want,
		      const uint8_t *got)
{
	char a[18], b[18];
	if (!want->set)
		return;
	c->fields++;
	if (memcmp(want->v, got, 6) == 0)
		return;
	fmt_mac(got, a);
	fmt_mac(want->v, b);
	c->ok = false;
	tap(false, "frame %ld: %s is %s, want %s", c->frame, name, a, b);
}

static void field_ip(struct fcheck *c, const char *name, int family, const struct ip_opt *want,
		     const uint8_t *got)
{
	char a[64], b[64];
	if (!want->set)
		return;
	c->fields++;
	if (memcmp(want->v, got, family == AF_INET ? 4 : 16) == 0)
		return;
	fmt_ip(family, got, a, sizeof(a));
	fmt_ip(family, want->v, b, sizeof(b));
	c->ok = false;
	tap(false, "frame %ld: %s is %s, want %s", c->frame, name, a, b);
}

static void field_u(struct fcheck *c, const char *name, unsigned long got, unsigned long want)
{
	c->fields++;
	if (got == want)
		return;
	c->ok = false;
	tap(false, "frame %ld: %s is %lu (0x%lx), want %lu (0x%lx)", c->frame, name, got, got, want,
	    want);
}

static void fail(struct fcheck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct fcheck *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->ok = false;
	tap(false, "frame %ld: %s", c->frame, msg);
}

static void check_arp(struct fcheck *c, const uint8_t *f, size_t n, char *sum, size_t sn)
{
	const struct expect *e = &g.e;
	char s1[64], s2[64], m1[18];
	field_mac(c, "Ethernet destination", &e->eth_dst, f);
	field_mac(c, "Ethernet source", &e->eth_src, f + 6);
	field_u(c, "ARP htype", rd16(f + 14), 1);
	field_u(c, "ARP ptype", rd16(f + 16), 0x0800);
	field_u(c, "ARP hlen", f[18], 6);
	field_u(c, "ARP plen", f[19], 4);
	if (e->op >= 0)
		field_u(c, "ARP opcode", rd16(f + 20), (unsigned long)e->op);
	field_mac(c, "ARP sender MAC", &e->sha, f + 22);
	field_ip(c, "ARP sender IP", AF_INET, &e->spa, f + 28);
	field_mac(c, "ARP target MAC", &e->tha, f + 32);
	field_ip(c, "ARP target IP", AF_INET, &e->tpa, f + 38);
	if (e->min_len) {
		c->fields++;
		if (n < e->min_len)
			fail(c, "frame length %zu, want at least %u", n, e->min_len);
	}
	fmt_ip(AF_INET, f + 28, s1, sizeof(s1));
	fmt_ip(AF_INET, f + 38, s2, sizeof(s2));
	fmt_mac(f + 22, m1);
	snprintf(sum, sn, "ARP op %u %s (%s) -> %s, %zu bytes", rd16(f + 20), s1, m1, s2, n);
}

static void check_na(struct fcheck *c, const uint8_t *f, size_t n, char *sum, size_t sn)
{
	const struct expect *e = &g.e;
	const uint8_t *ip = f + 14, *icmp = f + 54;
	size_t plen = rd16(ip + 4), off;
	char s1[64], s2[64], s3[64];
	const uint8_t *tlla = NULL;
	bool opts_ok = true;

	field_mac(c, "Ethernet destination", &e->eth_dst, f);
	field_mac(c, "Ethernet source", &e->eth_src, f + 6);
	field_u(c, "IP version", ip[0] >> 4, 6);
	field_u(c, "next header", ip[6], 58);
	field_u(c, "hop limit", ip[7], 255);
	c->fields++;
	if (54 + plen > n) {
		fail(c, "IPv6 payload length %zu runs past the %zu captured bytes", plen, n);
		return;
	}
	field_ip(c, "IPv6 source", AF_INET6, &e->ip6_src, ip + 8);
	field_ip(c, "IPv6 destination", AF_INET6, &e->ip6_dst, ip + 24);
	if (ip[24] == 0xff) { /* RFC 2464 section 7: 33:33 + low 32 bits */
		uint8_t want[6] = {0x33, 0x33, ip[36], ip[37], ip[38], ip[39]};
		c->fields++;
		if (memcmp(f, want, 6) != 0) {
			fmt_mac(f, s1);
			fmt_mac(want, s2);
			fail(c, "Ethernet destination %s does not map the IPv6 multicast destination (%s)",
			     s1, s2);
		}
	}
	c->fields++;
	if (plen < 24) {
		fail(c, "ICMPv6 length %zu < 24", plen);
		return;
	}
	field_u(c, "ICMPv6 type", icmp[0], 136);
	field_u(c, "ICMPv6 code", icmp[1], 0);
	field_u(c, "ICMPv6 checksum", rd16(icmp + 2), icmp6_cksum(ip + 8, ip + 24, icmp, plen));
	if (e->flags_mask)
		field_u(c, "NA flags (R S O bits)", icmp[4] & e->flags_mask, (unsigned)e->flags_val);
	field_u(c, "NA reserved bits", (unsigned long)(icmp[4] & 0x1f) << 24 |
		(unsigned long)icmp[5] << 16 | (unsigned long)rd16(icmp + 6), 0);
	c->fields++;
	if (icmp[8] == 0xff)
		fail(c, "target is a multicast address");
	field_ip(c, "target address", AF_INET6, &e->target, icmp + 8);
	for (off = 24; off < plen;) {
		size_t olen;
		if (off + 2 > plen || icmp[off + 1] == 0 || off + (size_t)icmp[off + 1] * 8 > plen) {
			opts_ok = false;
			break;
		}
		olen = (size_t)icmp[off + 1] * 8;
		if (icmp[off] == 2) {
			if (olen != 8) {
				fail(c, "TLLA option length %zu, want 8 (RFC 2464 section 8)", olen);
			} else if (tlla == NULL) {
				tlla = icmp + off + 2;
			}
		}
		off += olen;
	}
	c->fields++;
	if (!opts_ok)
		fail(c, "options malformed (zero length or past the end)");
	if (e->tlla_none) {
		c->fields++;
		if (tlla != NULL)
			fail(c, "a TLLA option is present, want none");
	} else if (e->tlla.set) {
		c->fields++;
		if (tlla == NULL)
			fail(c, "no Target Link-Layer Address option");
		else
			field_mac(c, "TLLA option", &e->tlla, tlla);
	}
	fmt_ip(AF_INET6, ip + 8, s1, sizeof(s1));
	fmt_ip(AF_INET6, ip + 24, s2, sizeof(s2));
	fmt_ip(AF_INET6, icmp + 8, s3, sizeof(s3));
	snprintf(sum, sn, "NA %s -> %s target %s flags %c%c%c%s, %zu bytes", s1, s2, s3,
		 icmp[4] & 0x80 ? 'R' : 'r', icmp[4] & 0x40 ? 'S' : 's', icmp[4] & 0x20 ? 'O' : 'o',
		 tlla ? " tlla" : "", n);
}

static void do_check(const uint8_t *f, size_t n)
{
	struct fcheck c = {.frame = g.frames, .ok = true};
	char sum[256] = "";
	uint16_t type;
	if (n < 14) {
		fail(&c, "%zu bytes, shorter than an Ethernet header", n);
		return;
	}
	type = rd16(f + 12);
	if (g.e.kind == K_ARP || (g.e.kind == K_ANY && type == 0x0806)) {
		field_u(&c, "EtherType", type, 0x0806);
		if (type != 0x0806)
			return;
		if (n < 42) {
			fail(&c, "%zu bytes, shorter than Ethernet + ARP (42)", n);
			return;
		}
		check_arp(&c, f, n, sum, sizeof(sum));
	} else if (g.e.kind == K_NA || (g.e.kind == K_ANY && type == 0x86dd)) {
		field_u(&c, "EtherType", type, 0x86dd);
		if (type != 0x86dd)
			return;
		if (n < 54 + 24) {
			fail(&c, "%zu bytes, shorter than Ethernet + IPv6 + NA (78)", n);
			return;
		}
		check_na(&c, f, n, sum, sizeof(sum));
	} else {
		fail(&c, "EtherType 0x%04x is neither ARP nor IPv6", type);
		return;
	}
	if (c.ok)
		tap(true, "frame %ld: %s: %d fields as expected", c.frame, sum, c.fields);
	else
		printf("# frame %ld: %s\n", c.frame, sum);
}

/* ---------- time and count modes ---------- */

static struct ipstat *ipstat_get(int family, const uint8_t *ip)
{
	size_t len = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < g.n_ips; i++)
		if (g.ips[i].family == family && memcmp(g.ips[i].ip, ip, len) == 0)
			return &g.ips[i];
	if (g.n_ips == MAXIP)
		return NULL;
	struct ipstat *s = &g.ips[g.n_ips++];
	memset(s, 0, sizeof(*s));
	s->family = family;
	memcpy(s->ip, ip, len);
	return s;
}

static void note(int family, const uint8_t *ip, bool request, const struct timespec *ts)
{
	struct ipstat *s = ipstat_get(family, ip);
	char buf[64];
	if (s == NULL)
		return;
	if (request) {
		s->requests++;
		s->pending = true;
		s->req_ts = *ts;
		return;
	}
	s->replies++;
	if (g.mode != M_TIME || !s->pending)
		return;
	s->pending = false;
	double us = (double)(ts->tv_sec - s->req_ts.tv_sec) * 1e6 +
		    (double)(ts->tv_nsec - s->req_ts.tv_nsec) / 1e3;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		double *v = realloc(s->rtt, cap * sizeof(*v));
		if (v == NULL)
			return;
		s->rtt = v;
		s->cap = cap;
	}
	s->rtt[s->n++] = us;
	g.pairs++;
	if (!g.quiet_rtt) {
		fmt_ip(family, ip, buf, sizeof(buf));
		printf("rtt %s %.1f\n", buf, us);
	}
	if (g.limit && g.pairs >= g.limit)
		pcap_breakloop(g.p);
}

static void do_time(const uint8_t *f, size_t n, const struct timespec *ts)
{
	uint16_t type;
	if (n < 14)
		return;
	type = rd16(f + 12);
	if (type == 0x0806 && n >= 42 && rd16(f + 14) == 1 && rd16(f + 16) == 0x0800 && f[18] == 6 &&
	    f[19] == 4) {
		uint16_t op = rd16(f + 20);
		if (op == 1)
			note(AF_INET, f + 38, true, ts);
		else if (op == 2)
			note(AF_INET, f + 28, false, ts);
	} else if (type == 0x86dd && n >= 54 + 24 && f[14 + 6] == 58) {
		const uint8_t *icmp = f + 54;
		if (icmp[0] == 135)
			note(AF_INET6, icmp + 8, true, ts);
		else if (icmp[0] == 136)
			note(AF_INET6, icmp + 8, false, ts);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	/* nearest rank */
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* ---------- capture ---------- */

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *f)
{
	(void)user;
	/* Nanosecond precision was asked for: tv_usec holds nanoseconds. */
	struct timespec ts = {.tv_sec = h->ts.tv_sec, .tv_nsec = h->ts.tv_usec};
	g.frames++;
	if (h->caplen < h->len && g.mode == M_CHECK) {
		struct fcheck c = {.frame = g.frames, .ok = true};
		fail(&c, "captured %u of %u bytes (snap length)", h->caplen, h->len);
		return;
	}
	switch (g.mode) {
	case M_CHECK:
		do_check(f, h->caplen);
		break;
	case M_TIME:
	case M_COUNT:
		do_time(f, h->caplen, &ts);
		break;
	}
	if (g.mode != M_TIME && g.limit && g.frames >= g.limit)
		pcap_breakloop(g.p);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pcapcheck -i IFACE [-f FILTER] [-c N] [-t SECONDS] [-r READYFILE]\n"
		"                 [-m check|time|count] [-q] [--buffer MIB]\n"
		"  check: --expect arp|na [--min N] [--max N] [--eth-src MAC] [--eth-dst MAC]\n"
		"         ARP: [--op N] [--sha MAC] [--spa IP] [--tha MAC] [--tpa IP] [--min-len N]\n"
		"         NA:  [--ip6-src IP] [--ip6-dst IP] [--target IP] [--tlla MAC|none] [--flags SOr]\n");
	exit(2);
}

static void opt_mac(struct mac_opt *m, const char *s, const char *name)
{
	if (parse_mac(s, m->v) < 0) {
		fprintf(stderr, "pcapcheck: %s: bad MAC '%s'\n", name, s);
		exit(2);
	}
	m->set = true;
}

static void opt_ip(struct ip_opt *o, int family, const char *s, const char *name)
{
	if (inet_pton(family, s, o->v) != 1) {
		fprintf(stderr, "pcapcheck: %s: bad %s address '%s'\n", name,
			family == AF_INET ? "IPv4" : "IPv6", s);
		exit(2);
	}
	o->set = true;
}

static void opt_flags(const char *s)
{
	for (; *s; s++) {
		int bit;
		switch (*s | 0x20) {
		case 'r':
			bit = 0x80;
			break;
		case 's':
			bit = 0x40;
			break;
		case 'o':
			bit = 0x20;
			break;
		default:
			fprintf(stderr, "pcapcheck: --flags: letters R S O (upper case = set)\n");
			exit(2);
		}
		g.e.flags_mask |= bit;
		if (*s >= 'A' && *s <= 'Z')
			g.e.flags_val |= bit;
	}
}

int main(int argc, char **argv)
{
	enum { O_EXPECT = 256, O_MIN, O_MAX, O_ETH_SRC, O_ETH_DST, O_OP, O_SHA, O_SPA, O_THA, O_TPA,
	       O_IP6_SRC, O_IP6_DST, O_TARGET, O_TLLA, O_FLAGS, O_MIN_LEN, O_BUFFER };
	static const struct option lo[] = {
		{"expect", required_argument, NULL, O_EXPECT},
		{"min", required_argument, NULL, O_MIN},
		{"max", required_argument, NULL, O_MAX},
		{"eth-src", required_argument, NULL, O_ETH_SRC},
		{"eth-dst", required_argument, NULL, O_ETH_DST},
		{"op", required_argument, NULL, O_OP},
		{"sha", required_argument, NULL, O_SHA},
		{"spa", required_argument, NULL, O_SPA},
		{"tha", required_argument, NULL, O_THA},
		{"tpa", required_argument, NULL, O_TPA},
		{"ip6-src", required_argument, NULL, O_IP6_SRC},
		{"ip6-dst", required_argument, NULL, O_IP6_DST},
		{"target", required_argument, NULL, O_TARGET},
		{"tlla", required_argument, NULL, O_TLLA},
		{"flags", required_argument, NULL, O_FLAGS},
		{"min-len", required_argument, NULL, O_MIN_LEN},
		{"buffer", required_argument, NULL, O_BUFFER},
		{NULL, 0, NULL, 0},
	};
	const char *ifname = NULL, *filter = "arp or icmp6", *ready = NULL;
	double seconds = 0;
	int c, buffer_mib = 32, rc = 0;
	char err[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	struct pcap_stat st;

	g.e.op = -1;
	g.e.min = 1;
	g.e.max = -1;
	while ((c = getopt_long(argc, argv, "i:f:c:t:r:m:q", lo, NULL)) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'f': filter = optarg; break;
		case 'c': g.limit = atol(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'r': ready = optarg; break;
		case 'q': g.quiet_rtt = true; break;
		case 'm':
			if (strcmp(optarg, "check") == 0)
				g.mode = M_CHECK;
			else if (strcmp(optarg, "time") == 0)
				g.mode = M_TIME;
			else if (strcmp(optarg, "count") == 0)
				g.mode = M_COUNT;
			else
				usage();
			break;
		case O_EXPECT:
			if (strcmp(optarg, "arp") == 0)
				g.e.kind = K_ARP;
			else if (strcmp(optarg, "na") == 0)
				g.e.kind = K_NA;
			else
				usage();
			break;
		case O_MIN: g.e.min = atol(optarg); break;
		case O_MAX: g.e.max = atol(optarg); break;
		case O_ETH_SRC: opt_mac(&g.e.eth_src, optarg, "--eth-src"); break;
		case O_ETH_DST: opt_mac(&g.e.eth_dst, optarg, "--eth-dst"); break;
		case O_OP: g.e.op = atoi(optarg); break;
		case O_SHA: opt_mac(&g.e.sha, optarg, "--sha"); break;
		case O_THA: opt_mac(&g.e.tha, optarg, "--tha"); break;
		case O_SPA: opt_ip(&g.e.spa, AF_INET, optarg, "--spa"); break;
		case O_TPA: opt_ip(&g.e.tpa, AF_INET, optarg, "--tpa"); break;
		case O_IP6_SRC: opt_ip(&g.e.ip6_src, AF_INET6, optarg, "--ip6-src"); break;
		case O_IP6_DST: opt_ip(&g.e.ip6_dst, AF_INET6, optarg, "--ip6-dst"); break;
		case O_TARGET: opt_ip(&g.e.target, AF_INET6, optarg, "--target"); break;
		case O_TLLA:
			if (strcmp(optarg, "none") == 0)
				g.e.tlla_none = true;
			else
				opt_mac(&g.e.tlla, optarg, "--tlla");
			break;
		case O_FLAGS: opt_flags(optarg); break;
		case O_MIN_LEN: g.e.min_len = (unsigned)atoi(optarg); break;
		case O_BUFFER: buffer_mib = atoi(optarg); break;
		default: usage();
		}
	}
	if (ifname == NULL || optind != argc)
		usage();

	g.p = pcap_create(ifname, err);
	if (g.p == NULL) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		return 2;
	}
	/* Immediate mode (RIG-NOTES: otherwise frames wait for the buffer timeout), nanosecond
	 * timestamps, a buffer large enough for a flood. */
	if (pcap_set_immediate_mode(g.p, 1) != 0 || pcap_set_snaplen(g.p, 2048) != 0 ||
	    pcap_set_buffer_size(g.p, buffer_mib << 20) != 0 ||
	    pcap_set_tstamp_precision(g.p, PCAP_TSTAMP_PRECISION_NANO) != 0) {
		fprintf(stderr, "pcapcheck: cannot set capture options\n");
		return 2;
	}
	if (pcap_activate(g.p) < 0) {
		fprintf(stderr, "pcapcheck: %s: %s\n", ifname, pcap_geterr(g.p));
		return 2;
	}
	if (pcap_compile(g.p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
	    pcap_setfilter(g.p, &prog) < 0) {
		fprintf(stderr, "pcapcheck: filter '%s': %s\n", filter, pcap_geterr(g.p));
		return 2;
	}
	pcap_freecode(&prog);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the capture's poll returns at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	if (seconds > 0) {
		struct itimerval it = {.it_value = {.tv_sec = (time_t)seconds,
						    .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)}};
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	if (ready) {
		FILE *rf = fopen(ready, "w");
		if (rf)
			fclose(rf);
	}
	while (!stop_flag) {
		int n = pcap_dispatch(g.p, -1, on_frame, NULL);
		if (n == PCAP_ERROR_BREAK)
			break;
		if (n == PCAP_ERROR) {
			if (stop_flag)
				break;
			fprintf(stderr, "pcapcheck: %s\n", pcap_geterr(g.p));
			rc = 1;
			break;
		}
		if (g.mode == M_TIME ? (g.limit && g.pairs >= g.limit) : (g.limit && g.frames >= g.limit))
			break;
	}
	memset(&st, 0, sizeof(st));
	(void)pcap_stats(g.p, &st);

	if (g.mode == M_CHECK) {
		bool cnt_ok = g.frames >= g.e.min && (g.e.max < 0 || g.frames <= g.e.max);
		if (g.e.max < 0)
			tap(cnt_ok, "%ld frames captured (want at least %ld)", g.frames, g.e.min);
		else
			tap(cnt_ok, "%ld frames captured (want %ld to %ld)", g.frames, g.e.min, g.e.max);
	} else {
		for (size_t i = 0; i < g.n_ips; i++) {
			struct ipstat *s = &g.ips[i];
			char buf[64];
			fmt_ip(s->family, s->ip, buf, sizeof(buf));
			if (g.mode == M_COUNT) {
				printf("count %s requests %lu replies %lu\n", buf, s->requests, s->replies);
				continue;
			}
			if (s->n > 0)
				qsort(s->rtt, s->n, sizeof(double), cmp_double);
			printf("stat %s requests %lu replies %lu pairs %zu median_us %.1f p99_us %.1f\n", buf,
			       s->requests, s->replies, s->n, s->n ? pct(s->rtt, s->n, 50) : 0.0,
			       s->n ? pct(s->rtt, s->n, 99) : 0.0);
			free(s->rtt);
		}
	}
	printf("pcap received %u dropped %u\n", st.ps_recv, st.ps_drop);
	if (g.mode == M_CHECK)
		printf("1..%d\n", g.tap_n);
	pcap_close(g.p);
	if (g.tap_fail || st.ps_drop)
		rc = 1;
	return rc;
}
