/* SPDX-License-Identifier: Apache-2.0 */
/* arp: Ethernet/IPv4 ARP request validation and reply/announcement builders (RFC 826, 5227, 5944). */
#include "arp.h"

#include <string.h>
#include <sys/socket.h>

#include "barelb/buf.h"

static const uint8_t bcast[L2_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static int fail(enum arp_why *why, enum arp_why w)
{
	*why = w;
	return -1;
}

int arp_parse(const uint8_t *frame, size_t len, const uint8_t our_mac[L2_MAC_LEN],
	      struct arp_pkt *pkt, enum arp_why *why)
{
	struct buf_reader r;
	uint16_t ethertype, htype, ptype;
	uint8_t hlen, plen, spa[4], tpa[4];

	memset(pkt, 0, sizeof(*pkt));
	*why = ARP_OK;
	buf_reader_init(&r, frame, len);
	if (buf_get_bytes(&r, pkt->eth_dst, L2_MAC_LEN) < 0 ||
	    buf_get_bytes(&r, pkt->eth_src, L2_MAC_LEN) < 0 || buf_get_u16(&r, &ethertype) < 0)
		return fail(why, ARP_TRUNCATED);
	if (ethertype != L2_ETHERTYPE_ARP)
		return fail(why, ARP_NOT_ARP);
	/* The whole fixed body must be there before any field is trusted. */
	if (buf_left(&r) < ARP_BODY_LEN)
		return fail(why, ARP_TRUNCATED);
	if (buf_get_u16(&r, &htype) < 0 || buf_get_u16(&r, &ptype) < 0 || buf_get_u8(&r, &hlen) < 0 ||
	    buf_get_u8(&r, &plen) < 0 || buf_get_u16(&r, &pkt->op) < 0 ||
	    buf_get_bytes(&r, pkt->sha, L2_MAC_LEN) < 0 || buf_get_bytes(&r, spa, 4) < 0 ||
	    buf_get_bytes(&r, pkt->tha, L2_MAC_LEN) < 0 || buf_get_bytes(&r, tpa, 4) < 0)
		return fail(why, ARP_TRUNCATED);
	/* RFC 826 "Packet Reception": the hardware type must be ours (Ethernet) ... */
	if (htype != ARP_HTYPE_ETHERNET)
		return fail(why, ARP_BAD_HTYPE);
	/* ... and the protocol type one we speak (IPv4); lengths must match those types. */
	if (ptype != ARP_PTYPE_IPV4)
		return fail(why, ARP_BAD_PTYPE);
	if (hlen != ARP_HLEN_ETHERNET)
		return fail(why, ARP_BAD_HLEN);
	if (plen != ARP_PLEN_IPV4)
		return fail(why, ARP_BAD_PLEN);
	/* RFC 826: only a request gets a reply; replies and unknown ops are not answered. */
	if (pkt->op != ARP_OP_REQUEST)
		return fail(why, ARP_NOT_REQUEST);
	/* Our own transmissions can be looped back to packet sockets; never answer ourselves. */
	if (memcmp(pkt->eth_src, our_mac, L2_MAC_LEN) == 0 || memcmp(pkt->sha, our_mac, L2_MAC_LEN) == 0)
		return fail(why, ARP_OWN_FRAME);
	/* IEEE 802.3: a frame for someone else's MAC (seen in promiscuous mode) is not ours to answer. */
	if (memcmp(pkt->eth_dst, bcast, L2_MAC_LEN) != 0 && memcmp(pkt->eth_dst, our_mac, L2_MAC_LEN) != 0)
		return fail(why, ARP_NOT_FOR_US);
	pkt->spa.family = AF_INET;
	memcpy(pkt->spa.b, spa, 4);
	pkt->tpa.family = AF_INET;
	memcpy(pkt->tpa.b, tpa, 4);
	return 0;
}

/* Ethernet header + ARP body, zero-padded to the minimum frame. */
static int build(uint8_t *buf, size_t cap, const uint8_t *eth_dst, const uint8_t *eth_src,
		 uint16_t op, const uint8_t *sha, const uint8_t *spa, const uint8_t *tha,
		 const uint8_t *tpa)
{
	struct buf_writer w;
	buf_writer_init(&w, buf, cap);
	buf_put_bytes(&w, eth_dst, L2_MAC_LEN);
	buf_put_bytes(&w, eth_src, L2_MAC_LEN);
	buf_put_u16(&w, L2_ETHERTYPE_ARP);
	buf_put_u16(&w, ARP_HTYPE_ETHERNET);
	buf_put_u16(&w, ARP_PTYPE_IPV4);
	buf_put_u8(&w, ARP_HLEN_ETHERNET);
	buf_put_u8(&w, ARP_PLEN_IPV4);
	buf_put_u16(&w, op);
	buf_put_bytes(&w, sha, L2_MAC_LEN);
	buf_put_bytes(&w, spa, 4);
	buf_put_bytes(&w, tha, L2_MAC_LEN);
	buf_put_bytes(&w, tpa, 4);
	buf_put_zero(&w, L2_ETH_MIN_FRAME - ARP_FRAME_LEN);
	if (w.failed)
		return -1;
	return (int)buf_written(&w);
}

int arp_build_reply(uint8_t *buf, size_t cap, const uint8_t our_mac[L2_MAC_LEN],
		    const struct arp_pkt *req)
{
	if (req->tpa.family != AF_INET || req->spa.family != AF_INET)
		return -1;
	/* RFC 826: swap sender and target, put our hardware address in sender, op = reply, send it to
	 * the new target hardware address (the requester's, from the ARP body). */
	return build(buf, cap, req->sha, our_mac, ARP_OP_REPLY, our_mac, req->tpa.b, req->sha,
		     req->spa.b);
}

int arp_build_gratuitous(uint8_t *buf, size_t cap, const uint8_t our_mac[L2_MAC_LEN],
			 const addr_t *vip, uint16_t op)
{
	static const uint8_t zero[L2_MAC_LEN];
	if (vip->family != AF_INET)
		return -1;
	if (op == ARP_OP_REQUEST) /* RFC 5227 2.3: announcement, target hardware address zero */
		return build(buf, cap, bcast, our_mac, op, our_mac, vip->b, zero, vip->b);
	if (op == ARP_OP_REPLY) /* RFC 5944 4.6: gratuitous reply, target hardware address = ours */
		return build(buf, cap, bcast, our_mac, op, our_mac, vip->b, our_mac, vip->b);
	return -1;
}

const char *arp_why_name(enum arp_why why)
{
	static const char *const names[ARP_WHY_COUNT] = {
		[ARP_OK] = "ok",
		[ARP_TRUNCATED] = "truncated",
		[ARP_NOT_ARP] = "not-arp",
		[ARP_BAD_HTYPE] = "bad-hardware-type",
		[ARP_BAD_PTYPE] = "bad-protocol-type",
		[ARP_BAD_HLEN] = "bad-hardware-length",
		[ARP_BAD_PLEN] = "bad-protocol-length",
		[ARP_NOT_REQUEST] = "not-request",
		[ARP_NOT_FOR_US] = "not-for-us",
		[ARP_OWN_FRAME] = "own-frame",
	};
	return (unsigned)why < ARP_WHY_COUNT ? names[why] : "?";
}
