/* SPDX-License-Identifier: Apache-2.0 */
/* iface: the node's interfaces and their addresses from netlink (libnl-3 route), kept current from
 * its notifications through one NETLINK_ROUTE socket registered with the loop (no rescans), and
 * the choice of interfaces that may answer for an IP. libnl types stay inside iface.c. */
#ifndef BARELB_SPEAKER_IFACE_H
#define BARELB_SPEAKER_IFACE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"
#include "barelb/loop.h"

struct iface_prefix {
	prefix_t net; /* the configured subnet, host bits clear */
	addr_t local; /* the address itself */
};

struct iface {
	int index;
	char name[IF_NAMESIZE];
	bool has_mac;             /* an Ethernet (ARPHRD_ETHER) link with a 6-byte address */
	uint8_t mac[6];
	bool up;                  /* IFF_UP (administratively up) */
	bool running;             /* IFF_RUNNING (carrier); informational */
	bool noarp;               /* IFF_NOARP */
	bool loopback;            /* IFF_LOOPBACK */
	bool has_master;          /* bridge port, bond slave or VRF member (IFLA_MASTER set) */
	bool excluded;            /* the name matches the exclude list */
	struct iface_prefix *prefixes; /* IPv4 and IPv6, sorted */
	size_t n_prefixes;
};

enum iface_event { IFACE_ADDED, IFACE_CHANGED, IFACE_REMOVED };

/* Called once per interface that appeared, changed (flags, name, MAC, addresses) or went away.
 * ifc is valid during the call only (for REMOVED it is the last known state). The callback may read
 * the table but must not free it. */
typedef void (*iface_cb)(const struct iface *ifc, enum iface_event ev, void *arg);

struct iface_table;

/* Dump links and addresses, then follow notifications. exclude: NULL-terminated name patterns
 * ("name" exact, "prefix*"), NULL for iface_default_exclude(); the array must outlive the table.
 * No callback runs for the initial dump: read the table after this returns. NULL on failure. */
struct iface_table *iface_table_new(struct loop *l, const char *const *exclude, iface_cb cb,
				    void *arg);
void iface_table_free(struct iface_table *t); /* NULL-safe */

size_t iface_count(const struct iface_table *t);
const struct iface *iface_at(const struct iface_table *t, size_t i); /* sorted by index */
const struct iface *iface_by_index(const struct iface_table *t, int index);
const struct iface *iface_by_name(const struct iface_table *t, const char *name);

/* May answer ARP/NDP at all: up, Ethernet, not NOARP, not loopback, not enslaved, not excluded. */
bool iface_usable(const struct iface *ifc);
/* The usable interfaces with a configured subnet holding ip; writes up to max, returns how many
 * there are. This is the default answer set; an L2Advertisement's `interfaces` replaces it (look
 * names up with iface_by_name and still require iface_usable). */
size_t iface_for_ip(const struct iface_table *t, const addr_t *ip, const struct iface **out,
		    size_t max);

/* lo, veth*, docker*, cali*, flannel*, cni*, kube-ipvs*, cbr*, virbr*, lxcbr*, tunl*,
 * nodelocaldns*, lxc*, dummy*: CNI, container and tunnel devices that never face the LAN. */
const char *const *iface_default_exclude(void);
bool iface_name_excluded(const char *name, const char *const *patterns);

#endif
