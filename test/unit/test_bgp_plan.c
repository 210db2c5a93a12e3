/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for speaker/bgp/plan.c: a table where every rule has a case and its failing twin,
 * then merging, localPref conflicts, families, and properties (any input order gives the same
 * plan; the plan equals a naive recomputation per peer and prefix). Configs are real YAML through
 * config_load_buf, so aliases and defaults come from the loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../../speaker/bgp/plan.h"

/* Pools blue (labelled color=blue, v4 and v6) and red; peers (sorted by name):
 *   ebgp4   eBGP over IPv4            ebgp6   eBGP over IPv6
 *   ibgp4   iBGP over IPv4            z1ibgp  iBGP over IPv4, only on nodes with zone=z1
 *   dual    eBGP, dualStackAddressFamily (both families) -- only in DUAL_PEER configs
 * Community aliases: nice = 65000:777, big = large:64500:1:2. */
#define BASE                                                                                    \
	"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: blue\n"         \
	"  labels: {color: blue}\nspec:\n  addresses: [10.1.0.0/24, \"2001:db8:1::/120\"]\n---\n" \
	"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: red}\n"            \
	"spec:\n  addresses: [10.2.0.0/24]\n---\n"                                                \
	"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ibgp4}\n"                \
	"spec: {myASN: 64500, peerASN: 64500, peerAddress: 192.0.2.254}\n---\n"                   \
	"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ebgp4}\n"                \
	"spec: {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.253}\n---\n"                   \
	"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ebgp6}\n"                \
	"spec: {myASN: 64500, peerASN: 64501, peerAddress: \"2001:db8:77::fe\"}\n---\n"           \
	"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: z1ibgp}\n"               \
	"spec:\n  myASN: 64500\n  peerASN: 64500\n  peerAddress: 192.0.2.252\n"                   \
	"  nodeSelectors: [{matchLabels: {zone: z1}}]\n---\n"                                     \
	"apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata: {name: c}\nspec:\n"           \
	"  communities: [{name: nice, value: \"65000:777\"}, {name: big, value: "                 \
	"\"large:64500:1:2\"}]\n---\n"
#define DUAL_PEER                                                                               \
	"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: dual}\n"                 \
	"spec: {myASN: 64500, peerASN: 64502, peerAddress: 192.0.2.251, "                         \
	"dualStackAddressFamily: true}\n---\n"
#define ADV(name) "apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: " name "}\n"
#define ALL ADV("all") "spec: {}\n"

static struct kv N_Z1[] = {{"kubernetes.io/hostname", "n1"}, {"zone", "z1"}};
static struct kv N_Z2[] = {{"kubernetes.io/hostname", "n2"}, {"zone", "z2"}};
static struct kv N_EXCL[] = {{"node.kubernetes.io/exclude-from-external-load-balancers", ""},
			     {"zone", "z1"}};
static struct kv S_WEB[] = {{"app", "web"}};
static struct kv S_DB[] = {{"app", "db"}};

enum tnode { ND_Z1 = 0, ND_Z2, ND_EXCL, ND_NETUNAVAIL };

static struct plan_node make_node(enum tnode t)
{
	switch (t) {
	case ND_Z2:
		return (struct plan_node){.name = "n2", .labels = N_Z2, .n_labels = 2};
	case ND_EXCL:
		return (struct plan_node){.name = "n3", .labels = N_EXCL, .n_labels = 2};
	case ND_NETUNAVAIL:
		return (struct plan_node){.name = "n4", .labels = N_Z1, .n_labels = 2,
					  .network_unavailable = true};
	default:
		return (struct plan_node){.name = "n1", .labels = N_Z1, .n_labels = 2};
	}
}

static struct config *load(const char *yaml)
{
	struct config *c = NULL;
	struct cfg_diags d = {0};
	if (config_load_buf("plan.yaml", yaml, strlen(yaml), &c, &d) != 0) {
		cfg_diags_print(&d, stderr);
		cfg_diags_free(&d);
		fail_msg("config does not load");
	}
	cfg_diags_free(&d);
	return c;
}

/* "PEER ROUTE\n" per route, peers in plan order, then "lp-conflicts N\n" when N > 0. */
static char *plan_text(const struct plan *p)
{
	size_t cap = 256, len = 0;
	char *s = malloc(cap), line[512];
	assert_non_null(s);
	s[0] = '\0';
	for (size_t i = 0; i < p->n_peers; i++)
		for (size_t k = 0; k < p->peers[i].n_routes; k++) {
			assert_true(plan_route_format(p, &p->peers[i].routes[k], line, sizeof(line)) > 0);
			size_t need = strlen(p->peers[i].peer->name) + strlen(line) + 3;
			while (len + need >= cap) {
				cap *= 2;
				s = realloc(s, cap);
				assert_non_null(s);
			}
			len += (size_t)sprintf(s + len, "%s %s\n", p->peers[i].peer->name, line);
		}
	if (p->n_local_pref_conflicts) {
		s = realloc(s, len + 40);
		assert_non_null(s);
		sprintf(s + len, "lp-conflicts %zu\n", p->n_local_pref_conflicts);
	}
	return s;
}

struct tsvc {
	const char *ip, *ip2;
	enum svc_etp etp;
	enum plan_ep any, here;
	const char *pool;
	int labels; /* 0 none, 1 app=web, 2 app=db */
};

