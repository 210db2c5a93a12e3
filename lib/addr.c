/* SPDX-License-Identifier: Apache-2.0 */
/* addr: parsing, RFC 5952 formatting and arithmetic for IPv4/IPv6 addresses, prefixes and ranges. */
#include "barelb/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define U128_MAX (~(addr_u128)0)

/* Mask with the low k bits set (k in 0..128). */
static addr_u128 low_mask(int k)
{
	if (k <= 0)
		return 0;
	if (k >= 128)
		return U128_MAX;
	return ((addr_u128)1 << k) - 1;
}

static addr_u128 family_max(int family)
{
	return family == AF_INET ? (addr_u128)0xffffffffu : U128_MAX;
}

static int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* ---------- addresses ---------- */

/* Strict dotted quad: four decimal parts 0..255, no leading zeros, nothing else. */
static int parse_v4(const char *s, uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (*s != '.')
				return -1;
			s++;
		}
		if (*s < '0' || *s > '9')
			return -1;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -1; /* leading zero */
		unsigned v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s - '0');
			s++;
			if (++digits > 3 || v > 255)
				return -1;
		}
		out[part] = (uint8_t)v;
	}
	return *s == '\0' ? 0 : -1;
}

int addr_parse(const char *s, addr_t *out)
{
	if (s == NULL || out == NULL || *s == '\0')
		return -1;
	bool colon = false;
	size_t n = 0;
	for (const char *c = s; *c; c++, n++) {
		char ch = *c;
		if (ch == ':')
			colon = true;
		else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
			   ch == '.'))
			return -1; /* whitespace, zone ids ("%eth0"), brackets, signs ... */
		if (n >= 45)
			return -1; /* longer than any IPv6 literal */
	}
	addr_t a;
	memset(&a, 0, sizeof(a));
	if (!colon) {
		if (parse_v4(s, a.b) != 0)
			return -1;
		a.family = AF_INET;
	} else {
		/* glibc's inet_pton6 rejects >4 hex digits per group, stray "::", and leading zeros in an
		 * embedded dotted quad; the character filter above already ruled out zones. */
		if (inet_pton(AF_INET6, s, a.b) != 1)
			return -1;
		a.family = AF_INET6;
	}
	*out = a;
	return 0;
}

/* Writes the RFC 5952 form of a valid address into buf (at least ADDR_STRLEN bytes). */
static int format_into(const addr_t *a, char *buf)
{
	if (a->family == AF_INET)
		return sprintf(buf, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);

	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];

	/* IPv4-mapped (::ffff:0:0/96) is shown in mixed notation. */
	if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff)
		return sprintf(buf, "::ffff:%u.%u.%u.%u", a->b[12], a->b[13], a->b[14], a->b[15]);

	/* Longest run of zero groups, at least two long; the first one wins ties. */
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	if (best_len < 2)
		best = -1;

	char *p = buf;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			*p++ = ':';
		p += sprintf(p, "%x", g[i]);
	}
	*p = '\0';
	return (int)(p - buf);
}

int addr_format(const addr_t *a, char *buf, size_t n)
{
	if (a == NULL || buf == NULL || (a->family != AF_INET && a->family != AF_INET6))
		return -1;
	char tmp[ADDR_STRLEN];
	int len = format_into(a, tmp);
	if (len < 0 || (size_t)len >= n)
		return -1;
	memcpy(buf, tmp, (size_t)len + 1);
	return len;
}

int addr_bits(const addr_t *a)
{
	return family_bits(a->family);
}

bool addr_is_v4(const addr_t *a)
{
	return a->family == AF_INET;
}

int addr_cmp(const addr_t *a, const addr_t *b)
{
	bool a4 = addr_is_v4(a), b4 = addr_is_v4(b);
	if (a4 != b4)
		return a4 ? -1 : 1;
	int c = memcmp(a->b, b->b, a4 ? 4 : 16);
	return (c > 0) - (c < 0);
}

bool addr_eq(const addr_t *a, const addr_t *b)
{
	return addr_cmp(a, b) == 0;
}

