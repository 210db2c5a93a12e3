/* SPDX-License-Identifier: Apache-2.0 */
/* The timed half of the kube_sync benchmark: runs a kube source (Services and EndpointSlices)
 * against an API server and prints how long the initial sync took, as "sync_ms=X cpu_ms=Y
 * objects=N". Without arguments (as `make bench` runs every program in build/bench) it hands
 * over to test/bench/kube_sync.sh, which starts the fake API, loads it, runs this program and
 * the curl baseline, and prints the bench line. Built with -O2. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "barelb/log.h"
#include "barelb/loop.h"
#include "barelb/source.h"
#include "barelb/store.h"

#define SCRIPT "test/bench/kube_sync.sh"

struct run {
	struct loop *l;
	struct source *s;
	double t0, synced_at;
	bool synced;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_synced(void *arg)
{
	struct run *r = arg;
	r->synced_at = now_s();
	r->synced = true;
	loop_stop(r->l);
}

static void on_timeout(void *arg)
{
	struct run *r = arg;
	loop_stop(r->l);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kubeconfig = NULL;
	unsigned timeout_s = 300;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 't':
			timeout_s = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [--kubeconfig FILE [--timeout S]]\n", argv[0]);
			return 2;
		}
	}
	if (!kubeconfig) {
		/* run by `make bench` from the top of the tree: the script sets up the server */
		setenv("KUBE_SYNC_BIN", argv[0], 1);
		execl("/bin/bash", "bash", SCRIPT, (char *)NULL);
		perror(SCRIPT);
		return 1;
	}

	log_set_level(LOG_WARN);
	struct run r = { 0 };
	struct source_opts o = {
		.kubeconfig = kubeconfig,
		.kinds = (1u << KOBJ_SERVICE) | (1u << KOBJ_ENDPOINTSLICE),
		.component = "barelb-bench",
		.node = "bench",
	};
	struct source_handlers h = { .synced = on_synced, .arg = &r };
	r.l = loop_new();
	struct loop_timer *to = loop_timer_new(r.l, on_timeout, &r);
	double c0 = cpu_s();
	r.t0 = now_s();
	r.s = source_new(r.l, "kube", &o, &h);
	if (!r.s || source_start(r.s) < 0) {
		fprintf(stderr, "kube_sync: cannot start the kube source\n");
		return 1;
	}
	loop_timer_arm(to, (uint64_t)timeout_s * 1000);
	loop_run(r.l);
	double cpu = cpu_s() - c0;
	int rc = 0;
	size_t n = store_count(source_store(r.s), KOBJ_SERVICE) +
		   store_count(source_store(r.s), KOBJ_ENDPOINTSLICE);
	if (!r.synced) {
		fprintf(stderr, "kube_sync: not synced after %u s (%zu objects)\n", timeout_s, n);
		rc = 1;
	} else {
		printf("sync_ms=%.1f cpu_ms=%.1f objects=%zu\n", (r.synced_at - r.t0) * 1e3,
		       cpu * 1e3, n);
	}
	source_free(r.s);
	loop_timer_free(to);
	loop_free(r.l);
	return rc;
}
