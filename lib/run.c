/* SPDX-License-Identifier: Apache-2.0 */
/* run: start-up, signal handling, metrics/health server, control socket and clean stop shared by
 * barelb-controller and barelb-speaker. */
#include "barelb/run.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "barelb/config.h"
#include "barelb/control.h"
#include "barelb/jsonw.h"
#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/metrics.h"

struct run_ctx {
	const struct daemon_opts *o;
	struct loop *l;
	const struct daemon_hooks *hooks;
	struct config_holder *h;
	bool started; /* the first load is start-up, not a change */
	bool stopping;
	struct loop_timer *grace;
	uint64_t start_ms;
};

static void stop_now(void *arg)
{
	struct run_ctx *r = arg;
	loop_stop(r->l);
}

static void on_stop_signal(int signo, void *arg)
{
	struct run_ctx *r = arg;

	if (r->stopping) {
		log_warn("msg=\"%s again: stopping at once\"", strsignal(signo));
		loop_stop(r->l);
		return;
	}
	r->stopping = true;
	log_info("msg=\"%s: stopping\"", strsignal(signo));
	if (r->hooks && r->hooks->stop) {
		loop_timer_arm(r->grace, DAEMON_STOP_GRACE_MS);
		r->hooks->stop(r->hooks->arg, stop_now, r);
		return;
	}
	loop_stop(r->l);
}

static void on_config_changed(const struct config *cfg, void *arg)
{
	struct run_ctx *r = arg;

	if (r->started && r->hooks && r->hooks->config_changed)
		r->hooks->config_changed(cfg, r->hooks->arg);
}

static bool is_ready(void *arg, char *why, size_t n)
{
	struct run_ctx *r = arg;

	if (!r->started) {
		snprintf(why, n, "starting");
		return false;
	}
	if (r->stopping) {
		snprintf(why, n, "stopping");
		return false;
	}
	if (r->hooks && r->hooks->ready)
		return r->hooks->ready(r->hooks->arg, why, n);
	return true;
}

static int cmd_status(void *arg, const char *args, struct jsonw *w, char *err, size_t errlen)
{
	struct run_ctx *r = arg;
	char why[160] = "";
	bool ready = is_ready(r, why, sizeof why);

	(void)args;
	(void)err;
	(void)errlen;
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "daemon", r->o->prog);
	jsonw_kv_str(w, "version", BARELB_VERSION);
	jsonw_kv_str(w, "node", r->o->node);
	jsonw_kv_int(w, "pid", getpid());
	jsonw_kv_uint(w, "uptime_s", (loop_now_ms(r->l) - r->start_ms) / 1000);
	jsonw_kv_str(w, "source", r->o->source);
	jsonw_kv_bool(w, "ready", ready);
	jsonw_kv_str(w, "not_ready_reason", ready ? NULL : why);
	jsonw_key(w, "config");
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "path", r->o->config);
	jsonw_kv_bool(w, "loaded", config_holder_get(r->h) != NULL);
	jsonw_kv_bool(w, "stale", config_holder_stale(r->h));
	jsonw_kv_uint(w, "reloads", config_holder_reloads(r->h));
	jsonw_kv_uint(w, "rejected", config_holder_failures(r->h));
	jsonw_obj_end(w);
	if (r->hooks && r->hooks->status)
		r->hooks->status(r->hooks->arg, w);
	jsonw_obj_end(w);
	return 0;
}

/* Config metrics, read from the holder at scrape time. */
static void collect_reloads(struct metrics_family *f, void *arg)
{
	metrics_set(f, NULL, (double)config_holder_reloads(((struct run_ctx *)arg)->h));
}

static void collect_failures(struct metrics_family *f, void *arg)
{
	metrics_set(f, NULL, (double)config_holder_failures(((struct run_ctx *)arg)->h));
}

static void collect_stale(struct metrics_family *f, void *arg)
{
	metrics_set(f, NULL, config_holder_stale(((struct run_ctx *)arg)->h) ? 1 : 0);
}