void addr_from_v4(addr_t *out, uint32_t host_order)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->b[0] = (uint8_t)(host_order >> 24);
	out->b[1] = (uint8_t)(host_order >> 16);
	out->b[2] = (uint8_t)(host_order >> 8);
	out->b[3] = (uint8_t)host_order;
}

uint32_t addr_v4(const addr_t *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

addr_u128 addr_to_u128(const addr_t *a)
{
	int nb = addr_bits(a) / 8;
	addr_u128 v = 0;
	for (int i = 0; i < nb; i++)
		v = v << 8 | a->b[i];
	return v;
}

void addr_from_u128(addr_t *out, int family, addr_u128 v)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	int nb = family_bits(family) / 8;
	for (int i = nb - 1; i >= 0; i--) {
		out->b[i] = (uint8_t)v;
		v >>= 8;
	}
}

int addr_add(addr_t *a, addr_u128 n)
{
	addr_u128 v = addr_to_u128(a);
	if (n > family_max(a->family) - v)
		return -1;
	addr_from_u128(a, a->family, v + n);
	return 0;
}

int addr_next(addr_t *a)
{
	return addr_add(a, 1);
}

void addr_mask(addr_t *a, int len)
{
	int bits = addr_bits(a);
	if (len < 0)
		len = 0;
	if (len > bits)
		len = bits;
	addr_from_u128(a, a->family, addr_to_u128(a) & ~low_mask(bits - len));
}

/* ---------- prefixes ---------- */

static int prefix_len_of(const prefix_t *p)
{
	int bits = addr_bits(&p->a);
	return p->len > bits ? bits : p->len;
}

int prefix_parse(const char *s, prefix_t *out, bool *host_bits)
{
	if (s == NULL || out == NULL)
		return -1;
	const char *slash = strchr(s, '/');
	char abuf[48];
	const char *atext = s;
	if (slash != NULL) {
		size_t alen = (size_t)(slash - s);
		if (alen == 0 || alen >= sizeof(abuf))
			return -1;
		memcpy(abuf, s, alen);
		abuf[alen] = '\0';
		atext = abuf;
	}
	prefix_t p;
	if (addr_parse(atext, &p.a) != 0)
		return -1;
	int bits = addr_bits(&p.a);
	int len = bits;
	if (slash != NULL) {
		const char *d = slash + 1;
		if (*d == '\0')
			return -1;
		len = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			len = len * 10 + (*d - '0');
			if (len > bits)
				return -1;
		}
	}
	p.len = (uint8_t)len;
	addr_t masked = p.a;
	addr_mask(&masked, len);
	if (host_bits != NULL)
		*host_bits = !addr_eq(&masked, &p.a);
	p.a = masked;
	*out = p;
	return 0;
}

int prefix_format(const prefix_t *p, char *buf, size_t n)
{
	if (p == NULL || buf == NULL)
		return -1;
	char tmp[ADDR_STRLEN];
	int len = addr_format(&p->a, tmp, sizeof(tmp));
	if (len < 0)
		return -1;
	len += snprintf(tmp + len, sizeof(tmp) - (size_t)len, "/%u", (unsigned)p->len);
	if ((size_t)len >= n)
		return -1;
	memcpy(buf, tmp, (size_t)len + 1);
	return len;
}

void prefix_first(const prefix_t *p, addr_t *out)
{
	*out = p->a;
	addr_mask(out, prefix_len_of(p));
}

void prefix_last(const prefix_t *p, addr_t *out)
{
	int bits = addr_bits(&p->a);
	addr_u128 v = addr_to_u128(&p->a) | low_mask(bits - prefix_len_of(p));
	addr_from_u128(out, p->a.family, v);
}

bool prefix_contains(const prefix_t *p, const addr_t *a)
{
	if (addr_is_v4(&p->a) != addr_is_v4(a))
		return false;
	addr_t x = *a, net = p->a;
	addr_mask(&x, prefix_len_of(p));
	addr_mask(&net, prefix_len_of(p));
	return addr_eq(&x, &net);
}

