/* SPDX-License-Identifier: Apache-2.0 */
/* jsonw: a tiny streaming JSON writer into a growing buffer (objects, arrays, strings with
 * escaping, numbers, bools, null). Commas are placed for the caller. The control socket hands one to
 * each command, so that no cJSON type crosses a module edge.
 *
 * Errors are sticky: a misuse (a value where a key is due, an unbalanced end, nesting deeper than
 * JSONW_MAX_DEPTH) or an allocation failure sets the error flag, further calls do nothing, and
 * jsonw_ok() says false. The writer never aborts. */
#ifndef BARELB_JSONW_H
#define BARELB_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 64

struct jsonw;

struct jsonw *jsonw_new(void); /* NULL on allocation failure */
void jsonw_free(struct jsonw *w); /* NULL-safe */
/* Forget everything written (for reuse, or to write an error reply instead). */
void jsonw_reset(struct jsonw *w);

void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
/* Inside an object: the key of the next value. */
void jsonw_key(struct jsonw *w, const char *key);

/* Strings are written as UTF-8; a byte that is not part of valid UTF-8 becomes U+FFFD, so the
 * output is valid JSON whatever the input (names from the API, BGP notification data). */
void jsonw_str(struct jsonw *w, const char *s); /* NULL: null */
void jsonw_strn(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_double(struct jsonw *w, double v); /* NaN and infinities: null (JSON has neither) */
/* A number given as decimal digits (e.g. a 128-bit count); anything else is written as null. */
void jsonw_num_text(struct jsonw *w, const char *digits);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* key + value in one call, for objects */
void jsonw_kv_str(struct jsonw *w, const char *key, const char *v);
void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kv_double(struct jsonw *w, const char *key, double v);
void jsonw_kv_bool(struct jsonw *w, const char *key, bool v);
void jsonw_kv_null(struct jsonw *w, const char *key);

/* True when no error happened and every object and array is closed (a complete document). */
bool jsonw_ok(const struct jsonw *w);
bool jsonw_failed(const struct jsonw *w); /* the sticky error flag alone */
/* The text written so far, NUL-terminated, never NULL (check jsonw_ok() before using it). */
const char *jsonw_data(const struct jsonw *w, size_t *len);

#endif
