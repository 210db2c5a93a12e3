/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark of the allocator: 100,000 services over four pools, then 10,000 deleted and
 * re-created, beside a naive allocator that scans each pool from its first address and tests a
 * hash set of used IPs (MetalLB's getIPFromCIDR), run in the same process as the baseline.
 * Built with -O2 and no sanitizer. Output lines: "bench NAME: FIGURE UNIT (baseline FIGURE UNIT,
 * ratio X)"; lines starting with '#' explain how the figures were obtained. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../../controller/alloc.h"

#define N_SVC 100000
#define N_CHURN 10000
#define CAP_S 2.0 /* wall-clock cap for each naive run */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---------- the pools ---------- */

struct bench_pools {
	struct cfg_pool p[4];
	prefix_t cidr[4];
};

static void make_pools(struct bench_pools *b)
{
	static const char *const names[4] = { "a", "b", "c", "d" };
	static const char *const cidrs[4] = { "10.0.0.0/17", "10.1.0.0/17", "10.2.0.0/16", "fd00::/64" };
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < 4; i++) {
		prefix_parse(cidrs[i], &b->cidr[i], NULL);
		b->p[i].name = (char *)names[i];
		b->p[i].cidrs = &b->cidr[i];
		b->p[i].n_cidrs = 1;
		b->p[i].auto_assign = true;
	}
}

/* The family of service i: every fifth is IPv6. */
static int fam_of(size_t i)
{
	return i % 5 == 4 ? AF_INET6 : AF_INET;
}

/* ---------- the naive allocator ---------- */

struct nslot {
	addr_u128 v;
	uint8_t state; /* 0 empty, 1 used, 2 deleted */
	uint8_t fam;
};

struct naive {
	const struct bench_pools *pools;
	struct nslot *set;        /* used IPs */
	size_t cap;
	struct nsvc {
		const char *key;
		addr_u128 v;
		uint8_t fam;
	} *svc;                   /* by service index (keys are "ns/svcNNNNNN") */
	size_t n_svc;
};

static size_t nhash(addr_u128 v, int fam, size_t cap)
{
	uint64_t x = (uint64_t)v ^ (uint64_t)(v >> 64) * 0x9e3779b97f4a7c15ull ^ (uint64_t)fam;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (size_t)x & (cap - 1);
}

static bool naive_has(const struct naive *n, addr_u128 v, int fam)
{
	for (size_t i = nhash(v, fam, n->cap);; i = (i + 1) & (n->cap - 1)) {
		const struct nslot *s = &n->set[i];
		if (s->state == 0)
			return false;
		if (s->state == 1 && s->v == v && s->fam == fam)
			return true;
	}
}

static void naive_add(struct naive *n, addr_u128 v, int fam)
{
	size_t i = nhash(v, fam, n->cap);
	while (n->set[i].state == 1)
		i = (i + 1) & (n->cap - 1);
	n->set[i] = (struct nslot){ v, 1, (uint8_t)fam };
}

static void naive_del(struct naive *n, addr_u128 v, int fam)
{
	for (size_t i = nhash(v, fam, n->cap);; i = (i + 1) & (n->cap - 1)) {
		struct nslot *s = &n->set[i];
		if (s->state == 0)
			return;
		if (s->state == 1 && s->v == v && s->fam == fam) {
			s->state = 2;
			return;
		}
	}
}

/* Pools in name order, each CIDR from its first address: the first IP not in the set. */
static int naive_alloc(struct naive *n, size_t svc, const char *key, int fam)
{
	for (int p = 0; p < 4; p++) {
		const prefix_t *c = &n->pools->cidr[p];
		if (c->a.family != fam)
			continue;
		addr_t lo, hi;
		prefix_first(c, &lo);
		prefix_last(c, &hi);
		addr_u128 end = addr_to_u128(&hi);
		for (addr_u128 v = addr_to_u128(&lo);; v++) {
			if (!naive_has(n, v, fam)) {
				naive_add(n, v, fam);
				n->svc[svc] = (struct nsvc){ key, v, (uint8_t)fam };
				return 0;
			}
			if (v == end)
				break;
		}
	}
	return -1;
}

