/* SPDX-License-Identifier: Apache-2.0 */
/* ndp: Neighbour Solicitation validation (RFC 4861 7.1.1) and Neighbour Advertisement builder. */
#include "ndp.h"

#include <string.h>
#include <sys/socket.h>

#include "barelb/buf.h"

static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01}; /* RFC 4291 2.7.1 ff02::1 */

static int fail(enum ndp_why *why, enum ndp_why w)
{
	*why = w;
	return -1;
}

bool ndp_is_multicast(const addr_t *a)
{
	return a->family == AF_INET6 && a->b[0] == 0xff;
}

static bool is_unspecified(const addr_t *a)
{
	static const uint8_t zero[16];
	return memcmp(a->b, zero, 16) == 0;
}

void ndp_solicited_node(const addr_t *ip, addr_t *group)
{
	memset(group, 0, sizeof(*group));
	group->family = AF_INET6;
	group->b[0] = 0xff;
	group->b[1] = 0x02;
	group->b[11] = 0x01;
	group->b[12] = 0xff;
	memcpy(group->b + 13, ip->b + 13, 3);
}

bool ndp_is_solicited_node(const addr_t *a)
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	return a->family == AF_INET6 && memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

void ndp_mcast_mac(const addr_t *group, uint8_t mac[L2_MAC_LEN])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group->b + 12, 4);
}

uint16_t ndp_icmp6_checksum(const addr_t *src, const addr_t *dst, const uint8_t *msg, size_t len)
{
	uint64_t sum = 0;
	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src->b[i] << 8 | src->b[i + 1]) + (uint32_t)(dst->b[i] << 8 | dst->b[i + 1]);
	/* RFC 8200 8.1 pseudo-header: 32-bit upper-layer length, 24 zero bits, next header. */
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + IPV6_NEXT_ICMPV6;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(msg[i] << 8 | msg[i + 1]);
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 4861 4.6 / 7.1.1: walk the options; every length non-zero and inside the message. */
static int parse_options(struct buf_reader *opts, struct ndp_ns *ns)
{
	while (buf_left(opts) > 0) {
		uint8_t type, units;
		struct buf_reader body;
		if (buf_get_u8(opts, &type) < 0 || buf_get_u8(opts, &units) < 0)
			return -1;
		if (units == 0) /* RFC 4861 7.1.1: "All included options have a length > 0" */
			return -1;
		if (buf_get_sub(opts, (size_t)units * NDP_OPT_UNIT - 2, &body) < 0)
			return -1;
		if (type == NDP_OPT_SLLA && !ns->has_slla) {
			/* RFC 2464 section 8: on Ethernet the option is exactly one unit. */
			if (units != 1 || buf_get_bytes(&body, ns->slla, L2_MAC_LEN) < 0)
				return -1;
			ns->has_slla = true;
		}
		/* Unknown options are skipped (RFC 4861 4.6: "silently ignore"). */
	}
	return 0;
}

int ndp_parse(const uint8_t *frame, size_t len, const uint8_t our_mac[L2_MAC_LEN],
	      struct ndp_ns *ns, enum ndp_why *why)
{
	struct buf_reader r, icmp, opts;
	uint16_t ethertype, plen, cksum;
	uint32_t vtf, reserved;
	uint8_t next, hops, type, code;
	const uint8_t *icmp_bytes;

