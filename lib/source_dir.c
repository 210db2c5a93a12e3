/* SPDX-License-Identifier: Apache-2.0 */
/* source_dir: the dir:PATH backend. Manifests in PATH (and Leases in PATH/leases) are read with
 * the model's decoder and watched with inotify; the daemons' writes (Service status patches,
 * Leases, Events) are files written atomically; EndpointSlices are derived from Pods the way the
 * Kubernetes EndpointSlice controller does it.
 *
 * The view delivered to the source is, for every key (kind, namespace, name): the object from the
 * first file (in name order) that holds it; for a Service, with PATH/status/<ns>/<name>.json
 * merged over it; for an EndpointSlice no file holds, the one derived from Pods. Every change
 * recomputes only the keys that the changed file held before or holds now, so an object that
 * moves from one file to another is neither deleted nor re-added. An index from each key to the
 * files that hold it makes that recomputation independent of the number of files. */
#define _GNU_SOURCE /* vasprintf, mkostemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/strmap.h"
#include "barelb/xalloc.h"
#include "source_dir_internal.h"



char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		log_error("out of memory");
		abort();
	}
	return s;
}

#define STRLIST_SCAN_MAX 16 /* up to this many entries, a linear scan finds duplicates */

static void strlist_add(struct strlist *l, const char *s)
{
	if (l->set) {
		if (strmap_get(l->set, s))
			return;
	} else {
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->v[i], s) == 0)
				return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(s);
	if (!l->set && l->n > STRLIST_SCAN_MAX) {
		l->set = strmap_new();
		for (size_t i = 0; i < l->n; i++)
			strmap_put(l->set, l->v[i], l->v[i]);
	} else if (l->set) {
		strmap_put(l->set, s, l->v[l->n - 1]);
	}
}

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
	strmap_free(l->set, NULL);
	l->set = NULL;
}

