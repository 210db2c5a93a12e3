/* SPDX-License-Identifier: Apache-2.0 */
/* test_config: the config loader in CRD form: samples, values, defaults, a table of bad configs
 * with exact positions, cross-object checks, limits and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barelb/config.h"
#include "config_internal.h"

#define CRD_DIR "test/data/metallb/crd"

static int load(const char *text, struct config **c, struct cfg_diags *d)
{
	memset(d, 0, sizeof(*d));
	return config_load_buf("cfg.yaml", text, strlen(text), c, d);
}

static void dump(const struct cfg_diags *d)
{
	cfg_diags_print(d, stdout);
}

static const struct cfg_diag *find_diag(const struct cfg_diags *d, enum cfg_diag_level lvl,
					const char *sub)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == lvl && strstr(d->v[i].msg, sub))
			return &d->v[i];
	return NULL;
}

/* ---------- samples ---------- */

static void test_samples_load(void **state)
{
	(void)state;
	DIR *dir = opendir(CRD_DIR);
	assert_non_null(dir);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(dir))) {
		if (!strstr(e->d_name, ".yaml"))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", CRD_DIR, e->d_name);
		struct cfg_diags d = {0};
		struct config *c = NULL;
		int rc = config_load_file(path, &c, &d);
		if (rc != 0 || d.n_errors)
			dump(&d);
		assert_int_equal(rc, 0);
		assert_int_equal(d.n_errors, 0);
		assert_non_null(c);
		if (strncmp(e->d_name, "deployment_", 11) == 0) {
			const struct cfg_diag *n = find_diag(&d, CFG_NOTE, "skipping Deployment \"nginx\"");
			assert_non_null(n);
			assert_non_null(find_diag(&d, CFG_NOTE, "skipping Service \"nginx\": not a barelb config kind"));
			assert_int_equal(c->n_pools, 1);
		}
		config_free(c);
		cfg_diags_free(&d);
		files++;
	}
	closedir(dir);
	assert_true(files >= 18);
}

static struct config *load_file_ok(const char *name, struct cfg_diags *d)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", CRD_DIR, name);
	memset(d, 0, sizeof(*d));
	struct config *c = NULL;
	int rc = config_load_file(path, &c, d);
	if (rc)
		dump(d);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

static void test_sample_pool_with_selector(void **state)
{
	(void)state;
	struct cfg_diags d;
	struct config *c = load_file_ok("ipaddresspool_with_selector.yaml", &d);
	assert_int_equal(c->n_pools, 1);
	const struct cfg_pool *p = config_find_pool(c, "ippool-ns-service-alloc-sample");
	assert_non_null(p);
	assert_int_equal(p->n_addresses, 1);
	assert_string_equal(p->addresses[0], "192.168.20.0/24");
	assert_int_equal(p->n_cidrs, 1);
	assert_int_equal(p->cidrs[0].len, 24);
	assert_true(p->auto_assign);
	assert_true(p->avoid_buggy_ips);
	assert_true(p->has_service_allocation);
	assert_int_equal(p->priority, 50);
	assert_int_equal(p->n_namespaces, 2);
	assert_string_equal(p->namespaces[0], "namespace-a");
	assert_string_equal(p->namespaces[1], "namespace-b");
	assert_int_equal(p->n_namespace_selectors, 1);
	assert_int_equal(p->namespace_selectors[0].n_labels, 1);
	assert_string_equal(p->namespace_selectors[0].labels[0].key, "foo");
	assert_string_equal(p->namespace_selectors[0].labels[0].value, "bar");
	assert_int_equal(p->n_service_selectors, 1);
	const struct cfg_selector *s = &p->service_selectors[0];
	assert_int_equal(s->n_exprs, 1);
	assert_string_equal(s->exprs[0].key, "app");
	assert_int_equal(s->exprs[0].op, CFG_SEL_IN);
	assert_int_equal(s->exprs[0].n_values, 1);
	assert_string_equal(s->exprs[0].values[0], "bar");
	assert_int_equal(p->line, 1);
	config_free(c);
	cfg_diags_free(&d);
}

static void test_sample_peer_with_secret(void **state)
{
	(void)state;
	struct cfg_diags d;
	struct config *c = load_file_ok("bgppeer_withsecret.yaml", &d);
	const struct cfg_peer *p = config_find_peer(c, "peer-with-secret");
	assert_non_null(p);
	assert_int_equal(p->hold_time, 540);
	assert_int_equal(p->keepalive_time, 0);
	assert_int_equal(p->my_asn, 64512);
	assert_int_equal(p->peer_asn, 64512);
	assert_int_equal(p->peer_port, 179);
	assert_true(p->has_peer_address);
	char buf[ADDR_STRLEN];
	addr_format(&p->peer_address, buf, sizeof(buf));
	assert_string_equal(buf, "172.30.0.3");
	assert_string_equal(p->password_secret_name, "secretname");
	assert_null(p->password_secret_namespace);
	assert_null(p->password);
	assert_non_null(find_diag(&d, CFG_WARNING, "does not read Secrets yet; the session to this peer runs without TCP-MD5"));
	config_free(c);
	cfg_diags_free(&d);
}

