/* SPDX-License-Identifier: Apache-2.0 */
/* responder: answers ARP requests and IPv6 neighbour solicitations for the IPs this node owns, and
 * announces them on takeover. Owned IPs in, frames out.
 *
 * This header is the whole interface of the layer-2 data path, kept small so that another backend
 * (an XDP program answering from a BPF map of owned IPs) can implement it later. The backend here:
 * one raw AF_PACKET socket per interface, a classic BPF filter in the kernel that passes only ARP
 * requests and replies and ICMPv6 types 135 and 136 (replies and advertisements are never answered:
 * they are read only to notice address conflicts, below), registered with the loop; owned IPs in
 * an open-addressing hash keyed by (interface, IP). RIG-NOTES measured 63 us for AF_PACKET against
 * 111 us for libpcap in immediate mode, hence no libpcap here.
 *
 * Announcements on takeover (an IP newly owned on an interface): garp_count rounds, the first at
 * once and then every garp_interval_ms; a round is an ARP request and an ARP reply (IPv4, both
 * broadcast, sender = target = the IP) or one unsolicited NA to ff02::1 with O=1 (IPv6).
 * Defaults: 3 rounds, 250 ms apart (0, 250, 500 ms): the first round makes a fast failover, two
 * more cover a lost frame or a switch port that was still learning, all within half a second.
 * With refresh_ms set, every owned IP is announced once more each refresh_ms (10% jitter).
 * Ownership is checked again before every send; losing an IP stops answers and pending
 * announcements at once. At most send_budget announcement frames go out per loop turn, so that
 * taking over 10,000 IPs does not stall the loop.
 *
 * Address conflicts (duplicate-address detection for the cluster, after RFC 5227 2.4 and RFC 4861
 * 7.2.5): an ARP request or reply whose sender IP is owned on the interface it came in on but
 * whose sender MAC is not ours, a valid neighbour advertisement for an owned target with another
 * MAC (its target link-layer option, else its Ethernet source), or a solicitation sourced from an
 * owned IP with another MAC, is counted in `conflicts` and logged as a rate-limited warning
 * naming the IP and the foreign MAC. The responder does not give the IP up: who owns it is the
 * cluster's decision, and the warning is for the operator. */
#ifndef BARELB_SPEAKER_L2_RESPONDER_H
#define BARELB_SPEAKER_L2_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"
#include "barelb/loop.h"

struct responder;

struct responder_opts {
	unsigned garp_count;       /* announcement rounds on takeover; 0 = none */
	unsigned garp_interval_ms; /* between rounds */
	unsigned refresh_ms;       /* periodic re-announcement; 0 = off */
	unsigned send_budget;      /* announcement frames per loop turn, at least 1 */
};
#define RESPONDER_GARP_COUNT       3
#define RESPONDER_GARP_INTERVAL_MS 250
#define RESPONDER_SEND_BUDGET      256

enum responder_drop {
	RESP_DROP_TRUNCATED,   /* shorter than its headers say, or larger than the receive buffer */
	RESP_DROP_MALFORMED,   /* fails a protocol check (ARP types/lengths, RFC 4861 7.1.1 ...) */
	RESP_DROP_NOT_REQUEST, /* ARP reply, other ICMPv6, IPv6 extension headers */
	RESP_DROP_NOT_FOR_US,  /* Ethernet destination is another host's */
	RESP_DROP_OWN_FRAME,   /* sent by us (own MAC, or looped back outgoing) */
	RESP_DROP_NOT_OWNED,   /* the IP asked for is not owned on any interface */
	RESP_DROP_WRONG_IFACE, /* the IP is owned, but not on the interface the request came in on */
	RESP_DROP_COUNT
};

struct responder_counters {
	uint64_t frames_received;   /* frames read from the sockets */
	uint64_t arp_requests;      /* well-formed ARP requests */
	uint64_t ns_received;       /* well-formed neighbour solicitations */
	uint64_t arp_replies_sent;
	uint64_t na_replies_sent;   /* solicited NA and answers to DAD probes */
	uint64_t garp_sent;         /* gratuitous ARP frames (requests and replies) */
	uint64_t unsolicited_na_sent;
	uint64_t send_errors;
	uint64_t conflicts;         /* another MAC claimed an IP owned on that interface */
	uint64_t drops[RESP_DROP_COUNT];
};

/* o NULL: defaults. Returns NULL on allocation failure. */
struct responder *responder_new(struct loop *l, const struct responder_opts *o);
void responder_free(struct responder *r); /* NULL-safe; closes every socket */

/* Start answering on an interface (opens and filters its socket, registers it with the loop).
 * 0, -EEXIST, or -errno of socket/bind/setsockopt (needs CAP_NET_RAW). A MAC change is a del then
 * an add. */
int responder_add_iface(struct responder *r, int ifindex, const char *name,
			const uint8_t mac[6]);
/* Stop on an interface: its owned IPs are forgotten, its socket and groups released. */
void responder_del_iface(struct responder *r, int ifindex);

/* Replace the set of IPs owned on ifindex (both families; duplicates allowed). Newly owned IPs are
 * announced and, for IPv6, their solicited-node group is joined; IPs no longer listed stop being
 * answered at once and their group is left. 0, -ENOENT (interface not added) or -ENOMEM. */
int responder_set_owned(struct responder *r, int ifindex, const addr_t *ips, size_t n);
bool responder_owns(const struct responder *r, int ifindex, const addr_t *ip);
size_t responder_owned_count(const struct responder *r); /* (interface, IP) pairs */

void responder_get_counters(const struct responder *r, struct responder_counters *out);
const char *responder_drop_name(enum responder_drop d); /* for metrics labels */

#endif
