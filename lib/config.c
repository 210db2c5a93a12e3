/* SPDX-License-Identifier: Apache-2.0 */
/* config: loading entry points (file and buffer), document dispatch, diagnostics, object slots. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barelb/xalloc.h"
#include "config_internal.h"

/* ---------- diagnostics ---------- */



void cfg_diag_add(struct cfg_diags *d, enum cfg_diag_level lvl, const char *file, int line, int col,
		  const char *msg)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = (struct cfg_diag){
		.level = lvl,
		.file = xstrdup(file ? file : "<config>"),
		.line = line,
		.col = col,
		.msg = xstrdup(msg),
	};
	if (lvl == CFG_ERROR)
		d->n_errors++;
}

static void vdiag(struct cfg_ctx *c, enum cfg_diag_level lvl, int line, int col, const char *fmt,
		  va_list ap) __attribute__((format(printf, 5, 0)));
static void vdiag(struct cfg_ctx *c, enum cfg_diag_level lvl, int line, int col, const char *fmt,
		  va_list ap)
{
	char body[1024], msg[1200];
	vsnprintf(body, sizeof(body), fmt, ap);
	if (c->obj)
		snprintf(msg, sizeof(msg), "%s: %s", c->obj, body);
	else
		snprintf(msg, sizeof(msg), "%s", body);
	cfg_diag_add(c->d, lvl, c->file, line, col, msg);
}

void cfg_error(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	struct cfg_pos p = cfg_pos_of(c, at);
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, CFG_ERROR, p.line, p.col, fmt, ap);
	va_end(ap);
}

void cfg_error_at(struct cfg_ctx *c, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, CFG_ERROR, line, col, fmt, ap);
	va_end(ap);
}

void cfg_diag_at(struct cfg_ctx *c, enum cfg_diag_level lvl, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, lvl, line, col, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	struct cfg_pos p = cfg_pos_of(c, at);
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, CFG_WARNING, p.line, p.col, fmt, ap);
	va_end(ap);
}

void cfg_note(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	struct cfg_pos p = cfg_pos_of(c, at);
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, CFG_NOTE, p.line, p.col, fmt, ap);
	va_end(ap);
}

void cfg_diags_print(const struct cfg_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct cfg_diag *g = &d->v[i];
		const char *lvl = g->level == CFG_WARNING ? "warning: " : g->level == CFG_NOTE ? "note: " : "";
		if (g->line > 0)
			fprintf(f, "%s:%d:%d: %s%s\n", g->file, g->line, g->col, lvl, g->msg);
		else
			fprintf(f, "%s: %s%s\n", g->file, lvl, g->msg);
	}
}

void cfg_diags_free(struct cfg_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = d->n_errors = 0;
}

/* Messages come out in file order (whole-file messages first), whatever check found them; the
 * sort is stable so that messages at one position keep the order they were found in. */
static void sort_diags(struct cfg_diags *d, size_t from)
{
	for (size_t i = from + 1; i < d->n; i++) {
		struct cfg_diag x = d->v[i];
		size_t j = i;
		while (j > from && (d->v[j - 1].line > x.line ||
				    (d->v[j - 1].line == x.line && d->v[j - 1].col > x.col))) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = x;
	}
}

/* ---------- object slots ---------- */

/* Arrays live in the config's arena; growing copies into a new block (the old one is wasted until
 * the arena goes, which is bounded by doubling). A returned slot is valid until the next add of the
 * same kind. */
static void *grow(struct arena *m, void *old, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return old;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = arena_array(m, ncap, size);
	if (n)
		memcpy(p, old, n * size);
	*cap = ncap;
	return p;
}

#define ADD_SLOT(fn, type, arr, cnt, capf)                                                      \
	type *fn(struct cfg_ctx *c)                                                              \
	{                                                                                       \
		struct config *g = c->cfg;                                                      \
		g->arr = grow(g->mem, g->arr, g->cnt, &c->capf, sizeof(*g->arr));               \
		type *s = &g->arr[g->cnt++];                                                     \
		memset(s, 0, sizeof(*s));                                                        \
		return s;                                                                        \
	}

ADD_SLOT(cfg_add_pool, struct cfg_pool, pools, n_pools, cap_pools)
ADD_SLOT(cfg_add_l2adv, struct cfg_l2adv, l2advs, n_l2advs, cap_l2advs)
ADD_SLOT(cfg_add_bgpadv, struct cfg_bgpadv, bgpadvs, n_bgpadvs, cap_bgpadvs)
ADD_SLOT(cfg_add_peer, struct cfg_peer, peers, n_peers, cap_peers)
ADD_SLOT(cfg_add_bfd, struct cfg_bfd, bfds, n_bfds, cap_bfds)
ADD_SLOT(cfg_add_alias, struct cfg_alias, aliases, n_aliases, cap_aliases)

/* ---------- loading ---------- */

void config_free(struct config *c)
{
	if (c)
		arena_free(c->mem);
}

const struct cfg_pool *config_find_pool(const struct config *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_pools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

const struct cfg_peer *config_find_peer(const struct config *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_peers; i++)
		if (strcmp(c->peers[i].name, name) == 0)
			return &c->peers[i];
	return NULL;
}

