/* SPDX-License-Identifier: Apache-2.0 */
/* kubeconfig: where the Kubernetes API is and how to authenticate to it, from a kubeconfig file
 * (current context) or from the in-cluster service account. Plain strings out; the HTTP client
 * turns them into TLS and auth settings. */
#ifndef BARELB_KUBECONFIG_H
#define BARELB_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
	char *server;      /* "https://host:port", no trailing slash */
	char *ca_file;     /* certificate-authority (absolute path) or NULL */
	char *ca_data;     /* certificate-authority-data, decoded PEM, or NULL */
	size_t ca_len;
	bool insecure;     /* insecure-skip-tls-verify */
	char *tls_server_name; /* tls-server-name or NULL */
	char *token;       /* static bearer token or NULL */
	char *token_file;  /* re-read when it changes (service-account tokens rotate); wins over token */
	char *cert_file, *cert_data; /* client certificate (PEM), path or decoded data */
	size_t cert_len;
	char *key_file, *key_data;
	size_t key_len;
	char *namespace;   /* the context's namespace, or the service account's; NULL if none */
	char *origin;      /* where this came from (a path or "in-cluster"), for messages */
};

/* Resolve like kubectl, then in-cluster: `path` (from --kubeconfig) if not NULL, else the first
 * existing file of $KUBECONFIG (colon-separated; files are not merged), else ~/.kube/config if it
 * exists, else the in-cluster service account when KUBERNETES_SERVICE_HOST is set.
 * 0, or -1 with err filled ("FILE: users[0].user: ..."). */
int kubeconfig_load(const char *path, struct kube_config *out, char *err, size_t errlen);
/* Parse kubeconfig text; relative file names are taken relative to `dir`. */
int kubeconfig_parse(const char *data, size_t len, const char *dir, struct kube_config *out,
		     char *err, size_t errlen);
/* In-cluster: KUBERNETES_SERVICE_HOST/PORT and sa_dir/{token,ca.crt,namespace}. */
int kubeconfig_in_cluster(const char *sa_dir, struct kube_config *out, char *err, size_t errlen);
void kubeconfig_clear(struct kube_config *c); /* frees the strings; NULL-safe */

/* Base64 (RFC 4648 standard alphabet, whitespace ignored) into a new NUL-terminated buffer.
 * NULL on bad input. */
char *kube_b64_decode(const char *s, size_t len, size_t *outlen);

#endif
