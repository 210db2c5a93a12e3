/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/loop.c: timers (arm, re-arm, cancel, jitter bounds), fds, signals. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "barelb/log.h"
#include "barelb/loop.h"

struct tctx {
	struct loop *l;
	int fired;
	uint64_t at_ms;
	int fd_reads;
	int last_signal;
	char got[16];
};

static void stop_cb(void *arg)
{
	struct tctx *t = arg;
	t->fired++;
	t->at_ms = loop_now_ms(t->l);
	loop_stop(t->l);
}

static void count_cb(void *arg)
{
	((struct tctx *)arg)->fired++;
}

static void test_timer_fires_once_after_delay(void **state)
{
	struct tctx t = { 0 };
	struct loop_timer *tm;
	uint64_t start;

	t.l = loop_new();
	assert_non_null(t.l);
	tm = loop_timer_new(t.l, stop_cb, &t);
	start = loop_now_ms(t.l);
	loop_timer_arm(tm, 30);
	assert_true(loop_timer_pending(tm));
	assert_int_equal(loop_run(t.l), 0);
	assert_int_equal(t.fired, 1);
	assert_true(t.at_ms - start >= 29);
	assert_false(loop_timer_pending(tm));
	loop_timer_free(tm);
	loop_free(t.l);
}

static void test_cancel_and_rearm(void **state)
{
	struct tctx t = { 0 }, other = { 0 };
	struct loop_timer *a, *b;

	t.l = loop_new();
	other.l = t.l;
	a = loop_timer_new(t.l, count_cb, &other);
	b = loop_timer_new(t.l, stop_cb, &t);
	loop_timer_arm(a, 10);
	loop_timer_cancel(a);
	assert_false(loop_timer_pending(a));
	/* Re-arming moves the deadline instead of adding a second one. */
	loop_timer_arm(b, 5);
	loop_timer_arm(b, 40);
	loop_run(t.l);
	assert_int_equal(other.fired, 0);
	assert_int_equal(t.fired, 1);
	loop_timer_free(a);
	loop_timer_free(b);
	loop_free(t.l);
}

static void test_jitter_bounds(void **state)
{
	struct tctx t = { 0 };
	struct loop_timer *tm;
	uint64_t start, min = UINT64_MAX, max = 0;

	t.l = loop_new();
	tm = loop_timer_new(t.l, stop_cb, &t);
	for (int i = 0; i < 12; i++) {
		start = loop_now_ms(t.l);
		loop_timer_arm_jitter(tm, 20, 50); /* 10..30 ms */
		loop_run(t.l);
		uint64_t d = t.at_ms - start;
		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	assert_int_equal(t.fired, 12);
	assert_true(min >= 9);
	assert_true(max <= 45);
	loop_timer_free(tm);
	loop_free(t.l);
}

static void test_random_spread(void **state)
{
	struct loop *l = loop_new();
	int buckets[4] = { 0 };

	for (int i = 0; i < 4000; i++)
		buckets[loop_random(l) % 4]++;
	for (int i = 0; i < 4; i++)
		assert_in_range(buckets[i], 800, 1200);
	loop_free(l);
}

static void on_readable(int fd, unsigned ev, void *arg)
{
	struct tctx *t = arg;
	ssize_t n;

	assert_true(ev & LOOP_READ);
	n = read(fd, t->got, sizeof t->got - 1);
	assert_true(n > 0);
	t->got[n] = 0;
	t->fd_reads++;
	loop_stop(t->l);
}

static void test_fd_readable(void **state)
{
	struct tctx t = { 0 };
	struct loop_fd *f;
	int p[2];

	assert_int_equal(pipe(p), 0);
	t.l = loop_new();
	f = loop_fd_add(t.l, p[0], LOOP_READ, on_readable, &t);
	assert_non_null(f);
	assert_int_equal(write(p[1], "ping", 4), 4);
	loop_run(t.l);
	assert_int_equal(t.fd_reads, 1);
	assert_string_equal(t.got, "ping");
	/* With no events requested the fd is not watched: a timer ends the loop instead. */
	assert_int_equal(loop_fd_set_events(f, 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	struct loop_timer *tm = loop_timer_new(t.l, stop_cb, &t);
	loop_timer_arm(tm, 20);
	loop_run(t.l);
	assert_int_equal(t.fd_reads, 1);
	loop_timer_free(tm);
	loop_fd_del(f);
	close(p[0]);
	close(p[1]);
	loop_free(t.l);
}

static void on_signal(int signo, void *arg)
{
	struct tctx *t = arg;
	t->last_signal = signo;
	loop_stop(t->l);
}

static void raise_usr1(void *arg)
{
	(void)arg;
	raise(SIGUSR1);
}

static void test_signal_through_loop(void **state)
{
	struct tctx t = { 0 };
	struct loop_signal *s;
	struct loop_timer *tm;

	t.l = loop_new();
	s = loop_signal_add(t.l, SIGUSR1, on_signal, &t);
	assert_non_null(s);
	tm = loop_timer_new(t.l, raise_usr1, NULL);
	loop_timer_arm(tm, 5);
	loop_run(t.l);
	assert_int_equal(t.last_signal, SIGUSR1);
	loop_timer_free(tm);
	loop_signal_del(s);
	loop_free(t.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_fires_once_after_delay),
		cmocka_unit_test(test_cancel_and_rearm),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_random_spread),
		cmocka_unit_test(test_fd_readable),
		cmocka_unit_test(test_signal_through_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
