/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the object model: every kind from JSON and YAML, API defaults, wrong types as
 * errors of one object with their line, Lists, skipped kinds, equality, truncations, encoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "barelb/model.h"
#include "model_internal.h"

/* Memory (measured on x86-64 by test_sizes below): sizeof(struct kobj) is 208 bytes; the
 * typical LoadBalancer Service of test/data/manifests/service.yaml (2 ports, 2 labels,
 * 2 annotations, selector, dual-stack cluster IPs, 2 ingress IPs) takes one block of 682
 * bytes: one malloc per object, nothing else. */

struct got {
	struct kobj *o[32];
	int line[32];
	int n;
	char err[8][512];
	int eline[8], ecol[8];
	int nerr;
};

static void on_obj(struct kobj *o, int line, void *arg)
{
	struct got *g = arg;
	if (g->n < 32) {
		g->line[g->n] = line;
		g->o[g->n++] = o;
	} else {
		kobj_free(o);
	}
}

static void on_err(int line, int col, const char *msg, void *arg)
{
	struct got *g = arg;
	if (g->nerr < 8) {
		snprintf(g->err[g->nerr], sizeof g->err[0], "%s", msg);
		g->eline[g->nerr] = line;
		g->ecol[g->nerr] = col;
		g->nerr++;
	}
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		kobj_free(g->o[i]);
	memset(g, 0, sizeof *g);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int decode_str(const char *text, struct got *g)
{
	memset(g, 0, sizeof *g);
	return kobj_decode_manifests(text, strlen(text), on_obj, on_err, g);
}

static void assert_addr(const addr_t *a, const char *want)
{
	char buf[ADDR_STRLEN];
	assert_true(addr_format(a, buf, sizeof buf) > 0);
	assert_string_equal(buf, want);
}

static void check_service(const struct kobj *o)
{
	assert_int_equal(o->kind, KOBJ_SERVICE);
	assert_string_equal(o->meta.name, "web");
	assert_string_equal(o->meta.namespace, "shop");
	assert_string_equal(o->meta.uid, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	assert_string_equal(o->meta.resource_version, "4711");
	assert_int_equal(o->meta.n_labels, 2);
	assert_string_equal(o->meta.labels[0].key, "app");
	assert_string_equal(kmeta_label(&o->meta, "tier"), "front");
	assert_null(kmeta_label(&o->meta, "nope"));
	assert_int_equal(o->meta.n_annotations, 2);
	/* sorted by key */
	assert_string_equal(o->meta.annotations[0].key, "barelb.io/ip-allocated-from-pool");
	assert_string_equal(kmeta_annotation(&o->meta, "metallb.universe.tf/address-pool"),
			    "public");
	assert_false(o->meta.deleting);
	const struct service *s = &o->u.svc;
	assert_int_equal(s->type, SVC_LOAD_BALANCER);
	assert_int_equal(s->n_ports, 2);
	assert_string_equal(s->ports[0].name, "http");
	assert_int_equal(s->ports[0].protocol, KPROTO_TCP);
	assert_int_equal(s->ports[0].port, 80);
	assert_int_equal(s->ports[0].node_port, 30080);
	assert_string_equal(s->ports[0].target_port, "8080");
	assert_int_equal(s->ports[1].protocol, KPROTO_UDP);
	assert_int_equal(s->ports[1].port, 53);
	assert_string_equal(s->ports[1].target_port, "dns");
	assert_int_equal(s->n_selector, 1);
	assert_string_equal(s->selector[0].key, "app");
	assert_string_equal(s->selector[0].value, "web");
	assert_int_equal(s->etp, SVC_ETP_LOCAL);
	assert_string_equal(s->lb_class, "barelb.io/lb");
	assert_string_equal(s->lb_ip, "192.0.2.10");
	assert_int_equal(s->n_cluster_ips, 2);
	assert_addr(&s->cluster_ips[0], "10.96.0.10");
	assert_addr(&s->cluster_ips[1], "fd00::10");
	assert_int_equal(s->n_families, 2);
	assert_int_equal(s->families[0], AF_INET);
	assert_int_equal(s->families[1], AF_INET6);
	assert_int_equal(s->ipfp, SVC_IPFP_PREFER_DUAL);
	assert_int_equal(s->n_ingress, 2);
	assert_addr(&s->ingress[0], "192.0.2.10");
	assert_addr(&s->ingress[1], "2001:db8::10");
}

static void test_service_yaml(void **state)
{
	(void)state;
	size_t len;
	char *buf = slurp("test/data/manifests/service.yaml", &len);
	struct got g = { 0 };
	assert_int_equal(kobj_decode_manifests(buf, len, on_obj, on_err, &g), 0);
	assert_int_equal(g.nerr, 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.line[0], 2);
	check_service(g.o[0]);
	char key[64];
	assert_string_equal(kobj_key(g.o[0], key, sizeof key), "shop/web");
	got_free(&g);
	free(buf);
}

static const char svc_json[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
	"\"namespace\":\"shop\",\"uid\":\"1b4e28ba-2fa1-11d2-883f-0016d3cca427\","
	"\"resourceVersion\":\"4711\",\"labels\":{\"tier\":\"front\",\"app\":\"web\"},"
	"\"annotations\":{\"metallb.universe.tf/address-pool\":\"public\","
	"\"barelb.io/ip-allocated-from-pool\":\"public\"}},"
	"\"spec\":{\"type\":\"LoadBalancer\",\"selector\":{\"app\":\"web\"},\"ports\":["
	"{\"name\":\"http\",\"port\":80,\"targetPort\":8080,\"nodePort\":30080},"
	"{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53,\"targetPort\":\"dns\"}],"
	"\"externalTrafficPolicy\":\"Local\",\"loadBalancerClass\":\"barelb.io/lb\","
	"\"loadBalancerIP\":\"192.0.2.10\",\"clusterIP\":\"10.96.0.10\","
	"\"clusterIPs\":[\"10.96.0.10\",\"fd00::10\"],\"ipFamilies\":[\"IPv4\",\"IPv6\"],"
	"\"ipFamilyPolicy\":\"PreferDualStack\"},"
	"\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.10\"},"
	"{\"ip\":\"2001:db8::10\",\"ipMode\":\"VIP\"}]}}}";

static void test_service_json(void **state)
{
	(void)state;
	struct kobj *o = NULL;
	char err[256];
	assert_int_equal(kobj_decode_json(svc_json, strlen(svc_json), -1, &o, err, sizeof err), 0);
	check_service(o);

	/* the same object from YAML and from JSON is equal */
	size_t len;
	char *buf = slurp("test/data/manifests/service.yaml", &len);
	struct got g = { 0 };
	assert_int_equal(kobj_decode_manifests(buf, len, on_obj, on_err, &g), 0);
	assert_true(kobj_equal(o, g.o[0]));
	/* JSON text read as a manifest stream (YAML is a superset) */
	struct got g2;
	assert_int_equal(decode_str(svc_json, &g2), 0);
	assert_int_equal(g2.n, 1);
	assert_true(kobj_equal(o, g2.o[0]));
	got_free(&g2);
	got_free(&g);
	free(buf);
	kobj_free(o);
}

/* Regression (fuzz_manifest): a key repeated in a mapping is decoded again; two ipFamilies used to
 * append to families[2] past its end. The last one wins. */
static void test_repeated_key(void **state)
{
	(void)state;
	struct got g;
	assert_int_equal(decode_str("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: n}\n"
				    "spec:\n  ipFamilies: [IPv4, IPv6]\n  ipFamilies: [IPv6]\n", &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.o[0]->u.svc.n_families, 1);
	assert_int_equal(g.o[0]->u.svc.families[0], AF_INET6);
	got_free(&g);
}

static void test_all_kinds_list(void **state)
{
	(void)state;
	size_t len;
	char *buf = slurp("test/data/manifests/all-kinds.json", &len);
	struct got g = { 0 };
	assert_int_equal(kobj_decode_manifests(buf, len, on_obj, on_err, &g), 0);
	assert_int_equal(g.nerr, 0);
	assert_int_equal(g.n, 5); /* the ConfigMap is skipped */

	const struct kobj *e = g.o[0];
	assert_int_equal(e->kind, KOBJ_ENDPOINTSLICE);
	assert_int_equal(g.line[0], 2);
	assert_string_equal(e->u.eps.service_name, "web");
	assert_int_equal(e->u.eps.address_type, AF_INET);
	assert_int_equal(e->u.eps.n_endpoints, 4);
	const struct endpoint *ep = e->u.eps.endpoints;
	assert_string_equal(ep[0].node_name, "node-a");
	assert_true(ep[0].ready && ep[0].serving && !ep[0].terminating);
	/* absent conditions: ready, serving = ready, not terminating */
	assert_int_equal(ep[1].n_addrs, 2);
	assert_addr(&ep[1].addrs[1], "10.1.0.7");
	assert_true(ep[1].ready && ep[1].serving && !ep[1].terminating);
	assert_null(ep[2].node_name);
	assert_true(!ep[2].ready && !ep[2].serving && !ep[2].terminating);
	assert_true(!ep[3].ready && ep[3].serving && ep[3].terminating);

	const struct kobj *n = g.o[1];
	assert_int_equal(n->kind, KOBJ_NODE);
	assert_null(n->meta.namespace);
	assert_string_equal(n->meta.name, "node-a");
	assert_string_equal(kmeta_label(&n->meta,
					"node.kubernetes.io/exclude-from-external-load-balancers"),
			    "");
	assert_int_equal(n->u.node.ready, KCOND_TRUE);
	assert_int_equal(n->u.node.ready_since_ms, 1796418000000LL);
	assert_true(n->u.node.network_unavailable);
	assert_int_equal(n->u.node.n_addrs, 2);
	assert_addr(&n->u.node.addrs[0], "192.168.1.10");
	assert_addr(&n->u.node.addrs[1], "2001:db8::a");

	const struct kobj *ns = g.o[2];
	assert_int_equal(ns->kind, KOBJ_NAMESPACE);
	assert_string_equal(ns->meta.name, "shop");
	assert_null(ns->meta.namespace);
	assert_string_equal(kmeta_label(&ns->meta, "team"), "retail");

	const struct kobj *l = g.o[3];
	assert_int_equal(l->kind, KOBJ_LEASE);
	assert_string_equal(l->meta.namespace, "barelb-system");
	assert_string_equal(l->u.lease.holder, "node-a");
	assert_int_equal(l->u.lease.duration_s, 15);
	assert_int_equal(l->u.lease.transitions, 3);
	assert_int_equal(l->u.lease.acquire_us, 1796418000000000LL);
	assert_int_equal(l->u.lease.renew_us, 1796418000123456LL);

	const struct kobj *p = g.o[4];
	assert_int_equal(p->kind, KOBJ_POD);
	assert_string_equal(p->u.pod.node_name, "node-b");
	assert_int_equal(p->u.pod.n_ips, 2);
	assert_addr(&p->u.pod.ips[1], "fd00:1::6");
	assert_false(p->u.pod.ready);
	assert_true(p->u.pod.terminating);
	assert_true(p->meta.deleting);
	assert_false(p->u.pod.finished);
	assert_int_equal(p->u.pod.n_ports, 2);
	assert_string_equal(p->u.pod.ports[0].name, "http");
	assert_int_equal(p->u.pod.ports[0].port, 8080);
	assert_int_equal(p->u.pod.ports[1].protocol, KPROTO_UDP);
	got_free(&g);
	free(buf);
}

static void test_defaults(void **state)
{
	(void)state;
	struct got g;
	assert_int_equal(decode_str("kind: Service\n"
				    "apiVersion: v1\n"
				    "metadata: {name: a}\n"
				    "spec:\n"
				    "  ports: [{port: 80}]\n"
				    "  externalTrafficPolicy: Global\n"
				    "  clusterIP: None\n"
				    "---\n"
				    "kind: Pod\n"
				    "apiVersion: v1\n"
				    "metadata: {name: p, namespace: x}\n"
				    "status: {podIP: 10.0.0.1, phase: Succeeded}\n"
				    "---\n"
				    "kind: Node\n"
				    "apiVersion: v1\n"
				    "metadata: {name: n}\n",
				    &g),
			 0);
	assert_int_equal(g.nerr, 0);
	assert_int_equal(g.n, 3);
	const struct service *s = &g.o[0]->u.svc;
	assert_string_equal(g.o[0]->meta.namespace, "default");
	assert_int_equal(s->type, SVC_CLUSTER_IP);
	assert_int_equal(s->ports[0].protocol, KPROTO_TCP);
	assert_null(s->ports[0].name);
	assert_null(s->ports[0].target_port);
	assert_int_equal(s->etp, SVC_ETP_CLUSTER); /* legacy "Global" */
	assert_int_equal(s->n_cluster_ips, 0);     /* headless */
	assert_int_equal(s->ipfp, SVC_IPFP_UNSET);
	assert_null(s->lb_class);
	assert_null(s->lb_ip);
	assert_int_equal(s->n_ingress, 0);
	assert_int_equal(g.line[1], 9);
	const struct pod *p = &g.o[1]->u.pod;
	assert_true(p->ready); /* no Ready condition */
	assert_true(p->finished);
	assert_int_equal(p->n_ips, 1);
	assert_addr(&p->ips[0], "10.0.0.1");
	assert_int_equal(g.o[2]->u.node.ready, KCOND_ABSENT);
	assert_int_equal(g.o[2]->u.node.ready_since_ms, 0);
	got_free(&g);
}

/* Each bad document sits between two good ones: it alone is an error, with its line. */
static const struct {
	const char *doc;
	int line; /* of the bad field, counted from the bad document's first line */
	const char *msg;
} bad_docs[] = {
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec:\n  ports:\n  - port: 80\n"
	  "  - port: \"81\"\n",
	  7, "Service b: spec.ports[1].port: expected a number, got a string" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec:\n  ports:\n  - port: 70000\n",
	  6, "Service b: spec.ports[0].port: 70000 is out of range (1-65535)" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec:\n  ports:\n  - name: x\n",
	  6, "Service b: spec.ports[0].port: missing" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec:\n  ports:\n  - port: 8.5\n",
	  6, "Service b: spec.ports[0].port: expected an integer, got 8.5" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec:\n  ports:\n"
	  "  - {port: 1, protocol: ICMP}\n",
	  6, "Service b: spec.ports[0].protocol: unknown protocol \"ICMP\" (TCP, UDP or SCTP)" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec:\n  clusterIPs: [10.0.0.300]\n",
	  5, "Service b: spec.clusterIPs[0]: \"10.0.0.300\" is not an IP address" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec: {type: Special}\n", 4,
	  "Service b: spec.type: unknown value \"Special\"" },
	{ "kind: Service\napiVersion: v1\nmetadata:\n  name: b\n  labels:\n    version: 2\n", 6,
	  "Service b: metadata.labels.version: expected a string, got a number" },
	{ "kind: Service\napiVersion: v1\nmetadata:\n  name: b\n  annotations:\n"
	  "    barelb.io/x: [1]\n",
	  6, "Service b: metadata.annotations[barelb.io/x]: expected a string, got a list" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec: [1]\n", 4,
	  "Service b: spec: expected an object, got a list" },
	{ "kind: Service\napiVersion: v1\nmetadata: {name: b}\nstatus:\n  loadBalancer:\n"
	  "    ingress:\n    - ip: nope\n",
	  7, "Service b: status.loadBalancer.ingress[0].ip: \"nope\" is not an IP address" },
	{ "kind: Service\napiVersion: v1\nmetadata: {namespace: x}\n", 3,
	  "metadata.name: missing" },
	{ "kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: b}\n"
	  "addressType: IPv4\nendpoints:\n- addresses: [\"fd00::1\"]\n",
	  6, "EndpointSlice b: endpoints[0].addresses[0]: \"fd00::1\" is not an IPv4 address" },
	{ "kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: b}\n"
	  "addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  conditions: {ready: \"yes\"}\n",
	  7, "EndpointSlice b: endpoints[0].conditions.ready: expected a boolean, got a string" },
	{ "kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: b}\n", 1,
	  "EndpointSlice b: addressType: missing" },
	{ "kind: Node\napiVersion: v1\nmetadata: {name: b}\nstatus:\n  conditions:\n"
	  "  - type: Ready\n    status: \"True\"\n    lastTransitionTime: yesterday\n",
	  8, "Node b: status.conditions[0].lastTransitionTime: \"yesterday\" is not an RFC 3339 "
	     "time" },
	{ "kind: Node\napiVersion: v1\nmetadata: {name: b}\nstatus:\n  addresses:\n"
	  "  - {type: InternalIP, address: node-b}\n",
	  6, "Node b: status.addresses[0].address: \"node-b\" is not an IP address" },
	{ "kind: Lease\napiVersion: coordination.k8s.io/v1\nmetadata: {name: b}\n"
	  "spec: {leaseDurationSeconds: -1}\n",
	  4, "Lease b: spec.leaseDurationSeconds: -1 is out of range (0-2147483647)" },
	{ "kind: Pod\napiVersion: v1\nmetadata: {name: b}\nspec:\n  containers:\n  - name: c\n"
	  "    ports:\n    - containerPort: true\n",
	  8, "Pod b: spec.containers[0].ports[0].containerPort: expected a number, got a boolean" },
	{ "kind: Pod\napiVersion: v1\nmetadata: {name: b}\nstatus: {podIPs: [{ip: 1}]}\n", 4,
	  "Pod b: status.podIPs[0].ip: expected a string, got a number" },
	{ "kind: 7\napiVersion: v1\nmetadata: {name: b}\n", 1, "kind: expected a string, got a number" },
	{ "apiVersion: v1\nmetadata: {name: b}\n", 1, "kind: missing" },
	{ "- just\n- a list\n", 1, "a document must be an object, got a list" },
};

static void test_wrong_types(void **state)
{
	(void)state;
	static const char good1[] = "kind: Namespace\napiVersion: v1\nmetadata: {name: one}\n";
	static const char good2[] = "kind: Namespace\napiVersion: v1\nmetadata: {name: two}\n";
	for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
		char text[1024];
		snprintf(text, sizeof text, "%s---\n%s---\n%s", good1, bad_docs[i].doc, good2);
		struct got g;
		assert_int_equal(decode_str(text, &g), 0);
		if (g.nerr != 1 || strcmp(g.err[0], bad_docs[i].msg) != 0 ||
		    g.eline[0] != bad_docs[i].line + 4)
			fail_msg("case %zu: %d errors, line %d (want %d): \"%s\" (want \"%s\")", i,
				 g.nerr, g.eline[0], bad_docs[i].line + 4, g.err[0],
				 bad_docs[i].msg);
		assert_int_equal(g.n, 2);
		assert_string_equal(g.o[0]->meta.name, "one");
		assert_string_equal(g.o[1]->meta.name, "two");
		got_free(&g);
	}
}

static void test_wrong_type_json(void **state)
{
	(void)state;
	static const char j[] = "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
				"\"a\"},\"spec\":{\"ports\":[{\"port\":80},{\"port\":\"81\"}]}}";
	struct kobj *o = (struct kobj *)1;
	char err[256];
	assert_int_equal(kobj_decode_json(j, strlen(j), -1, &o, err, sizeof err), -1);
	assert_null(o);
	assert_string_equal(err, "spec.ports[1].port: expected a number, got a string");
	assert_int_equal(kobj_decode_json("{\"kind\":", 8, -1, &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "invalid JSON"));
	/* no kind: the hint decides (watch events of a typed list) */
	static const char nk[] = "{\"metadata\":{\"name\":\"n1\"}}";
	assert_int_equal(kobj_decode_json(nk, strlen(nk), KOBJ_NODE, &o, err, sizeof err), 0);
	assert_int_equal(o->kind, KOBJ_NODE);
	kobj_free(o);
	assert_int_equal(kobj_decode_json(nk, strlen(nk), -1, &o, err, sizeof err), -1);
	assert_string_equal(err, "kind: missing");
}

static void test_lists_and_skips(void **state)
{
	(void)state;
	struct got g;
	assert_int_equal(decode_str("apiVersion: v1\n"
				    "kind: ServiceList\n"
				    "items:\n"
				    "- metadata: {name: a, namespace: n}\n"
				    "- metadata: {name: b, namespace: n}\n"
				    "  spec: {ports: [{port: x}]}\n"
				    "---\n"
				    "apiVersion: serving.knative.dev/v1\n"
				    "kind: Service\n"
				    "metadata: {name: knative}\n"
				    "---\n"
				    "apiVersion: metallb.io/v1beta1\n"
				    "kind: IPAddressPool\n"
				    "metadata: {name: pool}\n"
				    "---\n"
				    "# only a comment\n"
				    "---\n"
				    "apiVersion: v1\n"
				    "kind: List\n"
				    "items:\n"
				    "- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
				    "- {apiVersion: v1, kind: Namespace, metadata: {name: ns1}}\n",
				    &g),
			 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.o[0]->kind, KOBJ_SERVICE);
	assert_string_equal(g.o[0]->meta.name, "a");
	assert_int_equal(g.line[0], 4);
	assert_int_equal(g.o[1]->kind, KOBJ_NAMESPACE);
	assert_int_equal(g.line[1], 22);
	assert_int_equal(g.nerr, 1);
	assert_string_equal(g.err[0], "Service n/b: spec.ports[0].port: expected a number, got a "
				      "string");
	assert_int_equal(g.eline[0], 6);
	got_free(&g);

	/* a stream that does not parse at all */
	assert_int_equal(decode_str("a: [1, 2\nb: c\n", &g), -1);
	assert_int_equal(g.nerr, 1);
	assert_true(g.eline[0] > 0);
	got_free(&g);

	/* JSON documents with tabs, several in a row */
	assert_int_equal(decode_str("{\n\t\"kind\": \"Namespace\",\n\t\"apiVersion\": \"v1\",\n"
				    "\t\"metadata\": {\"name\": \"t\"}\n}\n",
				    &g),
			 0);
	assert_int_equal(g.nerr, 0);
	assert_int_equal(g.n, 1);
	got_free(&g);
}

static void test_equal(void **state)
{
	(void)state;
	struct kobj *a, *b;
	char err[256];
	assert_int_equal(kobj_decode_json(svc_json, strlen(svc_json), -1, &a, err, sizeof err), 0);
	b = kobj_clone(a);
	assert_true(kobj_equal(a, b));
	assert_true(kobj_equal(a, a));
	assert_false(kobj_equal(a, NULL));
	/* resourceVersion is not compared */
	kobj_free(b);
	char *j2 = strdup(svc_json);
	memcpy(strstr(j2, "4711"), "4712", 4);
	assert_int_equal(kobj_decode_json(j2, strlen(j2), -1, &b, err, sizeof err), 0);
	assert_true(kobj_equal(a, b));
	kobj_free(b);
	/* anything else is */
	static const char *const edits[][2] = {
		{ "\"front\"", "\"back!\"" },        { "\"http\"", "\"htt2\"" },
		{ "30080", "30081" },               { "\"Local\"", "\"Cluster\"" },
		{ "192.0.2.10\"},", "192.0.2.11\"}," }, { "\"fd00::10\"", "\"fd00::11\"" },
		{ "1b4e28ba", "1b4e28bb" },         { "\"dns\"}", "\"dn5\"}" },
		{ "PreferDualStack", "SingleStack\"," }, { "barelb.io/lb", "barelb.io/lc" },
	};
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		strcpy(j2, svc_json);
		char *p = strstr(j2, edits[i][0]);
		assert_non_null(p);
		size_t ol = strlen(edits[i][0]), nl = strlen(edits[i][1]);
		char *j3 = malloc(strlen(j2) + nl + 1);
		memcpy(j3, j2, (size_t)(p - j2));
		strcpy(j3 + (p - j2), edits[i][1]);
		strcat(j3, p + ol);
		if (strcmp(edits[i][0], "PreferDualStack") == 0) {
			/* keep the JSON valid: replace the value including its closing quote */
			strcpy(j3, j2);
			p = strstr(j3, "PreferDualStack");
			memcpy(p, "SingleStack", 11);
			memmove(p + 11, p + 15, strlen(p + 15) + 1);
		}
		int r = kobj_decode_json(j3, strlen(j3), -1, &b, err, sizeof err);
		if (r != 0)
			fail_msg("edit %zu: %s", i, err);
		if (kobj_equal(a, b))
			fail_msg("edit %zu: still equal", i);
		kobj_free(b);
		free(j3);
	}
	free(j2);
	kobj_free(a);
}

static void test_truncations(void **state)
{
	(void)state;
	size_t len;
	char *all = slurp("test/data/manifests/all-kinds.json", &len);
	const char *texts[] = { svc_json, all };
	size_t lens[] = { strlen(svc_json), len };
	for (int t = 0; t < 2; t++) {
		for (size_t n = 0; n < lens[t]; n++) {
			/* a copy of exactly n bytes, so that ASan sees any read past the end */
			char *cut = malloc(n ? n : 1);
			memcpy(cut, texts[t], n);
			struct kobj *o = NULL;
			char err[256];
			int r = kobj_decode_json(cut, n, -1, &o, err, sizeof err);
			assert_true(r == -1 || (r == 0 && o) || r == 1);
			kobj_free(o);
			struct got g = { 0 };
			kobj_decode_manifests(cut, n, on_obj, on_err, &g);
			got_free(&g);
			free(cut);
		}
	}
	free(all);
}

static void test_times(void **state)
{
	(void)state;
	int64_t us;
	char buf[40];
	assert_int_equal(kobj_parse_time("1970-01-01T00:00:00Z", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(kobj_parse_time("2026-12-04T21:00:00.123456Z", &us), 0);
	assert_int_equal(us, 1796418000123456LL);
	assert_string_equal(kobj_format_microtime(us, buf, sizeof buf),
			    "2026-12-04T21:00:00.123456Z");
	assert_int_equal(kobj_parse_time("2026-12-04T23:00:00.5+02:00", &us), 0);
	assert_int_equal(us, 1796418000500000LL);
	assert_int_equal(kobj_parse_time("2024-02-29T00:00:00Z", &us), 0);
	assert_int_equal(kobj_parse_time("2023-02-29T00:00:00Z", &us), -1);
	assert_int_equal(kobj_parse_time("2026-12-04T21:00:00", &us), -1);
	assert_int_equal(kobj_parse_time("2026-12-04", &us), -1);
	assert_int_equal(kobj_parse_time("2026-13-04T21:00:00Z", &us), -1);
	assert_int_equal(kobj_parse_time("2026-12-04T21:00:00.Z", &us), -1);
	assert_int_equal(kobj_parse_time("2026-12-04T21:00:00Zjunk", &us), -1);
	assert_string_equal(kobj_format_microtime(-1, buf, sizeof buf),
			    "1969-12-31T23:59:59.999999Z");
}

static void test_patch_and_lease_json(void **state)
{
	(void)state;
	addr_t ing[2];
	assert_int_equal(addr_parse("192.0.2.20", &ing[0]), 0);
	assert_int_equal(addr_parse("2001:db8::20", &ing[1]), 0);
	struct kv ann[] = { { "barelb.io/ip-allocated-from-pool", "pool2" },
			    { "metallb.universe.tf/address-pool", NULL } };
	char *p = kobj_service_patch_json(NULL, 0, ing, 2, ann, 2);
	assert_non_null(p);
	assert_string_equal(p, "{\"metadata\":{\"annotations\":{\"barelb.io/ip-allocated-from-"
			       "pool\":\"pool2\",\"metallb.universe.tf/address-pool\":null}},"
			       "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.20\"},"
			       "{\"ip\":\"2001:db8::20\"}]}}}");
	struct kobj *svc, *out;
	char err[256];
	assert_int_equal(kobj_decode_json(svc_json, strlen(svc_json), -1, &svc, err, sizeof err),
			 0);
	assert_int_equal(kobj_service_apply_patch(svc, p, strlen(p), &out, err, sizeof err), 0);
	assert_int_equal(out->meta.n_annotations, 1);
	assert_string_equal(kmeta_annotation(&out->meta, "barelb.io/ip-allocated-from-pool"),
			    "pool2");
	assert_int_equal(out->u.svc.n_ingress, 2);
	assert_addr(&out->u.svc.ingress[0], "192.0.2.20");
	assert_string_equal(out->meta.name, "web");
	assert_int_equal(out->u.svc.n_ports, 2);
	kobj_free(out);

	/* composed over an earlier patch: its annotations stay unless overridden */
	struct kv ann2[] = { { "barelb.io/other", "x" } };
	char *p2 = kobj_service_patch_json(p, strlen(p), NULL, 0, ann2, 1);
	assert_int_equal(kobj_service_apply_patch(svc, p2, strlen(p2), &out, err, sizeof err), 0);
	assert_int_equal(out->meta.n_annotations, 2);
	assert_string_equal(kmeta_annotation(&out->meta, "barelb.io/other"), "x");
	assert_null(kmeta_annotation(&out->meta, "metallb.universe.tf/address-pool"));
	assert_int_equal(out->u.svc.n_ingress, 0);
	kobj_free(out);
	static const char badp[] = "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":1}]}}}";
	assert_int_equal(kobj_service_apply_patch(svc, badp, strlen(badp), &out, err, sizeof err),
			 -1);
	assert_string_equal(err, "status.loadBalancer.ingress[0].ip: expected a string, got a "
				 "number");
	assert_int_equal(kobj_service_apply_patch(svc, "[]", 2, &out, err, sizeof err), -1);
	free(p2);
	free(p);
	kobj_free(svc);

	/* a Lease survives encode → decode */
	size_t len;
	char *all = slurp("test/data/manifests/all-kinds.json", &len);
	struct got g = { 0 };
	kobj_decode_manifests(all, len, on_obj, on_err, &g);
	const struct kobj *l = g.o[3];
	char *lj = kobj_lease_json(l);
	struct kobj *l2;
	assert_int_equal(kobj_decode_json(lj, strlen(lj), -1, &l2, err, sizeof err), 0);
	assert_true(kobj_equal(l, l2));
	assert_string_equal(l2->meta.resource_version, "17");
	kobj_free(l2);
	free(lj);

	struct kobj_event_info ev = { .about = g.o[4], .type = "Warning", .reason = "NoIP",
				      .note = "pool \"a\" is full", .controller = "barelb",
				      .count = 3, .first_us = 1, .last_us = 2 };
	char *ej = kobj_event_json(&ev);
	assert_non_null(strstr(ej, "\"note\":\"pool \\\"a\\\" is full\""));
	assert_non_null(strstr(ej, "\"series\":{\"count\":3"));
	assert_non_null(strstr(ej, "\"regarding\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
				   "\"namespace\":\"shop\",\"name\":\"web-1\"}"));
	free(ej);
	got_free(&g);
	free(all);
}

