/* SPDX-License-Identifier: Apache-2.0 */
/* bgp/msg: BGP-4 message builders and validating parsers; every byte read through buf. */
#include "msg.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Attribute flag bits (RFC 4271 4.3). */
#define F_OPTIONAL   0x80
#define F_TRANSITIVE 0x40
#define F_PARTIAL    0x20
#define F_EXTLEN     0x10

/* AS_PATH segment types (RFC 4271 4.3, RFC 5065 3). */
#define SEG_AS_SET          1
#define SEG_AS_SEQUENCE     2
#define SEG_CONFED_SEQUENCE 3
#define SEG_CONFED_SET      4

#define ORIGIN_IGP        0 /* RFC 4271 5.1.1 */
#define ORIGIN_INCOMPLETE 2

/* OPEN optional parameter and capability codes (RFC 5492 4, IANA "Capability Codes"). */
#define OPT_CAPABILITIES  2
#define OPT_EXTENDED      255 /* RFC 9072 2: non-extended type 255 marks extended lengths */
#define CAP_MP            1   /* RFC 4760 8 */
#define CAP_ROUTE_REFRESH 2   /* RFC 2918 2 */
#define CAP_GR            64  /* RFC 4724 3 */
#define CAP_AS4           65  /* RFC 6793 3 */
#define GR_RESTART_BIT    0x8000 /* RFC 4724 3 "R" */
#define GR_TIME_MASK      0x0fff
#define GR_FWD_BIT        0x80   /* RFC 4724 3 "F" per AFI */

/* ---------- errors ---------- */

static int set_err(struct bgp_err *e, enum bgp_verdict v, uint8_t code, uint8_t sub,
		   const void *data, size_t dlen, const char *why)
{
	e->verdict = v;
	e->code = code;
	e->subcode = sub;
	if (dlen > sizeof(e->data))
		dlen = sizeof(e->data);
	if (dlen > 0)
		memcpy(e->data, data, dlen);
	e->data_len = dlen;
	e->why = why;
	return -1;
}

/* Keep the most severe fault (RFC 7606 3(a): the strongest approach wins); among equals, the
 * first one found. */
static void note(struct bgp_err *e, enum bgp_verdict v, uint8_t code, uint8_t sub,
		 const void *data, size_t dlen, const char *why)
{
	if (v > e->verdict)
		set_err(e, v, code, sub, data, dlen, why);
}

static void clear_err(struct bgp_err *e)
{
	e->verdict = BGP_OK;
	e->code = e->subcode = 0;
	e->data_len = 0;
	e->why = "";
}

/* ---------- header ---------- */

static size_t min_len(uint8_t type)
{
	switch (type) {
	case BGP_OPEN: return BGP_OPEN_MIN;
	case BGP_UPDATE: return BGP_UPDATE_MIN;
	case BGP_NOTIFICATION: return BGP_NOTIFICATION_MIN;
	case BGP_KEEPALIVE: return BGP_KEEPALIVE_LEN;
	case BGP_ROUTE_REFRESH: return BGP_ROUTE_REFRESH_LEN;
	default: return BGP_HDR_LEN;
	}
}

int bgp_hdr_parse(const uint8_t *p, size_t n, uint16_t *len, uint8_t *type, struct bgp_err *err)
{
	struct buf_reader r;
	uint8_t marker[BGP_MARKER_LEN];
	uint16_t l;
	uint8_t t;

	clear_err(err);
	buf_reader_init(&r, p, n);
	if (buf_get_bytes(&r, marker, sizeof(marker)) < 0 || buf_get_u16(&r, &l) < 0 ||
	    buf_get_u8(&r, &t) < 0)
		return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, NULL, 0,
			       "message shorter than the header");
	for (size_t i = 0; i < sizeof(marker); i++) /* RFC 4271 6.1: marker all ones */
		if (marker[i] != 0xff)
			return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, NULL, 0,
				       "marker is not all ones");
	uint8_t lb[2] = {(uint8_t)(l >> 8), (uint8_t)l};
	/* RFC 4271 6.1: 19 <= length <= 4096; the data is the erroneous length field */
	if (l < BGP_HDR_LEN || l > BGP_MAX_MSG)
		return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, lb, 2,
			       "message length out of 19..4096");
	/* RFC 4271 6.1: unknown type; the data is the type field */
	if (t < BGP_OPEN || t > BGP_ROUTE_REFRESH)
		return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &t, 1,
			       "unknown message type");
	/* RFC 4271 6.1: per-type minimum, KEEPALIVE exactly 19 */
	if (l < min_len(t) || (t == BGP_KEEPALIVE && l != BGP_KEEPALIVE_LEN))
		return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, lb, 2,
			       "length does not fit the message type");
	*len = l;
	*type = t;
	return 0;
}

/* Check the header of a whole message of the expected type, and that n is exactly its length. */
static int whole(const uint8_t *p, size_t n, uint8_t want, struct buf_reader *body,
		 struct bgp_err *err)
{
	uint16_t len;
	uint8_t type;

	if (bgp_hdr_parse(p, n, &len, &type, err) < 0)
		return -1;
	if (type != want)
		return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &type, 1,
			       "unexpected message type");
	if (len != n) {
		uint8_t lb[2] = {(uint8_t)(len >> 8), (uint8_t)len};
		return set_err(err, BGP_RESET, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, lb, 2,
			       "length field disagrees with the bytes received");
	}
	buf_reader_init(body, p + BGP_HDR_LEN, n - BGP_HDR_LEN);
	return 0;
}

static void put_hdr(struct buf_writer *w, uint8_t type, size_t *len_at)
{
	uint8_t marker[BGP_MARKER_LEN];
	memset(marker, 0xff, sizeof(marker));
	buf_put_bytes(w, marker, sizeof(marker));
	buf_reserve(w, 2, len_at);
	buf_put_u8(w, type);
}

/* Patch the length field; -1 if any put failed. */
static int finish(struct buf_writer *w, size_t len_at)
{
	if (w->failed || buf_written(w) > BGP_MAX_MSG)
		return -1;
	buf_patch_u16(w, len_at, (uint16_t)buf_written(w));
	return w->failed ? -1 : (int)buf_written(w);
}

/* ---------- OPEN ---------- */

