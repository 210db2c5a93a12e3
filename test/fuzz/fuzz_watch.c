/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_watch: libFuzzer target for the kube watch stream: line framing across arbitrary read
 * boundaries, event decoding (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR) and the cache it feeds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/store.h"
#include "source_kube_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned long changes;

static void on_changed(void *arg, enum source_event ev, const struct kobj *old,
		       const struct kobj *now)
{
	(void)arg;
	/* the source's contract: ADDED has no old, DELETED no new, MODIFIED both */
	if ((ev == SOURCE_ADDED && (old || !now)) || (ev == SOURCE_DELETED && (!old || now)) ||
	    (ev == SOURCE_MODIFIED && (!old || !now)))
		abort();
	changes++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* keep every log line formatted (a bad format argument would show) but not printed */
	log_set_level(LOG_DEBUG);
	log_set_stream(fopen("/dev/null", "w"));
	return 0;
}

/* Input: byte 0 picks the kind watched, byte 1 the read size (1..256 bytes per call, 0 = all at
 * once); the rest is the response body. A -1 from the consumer ends that watch: the rest of the
 * input is fed to a restarted watch, as on_watch_done + watch_start would. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source s;
	struct kube k;
	struct kwatch *w;
	size_t chunk, off;
	char *body;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof s);
	memset(&k, 0, sizeof k);
	s.store = store_new();
	s.kinds = (1u << KOBJ_KIND_COUNT) - 1;
	s.h.changed = on_changed;
	k.s = &s;
	k.rl_err = (struct log_ratelimit)LOG_RATELIMIT_INIT(1e9, 1e9);
	k.rl_decode = (struct log_ratelimit)LOG_RATELIMIT_INIT(1e9, 1e9);
	w = &k.w[data[0] % KOBJ_KIND_COUNT];
	w->k = &k;
	w->kind = (enum kobj_kind)(data[0] % KOBJ_KIND_COUNT);
	w->on = true;
	snprintf(w->rv, sizeof w->rv, "1");
	chunk = data[1] ? data[1] : size;
	/* a heap copy of exactly the body: ASan sees reads past it */
	body = malloc(size - 2 ? size - 2 : 1);
	if (!body)
		abort();
	memcpy(body, data + 2, size - 2);
	for (off = 0; off < size - 2;) {
		size_t n = size - 2 - off < chunk ? size - 2 - off : chunk;
		char rv_before[sizeof w->rv];

		memcpy(rv_before, w->rv, sizeof rv_before);
		if (kube_watch_feed(w, body + off, n) < 0) {
			/* the consumer stopped the watch: the buffer is reset and the resume point
			 * is still a string that fits */
			if (w->len != 0 || w->scanned != 0 || memchr(w->rv, '\0', sizeof w->rv) == NULL)
				abort();
			w->abort_why = 0;
		}
		if (w->scanned > w->len || (w->len && w->len > w->cap))
			abort();
		off += n;
	}
	free(body);
	free(w->buf);
	store_free(s.store);
	return 0;
}
