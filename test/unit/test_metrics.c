/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/metrics.c: the exact exposition text of a small registry (order, escaping,
 * values), registration errors, collect callbacks, and HTTP round trips on 127.0.0.1 through the
 * loop (/metrics, /healthz, /readyz, 404, methods, HEAD, the listen address parser). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/metrics.h"

#define V(...) ((const char *const[]){ __VA_ARGS__ })

static char *render(struct metrics *m)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(m, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static void test_render_exact(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_family *pools, *req, *up, *cfg;
	char *out;

	/* registered out of name order: rendered in name order */
	up = metrics_gauge(m, "barelb_bgp_session_up", "BGP session state (1 up, 0 down)", "peer");
	pools = metrics_gauge(m, "barelb_allocator_addresses_in_use_total",
			      "Number of IP addresses in use, per pool", "pool");
	req = metrics_counter(m, "barelb_layer2_requests_received", "Layer 2 requests received",
			      "ip");
	cfg = metrics_gauge(m, "barelb_k8s_client_config_loaded_bool",
			    "1 if the config was loaded", NULL);
	assert_non_null(up);
	assert_non_null(pools);
	assert_non_null(req);
	assert_non_null(cfg);
	assert_int_equal(metrics_set(pools, V("zeta"), 3), 0);
	assert_int_equal(metrics_set(pools, V("alpha"), 250), 0);
	assert_int_equal(metrics_inc(req, V("192.0.2.1")), 0);
	assert_int_equal(metrics_inc(req, V("192.0.2.1")), 0);
	assert_int_equal(metrics_add(req, V("2001:db8::1"), 5), 0);
	assert_int_equal(metrics_set(cfg, NULL, 1), 0);
	out = render(m);
	assert_string_equal(out,
		"# HELP barelb_allocator_addresses_in_use_total Number of IP addresses in use, per pool\n"
		"# TYPE barelb_allocator_addresses_in_use_total gauge\n"
		"barelb_allocator_addresses_in_use_total{pool=\"alpha\"} 250\n"
		"barelb_allocator_addresses_in_use_total{pool=\"zeta\"} 3\n"
		"# HELP barelb_bgp_session_up BGP session state (1 up, 0 down)\n"
		"# TYPE barelb_bgp_session_up gauge\n"
		"# HELP barelb_k8s_client_config_loaded_bool 1 if the config was loaded\n"
		"# TYPE barelb_k8s_client_config_loaded_bool gauge\n"
		"barelb_k8s_client_config_loaded_bool 1\n"
		"# HELP barelb_layer2_requests_received Layer 2 requests received\n"
		"# TYPE barelb_layer2_requests_received counter\n"
		"barelb_layer2_requests_received{ip=\"192.0.2.1\"} 2\n"
		"barelb_layer2_requests_received{ip=\"2001:db8::1\"} 5\n");
	free(out);
	metrics_free(m);
}

static void test_escaping_and_values(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f;
	char *out;

	f = metrics_gauge(m, "t", "help with \\ backslash\nand newline \"quotes\" kept", "a,b");
	assert_non_null(f);
	metrics_set(f, V("q\"uote", "back\\slash"), 0.5);
	metrics_set(f, V("new\nline", "bad\xff utf8 \xc3\xa9"), -2);
	metrics_set(f, V("inf", ""), INFINITY);
	metrics_set(f, V("minf", NULL), -INFINITY);
	metrics_set(f, V("nan", "x"), NAN);
	metrics_set(f, V("big", "x"), 1e20);
	metrics_set(f, V("small", "x"), 1e-7);
	metrics_set(f, V("third", "x"), 1.0 / 3);
	out = render(m);
	assert_string_equal(out,
		"# HELP t help with \\\\ backslash\\nand newline \"quotes\" kept\n"
		"# TYPE t gauge\n"
		"t{a=\"big\",b=\"x\"} 1e+20\n"
		"t{a=\"inf\",b=\"\"} +Inf\n"
		"t{a=\"minf\",b=\"\"} -Inf\n"
		"t{a=\"nan\",b=\"x\"} NaN\n"
		"t{a=\"new\\nline\",b=\"bad\xef\xbf\xbd utf8 \xc3\xa9\"} -2\n"
		"t{a=\"q\\\"uote\",b=\"back\\\\slash\"} 0.5\n"
		"t{a=\"small\",b=\"x\"} 1e-07\n"
		"t{a=\"third\",b=\"x\"} 0.33333333333333331\n");
	free(out);
	metrics_free(m);
}

static void test_series_order_by_each_label(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_gauge(m, "x", "h", "a,b");
	char *out;

	/* "a" then "b" are compared one after the other, not as one joined string */
	metrics_set(f, V("a", "b2"), 1);
	metrics_set(f, V("ab", "a"), 2);
	metrics_set(f, V("a", "b1"), 3);
	out = render(m);
	assert_string_equal(out, "# HELP x h\n# TYPE x gauge\n"
				 "x{a=\"a\",b=\"b1\"} 3\nx{a=\"a\",b=\"b2\"} 1\nx{a=\"ab\",b=\"a\"} 2\n");
	free(out);
	metrics_free(m);
}

static void test_registration_errors(void **state)
{
	struct metrics *m = metrics_new();

	log_set_level(LOG_ERROR + 1);
	assert_null(metrics_gauge(m, "", "h", NULL));
	assert_null(metrics_gauge(m, "9lives", "h", NULL));
	assert_null(metrics_gauge(m, "has-dash", "h", NULL));
	assert_null(metrics_gauge(m, NULL, "h", NULL));
	assert_non_null(metrics_gauge(m, "ns:sub_total", "colons are allowed in names", NULL));
	assert_null(metrics_gauge(m, "ok", "h", "__reserved"));
	assert_null(metrics_gauge(m, "ok", "h", "a:b"));
	assert_null(metrics_gauge(m, "ok", "h", "a,,b"));
	assert_null(metrics_gauge(m, "ok", "h", "a,"));
	assert_null(metrics_gauge(m, "ok", "h", "a,a"));
	assert_null(metrics_gauge(m, "ok", "h", "a,b,c,d,e,f,g,h,i"));
	assert_non_null(metrics_gauge(m, "ok", "h", "a,b,c,d,e,f,g,h"));
	assert_null(metrics_counter(m, "ok", "h", NULL)); /* duplicate */
	assert_non_null(metrics_find(m, "ok"));
	assert_null(metrics_find(m, "nope"));
	log_set_level(LOG_INFO);
	metrics_free(m);
	metrics_free(NULL);
}

static void test_counter_rules_remove_clear(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_family *c = metrics_counter(m, "c_total", "h", "k");
	struct metrics_family *g = metrics_gauge(m, "g", "h", NULL);
	struct metrics_series *s;

	assert_int_equal(metrics_add(c, V("a"), -1), -1); /* counters do not go down */
	assert_int_equal(metrics_add(c, V("a"), NAN), -1);
	assert_int_equal(metrics_add(c, V("a"), 2), 0);
	assert_true(metrics_get(c, V("a")) == 2);
	assert_true(isnan(metrics_get(c, V("b"))));
	assert_int_equal(metrics_set(c, NULL, 1), -1); /* values missing */
	assert_int_equal(metrics_add(NULL, NULL, 1), -1);
	assert_int_equal(metrics_add(g, NULL, -5), 0); /* gauges do */
	assert_true(metrics_get(g, NULL) == -5);
	s = metrics_series(c, V("hot"));
	metrics_series_add(s, 7);
	metrics_series_add(s, 1);
	assert_true(metrics_get(c, V("hot")) == 8);
	metrics_series_set(NULL, 1);
	metrics_series_add(NULL, 1);
	assert_int_equal(metrics_series_count(c), 2);
	assert_int_equal(metrics_remove(c, V("a")), 0);
	assert_int_equal(metrics_remove(c, V("a")), -1);
	assert_int_equal(metrics_series_count(c), 1);
	metrics_clear(c);
	assert_int_equal(metrics_series_count(c), 0);
	metrics_clear(g); /* a family without labels keeps its one series, at 0 */
	assert_int_equal(metrics_series_count(g), 1);
	assert_true(metrics_get(g, NULL) == 0);
	metrics_free(m);
}

struct coll {
	int calls;
	double level;
};

static void collect_pools(struct metrics_family *f, void *arg)
{
	struct coll *c = arg;

	c->calls++;
	/* only what exists now: the "old" series set before the scrape is gone */
	metrics_set(f, V("p1"), c->level);
}

static void test_collect_callback(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_gauge(m, "pool_size", "h", "pool");
	struct coll c = { .level = 42 };
	char *out;

	metrics_set(f, V("old"), 1);
	metrics_on_collect(f, collect_pools, &c);
	out = render(m);
	assert_int_equal(c.calls, 1);
	assert_string_equal(out, "# HELP pool_size h\n# TYPE pool_size gauge\npool_size{pool=\"p1\"} 42\n");
	free(out);
	c.level = 7;
	out = render(m);
	assert_int_equal(c.calls, 2);
	assert_non_null(strstr(out, "pool_size{pool=\"p1\"} 7\n"));
	free(out);
	metrics_free(m);
}

static void test_empty_registry(void **state)
{
	struct metrics *m = metrics_new();
	char *out = render(m);

	assert_string_equal(out, "");
	free(out);
	metrics_free(m);
}

static void test_many_series(void **state)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_gauge(m, "announced", "h", "service,ip");
	char a[32], b[32], *out, *p;
	size_t lines = 0;

	for (int i = 9999; i >= 0; i--) {
		snprintf(a, sizeof a, "ns/svc-%05d", i);
		snprintf(b, sizeof b, "10.%d.%d.1", i / 256, i % 256);
		assert_int_equal(metrics_set(f, V(a, b), 1), 0);
	}
	out = render(m);
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 10002);
	assert_non_null(strstr(out, "# TYPE announced gauge\n"
				    "announced{service=\"ns/svc-00000\",ip=\"10.0.0.1\"} 1\n"
				    "announced{service=\"ns/svc-00001\",ip=\"10.0.1.1\"} 1\n"));
	free(out);
	metrics_free(m);
}

