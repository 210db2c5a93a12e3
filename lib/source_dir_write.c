/* SPDX-License-Identifier: Apache-2.0 */
/* source_dir_write: the dir: backend's writes: Service status patches, Leases (under a lock file,
 * with the same rules as the API's optimistic concurrency) and aggregated, rate-limited Events,
 * each a file written atomically. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barelb/xalloc.h"
#include "source_dir_internal.h"

/* ---- writes: Service status ---- */

int dir_patch_service(void *impl, const char *ns, const char *name, const addr_t *ingress,
			     size_t n_ingress, const struct kv *annotations, size_t n_annotations,
			     source_done_cb done, void *arg)
{
	struct dirsrc *d = impl;
	char err[512];
	if (!safe_name(ns) || !safe_name(name)) {
		snprintf(err, sizeof err, "invalid service name \"%s/%s\"", ns ? ns : "",
			 name ? name : "");
		complete(d, done, arg, -1, err);
		return -1;
	}
	char *dir = xasprintf("%s/%s", d->status_dir, ns);
	char *file = xasprintf("%s.json", name);
	char *full = xasprintf("%s/%s", dir, file);
	int rc = -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, sizeof err, "mkdir %s: %s", dir, strerror(errno));
	} else {
		/* composed over the current patch: annotations set earlier stay, as they would
		 * on the object in the API */
		size_t blen = 0;
		char *base = read_file(full, &blen);
		char *json = kobj_service_patch_json(base, blen, ingress, n_ingress, annotations,
						     n_annotations);
		free(base);
		if (!json)
			snprintf(err, sizeof err, "out of memory");
		else
			rc = write_atomic(dir, file, json, strlen(json), err, sizeof err);
		free(json);
	}
	complete(d, done, arg, rc, rc ? err : NULL);
	free(dir);
	free(file);
	free(full);
	return rc;
}

/* ---- writes: Leases ---- */

/* Two daemons on one host may race for one Lease: the read-check-write is done under an flock
 * so that the optimistic concurrency of the API has an equivalent here. */
