/* SPDX-License-Identifier: Apache-2.0 */
/* config_common: typed readers of YAML nodes, key checks with hints, label selectors, communities
 * and pool address lists, shared by the CRD and legacy forms. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

#define FIELD_MAX 256

void cfg_field(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

struct cfg_pos cfg_pos_of(const struct cfg_ctx *c, const struct ynode *n)
{
	struct cfg_pos p = {0, 0};
	if (n) {
		p.line = n->line + c->line_off;
		p.col = n->col + c->col_off;
	}
	return p;
}

/* Short, printable description of a node for "got ..." in messages. */
static const char *describe(struct cfg_ctx *c, const struct ynode *n, char *buf, size_t size)
{
	if (!n)
		return "nothing";
	if (n->kind != YN_SCALAR)
		return ynode_kind_name(n->kind);
	if (yscalar_is_null(n))
		return "null";
	size_t o = 0;
	buf[o++] = '"';
	for (size_t i = 0; i < n->len && o + 8 < size; i++) {
		unsigned char ch = (unsigned char)n->str[i];
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
		if (i + 1 < n->len && o + 8 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	(void)c;
	return buf;
}

#define DESC(n) describe(c, (n), descbuf, sizeof(descbuf))

int cfg_want_map(struct cfg_ctx *c, const struct ynode *n, const char *field)
{
	char descbuf[96];
	if (n && n->kind == YN_MAP)
		return 0;
	cfg_error(c, n, "%s: expected a mapping, got %s", field, DESC(n));
	return -1;
}

/* A scalar usable as text: not null, no NUL byte inside. */
static int want_text(struct cfg_ctx *c, const struct ynode *n, const char *field, const char *what)
{
	char descbuf[96];
	if (!n || n->kind != YN_SCALAR || yscalar_is_null(n)) {
		cfg_error(c, n, "%s: expected %s, got %s", field, what, DESC(n));
		return -1;
	}
	if (strlen(n->str) != n->len) {
		cfg_error(c, n, "%s: a NUL character is not allowed here", field);
		return -1;
	}
	return 0;
}

int cfg_get_string(struct cfg_ctx *c, const struct ynode *n, const char *field, char **out)
{
	if (want_text(c, n, field, "a string") < 0)
		return -1;
	*out = arena_strdup(c->cfg->mem, n->str);
	return 0;
}

int cfg_get_bool(struct cfg_ctx *c, const struct ynode *n, const char *field, bool *out)
{
	char descbuf[96];
	/* YAML 1.1 spellings too: sigs.k8s.io/yaml (what kubectl uses) reads them as booleans. */
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
	if (n && n->kind == YN_SCALAR && n->plain) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(n->str, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcmp(n->str, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	cfg_error(c, n, "%s: expected true or false, got %s%s", field, DESC(n),
		  n && n->kind == YN_SCALAR && !n->plain ? " (quoted, so a string)" : "");
	return -1;
}

/* Decimal digits with an optional sign; -1 if malformed. *neg tells the sign; value saturates at
 * UINT64_MAX (reported as out of range by the callers). */
static int parse_decimal(const char *s, bool *neg, uint64_t *v)
{
	*neg = false;
	*v = 0;
	if (*s == '+' || *s == '-')
		*neg = *s++ == '-';
	if (!*s)
		return -1;
	bool sat = false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (*v > (UINT64_MAX - d) / 10)
			sat = true;
		else
			*v = *v * 10 + d;
	}
	if (sat)
		*v = UINT64_MAX;
	return 0;
}

static int want_number(struct cfg_ctx *c, const struct ynode *n, const char *field, bool *neg,
		       uint64_t *v)
{
	char descbuf[96];
	if (!n || n->kind != YN_SCALAR || !n->plain || yscalar_is_null(n) ||
	    strlen(n->str) != n->len || parse_decimal(n->str, neg, v) < 0) {
		cfg_error(c, n, "%s: expected an integer, got %s%s", field, DESC(n),
			  n && n->kind == YN_SCALAR && !n->plain ? " (quoted, so a string)" : "");
		return -1;
	}
	return 0;
}

int cfg_get_uint(struct cfg_ctx *c, const struct ynode *n, const char *field, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	bool neg;
	uint64_t v;
	if (want_number(c, n, field, &neg, &v) < 0)
		return -1;
	if ((neg && v != 0) || v < min || v > max) {
		cfg_error(c, n, "%s: %s is out of range, expected %" PRIu64 "..%" PRIu64, field, n->str,
			  min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_get_int(struct cfg_ctx *c, const struct ynode *n, const char *field, int64_t min,
		int64_t max, int64_t *out)
{
	bool neg;
	uint64_t v;
	if (want_number(c, n, field, &neg, &v) < 0)
		return -1;
	int64_t sv;
	bool ok;
	if (neg) {
		ok = v <= (uint64_t)INT64_MAX + 1;
		sv = ok ? (int64_t)(0 - v) : 0;
	} else {
		ok = v <= (uint64_t)INT64_MAX;
		sv = ok ? (int64_t)v : 0;
	}
	if (!ok || sv < min || sv > max) {
		cfg_error(c, n, "%s: %s is out of range, expected %" PRId64 "..%" PRId64, field, n->str,
			  min, max);
		return -1;
	}
	*out = sv;
	return 0;
}

/* Go's time.ParseDuration: [sign] then one or more <decimal number><unit>, or a lone "0". Negative
 * durations are refused (no timer here can be negative). */
int cfg_parse_duration_ns(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"ns", 1},           {"us", 1000},          {"\xc2\xb5s", 1000},
		     {"\xce\xbcs", 1000}, {"ms", 1000000},       {"s", 1000000000ull},
		     {"m", 60000000000ull}, {"h", 3600000000000ull}};
	if (*s == '+')
		s++;
	else if (*s == '-')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -1;
	uint64_t total = 0;
	while (*s) {
		uint64_t whole = 0;
		bool digits = false, wsat = false;
		while (*s >= '0' && *s <= '9') {
			digits = true;
			unsigned d = (unsigned)(*s++ - '0');
			if (whole > (UINT64_MAX - d) / 10)
				wsat = true;
			else
				whole = whole * 10 + d;
		}
		uint64_t frac = 0, scale = 1;
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				digits = true;
				/* digits past 10^18 cannot change a whole nanosecond count that fits */
				if (scale < 1000000000000000000ull) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
				s++;
			}
		}
		if (!digits || wsat)
			return -1;
		size_t best = 0, best_len = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, ul) == 0 && ul > best_len) {
				best = i;
				best_len = ul;
			}
		}
		if (!best_len)
			return -1;
		s += best_len;
		uint64_t u = units[best].ns, part;
		if (__builtin_mul_overflow(whole, u, &part))
			return -1;
		/* frac/scale of a unit; computed in 128 bits so that it cannot overflow */
		unsigned __int128 fp = (unsigned __int128)frac * u / scale;
		if (__builtin_add_overflow(part, (uint64_t)fp, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -1;
	}
	*ns = total;
	return 0;
}

int cfg_get_duration_s(struct cfg_ctx *c, const struct ynode *n, const char *field, uint32_t *out)
{
	char descbuf[96];
	if (want_text(c, n, field, "a duration such as \"90s\" or \"1m30s\"") < 0)
		return -1;
	bool neg;
	uint64_t v;
	if (n->plain && parse_decimal(n->str, &neg, &v) == 0) {
		cfg_error(c, n, "%s: %s has no unit, expected a duration such as \"%ss\"", field,
			  DESC(n), n->str);
		return -1;
	}
	uint64_t ns;
	if (n->str[0] == '-') {
		cfg_error(c, n, "%s: %s is negative, expected a duration of 0s or more", field, DESC(n));
		return -1;
	}
	if (cfg_parse_duration_ns(n->str, &ns) < 0) {
		cfg_error(c, n, "%s: %s is not a duration, expected e.g. \"90s\", \"1m30s\" or \"500ms\"",
			  field, DESC(n));
		return -1;
	}
	uint64_t secs = ns / 1000000000ull;
	if (secs > UINT32_MAX) {
		cfg_error(c, n, "%s: %s is too long", field, DESC(n));
		return -1;
	}
	*out = (uint32_t)secs;
	return 0;
}

int cfg_get_addr(struct cfg_ctx *c, const struct ynode *n, const char *field, addr_t *out)
{
	char descbuf[96];
	if (want_text(c, n, field, "an IP address") < 0)
		return -1;
	if (addr_parse(n->str, out) < 0) {
		cfg_error(c, n, "%s: %s is not an IP address", field, DESC(n));
		return -1;
	}
	return 0;
}

int cfg_get_string_list(struct cfg_ctx *c, const struct ynode *n, const char *field, char ***out,
			size_t *n_out)
{
	char descbuf[96];
	*out = NULL;
	*n_out = 0;
	if (!n || yscalar_is_null(n))
		return 0;
	if (n->kind != YN_SEQ) {
		cfg_error(c, n, "%s: expected a list of strings, got %s", field, DESC(n));
		return -1;
	}
	char **v = arena_array(c->cfg->mem, n->n_items, sizeof(*v));
	int rc = 0;
	for (size_t i = 0; i < n->n_items; i++) {
		char f[FIELD_MAX];
		cfg_field(f, sizeof(f), "%s[%zu]", field, i);
		if (cfg_get_string(c, n->items[i], f, &v[i]) < 0)
			rc = -1;
	}
	if (rc == 0) {
		*out = v;
		*n_out = n->n_items;
	}
	return rc;
}

/* ---------- duplicates ---------- */

struct str_idx {
	const char *s;
	size_t i;
};

static int str_idx_cmp(const void *a, const void *b)
{
	const struct str_idx *x = a, *y = b;
	int r = strcmp(x->s, y->s);
	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

size_t *cfg_dup_index(const char *const *s, size_t n)
{
	if (n == 0)
		return NULL;
	size_t *out = malloc(n * sizeof(*out));
	struct str_idx *v = malloc(n * sizeof(*v));
	if (!out || !v)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		out[i] = SIZE_MAX;
		if (s[i])
			v[k++] = (struct str_idx){s[i], i};
	}
	qsort(v, k, sizeof(*v), str_idx_cmp);
	for (size_t i = 1; i < k; i++) {
		size_t first = i - 1;
		if (strcmp(v[i].s, v[first].s) != 0)
			continue;
		/* v[first] is either the run's first or already points at it */
		out[v[i].i] = out[v[first].i] != SIZE_MAX ? out[v[first].i] : v[first].i;
	}
	free(v);
	return out;
}

/* ---------- keys ---------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = diag + cost;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The allowed key closest to `key`, if close enough to be a likely typo. */
static const char *near_miss(const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; allowed[i]; i++) {
		size_t d = strcasecmp(key, allowed[i]) == 0 ? 0 : edit_distance(key, allowed[i]);
		/* a two-letter change on a very short key is not a hint, it is a different word */
		size_t limit = strlen(allowed[i]) <= 4 ? 1 : 2;
		if (d <= limit && d < best_d) {
			best = allowed[i];
			best_d = d;
		}
	}
	return best;
}

