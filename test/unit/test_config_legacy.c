/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the legacy ConfigMap parser (config_legacy.c) and the canonical printer (config_print.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "barelb/addr.h"
#include "barelb/arena.h"
#include "barelb/config.h"
#include "config_internal.h"

#define LEGACY_DIR "test/data/metallb/legacy"
#define CRD_DIR "test/data/metallb/crd"
#define EXTRA_DIR "test/data/legacy"

/* ---------- helpers ---------- */

static void dump_diags(const char *what, const struct cfg_diags *d)
{
	print_message("diagnostics for %s:\n", what);
	cfg_diags_print(d, stderr);
}

/* Print a config into a malloc'd string. */
static char *print_to_string(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(config_print(c, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* Load a file that must be valid and return its printed form. */
static char *load_and_print(const char *path)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	char *out;

	if (config_load_file(path, &c, &d) != 0 || !c) {
		dump_diags(path, &d);
		cfg_diags_free(&d);
		fail_msg("%s: expected to load without errors", path);
	}
	if (d.n_errors != 0) {
		dump_diags(path, &d);
		fail_msg("%s: %zu errors reported for a config that loaded", path, d.n_errors);
	}
	out = print_to_string(c);
	config_free(c);
	cfg_diags_free(&d);
	return out;
}

static char *load_buf_and_print(const char *name, const char *text)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	char *out;

	if (config_load_buf(name, text, strlen(text), &c, &d) != 0 || !c) {
		dump_diags(name, &d);
		print_message("---- text that failed to load:\n%s----\n", text);
		cfg_diags_free(&d);
		fail_msg("%s: expected to load without errors", name);
	}
	out = print_to_string(c);
	config_free(c);
	cfg_diags_free(&d);
	return out;
}

/* Compare two texts; on a difference show the first differing line of each with its number. */
static void assert_same_text(const char *what, const char *a_name, const char *a,
			     const char *b_name, const char *b)
{
	const char *pa = a, *pb = b;
	int line = 1;

	if (strcmp(a, b) == 0)
		return;
	for (;;) {
		const char *ea = strchr(pa, '\n'), *eb = strchr(pb, '\n');
		size_t la = ea ? (size_t)(ea - pa) : strlen(pa);
		size_t lb = eb ? (size_t)(eb - pb) : strlen(pb);

		if (la != lb || memcmp(pa, pb, la) != 0 || !ea || !eb) {
			print_message("%s: texts differ at line %d\n  %s: %.*s\n  %s: %.*s\n", what,
				      line, a_name, (int)la, pa, b_name, (int)lb, pb);
			break;
		}
		pa = ea + 1;
		pb = eb + 1;
		line++;
	}
	print_message("---- %s ----\n%s---- %s ----\n%s----\n", a_name, a, b_name, b);
	fail_msg("%s: %s and %s print differently", what, a_name, b_name);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of a directory ending in one of the suffixes, sorted; returns the count. */
static size_t list_dir(const char *dir, const char *suf1, const char *suf2, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (!has_suffix(e->d_name, suf1) && !(suf2 && has_suffix(e->d_name, suf2)))
			continue;
		v = realloc(v, (n + 1) * sizeof *v);
		assert_non_null(v);
		v[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		assert_non_null(v[n]);
		sprintf(v[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp_cstr);
	*out = v;
	return n;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---------- golden equivalence ---------- */

static void test_legacy_matches_golden(void **state)
{
	char **files;
	size_t n = list_dir(LEGACY_DIR, ".yaml", NULL, &files), done = 0;

	(void)state;
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++) {
		char golden[512], *a, *b;

		if (strstr(files[i], "config-yaml-full.yaml"))
			continue; /* rejected on purpose, see test_full_rejected */
		snprintf(golden, sizeof golden, "%.*s.golden", (int)(strlen(files[i]) - 5), files[i]);
		a = load_and_print(files[i]);
		b = load_and_print(golden);
		assert_true(strlen(a) > 0);
		assert_non_null(strstr(a, "kind: "));
		assert_same_text("legacy vs golden", files[i], a, golden, b);
		free(a);
		free(b);
		done++;
	}
	assert_int_equal(done, 5);
	free_list(files, n);
}

/* What one legacy file prints, byte for byte: pins the canonical form itself. */
static void test_print_exact_peers(void **state)
{
	static const char want[] =
		"apiVersion: metallb.io/v1beta1\n"
		"kind: BFDProfile\n"
		"metadata:\n"
		"  name: \"bfdprofile1\"\n"
		"  namespace: metallb-system\n"
		"spec:\n"
		"  detectMultiplier: 3\n"
		"  echoInterval: 50\n"
		"  echoMode: false\n"
		"  minimumTtl: 254\n"
		"  passiveMode: false\n"
		"  receiveInterval: 280\n"
		"  transmitInterval: 270\n"
		"---\n"
		"apiVersion: metallb.io/v1beta2\n"
		"kind: BGPPeer\n"
		"metadata:\n"
		"  name: \"peer1\"\n"
		"  namespace: metallb-system\n"
		"spec:\n"
		"  ebgpMultiHop: false\n"
		"  holdTime: \"1m30s\"\n"
		"  keepaliveTime: \"30s\"\n"
		"  myASN: 64512\n"
		"  peerASN: 64512\n"
		"  peerAddress: \"10.96.0.100\"\n"
		"  peerPort: 179\n"
		"---\n"
		"apiVersion: metallb.io/v1beta2\n"
		"kind: BGPPeer\n"
		"metadata:\n"
		"  name: \"peer2\"\n"
		"  namespace: metallb-system\n"
		"spec:\n"
		"  ebgpMultiHop: false\n"
		"  holdTime: \"1m30s\"\n"
		"  keepaliveTime: \"30s\"\n"
		"  myASN: 64512\n"
		"  peerASN: 64512\n"
		"  peerAddress: \"10.96.0.101\"\n"
		"  peerPort: 179\n"
		"---\n"
		"apiVersion: metallb.io/v1beta2\n"
		"kind: BGPPeer\n"
		"metadata:\n"
		"  name: \"peer3\"\n"
		"  namespace: metallb-system\n"
		"spec:\n"
		"  bfdProfile: \"bfdprofile1\"\n"
		"  ebgpMultiHop: false\n"
		"  holdTime: \"2m0s\"\n"
		"  keepaliveTime: \"30s\"\n"
		"  myASN: 64512\n"
		"  nodeSelectors:\n"
		"  - matchExpressions:\n"
		"    - key: \"kubernetes.io/arch\"\n"
		"      operator: \"In\"\n"
		"      values:\n"
		"      - \"amd64\"\n"
		"      - \"arm\"\n"
		"    matchLabels:\n"
		"      \"kubernetes.io/hostname\": \"prod-01\"\n"
		"  password: \"yourPassword\"\n"
		"  peerASN: 64512\n"
		"  peerAddress: \"10.0.0.1\"\n"
		"  peerPort: 179\n"
		"  routerID: \"1.2.3.4\"\n"
		"  sourceAddress: \"10.0.0.2\"\n";
	char *got = load_and_print(LEGACY_DIR "/config-yaml-peers.yaml");

	(void)state;
	assert_same_text("exact print", "want", want, "got", got);
	free(got);
}

/* ---------- the one sample that must be rejected ---------- */

static void test_full_rejected(void **state)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	bool found = false;

	(void)state;
	assert_int_equal(config_load_file(LEGACY_DIR "/config-yaml-full.yaml", &c, &d), -1);
	assert_null(c);
	assert_true(d.n_errors >= 1);
	for (size_t i = 0; i < d.n; i++) {
		const struct cfg_diag *x = &d.v[i];

		if (x->level == CFG_ERROR && x->line == 43 && x->col == 17 && strstr(x->msg, "\"l2\"") &&
		    strstr(x->msg, "layer2, bgp"))
			found = true;
	}
	if (!found || d.n_errors != 1)
		dump_diags("config-yaml-full.yaml", &d);
	assert_true(found);
	assert_int_equal(d.n_errors, 1);
	cfg_diags_free(&d);
}

/* ---------- idempotence ---------- */

static void idempotent_dir(const char *dir, const char *suf1, const char *suf2, size_t min_files)
{
	char **files;
	size_t n = list_dir(dir, suf1, suf2, &files), done = 0;

	assert_true(n >= min_files);
	for (size_t i = 0; i < n; i++) {
		char *once, *twice, *thrice;

		if (strstr(files[i], "config-yaml-full.yaml"))
			continue;
		once = load_and_print(files[i]);
		twice = load_buf_and_print("printed", once);
		assert_same_text(files[i], "first print", once, "print of the reloaded print", twice);
		thrice = load_buf_and_print("printed twice", twice);
		assert_same_text(files[i], "second print", twice, "third print", thrice);
		free(once);
		free(twice);
		free(thrice);
		done++;
	}
	assert_true(done >= min_files - 1);
	free_list(files, n);
}

static void test_idempotent_crd(void **state)
{
	(void)state;
	idempotent_dir(CRD_DIR, ".yaml", NULL, 18);
}

static void test_idempotent_legacy(void **state)
{
	(void)state;
	idempotent_dir(LEGACY_DIR, ".yaml", ".golden", 12);
}

/* Our own files: every legacy field and every CRD field the printer knows. */
static void test_idempotent_extra(void **state)
{
	(void)state;
	idempotent_dir(EXTRA_DIR, ".yaml", NULL, 2);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* The full legacy file prints exactly the expected text (after its first comment line). */
static void test_print_exact_roundtrip_legacy(void **state)
{
	char *want = read_file(EXTRA_DIR "/print-roundtrip-legacy.expected");
	char *got = load_and_print(EXTRA_DIR "/print-roundtrip-legacy.yaml");
	const char *body = strchr(want, '\n');

	(void)state;
	assert_non_null(body);
	assert_same_text("exact print", "print-roundtrip-legacy.expected", body + 1, "got", got);
	free(want);
	free(got);
}

/* ---------- cfg_legacy_name ---------- */

static void test_legacy_name(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"my-ip-space", "my-ip-space"},
		{"01-numbered-addresspool", "numbered-addresspool"},
		{"Capitalized-AddressPool", "capitalized-addresspool"},
		{"underscored_bfd_profile", "underscored-bfd-profile"},
		{"tooLongBFDProfileName01-tooLongBFDProfileName02-tooLongBFDProfileName03-"
		 "tooLongBFDProfileName04",
		 "toolongbfdprofilename01-toolongbfdprofilename02-toolongbfdprofi"},
		{"_-9x", "x"},
		{"__Pool_1", "pool-1"},
		{"a.b_c", "a.b-c"},
		{"123", ""},
		{"", ""},
		{"x", "x"},
		/* 70 letters: cut at 63 after the leading digits are gone */
		{"9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	};
	struct config cfg = {0};
	struct cfg_diags d = {0};
	struct cfg_ctx c = {.file = "t", .d = &d, .cfg = &cfg};

	(void)state;
	cfg.mem = arena_new();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = cfg_legacy_name(&c, cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("cfg_legacy_name(\"%s\") = \"%s\", want \"%s\"", cases[i].in, got,
				 cases[i].want);
		assert_true(strlen(got) <= 63);
	}
	arena_free(cfg.mem);
}

/* ---------- bad configs ---------- */

#define CM_HEAD "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: metallb-system\n"
#define PEER_HEAD "peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n"
#define POOL_HEAD(proto) "address-pools:\n- name: a\n  protocol: " proto "\n  addresses: [10.0.0.0/24]\n"

struct bad_case {
	const char *text;
	int line, col;
	const char *msg; /* substring of the message */
};

static const struct bad_case bad_cases[] = {
	/* unknown keys at every level, with near-miss hints */
	{"peers: []\naddress-pool:\n- name: a\n", 2, 1, "did you mean \"address-pools\"?"},
	{POOL_HEAD("layer2") "  avoid-buggy-ip: true\n", 5, 3, "did you mean \"avoid-buggy-ips\"?"},
	{"peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-adress: 10.0.0.1\n", 4, 3,
	 "did you mean \"peer-address\"?"},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - aggregation-lenght: 24\n", 6, 5,
	 "did you mean \"aggregation-length\"?"},
	{"bfd-profiles:\n- name: p\n  echo-intervall: 50\n", 3, 3, "did you mean \"echo-interval\"?"},
	{PEER_HEAD "  node-selectors:\n  - match-label: {a: b}\n", 6, 5,
	 "did you mean \"match-labels\"?"},
	{POOL_HEAD("layer2") "  colour: blue\n", 5, 3, "unknown field"},
	/* protocol */
	{"address-pools:\n- name: a\n  addresses: [10.0.0.0/24]\n", 2, 3,
	 "protocol: required, one of layer2, bgp"},
	{POOL_HEAD("l2"), 3, 13, "unknown protocol \"l2\", expected one of layer2, bgp"},
	{POOL_HEAD("\"\""), 3, 13, "protocol: required, one of layer2, bgp"},
	{POOL_HEAD("layer2") "  bgp-advertisements:\n  - localpref: 100\n", 5, 3,
	 "only for protocol bgp"},
	/* advertisements and communities */
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - communities: [\"70000:1\"]\n", 6, 19,
	 "invalid community \"70000:1\""},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - communities: [\"large:1:2:3\"]\n", 6, 19,
	 "invalid community \"large:1:2:3\""},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - communities: [\"1:1\", \"1:1\"]\n", 6, 26,
	 "duplicate community \"1:1\""},
	{"bgp-communities:\n  no-export: 65535\n", 2, 14, "invalid community \"65535\""},
	{"bgp-communities:\n  big: \"1:2:3\"\n", 2, 8, "invalid community"},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - aggregation-length: 33\n", 6, 25,
	 "aggregation-length"},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - aggregation-length-v6: 129\n", 6, 28,
	 "aggregation-length-v6"},
	/* names and addresses */
	{"address-pools:\n- protocol: layer2\n  addresses: [10.0.0.0/24]\n", 2, 3,
	 "address-pools[0].name: required"},
	{"address-pools:\n- name: \"123\"\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n", 2, 9,
	 "no letter"},
	{"address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/33]\n", 4, 15,
	 "addresses"},
	{"address-pools:\n- name: a\n  protocol: layer2\n", 2, 3, "addresses: required"},
	{"address-pools:\n- name: a\n  protocol: layer2\n  addresses: []\n", 4, 14,
	 "at least one address"},
	/* peers */
	{PEER_HEAD "  hold-time: 2s\n", 5, 14, "at least 3s"},
	{PEER_HEAD "  hold-time: soon\n", 5, 14, "hold-time"},
	{PEER_HEAD "  hold-time: 30s\n  keepalive-time: 40s\n", 6, 19,
	 "must not be longer than the hold time"},
	{"peers:\n- my-asn: 64500\n  peer-asn: 0\n  peer-address: 10.0.0.1\n", 3, 13,
	 "peers[0].peer-asn"},
	{"peers:\n- my-asn: 64500\n  peer-asn: many\n  peer-address: 10.0.0.1\n", 3, 13,
	 "peers[0].peer-asn"},
	{"peers:\n- my-asn: 64500\n  peer-asn: 64501\n", 2, 3, "peers[0].peer-address: required"},
	{"peers:\n- peer-asn: 64501\n  peer-address: 10.0.0.1\n", 2, 3, "peers[0].my-asn: required"},
	{PEER_HEAD "  router-id: \"::1\"\n", 5, 14, "IPv4"},
	{"peers:\n- my-asn: 64500\n  peer-asn: 64500\n  peer-address: 10.0.0.1\n  ebgp-multihop: true\n",
	 5, 18, "only for eBGP peers"},
	{PEER_HEAD "  peer-port: 70000\n", 5, 14, "peer-port"},
	{"peers:\n  my-asn: 1\n", 2, 3, "peers: expected a list"},
	/* bfd profiles */
	{"bfd-profiles:\n- name: p\n  detect-multiplier: 1\n", 3, 22, "detect-multiplier"},
	{"bfd-profiles:\n- name: p\n  receive-interval: 5\n", 3, 21, "receive-interval"},
	/* inside a ConfigMap: positions in the outer file */
	{CM_HEAD "data:\n  config: |\n    address-pools:\n    - name: a\n      protocol: l3\n"
		 "      addresses: [10.0.0.0/24]\n",
	 10, 17, "unknown protocol \"l3\""},
	{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n    name: config\ndata:\n    config: |\n"
	 "        peers:\n        - my-asn: 64500\n          peer-asn: 64501\n"
	 "          peer-address: 10.0.0.300\n",
	 10, 25, "peer-address"},
	{CM_HEAD "data:\n  config: |\n    peers:\n    - my-asn: 64500\n      peer-asn: 64501\n"
		 "      peer-adress: 10.0.0.1\n",
	 11, 7, "did you mean \"peer-address\"?"},
	{CM_HEAD "data:\n  config: |\n    address-pools: x: y\n", 8, 21, "data.config"},
	{CM_HEAD "data:\n  config: \"peers: 5\"\n", 7, 19, "peers: expected a list"},
	{CM_HEAD "data:\n  other: x\n", 7, 3, "data.config"},
	{CM_HEAD "data:\n  config: |\n    peers: [a,\n    b\n    address-pools: []\n", 10, 18,
	 "(started at line 8)"},
	{CM_HEAD "data:\n  config: |\n    peers: []\n    ---\n    address-pools: []\n", 9, 5,
	 "expected one YAML document"},
	/* checks done after parsing (config_validate) still point at the legacy text */
	{PEER_HEAD "  bfd-profile: Missing_One\n", 5, 16, "\"missing-one\" is not defined"},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - communities: [nope]\n", 6, 19, "\"nope\""},
	{POOL_HEAD("bgp") "  bgp-advertisements:\n  - aggregation-length: 16\n", 6, 25,
	 "at least 24"},
	{POOL_HEAD("bgp") "- name: A\n  protocol: layer2\n  addresses: [10.1.0.0/24]\n", 5, 3,
	 "duplicate name"},
	{POOL_HEAD("layer2") "  auto-assign: maybe\n", 5, 16, "address-pools[0].auto-assign"},
};

static bool diag_matches(const struct cfg_diags *d, const struct bad_case *bc)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct cfg_diag *x = &d->v[i];

		if (x->level == CFG_ERROR && x->line == bc->line && x->col == bc->col &&
		    strstr(x->msg, bc->msg))
			return true;
	}
	return false;
}

