/* SPDX-License-Identifier: Apache-2.0 */
/* kubewatch: a test program that runs a source (kube or dir:) in a loop and dumps its cache as
 * sorted "KIND ns/name rv=N" lines (on SIGUSR1 and at exit), so that a test can compare it with a
 * server's truth. It can also do one-shot writes (service patch, events, leases) and run leader
 * election, reporting into small files that the integration tests read. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barelb/leader.h"
#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/source.h"
#include "barelb/store.h"

#define MAX_ANN 16

struct kw {
	struct loop *l;
	struct source *s;
	struct leader *le;
	const char *dump, *stats, *ready, *leader_file, *result;
	/* one-shot writes after sync */
	const char *patch_ns, *patch_name;
	addr_t ingress[4];
	size_t n_ingress;
	struct kv ann[MAX_ANN];
	size_t n_ann;
	char *event_spec;
	unsigned event_count;
	bool event_distinct;      /* event_count different notes instead of one note repeated */
	const char *lease_name, *lease_holder;
	unsigned lease_duration;
	bool lease_release, exit_after;
	int pending;              /* one-shot writes not finished */
	FILE *resf;
	uint64_t added, modified, deleted;
	struct loop_timer *exit_timer, *hard_timer;
	bool stopping;
};

struct lines {
	char **v;
	size_t n, cap;
};

static void collect(const struct kobj *o, void *arg)
{
	struct lines *ls = arg;
	char key[512], *line;

	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 1024;
		ls->v = realloc(ls->v, ls->cap * sizeof *ls->v);
		if (!ls->v)
			abort();
	}
	if (asprintf(&line, "%s %s rv=%s", kobj_kind_name(o->kind), kobj_key(o, key, sizeof key),
		     o->meta.resource_version ? o->meta.resource_version : "") < 0)
		abort();
	ls->v[ls->n++] = line;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		log_error("kubewatch: %s: %s", tmp, strerror(errno));
		return;
	}
	fwrite(data, 1, len, f);
	fclose(f);
	rename(tmp, path);
}

static void dump(struct kw *kw)
{
	struct lines ls = { 0 };
	struct source_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (kw->dump) {
		for (int k = 0; k < KOBJ_KIND_COUNT; k++)
			store_foreach(source_store(kw->s), (enum kobj_kind)k, collect, &ls);
		if (ls.n)
			qsort(ls.v, ls.n, sizeof *ls.v, cmp_line);
		m = open_memstream(&buf, &len);
		for (size_t i = 0; i < ls.n; i++) {
			fprintf(m, "%s\n", ls.v[i]);
			free(ls.v[i]);
		}
		fclose(m);
		free(ls.v);
		write_atomic(kw->dump, buf, len);
		free(buf);
	}
	if (kw->stats) {
		source_get_stats(kw->s, &st);
		m = open_memstream(&buf, &len);
		fprintf(m, "synced=%d\nwatch_restarts=%llu\nrelists=%llu\ndecode_errors=%llu\n"
			"write_errors=%llu\nadded=%llu\nmodified=%llu\ndeleted=%llu\n",
			source_synced(kw->s), (unsigned long long)st.watch_restarts,
			(unsigned long long)st.relists, (unsigned long long)st.decode_errors,
			(unsigned long long)st.write_errors, (unsigned long long)kw->added,
			(unsigned long long)kw->modified, (unsigned long long)kw->deleted);
		fclose(m);
		write_atomic(kw->stats, buf, len);
		free(buf);
	}
}

static void result(struct kw *kw, const char *what, int status, const char *err)
{
	if (!kw->resf)
		return;
	fprintf(kw->resf, "%s %s%s%s\n", what, status == 0 ? "ok" : "error", err ? ": " : "",
		err ? err : "");
	fflush(kw->resf);
}

static void maybe_exit(struct kw *kw)
{
	/* Events have no completion callback: give their writes a moment. */
	if (kw->exit_after && kw->pending == 0 && !loop_timer_pending(kw->exit_timer))
		loop_timer_arm(kw->exit_timer, kw->event_spec ? 1500 : 0);
}

static void on_patch_done(void *arg, int status, const char *err)
{
	struct kw *kw = arg;

	result(kw, "patch", status, err);
	kw->pending--;
	maybe_exit(kw);
}

static void on_lease_done(void *arg, int status, const char *err)
{
	struct kw *kw = arg;

	result(kw, kw->lease_release ? "lease-release" : "lease-renew", status, err);
	kw->pending--;
	maybe_exit(kw);
}

