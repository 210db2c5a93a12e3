/* SPDX-License-Identifier: Apache-2.0 */
/* iface: links and addresses through libnl-3 route, re-read into plain structs and diffed on every
 * batch of RTNLGRP_LINK/IPV4_IFADDR/IPV6_IFADDR notifications, so that callers see
 * ADDED/CHANGED/REMOVED per interface.
 *
 * Why re-read instead of applying each notification to a libnl cache manager: the manager keeps
 * several objects per link (libnl labels bridges and bridge ports AF_BRIDGE, and per-family link
 * messages update different copies), and in testing the view of one interface flapped between a
 * fresh and a stale copy. A dump per batch of notifications gives one consistent object per
 * interface, costs one round trip for a few dozen links, coalesces notifications that arrive
 * together, and needs no special path for lost notifications (ENOBUFS). */
#include "iface.h"

#include <errno.h>
#include <net/if_arp.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "barelb/log.h"

struct iface_table {
	struct loop *loop;
	const char *const *exclude;
	iface_cb cb;
	void *arg;
	struct nl_sock *events;         /* subscribed to link and address notifications */
	struct nl_sock *sync;           /* dumps */
	struct nl_cache *links, *addrs;
	struct loop_fd *watch;
	struct iface *v;                /* sorted by index */
	size_t n;
};

static const char *const default_exclude[] = {
	"lo", "veth*", "docker*", "cali*", "flannel*", "cni*", "kube-ipvs*", "cbr*", "virbr*",
	"lxcbr*", "tunl*", "nodelocaldns*", "lxc*", "dummy*", NULL,
};

const char *const *iface_default_exclude(void)
{
	return default_exclude;
}

bool iface_name_excluded(const char *name, const char *const *patterns)
{
	for (size_t i = 0; patterns && patterns[i]; i++) {
		size_t len = strlen(patterns[i]);
		if (len > 0 && patterns[i][len - 1] == '*') {
			if (strncmp(name, patterns[i], len - 1) == 0)
				return true;
		} else if (strcmp(name, patterns[i]) == 0) {
			return true;
		}
	}
	return false;
}

bool iface_usable(const struct iface *ifc)
{
	return ifc->up && ifc->has_mac && !ifc->noarp && !ifc->loopback && !ifc->has_master &&
	       !ifc->excluded;
}

/* ---------- snapshot from the caches ---------- */

static void free_vec(struct iface *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].prefixes);
	free(v);
}

static int cmp_index(const void *a, const void *b)
{
	const struct iface *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct iface_prefix *x = a, *y = b;
	int c = addr_cmp(&x->net.a, &y->net.a);
	if (c == 0)
		c = (x->net.len > y->net.len) - (x->net.len < y->net.len);
	if (c == 0)
		c = addr_cmp(&x->local, &y->local);
	return c;
}

static struct iface *find(struct iface *v, size_t n, int index)
{
	struct iface key = {.index = index};
	return bsearch(&key, v, n, sizeof(*v), cmp_index);
}

static int nl_to_addr(struct nl_addr *na, addr_t *out)
{
	int fam = nl_addr_get_family(na);
	size_t len = nl_addr_get_len(na);
	memset(out, 0, sizeof(*out));
	if ((fam == AF_INET && len == 4) || (fam == AF_INET6 && len == 16)) {
		out->family = (uint8_t)fam;
		memcpy(out->b, nl_addr_get_binary_addr(na), len);
		return 0;
	}
	return -1;
}

