/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for speaker/l2/responder.c with real frames: a forked child enters a new, anonymous network
 * namespace (unshare(CLONE_NEWNET)), creates veth pairs lan0/cli0 and lan1/cli1, runs the responder
 * on lanN and plays the client on cliN with a raw socket (and with ndisc6/arping when installed).
 * The namespace and everything in it disappear with the child, also when a test fails or crashes;
 * no traffic leaves it. Needs root; otherwise the whole file is one skipped test. */
#define _GNU_SOURCE /* unshare, strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "netns_main.h"

#include "../../speaker/l2/arp.h"
#include "../../speaker/l2/ndp.h"
#include "../../speaker/l2/responder.h"
#include "barelb/log.h"
#include "barelb/loop.h"

#define MAXGOT 64

struct frame {
	uint8_t b[1600];
	size_t n;
	uint64_t at_ms;
};

struct t {
	struct loop *l;
	struct responder *r;
	int lan0, lan1;          /* ifindexes */
	uint8_t lan0_mac[6], lan1_mac[6], cli0_mac[6];
	int cli;                 /* raw socket on cli0 */
	int cli1;                /* raw socket on cli1 */
	struct loop_fd *wcli, *wcli1;
	struct loop_timer *stop;
	struct frame got[MAXGOT];
	size_t n_got;
	size_t want;             /* stop the loop once this many frames matched */
	int (*match)(const uint8_t *f, size_t n);
	uint64_t t0;
};

/* ---------- namespace and sockets ---------- */

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* SIOCGIFHWADDR, not /sys/class/net: sysfs still shows the namespace it was mounted in. */
static int read_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int rc = fd >= 0 ? ioctl(fd, SIOCGIFHWADDR, &ifr) : -1;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int raw_socket(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(ifname)};
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, 23 /* PACKET_IGNORE_OUTGOING */, &one, sizeof(one));
	return fd;
}

static void on_client(int fd, unsigned ev, void *arg)
{
	struct t *t = arg;
	uint8_t b[1600];
	ssize_t n;
	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		if (t->match == NULL || !t->match(b, (size_t)n) || t->n_got >= MAXGOT)
			continue;
		memcpy(t->got[t->n_got].b, b, (size_t)n);
		t->got[t->n_got].n = (size_t)n;
		t->got[t->n_got].at_ms = loop_now_ms(t->l) - t->t0;
		if (++t->n_got >= t->want && t->want > 0)
			loop_stop(t->l);
	}
}

static void on_stop(void *arg)
{
	loop_stop(((struct t *)arg)->l);
}

/* Run the loop until `want` frames matched or ms passed. */
static void pump(struct t *t, int (*match)(const uint8_t *, size_t), size_t want, unsigned ms)
{
	t->match = match;
	t->n_got = 0;
	t->want = want;
	t->t0 = loop_now_ms(t->l);
	loop_timer_arm(t->stop, ms);
	assert_int_equal(loop_run(t->l), 0);
	loop_timer_cancel(t->stop);
	t->match = NULL;
}

static void client_send(int fd, const uint8_t *f, size_t n)
{
	assert_int_equal(send(fd, f, n, 0), (ssize_t)n);
}

static int setup_opts(void **state, const struct responder_opts *o)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->l = loop_new();
	t->r = responder_new(t->l, o);
	assert_non_null(t->r);
	t->lan0 = (int)if_nametoindex("lan0");
	t->lan1 = (int)if_nametoindex("lan1");
	assert_int_equal(read_mac("lan0", t->lan0_mac), 0);
	assert_int_equal(read_mac("lan1", t->lan1_mac), 0);
	assert_int_equal(read_mac("cli0", t->cli0_mac), 0);
	assert_int_equal(responder_add_iface(t->r, t->lan0, "lan0", t->lan0_mac), 0);
	assert_int_equal(responder_add_iface(t->r, t->lan0, "lan0", t->lan0_mac), -EEXIST);
	t->cli = raw_socket("cli0");
	t->cli1 = raw_socket("cli1");
	assert_true(t->cli >= 0 && t->cli1 >= 0);
	t->wcli = loop_fd_add(t->l, t->cli, LOOP_READ, on_client, t);
	t->wcli1 = loop_fd_add(t->l, t->cli1, LOOP_READ, on_client, t);
	t->stop = loop_timer_new(t->l, on_stop, t);
	*state = t;
	return 0;
}

