/* SPDX-License-Identifier: Apache-2.0 */
/* yamlq: prints a YAML stream as flat "DOC<TAB>PATH<TAB>VALUE" lines (read with barelb's own
 * lib/yamltree.c), so that shell tests can check Kubernetes manifests with grep and awk.
 *   yamlq FILE             every scalar leaf; empty mappings and lists print as {} and [].
 *                          PATH is like .spec.containers[0].args[1], or .data["config.yaml"]
 *                          for keys other than [A-Za-z0-9_-]+; VALUE escapes \ as \\, newline as
 *                          \n and tab as \t. DOC counts from 0.
 *   yamlq -r FILE DOC PATH the raw bytes of one scalar (exit 1 when there is none).
 * A file that does not parse: "FILE:LINE:COL: message" on stderr, exit 1. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/yamltree.h"

struct walk {
	const char *want; /* -r: the path asked for, else NULL */
	const struct ynode *found;
	char path[4096];
};

static void print_escaped(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			fputs("\\\\", stdout);
		else if (s[i] == '\n')
			fputs("\\n", stdout);
		else if (s[i] == '\t')
			fputs("\\t", stdout);
		else
			putchar(s[i]);
	}
}

static bool simple_key(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static void walk(struct walk *w, size_t doc, const struct ynode *n)
{
	size_t len = strlen(w->path);

	if (w->want && strcmp(w->path, w->want) == 0)
		w->found = n;
	if (n->kind == YN_SCALAR || (n->kind == YN_MAP && n->n_pairs == 0) ||
	    (n->kind == YN_SEQ && n->n_items == 0)) {
		if (w->want)
			return;
		printf("%zu\t%s\t", doc, w->path);
		if (n->kind == YN_SCALAR)
			print_escaped(n->str, n->len);
		else
			fputs(n->kind == YN_MAP ? "{}" : "[]", stdout);
		putchar('\n');
		return;
	}
	if (n->kind == YN_SEQ) {
		for (size_t i = 0; i < n->n_items; i++) {
			snprintf(w->path + len, sizeof w->path - len, "[%zu]", i);
			walk(w, doc, n->items[i]);
		}
	} else {
		for (size_t i = 0; i < n->n_pairs; i++) {
			const struct ynode *k = n->pairs[i].key;
			const char *ks = k->kind == YN_SCALAR ? k->str : "?";
			if (simple_key(ks)) {
				snprintf(w->path + len, sizeof w->path - len, ".%s", ks);
			} else {
				size_t o = len;
				o += (size_t)snprintf(w->path + o, sizeof w->path - o, "[\"");
				for (const char *p = ks; *p && o + 4 < sizeof w->path; p++) {
					if (*p == '"' || *p == '\\')
						w->path[o++] = '\\';
					w->path[o++] = *p;
				}
				snprintf(w->path + o, sizeof w->path - o, "\"]");
			}
			walk(w, doc, n->pairs[i].val);
		}
	}
	w->path[len] = '\0';
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	bool raw = argc == 5 && strcmp(argv[1], "-r") == 0;
	const char *file = raw ? argv[2] : argv[1];
	struct ystream s;
	struct yerror err;
	struct walk w = { 0 };
	size_t len, want_doc = 0;
	char *data;
	int rc = 0;

	if (!(argc == 2 && argv[1][0] != '-') && !raw) {
		fprintf(stderr, "usage: yamlq FILE | yamlq -r FILE DOC PATH\n");
		return 2;
	}
	data = read_file(file, &len);
	if (!data) {
		perror(file);
		return 1;
	}
	if (ystream_parse(data, len, &s, &err) < 0) {
		fprintf(stderr, "%s:%d:%d: %s\n", file, err.line, err.col, err.msg);
		free(data);
		return 1;
	}
	if (raw) {
		want_doc = strtoul(argv[3], NULL, 10);
		w.want = argv[4];
	}
	for (size_t d = 0; d < s.n_docs; d++) {
		if (!s.docs[d].root || (raw && d != want_doc))
			continue;
		walk(&w, d, s.docs[d].root);
	}
	if (raw) {
		if (w.found && w.found->kind == YN_SCALAR)
			fwrite(w.found->str, 1, w.found->len, stdout);
		else
			rc = 1;
	}
	ystream_free(&s);
	free(data);
	return rc;
}