int bgp_open_build(const struct bgp_open *o, uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t len_at, opt_at, caps_at;

	buf_writer_init(&w, out, cap);
	put_hdr(&w, BGP_OPEN, &len_at);
	buf_put_u8(&w, BGP_VERSION);
	/* RFC 6793 4.1: a 4-octet AS goes as AS_TRANS in My Autonomous System */
	buf_put_u16(&w, o->asn > 0xffff ? BGP_AS_TRANS : (uint16_t)o->asn);
	buf_put_u16(&w, o->hold_time);
	buf_put_u32(&w, o->bgp_id);
	buf_reserve(&w, 1, &opt_at);
	/* One Capabilities parameter holding every capability (RFC 5492 4 allows either form). */
	buf_put_u8(&w, OPT_CAPABILITIES);
	buf_reserve(&w, 1, &caps_at);
	if (o->cap_mp_ipv4) {
		buf_put_u8(&w, CAP_MP);
		buf_put_u8(&w, 4);
		buf_put_u16(&w, BGP_AFI_IPV4);
		buf_put_u8(&w, 0);
		buf_put_u8(&w, BGP_SAFI_UNICAST);
	}
	if (o->cap_mp_ipv6) {
		buf_put_u8(&w, CAP_MP);
		buf_put_u8(&w, 4);
		buf_put_u16(&w, BGP_AFI_IPV6);
		buf_put_u8(&w, 0);
		buf_put_u8(&w, BGP_SAFI_UNICAST);
	}
	if (o->cap_route_refresh) {
		buf_put_u8(&w, CAP_ROUTE_REFRESH);
		buf_put_u8(&w, 0);
	}
	if (o->cap_gr) {
		uint8_t n = (uint8_t)((o->gr_ipv4 ? 1 : 0) + (o->gr_ipv6 ? 1 : 0));
		buf_put_u8(&w, CAP_GR);
		buf_put_u8(&w, (uint8_t)(2 + 4 * n));
		buf_put_u16(&w, (uint16_t)((o->gr_restarting ? GR_RESTART_BIT : 0) |
					   (o->gr_time & GR_TIME_MASK)));
		if (o->gr_ipv4) {
			buf_put_u16(&w, BGP_AFI_IPV4);
			buf_put_u8(&w, BGP_SAFI_UNICAST);
			buf_put_u8(&w, o->gr_ipv4_fwd ? GR_FWD_BIT : 0);
		}
		if (o->gr_ipv6) {
			buf_put_u16(&w, BGP_AFI_IPV6);
			buf_put_u8(&w, BGP_SAFI_UNICAST);
			buf_put_u8(&w, o->gr_ipv6_fwd ? GR_FWD_BIT : 0);
		}
	}
	if (o->cap_as4) {
		buf_put_u8(&w, CAP_AS4);
		buf_put_u8(&w, 4);
		buf_put_u32(&w, o->asn);
	}
	size_t caps_len = buf_written(&w) - caps_at - 1;
	buf_patch_u8(&w, caps_at, (uint8_t)caps_len);
	buf_patch_u8(&w, opt_at, (uint8_t)(caps_len + 2));
	return finish(&w, len_at);
}

static int open_bad(struct bgp_err *err, const char *why)
{
	/* RFC 4271 4.5: no specific subcode for a malformed parameter list */
	return set_err(err, BGP_RESET, BGP_ERR_OPEN, 0, NULL, 0, why);
}

static int parse_caps(struct buf_reader *r, struct bgp_open *o, uint32_t *as4, struct bgp_err *err)
{
	while (buf_left(r) > 0) {
		uint8_t code, len;
		struct buf_reader v;
		if (buf_get_u8(r, &code) < 0 || buf_get_u8(r, &len) < 0 || buf_get_sub(r, len, &v) < 0)
			return open_bad(err, "capability overruns its parameter");
		o->has_caps = true;
		switch (code) {
		case CAP_MP: { /* RFC 4760 8: AFI(2) reserved(1) SAFI(1) */
			uint16_t afi;
			uint8_t res, safi;
			if (len != 4 || buf_get_u16(&v, &afi) < 0 || buf_get_u8(&v, &res) < 0 ||
			    buf_get_u8(&v, &safi) < 0)
				return open_bad(err, "multiprotocol capability length is not 4");
			if (afi == BGP_AFI_IPV4 && safi == BGP_SAFI_UNICAST)
				o->cap_mp_ipv4 = true;
			else if (afi == BGP_AFI_IPV6 && safi == BGP_SAFI_UNICAST)
				o->cap_mp_ipv6 = true;
			break;
		}
		case CAP_ROUTE_REFRESH: /* RFC 2918 2: length 0 */
			if (len != 0)
				return open_bad(err, "route refresh capability length is not 0");
			o->cap_route_refresh = true;
			break;
		case CAP_GR: { /* RFC 4724 3: flags+time(2), then AFI(2) SAFI(1) flags(1) each */
			uint16_t ft;
			if (len < 2 || (len - 2) % 4 != 0 || buf_get_u16(&v, &ft) < 0)
				return open_bad(err, "graceful restart capability length");
			o->cap_gr = true;
			o->gr_restarting = (ft & GR_RESTART_BIT) != 0;
			o->gr_time = ft & GR_TIME_MASK;
			while (buf_left(&v) >= 4) {
				uint16_t afi;
				uint8_t safi, fl;
				buf_get_u16(&v, &afi);
				buf_get_u8(&v, &safi);
				buf_get_u8(&v, &fl);
				if (safi != BGP_SAFI_UNICAST)
					continue;
				if (afi == BGP_AFI_IPV4) {
					o->gr_ipv4 = true;
					o->gr_ipv4_fwd = (fl & GR_FWD_BIT) != 0;
				} else if (afi == BGP_AFI_IPV6) {
					o->gr_ipv6 = true;
					o->gr_ipv6_fwd = (fl & GR_FWD_BIT) != 0;
				}
			}
			break;
		}
		case CAP_AS4: /* RFC 6793 3: the 4-octet AS */
			if (len != 4 || buf_get_u32(&v, as4) < 0)
				return open_bad(err, "4-octet AS capability length is not 4");
			o->cap_as4 = true;
			break;
		default: /* RFC 5492 3: unknown capabilities are ignored */
			break;
		}
	}
	return 0;
}

