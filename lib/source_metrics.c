/* SPDX-License-Identifier: Apache-2.0 */
/* source_metrics: exports source_get_stats() and the cache sizes through the metrics registry. */
#include "barelb/source_metrics.h"

#include "barelb/metrics.h"
#include "barelb/model.h"
#include "barelb/source.h"
#include "barelb/store.h"

static void collect_restarts(struct metrics_family *f, void *arg)
{
	struct source_stats st;
	source_get_stats(arg, &st);
	metrics_set(f, NULL, (double)st.watch_restarts);
}

static void collect_relists(struct metrics_family *f, void *arg)
{
	struct source_stats st;
	source_get_stats(arg, &st);
	metrics_set(f, NULL, (double)st.relists);
}

static void collect_decode(struct metrics_family *f, void *arg)
{
	struct source_stats st;
	source_get_stats(arg, &st);
	metrics_set(f, NULL, (double)st.decode_errors);
}

static void collect_write(struct metrics_family *f, void *arg)
{
	struct source_stats st;
	source_get_stats(arg, &st);
	metrics_set(f, NULL, (double)st.write_errors);
}

static void collect_objects(struct metrics_family *f, void *arg)
{
	const struct store *st = source_store(arg);

	for (int k = 0; k < KOBJ_KIND_COUNT; k++)
		metrics_set(f, (const char *[]){ kobj_kind_name((enum kobj_kind)k) },
			    (double)store_count(st, (enum kobj_kind)k));
}

void source_register_metrics(struct source *s, struct metrics *m)
{
	metrics_on_collect(metrics_counter(m, "barelb_k8s_watch_restarts_total",
					   "Watches restarted (dropped connection, error, timeout).", NULL),
			   collect_restarts, s);
	metrics_on_collect(metrics_counter(m, "barelb_k8s_relists_total",
					   "Full relists after 410 Gone or a broken watch.", NULL),
			   collect_relists, s);
	metrics_on_collect(metrics_counter(m, "barelb_k8s_decode_errors_total",
					   "Objects or events that could not be decoded (dropped).", NULL),
			   collect_decode, s);
	metrics_on_collect(metrics_counter(m, "barelb_k8s_write_errors_total",
					   "Status, Event and Lease writes that failed.", NULL),
			   collect_write, s);
	metrics_on_collect(metrics_gauge(m, "barelb_k8s_objects", "Objects in the cache, by kind.",
					 "kind"),
			   collect_objects, s);
}