static int setup(void **state)
{
	struct responder_opts quiet = {.garp_count = 0, .send_budget = 64};
	return setup_opts(state, &quiet);
}

static int setup_burst(void **state)
{
	struct responder_opts o = {.garp_count = 3, .garp_interval_ms = 40, .send_budget = 64};
	return setup_opts(state, &o);
}

static int teardown(void **state)
{
	struct t *t = *state;
	responder_free(t->r);
	loop_fd_del(t->wcli);
	loop_fd_del(t->wcli1);
	loop_timer_free(t->stop);
	close(t->cli);
	close(t->cli1);
	loop_free(t->l);
	free(t);
	return 0;
}

/* ---------- frames ---------- */

static void v(const char *s, addr_t *a)
{
	assert_int_equal(addr_parse(s, a), 0);
}

static size_t arp_request(uint8_t *f, const uint8_t *src_mac, const char *sender, const char *target)
{
	addr_t s, tg;
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	v(sender, &s);
	v(target, &tg);
	memcpy(f, bc, 6);
	memcpy(f + 6, src_mac, 6);
	const uint8_t hdr[] = {0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1};
	memcpy(f + 12, hdr, sizeof(hdr));
	memcpy(f + 22, src_mac, 6);
	memcpy(f + 28, s.b, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, tg.b, 4);
	return 42;
}

/* An NS for target from src (NULL = ::) to dst, with SLLA unless src is ::. */
static size_t ns_frame(uint8_t *f, const uint8_t *src_mac, const uint8_t *eth_dst, const char *src,
		       const char *dst, const char *target)
{
	addr_t s, d, tg;
	v(src ? src : "::", &s);
	v(dst, &d);
	v(target, &tg);
	size_t plen = src ? 32 : 24;
	memset(f, 0, 14 + 40 + plen);
	if (eth_dst)
		memcpy(f, eth_dst, 6);
	else
		ndp_mcast_mac(&d, f);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = (uint8_t)plen;
	f[20] = 58;
	f[21] = 255;
	memcpy(f + 22, s.b, 16);
	memcpy(f + 38, d.b, 16);
	f[54] = 135;
	memcpy(f + 62, tg.b, 16);
	if (src) {
		f[78] = 1;
		f[79] = 1;
		memcpy(f + 80, src_mac, 6);
	}
	uint16_t ck = ndp_icmp6_checksum(&s, &d, f + 54, plen);
	f[56] = (uint8_t)(ck >> 8);
	f[57] = (uint8_t)ck;
	return 14 + 40 + plen;
}

static int is_arp_reply(const uint8_t *f, size_t n)
{
	return n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == ARP_OP_REPLY;
}

static int is_arp(const uint8_t *f, size_t n)
{
	return n >= 42 && f[12] == 0x08 && f[13] == 0x06;
}

static int is_na(const uint8_t *f, size_t n)
{
	return n >= 78 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 58 && f[54] == ICMPV6_NA;
}

static int is_announcement(const uint8_t *f, size_t n)
{
	return is_arp(f, n) || is_na(f, n);
}

static bool in_dev_mcast(const char *ifname, const char *hexmac)
{
	char line[256], name[64], addr[64];
	int idx, users, global;
	bool found = false;
	FILE *fp = fopen("/proc/net/dev_mcast", "r");
	if (fp == NULL)
		return false;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%d %63s %d %d %63s", &idx, name, &users, &global, addr) == 5 &&
		    strcmp(name, ifname) == 0 && strcmp(addr, hexmac) == 0)
			found = true;
	fclose(fp);
	return found;
}

static uint64_t drops(struct t *t, enum responder_drop d)
{
	struct responder_counters c;
	responder_get_counters(t->r, &c);
	return c.drops[d];
}

