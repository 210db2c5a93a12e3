/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/log.c: levels, one line per event, the rate limiter, errno preservation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "barelb/log.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	log_set_stream(c->f);
}

static void cap_close(struct capture *c)
{
	fflush(c->f);
	log_set_stream(NULL);
	fclose(c->f);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void test_levels(void **state)
{
	struct capture c;
	enum log_level lvl;

	assert_int_equal(log_parse_level("debug", &lvl), 0);
	assert_int_equal(lvl, LOG_DEBUG);
	assert_int_equal(log_parse_level("error", &lvl), 0);
	assert_int_equal(lvl, LOG_ERROR);
	assert_int_equal(log_parse_level("verbose", &lvl), -1);
	assert_int_equal(log_parse_level("", &lvl), -1);

	cap_open(&c);
	log_set_level(LOG_WARN);
	log_info("hidden=%d", 1);
	log_warn("shown=%d", 2);
	log_error("also=%s", "yes");
	cap_close(&c);
	log_set_level(LOG_INFO);
	assert_int_equal(count_lines(c.buf), 2);
	assert_null(strstr(c.buf, "hidden"));
	assert_non_null(strstr(c.buf, "level=warn shown=2\n"));
	assert_non_null(strstr(c.buf, "level=error also=yes\n"));
	free(c.buf);
}

static void test_one_line_per_event(void **state)
{
	struct capture c;

	cap_open(&c);
	log_warn("msg=\"%s\"", "line one\nline two\rthree");
	cap_close(&c);
	assert_int_equal(count_lines(c.buf), 1);
	assert_non_null(strstr(c.buf, "line one line two three"));
	free(c.buf);
}

static void test_errno_preserved(void **state)
{
	struct capture c;

	cap_open(&c);
	errno = EADDRINUSE;
	log_error("x");
	assert_int_equal(errno, EADDRINUSE);
	errno = ENOENT;
	log_debug("filtered");
	assert_int_equal(errno, ENOENT);
	cap_close(&c);
	free(c.buf);
}

static void test_ratelimit(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(2.0, 3.0);
	struct capture c;
	const uint64_t s = 1000000000ull;
	int printed = 0;

	cap_open(&c);
	/* A burst of 10 at the same instant: only `burst` get through. */
	for (int i = 0; i < 10; i++)
		printed += log_ratelimited(&rl, 5 * s, LOG_WARN, "bad frame %d", i);
	assert_int_equal(printed, 3);
	assert_int_equal(rl.suppressed_total, 7);
	/* Half a second later one token (2/s) has come back. */
	assert_true(log_ratelimited(&rl, 5 * s + s / 2, LOG_WARN, "bad frame late"));
	assert_false(log_ratelimited(&rl, 5 * s + s / 2, LOG_WARN, "bad frame later"));
	/* Long quiet period: refill is capped at burst. */
	printed = 0;
	for (int i = 0; i < 10; i++)
		printed += log_ratelimited(&rl, 100 * s, LOG_WARN, "again %d", i);
	assert_int_equal(printed, 3);
	cap_close(&c);
	assert_int_equal(count_lines(c.buf), 7);
	/* The first line after a suppression says how many were dropped. */
	assert_non_null(strstr(c.buf, "suppressed=7 bad frame late"));
	assert_non_null(strstr(c.buf, "suppressed=1 again 0"));
	free(c.buf);
}

static void test_component(void **state)
{
	struct capture c;

	cap_open(&c);
	log_set_component("speaker");
	log_warn("svc=%s msg=\"x\"", "ns/a");
	log_set_component(NULL);
	log_warn("plain");
	cap_close(&c);
	assert_non_null(strstr(c.buf, "level=warn component=speaker svc=ns/a msg=\"x\"\n"));
	assert_non_null(strstr(c.buf, "level=warn plain\n"));
	free(c.buf);
}

static void test_mono(void **state)
{
	uint64_t a = mono_ns(), b = mono_ns();
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_one_line_per_event),
		cmocka_unit_test(test_errno_preserved),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_component),
		cmocka_unit_test(test_mono),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
