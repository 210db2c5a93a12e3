/* SPDX-License-Identifier: Apache-2.0 */
/* rawsend: sends hand-made ARP requests and neighbour solicitations (well formed, truncated or
 * malformed on purpose) on a raw AF_PACKET socket, once, a few times, or as a paced flood.
 *
 *   rawsend -i IFACE [-n COUNT] [-R RATE | -g GAP_US] [--truncate LEN] [--pad] arp|ns|hex [fields]
 *
 *   arp: --eth-src MAC --eth-dst MAC (ff:..:ff) --op N (1) --htype N (1) --ptype N (0x0800)
 *        --hlen N (6) --plen N (4) --sha MAC (the interface's) --spa IP (0.0.0.0) --tha MAC (0)
 *        --tpa IP[,IP...]
 *   ns:  --eth-src MAC --eth-dst MAC (33:33 + the IPv6 destination) --src IP6 (::)
 *        --dst IP6 (the target's solicited-node group) --target IP6[,IP6...] --hop N (255)
 *        --code N (0) --slla MAC|none (the interface's) --optlen N (the SLLA option's length field,
 *        in units of 8 octets, 1; the option always takes 8 bytes, so 0 or 2 make it malformed) --bad-csum (checksum off by one) --payload-len N (IPv6 payload length
 *        field, default the real one)
 *   hex: --hex HEXBYTES (the whole frame)
 * With several targets, frames go to them in turn (interleaved probes). -R paces COUNT frames at
 * RATE per second (batches, no busy wait longer than a frame's slot); -g waits GAP_US between
 * frames; neither: back to back. Prints "sent N in S s (R/s), errors E" on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXT  64
#define FRAME 1600

struct frame {
	uint8_t b[FRAME];
	size_t len;
};

static struct {
	uint8_t eth_src[6], eth_dst[6], sha[6], tha[6], slla[6];
	bool eth_src_set, eth_dst_set, sha_set, slla_set, slla_none, bad_csum, pad;
	int op, htype, ptype, hlen, plen, hop, code, optlen, payload_len;
	uint8_t spa[4], src6[16], dst6[16];
	bool dst6_set;
	uint8_t tpa[MAXT][16];
	size_t n_t;
	long truncate;
	const char *hex;
} o = {.op = 1, .htype = 1, .ptype = 0x0800, .hlen = 6, .plen = 4, .hop = 255, .optlen = 1,
       .payload_len = -1, .truncate = -1};

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "rawsend: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static void parse_mac(const char *s, uint8_t *m)
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		die("bad MAC", s);
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			die("bad MAC", s);
		m[i] = (uint8_t)v[i];
	}
}

static void parse_targets(const char *s, int family)
{
	char *copy = strdup(s), *save = NULL, *tok;
	if (copy == NULL)
		die("out of memory", NULL);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o.n_t == MAXT)
			die("too many targets", s);
		memset(o.tpa[o.n_t], 0, 16);
		if (inet_pton(family, tok, o.tpa[o.n_t]) != 1)
			die("bad target address", tok);
		o.n_t++;
	}
	free(copy);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 4443 2.3 over the RFC 8200 8.1 pseudo-header; msg's checksum field must be zero. */
static uint16_t icmp6_cksum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len)
{
	uint64_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + 58;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void build_arp(struct frame *f, const uint8_t *tpa)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t *b = f->b;
	memcpy(b, o.eth_dst_set ? o.eth_dst : bcast, 6);
	memcpy(b + 6, o.eth_src, 6);
	put16(b + 12, 0x0806);
	put16(b + 14, (unsigned)o.htype);
	put16(b + 16, (unsigned)o.ptype);
	b[18] = (uint8_t)o.hlen;
	b[19] = (uint8_t)o.plen;
	put16(b + 20, (unsigned)o.op);
	memcpy(b + 22, o.sha, 6);
	memcpy(b + 28, o.spa, 4);
	memcpy(b + 32, o.tha, 6);
	memcpy(b + 38, tpa, 4);
	f->len = 42;
}