static void test_sample_others(void **state)
{
	(void)state;
	struct cfg_diags d;
	struct config *c = load_file_ok("ipaddresspool_simple.yaml", &d);
	const struct cfg_pool *p = &c->pools[0];
	assert_int_equal(p->n_addresses, 3);
	/* 192.168.9.1-192.168.9.5 = .1/32 .2/31 .4/31 */
	assert_int_equal(p->n_cidrs, 5);
	assert_int_equal(p->cidrs[1].len, 32);
	assert_int_equal(p->cidrs[4].a.family, p->ranges[2].lo.family);
	assert_int_equal(p->cidrs[4].len, 124);
	config_free(c);
	cfg_diags_free(&d);

	c = load_file_ok("bgpadvertisement_community_alias.yaml", &d);
	assert_int_equal(c->n_bgpadvs, 1);
	assert_int_equal(c->n_aliases, 1);
	assert_string_equal(c->aliases[0].owner, "community1");
	const struct cfg_bgpadv *a = &c->bgpadvs[0];
	assert_int_equal(a->n_communities, 1);
	assert_false(a->community_values[0].large);
	assert_int_equal(a->community_values[0].a, 65535);
	assert_int_equal(a->community_values[0].b, 65282);
	assert_true(a->has_local_pref);
	assert_int_equal(a->local_pref, 150);
	config_free(c);
	cfg_diags_free(&d);

	c = load_file_ok("bgppeer_with_session_options.yaml", &d);
	assert_true(c->peers[0].has_connect_time);
	assert_int_equal(c->peers[0].connect_time, 120);
	assert_int_equal(c->peers[0].hold_time, 90);
	assert_int_equal(c->peers[0].keepalive_time, 30);
	config_free(c);
	cfg_diags_free(&d);

	c = load_file_ok("bgppeer_with_bfdprofile.yaml", &d);
	assert_int_equal(c->n_bfds, 1);
	assert_int_equal(c->bfds[0].receive_interval, 380);
	assert_int_equal(c->bfds[0].transmit_interval, 270);
	assert_int_equal(c->bfds[0].detect_multiplier, 3);
	assert_int_equal(c->bfds[0].echo_interval, 50);
	assert_int_equal(c->bfds[0].minimum_ttl, 254);
	assert_string_equal(c->peers[0].bfd_profile, "testbfdprofile");
	assert_non_null(find_diag(&d, CFG_WARNING, "does not implement BFD"));
	config_free(c);
	cfg_diags_free(&d);

	c = load_file_ok("bgppeer_with_vrf.yaml", &d);
	assert_string_equal(c->peers[0].vrf, "red");
	assert_non_null(find_diag(&d, CFG_WARNING, "does not implement VRFs"));
	config_free(c);
	cfg_diags_free(&d);

	c = load_file_ok("bgpadvertisement_with_node_selector.yaml", &d);
	assert_int_equal(c->bgpadvs[0].n_node_selectors, 2);
	assert_string_equal(c->bgpadvs[0].node_selectors[1].labels[0].value, "kind-worker");
	/* a fragment with no pools: the missing pool is a warning, not an error */
	assert_non_null(find_diag(&d, CFG_WARNING, "IPAddressPool \"first-pool\" is not defined"));
	config_free(c);
	cfg_diags_free(&d);
}

/* ---------- defaults and a complete config ---------- */

static const char *full_config =
	"apiVersion: metallb.io/v1beta1\n"
	"kind: IPAddressPool\n"
	"metadata: {name: zeta, namespace: metallb-system, labels: {tier: public}}\n"
	"spec:\n"
	"  addresses: [\"192.168.10.0/24\", \"192.168.9.1-192.168.9.5\", \"fc00:f853:ccd:e799::/124\"]\n"
	"---\n"
	"apiVersion: barelb.io/v1\n"
	"kind: IPAddressPool\n"
	"metadata: {name: alpha}\n"
	"spec: {addresses: [10.0.0.0/28], autoAssign: false}\n"
	"---\n"
	"apiVersion: metallb.io/v1beta1\n"
	"kind: L2Advertisement\n"
	"metadata: {name: l2}\n"
	"spec:\n"
	"  ipAddressPoolSelectors: [{matchLabels: {tier: public}}]\n"
	"  interfaces: [eth0]\n"
	"  preferredNodeSelectors: [{weight: 100, preference: {matchLabels: {node-role: edge}}}]\n"
	"---\n"
	"apiVersion: metallb.io/v1beta1\n"
	"kind: BFDProfile\n"
	"metadata: {name: fast}\n"
	"---\n"
	"apiVersion: metallb.io/v1beta2\n"
	"kind: BGPPeer\n"
	"metadata: {name: tor1}\n"
	"spec:\n"
	"  myASN: 64512\n"
	"  peerASN: 64513\n"
	"  peerAddress: 172.30.0.3\n"
	"  sourceAddress: 172.30.0.2\n"
	"  keepaliveTime: 20s\n"
	"  routerID: 10.0.0.1\n"
	"  password: \"x\"\n"
	"  passwordSecret: {}\n"
	"  enableGracefulRestart: true\n"
	"  vrf: \"\"\n"
	"  nodeSelectors: [{matchLabels: {rack: r1}}]\n"
	"---\n"
	"apiVersion: metallb.io/v1beta1\n"
	"kind: BGPPeer\n"
	"metadata: {name: a-peer}\n"
	"spec: {myASN: 64512, peerASN: 64512, peerAddress: \"fc00::1\", holdTime: 1m30s}\n"
	"---\n"
	"apiVersion: metallb.io/v1beta1\n"
	"kind: Community\n"
	"metadata: {name: communities}\n"
	"spec:\n"
	"  communities:\n"
	"  - {name: no-advertise, value: \"65535:65282\"}\n"
	"  - {name: big, value: \"large:64512:1:2\"}\n"
	"---\n"
	"apiVersion: metallb.io/v1beta1\n"
	"kind: BGPAdvertisement\n"
	"metadata: {name: local}\n"
	"spec:\n"
	"  ipAddressPools: [alpha]\n"
	"  aggregationLength: 28\n"
	"  localPref: 100\n"
	"  communities: [no-advertise, \"64512:7\", big]\n"
	"  peers: [tor1]\n"
	"---\n"
	"apiVersion: metallb.io/v1beta1\n"
	"kind: BGPAdvertisement\n"
	"metadata: {name: defaults}\n"
	"spec: {peers: [a-peer]}\n"
	"---\n";