static void make_svc(const struct tsvc *t, addr_t ips[2], struct plan_service *s)
{
	memset(s, 0, sizeof(*s));
	s->key = "default/svc";
	if (t->ip)
		assert_int_equal(addr_parse(t->ip, &ips[s->n_ingress++]), 0);
	if (t->ip2)
		assert_int_equal(addr_parse(t->ip2, &ips[s->n_ingress++]), 0);
	s->ingress = ips;
	s->etp = t->etp;
	s->ep_anywhere = t->any;
	s->ep_here = t->here;
	s->pool = t->pool;
	if (t->labels == 1) {
		s->labels = S_WEB;
		s->n_labels = 1;
	} else if (t->labels == 2) {
		s->labels = S_DB;
		s->n_labels = 1;
	}
}

/* A ready Cluster service at 10.1.0.5 in pool blue. */
#define SVC4 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY, .pool = "blue"}
#define ON_V4_PEERS(r) "ebgp4 " r "\nibgp4 " r "\nz1ibgp " r "\n"

struct tcase {
	const char *name;
	const char *extra;   /* documents after BASE (advertisements, more peers) */
	enum tnode node;
	struct tsvc svc;
	enum plan_reason reason;
	const char *want;    /* plan_text() */
};

static const struct tcase CASES[] = {
	/* announcing at all */
	{"default advertisement: /32 to every IPv4 peer of the node", ALL, ND_Z1, SVC4,
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	{"no advertisement at all: nothing", "", ND_Z1, SVC4, PLAN_NO_ADVERTISEMENT, ""},
	{"no ingress IP: nothing", ALL, ND_Z1, {.etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY},
	 PLAN_NO_IP, ""},
	{"IP in no pool: nothing", ALL, ND_Z1,
	 {.ip = "10.9.0.1", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY}, PLAN_NO_POOL, ""},
	{"pool unknown by name: found by the IP", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY, .pool = "gone"},
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	/* node exclusion */
	{"node with the exclude label: nothing", ALL, ND_EXCL, SVC4, PLAN_NODE_EXCLUDED, ""},
	{"node NetworkUnavailable: nothing", ALL, ND_NETUNAVAIL, SVC4, PLAN_NODE_EXCLUDED, ""},
	/* advertisement nodeSelectors */
	{"ad nodeSelectors zone=z2, node in z1: nothing",
	 ADV("z2") "spec: {nodeSelectors: [{matchLabels: {zone: z2}}]}\n", ND_Z1, SVC4,
	 PLAN_NODE_NOT_SELECTED, ""},
	{"ad nodeSelectors zone=z2, node in z2: announced (z1ibgp does not run there)",
	 ADV("z2") "spec: {nodeSelectors: [{matchLabels: {zone: z2}}]}\n", ND_Z2, SVC4,
	 PLAN_ANNOUNCED, "ebgp4 10.1.0.5/32\nibgp4 10.1.0.5/32\n"},
	/* pools */
	{"ad for pool red, service in blue: nothing", ADV("red") "spec: {ipAddressPools: [red]}\n",
	 ND_Z1, SVC4, PLAN_NO_ADVERTISEMENT, ""},
	{"ad for pool blue, service in blue: announced",
	 ADV("blue") "spec: {ipAddressPools: [blue]}\n", ND_Z1, SVC4, PLAN_ANNOUNCED,
	 ON_V4_PEERS("10.1.0.5/32")},
	{"ad pool selector color=blue selects blue",
	 ADV("sel") "spec: {ipAddressPoolSelectors: [{matchLabels: {color: blue}}]}\n", ND_Z1, SVC4,
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	{"ad pool selector color=blue does not select red",
	 ADV("sel") "spec: {ipAddressPoolSelectors: [{matchLabels: {color: blue}}]}\n", ND_Z1,
	 {.ip = "10.2.0.9", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY, .pool = "red"},
	 PLAN_NO_ADVERTISEMENT, ""},
	/* serviceSelectors */
	{"serviceSelectors app=web, service app=web: announced",
	 ADV("web") "spec: {serviceSelectors: [{matchLabels: {app: web}}]}\n", ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY, .labels = 1},
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	{"serviceSelectors app=web, service app=db: nothing",
	 ADV("web") "spec: {serviceSelectors: [{matchLabels: {app: web}}]}\n", ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY, .labels = 2},
	 PLAN_NO_ADVERTISEMENT, ""},
	/* endpoints, ETP Cluster */
	{"Cluster, no endpoint anywhere: nothing", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_NONE}, PLAN_NO_ENDPOINTS, ""},
	{"Cluster, a ready endpoint on another node: announced", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY, .here = PLAN_EP_NONE},
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	{"Cluster, only a serving (terminating) endpoint: still announced", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_SERVING}, PLAN_ANNOUNCED,
	 ON_V4_PEERS("10.1.0.5/32")},
	/* endpoints, ETP Local */
	{"Local, ready endpoint here: announced", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_LOCAL, .any = PLAN_EP_READY, .here = PLAN_EP_READY},
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	{"Local, ready endpoint only elsewhere: nothing", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_LOCAL, .any = PLAN_EP_READY, .here = PLAN_EP_NONE},
	 PLAN_NO_LOCAL_ENDPOINT, ""},
	{"Local, serving endpoint here, nothing ready anywhere: announced (drain)", ALL, ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_LOCAL, .any = PLAN_EP_SERVING, .here = PLAN_EP_SERVING},
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.5/32")},
	{"Local, serving endpoint here, ready elsewhere: nothing (traffic goes to ready pods)", ALL,
	 ND_Z1,
	 {.ip = "10.1.0.5", .etp = SVC_ETP_LOCAL, .any = PLAN_EP_READY, .here = PLAN_EP_SERVING},
	 PLAN_NO_LOCAL_ENDPOINT, ""},
	/* aggregation */
	{"aggregationLength 24", ADV("agg") "spec: {aggregationLength: 24}\n", ND_Z1, SVC4,
	 PLAN_ANNOUNCED, ON_V4_PEERS("10.1.0.0/24")},
	{"aggregationLengthV6 120 on an IPv6 IP (only the IPv6 peer)",
	 ADV("agg") "spec: {aggregationLengthV6: 120}\n", ND_Z1,
	 {.ip = "2001:db8:1::5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY},
	 PLAN_ANNOUNCED, "ebgp6 2001:db8:1::/120\n"},
	{"aggregationLength does not touch IPv6", ADV("agg") "spec: {aggregationLength: 24}\n",
	 ND_Z1, {.ip = "2001:db8:1::5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY},
	 PLAN_ANNOUNCED, "ebgp6 2001:db8:1::5/128\n"},
	/* families */
	{"dual stack service: v4 to v4 peers, v6 to v6 peers, both to a dual peer",
	 DUAL_PEER ALL, ND_Z1,
	 {.ip = "10.1.0.5", .ip2 = "2001:db8:1::5", .etp = SVC_ETP_CLUSTER, .any = PLAN_EP_READY},
	 PLAN_ANNOUNCED,
	 "dual 10.1.0.5/32\ndual 2001:db8:1::5/128\nebgp4 10.1.0.5/32\nebgp6 2001:db8:1::5/128\n"
	 "ibgp4 10.1.0.5/32\nz1ibgp 10.1.0.5/32\n"},
	/* peers of the advertisement */
	{"ad peers [ebgp4]: only that peer", ADV("one") "spec: {peers: [ebgp4]}\n", ND_Z1, SVC4,
	 PLAN_ANNOUNCED, "ebgp4 10.1.0.5/32\n"},
	{"ad peers [ebgp6] for an IPv4 IP: no peer carries it",
	 ADV("one") "spec: {peers: [ebgp6]}\n", ND_Z1, SVC4, PLAN_NO_PEER, ""},
	{"ad peers [z1ibgp] on a z2 node: that session does not run there",
	 ADV("one") "spec: {peers: [z1ibgp]}\n", ND_Z2, SVC4, PLAN_NO_PEER, ""},
	/* attributes */
	{"localPref goes to iBGP peers only", ADV("lp") "spec: {localPref: 200}\n", ND_Z1, SVC4,
	 PLAN_ANNOUNCED,
	 "ebgp4 10.1.0.5/32\nibgp4 10.1.0.5/32 local-pref 200\nz1ibgp 10.1.0.5/32 local-pref 200\n"},
	{"communities: values, large values and aliases, sorted",
	 ADV("c") "spec: {communities: [\"65000:2\", big, \"large:1:2:3\", nice, \"65000:1\"]}\n",
	 ND_Z1, SVC4, PLAN_ANNOUNCED,
	 ON_V4_PEERS("10.1.0.5/32 communities 65000:1,65000:2,65000:777 large 1:2:3,64500:1:2")},
	{"two advertisements, one prefix: sent once, communities merged",
	 ADV("a") "spec: {communities: [\"65000:2\", \"large:9:9:9\"], localPref: 50}\n---\n"
	 ADV("b") "spec: {communities: [\"65000:1\", \"65000:2\"], localPref: 50}\n---\n"
	 ADV("c") "spec: {peers: [ebgp4], communities: [\"65000:3\"], localPref: 50}\n",
	 ND_Z1, SVC4, PLAN_ANNOUNCED,
	 "ebgp4 10.1.0.5/32 communities 65000:1,65000:2,65000:3 large 9:9:9\n"
	 "ibgp4 10.1.0.5/32 local-pref 50 communities 65000:1,65000:2 large 9:9:9\n"
	 "z1ibgp 10.1.0.5/32 local-pref 50 communities 65000:1,65000:2 large 9:9:9\n"},
};

static void run_case(const struct tcase *t)
{
	size_t len = strlen(BASE) + strlen(t->extra) + 1;
	char *yaml = malloc(len);
	assert_non_null(yaml);
	snprintf(yaml, len, "%s%s", BASE, t->extra);
	struct config *cfg = load(yaml);
	struct plan_node node = make_node(t->node);
	struct plan_ctx *ctx = plan_ctx_new(cfg, &node, NULL);
	assert_non_null(ctx);
	addr_t ips[2];
	struct plan_service s;
	make_svc(&t->svc, ips, &s);
	struct plan p;
	assert_int_equal(plan_build(ctx, &s, 1, &p), 0);
	char *got = plan_text(&p);
	if (strcmp(got, t->want) != 0 || p.reasons[0] != t->reason)
		fail_msg("%s:\n got (%s):\n%s want (%s):\n%s", t->name, plan_reason_name(p.reasons[0]),
			 got, plan_reason_name(t->reason), t->want);
	free(got);
	plan_free(&p);
	plan_free(&p); /* idempotent */
	plan_ctx_free(ctx);
	config_free(cfg);
	free(yaml);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		print_message("# %s\n", CASES[i].name);
		run_case(&CASES[i]);
	}
}