static void build_ns(struct frame *f, const uint8_t *target)
{
	uint8_t *b = f->b, *ip = b + 14, *icmp = b + 54, dst[16];
	size_t ilen = 24;
	if (o.dst6_set) {
		memcpy(dst, o.dst6, 16);
	} else { /* RFC 4291 2.7.1 solicited-node group */
		static const uint8_t sn[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
		memcpy(dst, sn, 13);
		memcpy(dst + 13, target + 13, 3);
	}
	if (o.eth_dst_set) {
		memcpy(b, o.eth_dst, 6);
	} else if (dst[0] == 0xff) {
		b[0] = b[1] = 0x33;
		memcpy(b + 2, dst + 12, 4);
	} else {
		die("a unicast --dst needs --eth-dst", NULL);
	}
	memcpy(b + 6, o.eth_src, 6);
	put16(b + 12, 0x86dd);
	memset(icmp, 0, 24);
	icmp[0] = 135;
	icmp[1] = (uint8_t)o.code;
	memcpy(icmp + 8, target, 16);
	if (!o.slla_none) {
		size_t olen = 8; /* the option's bytes; its length field may say otherwise */
		memset(icmp + ilen, 0, olen);
		icmp[ilen] = 1;
		icmp[ilen + 1] = (uint8_t)o.optlen;
		memcpy(icmp + ilen + 2, o.slla, 6);
		ilen += olen;
	}
	ip[0] = 0x60;
	ip[1] = ip[2] = ip[3] = 0;
	put16(ip + 4, o.payload_len >= 0 ? (unsigned)o.payload_len : (unsigned)ilen);
	ip[6] = 58;
	ip[7] = (uint8_t)o.hop;
	memcpy(ip + 8, o.src6, 16);
	memcpy(ip + 24, dst, 16);
	uint16_t ck = icmp6_cksum(o.src6, dst, icmp, ilen);
	if (o.bad_csum)
		ck ^= 1;
	put16(icmp + 2, ck);
	f->len = 54 + ilen;
}

static void build_hex(struct frame *f)
{
	size_t n = 0;
	for (const char *s = o.hex; *s;) {
		unsigned v;
		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (n == FRAME || sscanf(s, "%2x", &v) != 1 || !s[1])
			die("bad --hex", o.hex);
		f->b[n++] = (uint8_t)v;
		s += 2;
	}
	f->len = n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	enum { O_ETH_SRC = 256, O_ETH_DST, O_OP, O_HTYPE, O_PTYPE, O_HLEN, O_PLEN, O_SHA, O_SPA, O_THA,
	       O_TPA, O_SRC, O_DST, O_TARGET, O_HOP, O_CODE, O_SLLA, O_OPTLEN, O_BAD_CSUM, O_PLENF,
	       O_TRUNC, O_PAD, O_HEX };
	static const struct option lo[] = {
		{"eth-src", required_argument, NULL, O_ETH_SRC}, {"eth-dst", required_argument, NULL, O_ETH_DST},
		{"op", required_argument, NULL, O_OP}, {"htype", required_argument, NULL, O_HTYPE},
		{"ptype", required_argument, NULL, O_PTYPE}, {"hlen", required_argument, NULL, O_HLEN},
		{"plen", required_argument, NULL, O_PLEN}, {"sha", required_argument, NULL, O_SHA},
		{"spa", required_argument, NULL, O_SPA}, {"tha", required_argument, NULL, O_THA},
		{"tpa", required_argument, NULL, O_TPA}, {"src", required_argument, NULL, O_SRC},
		{"dst", required_argument, NULL, O_DST}, {"target", required_argument, NULL, O_TARGET},
		{"hop", required_argument, NULL, O_HOP}, {"code", required_argument, NULL, O_CODE},
		{"slla", required_argument, NULL, O_SLLA}, {"optlen", required_argument, NULL, O_OPTLEN},
		{"bad-csum", no_argument, NULL, O_BAD_CSUM},
		{"payload-len", required_argument, NULL, O_PLENF},
		{"truncate", required_argument, NULL, O_TRUNC}, {"pad", no_argument, NULL, O_PAD},
		{"hex", required_argument, NULL, O_HEX}, {NULL, 0, NULL, 0},
	};
	const char *ifname = NULL, *kind;
	long count = 1, gap_us = 0, errors = 0, sent = 0;
	double rate = 0;
	int c, fd;
	const char *tpa_s = NULL, *target_s = NULL;

	while ((c = getopt_long(argc, argv, "+i:n:R:g:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'R': rate = atof(optarg); break;
		case 'g': gap_us = atol(optarg); break;
		case O_ETH_SRC: parse_mac(optarg, o.eth_src); o.eth_src_set = true; break;
		case O_ETH_DST: parse_mac(optarg, o.eth_dst); o.eth_dst_set = true; break;
		case O_OP: o.op = (int)strtol(optarg, NULL, 0); break;
		case O_HTYPE: o.htype = (int)strtol(optarg, NULL, 0); break;
		case O_PTYPE: o.ptype = (int)strtol(optarg, NULL, 0); break;
		case O_HLEN: o.hlen = (int)strtol(optarg, NULL, 0); break;
		case O_PLEN: o.plen = (int)strtol(optarg, NULL, 0); break;
		case O_SHA: parse_mac(optarg, o.sha); o.sha_set = true; break;
		case O_THA: parse_mac(optarg, o.tha); break;
		case O_SPA: if (inet_pton(AF_INET, optarg, o.spa) != 1) die("bad --spa", optarg); break;
		case O_TPA: tpa_s = optarg; break;
		case O_SRC: if (inet_pton(AF_INET6, optarg, o.src6) != 1) die("bad --src", optarg); break;
		case O_DST:
			if (inet_pton(AF_INET6, optarg, o.dst6) != 1)
				die("bad --dst", optarg);
			o.dst6_set = true;
			break;
		case O_TARGET: target_s = optarg; break;
		case O_HOP: o.hop = atoi(optarg); break;
		case O_CODE: o.code = atoi(optarg); break;
		case O_SLLA:
			if (strcmp(optarg, "none") == 0)
				o.slla_none = true;
			else
				parse_mac(optarg, o.slla), o.slla_set = true;
			break;
		case O_OPTLEN: o.optlen = atoi(optarg); break;
		case O_BAD_CSUM: o.bad_csum = true; break;
		case O_PLENF: o.payload_len = atoi(optarg); break;
		case O_TRUNC: o.truncate = atol(optarg); break;
		case O_PAD: o.pad = true; break;
		case O_HEX: o.hex = optarg; break;
		default: die("see the header of rawsend.c for usage", NULL);
		}
	}
	if (ifname == NULL || optind != argc - 1)
		die("usage: rawsend -i IFACE [-n COUNT] [-R RATE|-g GAP_US] arp|ns|hex [fields]", NULL);
	kind = argv[optind];

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_PACKET)", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR", strerror(errno));
	if (!o.eth_src_set)
		memcpy(o.eth_src, ifr.ifr_hwaddr.sa_data, 6);
	if (!o.sha_set)
		memcpy(o.sha, ifr.ifr_hwaddr.sa_data, 6);
	if (!o.slla_set)
		memcpy(o.slla, ifr.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0)
		die("no such interface", ifname);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind", strerror(errno));
	int sndbuf = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

	struct frame *frames;
	size_t nf;
	if (strcmp(kind, "arp") == 0) {
		if (tpa_s == NULL)
			die("arp needs --tpa", NULL);
		parse_targets(tpa_s, AF_INET);
	} else if (strcmp(kind, "ns") == 0) {
		if (target_s == NULL)
			die("ns needs --target", NULL);
		parse_targets(target_s, AF_INET6);
	} else if (strcmp(kind, "hex") == 0) {
		if (o.hex == NULL)
			die("hex needs --hex", NULL);
		o.n_t = 1;
	} else {
		die("kind must be arp, ns or hex", kind);
	}
	nf = o.n_t;
	frames = calloc(nf, sizeof(*frames));
	if (frames == NULL)
		die("out of memory", NULL);
	for (size_t i = 0; i < nf; i++) {
		if (kind[0] == 'a')
			build_arp(&frames[i], o.tpa[i]);
		else if (kind[0] == 'n')
			build_ns(&frames[i], o.tpa[i]);
		else
			build_hex(&frames[i]);
		if (o.pad && frames[i].len < 60) {
			memset(frames[i].b + frames[i].len, 0, 60 - frames[i].len);
			frames[i].len = 60;
		}
		if (o.truncate >= 0 && (size_t)o.truncate < frames[i].len)
			frames[i].len = (size_t)o.truncate;
	}

	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	double t0 = now_s();
	for (long i = 0; count <= 0 || i < count; i++) {
		const struct frame *f = &frames[(size_t)i % nf];
		if (rate > 0) {
			double due = t0 + (double)i / rate, now = now_s();
			if (due - now > 50e-6)
				sleep_s(due - now - 20e-6);
		} else if (gap_us > 0 && i > 0) {
			sleep_s((double)gap_us / 1e6);
		}
		for (;;) {
			ssize_t n = send(fd, f->b, f->len, 0);
			if (n == (ssize_t)f->len) {
				sent++;
				break;
			}
			if (n < 0 && errno == ENOBUFS) { /* queue full: wait a little and retry */
				sleep_s(20e-6);
				continue;
			}
			errors++;
			break;
		}
	}
	double el = now_s() - t0;
	fprintf(stderr, "sent %ld in %.3f s (%.0f/s), errors %ld\n", sent, el,
		el > 0 ? (double)sent / el : 0.0, errors);
	free(frames);
	close(fd);
	return errors ? 1 : 0;
}