static void test_full_and_defaults(void **state)
{
	(void)state;
	struct config *c;
	struct cfg_diags d;
	int rc = load(full_config, &c, &d);
	if (rc)
		dump(&d);
	assert_int_equal(rc, 0);
	/* sorted by name */
	assert_int_equal(c->n_pools, 2);
	assert_string_equal(c->pools[0].name, "alpha");
	assert_string_equal(c->pools[1].name, "zeta");
	assert_false(c->pools[0].auto_assign);
	assert_true(c->pools[1].auto_assign);
	assert_false(c->pools[1].avoid_buggy_ips);
	assert_false(c->pools[1].has_service_allocation);
	assert_int_equal(c->pools[1].n_labels, 1);
	assert_string_equal(c->pools[1].labels[0].key, "tier");
	assert_int_equal(c->pools[1].line, 1);
	assert_int_equal(c->pools[0].line, 7);

	assert_int_equal(c->n_peers, 2);
	assert_string_equal(c->peers[0].name, "a-peer");
	assert_int_equal(c->peers[0].hold_time, 90);
	assert_int_equal(c->peers[0].keepalive_time, 30);
	assert_int_equal(c->peers[0].peer_port, 179);
	const struct cfg_peer *t = &c->peers[1];
	assert_string_equal(t->name, "tor1");
	assert_int_equal(t->keepalive_time, 20);
	assert_int_equal(t->hold_time, 60); /* only keepalive given: hold = 3 x keepalive */
	assert_true(t->has_router_id);
	assert_true(t->has_source_address);
	assert_string_equal(t->password, "x");
	assert_null(t->password_secret_name); /* {} counts as unset */
	assert_true(t->enable_graceful_restart);
	assert_null(t->vrf);
	assert_int_equal(t->n_node_selectors, 1);

	assert_int_equal(c->n_bfds, 1);
	assert_int_equal(c->bfds[0].receive_interval, 300);
	assert_int_equal(c->bfds[0].transmit_interval, 300);
	assert_int_equal(c->bfds[0].detect_multiplier, 3);
	assert_int_equal(c->bfds[0].echo_interval, 50);
	assert_int_equal(c->bfds[0].minimum_ttl, 254);
	assert_false(c->bfds[0].echo_mode);

	assert_int_equal(c->n_bgpadvs, 2);
	const struct cfg_bgpadv *def = &c->bgpadvs[0], *loc = &c->bgpadvs[1];
	assert_string_equal(def->name, "defaults");
	assert_int_equal(def->aggregation_length, 32);
	assert_int_equal(def->aggregation_length_v6, 128);
	assert_false(def->has_local_pref);
	assert_int_equal(loc->aggregation_length, 28);
	assert_int_equal(loc->n_communities, 3);
	assert_int_equal(loc->community_values[0].b, 65282);
	assert_int_equal(loc->community_values[1].a, 64512);
	assert_int_equal(loc->community_values[1].b, 7);
	assert_true(loc->community_values[2].large);
	assert_int_equal(loc->community_values[2].c, 2);

	assert_int_equal(c->n_l2advs, 1);
	assert_int_equal(c->l2advs[0].n_preferred, 1);
	assert_int_equal(c->l2advs[0].preferred[0].weight, 100);
	assert_int_equal(c->n_aliases, 2);
	assert_string_equal(c->aliases[0].name, "big"); /* sorted by owner then name */
	assert_int_equal(d.n_errors, 0);
	config_free(c);
	cfg_diags_free(&d);
}

