/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the allocator: a table per rule (each with its failing twin), properties with a
 * fixed seed, restart rebuild, a /64 pool with 100,000 allocations, reserved ranges, hold-down,
 * and the interval index against a brute-force model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../controller/alloc.h"
#include "../../controller/alloc_internal.h"

#define MAXP 12

/* ---------- pools built by hand ---------- */

struct tpool {
	const char *name, *addrs;  /* addrs: comma-separated CIDRs / ranges, configuration order */
	bool no_auto, buggy, sa;   /* sa: serviceAllocation present (only priority or nothing) */
	int prio;
	const char *ns;            /* serviceAllocation.namespaces, comma separated */
	const char *ns_sel;        /* one namespaceSelector "k=v" */
	const char *svc_sel;       /* one serviceSelector "k=v" */
};

struct fx {
	struct alloc *a;
	struct cfg_pool pools[2][MAXP]; /* two generations: the allocator borrows the current one */
	size_t n[2];
	int gen;
	uint64_t now;
};

static void make_selector(struct cfg_selector **out, size_t *n, const char *kv)
{
	*out = NULL;
	*n = 0;
	if (!kv)
		return;
	struct cfg_selector *s = calloc(1, sizeof(*s));
	struct cfg_label *l = calloc(1, sizeof(*l));
	const char *eq = strchr(kv, '=');
	assert_non_null(s);
	assert_non_null(l);
	assert_non_null(eq);
	l->key = strndup(kv, (size_t)(eq - kv));
	l->value = strdup(eq + 1);
	s->labels = l;
	s->n_labels = 1;
	*out = s;
	*n = 1;
}

static void free_selectors(struct cfg_selector *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < s[i].n_labels; j++) {
			free(s[i].labels[j].key);
			free(s[i].labels[j].value);
		}
		free(s[i].labels);
	}
	free(s);
}

static void build_pool(const struct tpool *t, struct cfg_pool *p)
{
	memset(p, 0, sizeof(*p));
	p->name = strdup(t->name);
	p->cidrs = calloc(1024, sizeof(prefix_t));
	char *list = strdup(t->addrs), *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		range_t r;
		if (range_parse(tok, &r) != 0)
			fail_msg("test setup: bad range %s", tok);
		p->n_cidrs += range_to_prefixes(&r, p->cidrs + p->n_cidrs, 1024 - p->n_cidrs);
	}
	free(list);
	p->auto_assign = !t->no_auto;
	p->avoid_buggy_ips = t->buggy;
	p->priority = t->prio;
	p->has_service_allocation = t->sa || t->prio || t->ns || t->ns_sel || t->svc_sel;
	if (t->ns) {
		char *l2 = strdup(t->ns), *s2 = NULL;
		p->namespaces = calloc(16, sizeof(char *));
		for (char *tok = strtok_r(l2, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
			p->namespaces[p->n_namespaces++] = strdup(tok);
		free(l2);
	}
	make_selector(&p->namespace_selectors, &p->n_namespace_selectors, t->ns_sel);
	make_selector(&p->service_selectors, &p->n_service_selectors, t->svc_sel);
}

static void free_pool(struct cfg_pool *p)
{
	free(p->name);
	free(p->cidrs);
	for (size_t i = 0; i < p->n_namespaces; i++)
		free(p->namespaces[i]);
	free(p->namespaces);
	free_selectors(p->namespace_selectors, p->n_namespace_selectors);
	free_selectors(p->service_selectors, p->n_service_selectors);
}

/* Replace the pool set; returns alloc_set_pools' value, the changes in ch (may be NULL). */
static int set_pools(struct fx *f, const struct tpool *t, size_t n, struct alloc_changes *ch)
{
	int g = !f->gen;
	assert_true(n <= MAXP);
	for (size_t i = 0; i < n; i++)
		build_pool(&t[i], &f->pools[g][i]);
	f->n[g] = n;
	char msg[256];
	int rc = alloc_set_pools(f->a, f->pools[g], n, ch, msg, sizeof(msg));
	int drop = rc == 0 ? f->gen : g; /* on failure the old set stays borrowed */
	for (size_t i = 0; i < f->n[drop]; i++)
		free_pool(&f->pools[drop][i]);
	f->n[drop] = 0;
	if (rc == 0)
		f->gen = g;
	return rc;
}

static struct fx *fx_new(const struct tpool *t, size_t n)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->a = alloc_new();
	assert_non_null(f->a);
	assert_int_equal(set_pools(f, t, n, NULL), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	alloc_free(f->a);
	for (int g = 0; g < 2; g++)
		for (size_t i = 0; i < f->n[g]; i++)
			free_pool(&f->pools[g][i]);
	free(f);
}

/* ---------- requests ---------- */

struct treq {
	char key[96], ns[64];
	struct cfg_label svc_labels[2], ns_labels[2];
	struct alloc_port ports[8];
	addr_t ingress[2];
	struct alloc_request rq;
	struct alloc_result res;
};

/* An IPv4 single-stack service "ns/name" with port TCP/80. */
static struct treq *req(struct treq *t, const char *key)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->key, sizeof(t->key), "%s", key);
	const char *slash = strchr(key, '/');
	snprintf(t->ns, sizeof(t->ns), "%.*s", (int)(slash ? slash - key : 0), key);
	t->rq.key = t->key;
	t->rq.ns = t->ns;
	t->rq.families[0] = AF_INET;
	t->rq.n_families = 1;
	t->ports[0] = (struct alloc_port){ ALLOC_TCP, 80 };
	t->rq.ports = t->ports;
	t->rq.n_ports = 1;
	t->rq.svc_labels = t->svc_labels;
	t->rq.ns_labels = t->ns_labels;
	return t;
}

static void ports(struct treq *t, size_t n, const struct alloc_port *p)
{
	memcpy(t->ports, p, n * sizeof(*p));
	t->rq.n_ports = n;
}

static void dual(struct treq *t, enum alloc_policy pol, int primary)
{
	t->rq.policy = pol;
	t->rq.families[0] = primary;
	t->rq.families[1] = primary == AF_INET ? AF_INET6 : AF_INET;
	t->rq.n_families = 2;
}

static void v6(struct treq *t)
{
	t->rq.families[0] = AF_INET6;
}

static void svc_label(struct treq *t, const char *k, const char *v)
{
	t->svc_labels[t->rq.n_svc_labels++] = (struct cfg_label){ (char *)k, (char *)v };
}

static void ns_label(struct treq *t, const char *k, const char *v)
{
	t->ns_labels[t->rq.n_ns_labels++] = (struct cfg_label){ (char *)k, (char *)v };
}

/* The controller writes the result into the status. */
static void writeback(struct treq *t)
{
	memcpy(t->ingress, t->res.ips, sizeof(t->ingress));
	t->rq.ingress = t->ingress;
	t->rq.n_ingress = t->res.n_ips;
}

static const char *ipstr(const addr_t *a, char *buf)
{
	addr_format(a, buf, ADDR_STRLEN);
	return buf;
}

/* Run the request and check the reason and the IPs (NULL: none). */
static void expect(struct fx *f, struct treq *t, enum alloc_err err, const char *ip0, const char *ip1)
{
	int rc = alloc_service(f->a, &t->rq, f->now, &t->res);
	char b0[ADDR_STRLEN] = "-", b1[ADDR_STRLEN] = "-";
	if (t->res.n_ips > 0)
		ipstr(&t->res.ips[0], b0);
	if (t->res.n_ips > 1)
		ipstr(&t->res.ips[1], b1);
	size_t want_n = ip0 ? (ip1 ? 2 : 1) : 0;
	if ((int)rc != (int)err || t->res.err != err || t->res.n_ips != want_n ||
	    (ip0 && strcmp(b0, ip0) != 0) || (ip1 && strcmp(b1, ip1) != 0))
		fail_msg("%s: got %s (%s) %s %s, want %s %s %s", t->key, alloc_err_name(t->res.err),
			 t->res.msg, b0, b1, alloc_err_name(err), ip0 ? ip0 : "-", ip1 ? ip1 : "-");
	if (err == ALLOC_OK)
		assert_string_equal(t->res.msg, "");
	else
		assert_true(t->res.msg[0] != '\0');
}

