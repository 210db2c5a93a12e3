/* SPDX-License-Identifier: Apache-2.0 */
/* kube_http: libcurl multi inside the loop. curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to call it back (CURLMOPT_TIMERFUNCTION); we map those to loop
 * fds and one loop timer. Handles are added and removed from a deferred "kick" timer because curl
 * forbids multi calls from inside its own callbacks, where our stream consumers may start or
 * cancel requests. */
#define _GNU_SOURCE
#include "kube_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "barelb/xalloc.h"
#include "barelb/kubeconfig.h"
#include "barelb/log.h"
#include "barelb/loop.h"

#define BODY_MAX (64u << 20)      /* a buffered response larger than this is refused */
#define ERRBODY_MAX (64u << 10)   /* what we keep of a streamed request's error body */

struct kube_req {
	struct kube_http *h;
	struct kube_req *prev, *next;
	CURL *e;
	struct curl_slist *hdrs;
	char *buf;
	size_t len, cap;
	kube_data_cb stream;
	kube_done_cb done;
	void *arg;
	long retry_after;
	bool added, cancelled, finished, too_large, aborted;
	char errbuf[CURL_ERROR_SIZE];
};

struct kube_http {
	struct loop *l;
	CURLM *m;
	struct loop_timer *curl_timer; /* curl's own timeout */
	struct loop_timer *kick;       /* deferred add/remove of handles */
	struct kube_req *reqs;         /* every live request */
	char *base, *user_agent;
	struct kube_config cfg;        /* deep copy of what we need */
	/* the current token and the identity of the file it came from, to see rotations */
	char *token;
	struct timespec tok_mtime;
	ino_t tok_ino;
	off_t tok_size;
	struct log_ratelimit rl_token;
};



static char *xmemdup(const char *s, size_t n)
{
	char *p;
	if (!s)
		return NULL;
	p = xcalloc(1, n + 1);
	memcpy(p, s, n);
	return p;
}

const char *kube_http_escape(const char *s, char *buf, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		if (o + (plain ? 1 : 3) >= n) {
			if (n)
				buf[0] = '\0';
			return buf;
		}
		if (plain) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (n)
		buf[o] = '\0';
	return buf;
}

/* ---------- token (re-read when the file changes: service-account tokens rotate) ---------- */

static const char *current_token(struct kube_http *h)
{
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	int fd;

	if (!h->cfg.token_file)
		return h->cfg.token;
	if (stat(h->cfg.token_file, &st) < 0) {
		log_ratelimited(&h->rl_token, 0, LOG_WARN, "kube: token file %s: %s (keeping the "
				"last token)", h->cfg.token_file, strerror(errno));
		return h->token;
	}
	if (h->token && st.st_ino == h->tok_ino && st.st_size == h->tok_size &&
	    st.st_mtim.tv_sec == h->tok_mtime.tv_sec && st.st_mtim.tv_nsec == h->tok_mtime.tv_nsec)
		return h->token;
	fd = open(h->cfg.token_file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && st.st_size >= 0 && st.st_size < (1 << 20)) {
		ssize_t r;
		data = xcalloc(1, (size_t)st.st_size + 1);
		while ((r = read(fd, data + n, (size_t)st.st_size - n)) > 0)
			n += (size_t)r;
	}
	if (fd >= 0)
		close(fd);
	if (!data) {
		log_ratelimited(&h->rl_token, 0, LOG_WARN, "kube: cannot read token file %s "
				"(keeping the last token)", h->cfg.token_file);
		return h->token;
	}
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r' || data[n - 1] == ' '))
		data[--n] = '\0';
	if (h->token)
		log_info("kube: token file %s changed, using the new token", h->cfg.token_file);
	free(h->token);
	h->token = data;
	h->tok_ino = st.st_ino;
	h->tok_size = st.st_size;
	h->tok_mtime = st.st_mtim;
	return h->token;
}

/* ---------- curl <-> loop ---------- */