static void strlist_free(struct strlist *l)
{
	strlist_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Names the daemons turn into paths: no separators, nothing hidden, nothing empty. */
bool safe_name(const char *s)
{
	return s && *s && *s != '.' && !strchr(s, '/') && strlen(s) < NAME_MAX - 16;
}

static bool manifest_name(const char *name)
{
	if (!name[0] || name[0] == '.')
		return false;
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

/* Whole file into a NUL-terminated buffer. NULL with errno set (ENOENT when it is gone). */
char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if ((size_t)st.st_size > MAX_FILE_BYTES)
		e = EFBIG;
	if (e) {
		close(fd);
		errno = e;
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = xrealloc(NULL, cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > MAX_FILE_BYTES) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Write, fsync, rename: readers see the old file or the new one, never half of one. */
int write_atomic(const char *dir, const char *name, const char *data, size_t len,
			char *err, size_t errlen)
{
	char *tmp = xasprintf("%s/.%s.tmpXXXXXX", dir, name);
	char *final = xasprintf("%s/%s", dir, name);
	int fd = mkostemp(tmp, O_CLOEXEC);
	int rc = -1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fchmod(fd, 0644);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, final) < 0) {
		snprintf(err, errlen, "rename %s: %s", final, strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(final);
	return rc;
}

/* ---- completions ---- */

void pend_fire(void *arg)
{
	struct dirsrc *d = arg;
	struct pending *p = d->pend_head;
	d->pend_head = d->pend_tail = NULL;
	while (p) {
		struct pending *n = p->next;
		if (p->done)
			p->done(p->arg, p->status, p->err);
		free(p->err);
		free(p);
		p = n;
	}
}

void queue_done(struct dirsrc *d, source_done_cb done, void *arg, int status,
		       const char *err)
{
	if (!done)
		return;
	struct pending *p = xrealloc(NULL, sizeof *p);
	p->done = done;
	p->arg = arg;
	p->status = status;
	p->err = err ? xstrdup(err) : NULL;
	p->next = NULL;
	if (d->pend_tail)
		d->pend_tail->next = p;
	else
		d->pend_head = p;
	d->pend_tail = p;
	if (!loop_timer_pending(d->pend_timer))
		loop_timer_arm(d->pend_timer, 0);
}

void complete(struct dirsrc *d, source_done_cb done, void *arg, int status,
		     const char *err)
{
	if (status < 0)
		d->s->stats.write_errors++;
	queue_done(d, done, arg, status, err);
}

/* ---- files and their objects ---- */

static size_t file_pos(const struct dirsrc *d, const char *rel, bool *found)
{
	size_t lo = 0, hi = d->n_files;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(d->files[mid]->rel, rel);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void affect(struct dirsrc *d, enum kobj_kind k, const char *ns, const char *name)
{
	if (d->n_affected == d->cap_affected) {
		d->cap_affected = d->cap_affected ? d->cap_affected * 2 : 64;
		d->affected = xrealloc(d->affected, d->cap_affected * sizeof *d->affected);
	}
	struct okey *o = &d->affected[d->n_affected++];
	o->kind = k;
	o->ns = ns && *ns ? xstrdup(ns) : NULL;
	o->name = xstrdup(name ? name : "");
}

static void affect_all(struct dirsrc *d, const struct mfile *f)
{
	for (size_t i = 0; i < f->n_objs; i++)
		affect(d, f->objs[i]->kind, f->objs[i]->meta.namespace, f->objs[i]->meta.name);
}

/* ---- the index: which files hold a key ---- */

/* One table entry per (key, file) pair, in linear probing with backward-shift deletion: every
 * entry of a key stays in the cluster of the key's home slot, so a lookup that walks the
 * cluster to the first empty slot sees every file that holds the key. Keys are read from the
 * objects themselves: nothing is copied. */

static const char *ns_or_null(const char *ns)
{
	return ns && *ns ? ns : NULL;
}

static uint64_t okey_hash(enum kobj_kind k, const char *ns, const char *name)
{
	uint64_t h = (14695981039346656037ull ^ (uint64_t)k) * 1099511628211ull;
	ns = ns_or_null(ns);
	if (ns) {
		for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ '/') * 1099511628211ull;
	}
	for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static bool okey_eq(const struct kobj *o, enum kobj_kind k, const char *ns, const char *name)
{
	const char *ons = ns_or_null(o->meta.namespace);
	ns = ns_or_null(ns);
	if (o->kind != k || !ons != !ns || (ns && strcmp(ons, ns) != 0))
		return false;
	return strcmp(o->meta.name ? o->meta.name : "", name ? name : "") == 0;
}

static void index_grow(struct dirsrc *d)
{
	size_t ncap = d->idx_cap ? d->idx_cap * 2 : 64, mask = ncap - 1;
	struct ient *nv = xrealloc(NULL, ncap * sizeof *nv);
	memset(nv, 0, ncap * sizeof *nv);
	for (size_t i = 0; i < d->idx_cap; i++) {
		if (!d->idx[i].o)
			continue;
		size_t j = d->idx[i].hash & mask;
		while (nv[j].o)
			j = (j + 1) & mask;
		nv[j] = d->idx[i];
	}
	free(d->idx);
	d->idx = nv;
	d->idx_cap = ncap;
}

static void index_add(struct dirsrc *d, struct mfile *f, const struct kobj *o)
{
	/* load at most 7/8: the entries are small, and a key is rarely in more than one file */
	if ((d->idx_count + 1) * 8 > d->idx_cap * 7)
		index_grow(d);
	uint64_t h = okey_hash(o->kind, o->meta.namespace, o->meta.name);
	size_t mask = d->idx_cap - 1, i = h & mask;
	while (d->idx[i].o)
		i = (i + 1) & mask;
	d->idx[i] = (struct ient){ h, o, f };
	d->idx_count++;
}

static void index_del(struct dirsrc *d, struct mfile *f, const struct kobj *o)
{
	if (!d->idx_count)
		return;
	uint64_t h = okey_hash(o->kind, o->meta.namespace, o->meta.name);
	size_t mask = d->idx_cap - 1, i = h & mask;
	while (d->idx[i].o && !(d->idx[i].o == o && d->idx[i].f == f))
		i = (i + 1) & mask;
	if (!d->idx[i].o)
		return;
	size_t hole = i;
	for (size_t j = (i + 1) & mask; d->idx[j].o; j = (j + 1) & mask) {
		size_t home = d->idx[j].hash & mask;
		/* is home cyclically outside (hole, j]? then the entry may move to the hole */
		bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
		if (movable) {
			d->idx[hole] = d->idx[j];
			hole = j;
		}
	}
	d->idx[hole] = (struct ient){ 0, NULL, NULL };
	d->idx_count--;
}

/* Every object of f enters (add) or leaves (!add) the index. */
static void index_file(struct dirsrc *d, struct mfile *f, bool add)
{
	for (size_t i = 0; i < f->n_objs; i++) {
		if (add)
			index_add(d, f, f->objs[i]);
		else
			index_del(d, f, f->objs[i]);
	}
}

/* The object of the first file (in name order) that holds the key, or NULL. */
static const struct kobj *index_first(struct dirsrc *d, enum kobj_kind k, const char *ns,
				      const char *name)
{
	if (!d->idx_count)
		return NULL;
	uint64_t h = okey_hash(k, ns, name);
	size_t mask = d->idx_cap - 1;
	const struct ient *first = NULL;
	for (size_t i = h & mask; d->idx[i].o; i = (i + 1) & mask) {
		const struct ient *e = &d->idx[i];
		if (e->hash == h && okey_eq(e->o, k, ns, name) &&
		    (!first || strcmp(e->f->rel, first->f->rel) < 0))
			first = e;
	}
	return first ? first->o : NULL;
}

static void mfile_free_objs(struct mfile *f)
{
	for (size_t i = 0; i < f->n_objs; i++)
		kobj_free(f->objs[i]);
	free(f->objs);
	f->objs = NULL;
	f->n_objs = 0;
}

struct flat {
	struct kobj **v;
	size_t n;
};

static void flat_cb(const struct kobj *o, void *arg)
{
	struct flat *fl = arg;
	fl->v[fl->n++] = kobj_share(o);
}

/* The objects of a store as an array (kind order), the store freed: an array costs a pointer
 * per object, a table about three. */
static void flatten(struct store *st, struct mfile *into)
{
	size_t n = 0;
	for (int k = 0; k < KOBJ_KIND_COUNT; k++)
		n += store_count(st, (enum kobj_kind)k);
	struct flat fl = { xrealloc(NULL, (n ? n : 1) * sizeof *fl.v), 0 };
	for (int k = 0; k < KOBJ_KIND_COUNT; k++)
		store_foreach(st, (enum kobj_kind)k, flat_cb, &fl);
	store_free(st);
	into->objs = fl.v;
	into->n_objs = fl.n;
}

struct fread_ctx {
	struct dirsrc *d;
	const char *rel;
	struct store *objs;
	int errors;
};

static void fread_obj(struct kobj *o, int line, void *arg)
{
	(void)line;
	struct fread_ctx *f = arg;
	kobj_free(store_put(f->objs, o));
}

static void fread_err(int line, int col, const char *msg, void *arg)
{
	struct fread_ctx *f = arg;
	f->errors++;
	f->d->s->stats.decode_errors++;
	log_ratelimited(&f->d->rl, 0, LOG_WARN, "dir source: %s/%s:%d:%d: %s", f->d->path, f->rel,
			line, col, msg);
}

static void keep_cb(const struct kobj *o, void *arg)
{
	struct store *into = arg;
	if (!store_get(into, o->kind, o->meta.namespace, o->meta.name))
		store_put(into, kobj_share(o));
}

/* Re-read one manifest file (rel to PATH) and note the keys it touched. */
static void process_file(struct dirsrc *d, const char *rel)
{
	bool found;
	size_t pos = file_pos(d, rel, &found);
	char *full = xasprintf("%s/%s", d->path, rel);
	const char *base = strrchr(rel, '/');
	size_t len = 0;
	errno = ENOENT; /* a name that is not a manifest counts as gone */
	char *data = manifest_name(base ? base + 1 : rel) ? read_file(full, &len) : NULL;
	if (!data) {
		if (errno != ENOENT && errno != EISDIR && errno != 0) {
			/* There but unreadable (too large, no permission, I/O error): like a file that
			 * does not parse, what it held stays until it can be read again. */
			d->s->stats.decode_errors++;
			log_ratelimited(&d->rl, 0, LOG_WARN, "dir source: %s: %s; keeping what it held",
					full, strerror(errno));
			free(full);
			return;
		}
		/* gone: what it held goes away */
		if (found) {
			struct mfile *gone = d->files[pos];
			affect_all(d, gone);
			index_file(d, gone, false);
			mfile_free_objs(gone);
			free(gone->rel);
			free(gone);
			memmove(&d->files[pos], &d->files[pos + 1],
				(d->n_files - pos - 1) * sizeof *d->files);
			d->n_files--;
		}
		free(full);
		return;
	}
	struct fread_ctx f = { d, rel, store_new(), 0 };
	d->read_bytes += len;
	int r = kobj_decode_manifests(data, len, fread_obj, fread_err, &f);
	free(data);
	free(full);
	if (r < 0) {
		/* the whole file failed to parse: keep what it held until it parses again */
		store_free(f.objs);
		return;
	}
	if (f.errors && found)
		/* a bad object may be one the file held before: nothing it held is dropped */
		for (size_t i = 0; i < d->files[pos]->n_objs; i++)
			keep_cb(d->files[pos]->objs[i], f.objs);
	struct mfile now = { NULL, NULL, 0 };
	flatten(f.objs, &now);
	affect_all(d, &now);
	if (found) {
		struct mfile *mf = d->files[pos];
		affect_all(d, mf);
		index_file(d, mf, false);
		mfile_free_objs(mf);
		mf->objs = now.objs;
		mf->n_objs = now.n_objs;
		index_file(d, mf, true);
		return;
	}
	if (d->n_files == d->cap_files) {
		d->cap_files = d->cap_files ? d->cap_files * 2 : 16;
		d->files = xrealloc(d->files, d->cap_files * sizeof *d->files);
	}
	memmove(&d->files[pos + 1], &d->files[pos], (d->n_files - pos) * sizeof *d->files);
	struct mfile *mf = xrealloc(NULL, sizeof *mf);
	mf->rel = xstrdup(rel);
	mf->objs = now.objs;
	mf->n_objs = now.n_objs;
	d->files[pos] = mf;
	d->n_files++;
	index_file(d, mf, true);
}

/* ---- status patches (PATH/status/<ns>/<name>.json) ---- */

static unsigned skey_hash(const char *key)
{
	unsigned h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % STATUS_BUCKETS;
}

static struct status_ent **status_slot(struct dirsrc *d, const char *key)
{
	struct status_ent **p = &d->status[skey_hash(key)];
	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

static const struct status_ent *status_get(struct dirsrc *d, const char *ns, const char *name)
{
	char *key = xasprintf("%s/%s", ns ? ns : "", name);
	const struct status_ent *e = *status_slot(d, key);
	free(key);
	return e;
}

/* Re-read PATH/status/<key>.json ("ns/name"). */
static void process_status(struct dirsrc *d, const char *key)
{
	const char *slash = strchr(key, '/');
	if (!slash)
		return;
	char *ns = strndup(key, (size_t)(slash - key));
	const char *name = slash + 1;
	char *full = xasprintf("%s/%s.json", d->status_dir, key);
	size_t len = 0;
	char *data = read_file(full, &len);
	struct status_ent **slot = status_slot(d, key);
	if (!data) {
		if (*slot) {
			struct status_ent *e = *slot;
			*slot = e->next;
			free(e->key);
			free(e->json);
			free(e);
			affect(d, KOBJ_SERVICE, ns, name);
		}
		goto out;
	}
	/* Checked against an empty Service now, so that a bad patch is reported once, with its
	 * file name, and the previous one stays in force. */
	struct kobj dummy;
	struct kobj *out = NULL;
	char err[256];
	memset(&dummy, 0, sizeof dummy);
	dummy.kind = KOBJ_SERVICE;
	dummy.meta.name = (char *)name;
	if (kobj_service_apply_patch(&dummy, data, len, &out, err, sizeof err) < 0) {
		d->s->stats.decode_errors++;
		log_ratelimited(&d->rl, 0, LOG_WARN, "dir source: %s: %s", full, err);
		free(data);
		goto out;
	}
	kobj_free(out);
	if (!*slot) {
		struct status_ent *e = xrealloc(NULL, sizeof *e);
		e->key = xstrdup(key);
		e->next = NULL;
		e->json = NULL;
		*slot = e;
	}
	free((*slot)->json);
	(*slot)->json = data;
	(*slot)->len = len;
	affect(d, KOBJ_SERVICE, ns, name);
out:
	free(full);
	free(ns);
}

/* ---- the effective view ---- */

static bool view_in_source(const struct dirsrc *d, enum kobj_kind k)
{
	return (unsigned)k < KOBJ_KIND_COUNT && (d->s->kinds & (1u << k));
}

/* The store that holds the delivered objects of kind k. */
static struct store *view_store(struct dirsrc *d, enum kobj_kind k)
{
	return view_in_source(d, k) ? d->s->store : d->view;
}

static const struct kobj *view_get(struct dirsrc *d, enum kobj_kind k, const char *ns,
				   const char *name)
{
	return store_get(view_store(d, k), k, ns, name);
}

/* The status file of a Service that is gone: removed by the status writer only (the controller),
 * so a Service re-created later with the same name starts without the old IP. The inotify event
 * of the unlink then drops the status entry. */
static void unlink_status(struct dirsrc *d, const char *ns, const char *name)
{
	char *full;

	if (!d->s->writes_status)
		return;
	full = xasprintf("%s/%s/%s.json", d->status_dir, ns ? ns : "", name);
	if (unlink(full) == 0)
		log_info("dir source: %s: removed (its Service is gone)", full);
	else if (errno != ENOENT)
		log_warn("dir source: unlink %s: %s", full, strerror(errno));
	free(full);
}

static void prune_cb(const char *key, struct dirsrc *d)
{
	const char *slash = strchr(key, '/');
	char *ns;

	if (!slash)
		return;
	ns = strndup(key, (size_t)(slash - key));
	if (ns && !view_get(d, KOBJ_SERVICE, ns, slash + 1))
		unlink_status(d, ns, slash + 1);
	free(ns);
}

/* At start: status files whose Service was deleted while no controller ran. */
static void prune_orphan_status(struct dirsrc *d)
{
	char **keys = NULL;
	size_t n = 0;

	if (!d->s->writes_status)
		return;
	for (size_t b = 0; b < STATUS_BUCKETS; b++)
		for (struct status_ent *e = d->status[b]; e; e = e->next) {
			keys = xrealloc(keys, (n + 1) * sizeof *keys);
			keys[n++] = xstrdup(e->key);
		}
	for (size_t i = 0; i < n; i++) {
		prune_cb(keys[i], d);
		free(keys[i]);
	}
	free(keys);
}

static void recompute(struct dirsrc *d, enum kobj_kind k, const char *ns, const char *name)
{
	const struct kobj *eff = index_first(d, k, ns, name);
	/* an EndpointSlice written by the user wins over one derived from Pods */
	if (!eff && k == KOBJ_ENDPOINTSLICE)
		eff = store_get(d->derived, k, ns, name);
	struct kobj *now = NULL;
	if (eff && k == KOBJ_SERVICE) {
		const struct status_ent *st = status_get(d, eff->meta.namespace, name);
		char err[256];
		if (st && kobj_service_apply_patch(eff, st->json, st->len, &now, err, sizeof err) < 0)
			log_ratelimited(&d->rl, 0, LOG_WARN, "dir source: status of %s/%s: %s",
					ns ? ns : "", name, err);
	}
	if (eff && !now)
		now = kobj_share(eff);
	const struct kobj *was = view_get(d, k, ns, name);
	if (!now && !was)
		return;
	if (now) {
		if (view_in_source(d, k))
			source_apply(d->s, now);
		else
			kobj_free(store_put(d->view, now));
	} else {
		if (view_in_source(d, k))
			source_remove(d->s, k, ns, name);
		else
			kobj_free(store_take(d->view, k, ns, name));
		if (k == KOBJ_SERVICE)
			unlink_status(d, ns, name);
	}
	if (k == KOBJ_SERVICE || k == KOBJ_POD)
		strlist_add(&d->dirty_ns, ns ? ns : "");
}

/* ---- EndpointSlices from Pods, as the EndpointSlice controller makes them ---- */

struct objvec {
	const char *ns;
	const struct kobj **v;
	size_t n, cap;
};

static void objvec_cb(const struct kobj *o, void *arg)
{
	struct objvec *ov = arg;
	const char *ons = o->meta.namespace ? o->meta.namespace : "";
	if (strcmp(ons, ov->ns) != 0)
		return;
	if (ov->n == ov->cap) {
		ov->cap = ov->cap ? ov->cap * 2 : 16;
		ov->v = xrealloc(ov->v, ov->cap * sizeof *ov->v);
	}
	ov->v[ov->n++] = o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct kobj *const *)a)->meta.name,
		      (*(const struct kobj *const *)b)->meta.name);
}

static bool selects(const struct service *svc, const struct kmeta *m)
{
	for (size_t i = 0; i < svc->n_selector; i++) {
		const char *v = kmeta_label(m, svc->selector[i].key);
		if (!v || strcmp(v, svc->selector[i].value) != 0)
			return false;
	}
	return true;
}

static struct kobj *build_slice(const struct kobj *svc, int af, const char *name,
				const struct objvec *pods)
{
	struct endpoint *eps = xrealloc(NULL, (pods->n ? pods->n : 1) * sizeof *eps);
	size_t n = 0;
	for (size_t i = 0; i < pods->n; i++) {
		const struct kobj *p = pods->v[i];
		const struct pod *pod = &p->u.pod;
		/* Pods that ended, and Pods without an address of this family, are no endpoint */
		if (pod->finished || !selects(&svc->u.svc, &p->meta))
			continue;
		const addr_t *ip = NULL;
		for (size_t j = 0; j < pod->n_ips && !ip; j++)
			if (pod->ips[j].family == af)
				ip = &pod->ips[j];
		if (!ip)
			continue;
		struct endpoint *e = &eps[n++];
		memset(e, 0, sizeof *e);
		e->addrs = (addr_t *)ip;
		e->n_addrs = 1;
		e->node_name = pod->node_name;
		/* the controller's rule: serving = Pod ready; ready = serving and not terminating */
		e->serving = pod->ready;
		e->terminating = pod->terminating;
		e->ready = e->serving && !e->terminating;
	}
	struct kv labels[2] = {
		{ (char *)"endpointslice.kubernetes.io/managed-by", (char *)"barelb.io/dir-source" },
		{ (char *)"kubernetes.io/service-name", svc->meta.name },
	};
	struct kobj tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.kind = KOBJ_ENDPOINTSLICE;
	tmp.meta.name = (char *)name;
	tmp.meta.namespace = svc->meta.namespace;
	tmp.meta.labels = labels;
	tmp.meta.n_labels = 2;
	tmp.u.eps.service_name = svc->meta.name;
	tmp.u.eps.address_type = af;
	tmp.u.eps.endpoints = n ? eps : NULL;
	tmp.u.eps.n_endpoints = n;
	struct kobj *o = kobj_clone(&tmp);
	free(eps);
	return o;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void recompute_slices(struct dirsrc *d, const char *ns)
{
	struct objvec svcs = { .ns = ns }, pods = { .ns = ns }, old = { .ns = ns };
	struct strlist wanted = { 0 };
	store_foreach(view_store(d, KOBJ_SERVICE), KOBJ_SERVICE, objvec_cb, &svcs);
	store_foreach(view_store(d, KOBJ_POD), KOBJ_POD, objvec_cb, &pods);
	if (pods.n > 1)
		qsort(pods.v, pods.n, sizeof *pods.v, by_name);
	for (size_t i = 0; i < svcs.n; i++) {
		const struct kobj *svc = svcs.v[i];
		const struct service *s = &svc->u.svc;
		if (!s->n_selector)
			continue; /* without a selector, the user manages the endpoints */
		int fams[2] = { AF_INET, 0 };
		size_t nf = 1;
		if (s->n_families) {
			nf = s->n_families;
			fams[0] = s->families[0];
			fams[1] = nf > 1 ? s->families[1] : 0;
		} else if (s->n_cluster_ips) {
			fams[0] = s->cluster_ips[0].family;
		}
		for (size_t f = 0; f < nf; f++) {
			char *name = f == 0 ? xasprintf("%s-barelb", svc->meta.name)
					    : xasprintf("%s-barelb-%s", svc->meta.name,
							fams[f] == AF_INET6 ? "ipv6" : "ipv4");
			strlist_add(&wanted, name);
			struct kobj *sl = build_slice(svc, fams[f], name, &pods);
			const struct kobj *prev = store_get(d->derived, KOBJ_ENDPOINTSLICE, ns, name);
			if (prev && kobj_equal(prev, sl)) {
				kobj_free(sl);
			} else {
				kobj_free(store_put(d->derived, sl));
				recompute(d, KOBJ_ENDPOINTSLICE, ns, name);
			}
			free(name);
		}
	}
	store_foreach(d->derived, KOBJ_ENDPOINTSLICE, objvec_cb, &old);
	struct strlist gone = { 0 };
	/* sorted, so that finding the slices no Service wants is n log n, not n^2 */
	if (wanted.n > 1)
		qsort(wanted.v, wanted.n, sizeof *wanted.v, cmp_strp);
	for (size_t i = 0; i < old.n; i++) {
		const char *nm = old.v[i]->meta.name;
		if (!wanted.n || !bsearch(&nm, wanted.v, wanted.n, sizeof *wanted.v, cmp_strp))
			strlist_add(&gone, nm);
	}
	for (size_t i = 0; i < gone.n; i++) {
		kobj_free(store_take(d->derived, KOBJ_ENDPOINTSLICE, ns, gone.v[i]));
		recompute(d, KOBJ_ENDPOINTSLICE, ns, gone.v[i]);
	}
	strlist_free(&gone);
	strlist_free(&wanted);
	free(svcs.v);
	free(pods.v);
	free(old.v);
}

/* Everything collected so far: files, status patches, then the keys they touched, then the
 * slices of the namespaces whose Services or Pods changed. */
static void flush(struct dirsrc *d)
{
	for (size_t i = 0; i < d->dirty_files.n; i++)
		process_file(d, d->dirty_files.v[i]);
	strlist_clear(&d->dirty_files);
	for (size_t i = 0; i < d->dirty_status.n; i++)
		process_status(d, d->dirty_status.v[i]);
	strlist_clear(&d->dirty_status);
	for (size_t i = 0; i < d->n_affected; i++) {
		struct okey *k = &d->affected[i];
		recompute(d, k->kind, k->ns, k->name);
		free(k->ns);
		free(k->name);
	}
	d->n_affected = 0;
	if (d->cap_affected > AFFECTED_KEEP) {
		/* a full scan touched every key: do not keep room for all of them */
		free(d->affected);
		d->affected = NULL;
		d->cap_affected = 0;
	}
	for (size_t i = 0; i < d->dirty_ns.n; i++)
		recompute_slices(d, d->dirty_ns.v[i]);
	strlist_clear(&d->dirty_ns);
}

/* Parsing a large manifest builds its whole document tree (tens of bytes per byte read), freed
 * right after, but glibc keeps the freed heap (and the holes between the objects that stay):
 * after reading much, it is handed back to the system. */
static void trim_heap(struct dirsrc *d)
{
	if (d->read_bytes < TRIM_AFTER_BYTES)
		return;
	d->read_bytes = 0;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* ---- directory scans and inotify ---- */

#define WATCH_MASK \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ONLYDIR)

static void add_watch(struct dirsrc *d, const char *dir, enum wkind kind, const char *ns)
{
	int wd = inotify_add_watch(d->ifd, dir, WATCH_MASK);
	if (wd < 0) {
		log_warn("dir source: cannot watch %s: %s", dir, strerror(errno));
		return;
	}
	for (size_t i = 0; i < d->n_watches; i++)
		if (d->watches[i].wd == wd)
			return;
	if (d->n_watches == d->cap_watches) {
		d->cap_watches = d->cap_watches ? d->cap_watches * 2 : 8;
		d->watches = xrealloc(d->watches, d->cap_watches * sizeof *d->watches);
	}
	struct watch *w = &d->watches[d->n_watches++];
	w->wd = wd;
	w->kind = kind;
	w->ns = ns ? xstrdup(ns) : NULL;
}

static void scan_files(struct dirsrc *d, const char *dir, const char *prefix)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh))) {
		if (!manifest_name(de->d_name))
			continue;
		char *rel = xasprintf("%s%s", prefix, de->d_name);
		strlist_add(&d->dirty_files, rel);
		free(rel);
	}
	closedir(dh);
}

