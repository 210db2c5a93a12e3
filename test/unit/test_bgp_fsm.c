/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for speaker/bgp/fsm.c: a table of (state, event) -> (state, actions) over the RFC 4271
 * section 8 cases, hold/keepalive negotiation, and the backoff (growth, jitter, reset only after
 * a stable session, so a peer that accepts the OPEN and then closes cannot make us loop fast). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../speaker/bgp/fsm.h"
#include "../../speaker/bgp/msg.h"

static const struct bgp_fsm_cfg cfg = {
	.hold_time_s = 90,
	.connect_time_s = 10,
	.backoff_min_ms = 1000,
	.backoff_max_ms = 120000,
	.stable_ms = 60000,
};

/* Actions as text, e.g. "NOTIFY 6/2, DROP, CANCEL hold". Backoff delays are jittered, so an ARM of
 * idle-hold, or of connect-retry with anything but the connect time, prints as "backoff". */
static void fmt(const struct bgp_fsm *f, const struct bgp_actions *a, char *buf, size_t n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < a->n; i++) {
		const struct bgp_action *x = &a->a[i];
		char one[64];
		switch (x->type) {
		case BGP_A_CONNECT: snprintf(one, sizeof(one), "CONNECT"); break;
		case BGP_A_DROP: snprintf(one, sizeof(one), "DROP"); break;
		case BGP_A_SEND_OPEN: snprintf(one, sizeof(one), "OPEN"); break;
		case BGP_A_SEND_KEEPALIVE: snprintf(one, sizeof(one), "KEEPALIVE"); break;
		case BGP_A_SEND_NOTIFICATION:
			snprintf(one, sizeof(one), "NOTIFY %u/%u", x->code, x->subcode);
			break;
		case BGP_A_ARM:
			if (x->timer == BGP_T_IDLE_HOLD ||
			    (x->timer == BGP_T_CONNECT_RETRY && x->ms != f->cfg.connect_time_s * 1000ull))
				snprintf(one, sizeof(one), "ARM %s backoff", bgp_timer_name(x->timer));
			else
				snprintf(one, sizeof(one), "ARM %s %llu", bgp_timer_name(x->timer),
					 (unsigned long long)x->ms);
			break;
		case BGP_A_CANCEL:
			snprintf(one, sizeof(one), "CANCEL %s", bgp_timer_name(x->timer));
			break;
		case BGP_A_UP: snprintf(one, sizeof(one), "UP"); break;
		case BGP_A_DOWN: snprintf(one, sizeof(one), "DOWN"); break;
		case BGP_A_RESEND: snprintf(one, sizeof(one), "RESEND"); break;
		}
		off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", one);
		if (off >= n)
			break;
	}
}

static enum bgp_state ev(struct bgp_fsm *f, enum bgp_event_type t, uint64_t now,
			 struct bgp_actions *a)
{
	struct bgp_event e = {.type = t, .peer_hold = 90, .code = 3, .subcode = 1};
	return bgp_fsm_event(f, &e, now, a);
}

/* Bring a fresh FSM to state s along the normal path. */
static void reach(struct bgp_fsm *f, enum bgp_state s)
{
	struct bgp_actions a;
	bgp_fsm_init(f, &cfg, 42);
	if (s == BGP_IDLE)
		return;
	ev(f, BGP_EV_MANUAL_START, 0, &a);
	if (s == BGP_ACTIVE)
		ev(f, BGP_EV_TCP_FAILS, 0, &a);
	if (s >= BGP_OPENSENT)
		ev(f, BGP_EV_TCP_CONNECTED, 0, &a);
	if (s >= BGP_OPENCONFIRM)
		ev(f, BGP_EV_OPEN, 0, &a);
	if (s >= BGP_ESTABLISHED)
		ev(f, BGP_EV_KEEPALIVE, 0, &a);
	assert_int_equal(f->state, s);
}

struct row {
	enum bgp_state from;
	enum bgp_event_type event;
	enum bgp_state to;
	const char *actions;
};

#define ERR_OUT(code) "NOTIFY " code ", DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive"
#define IDLE_TAIL     ", ARM idle-hold backoff"

