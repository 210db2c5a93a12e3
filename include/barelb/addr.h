/* SPDX-License-Identifier: Apache-2.0 */
/* addr: IPv4/IPv6 addresses, prefixes (CIDRs) and start-end ranges. Pure, no I/O. */
#ifndef BARELB_ADDR_H
#define BARELB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for any RFC 5952 text form plus "/128" and a NUL. */
#define ADDR_STRLEN 64

/* 128-bit unsigned count; GCC and clang both have it. */
__extension__ typedef unsigned __int128 addr_u128;

/* An address of one family. IPv4 uses b[0..3]; the rest of b is zero. */
typedef struct addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t b[16];
} addr_t;

typedef struct prefix {
	addr_t a; /* network address: host bits are always zero */
	uint8_t len;
} prefix_t;

/* Inclusive range of one family, lo <= hi. */
typedef struct range {
	addr_t lo, hi;
} range_t;

/* --- addresses --- */
int addr_parse(const char *s, addr_t *out);          /* 0, or -1 if not an IPv4/IPv6 literal */
int addr_format(const addr_t *a, char *buf, size_t n); /* RFC 5952; returns length, -1 if n too small */
int addr_bits(const addr_t *a);                       /* 32 or 128 */
bool addr_is_v4(const addr_t *a);
int addr_cmp(const addr_t *a, const addr_t *b);       /* IPv4 before IPv6, then numeric */
bool addr_eq(const addr_t *a, const addr_t *b);
void addr_from_v4(addr_t *out, uint32_t host_order);
uint32_t addr_v4(const addr_t *a);                    /* host order; a must be IPv4 */
addr_u128 addr_to_u128(const addr_t *a);
void addr_from_u128(addr_t *out, int family, addr_u128 v);
int addr_next(addr_t *a);                             /* a+1; -1 (a unchanged) at the family's last address */
int addr_add(addr_t *a, addr_u128 n);                 /* a+n; -1 (a unchanged) on overflow */
/* Decimal text of a 128-bit count (up to 39 digits); n >= 40. Returns buf. */
const char *addr_u128_format(addr_u128 v, char *buf, size_t n);
void addr_mask(addr_t *a, int len);                   /* clear bits after len */

/* --- prefixes --- */
/* "10.0.0.0/8", "fc00::/7"; a bare address is /32 or /128. host_bits (may be NULL) is set when the
 * text had bits past the prefix length (they are cleared in *out, as Go's net.ParseCIDR does). */
int prefix_parse(const char *s, prefix_t *out, bool *host_bits);
int prefix_format(const prefix_t *p, char *buf, size_t n);
void prefix_first(const prefix_t *p, addr_t *out);
void prefix_last(const prefix_t *p, addr_t *out);
bool prefix_contains(const prefix_t *p, const addr_t *a);
bool prefix_overlap(const prefix_t *x, const prefix_t *y);
addr_u128 prefix_size(const prefix_t *p);             /* 2^(bits-len); saturates at UINT128 max for ::/0 */

/* --- ranges --- */
/* "a-b" (spaces around either side allowed, a <= b, same family), a CIDR, or a single address. */
int range_parse(const char *s, range_t *out);
void range_from_prefix(range_t *out, const prefix_t *p);
bool range_contains(const range_t *r, const addr_t *a);
bool range_overlap(const range_t *x, const range_t *y);
addr_u128 range_size(const range_t *r);               /* hi-lo+1; saturates for the whole v6 space */
/* Smallest list of CIDRs covering exactly r, ascending. Writes at most max entries to out (out may be
 * NULL when max is 0) and returns the number needed (at most 256). */
size_t range_to_prefixes(const range_t *r, prefix_t *out, size_t max);

#endif
