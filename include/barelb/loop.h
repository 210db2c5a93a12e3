/* SPDX-License-Identifier: Apache-2.0 */
/* loop: the one event loop of each daemon (libevent underneath; no libevent type leaves loop.c
 * except through loop_event_base() for the HTTP server and curl glue). fds, timers, signals. */
#ifndef BARELB_LOOP_H
#define BARELB_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_fd;
struct loop_timer;
struct loop_signal;

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

typedef void (*loop_fd_cb)(int fd, unsigned events, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_signal_cb)(int signo, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);         /* NULL-safe; everything still registered must be freed first */
int loop_run(struct loop *l);           /* until loop_stop; 0, or -1 on a libevent failure */
void loop_stop(struct loop *l);
uint64_t loop_now_ms(struct loop *l);   /* monotonic milliseconds */
uint32_t loop_random(struct loop *l);   /* for jitter; seeded from getrandom() */
void *loop_event_base(struct loop *l);  /* struct event_base *, for lib/ glue only */

/* Persistent fd watch: cb runs each time fd is ready for the requested events. */
struct loop_fd *loop_fd_add(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg);
int loop_fd_set_events(struct loop_fd *f, unsigned events);
void loop_fd_del(struct loop_fd *f);    /* NULL-safe; does not close fd */

/* One-shot timers that can be re-armed; a timer is disarmed while its callback runs. */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg);
void loop_timer_arm(struct loop_timer *t, uint64_t ms);
/* ms, plus or minus up to jitter_pct percent (BIRD-style jitter on periodic timers). */
void loop_timer_arm_jitter(struct loop_timer *t, uint64_t ms, unsigned jitter_pct);
void loop_timer_cancel(struct loop_timer *t);
bool loop_timer_pending(const struct loop_timer *t);
void loop_timer_free(struct loop_timer *t); /* NULL-safe */

/* Signals are delivered through the loop, never in a signal handler's context. */
struct loop_signal *loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *arg);
void loop_signal_del(struct loop_signal *s); /* NULL-safe */

#endif