int bgp_open_parse(const uint8_t *p, size_t n, struct bgp_open *o, struct bgp_err *err)
{
	struct buf_reader r, opts;
	uint8_t optlen;
	uint32_t as4 = 0;

	memset(o, 0, sizeof(*o));
	if (whole(p, n, BGP_OPEN, &r, err) < 0)
		return -1;
	/* the header check guaranteed the 10 fixed bytes */
	buf_get_u8(&r, &o->version);
	buf_get_u16(&r, &o->my_as);
	buf_get_u16(&r, &o->hold_time);
	buf_get_u32(&r, &o->bgp_id);
	buf_get_u8(&r, &optlen);
	if (o->version != BGP_VERSION) {
		/* RFC 4271 6.2: the data is the largest version we support, 2 octets */
		uint8_t v[2] = {0, BGP_VERSION};
		return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_UNSUP_VERSION, v, 2,
			       "unsupported BGP version");
	}
	if (o->my_as == 0) /* RFC 7607 2: AS 0 must not appear in an OPEN */
		return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0,
			       "peer AS is 0");
	if (o->hold_time == 1 || o->hold_time == 2) /* RFC 4271 6.2: 0 or >= 3 */
		return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD, NULL, 0,
			       "unacceptable hold time");
	if (o->bgp_id == 0) /* RFC 6286 2.2: a non-zero 4-octet unsigned integer */
		return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_BAD_BGP_ID, NULL, 0,
			       "BGP identifier is 0");
	uint8_t first;
	bool ext = optlen == OPT_EXTENDED && buf_peek_u8(&r, &first) == 0 && first == OPT_EXTENDED;
	if (ext) { /* RFC 9072 2: type 255, then a 2-octet length; parameters get 2-octet lengths */
		uint16_t elen;
		if (buf_skip(&r, 1) < 0 || buf_get_u16(&r, &elen) < 0 || buf_get_sub(&r, elen, &opts) < 0)
			return open_bad(err, "extended optional parameters overrun the message");
	} else if (buf_get_sub(&r, optlen, &opts) < 0) {
		return open_bad(err, "optional parameters overrun the message");
	}
	if (buf_left(&r) != 0)
		return open_bad(err, "bytes after the optional parameters");
	while (buf_left(&opts) > 0) {
		uint8_t type, l8;
		uint16_t plen;
		struct buf_reader v;
		if (buf_get_u8(&opts, &type) < 0)
			return open_bad(err, "optional parameter truncated");
		if (ext ? buf_get_u16(&opts, &plen) < 0 : buf_get_u8(&opts, &l8) < 0)
			return open_bad(err, "optional parameter truncated");
		if (!ext)
			plen = l8;
		if (buf_get_sub(&opts, plen, &v) < 0)
			return open_bad(err, "optional parameter overruns its field");
		if (type != OPT_CAPABILITIES) /* RFC 4271 6.2 (type 1, authentication, is gone) */
			return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_UNSUP_OPT_PARAM,
				       NULL, 0, "unsupported optional parameter");
		if (parse_caps(&v, o, &as4, err) < 0)
			return -1;
	}
	o->asn = o->my_as;
	if (o->cap_as4) {
		if (as4 == 0) /* RFC 7607 2 */
			return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0,
				       "4-octet AS capability carries AS 0");
		o->asn = as4;
	}
	clear_err(err);
	return 0;
}

int bgp_open_check(const struct bgp_open *o, uint32_t peer_as, uint32_t local_id, bool ibgp,
		   struct bgp_err *err)
{
	clear_err(err);
	if (o->asn != peer_as) /* RFC 4271 6.2 */
		return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0,
			       "peer AS differs from the configured peerASN");
	if (ibgp && o->bgp_id == local_id) /* RFC 6286 2.2: unique within the AS */
		return set_err(err, BGP_RESET, BGP_ERR_OPEN, BGP_OPEN_BAD_BGP_ID, NULL, 0,
			       "iBGP peer has our BGP identifier");
	return 0;
}

void bgp_caps_negotiate(const struct bgp_open *ours, const struct bgp_open *theirs,
			struct bgp_caps *out)
{
	memset(out, 0, sizeof(*out));
	out->as4 = ours->cap_as4 && theirs->cap_as4;
	/* RFC 4760 8 / RFC 4271: a peer that sends no MP capability speaks IPv4 unicast */
	bool their_mp = theirs->cap_mp_ipv4 || theirs->cap_mp_ipv6;
	out->ipv4 = ours->cap_mp_ipv4 && (theirs->cap_mp_ipv4 || !their_mp);
	out->ipv6 = ours->cap_mp_ipv6 && theirs->cap_mp_ipv6;
	out->route_refresh = theirs->cap_route_refresh;
	out->gr = ours->cap_gr && theirs->cap_gr;
	out->hold_time = ours->hold_time < theirs->hold_time ? ours->hold_time : theirs->hold_time;
}

/* ---------- prefixes ---------- */

size_t bgp_prefix_wire_len(const prefix_t *p)
{
	return 1 + ((size_t)p->len + 7) / 8;
}

static void put_prefix(struct buf_writer *w, const prefix_t *p)
{
	buf_put_u8(w, p->len);
	buf_put_bytes(w, p->a.b, ((size_t)p->len + 7) / 8);
}

int bgp_prefix_next(struct buf_reader *r, int family, prefix_t *out)
{
	uint8_t len;
	int bits = family == AF_INET ? 32 : 128;

	memset(out, 0, sizeof(*out));
	if (buf_get_u8(r, &len) < 0)
		return -1;
	/* RFC 4271 4.3 / RFC 4760 5: the length must fit the family */
	if (len > bits) {
		r->off--; /* leave the cursor on the bad prefix, as buf does on failure */
		return -1;
	}
	if (buf_get_bytes(r, out->a.b, ((size_t)len + 7) / 8) < 0) {
		r->off--;
		return -1;
	}
	out->a.family = (uint8_t)family;
	out->len = len;
	/* RFC 4271 4.3: trailing bits are irrelevant; keep prefixes canonical */
	addr_mask(&out->a, len);
	return 0;
}

/* Count the prefixes of a whole field; -1 if any is malformed. */
static long count_prefixes(struct buf_reader r, int family)
{
	prefix_t p;
	long n = 0;
	while (buf_left(&r) > 0) {
		if (bgp_prefix_next(&r, family, &p) < 0)
			return -1;
		n++;
	}
	return n;
}

/* ---------- UPDATE build ---------- */

static bool family_ok(int family, const prefix_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].a.family != family || p[i].len > (family == AF_INET ? 32 : 128))
			return false;
	return true;
}

static void put_attr_hdr(struct buf_writer *w, uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255)
		flags |= F_EXTLEN;
	buf_put_u8(w, flags);
	buf_put_u8(w, type);
	if (flags & F_EXTLEN)
		buf_put_u16(w, (uint16_t)len);
	else
		buf_put_u8(w, (uint8_t)len);
}

static size_t attr_hdr_len(size_t len)
{
	return len > 255 ? 4 : 3;
}

static void put_as(struct buf_writer *w, uint32_t as, bool as4)
{
	if (as4)
		buf_put_u32(w, as);
	else
		buf_put_u16(w, as > 0xffff ? BGP_AS_TRANS : (uint16_t)as);
}

/* Attributes that come after MP_REACH_NLRI in type order: AS4_PATH (17), LARGE_COMMUNITY (32). */
static bool need_as4_path(const struct bgp_enc *e)
{
	/* RFC 6793 4.2.2: to a 2-octet peer, a path with a 4-octet AS also goes in AS4_PATH */
	return !e->ibgp && !e->as4 && e->local_as > 0xffff;
}

