/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for kubeconfig: kubeconfig parsing (current context, CA, tokens, client certificates,
 * *-data fields, relative paths, errors), in-cluster configuration, the resolution order, base64. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barelb/kubeconfig.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *KC_HEAD =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: dev\n"
	"contexts:\n"
	"- name: other\n"
	"  context: {cluster: nope, user: nobody}\n"
	"- name: dev\n"
	"  context:\n"
	"    cluster: c1\n"
	"    user: u1\n"
	"    namespace: team-a\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster:\n"
	"    server: https://10.1.2.3:6443/\n";

static int parse(const char *tail, struct kube_config *c, char *err, size_t n)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s%s", KC_HEAD, tail);
	return kubeconfig_parse(buf, strlen(buf), "/etc/kube", c, err, n);
}

static void test_token_and_relative_ca(void **state)
{
	struct kube_config c;
	char err[256] = "";
	(void)state;

	assert_int_equal(parse("    certificate-authority: pki/ca.crt\n"
			       "users:\n- name: u1\n  user:\n    token: abc.def\n",
			       &c, err, sizeof err), 0);
	assert_string_equal(c.server, "https://10.1.2.3:6443"); /* trailing slash trimmed */
	assert_string_equal(c.ca_file, "/etc/kube/pki/ca.crt");
	assert_string_equal(c.token, "abc.def");
	assert_null(c.token_file);
	assert_string_equal(c.namespace, "team-a");
	assert_false(c.insecure);
	assert_null(c.cert_file);
	kubeconfig_clear(&c);
}

static void test_data_fields(void **state)
{
	struct kube_config c;
	char err[256] = "";
	(void)state;

	/* "CA-PEM", "CERT", "KEY" in base64, one with a line break inside */
	assert_int_equal(parse("    certificate-authority-data: Q0EtUEVN\n"
			       "users:\n- name: u1\n  user:\n"
			       "    client-certificate-data: Q0VS\n      VA==\n"
			       "    client-key-data: S0VZ\n",
			       &c, err, sizeof err), 0);
	assert_int_equal(c.ca_len, 6);
	assert_memory_equal(c.ca_data, "CA-PEM", 6);
	assert_int_equal(c.cert_len, 4);
	assert_memory_equal(c.cert_data, "CERT", 4);
	assert_int_equal(c.key_len, 3);
	assert_memory_equal(c.key_data, "KEY", 3);
	kubeconfig_clear(&c);
}

static void test_insecure_and_token_file(void **state)
{
	struct kube_config c;
	char err[256] = "";
	(void)state;

	assert_int_equal(parse("    insecure-skip-tls-verify: true\n"
			       "users:\n- name: u1\n  user:\n    tokenFile: tok\n"
			       "    client-certificate: /abs/c.crt\n    client-key: k.key\n",
			       &c, err, sizeof err), 0);
	assert_true(c.insecure);
	assert_string_equal(c.token_file, "/etc/kube/tok");
	assert_string_equal(c.cert_file, "/abs/c.crt");
	assert_string_equal(c.key_file, "/etc/kube/k.key");
	kubeconfig_clear(&c);
}

struct bad_case {
	const char *name;
	const char *text;     /* whole kubeconfig, or NULL: KC_HEAD + tail */
	const char *tail;
	const char *want;     /* substring of the error */
};