int cfg_check_keys(struct cfg_ctx *c, const struct ynode *map, const char *field,
		   const char *const *allowed)
{
	char descbuf[96];
	if (!map || map->kind != YN_MAP)
		return 0;
	int bad = 0;
	const char *sep = field && *field ? "." : "";
	if (!field)
		field = "";
	const char **names = malloc((map->n_pairs ? map->n_pairs : 1) * sizeof(*names));
	if (!names)
		abort();
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		names[i] = k->kind == YN_SCALAR && strlen(k->str) == k->len ? k->str : NULL;
	}
	size_t *dups = cfg_dup_index(names, map->n_pairs);
	free(names);
	for (size_t i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		if (k->kind != YN_SCALAR || strlen(k->str) != k->len) {
			cfg_error(c, k, "%s: expected a string key, got %s", *field ? field : "key",
				  DESC(k));
			bad++;
			continue;
		}
		if (dups[i] != SIZE_MAX) {
			struct cfg_pos p = cfg_pos_of(c, map->pairs[dups[i]].key);
			cfg_error(c, k, "%s%s%s: duplicate key (first at line %d)", field, sep, k->str,
				  p.line);
			bad++;
			continue;
		}
		bool ok = false;
		for (size_t j = 0; allowed[j] && !ok; j++)
			ok = strcmp(k->str, allowed[j]) == 0;
		if (ok)
			continue;
		bad++;
		const char *hint = near_miss(k->str, allowed);
		if (hint)
			cfg_error(c, k, "%s%s%s: unknown field, did you mean \"%s\"?", field, sep, k->str,
				  hint);
		else
			cfg_error(c, k, "%s%s%s: unknown field", field, sep, k->str);
	}
	free(dups);
	return bad;
}