static size_t tail_len(const struct bgp_enc *e, const struct bgp_attrs *a)
{
	size_t n = 0;
	if (need_as4_path(e))
		n += 3 + 6;
	if (a->n_large > 0)
		n += attr_hdr_len(12 * a->n_large) + 12 * a->n_large;
	return n;
}

static void put_tail(struct buf_writer *w, const struct bgp_enc *e, const struct bgp_attrs *a)
{
	if (need_as4_path(e)) {
		put_attr_hdr(w, F_OPTIONAL | F_TRANSITIVE, BGP_ATTR_AS4_PATH, 6);
		buf_put_u8(w, SEG_AS_SEQUENCE);
		buf_put_u8(w, 1);
		buf_put_u32(w, e->local_as);
	}
	if (a->n_large > 0) { /* RFC 8092 3: optional transitive */
		put_attr_hdr(w, F_OPTIONAL | F_TRANSITIVE, BGP_ATTR_LARGE_COMMUNITY, 12 * a->n_large);
		for (size_t i = 0; i < a->n_large; i++) {
			buf_put_u32(w, a->large[i].global);
			buf_put_u32(w, a->large[i].local1);
			buf_put_u32(w, a->large[i].local2);
		}
	}
}

int bgp_update_build(const struct bgp_enc *e, const struct bgp_attrs *a, int family,
		     const prefix_t *p, size_t n, size_t *used, uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t len_at, alen_at, mp_at = 0;
	size_t limit = cap < BGP_MAX_MSG ? cap : BGP_MAX_MSG;

	*used = 0;
	if (n == 0 || (family != AF_INET && family != AF_INET6) || !family_ok(family, p, n) ||
	    a->next_hop.family != family || (a->has_ll && a->next_hop_ll.family != AF_INET6))
		return -1;
	if (a->n_communities > (BGP_MAX_MSG / 4) || a->n_large > (BGP_MAX_MSG / 12))
		return -1;
	buf_writer_init(&w, out, limit);
	put_hdr(&w, BGP_UPDATE, &len_at);
	buf_put_u16(&w, 0); /* no withdrawn routes */
	buf_reserve(&w, 2, &alen_at);
	/* Attributes in type order (RFC 4271 5: "SHOULD"). ORIGIN, AS_PATH and NEXT_HOP are
	 * well-known transitive; AS_PATH is empty on iBGP (RFC 4271 5.1.2). */
	put_attr_hdr(&w, F_TRANSITIVE, BGP_ATTR_ORIGIN, 1);
	buf_put_u8(&w, ORIGIN_IGP);
	if (e->ibgp) {
		put_attr_hdr(&w, F_TRANSITIVE, BGP_ATTR_AS_PATH, 0);
	} else {
		put_attr_hdr(&w, F_TRANSITIVE, BGP_ATTR_AS_PATH, e->as4 ? 6 : 4);
		buf_put_u8(&w, SEG_AS_SEQUENCE);
		buf_put_u8(&w, 1);
		put_as(&w, e->local_as, e->as4);
	}
	if (family == AF_INET) {
		put_attr_hdr(&w, F_TRANSITIVE, BGP_ATTR_NEXT_HOP, 4);
		buf_put_bytes(&w, a->next_hop.b, 4);
	}
	if (e->ibgp && a->has_local_pref) { /* RFC 4271 5.1.5: never to an external peer */
		put_attr_hdr(&w, F_TRANSITIVE, BGP_ATTR_LOCAL_PREF, 4);
		buf_put_u32(&w, a->local_pref);
	}
	if (a->n_communities > 0) { /* RFC 1997: optional transitive */
		put_attr_hdr(&w, F_OPTIONAL | F_TRANSITIVE, BGP_ATTR_COMMUNITIES,
			     4 * a->n_communities);
		for (size_t i = 0; i < a->n_communities; i++)
			buf_put_u32(&w, a->communities[i]);
	}
	size_t tail = tail_len(e, a);
	if (family == AF_INET6) {
		/* RFC 4760 3: optional non-transitive; the extended length is always used so the
		 * length field does not depend on how many prefixes fit. RFC 2545 3: next hop is
		 * the global address, plus the link-local one (length 32) when on-link. */
		buf_put_u8(&w, F_OPTIONAL | F_EXTLEN);
		buf_put_u8(&w, BGP_ATTR_MP_REACH);
		buf_reserve(&w, 2, &mp_at);
		buf_put_u16(&w, BGP_AFI_IPV6);
		buf_put_u8(&w, BGP_SAFI_UNICAST);
		buf_put_u8(&w, a->has_ll ? 32 : 16);
		buf_put_bytes(&w, a->next_hop.b, 16);
		if (a->has_ll)
			buf_put_bytes(&w, a->next_hop_ll.b, 16);
		buf_put_u8(&w, 0); /* reserved */
		size_t k = 0;
		while (k < n && buf_written(&w) + bgp_prefix_wire_len(&p[k]) + tail <= limit)
			put_prefix(&w, &p[k++]);
		if (k == 0 || w.failed)
			return -1;
		buf_patch_u16(&w, mp_at, (uint16_t)(buf_written(&w) - mp_at - 2));
		*used = k;
		put_tail(&w, e, a);
		buf_patch_u16(&w, alen_at, (uint16_t)(buf_written(&w) - alen_at - 2));
	} else {
		put_tail(&w, e, a);
		if (w.failed)
			return -1;
		buf_patch_u16(&w, alen_at, (uint16_t)(buf_written(&w) - alen_at - 2));
		size_t k = 0;
		while (k < n && buf_written(&w) + bgp_prefix_wire_len(&p[k]) <= limit)
			put_prefix(&w, &p[k++]);
		if (k == 0)
			return -1;
		*used = k;
	}
	return finish(&w, len_at);
}

