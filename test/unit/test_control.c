/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/control.c: the socket file (mode 0600, stale file replaced, live socket and
 * non-socket refused, removed on exit only if ours), the protocol (commands, args, errors, help,
 * bounds, NUL bytes, EOF without newline) and many clients at once, all through the loop. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "barelb/control.h"
#include "barelb/jsonw.h"
#include "barelb/log.h"
#include "barelb/loop.h"

struct fixture {
	char dir[64];
	char path[128];
	struct loop *l;
	struct control *c;
	int pending;
	int calls;
};

/* ---------- commands of the test daemon ---------- */

static int cmd_status(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "daemon", "test");
	jsonw_kv_uint(w, "n", 42);
	jsonw_obj_end(w);
	return 0;
}

static int cmd_echo(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "args", args);
	jsonw_obj_end(w);
	return 0;
}

static int cmd_fail(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	jsonw_obj_begin(w); /* written, then dropped */
	snprintf(err, len, "boom: %s\nsecond line", args);
	return -1;
}

static int cmd_broken(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	jsonw_obj_begin(w);
	jsonw_key(w, "x"); /* never closed */
	return 0;
}

static int cmd_big(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	char s[64];

	jsonw_obj_begin(w);
	jsonw_key(w, "items");
	jsonw_arr_begin(w);
	for (int i = 0; i < 50000; i++) {
		snprintf(s, sizeof s, "item-%08d-padding-padding", i);
		jsonw_str(w, s);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	return 0;
}

static int cmd_count(void *arg, const char *args, struct jsonw *w, char *err, size_t len)
{
	int *n = arg;

	jsonw_obj_begin(w);
	jsonw_kv_int(w, "calls", ++*n);
	jsonw_obj_end(w);
	return 0;
}

/* ---------- clients driven by the loop ---------- */

struct uclient {
	struct fixture *fx;
	int fd;
	struct loop_fd *lf;
	const char *req;
	size_t req_len, sent;
	bool shut_after_send;
	char *resp;
	size_t len, cap;
	bool done;
};

static void uclient_finish(struct uclient *u)
{
	if (u->done)
		return;
	u->done = true;
	loop_fd_del(u->lf);
	u->lf = NULL;
	if (--u->fx->pending == 0)
		loop_stop(u->fx->l);
}

static void on_uclient(int fd, unsigned events, void *arg)
{
	struct uclient *u = arg;

	if (u->sent < u->req_len) {
		ssize_t n = send(fd, u->req + u->sent, u->req_len - u->sent, MSG_NOSIGNAL);
		if (n > 0)
			u->sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN) {
			uclient_finish(u); /* the server closed on us (a "too long" reply) */
			return;
		}
		if (u->sent == u->req_len)
			loop_fd_set_events(u->lf, LOOP_READ);
		else
			return;
	}
	if (u->shut_after_send) {
		shutdown(fd, SHUT_WR);
		u->shut_after_send = false;
		return;
	}
	if (u->len + 4096 + 1 > u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8192;
		u->resp = realloc(u->resp, u->cap);
		assert_non_null(u->resp);
		u->resp[u->len] = '\0';
	}
	ssize_t n = recv(fd, u->resp + u->len, u->cap - u->len - 1, 0);
	if (n > 0) {
		u->len += (size_t)n;
		u->resp[u->len] = '\0';
	} else if (n == 0 || errno != EAGAIN) {
		uclient_finish(u);
	}
}

static struct uclient *uclient_new(struct fixture *fx, const char *req, size_t len)
{
	struct uclient *u = calloc(1, sizeof *u);
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	u->fx = fx;
	u->req = req;
	u->req_len = len;
	strcpy(a.sun_path, fx->path);
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(u->fd >= 0);
	assert_int_equal(connect(u->fd, (struct sockaddr *)&a, sizeof a), 0);
	u->lf = loop_fd_add(fx->l, u->fd, LOOP_WRITE, on_uclient, u);
	fx->pending++;
	return u;
}

static void uclient_free(struct uclient *u)
{
	loop_fd_del(u->lf);
	close(u->fd);
	free(u->resp);
	free(u);
}