static int lease_lock(struct dirsrc *d, char *err, size_t errlen)
{
	int fd = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", d->lock_path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "flock %s: %s", d->lock_path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void lease_unlock(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

/* The Lease now in its file, or NULL when there is none (or it does not decode). */
static struct kobj *lease_read(struct dirsrc *d, const char *name)
{
	char *full = xasprintf("%s/%s.json", d->leases_dir, name);
	size_t len = 0;
	char *data = read_file(full, &len);
	struct kobj *o = NULL;
	char err[256];
	if (data && kobj_decode_json(data, len, KOBJ_LEASE, &o, err, sizeof err) != 0) {
		log_ratelimited(&d->rl, 0, LOG_WARN, "dir source: %s: %s (taken as absent)", full,
				err);
		kobj_free(o);
		o = NULL;
	}
	free(data);
	free(full);
	return o;
}

int dir_lease_renew(void *impl, const char *name, const char *holder, uint32_t duration_s,
			   source_done_cb done, void *arg)
{
	struct dirsrc *d = impl;
	char err[512];
	if (!safe_name(name) || !holder || !*holder) {
		snprintf(err, sizeof err, "invalid lease name or holder");
		complete(d, done, arg, -1, err);
		return -1;
	}
	int lk = lease_lock(d, err, sizeof err);
	if (lk < 0) {
		complete(d, done, arg, -1, err);
		return -1;
	}
	struct kobj *cur = lease_read(d, name);
	int64_t now = wall_us();
	const struct lease *cl = cur ? &cur->u.lease : NULL;
	bool other = cl && cl->holder && *cl->holder && strcmp(cl->holder, holder) != 0;
	if (other && cl->renew_us + (int64_t)cl->duration_s * 1000000 > now) {
		char t[40];
		snprintf(err, sizeof err, "lease %s is held by %s (renewed %s, for %us)", name,
			 cl->holder, kobj_format_microtime(cl->renew_us, t, sizeof t),
			 cl->duration_s);
		lease_unlock(lk);
		kobj_free(cur);
		/* someone else holding the lease is an answer, not a write error */
		queue_done(d, done, arg, -1, err);
		return 0;
	}
	struct kobj l;
	char rv[24];
	memset(&l, 0, sizeof l);
	l.kind = KOBJ_LEASE;
	l.meta.name = (char *)name;
	l.meta.namespace = cur ? cur->meta.namespace : d->s->lease_namespace;
	snprintf(rv, sizeof rv, "%llu",
		 cur && cur->meta.resource_version
			 ? strtoull(cur->meta.resource_version, NULL, 10) + 1
			 : 1ull);
	l.meta.resource_version = rv;
	l.u.lease.holder = (char *)holder;
	l.u.lease.duration_s = duration_s;
	l.u.lease.renew_us = now;
	bool same = cl && cl->holder && strcmp(cl->holder, holder) == 0;
	l.u.lease.acquire_us = same && cl->acquire_us ? cl->acquire_us : now;
	l.u.lease.transitions = cl ? cl->transitions + (cl->holder && *cl->holder && !same) : 0;
	char *json = kobj_lease_json(&l);
	char *file = xasprintf("%s.json", name);
	int rc = json ? write_atomic(d->leases_dir, file, json, strlen(json), err, sizeof err) : -1;
	if (!json)
		snprintf(err, sizeof err, "out of memory");
	lease_unlock(lk);
	free(json);
	free(file);
	kobj_free(cur);
	complete(d, done, arg, rc, rc ? err : NULL);
	return rc;
}

int dir_lease_release(void *impl, const char *name, const char *holder,
			     source_done_cb done, void *arg)
{
	struct dirsrc *d = impl;
	char err[512];
	if (!safe_name(name) || !holder) {
		snprintf(err, sizeof err, "invalid lease name");
		complete(d, done, arg, -1, err);
		return -1;
	}
	int lk = lease_lock(d, err, sizeof err);
	if (lk < 0) {
		complete(d, done, arg, -1, err);
		return -1;
	}
	struct kobj *cur = lease_read(d, name);
	int rc = 0;
	if (cur && cur->u.lease.holder && strcmp(cur->u.lease.holder, holder) != 0) {
		snprintf(err, sizeof err, "lease %s is held by %s, not %s", name,
			 cur->u.lease.holder, holder);
		rc = -1;
	} else if (cur) {
		/* deleted, so that the next holder takes over at once instead of waiting for the
		 * lease to expire */
		char *full = xasprintf("%s/%s.json", d->leases_dir, name);
		if (unlink(full) < 0 && errno != ENOENT) {
			snprintf(err, sizeof err, "unlink %s: %s", full, strerror(errno));
			rc = -1;
		}
		free(full);
	}
	lease_unlock(lk);
	kobj_free(cur);
	complete(d, done, arg, rc, rc ? err : NULL);
	return rc;
}

/* ---- writes: Events (one JSON line each in PATH/events.log) ---- */

static bool ev_same(const struct evagg *e, const struct kobj *about, const char *type,
		    const char *reason, const char *note)
{
	const struct kobj *a = e->about;
	if (!a != !about)
		return false;
	if (a && (a->kind != about->kind || strcmp(a->meta.name, about->meta.name) != 0 ||
		  strcmp(a->meta.namespace ? a->meta.namespace : "",
			 about->meta.namespace ? about->meta.namespace : "") != 0))
		return false;
	return strcmp(e->type, type) == 0 && strcmp(e->reason, reason) == 0 &&
	       strcmp(e->note, note) == 0;
}

void ev_drop(struct dirsrc *d, size_t i)
{
	struct evagg *e = &d->evs[i];
	kobj_free(e->about);
	free(e->type);
	free(e->reason);
	free(e->note);
	d->evs[i] = d->evs[--d->n_evs];
}

static void ev_write(struct dirsrc *d, struct evagg *e)
{
	struct kobj_event_info info = {
		.about = e->about, .type = e->type, .reason = e->reason, .note = e->note,
		.controller = d->s->component, .instance = d->s->node ? d->s->node : d->s->component,
		.count = e->count, .first_us = e->first_us, .last_us = e->last_us,
	};
	char *json = kobj_event_json(&info);
	e->dirty = false;
	if (!json)
		return;
	size_t n = strlen(json);
	json[n] = '\n'; /* replaces the NUL: written as one line with one write() */
	int fd = open(d->events_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, json, n + 1) != (ssize_t)(n + 1)) {
		d->s->stats.write_errors++;
		log_ratelimited(&d->rl, 0, LOG_WARN, "dir source: %s: %s", d->events_path,
				strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(json);
}

/* Writes what is pending, at most EVENT_WRITES_PER_SEC lines a second (token bucket); the rest
 * waits for the timer, aggregating further repeats meanwhile. */
static void ev_flush(struct dirsrc *d)
{
	uint64_t now = loop_now_ms(d->l);
	d->ev_tokens += (double)(now - d->ev_last_ms) * EVENT_WRITES_PER_SEC / 1000.0;
	if (d->ev_tokens > EVENT_WRITES_PER_SEC)
		d->ev_tokens = EVENT_WRITES_PER_SEC;
	d->ev_last_ms = now;
	bool left = false;
	for (size_t i = 0; i < d->n_evs; i++) {
		if (!d->evs[i].dirty)
			continue;
		if (d->ev_tokens < 1.0) {
			left = true;
			break;
		}
		d->ev_tokens -= 1.0;
		ev_write(d, &d->evs[i]);
	}
	if (left && !loop_timer_pending(d->ev_timer))
		loop_timer_arm(d->ev_timer, (uint64_t)(1000.0 / EVENT_WRITES_PER_SEC));
}

void ev_timer_cb(void *arg)
{
	ev_flush(arg);
}

int dir_event(void *impl, const struct kobj *about, const char *type, const char *reason,
		     const char *note)
{
	struct dirsrc *d = impl;
	int64_t now = wall_us();
	type = type ? type : "Normal";
	reason = reason ? reason : "";
	note = note ? note : "";
	/* expire the aggregation window of old entries */
	for (size_t i = 0; i < d->n_evs;) {
		if (!d->evs[i].dirty && now - d->evs[i].last_us > EVENT_AGGREGATE_US)
			ev_drop(d, i);
		else
			i++;
	}
	struct evagg *e = NULL;
	for (size_t i = 0; i < d->n_evs && !e; i++)
		if (ev_same(&d->evs[i], about, type, reason, note))
			e = &d->evs[i];
	if (e) {
		e->count++;
		e->last_us = now;
		e->dirty = true;
	} else {
		if (d->n_evs == EVENT_TABLE_MAX) {
			/* full: forget the entry seen longest ago (written or not) */
			size_t old = 0;
			for (size_t i = 1; i < d->n_evs; i++)
				if (d->evs[i].last_us < d->evs[old].last_us)
					old = i;
			ev_drop(d, old);
		}
		if (!d->evs)
			d->evs = xrealloc(NULL, EVENT_TABLE_MAX * sizeof *d->evs);
		e = &d->evs[d->n_evs++];
		e->about = about ? kobj_clone(about) : NULL;
		e->type = xstrdup(type);
		e->reason = xstrdup(reason);
		e->note = xstrdup(note);
		e->count = 1;
		e->first_us = e->last_us = now;
		e->dirty = true;
	}
	ev_flush(d);
	return 0;
}