int bgp_withdraw_build(int family, const prefix_t *p, size_t n, size_t *used, uint8_t *out,
		       size_t cap)
{
	struct buf_writer w;
	size_t len_at, wl_at, alen_at, mp_at;
	size_t limit = cap < BGP_MAX_MSG ? cap : BGP_MAX_MSG;
	size_t k = 0;

	*used = 0;
	if (n == 0 || (family != AF_INET && family != AF_INET6) || !family_ok(family, p, n))
		return -1;
	buf_writer_init(&w, out, limit);
	put_hdr(&w, BGP_UPDATE, &len_at);
	if (family == AF_INET) {
		buf_reserve(&w, 2, &wl_at);
		while (k < n && buf_written(&w) + bgp_prefix_wire_len(&p[k]) + 2 <= limit)
			put_prefix(&w, &p[k++]);
		buf_patch_u16(&w, wl_at, (uint16_t)(buf_written(&w) - wl_at - 2));
		buf_put_u16(&w, 0); /* no attributes */
	} else {
		buf_put_u16(&w, 0);
		buf_reserve(&w, 2, &alen_at);
		/* RFC 4760 4: MP_UNREACH_NLRI, optional non-transitive */
		buf_put_u8(&w, F_OPTIONAL | F_EXTLEN);
		buf_put_u8(&w, BGP_ATTR_MP_UNREACH);
		buf_reserve(&w, 2, &mp_at);
		buf_put_u16(&w, BGP_AFI_IPV6);
		buf_put_u8(&w, BGP_SAFI_UNICAST);
		while (k < n && buf_written(&w) + bgp_prefix_wire_len(&p[k]) <= limit)
			put_prefix(&w, &p[k++]);
		buf_patch_u16(&w, mp_at, (uint16_t)(buf_written(&w) - mp_at - 2));
		buf_patch_u16(&w, alen_at, (uint16_t)(buf_written(&w) - alen_at - 2));
	}
	if (k == 0)
		return -1;
	*used = k;
	return finish(&w, len_at);
}

int bgp_eor_build(int family, uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t len_at;

	buf_writer_init(&w, out, cap);
	put_hdr(&w, BGP_UPDATE, &len_at);
	buf_put_u16(&w, 0);
	if (family == AF_INET) { /* RFC 4724 2: an UPDATE with nothing in it */
		buf_put_u16(&w, 0);
	} else if (family == AF_INET6) { /* RFC 4724 2: an MP_UNREACH_NLRI with no prefixes */
		buf_put_u16(&w, 6);
		put_attr_hdr(&w, F_OPTIONAL, BGP_ATTR_MP_UNREACH, 3);
		buf_put_u16(&w, BGP_AFI_IPV6);
		buf_put_u8(&w, BGP_SAFI_UNICAST);
	} else {
		return -1;
	}
	return finish(&w, len_at);
}

/* ---------- UPDATE parse ---------- */

/* Expected Optional/Transitive flag bits of the attributes we know (RFC 4271 5, RFC 4760 3-4,
 * RFC 1997, RFC 4456 8, RFC 6793 3, RFC 8092 3); -1 = unknown type. */
static int expected_flags(uint8_t type)
{
	switch (type) {
	case BGP_ATTR_ORIGIN:
	case BGP_ATTR_AS_PATH:
	case BGP_ATTR_NEXT_HOP:
	case BGP_ATTR_LOCAL_PREF:
	case BGP_ATTR_ATOMIC_AGGREGATE:
		return F_TRANSITIVE;
	case BGP_ATTR_MED:
	case BGP_ATTR_ORIGINATOR_ID:
	case BGP_ATTR_CLUSTER_LIST:
	case BGP_ATTR_MP_REACH:
	case BGP_ATTR_MP_UNREACH:
		return F_OPTIONAL;
	case BGP_ATTR_AGGREGATOR:
	case BGP_ATTR_COMMUNITIES:
	case BGP_ATTR_AS4_PATH:
	case BGP_ATTR_AS4_AGGREGATOR:
	case BGP_ATTR_LARGE_COMMUNITY:
		return F_OPTIONAL | F_TRANSITIVE;
	default:
		return -1;
	}
}

/* Walk an AS_PATH or AS4_PATH (RFC 4271 4.3, RFC 7606 7.2). Returns 0 or -1 when malformed. */
static int parse_as_path(struct buf_reader r, size_t as_size, struct bgp_update *u, bool keep,
			 uint8_t *first_type, uint32_t *first_as)
{
	bool first = true;
	while (buf_left(&r) > 0) {
		uint8_t type, count;
		if (buf_get_u8(&r, &type) < 0 || buf_get_u8(&r, &count) < 0)
			return -1;
		/* RFC 7606 7.2: unknown segment type or zero segment length is malformed */
		if (type < SEG_AS_SET || type > SEG_CONFED_SET || count == 0)
			return -1;
		for (uint8_t i = 0; i < count; i++) {
			uint32_t as;
			uint16_t as2;
			if (as_size == 4 ? buf_get_u32(&r, &as) < 0 : buf_get_u16(&r, &as2) < 0)
				return -1;
			if (as_size == 2)
				as = as2;
			if (first) {
				*first_type = type;
				*first_as = as;
				first = false;
			}
			if (keep) {
				if (u->as_path_len < BGP_AS_PATH_MAX)
					u->as_path[u->as_path_len] = as;
				u->as_path_len++;
			}
		}
	}
	return 0;
}

static int family_of(uint16_t afi, uint8_t safi)
{
	if (safi != BGP_SAFI_UNICAST)
		return 0;
	return afi == BGP_AFI_IPV4 ? AF_INET : afi == BGP_AFI_IPV6 ? AF_INET6 : 0;
}

/* MP_REACH_NLRI (RFC 4760 3, RFC 2545 3). A fault here means the NLRI cannot be located, so
 * RFC 7606 7.11 asks for a session reset. */
static void parse_mp_reach(struct buf_reader v, struct bgp_update *u, const uint8_t *attr,
			   size_t alen, struct bgp_err *err)
{
	uint16_t afi;
	uint8_t safi, nhlen, res;
	struct buf_reader nh;

	if (buf_get_u16(&v, &afi) < 0 || buf_get_u8(&v, &safi) < 0 || buf_get_u8(&v, &nhlen) < 0 ||
	    buf_get_sub(&v, nhlen, &nh) < 0 || buf_get_u8(&v, &res) < 0) {
		note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr, alen,
		     "MP_REACH_NLRI truncated");
		return;
	}
	int fam = family_of(afi, safi);
	if (fam == 0)
		return; /* RFC 4760 7: an AFI/SAFI we did not advertise; not ours to judge */
	if ((fam == AF_INET6 && nhlen != 16 && nhlen != 32) || (fam == AF_INET && nhlen != 4)) {
		note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr, alen,
		     "MP_REACH_NLRI next hop length");
		return;
	}
	u->mp_next_hop.family = (uint8_t)fam;
	buf_get_bytes(&nh, u->mp_next_hop.b, fam == AF_INET ? 4 : 16);
	if (nhlen == 32) {
		u->mp_next_hop_ll.family = AF_INET6;
		buf_get_bytes(&nh, u->mp_next_hop_ll.b, 16);
	}
	long k = count_prefixes(v, fam);
	if (k < 0) { /* RFC 7606 5.3: NLRI that cannot be parsed */
		note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, attr, alen,
		     "MP_REACH_NLRI prefix malformed");
		return;
	}
	u->mp_reach_family = fam;
	u->mp_reach = v;
	u->n_mp_reach = (size_t)k;
}