static bool has_legacy_keys(const struct ynode *root)
{
	static const char *const keys[] = {"peers", "address-pools", "bgp-communities", "bfd-profiles"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (ymap_get(root, keys[i]))
			return true;
	return false;
}

static void parse_doc(struct cfg_ctx *c, const struct ynode *root)
{
	if (yscalar_is_null(root))
		return; /* "---" with nothing after it, or an explicit null */
	if (root->kind != YN_MAP) {
		cfg_error(c, root, "expected a Kubernetes object or a legacy MetalLB config (a mapping), "
			  "got %s", ynode_kind_name(root->kind));
		return;
	}
	if (ymap_get(root, "kind") || ymap_get(root, "apiVersion"))
		config_parse_crd_doc(c, root);
	else if (has_legacy_keys(root))
		config_parse_legacy(c, root);
	else
		cfg_error(c, root, "document has no kind: expected a Kubernetes object (apiVersion, kind, "
			  "metadata, spec) or a legacy MetalLB config (peers, address-pools, "
			  "bgp-communities, bfd-profiles)");
}

int config_load_buf(const char *name, const char *data, size_t len, struct config **out,
		    struct cfg_diags *d)
{
	*out = NULL;
	if (!name)
		name = "<config>";
	size_t first = d->n, errors_before = d->n_errors;
	if (len > CONFIG_MAX_BYTES) {
		char msg[160];
		snprintf(msg, sizeof(msg), "config is %zu bytes, more than the limit of %u bytes", len,
			 CONFIG_MAX_BYTES);
		cfg_diag_add(d, CFG_ERROR, name, 0, 0, msg);
		return -1;
	}
	/* libyaml would stop at a NUL with a "control characters" error; say what it really means. */
	const char *nul = len ? memchr(data, '\0', len) : NULL;
	if (nul) {
		int line = 1, col = 1;
		for (const char *p = data; p < nul; p++) {
			if (*p == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		cfg_diag_add(d, CFG_ERROR, name, line, col,
			     "NUL byte in the config: expected a YAML text file (is this a binary file?)");
		return -1;
	}
	struct ystream ys;
	struct yerror ye;
	if (ystream_parse(data, len, &ys, &ye) < 0) {
		cfg_diag_add(d, CFG_ERROR, name, ye.line, ye.col, ye.msg);
		return -1;
	}
	size_t non_empty = 0;
	for (size_t i = 0; i < ys.n_docs; i++)
		if (ys.docs[i].root && !yscalar_is_null(ys.docs[i].root))
			non_empty++;
	if (non_empty == 0) {
		cfg_diag_add(d, CFG_ERROR, name, 0, 0, "empty config (no documents)");
		ystream_free(&ys);
		return -1;
	}

	struct config *cfg;
	struct arena *mem = arena_new();
	cfg = arena_alloc(mem, sizeof(*cfg));
	cfg->mem = mem;
	cfg->path = arena_strdup(mem, name);
	struct cfg_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.file = cfg->path;
	ctx.d = d;
	ctx.cfg = cfg;
	for (size_t i = 0; i < ys.n_docs; i++) {
		if (!ys.docs[i].root)
			continue;
		ctx.obj = NULL;
		ctx.line_off = ctx.col_off = 0;
		parse_doc(&ctx, ys.docs[i].root);
	}
	ctx.obj = NULL;
	ctx.line_off = ctx.col_off = 0;
	config_validate(&ctx);
	ystream_free(&ys);
	sort_diags(d, first);
	if (d->n_errors > errors_before) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int config_load_file(const char *path, struct config **out, struct cfg_diags *d)
{
	*out = NULL;
	char msg[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		cfg_diag_add(d, CFG_ERROR, path, 0, 0, msg);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof(msg), "not a regular file (%s)",
			 S_ISDIR(st.st_mode) ? "a directory" : "a device, pipe or socket");
		goto fail;
	}
	/* Checked before reading, so that a huge file costs nothing. */
	if ((uintmax_t)st.st_size > CONFIG_MAX_BYTES) {
		snprintf(msg, sizeof(msg), "config is %jd bytes, more than the limit of %u bytes",
			 (intmax_t)st.st_size, CONFIG_MAX_BYTES);
		goto fail;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto fail;
	}
	/* The file may grow between fstat and read; read one byte past the size to notice. */
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
			free(buf);
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_MAX_BYTES) {
			snprintf(msg, sizeof(msg), "config is more than the limit of %u bytes",
				 CONFIG_MAX_BYTES);
			free(buf);
			goto fail;
		}
		if (len == cap) {
			/* cap never exceeds the limit + 1, so len > limit is caught above */
			cap = cap * 2 > (size_t)CONFIG_MAX_BYTES + 1 ? (size_t)CONFIG_MAX_BYTES + 1 : cap * 2;
			buf = xrealloc(buf, cap);
		}
	}
	close(fd);
	int rc = config_load_buf(path, buf, len, out, d);
	free(buf);
	return rc;
fail:
	close(fd);
	cfg_diag_add(d, CFG_ERROR, path, 0, 0, msg);
	return -1;
}