static void on_timeout(void *arg)
{
	loop_stop(arg);
}

static void run(struct fixture *fx)
{
	struct loop_timer *t = loop_timer_new(fx->l, on_timeout, fx->l);

	loop_timer_arm(t, 5000);
	loop_run(fx->l);
	assert_true(loop_timer_pending(t)); /* all clients were done before the timeout */
	loop_timer_free(t);
}

/* One request, its whole reply (the caller frees it). */
static char *ask_raw(struct fixture *fx, const char *req, size_t len, bool shut)
{
	struct uclient *u = uclient_new(fx, req, len);
	char *out;

	u->shut_after_send = shut;
	run(fx);
	assert_true(u->done);
	out = strdup(u->resp ? u->resp : "");
	uclient_free(u);
	return out;
}

static void ask(struct fixture *fx, const char *req, const char *want)
{
	char *got = ask_raw(fx, req, strlen(req), false);

	assert_string_equal(got, want);
	free(got);
}

/* ---------- fixture ---------- */

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	strcpy(fx->dir, "/tmp/barelb-ctl-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/sub/test.sock", fx->dir);
	fx->l = loop_new();
	log_set_level(LOG_ERROR + 1);
	if (control_start(fx->l, fx->path, &fx->c) != 0 || !fx->c)
		return -1;
	control_register(fx->c, "status", "what the daemon is", cmd_status, NULL);
	control_register(fx->c, "echo", "the arguments back", cmd_echo, NULL);
	control_register(fx->c, "fail", "always fails", cmd_fail, NULL);
	control_register(fx->c, "broken", "writes bad JSON", cmd_broken, NULL);
	control_register(fx->c, "big", "a large reply", cmd_big, NULL);
	control_register(fx->c, "count", "counts its calls", cmd_count, &fx->calls);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	control_free(fx->c);
	loop_free(fx->l);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	(void)!system(cmd);
	free(fx);
	log_set_level(LOG_INFO);
	return 0;
}

/* ---------- tests ---------- */

static void test_socket_file(void **state)
{
	struct fixture *fx = *state;
	struct stat st;

	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(control_path(fx->c), fx->path);
	/* no temporary name left behind */
	char tmp[200];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", fx->path, (long)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	control_free(fx->c);
	fx->c = NULL;
	assert_int_equal(lstat(fx->path, &st), -1); /* removed on exit */
	assert_int_equal(errno, ENOENT);
}

static void test_commands(void **state)
{
	struct fixture *fx = *state;

	ask(fx, "status\n", "{\"daemon\":\"test\",\"n\":42}\n");
	ask(fx, "  status  \r\n", "{\"daemon\":\"test\",\"n\":42}\n");
	ask(fx, "echo\n", "{\"args\":\"\"}\n");
	ask(fx, "echo   a  \"b\"\tc \r\n", "{\"args\":\"a  \\\"b\\\"\\tc\"}\n");
	ask(fx, "fail x\n", "{\"error\":\"boom: x\"}\n");
	ask(fx, "broken\n", "{\"error\":\"internal error: incomplete reply\"}\n");
	ask(fx, "nope\n", "{\"error\":\"unknown command \\\"nope\\\" (try \\\"help\\\")\"}\n");
	ask(fx, "Status\n", "{\"error\":\"malformed command name\"}\n");
	ask(fx, "\n", "{\"error\":\"empty request: send a command name (try \\\"help\\\")\"}\n");
	ask(fx, "help\n",
	    "{\"commands\":[{\"name\":\"status\",\"help\":\"what the daemon is\"},"
	    "{\"name\":\"echo\",\"help\":\"the arguments back\"},"
	    "{\"name\":\"fail\",\"help\":\"always fails\"},"
	    "{\"name\":\"broken\",\"help\":\"writes bad JSON\"},"
	    "{\"name\":\"big\",\"help\":\"a large reply\"},"
	    "{\"name\":\"count\",\"help\":\"counts its calls\"}]}\n");
	/* what follows the first line is ignored: one exchange per connection */
	ask(fx, "echo 1\necho 2\n", "{\"args\":\"1\"}\n");
}