/* ---------- peers of the node ---------- */

static void test_peers_of_node(void **state)
{
	(void)state;
	struct config *cfg = load(BASE DUAL_PEER
				  "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: dyn}\n"
				  "spec: {myASN: 64500, dynamicASN: internal, peerAddress: 192.0.2.250}\n"
				  "---\n"
				  "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: dynx}\n"
				  "spec: {myASN: 64500, dynamicASN: external, peerAddress: 192.0.2.249}\n"
				  "---\n" ALL);
	struct plan_node n1 = make_node(ND_Z1), n2 = make_node(ND_Z2), ex = make_node(ND_EXCL);
	struct plan_ctx *c1 = plan_ctx_new(cfg, &n1, NULL), *c2 = plan_ctx_new(cfg, &n2, NULL);
	struct plan_ctx *c3 = plan_ctx_new(cfg, &ex, NULL), *c4 = plan_ctx_new(cfg, &ex, "");
	assert_non_null(c1);
	assert_non_null(c2);
	assert_non_null(c3);
	assert_non_null(c4);
	const char *want1[] = {"dual", "dyn", "dynx", "ebgp4", "ebgp6", "ibgp4", "z1ibgp"};
	const bool ibgp1[] = {false, true, false, false, false, true, true};
	assert_int_equal(plan_ctx_peer_count(c1), 7);
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(plan_ctx_peer(c1, i)->name, want1[i]);
		assert_int_equal(plan_ctx_peer_ibgp(c1, i), ibgp1[i]);
	}
	assert_null(plan_ctx_peer(c1, 7));
	assert_false(plan_ctx_peer_ibgp(c1, 7));
	assert_int_equal(plan_ctx_peer_count(c2), 6); /* no z1ibgp on a z2 node */
	assert_int_equal(plan_ctx_peer_count(c3), 7); /* excluded: the sessions still run */

	/* dyn (dynamicASN internal) gets localPref like iBGP; an excluded node plans every peer
	 * with no route; with the exclusion check off ("") it announces. */
	addr_t ip;
	struct plan_service s = {.key = "a/b", .ingress = &ip, .n_ingress = 1,
				 .etp = SVC_ETP_CLUSTER, .ep_anywhere = PLAN_EP_READY};
	assert_int_equal(addr_parse("10.1.0.7", &ip), 0);
	struct plan p;
	assert_int_equal(plan_build(c3, &s, 1, &p), 0);
	assert_int_equal(p.n_peers, 7);
	for (size_t i = 0; i < p.n_peers; i++)
		assert_int_equal(p.peers[i].n_routes, 0);
	assert_int_equal(p.reasons[0], PLAN_NODE_EXCLUDED);
	plan_free(&p);
	assert_int_equal(plan_build(c4, &s, 1, &p), 0);
	assert_int_equal(p.reasons[0], PLAN_ANNOUNCED);
	for (size_t i = 0; i < p.n_peers; i++)
		assert_int_equal(p.peers[i].n_routes, strcmp(p.peers[i].peer->name, "ebgp6") ? 1 : 0);
	plan_free(&p);
	plan_ctx_free(c1);
	plan_ctx_free(c2);
	plan_ctx_free(c3);
	plan_ctx_free(c4);
	plan_ctx_free(NULL);
	config_free(cfg);
}