	memset(ns, 0, sizeof(*ns));
	*why = NDP_OK;
	ns->src.family = ns->dst.family = ns->target.family = AF_INET6;
	buf_reader_init(&r, frame, len);
	if (buf_get_bytes(&r, ns->eth_dst, L2_MAC_LEN) < 0 ||
	    buf_get_bytes(&r, ns->eth_src, L2_MAC_LEN) < 0 || buf_get_u16(&r, &ethertype) < 0)
		return fail(why, NDP_TRUNCATED);
	if (ethertype != L2_ETHERTYPE_IPV6) /* RFC 2464 section 3 */
		return fail(why, NDP_NOT_IPV6);
	if (buf_left(&r) < IPV6_HDR_LEN)
		return fail(why, NDP_TRUNCATED);
	/* RFC 8200 section 3: version, traffic class, flow label, payload length, next, hop limit. */
	if (buf_get_u32(&r, &vtf) < 0 || buf_get_u16(&r, &plen) < 0 || buf_get_u8(&r, &next) < 0 ||
	    buf_get_u8(&r, &hops) < 0 || buf_get_bytes(&r, ns->src.b, 16) < 0 ||
	    buf_get_bytes(&r, ns->dst.b, 16) < 0)
		return fail(why, NDP_TRUNCATED);
	if (vtf >> 28 != IPV6_VERSION)
		return fail(why, NDP_BAD_VERSION);
	/* The frame must hold the whole payload; what follows it is Ethernet padding. */
	if (buf_left(&r) < plen)
		return fail(why, NDP_TRUNCATED);
	if (next != IPV6_NEXT_ICMPV6)
		return fail(why, NDP_NOT_ICMPV6);
	icmp_bytes = buf_get_ptr(&r, plen);
	if (icmp_bytes == NULL)
		return fail(why, NDP_TRUNCATED);
	buf_reader_init(&icmp, icmp_bytes, plen);
	if (buf_get_u8(&icmp, &type) < 0)
		return fail(why, NDP_BAD_LENGTH);
	if (type != ICMPV6_NS)
		return fail(why, NDP_NOT_NS);
	/* RFC 4861 7.1.1 checks, in the RFC's order. */
	if (hops != NDP_HOP_LIMIT) /* "The IP Hop Limit field has a value of 255" */
		return fail(why, NDP_BAD_HOP_LIMIT);
	if (plen < NDP_NS_MIN_LEN) /* "ICMP length (derived from the IP length) is 24 or more" */
		return fail(why, NDP_BAD_LENGTH);
	if (ndp_icmp6_checksum(&ns->src, &ns->dst, icmp_bytes, plen) != 0) /* "checksum is valid" */
		return fail(why, NDP_BAD_CHECKSUM);
	if (buf_get_u8(&icmp, &code) < 0 || buf_get_u16(&icmp, &cksum) < 0 ||
	    buf_get_u32(&icmp, &reserved) < 0 || buf_get_bytes(&icmp, ns->target.b, 16) < 0)
		return fail(why, NDP_BAD_LENGTH); /* unreachable: plen >= 24 */
	if (code != 0) /* "ICMP Code is 0" */
		return fail(why, NDP_BAD_CODE);
	if (ndp_is_multicast(&ns->target)) /* "Target Address is not a multicast address" */
		return fail(why, NDP_TARGET_MULTICAST);
	opts = icmp;
	if (parse_options(&opts, ns) < 0) /* "All included options have a length > 0" */
		return fail(why, NDP_BAD_OPTION);
	if (ndp_is_multicast(&ns->src)) /* RFC 4291 2.7: never a source address */
		return fail(why, NDP_BAD_SOURCE);
	ns->dad = is_unspecified(&ns->src);
	/* "If the IP source address is the unspecified address, the IP destination address is a
	 * solicited-node multicast address" and "there is no source link-layer address option". */
	if (ns->dad && (!ndp_is_solicited_node(&ns->dst) || ns->has_slla))
		return fail(why, NDP_BAD_DAD);
	/* Our own frames looped back to the packet socket. */
	if (memcmp(ns->eth_src, our_mac, L2_MAC_LEN) == 0 ||
	    (ns->has_slla && memcmp(ns->slla, our_mac, L2_MAC_LEN) == 0))
		return fail(why, NDP_OWN_FRAME);
	/* Ethernet dst: our MAC, or the RFC 2464 section 7 mapping of the IPv6 multicast dst. */
	if (ns->eth_dst[0] & 1) {
		uint8_t want[L2_MAC_LEN];
		ndp_mcast_mac(&ns->dst, want);
		if (!ndp_is_multicast(&ns->dst) || memcmp(ns->eth_dst, want, L2_MAC_LEN) != 0)
			return fail(why, NDP_NOT_FOR_US);
	} else if (memcmp(ns->eth_dst, our_mac, L2_MAC_LEN) != 0) {
		return fail(why, NDP_NOT_FOR_US);
	}
	return 0;
}

