/* SPDX-License-Identifier: Apache-2.0 */
/* loop: thin wrapper around libevent so that daemons see fds, timers and signals, nothing else. */
#include "barelb/xalloc.h"
#include "barelb/loop.h"

#include <event2/event.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "barelb/log.h"

struct loop {
	struct event_base *base;
	uint64_t rng; /* xorshift64 state */
};

struct loop_fd {
	struct loop *l;
	struct event *ev;
	int fd;
	unsigned events;
	loop_fd_cb cb;
	void *arg;
};

struct loop_timer {
	struct loop *l;
	struct event *ev;
	loop_timer_cb cb;
	void *arg;
};

struct loop_signal {
	struct event *ev;
	loop_signal_cb cb;
	void *arg;
};


struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);
	struct event_config *cfg = event_config_new();

	/* Timers use the monotonic clock so that a wall-clock step never fires or stalls them. */
	if (cfg)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	l->base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	if (!l->base) {
		free(l);
		return NULL;
	}
	if (getrandom(&l->rng, sizeof l->rng, 0) != sizeof l->rng || l->rng == 0)
		l->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	event_base_free(l->base);
	free(l);
}

int loop_run(struct loop *l)
{
	return event_base_dispatch(l->base) < 0 ? -1 : 0;
}

void loop_stop(struct loop *l)
{
	event_base_loopbreak(l->base);
}

uint64_t loop_now_ms(struct loop *l)
{
	(void)l;
	return mono_ns() / 1000000u;
}

uint32_t loop_random(struct loop *l)
{
	uint64_t x = l->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	l->rng = x;
	return (uint32_t)(x >> 32);
}

void *loop_event_base(struct loop *l)
{
	return l->base;
}

static short ev_flags(unsigned events)
{
	short f = EV_PERSIST;
	if (events & LOOP_READ)
		f |= EV_READ;
	if (events & LOOP_WRITE)
		f |= EV_WRITE;
	return f;
}

static void fd_trampoline(evutil_socket_t fd, short what, void *arg)
{
	struct loop_fd *f = arg;
	unsigned ev = 0;

	if (what & EV_READ)
		ev |= LOOP_READ;
	if (what & EV_WRITE)
		ev |= LOOP_WRITE;
	f->cb((int)fd, ev, f->arg);
}

struct loop_fd *loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
	struct loop_fd *f = xcalloc(1, sizeof *f);

	f->l = l;
	f->fd = fd;
	f->cb = cb;
	f->arg = arg;
	f->events = events;
	f->ev = event_new(l->base, fd, ev_flags(events), fd_trampoline, f);
	if (!f->ev || (events && event_add(f->ev, NULL) < 0)) {
		if (f->ev)
			event_free(f->ev);
		free(f);
		return NULL;
	}
	return f;
}

int loop_fd_set_events(struct loop_fd *f, unsigned events)
{
	if (events == f->events)
		return 0;
	event_del(f->ev);
	if (event_assign(f->ev, f->l->base, f->fd, ev_flags(events), fd_trampoline, f) < 0)
		return -1;
	f->events = events;
	return events ? event_add(f->ev, NULL) : 0;
}

void loop_fd_del(struct loop_fd *f)
{
	if (!f)
		return;
	event_free(f->ev);
	free(f);
}

static void timer_trampoline(evutil_socket_t fd, short what, void *arg)
{
	struct loop_timer *t = arg;
	(void)fd;
	(void)what;
	t->cb(t->arg);
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = xcalloc(1, sizeof *t);

	t->l = l;
	t->cb = cb;
	t->arg = arg;
	t->ev = evtimer_new(l->base, timer_trampoline, t);
	if (!t->ev) {
		free(t);
		return NULL;
	}
	return t;
}

void loop_timer_arm(struct loop_timer *t, uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(t->ev, &tv);
}

void loop_timer_arm_jitter(struct loop_timer *t, uint64_t ms, unsigned jitter_pct)
{
	uint64_t span = ms * jitter_pct / 100;

	if (span > 0) {
		uint64_t r = loop_random(t->l) % (2 * span + 1);
		ms = ms - span + r;
	}
	loop_timer_arm(t, ms);
}

void loop_timer_cancel(struct loop_timer *t)
{
	evtimer_del(t->ev);
}

bool loop_timer_pending(const struct loop_timer *t)
{
	return evtimer_pending(t->ev, NULL) != 0;
}

void loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}

static void signal_trampoline(evutil_socket_t signo, short what, void *arg)
{
	struct loop_signal *s = arg;
	(void)what;
	s->cb((int)signo, s->arg);
}

struct loop_signal *loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	struct loop_signal *s = xcalloc(1, sizeof *s);

	s->cb = cb;
	s->arg = arg;
	s->ev = evsignal_new(l->base, signo, signal_trampoline, s);
	if (!s->ev || evsignal_add(s->ev, NULL) < 0) {
		if (s->ev)
			event_free(s->ev);
		free(s);
		return NULL;
	}
	return s;
}

void loop_signal_del(struct loop_signal *s)
{
	if (!s)
		return;
	event_free(s->ev);
	free(s);
}
