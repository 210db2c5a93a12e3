/* SPDX-License-Identifier: Apache-2.0 */
/* run: start-up, signal handling and clean stop shared by barelb-controller and barelb-speaker. */
#include "barelb/run.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "barelb/config.h"
#include "barelb/log.h"
#include "barelb/loop.h"

struct run_ctx {
	struct loop *l;
	const struct daemon_hooks *hooks;
	bool started; /* the first load is start-up, not a change */
	bool stopping;
	struct loop_timer *grace;
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

int daemon_run(const struct daemon_opts *o, const struct daemon_hooks *hooks)
{
	struct run_ctx r = { .hooks = hooks };
	struct config_holder *h = NULL;
	struct loop_signal *sterm = NULL, *sint = NULL;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	r.l = loop_new();
	if (!r.l) {
		log_error("msg=\"cannot create the event loop\"");
		return 1;
	}
	h = config_holder_new(r.l, o->config, on_config_changed, &r);
	if (!h || config_holder_load(h) < 0) {
		log_error("msg=\"invalid config at start-up; not starting\" config=%s", o->config);
		goto out;
	}
	log_info("msg=\"%s %s started\" source=%s%s%s", o->prog, BARELB_VERSION, o->source,
		 o->node ? " node=" : "", o->node ? o->node : "");
	if (o->run_once) {
		rc = 0;
		goto out;
	}
	if (hooks && hooks->start && hooks->start(r.l, config_holder_get(h), hooks->arg) != 0)
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
	loop_timer_free(r.grace);
	loop_signal_del(sterm);
	loop_signal_del(sint);
	config_holder_free(h);
	loop_free(r.l);
	return rc;
}
