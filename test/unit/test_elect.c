/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for speaker/elect.c: a table of cases, then properties (input order, a non-owner
 * leaving, shared IPs and dual stack stay together).
 *
 * Expected owners were computed by hand, as MetalLB would (sha256 of "node#ip", ascending):
 *   printf 'node-a#192.168.10.240' | sha256sum   e6be89ce40a15885...
 *   printf 'node-b#192.168.10.240' | sha256sum   2d2cfc91444408aa...   <- lowest: owner
 *   printf 'node-c#192.168.10.240' | sha256sum   b3bdaecfae912efa...
 *   printf 'node-a#2001:db8::f0'   | sha256sum   e9d55c73d69d5199...   <- lowest: owner
 *   printf 'node-b#2001:db8::f0'   | sha256sum   fdb7c4e68f9a4dfd...
 *   printf 'node-c#2001:db8::f0'   | sha256sum   fefd477a0813ef3c...
 * so for 192.168.10.240 the order is b, c, a; for 2001:db8::f0 it is a, b, c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../speaker/elect.h"

/* ---------- fixture builders ---------- */

static struct kv ZONE1[] = {{"zone", "z1"}};
static struct kv ZONE2[] = {{"zone", "z2"}};
static struct kv EXCL[] = {{"node.kubernetes.io/exclude-from-external-load-balancers", "true"},
			   {"zone", "z2"}};
static struct kv APP[] = {{"app", "web"}};

static struct cfg_label L_Z1[] = {{"zone", "z1"}};
static struct cfg_label L_Z2[] = {{"zone", "z2"}};
static struct cfg_label L_DB[] = {{"app", "db"}};
static struct cfg_label L_WEB[] = {{"app", "web"}};
static struct cfg_selector SEL_Z1 = {.labels = L_Z1, .n_labels = 1};
static struct cfg_selector SEL_Z2 = {.labels = L_Z2, .n_labels = 1};
static struct cfg_selector SEL_DB = {.labels = L_DB, .n_labels = 1};
static struct cfg_selector SEL_WEB = {.labels = L_WEB, .n_labels = 1};

struct world {
	struct elect_node nodes[3];
	struct endpoint eps[4];
	struct endpointslice slice;
	const struct endpointslice *slices[1];
	struct cfg_l2adv ad[3];
	const struct cfg_l2adv *ads[3];
	addr_t ingress[2];
	struct elect_input in;
};

/* Three alive nodes a (z1), b (z2), c (z1); one ad for everything; one ready endpoint on a;
 * ETP Cluster; ingress 192.168.10.240. */
static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	const char *names[3] = {"node-a", "node-b", "node-c"};
	struct kv *labels[3] = {ZONE1, ZONE2, ZONE1};
	for (int i = 0; i < 3; i++) {
		w->nodes[i].name = names[i];
		w->nodes[i].labels = labels[i];
		w->nodes[i].n_labels = 1;
		w->nodes[i].alive = true;
	}
	w->eps[0] = (struct endpoint){.node_name = "node-a", .ready = true, .serving = true};
	w->slice.endpoints = w->eps;
	w->slice.n_endpoints = 1;
	w->slices[0] = &w->slice;
	w->ad[0].name = "l2";
	for (int i = 0; i < 3; i++)
		w->ads[i] = &w->ad[i];
	assert_int_equal(addr_parse("192.168.10.240", &w->ingress[0]), 0);
	assert_int_equal(addr_parse("2001:db8::f0", &w->ingress[1]), 0);
	w->in = (struct elect_input){
		.svc_key = "default/web",
		.svc_labels = APP,
		.n_svc_labels = 1,
		.ingress = w->ingress,
		.n_ingress = 1,
		.etp = SVC_ETP_CLUSTER,
		.slices = w->slices,
		.n_slices = 1,
		.nodes = w->nodes,
		.n_nodes = 3,
		.ads = w->ads,
		.n_ads = 1,
	};
}

static void expect(struct world *w, enum elect_reason reason, const char *owner)
{
	struct elect_result r;
	assert_int_equal(elect_l2(&w->in, &r), 0);
	if (r.reason != reason || (owner == NULL) != (r.owner == NULL) ||
	    (owner && strcmp(owner, r.owner) != 0))
		fail_msg("got %s/%s, want %s/%s", elect_reason_name(r.reason), r.owner ? r.owner : "-",
			 elect_reason_name(reason), owner ? owner : "-");
	elect_result_free(&r);
}