/* ---------- labels and selectors ---------- */

static bool is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Kubernetes label name / value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
static bool label_name_ok(const char *s, size_t len, bool allow_empty)
{
	if (len == 0)
		return allow_empty;
	if (len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool dns_subdomain_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t l = i - start;
			if (l == 0 || l > 63 || s[start] == '-' || s[i - 1] == '-')
				return false;
			start = i + 1;
		} else if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
			return false;
		}
	}
	return true;
}

/* "prefix/name" or "name": what Kubernetes accepts as a label key. */
static bool label_key_ok(const char *k)
{
	const char *slash = strchr(k, '/');
	if (!slash)
		return label_name_ok(k, strlen(k), false);
	return dns_subdomain_ok(k, (size_t)(slash - k)) &&
	       label_name_ok(slash + 1, strlen(slash + 1), false);
}

bool cfg_dns1123_subdomain_ok(const char *s)
{
	return dns_subdomain_ok(s, strlen(s));
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cfg_label *)a)->key, ((const struct cfg_label *)b)->key);
}

int cfg_get_labels(struct cfg_ctx *c, const struct ynode *n, const char *field,
		   struct cfg_label **out, size_t *n_out)
{
	char descbuf[96];
	*out = NULL;
	*n_out = 0;
	if (!n || yscalar_is_null(n))
		return 0;
	if (cfg_want_map(c, n, field) < 0)
		return -1;
	struct cfg_label *v = arena_array(c->cfg->mem, n->n_pairs, sizeof(*v));
	size_t cnt = 0;
	int rc = 0;
	for (size_t i = 0; i < n->n_pairs; i++) {
		const struct ynode *k = n->pairs[i].key, *val = n->pairs[i].val;
		char f[FIELD_MAX];
		if (want_text(c, k, field, "a label key") < 0) {
			rc = -1;
			continue;
		}
		cfg_field(f, sizeof(f), "%s.%s", field, k->str);
		if (!label_key_ok(k->str)) {
			cfg_error(c, k, "%s: %s is not a valid label key, expected [prefix/]name with a "
				  "name of at most 63 letters, digits, '-', '_' or '.'", f, DESC(k));
			rc = -1;
			continue;
		}
		const char *value = "";
		if (!yscalar_is_null(val)) {
			if (want_text(c, val, f, "a label value (a string)") < 0) {
				rc = -1;
				continue;
			}
			value = val->str;
		}
		if (!label_name_ok(value, strlen(value), true)) {
			cfg_error(c, val, "%s: %s is not a valid label value, expected at most 63 letters, "
				  "digits, '-', '_' or '.'", f, DESC(val));
			rc = -1;
			continue;
		}
		v[cnt].key = arena_strdup(c->cfg->mem, k->str);
		v[cnt].value = arena_strdup(c->cfg->mem, value);
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), label_cmp);
	/* Equal keys are neighbours once sorted (a YAML duplicate key, or two spellings of one
	 * key such as "a" and 'a'). */
	for (size_t i = 1; i < cnt; i++)
		if (strcmp(v[i].key, v[i - 1].key) == 0) {
			cfg_error(c, n, "%s: label key \"%s\" is given twice", field, v[i].key);
			rc = -1;
		}
	*out = v;
	*n_out = cnt;
	return rc;
}