static void naive_release(struct naive *n, size_t svc)
{
	naive_del(n, n->svc[svc].v, n->svc[svc].fam);
	n->svc[svc].key = NULL;
}

static void naive_init(struct naive *n, const struct bench_pools *p)
{
	n->pools = p;
	n->cap = 1u << 18; /* load under 0.4 at 100,000 */
	n->set = calloc(n->cap, sizeof(*n->set));
	n->svc = calloc(N_SVC, sizeof(*n->svc));
	if (!n->set || !n->svc) {
		fprintf(stderr, "bench alloc: out of memory\n");
		exit(1);
	}
}

static void naive_fini(struct naive *n)
{
	free(n->set);
	free(n->svc);
}

/* ---------- barelb's allocator ---------- */

static int ours_alloc(struct alloc *a, const char *key, int fam)
{
	struct alloc_port port = { ALLOC_TCP, 80 };
	struct alloc_request rq = { .key = key, .ns = "ns", .families = { fam }, .n_families = 1,
				    .ports = &port, .n_ports = 1 };
	struct alloc_result res;
	return alloc_service(a, &rq, 0, &res);
}

/* Allocate services [0, n) with barelb's allocator; seconds. */
static double ours_run(struct alloc *a, char **keys, size_t n)
{
	double t0 = now_s();
	for (size_t i = 0; i < n; i++)
		if (ours_alloc(a, keys[i], fam_of(i)) != 0) {
			fprintf(stderr, "bench alloc: allocation %zu failed\n", i);
			exit(1);
		}
	return now_s() - t0;
}