/* ---------- tests ---------- */

static void test_arp_reply(void **state)
{
	struct t *t = *state;
	addr_t vip;
	uint8_t f[64];
	v("10.0.0.100", &vip);
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	assert_true(responder_owns(t->r, t->lan0, &vip));
	client_send(t->cli, f, arp_request(f, t->cli0_mac, "10.0.0.1", "10.0.0.100"));
	pump(t, is_arp_reply, 1, 1000);
	assert_int_equal(t->n_got, 1);
	const uint8_t *g = t->got[0].b;
	const uint8_t cli_ip[4] = {10, 0, 0, 1};
	assert_int_equal(t->got[0].n, 60);
	assert_memory_equal(g, t->cli0_mac, 6);
	assert_memory_equal(g + 6, t->lan0_mac, 6);
	assert_int_equal(g[20] << 8 | g[21], ARP_OP_REPLY);
	assert_memory_equal(g + 22, t->lan0_mac, 6);
	assert_memory_equal(g + 28, vip.b, 4);
	assert_memory_equal(g + 32, t->cli0_mac, 6);
	assert_memory_equal(g + 38, cli_ip, 4);
	struct responder_counters c;
	responder_get_counters(t->r, &c);
	assert_int_equal(c.arp_requests, 1);
	assert_int_equal(c.arp_replies_sent, 1);
	assert_int_equal(c.garp_sent, 0);
}

static void test_only_owned_ips_answered(void **state)
{
	struct t *t = *state;
	addr_t vip;
	uint8_t f[64];
	v("10.0.0.100", &vip);
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	client_send(t->cli, f, arp_request(f, t->cli0_mac, "10.0.0.1", "10.0.0.101"));
	pump(t, is_arp_reply, 1, 150);
	assert_int_equal(t->n_got, 0);
	assert_int_equal(drops(t, RESP_DROP_NOT_OWNED), 1);
}

static void test_wrong_interface(void **state)
{
	struct t *t = *state;
	addr_t vip;
	uint8_t f[64], cli1_mac[6];
	v("10.0.0.100", &vip);
	assert_int_equal(read_mac("cli1", cli1_mac), 0);
	assert_int_equal(responder_add_iface(t->r, t->lan1, "lan1", t->lan1_mac), 0);
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	/* asked on lan1, owned on lan0: no answer */
	client_send(t->cli1, f, arp_request(f, cli1_mac, "10.0.0.1", "10.0.0.100"));
	pump(t, is_arp_reply, 1, 150);
	assert_int_equal(t->n_got, 0);
	assert_int_equal(drops(t, RESP_DROP_WRONG_IFACE), 1);
	/* owned on both: answered on lan1 with lan1's MAC */
	assert_int_equal(responder_set_owned(t->r, t->lan1, &vip, 1), 0);
	client_send(t->cli1, f, arp_request(f, cli1_mac, "10.0.0.1", "10.0.0.100"));
	pump(t, is_arp_reply, 1, 1000);
	assert_int_equal(t->n_got, 1);
	assert_memory_equal(t->got[0].b + 22, t->lan1_mac, 6);
	/* interface removed: nothing owned there any more, no answer */
	responder_del_iface(t->r, t->lan1);
	assert_false(responder_owns(t->r, t->lan1, &vip));
	assert_int_equal(responder_owned_count(t->r), 1);
	client_send(t->cli1, f, arp_request(f, cli1_mac, "10.0.0.1", "10.0.0.100"));
	pump(t, is_arp_reply, 1, 150);
	assert_int_equal(t->n_got, 0);
	assert_int_equal(responder_set_owned(t->r, t->lan1, &vip, 1), -ENOENT);
}

