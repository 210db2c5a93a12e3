/* SPDX-License-Identifier: Apache-2.0 */
/* buf: bounds-checked big-endian cursor reader and sticky-failure writer for wire formats. */
#include "barelb/buf.h"

#include <string.h>

/* ---------- reader ---------- */

void buf_reader_init(struct buf_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
}

size_t buf_left(const struct buf_reader *r)
{
	return r->off <= r->len ? r->len - r->off : 0;
}

/* Pointer to the next n bytes (advancing past them), or NULL when fewer remain. */
static const uint8_t *take(struct buf_reader *r, size_t n)
{
	static const uint8_t empty[1];
	if (n > buf_left(r))
		return NULL;
	if (r->p == NULL)
		return empty; /* only reachable with n == 0 */
	const uint8_t *at = r->p + r->off;
	r->off += n;
	return at;
}

int buf_get_u8(struct buf_reader *r, uint8_t *v)
{
	const uint8_t *q = take(r, 1);
	if (q == NULL)
		return -1;
	*v = q[0];
	return 0;
}

int buf_get_u16(struct buf_reader *r, uint16_t *v)
{
	const uint8_t *q = take(r, 2);
	if (q == NULL)
		return -1;
	*v = (uint16_t)(q[0] << 8 | q[1]);
	return 0;
}

int buf_get_u32(struct buf_reader *r, uint32_t *v)
{
	const uint8_t *q = take(r, 4);
	if (q == NULL)
		return -1;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	return 0;
}

int buf_get_bytes(struct buf_reader *r, void *dst, size_t n)
{
	const uint8_t *q = take(r, n);
	if (q == NULL)
		return -1;
	if (n > 0)
		memcpy(dst, q, n);
	return 0;
}

int buf_skip(struct buf_reader *r, size_t n)
{
	return take(r, n) != NULL ? 0 : -1;
}

int buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub)
{
	const uint8_t *q = take(r, n);
	if (q == NULL)
		return -1;
	buf_reader_init(sub, q, n);
	return 0;
}

const uint8_t *buf_get_ptr(struct buf_reader *r, size_t n)
{
	return take(r, n);
}

int buf_peek_u8(const struct buf_reader *r, uint8_t *v)
{
	if (buf_left(r) < 1)
		return -1;
	*v = r->p[r->off];
	return 0;
}

/* ---------- writer ---------- */

void buf_writer_init(struct buf_writer *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = p != NULL ? cap : 0;
	w->off = 0;
	w->failed = 0;
}

/* Room for n more bytes at the cursor, or NULL (and the writer marked failed). */
static uint8_t *room(struct buf_writer *w, size_t n)
{
	static uint8_t empty[1];
	if (w->failed || w->off > w->cap || n > w->cap - w->off) {
		w->failed = 1;
		return NULL;
	}
	if (w->p == NULL)
		return empty; /* only reachable with n == 0 */
	uint8_t *at = w->p + w->off;
	w->off += n;
	return at;
}

int buf_put_u8(struct buf_writer *w, uint8_t v)
{
	uint8_t *q = room(w, 1);
	if (q == NULL)
		return -1;
	q[0] = v;
	return 0;
}

int buf_put_u16(struct buf_writer *w, uint16_t v)
{
	uint8_t *q = room(w, 2);
	if (q == NULL)
		return -1;
	q[0] = (uint8_t)(v >> 8);
	q[1] = (uint8_t)v;
	return 0;
}

int buf_put_u32(struct buf_writer *w, uint32_t v)
{
	uint8_t *q = room(w, 4);
	if (q == NULL)
		return -1;
	q[0] = (uint8_t)(v >> 24);
	q[1] = (uint8_t)(v >> 16);
	q[2] = (uint8_t)(v >> 8);
	q[3] = (uint8_t)v;
	return 0;
}

int buf_put_bytes(struct buf_writer *w, const void *src, size_t n)
{
	uint8_t *q = room(w, n);
	if (q == NULL)
		return -1;
	if (n > 0)
		memcpy(q, src, n);
	return 0;
}

int buf_put_zero(struct buf_writer *w, size_t n)
{
	uint8_t *q = room(w, n);
	if (q == NULL)
		return -1;
	if (n > 0)
		memset(q, 0, n);
	return 0;
}

int buf_reserve(struct buf_writer *w, size_t n, size_t *at)
{
	size_t start = w->off;
	if (buf_put_zero(w, n) != 0)
		return -1;
	*at = start;
	return 0;
}

/* Bytes [at, at+n) must already have been written; otherwise the writer is marked failed. */
static uint8_t *patch_at(struct buf_writer *w, size_t at, size_t n)
{
	if (w->failed || at > w->off || n > w->off - at) {
		w->failed = 1;
		return NULL;
	}
	return w->p + at;
}

int buf_patch_u8(struct buf_writer *w, size_t at, uint8_t v)
{
	uint8_t *q = patch_at(w, at, 1);
	if (q == NULL)
		return -1;
	q[0] = v;
	return 0;
}

int buf_patch_u16(struct buf_writer *w, size_t at, uint16_t v)
{
	uint8_t *q = patch_at(w, at, 2);
	if (q == NULL)
		return -1;
	q[0] = (uint8_t)(v >> 8);
	q[1] = (uint8_t)v;
	return 0;
}

size_t buf_written(const struct buf_writer *w)
{
	return w->off;
}