static int get_expr(struct cfg_ctx *c, const struct ynode *n, const char *field, bool legacy,
		    struct cfg_sel_expr *e)
{
	static const char *const keys[] = {"key", "operator", "values", NULL};
	char descbuf[96];
	if (cfg_want_map(c, n, field) < 0)
		return -1;
	int rc = cfg_check_keys(c, n, field, keys) ? -1 : 0;
	char f[FIELD_MAX];
	const struct ynode *k = ymap_get(n, "key"), *op = ymap_get(n, "operator"),
			   *vals = ymap_get(n, "values");
	if (!k) {
		cfg_error(c, n, "%s.key: required field missing", field);
		rc = -1;
	} else {
		cfg_field(f, sizeof(f), "%s.key", field);
		if (cfg_get_string(c, k, f, &e->key) < 0) {
			rc = -1;
		} else if (!label_key_ok(e->key)) {
			cfg_error(c, k, "%s: %s is not a valid label key", f, DESC(k));
			rc = -1;
		}
	}
	cfg_field(f, sizeof(f), "%s.operator", field);
	char *ops = NULL;
	if (!op) {
		cfg_error(c, n, "%s: required field missing (In, NotIn, Exists or DoesNotExist)", f);
		rc = -1;
	} else if (cfg_get_string(c, op, f, &ops) < 0) {
		rc = -1;
	} else if (strcmp(ops, "In") == 0) {
		e->op = CFG_SEL_IN;
	} else if (strcmp(ops, "NotIn") == 0) {
		e->op = CFG_SEL_NOT_IN;
	} else if (strcmp(ops, "Exists") == 0) {
		e->op = CFG_SEL_EXISTS;
	} else if (strcmp(ops, "DoesNotExist") == 0) {
		e->op = CFG_SEL_DOES_NOT_EXIST;
	} else {
		cfg_error(c, op, "%s: %s is not an operator, expected In, NotIn, Exists or DoesNotExist",
			  f, DESC(op));
		rc = -1;
		ops = NULL;
	}
	cfg_field(f, sizeof(f), "%s.values", field);
	if (cfg_get_string_list(c, vals, f, &e->values, &e->n_values) < 0)
		return -1;
	if (ops && rc == 0) {
		bool need = e->op == CFG_SEL_IN || e->op == CFG_SEL_NOT_IN;
		if (need && e->n_values == 0) {
			cfg_error(c, vals ? vals : n, "%s: %s needs at least one value", f, ops);
			rc = -1;
		} else if (!need && e->n_values) {
			cfg_error(c, vals, "%s: must be empty with operator %s", f, ops);
			rc = -1;
		}
	}
	for (size_t i = 0; i < e->n_values; i++) {
		if (!label_name_ok(e->values[i], strlen(e->values[i]), true)) {
			cfg_error(c, vals->items[i], "%s[%zu]: \"%s\" is not a valid label value", f, i,
				  e->values[i]);
			rc = -1;
		}
	}
	(void)legacy;
	return rc;
}