static void do_writes(struct kw *kw)
{
	if (kw->patch_name) {
		kw->pending++;
		if (source_patch_service(kw->s, kw->patch_ns, kw->patch_name, kw->ingress,
					 kw->n_ingress, kw->ann, kw->n_ann, on_patch_done, kw) < 0) {
			result(kw, "patch", -1, "cannot start");
			kw->pending--;
		}
	}
	if (kw->event_spec) {
		/* ns/name:reason:note, about a cached Service */
		char *spec = strdup(kw->event_spec), *reason, *note, *slash;
		const struct kobj *o;

		reason = strchr(spec, ':');
		note = reason ? strchr(reason + 1, ':') : NULL;
		slash = strchr(spec, '/');
		if (reason && note && slash && slash < reason) {
			*reason++ = '\0';
			*note++ = '\0';
			*slash = '\0';
			o = store_get(source_store(kw->s), KOBJ_SERVICE, spec, slash + 1);
			for (unsigned i = 0; o && i < kw->event_count; i++) {
				char n2[512];
				snprintf(n2, sizeof n2, "%s%s%u", note, kw->event_distinct ? " #" : "",
					 kw->event_distinct ? i : 0);
				source_event(kw->s, o, "Normal", reason, kw->event_distinct ? n2 : note);
			}
			result(kw, "event", o ? 0 : -1, o ? NULL : "no such service in the cache");
		}
		free(spec);
	}
	if (kw->lease_name) {
		int rc;
		kw->pending++;
		if (kw->lease_release)
			rc = source_lease_release(kw->s, kw->lease_name, kw->lease_holder,
						  on_lease_done, kw);
		else
			rc = source_lease_renew(kw->s, kw->lease_name, kw->lease_holder,
						kw->lease_duration, on_lease_done, kw);
		if (rc < 0) {
			result(kw, "lease", -1, "cannot start");
			kw->pending--;
		}
	}
	maybe_exit(kw);
}

static void on_changed(void *arg, enum source_event ev, const struct kobj *old,
		       const struct kobj *now)
{
	struct kw *kw = arg;

	(void)old;
	(void)now;
	if (ev == SOURCE_ADDED)
		kw->added++;
	else if (ev == SOURCE_MODIFIED)
		kw->modified++;
	else
		kw->deleted++;
}

static void on_synced(void *arg)
{
	struct kw *kw = arg;

	log_info("kubewatch: synced");
	dump(kw);
	if (kw->ready)
		write_atomic(kw->ready, "synced\n", 7);
	do_writes(kw);
}

static void set_leader_file(struct kw *kw, const char *state)
{
	if (kw->leader_file)
		write_atomic(kw->leader_file, state, strlen(state));
}

static void on_lead(void *arg)
{
	set_leader_file(arg, "leading\n");
}

static void on_unlead(void *arg)
{
	set_leader_file(arg, "standby\n");
}

static void stop_now(void *arg)
{
	struct kw *kw = arg;
	loop_stop(kw->l);
}

static void on_signal(int signo, void *arg)
{
	struct kw *kw = arg;

	if (signo == SIGUSR1) {
		dump(kw);
		return;
	}
	if (kw->stopping)
		return;
	kw->stopping = true;
	/* SIGTERM: a leader gives its lease back so that a standby takes over at once. */
	if (kw->le)
		leader_release(kw->le, stop_now, kw);
	else
		loop_stop(kw->l);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kubewatch [--source kube|dir:PATH] [--kubeconfig F] [--kinds k1,k2]\n"
		"  [--lease-ns NS] [--dump F] [--stats F] [--ready F] [--timeout S]\n"
		"  [--leader-elect LEASE --identity ID --leader-file F [--lease-duration S]]\n"
		"  [--patch NS/NAME [--ingress IP]... [--annotate K=V|K-]...]\n"
		"  [--event NS/NAME:REASON:NOTE [--event-count N] [--event-distinct]]\n"
		"  [--lease-renew NAME --holder H [--lease-duration S] | --lease-release NAME --holder H]\n"
		"  [--result F] [--exit-after-writes] [--log-level L]\n");
	exit(2);
}