static void test_list_and_kubectl_output(void **state)
{
	(void)state;
	const char *t =
		"apiVersion: v1\n"
		"kind: List\n"
		"items:\n"
		"- apiVersion: metallb.io/v1beta1\n"
		"  kind: IPAddressPool\n"
		"  metadata:\n"
		"    annotations: {kubectl.kubernetes.io/last-applied-configuration: \"{}\"}\n"
		"    creationTimestamp: \"2024-01-01T00:00:00Z\"\n"
		"    generation: 1\n"
		"    managedFields: [{manager: kubectl, operation: Update}]\n"
		"    name: prod\n"
		"    namespace: metallb-system\n"
		"    resourceVersion: \"123\"\n"
		"    uid: 0b7c2a4e-0000-0000-0000-000000000000\n"
		"  spec:\n"
		"    addresses: [10.0.0.0/24]\n"
		"  status: {assignedIPv4: 0, availableIPv4: 256}\n"
		"- apiVersion: metallb.io/v1beta1\n"
		"  kind: ServiceL2Status\n"
		"  metadata: {name: l2-abc}\n"
		"metadata: {resourceVersion: \"\"}\n";
	struct config *c;
	struct cfg_diags d;
	int rc = load(t, &c, &d);
	if (rc)
		dump(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(c->n_pools, 1);
	assert_non_null(find_diag(&d, CFG_NOTE, "skipping ServiceL2Status \"l2-abc\""));
	config_free(c);
	cfg_diags_free(&d);
}

/* ---------- the table of bad configs ---------- */

#define POOL_HDR                                                                               \
	"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: prod\nspec:\n"
#define PEER_HDR "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n"
#define PEER_MIN "  myASN: 64512\n  peerASN: 64513\n  peerAddress: 10.0.0.1\n"
#define ADV_HDR                                                                                \
	"apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: adv\nspec:\n"
#define L2_HDR                                                                                 \
	"apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata:\n  name: l2\nspec:\n"
#define BFD_HDR "apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata:\n  name: b\nspec:\n"
#define COMM_HDR "apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata:\n  name: c\nspec:\n"
/* 6 lines: a pool "p" with 10.0.0.0/24, then "---" */
#define POOL_P "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n" \
	       "  addresses: [10.0.0.0/24]\n---\n"
#define PEER_T "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: t\nspec:\n"   \
	       "  myASN: 1\n  peerASN: 2\n  peerAddress: 10.0.0.1\n---\n"

struct bad {
	const char *yaml;
	int line, col;
	const char *msg;
};

static const struct bad bad_configs[] = {
	/* IPAddressPool */
	{POOL_HDR "  addresses:\n  - 10.0.0.0/24\n  - 10.0.0.300/24\n", 8, 5,
	 "IPAddressPool \"prod\": spec.addresses[1]: \"10.0.0.300/24\" is not a CIDR or start-end range"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n  autoassign: true\n", 7, 3,
	 "IPAddressPool \"prod\": spec.autoassign: unknown field, did you mean \"autoAssign\"?"},
	{POOL_HDR "  addresses: []\n", 6, 14, "spec.addresses: at least one address"},
	{POOL_HDR "  autoAssign: true\n", 6, 3, "spec.addresses: required field missing"},
	{POOL_HDR "  addresses: [10.0.0.9-10.0.0.1]\n", 6, 15, "starts after it ends"},
	{POOL_HDR "  addresses: [\"10.0.0.1-fc00::1\"]\n", 6, 15, "mixes IPv4 and IPv6"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n  autoAssign: \"yes\"\n", 7, 15,
	 "spec.autoAssign: expected true or false"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n  serviceAllocation:\n    priority: -1\n", 8, 15,
	 "spec.serviceAllocation.priority: -1 is out of range"},
	{POOL_HDR "  addresses: [10.0.0.0/24, 10.0.0.128/25]\n", 6, 28,
	 "spec.addresses[1]: \"10.0.0.128/25\" overlaps \"10.0.0.0/24\" (IPAddressPool \"prod\" spec.addresses[0]"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n---\n"
		  "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: dev\nspec:\n"
		  "  addresses: [10.0.0.5-10.0.0.6]\n", 13, 15,
	 "IPAddressPool \"dev\": spec.addresses[0]: \"10.0.0.5-10.0.0.6\" overlaps \"10.0.0.0/24\" (IPAddressPool \"prod\""},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n---\n" POOL_HDR "  addresses: [10.1.0.0/24]\n", 8, 1,
	 "IPAddressPool \"prod\": metadata.name: duplicate name"},
	{"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: Prod_1\nspec:\n"
	 "  addresses: [10.0.0.0/24]\n", 4, 9, "metadata.name: \"Prod_1\" is not a valid name"},
	{"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  namespace: x\nspec:\n"
	 "  addresses: [10.0.0.0/24]\n", 4, 3, "IPAddressPool: metadata.name: required field missing"},
	{"apiVersion: metallb.io/v1beta2\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n"
	 "  addresses: [10.0.0.0/24]\n", 1, 13, "apiVersion: \"metallb.io/v1beta2\" is not a version of IPAddressPool"},
	{"apiVersion: metallb.io/v1beta1\nkind: IPAdressPool\nmetadata:\n  name: p\n", 2, 7,
	 "kind: \"IPAdressPool\" is not a kind of metallb.io/v1beta1"},
	{"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspecs:\n"
	 "  addresses: [10.0.0.0/24]\n", 5, 1, "specs: unknown field, did you mean \"spec\"?"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n  addresses: [10.1.0.0/24]\n", 7, 3,
	 "spec.addresses: duplicate key"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n  serviceAllocation:\n    namespaceSelectors:\n"
		  "    - matchExpressions:\n      - {key: team, operator: Inn, values: [a]}\n", 10, 31,
	 "operator: \"Inn\" is not an operator"},
	{POOL_HDR "  addresses: [10.0.0.0/24]\n  serviceAllocation:\n    serviceSelectors:\n"
		  "    - matchExpressions:\n      - {key: app, operator: In}\n", 10, 9,
	 "values: In needs at least one value"},
	{"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\n"
	 "  labels: {\"bad key!\": x}\nspec:\n  addresses: [10.0.0.0/24]\n", 5, 12,
	 "metadata.labels.bad key!: \"bad key!\" is not a valid label key"},
	{POOL_HDR "- a\n", 6, 1, "spec: expected a mapping, got a list"},
	/* BGPPeer */
	{PEER_HDR "  peerASN: 64513\n  peerAddress: 10.0.0.1\n", 6, 3, "spec.myASN: required field missing"},
	{PEER_HDR "  myASN: 0\n  peerASN: 1\n  peerAddress: 10.0.0.1\n", 6, 10,
	 "BGPPeer \"tor\": spec.myASN: 0 is out of range, expected 1..4294967295"},
	{PEER_HDR "  myASN: 1\n  peerAddress: 10.0.0.1\n", 6, 3, "spec.peerASN: required field missing"},
	{PEER_HDR PEER_MIN "  dynamicASN: external\n", 9, 15,
	 "spec.dynamicASN: cannot be set together with peerASN"},
	{PEER_HDR "  myASN: 1\n  dynamicASN: outer\n  peerAddress: 10.0.0.1\n", 7, 15,
	 "spec.dynamicASN: \"outer\" is not allowed, expected internal or external"},
	{PEER_HDR "  myASN: 1\n  peerASN: 2\n", 6, 3, "spec.peerAddress: required field missing"},
	{PEER_HDR PEER_MIN "  interface: eth0\n", 9, 14,
	 "spec.interface: cannot be set together with peerAddress"},
	{PEER_HDR "  myASN: 1\n  peerASN: 2\n  peerAddress: 10.0.0.256\n", 8, 16,
	 "spec.peerAddress: \"10.0.0.256\" is not an IP address"},
	{PEER_HDR PEER_MIN "  peerPort: 20000\n", 9, 13, "spec.peerPort: 20000 is out of range, expected 1..16384"},
	{PEER_HDR PEER_MIN "  holdTime: 2s\n", 9, 13, "spec.holdTime: 2s is too short, expected 0s or at least 3s"},
	{PEER_HDR PEER_MIN "  holdTime: 30s\n  keepaliveTime: 60s\n", 10, 18,
	 "spec.keepaliveTime: 60s is longer than holdTime 30s"},
	{PEER_HDR PEER_MIN "  holdTime: 90\n", 9, 13, "spec.holdTime: \"90\" has no unit"},
	{PEER_HDR PEER_MIN "  holdTime: 1x\n", 9, 13, "spec.holdTime: \"1x\" is not a duration"},
	{PEER_HDR PEER_MIN "  connectTime: 1500ms\n", 9, 16,
	 "spec.connectTime: \"1500ms\" is not allowed, expected whole seconds from 1s to 65535s"},
	{PEER_HDR PEER_MIN "  routerID: \"fc00::1\"\n", 9, 13, "spec.routerID: \"fc00::1\" is an IPv6 address"},
	{PEER_HDR PEER_MIN "  password: x\n  passwordSecret:\n    name: s\n", 11, 5,
	 "spec.passwordSecret: cannot be set together with password"},
	{PEER_HDR PEER_MIN "  bfdProfile: nope\n", 9, 15, "spec.bfdProfile: BFDProfile \"nope\" is not defined"},
	{PEER_HDR "  myASN: 64512\n  peerASN: 64512\n  peerAddress: 10.0.0.1\n  ebgpMultiHop: true\n", 9,
	 17, "spec.ebgpMultiHop: true is only for eBGP"},
	{"apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata:\n  name: tor\nspec:\n" PEER_MIN
	 "  vrf: red\n", 9, 3, "spec.vrf: unknown field in metallb.io/v1beta1"},
	{PEER_HDR PEER_MIN "  sourceAddress: \"fc00::2\"\n", 9, 18,
	 "spec.sourceAddress: an IPv6 address for an IPv4 peerAddress"},
	{PEER_HDR PEER_MIN "  myAsn: 3\n", 9, 3, "spec.myAsn: unknown field, did you mean \"myASN\"?"},
	{PEER_HDR "  myASN: \"64512\"\n  peerASN: 2\n  peerAddress: 10.0.0.1\n", 6, 10,
	 "spec.myASN: expected an integer, got \"64512\" (quoted, so a string)"},
	/* BFDProfile */
	{BFD_HDR "  receiveInterval: 5\n", 6, 20, "spec.receiveInterval: 5 is out of range, expected 10..60000"},
	{BFD_HDR "  detectMultiplier: 1\n", 6, 21, "expected 2..255"},
	{BFD_HDR "  minimumTtl: 255\n", 6, 15, "spec.minimumTtl: 255 is out of range, expected 1..254"},
	/* Community */
	{COMM_HDR "  communities:\n  - name: a\n    value: 65536:1\n", 8, 12,
	 "spec.communities[0].value: \"65536:1\" is not a valid community"},
	{COMM_HDR "  communities:\n  - {name: a, value: \"1:1\"}\n---\n"
		  "apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata:\n  name: d\nspec:\n"
		  "  communities:\n  - {name: a, value: \"2:2\"}\n", 15, 12,
	 "Community \"d\": alias \"a\" is already defined in Community \"c\""},
	{COMM_HDR "  communities:\n  - {value: \"1:1\"}\n", 7, 5, "spec.communities[0].name: required field missing"},
	/* BGPAdvertisement */
	{ADV_HDR "  aggregationLength: 33\n", 6, 22, "spec.aggregationLength: 33 is out of range, expected 0..32"},
	{ADV_HDR "  aggregationLengthV6: 129\n", 6, 24, "expected 0..128"},
	{POOL_P ADV_HDR "  aggregationLength: 16\n", 13, 22,
	 "BGPAdvertisement \"adv\": spec.aggregationLength: 16 is shorter than the /24 prefix of \"10.0.0.0/24\" in IPAddressPool \"p\", expected at least 24"},
	{"apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: p\nspec:\n"
	 "  addresses: [\"fc00::/64\"]\n---\n" ADV_HDR "  aggregationLengthV6: 48\n", 13, 24,
	 "spec.aggregationLengthV6: 48 is shorter than the /64 prefix"},
	{ADV_HDR "  aggregationLength: 24\n  serviceSelectors: [{matchLabels: {a: b}}]\n", 7, 21,
	 "spec.serviceSelectors: cannot be used with a non-default aggregation length"},
	{ADV_HDR "  communities: [\"65535:65282\", \"65535:65282\"]\n", 6, 32,
	 "spec.communities[1]: \"65535:65282\" is listed twice"},
	{ADV_HDR "  communities: [no-such]\n", 6, 17,
	 "spec.communities[0]: \"no-such\" is neither a community value"},
	{ADV_HDR "  communities: [\"1:2:3\"]\n", 6, 17, "spec.communities[0]: \"1:2:3\" is not a valid community"},
	{COMM_HDR "  communities:\n  - {name: na, value: \"65535:65282\"}\n---\n" ADV_HDR
		  "  communities: [na, \"65535:65282\"]\n", 14, 21,
	 "spec.communities[1]: \"65535:65282\" is the same community as \"na\""},
	{PEER_T ADV_HDR "  peers: [t, u]\n", 15, 14, "spec.peers[1]: BGPPeer \"u\" is not defined"},
	{POOL_P ADV_HDR "  ipAddressPools: [q]\n", 13, 20,
	 "BGPAdvertisement \"adv\": spec.ipAddressPools[0]: IPAddressPool \"q\" is not defined"},
	{POOL_P ADV_HDR "  localPref: 100\n---\n"
		 "apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: adv2\nspec:\n"
		 "  localPref: 200\n", 20, 14,
	 "BGPAdvertisement \"adv2\": spec.localPref: 200 conflicts with BGPAdvertisement \"adv\" (localPref 100"},
	{ADV_HDR "  localPref: -5\n", 6, 14, "spec.localPref: -5 is out of range"},
	/* L2Advertisement */
	{POOL_P L2_HDR "  ipAddressPools: [p, q]\n", 13, 23,
	 "L2Advertisement \"l2\": spec.ipAddressPools[1]: IPAddressPool \"q\" is not defined"},
	{L2_HDR "  ipAddressPools: [p, p]\n", 6, 23, "spec.ipAddressPools[1]: \"p\" is listed twice"},
	{L2_HDR "  preferredNodeSelectors: [{weight: 0, preference: {}}]\n", 6, 37,
	 "spec.preferredNodeSelectors[0].weight: 0 is out of range, expected 1..100"},
	{L2_HDR "  interfaces: [this-name-is-way-too-long]\n", 6, 16, "is not an interface name"},
	{L2_HDR "  nodeSelectors:\n  - matchLabel: {a: b}\n", 7, 5,
	 "spec.nodeSelectors[0].matchLabel: unknown field, did you mean \"matchLabels\"?"},
	/* documents */
	{"- a\n- b\n", 1, 1, "expected a Kubernetes object or a legacy MetalLB config"},
	{"foo: bar\n", 1, 1, "document has no kind"},
	{"a: b\n c: d\n", 2, 3, "YAML: mapping values are not allowed"},
	{"apiVersion: metallb.io/v1beta1\nkind: [x]\n", 2, 7, "kind: expected a string"},
};