/* ---------- table ---------- */

static void test_hash_order_by_hand(void **state)
{
	struct world w;
	world_init(&w);
	expect(&w, ELECT_OWNED, "node-b"); /* b < c < a for 192.168.10.240 */
	w.in.ingress = &w.ingress[1];
	expect(&w, ELECT_OWNED, "node-a"); /* a < b < c for 2001:db8::f0 */
	unsigned char h[32];
	elect_node_hash("node-b", &w.ingress[0], h);
	assert_int_equal(h[0], 0x2d);
	assert_int_equal(h[1], 0x2c);
}

static void test_eligibility(void **state)
{
	struct world w;
	world_init(&w);
	w.nodes[1].alive = false; /* owner's lease expired: next in order */
	expect(&w, ELECT_OWNED, "node-c");

	world_init(&w);
	w.nodes[1].network_unavailable = true;
	expect(&w, ELECT_OWNED, "node-c");

	world_init(&w);
	w.nodes[1].labels = EXCL;
	w.nodes[1].n_labels = 2;
	expect(&w, ELECT_OWNED, "node-c");
	w.in.exclude_label = ""; /* --ignore-exclude-lb */
	expect(&w, ELECT_OWNED, "node-b");

	world_init(&w);
	w.ad[0].node_selectors = &SEL_Z1; /* a and c */
	w.ad[0].n_node_selectors = 1;
	expect(&w, ELECT_OWNED, "node-c");

	world_init(&w);
	for (int i = 0; i < 3; i++)
		w.nodes[i].alive = false;
	expect(&w, ELECT_NO_ELIGIBLE_NODE, NULL);
}

static void test_preference(void **state)
{
	struct world w;
	struct cfg_pref_node pref[2] = {{.weight = 10, .preference = {.labels = L_Z1, .n_labels = 1}},
					{.weight = 5, .preference = {.labels = L_Z2, .n_labels = 1}}};
	world_init(&w);
	w.ad[0].preferred = pref;
	w.ad[0].n_preferred = 1;
	expect(&w, ELECT_OWNED, "node-c"); /* a and c score 10; c hashes first */
	/* ad0 z1:10 z2:5, ad1 z2:5, ad2 z2:5: scores sum across ads, b 15 > a, c 10 */
	w.ad[1].name = "more";
	w.ad[1].preferred = &pref[1];
	w.ad[1].n_preferred = 1;
	w.ad[2].name = "evenmore";
	w.ad[2].preferred = &pref[1];
	w.ad[2].n_preferred = 1;
	w.in.n_ads = 3;
	w.ad[0].n_preferred = 2; /* ad0: z1 10, z2 5 */
	expect(&w, ELECT_OWNED, "node-b");
}

static void test_traffic_policy_local(void **state)
{
	struct world w;
	world_init(&w);
	w.in.etp = SVC_ETP_LOCAL;
	w.eps[1] = (struct endpoint){.node_name = "node-c", .ready = true, .serving = true};
	w.slice.n_endpoints = 2;
	expect(&w, ELECT_OWNED, "node-c"); /* b has none; c before a */

	/* Ready on a, terminating-but-serving on b and c: the ready one wins over the hash order. */
	world_init(&w);
	w.in.etp = SVC_ETP_LOCAL;
	w.eps[1] = (struct endpoint){.node_name = "node-b", .serving = true, .terminating = true};
	w.eps[2] = (struct endpoint){.node_name = "node-c", .serving = true, .terminating = true};
	w.slice.n_endpoints = 3;
	expect(&w, ELECT_OWNED, "node-a");
	/* a's pod goes away: the draining ones keep the IP, in hash order. */
	w.eps[0].ready = w.eps[0].serving = false;
	expect(&w, ELECT_OWNED, "node-b");
	/* --terminating-endpoints=drop: draining endpoints do not count at all. */
	w.in.ready_only = true;
	expect(&w, ELECT_NO_ENDPOINTS, NULL);
	w.in.etp = SVC_ETP_CLUSTER;
	expect(&w, ELECT_NO_ENDPOINTS, NULL);
	w.in.ready_only = false;
	expect(&w, ELECT_OWNED, "node-b");

	/* The only endpoint is on a node that is not eligible. */
	world_init(&w);
	w.in.etp = SVC_ETP_LOCAL;
	w.nodes[0].alive = false;
	expect(&w, ELECT_NO_LOCAL_ENDPOINT, NULL);
	/* An endpoint without nodeName counts for "can serve" but not for any node. */
	world_init(&w);
	w.in.etp = SVC_ETP_LOCAL;
	w.eps[0].node_name = NULL;
	expect(&w, ELECT_NO_LOCAL_ENDPOINT, NULL);
	w.in.etp = SVC_ETP_CLUSTER;
	expect(&w, ELECT_OWNED, "node-b");
}