/* One test per table entry (the state is the entry). */
static void test_bad_config(void **state)
{
	const struct bad_case *bc = *state;
	struct cfg_diags d = {0};
	struct config *c = NULL;
	int r = config_load_buf("bad.yaml", bc->text, strlen(bc->text), &c, &d);
	bool ok = r == -1 && c == NULL && diag_matches(&d, bc);

	if (!ok) {
		print_message("want an error at %d:%d containing '%s' (load returned %d)\n"
			      "---- text:\n%s---- got:\n",
			      bc->line, bc->col, bc->msg, r, bc->text);
		cfg_diags_print(&d, stderr);
	}
	config_free(c);
	cfg_diags_free(&d);
	assert_true(ok);
}

/* The same body as a bare legacy file and inside a ConfigMap means the same config. */
static void test_bare_body_equals_configmap(void **state)
{
	static const char body[] =
		"peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 10.0.0.1\n"
		"  keepalive-time: 10s\n"
		"bgp-communities:\n  no-export: 65535:65281\n"
		"address-pools:\n- name: Pool_A\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n"
		"  bgp-advertisements:\n  - aggregation-length: 24\n    communities: [no-export]\n"
		"    localpref: 7\n  - localpref: 7\n"
		"- name: b\n  protocol: layer2\n  addresses: [10.1.0.0/24]\n  auto-assign: false\n";
	static const char cm[] =
		CM_HEAD "data:\n  config: |\n"
		"    peers:\n    - my-asn: 64500\n      peer-asn: 64501\n      peer-address: 10.0.0.1\n"
		"      keepalive-time: 10s\n"
		"    bgp-communities:\n      no-export: 65535:65281\n"
		"    address-pools:\n    - name: Pool_A\n      protocol: bgp\n"
		"      addresses: [10.0.0.0/24]\n"
		"      bgp-advertisements:\n      - aggregation-length: 24\n"
		"        communities: [no-export]\n        localpref: 7\n      - localpref: 7\n"
		"    - name: b\n      protocol: layer2\n      addresses: [10.1.0.0/24]\n"
		"      auto-assign: false\n";
	char *a = load_buf_and_print("body.yaml", body);
	char *b = load_buf_and_print("cm.yaml", cm);

	(void)state;
	assert_same_text("body vs ConfigMap", "body", a, "configmap", b);
	/* what the converter would produce */
	assert_non_null(strstr(a, "name: \"pool-a\""));
	assert_non_null(strstr(a, "name: \"bgpadvertisement1\""));
	assert_non_null(strstr(a, "name: \"bgpadvertisement2\""));
	assert_non_null(strstr(a, "name: \"l2advertisement1\""));
	assert_non_null(strstr(a, "name: \"communities\""));
	assert_non_null(strstr(a, "localPref: 7"));
	assert_non_null(strstr(a, "aggregationLength: 24"));
	assert_non_null(strstr(a, "autoAssign: false"));
	/* keepalive given, hold not: hold stays 90s (MetalLB's legacy default) */
	assert_non_null(strstr(a, "holdTime: \"1m30s\""));
	assert_non_null(strstr(a, "keepaliveTime: \"10s\""));
	free(a);
	free(b);
}