static int snapshot(struct iface_table *t, struct iface **out, size_t *out_n)
{
	size_t cap = (size_t)nl_cache_nitems(t->links), n = 0;
	struct iface *v = calloc(cap ? cap : 1, sizeof(*v));
	if (v == NULL)
		return -1;
	for (struct nl_object *o = nl_cache_get_first(t->links); o && n < cap; o = nl_cache_get_next(o)) {
		struct rtnl_link *link = (struct rtnl_link *)o;
		struct iface *ifc = &v[n];
		const char *name = rtnl_link_get_name(link);
		struct nl_addr *mac = rtnl_link_get_addr(link);
		unsigned flags = rtnl_link_get_flags(link);
		/* libnl labels bridges (and bridge ports) AF_BRIDGE even in an AF_UNSPEC dump, so the
		 * family is not a filter; duplicates of an index are dropped below. */
		ifc->index = rtnl_link_get_ifindex(link);
		if (ifc->index <= 0)
			continue;
		snprintf(ifc->name, sizeof(ifc->name), "%s", name ? name : "");
		if (rtnl_link_get_arptype(link) == ARPHRD_ETHER && mac && nl_addr_get_len(mac) == 6) {
			ifc->has_mac = true;
			memcpy(ifc->mac, nl_addr_get_binary_addr(mac), 6);
		}
		ifc->up = flags & IFF_UP;
		ifc->running = flags & IFF_RUNNING;
		ifc->noarp = flags & IFF_NOARP;
		ifc->loopback = flags & IFF_LOOPBACK;
		ifc->has_master = rtnl_link_get_master(link) > 0;
		ifc->excluded = iface_name_excluded(ifc->name, t->exclude);
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_index);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || v[u - 1].index != v[i].index)
			v[u++] = v[i];
	n = u;
	for (struct nl_object *o = nl_cache_get_first(t->addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct iface *ifc = find(v, n, rtnl_addr_get_ifindex(a));
		struct nl_addr *local = rtnl_addr_get_local(a);
		struct iface_prefix p;
		if (ifc == NULL || local == NULL || nl_to_addr(local, &p.local) < 0)
			continue;
		int plen = rtnl_addr_get_prefixlen(a);
		if (plen < 0 || plen > addr_bits(&p.local))
			continue;
		p.net.a = p.local;
		p.net.len = (uint8_t)plen;
		addr_mask(&p.net.a, plen);
		struct iface_prefix *np = realloc(ifc->prefixes, (ifc->n_prefixes + 1) * sizeof(*np));
		if (np == NULL) {
			free_vec(v, n);
			return -1;
		}
		ifc->prefixes = np;
		ifc->prefixes[ifc->n_prefixes++] = p;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].n_prefixes > 1)
			qsort(v[i].prefixes, v[i].n_prefixes, sizeof(*v[i].prefixes), cmp_prefix);
	*out = v;
	*out_n = n;
	return 0;
}

static bool same(const struct iface *a, const struct iface *b)
{
	if (strcmp(a->name, b->name) != 0 || a->has_mac != b->has_mac ||
	    memcmp(a->mac, b->mac, 6) != 0 || a->up != b->up || a->running != b->running ||
	    a->noarp != b->noarp || a->loopback != b->loopback || a->has_master != b->has_master ||
	    a->excluded != b->excluded || a->n_prefixes != b->n_prefixes)
		return false;
	for (size_t i = 0; i < a->n_prefixes; i++)
		if (cmp_prefix(&a->prefixes[i], &b->prefixes[i]) != 0)
			return false;
	return true;
}

/* Re-read the caches, swap the table, then tell the caller what changed. */
static void rebuild(struct iface_table *t)
{
	struct iface *nv, *ov = t->v;
	size_t nn, on = t->n;
	if (snapshot(t, &nv, &nn) < 0) {
		log_error("msg=\"interface table not updated: out of memory\"");
		return;
	}
	t->v = nv;
	t->n = nn;
	if (t->cb != NULL) {
		for (size_t i = 0; i < on; i++)
			if (find(nv, nn, ov[i].index) == NULL)
				t->cb(&ov[i], IFACE_REMOVED, t->arg);
		for (size_t i = 0; i < nn; i++) {
			const struct iface *old = find(ov, on, nv[i].index);
			if (old == NULL)
				t->cb(&nv[i], IFACE_ADDED, t->arg);
			else if (!same(old, &nv[i]))
				t->cb(&nv[i], IFACE_CHANGED, t->arg);
		}
	}
	free_vec(ov, on);
}