static void test_not_announced(void **state)
{
	struct world w;
	world_init(&w);
	w.in.n_ingress = 0;
	expect(&w, ELECT_NO_IP, NULL);

	world_init(&w);
	w.slice.n_endpoints = 0; /* no endpoint at all: not announced, even for Cluster */
	expect(&w, ELECT_NO_ENDPOINTS, NULL);
	w.in.n_slices = 0;
	expect(&w, ELECT_NO_ENDPOINTS, NULL);

	world_init(&w);
	w.eps[0].ready = w.eps[0].serving = false; /* not ready, not serving */
	w.eps[0].terminating = true;
	expect(&w, ELECT_NO_ENDPOINTS, NULL);

	world_init(&w);
	w.ad[0].service_selectors = &SEL_DB;
	w.ad[0].n_service_selectors = 1;
	expect(&w, ELECT_NO_ADVERTISEMENT, NULL);
	w.ad[0].service_selectors = &SEL_WEB;
	expect(&w, ELECT_OWNED, "node-b");
	w.in.shares_ip = true; /* shared IP + serviceSelectors: never announced */
	expect(&w, ELECT_SHARED_IP_SELECTORS, NULL);

	world_init(&w);
	w.in.n_ads = 0;
	expect(&w, ELECT_NO_ADVERTISEMENT, NULL);
}

static void test_interfaces(void **state)
{
	struct world w;
	struct elect_result r;
	char *if1[] = {"eth1", "eth0"}, *if2[] = {"eth0", "eth2"};
	world_init(&w);
	w.ad[0].interfaces = if1;
	w.ad[0].n_interfaces = 2;
	w.ad[1].name = "z2";
	w.ad[1].node_selectors = &SEL_Z2;
	w.ad[1].n_node_selectors = 1;
	w.ad[1].interfaces = if2;
	w.ad[1].n_interfaces = 2;
	w.ad[2].name = "z1";
	w.ad[2].node_selectors = &SEL_Z1; /* selects a and c, not the owner b */
	w.ad[2].n_node_selectors = 1;
	w.in.n_ads = 3;
	assert_int_equal(elect_l2(&w.in, &r), 0);
	assert_string_equal(r.owner, "node-b");
	assert_false(r.all_interfaces);
	assert_int_equal(r.n_interfaces, 3);
	assert_string_equal(r.interfaces[0], "eth0");
	assert_string_equal(r.interfaces[1], "eth1");
	assert_string_equal(r.interfaces[2], "eth2");
	elect_result_free(&r);
	elect_result_free(&r); /* idempotent */
	/* An ad selecting the owner without interfaces: every interface. */
	w.ad[2].node_selectors = &SEL_Z2;
	assert_int_equal(elect_l2(&w.in, &r), 0);
	assert_true(r.all_interfaces);
	assert_int_equal(r.n_interfaces, 0);
	elect_result_free(&r);
}

/* ---------- properties ---------- */

#define BIG 20

struct big {
	char names[BIG][24];
	struct kv labels[BIG][1];
	char zone[BIG][8];
	struct elect_node nodes[BIG];
	struct endpoint eps[BIG];
	struct endpointslice slices[4];
	const struct endpointslice *sp[4];
	struct cfg_pref_node pref[1];
	char *ifs[3][2];
	struct cfg_l2adv ad[3];
	const struct cfg_l2adv *ads[3];
	addr_t ip[2];
	struct elect_input in;
};