/* An empty data.config is a warning, not an error, pointing at the string. */
static void test_empty_configmap_warns(void **state)
{
	static const char text[] = CM_HEAD "data:\n  config: \"\"\n";
	struct cfg_diags d = {0};
	struct config *c = NULL;
	bool found = false;

	(void)state;
	assert_int_equal(config_load_buf("e.yaml", text, strlen(text), &c, &d), 0);
	assert_non_null(c);
	assert_int_equal(c->n_pools, 0);
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].level == CFG_WARNING && d.v[i].line == 7 && d.v[i].col == 11 &&
		    strstr(d.v[i].msg, "data.config is empty"))
			found = true;
	if (!found)
		dump_diags("e.yaml", &d);
	assert_true(found);
	config_free(c);
	cfg_diags_free(&d);
}

/* ---------- the printer on a hand-built config ---------- */

static void test_print_hand_built(void **state)
{
	struct config cfg = {0};
	struct cfg_peer peers[2] = {{0}};
	struct cfg_alias aliases[3] = {{0}};
	struct cfg_l2adv l2 = {0};
	struct cfg_label lab[2] = {{.key = "z", .value = "1"}, {.key = "a", .value = "x\"y\\z\n"}};
	char *out;

	(void)state;
	peers[0].name = "zed";
	peers[0].my_asn = 1;
	peers[0].peer_asn = 2;
	peers[0].peer_port = 179;
	peers[0].hold_time = 3600;
	peers[0].keepalive_time = 0;
	peers[0].vrf = "red";
	peers[0].enable_graceful_restart = true;
	peers[1].name = "alpha";
	peers[1].my_asn = 1;
	peers[1].dynamic_asn = "external";
	peers[1].peer_port = 1179;
	peers[1].hold_time = 61;
	peers[1].keepalive_time = 20;
	peers[1].password_secret_name = "s";
	peers[1].has_router_id = true;
	addr_parse("fc00::1", &peers[1].peer_address);
	peers[1].has_peer_address = true;
	cfg.peers = peers;
	cfg.n_peers = 2;
	aliases[0] = (struct cfg_alias){.name = "b", .value = "1:2", .owner = "two"};
	aliases[1] = (struct cfg_alias){.name = "a", .value = "true", .owner = "one"};
	aliases[2] = (struct cfg_alias){.name = "c", .value = "3:4", .owner = "two"};
	addr_parse("1.2.3.4", &peers[1].router_id);
	cfg.aliases = aliases;
	cfg.n_aliases = 3;
	l2.name = "l2";
	l2.node_selectors = &(struct cfg_selector){.labels = lab, .n_labels = 2};
	l2.n_node_selectors = 1;
	cfg.l2advs = &l2;
	cfg.n_l2advs = 1;

	out = print_to_string(&cfg);
	/* peers sorted by name: alpha first */
	assert_non_null(strstr(out, "name: \"alpha\""));
	assert_true(strstr(out, "name: \"alpha\"") < strstr(out, "name: \"zed\""));
	assert_non_null(strstr(out, "holdTime: \"1h0m0s\""));
	assert_non_null(strstr(out, "keepaliveTime: \"0s\""));
	assert_non_null(strstr(out, "holdTime: \"1m1s\""));
	assert_non_null(strstr(out, "keepaliveTime: \"20s\""));
	assert_non_null(strstr(out, "dynamicASN: \"external\""));
	assert_non_null(strstr(out, "peerAddress: \"fc00::1\""));
	assert_non_null(strstr(out, "routerID: \"1.2.3.4\""));
	assert_non_null(strstr(out, "  passwordSecret:\n    name: \"s\"\n"));
	assert_non_null(strstr(out, "enableGracefulRestart: true"));
	assert_non_null(strstr(out, "vrf: \"red\""));
	/* dynamicASN peers have no peerASN; the other one has */
	assert_non_null(strstr(out, "peerASN: 2"));
	assert_null(strstr(out, "peerASN: 0"));
	/* Communities grouped by owner, owners sorted, a string that looks like a bool quoted */
	assert_non_null(strstr(out, "kind: Community\nmetadata:\n  name: \"one\"\n  namespace: "
				    "metallb-system\nspec:\n  communities:\n  - name: \"a\"\n"
				    "    value: \"true\"\n"));
	assert_non_null(strstr(out, "  communities:\n  - name: \"b\"\n    value: \"1:2\"\n"
				    "  - name: \"c\"\n    value: \"3:4\"\n"));
	assert_true(strstr(out, "name: \"one\"") < strstr(out, "name: \"two\""));
	/* BGPPeer before Community before L2Advertisement */
	assert_true(strstr(out, "kind: BGPPeer") < strstr(out, "kind: Community"));
	assert_true(strstr(out, "kind: Community") < strstr(out, "kind: L2Advertisement"));
	/* label map sorted, escapes */
	assert_non_null(strstr(out, "  nodeSelectors:\n  - matchLabels:\n      \"a\": \"x\\\"y\\\\z\\n\"\n"
				    "      \"z\": \"1\"\n"));
	/* separators between documents only */
	assert_true(strncmp(out, "apiVersion: ", 12) == 0);
	assert_null(strstr(out, "---\n---"));
	free(out);
}

