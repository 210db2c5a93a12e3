/* SPDX-License-Identifier: Apache-2.0 */
/* arp: pure codec for Ethernet + IPv4 ARP (RFC 826): validate a received request, build replies and
 * gratuitous announcements. No I/O; every read goes through buf. */
#ifndef BARELB_SPEAKER_L2_ARP_H
#define BARELB_SPEAKER_L2_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"

#define L2_MAC_LEN       6      /* Ethernet address length */
#define L2_ETH_HLEN      14     /* dst, src, EtherType (IEEE 802.3 clause 3.2) */
#define L2_ETH_MIN_FRAME 60     /* minimum frame without FCS; shorter frames are zero-padded */
#define L2_ETHERTYPE_ARP  0x0806 /* IEEE EtherType registry */
#define L2_ETHERTYPE_IPV6 0x86dd /* RFC 2464 section 3 */

#define ARP_HTYPE_ETHERNET 1      /* RFC 826 "ar$hrd"; IANA ARP hardware type 1 */
#define ARP_PTYPE_IPV4     0x0800 /* RFC 826 "ar$pro": the EtherType of IPv4 */
#define ARP_HLEN_ETHERNET  6      /* RFC 826 "ar$hln" */
#define ARP_PLEN_IPV4      4      /* RFC 826 "ar$pln" */
#define ARP_OP_REQUEST     1      /* RFC 826 "ares_op$REQUEST" */
#define ARP_OP_REPLY       2      /* RFC 826 "ares_op$REPLY" */
#define ARP_BODY_LEN       28     /* the fixed Ethernet/IPv4 ARP body */
#define ARP_FRAME_LEN      (L2_ETH_HLEN + ARP_BODY_LEN) /* 42 before padding */

/* Why a frame was not accepted as a request to answer. */
enum arp_why {
	ARP_OK = 0,
	ARP_TRUNCATED,    /* shorter than Ethernet + ARP body */
	ARP_NOT_ARP,      /* EtherType is not ARP */
	ARP_BAD_HTYPE,    /* hardware type != 1 (Ethernet) */
	ARP_BAD_PTYPE,    /* protocol type != 0x0800 (IPv4) */
	ARP_BAD_HLEN,     /* hardware length != 6 */
	ARP_BAD_PLEN,     /* protocol length != 4 */
	ARP_NOT_REQUEST,  /* op is not request (replies and others are ignored) */
	ARP_NOT_FOR_US,   /* Ethernet destination is neither broadcast nor our MAC */
	ARP_OWN_FRAME,    /* Ethernet or ARP sender is our own MAC */
	ARP_WHY_COUNT
};

/* A parsed request. Addresses are copied out; nothing points into the frame. */
struct arp_pkt {
	uint8_t eth_dst[L2_MAC_LEN];
	uint8_t eth_src[L2_MAC_LEN];
	uint16_t op;
	uint8_t sha[L2_MAC_LEN]; /* sender hardware address */
	addr_t spa;              /* sender protocol address (0.0.0.0 for an RFC 5227 probe) */
	uint8_t tha[L2_MAC_LEN]; /* target hardware address (ignored in requests) */
	addr_t tpa;              /* target protocol address: the IP asked for */
};

/* Parse an Ethernet frame (no VLAN tag: the kernel strips it into aux data) holding an ARP request
 * that this host (our_mac) could answer. Returns 0 with *pkt filled, or -1 with *why set. Trailing
 * bytes (Ethernet padding) are allowed. Ownership of tpa is the caller's check. */
int arp_parse(const uint8_t *frame, size_t len, const uint8_t our_mac[L2_MAC_LEN],
	      struct arp_pkt *pkt, enum arp_why *why);

/* Build the reply to req for the owned IP req->tpa (RFC 826 "Packet Reception"): op reply, sender =
 * (our_mac, tpa), target = (req sha, req spa), Ethernet to the requester's sha, from our_mac. Padded
 * to the minimum frame size. Returns the frame length, or -1 when cap is too small. */
int arp_build_reply(uint8_t *buf, size_t cap, const uint8_t our_mac[L2_MAC_LEN],
		    const struct arp_pkt *req);

/* Gratuitous ARP for vip (IPv4), Ethernet broadcast, sender = target = vip, sender MAC = our_mac.
 * op ARP_OP_REQUEST: target MAC zero (RFC 5227 section 2.3, "ARP Announcement");
 * op ARP_OP_REPLY: target MAC = our_mac (RFC 5944 section 4.6).
 * Returns the frame length, or -1 (cap too small, vip not IPv4, op neither). */
int arp_build_gratuitous(uint8_t *buf, size_t cap, const uint8_t our_mac[L2_MAC_LEN],
			 const addr_t *vip, uint16_t op);

const char *arp_why_name(enum arp_why why); /* "truncated", ... */

#endif
