/* SPDX-License-Identifier: Apache-2.0 */
/* leader: leader election on a Lease through the source's lease calls (see leader.h for the
 * rule). One request at a time: a renew in flight is never doubled, and a leader_free during a
 * request is finished by that request's callback. */
#include "barelb/leader.h"

#include <stdlib.h>
#include <string.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/source.h"

struct leader {
	struct loop *l;
	struct source *s;
	char *name, *identity;
	uint32_t duration_s, renew_ms, retry_ms, deadline_ms;
	void (*on_started)(void *arg);
	void (*on_stopped)(void *arg);
	void *arg;
	struct loop_timer *t;
	bool leading, in_flight, stopped, dead, releasing;
	uint64_t last_ok_ms;
	void (*rel_done)(void *arg);
	void *rel_arg;
};

static void tick(void *arg);

static void destroy(struct leader *le)
{
	loop_timer_free(le->t);
	free(le->name);
	free(le->identity);
	free(le);
}

static void stop_leading(struct leader *le, const char *why)
{
	if (!le->leading)
		return;
	le->leading = false;
	log_warn("leader: %s stopped leading on lease %s: %s", le->identity, le->name, why);
	if (le->on_stopped)
		le->on_stopped(le->arg);
}

static void release_finished(struct leader *le)
{
	void (*done)(void *) = le->rel_done;
	void *arg = le->rel_arg;

	le->releasing = false;
	le->rel_done = NULL;
	if (done)
		done(arg);
}

static void on_released(void *arg, int status, const char *err)
{
	struct leader *le = arg;

	le->in_flight = false;
	if (status < 0)
		log_warn("leader: releasing lease %s failed: %s (it expires on its own)", le->name,
			 err ? err : "?");
	else
		log_info("leader: %s released lease %s", le->identity, le->name);
	if (le->dead) {
		destroy(le);
		return;
	}
	release_finished(le);
}

static void do_release(struct leader *le)
{
	le->in_flight = true;
	if (source_lease_release(le->s, le->name, le->identity, on_released, le) < 0) {
		le->in_flight = false;
		release_finished(le);
	}
}

static void on_renewed(void *arg, int status, const char *err)
{
	struct leader *le = arg;
	uint64_t now = loop_now_ms(le->l);

	le->in_flight = false;
	if (le->dead) {
		destroy(le);
		return;
	}
	if (le->stopped) {
		/* Released while this renew was in flight: a lease we might just have taken
		 * must be given back too. */
		if (le->releasing) {
			if (status == 0)
				do_release(le);
			else
				release_finished(le);
		}
		return;
	}
	if (status == 0) {
		le->last_ok_ms = now;
		if (!le->leading) {
			le->leading = true;
			log_info("leader: %s is now the leader (lease %s)", le->identity, le->name);
			if (le->on_started)
				le->on_started(le->arg);
			if (le->stopped || le->dead)
				return;
		}
		loop_timer_arm_jitter(le->t, le->renew_ms, 10);
		return;
	}
	if (le->leading) {
		/* Someone else holds it (backends say "held by" in that answer): they judged our
		 * lease expired, so step down now. A failed write is retried until the deadline,
		 * which ends before the lease can expire for the others. */
		if (err && strstr(err, "held by"))
			stop_leading(le, err);
		else if (now - le->last_ok_ms >= le->deadline_ms)
			stop_leading(le, err ? err : "cannot renew");
		else
			log_warn("leader: renewing lease %s failed: %s (retrying)", le->name,
				 err ? err : "?");
	} else {
		log_debug("leader: %s: not the leader: %s", le->identity, err ? err : "?");
	}
	if (!le->stopped && !le->dead)
		loop_timer_arm_jitter(le->t, le->retry_ms, 10);
}

static void tick(void *arg)
{
	struct leader *le = arg;

	if (le->stopped || le->in_flight)
		return;
	le->in_flight = true;
	if (source_lease_renew(le->s, le->name, le->identity, le->duration_s, on_renewed, le) < 0) {
		le->in_flight = false;
		on_renewed(le, -1, "cannot start the lease request");
	}
}

struct leader *leader_new(struct loop *l, struct source *s, const struct leader_opts *o)
{
	struct leader *le;

	if (!o->lease_name || !*o->lease_name || !o->identity || !*o->identity)
		return NULL;
	le = calloc(1, sizeof *le);
	if (!le)
		return NULL;
	le->l = l;
	le->s = s;
	le->name = strdup(o->lease_name);
	le->identity = strdup(o->identity);
	le->duration_s = o->duration_s ? o->duration_s : 15;
	le->renew_ms = o->renew_ms ? o->renew_ms : 5000;
	le->retry_ms = o->retry_ms ? o->retry_ms : 2000;
	le->deadline_ms = o->deadline_ms ? o->deadline_ms : 10000;
	/* The deadline must end before the lease expires for the others. */
	if (le->deadline_ms >= le->duration_s * 1000u)
		le->deadline_ms = le->duration_s * 1000u * 2 / 3;
	le->on_started = o->on_started_leading;
	le->on_stopped = o->on_stopped_leading;
	le->arg = o->arg;
	le->t = loop_timer_new(l, tick, le);
	if (!le->name || !le->identity || !le->t) {
		destroy(le);
		return NULL;
	}
	return le;
}

int leader_start(struct leader *le)
{
	le->stopped = false;
	loop_timer_arm(le->t, 0);
	return 0;
}

bool leader_is_leader(const struct leader *le)
{
	return le && le->leading;
}

void leader_release(struct leader *le, void (*done)(void *arg), void *arg)
{
	bool was = le->leading;

	le->stopped = true;
	loop_timer_cancel(le->t);
	le->rel_done = done;
	le->rel_arg = arg;
	le->releasing = true;
	stop_leading(le, "shutting down");
	if (le->in_flight)
		return; /* on_renewed finishes the job */
	if (was)
		do_release(le);
	else
		release_finished(le);
}

void leader_free(struct leader *le)
{
	if (!le)
		return;
	le->rel_done = NULL;
	if (le->in_flight) {
		le->dead = true;
		loop_timer_cancel(le->t);
		return;
	}
	destroy(le);
}
