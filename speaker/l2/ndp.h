/* SPDX-License-Identifier: Apache-2.0 */
/* ndp: pure codec for IPv6 Neighbour Discovery over Ethernet (RFC 4861): validate a received
 * Neighbour Solicitation, build Neighbour Advertisements, solicited-node group helpers. No I/O. */
#ifndef BARELB_SPEAKER_L2_NDP_H
#define BARELB_SPEAKER_L2_NDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arp.h" /* L2_MAC_LEN, L2_ETH_HLEN, L2_ETHERTYPE_IPV6 */
#include "barelb/addr.h"

#define IPV6_HDR_LEN        40  /* RFC 8200 section 3 */
#define IPV6_VERSION        6
#define IPV6_NEXT_ICMPV6    58  /* IANA protocol number, RFC 4443 */
#define NDP_HOP_LIMIT       255 /* RFC 4861 sections 7.1.1, 7.1.2, 7.2.4 */
#define ICMPV6_NS           135 /* RFC 4861 section 4.3 */
#define ICMPV6_NA           136 /* RFC 4861 section 4.4 */
#define NDP_NS_MIN_LEN      24  /* RFC 4861 7.1.1: ICMP length of an NS is 24 or more */
#define NDP_OPT_SLLA        1   /* RFC 4861 4.6.1 Source Link-Layer Address */
#define NDP_OPT_TLLA        2   /* RFC 4861 4.6.1 Target Link-Layer Address */
#define NDP_OPT_UNIT        8   /* RFC 4861 4.6: option length is in units of 8 octets */
#define NDP_NA_FLAG_ROUTER    0x80 /* RFC 4861 4.4 */
#define NDP_NA_FLAG_SOLICITED 0x40
#define NDP_NA_FLAG_OVERRIDE  0x20
#define NDP_NA_LEN          32  /* NA header 24 + one TLLA option of 8 */
#define NDP_NA_FRAME_LEN    (L2_ETH_HLEN + IPV6_HDR_LEN + NDP_NA_LEN) /* 86 */

enum ndp_why {
	NDP_OK = 0,
	NDP_TRUNCATED,        /* shorter than the Ethernet + IPv6 headers, or than the IPv6 length */
	NDP_NOT_IPV6,         /* EtherType is not IPv6 */
	NDP_BAD_VERSION,      /* IP version field is not 6 */
	NDP_NOT_ICMPV6,       /* next header is not ICMPv6 (extension headers are not followed) */
	NDP_NOT_NS,           /* ICMPv6 but not a Neighbour Solicitation */
	NDP_BAD_HOP_LIMIT,    /* RFC 4861 7.1.1: hop limit != 255 */
	NDP_BAD_CODE,         /* RFC 4861 7.1.1: code != 0 */
	NDP_BAD_LENGTH,       /* RFC 4861 7.1.1: ICMP length < 24 */
	NDP_BAD_CHECKSUM,     /* RFC 4861 7.1.1 / RFC 4443 2.3 */
	NDP_TARGET_MULTICAST, /* RFC 4861 7.1.1: target is a multicast address */
	NDP_BAD_OPTION,       /* RFC 4861 7.1.1: option length zero or past the end; bad SLLA size */
	NDP_BAD_SOURCE,       /* RFC 4291 2.7: multicast source address */
	NDP_BAD_DAD,          /* RFC 4861 7.1.1: source :: needs a solicited-node dst and no SLLA */
	NDP_NOT_FOR_US,       /* Ethernet dst is neither our MAC nor the IPv6 dst's multicast MAC */
	NDP_OWN_FRAME,        /* Ethernet source or SLLA is our own MAC */
	NDP_WHY_COUNT
};

/* A validated Neighbour Solicitation. Nothing points into the frame. */
struct ndp_ns {
	uint8_t eth_dst[L2_MAC_LEN];
	uint8_t eth_src[L2_MAC_LEN];
	addr_t src;                 /* IPv6 source; :: for a DAD probe */
	addr_t dst;                 /* IPv6 destination: solicited-node group or the target itself */
	addr_t target;              /* the address asked about */
	bool has_slla;
	uint8_t slla[L2_MAC_LEN];   /* Source Link-Layer Address option, when has_slla */
	bool dad;                   /* source is :: (RFC 4862 5.4.2 duplicate address detection) */
};

/* Parse an Ethernet frame holding an IPv6 Neighbour Solicitation (no extension headers) with every
 * validity check of RFC 4861 7.1.1. Returns 0 with *ns filled, or -1 with *why set. Bytes after the
 * IPv6 payload (Ethernet padding) are ignored. Ownership of the target is the caller's check. */
int ndp_parse(const uint8_t *frame, size_t len, const uint8_t our_mac[L2_MAC_LEN],
	      struct ndp_ns *ns, enum ndp_why *why);

/* Build a Neighbour Advertisement for target (IPv6) from our_mac, IPv6 source = target itself
 * (so that strict receivers such as ndisc6, which want source == target, accept it), hop limit
 * 255, one Target Link-Layer Address option, Router flag clear:
 *  - ns == NULL: unsolicited (takeover), to ff02::1 / 33:33:00:00:00:01, O=1, S=0 (RFC 4861 7.2.6);
 *  - ns->dad: answer to a DAD probe, to ff02::1, O=1, S=0 (RFC 4861 7.2.4);
 *  - otherwise: solicited, unicast to ns->src at its SLLA MAC (or the frame's Ethernet source when
 *    the NS had no SLLA), S=1, O=1 (RFC 4861 7.2.4). target should be ns->target.
 * Returns the frame length (NDP_NA_FRAME_LEN) or -1 (cap too small, target not IPv6). */
int ndp_build_na(uint8_t *buf, size_t cap, const uint8_t our_mac[L2_MAC_LEN], const addr_t *target,
		 const struct ndp_ns *ns);

/* RFC 4291 2.7.1: ff02::1:ffXX:XXXX from the low 24 bits of ip (IPv6). */
void ndp_solicited_node(const addr_t *ip, addr_t *group);
bool ndp_is_solicited_node(const addr_t *a);
/* RFC 2464 section 7: 33:33 followed by the low 32 bits of an IPv6 multicast address. */
void ndp_mcast_mac(const addr_t *group, uint8_t mac[L2_MAC_LEN]);
bool ndp_is_multicast(const addr_t *a); /* ff00::/8 */
/* RFC 4443 2.3: ICMPv6 checksum over the pseudo-header (RFC 8200 8.1) and len bytes of the
 * message (whose checksum field must be zero, or hold the value to verify: a valid message sums
 * to 0). */
uint16_t ndp_icmp6_checksum(const addr_t *src, const addr_t *dst, const uint8_t *msg, size_t len);

const char *ndp_why_name(enum ndp_why why);

#endif