static void test_bad_table(void **state)
{
	(void)state;
	size_t n = sizeof(bad_configs) / sizeof(bad_configs[0]);
	assert_true(n >= 35);
	int failures = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &bad_configs[i];
		struct config *c = NULL;
		struct cfg_diags d;
		int rc = load(b->yaml, &c, &d);
		bool found = false;
		for (size_t j = 0; j < d.n && !found; j++)
			found = d.v[j].level == CFG_ERROR && d.v[j].line == b->line &&
				d.v[j].col == b->col && strstr(d.v[j].msg, b->msg);
		if (rc != -1 || !found || c) {
			printf("# case %zu: want %d:%d \"%s\" (rc %d), got:\n", i, b->line, b->col,
			       b->msg, rc);
			for (size_t j = 0; j < d.n; j++)
				printf("#   %d:%d: %s\n", d.v[j].line, d.v[j].col, d.v[j].msg);
			failures++;
		}
		config_free(c);
		cfg_diags_free(&d);
	}
	assert_int_equal(failures, 0);
}

/* Every distinct message text of the table is different: the table is not one case repeated. */
static void test_bad_table_distinct(void **state)
{
	(void)state;
	size_t n = sizeof(bad_configs) / sizeof(bad_configs[0]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			assert_false(strcmp(bad_configs[i].yaml, bad_configs[j].yaml) == 0);
}

static void test_all_errors_reported(void **state)
{
	(void)state;
	const char *t = POOL_HDR "  addresses: [10.0.0.0/33]\n---\n" PEER_HDR
		"  myASN: 1\n  peerASN: 2\n  peerAddress: 10.0.0.1\n  holdTime: 1s\n---\n" BFD_HDR
		"  echoInterval: 70000\n";
	struct config *c;
	struct cfg_diags d;
	assert_int_equal(load(t, &c, &d), -1);
	assert_null(c);
	assert_int_equal(d.n_errors, 3);
	/* in file order */
	assert_int_equal(d.v[0].line, 6);
	assert_int_equal(d.v[1].line, 16);
	assert_int_equal(d.v[2].line, 23);
	assert_non_null(strstr(d.v[0].msg, "IPAddressPool \"prod\""));
	assert_non_null(strstr(d.v[1].msg, "BGPPeer \"tor\": spec.holdTime"));
	assert_non_null(strstr(d.v[2].msg, "BFDProfile \"b\": spec.echoInterval"));
	/* the printed form */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cfg_diags_print(&d, f);
	fclose(f);
	assert_non_null(strstr(buf, "cfg.yaml:6:15: IPAddressPool \"prod\": spec.addresses[0]: "
				    "\"10.0.0.0/33\" is not a CIDR or start-end range\n"));
	free(buf);
	cfg_diags_free(&d);
}

/* ---------- limits and hostile input ---------- */

static void test_empty_and_garbage(void **state)
{
	(void)state;
	struct config *c;
	struct cfg_diags d;
	const char *empties[] = {"", "# comment only\n", "---\n", "---\n...\n---\n~\n"};
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		assert_int_equal(load(empties[i], &c, &d), -1);
		assert_int_equal(d.n_errors, 1);
		assert_string_equal(d.v[0].msg, "empty config (no documents)");
		assert_int_equal(d.v[0].line, 0);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		cfg_diags_print(&d, f);
		fclose(f);
		assert_string_equal(buf, "cfg.yaml: empty config (no documents)\n");
		free(buf);
		cfg_diags_free(&d);
	}

	const char garbage[] = "\x89PNG\r\n\x1a\n\xde\xad\xbe\xef";
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_buf("g.bin", garbage, sizeof(garbage) - 1, &c, &d), -1);
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, 1);
	assert_non_null(strstr(d.v[0].msg, "YAML:"));
	cfg_diags_free(&d);

	const char nul[] = "apiVersion: v1\nkind: \0List\n";
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_buf("n.yaml", nul, sizeof(nul) - 1, &c, &d), -1);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 7);
	assert_non_null(strstr(d.v[0].msg, "NUL byte"));
	cfg_diags_free(&d);
}