int cfg_get_selector(struct cfg_ctx *c, const struct ynode *n, const char *field, bool legacy,
		     struct cfg_selector *out)
{
	static const char *const crd_keys[] = {"matchLabels", "matchExpressions", NULL};
	static const char *const leg_keys[] = {"match-labels", "match-expressions", NULL};
	char descbuf[96];
	memset(out, 0, sizeof(*out));
	if (!n || yscalar_is_null(n))
		return 0; /* an empty selector: matches everything */
	if (cfg_want_map(c, n, field) < 0)
		return -1;
	const char *const *keys = legacy ? leg_keys : crd_keys;
	int rc = cfg_check_keys(c, n, field, keys) ? -1 : 0;
	char f[FIELD_MAX];
	cfg_field(f, sizeof(f), "%s.%s", field, keys[0]);
	if (cfg_get_labels(c, ymap_get(n, keys[0]), f, &out->labels, &out->n_labels) < 0)
		rc = -1;
	cfg_field(f, sizeof(f), "%s.%s", field, keys[1]);
	const struct ynode *ex = ymap_get(n, keys[1]);
	if (ex && !yscalar_is_null(ex)) {
		if (ex->kind != YN_SEQ) {
			cfg_error(c, ex, "%s: expected a list, got %s", f, DESC(ex));
			return -1;
		}
		out->exprs = arena_array(c->cfg->mem, ex->n_items, sizeof(*out->exprs));
		for (size_t i = 0; i < ex->n_items; i++) {
			char fi[FIELD_MAX];
			cfg_field(fi, sizeof(fi), "%s[%zu]", f, i);
			if (get_expr(c, ex->items[i], fi, legacy, &out->exprs[out->n_exprs]) < 0)
				rc = -1;
			else
				out->n_exprs++;
		}
	}
	return rc;
}

