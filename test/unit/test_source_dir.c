/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the dir:PATH source in a temporary directory with a real loop and inotify: initial
 * sync, file writes/edits/renames/deletes, broken files, status patches merged back, Leases,
 * EndpointSlices derived from Pods, Events. Every wait has a deadline so no test can hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/source.h"
#include "barelb/store.h"

#define MAX_EV 256

struct rec {
	enum source_event ev;
	enum kobj_kind kind;
	char key[128];
};

struct t {
	char dir[64];
	struct loop *l;
	struct source *src;
	struct rec ev[MAX_EV];
	int n_ev;
	int synced;
	int synced_after; /* events seen when synced was called */
	unsigned kinds;   /* source_opts.kinds (0: every kind) */
	/* write completions */
	int done_n, done_status;
	char done_err[256];
	/* run_until */
	bool (*pred)(struct t *);
	struct loop_timer *tick;
	uint64_t deadline;
	bool timed_out;
};

static void changed(void *arg, enum source_event ev, const struct kobj *old,
		    const struct kobj *now)
{
	struct t *t = arg;
	const struct kobj *o = now ? now : old;
	if (t->n_ev < MAX_EV) {
		struct rec *r = &t->ev[t->n_ev++];
		r->ev = ev;
		r->kind = o->kind;
		kobj_key(o, r->key, sizeof r->key);
	}
	if (ev == SOURCE_ADDED)
		assert_null(old);
	if (ev == SOURCE_DELETED)
		assert_null(now);
	if (ev == SOURCE_MODIFIED)
		assert_false(kobj_equal(old, now));
}

static void synced(void *arg)
{
	struct t *t = arg;
	t->synced++;
	t->synced_after = t->n_ev;
}

static void done_cb(void *arg, int status, const char *err)
{
	struct t *t = arg;
	t->done_n++;
	t->done_status = status;
	snprintf(t->done_err, sizeof t->done_err, "%s", err ? err : "");
}

static void tick_cb(void *arg)
{
	struct t *t = arg;
	if ((t->pred && t->pred(t)) || loop_now_ms(t->l) >= t->deadline) {
		t->timed_out = !(t->pred && t->pred(t));
		loop_stop(t->l);
		return;
	}
	loop_timer_arm(t->tick, 1);
}

/* Runs the loop until pred holds (true) or ms pass (false). pred NULL: just run for ms. */
static bool run_until(struct t *t, bool (*pred)(struct t *), uint64_t ms)
{
	t->pred = pred;
	t->deadline = loop_now_ms(t->l) + ms;
	t->timed_out = false;
	loop_timer_arm(t->tick, 1);
	loop_run(t->l);
	loop_timer_cancel(t->tick);
	return pred ? !t->timed_out : true;
}

