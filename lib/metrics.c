/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: counter/gauge registry, Prometheus text rendering, and the /metrics /healthz /readyz
 * HTTP server on libevent's evhttp (no evhttp type leaves this file). */
#define _GNU_SOURCE /* qsort_r */
#include "barelb/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/strmap.h"

struct metrics_series {
	char **vals; /* one per label of the family */
	double v;
};

struct metrics_family {
	struct metrics *m;
	char *name, *help;
	enum metrics_type type;
	size_t n_labels;
	char *labels[METRICS_MAX_LABELS];
	struct strmap *series; /* key (length-prefixed values) → struct metrics_series */
	metrics_collect_cb collect;
	void *collect_arg;
};

struct metrics {
	struct metrics_family **fam; /* sorted by name */
	size_t n_fam, cap_fam;
};

/* ---------- a growing text buffer ---------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* ---------- names ---------- */

/* Prometheus data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 * and not starting with "__" (reserved). */
static bool valid_name(const char *s, size_t n, bool label)
{
	if (n == 0)
		return false;
	if (label && n >= 2 && s[0] == '_' && s[1] == '_')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (!label && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static int cmp_family(const void *a, const void *b)
{
	return strcmp((*(struct metrics_family *const *)a)->name,
		      (*(struct metrics_family *const *)b)->name);
}

/* ---------- registry ---------- */

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

static void series_free(void *p)
{
	struct metrics_series *s = p;

	if (!s)
		return;
	for (size_t i = 0; s->vals && s->vals[i]; i++)
		free(s->vals[i]);
	free(s->vals);
	free(s);
}

static void family_free(struct metrics_family *f)
{
	if (!f)
		return;
	strmap_free(f->series, series_free);
	for (size_t i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_fam; i++)
		family_free(m->fam[i]);
	free(m->fam);
	free(m);
}

struct metrics_family *metrics_find(const struct metrics *m, const char *name)
{
	size_t lo = 0, hi = m->n_fam;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->fam[mid]->name, name);
		if (c == 0)
			return m->fam[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct metrics_family *family_new(struct metrics *m, enum metrics_type type,
					 const char *name, const char *help, const char *labels)
{
	struct metrics_family *f = NULL;
	const char *p = labels ? labels : "";

	if (!name || !valid_name(name, strlen(name), false)) {
		log_error("msg=\"metrics: invalid metric name\" name=\"%s\"", name ? name : "");
		return NULL;
	}
	if (metrics_find(m, name)) {
		log_error("msg=\"metrics: family registered twice\" name=%s", name);
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (!f)
		goto nomem;
	f->m = m;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->series = strmap_new();
	if (!f->name || !f->help || !f->series)
		goto nomem;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (f->n_labels == METRICS_MAX_LABELS || !valid_name(p, n, true)) {
			log_error("msg=\"metrics: invalid label list\" name=%s labels=\"%s\"", name,
				  labels);
			family_free(f);
			return NULL;
		}
		for (size_t i = 0; i < f->n_labels; i++)
			if (strlen(f->labels[i]) == n && memcmp(f->labels[i], p, n) == 0) {
				log_error("msg=\"metrics: duplicate label\" name=%s labels=\"%s\"",
					  name, labels);
				family_free(f);
				return NULL;
			}
		f->labels[f->n_labels] = strndup(p, n);
		if (!f->labels[f->n_labels])
			goto nomem;
		f->n_labels++;
		p = end ? end + 1 : p + n;
		if (end && !*p) { /* "a," */
			log_error("msg=\"metrics: invalid label list\" name=%s labels=\"%s\"", name,
				  labels);
			family_free(f);
			return NULL;
		}
	}
	if (m->n_fam == m->cap_fam) {
		size_t cap = m->cap_fam ? m->cap_fam * 2 : 32;
		struct metrics_family **nf = realloc(m->fam, cap * sizeof *nf);
		if (!nf)
			goto nomem;
		m->fam = nf;
		m->cap_fam = cap;
	}
	if (f->n_labels == 0 && !metrics_series(f, NULL))
		goto nomem;
	m->fam[m->n_fam++] = f;
	qsort(m->fam, m->n_fam, sizeof *m->fam, cmp_family);
	return f;
nomem:
	log_error("msg=\"metrics: out of memory\" name=%s", name);
	family_free(f);
	return NULL;
}

struct metrics_family *metrics_counter(struct metrics *m, const char *name, const char *help,
				       const char *labels)
{
	return family_new(m, METRICS_COUNTER, name, help, labels);
}

struct metrics_family *metrics_gauge(struct metrics *m, const char *name, const char *help,
				     const char *labels)
{
	return family_new(m, METRICS_GAUGE, name, help, labels);
}

void metrics_on_collect(struct metrics_family *f, metrics_collect_cb cb, void *arg)
{
	if (!f)
		return;
	f->collect = cb;
	f->collect_arg = arg;
}

/* ---------- series ---------- */

/* The map key of a set of label values: "LEN:VALUE" for each, so that no value can be mistaken
 * for two. NULL on allocation failure. */
static char *series_key(const struct metrics_family *f, const char *const *vals)
{
	size_t n = 1;
	char *k, *p;

	for (size_t i = 0; i < f->n_labels; i++)
		n += 24 + (vals[i] ? strlen(vals[i]) : 0);
	k = p = malloc(n);
	if (!k)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = vals[i] ? vals[i] : "";
		p += sprintf(p, "%zu:%s", strlen(v), v);
	}
	return k;
}

static struct metrics_series *lookup(const struct metrics_family *f, const char *const *vals,
				     char **keyp)
{
	char *k = series_key(f, vals);
	struct metrics_series *s;

	if (!k)
		return NULL;
	s = strmap_get(f->series, k);
	if (keyp)
		*keyp = k;
	else
		free(k);
	return s;
}

struct metrics_series *metrics_series(struct metrics_family *f, const char *const *vals)
{
	struct metrics_series *s;
	char *k = NULL;

	if (!f || (f->n_labels && !vals))
		return NULL;
	s = lookup(f, vals, &k);
	if (s || !k) {
		free(k);
		return s;
	}
	s = calloc(1, sizeof *s);
	if (s)
		s->vals = calloc(f->n_labels + 1, sizeof *s->vals);
	for (size_t i = 0; s && s->vals && i < f->n_labels; i++) {
		s->vals[i] = strdup(vals[i] ? vals[i] : "");
		if (!s->vals[i]) {
			series_free(s);
			s = NULL;
		}
	}
	if (!s || !s->vals) {
		series_free(s);
		free(k);
		return NULL;
	}
	strmap_put(f->series, k, s);
	free(k);
	return s;
}

void metrics_series_set(struct metrics_series *s, double v)
{
	if (s)
		s->v = v;
}

void metrics_series_add(struct metrics_series *s, double delta)
{
	if (s)
		s->v += delta;
}

int metrics_set(struct metrics_family *f, const char *const *vals, double v)
{
	struct metrics_series *s = metrics_series(f, vals);

	if (!s)
		return -1;
	s->v = v;
	return 0;
}

int metrics_add(struct metrics_family *f, const char *const *vals, double delta)
{
	struct metrics_series *s;

	if (!f || (f->type == METRICS_COUNTER && !(delta >= 0)))
		return -1;
	s = metrics_series(f, vals);
	if (!s)
		return -1;
	s->v += delta;
	return 0;
}

int metrics_inc(struct metrics_family *f, const char *const *vals)
{
	return metrics_add(f, vals, 1);
}

int metrics_remove(struct metrics_family *f, const char *const *vals)
{
	char *k;
	struct metrics_series *s;

	if (!f || f->n_labels == 0 || !vals)
		return -1;
	k = series_key(f, vals);
	if (!k)
		return -1;
	s = strmap_del(f->series, k);
	free(k);
	series_free(s);
	return s ? 0 : -1;
}

void metrics_clear(struct metrics_family *f)
{
	if (!f)
		return;
	if (f->n_labels == 0) {
		struct metrics_series *s = lookup(f, NULL, NULL);
		if (s)
			s->v = 0;
		return;
	}
	strmap_free(f->series, series_free);
	f->series = strmap_new();
}

double metrics_get(const struct metrics_family *f, const char *const *vals)
{
	const struct metrics_series *s;

	if (!f || (f->n_labels && !vals))
		return NAN;
	s = lookup(f, vals, NULL);
	return s ? s->v : NAN;
}

size_t metrics_series_count(const struct metrics_family *f)
{
	return f ? strmap_count(f->series) : 0;
}

/* ---------- rendering ---------- */

/* Length of a valid UTF-8 sequence at s (RFC 3629), 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 :
		      s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;

	if (need == 0 || n < need)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return need;
}

/* Text format escaping: in HELP, backslash and newline; in label values also the double quote. */
static void sb_escaped(struct sbuf *b, const char *str, bool quote)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, run = 0;

	while (i < n) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n" :
				  (quote && s[i] == '"') ? "\\\"" : NULL;
		size_t k;

		if (!esc && (k = utf8_len(s + i, n - i)) > 0) {
			i += k;
			continue;
		}
		sb_put(b, str + run, i - run);
		sb_str(b, esc ? esc : "\xef\xbf\xbd"); /* invalid byte → U+FFFD */
		run = ++i;
	}
	sb_put(b, str + run, i - run);
}