static void expect_msg(const struct treq *t, const char *part)
{
	if (!strstr(t->res.msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", t->res.msg, part);
}

/* One shot: new request "key", auto, expect. */
static void one(struct fx *f, const char *key, enum alloc_err err, const char *ip)
{
	struct treq t;
	expect(f, req(&t, key), err, ip, NULL);
}

/* ---------- pools, order, avoidBuggyIPs ---------- */

static void test_lowest_first_config_order(void **state)
{
	/* CIDRs in configuration order, not numeric order; network address handed out */
	const struct tpool p[] = { { .name = "p", .addrs = "10.0.1.0/31,10.0.0.0/30" } };
	struct fx *f = fx_new(p, 1);
	one(f, "a/1", ALLOC_OK, "10.0.1.0");
	one(f, "a/2", ALLOC_OK, "10.0.1.1");
	one(f, "a/3", ALLOC_OK, "10.0.0.0");
	assert_int_equal(alloc_release(f->a, "a/1", 0), 1);
	assert_int_equal(alloc_release(f->a, "a/1", 0), 0);
	one(f, "a/4", ALLOC_OK, "10.0.1.0"); /* the freed lowest comes back first */
	one(f, "a/5", ALLOC_OK, "10.0.0.1");
	one(f, "a/6", ALLOC_OK, "10.0.0.2");
	one(f, "a/7", ALLOC_OK, "10.0.0.3");
	struct treq t;
	expect(f, req(&t, "a/8"), ALLOC_E_EXHAUSTED, NULL, NULL);
	expect_msg(&t, "pool p exhausted (6 IPv4 addresses, 6 in use");
	fx_free(f);
}

static void test_avoid_buggy(void **state)
{
	const struct tpool p[] = { { .name = "p", .addrs = "10.0.0.254-10.0.1.1", .buggy = true } };
	struct fx *f = fx_new(p, 1);
	one(f, "a/1", ALLOC_OK, "10.0.0.254");
	one(f, "a/2", ALLOC_OK, "10.0.1.1"); /* .255 and .0 skipped */
	one(f, "a/3", ALLOC_E_EXHAUSTED, NULL);
	struct alloc_pool_stats st;
	assert_int_equal(alloc_pool_stats(f->a, 0, &st), 0);
	assert_true(st.size_v4 == 2);
	struct treq t;
	req(&t, "a/4")->rq.lb_ip = "10.0.0.255";
	expect(f, &t, ALLOC_E_BUGGY_IP, NULL, NULL);
	fx_free(f);

	/* twin: without the flag, .255 and .0 are ordinary */
	const struct tpool q[] = { { .name = "p", .addrs = "10.0.0.254-10.0.1.1" } };
	f = fx_new(q, 1);
	one(f, "a/1", ALLOC_OK, "10.0.0.254");
	one(f, "a/2", ALLOC_OK, "10.0.0.255");
	req(&t, "a/4")->rq.lb_ip = "10.0.1.0";
	expect(f, &t, ALLOC_OK, "10.0.1.0", NULL);
	fx_free(f);
}

static void test_buggy_large_pool(void **state)
{
	/* a /22 with avoidBuggyIPs: every x.y.z.0 and .255 skipped, sizes exact */
	const struct tpool p[] = { { .name = "p", .addrs = "10.1.0.0/22", .buggy = true } };
	struct fx *f = fx_new(p, 1);
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_true(st.size_v4 == 1024 - 8);
	char key[32], b[ADDR_STRLEN];
	for (int i = 0; i < 1016; i++) {
		struct treq t;
		snprintf(key, sizeof(key), "a/%d", i);
		req(&t, key);
		assert_int_equal(alloc_service(f->a, &t.rq, 0, &t.res), ALLOC_OK);
		unsigned last = t.res.ips[0].b[3];
		if (last == 0 || last == 255)
			fail_msg("buggy IP %s handed out", ipstr(&t.res.ips[0], b));
	}
	one(f, "a/x", ALLOC_E_EXHAUSTED, NULL);
	alloc_release(f->a, "a/300", 0); /* 10.1.1.47 */
	one(f, "a/y", ALLOC_OK, "10.1.1.47");
	fx_free(f);
}

static void test_auto_assign(void **state)
{
	const struct tpool p[] = { { .name = "manual", .addrs = "10.0.0.0/30", .no_auto = true },
				   { .name = "z", .addrs = "10.0.9.0/30" } };
	struct fx *f = fx_new(p, 2);
	one(f, "a/1", ALLOC_OK, "10.0.9.0"); /* autoAssign=false never used automatically */
	struct treq t;
	req(&t, "a/2")->rq.lb_ip = "10.0.0.2"; /* twin: usable by request */
	expect(f, &t, ALLOC_OK, "10.0.0.2", NULL);
	req(&t, "a/3")->rq.pool = "manual"; /* and by the pool annotation */
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	fx_free(f);

	const struct tpool q[] = { { .name = "manual", .addrs = "10.0.0.0/30", .no_auto = true } };
	f = fx_new(q, 1);
	one(f, "a/1", ALLOC_E_NO_POOL, NULL);
	fx_free(f);
}

static void test_generic_name_order(void **state)
{
	const struct tpool p[] = { { .name = "b", .addrs = "10.0.0.0/31" },
				   { .name = "a", .addrs = "10.0.1.0/31" } };
	struct fx *f = fx_new(p, 2);
	one(f, "n/1", ALLOC_OK, "10.0.1.0");
	one(f, "n/2", ALLOC_OK, "10.0.1.1");
	one(f, "n/3", ALLOC_OK, "10.0.0.0"); /* a is full: then b */
	struct treq t;
	expect(f, req(&t, "n/9"), ALLOC_OK, "10.0.0.1", NULL);
	assert_string_equal(t.res.pool, "b");
	fx_free(f);
}

static void test_priority(void **state)
{
	const struct tpool p[] = { { .name = "gen", .addrs = "10.9.0.0/31" },
				   { .name = "p0", .addrs = "10.0.0.0/32", .sa = true },
				   { .name = "p2", .addrs = "10.2.0.0/32", .prio = 2 },
				   { .name = "p1b", .addrs = "10.1.1.0/32", .prio = 1 },
				   { .name = "p1a", .addrs = "10.1.0.0/32", .prio = 1 } };
	struct fx *f = fx_new(p, 5);
	one(f, "n/1", ALLOC_OK, "10.1.0.0"); /* priority 1, name order among equals */
	one(f, "n/2", ALLOC_OK, "10.1.1.0");
	one(f, "n/3", ALLOC_OK, "10.2.0.0"); /* then 2 */
	one(f, "n/4", ALLOC_OK, "10.0.0.0"); /* 0 = unset comes last */
	one(f, "n/5", ALLOC_OK, "10.9.0.0"); /* then the generic pools */
	fx_free(f);
}

static void test_namespaces(void **state)
{
	const struct tpool p[] = { { .name = "gen", .addrs = "10.9.0.0/30" },
				   { .name = "team", .addrs = "10.1.0.0/30", .ns = "x,y" } };
	struct fx *f = fx_new(p, 2);
	one(f, "y/1", ALLOC_OK, "10.1.0.0");   /* pinned before generic */
	one(f, "z/1", ALLOC_OK, "10.9.0.0");   /* twin: other namespace never gets the exclusive pool */
	struct treq t;
	req(&t, "z/2")->rq.pool = "team";
	expect(f, &t, ALLOC_E_POOL_NOT_ALLOWED, NULL, NULL);
	expect_msg(&t, "namespace z");
	req(&t, "z/3")->rq.lb_ip = "10.1.0.3";
	expect(f, &t, ALLOC_E_POOL_NOT_ALLOWED, NULL, NULL);
	req(&t, "x/3")->rq.lb_ip = "10.1.0.3";
	expect(f, &t, ALLOC_OK, "10.1.0.3", NULL);
	fx_free(f);
}

static void test_namespace_selector(void **state)
{
	const struct tpool p[] = { { .name = "gen", .addrs = "10.9.0.0/30" },
				   { .name = "prod", .addrs = "10.1.0.0/30", .ns_sel = "env=prod" } };
	struct fx *f = fx_new(p, 2);
	struct treq t;
	req(&t, "a/1");
	ns_label(&t, "env", "prod");
	expect(f, &t, ALLOC_OK, "10.1.0.0", NULL);
	req(&t, "b/1");
	ns_label(&t, "env", "dev");
	expect(f, &t, ALLOC_OK, "10.9.0.0", NULL);
	fx_free(f);
}

static void test_service_selector(void **state)
{
	const struct tpool p[] = { { .name = "gen", .addrs = "10.9.0.0/30" },
				   { .name = "web", .addrs = "10.1.0.0/30", .svc_sel = "app=web" } };
	struct fx *f = fx_new(p, 2);
	struct treq t;
	req(&t, "a/1");
	svc_label(&t, "app", "web");
	expect(f, &t, ALLOC_OK, "10.1.0.0", NULL);
	req(&t, "a/2");
	svc_label(&t, "app", "db");
	expect(f, &t, ALLOC_OK, "10.9.0.0", NULL);
	req(&t, "a/3")->rq.pool = "web";
	svc_label(&t, "app", "db");
	expect(f, &t, ALLOC_E_POOL_NOT_ALLOWED, NULL, NULL);
	expect_msg(&t, "serviceSelector");
	fx_free(f);
}

static void test_requested_pool(void **state)
{
	const struct tpool p[] = { { .name = "a", .addrs = "10.0.0.0/30" },
				   { .name = "b", .addrs = "10.0.1.0/30" } };
	struct fx *f = fx_new(p, 2);
	struct treq t;
	req(&t, "n/1")->rq.pool = "b";
	expect(f, &t, ALLOC_OK, "10.0.1.0", NULL);
	assert_string_equal(t.res.pool, "b");
	req(&t, "n/2")->rq.pool = "nope";
	expect(f, &t, ALLOC_E_NO_SUCH_POOL, NULL, NULL);
	expect_msg(&t, "nope");
	/* requested IP outside the requested pool */
	req(&t, "n/3")->rq.pool = "b";
	t.rq.lb_ip = "10.0.0.3";
	expect(f, &t, ALLOC_E_POOL_MISMATCH, NULL, NULL);
	t.rq.lb_ip = "10.0.1.3"; /* twin */
	expect(f, &t, ALLOC_OK, "10.0.1.3", NULL);
	/* the annotation changes: the service moves */
	req(&t, "n/4");
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	writeback(&t);
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL); /* idempotent */
	assert_false(t.res.changed);
	t.rq.pool = "b";
	expect(f, &t, ALLOC_OK, "10.0.1.1", NULL);
	assert_true(t.res.changed);
	fx_free(f);
}

/* ---------- requested IPs ---------- */

static void test_requested_ips(void **state)
{
	const struct tpool p[] = { { .name = "a", .addrs = "10.0.0.0/30,fd00::/126" },
				   { .name = "b", .addrs = "10.0.1.0/30,fd00:1::/126" } };
	struct fx *f = fx_new(p, 2);
	struct treq t;
	req(&t, "n/1")->rq.lb_ip = " 10.0.0.2 ";
	expect(f, &t, ALLOC_OK, "10.0.0.2", NULL);
	req(&t, "n/2")->rq.lb_ip = "10.0.2.1";
	expect(f, &t, ALLOC_E_IP_NOT_IN_POOL, NULL, NULL);
	expect_msg(&t, "10.0.2.1 is in no pool");
	req(&t, "n/3")->rq.lb_ip = "10.0.0.1";
	t.rq.lb_ips = "10.0.0.1";
	expect(f, &t, ALLOC_E_BOTH_GIVEN, NULL, NULL);
	req(&t, "n/4")->rq.lb_ip = "10.0.0.300";
	expect(f, &t, ALLOC_E_BAD_IP, NULL, NULL);
	req(&t, "n/4")->rq.lb_ip = "10.0.0.1,10.0.0.2"; /* loadBalancerIP is one IP */
	expect(f, &t, ALLOC_E_BAD_IP, NULL, NULL);

	dual(req(&t, "n/5"), ALLOC_REQUIRE_DUAL, AF_INET);
	t.rq.lb_ips = "fd00::1, 10.0.0.1";
	expect(f, &t, ALLOC_OK, "10.0.0.1", "fd00::1"); /* primary family first */
	dual(req(&t, "n/6"), ALLOC_REQUIRE_DUAL, AF_INET);
	t.rq.lb_ips = "10.0.0.3,fd00:1::1";
	expect(f, &t, ALLOC_E_DIFFERENT_POOLS, NULL, NULL);
	t.rq.lb_ips = "10.0.0.3,fd00::3,fd00::2";
	expect(f, &t, ALLOC_E_TOO_MANY_IPS, NULL, NULL);
	t.rq.lb_ips = "10.0.0.3,10.0.0.0";
	expect(f, &t, ALLOC_E_SAME_FAMILY, NULL, NULL);
	t.rq.lb_ips = "10.0.0.3";
	expect(f, &t, ALLOC_E_FAMILY_MISMATCH, NULL, NULL); /* dual service, one IP */
	req(&t, "n/7")->rq.lb_ips = "fd00::2";             /* IPv4 service, IPv6 IP */
	expect(f, &t, ALLOC_E_FAMILY_MISMATCH, NULL, NULL);
	v6(&t);                                             /* twin */
	expect(f, &t, ALLOC_OK, "fd00::2", NULL);
	fx_free(f);
}

static void test_request_error_keeps_allocation(void **state)
{
	const struct tpool p[] = { { .name = "a", .addrs = "10.0.0.0/30" } };
	struct fx *f = fx_new(p, 1);
	struct treq t;
	req(&t, "n/1")->rq.lb_ip = "10.0.0.2";
	expect(f, &t, ALLOC_OK, "10.0.0.2", NULL);
	writeback(&t);
	t.rq.lb_ips = "10.0.0.3"; /* now both fields: an unreadable request */
	expect(f, &t, ALLOC_E_BOTH_GIVEN, "10.0.0.2", NULL);
	assert_false(t.res.changed);
	t.rq.lb_ip = NULL; /* the request changes: the service moves */
	expect(f, &t, ALLOC_OK, "10.0.0.3", NULL);
	one(f, "n/2", ALLOC_OK, "10.0.0.0");
	one(f, "n/3", ALLOC_OK, "10.0.0.1");
	one(f, "n/4", ALLOC_OK, "10.0.0.2"); /* the old IP was freed */
	fx_free(f);
}

/* ---------- dual stack ---------- */

static void test_dual_stack(void **state)
{
	const struct tpool four[] = { { .name = "a4", .addrs = "10.0.0.0/30" },
				      { .name = "b6", .addrs = "fd00::/126" } };
	struct fx *f = fx_new(four, 2);
	struct treq t;
	dual(req(&t, "n/1"), ALLOC_REQUIRE_DUAL, AF_INET);
	expect(f, &t, ALLOC_E_FAMILY, NULL, NULL); /* no pool with both families */
	expect_msg(&t, "both IPv4 and IPv6");
	dual(req(&t, "n/2"), ALLOC_PREFER_DUAL, AF_INET6);
	expect(f, &t, ALLOC_OK, "fd00::", NULL); /* primary family's pool */
	dual(req(&t, "n/3"), ALLOC_PREFER_DUAL, AF_INET);
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	v6(req(&t, "n/4"));
	expect(f, &t, ALLOC_OK, "fd00::1", NULL);
	req(&t, "n/5")->rq.policy = ALLOC_REQUIRE_DUAL; /* one cluster IP family only */
	expect(f, &t, ALLOC_E_FAMILY_MISMATCH, NULL, NULL);
	fx_free(f);

	const struct tpool only4[] = { { .name = "a4", .addrs = "10.0.0.0/30" } };
	f = fx_new(only4, 1);
	v6(req(&t, "n/6"));
	expect(f, &t, ALLOC_E_FAMILY, NULL, NULL);
	expect_msg(&t, "no pool with IPv6");
	dual(req(&t, "n/7"), ALLOC_PREFER_DUAL, AF_INET6); /* secondary family as a last resort */
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	fx_free(f);

	const struct tpool both[] = { { .name = "a4", .addrs = "10.0.0.0/30" },
				      { .name = "d", .addrs = "fd00:9::/127,10.0.9.0/31" } };
	f = fx_new(both, 2);
	dual(req(&t, "n/8"), ALLOC_REQUIRE_DUAL, AF_INET6);
	expect(f, &t, ALLOC_OK, "fd00:9::", "10.0.9.0");
	dual(req(&t, "n/9"), ALLOC_PREFER_DUAL, AF_INET);
	expect(f, &t, ALLOC_OK, "10.0.9.1", "fd00:9::1"); /* dual pool preferred over a4 (name order) */
	dual(req(&t, "n/10"), ALLOC_PREFER_DUAL, AF_INET);
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL); /* d is full: a4 gives the primary family */
	dual(req(&t, "n/11"), ALLOC_REQUIRE_DUAL, AF_INET);
	expect(f, &t, ALLOC_E_EXHAUSTED, NULL, NULL);
	req(&t, "n/12")->rq.policy = ALLOC_SINGLE_STACK; /* SingleStack with two families: primary */
	t.rq.families[1] = AF_INET6;
	t.rq.n_families = 2;
	expect(f, &t, ALLOC_OK, "10.0.0.1", NULL);
	fx_free(f);
}