int main(void)
{
	struct bench_pools pools;
	make_pools(&pools);
	char **keys = malloc(N_SVC * sizeof(char *));
	size_t *victims = malloc(N_CHURN * sizeof(size_t));
	if (!keys || !victims)
		return 1;
	for (size_t i = 0; i < N_SVC; i++) {
		keys[i] = malloc(16);
		snprintf(keys[i], 16, "ns/svc%06zu", i);
	}
	uint64_t seed = 0x5eed;
	for (size_t i = 0; i < N_CHURN; i++) /* distinct victims: a random permutation prefix */
		victims[i] = i;
	size_t *perm = malloc(N_SVC * sizeof(size_t));
	for (size_t i = 0; i < N_SVC; i++)
		perm[i] = i;
	for (size_t i = N_SVC - 1; i > 0; i--) {
		size_t j = (size_t)(rnd(&seed) % (i + 1)), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	memcpy(victims, perm, N_CHURN * sizeof(size_t));
	free(perm);

	printf("# alloc: %d services over 4 pools (10.0.0.0/17, 10.1.0.0/17, 10.2.0.0/16, fd00::/64; "
	       "every fifth service IPv6), then %d random ones deleted and re-created\n",
	       N_SVC, N_CHURN);

	/* barelb: 100k, memory, churn */
	size_t h0 = heap_bytes();
	struct alloc *a = alloc_new();
	if (!a || alloc_set_pools(a, pools.p, 4, NULL, NULL, 0) != 0)
		return 1;
	double ours_100k = ours_run(a, keys, N_SVC);
	size_t ours_bytes = heap_bytes() - h0;
	double t0 = now_s();
	for (size_t i = 0; i < N_CHURN; i++)
		alloc_release(a, keys[victims[i]], 0);
	for (size_t i = 0; i < N_CHURN; i++)
		if (ours_alloc(a, keys[victims[i]], fam_of(victims[i])) != 0)
			return 1;
	double ours_churn = now_s() - t0;
	alloc_free(a);

	/* naive: 100k with a time cap */
	struct naive nv = { 0 };
	h0 = heap_bytes();
	naive_init(&nv, &pools);
	size_t m = 0;
	t0 = now_s();
	double naive_t = 0;
	for (; m < N_SVC; m++) {
		if (naive_alloc(&nv, m, keys[m], fam_of(m)) != 0)
			return 1;
		if ((m & 255) == 255 && (naive_t = now_s() - t0) > CAP_S) {
			m++;
			break;
		}
	}
	naive_t = now_s() - t0;
	size_t naive_bytes = heap_bytes() - h0;
	bool capped = m < N_SVC;
	/* The naive cost of allocation k grows linearly with k, so T(n) ~ T(m) * (n/m)^2. */
	double naive_100k = capped ? naive_t * ((double)N_SVC / (double)m) * ((double)N_SVC / (double)m)
				   : naive_t;
	if (capped) {
		/* barelb at the size the naive one reached, both measured */
		struct alloc *b = alloc_new();
		if (!b || alloc_set_pools(b, pools.p, 4, NULL, NULL, 0) != 0)
			return 1;
		double ours_m = ours_run(b, keys, m);
		alloc_free(b);
		printf("# naive stopped after %.1f s at %zu allocations; its %d figure below is "
		       "extrapolated as T(%zu) * (%d/%zu)^2 (its cost per allocation grows linearly)\n",
		       naive_t, m, N_SVC, m, N_SVC, m);
		printf("bench alloc_%zu: %.2f ms (baseline %.0f ms, ratio %.0f)\n", m, ours_m * 1e3,
		       naive_t * 1e3, naive_t / ours_m);
	}
	printf("bench alloc_100k: %.1f ms (baseline %.0f ms, ratio %.0f)\n", ours_100k * 1e3,
	       naive_100k * 1e3, naive_100k / ours_100k);

	/* naive churn: its table filled to 100k without timing (same IPs as barelb's, lowest
	 * first in pool order), then the same deletions and re-creations, timed with a cap */
	if (capped) {
		naive_fini(&nv);
		memset(&nv, 0, sizeof(nv));
		naive_init(&nv, &pools);
		addr_u128 next[4];
		for (int p = 0; p < 4; p++) {
			addr_t lo;
			prefix_first(&pools.cidr[p], &lo);
			next[p] = addr_to_u128(&lo);
		}
		size_t left[4] = { 32768, 32768, 65536, (size_t)-1 };
		for (size_t i = 0; i < N_SVC; i++) {
			int fam = fam_of(i), p = fam == AF_INET6 ? 3 : (left[0] ? 0 : left[1] ? 1 : 2);
			naive_add(&nv, next[p], fam);
			nv.svc[i] = (struct nsvc){ keys[i], next[p], (uint8_t)fam };
			next[p]++;
			left[p]--;
		}
	}
	t0 = now_s();
	for (size_t i = 0; i < N_CHURN; i++)
		naive_release(&nv, victims[i]);
	size_t done = 0;
	double naive_churn = 0;
	for (; done < N_CHURN; done++) {
		if (naive_alloc(&nv, victims[done], keys[victims[done]], fam_of(victims[done])) != 0)
			return 1;
		if ((done & 63) == 63 && (naive_churn = now_s() - t0) > CAP_S) {
			done++;
			break;
		}
	}
	naive_churn = now_s() - t0;
	if (done < N_CHURN) {
		printf("# naive churn stopped after %.1f s at %zu of %d re-creations; extrapolated "
		       "linearly (an underestimate: later holes lie deeper)\n",
		       naive_churn, done, N_CHURN);
		naive_churn *= (double)N_CHURN / (double)done;
	}
	printf("bench alloc_churn_10k: %.1f ms (baseline %.0f ms, ratio %.0f)\n", ours_churn * 1e3,
	       naive_churn * 1e3, naive_churn / ours_churn);
	naive_fini(&nv);

	/* memory: barelb's whole table vs the naive set + per-service record (naive measured at
	 * the size it reached, per service) */
	double ob = (double)ours_bytes / N_SVC, nb = (double)naive_bytes / N_SVC;
	printf("# bytes per service: heap growth (mallinfo2) over %d allocations, key strings "
	       "excluded; the naive one preallocates its arrays for %d services (IP + key pointer, "
	       "a hash set at load < 0.4)\n",
	       N_SVC, N_SVC);
	printf("bench alloc_bytes_per_service: %.0f bytes (baseline %.0f bytes, ratio %.2f)\n", ob, nb,
	       nb / ob);
	for (size_t i = 0; i < N_SVC; i++)
		free(keys[i]);
	free(keys);
	free(victims);
	return 0;
}
