/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_arp: libFuzzer target for the ARP codec: arp_parse on arbitrary frames, then the reply and
 * announcement builders on whatever parses, with properties a correct codec must keep. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../speaker/l2/arp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[L2_MAC_LEN] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

static void check_frame(const uint8_t *data, size_t size, const uint8_t mac[L2_MAC_LEN])
{
	struct arp_pkt p, q;
	enum arp_why why = ARP_WHY_COUNT;
	uint8_t out[L2_ETH_MIN_FRAME];
	int n;

	if (arp_parse(data, size, mac, &p, &why) < 0) {
		/* a refusal always says why, with a reason that has a name */
		if (why == ARP_OK || why >= ARP_WHY_COUNT || arp_why_name(why)[0] == '?')
			abort();
		return;
	}
	if (why != ARP_OK || size < ARP_FRAME_LEN || p.op != ARP_OP_REQUEST ||
	    p.spa.family != AF_INET || p.tpa.family != AF_INET)
		abort();
	/* what parses was addressed to us (or broadcast) and is not our own frame */
	if (memcmp(p.sha, mac, L2_MAC_LEN) == 0 || memcmp(p.eth_src, mac, L2_MAC_LEN) == 0)
		abort();
	/* the reply: exactly the minimum frame, never written past a short buffer */
	n = arp_build_reply(out, sizeof(out), mac, &p);
	if (n != L2_ETH_MIN_FRAME)
		abort();
	if (arp_build_reply(out, ARP_FRAME_LEN, mac, &p) != -1)
		abort();
	n = arp_build_reply(out, sizeof(out), mac, &p);
	/* RFC 826: the reply goes to the requester's hardware address and answers for tpa; parsed
	 * back, it is a reply (never something we would answer in turn) */
	if (memcmp(out, p.sha, L2_MAC_LEN) != 0 || memcmp(out + 6, mac, L2_MAC_LEN) != 0 ||
	    memcmp(out + 28, p.tpa.b, 4) != 0 || memcmp(out + 38, p.spa.b, 4) != 0)
		abort();
	if (arp_parse(out, (size_t)n, p.sha, &q, &why) != -1 || why != ARP_NOT_REQUEST)
		abort();
	/* announcements for the IP asked about */
	if (arp_build_gratuitous(out, sizeof(out), mac, &p.tpa, ARP_OP_REQUEST) != L2_ETH_MIN_FRAME ||
	    arp_build_gratuitous(out, sizeof(out), mac, &p.tpa, ARP_OP_REPLY) != L2_ETH_MIN_FRAME ||
	    arp_build_gratuitous(out, sizeof(out), mac, &p.tpa, 3) != -1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any read past the frame. */
	uint8_t *f = malloc(size ? size : 1);
	if (!f)
		return 0;
	memcpy(f, data, size);
	check_frame(f, size, our_mac);
	/* and as the host whose MAC is the frame's destination (unicast requests) */
	if (size >= L2_MAC_LEN) {
		uint8_t mac[L2_MAC_LEN];
		memcpy(mac, f, L2_MAC_LEN);
		check_frame(f, size, mac);
	}
	free(f);
	return 0;
}
