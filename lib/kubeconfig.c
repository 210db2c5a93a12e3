/* SPDX-License-Identifier: Apache-2.0 */
/* kubeconfig: read a kubeconfig (YAML, through yamltree) or the in-cluster service account into a
 * struct kube_config. Only what barelb needs: server, CA, TLS skip, tokens, client certificates. */
#define _GNU_SOURCE
#include "barelb/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "barelb/log.h"
#include "barelb/yamltree.h"

#define KUBECONFIG_MAX (4u << 20) /* a kubeconfig larger than this is not a kubeconfig */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p) {
		log_error("out of memory");
		abort();
	}
	return p;
}

void kubeconfig_clear(struct kube_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->tls_server_name);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->cert_data);
	free(c->key_file);
	free(c->key_data);
	free(c->namespace);
	free(c->origin);
	memset(c, 0, sizeof *c);
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *kube_b64_decode(const char *s, size_t len, size_t *outlen)
{
	char *out = malloc(len / 4 * 3 + 4);
	size_t o = 0, pad = 0;
	uint32_t acc = 0;
	int nbits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64val(c);
		if (v < 0 || pad) /* a data character after padding is corrupt input */
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (char)((acc >> nbits) & 0xff);
		}
	}
	if (pad > 2 || nbits >= 6)
		goto bad;
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

static int read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
		if (errno == 0 || (size_t)st.st_size > max)
			errno = EFBIG;
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0 || (n += (size_t)r) == (size_t)st.st_size)
			break;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (outlen)
		*outlen = n;
	return 0;
}

/* ---------- kubeconfig YAML ---------- */

struct kcparse {
	const char *dir;
	char *err;
	size_t errlen;
};

static const struct ynode *get_scalar(const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);
	if (!n || n->kind != YN_SCALAR || yscalar_is_null(n))
		return NULL;
	return n;
}

/* Find the entry named `name` in a list of {name: ..., <field>: {...}} and return <field>. */
static const struct ynode *named(const struct ynode *root, const char *list, const char *field,
				 const char *name, struct kcparse *p)
{
	const struct ynode *seq = ymap_get(root, list);

	if (!seq || seq->kind != YN_SEQ) {
		seterr(p->err, p->errlen, "%s: missing or not a list", list);
		return NULL;
	}
	for (size_t i = 0; i < seq->n_items; i++) {
		const struct ynode *n = get_scalar(seq->items[i], "name");
		const struct ynode *v;

		if (!n || strcmp(n->str, name) != 0)
			continue;
		v = ymap_get(seq->items[i], field);
		if (!v || v->kind != YN_MAP) {
			seterr(p->err, p->errlen, "%s[%zu].%s (line %d): missing or not a mapping",
			       list, i, field, seq->items[i]->line);
			return NULL;
		}
		return v;
	}
	seterr(p->err, p->errlen, "%s: no entry named \"%s\"", list, name);
	return NULL;
}

static char *path_in(const struct kcparse *p, const struct ynode *n)
{
	char *out;

	if (n->str[0] == '/' || !p->dir)
		return xstrndup(n->str, n->len);
	if (asprintf(&out, "%s/%s", p->dir, n->str) < 0) {
		log_error("out of memory");
		abort();
	}
	return out;
}

static int data_field(const struct ynode *map, const char *key, char **data, size_t *len,
		      struct kcparse *p)
{
	const struct ynode *n = get_scalar(map, key);

	if (!n)
		return 0;
	*data = kube_b64_decode(n->str, n->len, len);
	if (!*data) {
		seterr(p->err, p->errlen, "%s (line %d): not valid base64", key, n->line);
		return -1;
	}
	return 0;
}