static void collect_loaded(struct metrics_family *f, void *arg)
{
	metrics_set(f, NULL, config_holder_get(((struct run_ctx *)arg)->h) ? 1 : 0);
}

static void register_common_metrics(struct metrics *m, struct run_ctx *r)
{
	struct metrics_family *f;

	f = metrics_counter(m, "barelb_config_reloads_total",
			    "Config files taken into force (the first load included).", NULL);
	metrics_on_collect(f, collect_reloads, r);
	f = metrics_counter(m, "barelb_config_reload_failures_total",
			    "Config files rejected on reload (the last good config stayed in force).",
			    NULL);
	metrics_on_collect(f, collect_failures, r);
	f = metrics_gauge(m, "barelb_k8s_client_config_stale_bool",
			  "1 when the config file in force is older than a rejected newer one.", NULL);
	metrics_on_collect(f, collect_stale, r);
	f = metrics_gauge(m, "barelb_k8s_client_config_loaded_bool",
			  "1 when a valid config is loaded.", NULL);
	metrics_on_collect(f, collect_loaded, r);
}

static const char *control_path_for(const struct daemon_opts *o)
{
	if (o->control)
		return o->control;
	return o->speaker ? CONTROL_SPEAKER_SOCK : CONTROL_CONTROLLER_SOCK;
}

int daemon_run(const struct daemon_opts *o, const struct daemon_hooks *hooks)
{
	struct run_ctx r = { .o = o, .hooks = hooks };
	struct daemon_env env = { .o = o };
	struct metrics_server *ms = NULL;
	struct loop_signal *sterm = NULL, *sint = NULL;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	r.l = loop_new();
	if (!r.l) {
		log_error("msg=\"cannot create the event loop\"");
		return 1;
	}
	r.start_ms = loop_now_ms(r.l);
	r.h = config_holder_new(r.l, o->config, on_config_changed, &r);
	if (!r.h || config_holder_load(r.h) < 0) {
		log_error("msg=\"invalid config at start-up; not starting\" config=%s", o->config);
		goto out;
	}
	log_info("msg=\"%s %s started\" source=%s%s%s", o->prog, BARELB_VERSION, o->source,
		 o->node ? " node=" : "", o->node ? o->node : "");
	if (o->run_once) {
		rc = 0;
		goto out;
	}
	env.l = r.l;
	env.m = metrics_new();
	if (!env.m)
		goto out;
	register_common_metrics(env.m, &r);
	/* Neither the control socket nor the metrics port is worth refusing to run for: a second
	 * daemon on the same host (tests, a restart that overlaps) runs on without them. */
	if (control_start(r.l, control_path_for(o), &env.ctl) < 0)
		log_warn("msg=\"no control socket\" path=%s", control_path_for(o));
	if (env.ctl)
		control_register(env.ctl, "status", "daemon, version, config and sync state", cmd_status,
				 &r);
	if (metrics_server_start(r.l, env.m, o->metrics, is_ready, &r, &ms) < 0)
		log_warn("msg=\"no metrics/health server\" listen=%s", o->metrics);
	if (hooks && hooks->start && hooks->start(&env, config_holder_get(r.h), hooks->arg) != 0)
		goto out;
	r.started = true;
	r.grace = loop_timer_new(r.l, stop_now, &r);
	sterm = loop_signal_add(r.l, SIGTERM, on_stop_signal, &r);
	sint = loop_signal_add(r.l, SIGINT, on_stop_signal, &r);
	if (!sterm || !sint) {
		log_error("msg=\"cannot install signal handlers\"");
		goto out;
	}
	rc = loop_run(r.l) == 0 ? 0 : 1;
	log_info("msg=\"%s stopped\"", o->prog);
out:
	/* The daemon frees what it registered with the loop while the loop still exists. */
	if (hooks && hooks->cleanup)
		hooks->cleanup(hooks->arg);
	control_free(env.ctl);
	metrics_server_free(ms);
	metrics_free(env.m);
	loop_timer_free(r.grace);
	loop_signal_del(sterm);
	loop_signal_del(sint);
	config_holder_free(r.h);
	loop_free(r.l);
	return rc;
}