static void scan_status_ns(struct dirsrc *d, const char *ns)
{
	char *dir = xasprintf("%s/%s", d->status_dir, ns);
	add_watch(d, dir, W_STATUS_NS, ns);
	DIR *dh = opendir(dir);
	free(dir);
	if (!dh)
		return;
	struct dirent *de;
	while ((de = readdir(dh))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		char *key = xasprintf("%s/%.*s", ns, (int)(n - 5), de->d_name);
		strlist_add(&d->dirty_status, key);
		free(key);
	}
	closedir(dh);
}

/* Every status patch of a namespace (or of all when ns is NULL) is read again. */
static void dirty_known_status(struct dirsrc *d, const char *ns)
{
	size_t nl = ns ? strlen(ns) : 0;
	for (size_t b = 0; b < STATUS_BUCKETS; b++)
		for (struct status_ent *e = d->status[b]; e; e = e->next)
			if (!ns || (strncmp(e->key, ns, nl) == 0 && e->key[nl] == '/'))
				strlist_add(&d->dirty_status, e->key);
}

/* Everything again: at start, and when inotify overflowed. Known files are included so that
 * the ones that disappeared are noticed. */
static void full_scan(struct dirsrc *d)
{
	for (size_t i = 0; i < d->n_files; i++)
		strlist_add(&d->dirty_files, d->files[i]->rel);
	scan_files(d, d->path, "");
	scan_files(d, d->leases_dir, "leases/");
	dirty_known_status(d, NULL);
	DIR *dh = opendir(d->status_dir);
	if (dh) {
		struct dirent *de;
		while ((de = readdir(dh))) {
			if (de->d_name[0] == '.')
				continue;
			char *sub = xasprintf("%s/%s", d->status_dir, de->d_name);
			struct stat st;
			if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				scan_status_ns(d, de->d_name);
			free(sub);
		}
		closedir(dh);
	}
}