static void test_bomb(void **state)
{
	(void)state;
	char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof(buf),
				    "apiVersion: v1\nkind: ConfigMap\nx0: &a0 [lol, lol, lol, lol, lol, "
				    "lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 12; i++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "x%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s*a%d", j ? "," : "", i - 1);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]\n");
	}
	struct config *c;
	struct cfg_diags d;
	assert_int_equal(load(buf, &c, &d), -1);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.v[0].msg, "alias bomb"));
	cfg_diags_free(&d);
}

static void test_size_limits(void **state)
{
	(void)state;
	char path[] = "/tmp/barelb-test-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* sparse: costs no disk; the loader must refuse it before reading */
	assert_int_equal(ftruncate(fd, (off_t)CONFIG_MAX_BYTES + 1), 0);
	close(fd);
	struct config *c;
	struct cfg_diags d = {0};
	assert_int_equal(config_load_file(path, &c, &d), -1);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.v[0].msg, "more than the limit of 16777216 bytes"));
	assert_string_equal(d.v[0].file, path);
	cfg_diags_free(&d);
	unlink(path);

	/* the buffer entry point has the same limit (length only; the bytes are never read) */
	static const char small[] = "a: b\n";
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_buf("big", small, (size_t)CONFIG_MAX_BYTES + 1, &c, &d), -1);
	assert_non_null(strstr(d.v[0].msg, "more than the limit"));
	cfg_diags_free(&d);

	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_file("/tmp", &c, &d), -1);
	assert_non_null(strstr(d.v[0].msg, "not a regular file"));
	cfg_diags_free(&d);
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_file("/nonexistent/barelb.yaml", &c, &d), -1);
	assert_non_null(strstr(d.v[0].msg, "cannot open"));
	cfg_diags_free(&d);
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_file("/dev/null", &c, &d), -1);
	assert_non_null(strstr(d.v[0].msg, "not a regular file"));
	cfg_diags_free(&d);
}

