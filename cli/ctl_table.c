/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_table: turns a daemon's JSON reply into what an operator reads (aligned columns, like birdc).
 *
 * The replies it knows (the daemons' side of the contract; fields may be missing or null, shown
 * as "-"; extra fields are ignored, so a newer daemon still prints):
 *   status         {"daemon","version","node","pid","uptime_s","source","synced","leader",
 *                   "ready","not_ready_reason","config":{"path","loaded","stale","reloads",
 *                   "rejected"}}
 *   services       {"services":[{"service","ips":[..],"pool","mode","owner","nodes":[..],"reason"}]}
 *   announcements  {"node","announcements":[{"ip","service","interface","mode","age_s"}]}
 *   peers          {"peers":[{"name","address","port","peer_asn","my_asn","state","uptime_s",
 *                   "prefixes_sent","prefixes_received","last_error",
 *                   "last_notification":{"direction","code","subcode","text","age_s"}}]}
 *   pools          {"pools":[{"pool","family","size","used","held","free"}]}
 *   help           {"commands":[{"name","help"}]}
 * cJSON stays inside this file. */
#include "ctl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum col_kind {
	COL_TEXT,     /* string, number, bool, or a list joined with "," */
	COL_NUM,      /* right-aligned */
	COL_AGE,      /* seconds → "5m12s" */
	COL_NODES,    /* "owner" if set, else "nodes" joined */
	COL_NOTIF,    /* a last_notification object */
};

struct col {
	const char *head;
	const char *key;
	enum col_kind kind;
};

struct view {
	const char *cmd;
	const char *list; /* the array in the reply */
	const struct col *cols;
	size_t n_cols;
};

static const struct col services_cols[] = {
	{ "SERVICE", "service", COL_TEXT }, { "IP", "ips", COL_TEXT },
	{ "POOL", "pool", COL_TEXT },       { "NODES", NULL, COL_NODES },
	{ "WHY", "reason", COL_TEXT },
};
static const struct col announcements_cols[] = {
	{ "IP", "ip", COL_TEXT },         { "SERVICE", "service", COL_TEXT },
	{ "INTERFACE", "interface", COL_TEXT }, { "MODE", "mode", COL_TEXT },
	{ "SINCE", "age_s", COL_AGE },
};
static const struct col peers_cols[] = {
	{ "PEER", "name", COL_TEXT },       { "ADDRESS", "address", COL_TEXT },
	{ "ASN", "peer_asn", COL_NUM },     { "STATE", "state", COL_TEXT },
	{ "UPTIME", "uptime_s", COL_AGE },  { "SENT", "prefixes_sent", COL_NUM },
	{ "LAST ERROR", "last_error", COL_TEXT },
	{ "LAST NOTIFICATION", "last_notification", COL_NOTIF },
};
static const struct col pools_cols[] = {
	{ "POOL", "pool", COL_TEXT }, { "FAMILY", "family", COL_TEXT }, { "SIZE", "size", COL_NUM },
	{ "USED", "used", COL_NUM },  { "FREE", "free", COL_NUM },
};
static const struct col help_cols[] = {
	{ "COMMAND", "name", COL_TEXT },
	{ "DESCRIPTION", "help", COL_TEXT },
};

#define VIEW(c, l, cols) { c, l, cols, sizeof cols / sizeof cols[0] }
static const struct view views[] = {
	VIEW("services", "services", services_cols),
	VIEW("announcements", "announcements", announcements_cols),
	VIEW("peers", "peers", peers_cols),
	VIEW("pools", "pools", pools_cols),
	VIEW("help", "commands", help_cols),
};

/* ---------- cells ---------- */

struct cbuf {
	char *p;
	size_t len, cap;
};