static unsigned parse_kinds(const char *s)
{
	unsigned kinds = 0;
	char *copy = strdup(s), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k = kobj_kind_from_name(t);
		if (k < 0) {
			fprintf(stderr, "kubewatch: unknown kind %s\n", t);
			exit(2);
		}
		kinds |= 1u << k;
	}
	free(copy);
	return kinds;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, 0, 's' },
		{ "kubeconfig", required_argument, 0, 'k' },
		{ "kinds", required_argument, 0, 'K' },
		{ "lease-ns", required_argument, 0, 'n' },
		{ "dump", required_argument, 0, 'd' },
		{ "stats", required_argument, 0, 'S' },
		{ "ready", required_argument, 0, 'r' },
		{ "timeout", required_argument, 0, 't' },
		{ "leader-elect", required_argument, 0, 'L' },
		{ "identity", required_argument, 0, 'i' },
		{ "leader-file", required_argument, 0, 'f' },
		{ "lease-duration", required_argument, 0, 'D' },
		{ "patch", required_argument, 0, 'p' },
		{ "ingress", required_argument, 0, 'I' },
		{ "annotate", required_argument, 0, 'a' },
		{ "event", required_argument, 0, 'e' },
		{ "event-count", required_argument, 0, 'c' },
		{ "event-distinct", no_argument, 0, 'E' },
		{ "lease-renew", required_argument, 0, 'R' },
		{ "lease-release", required_argument, 0, 'X' },
		{ "holder", required_argument, 0, 'H' },
		{ "result", required_argument, 0, 'o' },
		{ "exit-after-writes", no_argument, 0, 'x' },
		{ "log-level", required_argument, 0, 'l' },
		{ 0, 0, 0, 0 },
	};
	struct kw kw = { .event_count = 1, .lease_duration = 15 };
	const char *spec = "kube", *kubeconfig = NULL, *lease_ns = "barelb-system";
	const char *elect = NULL, *identity = NULL;
	unsigned kinds = 1u << KOBJ_SERVICE, timeout_s = 0;
	struct loop_signal *sig[3] = { 0 };
	enum log_level lvl;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': spec = optarg; break;
		case 'k': kubeconfig = optarg; break;
		case 'K': kinds = parse_kinds(optarg); break;
		case 'n': lease_ns = optarg; break;
		case 'd': kw.dump = optarg; break;
		case 'S': kw.stats = optarg; break;
		case 'r': kw.ready = optarg; break;
		case 't': timeout_s = (unsigned)atoi(optarg); break;
		case 'L': elect = optarg; break;
		case 'i': identity = optarg; break;
		case 'f': kw.leader_file = optarg; break;
		case 'D': kw.lease_duration = (unsigned)atoi(optarg); break;
		case 'p': {
			char *slash = strchr(optarg, '/');
			if (!slash)
				usage();
			*slash = '\0';
			kw.patch_ns = optarg;
			kw.patch_name = slash + 1;
			break;
		}
		case 'I':
			if (kw.n_ingress == 4 || addr_parse(optarg, &kw.ingress[kw.n_ingress]) < 0)
				usage();
			kw.n_ingress++;
			break;
		case 'a': {
			char *eq = strchr(optarg, '=');
			size_t n = strlen(optarg);
			if (kw.n_ann == MAX_ANN)
				usage();
			if (eq) {
				*eq = '\0';
				kw.ann[kw.n_ann].value = eq + 1;
			} else if (n && optarg[n - 1] == '-') {
				optarg[n - 1] = '\0'; /* K- removes the annotation, like kubectl */
			} else {
				usage();
			}
			kw.ann[kw.n_ann++].key = optarg;
			break;
		}
		case 'e': kw.event_spec = optarg; break;
		case 'c': kw.event_count = (unsigned)atoi(optarg); break;
		case 'E': kw.event_distinct = true; break;
		case 'R': kw.lease_name = optarg; break;
		case 'X': kw.lease_name = optarg; kw.lease_release = true; break;
		case 'H': kw.lease_holder = optarg; break;
		case 'o': kw.result = optarg; break;
		case 'x': kw.exit_after = true; break;
		case 'l':
			if (log_parse_level(optarg, &lvl) < 0)
				usage();
			log_set_level(lvl);
			break;
		default: usage();
		}
	}
	if (optind != argc || (elect && !identity))
		usage();

	kw.l = loop_new();
	if (!kw.l)
		return 1;
	if (kw.result)
		kw.resf = fopen(kw.result, "a");
	struct source_opts so = { .kubeconfig = kubeconfig, .kinds = kinds,
				  .lease_namespace = lease_ns, .component = "barelb-kubewatch",
				  .node = identity };
	struct source_handlers h = { .changed = on_changed, .synced = on_synced, .arg = &kw };
	kw.s = source_new(kw.l, spec, &so, &h);
	if (!kw.s) {
		rc = 1;
		goto out;
	}
	kw.exit_timer = loop_timer_new(kw.l, stop_now, &kw);
	kw.hard_timer = loop_timer_new(kw.l, stop_now, &kw);
	if (timeout_s)
		loop_timer_arm(kw.hard_timer, (uint64_t)timeout_s * 1000);
	sig[0] = loop_signal_add(kw.l, SIGTERM, on_signal, &kw);
	sig[1] = loop_signal_add(kw.l, SIGINT, on_signal, &kw);
	sig[2] = loop_signal_add(kw.l, SIGUSR1, on_signal, &kw);
	if (elect) {
		struct leader_opts lo = { .lease_name = elect, .identity = identity,
					  .duration_s = kw.lease_duration,
					  .on_started_leading = on_lead,
					  .on_stopped_leading = on_unlead, .arg = &kw };
		kw.le = leader_new(kw.l, kw.s, &lo);
		if (!kw.le) {
			rc = 1;
			goto out;
		}
		set_leader_file(&kw, "standby\n");
		leader_start(kw.le);
	}
	if (source_start(kw.s) < 0) {
		rc = 1;
		goto out;
	}
	loop_run(kw.l);
	dump(&kw);
out:
	leader_free(kw.le);
	source_free(kw.s);
	for (int i = 0; i < 3; i++)
		loop_signal_del(sig[i]);
	loop_timer_free(kw.exit_timer);
	loop_timer_free(kw.hard_timer);
	loop_free(kw.l);
	if (kw.resf)
		fclose(kw.resf);
	return rc;
}