static void sb_value(struct sbuf *b, double v)
{
	char t[40];

	if (isnan(v))
		snprintf(t, sizeof t, "NaN");
	else if (isinf(v))
		snprintf(t, sizeof t, "%sInf", v > 0 ? "+" : "-");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact integers */
		snprintf(t, sizeof t, "%" PRId64, (int64_t)v);
	else {
		snprintf(t, sizeof t, "%.15g", v);
		if (strtod(t, NULL) != v)
			snprintf(t, sizeof t, "%.17g", v);
	}
	sb_str(b, t);
}

struct gather {
	struct metrics_series **v;
	size_t n;
};

static void gather_one(const char *key, void *val, void *arg)
{
	struct gather *g = arg;
	g->v[g->n++] = val;
}

static int cmp_series_r(const void *a, const void *b, void *arg)
{
	const struct metrics_series *x = *(struct metrics_series *const *)a;
	const struct metrics_series *y = *(struct metrics_series *const *)b;
	size_t n = *(const size_t *)arg;

	for (size_t i = 0; i < n; i++) {
		int c = strcmp(x->vals[i], y->vals[i]);
		if (c)
			return c;
	}
	return 0;
}

static void render_family(struct metrics_family *f, struct sbuf *b)
{
	struct gather g = { 0 };

	if (f->collect) {
		metrics_clear(f);
		f->collect(f, f->collect_arg);
	}
	sb_str(b, "# HELP ");
	sb_str(b, f->name);
	sb_str(b, " ");
	sb_escaped(b, f->help, false);
	sb_str(b, "\n# TYPE ");
	sb_str(b, f->name);
	sb_str(b, f->type == METRICS_COUNTER ? " counter\n" : " gauge\n");
	g.v = malloc((strmap_count(f->series) + 1) * sizeof *g.v);
	if (!g.v) {
		b->failed = true;
		return;
	}
	strmap_foreach(f->series, gather_one, &g);
	qsort_r(g.v, g.n, sizeof *g.v, cmp_series_r, &f->n_labels);
	for (size_t i = 0; i < g.n; i++) {
		sb_str(b, f->name);
		for (size_t j = 0; j < f->n_labels; j++) {
			sb_str(b, j ? "," : "{");
			sb_str(b, f->labels[j]);
			sb_str(b, "=\"");
			sb_escaped(b, g.v[i]->vals[j], true);
			sb_str(b, "\"");
		}
		sb_str(b, f->n_labels ? "} " : " ");
		sb_value(b, g.v[i]->v);
		sb_str(b, "\n");
	}
	free(g.v);
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct sbuf b = { 0 };

	sb_put(&b, "", 0);
	for (size_t i = 0; i < m->n_fam; i++)
		render_family(m->fam[i], &b);
	if (b.failed) {
		free(b.p);
		*out = NULL;
		return -1;
	}
	*out = b.p;
	if (len)
		*len = b.len;
	return 0;
}