/* ---------- helpers ---------- */

static void test_selectors(void **state)
{
	(void)state;
	struct cfg_label labels[] = {{"app", "web"}, {"tier", "front"}};
	char *vals[] = {"web", "api"};
	char *other[] = {"db"};
	struct cfg_sel_expr in = {"app", CFG_SEL_IN, vals, 2};
	struct cfg_sel_expr notin_absent = {"zone", CFG_SEL_NOT_IN, other, 1};
	struct cfg_sel_expr notin = {"app", CFG_SEL_NOT_IN, vals, 2};
	struct cfg_sel_expr exists = {"tier", CFG_SEL_EXISTS, NULL, 0};
	struct cfg_sel_expr dne = {"tier", CFG_SEL_DOES_NOT_EXIST, NULL, 0};
	struct cfg_label want = {"tier", "front"}, wrong = {"tier", "back"};
	struct cfg_selector empty = {0};
	assert_true(cfg_selector_matches(&empty, labels, 2));
	struct cfg_selector s = {&want, 1, &in, 1};
	assert_true(cfg_selector_matches(&s, labels, 2));
	s.labels = &wrong;
	assert_false(cfg_selector_matches(&s, labels, 2));
	s = (struct cfg_selector){NULL, 0, &notin_absent, 1};
	assert_true(cfg_selector_matches(&s, labels, 2)); /* absent key satisfies NotIn */
	s.exprs = &notin;
	assert_false(cfg_selector_matches(&s, labels, 2));
	s.exprs = &exists;
	assert_true(cfg_selector_matches(&s, labels, 2));
	assert_false(cfg_selector_matches(&s, labels, 0));
	s.exprs = &dne;
	assert_false(cfg_selector_matches(&s, labels, 2));
	assert_true(cfg_selector_matches(&s, NULL, 0));
	/* lists: OR, empty = all */
	struct cfg_selector two[2] = {{&wrong, 1, NULL, 0}, {&want, 1, NULL, 0}};
	assert_true(cfg_selectors_match_any(two, 2, labels, 2));
	assert_false(cfg_selectors_match_any(two, 1, labels, 2));
	assert_true(cfg_selectors_match_any(NULL, 0, labels, 2));
}