int ndp_build_na(uint8_t *buf, size_t cap, const uint8_t our_mac[L2_MAC_LEN], const addr_t *target,
		 const struct ndp_ns *ns)
{
	struct buf_writer w;
	addr_t dst;
	uint8_t eth_dst[L2_MAC_LEN], flags;
	size_t icmp_at, ck_at;

	if (target->family != AF_INET6)
		return -1;
	memset(&dst, 0, sizeof(dst));
	dst.family = AF_INET6;
	if (ns == NULL || ns->dad) {
		/* RFC 4861 7.2.6 (unsolicited) and 7.2.4 (reply to ::): all-nodes, S=0, O=1. */
		memcpy(dst.b, all_nodes, 16);
		ndp_mcast_mac(&dst, eth_dst);
		flags = NDP_NA_FLAG_OVERRIDE;
	} else {
		/* RFC 4861 7.2.4: unicast to the solicitor; S=1. O=1 so that a client holding the
		 * previous owner's MAC replaces it (7.2.5). */
		dst = ns->src;
		memcpy(eth_dst, ns->has_slla ? ns->slla : ns->eth_src, L2_MAC_LEN);
		flags = NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE;
	}

	buf_writer_init(&w, buf, cap);
	buf_put_bytes(&w, eth_dst, L2_MAC_LEN);
	buf_put_bytes(&w, our_mac, L2_MAC_LEN);
	buf_put_u16(&w, L2_ETHERTYPE_IPV6);
	buf_put_u32(&w, (uint32_t)IPV6_VERSION << 28);
	buf_put_u16(&w, NDP_NA_LEN);
	buf_put_u8(&w, IPV6_NEXT_ICMPV6);
	buf_put_u8(&w, NDP_HOP_LIMIT);
	buf_put_bytes(&w, target->b, 16); /* source = the service IP (see header) */
	buf_put_bytes(&w, dst.b, 16);
	icmp_at = buf_written(&w);
	buf_put_u8(&w, ICMPV6_NA);
	buf_put_u8(&w, 0);
	buf_reserve(&w, 2, &ck_at);
	buf_put_u8(&w, flags);
	buf_put_zero(&w, 3);
	buf_put_bytes(&w, target->b, 16);
	buf_put_u8(&w, NDP_OPT_TLLA); /* RFC 4861 4.6.1 */
	buf_put_u8(&w, 1);
	buf_put_bytes(&w, our_mac, L2_MAC_LEN);
	if (w.failed)
		return -1;
	buf_patch_u16(&w, ck_at, ndp_icmp6_checksum(target, &dst, buf + icmp_at, NDP_NA_LEN));
	return (int)buf_written(&w);
}

const char *ndp_why_name(enum ndp_why why)
{
	static const char *const names[NDP_WHY_COUNT] = {
		[NDP_OK] = "ok",
		[NDP_TRUNCATED] = "truncated",
		[NDP_NOT_IPV6] = "not-ipv6",
		[NDP_BAD_VERSION] = "bad-version",
		[NDP_NOT_ICMPV6] = "not-icmpv6",
		[NDP_NOT_NS] = "not-ns",
		[NDP_BAD_HOP_LIMIT] = "bad-hop-limit",
		[NDP_BAD_CODE] = "bad-code",
		[NDP_BAD_LENGTH] = "bad-length",
		[NDP_BAD_CHECKSUM] = "bad-checksum",
		[NDP_TARGET_MULTICAST] = "target-multicast",
		[NDP_BAD_OPTION] = "bad-option",
		[NDP_BAD_SOURCE] = "bad-source",
		[NDP_BAD_DAD] = "bad-dad",
		[NDP_NOT_FOR_US] = "not-for-us",
		[NDP_OWN_FRAME] = "own-frame",
	};
	return (unsigned)why < NDP_WHY_COUNT ? names[why] : "?";
}