static void test_prefer_dual_adds_family(void **state)
{
	const struct tpool p1[] = { { .name = "p", .addrs = "10.0.0.0/30" } };
	struct fx *f = fx_new(p1, 1);
	struct treq t;
	dual(req(&t, "n/1"), ALLOC_PREFER_DUAL, AF_INET);
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	writeback(&t);
	const struct tpool p2[] = { { .name = "p", .addrs = "10.0.0.0/30,fd00::/126" } };
	struct alloc_changes ch;
	assert_int_equal(set_pools(f, p2, 1, &ch), 0);
	assert_int_equal(ch.n_invalid + ch.n_moved, 0);
	alloc_changes_free(&ch);
	expect(f, &t, ALLOC_OK, "10.0.0.0", "fd00::"); /* the pool gained IPv6: added */
	assert_true(t.res.changed);
	/* twin: RequireDualStack service whose pool loses IPv6 moves instead */
	fx_free(f);
}

/* ---------- sharing ---------- */

static const struct alloc_port P443[] = { { ALLOC_TCP, 443 } };
static const struct alloc_port DNS[] = { { ALLOC_UDP, 53 } };
static const struct alloc_port DNST[] = { { ALLOC_TCP, 53 } };

static void test_sharing(void **state)
{
	const struct tpool p[] = { { .name = "p", .addrs = "10.0.0.0/29" } };
	struct fx *f = fx_new(p, 1);
	struct treq a, b, t;
	req(&a, "n/a")->rq.sharing_key = "k";
	expect(f, &a, ALLOC_OK, "10.0.0.0", NULL);
	req(&b, "n/b")->rq.sharing_key = "k";
	ports(&b, 1, P443);
	expect(f, &b, ALLOC_OK, "10.0.0.0", NULL); /* packed onto the shared IP */
	req(&t, "n/c")->rq.sharing_key = "k";    /* port 80 taken: next IP */
	expect(f, &t, ALLOC_OK, "10.0.0.1", NULL);
	req(&t, "n/d")->rq.lb_ip = "10.0.0.0";   /* explicit, port taken */
	t.rq.sharing_key = "k";
	expect(f, &t, ALLOC_E_PORT_CONFLICT, NULL, NULL);
	expect_msg(&t, "port TCP/80 on 10.0.0.0 is used by n/a");
	ports(&t, 1, DNS); /* twin */
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	req(&t, "n/e")->rq.lb_ip = "10.0.0.0"; /* other key */
	t.rq.sharing_key = "other";
	ports(&t, 1, DNST);
	expect(f, &t, ALLOC_E_SHARING_KEY, NULL, NULL);
	expect_msg(&t, "used by n/a");
	t.rq.sharing_key = NULL; /* no key */
	expect(f, &t, ALLOC_E_SHARING_KEY, NULL, NULL);
	t.rq.sharing_key = "k"; /* TCP/53 next to UDP/53: protocol is part of the port */
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	/* backend keys: Local services must select the same pods */
	req(&t, "n/f")->rq.lb_ip = "10.0.0.0";
	t.rq.sharing_key = "k";
	t.rq.backend_key = "app=x";
	ports(&t, 1, (struct alloc_port[]){ { ALLOC_TCP, 8080 } });
	expect(f, &t, ALLOC_E_SHARING_KEY, NULL, NULL);
	expect_msg(&t, "other backends");
	fx_free(f);
}

