/* SPDX-License-Identifier: Apache-2.0 */
/* model: the Kubernetes objects barelb reads, as plain structs, decoded from JSON (cJSON) or from
 * YAML manifests (through the same decoder). Unknown fields are ignored; a field of the wrong type
 * makes that one object an error. No cJSON or libyaml type appears here. */
#ifndef BARELB_MODEL_H
#define BARELB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barelb/addr.h"

enum kobj_kind {
	KOBJ_SERVICE,
	KOBJ_ENDPOINTSLICE,
	KOBJ_NODE,
	KOBJ_NAMESPACE,
	KOBJ_LEASE,
	KOBJ_POD,
	KOBJ_KIND_COUNT
};

struct kv {
	char *key;
	char *value;
};

struct kmeta {
	char *name;
	char *namespace;          /* NULL or "" for cluster-scoped objects (Node, Namespace) */
	char *uid;
	char *resource_version;
	struct kv *labels;        /* sorted by key */
	size_t n_labels;
	struct kv *annotations;   /* sorted by key */
	size_t n_annotations;
	bool deleting;            /* metadata.deletionTimestamp set */
};

/* ---- Service ---- */
enum svc_type { SVC_CLUSTER_IP, SVC_NODE_PORT, SVC_LOAD_BALANCER, SVC_EXTERNAL_NAME };
enum svc_etp { SVC_ETP_CLUSTER, SVC_ETP_LOCAL };
enum svc_ipfp { SVC_IPFP_UNSET, SVC_IPFP_SINGLE, SVC_IPFP_PREFER_DUAL, SVC_IPFP_REQUIRE_DUAL };
enum kproto { KPROTO_TCP, KPROTO_UDP, KPROTO_SCTP };

struct svc_port {
	char *name;
	enum kproto protocol;     /* default TCP */
	uint16_t port;
	uint16_t node_port;
	char *target_port;        /* as written (number or name); NULL if unset */
};

struct service {
	enum svc_type type;
	struct svc_port *ports;
	size_t n_ports;
	struct kv *selector;      /* sorted by key */
	size_t n_selector;
	enum svc_etp etp;
	char *lb_class;           /* spec.loadBalancerClass; NULL if unset */
	char *lb_ip;              /* spec.loadBalancerIP as written; NULL if unset */
	addr_t *cluster_ips;      /* spec.clusterIPs (or clusterIP); "None" leaves it empty */
	size_t n_cluster_ips;
	int families[2];          /* spec.ipFamilies: AF_INET/AF_INET6 */
	size_t n_families;
	enum svc_ipfp ipfp;
	addr_t *ingress;          /* status.loadBalancer.ingress[].ip, in order */
	size_t n_ingress;
};

/* ---- EndpointSlice ---- */
struct endpoint {
	addr_t *addrs;
	size_t n_addrs;
	char *node_name;          /* NULL if unset */
	/* conditions: absent ready means ready (API semantics), absent serving means = ready */
	bool ready, serving, terminating;
};

struct endpointslice {
	char *service_name;       /* label kubernetes.io/service-name; NULL if absent */
	int address_type;         /* AF_INET, AF_INET6, or 0 for FQDN */
	struct endpoint *endpoints;
	size_t n_endpoints;
};

/* ---- Node ---- */
enum kcond { KCOND_ABSENT, KCOND_TRUE, KCOND_FALSE, KCOND_UNKNOWN };

struct node {
	enum kcond ready;
	int64_t ready_since_ms;   /* lastTransitionTime of Ready, Unix ms; 0 if unknown */
	bool network_unavailable; /* condition NetworkUnavailable == True */
	addr_t *addrs;            /* status.addresses of type InternalIP/ExternalIP */
	size_t n_addrs;
};

/* ---- Lease (coordination.k8s.io/v1) ---- */
struct lease {
	char *holder;             /* spec.holderIdentity; NULL if unset */
	int64_t acquire_us;       /* Unix microseconds; 0 if unset */
	int64_t renew_us;
	uint32_t duration_s;      /* spec.leaseDurationSeconds */
	uint32_t transitions;
};

/* ---- Pod (for the dir: source, which derives EndpointSlices from Pods like Kubernetes does) ---- */
struct pod_port {
	char *name;
	enum kproto protocol;
	uint16_t port;            /* containerPort */
};

