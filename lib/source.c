/* SPDX-License-Identifier: Apache-2.0 */
/* source: the front of the cluster-state source: picks the backend from the spec, owns the object
 * cache, turns backend updates into added/modified/deleted calls, forwards writes. */
#include "barelb/source.h"

#include <stdlib.h>
#include <string.h>

#include "barelb/log.h"
#include "source_internal.h"

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d) {
		log_error("out of memory");
		abort();
	}
	return d;
}

struct source *source_new(struct loop *l, const char *spec, const struct source_opts *opts,
			  const struct source_handlers *h)
{
	if (!spec || !*spec) {
		log_error("source: empty source spec (want kube or dir:PATH)");
		return NULL;
	}
	struct source *s = calloc(1, sizeof *s);
	if (!s) {
		log_error("out of memory");
		return NULL;
	}
	s->l = l;
	if (h)
		s->h = *h;
	if (opts) {
		s->kubeconfig = dup_or_null(opts->kubeconfig);
		s->lease_namespace = dup_or_null(opts->lease_namespace);
		s->component = dup_or_null(opts->component);
		s->node = dup_or_null(opts->node);
		s->kinds = opts->kinds;
		s->writes_status = opts->writes_status;
	}
	if (!s->lease_namespace)
		s->lease_namespace = dup_or_null("barelb-system");
	if (!s->component)
		s->component = dup_or_null("barelb");
	/* 0 means every kind: a caller that does not say wants everything */
	if (!s->kinds)
		s->kinds = (1u << KOBJ_KIND_COUNT) - 1;
	s->store = store_new();

	if (strcmp(spec, "kube") == 0) {
		s->ops = &source_kube_ops;
		s->impl = source_kube_new(s);
	} else if (strncmp(spec, "dir:", 4) == 0 && spec[4]) {
		s->ops = &source_dir_ops;
		s->impl = source_dir_new(s, spec + 4);
	} else {
		log_error("source: unknown source \"%s\" (want kube or dir:PATH)", spec);
	}
	if (!s->impl) {
		s->ops = NULL;
		source_free(s);
		return NULL;
	}
	return s;
}

int source_start(struct source *s)
{
	return s->ops->start ? s->ops->start(s->impl) : 0;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->free)
		s->ops->free(s->impl);
	store_free(s->store);
	free(s->kubeconfig);
	free(s->lease_namespace);
	free(s->component);
	free(s->node);
	free(s);
}

const struct store *source_store(const struct source *s)
{
	return s->store;
}

bool source_synced(const struct source *s)
{
	return s->synced;
}

void source_apply(struct source *s, struct kobj *o)
{
	if (!o)
		return;
	/* Backends may deliver kinds nobody asked for (the dir: source reads every manifest): they
	 * are not cached. */
	if ((unsigned)o->kind >= KOBJ_KIND_COUNT || !(s->kinds & (1u << o->kind))) {
		kobj_free(o);
		return;
	}
	struct kobj *old = store_put(s->store, o);
	if (!old) {
		if (s->h.changed)
			s->h.changed(s->h.arg, SOURCE_ADDED, NULL, o);
		return;
	}
	if (!kobj_equal(old, o) && s->h.changed)
		s->h.changed(s->h.arg, SOURCE_MODIFIED, old, o);
	kobj_free(old);
}

void source_remove(struct source *s, enum kobj_kind k, const char *ns, const char *name)
{
	struct kobj *old = store_take(s->store, k, ns, name);
	if (!old)
		return;
	if (s->h.changed)
		s->h.changed(s->h.arg, SOURCE_DELETED, old, NULL);
	kobj_free(old);
}

void source_mark_synced(struct source *s)
{
	if (s->synced)
		return;
	s->synced = true;
	if (s->h.synced)
		s->h.synced(s->h.arg);
}

int source_patch_service(struct source *s, const char *ns, const char *name,
			 const addr_t *ingress, size_t n_ingress, const struct kv *annotations,
			 size_t n_annotations, source_done_cb done, void *arg)
{
	if (!s->ops->patch_service)
		return -1;
	return s->ops->patch_service(s->impl, ns, name, ingress, n_ingress, annotations,
				     n_annotations, done, arg);
}

int source_event(struct source *s, const struct kobj *about, const char *type, const char *reason,
		 const char *note)
{
	if (!s->ops->event)
		return -1;
	return s->ops->event(s->impl, about, type, reason, note);
}

int source_lease_renew(struct source *s, const char *name, const char *holder, uint32_t duration_s,
		       source_done_cb done, void *arg)
{
	if (!s->ops->lease_renew)
		return -1;
	return s->ops->lease_renew(s->impl, name, holder, duration_s, done, arg);
}

int source_lease_release(struct source *s, const char *name, const char *holder,
			 source_done_cb done, void *arg)
{
	if (!s->ops->lease_release)
		return -1;
	return s->ops->lease_release(s->impl, name, holder, done, arg);
}

void source_get_stats(const struct source *s, struct source_stats *out)
{
	*out = s->stats;
}