/* ---------- merging over services ---------- */

static void test_merge_across_services(void **state)
{
	(void)state;
	/* Two services in blue folded into 10.1.0.0/24; a third in red adds a /32 of its own. The
	 * ad "web" only selects app=web and adds 65000:9. */
	struct config *cfg = load(BASE ADV("agg") "spec: {aggregationLength: 24, peers: [ebgp4], "
						  "communities: [\"65000:1\"]}\n---\n"
				  ADV("web") "spec: {ipAddressPools: [blue], peers: [ebgp4], "
					     "serviceSelectors: [{matchLabels: {app: web}}], "
					     "communities: [\"65000:9\", nice]}\n");
	struct plan_node n = make_node(ND_Z1);
	struct plan_ctx *c = plan_ctx_new(cfg, &n, NULL);
	addr_t ip[3];
	assert_int_equal(addr_parse("10.1.0.5", &ip[0]), 0);
	assert_int_equal(addr_parse("10.1.0.200", &ip[1]), 0);
	assert_int_equal(addr_parse("10.2.0.1", &ip[2]), 0);
	struct plan_service s[3] = {
		{.key = "a/one", .ingress = &ip[0], .n_ingress = 1, .ep_anywhere = PLAN_EP_READY},
		{.key = "a/two", .ingress = &ip[1], .n_ingress = 1, .ep_anywhere = PLAN_EP_READY,
		 .labels = S_WEB, .n_labels = 1},
		{.key = "a/red", .ingress = &ip[2], .n_ingress = 1, .ep_anywhere = PLAN_EP_READY},
	};
	struct plan p;
	assert_int_equal(plan_build(c, s, 3, &p), 0);
	char *got = plan_text(&p);
	assert_string_equal(got, "ebgp4 10.1.0.0/24 communities 65000:1\n"
				 "ebgp4 10.1.0.200/32 communities 65000:9,65000:777\n"
				 "ebgp4 10.2.0.0/24 communities 65000:1\n");
	assert_int_equal(p.n_attrs, 2); /* the two /24 share one attribute set */
	assert_int_equal(p.peers[1].routes[0].attrs, p.peers[1].routes[2].attrs);
	free(got);
	plan_free(&p);

	/* The same prefix from one ad given by two services: one route. */
	ip[1] = ip[0];
	s[1].labels = NULL;
	s[1].n_labels = 0;
	assert_int_equal(plan_build(c, s, 2, &p), 0);
	got = plan_text(&p);
	assert_string_equal(got, "ebgp4 10.1.0.0/24 communities 65000:1\n");
	free(got);
	plan_free(&p);
	plan_ctx_free(c);
	config_free(cfg);
}

