/* SPDX-License-Identifier: Apache-2.0 */
/* kube_http: asynchronous HTTPS requests to the Kubernetes API with libcurl's multi interface,
 * driven by the daemon's loop (curl sockets and timers become loop fds and timers). Not a public
 * header: only the kube backend (source_kube*.c) uses it, and no curl type leaves kube_http.c. */
#ifndef BARELB_KUBE_HTTP_H
#define BARELB_KUBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct kube_config;
struct kube_http;
struct kube_req;

struct kube_resp {
	long status;          /* HTTP status, 0 when no response arrived */
	const char *body;     /* the body (buffered requests, or a streamed request's error body) */
	size_t len;
	long retry_after_s;   /* Retry-After in seconds, -1 if absent */
	const char *error;    /* transport error (curl's message) or NULL */
	bool tls_error;       /* the error is about TLS (certificate, handshake) */
};

/* done: called once when the request ends (never from inside kube_http_request). */
typedef void (*kube_done_cb)(void *arg, const struct kube_resp *r);
/* Streamed body of a 2xx response, in pieces as they arrive; return -1 to abort the request
 * (done then gets error "aborted"). */
typedef int (*kube_data_cb)(void *arg, const char *data, size_t len);

struct kube_http *kube_http_new(struct loop *l, const struct kube_config *cfg,
				const char *user_agent);
void kube_http_free(struct kube_http *h); /* NULL-safe; pending requests end without done */

/* path_query: "/api/v1/services?limit=500". body may be NULL. stream NULL: buffer the body (up to
 * 64 MiB). timeout_s: whole-request limit (0: none). */
struct kube_req *kube_http_request(struct kube_http *h, const char *method, const char *path_query,
				   const char *content_type, const char *body, size_t body_len,
				   long timeout_s, kube_data_cb stream, kube_done_cb done,
				   void *arg);
/* Stop a request; done is not called. Safe from inside callbacks. NULL-safe. */
void kube_http_cancel(struct kube_req *r);

/* Escape for a URL path segment or query value into buf (returns buf, "" if it does not fit). */
const char *kube_http_escape(const char *s, char *buf, size_t n);

#endif
