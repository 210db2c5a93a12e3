/* SPDX-License-Identifier: Apache-2.0 */
/* liveness: speaker Leases → the set of alive nodes.
 *
 * A node is alive while its Lease (holder = the node) keeps being renewed: we note the local
 * monotonic time at which we saw each new renewTime, and the node dies `duration` after the last
 * one. Local observation times (as client-go's leader election does) make the rule independent of
 * clock differences between nodes, except for one check at first sight: a Lease whose renewTime is
 * already older than its duration by the wall clock is dead from the start (a speaker that died
 * before we started must not win elections for a whole duration). A released (holder cleared) or
 * deleted Lease is dead at once: that is the fast path of a clean stop. */
#include "liveness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/strmap.h"

struct peer {
	int64_t renew_us;     /* last renewTime seen */
	uint64_t seen_ms;     /* local monotonic time we saw it */
	uint64_t dur_ms;
};

struct liveness {
	struct loop *l;
	struct source *s;
	struct liveness_opts o;
	char *node;
	char *lease_name;
	struct strmap *alive; /* node → struct peer */
	struct loop_timer *renew, *expire;
	bool leaving;
	bool renew_in_flight;
	uint64_t renew_errors;
	unsigned failing;     /* consecutive failed renewals */
	uint64_t self_seen_ms; /* local time our own renewal last came back through the source */
	bool frozen_logged;
};

static int64_t wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void arm_expiry(struct liveness *lv);

static void expire_cb(const char *node, void *val, void *arg)
{
	struct peer *p = val;
	struct { uint64_t now; char **dead; size_t n; uint64_t self_seen, fresh_ms; const char *self;
		 bool pending; } *x = arg;

	if (p->seen_ms + p->dur_ms > x->now)
		return;
	/* Past its deadline, but dead only while our own renewals keep coming back through the same
	 * view: otherwise the view is stale (watch down or behind, API away), not the peer. Never
	 * ourselves. */
	if (strcmp(node, x->self) == 0 || !x->self_seen || x->now - x->self_seen > x->fresh_ms) {
		x->pending = true;
		return;
	}
	{
		x->dead = realloc(x->dead, (x->n + 1) * sizeof *x->dead);
		if (!x->dead || !(x->dead[x->n] = strdup(node)))
			abort();
		x->n++;
	}
}

static void on_expire(void *arg)
{
	struct liveness *lv = arg;
	struct { uint64_t now; char **dead; size_t n; uint64_t self_seen, fresh_ms; const char *self;
		 bool pending; } x = { loop_now_ms(lv->l), NULL, 0, lv->self_seen_ms,
				       (uint64_t)lv->o.renew_ms * 3 / 2, lv->node, false };

	/* When our own renewals fail, the API (or our path to it) is down, and the silence of the
	 * other Leases says nothing about the other speakers: declare nobody dead until we can renew
	 * again. Never withdraw because the API server is unreachable. */
	if (lv->failing >= 2) {
		if (!lv->frozen_logged)
			log_warn("msg=\"cannot renew our own lease: keeping every speaker alive until the "
				 "API answers again\"");
		lv->frozen_logged = true;
		loop_timer_arm(lv->expire, lv->o.renew_ms);
		return;
	}

	strmap_foreach(lv->alive, expire_cb, &x);
	for (size_t i = 0; i < x.n; i++) {
		free(strmap_del(lv->alive, x.dead[i]));
		log_warn("node=%s msg=\"speaker lease expired: node is dead\"", x.dead[i]);
		if (lv->o.changed)
			lv->o.changed(x.dead[i], false, lv->o.arg);
		free(x.dead[i]);
	}
	free(x.dead);
	arm_expiry(lv);
	if (x.pending) /* look again when our own renewal may have come back */
		loop_timer_arm(lv->expire, lv->o.renew_ms / 4 ? lv->o.renew_ms / 4 : 1);
}

