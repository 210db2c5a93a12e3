/* SPDX-License-Identifier: Apache-2.0 */
/* bgp/fsm: pure RFC 4271 section 8 state machine of one BGP session. Events in, actions out; time
 * and randomness are passed in, no I/O. session.c carries out the actions. */
#ifndef BARELB_SPEAKER_BGP_FSM_H
#define BARELB_SPEAKER_BGP_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bgp_state { /* RFC 4271 8.2.2 */
	BGP_IDLE,
	BGP_CONNECT,
	BGP_ACTIVE,
	BGP_OPENSENT,
	BGP_OPENCONFIRM,
	BGP_ESTABLISHED,
};

enum bgp_event_type { /* RFC 4271 8.1 event numbers in brackets */
	BGP_EV_MANUAL_START,          /* [1] */
	BGP_EV_MANUAL_STOP,           /* [2] */
	BGP_EV_CONNECT_RETRY_EXPIRES, /* [9] */
	BGP_EV_HOLD_EXPIRES,          /* [10] */
	BGP_EV_KEEPALIVE_EXPIRES,     /* [11] */
	BGP_EV_IDLE_HOLD_EXPIRES,     /* [13] IdleHoldTimer: the backoff before an automatic restart */
	BGP_EV_TCP_CONNECTED,         /* [16]/[17] our connect() completed */
	BGP_EV_TCP_FAILS,             /* [18] connect failed, or the connection closed or broke */
	BGP_EV_OPEN,                  /* [19] a valid OPEN (peer_hold set) */
	BGP_EV_MSG_ERROR,             /* [21]/[22]/[28] a received message had a fault: code/subcode */
	BGP_EV_NOTIFICATION,          /* [24]/[25] */
	BGP_EV_KEEPALIVE,             /* [26] */
	BGP_EV_UPDATE,                /* [27] a valid UPDATE (or one RFC 7606 lets us keep going on) */
	BGP_EV_ROUTE_REFRESH,         /* RFC 2918 */
};

struct bgp_event {
	enum bgp_event_type type;
	uint16_t peer_hold;           /* BGP_EV_OPEN: the peer's hold time, seconds */
	uint8_t code, subcode;        /* BGP_EV_MSG_ERROR: the NOTIFICATION to send */
};

enum bgp_timer { BGP_T_CONNECT_RETRY, BGP_T_HOLD, BGP_T_KEEPALIVE, BGP_T_IDLE_HOLD, BGP_T_COUNT };

enum bgp_action_type {
	BGP_A_CONNECT,           /* open a socket and start a non-blocking connect */
	BGP_A_DROP,              /* close the connection (after flushing what is queued) */
	BGP_A_SEND_OPEN,
	BGP_A_SEND_KEEPALIVE,
	BGP_A_SEND_NOTIFICATION, /* code, subcode (the session adds data for message errors) */
	BGP_A_ARM,               /* timer, ms */
	BGP_A_CANCEL,            /* timer */
	BGP_A_UP,                /* entered Established: send the whole table, then End-of-RIB */
	BGP_A_DOWN,              /* left Established: forget the Adj-RIB-Out */
	BGP_A_RESEND,            /* ROUTE-REFRESH: send the table again */
};

struct bgp_action {
	enum bgp_action_type type;
	enum bgp_timer timer;
	uint64_t ms;
	uint8_t code, subcode;
};

#define BGP_ACTIONS_MAX 12
struct bgp_actions {
	size_t n;
	struct bgp_action a[BGP_ACTIONS_MAX];
};

struct bgp_fsm_cfg {
	uint32_t hold_time_s;      /* what we offer: 0 (no hold timer) or >= 3 */
	uint32_t keepalive_s;      /* 0 = negotiated hold / 3; else min(this, hold / 3) */
	uint32_t connect_time_s;   /* how long one TCP connect may take; 0 = 10 */
	uint32_t backoff_min_ms;   /* first retry delay; 0 = 1000 */
	uint32_t backoff_max_ms;   /* 0 = 120000 */
	uint32_t stable_ms;        /* Established this long resets the backoff; 0 = 60000 */
};

struct bgp_fsm {
	struct bgp_fsm_cfg cfg;
	enum bgp_state state;
	bool stopped;              /* ManualStop: no automatic restart */
	uint32_t failures;         /* consecutive failures since the last stable session */
	uint64_t established_at;   /* ms, valid in Established */
	uint32_t hold_ms;          /* negotiated, 0 = none */
	uint32_t keepalive_ms;
	uint64_t rng;              /* xorshift state for jitter */
};

/* Hold time before the OPEN is received (RFC 4271 8.2.2: "a large value", 4 minutes suggested). */
#define BGP_LARGE_HOLD_MS (240u * 1000u)
#define BGP_BACKOFF_JITTER_PCT 25

void bgp_fsm_init(struct bgp_fsm *f, const struct bgp_fsm_cfg *cfg, uint64_t seed);
/* Feed one event at time now_ms; out receives the actions in the order to carry them out. Returns
 * the new state. Events that make no sense in a state (a stale timer) change nothing. */
enum bgp_state bgp_fsm_event(struct bgp_fsm *f, const struct bgp_event *ev, uint64_t now_ms,
			     struct bgp_actions *out);

/* The delay the next failure would get, without jitter (for logs and tests). */
uint64_t bgp_fsm_backoff_ms(const struct bgp_fsm *f);

const char *bgp_state_name(enum bgp_state s);
const char *bgp_event_name(enum bgp_event_type e);
const char *bgp_timer_name(enum bgp_timer t);

#endif