static void check_na(struct t *t, const struct frame *fr, const char *dst, const uint8_t *eth_dst,
		     uint8_t flags)
{
	addr_t vip, d;
	const uint8_t *g = fr->b;
	v("2001:db8::64", &vip);
	v(dst, &d);
	assert_int_equal(fr->n, NDP_NA_FRAME_LEN);
	assert_memory_equal(g, eth_dst, 6);
	assert_memory_equal(g + 6, t->lan0_mac, 6);
	assert_int_equal(g[21], 255);
	assert_memory_equal(g + 22, vip.b, 16);
	assert_memory_equal(g + 38, d.b, 16);
	assert_int_equal(g[55], 0);
	assert_int_equal(g[58], flags);
	assert_memory_equal(g + 62, vip.b, 16);
	assert_int_equal(g[78], NDP_OPT_TLLA);
	assert_int_equal(g[79], 1);
	assert_memory_equal(g + 80, t->lan0_mac, 6);
	assert_int_equal(ndp_icmp6_checksum(&vip, &d, g + 54, 32), 0);
}

static void test_ndp(void **state)
{
	struct t *t = *state;
	addr_t vip, other;
	uint8_t f[128];
	static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1};
	v("2001:db8::64", &vip);
	v("2001:db8::65", &other);
	assert_false(in_dev_mcast("lan0", "3333ff000064"));
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	assert_true(in_dev_mcast("lan0", "3333ff000064")); /* solicited-node group joined */

	/* multicast NS to the solicited-node group */
	client_send(t->cli, f, ns_frame(f, t->cli0_mac, NULL, "2001:db8::1", "ff02::1:ff00:64",
					"2001:db8::64"));
	pump(t, is_na, 1, 1000);
	assert_int_equal(t->n_got, 1);
	check_na(t, &t->got[0], "2001:db8::1", t->cli0_mac, NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE);

	/* unicast NUD probe to the IP itself, at our MAC */
	client_send(t->cli, f, ns_frame(f, t->cli0_mac, t->lan0_mac, "2001:db8::1", "2001:db8::64",
					"2001:db8::64"));
	pump(t, is_na, 1, 1000);
	assert_int_equal(t->n_got, 1);
	check_na(t, &t->got[0], "2001:db8::1", t->cli0_mac, NDP_NA_FLAG_SOLICITED | NDP_NA_FLAG_OVERRIDE);

	/* DAD probe from :: : defended to all-nodes */
	client_send(t->cli, f, ns_frame(f, t->cli0_mac, NULL, NULL, "ff02::1:ff00:64", "2001:db8::64"));
	pump(t, is_na, 1, 1000);
	assert_int_equal(t->n_got, 1);
	check_na(t, &t->got[0], "ff02::1", all_nodes, NDP_NA_FLAG_OVERRIDE);

	/* an IP not owned, a sibling in the same solicited-node group */
	client_send(t->cli, f, ns_frame(f, t->cli0_mac, NULL, "2001:db8::1", "ff02::1:ff00:65",
					"2001:db8::65"));
	pump(t, is_na, 1, 150);
	assert_int_equal(t->n_got, 0);
	assert_int_equal(drops(t, RESP_DROP_NOT_OWNED), 1);

	struct responder_counters c;
	responder_get_counters(t->r, &c);
	assert_int_equal(c.ns_received, 4);
	assert_int_equal(c.na_replies_sent, 3);

	/* losing the IP leaves the group */
	assert_int_equal(responder_set_owned(t->r, t->lan0, &other, 1), 0);
	assert_false(in_dev_mcast("lan0", "3333ff000064"));
	assert_true(in_dev_mcast("lan0", "3333ff000065"));
	assert_int_equal(responder_set_owned(t->r, t->lan0, NULL, 0), 0);
	assert_false(in_dev_mcast("lan0", "3333ff000065"));
}