static void put_file(struct t *t, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", t->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void path_of(struct t *t, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", t->dir, name);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof *t);
	strcpy(t->dir, "/tmp/barelb-dir-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->l = loop_new();
	t->tick = loop_timer_new(t->l, tick_cb, t);
	log_set_level(LOG_ERROR);
	*state = t;
	return 0;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char sub[512];
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rm_rf(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	struct t *t = *state;
	source_free(t->src);
	loop_timer_free(t->tick);
	loop_free(t->l);
	rm_rf(t->dir);
	free(t);
	return 0;
}

static void start(struct t *t)
{
	char spec[128];
	snprintf(spec, sizeof spec, "dir:%s", t->dir);
	struct source_opts o = { .component = "barelb-test", .node = "node-t", .kinds = t->kinds };
	struct source_handlers h = { changed, synced, t };
	t->src = source_new(t->l, spec, &o, &h);
	assert_non_null(t->src);
	assert_int_equal(source_start(t->src), 0);
}

static int count_ev(struct t *t, enum source_event ev, const char *key)
{
	int n = 0;
	for (int i = 0; i < t->n_ev; i++)
		if (t->ev[i].ev == ev && (!key || strcmp(t->ev[i].key, key) == 0))
			n++;
	return n;
}

static const struct kobj *get(struct t *t, enum kobj_kind k, const char *ns, const char *name)
{
	return store_get(source_store(t->src), k, ns, name);
}

static const char svc_web[] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
			      "  namespace: shop\nspec:\n  type: LoadBalancer\n"
			      "  ports: [{port: 80}]\n";
static const char ns_shop[] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
static const char node_a[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-a\"},"
	"\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.1.10\"}]}}";

static void test_bad_spec(void **state)
{
	struct t *t = *state;
	struct source_handlers h = { changed, synced, t };
	assert_null(source_new(t->l, "dir:/nonexistent/barelb", NULL, &h));
	assert_null(source_new(t->l, "file:/tmp", NULL, &h));
	assert_null(source_new(t->l, "dir:", NULL, &h));
}

static void test_initial_sync(void **state)
{
	struct t *t = *state;
	char buf[4096];
	snprintf(buf, sizeof buf, "%s---\n%s", svc_web, ns_shop);
	put_file(t, "a.yaml", buf);
	put_file(t, "b.json", node_a);
	put_file(t, ".hidden.yaml", svc_web);
	put_file(t, "notes.txt", svc_web);
	char sub[256];
	path_of(t, "sub", sub, sizeof sub);
	mkdir(sub, 0755);
	put_file(t, "sub/c.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n");
	start(t);
	assert_int_equal(t->synced, 1);
	assert_int_equal(t->synced_after, 3);
	assert_int_equal(t->n_ev, 3);
	assert_int_equal(count_ev(t, SOURCE_ADDED, "shop/web"), 1);
	assert_int_equal(count_ev(t, SOURCE_ADDED, "shop"), 1);
	assert_int_equal(count_ev(t, SOURCE_ADDED, "node-a"), 1);
	assert_true(source_synced(t->src));
	assert_int_equal(store_count(source_store(t->src), KOBJ_NAMESPACE), 1);
	/* the daemons' sub-folders are made */
	char p[256];
	struct stat st;
	path_of(t, "status", p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
	path_of(t, "leases", p, sizeof p);
	assert_int_equal(stat(p, &st), 0);
}

static bool has_c(struct t *t)
{
	return get(t, KOBJ_SERVICE, "shop", "c") != NULL;
}

static bool c_port_81(struct t *t)
{
	const struct kobj *o = get(t, KOBJ_SERVICE, "shop", "c");
	return o && o->u.svc.n_ports == 1 && o->u.svc.ports[0].port == 81;
}

static bool no_c(struct t *t)
{
	return get(t, KOBJ_SERVICE, "shop", "c") == NULL;
}

static const char svc_c80[] =
	"apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: shop}\n"
	"spec: {ports: [{port: 80}]}\n";
static const char svc_c81[] =
	"apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: shop}\n"
	"spec: {ports: [{port: 81}]}\n";

static void test_changes(void **state)
{
	struct t *t = *state;
	put_file(t, "a.yaml", svc_web);
	start(t);
	assert_int_equal(t->n_ev, 1);

	/* a new file */
	uint64_t t0 = loop_now_ms(t->l);
	put_file(t, "c.yaml", svc_c80);
	assert_true(run_until(t, has_c, 1000));
	print_message("# new file seen after %llu ms\n",
		      (unsigned long long)(loop_now_ms(t->l) - t0));
	assert_int_equal(count_ev(t, SOURCE_ADDED, "shop/c"), 1);

	/* modified in place */
	put_file(t, "c.yaml", svc_c81);
	assert_true(run_until(t, c_port_81, 1000));
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "shop/c"), 1);

	/* renamed: nothing changes */
	char from[256], to[256];
	path_of(t, "c.yaml", from, sizeof from);
	path_of(t, "d.yml", to, sizeof to);
	int before = t->n_ev;
	assert_int_equal(rename(from, to), 0);
	run_until(t, NULL, 100);
	assert_int_equal(t->n_ev, before);
	assert_true(has_c(t));

	/* moved into another file (written there first, then removed here): no delete */
	char both[2048];
	snprintf(both, sizeof both, "%s---\n%s", svc_web, svc_c81);
	put_file(t, "a.yaml", both);
	put_file(t, "d.yml", "# nothing here any more\n");
	run_until(t, NULL, 100);
	assert_int_equal(t->n_ev, before);
	assert_true(has_c(t));

	/* and moved back with a rename over the old file in one step */
	put_file(t, ".tmp.yaml", both);
	path_of(t, ".tmp.yaml", from, sizeof from);
	path_of(t, "d.yml", to, sizeof to);
	put_file(t, "a.yaml", svc_web);
	assert_int_equal(rename(from, to), 0);
	run_until(t, NULL, 100);
	assert_int_equal(count_ev(t, SOURCE_DELETED, "shop/c"), 0);

	/* the file is deleted: its objects go */
	assert_int_equal(unlink(to), 0);
	assert_true(run_until(t, no_c, 1000));
	assert_int_equal(count_ev(t, SOURCE_DELETED, "shop/c"), 1);
	assert_int_equal(count_ev(t, SOURCE_DELETED, "shop/web"), 0);

	/* renamed to a hidden name: gone as well */
	path_of(t, "a.yaml", from, sizeof from);
	path_of(t, ".a.yaml", to, sizeof to);
	assert_int_equal(rename(from, to), 0);
	assert_true(run_until(t, NULL, 100));
	assert_int_equal(count_ev(t, SOURCE_DELETED, "shop/web"), 1);
	assert_int_equal(store_count(source_store(t->src), KOBJ_SERVICE), 0);
}

static bool web_port_443(struct t *t)
{
	const struct kobj *o = get(t, KOBJ_SERVICE, "shop", "web");
	return o && o->u.svc.ports[0].port == 443;
}

static void test_broken_file(void **state)
{
	struct t *t = *state;
	char buf[2048];
	snprintf(buf, sizeof buf, "%s---\n%s", svc_web, svc_c80);
	put_file(t, "a.yaml", buf);
	start(t);
	assert_int_equal(t->n_ev, 2);

	/* does not parse: everything stays */
	put_file(t, "a.yaml", "apiVersion: v1\nkind: Service\nmetadata: [unclosed\n");
	run_until(t, NULL, 100);
	assert_int_equal(t->n_ev, 2);
	assert_true(has_c(t));
	assert_non_null(get(t, KOBJ_SERVICE, "shop", "web"));
	struct source_stats st;
	source_get_stats(t->src, &st);
	assert_true(st.decode_errors >= 1);

	/* one bad object: the good one is updated, the bad one keeps its last good state */
	put_file(t, "a.yaml",
		 "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
		 "spec: {ports: [{port: 443}]}\n---\n"
		 "apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: shop}\n"
		 "spec: {ports: [{port: \"eighty\"}]}\n");
	assert_true(run_until(t, web_port_443, 1000));
	assert_true(has_c(t));
	assert_int_equal(get(t, KOBJ_SERVICE, "shop", "c")->u.svc.ports[0].port, 80);
	assert_int_equal(count_ev(t, SOURCE_DELETED, NULL), 0);

	/* fixed: c is updated */
	snprintf(buf, sizeof buf, "%s---\n%s", svc_web, svc_c81);
	put_file(t, "a.yaml", buf);
	assert_true(run_until(t, c_port_81, 1000));

	/* grown past the 16 MiB limit: refused, and what it held stays (a file too large to read is
	 * not a file that was deleted) */
	char path[256];
	path_of(t, "a.yaml", path, sizeof path);
	FILE *f = fopen(path, "r+"); /* not "a": appends ignore fseek */
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)(17u << 20), SEEK_SET), 0);
	fputc('\n', f);
	fclose(f);
	run_until(t, NULL, 200);
	assert_int_equal(count_ev(t, SOURCE_DELETED, NULL), 0);
	assert_true(has_c(t));
	assert_non_null(get(t, KOBJ_SERVICE, "shop", "web"));
}