int cfg_get_selector_list(struct cfg_ctx *c, const struct ynode *n, const char *field, bool legacy,
			  struct cfg_selector **out, size_t *n_out)
{
	char descbuf[96];
	*out = NULL;
	*n_out = 0;
	if (!n || yscalar_is_null(n))
		return 0;
	if (n->kind != YN_SEQ) {
		cfg_error(c, n, "%s: expected a list of label selectors, got %s", field, DESC(n));
		return -1;
	}
	struct cfg_selector *v = arena_array(c->cfg->mem, n->n_items, sizeof(*v));
	int rc = 0;
	for (size_t i = 0; i < n->n_items; i++) {
		char f[FIELD_MAX];
		cfg_field(f, sizeof(f), "%s[%zu]", field, i);
		if (cfg_get_selector(c, n->items[i], f, legacy, &v[i]) < 0)
			rc = -1;
	}
	*out = v;
	*n_out = n->n_items;
	return rc;
}

static const char *label_get(const struct cfg_label *labels, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].value;
	return NULL;
}

bool cfg_selector_matches(const struct cfg_selector *s, const struct cfg_label *labels, size_t n)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		const char *v = label_get(labels, n, s->labels[i].key);
		if (!v || strcmp(v, s->labels[i].value) != 0)
			return false;
	}
	for (size_t i = 0; i < s->n_exprs; i++) {
		const struct cfg_sel_expr *e = &s->exprs[i];
		const char *v = label_get(labels, n, e->key);
		bool in = false;
		for (size_t j = 0; v && j < e->n_values && !in; j++)
			in = strcmp(v, e->values[j]) == 0;
		switch (e->op) {
		case CFG_SEL_IN:
			if (!in)
				return false;
			break;
		case CFG_SEL_NOT_IN: /* Kubernetes: an absent key satisfies NotIn */
			if (in)
				return false;
			break;
		case CFG_SEL_EXISTS:
			if (!v)
				return false;
			break;
		case CFG_SEL_DOES_NOT_EXIST:
			if (v)
				return false;
			break;
		}
	}
	return true;
}

bool cfg_selectors_match_any(const struct cfg_selector *s, size_t n, const struct cfg_label *labels,
			     size_t n_labels)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (cfg_selector_matches(&s[i], labels, n_labels))
			return true;
	return false;
}

/* ---------- communities ---------- */

