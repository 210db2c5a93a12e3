/* SPDX-License-Identifier: Apache-2.0 */
/* elect: the layer-2 owner choice (MetalLB-compatible order, barelb eligibility). Pure.
 *
 * SPEC. Given one service S, its EndpointSlices, the Nodes, and the L2Advertisements of S's pool:
 *  1. S without ingress IPs has no owner (no-ip).
 *  2. If S shares its IP with another service and any of the pool's advertisements has
 *     serviceSelectors, S is not announced (shared-ip-selectors): the sharers could otherwise
 *     match different advertisements and split (MetalLB does the same).
 *  3. ADS = the pool's advertisements whose serviceSelectors are empty or match S's labels. None:
 *     no-advertisement.
 *  4. An endpoint can serve when it is ready, or serving (terminating but still serving). If no
 *     endpoint of S can serve, S is not announced, for any externalTrafficPolicy (no-endpoints;
 *     MetalLB does the same).
 *  5. A node is eligible when it is alive (liveness), does not carry the exclude label (key present,
 *     any value), is not NetworkUnavailable, and is selected by the nodeSelectors of at least one
 *     advertisement in ADS (empty nodeSelectors select every node). None: no-eligible-node.
 *  6. externalTrafficPolicy Local: the candidates are the eligible nodes hosting a READY endpoint
 *     of S; if no eligible node hosts a ready one, those hosting a serving (terminating) endpoint,
 *     so that traffic keeps flowing while the last pods drain, and never goes to a node whose pod is
 *     on its way out while another node has a ready one. None: no-local-endpoint.
 *     externalTrafficPolicy Cluster: every eligible node.
 *  7. Each candidate's score = sum over the advertisements in ADS of the weights of their
 *     preferredNodeSelectors that match the node. Candidates are ordered by score, highest first,
 *     then by sha256(nodeName + "#" + ip0) compared bytewise, ascending, where ip0 = S's first
 *     ingress IP as text (dotted quad, or RFC 5952 for IPv6), then by name (only reached by
 *     duplicate node names). The first is the owner. Hashing ip0, not the service name, keeps every
 *     service sharing an IP, and both families of a dual-stack service, on one node; removing a
 *     node that is not the owner never moves the IP.
 *  8. The owner answers on the union of `interfaces` of the advertisements in ADS that select it;
 *     if one of them lists none, on every interface whose subnet holds the IP.
 * The order of nodes, slices, endpoints and advertisements in the input never changes the answer.
 */
#include "elect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

struct cand {
	const struct elect_node *node;
	int score;
	unsigned char hash[SHA256_LEN];
};

struct labels_tmp {
	struct cfg_label *v;
	size_t n;
};

/* struct kv (model) and struct cfg_label (config) are distinct types: copy the pointers. */
static int labels_from_kv(struct labels_tmp *t, const struct kv *kv, size_t n)
{
	t->n = n;
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	if (t->v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		t->v[i].key = kv[i].key;
		t->v[i].value = kv[i].value;
	}
	return 0;
}

static bool has_label(const struct kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return true;
	return false;
}

void elect_node_hash(const char *node, const addr_t *ip, unsigned char out[32])
{
	char text[ADDR_STRLEN];
	struct sha256_ctx c;
	if (addr_format(ip, text, sizeof(text)) < 0)
		text[0] = '\0';
	sha256_init(&c);
	sha256_update(&c, node, strlen(node));
	sha256_update(&c, "#", 1);
	sha256_update(&c, text, strlen(text));
	sha256_final(&c, out);
}

static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	int c = memcmp(a->hash, b->hash, SHA256_LEN);
	if (c != 0)
		return c;
	return strcmp(a->node->name, b->node->name);
}

static int str_cmp(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

enum ep_state { EP_NONE = 0, EP_SERVING = 1, EP_READY = 2 };

/* Best endpoint state of S on the named node (or anywhere when node is NULL). */
static enum ep_state endpoints_on(const struct elect_input *in, const char *node)
{
	enum ep_state best = EP_NONE;
	for (size_t i = 0; i < in->n_slices; i++) {
		const struct endpointslice *s = in->slices[i];
		for (size_t j = 0; s && j < s->n_endpoints; j++) {
			const struct endpoint *e = &s->endpoints[j];
			if (node != NULL && (e->node_name == NULL || strcmp(e->node_name, node) != 0))
				continue;
			if (e->ready)
				return EP_READY;
			/* ready_only: terminating-but-serving endpoints do not count (operator's
			 * choice, --terminating-endpoints=drop). */
			if (e->serving && !in->ready_only)
				best = EP_SERVING;
		}
	}
	return best;
}

static int pref_score(const struct cfg_l2adv *ad, const struct labels_tmp *nl)
{
	int score = 0;
	for (size_t i = 0; i < ad->n_preferred; i++)
		if (cfg_selector_matches(&ad->preferred[i].preference, nl->v, nl->n))
			score += ad->preferred[i].weight;
	return score;
}

static int set_interfaces(struct elect_result *out, const struct cfg_l2adv *const *ads, size_t n_ads,
			  const bool *ad_selects_owner)
{
	size_t total = 0;
	for (size_t i = 0; i < n_ads; i++) {
		if (!ad_selects_owner[i])
			continue;
		if (ads[i]->n_interfaces == 0)
			out->all_interfaces = true;
		total += ads[i]->n_interfaces;
	}
	if (out->all_interfaces || total == 0)
		return 0;
	out->interfaces = calloc(total, sizeof(*out->interfaces));
	if (out->interfaces == NULL)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < n_ads; i++)
		for (size_t j = 0; ad_selects_owner[i] && j < ads[i]->n_interfaces; j++)
			out->interfaces[n++] = ads[i]->interfaces[j];
	qsort(out->interfaces, n, sizeof(*out->interfaces), str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || strcmp(out->interfaces[u - 1], out->interfaces[i]) != 0)
			out->interfaces[u++] = out->interfaces[i];
	out->n_interfaces = u;
	return 0;
}