static bool web_has_ingress(struct t *t)
{
	const struct kobj *o = get(t, KOBJ_SERVICE, "shop", "web");
	return o && o->u.svc.n_ingress == 1;
}

static bool ghost_here(struct t *t)
{
	return get(t, KOBJ_SERVICE, "shop", "ghost") != NULL;
}

static bool done_once(struct t *t)
{
	return t->done_n > 0;
}

static void test_status_patch(void **state)
{
	struct t *t = *state;
	put_file(t, "a.yaml", svc_web);
	start(t);
	addr_t ip;
	assert_int_equal(addr_parse("192.0.2.10", &ip), 0);
	struct kv ann[] = { { "barelb.io/ip-allocated-from-pool", "public" } };
	assert_int_equal(source_patch_service(t->src, "shop", "web", &ip, 1, ann, 1, done_cb, t), 0);
	/* completion comes from the loop, not from inside the call */
	assert_int_equal(t->done_n, 0);
	assert_true(run_until(t, done_once, 1000));
	assert_int_equal(t->done_status, 0);
	char p[256];
	path_of(t, "status/shop/web.json", p, sizeof p);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	char buf[1024] = { 0 };
	assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
	fclose(f);
	assert_string_equal(buf, "{\"metadata\":{\"annotations\":{\"barelb.io/ip-allocated-from-"
				 "pool\":\"public\"}},\"status\":{\"loadBalancer\":{\"ingress\":"
				 "[{\"ip\":\"192.0.2.10\"}]}}}");
	/* no temporary file is left behind */
	path_of(t, "status/shop", p, sizeof p);
	DIR *d = opendir(p);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || strstr(de->d_name, "tmp"))
			files++;
	closedir(d);
	assert_int_equal(files, 1);

	/* merged back over the user's manifest */
	assert_true(run_until(t, web_has_ingress, 1000));
	const struct kobj *o = get(t, KOBJ_SERVICE, "shop", "web");
	char ipbuf[64];
	addr_format(&o->u.svc.ingress[0], ipbuf, sizeof ipbuf);
	assert_string_equal(ipbuf, "192.0.2.10");
	assert_string_equal(kmeta_annotation(&o->meta, "barelb.io/ip-allocated-from-pool"),
			    "public");
	assert_int_equal(o->u.svc.ports[0].port, 80);
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "shop/web"), 1);

	/* an edit of the manifest keeps the status */
	put_file(t, "a.yaml",
		 "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
		 "spec: {type: LoadBalancer, ports: [{port: 443}]}\n");
	assert_true(run_until(t, web_port_443, 1000));
	assert_int_equal(get(t, KOBJ_SERVICE, "shop", "web")->u.svc.n_ingress, 1);

	/* a status for a Service that does not exist waits for it */
	t->done_n = 0;
	assert_int_equal(source_patch_service(t->src, "shop", "ghost", &ip, 1, NULL, 0, done_cb, t),
			 0);
	assert_true(run_until(t, done_once, 1000));
	run_until(t, NULL, 50);
	assert_null(get(t, KOBJ_SERVICE, "shop", "ghost"));
	put_file(t, "ghost.yaml", "apiVersion: v1\nkind: Service\n"
				  "metadata: {name: ghost, namespace: shop}\n");
	assert_true(run_until(t, ghost_here, 1000));
	assert_int_equal(get(t, KOBJ_SERVICE, "shop", "ghost")->u.svc.n_ingress, 1);

	/* names that would escape the folder are refused */
	t->done_n = 0;
	assert_int_equal(source_patch_service(t->src, "..", "x", &ip, 1, NULL, 0, done_cb, t), -1);
	assert_true(run_until(t, done_once, 1000));
	assert_int_equal(t->done_status, -1);
}