static void min_cb(const char *node, void *val, void *arg)
{
	struct peer *p = val;
	uint64_t *min = arg;
	(void)node;
	if (p->seen_ms + p->dur_ms < *min)
		*min = p->seen_ms + p->dur_ms;
}

static void arm_expiry(struct liveness *lv)
{
	uint64_t min = UINT64_MAX, now = loop_now_ms(lv->l);

	strmap_foreach(lv->alive, min_cb, &min);
	if (min == UINT64_MAX)
		loop_timer_cancel(lv->expire);
	else
		loop_timer_arm(lv->expire, min > now ? min - now : 0);
}

static void renew_done(void *arg, int status, const char *err)
{
	struct liveness *lv = arg;

	lv->renew_in_flight = false;
	if (status != 0) {
		lv->renew_errors++;
		log_warn("node=%s msg=\"cannot renew the speaker lease\" err=\"%s\"", lv->node,
			 err ? err : "?");
		lv->failing++;
	} else {
		lv->failing = 0;
		lv->frozen_logged = false;
	}
}

static void on_renew(void *arg)
{
	struct liveness *lv = arg;

	if (lv->leaving)
		return;
	if (!lv->renew_in_flight) {
		lv->renew_in_flight = true;
		if (source_lease_renew(lv->s, lv->lease_name, lv->node, lv->o.duration_s, renew_done,
				       lv) < 0) {
			lv->renew_in_flight = false;
			lv->renew_errors++;
		}
	}
	loop_timer_arm_jitter(lv->renew, lv->o.renew_ms, 10);
}

struct liveness *liveness_new(struct loop *l, struct source *s, const struct liveness_opts *o)
{
	struct liveness *lv = calloc(1, sizeof *lv);
	size_t n;

	if (!lv)
		return NULL;
	lv->l = l;
	lv->s = s;
	lv->o = *o;
	if (lv->o.duration_s == 0)
		lv->o.duration_s = 3;
	if (lv->o.renew_ms == 0)
		lv->o.renew_ms = 1000;
	lv->node = strdup(o->node);
	n = strlen(LIVENESS_LEASE_PREFIX) + strlen(o->node) + 1;
	lv->lease_name = malloc(n);
	lv->alive = strmap_new();
	lv->renew = loop_timer_new(l, on_renew, lv);
	lv->expire = loop_timer_new(l, on_expire, lv);
	if (!lv->node || !lv->lease_name || !lv->renew || !lv->expire) {
		liveness_free(lv);
		return NULL;
	}
	snprintf(lv->lease_name, n, "%s%s", LIVENESS_LEASE_PREFIX, o->node);
	return lv;
}

void liveness_free(struct liveness *lv)
{
	if (!lv)
		return;
	loop_timer_free(lv->renew);
	loop_timer_free(lv->expire);
	strmap_free(lv->alive, free);
	free(lv->node);
	free(lv->lease_name);
	free(lv);
}

int liveness_start(struct liveness *lv)
{
	loop_timer_arm(lv->renew, 0);
	return 0;
}

/* The node a speaker Lease belongs to, or NULL for any other Lease. */
static const char *lease_node(const struct kobj *o)
{
	size_t n = strlen(LIVENESS_LEASE_PREFIX);

	if (!o || o->kind != KOBJ_LEASE || strncmp(o->meta.name, LIVENESS_LEASE_PREFIX, n) != 0)
		return NULL;
	return o->meta.name + n;
}

static void set_dead(struct liveness *lv, const char *node, const char *why)
{
	struct peer *p = strmap_del(lv->alive, node);

	if (!p)
		return;
	free(p);
	log_info("node=%s msg=\"speaker left\" why=%s", node, why);
	if (lv->o.changed)
		lv->o.changed(node, false, lv->o.arg);
	arm_expiry(lv);
}

static void restart_clock(const char *node, void *val, void *arg)
{
	struct peer *p = val;
	uint64_t t = *(uint64_t *)arg;
	(void)node;
	if (p->seen_ms < t)
		p->seen_ms = t;
}