static void test_sharing_backend_and_sole_owner(void **state)
{
	const struct tpool p[] = { { .name = "p", .addrs = "10.0.0.0/29" } };
	struct fx *f = fx_new(p, 1);
	struct treq a, b;
	req(&a, "n/a")->rq.sharing_key = "k";
	a.rq.backend_key = "app=x";
	expect(f, &a, ALLOC_OK, "10.0.0.0", NULL);
	writeback(&a);
	req(&b, "n/b")->rq.sharing_key = "k";
	b.rq.backend_key = "app=x";
	ports(&b, 1, P443);
	expect(f, &b, ALLOC_OK, "10.0.0.0", NULL); /* same selector: shares */
	writeback(&b);
	/* a changes its key while b is on the IP: a must move */
	a.rq.sharing_key = "k2";
	expect(f, &a, ALLOC_OK, "10.0.0.1", NULL);
	writeback(&a);
	/* b is now the sole owner: it may change its key and keep the IP */
	b.rq.sharing_key = "k3";
	expect(f, &b, ALLOC_OK, "10.0.0.0", NULL);
	assert_false(b.res.changed);
	/* and a newcomer with k3 packs onto it, one with the old key does not */
	struct treq c;
	req(&c, "n/c")->rq.sharing_key = "k3";
	c.rq.backend_key = "app=x";
	expect(f, &c, ALLOC_OK, "10.0.0.0", NULL);
	req(&c, "n/d")->rq.sharing_key = "k";
	c.rq.backend_key = "app=x";
	ports(&c, 1, P443);
	expect(f, &c, ALLOC_OK, "10.0.0.2", NULL);
	fx_free(f);
}