static bool lease_held_by(struct t *t, const char *who)
{
	const struct kobj *o = get(t, KOBJ_LEASE, "barelb-system", "speaker-x");
	return o && o->u.lease.holder && strcmp(o->u.lease.holder, who) == 0;
}

static bool lease_a(struct t *t)
{
	return lease_held_by(t, "node-a");
}

static bool lease_b(struct t *t)
{
	return lease_held_by(t, "node-b");
}

static bool lease_gone(struct t *t)
{
	return get(t, KOBJ_LEASE, "barelb-system", "speaker-x") == NULL;
}

static int renew(struct t *t, const char *who)
{
	t->done_n = 0;
	source_lease_renew(t->src, "speaker-x", who, 15, done_cb, t);
	assert_true(run_until(t, done_once, 1000));
	return t->done_status;
}

static int release(struct t *t, const char *who)
{
	t->done_n = 0;
	source_lease_release(t->src, "speaker-x", who, done_cb, t);
	assert_true(run_until(t, done_once, 1000));
	return t->done_status;
}

static void test_leases(void **state)
{
	struct t *t = *state;
	start(t);
	assert_int_equal(renew(t, "node-a"), 0);
	assert_true(run_until(t, lease_a, 1000));
	const struct kobj *o = get(t, KOBJ_LEASE, "barelb-system", "speaker-x");
	assert_int_equal(o->u.lease.duration_s, 15);
	assert_int_equal(o->u.lease.transitions, 0);
	int64_t acquired = o->u.lease.acquire_us;
	assert_true(acquired > 0);
	assert_int_equal(o->u.lease.renew_us, acquired);

	/* someone else: refused while fresh */
	assert_int_equal(renew(t, "node-b"), -1);
	assert_non_null(strstr(t->done_err, "held by node-a"));
	assert_int_equal(release(t, "node-b"), -1);

	/* the holder renews: acquireTime stays, renewTime moves */
	usleep(2000);
	assert_int_equal(renew(t, "node-a"), 0);
	run_until(t, NULL, 30);
	o = get(t, KOBJ_LEASE, "barelb-system", "speaker-x");
	assert_int_equal(o->u.lease.acquire_us, acquired);
	assert_true(o->u.lease.renew_us > acquired);
	assert_string_equal(o->meta.resource_version, "2");

	/* released: deleted, and the next one takes it at once */
	assert_int_equal(release(t, "node-a"), 0);
	assert_true(run_until(t, lease_gone, 1000));
	assert_int_equal(count_ev(t, SOURCE_DELETED, "barelb-system/speaker-x"), 1);
	assert_int_equal(renew(t, "node-b"), 0);
	assert_true(run_until(t, lease_b, 1000));

	/* an expired lease of someone else is taken over, with a transition */
	put_file(t, "leases/speaker-x.json",
		 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":"
		 "{\"name\":\"speaker-x\",\"namespace\":\"barelb-system\"},\"spec\":{"
		 "\"holderIdentity\":\"node-c\",\"leaseDurationSeconds\":10,\"renewTime\":"
		 "\"2020-01-01T00:00:00.000000Z\",\"leaseTransitions\":4}}");
	assert_int_equal(renew(t, "node-a"), 0);
	assert_true(run_until(t, lease_a, 1000));
	o = get(t, KOBJ_LEASE, "barelb-system", "speaker-x");
	assert_int_equal(o->u.lease.transitions, 5);
}