/* Aggregation folds two pools into one prefix with different localPref: ranges that are not
 * CIDR-aligned make it possible (lo = .0-.191 is /25 + /26, hi = .192-1.127 is /26 + /25, so
 * aggregationLength 25 is allowed for both, and .130 and .200 both become 10.5.0.128/25). The
 * loader cannot see it; the highest wins and the case is counted. */
static void test_local_pref_conflict_across_pools(void **state)
{
	(void)state;
	struct config *cfg = load(
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: lo}\n"
		"spec: {addresses: [10.5.0.0-10.5.0.191]}\n---\n"
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: hi}\n"
		"spec: {addresses: [10.5.0.192-10.5.1.127]}\n---\n"
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ibgp4}\n"
		"spec: {myASN: 64500, peerASN: 64500, peerAddress: 192.0.2.254}\n---\n"
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: ebgp4}\n"
		"spec: {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.253}\n---\n"
		ADV("a") "spec: {ipAddressPools: [lo], aggregationLength: 25, localPref: 100}\n---\n"
		ADV("b") "spec: {ipAddressPools: [hi], aggregationLength: 25, localPref: 300}\n");
	struct plan_node n = make_node(ND_Z1);
	struct plan_ctx *c = plan_ctx_new(cfg, &n, NULL);
	addr_t ip[2];
	assert_int_equal(addr_parse("10.5.0.130", &ip[0]), 0);
	assert_int_equal(addr_parse("10.5.0.200", &ip[1]), 0);
	struct plan_service s[2] = {
		{.key = "a/x", .ingress = &ip[0], .n_ingress = 1, .ep_anywhere = PLAN_EP_READY},
		{.key = "a/y", .ingress = &ip[1], .n_ingress = 1, .ep_anywhere = PLAN_EP_READY},
	};
	struct plan p;
	assert_int_equal(plan_build(c, s, 2, &p), 0);
	char *got = plan_text(&p);
	/* eBGP carries no localPref, so only the iBGP route counts as a conflict. */
	assert_string_equal(got, "ebgp4 10.5.0.128/25\nibgp4 10.5.0.128/25 local-pref 300\n"
				 "lp-conflicts 1\n");
	free(got);
	plan_free(&p);
	/* Twin: only one of them: no conflict. */
	assert_int_equal(plan_build(c, s, 1, &p), 0);
	got = plan_text(&p);
	assert_string_equal(got, "ebgp4 10.5.0.128/25\nibgp4 10.5.0.128/25 local-pref 100\n");
	free(got);
	plan_free(&p);
	plan_ctx_free(c);
	config_free(cfg);
}

/* ---------- contributions (the incremental interface) ---------- */

static void test_contribs(void **state)
{
	(void)state;
	struct config *cfg = load(BASE ALL "---\n" ADV("agg") "spec: {aggregationLength: 24}\n");
	struct plan_node n = make_node(ND_Z2);
	struct plan_ctx *c = plan_ctx_new(cfg, &n, NULL);
	addr_t ip;
	assert_int_equal(addr_parse("10.1.0.5", &ip), 0);
	struct plan_service s = {.ingress = &ip, .n_ingress = 1, .ep_anywhere = PLAN_EP_READY};
	struct plan_contrib *v = NULL;
	size_t nv = 0, cap = 0;
	/* z2 node: peers ebgp4(0) ebgp6(1) ibgp4(2); ads sorted by name: agg(0) all(1) */
	assert_int_equal(plan_service_contribs(c, &s, &v, &nv, &cap), PLAN_ANNOUNCED);
	assert_int_equal(nv, 4);
	char t[ADDR_STRLEN + 16];
	const char *want[4] = {"0 10.1.0.0/24", "0 10.1.0.5/32", "2 10.1.0.0/24", "2 10.1.0.5/32"};
	for (size_t i = 0; i < nv; i++) {
		char pf[ADDR_STRLEN];
		prefix_format(&v[i].prefix, pf, sizeof(pf));
		snprintf(t, sizeof(t), "%u %s", v[i].peer, pf);
		assert_string_equal(t, want[i]);
		assert_string_equal(cfg->bgpadvs[v[i].ad].name, v[i].prefix.len == 24 ? "agg" : "all");
	}
	/* Appends: a second service lands after the first, the first is untouched. */
	s.ep_anywhere = PLAN_EP_NONE;
	assert_int_equal(plan_service_contribs(c, &s, &v, &nv, &cap), PLAN_NO_ENDPOINTS);
	assert_int_equal(nv, 4);
	free(v);
	plan_ctx_free(c);
	config_free(cfg);
}

