/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_ndp: libFuzzer target for the NDP codec: ndp_parse on arbitrary frames (every RFC 4861
 * 7.1.1 check), then ndp_build_na on what parses, checked as a receiver would check it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../speaker/l2/ndp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[L2_MAC_LEN] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

/* An NA we built must pass the checks RFC 4861 7.1.2 asks of a receiver. */
static void check_na(const uint8_t *f, int n, const uint8_t mac[L2_MAC_LEN], const addr_t *target)
{
	addr_t src, dst;

	if (n != NDP_NA_FRAME_LEN)
		abort();
	if (memcmp(f + 6, mac, L2_MAC_LEN) != 0 || f[12] != 0x86 || f[13] != 0xdd ||
	    f[14] >> 4 != IPV6_VERSION || (f[18] << 8 | f[19]) != NDP_NA_LEN ||
	    f[20] != IPV6_NEXT_ICMPV6 || f[21] != NDP_HOP_LIMIT || f[54] != ICMPV6_NA || f[55] != 0)
		abort();
	src.family = dst.family = AF_INET6;
	memcpy(src.b, f + 22, 16);
	memcpy(dst.b, f + 38, 16);
	if (ndp_icmp6_checksum(&src, &dst, f + 54, NDP_NA_LEN) != 0)
		abort();
	if (memcmp(f + 62, target->b, 16) != 0 || f[78] != NDP_OPT_TLLA || f[79] != 1 ||
	    memcmp(f + 80, mac, L2_MAC_LEN) != 0)
		abort();
	/* RFC 4861 7.1.2: a multicast destination carries S=0 */
	if (f[38] == 0xff && (f[58] & NDP_NA_FLAG_SOLICITED))
		abort();
}

static void check_frame(const uint8_t *data, size_t size, const uint8_t mac[L2_MAC_LEN])
{
	struct ndp_ns ns, back;
	enum ndp_why why = NDP_WHY_COUNT;
	uint8_t out[NDP_NA_FRAME_LEN];
	int n;

	if (ndp_parse(data, size, mac, &ns, &why) < 0) {
		if (why == NDP_OK || why >= NDP_WHY_COUNT || ndp_why_name(why)[0] == '?')
			abort();
		return;
	}
	if (why != NDP_OK || ndp_is_multicast(&ns.target) || ndp_is_multicast(&ns.src))
		abort();
	if (ns.dad && (ns.has_slla || !ndp_is_solicited_node(&ns.dst)))
		abort();
	n = ndp_build_na(out, sizeof(out), mac, &ns.target, &ns);
	check_na(out, n, mac, &ns.target);
	if (ndp_build_na(out, sizeof(out) - 1, mac, &ns.target, &ns) != -1)
		abort();
	n = ndp_build_na(out, sizeof(out), mac, &ns.target, &ns);
	/* the answer is never a solicitation we would answer again */
	if (ndp_parse(out, (size_t)n, ns.has_slla ? ns.slla : ns.eth_src, &back, &why) != -1 ||
	    why != NDP_NOT_NS)
		abort();
	/* the unsolicited form for the same target */
	n = ndp_build_na(out, sizeof(out), mac, &ns.target, NULL);
	check_na(out, n, mac, &ns.target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f = malloc(size ? size : 1);
	if (!f)
		return 0;
	memcpy(f, data, size);
	check_frame(f, size, our_mac);
	if (size >= L2_MAC_LEN && !(f[0] & 1)) {
		/* as the unicast destination of the frame (NUD probes) */
		uint8_t mac[L2_MAC_LEN];
		memcpy(mac, f, L2_MAC_LEN);
		check_frame(f, size, mac);
	}
	free(f);
	return 0;
}