static const char svc_sel[] = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: "
			      "shop}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n"
			      "  selector: {app: web}\n  ports: [{port: 80}]\n";

#define PODS_FMT \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: shop, labels: {app: web}}\n" \
	"spec: {nodeName: %s}\nstatus: {podIP: 10.1.0.1}\n---\n" \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p2, namespace: shop, labels: {app: web}}\n" \
	"spec: {nodeName: node-b}\nstatus:\n  podIP: 10.1.0.2\n" \
	"  conditions: [{type: Ready, status: \"False\"}]\n---\n" \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p3, namespace: shop, labels: {app: other}}\n" \
	"spec: {nodeName: node-b}\nstatus: {podIP: 10.1.0.3}\n---\n" \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p4, namespace: elsewhere, labels: {app: " \
	"web}}\nspec: {nodeName: node-b}\nstatus: {podIP: 10.1.0.4}\n---\n" \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p5, namespace: shop, labels: {app: web}}\n" \
	"spec: {nodeName: node-b}\n---\n" \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: p6, namespace: shop, labels: {app: web}, " \
	"deletionTimestamp: \"2026-01-01T00:00:00Z\"}\n" \
	"spec: {nodeName: node-d}\nstatus: {podIP: 10.1.0.6}\n"

static const struct kobj *slice(struct t *t)
{
	return get(t, KOBJ_ENDPOINTSLICE, "shop", "web-barelb");
}