static void test_bad_frames_counted_not_answered(void **state)
{
	struct t *t = *state;
	addr_t vip[2];
	uint8_t f[128];
	size_t n;
	v("10.0.0.100", &vip[0]);
	v("2001:db8::64", &vip[1]);
	assert_int_equal(responder_set_owned(t->r, t->lan0, vip, 2), 0);

	n = arp_request(f, t->cli0_mac, "10.0.0.1", "10.0.0.100");
	client_send(t->cli, f, 30); /* passes the kernel filter (op at 20..21), then too short */
	f[18] = 8;                  /* hardware length 8 */
	client_send(t->cli, f, n);
	f[18] = 6;
	memcpy(f + 6, t->lan0_mac, 6); /* claims to come from us */
	client_send(t->cli, f, n);
	memcpy(f + 6, t->cli0_mac, 6);
	f[0] = 0x02;                /* unicast to someone else */
	client_send(t->cli, f, n);
	n = ns_frame(f, t->cli0_mac, NULL, "2001:db8::1", "ff02::1:ff00:64", "2001:db8::64");
	f[21] = 64;                 /* RFC 4861 7.1.1 hop limit */
	client_send(t->cli, f, n);
	f[21] = 255;
	f[57] ^= 1;                 /* checksum */
	client_send(t->cli, f, n);
	pump(t, is_announcement, 1, 200);
	assert_int_equal(t->n_got, 0);
	assert_int_equal(drops(t, RESP_DROP_TRUNCATED), 1);
	assert_int_equal(drops(t, RESP_DROP_MALFORMED), 3);
	assert_int_equal(drops(t, RESP_DROP_OWN_FRAME), 1);
	assert_int_equal(drops(t, RESP_DROP_NOT_FOR_US), 1);
	for (int d = 0; d < RESP_DROP_COUNT; d++)
		assert_string_not_equal(responder_drop_name((enum responder_drop)d), "?");
}

/* ns_frame turned into a neighbour advertisement for target: type 136, O flag, TLLA = mac. */
static size_t na_frame(uint8_t *f, const uint8_t *src_mac, const uint8_t *tlla, const char *target,
		       bool bad_csum)
{
	addr_t s, d;
	size_t n = ns_frame(f, src_mac, NULL, target, "ff02::1", target);
	v(target, &s);
	v("ff02::1", &d);
	f[54] = ICMPV6_NA;
	f[56] = f[57] = 0;
	f[58] = NDP_NA_FLAG_OVERRIDE;
	f[78] = NDP_OPT_TLLA;
	memcpy(f + 80, tlla, 6);
	uint16_t ck = ndp_icmp6_checksum(&s, &d, f + 54, 32);
	if (bad_csum)
		ck ^= 0x0100;
	f[56] = (uint8_t)(ck >> 8);
	f[57] = (uint8_t)ck;
	return n;
}

/* Duplicate-address detection: foreign claims to owned IPs are counted and warned about (rate-
 * limited, naming IP and MAC); replies and advertisements are never answered; claims to IPs not
 * owned, probes, bad advertisements and our own frames are not conflicts. */