static void test_parse_listen(void **state)
{
	static const struct {
		const char *spec;
		int rc;
		const char *host;
		unsigned port;
	} cases[] = {
		{ ":7472", 1, "", 7472 },
		{ "0.0.0.0:9000", 1, "0.0.0.0", 9000 },
		{ "127.0.0.1:1", 1, "127.0.0.1", 1 },
		{ "[::1]:7472", 1, "::1", 7472 },
		{ "[::]:65535", 1, "::", 65535 },
		{ "localhost:80", 1, "localhost", 80 },
		{ "off", 0, NULL, 0 },
		{ ":0", 0, NULL, 0 },
		{ "127.0.0.1:0", 0, NULL, 0 },
		{ "7472", -1, NULL, 0 },
		{ "", -1, NULL, 0 },
		{ ":", -1, NULL, 0 },
		{ ":65536", -1, NULL, 0 },
		{ ":-1", -1, NULL, 0 },
		{ ":+1", -1, NULL, 0 },
		{ ":12x", -1, NULL, 0 },
		{ "::1:7472", -1, NULL, 0 },
		{ "[::1]7472", -1, NULL, 0 },
		{ "[]:7472", -1, NULL, 0 },
		{ "[::1:7472", -1, NULL, 0 },
		{ "OFF", -1, NULL, 0 },
	};
	char host[64];
	uint16_t port;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = metrics_parse_listen(cases[i].spec, host, sizeof host, &port);
		if (rc != cases[i].rc)
			fail_msg("%s: got %d, want %d", cases[i].spec, rc, cases[i].rc);
		if (rc == 1) {
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		}
	}
	assert_int_equal(metrics_parse_listen(NULL, host, sizeof host, &port), -1);
	assert_int_equal(metrics_parse_listen("a-very-long-host-name:1", host, 8, &port), -1);
}