/* ---------- the HTTP server ---------- */

struct metrics_server {
	struct metrics *m;
	struct evhttp *http;
	uint16_t port;
	metrics_ready_cb ready;
	void *ready_arg;
	uint64_t requests;
};

int metrics_parse_listen(const char *spec, char *host, size_t host_len, uint16_t *port)
{
	const char *colon, *h = spec;
	size_t hl;
	char *end;
	unsigned long p;

	if (!spec)
		return -1;
	if (strcmp(spec, "off") == 0)
		return 0;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return -1;
		h = spec + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
		if (hl == 0)
			return -1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - spec);
		if (memchr(spec, ':', hl)) /* a bare IPv6 address: needs brackets */
			return -1;
	}
	if (hl >= host_len)
		return -1;
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end || errno || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return p == 0 ? 0 : 1;
}

static int listen_fd(int family, const struct sockaddr *sa, socklen_t salen, bool v6only_off)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (v6only_off && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) ||
	    bind(fd, sa, salen) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A listening socket for host ("" = every address, IPv6 and IPv4 where IPv6 exists). */
static int open_listener(const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char ps[8];
	int fd = -1, rc, e = EADDRNOTAVAIL;

	if (!*host) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
					  .sin_addr.s_addr = htonl(INADDR_ANY) };

		fd = listen_fd(AF_INET6, (struct sockaddr *)&a6, sizeof a6, true);
		if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
			fd = listen_fd(AF_INET, (struct sockaddr *)&a4, sizeof a4, false);
		return fd;
	}
	snprintf(ps, sizeof ps, "%u", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc != 0) {
		log_error("msg=\"metrics: cannot resolve the listen address\" host=\"%s\" err=\"%s\"",
			  host, gai_strerror(rc));
		errno = EADDRNOTAVAIL;
		return -1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = listen_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen, false);
		if (fd < 0)
			e = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = e;
	return fd;
}

