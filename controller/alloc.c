/* SPDX-License-Identifier: Apache-2.0 */
/* alloc: the pure IP allocator: pools, requests, sharing, hold-down, re-mapping on pool changes.
 *
 * SPEC (MetalLB's allocator, internal/allocator + controller/service.go, with the differences
 * marked "barelb:").
 *
 * Pools. A pool is a list of CIDRs in configuration order (ranges already summarised), IPv4 and
 * IPv6 mixed. Pools never overlap (alloc_set_pools refuses overlapping ones). A pool's
 * addresses are ordered first by the position of their CIDR in the configuration, then
 * numerically. With avoidBuggyIPs, IPv4 addresses whose last octet is 0 or 255 do not exist
 * for that pool: never handed out, refused when requested (ALLOC_E_BUGGY_IP), and an allocation
 * holding one becomes invalid when the flag is turned on. Network and broadcast addresses of a
 * CIDR are ordinary addresses.
 *
 * Families. The service wants two IPs (one per family) iff it has two cluster IP families and
 * its policy is PreferDualStack or RequireDualStack; otherwise one IP of the primary family
 * (families[0], IPv4 when none). RequireDualStack with fewer than two families is an error.
 *
 * Requested IPs. spec.loadBalancerIP (one) or the loadBalancerIPs annotation (comma separated,
 * spaces trimmed), never both; at most two, of different families, whose families are exactly
 * the service's. Errors in the request itself leave the current allocation untouched. Requested
 * IPs must all lie in one pool (autoAssign does not matter), that pool must be the requested
 * pool if one is named, must be allowed for the service, and each IP must pass the sharing rule.
 *
 * Pool allowed for a service. A pool without serviceAllocation allows every service. With it:
 * if namespaces or namespaceSelectors are given, the service's namespace must be listed or its
 * labels must match one namespace selector; if serviceSelectors are given, one must match the
 * service's labels. (barelb: namespaceSelectors are matched against the namespace labels in
 * the request; MetalLB resolves them at config time and treats "matches no namespace" as "no
 * restriction", which barelb does not copy.)
 *
 * Automatic allocation (nothing requested).
 *   With a requested pool: only that pool (it must exist and be allowed; autoAssign ignored).
 *   Else first the pinned pools: autoAssign pools with serviceAllocation that allow the service,
 *   ordered by priority (1, 2, ... first, 0 = unset last); then, if no pinned pool can serve,
 *   the generic pools: autoAssign pools without serviceAllocation. barelb: ties and the generic
 *   pools are taken in name order (MetalLB: random).
 *   In each list, the first pool that can give every wanted family wins; for PreferDualStack
 *   without such a pool, the first pool of the list able to give the primary family, else the
 *   first able to give the secondary one.
 *   Within a pool and family the candidate is the first address, in pool order, that is either
 *   free or already used by services this one may share with (so sharers pack onto the lowest
 *   such IP; a lower free address wins over a higher shared one, as in MetalLB's scan). barelb:
 *   free addresses are found through an interval index of the blocked addresses, never by
 *   scanning: O(log n) per CIDR.
 *
 * Sharing (an IP already used by other services O): allowed iff this service and O have the same
 * non-empty sharing key and the same backend key (the canonical selector when
 * externalTrafficPolicy is Local, else ""), and no (protocol, port) of this service is used by
 * any O. An IP whose only user is the service itself always passes (a sole owner may change its
 * key or ports).
 *
 * Convergence (alloc_service). The current IPs are the allocator's entry for the key; without
 * one (restart), the request's ingress IPs; then IPs held for the key (hold-down). Current IPs
 * are kept iff: their families fit (SingleStack: one of the primary family; RequireDualStack: one
 * of each; PreferDualStack: one or one of each), they equal the requested IPs if any, they lie in
 * one pool, that pool is the requested pool if any, the pool allows the service, no IP is buggy,
 * and every IP passes the sharing rule. Kept with PreferDualStack and one IP: the other family is
 * added from the same pool when possible. Otherwise they are released and a fresh allocation
 * is made in the same call. keep_only requests stop before a fresh allocation.
 *
 * Release. alloc_release frees the service's IPs. barelb: with a pool's hold_ms, an IP that no
 * service uses any more stays blocked for automatic allocation to anyone but its last owner's key
 * until the hold ends; the same key gets it back through the "current IPs" rule above. An
 * explicit request or an ingress IP of another service may take a held IP (the hold ends).
 * Internal releases (re-allocation, pool changes) never hold.
 *
 * barelb: reserved ranges per pool are blocked for automatic allocation, allowed when requested.
 *
 * Pool changes (alloc_set_pools): each allocation is re-mapped to the pool that now contains all
 * its IPs (buggy ones excluded); none: released and reported; another name: reported as moved.
 */
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc_internal.h"