static void settle_cb(void *arg)
{
	struct dirsrc *d = arg;
	if (d->rescan) {
		d->rescan = false;
		full_scan(d);
	}
	flush(d);
	trim_heap(d);
}

static struct watch *find_watch(struct dirsrc *d, int wd)
{
	for (size_t i = 0; i < d->n_watches; i++)
		if (d->watches[i].wd == wd)
			return &d->watches[i];
	return NULL;
}

static void on_event(struct dirsrc *d, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		d->rescan = true;
		return;
	}
	struct watch *w = find_watch(d, ev->wd);
	if (!w)
		return;
	if (ev->mask & IN_IGNORED) {
		free(w->ns);
		*w = d->watches[--d->n_watches];
		return;
	}
	if (!ev->len || !ev->name[0])
		return;
	const char *name = ev->name;
	bool isdir = ev->mask & IN_ISDIR;
	if ((ev->mask & IN_CREATE) && !isdir) {
		/* A file being created is read when it is closed (IN_CLOSE_WRITE): reading it now
		 * could see half of it. Only a symlink that appears (the ConfigMap style of
		 * update) has nothing more to wait for. */
		if (w->kind != W_MAIN && w->kind != W_LEASES)
			return;
		char *p = xasprintf("%s/%s", w->kind == W_MAIN ? d->path : d->leases_dir, name);
		struct stat st;
		bool link = lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
		free(p);
		if (!link)
			return;
	}
	switch (w->kind) {
	case W_MAIN:
	case W_LEASES:
		if (!isdir && manifest_name(name)) {
			char *rel = xasprintf("%s%s", w->kind == W_LEASES ? "leases/" : "", name);
			strlist_add(&d->dirty_files, rel);
			free(rel);
		}
		break;
	case W_STATUS:
		if (!isdir || name[0] == '.')
			break;
		if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			scan_status_ns(d, name);
		else
			dirty_known_status(d, name);
		break;
	case W_STATUS_NS: {
		size_t n = strlen(name);
		if (isdir || name[0] == '.' || n <= 5 || strcmp(name + n - 5, ".json") != 0)
			break;
		char *key = xasprintf("%s/%.*s", w->ns, (int)(n - 5), name);
		strlist_add(&d->dirty_status, key);
		free(key);
		break;
	}
	}
}