int kubeconfig_parse(const char *data, size_t len, const char *dir, struct kube_config *out,
		     char *err, size_t errlen)
{
	struct kcparse p = { .dir = dir, .err = err, .errlen = errlen };
	struct ystream ys;
	struct yerror ye;
	const struct ynode *root, *cur, *ctx, *cl, *us, *n;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (ystream_parse(data, len, &ys, &ye) < 0) {
		seterr(err, errlen, "line %d column %d: %s", ye.line, ye.col, ye.msg);
		return -1;
	}
	root = ys.n_docs ? ys.docs[0].root : NULL;
	if (!root || root->kind != YN_MAP) {
		seterr(err, errlen, "not a kubeconfig (expected a mapping)");
		goto out;
	}
	cur = get_scalar(root, "current-context");
	if (!cur) {
		seterr(err, errlen, "current-context is not set");
		goto out;
	}
	ctx = named(root, "contexts", "context", cur->str, &p);
	if (!ctx)
		goto out;
	n = get_scalar(ctx, "cluster");
	if (!n) {
		seterr(err, errlen, "context \"%s\" names no cluster", cur->str);
		goto out;
	}
	cl = named(root, "clusters", "cluster", n->str, &p);
	if (!cl)
		goto out;
	if ((n = get_scalar(ctx, "namespace")))
		out->namespace = xstrndup(n->str, n->len);

	n = get_scalar(cl, "server");
	if (!n || n->len == 0) {
		seterr(err, errlen, "cluster of context \"%s\" has no server", cur->str);
		goto out;
	}
	out->server = xstrndup(n->str, n->len);
	while (strlen(out->server) > 0 && out->server[strlen(out->server) - 1] == '/')
		out->server[strlen(out->server) - 1] = '\0';
	if ((n = get_scalar(cl, "certificate-authority")))
		out->ca_file = path_in(&p, n);
	if (data_field(cl, "certificate-authority-data", &out->ca_data, &out->ca_len, &p) < 0)
		goto out;
	if ((n = get_scalar(cl, "tls-server-name")))
		out->tls_server_name = xstrndup(n->str, n->len);
	if ((n = get_scalar(cl, "insecure-skip-tls-verify"))) {
		if (strcmp(n->str, "true") == 0 || strcmp(n->str, "True") == 0)
			out->insecure = true;
		else if (strcmp(n->str, "false") != 0 && strcmp(n->str, "False") != 0) {
			seterr(err, errlen, "insecure-skip-tls-verify (line %d): expected true or false",
			       n->line);
			goto out;
		}
	}

	/* A context without a user is allowed (anonymous, or client certificates elsewhere). */
	if ((n = get_scalar(ctx, "user"))) {
		us = named(root, "users", "user", n->str, &p);
		if (!us)
			goto out;
		if (ymap_get(us, "exec") || ymap_get(us, "auth-provider")) {
			seterr(err, errlen, "user \"%s\" uses exec/auth-provider credentials, which "
			       "barelb does not run; use a token, tokenFile or a client certificate",
			       n->str);
			goto out;
		}
		if ((n = get_scalar(us, "token")))
			out->token = xstrndup(n->str, n->len);
		if ((n = get_scalar(us, "tokenFile")))
			out->token_file = path_in(&p, n);
		if ((n = get_scalar(us, "client-certificate")))
			out->cert_file = path_in(&p, n);
		if ((n = get_scalar(us, "client-key")))
			out->key_file = path_in(&p, n);
		if (data_field(us, "client-certificate-data", &out->cert_data, &out->cert_len, &p) < 0 ||
		    data_field(us, "client-key-data", &out->key_data, &out->key_len, &p) < 0)
			goto out;
		if ((out->cert_file || out->cert_data) != (out->key_file || out->key_data)) {
			seterr(err, errlen, "user: a client certificate needs both the certificate "
			       "and the key");
			goto out;
		}
	}
	if (strncmp(out->server, "https://", 8) != 0 && strncmp(out->server, "http://", 7) != 0) {
		seterr(err, errlen, "server \"%s\": expected an https:// URL", out->server);
		goto out;
	}
	rc = 0;
out:
	ystream_free(&ys);
	if (rc < 0)
		kubeconfig_clear(out);
	return rc;
}

static int load_file(const char *path, struct kube_config *out, char *err, size_t errlen)
{
	char *data, *dir, *slash, msg[384];
	size_t len;
	int rc;

	if (read_file(path, KUBECONFIG_MAX, &data, &len) < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	dir = xstrndup(path, strlen(path));
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	rc = kubeconfig_parse(data, len, dir, out, msg, sizeof msg);
	if (rc < 0)
		seterr(err, errlen, "%s: %s", path, msg);
	else
		out->origin = xstrndup(path, strlen(path));
	free(dir);
	free(data);
	return rc;
}

int kubeconfig_in_cluster(const char *sa_dir, struct kube_config *out, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[PATH_MAX];
	char *ns;
	size_t nslen;
	int n;

	memset(out, 0, sizeof *out);
	if (!host || !*host) {
		seterr(err, errlen, "not in a cluster: KUBERNETES_SERVICE_HOST is not set");
		return -1;
	}
	if (!port || !*port)
		port = "443";
	/* An IPv6 service address needs brackets in a URL. */
	n = asprintf(&out->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		     port);
	if (n < 0) {
		out->server = NULL;
		seterr(err, errlen, "out of memory");
		return -1;
	}
	snprintf(path, sizeof path, "%s/token", sa_dir);
	if (access(path, R_OK) < 0) {
		seterr(err, errlen, "in-cluster: %s: %s", path, strerror(errno));
		kubeconfig_clear(out);
		return -1;
	}
	out->token_file = xstrndup(path, strlen(path));
	snprintf(path, sizeof path, "%s/ca.crt", sa_dir);
	out->ca_file = xstrndup(path, strlen(path));
	snprintf(path, sizeof path, "%s/namespace", sa_dir);
	if (read_file(path, 4096, &ns, &nslen) == 0) {
		while (nslen && (ns[nslen - 1] == '\n' || ns[nslen - 1] == ' '))
			ns[--nslen] = '\0';
		if (nslen)
			out->namespace = ns;
		else
			free(ns);
	}
	out->origin = xstrndup("in-cluster", 10);
	return 0;
}

int kubeconfig_load(const char *path, struct kube_config *out, char *err, size_t errlen)
{
	const char *env = getenv("KUBECONFIG");
	const char *home = getenv("HOME");
	char buf[PATH_MAX];

	if (path && *path)
		return load_file(path, out, err, errlen);
	if (env && *env) {
		/* kubectl merges the list; barelb takes the first file that exists. */
		const char *p = env;
		while (*p) {
			size_t n = strcspn(p, ":");
			if (n > 0 && n < sizeof buf) {
				memcpy(buf, p, n);
				buf[n] = '\0';
				if (access(buf, F_OK) == 0)
					return load_file(buf, out, err, errlen);
			}
			p += n;
			if (*p == ':')
				p++;
		}
	}
	if (home && *home) {
		snprintf(buf, sizeof buf, "%s/.kube/config", home);
		if (access(buf, F_OK) == 0)
			return load_file(buf, out, err, errlen);
	}
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return kubeconfig_in_cluster(KUBE_SA_DIR, out, err, errlen);
	seterr(err, errlen, "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, create "
	       "~/.kube/config, or run in a cluster");
	return -1;
}