#define U128_MAX (~(addr_u128)0)

static const char *const err_names[ALLOC_E_COUNT] = {
	[ALLOC_OK] = "OK",
	[ALLOC_E_EXHAUSTED] = "PoolExhausted",
	[ALLOC_E_NO_POOL] = "NoPool",
	[ALLOC_E_FAMILY] = "FamilyNotAvailable",
	[ALLOC_E_FAMILY_MISMATCH] = "FamilyMismatch",
	[ALLOC_E_BAD_IP] = "BadIP",
	[ALLOC_E_BOTH_GIVEN] = "BothLoadBalancerIPFields",
	[ALLOC_E_TOO_MANY_IPS] = "TooManyIPs",
	[ALLOC_E_SAME_FAMILY] = "SameFamilyIPs",
	[ALLOC_E_IP_NOT_IN_POOL] = "IPNotInPool",
	[ALLOC_E_BUGGY_IP] = "BuggyIP",
	[ALLOC_E_DIFFERENT_POOLS] = "IPsInDifferentPools",
	[ALLOC_E_NO_SUCH_POOL] = "NoSuchPool",
	[ALLOC_E_POOL_MISMATCH] = "IPNotInRequestedPool",
	[ALLOC_E_POOL_NOT_ALLOWED] = "PoolNotAllowed",
	[ALLOC_E_SHARING_KEY] = "SharingKeyMismatch",
	[ALLOC_E_PORT_CONFLICT] = "PortConflict",
	[ALLOC_E_KEEP_ONLY] = "NothingToKeep",
	[ALLOC_E_NOMEM] = "OutOfMemory",
};

const char *alloc_err_name(enum alloc_err e)
{
	return (unsigned)e < ALLOC_E_COUNT ? err_names[e] : "Unknown";
}

static const char *fam_name(int f)
{
	return f == 0 ? "IPv4" : "IPv6";
}

int al_fam_index(int af)
{
	return af == AF_INET6 ? 1 : 0;
}

static const char *proto_name(enum alloc_proto p)
{
	switch (p) {
	case ALLOC_TCP:
		return "TCP";
	case ALLOC_UDP:
		return "UDP";
	case ALLOC_SCTP:
		return "SCTP";
	}
	return "?";
}

const char *al_nz(const char *s)
{
	return s ? s : "";
}