#define SEED 42 /* fixed seed: the shuffles are the same on every run */
static uint32_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

static void big_init(struct big *b, enum svc_etp etp)
{
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < BIG; i++) {
		snprintf(b->names[i], sizeof(b->names[i]), "worker-%02d", i);
		snprintf(b->zone[i], sizeof(b->zone[i]), "z%d", i % 2 + 1);
		b->labels[i][0] = (struct kv){"zone", b->zone[i]};
		b->nodes[i] = (struct elect_node){.name = b->names[i], .labels = b->labels[i],
						  .n_labels = 1, .alive = i % 7 != 3};
		b->eps[i] = (struct endpoint){.node_name = b->names[i], .ready = i % 3 == 0,
					      .serving = i % 3 != 2, .terminating = i % 3 == 1};
	}
	for (int s = 0; s < 4; s++) {
		b->slices[s].endpoints = &b->eps[s * 5];
		b->slices[s].n_endpoints = 5;
		b->sp[s] = &b->slices[s];
	}
	b->pref[0] = (struct cfg_pref_node){.weight = 3, .preference = SEL_Z2};
	b->ifs[0][0] = "eth0";
	b->ifs[1][0] = "eth1";
	b->ifs[1][1] = "eth0";
	b->ifs[2][0] = "bond0";
	for (int a = 0; a < 3; a++) {
		b->ad[a].interfaces = b->ifs[a];
		b->ad[a].n_interfaces = a == 1 ? 2 : 1;
		b->ads[a] = &b->ad[a];
	}
	b->ad[0].node_selectors = &SEL_Z1;
	b->ad[0].n_node_selectors = 1;
	b->ad[1].preferred = b->pref;
	b->ad[1].n_preferred = 1;
	b->ad[2].service_selectors = &SEL_DB; /* does not apply to the service */
	b->ad[2].n_service_selectors = 1;
	assert_int_equal(addr_parse("10.1.2.3", &b->ip[0]), 0);
	assert_int_equal(addr_parse("fd00::1:2:3", &b->ip[1]), 0);
	b->in = (struct elect_input){.svc_key = "ns/svc", .svc_labels = APP, .n_svc_labels = 1,
				     .ingress = b->ip, .n_ingress = 2, .etp = etp, .slices = b->sp,
				     .n_slices = 4, .nodes = b->nodes, .n_nodes = BIG, .ads = b->ads,
				     .n_ads = 3};
}

#define SHUFFLE(arr, n, s)                                                                  \
	do {                                                                                \
		for (size_t i_ = (n); i_ > 1; i_--) {                                       \
			size_t j_ = next_rand(s) % i_;                                      \
			__typeof__((arr)[0]) t_ = (arr)[i_ - 1];                            \
			(arr)[i_ - 1] = (arr)[j_];                                          \
			(arr)[j_] = t_;                                                     \
		}                                                                           \
	} while (0)

static void snapshot(const struct elect_input *in, char *owner, size_t n, char *ifs, size_t m)
{
	struct elect_result r;
	assert_int_equal(elect_l2(in, &r), 0);
	assert_int_equal(r.reason, ELECT_OWNED);
	snprintf(owner, n, "%s", r.owner);
	ifs[0] = '\0';
	for (size_t i = 0; i < r.n_interfaces; i++) {
		strncat(ifs, r.interfaces[i], m - strlen(ifs) - 1);
		strncat(ifs, ",", m - strlen(ifs) - 1);
	}
	elect_result_free(&r);
}

static void test_every_input_order_same_owner(void **state)
{
	uint64_t s = SEED;
	for (int etp = 0; etp < 2; etp++) {
		struct big b;
		char want[32], want_if[64];
		big_init(&b, etp == 0 ? SVC_ETP_CLUSTER : SVC_ETP_LOCAL);
		snapshot(&b.in, want, sizeof(want), want_if, sizeof(want_if));
		for (int k = 0; k < 100; k++) {
			char got[32], got_if[64];
			SHUFFLE(b.nodes, (size_t)BIG, &s);
			SHUFFLE(b.eps, (size_t)BIG, &s); /* moves endpoints between slices too */
			SHUFFLE(b.sp, (size_t)4, &s);
			SHUFFLE(b.ads, (size_t)3, &s);
			SHUFFLE(b.ifs[1], (size_t)2, &s);
			snapshot(&b.in, got, sizeof(got), got_if, sizeof(got_if));
			assert_string_equal(got, want);
			assert_string_equal(got_if, want_if);
		}
	}
}