static void on_inotify(int fd, unsigned events, void *arg)
{
	struct dirsrc *d = arg;
	_Alignas(struct inotify_event) char buf[16384];
	(void)events;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			on_event(d, ev);
			p += sizeof *ev + ev->len;
		}
	}
	if (!loop_timer_pending(d->settle))
		loop_timer_arm(d->settle, SETTLE_MS);
}

/* ---- life cycle ---- */

static int dir_start(void *impl)
{
	struct dirsrc *d = impl;
	if (mkdir(d->status_dir, 0755) < 0 && errno != EEXIST)
		log_warn("dir source: mkdir %s: %s", d->status_dir, strerror(errno));
	if (mkdir(d->leases_dir, 0755) < 0 && errno != EEXIST)
		log_warn("dir source: mkdir %s: %s", d->leases_dir, strerror(errno));
	d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ifd < 0) {
		log_error("dir source: inotify: %s", strerror(errno));
		return -1;
	}
	/* watches first, then the scan: a change made in between is seen twice, never missed */
	add_watch(d, d->path, W_MAIN, NULL);
	add_watch(d, d->leases_dir, W_LEASES, NULL);
	add_watch(d, d->status_dir, W_STATUS, NULL);
	d->lfd = loop_fd_add(d->l, d->ifd, LOOP_READ, on_inotify, d);
	if (!d->lfd) {
		log_error("dir source: cannot register the inotify fd");
		return -1;
	}
	full_scan(d);
	flush(d);
	trim_heap(d);
	prune_orphan_status(d);
	log_info("dir source: %s: %zu files, %zu services, %zu endpointslices", d->path,
		 d->n_files, store_count(view_store(d, KOBJ_SERVICE), KOBJ_SERVICE),
		 store_count(view_store(d, KOBJ_ENDPOINTSLICE), KOBJ_ENDPOINTSLICE));
	source_mark_synced(d->s);
	return 0;
}

