/* SPDX-License-Identifier: Apache-2.0 */
/* bgp/fsm: the RFC 4271 section 8 session state machine, pure (events in, actions out).
 *
 * barelb only connects, it never listens (like MetalLB's speaker: the router is the passive side).
 * So the states mean:
 *   Idle         no connection; after a failure the IdleHoldTimer (RFC 4271 8.1.1, the
 *                "DampPeerOscillations" damping) runs the backoff, then an automatic start.
 *   Connect      a TCP connect is in progress; ConnectRetryTimer bounds how long it may take.
 *   Active       the connect failed (or the connection broke before the OPEN exchange): the
 *                ConnectRetryTimer runs the backoff, and on expiry we connect again (RFC 4271
 *                8.2.2, Active state, Event 9).
 *   OpenSent     our OPEN is out; HoldTimer at the large value (4 minutes) until the peer's OPEN.
 *   OpenConfirm  the peer's OPEN was valid and our KEEPALIVE is out; waiting for its KEEPALIVE.
 *   Established  only after the peer's KEEPALIVE (RFC 4271 8.2.2, OpenConfirm, Event 26). MetalLB
 *                declares it after sending its own, so a peer that rejects our OPEN looks "up".
 * The HoldTimer runs in OpenSent, OpenConfirm and Established and is restarted by every message
 * received (RFC 4271 4.4 names KEEPALIVE and UPDATE; any message proves the peer alive).
 * Negotiated hold = min(ours, theirs); 0 means neither hold timer nor keepalives (RFC 4271 4.2).
 *
 * Backoff: each failure doubles the delay (from backoff_min to backoff_max, +-25% jitter). The
 * count goes back to zero only when a session that ends had been Established for stable_ms, so a
 * peer that accepts the OPEN and then closes cannot make us loop fast (MetalLB resets its backoff
 * on every OPEN exchange). ManualStop clears it (RFC 4271 8.2.2: ConnectRetryCounter = 0). */
#include "fsm.h"

#include <string.h>

#include "msg.h"

#define DEF_CONNECT_S   10
#define DEF_BACKOFF_MIN 1000u
#define DEF_BACKOFF_MAX 120000u
#define DEF_STABLE_MS   60000u

void bgp_fsm_init(struct bgp_fsm *f, const struct bgp_fsm_cfg *cfg, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	if (f->cfg.connect_time_s == 0)
		f->cfg.connect_time_s = DEF_CONNECT_S;
	if (f->cfg.backoff_min_ms == 0)
		f->cfg.backoff_min_ms = DEF_BACKOFF_MIN;
	if (f->cfg.backoff_max_ms == 0)
		f->cfg.backoff_max_ms = DEF_BACKOFF_MAX;
	if (f->cfg.backoff_max_ms < f->cfg.backoff_min_ms)
		f->cfg.backoff_max_ms = f->cfg.backoff_min_ms;
	if (f->cfg.stable_ms == 0)
		f->cfg.stable_ms = DEF_STABLE_MS;
	f->state = BGP_IDLE;
	f->stopped = true;
	f->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
}

static void add(struct bgp_actions *out, enum bgp_action_type t, enum bgp_timer tm, uint64_t ms,
		uint8_t code, uint8_t sub)
{
	if (out->n >= BGP_ACTIONS_MAX)
		return; /* cannot happen: no transition emits more than BGP_ACTIONS_MAX */
	struct bgp_action *a = &out->a[out->n++];
	a->type = t;
	a->timer = tm;
	a->ms = ms;
	a->code = code;
	a->subcode = sub;
}

static void act(struct bgp_actions *out, enum bgp_action_type t)
{
	add(out, t, 0, 0, 0, 0);
}

static void arm(struct bgp_actions *out, enum bgp_timer t, uint64_t ms)
{
	add(out, BGP_A_ARM, t, ms, 0, 0);
}

static void cancel(struct bgp_actions *out, enum bgp_timer t)
{
	add(out, BGP_A_CANCEL, t, 0, 0, 0);
}

static void notify(struct bgp_actions *out, uint8_t code, uint8_t sub)
{
	add(out, BGP_A_SEND_NOTIFICATION, 0, 0, code, sub);
}

uint64_t bgp_fsm_backoff_ms(const struct bgp_fsm *f)
{
	uint64_t d = f->cfg.backoff_min_ms;
	for (uint32_t i = 0; i < f->failures && d < f->cfg.backoff_max_ms; i++)
		d *= 2;
	return d < f->cfg.backoff_max_ms ? d : f->cfg.backoff_max_ms;
}

static uint32_t rnd(struct bgp_fsm *f)
{
	uint64_t x = f->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	f->rng = x;
	return (uint32_t)(x >> 32);
}