struct pod {
	char *node_name;          /* spec.nodeName */
	addr_t *ips;              /* status.podIPs (or podIP) */
	size_t n_ips;
	bool ready;               /* condition Ready == True; a Pod without status counts as ready */
	bool terminating;         /* metadata.deletionTimestamp set */
	struct pod_port *ports;
	size_t n_ports;
	bool finished;            /* status.phase Succeeded or Failed: never an endpoint */
};

struct kobj {
	enum kobj_kind kind;
	struct kmeta meta;
	union {
		struct service svc;
		struct endpointslice eps;
		struct node node;
		struct lease lease;
		struct pod pod;
	} u;                      /* Namespace has only meta */
	/* private: the object owns one allocation block */
	void *mem;
};

const char *kobj_kind_name(enum kobj_kind k);  /* "Service", ... */
/* "Service" / "services" etc. → kind; -1 if unknown */
int kobj_kind_from_name(const char *kind);
void kobj_free(struct kobj *o);                /* NULL-safe */
/* "ns/name" or "name" into buf; returns buf */
const char *kobj_key(const struct kobj *o, char *buf, size_t n);
const char *kmeta_label(const struct kmeta *m, const char *key);      /* NULL if absent */
const char *kmeta_annotation(const struct kmeta *m, const char *key); /* NULL if absent */
/* Deep equality of everything decoded except resourceVersion: a relist uses it to deliver only
 * what really changed. */
bool kobj_equal(const struct kobj *a, const struct kobj *b);

/* Decode one object from JSON text. The kind comes from the object's "kind" field; when that is
 * absent (watch events of a typed list) `hint` is used (-1: none). Returns 0, -1 with err filled
 * ("spec.ports[0].port: expected a number, got a string"), or 1 for a kind barelb does not use
 * (not an error: skipped). */
int kobj_decode_json(const char *json, size_t len, int hint, struct kobj **out, char *err,
		     size_t errlen);

/* Manifests: a YAML or JSON stream of documents (each an object or a List with items). For each
 * object of a kind barelb uses, cb is called with the decoded object (ownership passes to cb) and
 * the document's line. Bad objects are reported through errcb (line, message) and skipped.
 * Returns -1 only when the stream itself cannot be parsed (errcb got the reason). */
typedef void (*kobj_cb)(struct kobj *o, int line, void *arg);
typedef void (*kobj_err_cb)(int line, int col, const char *msg, void *arg);
int kobj_decode_manifests(const char *data, size_t len, kobj_cb cb, kobj_err_cb errcb, void *arg);

/* Deep copy into one allocation block (NULL-safe). */
struct kobj *kobj_clone(const struct kobj *o);

/* RFC 3339 time ("2026-12-04T21:00:00Z", MicroTime "...:00.123456Z", offsets "+02:00") to Unix
 * microseconds: 0, or -1 when malformed. */
int kobj_parse_time(const char *s, int64_t *us);
/* Unix microseconds to MicroTime "2026-12-04T21:00:00.123456Z" (UTC); n >= 32. Returns buf. */
const char *kobj_format_microtime(int64_t us, char *buf, size_t n);

/* ---- encoders: malloc'd NUL-terminated JSON text, NULL on failure ---- */
/* The JSON merge patch of a Service that sets status.loadBalancer.ingress and the annotations
 * (a NULL value becomes null: removes the key). base (may be NULL) is an earlier patch that this
 * one is composed over: its annotations are kept unless overridden, so that applying the result
 * equals applying base then this patch. */
char *kobj_service_patch_json(const char *base, size_t base_len, const addr_t *ingress,
			      size_t n_ingress, const struct kv *annotations, size_t n_annotations);
/* Apply such a merge patch (metadata.annotations and status only) to a Service: *out is a new
 * object. 0, or -1 with err filled. */
int kobj_service_apply_patch(const struct kobj *svc, const char *patch, size_t len,
			     struct kobj **out, char *err, size_t errlen);
/* A whole coordination.k8s.io/v1 Lease object (metadata name, namespace, resourceVersion if set). */
char *kobj_lease_json(const struct kobj *lease);

/* An events.k8s.io/v1 Event about an object (metadata.generateName, no name). */
struct kobj_event_info {
	const struct kobj *about;
	const char *type, *reason, *note, *action;
	const char *controller, *instance;  /* reportingController / reportingInstance */
	uint32_t count;                     /* > 1: series.count */
	int64_t first_us, last_us;          /* eventTime, series.lastObservedTime */
};
char *kobj_event_json(const struct kobj_event_info *ev);

#endif