static void test_eof_without_newline(void **state)
{
	struct fixture *fx = *state;
	char *got = ask_raw(fx, "echo x", 6, true);

	assert_string_equal(got, "{\"args\":\"x\"}\n");
	free(got);
	got = ask_raw(fx, "", 0, true); /* connect and close: no reply, no harm */
	assert_string_equal(got, "");
	free(got);
	ask(fx, "status\n", "{\"daemon\":\"test\",\"n\":42}\n");
}

static void test_bounds(void **state)
{
	struct fixture *fx = *state;
	char *req = malloc(CONTROL_MAX_REQUEST * 2), *got;

	/* exactly the limit with its newline: accepted */
	memset(req, ' ', CONTROL_MAX_REQUEST);
	memcpy(req, "echo", 4);
	req[CONTROL_MAX_REQUEST - 2] = 'z';
	req[CONTROL_MAX_REQUEST - 1] = '\n';
	got = ask_raw(fx, req, CONTROL_MAX_REQUEST, false);
	assert_string_equal(got, "{\"args\":\"z\"}\n");
	free(got);
	/* one byte more, no newline in reach: refused */
	memset(req, 'a', CONTROL_MAX_REQUEST * 2);
	got = ask_raw(fx, req, CONTROL_MAX_REQUEST * 2, false);
	assert_string_equal(got, "{\"error\":\"request too long\"}\n");
	free(got);
	got = ask_raw(fx, req, CONTROL_MAX_REQUEST, true);
	assert_string_equal(got, "{\"error\":\"request too long\"}\n");
	free(got);
	/* a NUL byte inside the line */
	got = ask_raw(fx, "echo a\0b\n", 9, false);
	assert_string_equal(got, "{\"error\":\"NUL byte in the request\"}\n");
	free(got);
	free(req);
	ask(fx, "status\n", "{\"daemon\":\"test\",\"n\":42}\n"); /* still serving */
	assert_int_equal(control_clients(fx->c), 0);
}

static void test_large_reply(void **state)
{
	struct fixture *fx = *state;
	char *got = ask_raw(fx, "big\n", 4, false);
	size_t n = strlen(got);

	assert_true(n > 1500000);
	assert_true(strncmp(got, "{\"items\":[\"item-00000000-padding-padding\",", 42) == 0);
	const char *tail = "\"item-00049999-padding-padding\"]}\n";
	assert_string_equal(got + n - strlen(tail), tail);
	free(got);
}

static void test_many_clients(void **state)
{
	struct fixture *fx = *state;
	struct uclient *u[CONTROL_MAX_CLIENTS];
	char *want = NULL;

	/* all connected before the loop turns once: the daemon holds them all at the same time */
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		u[i] = uclient_new(fx, i % 2 ? "status\n" : "big\n", i % 2 ? 7 : 4);
	run(fx);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		assert_true(u[i]->done);
		if (i % 2)
			assert_string_equal(u[i]->resp, "{\"daemon\":\"test\",\"n\":42}\n");
		else if (!want)
			want = strdup(u[i]->resp);
		else
			assert_string_equal(u[i]->resp, want);
		uclient_free(u[i]);
	}
	assert_true(want && strlen(want) > 1500000);
	free(want);
	assert_int_equal(control_clients(fx->c), 0);
}

static void run_for(struct fixture *fx, uint64_t ms)
{
	struct loop_timer *t = loop_timer_new(fx->l, on_timeout, fx->l);

	loop_timer_arm(t, ms);
	loop_run(fx->l);
	loop_timer_free(t);
}

