/* SPDX-License-Identifier: Apache-2.0 */
/* bgp/msg: pure BGP-4 wire codec (RFC 4271, 4760, 6793, 2918, 4724, 1997, 8092, 7606, 8203):
 * build OPEN/UPDATE/NOTIFICATION/KEEPALIVE/ROUTE-REFRESH, parse and validate received messages and
 * say which NOTIFICATION a fault deserves. No I/O, no globals; every read goes through buf. */
#ifndef BARELB_SPEAKER_BGP_MSG_H
#define BARELB_SPEAKER_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"
#include "barelb/buf.h"

/* ---------- protocol numbers ---------- */

#define BGP_MARKER_LEN      16    /* RFC 4271 4.1: all ones */
#define BGP_HDR_LEN         19    /* RFC 4271 4.1: marker, length, type */
#define BGP_MAX_MSG         4096  /* RFC 4271 4.1 (no RFC 8654 extended messages) */
#define BGP_OPEN_MIN        29    /* RFC 4271 4.2 */
#define BGP_UPDATE_MIN      23    /* RFC 4271 4.3 */
#define BGP_NOTIFICATION_MIN 21   /* RFC 4271 4.5 */
#define BGP_KEEPALIVE_LEN   19    /* RFC 4271 4.4 */
#define BGP_ROUTE_REFRESH_LEN 23  /* RFC 2918 3 */
#define BGP_VERSION         4     /* RFC 4271 4.2 */
#define BGP_AS_TRANS        23456 /* RFC 6793 9 */
#define BGP_PORT            179   /* RFC 4271 2 */
#define BGP_HOLD_MIN        3     /* RFC 4271 4.2: 0 or at least 3 seconds */