static void test_sharing_lowest_wins(void **state)
{
	/* MetalLB's scan: the first address that is free OR compatible */
	const struct tpool p[] = { { .name = "p", .addrs = "10.0.0.0/29" } };
	struct fx *f = fx_new(p, 1);
	struct treq t;
	one(f, "n/0", ALLOC_OK, "10.0.0.0");
	one(f, "n/1", ALLOC_OK, "10.0.0.1");
	req(&t, "n/s1")->rq.sharing_key = "k";
	expect(f, &t, ALLOC_OK, "10.0.0.2", NULL);
	req(&t, "n/s2")->rq.sharing_key = "k";
	ports(&t, 1, P443);
	expect(f, &t, ALLOC_OK, "10.0.0.2", NULL); /* lowest compatible in use */
	alloc_release(f->a, "n/0", 0);
	req(&t, "n/s3")->rq.sharing_key = "k";
	ports(&t, 1, DNS);
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL); /* a lower free address wins, as in MetalLB */
	fx_free(f);
}

/* ---------- pool changes ---------- */

static void test_pool_shrink_and_move(void **state)
{
	const struct tpool p1[] = { { .name = "a", .addrs = "10.0.0.0/30" },
				    { .name = "b", .addrs = "10.0.1.0/30" } };
	struct fx *f = fx_new(p1, 2);
	struct treq s[4];
	const char *keys[] = { "n/1", "n/2", "n/3", "n/4" };
	const char *want[] = { "10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3" };
	for (int i = 0; i < 4; i++) {
		expect(f, req(&s[i], keys[i]), ALLOC_OK, want[i], NULL);
		writeback(&s[i]);
	}
	/* a shrinks to .0-.1; .2-.3 move to pool c */
	const struct tpool p2[] = { { .name = "a", .addrs = "10.0.0.0/31" },
				    { .name = "b", .addrs = "10.0.1.0/30" },
				    { .name = "c", .addrs = "10.0.0.3/32" } };
	struct alloc_changes ch;
	assert_int_equal(set_pools(f, p2, 3, &ch), 0);
	assert_int_equal(ch.n_invalid, 1);
	assert_string_equal(ch.invalid[0], "n/3");
	assert_int_equal(ch.n_moved, 1);
	assert_string_equal(ch.moved[0], "n/4");
	alloc_changes_free(&ch);
	expect(f, &s[0], ALLOC_OK, "10.0.0.0", NULL);
	assert_false(s[0].res.changed);
	expect(f, &s[3], ALLOC_OK, "10.0.0.3", NULL);
	assert_string_equal(s[3].res.pool, "c");
	expect(f, &s[2], ALLOC_OK, "10.0.1.0", NULL); /* its ingress is in no pool: new IP */
	assert_true(s[2].res.changed);
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_string_equal(st.name, "a");
	assert_int_equal(st.used_v4, 2);
	/* overlapping pools are refused and change nothing */
	const struct tpool bad[] = { { .name = "a", .addrs = "10.0.0.0/24" },
				     { .name = "b", .addrs = "10.0.0.128/25" } };
	assert_int_equal(set_pools(f, bad, 2, NULL), -1);
	expect(f, &s[3], ALLOC_OK, "10.0.0.3", NULL);
	fx_free(f);
}

static void test_buggy_turned_on(void **state)
{
	const struct tpool p1[] = { { .name = "a", .addrs = "10.0.0.0/30" } };
	struct fx *f = fx_new(p1, 1);
	one(f, "n/1", ALLOC_OK, "10.0.0.0");
	one(f, "n/2", ALLOC_OK, "10.0.0.1");
	const struct tpool p2[] = { { .name = "a", .addrs = "10.0.0.0/30", .buggy = true } };
	struct alloc_changes ch;
	assert_int_equal(set_pools(f, p2, 1, &ch), 0);
	assert_int_equal(ch.n_invalid, 1);
	assert_string_equal(ch.invalid[0], "n/1");
	alloc_changes_free(&ch);
	one(f, "n/1", ALLOC_OK, "10.0.0.2");
	fx_free(f);
}

static void test_pool_removed_namespace_changed(void **state)
{
	const struct tpool p1[] = { { .name = "a", .addrs = "10.0.0.0/30" },
				    { .name = "b", .addrs = "10.0.1.0/30" } };
	struct fx *f = fx_new(p1, 2);
	struct treq t;
	req(&t, "n/1")->rq.lb_ip = "10.0.0.1";
	expect(f, &t, ALLOC_OK, "10.0.0.1", NULL);
	writeback(&t);
	/* pool a becomes exclusive to namespace m: the IP is still in a pool (not invalid), but the
	 * next convergence finds the pool not allowed */
	const struct tpool p2[] = { { .name = "a", .addrs = "10.0.0.0/30", .ns = "m" },
				    { .name = "b", .addrs = "10.0.1.0/30" } };
	struct alloc_changes ch;
	assert_int_equal(set_pools(f, p2, 2, &ch), 0);
	assert_int_equal(ch.n_invalid, 0);
	alloc_changes_free(&ch);
	expect(f, &t, ALLOC_E_POOL_NOT_ALLOWED, NULL, NULL);
	assert_int_equal(alloc_get(f->a, "n/1", t.ingress, NULL), 0);
	t.rq.lb_ip = NULL;
	expect(f, &t, ALLOC_OK, "10.0.1.0", NULL);
	/* every pool removed */
	assert_int_equal(set_pools(f, NULL, 0, &ch), 0);
	assert_int_equal(ch.n_invalid, 1);
	alloc_changes_free(&ch);
	expect(f, &t, ALLOC_E_NO_POOL, NULL, NULL);
	fx_free(f);
}

/* ---------- restart ---------- */

static void test_restart_rebuild(void **state)
{
	const struct tpool p[] = { { .name = "a", .addrs = "10.0.0.0/28" },
				   { .name = "d", .addrs = "10.0.1.0/28,fd00::/124" } };
	struct fx *f = fx_new(p, 2);
	enum { N = 24 };
	struct treq *t = calloc(N, sizeof(*t));
	char key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "n/s%02d", i);
		req(&t[i], key);
		if (i % 3 == 0)
			t[i].rq.sharing_key = "k";
		if (i % 3 == 0)
			t[i].ports[0].port = (uint16_t)(1000 + i);
		if (i % 4 == 1)
			dual(&t[i], ALLOC_REQUIRE_DUAL, AF_INET6);
		assert_int_equal(alloc_service(f->a, &t[i].rq, 0, &t[i].res), ALLOC_OK);
		writeback(&t[i]);
	}
	alloc_release(f->a, "n/s05", 0); /* a hole */
	/* restart: a new allocator; phase 1 re-takes every ingress (in any order), then the rest */
	struct fx *g = fx_new(p, 2);
	for (int i = N - 1; i >= 0; i--) {
		if (i == 5)
			continue;
		t[i].rq.keep_only = true;
		assert_int_equal(alloc_service(g->a, &t[i].rq, 0, &t[i].res), ALLOC_OK);
		assert_false(t[i].res.changed);
		t[i].rq.keep_only = false;
	}
	struct treq nt;
	req(&nt, "n/new")->rq.keep_only = true; /* nothing to keep: nothing allocated */
	expect(g, &nt, ALLOC_E_KEEP_ONLY, NULL, NULL);
	nt.rq.keep_only = false;
	expect(f, &nt, ALLOC_OK, "10.0.0.13", NULL); /* 12 single + 1 shared IP before it */
	expect(g, &nt, ALLOC_OK, "10.0.0.13", NULL);                       /* the same after restart */
	/* same table, and a second pass changes nothing */
	for (int i = 0; i < N; i++) {
		addr_t x[2], y[2];
		const char *px, *py;
		size_t nx = alloc_get(f->a, t[i].key, x, &px), ny = alloc_get(g->a, t[i].key, y, &py);
		assert_int_equal(nx, ny);
		for (size_t k = 0; k < nx; k++)
			assert_true(addr_eq(&x[k], &y[k]));
		if (nx)
			assert_string_equal(px, py);
		if (i != 5) {
			assert_int_equal(alloc_service(g->a, &t[i].rq, 0, &t[i].res), ALLOC_OK);
			assert_false(t[i].res.changed);
		}
	}
	/* twin: an ingress that conflicts (another service's IP, other key) is not kept */
	struct treq c;
	req(&c, "n/conflict");
	c.ingress[0] = t[2].ingress[0]; /* n/s02: IPv4, no sharing key */
	c.rq.ingress = c.ingress;
	c.rq.n_ingress = 1;
	c.rq.keep_only = true;
	expect(g, &c, ALLOC_E_KEEP_ONLY, NULL, NULL);
	expect_msg(&c, "sharing key");
	fx_free(g);
	free(t);
	fx_free(f);
}