static void parse_mp_unreach(struct buf_reader v, struct bgp_update *u, const uint8_t *attr,
			     size_t alen, struct bgp_err *err)
{
	uint16_t afi;
	uint8_t safi;

	if (buf_get_u16(&v, &afi) < 0 || buf_get_u8(&v, &safi) < 0) {
		note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr, alen,
		     "MP_UNREACH_NLRI truncated");
		return;
	}
	int fam = family_of(afi, safi);
	if (fam == 0)
		return;
	long k = count_prefixes(v, fam);
	if (k < 0) {
		note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, attr, alen,
		     "MP_UNREACH_NLRI prefix malformed");
		return;
	}
	u->mp_unreach_family = fam;
	u->mp_unreach = v;
	u->n_mp_unreach = (size_t)k;
}

/* One attribute whose header has been read: flags, type, value v; attr/alen = the whole attribute
 * for NOTIFICATION data. */
static void parse_attr(uint8_t flags, uint8_t type, struct buf_reader v, const uint8_t *attr,
		       size_t alen, const struct bgp_dec *d, struct bgp_update *u,
		       struct bgp_err *err)
{
	size_t len = buf_left(&v);
	int want = expected_flags(type);

	if (want < 0) {
		/* RFC 4271 6.3: an unrecognized well-known attribute resets; unknown optional ones
		 * are ignored (we pass nothing on, so the Partial bit does not matter) */
		if (!(flags & F_OPTIONAL))
			note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_UNRECOGNIZED_WELLKNOWN, attr,
			     alen, "unrecognized well-known attribute");
		return;
	}
	if ((flags & (F_OPTIONAL | F_TRANSITIVE)) != want) {
		/* RFC 4271 6.3 Attribute Flags Error; RFC 7606 3(c): treat-as-withdraw */
		note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_ATTR_FLAGS, attr, alen,
		     "attribute flags conflict with its type");
		if (type != BGP_ATTR_MP_REACH && type != BGP_ATTR_MP_UNREACH)
			return; /* MP attributes are still read: they carry NLRI to locate */
	}
	if (type < 64)
		u->seen |= (uint64_t)1 << type;
	switch (type) {
	case BGP_ATTR_ORIGIN: /* RFC 7606 7.1 */
		if (len != 1) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attr,
			     alen, "ORIGIN length is not 1");
			break;
		}
		buf_get_u8(&v, &u->origin);
		if (u->origin > ORIGIN_INCOMPLETE)
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_INVALID_ORIGIN, attr,
			     alen, "undefined ORIGIN value");
		break;
	case BGP_ATTR_AS_PATH: { /* RFC 7606 7.2 */
		uint8_t ft = 0;
		uint32_t fa = 0;
		if (parse_as_path(v, d->as4 ? 4 : 2, u, true, &ft, &fa) < 0) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_AS_PATH,
			     attr, alen, "malformed AS_PATH");
			break;
		}
		/* RFC 4271 6.3: from an external peer the leftmost AS must be the peer's */
		uint32_t peer = d->peer_as;
		if (!d->as4 && peer > 0xffff)
			peer = BGP_AS_TRANS;
		if (!d->ibgp && d->peer_as != 0 && (len == 0 || ft != SEG_AS_SEQUENCE || fa != peer))
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_AS_PATH,
			     attr, alen, "AS_PATH does not start with the peer's AS");
		break;
	}
	case BGP_ATTR_NEXT_HOP: { /* RFC 7606 7.3 */
		if (len != 4) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attr,
			     alen, "NEXT_HOP length is not 4");
			break;
		}
		uint32_t nh;
		buf_get_u32(&v, &nh);
		addr_from_v4(&u->next_hop, nh);
		/* RFC 4271 6.3: not a valid host address (0/8, multicast, class E) */
		if ((nh >> 24) == 0 || (nh >> 28) >= 0xe)
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_INVALID_NEXT_HOP,
			     attr, alen, "NEXT_HOP is not a unicast address");
		break;
	}
	case BGP_ATTR_MED: /* RFC 7606 7.4 */
	case BGP_ATTR_ORIGINATOR_ID: /* RFC 7606 7.9 */
		if (len != 4) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attr,
			     alen, "attribute length is not 4");
			break;
		}
		if (type == BGP_ATTR_MED)
			buf_get_u32(&v, &u->med);
		break;
	case BGP_ATTR_LOCAL_PREF: /* RFC 7606 7.5 */
		if (!d->ibgp) {
			u->seen &= ~((uint64_t)1 << type);
			note(err, BGP_ATTR_DISCARD, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr, alen,
			     "LOCAL_PREF from an external peer");
		} else if (len != 4) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attr,
			     alen, "LOCAL_PREF length is not 4");
		} else {
			buf_get_u32(&v, &u->local_pref);
		}
		break;
	case BGP_ATTR_ATOMIC_AGGREGATE: /* RFC 7606 7.6 */
		if (len != 0)
			note(err, BGP_ATTR_DISCARD, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attr, alen,
			     "ATOMIC_AGGREGATE length is not 0");
		break;
	case BGP_ATTR_AGGREGATOR: /* RFC 7606 7.7 */
		if (len != (d->as4 ? 8u : 6u))
			note(err, BGP_ATTR_DISCARD, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attr, alen,
			     "AGGREGATOR length");
		break;
	case BGP_ATTR_AS4_AGGREGATOR: /* RFC 6793 6: attribute discard */
		if (len != 8)
			note(err, BGP_ATTR_DISCARD, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr, alen,
			     "AS4_AGGREGATOR length is not 8");
		break;
	case BGP_ATTR_AS4_PATH: { /* RFC 6793 6: a malformed AS4_PATH is discarded */
		uint8_t ft;
		uint32_t fa;
		if (parse_as_path(v, 4, u, false, &ft, &fa) < 0)
			note(err, BGP_ATTR_DISCARD, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr, alen,
			     "malformed AS4_PATH");
		break;
	}
	case BGP_ATTR_COMMUNITIES: /* RFC 7606 7.8 */
		if (len == 0 || len % 4 != 0) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr,
			     alen, "COMMUNITIES length is not a non-zero multiple of 4");
			break;
		}
		u->communities = v;
		u->n_communities = len / 4;
		break;
	case BGP_ATTR_CLUSTER_LIST: /* RFC 7606 7.10 */
		if (len == 0 || len % 4 != 0)
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr,
			     alen, "CLUSTER_LIST length is not a non-zero multiple of 4");
		break;
	case BGP_ATTR_LARGE_COMMUNITY: /* RFC 8092 6 */
		if (len == 0 || len % 12 != 0) {
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_OPTIONAL_ATTR, attr,
			     alen, "LARGE_COMMUNITY length is not a non-zero multiple of 12");
			break;
		}
		u->large = v;
		u->n_large = len / 12;
		break;
	case BGP_ATTR_MP_REACH:
		parse_mp_reach(v, u, attr, alen, err);
		break;
	case BGP_ATTR_MP_UNREACH:
		parse_mp_unreach(v, u, attr, alen, err);
		break;
	default:
		break;
	}
}