/* ---------- endpoints helper ---------- */

static void test_ep_state(void **state)
{
	(void)state;
	struct endpoint e[3] = {
		{.node_name = "n1", .ready = false, .serving = true, .terminating = true},
		{.node_name = "n2", .ready = true, .serving = true},
		{.node_name = NULL, .ready = true},
	};
	struct endpointslice s1 = {.endpoints = e, .n_endpoints = 1};
	struct endpointslice s2 = {.endpoints = e + 1, .n_endpoints = 2};
	const struct endpointslice *both[3] = {&s1, &s2, NULL};
	assert_int_equal(plan_ep_state(both, 3, NULL), PLAN_EP_READY);
	assert_int_equal(plan_ep_state(both, 3, "n1"), PLAN_EP_SERVING);
	assert_int_equal(plan_ep_state(both, 3, "n2"), PLAN_EP_READY);
	assert_int_equal(plan_ep_state(both, 3, "n3"), PLAN_EP_NONE);
	assert_int_equal(plan_ep_state(both, 1, NULL), PLAN_EP_SERVING);
	assert_int_equal(plan_ep_state(NULL, 0, NULL), PLAN_EP_NONE);
	e[0].serving = false; /* terminating and not serving: nothing */
	assert_int_equal(plan_ep_state(both, 1, NULL), PLAN_EP_NONE);
}

/* ---------- formatting ---------- */

static void test_format_and_names(void **state)
{
	(void)state;
	uint32_t comm[2] = {65000u << 16 | 1, 65535u << 16 | 65535};
	struct bgp_large_community lg[1] = {{4294967295u, 0, 7}};
	struct plan_attrs a = {.has_local_pref = true, .local_pref = 4294967295u, .communities = comm,
			       .n_communities = 2, .large = lg, .n_large = 1};
	struct plan p = {.attrs = &a, .n_attrs = 1};
	struct plan_route r = {.attrs = 0};
	char buf[200];
	assert_int_equal(prefix_parse("2001:db8::/64", &r.prefix, NULL), 0);
	const char *want = "2001:db8::/64 local-pref 4294967295 communities 65000:1,65535:65535 "
			   "large 4294967295:0:7";
	assert_int_equal(plan_route_format(&p, &r, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	/* Every shorter buffer: -1 and a NUL-terminated prefix of the text. */
	for (size_t n = 1; n <= strlen(want); n++) {
		assert_int_equal(plan_route_format(&p, &r, buf, n), -1);
		assert_int_equal(strlen(buf), n - 1 < strlen(want) ? n - 1 : strlen(want));
		assert_memory_equal(buf, want, strlen(buf));
	}
	assert_int_equal(plan_route_format(&p, &r, buf, 0), -1);
	for (int i = 0; i < PLAN_REASON_COUNT; i++)
		assert_string_not_equal(plan_reason_name((enum plan_reason)i), "unknown");
	assert_string_equal(plan_reason_name(PLAN_NO_LOCAL_ENDPOINT), "no-local-endpoint");
	assert_string_equal(plan_reason_name(PLAN_REASON_COUNT), "unknown");
}

/* ---------- properties ---------- */

/* Deterministic PRNG (xorshift), so a failure replays. */
static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

#define PCFG                                                                                      \
	BASE DUAL_PEER                                                                            \
	ADV("agg") "spec: {ipAddressPools: [red], aggregationLength: 28, aggregationLengthV6: 124, " \
		   "localPref: 120, communities: [\"65000:1\"]}\n---\n"                           \
	ADV("all") "spec: {localPref: 120, communities: [\"65000:2\", big]}\n---\n"                             \
	ADV("lp") "spec: {ipAddressPools: [blue], peers: [ibgp4, dual, ebgp6], localPref: 120, "  \
		  "communities: [nice]}\n---\n"                                                   \
	ADV("web") "spec: {serviceSelectors: [{matchLabels: {app: web}}], "                      \
		   "localPref: 120, communities: [\"large:7:7:7\"], nodeSelectors: [{matchLabels: {zone: z1}}]}\n"

struct rsvc {
	addr_t ips[2];
	struct kv labels[2];
	struct plan_service s;
};

static void random_services(struct rsvc *v, size_t n, uint64_t *seed)
{
	static const char *const pools[] = {"blue", "red", NULL, "gone"};
	for (size_t i = 0; i < n; i++) {
		struct rsvc *r = &v[i];
		memset(r, 0, sizeof(*r));
		uint32_t x = rnd(seed);
		if (x % 3)
			addr_from_v4(&r->ips[r->s.n_ingress++],
				     (x % 2 ? 0x0a010000u : 0x0a020000u) | (rnd(seed) % 40));
		if (x % 5 < 2) {
			assert_int_equal(addr_parse(x % 2 ? "2001:db8:1::" : "2001:db8:1::80",
						    &r->ips[r->s.n_ingress]), 0);
			r->ips[r->s.n_ingress].b[15] += (uint8_t)(rnd(seed) % 40);
			r->s.n_ingress++;
		}
		r->s.ingress = r->ips;
		r->s.key = "x/y";
		r->s.etp = rnd(seed) % 2 ? SVC_ETP_LOCAL : SVC_ETP_CLUSTER;
		r->s.ep_anywhere = (enum plan_ep)(rnd(seed) % 3);
		r->s.ep_here = r->s.ep_anywhere ? (enum plan_ep)(rnd(seed) % (r->s.ep_anywhere + 1)) : 0;
		r->s.pool = pools[rnd(seed) % 4];
		r->labels[0] = (struct kv){"tier", rnd(seed) % 2 ? "a" : "b"};
		r->labels[1] = (struct kv){"app", rnd(seed) % 2 ? "web" : "db"};
		r->s.labels = r->labels;
		r->s.n_labels = rnd(seed) % 3;
	}
}

/* Shuffle services, each service's IPs and labels, and (for the node) its labels. */
static void shuffle(struct rsvc *v, size_t n, uint64_t *seed)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd(seed) % i;
		struct rsvc t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		struct rsvc *r = &v[i];
		r->s.ingress = r->ips;
		r->s.labels = r->labels;
		if (r->s.n_ingress == 2 && rnd(seed) % 2) {
			addr_t t = r->ips[0];
			r->ips[0] = r->ips[1];
			r->ips[1] = t;
		}
		if (r->s.n_labels == 2 && rnd(seed) % 2) {
			struct kv t = r->labels[0];
			r->labels[0] = r->labels[1];
			r->labels[1] = t;
		}
	}
}