/* ---------- reserved and hold-down ---------- */

static void test_reserved(void **state)
{
	const struct tpool p[] = { { .name = "a", .addrs = "10.0.0.0/29" } };
	struct fx *f = fx_new(p, 1);
	range_t r[2];
	range_parse("10.0.0.0-10.0.0.2", &r[0]);
	range_parse("10.0.0.5", &r[1]);
	struct alloc_pool_options o = { .reserved = r, .n_reserved = 2 };
	assert_int_equal(alloc_set_pool_options(f->a, "a", &o), 0);
	one(f, "n/1", ALLOC_OK, "10.0.0.3");
	one(f, "n/2", ALLOC_OK, "10.0.0.4");
	one(f, "n/3", ALLOC_OK, "10.0.0.6");
	struct treq t;
	req(&t, "n/4")->rq.lb_ip = "10.0.0.5"; /* allowed when requested */
	expect(f, &t, ALLOC_OK, "10.0.0.5", NULL);
	alloc_release(f->a, "n/4", 0); /* released: still reserved */
	one(f, "n/5", ALLOC_OK, "10.0.0.7");
	one(f, "n/6", ALLOC_E_EXHAUSTED, NULL);
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_true(st.reserved_v4 == 4 && st.size_v4 == 8 && st.used_v4 == 4);
	/* the options survive a pool change, and go away when removed */
	assert_int_equal(set_pools(f, p, 1, NULL), 0);
	one(f, "n/6", ALLOC_E_EXHAUSTED, NULL);
	assert_int_equal(alloc_set_pool_options(f->a, "a", NULL), 0);
	one(f, "n/6", ALLOC_OK, "10.0.0.0");
	fx_free(f);
}

static void test_hold_down(void **state)
{
	const struct tpool p[] = { { .name = "a", .addrs = "10.0.0.0/30" } };
	struct fx *f = fx_new(p, 1);
	struct alloc_pool_options o = { .hold_ms = 10000 };
	assert_int_equal(alloc_set_pool_options(f->a, "a", &o), 0);
	one(f, "n/1", ALLOC_OK, "10.0.0.0");
	one(f, "n/2", ALLOC_OK, "10.0.0.1");
	f->now = 1000;
	assert_int_equal(alloc_release(f->a, "n/1", f->now), 1);
	assert_true(alloc_tick(f->a, f->now) == 11000);
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_int_equal(st.held_v4, 1);
	f->now = 2000;
	one(f, "n/3", ALLOC_OK, "10.0.0.2"); /* another service: not the held IP */
	one(f, "n/1", ALLOC_OK, "10.0.0.0"); /* the same key gets it back */
	alloc_pool_stats(f->a, 0, &st);
	assert_int_equal(st.held_v4, 0);
	assert_true(alloc_tick(f->a, f->now) == UINT64_MAX);
	/* after the hold ends anyone may have it */
	alloc_release(f->a, "n/1", 3000);
	f->now = 12999;
	one(f, "n/4", ALLOC_OK, "10.0.0.3");
	one(f, "n/5", ALLOC_E_EXHAUSTED, NULL);
	f->now = 13000;
	one(f, "n/5", ALLOC_OK, "10.0.0.0");
	/* an explicit request takes a held IP */
	alloc_release(f->a, "n/5", 14000);
	struct treq t;
	req(&t, "n/6")->rq.lb_ip = "10.0.0.0";
	f->now = 15000;
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	one(f, "n/5", ALLOC_E_EXHAUSTED, NULL);
	fx_free(f);
}

/* ---------- stats ---------- */

static void test_stats(void **state)
{
	const struct tpool all[] = { { .name = "big", .addrs = "::/0" } };
	struct fx *f = fx_new(all, 1);
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_true(st.size_v6 == ~(addr_u128)0 && st.size_v4 == 0); /* saturates */
	one(f, "n/x", ALLOC_E_FAMILY, NULL);
	struct treq t;
	v6(req(&t, "n/x"));
	expect(f, &t, ALLOC_OK, "::", NULL);
	fx_free(f);

	const struct tpool p[] = { { .name = "a", .addrs = "10.1.0.0/16" },
				   { .name = "d", .addrs = "10.0.0.0/24,fd00::/64", .buggy = true } };
	f = fx_new(p, 2);
	assert_int_equal(alloc_pool_count(f->a), 2);
	alloc_pool_stats(f->a, 1, &st);
	assert_true(st.size_v4 == 254);
	assert_true(st.size_v6 == ((addr_u128)1 << 64));
	assert_int_equal(alloc_pool_stats(f->a, 2, &st), -1);
	req(&t, "n/a")->rq.pool = "d";
	t.rq.sharing_key = "k";
	dual(&t, ALLOC_REQUIRE_DUAL, AF_INET);
	expect(f, &t, ALLOC_OK, "10.0.0.1", "fd00::");
	req(&t, "n/b")->rq.pool = "d";
	t.rq.sharing_key = "k";
	ports(&t, 1, P443);
	expect(f, &t, ALLOC_OK, "10.0.0.1", NULL);
	alloc_pool_stats(f->a, 1, &st);
	assert_int_equal(st.used_v4, 1); /* shared IP counted once */
	assert_int_equal(st.used_v6, 1);
	assert_int_equal(alloc_service_count(f->a), 2);
	const char *pool;
	addr_t ips[2];
	assert_int_equal(alloc_get(f->a, "n/a", ips, &pool), 2);
	assert_string_equal(pool, "d");
	assert_string_equal(alloc_err_name(ALLOC_E_PORT_CONFLICT), "PortConflict");
	fx_free(f);
}


/* ---------- properties (fixed seeds) ---------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The interval index against a bitmap, with and without the buggy-address skipping. */
static void test_ivl_model(void **state)
{
	enum { U = 1200 };
	for (int sb = 0; sb < 2; sb++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)sb;
		struct ivl_set set;
		bool used[U] = { false };
		ivl_init(&set, sb);
		for (int it = 0; it < 20000; it++) {
			unsigned op = (unsigned)(rnd(&seed) % 3), x = (unsigned)(rnd(&seed) % U);
			if (op == 0) {
				unsigned len = (unsigned)(rnd(&seed) % 4), hi = x + len < U ? x + len : U - 1;
				assert_int_equal(ivl_add(&set, x, hi), 0);
				for (unsigned k = x; k <= hi; k++)
					used[k] = true;
			} else if (op == 1) {
				assert_int_equal(ivl_del(&set, x), 0);
				if (!(sb && ivl_is_buggy(x)))
					used[x] = false;
			} else {
				unsigned hi = x + (unsigned)(rnd(&seed) % 700);
				if (hi >= U)
					hi = U - 1;
				addr_u128 got;
				bool ok = ivl_first_free(&set, x, hi, &got);
				unsigned want = x;
				while (want <= hi && (used[want] || (sb && ivl_is_buggy(want))))
					want++;
				if (want > hi)
					assert_false(ok);
				else if (!ok || got != want)
					fail_msg("first free in [%u,%u]: got %d/%u want %u (skip_buggy %d)", x, hi,
						 ok, (unsigned)got, want, sb);
			}
			if (it % 1000 == 0)
				for (unsigned k = 0; k < U; k++)
					if (!(sb && ivl_is_buggy(k)))
						assert_int_equal(ivl_containing(&set, k) != NULL, used[k]);
		}
		ivl_clear(&set);
	}
}

