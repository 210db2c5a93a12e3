/* SPDX-License-Identifier: Apache-2.0 */
/* jsonw: streaming JSON writer (RFC 8259) with automatic commas, UTF-8 checking and sticky errors. */
#include "barelb/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum frame { F_ARR, F_OBJ_KEY, F_OBJ_VAL }; /* in an array; in an object, a key or a value is due */

struct jsonw {
	char *buf;
	size_t len, cap;
	bool failed;
	bool done;               /* a complete top-level value was written */
	unsigned depth;
	enum frame st[JSONW_MAX_DEPTH];
	bool first[JSONW_MAX_DEPTH]; /* nothing written in this container yet */
};

struct jsonw *jsonw_new(void)
{
	return calloc(1, sizeof(struct jsonw));
}

void jsonw_free(struct jsonw *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	if (w->buf)
		w->buf[0] = '\0';
	w->failed = false;
	w->done = false;
	w->depth = 0;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *nb;

		while (cap < w->len + n + 1)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->failed = true;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void puts_(struct jsonw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Before any value: check that a value may come here and write the comma. */
static bool value_prefix(struct jsonw *w)
{
	if (w->failed)
		return false;
	if (w->depth == 0) {
		if (w->done) {
			w->failed = true; /* a second top-level value */
			return false;
		}
		return true;
	}
	switch (w->st[w->depth - 1]) {
	case F_ARR:
		if (!w->first[w->depth - 1])
			put(w, ",", 1);
		w->first[w->depth - 1] = false;
		return true;
	case F_OBJ_VAL:
		w->st[w->depth - 1] = F_OBJ_KEY;
		return true;
	case F_OBJ_KEY:
	default:
		w->failed = true; /* a value where a key is due */
		return false;
	}
}

/* After a scalar or a closed container. */
static void value_done(struct jsonw *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void open_(struct jsonw *w, enum frame f, char c)
{
	if (!value_prefix(w))
		return;
	if (w->depth == JSONW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	put(w, &c, 1);
	w->st[w->depth] = f;
	w->first[w->depth] = true;
	w->depth++;
}

static void close_(struct jsonw *w, bool obj, char c)
{
	if (w->failed)
		return;
	if (w->depth == 0 || (obj ? w->st[w->depth - 1] != F_OBJ_KEY : w->st[w->depth - 1] != F_ARR)) {
		w->failed = true; /* unbalanced, or an object closed after a key without its value */
		return;
	}
	put(w, &c, 1);
	w->depth--;
	value_done(w);
}

void jsonw_obj_begin(struct jsonw *w) { open_(w, F_OBJ_KEY, '{'); }
void jsonw_obj_end(struct jsonw *w) { close_(w, true, '}'); }
void jsonw_arr_begin(struct jsonw *w) { open_(w, F_ARR, '['); }
void jsonw_arr_end(struct jsonw *w) { close_(w, false, ']'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not one
 * (RFC 3629 section 4: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

static void put_string(struct jsonw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	put(w, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char u[8];
		size_t k;

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(u, sizeof u, "\\u%04x", c);
				esc = u;
			}
		}
		if (esc) {
			put(w, str + run, i - run);
			puts_(w, esc);
			run = ++i;
			continue;
		}
		k = utf8_seq(s + i, n - i);
		if (k == 0) {
			put(w, str + run, i - run);
			puts_(w, "\xef\xbf\xbd"); /* U+FFFD REPLACEMENT CHARACTER */
			run = ++i;
			continue;
		}
		i += k;
	}
	put(w, str + run, i - run);
	put(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
	if (w->failed)
		return;
	if (w->depth == 0 || w->st[w->depth - 1] != F_OBJ_KEY || !key) {
		w->failed = true;
		return;
	}
	if (!w->first[w->depth - 1])
		put(w, ",", 1);
	w->first[w->depth - 1] = false;
	put_string(w, key, strlen(key));
	put(w, ":", 1);
	w->st[w->depth - 1] = F_OBJ_VAL;
}

static void scalar(struct jsonw *w, const char *text)
{
	if (!value_prefix(w))
		return;
	puts_(w, text);
	value_done(w);
}

void jsonw_strn(struct jsonw *w, const char *s, size_t len)
{
	if (!s) {
		scalar(w, "null");
		return;
	}
	if (!value_prefix(w))
		return;
	put_string(w, s, len);
	value_done(w);
}

void jsonw_str(struct jsonw *w, const char *s)
{
	jsonw_strn(w, s, s ? strlen(s) : 0);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char t[32];

	snprintf(t, sizeof t, "%" PRId64, v);
	scalar(w, t);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	char t[32];

	snprintf(t, sizeof t, "%" PRIu64, v);
	scalar(w, t);
}

void jsonw_double(struct jsonw *w, double v)
{
	char t[40];

	if (!isfinite(v)) {
		scalar(w, "null");
		return;
	}
	/* The shortest of %.15g and %.17g that reads back as the same double. */
	snprintf(t, sizeof t, "%.15g", v);
	if (strtod(t, NULL) != v)
		snprintf(t, sizeof t, "%.17g", v);
	scalar(w, t);
}

void jsonw_num_text(struct jsonw *w, const char *digits)
{
	size_t n = digits ? strlen(digits) : 0;
	bool ok = n > 0 && n < 64 && (n == 1 || digits[0] != '0');

	for (size_t i = 0; ok && i < n; i++)
		ok = digits[i] >= '0' && digits[i] <= '9';
	scalar(w, ok ? digits : "null");
}

void jsonw_bool(struct jsonw *w, bool v) { scalar(w, v ? "true" : "false"); }
void jsonw_null(struct jsonw *w) { scalar(w, "null"); }

void jsonw_kv_str(struct jsonw *w, const char *key, const char *v)
{
	jsonw_key(w, key);
	jsonw_str(w, v);
}

void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_uint(w, v);
}

void jsonw_kv_double(struct jsonw *w, const char *key, double v)
{
	jsonw_key(w, key);
	jsonw_double(w, v);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void jsonw_kv_null(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_null(w);
}

bool jsonw_ok(const struct jsonw *w)
{
	return !w->failed && w->depth == 0 && w->done;
}

bool jsonw_failed(const struct jsonw *w)
{
	return w->failed;
}

const char *jsonw_data(const struct jsonw *w, size_t *len)
{
	if (len)
		*len = w->buf ? w->len : 0;
	return w->buf ? w->buf : "";
}