static void test_sizes(void **state)
{
	(void)state;
	size_t len;
	char *buf = slurp("test/data/manifests/service.yaml", &len);
	struct got g = { 0 };
	kobj_decode_manifests(buf, len, on_obj, on_err, &g);
	size_t sz = kmodel_size(g.o[0]);
	print_message("# sizeof(struct kobj) = %zu, typical Service block = %zu bytes\n",
		      sizeof(struct kobj), sz);
	assert_true(sz < 1024);
	got_free(&g);
	free(buf);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_int_equal(kobj_kind_from_name("Service"), KOBJ_SERVICE);
	assert_int_equal(kobj_kind_from_name("endpointslices"), KOBJ_ENDPOINTSLICE);
	assert_int_equal(kobj_kind_from_name("Leases"), KOBJ_LEASE);
	assert_int_equal(kobj_kind_from_name("pod"), KOBJ_POD);
	assert_int_equal(kobj_kind_from_name("ConfigMap"), -1);
	assert_int_equal(kobj_kind_from_name(NULL), -1);
	assert_string_equal(kobj_kind_name(KOBJ_NAMESPACE), "Namespace");
	kobj_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_yaml),
		cmocka_unit_test(test_service_json),
		cmocka_unit_test(test_repeated_key),
		cmocka_unit_test(test_all_kinds_list),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_wrong_type_json),
		cmocka_unit_test(test_lists_and_skips),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_patch_and_lease_json),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_kind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
