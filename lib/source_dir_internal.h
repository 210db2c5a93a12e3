/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the dir: backend's files (source_dir.c: reading and the view; source_dir_write.c: the
 * daemons' writes). Not a public header. */
#ifndef BARELB_SOURCE_DIR_INTERNAL_H
#define BARELB_SOURCE_DIR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "source_internal.h"

#define MAX_FILE_BYTES (16u << 20)  /* a manifest larger than this is refused, not read */
#define SETTLE_MS 2                 /* coalesces the events of one mv or one editor save */
#define EVENT_AGGREGATE_US (600ll * 1000000) /* identical Events within 10 min: one, counted */
#define EVENT_WRITES_PER_SEC 10.0
#define EVENT_TABLE_MAX 512
#define STATUS_BUCKETS 1024
#define AFFECTED_KEEP 1024        /* room for this many touched keys is kept between flushes */
#define TRIM_AFTER_BYTES (1u << 20) /* manifests read in one flush before freed heap is returned */

enum wkind { W_MAIN, W_LEASES, W_STATUS, W_STATUS_NS };

struct watch {
	int wd;
	enum wkind kind;
	char *ns; /* W_STATUS_NS */
};

/* A manifest file and the objects it held at its last successful read (each key once, in kind
 * order). */
struct mfile {
	char *rel; /* "web.yaml" or "leases/speaker-a.json" */
	struct kobj **objs;
	size_t n_objs;
};

/* An entry of the index: one object of one file. */
struct ient {
	uint64_t hash;        /* of the object's key */
	const struct kobj *o; /* NULL: empty slot */
	struct mfile *f;
};

struct status_ent {
	char *key; /* "ns/name" */
	char *json;
	size_t len;
	struct status_ent *next;
};

struct okey {
	enum kobj_kind kind;
	char *ns, *name;
};

struct pending {
	source_done_cb done;
	void *arg;
	int status;
	char *err;
	struct pending *next;
};

struct evagg {
	struct kobj *about;
	char *type, *reason, *note;
	uint32_t count;
	int64_t first_us, last_us;
	bool dirty;
};

/* A list of distinct strings in the order they were added; past a few entries a set answers
 * "already there?" so that adding stays O(1) (a full scan adds every file). */
struct strlist {
	char **v;
	size_t n, cap;
	struct strmap *set;
};

struct dirsrc {
	struct source *s;
	struct loop *l;
	char *path, *status_dir, *leases_dir, *events_path, *lock_path;
	int ifd;
	struct loop_fd *lfd;
	struct watch *watches;
	size_t n_watches, cap_watches;
	struct mfile **files; /* sorted by rel; each one allocated, so the index can point to it */
	size_t n_files, cap_files;
	/* which files hold a key: one entry per (key, file), open addressing (see index_add) */
	struct ient *idx;
	size_t idx_cap, idx_count;
	struct status_ent *status[STATUS_BUCKETS];
	/* What is delivered: the kinds the source caches are in its store (d->s->store), the
	 * others here (Pods, for the slices, when the daemon does not ask for them). Objects are
	 * shared by reference with the files and d->derived (kobj_share), not copied. */
	struct store *view;
	struct store *derived; /* EndpointSlices made from Pods */
	/* work collected by inotify, done after SETTLE_MS */
	struct strlist dirty_files, dirty_status, dirty_ns;
	struct okey *affected;
	size_t n_affected, cap_affected;
	bool rescan;
	size_t read_bytes; /* manifest bytes read since the last trim */
	struct loop_timer *settle;
	/* write completions are delivered from the loop, never inside the call */
	struct pending *pend_head, *pend_tail;
	struct loop_timer *pend_timer;
	/* Events */
	struct evagg *evs;
	size_t n_evs;
	double ev_tokens;
	uint64_t ev_last_ms;
	struct loop_timer *ev_timer;
	struct log_ratelimit rl;
};

/* source_dir.c */
char *read_file(const char *path, size_t *len);
int write_atomic(const char *dir, const char *name, const char *data, size_t len,
			char *err, size_t errlen);
void complete(struct dirsrc *d, source_done_cb done, void *arg, int status,
		     const char *err);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t wall_us(void);
bool safe_name(const char *s);
void queue_done(struct dirsrc *d, source_done_cb done, void *arg, int status,
		       const char *err);
void pend_fire(void *arg);

/* source_dir_write.c: the backend's write operations and the Event queue */
int dir_patch_service(void *impl, const char *ns, const char *name, const addr_t *ingress,
		      size_t n_ingress, const struct kv *annotations, size_t n_annotations,
		      source_done_cb done, void *arg);
int dir_lease_renew(void *impl, const char *name, const char *holder, uint32_t duration_s,
		    source_done_cb done, void *arg);
int dir_lease_release(void *impl, const char *name, const char *holder, source_done_cb done,
		      void *arg);
int dir_event(void *impl, const struct kobj *about, const char *type, const char *reason,
	      const char *note);
void ev_timer_cb(void *arg);
void ev_drop(struct dirsrc *d, size_t i);

#endif