/* Count a failure and return the jittered delay before the next attempt. */
static uint64_t next_delay(struct bgp_fsm *f)
{
	uint64_t d = bgp_fsm_backoff_ms(f);
	if (f->failures < UINT32_MAX)
		f->failures++;
	uint64_t span = d * BGP_BACKOFF_JITTER_PCT / 100;
	if (span > 0)
		d = d - span + rnd(f) % (2 * span + 1);
	return d;
}

static void start_connect(struct bgp_fsm *f, struct bgp_actions *out)
{
	act(out, BGP_A_CONNECT);
	arm(out, BGP_T_CONNECT_RETRY, (uint64_t)f->cfg.connect_time_s * 1000);
	f->state = BGP_CONNECT;
}

/* Leave a connected state for Idle. restart: arm the IdleHoldTimer with the backoff. */
static void to_idle(struct bgp_fsm *f, struct bgp_actions *out, uint64_t now, bool restart)
{
	cancel(out, BGP_T_CONNECT_RETRY);
	cancel(out, BGP_T_HOLD);
	cancel(out, BGP_T_KEEPALIVE);
	if (f->state == BGP_ESTABLISHED) {
		act(out, BGP_A_DOWN);
		if (now - f->established_at >= f->cfg.stable_ms)
			f->failures = 0;
	}
	f->state = BGP_IDLE;
	f->hold_ms = f->keepalive_ms = 0;
	if (restart && !f->stopped)
		arm(out, BGP_T_IDLE_HOLD, next_delay(f));
	else
		cancel(out, BGP_T_IDLE_HOLD);
}

/* A fault after the TCP connection exists: optional NOTIFICATION, close, Idle with backoff. */
static void fail(struct bgp_fsm *f, struct bgp_actions *out, uint64_t now, bool send,
		 uint8_t code, uint8_t sub)
{
	if (send)
		notify(out, code, sub);
	act(out, BGP_A_DROP);
	to_idle(f, out, now, true);
}

/* Connect failed or the connection broke before the OPEN exchange ended: Active, retry later. */
static void to_active(struct bgp_fsm *f, struct bgp_actions *out)
{
	act(out, BGP_A_DROP);
	cancel(out, BGP_T_HOLD);
	cancel(out, BGP_T_KEEPALIVE);
	arm(out, BGP_T_CONNECT_RETRY, next_delay(f));
	f->state = BGP_ACTIVE;
}

static bool connected(enum bgp_state s)
{
	return s == BGP_OPENSENT || s == BGP_OPENCONFIRM || s == BGP_ESTABLISHED;
}

/* RFC 6608 4: the FSM Error subcode names the state the unexpected message arrived in. */
static uint8_t fsm_sub(enum bgp_state s)
{
	return s == BGP_OPENSENT      ? BGP_FSM_IN_OPENSENT
	       : s == BGP_OPENCONFIRM ? BGP_FSM_IN_OPENCONFIRM
				      : BGP_FSM_IN_ESTABLISHED;
}

static void restart_hold(struct bgp_fsm *f, struct bgp_actions *out)
{
	if (f->hold_ms > 0)
		arm(out, BGP_T_HOLD, f->hold_ms);
}

enum bgp_state bgp_fsm_event(struct bgp_fsm *f, const struct bgp_event *ev, uint64_t now_ms,
			     struct bgp_actions *out)
{
	enum bgp_state s = f->state;