int main(void)
{
	enum { N_BAD = sizeof bad_cases / sizeof bad_cases[0] };
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_print_hand_built),
		cmocka_unit_test(test_legacy_name),
		cmocka_unit_test(test_legacy_matches_golden),
		cmocka_unit_test(test_print_exact_peers),
		cmocka_unit_test(test_full_rejected),
		cmocka_unit_test(test_idempotent_crd),
		cmocka_unit_test(test_idempotent_legacy),
		cmocka_unit_test(test_idempotent_extra),
		cmocka_unit_test(test_print_exact_roundtrip_legacy),
		cmocka_unit_test(test_bare_body_equals_configmap),
		cmocka_unit_test(test_empty_configmap_warns),
	};
	enum { N_FIXED = sizeof fixed / sizeof fixed[0] };
	struct CMUnitTest tests[N_FIXED + N_BAD];
	char names[N_BAD][32];

	_Static_assert(N_BAD >= 30, "at least thirty bad configs");
	memcpy(tests, fixed, sizeof fixed);
	for (size_t i = 0; i < N_BAD; i++) {
		snprintf(names[i], sizeof names[i], "bad_config_%02zu_line_%d", i + 1,
			 bad_cases[i].line);
		tests[N_FIXED + i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = test_bad_config,
			.initial_state = (void *)&bad_cases[i],
		};
	}
	return _cmocka_run_group_tests("test_config_legacy", tests, N_FIXED + N_BAD, NULL, NULL);
}