enum bgp_verdict bgp_update_parse(const uint8_t *p, size_t n, const struct bgp_dec *d,
				  struct bgp_update *u, struct bgp_err *err)
{
	struct buf_reader r, attrs;
	uint16_t wlen, alen;
	long k;

	memset(u, 0, sizeof(*u));
	if (whole(p, n, BGP_UPDATE, &r, err) < 0)
		return BGP_RESET;
	/* RFC 4271 6.3: the two length fields must fit the message (Malformed Attribute List);
	 * RFC 7606 4 keeps this a session reset: the NLRI cannot be located. */
	buf_get_u16(&r, &wlen); /* the minimum length guarantees these two bytes */
	if (buf_get_sub(&r, wlen, &u->withdrawn) < 0 || buf_get_u16(&r, &alen) < 0 ||
	    buf_get_sub(&r, alen, &attrs) < 0) {
		set_err(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0,
			"withdrawn or attribute length overruns the message");
		return BGP_RESET;
	}
	u->nlri = r;
	/* RFC 4271 6.3 Invalid Network Field; RFC 7606 5.3: unparsable NLRI resets */
	if ((k = count_prefixes(u->withdrawn, AF_INET)) < 0) {
		set_err(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, NULL, 0,
			"malformed withdrawn prefix");
		return BGP_RESET;
	}
	u->n_withdrawn = (size_t)k;
	if ((k = count_prefixes(u->nlri, AF_INET)) < 0) {
		set_err(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, NULL, 0,
			"malformed NLRI prefix");
		return BGP_RESET;
	}
	u->n_nlri = (size_t)k;

	while (buf_left(&attrs) > 0) {
		const uint8_t *at = attrs.p + attrs.off;
		size_t avail = buf_left(&attrs);
		uint8_t flags, type, l8;
		uint16_t vlen;
		struct buf_reader v;
		if (buf_get_u8(&attrs, &flags) < 0 || buf_get_u8(&attrs, &type) < 0 ||
		    ((flags & F_EXTLEN) ? buf_get_u16(&attrs, &vlen) : buf_get_u8(&attrs, &l8)) < 0) {
			/* RFC 7606 4: too few octets left for an attribute header */
			note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST,
			     NULL, 0, "attribute header truncated");
			break;
		}
		if (!(flags & F_EXTLEN))
			vlen = l8;
		size_t hl = (flags & F_EXTLEN) ? 4 : 3;
		if (buf_get_sub(&attrs, vlen, &v) < 0) {
			/* RFC 7606 4: an attribute overruns the attribute field. If it was an MP
			 * attribute its NLRI is lost, which RFC 7606 7.11 makes a reset. */
			bool mp = type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH;
			note(err, mp ? BGP_RESET : BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE,
			     mp ? BGP_UPD_OPTIONAL_ATTR : BGP_UPD_ATTR_LENGTH, at, avail,
			     "attribute overruns the attribute field");
			break;
		}
		if (type < 64 && (u->seen & ((uint64_t)1 << type))) {
			/* RFC 7606 3(g): a repeated MP attribute resets; other repeats are dropped */
			if (type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH)
				note(err, BGP_RESET, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL,
				     0, "MP attribute repeated");
			else
				note(err, BGP_ATTR_DISCARD, BGP_ERR_UPDATE,
				     BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0, "attribute repeated");
			continue;
		}
		parse_attr(flags, type, v, at, hl + vlen, d, u, err);
	}

	bool reach = u->n_nlri > 0 || u->n_mp_reach > 0;
	if (reach && err->verdict < BGP_RESET) {
		/* RFC 4271 6.3 Missing Well-known Attribute (data: its type code); RFC 7606 3(d):
		 * treat-as-withdraw. NEXT_HOP is needed only with IPv4 NLRI (RFC 4760 3). */
		static const uint8_t must[] = {BGP_ATTR_ORIGIN, BGP_ATTR_AS_PATH, BGP_ATTR_NEXT_HOP};
		for (size_t i = 0; i < sizeof(must); i++) {
			if (must[i] == BGP_ATTR_NEXT_HOP && u->n_nlri == 0)
				continue;
			if (!(u->seen & ((uint64_t)1 << must[i])))
				note(err, BGP_TREAT_AS_WITHDRAW, BGP_ERR_UPDATE,
				     BGP_UPD_MISSING_WELLKNOWN, &must[i], 1,
				     "missing well-known attribute");
		}
	}
	/* End-of-RIB (RFC 4724 2) */
	if (wlen == 0 && alen == 0 && u->n_nlri == 0) {
		u->eor = true;
		u->eor_family = AF_INET;
	} else if (wlen == 0 && u->n_nlri == 0 && u->seen == ((uint64_t)1 << BGP_ATTR_MP_UNREACH) &&
		   u->mp_unreach_family != 0 && u->n_mp_unreach == 0 && err->verdict == BGP_OK) {
		u->eor = true;
		u->eor_family = u->mp_unreach_family;
	}
	return err->verdict;
}

uint32_t bgp_update_community(const struct bgp_update *u, size_t i)
{
	struct buf_reader r = u->communities;
	uint32_t v = 0;
	if (buf_skip(&r, 4 * i) == 0)
		buf_get_u32(&r, &v);
	return v;
}

struct bgp_large_community bgp_update_large(const struct bgp_update *u, size_t i)
{
	struct buf_reader r = u->large;
	struct bgp_large_community c = {0, 0, 0};
	if (buf_skip(&r, 12 * i) == 0 && buf_get_u32(&r, &c.global) == 0 &&
	    buf_get_u32(&r, &c.local1) == 0)
		buf_get_u32(&r, &c.local2);
	return c;
}

/* ---------- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ---------- */

int bgp_notification_build(uint8_t code, uint8_t subcode, const void *data, size_t data_len,
			   uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t len_at;

	if (data_len > BGP_MAX_MSG - BGP_NOTIFICATION_MIN)
		data_len = BGP_MAX_MSG - BGP_NOTIFICATION_MIN;
	buf_writer_init(&w, out, cap);
	put_hdr(&w, BGP_NOTIFICATION, &len_at);
	buf_put_u8(&w, code);
	buf_put_u8(&w, subcode);
	if (data_len > 0)
		buf_put_bytes(&w, data, data_len);
	return finish(&w, len_at);
}