void liveness_on_lease(struct liveness *lv, enum source_event ev, const struct kobj *old,
		       const struct kobj *now)
{
	const char *node = lease_node(now ? now : old);
	const struct lease *le;
	struct peer *p;
	uint64_t t = loop_now_ms(lv->l);

	if (!node)
		return;
	if (ev == SOURCE_DELETED) {
		set_dead(lv, node, "lease-deleted");
		return;
	}
	le = &now->u.lease;
	if (!le->holder || strcmp(le->holder, node) != 0) {
		set_dead(lv, node, "lease-released");
		return;
	}
	if (strcmp(node, lv->node) == 0) {
		struct peer *me = strmap_get(lv->alive, node);
		if (!me || me->renew_us != le->renew_us) {
			/* Our own renewal came back. After a stall (watch down or API away), restart every
			 * peer's clock: their first renewals after the outage may not be here yet. */
			if (lv->self_seen_ms && t - lv->self_seen_ms > lv->o.renew_ms * 3 / 2)
				strmap_foreach(lv->alive, restart_clock, &t);
			lv->self_seen_ms = t;
		}
	}
	p = strmap_get(lv->alive, node);
	if (p) {
		if (le->renew_us != p->renew_us) {
			p->renew_us = le->renew_us;
			p->seen_ms = t;
			p->dur_ms = (uint64_t)(le->duration_s ? le->duration_s : lv->o.duration_s) * 1000;
			arm_expiry(lv);
		}
		return;
	}
	p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->renew_us = le->renew_us;
	p->seen_ms = t;
	p->dur_ms = (uint64_t)(le->duration_s ? le->duration_s : lv->o.duration_s) * 1000;
	/* First sight of a Lease that stopped being renewed long ago: dead from the start. */
	if (le->renew_us && wall_us() - le->renew_us > (int64_t)p->dur_ms * 1000) {
		free(p);
		return;
	}
	strmap_put(lv->alive, node, p);
	log_info("node=%s msg=\"speaker alive\"", node);
	if (lv->o.changed)
		lv->o.changed(node, true, lv->o.arg);
	arm_expiry(lv);
}

bool liveness_alive(const struct liveness *lv, const char *node)
{
	return strmap_get(lv->alive, node) != NULL;
}

struct fe {
	void (*cb)(const char *node, void *arg);
	void *arg;
};

static void fe_cb(const char *key, void *val, void *arg)
{
	struct fe *f = arg;
	(void)val;
	f->cb(key, f->arg);
}

void liveness_foreach(const struct liveness *lv, void (*cb)(const char *node, void *arg), void *arg)
{
	struct fe f = { cb, arg };
	strmap_foreach(lv->alive, fe_cb, &f);
}

struct leave_ctx {
	void (*done)(void *arg);
	void *arg;
	char *node;
};

static void leave_done(void *arg, int status, const char *err)
{
	struct leave_ctx *c = arg;

	if (status != 0)
		log_warn("node=%s msg=\"cannot release the speaker lease; it will expire\" err=\"%s\"",
			 c->node, err ? err : "?");
	if (c->done)
		c->done(c->arg);
	free(c->node);
	free(c);
}

void liveness_leave(struct liveness *lv, void (*done)(void *arg), void *arg)
{
	struct leave_ctx *c = calloc(1, sizeof *c);

	lv->leaving = true;
	loop_timer_cancel(lv->renew);
	if (!c || !(c->node = strdup(lv->node))) {
		free(c);
		if (done)
			done(arg);
		return;
	}
	c->done = done;
	c->arg = arg;
	if (source_lease_release(lv->s, lv->lease_name, lv->node, leave_done, c) < 0)
		leave_done(c, -1, "request not sent");
}

uint64_t liveness_renew_errors(const struct liveness *lv)
{
	return lv->renew_errors;
}