enum bgp_type { /* RFC 4271 4.1, RFC 2918 3 */
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes (RFC 4271 4.5, RFC 7313 5) and subcodes. Subcode 0 is "unspecific"
 * (RFC 4271 4.5: used when no specific subcode fits). */
enum {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_ROUTE_REFRESH = 7,
};
enum { /* RFC 4271 6.1 */
	BGP_HDR_NOT_SYNC = 1,
	BGP_HDR_BAD_LENGTH = 2,
	BGP_HDR_BAD_TYPE = 3,
};
enum { /* RFC 4271 6.2, RFC 5492 5 */
	BGP_OPEN_UNSUP_VERSION = 1,
	BGP_OPEN_BAD_PEER_AS = 2,
	BGP_OPEN_BAD_BGP_ID = 3,
	BGP_OPEN_UNSUP_OPT_PARAM = 4,
	BGP_OPEN_BAD_HOLD = 6,
	BGP_OPEN_UNSUP_CAPABILITY = 7,
};
enum { /* RFC 4271 6.3 */
	BGP_UPD_MALFORMED_ATTR_LIST = 1,
	BGP_UPD_UNRECOGNIZED_WELLKNOWN = 2,
	BGP_UPD_MISSING_WELLKNOWN = 3,
	BGP_UPD_ATTR_FLAGS = 4,
	BGP_UPD_ATTR_LENGTH = 5,
	BGP_UPD_INVALID_ORIGIN = 6,
	BGP_UPD_INVALID_NEXT_HOP = 8,
	BGP_UPD_OPTIONAL_ATTR = 9,
	BGP_UPD_INVALID_NETWORK = 10,
	BGP_UPD_MALFORMED_AS_PATH = 11,
};
enum { /* RFC 6608 4 */
	BGP_FSM_IN_OPENSENT = 1,
	BGP_FSM_IN_OPENCONFIRM = 2,
	BGP_FSM_IN_ESTABLISHED = 3,
};
enum { /* RFC 4486 4 */
	BGP_CEASE_MAX_PREFIXES = 1,
	BGP_CEASE_ADMIN_SHUTDOWN = 2,
	BGP_CEASE_PEER_DECONFIGURED = 3,
	BGP_CEASE_ADMIN_RESET = 4,
	BGP_CEASE_CONNECTION_REJECTED = 5,
	BGP_CEASE_CONFIG_CHANGE = 6,
	BGP_CEASE_COLLISION = 7,
	BGP_CEASE_OUT_OF_RESOURCES = 8,
};
enum { /* RFC 7313 5 */
	BGP_RR_BAD_LENGTH = 1,
};

/* Address families (RFC 4760 3; IANA AFI/SAFI registries). */
#define BGP_AFI_IPV4      1
#define BGP_AFI_IPV6      2
#define BGP_SAFI_UNICAST  1

/* ---------- errors ---------- */

/* What RFC 7606 says to do about a fault in a received message. */
enum bgp_verdict {
	BGP_OK = 0,
	BGP_ATTR_DISCARD,      /* RFC 7606 2: drop the attribute, keep the message */
	BGP_TREAT_AS_WITHDRAW, /* RFC 7606 2: the message's routes count as withdrawn; session stays */
	BGP_RESET,             /* send the NOTIFICATION below and close the session */
};

#define BGP_ERR_DATA_MAX 256 /* NOTIFICATION data kept; longer offending attributes are cut */

struct bgp_err {
	enum bgp_verdict verdict;
	uint8_t code, subcode;        /* the NOTIFICATION (for RESET; RFC 4271's code otherwise) */
	uint8_t data[BGP_ERR_DATA_MAX];
	size_t data_len;
	const char *why;              /* static text for logs */
};

/* ---------- header and framing ---------- */

/* Check a header (RFC 4271 6.1): marker, 19 <= length <= 4096, known type, and the per-type length
 * bounds. p must hold at least BGP_HDR_LEN bytes. Returns 0 with *len and *type, or -1 with *err
 * (verdict RESET). The session uses this to frame the byte stream. */
int bgp_hdr_parse(const uint8_t *p, size_t n, uint16_t *len, uint8_t *type, struct bgp_err *err);

/* ---------- OPEN ---------- */

struct bgp_open {
	uint8_t version;
	uint16_t my_as;            /* the 2-octet field (AS_TRANS for 4-octet ASes) */
	uint32_t asn;              /* the real AS: from the 4-octet AS capability, else my_as */
	uint16_t hold_time;        /* seconds */
	uint32_t bgp_id;           /* host order */
	bool has_caps;             /* a capabilities optional parameter was present (RFC 5492) */
	bool cap_as4;              /* RFC 6793 */
	bool cap_mp_ipv4, cap_mp_ipv6; /* RFC 4760 unicast */
	bool cap_route_refresh;    /* RFC 2918 (code 2) */
	bool cap_gr;               /* RFC 4724 */
	bool gr_restarting;        /* R bit */
	uint16_t gr_time;          /* restart time, seconds (12 bits) */
	bool gr_ipv4, gr_ipv4_fwd; /* IPv4 unicast listed, and its forwarding-state flag */
	bool gr_ipv6, gr_ipv6_fwd;
};

/* Build an OPEN from o (version, my_as and has_caps are derived: my_as = asn or AS_TRANS; every
 * cap_* that is true is sent; a graceful-restart capability lists the AFIs whose gr_* is true).
 * Returns the message length, or -1 if cap is too small. */
int bgp_open_build(const struct bgp_open *o, uint8_t *out, size_t cap);

/* Parse and check a whole OPEN message (header included): RFC 4271 6.2 version, hold time 1-2,
 * BGP identifier 0, optional parameter and capability syntax (RFC 5492, RFC 9072 extended
 * parameters). Unknown capabilities are ignored. Returns 0, or -1 with *err (verdict RESET). */
int bgp_open_parse(const uint8_t *p, size_t n, struct bgp_open *o, struct bgp_err *err);

/* Checks that need the session's view (RFC 4271 6.2, RFC 6286 2.2): the peer's AS is peer_as, and
 * its BGP identifier differs from ours on an iBGP session. Returns 0, or -1 with *err. */
int bgp_open_check(const struct bgp_open *o, uint32_t peer_as, uint32_t local_id, bool ibgp,
		   struct bgp_err *err);

/* What both sides agreed on. */
struct bgp_caps {
	bool as4;           /* both sent the 4-octet AS capability */
	bool ipv4, ipv6;    /* unicast AFIs exchanged (IPv4 implied when the peer sent no MP cap) */
	bool route_refresh; /* the peer can receive ROUTE-REFRESH */
	bool gr;            /* both sent graceful restart: End-of-RIB markers are expected */
	uint16_t hold_time; /* min(ours, theirs) seconds; 0 = no hold timer, no keepalives */
};
void bgp_caps_negotiate(const struct bgp_open *ours, const struct bgp_open *theirs,
			struct bgp_caps *out);

/* ---------- UPDATE build ---------- */

struct bgp_large_community { /* RFC 8092 3 */
	uint32_t global, local1, local2;
};

/* The session's side of the encoding. */
struct bgp_enc {
	uint32_t local_as;
	bool ibgp;   /* empty AS_PATH and LOCAL_PREF (RFC 4271 5.1.2, 5.1.5) */
	bool as4;    /* 4-octet AS_PATH; else 2-octet with AS_TRANS and AS4_PATH when needed */
};

/* The attributes of a group of routes (all prefixes of one UPDATE share them). */
struct bgp_attrs {
	bool has_local_pref;   /* sent on iBGP only */
	uint32_t local_pref;
	const uint32_t *communities; /* RFC 1997 */
	size_t n_communities;
	const struct bgp_large_community *large; /* RFC 8092 */
	size_t n_large;
	addr_t next_hop;       /* IPv4 NLRI: an IPv4 next hop. IPv6 NLRI: the global IPv6 next hop */
	bool has_ll;           /* IPv6 only: add the link-local next hop (RFC 2545 3) */
	addr_t next_hop_ll;
};

/* Build one UPDATE that announces as many of p[0..n) as fit into BGP_MAX_MSG (and cap) with the
 * attributes a. All prefixes must be of family `family` (IPv4: NLRI field; IPv6: MP_REACH_NLRI).
 * Returns the message length and sets *used (>= 1), or -1 when the attributes alone do not fit or
 * the input is inconsistent (wrong family of a prefix or next hop). */
int bgp_update_build(const struct bgp_enc *e, const struct bgp_attrs *a, int family,
		     const prefix_t *p, size_t n, size_t *used, uint8_t *out, size_t cap);

/* Build one UPDATE that withdraws as many of p[0..n) as fit (IPv4: Withdrawn Routes; IPv6:
 * MP_UNREACH_NLRI). Returns the length and *used, or -1. */
int bgp_withdraw_build(int family, const prefix_t *p, size_t n, size_t *used, uint8_t *out,
		       size_t cap);

/* End-of-RIB (RFC 4724 2): an empty UPDATE for IPv4, an empty MP_UNREACH_NLRI for IPv6. */
int bgp_eor_build(int family, uint8_t *out, size_t cap);

/* Bytes one prefix takes in NLRI encoding (RFC 4271 4.3): 1 + ceil(len/8). */
size_t bgp_prefix_wire_len(const prefix_t *p);

/* ---------- UPDATE parse ---------- */

/* What the session needs to know to read an UPDATE. */
struct bgp_dec {
	bool as4;         /* AS_PATH carries 4-octet ASes */
	bool ibgp;        /* LOCAL_PREF is allowed */
	uint32_t peer_as; /* eBGP: the first AS of AS_PATH must be this (RFC 4271 6.3); 0 = no check */
};

/* Path attribute type codes (RFC 4271 5, RFC 1997, RFC 4456, RFC 4760, RFC 6793, RFC 8092). */
enum {
	BGP_ATTR_ORIGIN = 1,
	BGP_ATTR_AS_PATH = 2,
	BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5,
	BGP_ATTR_ATOMIC_AGGREGATE = 6,
	BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8,
	BGP_ATTR_ORIGINATOR_ID = 9,
	BGP_ATTR_CLUSTER_LIST = 10,
	BGP_ATTR_MP_REACH = 14,
	BGP_ATTR_MP_UNREACH = 15,
	BGP_ATTR_AS4_PATH = 17,
	BGP_ATTR_AS4_AGGREGATOR = 18,
	BGP_ATTR_LARGE_COMMUNITY = 32,
};

#define BGP_AS_PATH_MAX 64 /* ASes kept in struct bgp_update; longer paths are counted, not kept */

/* A decoded UPDATE. The readers point into the message bytes: valid while they live. Prefix
 * lists have been validated: bgp_prefix_next() on them succeeds until they are empty. */
struct bgp_update {
	struct buf_reader withdrawn;   /* IPv4 */
	struct buf_reader nlri;        /* IPv4 */
	int mp_reach_family;           /* AF_INET6/AF_INET, 0 = no MP_REACH_NLRI (or unknown AFI) */
	struct buf_reader mp_reach;    /* prefixes of MP_REACH_NLRI */
	int mp_unreach_family;
	struct buf_reader mp_unreach;
	size_t n_withdrawn, n_nlri, n_mp_reach, n_mp_unreach;
	bool eor;                      /* End-of-RIB marker (RFC 4724 2) */
	int eor_family;
	uint64_t seen;                 /* bit t set when attribute type t (< 64) was present */
	uint8_t origin;
	uint32_t as_path[BGP_AS_PATH_MAX];
	size_t as_path_len;            /* ASes in the path (may exceed BGP_AS_PATH_MAX) */
	addr_t next_hop;               /* NEXT_HOP */
	addr_t mp_next_hop, mp_next_hop_ll; /* MP_REACH_NLRI next hops (ll family 0 if absent) */
	uint32_t med, local_pref;
	struct buf_reader communities; /* 4 bytes each */
	size_t n_communities;
	struct buf_reader large;       /* 12 bytes each */
	size_t n_large;
};

/* Parse and validate a whole UPDATE (header included) per RFC 4271 6.3 and RFC 7606. Returns the
 * verdict: BGP_OK, or the most severe fault found with *err filled (BGP_RESET: send err's
 * NOTIFICATION; the others are logged and the routes ignored, which is all barelb does with a
 * peer's routes anyway). */
enum bgp_verdict bgp_update_parse(const uint8_t *p, size_t n, const struct bgp_dec *d,
				  struct bgp_update *u, struct bgp_err *err);

/* Read the next prefix of an NLRI field. Returns 0, or -1 at the end or on a bad encoding. */
int bgp_prefix_next(struct buf_reader *r, int family, prefix_t *out);
uint32_t bgp_update_community(const struct bgp_update *u, size_t i);
struct bgp_large_community bgp_update_large(const struct bgp_update *u, size_t i);

/* ---------- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ---------- */

struct bgp_notification {
	uint8_t code, subcode;
	const uint8_t *data;  /* into the message */
	size_t data_len;
	char shutdown_msg[256]; /* RFC 8203/9003 Shutdown Communication of Cease 2 and 4, "" if none;
				 * control characters are replaced by '?' so it can be logged */
};

int bgp_notification_build(uint8_t code, uint8_t subcode, const void *data, size_t data_len,
			   uint8_t *out, size_t cap);
/* Cease with a Shutdown Communication (RFC 9003 2): subcode 2 or 4, msg of at most 255 bytes. */
int bgp_shutdown_build(uint8_t subcode, const char *msg, uint8_t *out, size_t cap);
int bgp_notification_parse(const uint8_t *p, size_t n, struct bgp_notification *m,
			   struct bgp_err *err);

int bgp_keepalive_build(uint8_t *out, size_t cap);
int bgp_keepalive_parse(const uint8_t *p, size_t n, struct bgp_err *err);

struct bgp_route_refresh {
	uint16_t afi;
	uint8_t subtype; /* RFC 7313 3: 0 normal, 1 BoRR, 2 EoRR */
	uint8_t safi;
};
int bgp_route_refresh_build(uint16_t afi, uint8_t safi, uint8_t *out, size_t cap);
int bgp_route_refresh_parse(const uint8_t *p, size_t n, struct bgp_route_refresh *m,
			    struct bgp_err *err);

/* ---------- names for logs and barelbctl ---------- */

const char *bgp_type_name(uint8_t type);
/* "Cease/Administrative Shutdown", "OPEN Message Error/Bad Peer AS", ... or "code X/subcode Y"
 * written into buf. Returns buf. */
const char *bgp_err_name(uint8_t code, uint8_t subcode, char *buf, size_t n);

#endif
