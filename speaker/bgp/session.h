/* SPDX-License-Identifier: Apache-2.0 */
/* bgp/session: one BGP session to one peer over a non-blocking TCP socket in the loop: framing,
 * timers, send queue, Adj-RIB-Out and incremental UPDATEs. The announcer (plan.c) hands it the
 * routes this peer should have; the session sends only the difference. */
#ifndef BARELB_SPEAKER_BGP_SESSION_H
#define BARELB_SPEAKER_BGP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"
#include "barelb/loop.h"
#include "fsm.h"
#include "msg.h"

struct bgp_session;

/* Called after every state change (optional), e.g. for logs and metrics. */
typedef void (*bgp_session_state_cb)(struct bgp_session *s, enum bgp_state from,
				     enum bgp_state to, void *arg);
/* Called once when a stopped session has closed its connection. */
typedef void (*bgp_session_done_cb)(struct bgp_session *s, void *arg);

/* A BGPPeer, as the session needs it. Everything is copied by bgp_session_new. */
struct bgp_session_cfg {
	const char *name;          /* for logs ("peer=NAME"); NULL = the peer address */
	uint32_t local_as;         /* myASN */
	uint32_t peer_as;          /* peerASN; == local_as makes the session iBGP */
	addr_t peer_addr;          /* peerAddress */
	bool has_source_addr;      /* sourceAddress: bind() the socket to it */
	addr_t source_addr;
	uint16_t peer_port;        /* 0 = 179 */
	uint32_t hold_time_s;      /* offered hold time: 0 (none) or >= 3; the config default is 90 */
	uint32_t keepalive_s;      /* 0 = negotiated hold / 3 */
	uint32_t connect_time_s;   /* limit of one TCP connect attempt; 0 = 10 */
	uint32_t router_id;        /* BGP identifier, host order; 0 = the local IPv4 address of the
				    * connection (an IPv6-only session then needs one set) */
	const char *password;      /* TCP-MD5 key (RFC 2385), NULL or "" = none; at most 80 bytes */
	bool ebgp_multihop;        /* eBGP: TTL 255 instead of 1. iBGP always uses 255 */
	bool graceful_restart;     /* advertise RFC 4724 and send End-of-RIB */
	uint16_t gr_restart_time_s; /* 0 = 120 */
	/* Reconnect backoff: exponential with jitter, reset after stable_ms Established. 0 = the
	 * defaults of struct bgp_fsm_cfg (1 s, 120 s, 60 s). */
	uint32_t backoff_min_ms, backoff_max_ms, stable_ms;
	bgp_session_state_cb on_state;
	void *arg;
};

/* One route to announce. communities and large are read during the call only. */
struct bgp_route {
	prefix_t prefix;
	bool has_local_pref;       /* sent to iBGP peers only (RFC 4271 5.1.5) */
	uint32_t local_pref;
	const uint32_t *communities;
	size_t n_communities;
	const struct bgp_large_community *large;
	size_t n_large;
	bool has_next_hop;         /* default: the session's local address of the prefix's family; */
	addr_t next_hop;           /* an IPv6 prefix on an on-link IPv6 session also gets the
				    * interface's link-local address (RFC 2545 3) */
};

struct bgp_session_stats {
	enum bgp_state state;
	uint64_t uptime_ms;            /* time in Established, 0 when not */
	uint64_t established_count;    /* times the session reached Established */
	uint64_t prefixes_sent;        /* prefixes in the Adj-RIB-Out now */
	uint64_t prefixes_wanted;      /* routes given by set_routes */
	uint64_t prefixes_unsendable;  /* wanted but not sendable (family not negotiated, no next hop) */
	uint64_t updates_sent, updates_received;
	uint64_t messages_sent, messages_received;
	uint64_t notifications_sent, notifications_received;
	uint8_t last_sent_code, last_sent_subcode;
	uint8_t last_recv_code, last_recv_subcode;
	uint64_t malformed_received;   /* faults in received messages (all RFC 7606 verdicts) */
	uint16_t hold_time_s;          /* negotiated */
	struct bgp_caps caps;          /* negotiated, valid from OpenConfirm */
	uint32_t peer_id;              /* the peer's BGP identifier, host order */
	addr_t local_addr;             /* of the current connection (family 0 if none) */
	size_t out_queued;             /* bytes waiting for the socket */
	char last_error[160];          /* "" if none */
};

/* Create a session in Idle; nothing happens until bgp_session_start. NULL on bad cfg (logged). */
struct bgp_session *bgp_session_new(struct loop *l, const struct bgp_session_cfg *cfg);
/* ManualStart: connect now, and reconnect with backoff after failures until stopped. */
void bgp_session_start(struct bgp_session *s);
/* Replace the routes this peer should have (n may be 0 to withdraw everything). The session keeps
 * a copy, diffs it against its Adj-RIB-Out and sends only the changes when Established (grouped by
 * attributes, many prefixes per UPDATE, under send-queue back-pressure). A prefix given twice keeps
 * its first entry. Returns 0, or -1 on out of memory (the previous routes stay). */
int bgp_session_set_routes(struct bgp_session *s, const struct bgp_route *routes, size_t n);
/* ManualStop: NOTIFICATION Cease / Administrative Shutdown (RFC 8203) with a Shutdown
 * Communication, flush, close; the peer drops our routes at once, so no withdrawals are sent first.
 * done (may be NULL) runs from the loop once the connection is closed. */
void bgp_session_stop(struct bgp_session *s, bgp_session_done_cb done, void *arg);
/* For a restart of the speaker: when graceful restart was negotiated, close the connection without
 * a NOTIFICATION so that the peer keeps our routes as stale for the restart time (RFC 4724 4.2);
 * otherwise the same as bgp_session_stop. */
void bgp_session_stop_graceful(struct bgp_session *s, bgp_session_done_cb done, void *arg);
/* Close at once, no NOTIFICATION, and free. NULL-safe. */
void bgp_session_free(struct bgp_session *s);

void bgp_session_stats(const struct bgp_session *s, struct bgp_session_stats *out);
enum bgp_state bgp_session_state(const struct bgp_session *s);
const char *bgp_session_name(const struct bgp_session *s);

#endif