static void free_body(const void *data, size_t len, void *extra)
{
	free(extra);
}

/* Send a reply; body is malloc'ed and handed over (NULL: text is copied instead). */
static void reply(struct metrics_server *s, struct evhttp_request *req, int code,
		  const char *reason, const char *ctype, char *body, size_t len, const char *text)
{
	struct evbuffer *eb = evbuffer_new();

	s->requests++;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (!eb) {
		free(body);
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		free(body); /* the headers only (libevent 2.1 would send the body too) */
	} else if (body) {
		if (evbuffer_add_reference(eb, body, len, free_body, body) < 0)
			free(body);
	} else {
		evbuffer_add(eb, text, strlen(text));
	}
	evhttp_send_reply(req, code, reason, eb);
	evbuffer_free(eb);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics_server *s = arg;
	char *body;
	size_t len;

	if (metrics_render(s->m, &body, &len) < 0) {
		reply(s, req, 500, "Internal Server Error", "text/plain; charset=utf-8", NULL, 0,
		      "out of memory\n");
		return;
	}
	reply(s, req, 200, "OK", METRICS_CONTENT_TYPE, body, len, NULL);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	reply(arg, req, 200, "OK", "text/plain; charset=utf-8", NULL, 0, "ok\n");
}

static void on_readyz(struct evhttp_request *req, void *arg)
{
	struct metrics_server *s = arg;
	char why[256] = "", line[300];

	if (!s->ready || s->ready(s->ready_arg, why, sizeof why)) {
		reply(s, req, 200, "OK", "text/plain; charset=utf-8", NULL, 0, "ok\n");
		return;
	}
	/* one line, whatever the callback wrote */
	why[strcspn(why, "\r\n")] = '\0';
	snprintf(line, sizeof line, "not ready: %s\n", why[0] ? why : "not ready");
	reply(s, req, 503, "Service Unavailable", "text/plain; charset=utf-8", NULL, 0, line);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	reply(arg, req, 404, "Not Found", "text/plain; charset=utf-8", NULL, 0,
	      "not found: try /metrics, /healthz or /readyz\n");
}

int metrics_server_start(struct loop *l, struct metrics *m, const char *spec,
			 metrics_ready_cb ready, void *ready_arg, struct metrics_server **out)
{
	struct metrics_server *s;
	char host[256];
	uint16_t port;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int rc, fd;

	*out = NULL;
	rc = metrics_parse_listen(spec, host, sizeof host, &port);
	if (rc < 0) {
		log_error("msg=\"--metrics: expected ADDR:PORT, [ADDR]:PORT, :PORT or off\" "
			  "value=\"%s\"", spec ? spec : "");
		return -1;
	}
	if (rc == 0) {
		log_info("msg=\"metrics server disabled\"");
		return 0;
	}
	fd = open_listener(host, port);
	if (fd < 0) {
		log_error("msg=\"metrics: cannot listen\" addr=\"%s\" err=\"%s\"", spec,
			  strerror(errno));
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->http = evhttp_new(loop_event_base(l)))) {
		log_error("msg=\"metrics: out of memory\"");
		free(s);
		close(fd);
		return -1;
	}
	s->m = m;
	s->ready = ready;
	s->ready_arg = ready_arg;
	s->port = port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	/* A scraper or a probe sends a small GET; anything bigger or slower is not one of them. */
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(s->http, 16384);
	evhttp_set_max_body_size(s->http, 4096);
	evhttp_set_timeout(s->http, 10);
	evhttp_set_cb(s->http, "/metrics", on_metrics, s);
	evhttp_set_cb(s->http, "/healthz", on_healthz, s);
	evhttp_set_cb(s->http, "/readyz", on_readyz, s);
	evhttp_set_gencb(s->http, on_other, s);
	if (!evhttp_accept_socket_with_handle(s->http, fd)) {
		log_error("msg=\"metrics: cannot accept on the socket\" addr=\"%s\"", spec);
		close(fd);
		evhttp_free(s->http);
		free(s);
		return -1;
	}
	log_info("msg=\"serving /metrics /healthz /readyz\" addr=\"%s\" port=%u", spec, s->port);
	*out = s;
	return 0;
}

void metrics_server_free(struct metrics_server *s)
{
	if (!s)
		return;
	evhttp_free(s->http); /* closes the listening socket and open connections */
	free(s);
}

uint16_t metrics_server_port(const struct metrics_server *s)
{
	return s ? s->port : 0;
}

uint64_t metrics_server_requests(const struct metrics_server *s)
{
	return s ? s->requests : 0;
}