static bool p1_on_c(struct t *t)
{
	const struct kobj *s = slice(t);
	return s && s->u.eps.n_endpoints >= 1 && s->u.eps.endpoints[0].node_name &&
	       strcmp(s->u.eps.endpoints[0].node_name, "node-c") == 0;
}

static bool slice_none_ready(struct t *t)
{
	const struct kobj *s = slice(t);
	return s && s->u.eps.n_endpoints == 0;
}

static bool no_slice(struct t *t)
{
	return slice(t) == NULL;
}

static bool slice_one(struct t *t)
{
	const struct kobj *s = slice(t);
	return s && s->u.eps.n_endpoints == 1;
}

static void test_pods_to_slices(void **state)
{
	struct t *t = *state;
	char buf[4096];
	put_file(t, "svc.yaml", svc_sel);
	snprintf(buf, sizeof buf, PODS_FMT, "node-a");
	put_file(t, "pods.yaml", buf);
	start(t);
	const struct kobj *s = slice(t);
	assert_non_null(s);
	assert_string_equal(s->u.eps.service_name, "web");
	assert_string_equal(kmeta_label(&s->meta, "kubernetes.io/service-name"), "web");
	assert_int_equal(s->u.eps.address_type, AF_INET);
	/* p1 ready, p2 not ready, p6 terminating; p3 other app, p4 other namespace, p5 no IP */
	assert_int_equal(s->u.eps.n_endpoints, 3);
	const struct endpoint *e = s->u.eps.endpoints;
	char ip[64];
	addr_format(&e[0].addrs[0], ip, sizeof ip);
	assert_string_equal(ip, "10.1.0.1");
	assert_string_equal(e[0].node_name, "node-a");
	assert_true(e[0].ready && e[0].serving && !e[0].terminating);
	assert_string_equal(e[1].node_name, "node-b");
	assert_true(!e[1].ready && !e[1].serving && !e[1].terminating);
	assert_string_equal(e[2].node_name, "node-d");
	assert_true(!e[2].ready && e[2].serving && e[2].terminating);
	/* the slice came before synced */
	assert_int_equal(count_ev(t, SOURCE_ADDED, "shop/web-barelb"), 1);

	/* the Pod moves to another node */
	snprintf(buf, sizeof buf, PODS_FMT, "node-c");
	put_file(t, "pods.yaml", buf);
	assert_true(run_until(t, p1_on_c, 1000));
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "shop/web-barelb"), 1);

	/* Pods go: the slice stays, with fewer endpoints */
	put_file(t, "pods.yaml",
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: p9, namespace: shop, labels: {app: "
		 "web}}\nstatus: {podIP: 10.1.0.9}\n");
	assert_true(run_until(t, slice_one, 1000));

	/* an explicit EndpointSlice of the same name wins */
	put_file(t, "eps.yaml",
		 "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-barelb, "
		 "namespace: shop, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\n"
		 "endpoints: [{addresses: [10.9.9.9], nodeName: node-z}, {addresses: [10.9.9.8]}]\n");
	run_until(t, NULL, 100);
	assert_int_equal(slice(t)->u.eps.n_endpoints, 2);
	char p[256];
	path_of(t, "eps.yaml", p, sizeof p);
	unlink(p);
	assert_true(run_until(t, slice_one, 1000));

	/* the Service goes: so does its slice */
	path_of(t, "svc.yaml", p, sizeof p);
	unlink(p);
	assert_true(run_until(t, no_slice, 1000));
	assert_int_equal(count_ev(t, SOURCE_DELETED, "shop/web-barelb"), 1);
}