static const struct row rows[] = {
	/* Idle (after init: not started) */
	{BGP_IDLE, BGP_EV_MANUAL_START, BGP_CONNECT,
	 "CANCEL idle-hold, CONNECT, ARM connect-retry 10000"},
	{BGP_IDLE, BGP_EV_MANUAL_STOP, BGP_IDLE,
	 "CANCEL connect-retry, CANCEL hold, CANCEL keepalive, CANCEL idle-hold"},
	{BGP_IDLE, BGP_EV_IDLE_HOLD_EXPIRES, BGP_IDLE, ""}, /* stopped: no automatic start */
	{BGP_IDLE, BGP_EV_TCP_CONNECTED, BGP_IDLE, ""},
	{BGP_IDLE, BGP_EV_OPEN, BGP_IDLE, ""},
	{BGP_IDLE, BGP_EV_KEEPALIVE, BGP_IDLE, ""},
	{BGP_IDLE, BGP_EV_HOLD_EXPIRES, BGP_IDLE, ""},
	{BGP_IDLE, BGP_EV_MSG_ERROR, BGP_IDLE, ""},
	/* Connect */
	{BGP_CONNECT, BGP_EV_TCP_CONNECTED, BGP_OPENSENT,
	 "CANCEL connect-retry, OPEN, ARM hold 240000"},
	{BGP_CONNECT, BGP_EV_TCP_FAILS, BGP_ACTIVE,
	 "DROP, CANCEL hold, CANCEL keepalive, ARM connect-retry backoff"},
	{BGP_CONNECT, BGP_EV_CONNECT_RETRY_EXPIRES, BGP_ACTIVE,
	 "DROP, CANCEL hold, CANCEL keepalive, ARM connect-retry backoff"},
	{BGP_CONNECT, BGP_EV_MANUAL_START, BGP_CONNECT, ""},
	{BGP_CONNECT, BGP_EV_MANUAL_STOP, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, CANCEL idle-hold"},
	{BGP_CONNECT, BGP_EV_HOLD_EXPIRES, BGP_CONNECT, ""},
	{BGP_CONNECT, BGP_EV_KEEPALIVE_EXPIRES, BGP_CONNECT, ""},
	/* Active: waiting to retry */
	{BGP_ACTIVE, BGP_EV_CONNECT_RETRY_EXPIRES, BGP_CONNECT,
	 "CONNECT, ARM connect-retry 10000"},
	{BGP_ACTIVE, BGP_EV_MANUAL_STOP, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, CANCEL idle-hold"},
	{BGP_ACTIVE, BGP_EV_TCP_FAILS, BGP_ACTIVE, ""},
	{BGP_ACTIVE, BGP_EV_IDLE_HOLD_EXPIRES, BGP_ACTIVE, ""},
	/* OpenSent */
	{BGP_OPENSENT, BGP_EV_OPEN, BGP_OPENCONFIRM,
	 "KEEPALIVE, ARM keepalive 30000, ARM hold 90000"},
	{BGP_OPENSENT, BGP_EV_TCP_FAILS, BGP_ACTIVE,
	 "DROP, CANCEL hold, CANCEL keepalive, ARM connect-retry backoff"},
	{BGP_OPENSENT, BGP_EV_HOLD_EXPIRES, BGP_IDLE, ERR_OUT("4/0") IDLE_TAIL},
	{BGP_OPENSENT, BGP_EV_MSG_ERROR, BGP_IDLE, ERR_OUT("3/1") IDLE_TAIL},
	{BGP_OPENSENT, BGP_EV_NOTIFICATION, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive" IDLE_TAIL},
	{BGP_OPENSENT, BGP_EV_KEEPALIVE, BGP_IDLE, ERR_OUT("5/1") IDLE_TAIL},
	{BGP_OPENSENT, BGP_EV_UPDATE, BGP_IDLE, ERR_OUT("5/1") IDLE_TAIL},
	{BGP_OPENSENT, BGP_EV_ROUTE_REFRESH, BGP_IDLE, ERR_OUT("5/1") IDLE_TAIL},
	{BGP_OPENSENT, BGP_EV_MANUAL_STOP, BGP_IDLE,
	 "NOTIFY 6/2, DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, CANCEL idle-hold"},
	{BGP_OPENSENT, BGP_EV_KEEPALIVE_EXPIRES, BGP_OPENSENT, ""},
	/* OpenConfirm: Established only on the peer's KEEPALIVE */
	{BGP_OPENCONFIRM, BGP_EV_KEEPALIVE, BGP_ESTABLISHED, "ARM hold 90000, UP"},
	{BGP_OPENCONFIRM, BGP_EV_UPDATE, BGP_IDLE, ERR_OUT("5/2") IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_ROUTE_REFRESH, BGP_IDLE, ERR_OUT("5/2") IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_OPEN, BGP_IDLE, ERR_OUT("5/2") IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_NOTIFICATION, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive" IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_TCP_FAILS, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive" IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_HOLD_EXPIRES, BGP_IDLE, ERR_OUT("4/0") IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_KEEPALIVE_EXPIRES, BGP_OPENCONFIRM,
	 "KEEPALIVE, ARM keepalive 30000"},
	{BGP_OPENCONFIRM, BGP_EV_MSG_ERROR, BGP_IDLE, ERR_OUT("3/1") IDLE_TAIL},
	{BGP_OPENCONFIRM, BGP_EV_MANUAL_STOP, BGP_IDLE,
	 "NOTIFY 6/2, DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, CANCEL idle-hold"},
	/* Established */
	{BGP_ESTABLISHED, BGP_EV_KEEPALIVE, BGP_ESTABLISHED, "ARM hold 90000"},
	{BGP_ESTABLISHED, BGP_EV_UPDATE, BGP_ESTABLISHED, "ARM hold 90000"},
	{BGP_ESTABLISHED, BGP_EV_ROUTE_REFRESH, BGP_ESTABLISHED, "ARM hold 90000, RESEND"},
	{BGP_ESTABLISHED, BGP_EV_KEEPALIVE_EXPIRES, BGP_ESTABLISHED,
	 "KEEPALIVE, ARM keepalive 30000"},
	{BGP_ESTABLISHED, BGP_EV_HOLD_EXPIRES, BGP_IDLE,
	 ERR_OUT("4/0") ", DOWN" IDLE_TAIL},
	{BGP_ESTABLISHED, BGP_EV_MSG_ERROR, BGP_IDLE, ERR_OUT("3/1") ", DOWN" IDLE_TAIL},
	{BGP_ESTABLISHED, BGP_EV_OPEN, BGP_IDLE, ERR_OUT("5/3") ", DOWN" IDLE_TAIL},
	{BGP_ESTABLISHED, BGP_EV_NOTIFICATION, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, DOWN" IDLE_TAIL},
	{BGP_ESTABLISHED, BGP_EV_TCP_FAILS, BGP_IDLE,
	 "DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, DOWN" IDLE_TAIL},
	{BGP_ESTABLISHED, BGP_EV_MANUAL_STOP, BGP_IDLE,
	 "NOTIFY 6/2, DROP, CANCEL connect-retry, CANCEL hold, CANCEL keepalive, DOWN, "
	 "CANCEL idle-hold"},
	{BGP_ESTABLISHED, BGP_EV_MANUAL_START, BGP_ESTABLISHED, ""},
	{BGP_ESTABLISHED, BGP_EV_TCP_CONNECTED, BGP_ESTABLISHED, ""},
	{BGP_ESTABLISHED, BGP_EV_CONNECT_RETRY_EXPIRES, BGP_ESTABLISHED, ""},
	{BGP_ESTABLISHED, BGP_EV_IDLE_HOLD_EXPIRES, BGP_ESTABLISHED, ""},
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct bgp_fsm f;
		struct bgp_actions a;
		char got[512];
		reach(&f, r->from);
		enum bgp_state to = ev(&f, r->event, 1000, &a);
		fmt(&f, &a, got, sizeof(got));
		if (to != r->to || strcmp(got, r->actions) != 0)
			fail_msg("row %zu: %s + %s -> %s [%s], want %s [%s]", i, bgp_state_name(r->from),
				 bgp_event_name(r->event), bgp_state_name(to), got,
				 bgp_state_name(r->to), r->actions);
	}
	print_message("# %zu (state, event) rows\n", sizeof(rows) / sizeof(rows[0]));
}

/* After a failure (not a ManualStop) the IdleHoldTimer restarts the session by itself. */
static void test_automatic_restart(void **state)
{
	struct bgp_fsm f;
	struct bgp_actions a;
	char got[256];
	reach(&f, BGP_ESTABLISHED);
	ev(&f, BGP_EV_NOTIFICATION, 1000, &a);
	assert_int_equal(ev(&f, BGP_EV_IDLE_HOLD_EXPIRES, 3000, &a), BGP_CONNECT);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "CONNECT, ARM connect-retry 10000");
	/* but not after a ManualStop */
	reach(&f, BGP_ESTABLISHED);
	ev(&f, BGP_EV_MANUAL_STOP, 1000, &a);
	assert_int_equal(ev(&f, BGP_EV_IDLE_HOLD_EXPIRES, 3000, &a), BGP_IDLE);
	assert_int_equal(a.n, 0);
}

static void open_with(struct bgp_fsm *f, const struct bgp_fsm_cfg *c, uint16_t peer_hold,
		      struct bgp_actions *a)
{
	struct bgp_event e = {.type = BGP_EV_OPEN, .peer_hold = peer_hold};
	bgp_fsm_init(f, c, 1);
	ev(f, BGP_EV_MANUAL_START, 0, a);
	ev(f, BGP_EV_TCP_CONNECTED, 0, a);
	bgp_fsm_event(f, &e, 0, a);
}

static void test_hold_negotiation(void **state)
{
	struct bgp_fsm f;
	struct bgp_actions a;
	char got[256];
	struct bgp_fsm_cfg c = cfg;

	/* min(ours, theirs), keepalive a third */
	open_with(&f, &c, 30, &a);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "KEEPALIVE, ARM keepalive 10000, ARM hold 30000");
	/* hold 0 from the peer: no hold timer and no keepalives (RFC 4271 4.4) */
	open_with(&f, &c, 0, &a);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "KEEPALIVE, CANCEL hold");
	assert_int_equal(ev(&f, BGP_EV_KEEPALIVE, 0, &a), BGP_ESTABLISHED);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "UP");
	ev(&f, BGP_EV_UPDATE, 0, &a);
	assert_int_equal(a.n, 0);
	ev(&f, BGP_EV_KEEPALIVE_EXPIRES, 0, &a);
	assert_int_equal(a.n, 0);
	/* hold 0 configured by us, 90 from the peer: also none */
	c.hold_time_s = 0;
	open_with(&f, &c, 90, &a);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "KEEPALIVE, CANCEL hold");
	/* a configured keepalive below hold/3 is used */
	c = cfg;
	c.keepalive_s = 5;
	open_with(&f, &c, 90, &a);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "KEEPALIVE, ARM keepalive 5000, ARM hold 90000");
	/* one above the negotiated hold/3 is cut down to it */
	c.keepalive_s = 60;
	open_with(&f, &c, 30, &a);
	fmt(&f, &a, got, sizeof(got));
	assert_string_equal(got, "KEEPALIVE, ARM keepalive 10000, ARM hold 30000");
}

