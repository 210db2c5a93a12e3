/* SPDX-License-Identifier: Apache-2.0 */
/* source_metrics: the source's counters and cache sizes as metrics (both daemons). */
#ifndef BARELB_SOURCE_METRICS_H
#define BARELB_SOURCE_METRICS_H

struct source;
struct metrics;

/* barelb_k8s_watch_restarts_total, barelb_k8s_relists_total, barelb_k8s_decode_errors_total,
 * barelb_k8s_write_errors_total, barelb_k8s_objects{kind}; read from s at scrape time. */
void source_register_metrics(struct source *s, struct metrics *m);

#endif