static void test_community_parse(void **state)
{
	(void)state;
	struct cfg_community_value v;
	assert_int_equal(cfg_parse_community("65535:65282", &v), 0);
	assert_false(v.large);
	assert_int_equal(v.a, 65535);
	assert_int_equal(v.b, 65282);
	assert_int_equal(cfg_parse_community("large:4294967295:0:7", &v), 0);
	assert_true(v.large);
	assert_int_equal(v.a, 4294967295u);
	assert_int_equal(v.c, 7);
	const char *bad[] = {"65536:1", "1:65536", "1", "1:", ":1", "1:2:3", "a:b", "large:1:2",
			     "large:1:2:3:4", "large:4294967296:1:1", "-1:2", " 1:2", "", "large:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cfg_parse_community(bad[i], &v), -1);
}

static void test_durations(void **state)
{
	(void)state;
	struct {
		const char *s;
		int ok;
		uint64_t ns;
	} t[] = {
		{"90s", 1, 90000000000ull},     {"9m0s", 1, 540000000000ull},
		{"1m30s", 1, 90000000000ull},   {"500ms", 1, 500000000ull},
		{"1.5h", 1, 5400000000000ull},  {"0", 1, 0},
		{"2h45m", 1, 9900000000000ull}, {"1us", 1, 1000},
		{"-1s", 0, 0},                  {"1", 0, 0},
		{"s", 0, 0},                    {"1d", 0, 0},
		{"", 0, 0},                     {"99999999999999999999s", 0, 0},
		{"1.s", 1, 1000000000ull},      {".5s", 1, 500000000ull},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t ns = 12345;
		int rc = cfg_parse_duration_ns(t[i].s, &ns);
		if ((rc == 0) != t[i].ok)
			printf("# duration %s: rc %d\n", t[i].s, rc);
		assert_int_equal(rc == 0, t[i].ok);
		if (t[i].ok)
			assert_int_equal(ns, t[i].ns);
	}
}

static void test_timer_derivation(void **state)
{
	(void)state;
	struct config *c;
	struct cfg_diags d;
	assert_int_equal(load(PEER_HDR PEER_MIN "  holdTime: 3m\n", &c, &d), 0);
	assert_int_equal(c->peers[0].hold_time, 180);
	assert_int_equal(c->peers[0].keepalive_time, 60);
	config_free(c);
	cfg_diags_free(&d);
	assert_int_equal(load(PEER_HDR PEER_MIN "  holdTime: 0s\n", &c, &d), 0);
	assert_int_equal(c->peers[0].hold_time, 0);
	assert_int_equal(c->peers[0].keepalive_time, 0);
	config_free(c);
	cfg_diags_free(&d);
	assert_int_equal(load(PEER_HDR PEER_MIN "  holdTime: 3500ms\n", &c, &d), 0);
	assert_int_equal(c->peers[0].hold_time, 3); /* rounded down */
	config_free(c);
	cfg_diags_free(&d);
	assert_int_equal(load(PEER_HDR "  myASN: 1\n  dynamicASN: internal\n  peerAddress: 10.0.0.1\n",
			      &c, &d), 0);
	assert_string_equal(c->peers[0].dynamic_asn, "internal");
	assert_int_equal(c->peers[0].peer_asn, 0);
	config_free(c);
	cfg_diags_free(&d);
}

/* Every prefix of a valid config loads or fails with at least one error; never crashes. */
static void test_truncations(void **state)
{
	(void)state;
	size_t n = strlen(full_config);
	int loaded = 0;
	for (size_t len = 0; len <= n; len++) {
		char *buf = malloc(len ? len : 1);
		memcpy(buf, full_config, len);
		struct config *c = NULL;
		struct cfg_diags d = {0};
		int rc = config_load_buf("t.yaml", buf, len, &c, &d);
		if (rc == 0) {
			assert_non_null(c);
			loaded++;
		} else {
			assert_null(c);
			assert_true(d.n_errors > 0);
		}
		config_free(c);
		cfg_diags_free(&d);
		free(buf);
	}
	assert_true(loaded > 0);
}

static void test_legacy_body_dispatch(void **state)
{
	(void)state;
	struct config *c;
	struct cfg_diags d;
	int rc = load("address-pools:\n- name: lp\n  protocol: layer2\n  addresses: [10.9.0.0/24]\n",
		      &c, &d);
	if (rc)
		dump(&d);
	assert_int_equal(rc, 0);
	assert_non_null(config_find_pool(c, "lp"));
	assert_null(config_find_pool(c, "nope"));
	assert_null(config_find_peer(c, "nope"));
	config_free(c);
	cfg_diags_free(&d);
	config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_load),
		cmocka_unit_test(test_sample_pool_with_selector),
		cmocka_unit_test(test_sample_peer_with_secret),
		cmocka_unit_test(test_sample_others),
		cmocka_unit_test(test_full_and_defaults),
		cmocka_unit_test(test_list_and_kubectl_output),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_bad_table_distinct),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_empty_and_garbage),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_community_parse),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_timer_derivation),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_legacy_body_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