static char *build_text(const struct plan_ctx *c, const struct rsvc *v, size_t n)
{
	struct plan_service *s = calloc(n + 1, sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = v[i].s;
	struct plan p;
	assert_int_equal(plan_build(c, s, n, &p), 0);
	char *t = plan_text(&p);
	/* invariants: routes strictly ascending per peer; attrs distinct and in range */
	for (size_t i = 0; i < p.n_peers; i++)
		for (size_t k = 0; k < p.peers[i].n_routes; k++) {
			assert_true(p.peers[i].routes[k].attrs < p.n_attrs);
			if (k) {
				const prefix_t *a = &p.peers[i].routes[k - 1].prefix;
				const prefix_t *b = &p.peers[i].routes[k].prefix;
				int cmp = addr_cmp(&a->a, &b->a);
				assert_true(cmp < 0 || (cmp == 0 && a->len < b->len));
			}
		}
	for (size_t i = 0; i + 1 < p.n_attrs; i++) {
		const struct plan_attrs *a = &p.attrs[i], *b = &p.attrs[i + 1];
		assert_false(a->has_local_pref == b->has_local_pref && a->local_pref == b->local_pref &&
			     a->n_communities == b->n_communities && a->n_large == b->n_large &&
			     (a->n_communities == 0 ||
			      !memcmp(a->communities, b->communities, a->n_communities * 4)) &&
			     (a->n_large == 0 || !memcmp(a->large, b->large, a->n_large * 12)));
	}
	plan_free(&p);
	free(s);
	return t;
}

static void test_every_input_order_same_plan(void **state)
{
	(void)state;
	struct config *cfg = load(PCFG);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int node = ND_Z1; node <= ND_Z2; node++) {
		struct plan_node n = make_node((enum tnode)node);
		struct plan_ctx *c = plan_ctx_new(cfg, &n, NULL);
		assert_non_null(c);
		for (int round = 0; round < 20; round++) {
			size_t cnt = 1 + rnd(&seed) % 60;
			struct rsvc *v = calloc(cnt, sizeof(*v));
			assert_non_null(v);
			random_services(v, cnt, &seed);
			char *first = build_text(c, v, cnt);
			for (int k = 0; k < 10; k++) {
				shuffle(v, cnt, &seed);
				char *again = build_text(c, v, cnt);
				assert_string_equal(again, first);
				free(again);
			}
			free(first);
			free(v);
		}
		plan_ctx_free(c);
	}
	config_free(cfg);
}

/* The plan equals a naive model: for every (peer, prefix), the routes of one-service plans merged
 * by hand (union of communities, highest localPref) give exactly the route of the whole plan, and
 * the whole plan has no other route. */
struct universe {
	uint64_t v[64]; /* community values seen; large ones tagged with bit 63 */
	size_t n;
};

static uint64_t bit_of(struct universe *u, uint64_t x)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i] == x)
			return 1ull << i;
	assert_true(u->n < 64);
	u->v[u->n] = x;
	return 1ull << u->n++;
}

static uint64_t attrs_mask(struct universe *u, const struct plan_attrs *a)
{
	uint64_t m = 0;
	for (size_t i = 0; i < a->n_communities; i++)
		m |= bit_of(u, a->communities[i]);
	for (size_t i = 0; i < a->n_large; i++)
		m |= bit_of(u, (1ull << 63) | (((uint64_t)a->large[i].global << 40) ^
					       ((uint64_t)a->large[i].local1 << 20) ^ a->large[i].local2));
	return m;
}

static const struct plan_route *find_route(const struct plan_peer *pp, const prefix_t *x)
{
	for (size_t k = 0; k < pp->n_routes; k++)
		if (addr_eq(&pp->routes[k].prefix.a, &x->a) && pp->routes[k].prefix.len == x->len)
			return &pp->routes[k];
	return NULL;
}