#define EVENT_READS_PER_TURN 64

static void on_netlink(int fd, unsigned events, void *arg)
{
	struct iface_table *t = arg;
	char buf[8192];
	/* The content does not matter: any notification means "re-read". Bounded per turn; what is
	 * left keeps the fd readable for the next turn. ENOBUFS (lost messages) is just a re-read. */
	for (int i = 0; i < EVENT_READS_PER_TURN; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != ENOBUFS)
			break;
	}
	int err = nl_cache_refill(t->sync, t->links);
	if (err >= 0)
		err = nl_cache_refill(t->sync, t->addrs);
	if (err < 0) {
		log_error("msg=\"re-reading interfaces failed: %s\"", nl_geterror(err));
		return;
	}
	rebuild(t);
}

struct iface_table *iface_table_new(struct loop *l, const char *const *exclude, iface_cb cb,
				    void *arg)
{
	struct iface_table *t = calloc(1, sizeof(*t));
	int err;
	if (t == NULL)
		return NULL;
	t->loop = l;
	t->exclude = exclude ? exclude : default_exclude;
	t->cb = cb;
	t->arg = arg;
	t->events = nl_socket_alloc();
	t->sync = nl_socket_alloc();
	if (t->events == NULL || t->sync == NULL)
		goto fail;
	/* Subscribe before the first dump, so that nothing changes unseen in between. */
	nl_socket_disable_seq_check(t->events);
	if ((err = nl_connect(t->events, NETLINK_ROUTE)) < 0 ||
	    (err = nl_socket_add_memberships(t->events, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
					     RTNLGRP_IPV6_IFADDR, 0)) < 0 ||
	    (err = nl_socket_set_nonblocking(t->events)) < 0 ||
	    (err = nl_connect(t->sync, NETLINK_ROUTE)) < 0 ||
	    (err = rtnl_link_alloc_cache(t->sync, AF_UNSPEC, &t->links)) < 0 ||
	    (err = rtnl_addr_alloc_cache(t->sync, &t->addrs)) < 0) {
		log_error("msg=\"netlink: %s\"", nl_geterror(err));
		goto fail;
	}
	t->watch = loop_fd_add(l, nl_socket_get_fd(t->events), LOOP_READ, on_netlink, t);
	if (t->watch == NULL)
		goto fail;
	if (snapshot(t, &t->v, &t->n) < 0)
		goto fail;
	return t;
fail:
	iface_table_free(t);
	return NULL;
}

void iface_table_free(struct iface_table *t)
{
	if (t == NULL)
		return;
	loop_fd_del(t->watch);
	if (t->links)
		nl_cache_free(t->links);
	if (t->addrs)
		nl_cache_free(t->addrs);
	if (t->events)
		nl_socket_free(t->events); /* closes the socket */
	if (t->sync)
		nl_socket_free(t->sync);
	free_vec(t->v, t->n);
	free(t);
}

size_t iface_count(const struct iface_table *t)
{
	return t->n;
}

const struct iface *iface_at(const struct iface_table *t, size_t i)
{
	return i < t->n ? &t->v[i] : NULL;
}

const struct iface *iface_by_index(const struct iface_table *t, int index)
{
	return find(t->v, t->n, index);
}

const struct iface *iface_by_name(const struct iface_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

size_t iface_for_ip(const struct iface_table *t, const addr_t *ip, const struct iface **out,
		    size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct iface *ifc = &t->v[i];
		if (!iface_usable(ifc))
			continue;
		for (size_t j = 0; j < ifc->n_prefixes; j++) {
			if (prefix_contains(&ifc->prefixes[j].net, ip)) {
				if (n < max)
					out[n] = ifc;
				n++;
				break;
			}
		}
	}
	return n;
}