static void test_too_many_clients(void **state)
{
	struct fixture *fx = *state;
	struct uclient *u[CONTROL_MAX_CLIENTS], *extra;

	/* idle clients (connected, nothing sent yet) occupy every slot */
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		u[i] = uclient_new(fx, "status\n", 7);
		loop_fd_set_events(u[i]->lf, 0);
	}
	fx->pending = 0;
	run_for(fx, 300);
	assert_int_equal(control_clients(fx->c), CONTROL_MAX_CLIENTS);
	/* one more is turned away with a reason */
	extra = uclient_new(fx, "", 0);
	loop_fd_set_events(extra->lf, LOOP_READ);
	fx->pending = 1;
	run(fx);
	assert_string_equal(extra->resp, "{\"error\":\"too many clients\"}\n");
	uclient_free(extra);
	/* the others are still served */
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		loop_fd_set_events(u[i]->lf, LOOP_WRITE);
	fx->pending = CONTROL_MAX_CLIENTS;
	run(fx);
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		assert_string_equal(u[i]->resp, "{\"daemon\":\"test\",\"n\":42}\n");
		uclient_free(u[i]);
	}
	assert_int_equal(control_clients(fx->c), 0);
}

static void test_disabled_and_errors(void **state)
{
	struct fixture *fx = *state;
	struct control *c = (void *)1;
	char p[300];
	int fd;

	assert_int_equal(control_start(fx->l, NULL, &c), 0);
	assert_null(c);
	assert_int_equal(control_start(fx->l, "", &c), 0);
	assert_null(c);
	assert_int_equal(control_start(fx->l, "off", &c), 0);
	assert_null(c);
	/* a live daemon's socket is not taken over, and keeps working */
	assert_int_equal(control_start(fx->l, fx->path, &c), -1);
	assert_null(c);
	ask(fx, "status\n", "{\"daemon\":\"test\",\"n\":42}\n");
	/* not a socket: left alone */
	snprintf(p, sizeof p, "%s/file", fx->dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(control_start(fx->l, p, &c), -1);
	assert_int_equal(access(p, F_OK), 0);
	/* too long for sun_path */
	memset(p, 'x', sizeof p);
	p[0] = '/';
	p[sizeof p - 1] = '\0';
	assert_int_equal(control_start(fx->l, p, &c), -1);
	/* a missing grandparent directory is not created */
	snprintf(p, sizeof p, "%s/a/b/c.sock", fx->dir);
	assert_int_equal(control_start(fx->l, p, &c), -1);
	/* registration rules */
	assert_int_equal(control_register(fx->c, "status", "", cmd_status, NULL), -1);
	assert_int_equal(control_register(fx->c, "help", "", cmd_status, NULL), -1);
	assert_int_equal(control_register(fx->c, "Bad", "", cmd_status, NULL), -1);
	assert_int_equal(control_register(fx->c, "has space", "", cmd_status, NULL), -1);
	assert_int_equal(control_register(fx->c, "", "", cmd_status, NULL), -1);
	assert_int_equal(control_register(fx->c, "nocb", "", NULL, NULL), -1);
	assert_int_equal(control_register(NULL, "x", "", cmd_status, NULL), -1);
	assert_int_equal(control_register(fx->c, "check-2", NULL, cmd_status, NULL), 0);
	control_free(NULL);
}

static void test_stale_socket_replaced(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct control *c = NULL;
	char p[200];
	int fd;
	struct stat st;

	/* a socket file whose daemon died: bound, never listened, closed */
	snprintf(p, sizeof p, "%s/stale.sock", fx->dir);
	strcpy(a.sun_path, p);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	close(fd);
	assert_int_equal(control_start(fx->l, p, &c), 0);
	assert_non_null(c);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	control_free(c);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_not_removed_when_replaced(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	/* another daemon took the path over (its own file): ours must not delete it on exit */
	assert_int_equal(unlink(fx->path), 0);
	strcpy(a.sun_path, fx->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	control_free(fx->c);
	fx->c = NULL;
	assert_int_equal(access(fx->path, F_OK), 0);
	close(fd);
}

static void test_state_between_requests(void **state)
{
	struct fixture *fx = *state;
	char *a = ask_raw(fx, "count\n", 6, false);
	char *b = ask_raw(fx, "count\n", 6, false);
	int x, y;

	assert_int_equal(sscanf(a, "{\"calls\":%d}", &x), 1);
	assert_int_equal(sscanf(b, "{\"calls\":%d}", &y), 1);
	assert_int_equal(y, x + 1);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_without_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_removed_when_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_between_requests, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