static uint64_t backoff_of(const struct bgp_actions *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->a[i].type == BGP_A_ARM &&
		    (a->a[i].timer == BGP_T_IDLE_HOLD || a->a[i].timer == BGP_T_CONNECT_RETRY))
			return a->a[i].ms;
	fail_msg("no backoff timer armed");
	return 0;
}

static void test_backoff_grows_with_jitter(void **state)
{
	struct bgp_fsm f;
	struct bgp_actions a;
	uint64_t want = 1000, now = 0;
	reach(&f, BGP_CONNECT);
	for (int i = 0; i < 12; i++) {
		/* connect fails; Active; retry timer fires; Connect again */
		ev(&f, BGP_EV_TCP_FAILS, now, &a);
		uint64_t d = backoff_of(&a);
		assert_true(d >= want * 3 / 4 && d <= want * 5 / 4);
		now += d;
		ev(&f, BGP_EV_CONNECT_RETRY_EXPIRES, now, &a);
		want = want * 2 > 120000 ? 120000 : want * 2;
	}
	assert_int_equal(bgp_fsm_backoff_ms(&f), 120000);
	/* the same seed gives the same delays; another seed others */
	struct bgp_fsm g, h;
	uint64_t dg[5], dh[5], dk[5];
	bgp_fsm_init(&g, &cfg, 7);
	bgp_fsm_init(&h, &cfg, 7);
	ev(&g, BGP_EV_MANUAL_START, 0, &a);
	ev(&h, BGP_EV_MANUAL_START, 0, &a);
	for (int i = 0; i < 5; i++) {
		ev(&g, BGP_EV_TCP_FAILS, 0, &a);
		dg[i] = backoff_of(&a);
		ev(&g, BGP_EV_CONNECT_RETRY_EXPIRES, 0, &a);
		ev(&h, BGP_EV_TCP_FAILS, 0, &a);
		dh[i] = backoff_of(&a);
		ev(&h, BGP_EV_CONNECT_RETRY_EXPIRES, 0, &a);
	}
	assert_memory_equal(dg, dh, sizeof(dg));
	bgp_fsm_init(&g, &cfg, 8);
	ev(&g, BGP_EV_MANUAL_START, 0, &a);
	for (int i = 0; i < 5; i++) {
		ev(&g, BGP_EV_TCP_FAILS, 0, &a);
		dk[i] = backoff_of(&a);
		ev(&g, BGP_EV_CONNECT_RETRY_EXPIRES, 0, &a);
	}
	assert_memory_not_equal(dg, dk, sizeof(dg));
}