static int parse_u32_field(const char *s, size_t len, uint64_t max, uint32_t *out)
{
	if (len == 0 || len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int cfg_parse_community(const char *s, struct cfg_community_value *out)
{
	struct cfg_community_value v = {0};
	const char *p = s;
	int parts = 2;
	uint64_t max = 0xffff;
	if (strncmp(s, "large:", 6) == 0) {
		v.large = true;
		p = s + 6;
		parts = 3;
		max = 0xffffffffu;
	}
	uint32_t *dst[3] = {&v.a, &v.b, &v.c};
	for (int i = 0; i < parts; i++) {
		const char *end = strchr(p, ':');
		if (i == parts - 1) {
			if (end)
				return -1;
			end = p + strlen(p);
		} else if (!end) {
			return -1;
		}
		if (parse_u32_field(p, (size_t)(end - p), max, dst[i]) < 0)
			return -1;
		p = *end ? end + 1 : end;
	}
	*out = v;
	return 0;
}

/* ---------- pool addresses ---------- */

/* Why an entry that range_parse refused is wrong, as precisely as the text allows. */
static void explain_bad_entry(struct cfg_ctx *c, const struct ynode *n, const char *field)
{
	char descbuf[96];
	const char *s = n->str;
	const char *dash = strchr(s, '-');
	if (!dash) {
		cfg_error(c, n, "%s: %s is not a CIDR or start-end range", field, DESC(n));
		return;
	}
	char lo[128], hi[128];
	size_t ll = (size_t)(dash - s), hl = strlen(dash + 1);
	while (ll && isspace((unsigned char)s[ll - 1]))
		ll--;
	const char *hs = dash + 1;
	while (*hs && isspace((unsigned char)*hs)) {
		hs++;
		hl--;
	}
	while (hl && isspace((unsigned char)hs[hl - 1]))
		hl--;
	const char *ls = s;
	while (ll && isspace((unsigned char)*ls)) {
		ls++;
		ll--;
	}
	addr_t a, b;
	if (ll >= sizeof(lo) || hl >= sizeof(hi)) {
		cfg_error(c, n, "%s: %s is not a CIDR or start-end range", field, DESC(n));
		return;
	}
	memcpy(lo, ls, ll);
	lo[ll] = '\0';
	memcpy(hi, hs, hl);
	hi[hl] = '\0';
	if (addr_parse(lo, &a) < 0 || addr_parse(hi, &b) < 0)
		cfg_error(c, n, "%s: %s is not a CIDR or start-end range (\"%s\" is not an IP address)",
			  field, DESC(n), addr_parse(lo, &a) < 0 ? lo : hi);
	else if (a.family != b.family)
		cfg_error(c, n, "%s: %s mixes IPv4 and IPv6, expected both ends of one family", field,
			  DESC(n));
	else if (addr_cmp(&a, &b) > 0)
		cfg_error(c, n, "%s: %s starts after it ends, expected start <= end", field, DESC(n));
	else
		cfg_error(c, n, "%s: %s is not a CIDR or start-end range", field, DESC(n));
}

int cfg_parse_pool_addresses(struct cfg_ctx *c, const struct ynode *list, const char *field,
			     struct cfg_pool *p)
{
	char descbuf[96];
	if (!list || yscalar_is_null(list) || (list->kind == YN_SEQ && list->n_items == 0)) {
		cfg_error(c, list, "%s: at least one address (CIDR or start-end range) is required",
			  field);
		return -1;
	}
	if (list->kind != YN_SEQ) {
		cfg_error(c, list, "%s: expected a list of CIDRs or start-end ranges, got %s", field,
			  DESC(list));
		return -1;
	}
	size_t n = list->n_items;
	struct arena *m = c->cfg->mem;
	p->addresses = arena_array(m, n, sizeof(*p->addresses));
	p->ranges = arena_array(m, n, sizeof(*p->ranges));
	p->address_pos = arena_array(m, n, sizeof(*p->address_pos));
	p->n_addresses = 0;
	/* First pass: parse and count CIDRs, so that the CIDR array is allocated once. */
	size_t total = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *e = list->items[i];
		char f[FIELD_MAX];
		cfg_field(f, sizeof(f), "%s[%zu]", field, i);
		if (want_text(c, e, f, "a CIDR or start-end range") < 0) {
			rc = -1;
			continue;
		}
		range_t r;
		if (range_parse(e->str, &r) < 0) {
			explain_bad_entry(c, e, f);
			rc = -1;
			continue;
		}
		size_t k = p->n_addresses++;
		p->addresses[k] = arena_strdup(m, e->str);
		p->ranges[k] = r;
		p->address_pos[k] = cfg_pos_of(c, e);
		total += range_to_prefixes(&r, NULL, 0);
	}
	p->cidrs = arena_array(m, total ? total : 1, sizeof(*p->cidrs));
	p->n_cidrs = 0;
	for (size_t k = 0; k < p->n_addresses; k++)
		p->n_cidrs += range_to_prefixes(&p->ranges[k], p->cidrs + p->n_cidrs, total - p->n_cidrs);
	(void)descbuf;
	return rc;
}
