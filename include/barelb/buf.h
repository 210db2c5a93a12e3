/* SPDX-License-Identifier: Apache-2.0 */
/* buf: bounds-checked cursor reader and writer for wire formats (network byte order).
 * Every getter returns 0, or -1 without moving the cursor when fewer bytes remain than asked. */
#ifndef BARELB_BUF_H
#define BARELB_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf_reader {
	const uint8_t *p;
	size_t len; /* total bytes */
	size_t off; /* cursor */
};

void buf_reader_init(struct buf_reader *r, const void *p, size_t len);
size_t buf_left(const struct buf_reader *r);
int buf_get_u8(struct buf_reader *r, uint8_t *v);
int buf_get_u16(struct buf_reader *r, uint16_t *v);
int buf_get_u32(struct buf_reader *r, uint32_t *v);
int buf_get_bytes(struct buf_reader *r, void *dst, size_t n);
int buf_skip(struct buf_reader *r, size_t n);
/* Point *sub at the next n bytes and advance past them. */
int buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub);
/* Pointer to the next n bytes without copying, and advance; NULL if fewer remain. */
const uint8_t *buf_get_ptr(struct buf_reader *r, size_t n);
int buf_peek_u8(const struct buf_reader *r, uint8_t *v);

/* Writer into a caller-owned buffer. After any failed put, failed is set and later puts fail too,
 * so a builder can check once at the end. */
struct buf_writer {
	uint8_t *p;
	size_t cap;
	size_t off;
	int failed;
};

void buf_writer_init(struct buf_writer *w, void *p, size_t cap);
int buf_put_u8(struct buf_writer *w, uint8_t v);
int buf_put_u16(struct buf_writer *w, uint16_t v);
int buf_put_u32(struct buf_writer *w, uint32_t v);
int buf_put_bytes(struct buf_writer *w, const void *src, size_t n);
int buf_put_zero(struct buf_writer *w, size_t n);
/* Reserve n bytes (zeroed) and return their offset in *at, to be filled in later (length fields). */
int buf_reserve(struct buf_writer *w, size_t n, size_t *at);
int buf_patch_u8(struct buf_writer *w, size_t at, uint8_t v);
int buf_patch_u16(struct buf_writer *w, size_t at, uint16_t v);
size_t buf_written(const struct buf_writer *w);

#endif