static void test_non_owner_leaving_never_moves(void **state)
{
	for (int etp = 0; etp < 2; etp++) {
		for (int ip = 0; ip < 40; ip++) {
			struct big b;
			char owner[32], ifs[64];
			big_init(&b, etp == 0 ? SVC_ETP_CLUSTER : SVC_ETP_LOCAL);
			addr_from_v4(&b.ip[0], 0x0a000000u + (uint32_t)ip * 7919u);
			snapshot(&b.in, owner, sizeof(owner), ifs, sizeof(ifs));
			for (int gone = 0; gone < BIG; gone++) {
				char got[32], got_ifs[64];
				if (strcmp(b.nodes[gone].name, owner) == 0)
					continue;
				struct elect_node keep = b.nodes[gone];
				b.nodes[gone] = b.nodes[BIG - 1]; /* remove: swap out of the list */
				b.in.n_nodes = BIG - 1;
				snapshot(&b.in, got, sizeof(got), got_ifs, sizeof(got_ifs));
				assert_string_equal(got, owner);
				b.nodes[BIG - 1] = b.nodes[gone];
				b.nodes[gone] = keep;
				b.in.n_nodes = BIG;
				/* ... and the same as its Lease expiring */
				b.nodes[gone].alive = false;
				snapshot(&b.in, got, sizeof(got), got_ifs, sizeof(got_ifs));
				assert_string_equal(got, owner);
				b.nodes[gone] = keep;
			}
		}
	}
}

static void test_shared_ip_and_dual_stack_stay_together(void **state)
{
	int moved_v6 = 0;
	for (int ip = 0; ip < 40; ip++) {
		struct big b;
		char one[32], two[32], ifs[64];
		struct kv other_labels[] = {{"app", "web"}, {"tier", "front"}};
		big_init(&b, SVC_ETP_CLUSTER);
		addr_from_v4(&b.ip[0], 0xc0a80000u + (uint32_t)ip);
		/* dual-stack [v4, v6] and single-stack [v4]: same owner */
		snapshot(&b.in, one, sizeof(one), ifs, sizeof(ifs));
		b.in.n_ingress = 1;
		snapshot(&b.in, two, sizeof(two), ifs, sizeof(ifs));
		assert_string_equal(one, two);
		/* another service sharing the IP (other name, labels): same owner */
		b.in.svc_key = "other/svc";
		b.in.svc_labels = other_labels;
		b.in.n_svc_labels = 2;
		b.in.shares_ip = true;
		b.ad[2].n_service_selectors = 0; /* shared IPs need ads without serviceSelectors */
		b.ad[2].node_selectors = &SEL_Z1;
		b.ad[2].n_node_selectors = 1;
		snapshot(&b.in, two, sizeof(two), ifs, sizeof(ifs));
		b.in.svc_key = "ns/svc";
		b.in.svc_labels = APP;
		b.in.n_svc_labels = 1;
		snapshot(&b.in, one, sizeof(one), ifs, sizeof(ifs));
		assert_string_equal(one, two);
		/* a v6-first ingress list hashes the v6 address, which may pick another node */
		b.in.ingress = &b.ip[1];
		snapshot(&b.in, two, sizeof(two), ifs, sizeof(ifs));
		moved_v6 += strcmp(one, two) != 0;
	}
	assert_true(moved_v6 > 0); /* the key really is ingress[0] */
}

static void test_names(void **state)
{
	for (int i = 0; i < ELECT_REASON_COUNT; i++)
		assert_string_not_equal(elect_reason_name((enum elect_reason)i), "?");
	elect_result_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_order_by_hand),
		cmocka_unit_test(test_eligibility),
		cmocka_unit_test(test_preference),
		cmocka_unit_test(test_traffic_policy_local),
		cmocka_unit_test(test_not_announced),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_every_input_order_same_owner),
		cmocka_unit_test(test_non_owner_leaving_never_moves),
		cmocka_unit_test(test_shared_ip_and_dual_stack_stay_together),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