static void cb_put(struct cbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	/* a remote peer's text must not move the cursor or ring the bell */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		b->p[b->len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	b->p[b->len] = '\0';
}

void ctl_format_duration(double s, char *buf, size_t len)
{
	unsigned long long t;

	if (!(s >= 0) || s > 1e15) {
		snprintf(buf, len, "-");
		return;
	}
	t = (unsigned long long)s;
	if (t < 60)
		snprintf(buf, len, "%llus", t);
	else if (t < 3600)
		snprintf(buf, len, "%llum%02llus", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%lluh%02llum", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%llud%02lluh", t / 86400, t % 86400 / 3600);
}

static void format_number(double v, char *buf, size_t len)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

/* Any JSON value as one short cell. */
static void put_value(struct cbuf *b, const cJSON *v)
{
	char t[64];

	if (!v || cJSON_IsNull(v)) {
		cb_put(b, "-");
	} else if (cJSON_IsString(v)) {
		cb_put(b, v->valuestring[0] ? v->valuestring : "-");
	} else if (cJSON_IsNumber(v)) {
		format_number(v->valuedouble, t, sizeof t);
		cb_put(b, t);
	} else if (cJSON_IsBool(v)) {
		cb_put(b, cJSON_IsTrue(v) ? "yes" : "no");
	} else if (cJSON_IsArray(v)) {
		const cJSON *it;
		size_t i = 0;
		cJSON_ArrayForEach(it, v) {
			if (i++)
				cb_put(b, ",");
			put_value(b, it);
		}
		if (i == 0)
			cb_put(b, "-");
	} else {
		char *s = cJSON_PrintUnformatted(v);
		cb_put(b, s ? s : "?");
		free(s);
	}
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static char *cell(const cJSON *row, const struct col *c)
{
	struct cbuf b = { 0 };
	const cJSON *v = c->key ? get(row, c->key) : NULL;
	char t[64];

	switch (c->kind) {
	case COL_AGE:
		if (cJSON_IsNumber(v)) {
			ctl_format_duration(v->valuedouble, t, sizeof t);
			cb_put(&b, t);
		} else {
			put_value(&b, v);
		}
		break;
	case COL_NODES: {
		const cJSON *owner = get(row, "owner");
		if (cJSON_IsString(owner) && owner->valuestring[0])
			cb_put(&b, owner->valuestring);
		else
			put_value(&b, get(row, "nodes"));
		break;
	}
	case COL_NOTIF:
		if (!cJSON_IsObject(v)) {
			put_value(&b, v);
			break;
		}
		put_value(&b, get(v, "direction"));
		cb_put(&b, " ");
		put_value(&b, get(v, "code"));
		cb_put(&b, "/");
		put_value(&b, get(v, "subcode"));
		if (cJSON_IsString(get(v, "text"))) {
			cb_put(&b, " ");
			cb_put(&b, get(v, "text")->valuestring);
		}
		if (cJSON_IsNumber(get(v, "age_s"))) {
			ctl_format_duration(get(v, "age_s")->valuedouble, t, sizeof t);
			cb_put(&b, " (");
			cb_put(&b, t);
			cb_put(&b, " ago)");
		}
		break;
	case COL_TEXT:
	case COL_NUM:
	default:
		put_value(&b, v);
	}
	return b.p;
}

/* Display width: UTF-8 code points (no double-width or combining characters in what daemons
 * send: names and addresses). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_cell(FILE *f, const char *s, size_t w, bool right, bool last)
{
	size_t pad = w - width(s);

	if (right)
		fprintf(f, "%*s%s", (int)pad, "", s);
	else if (last)
		fputs(s, f);
	else
		fprintf(f, "%s%*s", s, (int)pad, "");
}

static void print_table(FILE *f, const struct view *v, const cJSON *rows)
{
	size_t n = (size_t)cJSON_GetArraySize(rows), w[16] = { 0 };
	char **cells = calloc(n * v->n_cols + 1, sizeof *cells);
	const cJSON *row;
	size_t r = 0;

	if (!cells)
		abort();
	for (size_t c = 0; c < v->n_cols; c++)
		w[c] = width(v->cols[c].head);
	cJSON_ArrayForEach(row, rows) {
		for (size_t c = 0; c < v->n_cols; c++) {
			char *s = cell(row, &v->cols[c]);
			cells[r * v->n_cols + c] = s;
			if (width(s) > w[c])
				w[c] = width(s);
		}
		r++;
	}
	for (size_t i = 0; i <= n; i++) {
		for (size_t c = 0; c < v->n_cols; c++) {
			const char *s = i == 0 ? v->cols[c].head : cells[(i - 1) * v->n_cols + c];
			bool last = c + 1 == v->n_cols;
			print_cell(f, s, w[c], v->cols[c].kind == COL_NUM, last);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < n * v->n_cols; i++)
		free(cells[i]);
	free(cells);
}

/* ---------- status ---------- */

static void kv_line(FILE *f, const char *key, const char *val)
{
	struct cbuf b = { 0 };

	cb_put(&b, val);
	fprintf(f, "%-8s  %s\n", key, b.p);
	free(b.p);
}

static char *value_text(const cJSON *v)
{
	struct cbuf b = { 0 };

	put_value(&b, v);
	return b.p;
}

static void print_status(FILE *f, const cJSON *root)
{
	const cJSON *cfg = get(root, "config"), *v;
	char line[1024], t[64], *a, *b;

	a = value_text(get(root, "daemon"));
	b = value_text(get(root, "version"));
	snprintf(line, sizeof line, "%s %s", a, b);
	kv_line(f, "daemon", line);
	free(a);
	free(b);
	if ((v = get(root, "node")) && !cJSON_IsNull(v)) {
		a = value_text(v);
		kv_line(f, "node", a);
		free(a);
	}
	if (cJSON_IsNumber(get(root, "pid"))) {
		snprintf(line, sizeof line, "%.0f", get(root, "pid")->valuedouble);
		kv_line(f, "pid", line);
	}
	if (cJSON_IsNumber(get(root, "uptime_s"))) {
		ctl_format_duration(get(root, "uptime_s")->valuedouble, t, sizeof t);
		kv_line(f, "uptime", t);
	}
	if (cJSON_IsObject(cfg)) {
		const cJSON *rl = get(cfg, "reloads"), *rj = get(cfg, "rejected");
		a = value_text(get(cfg, "path"));
		snprintf(line, sizeof line, "%s: %s, %.0f reloads, %.0f rejected%s", a,
			 cJSON_IsTrue(get(cfg, "loaded")) ? "loaded" : "NOT LOADED",
			 cJSON_IsNumber(rl) ? rl->valuedouble : 0,
			 cJSON_IsNumber(rj) ? rj->valuedouble : 0,
			 cJSON_IsTrue(get(cfg, "stale"))
				 ? "; STALE: the last change was rejected, the previous config is in force"
				 : "");
		kv_line(f, "config", line);
		free(a);
	}
	if ((v = get(root, "synced"))) {
		a = value_text(get(root, "source"));
		snprintf(line, sizeof line, "%s (source %s)",
			 cJSON_IsTrue(v) ? "synced" : "NOT SYNCED: waiting for the first full list", a);
		kv_line(f, "sync", line);
		free(a);
	}
	if ((v = get(root, "leader")) && !cJSON_IsNull(v))
		kv_line(f, "leader", cJSON_IsTrue(v) ? "yes (allocating)" : "no (standing by)");
	if ((v = get(root, "ready"))) {
		if (cJSON_IsTrue(v)) {
			kv_line(f, "ready", "yes");
		} else {
			a = value_text(get(root, "not_ready_reason"));
			snprintf(line, sizeof line, "no: %s", a);
			kv_line(f, "ready", line);
			free(a);
		}
	}
}

/* ---------- entry points ---------- */

int ctl_reply_error(const char *json, char *msg, size_t len)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *e;
	int rc = 0;

	if (!root)
		return -1;
	e = cJSON_IsObject(root) ? get(root, "error") : NULL;
	if (e) {
		snprintf(msg, len, "%s", cJSON_IsString(e) ? e->valuestring : "error");
		rc = 1;
	}
	cJSON_Delete(root);
	return rc;
}

int ctl_print(FILE *f, const char *cmd, const char *json, char *err, size_t err_len)
{
	cJSON *root = cJSON_Parse(json);
	const struct view *v = NULL;

	if (!root) {
		snprintf(err, err_len, "the daemon's reply is not JSON");
		return -1;
	}
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
		if (strcmp(views[i].cmd, cmd) == 0)
			v = &views[i];
	if (strcmp(cmd, "status") == 0 && cJSON_IsObject(root)) {
		print_status(f, root);
	} else if (v && cJSON_IsArray(get(root, v->list))) {
		print_table(f, v, get(root, v->list));
	} else {
		char *s = cJSON_Print(root);
		fprintf(f, "%s\n", s ? s : "");
		free(s);
	}
	cJSON_Delete(root);
	return 0;
}