static void test_conflicts(void **state)
{
	struct t *t = *state;
	addr_t vip[2];
	uint8_t f[128], mac_s[32];
	size_t n;
	char logbuf[8192];
	struct responder_counters c;
	static const uint8_t foreign[6] = {0x02, 0xde, 0xad, 0xbe, 0xef, 0x01};
	FILE *log = tmpfile();
	assert_non_null(log);
	log_set_stream(log);
	v("10.0.0.100", &vip[0]);
	v("2001:db8::64", &vip[1]);
	assert_int_equal(responder_set_owned(t->r, t->lan0, vip, 2), 0);

	/* a gratuitous ARP reply claiming 10.0.0.100 for cli0's MAC */
	n = arp_request(f, t->cli0_mac, "10.0.0.100", "10.0.0.100");
	f[21] = ARP_OP_REPLY;
	client_send(t->cli, f, n);
	/* an ARP reply to someone, from the owned IP, with a forged sender MAC */
	n = arp_request(f, t->cli0_mac, "10.0.0.100", "10.0.0.1");
	f[21] = ARP_OP_REPLY;
	memcpy(f + 22, foreign, 6);
	client_send(t->cli, f, n);
	/* an unsolicited NA for the owned IPv6 address with another TLLA */
	client_send(t->cli, f, na_frame(f, t->cli0_mac, foreign, "2001:db8::64", false));
	pump(t, is_announcement, 1, 200);
	assert_int_equal(t->n_got, 0); /* none of these is answered */
	responder_get_counters(t->r, &c);
	assert_int_equal(c.conflicts, 3);
	assert_int_equal(c.arp_replies_sent + c.na_replies_sent, 0);

	/* not conflicts: a bad checksum, an IP not owned, a probe from 0.0.0.0, a DAD probe, a reply
	 * carrying our own MAC (spoofed or looped back) */
	client_send(t->cli, f, na_frame(f, t->cli0_mac, foreign, "2001:db8::64", true));
	client_send(t->cli, f, na_frame(f, t->cli0_mac, foreign, "2001:db8::65", false));
	n = arp_request(f, t->cli0_mac, "10.0.0.101", "10.0.0.101");
	f[21] = ARP_OP_REPLY;
	client_send(t->cli, f, n);
	n = arp_request(f, t->cli0_mac, "0.0.0.0", "10.0.0.100");
	client_send(t->cli, f, n);
	client_send(t->cli, f, ns_frame(f, t->cli0_mac, NULL, NULL, "ff02::1:ff00:64", "2001:db8::64"));
	n = arp_request(f, t->cli0_mac, "10.0.0.100", "10.0.0.1");
	f[21] = ARP_OP_REPLY;
	memcpy(f + 22, t->lan0_mac, 6);
	client_send(t->cli, f, n);
	pump(t, is_arp_reply, 1, 200); /* the probe is answered (defended) */
	assert_int_equal(t->n_got, 1);
	assert_memory_equal(t->got[0].b + 28, vip[0].b, 4);
	responder_get_counters(t->r, &c);
	assert_int_equal(c.conflicts, 3);

	/* a request sourced from the owned IP (a host using our address) is a conflict too; the
	 * request itself is still answered, for an owned target only */
	client_send(t->cli, f, arp_request(f, t->cli0_mac, "10.0.0.100", "10.0.0.100"));
	pump(t, is_arp_reply, 1, 500);
	responder_get_counters(t->r, &c);
	assert_int_equal(c.conflicts, 4);

	/* a storm of 50 claims: all counted, at most the burst (5) plus a refill logged */
	for (int i = 0; i < 50; i++)
		client_send(t->cli, f, na_frame(f, t->cli0_mac, foreign, "2001:db8::64", false));
	pump(t, NULL, 0, 200);
	responder_get_counters(t->r, &c);
	assert_int_equal(c.conflicts, 54);
	fflush(log);
	rewind(log);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, log);
	logbuf[n] = '\0';
	log_set_stream(NULL);
	fclose(log);
	int lines = 0;
	for (char *p = logbuf; (p = strstr(p, "address conflict")) != NULL; p++)
		lines++;
	assert_true(lines >= 1 && lines <= 7);
	assert_non_null(strstr(logbuf, "ip=2001:db8::64 mac=02:de:ad:be:ef:01"));
	snprintf((char *)mac_s, sizeof(mac_s), "mac=%02x:%02x:%02x:%02x:%02x:%02x", t->cli0_mac[0],
		 t->cli0_mac[1], t->cli0_mac[2], t->cli0_mac[3], t->cli0_mac[4], t->cli0_mac[5]);
	assert_non_null(strstr(logbuf, (char *)mac_s));
	assert_non_null(strstr(logbuf, "ip=10.0.0.100"));
}