/* A daemon that does not ask for Pods (the speaker): the slices are still derived from them, and
 * the Pods are not delivered. */
static void test_pods_not_cached(void **state)
{
	struct t *t = *state;
	char buf[4096];
	t->kinds = (1u << KOBJ_SERVICE) | (1u << KOBJ_ENDPOINTSLICE);
	put_file(t, "svc.yaml", svc_sel);
	snprintf(buf, sizeof buf, PODS_FMT, "node-a");
	put_file(t, "pods.yaml", buf);
	start(t);
	const struct kobj *s = slice(t);
	assert_non_null(s);
	assert_int_equal(s->u.eps.n_endpoints, 3);
	assert_int_equal(store_count(source_store(t->src), KOBJ_POD), 0);
	assert_int_equal(count_ev(t, SOURCE_ADDED, "shop/web-barelb"), 1);
	snprintf(buf, sizeof buf, PODS_FMT, "node-c");
	put_file(t, "pods.yaml", buf);
	assert_true(run_until(t, p1_on_c, 1000));
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "shop/web-barelb"), 1);
	assert_int_equal(store_count(source_store(t->src), KOBJ_POD), 0);
	char p[256];
	path_of(t, "pods.yaml", p, sizeof p);
	unlink(p);
	assert_true(run_until(t, slice_none_ready, 1000));
	path_of(t, "svc.yaml", p, sizeof p);
	unlink(p);
	assert_true(run_until(t, no_slice, 1000));
}

static int count_lines(struct t *t, char *last, size_t n)
{
	char p[256];
	path_of(t, "events.log", p, sizeof p);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	char line[2048];
	int c = 0;
	while (fgets(line, sizeof line, f)) {
		c++;
		snprintf(last, n, "%s", line);
	}
	fclose(f);
	return c;
}

static void test_events(void **state)
{
	struct t *t = *state;
	put_file(t, "a.yaml", svc_web);
	start(t);
	const struct kobj *o = get(t, KOBJ_SERVICE, "shop", "web");
	for (int i = 0; i < 30; i++)
		assert_int_equal(source_event(t->src, o, "Warning", "AllocationFailed",
					      "no available IPs"),
				 0);
	source_event(t->src, o, "Normal", "IPAllocated", "192.0.2.10");
	char last[2048];
	int lines = count_lines(t, last, sizeof last);
	/* the bucket holds 10 writes: the rest waits */
	assert_int_equal(lines, 10);
	run_until(t, NULL, 400);
	lines = count_lines(t, last, sizeof last);
	assert_true(lines >= 11 && lines <= 16);
	/* the aggregated line carries the whole count */
	char p[256];
	path_of(t, "events.log", p, sizeof p);
	FILE *f = fopen(p, "r");
	char line[2048];
	int max_count = 0, allocated = 0;
	while (fgets(line, sizeof line, f)) {
		char *c = strstr(line, "\"count\":");
		if (c && atoi(c + 8) > max_count)
			max_count = atoi(c + 8);
		if (strstr(line, "\"reason\":\"IPAllocated\""))
			allocated++;
		assert_non_null(strstr(line, "\"regarding\":{\"apiVersion\":\"v1\",\"kind\":\"Service\""));
		assert_non_null(strstr(line, "\"reportingController\":\"barelb-test\""));
	}
	fclose(f);
	assert_int_equal(max_count, 30);
	assert_int_equal(allocated, 1);
}

/* ---- many files: the key → files index ---- */

#define MANY_FILES 1000
#define MANY_PER 5

static void put_many(struct t *t, int f, int port_of_first)
{
	char name[64], text[4096];
	size_t o = 0;
	for (int j = 0; j < MANY_PER; j++)
		o += (size_t)snprintf(text + o, sizeof text - o,
				      "---\napiVersion: v1\nkind: Service\nmetadata: {name: s-%d-%d, "
				      "namespace: ns-%d}\nspec: {ports: [{port: %d}]}\n",
				      f, j, f % 10, j == 0 ? port_of_first : 80);
	snprintf(name, sizeof name, "f-%04d.yaml", f);
	put_file(t, name, text);
}