bool prefix_overlap(const prefix_t *x, const prefix_t *y)
{
	if (addr_is_v4(&x->a) != addr_is_v4(&y->a))
		return false;
	int lx = prefix_len_of(x), ly = prefix_len_of(y);
	int len = lx < ly ? lx : ly;
	addr_t a = x->a, b = y->a;
	addr_mask(&a, len);
	addr_mask(&b, len);
	return addr_eq(&a, &b);
}

addr_u128 prefix_size(const prefix_t *p)
{
	int host = addr_bits(&p->a) - prefix_len_of(p);
	if (host >= 128)
		return U128_MAX;
	return (addr_u128)1 << host;
}

/* ---------- ranges ---------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Copies s[0..n) with surrounding whitespace removed into out (cap bytes); -1 if it does not fit. */
static int trim_copy(const char *s, size_t n, char *out, size_t cap)
{
	while (n > 0 && is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n >= cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int range_parse(const char *s, range_t *out)
{
	if (s == NULL || out == NULL)
		return -1;
	const char *dash = strchr(s, '-');
	if (dash == NULL) {
		prefix_t p;
		if (prefix_parse(s, &p, NULL) != 0)
			return -1;
		range_from_prefix(out, &p);
		return 0;
	}
	char lo[48], hi[48];
	if (trim_copy(s, (size_t)(dash - s), lo, sizeof(lo)) != 0 ||
	    trim_copy(dash + 1, strlen(dash + 1), hi, sizeof(hi)) != 0)
		return -1;
	range_t r;
	if (addr_parse(lo, &r.lo) != 0 || addr_parse(hi, &r.hi) != 0)
		return -1;
	if (addr_is_v4(&r.lo) != addr_is_v4(&r.hi) || addr_cmp(&r.lo, &r.hi) > 0)
		return -1;
	*out = r;
	return 0;
}

void range_from_prefix(range_t *out, const prefix_t *p)
{
	prefix_first(p, &out->lo);
	prefix_last(p, &out->hi);
}

bool range_contains(const range_t *r, const addr_t *a)
{
	if (addr_is_v4(&r->lo) != addr_is_v4(a))
		return false;
	return addr_cmp(&r->lo, a) <= 0 && addr_cmp(a, &r->hi) <= 0;
}

bool range_overlap(const range_t *x, const range_t *y)
{
	if (addr_is_v4(&x->lo) != addr_is_v4(&y->lo))
		return false;
	return addr_cmp(&x->lo, &y->hi) <= 0 && addr_cmp(&y->lo, &x->hi) <= 0;
}

addr_u128 range_size(const range_t *r)
{
	addr_u128 span = addr_to_u128(&r->hi) - addr_to_u128(&r->lo);
	if (span == U128_MAX)
		return U128_MAX;
	return span + 1;
}

size_t range_to_prefixes(const range_t *r, prefix_t *out, size_t max)
{
	if (addr_is_v4(&r->lo) != addr_is_v4(&r->hi) || addr_cmp(&r->lo, &r->hi) > 0)
		return 0;
	int family = r->lo.family;
	int bits = family_bits(family);
	addr_u128 cur = addr_to_u128(&r->lo), hi = addr_to_u128(&r->hi);
	size_t count = 0;
	for (;;) {
		addr_u128 span = hi - cur; /* addresses left after cur */
		/* Largest block that starts at cur (aligned) and ends at or before hi. */
		int k = 0;
		while (k < bits && (cur & low_mask(k + 1)) == 0 && low_mask(k + 1) <= span)
			k++;
		if (count < max) {
			addr_from_u128(&out[count].a, family, cur);
			out[count].len = (uint8_t)(bits - k);
		}
		count++;
		if (low_mask(k) == span)
			break;
		cur += low_mask(k) + 1;
	}
	return count;
}

const char *addr_u128_format(addr_u128 v, char *buf, size_t n)
{
	char tmp[40];
	size_t i = sizeof tmp;

	if (n == 0)
		return buf;
	tmp[--i] = 0;
	do {
		tmp[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && i > 0);
	snprintf(buf, n, "%s", tmp + i);
	return buf;
}