/* Every IP's services are pairwise compatible sharers; the stats count distinct IPs. */
static void check_no_double(struct fx *f, struct treq *t, size_t n)
{
	struct ent {
		addr_t ip;
		size_t svc;
	} *e = calloc(n * 2 + 1, sizeof(*e));
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		addr_t ips[2];
		size_t k = alloc_get(f->a, t[i].key, ips, NULL);
		for (size_t j = 0; j < k; j++)
			e[ne++] = (struct ent){ ips[j], i };
	}
	uint64_t used = 0;
	for (size_t i = 0; i < ne; i++) {
		bool first = true;
		for (size_t j = 0; j < ne; j++) {
			if (j == i || !addr_eq(&e[i].ip, &e[j].ip))
				continue;
			if (j < i)
				first = false;
			const struct alloc_request *x = &t[e[i].svc].rq, *y = &t[e[j].svc].rq;
			char b[ADDR_STRLEN];
			if (!x->sharing_key || !y->sharing_key || strcmp(x->sharing_key, y->sharing_key) ||
			    strcmp(x->backend_key ? x->backend_key : "", y->backend_key ? y->backend_key : ""))
				fail_msg("%s given to %s and %s", ipstr(&e[i].ip, b), x->key, y->key);
			for (size_t p = 0; p < x->n_ports; p++)
				for (size_t q = 0; q < y->n_ports; q++)
					if (x->ports[p].proto == y->ports[q].proto && x->ports[p].port == y->ports[q].port)
						fail_msg("%s port %u in %s and %s", ipstr(&e[i].ip, b), x->ports[p].port,
							 x->key, y->key);
		}
		used += first;
	}
	uint64_t st_used = 0;
	for (size_t i = 0; i < alloc_pool_count(f->a); i++) {
		struct alloc_pool_stats st;
		alloc_pool_stats(f->a, i, &st);
		st_used += st.used_v4 + st.used_v6;
	}
	assert_int_equal(st_used, used);
	free(e);
}

static void test_property_no_double(void **state)
{
	const struct tpool p1[] = { { .name = "a", .addrs = "10.0.0.0/28,fd00::/125" },
				    { .name = "b", .addrs = "10.0.1.0/29", .buggy = true },
				    { .name = "m", .addrs = "10.0.2.0/29", .no_auto = true } };
	const struct tpool p2[] = { { .name = "a", .addrs = "10.0.0.0/29,fd00::/125" },
				    { .name = "b", .addrs = "10.0.1.0/29,10.0.0.8/29" },
				    { .name = "m", .addrs = "10.0.2.0/29", .no_auto = true } };
	struct fx *f = fx_new(p1, 3);
	struct alloc_pool_options o = { .hold_ms = 50 };
	alloc_set_pool_options(f->a, "b", &o);
	enum { N = 40 };
	struct treq *t = calloc(N, sizeof(*t));
	const char *keys[] = { NULL, "k1", "k2" }, *backs[] = { NULL, "app=x" };
	const char *ipsv[] = { "10.0.0.1", "10.0.0.9", "10.0.1.3", "10.0.2.2", "10.0.2.5", "fd00::3" };
	uint64_t seed = 42;
	char key[32];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "n/s%02d", i);
		req(&t[i], key);
	}
	for (int it = 0; it < 4000; it++) {
		struct treq *x = &t[rnd(&seed) % N];
		unsigned op = (unsigned)(rnd(&seed) % 10);
		f->now += rnd(&seed) % 20;
		if (op < 6) {
			/* a random change of the request */
			x->rq.sharing_key = keys[rnd(&seed) % 3];
			x->rq.backend_key = backs[rnd(&seed) % 2];
			x->ports[0].port = (uint16_t)(80 + rnd(&seed) % 4);
			x->ports[0].proto = (enum alloc_proto)(rnd(&seed) % 2);
			x->rq.lb_ip = rnd(&seed) % 4 == 0 ? ipsv[rnd(&seed) % 6] : NULL;
			x->rq.families[0] = x->rq.lb_ip && strchr(x->rq.lb_ip, ':') ? AF_INET6 : AF_INET;
			if (!x->rq.lb_ip && rnd(&seed) % 5 == 0)
				dual(x, ALLOC_PREFER_DUAL, AF_INET);
			else
				x->rq.n_families = 1, x->rq.policy = ALLOC_SINGLE_STACK;
			alloc_service(f->a, &x->rq, f->now, &x->res);
			writeback(x);
		} else if (op < 8) {
			alloc_service(f->a, &x->rq, f->now, &x->res);
			writeback(x);
		} else if (op < 9) {
			alloc_release(f->a, x->key, f->now);
			x->rq.n_ingress = 0;
		} else if (rnd(&seed) % 20 == 0) {
			assert_int_equal(set_pools(f, it % 2 ? p1 : p2, 3, NULL), 0);
		}
		check_no_double(f, t, N);
	}
	free(t);
	fx_free(f);
}

static void shuffle(size_t *v, size_t n, uint64_t *seed)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rnd(seed) % (i + 1)), x = v[i];
		v[i] = v[j];
		v[j] = x;
	}
}

/* With enough room (no pool ever full, so no service overflows to a later pool), the same
 * requests in any order: every service gets IPs, explicit requests
 * (here in an autoAssign=false pool, so no automatic allocation can take them) get exactly their
 * IPs, and the SET of used IPs is the same (which service holds which automatic IP is not). */
static void test_property_any_order(void **state)
{
	const struct tpool p[] = { { .name = "g1", .addrs = "10.0.0.0/28" },
				   { .name = "g2", .addrs = "10.0.1.0/28,fd00::/124" },
				   { .name = "team", .addrs = "10.0.2.0/29", .ns = "t", .prio = 1 },
				   { .name = "man", .addrs = "10.0.3.0/28", .no_auto = true } };
	enum { N = 30 };
	struct treq *t = calloc(N, sizeof(*t));
	char key[32], ref[N * 2][ADDR_STRLEN], got[N * 2][ADDR_STRLEN];
	size_t order[N], nref = 0;
	uint64_t seed = 7;
	for (size_t i = 0; i < N; i++)
		order[i] = i;
	for (int round = 0; round < 51; round++) {
		struct fx *f = fx_new(p, 4);
		if (round)
			shuffle(order, N, &seed);
		for (size_t k = 0; k < N; k++) {
			size_t i = order[k];
			snprintf(key, sizeof(key), "%s/s%02zu", i % 5 == 0 ? "t" : "n", i);
			req(&t[i], key);
			if (i % 7 == 3) {
				snprintf(t[i].ns, sizeof(t[i].ns), "n");
				t[i].rq.lb_ip = (const char *[]){ "10.0.3.1", "10.0.3.5", "10.0.3.9", "10.0.3.13" }[i / 7];
			}
			if (i % 6 == 1) { /* one sharing group with distinct ports */
				t[i].rq.sharing_key = "web";
				t[i].ports[0].port = (uint16_t)(8000 + i);
			}
			if (i % 8 == 2 && !t[i].rq.lb_ip)
				dual(&t[i], ALLOC_PREFER_DUAL, AF_INET6);
			assert_int_equal(alloc_service(f->a, &t[i].rq, 0, &t[i].res), ALLOC_OK);
			if (t[i].rq.lb_ip)
				assert_string_equal(ipstr(&t[i].res.ips[0], got[0]), t[i].rq.lb_ip);
		}
		/* the sorted list of used IPs */
		size_t n = 0;
		for (size_t i = 0; i < N; i++) {
			addr_t ips[2];
			size_t k = alloc_get(f->a, t[i].key, ips, NULL);
			for (size_t j = 0; j < k; j++)
				ipstr(&ips[j], got[n++]);
		}
		qsort(got, n, ADDR_STRLEN, (int (*)(const void *, const void *))strcmp);
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (m == 0 || strcmp(got[i], got[m - 1]) != 0)
				memmove(got[m++], got[i], ADDR_STRLEN);
		if (round == 0) {
			memcpy(ref, got, sizeof(got));
			nref = m;
		} else {
			assert_int_equal(m, nref);
			for (size_t i = 0; i < m; i++)
				assert_string_equal(got[i], ref[i]);
		}
		fx_free(f);
	}
	free(t);
}