/* ---------- HTTP round trips through the loop ---------- */

struct http_client {
	struct loop *l;
	int fd;
	struct loop_fd *lf;
	const char *req;
	size_t sent;
	char resp[1 << 16];
	size_t len;
};

static void on_client(int fd, unsigned events, void *arg)
{
	struct http_client *c = arg;

	if (c->sent < strlen(c->req)) {
		ssize_t n = send(fd, c->req + c->sent, strlen(c->req) - c->sent, MSG_NOSIGNAL);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINPROGRESS)
			loop_stop(c->l);
		if (c->sent == strlen(c->req))
			loop_fd_set_events(c->lf, LOOP_READ);
		return;
	}
	ssize_t n = recv(fd, c->resp + c->len, sizeof c->resp - 1 - c->len, 0);
	if (n > 0) {
		c->len += (size_t)n;
		c->resp[c->len] = '\0';
	} else if (n == 0 || errno != EAGAIN) {
		loop_stop(c->l);
	}
}

static void on_timeout(void *arg)
{
	loop_stop(arg);
}

/* Send one raw request to 127.0.0.1:port, run the loop until the server closes; the response. */
static char *http(struct loop *l, uint16_t port, const char *req)
{
	struct http_client *c = calloc(1, sizeof *c);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct loop_timer *t = loop_timer_new(l, on_timeout, l);
	char *out;

	c->l = l;
	c->req = req;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);
	assert_true(connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS);
	c->lf = loop_fd_add(l, c->fd, LOOP_WRITE, on_client, c);
	loop_timer_arm(t, 5000);
	loop_run(l);
	assert_true(loop_timer_pending(t)); /* finished before the timeout */
	loop_timer_free(t);
	loop_fd_del(c->lf);
	close(c->fd);
	out = strdup(c->resp);
	free(c);
	return out;
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	return b ? b + 4 : "";
}