static void test_takeover_burst(void **state)
{
	struct t *t = *state;
	addr_t vip[2];
	v("10.0.0.100", &vip[0]);
	v("2001:db8::64", &vip[1]);
	assert_int_equal(responder_set_owned(t->r, t->lan0, vip, 2), 0);
	/* 3 rounds x (ARP request + ARP reply + NA) = 9 frames at about 0, 40, 80 ms */
	pump(t, is_announcement, 9, 1000);
	assert_int_equal(t->n_got, 9);
	int req = 0, rep = 0, na = 0;
	static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	for (size_t i = 0; i < t->n_got; i++) {
		const uint8_t *g = t->got[i].b;
		if (is_na(g, t->got[i].n)) {
			static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1};
			check_na(t, &t->got[i], "ff02::1", all_nodes, NDP_NA_FLAG_OVERRIDE);
			na++;
			continue;
		}
		assert_memory_equal(g, bc, 6);
		assert_memory_equal(g + 22, t->lan0_mac, 6);
		assert_memory_equal(g + 28, vip[0].b, 4);
		assert_memory_equal(g + 38, vip[0].b, 4);
		if (g[21] == ARP_OP_REQUEST)
			req++;
		else
			rep++;
	}
	assert_int_equal(req, 3);
	assert_int_equal(rep, 3);
	assert_int_equal(na, 3);
	assert_true(t->got[0].at_ms < 30);
	assert_true(t->got[8].at_ms >= 75);
	/* nothing more after the burst */
	pump(t, is_announcement, 1, 150);
	assert_int_equal(t->n_got, 0);
	struct responder_counters c;
	responder_get_counters(t->r, &c);
	assert_int_equal(c.garp_sent, 6);
	assert_int_equal(c.unsolicited_na_sent, 3);
	/* already owned: set again, no new burst */
	assert_int_equal(responder_set_owned(t->r, t->lan0, vip, 2), 0);
	pump(t, is_announcement, 1, 100);
	assert_int_equal(t->n_got, 0);
}

static void test_losing_ownership_stops_at_once(void **state)
{
	struct t *t = *state;
	addr_t vip;
	uint8_t f[64];
	v("10.0.0.100", &vip);
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	pump(t, is_arp, 2, 1000); /* the first round */
	assert_int_equal(t->n_got, 2);
	assert_int_equal(responder_set_owned(t->r, t->lan0, NULL, 0), 0);
	assert_false(responder_owns(t->r, t->lan0, &vip));
	client_send(t->cli, f, arp_request(f, t->cli0_mac, "10.0.0.1", "10.0.0.100"));
	pump(t, is_arp, 1, 200); /* neither the rest of the burst nor a reply */
	assert_int_equal(t->n_got, 0);
	/* owned again: a new burst */
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	pump(t, is_arp, 6, 1000);
	assert_int_equal(t->n_got, 6);
}