static void check_done(struct kube_http *h);

static void kick_later(struct kube_http *h)
{
	if (!loop_timer_pending(h->kick))
		loop_timer_arm(h->kick, 0);
}

static void on_fd(int fd, unsigned events, void *arg)
{
	struct kube_http *h = arg;
	int flags = 0, running;

	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->m, fd, flags, &running);
	check_done(h);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct kube_http *h = userp;
	struct loop_fd *f = socketp;
	unsigned ev = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		curl_multi_assign(h->m, s, NULL);
		loop_fd_del(f);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= LOOP_READ;
	if (what & CURL_POLL_OUT)
		ev |= LOOP_WRITE;
	if (!f) {
		f = loop_fd_add(h->l, s, ev, on_fd, h);
		if (!f)
			return -1;
		curl_multi_assign(h->m, s, f);
	} else if (loop_fd_set_events(f, ev) < 0) {
		return -1;
	}
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct kube_http *h = userp;

	(void)m;
	if (timeout_ms < 0)
		loop_timer_cancel(h->curl_timer);
	else
		loop_timer_arm(h->curl_timer, (uint64_t)timeout_ms);
	return 0;
}

static void on_curl_timer(void *arg)
{
	struct kube_http *h = arg;
	int running;

	curl_multi_socket_action(h->m, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static void req_unlink(struct kube_req *r)
{
	struct kube_http *h = r->h;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void req_free(struct kube_req *r)
{
	if (r->added)
		curl_multi_remove_handle(r->h->m, r->e);
	curl_easy_cleanup(r->e);
	curl_slist_free_all(r->hdrs);
	free(r->buf);
	free(r);
}

static void on_kick(void *arg)
{
	struct kube_http *h = arg;
	struct kube_req *r = h->reqs, *next;
	int running;
	bool added = false;

	for (; r; r = next) {
		next = r->next;
		if (r->cancelled) {
			req_unlink(r);
			req_free(r);
		} else if (!r->added) {
			if (curl_multi_add_handle(h->m, r->e) == CURLM_OK) {
				r->added = true;
				added = true;
			} else {
				r->aborted = true; /* reported as a failure below */
				snprintf(r->errbuf, sizeof r->errbuf, "cannot start the request");
			}
		}
	}
	if (added)
		curl_multi_socket_action(h->m, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static bool is_tls_error(CURLcode c)
{
	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ENGINE_INITFAILED:
		return true;
	default:
		return false;
	}
}

static void finish(struct kube_req *r, CURLcode rc)
{
	struct kube_resp resp = { .retry_after_s = r->retry_after };
	char msg[CURL_ERROR_SIZE + 64];

	r->finished = true;
	curl_easy_getinfo(r->e, CURLINFO_RESPONSE_CODE, &resp.status);
	if (r->too_large) {
		resp.error = "response too large";
	} else if (r->aborted && !r->added) {
		resp.error = r->errbuf;
	} else if (r->aborted) {
		resp.error = "aborted";
	} else if (rc != CURLE_OK) {
		snprintf(msg, sizeof msg, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		resp.error = msg;
		resp.tls_error = is_tls_error(rc);
	}
	resp.body = r->buf ? r->buf : "";
	resp.len = r->len;
	if (r->done && !r->cancelled)
		r->done(r->arg, &resp);
}

static void check_done(struct kube_http *h)
{
	CURLMsg *msg;
	int left;
	struct kube_req *r, *next;

	while ((msg = curl_multi_info_read(h->m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r)
			continue;
		CURLcode rc = msg->data.result;
		curl_multi_remove_handle(h->m, r->e);
		r->added = false;
		finish(r, rc);
		req_unlink(r);
		req_free(r);
	}
	/* requests that could not even be added */
	for (r = h->reqs; r; r = next) {
		next = r->next;
		if (r->aborted && !r->added && !r->finished && !r->cancelled) {
			finish(r, CURLE_FAILED_INIT);
			req_unlink(r);
			req_free(r);
			next = h->reqs; /* done may have changed the list */
		}
	}
}

/* ---------- per-request callbacks (inside curl) ---------- */

static size_t write_cb(char *data, size_t sz, size_t nm, void *arg)
{
	struct kube_req *r = arg;
	size_t n = sz * nm;
	long code = 0;

	if (r->cancelled)
		return 0;
	curl_easy_getinfo(r->e, CURLINFO_RESPONSE_CODE, &code);
	if (r->stream && code >= 200 && code < 300) {
		if (r->stream(r->arg, data, n) < 0) {
			r->aborted = true;
			return 0;
		}
		return n;
	}
	if (r->len + n > (r->stream ? ERRBODY_MAX : BODY_MAX)) {
		if (r->stream) /* an error body: what we have is enough to explain it */
			return n;
		r->too_large = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		char *p;
		while (cap < r->len + n + 1)
			cap *= 2;
		p = realloc(r->buf, cap);
		if (!p) {
			r->too_large = true;
			return 0;
		}
		r->buf = p;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

static size_t header_cb(char *data, size_t sz, size_t nm, void *arg)
{
	struct kube_req *r = arg;
	size_t n = sz * nm;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->retry_after = -1; /* a new response (after 100 Continue or a redirect) */
	} else if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		char v[128];
		size_t l = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
		char *end;
		long s;

		memcpy(v, data + 12, l);
		v[l] = '\0';
		s = strtol(v, &end, 10);
		if (end != v && s >= 0) {
			r->retry_after = s;
		} else {
			time_t t = curl_getdate(v, NULL); /* the HTTP-date form */
			time_t now = time(NULL);
			if (t > 0)
				r->retry_after = t > now ? (long)(t - now) : 0;
		}
	}
	return n;
}

/* ---------- public ---------- */

struct kube_http *kube_http_new(struct loop *l, const struct kube_config *cfg,
				const char *user_agent)
{
	struct kube_http *h = xcalloc(1, sizeof *h);

	h->l = l;
	h->rl_token = (struct log_ratelimit)LOG_RATELIMIT_INIT(0.1, 2);
	h->base = xstrdup_null(cfg->server);
	h->user_agent = xstrdup_null(user_agent ? user_agent : "barelb");
	h->cfg.server = h->base;
	h->cfg.ca_file = xstrdup_null(cfg->ca_file);
	h->cfg.ca_data = xmemdup(cfg->ca_data, cfg->ca_len);
	h->cfg.ca_len = cfg->ca_len;
	h->cfg.insecure = cfg->insecure;
	h->cfg.token = xstrdup_null(cfg->token);
	h->cfg.token_file = xstrdup_null(cfg->token_file);
	h->cfg.cert_file = xstrdup_null(cfg->cert_file);
	h->cfg.cert_data = xmemdup(cfg->cert_data, cfg->cert_len);
	h->cfg.cert_len = cfg->cert_len;
	h->cfg.key_file = xstrdup_null(cfg->key_file);
	h->cfg.key_data = xmemdup(cfg->key_data, cfg->key_len);
	h->cfg.key_len = cfg->key_len;
	if (cfg->insecure)
		log_warn("kube: insecure-skip-tls-verify is set for %s: the API server's certificate "
			 "is NOT verified", cfg->server);
	if (cfg->tls_server_name)
		log_warn("kube: tls-server-name is not supported and is ignored");
	if (strncmp(cfg->server, "http://", 7) == 0)
		log_warn("kube: %s is plain HTTP: the token travels unencrypted", cfg->server);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h->m = curl_multi_init();
	h->curl_timer = loop_timer_new(l, on_curl_timer, h);
	h->kick = loop_timer_new(l, on_kick, h);
	if (!h->m || !h->curl_timer || !h->kick) {
		kube_http_free(h);
		return NULL;
	}
	curl_multi_setopt(h->m, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->m, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->m, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->m, CURLMOPT_TIMERDATA, h);
	return h;
}

void kube_http_free(struct kube_http *h)
{
	struct kube_req *r, *next;

	if (!h)
		return;
	for (r = h->reqs; r; r = next) {
		next = r->next;
		req_free(r);
	}
	h->reqs = NULL;
	if (h->m)
		curl_multi_cleanup(h->m); /* removes the remaining sockets through sock_cb */
	loop_timer_free(h->curl_timer);
	loop_timer_free(h->kick);
	free(h->token);
	free(h->user_agent);
	h->cfg.server = NULL; /* == h->base */
	free(h->base);
	kubeconfig_clear(&h->cfg);
	free(h);
	curl_global_cleanup();
}

static bool set_tls(struct kube_http *h, CURL *e)
{
	bool ok = true;

	if (h->cfg.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->cfg.ca_data) {
		struct curl_blob b = { .data = h->cfg.ca_data, .len = h->cfg.ca_len,
				       .flags = CURL_BLOB_COPY };
		ok &= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) == CURLE_OK;
	} else if (h->cfg.ca_file) {
		ok &= curl_easy_setopt(e, CURLOPT_CAINFO, h->cfg.ca_file) == CURLE_OK;
	}
	if (h->cfg.cert_data) {
		struct curl_blob b = { .data = h->cfg.cert_data, .len = h->cfg.cert_len,
				       .flags = CURL_BLOB_COPY };
		ok &= curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b) == CURLE_OK;
	} else if (h->cfg.cert_file) {
		ok &= curl_easy_setopt(e, CURLOPT_SSLCERT, h->cfg.cert_file) == CURLE_OK;
	}
	if (h->cfg.key_data) {
		struct curl_blob b = { .data = h->cfg.key_data, .len = h->cfg.key_len,
				       .flags = CURL_BLOB_COPY };
		ok &= curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b) == CURLE_OK;
	} else if (h->cfg.key_file) {
		ok &= curl_easy_setopt(e, CURLOPT_SSLKEY, h->cfg.key_file) == CURLE_OK;
	}
	return ok;
}

struct kube_req *kube_http_request(struct kube_http *h, const char *method, const char *path_query,
				   const char *content_type, const char *body, size_t body_len,
				   long timeout_s, kube_data_cb stream, kube_done_cb done, void *arg)
{
	struct kube_req *r = xcalloc(1, sizeof *r);
	const char *tok = current_token(h);
	char *url = NULL, *hdr = NULL;
	CURL *e;

	r->h = h;
	r->stream = stream;
	r->done = done;
	r->arg = arg;
	r->retry_after = -1;
	r->e = e = curl_easy_init();
	if (!e || asprintf(&url, "%s%s", h->base, path_query) < 0) {
		if (e)
			curl_easy_cleanup(e);
		free(r);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s);
	/* A half-dead connection (peer gone without FIN) must not hold a watch forever. */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	if (!set_tls(h, e)) {
		curl_easy_cleanup(e);
		free(r);
		return NULL;
	}
	r->hdrs = curl_slist_append(r->hdrs, "Accept: application/json");
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	if (content_type && asprintf(&hdr, "Content-Type: %s", content_type) >= 0) {
		r->hdrs = curl_slist_append(r->hdrs, hdr);
		free(hdr);
	}
	if (tok && *tok && asprintf(&hdr, "Authorization: Bearer %s", tok) >= 0) {
		r->hdrs = curl_slist_append(r->hdrs, hdr);
		free(hdr);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	if (strcmp(method, "GET") != 0) {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		if (body || strcmp(method, "POST") == 0) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
		}
	}
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	kick_later(h);
	return r;
}

void kube_http_cancel(struct kube_req *r)
{
	if (!r)
		return;
	r->done = NULL;
	r->stream = NULL;
	if (r->finished)
		return; /* being completed right now: freed by the caller of done */
	r->cancelled = true;
	kick_later(r->h);
}