/* MetalLB resets its backoff whenever the OPEN exchange succeeds, so a peer that accepts the OPEN
 * and then sends a NOTIFICATION gets a reconnect loop. Here the delay keeps growing. */
static void test_flapping_peer_keeps_backing_off(void **state)
{
	struct bgp_fsm f;
	struct bgp_actions a;
	uint64_t now = 0, prev_base = 0;
	reach(&f, BGP_IDLE);
	ev(&f, BGP_EV_MANUAL_START, now, &a);
	for (int i = 0; i < 10; i++) {
		ev(&f, BGP_EV_TCP_CONNECTED, now, &a);
		ev(&f, BGP_EV_OPEN, now, &a);
		assert_int_equal(ev(&f, BGP_EV_KEEPALIVE, now, &a), BGP_ESTABLISHED);
		now += 2000; /* up for 2 s, then the peer says goodbye */
		uint64_t base = bgp_fsm_backoff_ms(&f);
		assert_int_equal(ev(&f, BGP_EV_NOTIFICATION, now, &a), BGP_IDLE);
		uint64_t d = backoff_of(&a);
		assert_true(d >= base * 3 / 4 && d <= base * 5 / 4);
		assert_true(base >= prev_base);
		prev_base = base;
		now += d;
		assert_int_equal(ev(&f, BGP_EV_IDLE_HOLD_EXPIRES, now, &a), BGP_CONNECT);
	}
	assert_true(prev_base >= 64000);
}