/* A /64 with 100,000 allocations: sequential, then holes refilled lowest first. */
static void test_v6_64_100k(void **state)
{
	const struct tpool p[] = { { .name = "six", .addrs = "fd00:1:2:3::/64" } };
	struct fx *f = fx_new(p, 1);
	enum { N = 100000 };
	char key[32];
	struct treq t;
	addr_t base;
	addr_parse("fd00:1:2:3::", &base);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "n/s%d", i);
		v6(req(&t, key));
		assert_int_equal(alloc_service(f->a, &t.rq, 0, &t.res), ALLOC_OK);
		addr_t want = base;
		addr_add(&want, (addr_u128)i);
		assert_true(addr_eq(&t.res.ips[0], &want));
	}
	for (int i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "n/s%d", i);
		assert_int_equal(alloc_release(f->a, key, 0), 1);
	}
	for (int i = 0; i < N / 2 + 10; i++) {
		snprintf(key, sizeof(key), "n/r%d", i);
		v6(req(&t, key));
		assert_int_equal(alloc_service(f->a, &t.rq, 0, &t.res), ALLOC_OK);
		addr_t want = base;
		addr_add(&want, i < N / 2 ? (addr_u128)(2 * i) : (addr_u128)(N + i - N / 2));
		assert_true(addr_eq(&t.res.ips[0], &want));
	}
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_int_equal(st.used_v6, N + 10);
	assert_true(st.size_v6 == (addr_u128)1 << 64);
	fx_free(f);
}

static void test_hold_and_pool_change(void **state)
{
	const struct tpool p1[] = { { .name = "a", .addrs = "10.0.0.0/30" },
				    { .name = "b", .addrs = "10.0.1.0/30" } };
	struct fx *f = fx_new(p1, 2);
	struct alloc_pool_options o = { .hold_ms = 1000 };
	alloc_set_pool_options(f->a, "a", &o);
	alloc_set_pool_options(f->a, "b", &o);
	struct treq t;
	dual(req(&t, "n/x"), ALLOC_PREFER_DUAL, AF_INET);
	expect(f, &t, ALLOC_OK, "10.0.0.0", NULL);
	one(f, "n/y", ALLOC_OK, "10.0.0.1");
	req(&t, "n/z")->rq.pool = "b";
	expect(f, &t, ALLOC_OK, "10.0.1.0", NULL);
	alloc_release(f->a, "n/x", 0);
	alloc_release(f->a, "n/z", 0);
	/* pool b goes away: its held IP is dropped; a's hold survives */
	const struct tpool p2[] = { { .name = "a", .addrs = "10.0.0.0/30" } };
	assert_int_equal(set_pools(f, p2, 1, NULL), 0);
	struct alloc_pool_stats st;
	alloc_pool_stats(f->a, 0, &st);
	assert_int_equal(st.held_v4, 1);
	one(f, "n/w", ALLOC_OK, "10.0.0.2");
	one(f, "n/x", ALLOC_OK, "10.0.0.0");
	assert_true(alloc_tick(f->a, 0) == UINT64_MAX);
	fx_free(f);
}

/* ---------- pools from the config loader ---------- */

static void test_from_config_yaml(void **state)
{
	static const char yaml[] =
		"apiVersion: metallb.io/v1beta1\n"
		"kind: IPAddressPool\n"
		"metadata: {name: zz-generic, namespace: metallb-system}\n"
		"spec:\n"
		"  addresses: [192.168.9.0/24]\n"
		"---\n"
		"apiVersion: metallb.io/v1beta1\n"
		"kind: IPAddressPool\n"
		"metadata: {name: team, namespace: metallb-system}\n"
		"spec:\n"
		"  addresses: [192.168.20.0/24, 'fd00::10-fd00::1f']\n"
		"  avoidBuggyIPs: true\n"
		"  serviceAllocation:\n"
		"    priority: 50\n"
		"    namespaces: [namespace-a]\n"
		"    namespaceSelectors:\n"
		"      - matchLabels: {foo: bar}\n"
		"    serviceSelectors:\n"
		"      - matchExpressions:\n"
		"          - {key: app, operator: In, values: [web, api]}\n";
	struct config *c = NULL;
	struct cfg_diags d = { 0 };
	if (config_load_buf("pools.yaml", yaml, sizeof(yaml) - 1, &c, &d) != 0) {
		cfg_diags_print(&d, stderr);
		fail_msg("config did not load");
	}
	cfg_diags_free(&d);
	struct fx *f = calloc(1, sizeof(*f));
	f->a = alloc_new();
	assert_int_equal(alloc_set_pools(f->a, c->pools, c->n_pools, NULL, NULL, 0), 0);
	struct treq t;
	req(&t, "namespace-a/s1");
	svc_label(&t, "app", "api");
	expect(f, &t, ALLOC_OK, "192.168.20.1", NULL); /* .0 skipped: avoidBuggyIPs */
	req(&t, "other/s2");
	ns_label(&t, "foo", "bar");
	svc_label(&t, "app", "web");
	dual(&t, ALLOC_REQUIRE_DUAL, AF_INET6);
	expect(f, &t, ALLOC_OK, "fd00::10", "192.168.20.2");
	req(&t, "other/s3"); /* twin: namespace neither listed nor selected */
	svc_label(&t, "app", "web");
	expect(f, &t, ALLOC_OK, "192.168.9.0", NULL);
	req(&t, "namespace-a/s4"); /* twin: namespace fine, service labels not */
	svc_label(&t, "app", "db");
	expect(f, &t, ALLOC_OK, "192.168.9.1", NULL);
	alloc_free(f->a);
	free(f);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowest_first_config_order),
		cmocka_unit_test(test_avoid_buggy),
		cmocka_unit_test(test_buggy_large_pool),
		cmocka_unit_test(test_auto_assign),
		cmocka_unit_test(test_generic_name_order),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_namespace_selector),
		cmocka_unit_test(test_service_selector),
		cmocka_unit_test(test_requested_pool),
		cmocka_unit_test(test_requested_ips),
		cmocka_unit_test(test_request_error_keeps_allocation),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_prefer_dual_adds_family),
		cmocka_unit_test(test_sharing),
		cmocka_unit_test(test_sharing_backend_and_sole_owner),
		cmocka_unit_test(test_sharing_lowest_wins),
		cmocka_unit_test(test_pool_shrink_and_move),
		cmocka_unit_test(test_buggy_turned_on),
		cmocka_unit_test(test_pool_removed_namespace_changed),
		cmocka_unit_test(test_restart_rebuild),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_hold_down),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_ivl_model),
		cmocka_unit_test(test_property_no_double),
		cmocka_unit_test(test_property_any_order),
		cmocka_unit_test(test_v6_64_100k),
		cmocka_unit_test(test_hold_and_pool_change),
		cmocka_unit_test(test_from_config_yaml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