static void dir_free(void *impl)
{
	struct dirsrc *d = impl;
	if (!d)
		return;
	loop_fd_del(d->lfd);
	if (d->ifd >= 0)
		close(d->ifd);
	loop_timer_free(d->settle);
	loop_timer_free(d->pend_timer);
	loop_timer_free(d->ev_timer);
	for (size_t i = 0; i < d->n_watches; i++)
		free(d->watches[i].ns);
	free(d->watches);
	for (size_t i = 0; i < d->n_files; i++) {
		free(d->files[i]->rel);
		mfile_free_objs(d->files[i]);
		free(d->files[i]);
	}
	free(d->files);
	free(d->idx);
	for (size_t b = 0; b < STATUS_BUCKETS; b++) {
		struct status_ent *e = d->status[b];
		while (e) {
			struct status_ent *n = e->next;
			free(e->key);
			free(e->json);
			free(e);
			e = n;
		}
	}
	store_free(d->view);
	store_free(d->derived);
	strlist_free(&d->dirty_files);
	strlist_free(&d->dirty_status);
	strlist_free(&d->dirty_ns);
	for (size_t i = 0; i < d->n_affected; i++) {
		free(d->affected[i].ns);
		free(d->affected[i].name);
	}
	free(d->affected);
	/* pending completions are dropped: the caller is going away */
	struct pending *p = d->pend_head;
	while (p) {
		struct pending *n = p->next;
		free(p->err);
		free(p);
		p = n;
	}
	while (d->n_evs)
		ev_drop(d, d->n_evs - 1);
	free(d->evs);
	free(d->path);
	free(d->status_dir);
	free(d->leases_dir);
	free(d->events_path);
	free(d->lock_path);
	free(d);
}