static void test_backoff_resets_after_stable_session(void **state)
{
	struct bgp_fsm f;
	struct bgp_actions a;
	reach(&f, BGP_CONNECT);
	for (int i = 0; i < 5; i++) {
		ev(&f, BGP_EV_TCP_FAILS, 0, &a);
		ev(&f, BGP_EV_CONNECT_RETRY_EXPIRES, 0, &a);
	}
	assert_int_equal(bgp_fsm_backoff_ms(&f), 32000);
	ev(&f, BGP_EV_TCP_CONNECTED, 100000, &a);
	ev(&f, BGP_EV_OPEN, 100000, &a);
	ev(&f, BGP_EV_KEEPALIVE, 100000, &a);
	/* still 32 s while Established: the reset waits for the session to prove stable */
	assert_int_equal(bgp_fsm_backoff_ms(&f), 32000);
	/* up 59.9 s: not stable, the backoff keeps growing */
	ev(&f, BGP_EV_HOLD_EXPIRES, 159900, &a);
	assert_int_equal(bgp_fsm_backoff_ms(&f), 64000);
	ev(&f, BGP_EV_IDLE_HOLD_EXPIRES, 200000, &a);
	ev(&f, BGP_EV_TCP_CONNECTED, 200000, &a);
	ev(&f, BGP_EV_OPEN, 200000, &a);
	ev(&f, BGP_EV_KEEPALIVE, 200000, &a);
	/* up 60 s: the next failure starts again from the minimum */
	ev(&f, BGP_EV_TCP_FAILS, 260000, &a);
	uint64_t d = backoff_of(&a);
	assert_true(d >= 750 && d <= 1250);
	assert_int_equal(bgp_fsm_backoff_ms(&f), 2000);
	/* ManualStop also clears it */
	ev(&f, BGP_EV_MANUAL_STOP, 270000, &a);
	assert_int_equal(bgp_fsm_backoff_ms(&f), 1000);
}

static void test_defaults_and_names(void **state)
{
	struct bgp_fsm f;
	struct bgp_fsm_cfg c = {.hold_time_s = 90};
	bgp_fsm_init(&f, &c, 0);
	assert_int_equal(f.cfg.connect_time_s, 10);
	assert_int_equal(f.cfg.backoff_min_ms, 1000);
	assert_int_equal(f.cfg.backoff_max_ms, 120000);
	assert_int_equal(f.cfg.stable_ms, 60000);
	assert_string_equal(bgp_state_name(BGP_OPENCONFIRM), "OpenConfirm");
	assert_string_equal(bgp_event_name(BGP_EV_HOLD_EXPIRES), "HoldTimerExpires");
	assert_string_equal(bgp_timer_name(BGP_T_KEEPALIVE), "keepalive");
	assert_string_equal(bgp_state_name((enum bgp_state)17), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_automatic_restart),
		cmocka_unit_test(test_hold_negotiation),
		cmocka_unit_test(test_backoff_grows_with_jitter),
		cmocka_unit_test(test_flapping_peer_keeps_backing_off),
		cmocka_unit_test(test_backoff_resets_after_stable_session),
		cmocka_unit_test(test_defaults_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