int bgp_shutdown_build(uint8_t subcode, const char *msg, uint8_t *out, size_t cap)
{
	uint8_t data[256];
	size_t n = msg != NULL ? strlen(msg) : 0;
	if (n > 255) { /* RFC 9003 2: at most 255 octets; do not cut a UTF-8 sequence */
		n = 255;
		while (n > 0 && ((uint8_t)msg[n] & 0xc0) == 0x80)
			n--;
	}
	data[0] = (uint8_t)n;
	if (n > 0)
		memcpy(data + 1, msg, n);
	return bgp_notification_build(BGP_ERR_CEASE, subcode, data, n + 1, out, cap);
}

int bgp_notification_parse(const uint8_t *p, size_t n, struct bgp_notification *m,
			   struct bgp_err *err)
{
	struct buf_reader r;

	memset(m, 0, sizeof(*m));
	if (whole(p, n, BGP_NOTIFICATION, &r, err) < 0)
		return -1;
	buf_get_u8(&r, &m->code);
	buf_get_u8(&r, &m->subcode);
	m->data_len = buf_left(&r);
	m->data = buf_get_ptr(&r, m->data_len);
	if (m->code == BGP_ERR_CEASE &&
	    (m->subcode == BGP_CEASE_ADMIN_SHUTDOWN || m->subcode == BGP_CEASE_ADMIN_RESET) &&
	    m->data_len >= 1 && m->data[0] > 0 && (size_t)m->data[0] + 1 <= m->data_len) {
		/* RFC 9003 2: length, then UTF-8; a bad length leaves it unread (RFC 9003 4) */
		size_t l = m->data[0];
		for (size_t i = 0; i < l; i++) {
			uint8_t c = m->data[1 + i];
			m->shutdown_msg[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
		}
		m->shutdown_msg[l] = '\0';
	}
	return 0;
}

int bgp_keepalive_build(uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t len_at;
	buf_writer_init(&w, out, cap);
	put_hdr(&w, BGP_KEEPALIVE, &len_at);
	return finish(&w, len_at);
}

int bgp_keepalive_parse(const uint8_t *p, size_t n, struct bgp_err *err)
{
	struct buf_reader r;
	return whole(p, n, BGP_KEEPALIVE, &r, err);
}

int bgp_route_refresh_build(uint16_t afi, uint8_t safi, uint8_t *out, size_t cap)
{
	struct buf_writer w;
	size_t len_at;
	buf_writer_init(&w, out, cap);
	put_hdr(&w, BGP_ROUTE_REFRESH, &len_at);
	buf_put_u16(&w, afi);
	buf_put_u8(&w, 0);
	buf_put_u8(&w, safi);
	return finish(&w, len_at);
}

int bgp_route_refresh_parse(const uint8_t *p, size_t n, struct bgp_route_refresh *m,
			    struct bgp_err *err)
{
	struct buf_reader r;

	memset(m, 0, sizeof(*m));
	if (whole(p, n, BGP_ROUTE_REFRESH, &r, err) < 0)
		return -1;
	buf_get_u16(&r, &m->afi);
	buf_get_u8(&r, &m->subtype);
	buf_get_u8(&r, &m->safi);
	/* RFC 7313 5: a ROUTE-REFRESH whose body is not 4 octets; the data is the message. ORF
	 * entries (RFC 5291) would be longer, but we never advertise ORF. */
	if (n != BGP_ROUTE_REFRESH_LEN)
		return set_err(err, BGP_RESET, BGP_ERR_ROUTE_REFRESH, BGP_RR_BAD_LENGTH, p, n,
			       "ROUTE-REFRESH length is not 23");
	return 0;
}

/* ---------- names ---------- */

const char *bgp_type_name(uint8_t type)
{
	static const char *const names[] = {"?", "OPEN", "UPDATE", "NOTIFICATION", "KEEPALIVE",
					    "ROUTE-REFRESH"};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

const char *bgp_err_name(uint8_t code, uint8_t subcode, char *buf, size_t n)
{
	static const char *const codes[] = {NULL, "Message Header Error", "OPEN Message Error",
					    "UPDATE Message Error", "Hold Timer Expired",
					    "Finite State Machine Error", "Cease",
					    "ROUTE-REFRESH Message Error"};
	static const char *const hdr[] = {NULL, "Connection Not Synchronized",
					  "Bad Message Length", "Bad Message Type"};
	static const char *const open[] = {NULL, "Unsupported Version Number", "Bad Peer AS",
					   "Bad BGP Identifier", "Unsupported Optional Parameter",
					   NULL, "Unacceptable Hold Time", "Unsupported Capability"};
	static const char *const upd[] = {NULL, "Malformed Attribute List",
					  "Unrecognized Well-known Attribute",
					  "Missing Well-known Attribute", "Attribute Flags Error",
					  "Attribute Length Error", "Invalid ORIGIN Attribute", NULL,
					  "Invalid NEXT_HOP Attribute", "Optional Attribute Error",
					  "Invalid Network Field", "Malformed AS_PATH"};
	static const char *const fsm[] = {NULL, "Unexpected Message in OpenSent",
					  "Unexpected Message in OpenConfirm",
					  "Unexpected Message in Established"};
	static const char *const cease[] = {NULL, "Maximum Number of Prefixes Reached",
					    "Administrative Shutdown", "Peer De-configured",
					    "Administrative Reset", "Connection Rejected",
					    "Other Configuration Change",
					    "Connection Collision Resolution", "Out of Resources"};
	static const char *const rr[] = {NULL, "Invalid Message Length"};
	const char *const *subs = NULL;
	size_t nsubs = 0;
#define SUBS(a) (subs = (a), nsubs = sizeof(a) / sizeof((a)[0]))
	switch (code) {
	case BGP_ERR_HEADER: SUBS(hdr); break;
	case BGP_ERR_OPEN: SUBS(open); break;
	case BGP_ERR_UPDATE: SUBS(upd); break;
	case BGP_ERR_FSM: SUBS(fsm); break;
	case BGP_ERR_CEASE: SUBS(cease); break;
	case BGP_ERR_ROUTE_REFRESH: SUBS(rr); break;
	default: break;
	}
#undef SUBS
	const char *c = code < sizeof(codes) / sizeof(codes[0]) ? codes[code] : NULL;
	const char *s = subs != NULL && subcode < nsubs ? subs[subcode] : NULL;
	if (c == NULL)
		snprintf(buf, n, "code %u/subcode %u", code, subcode);
	else if (subcode == 0)
		snprintf(buf, n, "%s", c);
	else if (s == NULL)
		snprintf(buf, n, "%s/subcode %u", c, subcode);
	else
		snprintf(buf, n, "%s/%s", c, s);
	return buf;
}