int elect_l2(const struct elect_input *in, struct elect_result *out)
{
	const char *exclude = in->exclude_label ? in->exclude_label : ELECT_EXCLUDE_LABEL;
	struct labels_tmp svc = {0}, nl = {0};
	const struct cfg_l2adv **ads = NULL;
	struct cand *cands = NULL;
	bool *sel = NULL;
	size_t n_ads = 0, n_cands = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* 1 */
	if (in->n_ingress == 0) {
		out->reason = ELECT_NO_IP;
		return 0;
	}
	/* 2 */
	if (in->shares_ip) {
		for (size_t i = 0; i < in->n_ads; i++) {
			if (in->ads[i]->n_service_selectors > 0) {
				out->reason = ELECT_SHARED_IP_SELECTORS;
				return 0;
			}
		}
	}
	/* 3 */
	if (labels_from_kv(&svc, in->svc_labels, in->n_svc_labels) < 0)
		goto done;
	ads = calloc(in->n_ads ? in->n_ads : 1, sizeof(*ads));
	sel = calloc(in->n_ads ? in->n_ads : 1, sizeof(*sel));
	cands = calloc(in->n_nodes ? in->n_nodes : 1, sizeof(*cands));
	if (ads == NULL || sel == NULL || cands == NULL)
		goto done;
	for (size_t i = 0; i < in->n_ads; i++)
		if (cfg_selectors_match_any(in->ads[i]->service_selectors, in->ads[i]->n_service_selectors,
					    svc.v, svc.n))
			ads[n_ads++] = in->ads[i];
	if (n_ads == 0) {
		out->reason = ELECT_NO_ADVERTISEMENT;
		rc = 0;
		goto done;
	}
	/* 4 */
	enum ep_state any = endpoints_on(in, NULL);
	if (any == EP_NONE) {
		out->reason = ELECT_NO_ENDPOINTS;
		rc = 0;
		goto done;
	}
	/* 5, 6 (first pass: ready endpoints only for Local) and 7's score */
	size_t n_eligible = 0;
	for (int pass = 0; pass < 2 && n_cands == 0; pass++) {
		enum ep_state need = pass == 0 ? EP_READY : EP_SERVING;
		n_eligible = 0;
		for (size_t i = 0; i < in->n_nodes; i++) {
			const struct elect_node *nd = &in->nodes[i];
			if (!nd->alive || nd->network_unavailable)
				continue;
			if (exclude[0] != '\0' && has_label(nd->labels, nd->n_labels, exclude))
				continue;
			free(nl.v);
			nl.v = NULL;
			if (labels_from_kv(&nl, nd->labels, nd->n_labels) < 0)
				goto done;
			bool selected = false;
			int score = 0;
			for (size_t a = 0; a < n_ads; a++) {
				if (cfg_selectors_match_any(ads[a]->node_selectors, ads[a]->n_node_selectors,
							    nl.v, nl.n))
					selected = true;
				score += pref_score(ads[a], &nl);
			}
			if (!selected)
				continue;
			n_eligible++;
			if (in->etp == SVC_ETP_LOCAL && endpoints_on(in, nd->name) < need)
				continue;
			cands[n_cands].node = nd;
			cands[n_cands].score = score;
			elect_node_hash(nd->name, &in->ingress[0], cands[n_cands].hash);
			n_cands++;
		}
		if (in->etp != SVC_ETP_LOCAL)
			break;
	}
	if (n_eligible == 0) {
		out->reason = ELECT_NO_ELIGIBLE_NODE;
		rc = 0;
		goto done;
	}
	if (n_cands == 0) {
		out->reason = ELECT_NO_LOCAL_ENDPOINT;
		rc = 0;
		goto done;
	}
	/* 7 */
	qsort(cands, n_cands, sizeof(*cands), cand_cmp);
	out->reason = ELECT_OWNED;
	out->owner = cands[0].node->name;
	out->score = cands[0].score;
	out->n_candidates = n_cands;
	/* 8 */
	free(nl.v);
	nl.v = NULL;
	if (labels_from_kv(&nl, cands[0].node->labels, cands[0].node->n_labels) < 0)
		goto done;
	for (size_t a = 0; a < n_ads; a++)
		sel[a] = cfg_selectors_match_any(ads[a]->node_selectors, ads[a]->n_node_selectors, nl.v,
						 nl.n);
	if (set_interfaces(out, ads, n_ads, sel) < 0)
		goto done;
	rc = 0;
done:
	free(svc.v);
	free(nl.v);
	free(ads);
	free(sel);
	free(cands);
	if (rc < 0)
		elect_result_free(out);
	return rc;
}

void elect_result_free(struct elect_result *r)
{
	if (r == NULL)
		return;
	free(r->interfaces);
	r->interfaces = NULL;
	r->n_interfaces = 0;
}

const char *elect_reason_name(enum elect_reason r)
{
	static const char *const names[ELECT_REASON_COUNT] = {
		[ELECT_OWNED] = "owned",
		[ELECT_NO_IP] = "no-ip",
		[ELECT_SHARED_IP_SELECTORS] = "shared-ip-selectors",
		[ELECT_NO_ADVERTISEMENT] = "no-advertisement",
		[ELECT_NO_ENDPOINTS] = "no-endpoints",
		[ELECT_NO_ELIGIBLE_NODE] = "no-eligible-node",
		[ELECT_NO_LOCAL_ENDPOINT] = "no-local-endpoint",
	};
	return (unsigned)r < ELECT_REASON_COUNT ? names[r] : "?";
}