static void test_refresh(void **state)
{
	struct t *t = *state;
	addr_t vip;
	struct responder_opts o = {.garp_count = 1, .garp_interval_ms = 10, .refresh_ms = 60,
				   .send_budget = 1};
	responder_free(t->r);
	t->r = responder_new(t->l, &o);
	assert_int_equal(responder_add_iface(t->r, t->lan0, "lan0", t->lan0_mac), 0);
	v("10.0.0.100", &vip);
	assert_int_equal(responder_set_owned(t->r, t->lan0, &vip, 1), 0);
	pump(t, is_arp, 6, 1000); /* takeover round + two refresh rounds */
	assert_int_equal(t->n_got, 6);
	assert_true(t->got[5].at_ms >= 90);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 10,000 owned IPs: set, lookup, shrink; and round trips through the loop, as a measurement. */
static void test_ten_thousand_ips(void **state)
{
	struct t *t = *state;
	enum { N = 10000 };
	addr_t *ips = calloc(N, sizeof(*ips));
	uint8_t f[64];
	assert_non_null(ips);
	for (int i = 0; i < N; i++)
		addr_from_v4(&ips[i], 0x0a640000u + (uint32_t)i); /* 10.100.0.0 + i */
	uint64_t t0 = now_ns();
	assert_int_equal(responder_set_owned(t->r, t->lan0, ips, N), 0);
	uint64_t t1 = now_ns();
	assert_int_equal(responder_owned_count(t->r), N);
	for (int i = 0; i < N; i++)
		assert_true(responder_owns(t->r, t->lan0, &ips[i]));
	uint64_t t2 = now_ns();
	print_message("# set_owned 10000 IPs: %.2f ms; 10000 lookups: %.2f ms\n", (t1 - t0) / 1e6,
		      (t2 - t1) / 1e6);
	/* keep the odd half */
	size_t k = 0;
	for (int i = 1; i < N; i += 2)
		ips[k++] = ips[i];
	assert_int_equal(responder_set_owned(t->r, t->lan0, ips, k), 0);
	assert_int_equal(responder_owned_count(t->r), k);
	for (size_t i = 0; i < k; i++)
		assert_true(responder_owns(t->r, t->lan0, &ips[i]));
	addr_t gone;
	addr_from_v4(&gone, 0x0a640000u + 1234);
	assert_false(responder_owns(t->r, t->lan0, &gone));
	client_send(t->cli, f, arp_request(f, t->cli0_mac, "10.0.0.1", "10.100.4.210")); /* 1234 */
	pump(t, is_arp_reply, 1, 150);
	assert_int_equal(t->n_got, 0);
	/* 200 round trips to an owned IP (10.100.0.1): in-process request -> reply time */
	uint64_t rtt[200];
	for (int i = 0; i < 200; i++) {
		size_t n = arp_request(f, t->cli0_mac, "10.0.0.1", "10.100.0.1");
		uint64_t s = now_ns();
		client_send(t->cli, f, n);
		pump(t, is_arp_reply, 1, 1000);
		rtt[i] = now_ns() - s;
		assert_int_equal(t->n_got, 1);
	}
	qsort(rtt, 200, sizeof(rtt[0]), cmp_u64);
	print_message("# ARP round trip over veth through the loop (ASan build), 200 probes: "
		      "median %.1f us, p99 %.1f us\n", rtt[100] / 1e3, rtt[197] / 1e3);
	free(ips);
}

/* Strict clients: ndisc6 (wants the NA sourced from the target) and arping, when installed. */
static void test_real_clients(void **state)
{
	struct t *t = *state;
	addr_t vip[2];
	char line[256], want[32];
	bool seen = false;
	v("10.0.0.100", &vip[0]);
	v("2001:db8::64", &vip[1]);
	assert_int_equal(responder_set_owned(t->r, t->lan0, vip, 2), 0);
	snprintf(want, sizeof(want), "%02X:%02X:%02X:%02X:%02X:%02X", t->lan0_mac[0], t->lan0_mac[1],
		 t->lan0_mac[2], t->lan0_mac[3], t->lan0_mac[4], t->lan0_mac[5]);
	if (access("/usr/bin/ndisc6", X_OK) == 0) {
		FILE *p = popen("ndisc6 -1 -r 2 -w 500 2001:db8::64 cli0 2>&1", "r");
		assert_non_null(p);
		pump(t, NULL, 0, 1200); /* the responder answers while ndisc6 waits */
		while (fgets(line, sizeof(line), p))
			if (strcasestr(line, want))
				seen = true;
		assert_int_equal(pclose(p), 0);
		assert_true(seen);
		print_message("# ndisc6 accepted the NA from %s\n", want);
	}
	if (access("/usr/sbin/arping", X_OK) == 0) {
		seen = false;
		FILE *p = popen("arping -c 1 -w 1000000 -i cli0 -S 10.0.0.1 10.0.0.100 2>&1", "r");
		assert_non_null(p);
		pump(t, NULL, 0, 1200);
		while (fgets(line, sizeof(line), p))
			if (strcasestr(line, want))
				seen = true;
		pclose(p);
		assert_true(seen);
		print_message("# arping got the reply from %s\n", want);
	}
}

static int run_in_namespace(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..1\nok 1 # SKIP unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	if (sh("ip link set lo up && "
	       "ip link add name lan0 type veth peer name cli0 && "
	       "ip link add name lan1 type veth peer name cli1 && "
	       "for i in lan0 cli0 lan1 cli1; do "
	       "  sysctl -qw net.ipv6.conf.$i.accept_dad=0 && ip link set $i up || exit 1; done && "
	       "ip addr add 10.0.0.1/24 dev cli0 && ip addr add 2001:db8::1/64 dev cli0 nodad") != 0) {
		printf("1..1\nnot ok 1 - creating the veth pairs in the test namespace\n");
		return 1;
	}
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_owned_ips_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_interface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ndp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frames_counted_not_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_burst, setup_burst, teardown),
		cmocka_unit_test_setup_teardown(test_losing_ownership_stops_at_once, setup_burst,
						teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ten_thousand_ips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_clients, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
	return netns_main(run_in_namespace);
}
