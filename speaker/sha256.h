/* SPDX-License-Identifier: Apache-2.0 */
/* sha256: SHA-256 (FIPS 180-4), for the layer-2 owner order. Pure, no I/O, no allocation. */
#ifndef BARELB_SPEAKER_SHA256_H
#define BARELB_SPEAKER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN   32 /* digest bytes */
#define SHA256_BLOCK 64 /* message block bytes */

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total;              /* bytes hashed so far */
	uint8_t block[SHA256_BLOCK]; /* partial block */
	size_t fill;                 /* bytes in block */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t n);
/* Writes the digest; the context must be re-initialised before reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
/* One-shot. */
void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);

#endif