	out->n = 0;
	switch (ev->type) {
	case BGP_EV_MANUAL_START:
		f->stopped = false;
		if (s == BGP_IDLE) {
			cancel(out, BGP_T_IDLE_HOLD);
			start_connect(f, out);
		}
		break;
	case BGP_EV_MANUAL_STOP:
		f->stopped = true;
		if (connected(s)) /* RFC 4271 8.2.2 Event 2; RFC 8203: Administrative Shutdown */
			notify(out, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN);
		if (s != BGP_IDLE)
			act(out, BGP_A_DROP);
		to_idle(f, out, now_ms, false);
		f->failures = 0;
		break;
	case BGP_EV_IDLE_HOLD_EXPIRES:
		if (s == BGP_IDLE && !f->stopped)
			start_connect(f, out); /* RFC 4271 8.1.1: automatic start after IdleHoldTime */
		break;
	case BGP_EV_CONNECT_RETRY_EXPIRES:
		if (s == BGP_CONNECT)
			to_active(f, out); /* the connect took too long: count it as a failure */
		else if (s == BGP_ACTIVE)
			start_connect(f, out);
		break;
	case BGP_EV_TCP_CONNECTED:
		if (s == BGP_CONNECT) {
			cancel(out, BGP_T_CONNECT_RETRY);
			act(out, BGP_A_SEND_OPEN);
			arm(out, BGP_T_HOLD, BGP_LARGE_HOLD_MS);
			f->state = BGP_OPENSENT;
		}
		break;
	case BGP_EV_TCP_FAILS:
		if (s == BGP_CONNECT || s == BGP_OPENSENT) /* RFC 4271 8.2.2 OpenSent Event 18 */
			to_active(f, out);
		else if (s == BGP_OPENCONFIRM || s == BGP_ESTABLISHED)
			fail(f, out, now_ms, false, 0, 0);
		break;
	case BGP_EV_OPEN:
		if (s == BGP_OPENSENT) {
			uint32_t hold = f->cfg.hold_time_s < ev->peer_hold ? f->cfg.hold_time_s
									   : ev->peer_hold;
			f->hold_ms = hold * 1000;
			f->keepalive_ms = f->hold_ms / 3;
			if (f->cfg.keepalive_s > 0 && f->cfg.keepalive_s * 1000ull < f->keepalive_ms)
				f->keepalive_ms = f->cfg.keepalive_s * 1000;
			act(out, BGP_A_SEND_KEEPALIVE);
			if (f->hold_ms > 0) {
				arm(out, BGP_T_KEEPALIVE, f->keepalive_ms);
				arm(out, BGP_T_HOLD, f->hold_ms);
			} else {
				cancel(out, BGP_T_HOLD);
			}
			f->state = BGP_OPENCONFIRM;
		} else if (s == BGP_OPENCONFIRM || s == BGP_ESTABLISHED) {
			/* one connection only, so no collision to resolve: a second OPEN is an error */
			fail(f, out, now_ms, true, BGP_ERR_FSM, fsm_sub(s));
		}
		break;
	case BGP_EV_MSG_ERROR:
		if (connected(s))
			fail(f, out, now_ms, true, ev->code, ev->subcode);
		break;
	case BGP_EV_NOTIFICATION: /* RFC 4271 6.4: never answered with a NOTIFICATION */
		if (connected(s))
			fail(f, out, now_ms, false, 0, 0);
		break;
	case BGP_EV_KEEPALIVE:
		if (s == BGP_OPENSENT) {
			fail(f, out, now_ms, true, BGP_ERR_FSM, fsm_sub(s));
		} else if (s == BGP_OPENCONFIRM) {
			restart_hold(f, out);
			f->state = BGP_ESTABLISHED;
			f->established_at = now_ms;
			act(out, BGP_A_UP);
		} else if (s == BGP_ESTABLISHED) {
			restart_hold(f, out);
		}
		break;
	case BGP_EV_UPDATE:
	case BGP_EV_ROUTE_REFRESH:
		if (s == BGP_OPENSENT || s == BGP_OPENCONFIRM) {
			fail(f, out, now_ms, true, BGP_ERR_FSM, fsm_sub(s));
		} else if (s == BGP_ESTABLISHED) {
			restart_hold(f, out);
			if (ev->type == BGP_EV_ROUTE_REFRESH)
				act(out, BGP_A_RESEND);
		}
		break;
	case BGP_EV_HOLD_EXPIRES:
		if (connected(s)) /* RFC 4271 6.5 */
			fail(f, out, now_ms, true, BGP_ERR_HOLD, 0);
		break;
	case BGP_EV_KEEPALIVE_EXPIRES:
		if ((s == BGP_OPENCONFIRM || s == BGP_ESTABLISHED) && f->keepalive_ms > 0) {
			act(out, BGP_A_SEND_KEEPALIVE);
			arm(out, BGP_T_KEEPALIVE, f->keepalive_ms);
		}
		break;
	}
	return f->state;
}

const char *bgp_state_name(enum bgp_state s)
{
	static const char *const n[] = {"Idle", "Connect", "Active", "OpenSent", "OpenConfirm",
					"Established"};
	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

const char *bgp_event_name(enum bgp_event_type e)
{
	static const char *const n[] = {"ManualStart", "ManualStop", "ConnectRetryTimerExpires",
					"HoldTimerExpires", "KeepaliveTimerExpires",
					"IdleHoldTimerExpires", "TcpConnected", "TcpConnectionFails",
					"OpenMsg", "MsgError", "NotifMsg", "KeepAliveMsg", "UpdateMsg",
					"RouteRefreshMsg"};
	return (unsigned)e < sizeof(n) / sizeof(n[0]) ? n[e] : "?";
}

const char *bgp_timer_name(enum bgp_timer t)
{
	static const char *const n[] = {"connect-retry", "hold", "keepalive", "idle-hold"};
	return (unsigned)t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}
