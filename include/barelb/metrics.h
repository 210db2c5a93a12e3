/* SPDX-License-Identifier: Apache-2.0 */
/* metrics: a registry of counter and gauge families with label sets, rendered in the Prometheus
 * text exposition format (version 0.0.4), and the small HTTP server of each daemon (libevent's
 * evhttp inside the loop) that serves /metrics, /healthz and /readyz.
 *
 * Families are registered once with their HELP text and label names; the daemon sets or adds to
 * series (one per set of label values) as things happen, or registers a collect callback that
 * fills the family from its state at scrape time (the family is emptied just before). Rendering
 * is in a stable order: families by name, series by their label values. Label values are escaped
 * (backslash, double quote, newline) and made valid UTF-8. */
#ifndef BARELB_METRICS_H
#define BARELB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct metrics;
struct metrics_family;
struct metrics_series;
struct metrics_server;

#define METRICS_MAX_LABELS 8
#define METRICS_DEFAULT_LISTEN ":7472"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE };

struct metrics *metrics_new(void); /* NULL on allocation failure */
void metrics_free(struct metrics *m); /* NULL-safe; frees every family and series */

/* Register a family. labels: label names separated by commas ("pool,family"), NULL or "" for
 * none. A family without labels has its one series from the start, at 0. Returns NULL (with a
 * log line) on a name that is not a valid metric or label name, a duplicate family name, more
 * than METRICS_MAX_LABELS labels, or out of memory. */
struct metrics_family *metrics_counter(struct metrics *m, const char *name, const char *help,
				       const char *labels);
struct metrics_family *metrics_gauge(struct metrics *m, const char *name, const char *help,
				     const char *labels);
struct metrics_family *metrics_find(const struct metrics *m, const char *name);

/* Called at every scrape before the family is rendered, after the family was emptied: the
 * callback sets the series that exist now (gauges from state, counters copied from a module's own
 * counters). Series handles of such a family do not survive a scrape. */
typedef void (*metrics_collect_cb)(struct metrics_family *f, void *arg);
void metrics_on_collect(struct metrics_family *f, metrics_collect_cb cb, void *arg);

/* Values. vals: one value per label name, in registration order (NULL for a family without
 * labels); a NULL entry counts as "". Return 0, or -1 when f is NULL, a counter would go down
 * (negative add), or on allocation failure. */
int metrics_set(struct metrics_family *f, const char *const *vals, double v);
int metrics_add(struct metrics_family *f, const char *const *vals, double delta);
int metrics_inc(struct metrics_family *f, const char *const *vals);
/* Forget one series (e.g. a Service that was deleted); 0, or -1 if there was none. */
int metrics_remove(struct metrics_family *f, const char *const *vals);
void metrics_clear(struct metrics_family *f); /* every series (a family without labels: back to 0) */
/* The value of a series, or NAN when it does not exist (for tests and collect callbacks). */
double metrics_get(const struct metrics_family *f, const char *const *vals);
size_t metrics_series_count(const struct metrics_family *f);

/* A handle to one series for hot paths (created at 0 when missing); valid until the series is
 * removed or its family cleared. NULL on allocation failure. */
struct metrics_series *metrics_series(struct metrics_family *f, const char *const *vals);
void metrics_series_set(struct metrics_series *s, double v); /* NULL-safe */
void metrics_series_add(struct metrics_series *s, double delta); /* NULL-safe */

/* The whole exposition, after running the collect callbacks. *out is malloc'ed and
 * NUL-terminated; 0, or -1 on allocation failure. */
int metrics_render(struct metrics *m, char **out, size_t *len);

/* ---------- the HTTP server ---------- */

/* Readiness, asked at every /readyz: true when ready; otherwise false with a one-line reason in
 * why (e.g. "waiting for the first sync"). */
typedef bool (*metrics_ready_cb)(void *arg, char *why, size_t why_len);

/* Parse a --metrics value: "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" (all addresses), "off".
 * Returns 1 (host set, "" for all addresses; port set), 0 when disabled ("off" or port 0), or -1
 * when malformed. */
int metrics_parse_listen(const char *spec, char *host, size_t host_len, uint16_t *port);

/* Start serving on the loop. GET and HEAD only:
 *   /metrics  200, the exposition (metrics_render)
 *   /healthz  200 "ok" whenever the loop is turning (a stuck loop cannot answer: the probe fails)
 *   /readyz   200 "ok" when ready() says so (or ready is NULL), else 503 with the reason
 * Returns 0 with *out set, 0 with *out NULL when spec disables the server, or -1 (logged) when the
 * spec is malformed or the address cannot be bound. m and the callback's arg must outlive it. */
int metrics_server_start(struct loop *l, struct metrics *m, const char *spec,
			 metrics_ready_cb ready, void *ready_arg, struct metrics_server **out);
void metrics_server_free(struct metrics_server *s); /* NULL-safe; before loop_free */
uint16_t metrics_server_port(const struct metrics_server *s); /* the bound port */
uint64_t metrics_server_requests(const struct metrics_server *s); /* answered so far */

#endif