void *source_dir_new(struct source *s, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		log_error("dir source: %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("dir source: %s: not a directory", path);
		return NULL;
	}
	struct dirsrc *d = calloc(1, sizeof *d);
	if (!d) {
		log_error("out of memory");
		return NULL;
	}
	d->s = s;
	d->l = s->l;
	d->ifd = -1;
	d->path = xstrdup(path);
	size_t n = strlen(d->path);
	while (n > 1 && d->path[n - 1] == '/')
		d->path[--n] = '\0';
	d->status_dir = xasprintf("%s/status", d->path);
	d->leases_dir = xasprintf("%s/leases", d->path);
	d->events_path = xasprintf("%s/events.log", d->path);
	d->lock_path = xasprintf("%s/.lock", d->leases_dir);
	d->view = store_new();
	d->derived = store_new();
	d->settle = loop_timer_new(d->l, settle_cb, d);
	d->pend_timer = loop_timer_new(d->l, pend_fire, d);
	d->ev_timer = loop_timer_new(d->l, ev_timer_cb, d);
	d->ev_tokens = EVENT_WRITES_PER_SEC;
	d->ev_last_ms = loop_now_ms(d->l);
	d->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 20);
	if (!d->settle || !d->pend_timer || !d->ev_timer) {
		dir_free(d);
		return NULL;
	}
	return d;
}

const struct source_backend_ops source_dir_ops = {
	.name = "dir",
	.start = dir_start,
	.free = dir_free,
	.patch_service = dir_patch_service,
	.event = dir_event,
	.lease_renew = dir_lease_renew,
	.lease_release = dir_lease_release,
};