char *al_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* snprintf that appends to buf (and truncates silently). */
__attribute__((format(printf, 3, 4))) static void app(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strnlen(buf, n);
	if (len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

static const char *fmt_ip(const addr_t *a, char *buf)
{
	if (addr_format(a, buf, ADDR_STRLEN) < 0)
		snprintf(buf, ADDR_STRLEN, "?");
	return buf;
}

static const char *fmt_u128(addr_u128 v, char *buf) /* buf of 48 */
{
	char tmp[48];
	size_t i = 0;
	if (v == U128_MAX)
		return strcpy(buf, "2^128-1");
	do {
		tmp[i++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (size_t j = 0; j < i; j++)
		buf[j] = tmp[i - 1 - j];
	buf[i] = '\0';
	return buf;
}

/* ---------- sharing rule ---------- */

static bool has_port(const struct asvc *s, const struct alloc_port *p)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].proto == p->proto && s->ports[i].port == p->port)
			return true;
	return false;
}

/* May the service described by w use ip (which others may already use)? */
static enum alloc_err check_sharing(const struct aip *ip, const struct want *w, char *msg, size_t n)
{
	const struct asvc *other = NULL;
	char b[ADDR_STRLEN];
	for (size_t i = 0; i < ip->n_svcs; i++) {
		const struct asvc *s = ip->svcs[i];
		if (strcmp(s->key, w->rq->key) != 0 && (!other || strcmp(s->key, other->key) < 0))
			other = s;
	}
	if (!other)
		return ALLOC_OK; /* free, held, or used only by this service */
	if (!w->sharing[0] || strcmp(other->sharing, w->sharing) != 0) {
		if (msg)
			snprintf(msg, n, "%s is used by %s with sharing key \"%s\", this service has \"%s\"",
				 fmt_ip(&ip->addr, b), other->key, other->sharing, w->sharing);
		return ALLOC_E_SHARING_KEY;
	}
	if (strcmp(other->backend, w->backend) != 0) {
		if (msg)
			snprintf(msg, n,
				 "%s is used by %s with the same sharing key but other backends "
				 "(externalTrafficPolicy/selector \"%s\", this service \"%s\")",
				 fmt_ip(&ip->addr, b), other->key, other->backend, w->backend);
		return ALLOC_E_SHARING_KEY;
	}
	for (size_t j = 0; j < w->rq->n_ports; j++) {
		const struct alloc_port *p = &w->rq->ports[j];
		for (size_t i = 0; i < ip->n_svcs; i++) {
			const struct asvc *s = ip->svcs[i];
			if (strcmp(s->key, w->rq->key) != 0 && has_port(s, p)) {
				if (msg)
					snprintf(msg, n, "port %s/%u on %s is used by %s", proto_name(p->proto),
						 p->port, fmt_ip(&ip->addr, b), s->key);
				return ALLOC_E_PORT_CONFLICT;
			}
		}
	}
	return ALLOC_OK;
}

/* ---------- requests ---------- */

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse one IP from s[0..len) with blanks trimmed. */
static int parse_ip(const char *s, size_t len, addr_t *out)
{
	while (len && is_blank((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && is_blank((unsigned char)s[len - 1]))
		len--;
	char buf[ADDR_STRLEN];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return addr_parse(buf, out);
}

static enum alloc_err read_request(const struct alloc *a, const struct alloc_request *rq,
				   struct want *w, char *msg, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->rq = rq;
	w->sharing = al_nz(rq->sharing_key);
	w->backend = al_nz(rq->backend_key);
	w->fam[0] = al_fam_index(rq->n_families ? rq->families[0] : AF_INET);
	w->n_fam = 1;
	if (rq->n_families >= 2 && al_fam_index(rq->families[1]) != w->fam[0] &&
	    rq->policy != ALLOC_SINGLE_STACK) {
		w->fam[1] = !w->fam[0];
		w->n_fam = 2;
		w->prefer = rq->policy == ALLOC_PREFER_DUAL;
	} else if (rq->policy == ALLOC_REQUIRE_DUAL) {
		snprintf(msg, n, "RequireDualStack needs two cluster IP families, the service has %zu",
			 rq->n_families);
		return ALLOC_E_FAMILY_MISMATCH;
	}
	const char *one = al_nz(rq->lb_ip), *list = al_nz(rq->lb_ips);
	while (is_blank((unsigned char)*one))
		one++;
	if (*one && *list) {
		snprintf(msg, n, "both spec.loadBalancerIP and the loadBalancerIPs annotation are set");
		return ALLOC_E_BOTH_GIVEN;
	}
	const char *src = *one ? one : list;
	size_t count = 0;
	for (const char *p = src; *src;) {
		/* spec.loadBalancerIP is one IP: a comma there is just a bad IP */
		const char *comma = *one ? NULL : strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		addr_t ip;
		if (parse_ip(p, len, &ip) != 0) {
			snprintf(msg, n, "requested IP \"%.*s\" is not an IP address", (int)(len > 64 ? 64 : len), p);
			return ALLOC_E_BAD_IP;
		}
		if (count < 2)
			w->req[count] = ip;
		count++;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (count > 2) {
		snprintf(msg, n, "%zu IPs requested, at most 2 (one per family)", count);
		return ALLOC_E_TOO_MANY_IPS;
	}
	w->n_req = count;
	if (count == 2 && w->req[0].family == w->req[1].family) {
		snprintf(msg, n, "the two requested IPs are both %s", fam_name(al_fam_index(w->req[0].family)));
		return ALLOC_E_SAME_FAMILY;
	}
	if (count && (count != w->n_fam || (count == 1 && al_fam_index(w->req[0].family) != w->fam[0]))) {
		snprintf(msg, n, "requested IPs are %s, the service is %s",
			 count == 2 ? "dual-stack" : fam_name(al_fam_index(w->req[0].family)),
			 w->n_fam == 2 ? "dual-stack" : fam_name(w->fam[0]));
		return ALLOC_E_FAMILY_MISMATCH;
	}
	if (count == 2 && al_fam_index(w->req[0].family) != w->fam[0]) {
		addr_t t = w->req[0];
		w->req[0] = w->req[1];
		w->req[1] = t;
	}
	w->req_pool = -1;
	if (rq->pool && rq->pool[0]) {
		w->req_pool_name = rq->pool;
		w->req_pool = al_find_pool(a, rq->pool);
		if (w->req_pool < 0)
			w->req_pool = -2;
	}
	return ALLOC_OK;
}

/* Can the service have exactly these IPs (its current, its ingress, its held or its requested
 * ones)? On success *pool is their pool. */
static enum alloc_err check_assign(const struct alloc *a, const struct want *w, const addr_t *ips,
				   size_t n, int *pool, char *msg, size_t mn)
{
	char b[ADDR_STRLEN];
	bool fam_ok = n >= 1 && n <= 2;
	if (fam_ok && n == 2)
		fam_ok = w->n_fam == 2 && ips[0].family != ips[1].family;
	else if (fam_ok)
		fam_ok = al_fam_index(ips[0].family) == w->fam[0] ||
			 (w->prefer && al_fam_index(ips[0].family) == w->fam[1]);
	if (fam_ok && w->n_fam == 2 && !w->prefer && n != 2)
		fam_ok = false;
	if (!fam_ok) {
		snprintf(msg, mn, "the IPs do not fit the service's IP families");
		return ALLOC_E_FAMILY_MISMATCH;
	}
	if (w->n_req) {
		bool same = n == w->n_req;
		for (size_t i = 0; i < n && same; i++)
			same = addr_eq(&ips[i], &w->req[0]) || (w->n_req == 2 && addr_eq(&ips[i], &w->req[1]));
		if (!same) {
			snprintf(msg, mn, "the requested IPs changed");
			return ALLOC_E_FAMILY_MISMATCH;
		}
	}
	int p = -1;
	for (size_t i = 0; i < n; i++) {
		int f = al_fam_index(ips[i].family);
		addr_u128 v = addr_to_u128(&ips[i]);
		const struct span *sp = al_span_of(a->span[f], a->n_span[f], v);
		if (!sp) {
			snprintf(msg, mn, "%s is in no pool", fmt_ip(&ips[i], b));
			return ALLOC_E_IP_NOT_IN_POOL;
		}
		if (al_pool_buggy(&a->pools[sp->pool], f, v)) {
			snprintf(msg, mn, "%s ends in .0 or .255 and pool %s has avoidBuggyIPs",
				 fmt_ip(&ips[i], b), a->pools[sp->pool].name);
			return ALLOC_E_BUGGY_IP;
		}
		if (p >= 0 && sp->pool != p) {
			snprintf(msg, mn, "the requested IPs are in different pools (%s and %s)",
				 a->pools[p].name, a->pools[sp->pool].name);
			return ALLOC_E_DIFFERENT_POOLS;
		}
		p = sp->pool;
	}
	if (w->req_pool != -1 && w->req_pool != p) {
		snprintf(msg, mn, "%s is in pool %s, not in the requested pool %s", fmt_ip(&ips[0], b),
			 a->pools[p].name, w->req_pool_name);
		return ALLOC_E_POOL_MISMATCH;
	}
	if (!al_pool_allows(&a->pools[p], w, msg, mn))
		return ALLOC_E_POOL_NOT_ALLOWED;
	for (size_t i = 0; i < n; i++) {
		const struct aip *ip = al_ip_get(a, &ips[i]);
		enum alloc_err e = ip ? check_sharing(ip, w, msg, mn) : ALLOC_OK;
		if (e)
			return e;
	}
	*pool = p;
	return ALLOC_OK;
}

/* ---------- automatic allocation ---------- */

/* The candidate of family f in pool pi: the first address in pool order that is free or shared
 * with compatible services. */
static bool pool_candidate(const struct alloc *a, int pi, int f, const struct want *w, addr_t *out)
{
	const struct apool *p = &a->pools[pi];
	bool sh = false;
	int sh_c = 0;
	addr_u128 sh_v = 0;
	if (w->sharing[0]) {
		const struct agroup *g = hmap_get(&a->groups, hash_str(w->sharing), al_grp_eq, w->sharing);
		for (size_t i = 0; g && i < g->n; i++) {
			const struct aip *ip = g->v[i];
			if (ip->pool != pi || ip->fam != f)
				continue;
			if (sh && (ip->cidx > sh_c || (ip->cidx == sh_c && ip->v > sh_v)))
				continue;
			if (check_sharing(ip, w, NULL, 0) != ALLOC_OK)
				continue;
			sh = true;
			sh_c = ip->cidx;
			sh_v = ip->v;
		}
	}
	for (size_t c = 0; c < p->n_cidr[f]; c++) {
		if (sh && (int)c > sh_c)
			break;
		addr_u128 v;
		if (ivl_first_free(&p->set[f], p->cidr[f][c].lo, p->cidr[f][c].hi, &v)) {
			if (!sh || (int)c < sh_c || v < sh_v) {
				addr_from_u128(out, f ? AF_INET6 : AF_INET, v);
				return true;
			}
			break;
		}
	}
	if (sh)
		addr_from_u128(out, f ? AF_INET6 : AF_INET, sh_v);
	return sh;
}

/* findBestPoolForService over one list of pools. */
static bool best_pool(const struct alloc *a, const int *list, size_t n, const struct want *w,
		      int *pool, addr_t *ips, size_t *n_ips)
{
	int fb_pool[2] = { -1, -1 };
	addr_t fb_ip[2];
	for (size_t i = 0; i < n; i++) {
		addr_t c[2];
		bool ok0 = pool_candidate(a, list[i], w->fam[0], w, &c[0]);
		bool ok1 = w->n_fam == 2 && pool_candidate(a, list[i], w->fam[1], w, &c[1]);
		if (ok0 && (w->n_fam == 1 || ok1)) {
			*pool = list[i];
			ips[0] = c[0];
			ips[1] = c[1];
			*n_ips = w->n_fam;
			return true;
		}
		if (w->prefer && ok0 && fb_pool[0] < 0) {
			fb_pool[0] = list[i];
			fb_ip[0] = c[0];
		}
		if (w->prefer && ok1 && fb_pool[1] < 0) {
			fb_pool[1] = list[i];
			fb_ip[1] = c[1];
		}
	}
	for (int f = 0; f < 2; f++) {
		if (fb_pool[f] >= 0) {
			*pool = fb_pool[f];
			ips[0] = fb_ip[f];
			*n_ips = 1;
			return true;
		}
	}
	return false;
}

static int cmp_priority(const struct apool *x, const struct apool *y)
{
	int px = x->cfg->priority, py = y->cfg->priority;
	if (px != py) {
		if (px <= 0)
			return 1;
		if (py <= 0)
			return -1;
		return px < py ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

/* Explain why no pool of these lists gave an address. */
static enum alloc_err explain_failure(const struct alloc *a, const int *list, size_t n,
				      const struct want *w, char *msg, size_t mn)
{
	bool any_family = false;
	for (size_t i = 0; i < n; i++) {
		const struct apool *p = &a->pools[list[i]];
		bool has0 = p->n_cidr[w->fam[0]] > 0, has1 = w->n_fam == 2 && p->n_cidr[w->fam[1]] > 0;
		if (w->n_fam == 1 ? has0 : (w->prefer ? has0 || has1 : has0 && has1))
			any_family = true;
	}
	msg[0] = '\0';
	if (!any_family) {
		if (w->n_fam == 2 && !w->prefer)
			app(msg, mn, "no pool with both IPv4 and IPv6 addresses is available to this service");
		else
			app(msg, mn, "no pool with %s addresses is available to this service",
			    w->n_fam == 2 ? "IPv4 or IPv6" : fam_name(w->fam[0]));
		app(msg, mn, " (pools tried:");
		for (size_t i = 0; i < n; i++)
			app(msg, mn, " %s", a->pools[list[i]].name);
		app(msg, mn, "%s)", n ? "" : " none");
		return ALLOC_E_FAMILY;
	}
	app(msg, mn, "no address available:");
	for (size_t i = 0; i < n; i++) {
		const struct apool *p = &a->pools[list[i]];
		for (size_t k = 0; k < w->n_fam; k++) {
			int f = w->fam[k];
			if (!p->n_cidr[f])
				continue;
			char s1[48], s2[48];
			app(msg, mn, "%s pool %s exhausted (%s %s addresses, %llu in use, %llu held, %s reserved)",
			    i || k ? ";" : "", p->name, fmt_u128(p->size[f], s1), fam_name(f),
			    (unsigned long long)p->used[f], (unsigned long long)p->held[f],
			    fmt_u128(p->reserved[f], s2));
		}
	}
	return ALLOC_E_EXHAUSTED;
}

static enum alloc_err alloc_auto(const struct alloc *a, const struct want *w, int *pool,
				 addr_t *ips, size_t *n_ips, char *msg, size_t mn)
{
	if (w->req_pool == -2) {
		snprintf(msg, mn, "requested pool %s does not exist", w->req_pool_name);
		return ALLOC_E_NO_SUCH_POOL;
	}
	if (w->req_pool >= 0) {
		if (!al_pool_allows(&a->pools[w->req_pool], w, msg, mn))
			return ALLOC_E_POOL_NOT_ALLOWED;
		if (best_pool(a, &w->req_pool, 1, w, pool, ips, n_ips))
			return ALLOC_OK;
		return explain_failure(a, &w->req_pool, 1, w, msg, mn);
	}
	int *pinned = malloc((a->n_pools + 1) * sizeof(int));
	int *generic = malloc((a->n_pools + 1) * sizeof(int));
	int *all = malloc((a->n_pools + 1) * sizeof(int));
	enum alloc_err err = ALLOC_E_NOMEM;
	if (!pinned || !generic || !all)
		goto out;
	size_t np = 0, ng = 0;
	for (size_t i = 0; i < a->n_pools; i++) {
		const struct apool *p = &a->pools[i];
		if (!p->cfg->auto_assign)
			continue;
		if (!p->cfg->has_service_allocation)
			generic[ng++] = (int)i;
		else if (al_pool_allows(p, w, NULL, 0))
			pinned[np++] = (int)i;
	}
	/* insertion sort: few pools, and a stable, total order */
	for (size_t i = 1; i < np; i++)
		for (size_t j = i; j > 0 && cmp_priority(&a->pools[pinned[j - 1]], &a->pools[pinned[j]]) > 0; j--) {
			int t = pinned[j];
			pinned[j] = pinned[j - 1];
			pinned[j - 1] = t;
		}
	if (best_pool(a, pinned, np, w, pool, ips, n_ips) ||
	    best_pool(a, generic, ng, w, pool, ips, n_ips)) {
		err = ALLOC_OK;
		goto out;
	}
	if (np + ng == 0) {
		snprintf(msg, mn, "no pool can be used automatically for a service in namespace %s",
			 al_nz(w->rq->ns));
		err = ALLOC_E_NO_POOL;
		goto out;
	}
	memcpy(all, pinned, np * sizeof(int));
	memcpy(all + np, generic, ng * sizeof(int));
	err = explain_failure(a, all, np + ng, w, msg, mn);
out:
	free(pinned);
	free(generic);
	free(all);
	return err;
}

/* ---------- public API ---------- */

struct alloc *alloc_new(void)
{
	return calloc(1, sizeof(struct alloc));
}

static void free_all_ips(struct alloc *a)
{
	for (size_t i = 0; i < a->ips.cap; i++) {
		struct aip *ip = a->ips.s[i].p;
		if (!ip)
			continue;
		if (ip->svcs != ip->inl)
			free(ip->svcs);
		free(ip->held_key);
		free(ip);
	}
	hmap_free(&a->ips);
}

void alloc_free(struct alloc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->svcs.cap; i++)
		free(a->svcs.s[i].p);
	hmap_free(&a->svcs);
	free_all_ips(a);
	for (size_t i = 0; i < a->groups.cap; i++) {
		struct agroup *g = a->groups.s[i].p;
		if (g) {
			free(g->key);
			free(g->v);
			free(g);
		}
	}
	hmap_free(&a->groups);
	for (size_t i = 0; i < a->helds.cap; i++) {
		struct aheld *h = a->helds.s[i].p;
		if (h) {
			free(h->key);
			free(h);
		}
	}
	hmap_free(&a->helds);
	for (size_t i = 0; i < a->n_pools; i++)
		al_pool_clear(&a->pools[i]);
	free(a->pools);
	free(a->span[0]);
	free(a->span[1]);
	free(a->heap);
	for (size_t i = 0; i < a->n_opts; i++) {
		free(a->opts[i].name);
		free(a->opts[i].resv);
	}
	free(a->opts);
	free(a);
}

uint64_t alloc_tick(struct alloc *a, uint64_t now_ms)
{
	while (a->n_heap && a->heap[0].until <= now_ms) {
		struct hexp e = a->heap[0];
		al_heap_pop(a);
		struct aip *ip = al_ip_get(a, &e.addr);
		if (ip && ip->held_key && ip->held_until == e.until && ip->n_svcs == 0) {
			al_unhold(a, ip);
			al_ip_drop(a, ip, true);
		}
	}
	/* Entries whose hold ended early (the IP was taken back) are left in the heap; drop them
	 * from the top so the answer is a real expiry. */
	while (a->n_heap) {
		const struct aip *ip = al_ip_get(a, &a->heap[0].addr);
		if (ip && ip->held_key && ip->held_until == a->heap[0].until)
			return a->heap[0].until;
		al_heap_pop(a);
	}
	return UINT64_MAX;
}


static void fill_result(const struct alloc *a, const struct asvc *s, const struct want *w,
			struct alloc_result *res)
{
	res->n_ips = 0;
	res->pool = NULL;
	if (s) {
		res->pool = a->pools[s->pool].name;
		for (size_t k = 0; k < 2; k++) /* primary family first */
			for (size_t i = 0; i < s->n_ips; i++)
				if (s->ip[i]->fam == (k == 0 ? w->fam[0] : !w->fam[0]))
					res->ips[res->n_ips++] = s->ip[i]->addr;
	}
	const struct alloc_request *rq = w->rq;
	bool same = res->n_ips == rq->n_ingress;
	for (size_t i = 0; same && i < res->n_ips; i++)
		same = addr_eq(&res->ips[i], &rq->ingress[i]);
	res->changed = !same;
}

/* PreferDualStack with one IP: add the other family from the same pool when possible. */
static enum alloc_err add_family(struct alloc *a, struct asvc *s, const struct want *w)
{
	if (!w->prefer || s->n_ips != 1 || w->n_req)
		return ALLOC_OK;
	int f = !s->ip[0]->fam;
	addr_t ip;
	if (!pool_candidate(a, s->pool, f, w, &ip))
		return ALLOC_OK;
	struct aip *e = al_ip_get(a, &ip);
	if (!e) {
		const struct span *sp = al_span_of(a->span[f], a->n_span[f], addr_to_u128(&ip));
		if (!sp || !(e = al_ip_new(a, &ip, s->pool, sp->cidx)))
			return ALLOC_E_NOMEM;
	}
	if (al_attach(e, s) != 0) {
		if (e->n_svcs == 0)
			al_ip_drop(a, e, true);
		return ALLOC_E_NOMEM;
	}
	if (e->n_svcs == 1)
		a->pools[s->pool].used[f]++;
	s->ip[s->n_ips++] = e;
	return al_regroup(a, e) ? ALLOC_E_NOMEM : ALLOC_OK;
}

int alloc_service(struct alloc *a, const struct alloc_request *rq, uint64_t now_ms,
		  struct alloc_result *res)
{
	struct want w;
	struct asvc *s;
	char why[ALLOC_MSG_MAX - 64];
	int pool;
	enum alloc_err err;

	alloc_tick(a, now_ms);
	memset(res, 0, sizeof(*res));
	err = read_request(a, rq, &w, res->msg, sizeof(res->msg));
	s = al_svc_get(a, rq->key);
	if (err) {
		fill_result(a, s, &w, res);
		res->err = err;
		return err;
	}
	/* 1. the allocator's own entry */
	if (s) {
		addr_t cur[2] = { s->ip[0]->addr, s->n_ips > 1 ? s->ip[1]->addr : s->ip[0]->addr };
		err = check_assign(a, &w, cur, s->n_ips, &pool, why, sizeof(why));
		if (err == ALLOC_OK) {
			if (al_svc_differs(s, &w))
				err = al_svc_update(a, s, &w, &s);
			if (err == ALLOC_OK)
				err = add_family(a, s, &w);
			goto done;
		}
		al_svc_release(a, s, 0);
		s = NULL;
		if (rq->keep_only) {
			snprintf(res->msg, sizeof(res->msg), "current IPs not kept: %s", why);
			res->err = ALLOC_E_KEEP_ONLY;
			fill_result(a, NULL, &w, res);
			return res->err;
		}
	} else {
		/* 2. the ingress written before a restart, 3. IPs held for this key */
		struct aheld *h = al_held_get(a, rq->key);
		addr_t hv[2];
		size_t nh = h ? h->n : 0;
		for (size_t i = 0; i < nh; i++)
			hv[i] = h->ip[i]->addr;
		const addr_t *cand[2] = { rq->ingress, hv };
		size_t ncand[2] = { rq->n_ingress, nh };
		for (int c = 0; c < 2; c++) {
			if (ncand[c] == 0 ||
			    check_assign(a, &w, cand[c], ncand[c], &pool, why, sizeof(why)) != ALLOC_OK)
				continue;
			err = al_svc_take(a, &w, cand[c], ncand[c], pool, &s);
			if (err == ALLOC_OK)
				err = add_family(a, s, &w);
			goto done;
		}
		if (rq->keep_only) {
			if (rq->n_ingress)
				snprintf(res->msg, sizeof(res->msg), "ingress IPs not kept: %s", why);
			else
				snprintf(res->msg, sizeof(res->msg), "no ingress IP to keep");
			res->err = ALLOC_E_KEEP_ONLY;
			fill_result(a, NULL, &w, res);
			return res->err;
		}
	}
	/* 4. fresh */
	if (w.n_req) {
		err = check_assign(a, &w, w.req, w.n_req, &pool, res->msg, sizeof(res->msg));
		if (err == ALLOC_OK)
			err = al_svc_take(a, &w, w.req, w.n_req, pool, &s);
	} else {
		addr_t ips[2];
		size_t n = 0;
		err = alloc_auto(a, &w, &pool, ips, &n, res->msg, sizeof(res->msg));
		if (err == ALLOC_OK)
			err = al_svc_take(a, &w, ips, n, pool, &s);
	}
done:
	if (err == ALLOC_OK) {
		al_drop_holds(a, rq->key);
		res->msg[0] = '\0';
	} else if (err == ALLOC_E_NOMEM) {
		snprintf(res->msg, sizeof(res->msg), "out of memory");
	}
	res->err = err;
	fill_result(a, al_svc_get(a, rq->key), &w, res);
	return err;
}

int alloc_release(struct alloc *a, const char *key, uint64_t now_ms)
{
	alloc_tick(a, now_ms);
	struct asvc *s = al_svc_get(a, key);
	if (!s)
		return 0;
	uint64_t hold_ms = a->pools[s->pool].hold_ms;
	uint64_t until = hold_ms ? (now_ms > UINT64_MAX - hold_ms ? UINT64_MAX : now_ms + hold_ms) : 0;
	al_svc_release(a, s, until);
	return 1;
}

size_t alloc_get(const struct alloc *a, const char *key, addr_t ips[2], const char **pool)
{
	const struct asvc *s = al_svc_get(a, key);
	if (pool)
		*pool = s ? a->pools[s->pool].name : NULL;
	if (!s)
		return 0;
	for (size_t i = 0; i < s->n_ips; i++)
		ips[i] = s->ip[i]->addr;
	return s->n_ips;
}

size_t alloc_service_count(const struct alloc *a)
{
	return a->svcs.n;
}

size_t alloc_pool_count(const struct alloc *a)
{
	return a->n_pools;
}

int alloc_pool_stats(const struct alloc *a, size_t i, struct alloc_pool_stats *st)
{
	if (i >= a->n_pools)
		return -1;
	const struct apool *p = &a->pools[i];
	st->name = p->name;
	st->size_v4 = p->size[0];
	st->size_v6 = p->size[1];
	st->reserved_v4 = p->reserved[0];
	st->reserved_v6 = p->reserved[1];
	st->used_v4 = p->used[0];
	st->used_v6 = p->used[1];
	st->held_v4 = p->held[0];
	st->held_v6 = p->held[1];
	return 0;
}