static void test_plan_is_union_of_single_service_plans(void **state)
{
	(void)state;
	struct config *cfg = load(PCFG);
	struct plan_node n = make_node(ND_Z1);
	struct plan_ctx *c = plan_ctx_new(cfg, &n, NULL);
	uint64_t seed = 42;
	size_t cnt = 120, total = 0;
	struct rsvc *v = calloc(cnt, sizeof(*v));
	struct plan_service *s = calloc(cnt, sizeof(*s));
	assert_non_null(v);
	assert_non_null(s);
	random_services(v, cnt, &seed);
	for (size_t i = 0; i < cnt; i++)
		s[i] = v[i].s;
	struct plan whole;
	assert_int_equal(plan_build(c, s, cnt, &whole), 0);
	for (size_t a = 0; a < whole.n_peers; a++)
		total += whole.peers[a].n_routes;
	assert_true(total > 20);
	struct universe u = {0};
	uint64_t *mask = calloc(total + 1, sizeof(*mask));
	int64_t *lp = calloc(total + 1, sizeof(*lp));
	assert_non_null(mask);
	assert_non_null(lp);
	for (size_t i = 0; i < total; i++)
		lp[i] = -1;
	for (size_t i = 0; i < cnt; i++) {
		struct plan one;
		assert_int_equal(plan_build(c, &s[i], 1, &one), 0);
		assert_int_equal(one.reasons[0], whole.reasons[i]);
		for (size_t a = 0; a < one.n_peers; a++)
			for (size_t k = 0; k < one.peers[a].n_routes; k++) {
				const struct plan_route *r = &one.peers[a].routes[k];
				const struct plan_attrs *at = &one.attrs[r->attrs];
				const struct plan_route *w = find_route(&whole.peers[a], &r->prefix);
				assert_non_null(w); /* nothing missing from the whole plan */
				size_t idx = (size_t)(w - whole.peers[a].routes);
				for (size_t b = 0; b < a; b++)
					idx += whole.peers[b].n_routes;
				mask[idx] |= attrs_mask(&u, at);
				if (at->has_local_pref && (int64_t)at->local_pref > lp[idx])
					lp[idx] = at->local_pref;
			}
		plan_free(&one);
	}
	for (size_t a = 0, idx = 0; a < whole.n_peers; a++)
		for (size_t k = 0; k < whole.peers[a].n_routes; k++, idx++) {
			const struct plan_attrs *at = &whole.attrs[whole.peers[a].routes[k].attrs];
			/* every route of the whole plan came from some service, with exactly the merged
			 * attributes */
			assert_true(mask[idx] != 0 || at->n_communities + at->n_large == 0);
			assert_true(mask[idx] == attrs_mask(&u, at));
			assert_int_equal(at->has_local_pref ? (int64_t)at->local_pref : -1, lp[idx]);
		}
	free(mask);
	free(lp);
	plan_free(&whole);
	free(s);
	free(v);
	plan_ctx_free(c);
	config_free(cfg);
}

/* 100,000 services (the benchmark's size): builds, every prefix present once per peer. */
static void test_large(void **state)
{
	(void)state;
	struct config *cfg = load(
		"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: big}\n"
		"spec: {addresses: [10.64.0.0/12]}\n---\n"
		"apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: r}\n"
		"spec: {myASN: 64500, peerASN: 64500, peerAddress: 192.0.2.254}\n---\n"
		ADV("all") "spec: {communities: [\"65000:1\"]}\n");
	struct plan_node n = make_node(ND_Z1);
	struct plan_ctx *c = plan_ctx_new(cfg, &n, NULL);
	size_t cnt = 100000;
	addr_t *ips = calloc(cnt, sizeof(*ips));
	struct plan_service *s = calloc(cnt, sizeof(*s));
	assert_non_null(ips);
	assert_non_null(s);
	for (size_t i = 0; i < cnt; i++) {
		addr_from_v4(&ips[i], 0x0a400000u + (uint32_t)((i * 7919) % cnt));
		s[i] = (struct plan_service){.key = "k", .ingress = &ips[i], .n_ingress = 1,
					     .ep_anywhere = PLAN_EP_READY, .pool = "big"};
	}
	struct plan p;
	assert_int_equal(plan_build(c, s, cnt, &p), 0);
	assert_int_equal(p.n_peers, 1);
	assert_int_equal(p.peers[0].n_routes, cnt);
	assert_int_equal(p.n_attrs, 1);
	assert_int_equal(addr_v4(&p.peers[0].routes[0].prefix.a), 0x0a400000u);
	assert_int_equal(addr_v4(&p.peers[0].routes[cnt - 1].prefix.a), 0x0a400000u + cnt - 1);
	plan_free(&p);
	free(s);
	free(ips);
	plan_ctx_free(c);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_peers_of_node),
		cmocka_unit_test(test_merge_across_services),
		cmocka_unit_test(test_local_pref_conflict_across_pools),
		cmocka_unit_test(test_contribs),
		cmocka_unit_test(test_ep_state),
		cmocka_unit_test(test_format_and_names),
		cmocka_unit_test(test_every_input_order_same_plan),
		cmocka_unit_test(test_plan_is_union_of_single_service_plans),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