static void test_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "no current-context", "clusters: []\n", NULL, "current-context is not set" },
		{ "not a mapping", "- a\n- b\n", NULL, "expected a mapping" },
		{ "bad yaml", "a: [b\n", NULL, "line" },
		{ "unknown user", NULL, "users:\n- name: someone-else\n  user: {token: x}\n",
		  "no entry named \"u1\"" },
		{ "no users list", NULL, "", "users: missing" },
		{ "exec plugin", NULL, "users:\n- name: u1\n  user:\n    exec: {command: aws}\n",
		  "exec" },
		{ "cert without key", NULL,
		  "users:\n- name: u1\n  user:\n    client-certificate: c.crt\n", "both" },
		{ "bad base64", NULL, "    certificate-authority-data: '@@@'\n"
		  "users:\n- name: u1\n  user: {token: x}\n", "not valid base64" },
		{ "bad bool", NULL, "    insecure-skip-tls-verify: maybe\n"
		  "users:\n- name: u1\n  user: {token: x}\n", "expected true or false" },
		{ "unknown cluster",
		  "current-context: other\ncontexts:\n- name: other\n  context: {cluster: nope}\n"
		  "clusters:\n- name: c1\n  cluster: {server: https://x}\n", NULL,
		  "no entry named \"nope\"" },
		{ "no server",
		  "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {certificate-authority: x}\n", NULL,
		  "has no server" },
		{ "not a URL",
		  "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
		  "clusters:\n- name: c\n  cluster: {server: 10.0.0.1:6443}\n", NULL,
		  "expected an https:// URL" },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct kube_config c;
		char err[256] = "";
		int rc;

		if (cases[i].text)
			rc = kubeconfig_parse(cases[i].text, strlen(cases[i].text), "/d", &c, err,
					      sizeof err);
		else
			rc = parse(cases[i].tail, &c, err, sizeof err);
		if (rc != -1 || !strstr(err, cases[i].want))
			fail_msg("case \"%s\": rc %d, error \"%s\", want \"%s\"", cases[i].name, rc,
				 err, cases[i].want);
		assert_null(c.server); /* nothing left to free on error */
	}
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "", "" },
		{ "aGVsbG8=", "hello" },
		{ "aGVsbG8", "hello" },
		{ "aGVs\nbG8h", "hello!" },
		{ " YQ== ", "a" },
	};
	static const char *bad[] = { "a", "aGVs*", "YQ==YQ", "YQ===" };
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		size_t n;
		char *d = kube_b64_decode(ok[i].in, strlen(ok[i].in), &n);
		if (!d || n != strlen(ok[i].out) || memcmp(d, ok[i].out, n) != 0)
			fail_msg("base64 \"%s\": got \"%s\"", ok[i].in, d ? d : "(null)");
		free(d);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (kube_b64_decode(bad[i], strlen(bad[i]), NULL))
			fail_msg("base64 \"%s\" accepted", bad[i]);
}

/* ---------- files: in-cluster and the resolution order ---------- */

static char tmpdir[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_kubeconfig.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_in_cluster(void **state)
{
	struct kube_config c;
	char err[256] = "", want[128];
	(void)state;

	assert_int_equal(kubeconfig_in_cluster(tmpdir, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kubeconfig_in_cluster(tmpdir, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "/token"));

	put("token", "tok\n");
	put("namespace", "barelb-system\n");
	assert_int_equal(kubeconfig_in_cluster(tmpdir, &c, err, sizeof err), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	snprintf(want, sizeof want, "%s/token", tmpdir);
	assert_string_equal(c.token_file, want); /* read per request: it rotates */
	snprintf(want, sizeof want, "%s/ca.crt", tmpdir);
	assert_string_equal(c.ca_file, want);
	assert_string_equal(c.namespace, "barelb-system");
	assert_string_equal(c.origin, "in-cluster");
	kubeconfig_clear(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_int_equal(kubeconfig_in_cluster(tmpdir, &c, err, sizeof err), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	kubeconfig_clear(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

static void test_resolution_order(void **state)
{
	static const char kc[] = "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n"
				 "clusters:\n- name: c\n  cluster: {server: https://%s}\n";
	struct kube_config c;
	char err[256] = "", path[256], text[256], env[600];
	(void)state;

	snprintf(path, sizeof path, "%s/.kube", tmpdir);
	mkdir(path, 0700);
	snprintf(text, sizeof text, kc, "from-explicit");
	put("explicit", text);
	snprintf(text, sizeof text, kc, "from-env");
	put("env", text);
	snprintf(text, sizeof text, kc, "from-home");
	put(".kube/config", text);
	setenv("HOME", tmpdir, 1);

	/* --kubeconfig wins */
	snprintf(path, sizeof path, "%s/explicit", tmpdir);
	snprintf(env, sizeof env, "%s/missing:%s/env", tmpdir, tmpdir);
	setenv("KUBECONFIG", env, 1);
	assert_int_equal(kubeconfig_load(path, &c, err, sizeof err), 0);
	assert_string_equal(c.server, "https://from-explicit");
	assert_string_equal(c.origin, path);
	kubeconfig_clear(&c);

	/* then the first existing file of $KUBECONFIG */
	assert_int_equal(kubeconfig_load(NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.server, "https://from-env");
	kubeconfig_clear(&c);

	/* then ~/.kube/config */
	unsetenv("KUBECONFIG");
	assert_int_equal(kubeconfig_load(NULL, &c, err, sizeof err), 0);
	assert_string_equal(c.server, "https://from-home");
	kubeconfig_clear(&c);

	/* an explicit file that is missing is an error, not a fallback */
	snprintf(path, sizeof path, "%s/nope", tmpdir);
	assert_int_equal(kubeconfig_load(path, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));

	/* nothing at all */
	snprintf(path, sizeof path, "%s/.kube/config", tmpdir);
	unlink(path);
	assert_int_equal(kubeconfig_load(NULL, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "no Kubernetes configuration"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_and_relative_ca),
		cmocka_unit_test(test_data_fields),
		cmocka_unit_test(test_insecure_and_token_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_resolution_order),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