static int port_of(struct t *t, const char *ns, const char *name)
{
	const struct kobj *o = get(t, KOBJ_SERVICE, ns, name);
	return o && o->u.svc.n_ports ? o->u.svc.ports[0].port : -1;
}

static bool f0_gone(struct t *t)
{
	return get(t, KOBJ_SERVICE, "ns-0", "s-0-1") == NULL;
}

static bool f500_edited(struct t *t)
{
	return port_of(t, "ns-0", "s-500-0") == 8080;
}

static bool f0_back(struct t *t)
{
	return get(t, KOBJ_SERVICE, "ns-0", "s-0-1") != NULL;
}

static bool dup_gone(struct t *t)
{
	return get(t, KOBJ_SERVICE, "ns-0", "s-0-0") == NULL;
}

static void test_many_files(void **state)
{
	struct t *t = *state;
	for (int f = 0; f < MANY_FILES; f++)
		put_many(t, f, 80);
	/* the same key in a later file: the first file in name order wins while it holds it */
	put_file(t, "z-dup.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s-0-0, "
				  "namespace: ns-0}\nspec: {ports: [{port: 99}]}\n");
	uint64_t t0 = loop_now_ms(t->l);
	start(t);
	print_message("# %d files x %d Services synced in %llu ms\n", MANY_FILES, MANY_PER,
		      (unsigned long long)(loop_now_ms(t->l) - t0));
	assert_int_equal(t->synced, 1);
	assert_int_equal(store_count(source_store(t->src), KOBJ_SERVICE), MANY_FILES * MANY_PER);
	assert_int_equal(port_of(t, "ns-0", "s-0-0"), 80);
	assert_int_equal(port_of(t, "ns-9", "s-999-4"), 80);

	/* the first holder goes: the key falls to the next file, as a change, not a delete */
	t->n_ev = 0;
	char p[256];
	path_of(t, "f-0000.yaml", p, sizeof p);
	assert_int_equal(unlink(p), 0);
	assert_true(run_until(t, f0_gone, 2000));
	run_until(t, NULL, 50);
	assert_int_equal(t->n_ev, MANY_PER);
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "ns-0/s-0-0"), 1);
	assert_int_equal(count_ev(t, SOURCE_DELETED, NULL), MANY_PER - 1);
	assert_int_equal(port_of(t, "ns-0", "s-0-0"), 99);

	/* one file of a thousand edited: only its changed object is delivered */
	t->n_ev = 0;
	put_many(t, 500, 8080);
	assert_true(run_until(t, f500_edited, 2000));
	run_until(t, NULL, 50);
	assert_int_equal(t->n_ev, 1);
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "ns-0/s-500-0"), 1);

	/* the file comes back: it holds the key again, before z-dup.yaml */
	t->n_ev = 0;
	put_many(t, 0, 80);
	assert_true(run_until(t, f0_back, 2000));
	run_until(t, NULL, 50);
	assert_int_equal(port_of(t, "ns-0", "s-0-0"), 80);
	assert_int_equal(count_ev(t, SOURCE_MODIFIED, "ns-0/s-0-0"), 1);
	assert_int_equal(count_ev(t, SOURCE_ADDED, NULL), MANY_PER - 1);

	/* both holders gone: deleted */
	t->n_ev = 0;
	path_of(t, "z-dup.yaml", p, sizeof p);
	assert_int_equal(unlink(p), 0);
	run_until(t, NULL, 100);
	assert_int_equal(t->n_ev, 0);
	path_of(t, "f-0000.yaml", p, sizeof p);
	assert_int_equal(unlink(p), 0);
	assert_true(run_until(t, dup_gone, 2000));
	run_until(t, NULL, 50);
	assert_int_equal(count_ev(t, SOURCE_DELETED, NULL), MANY_PER);
	assert_int_equal(store_count(source_store(t->src), KOBJ_SERVICE),
			 (MANY_FILES - 1) * MANY_PER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_spec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_patch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pods_to_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pods_not_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