struct readiness {
	bool ready;
	int asked;
};

static bool ready_cb(void *arg, char *why, size_t len)
{
	struct readiness *r = arg;

	r->asked++;
	if (!r->ready)
		snprintf(why, len, "waiting for the first sync\nsecond line dropped");
	return r->ready;
}

/* A port that was free a moment ago (the server under test must be given a real port). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static struct metrics_server *start(struct loop *l, struct metrics *m, struct readiness *r)
{
	struct metrics_server *s = NULL;
	char spec[64];

	for (int i = 0; i < 5 && !s; i++) {
		uint16_t port = free_port();
		snprintf(spec, sizeof spec, "127.0.0.1:%u", port);
		if (metrics_server_start(l, m, spec, ready_cb, r, &s) == 0 && s)
			assert_int_equal(metrics_server_port(s), port);
	}
	assert_non_null(s);
	return s;
}

static void test_http_endpoints(void **state)
{
	struct loop *l = loop_new();
	struct metrics *m = metrics_new();
	struct readiness r = { 0 };
	struct metrics_family *f = metrics_counter(m, "barelb_test_total", "h", "k");
	struct metrics_server *s;
	char *resp, *expect;
	uint16_t port;

	log_set_level(LOG_WARN);
	metrics_inc(f, V("v"));
	s = start(l, m, &r);
	port = metrics_server_port(s);

	resp = http(l, port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(resp, "Content-Type: " METRICS_CONTENT_TYPE "\r\n"));
	assert_int_equal(metrics_render(m, &expect, NULL), 0);
	assert_string_equal(body_of(resp), expect);
	assert_non_null(strstr(expect, "barelb_test_total{k=\"v\"} 1\n"));
	free(expect);
	free(resp);

	resp = http(l, port, "GET /metrics?name[]=x HTTP/1.0\r\n\r\n"); /* query ignored */
	assert_true(strncmp(resp, "HTTP/1.0 200", 12) == 0 || strncmp(resp, "HTTP/1.1 200", 12) == 0);
	free(resp);

	resp = http(l, port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	assert_string_equal(body_of(resp), "ok\n");
	free(resp);

	resp = http(l, port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.1 503", 12) == 0);
	assert_string_equal(body_of(resp), "not ready: waiting for the first sync\n");
	free(resp);
	r.ready = true;
	resp = http(l, port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	assert_string_equal(body_of(resp), "ok\n");
	free(resp);
	assert_int_equal(r.asked, 2);

	resp = http(l, port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.1 404", 12) == 0);
	free(resp);

	resp = http(l, port, "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			     "Content-Length: 2\r\n\r\nhi");
	assert_true(strncmp(resp, "HTTP/1.1 ", 9) == 0);
	assert_true(strncmp(resp + 9, "200", 3) != 0);
	free(resp);

	resp = http(l, port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.1 200", 12) == 0);
	assert_string_equal(body_of(resp), "");
	free(resp);

	resp = http(l, port, "garbage\r\n\r\n");
	assert_null(strstr(resp, " 200 "));
	free(resp);

	/* two requests on one keep-alive connection */
	resp = http(l, port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
			     "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(strstr(resp, "ok\n") + 3, "HTTP/1.1 200"));
	free(resp);
	assert_true(metrics_server_requests(s) >= 9);

	metrics_server_free(s);
	metrics_free(m);
	loop_free(l);
	log_set_level(LOG_INFO);
}

static void test_server_disabled_and_errors(void **state)
{
	struct loop *l = loop_new();
	struct metrics *m = metrics_new();
	struct metrics_server *s = (void *)1, *s2 = NULL;
	struct readiness r = { .ready = true };
	char spec[64];

	log_set_level(LOG_ERROR + 1);
	assert_int_equal(metrics_server_start(l, m, "off", NULL, NULL, &s), 0);
	assert_null(s);
	s = (void *)1;
	assert_int_equal(metrics_server_start(l, m, ":0", NULL, NULL, &s), 0);
	assert_null(s);
	assert_int_equal(metrics_server_start(l, m, "nonsense", NULL, NULL, &s), -1);
	assert_null(s);
	assert_int_equal(metrics_server_start(l, m, "192.0.2.1:7472", NULL, NULL, &s), -1);
	assert_int_equal(metrics_server_start(l, m, "no-such-host.invalid:7472", NULL, NULL, &s),
			 -1);
	/* a port in use */
	s = start(l, m, &r);
	snprintf(spec, sizeof spec, "127.0.0.1:%u", metrics_server_port(s));
	assert_int_equal(metrics_server_start(l, m, spec, NULL, NULL, &s2), -1);
	assert_null(s2);
	metrics_server_free(s);
	metrics_server_free(NULL);
	assert_int_equal(metrics_server_port(NULL), 0);
	metrics_free(m);
	loop_free(l);
	log_set_level(LOG_INFO);
}

/* ":PORT" listens on every address: reachable on 127.0.0.1 (through the dual-stack socket). */
static void test_server_all_addresses(void **state)
{
	struct loop *l = loop_new();
	struct metrics *m = metrics_new();
	struct metrics_server *s = NULL;
	char spec[32], *resp;

	log_set_level(LOG_WARN);
	for (int i = 0; i < 5 && !s; i++) {
		snprintf(spec, sizeof spec, ":%u", free_port());
		metrics_server_start(l, m, spec, NULL, NULL, &s);
	}
	assert_non_null(s);
	resp = http(l, metrics_server_port(s), "GET /readyz HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(resp, " 200 "));
	free(resp);
	metrics_server_free(s);
	metrics_free(m);
	loop_free(l);
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_escaping_and_values),
		cmocka_unit_test(test_series_order_by_each_label),
		cmocka_unit_test(test_registration_errors),
		cmocka_unit_test(test_counter_rules_remove_clear),
		cmocka_unit_test(test_collect_callback),
		cmocka_unit_test(test_empty_registry),
		cmocka_unit_test(test_many_series),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_http_endpoints),
		cmocka_unit_test(test_server_disabled_and_errors),
		cmocka_unit_test(test_server_all_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
