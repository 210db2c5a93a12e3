/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the object decoders: manifest streams (YAML/JSON through yamltree) and
 * single JSON objects (what the kube backend decodes), plus equality and clone on what decodes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_obj(struct kobj *o, int line, void *arg)
{
	(void)line;
	(void)arg;
	/* what decodes must copy and compare equal to its copy */
	struct kobj *c = kobj_clone(o);
	if (!kobj_equal(o, c))
		abort();
	char key[256];
	kobj_key(o, key, sizeof key);
	kobj_free(c);
	kobj_free(o);
}

static void on_err(int line, int col, const char *msg, void *arg)
{
	(void)arg;
	if (line < 0 || col < 0 || !msg)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kobj_decode_manifests((const char *)data, size, on_obj, on_err, NULL);
	for (int hint = -1; hint < KOBJ_KIND_COUNT; hint += 3) {
		struct kobj *o = NULL;
		char err[256];
		if (kobj_decode_json((const char *)data, size, hint, &o, err, sizeof err) == 0) {
			struct kobj *c = kobj_clone(o);
			if (!kobj_equal(o, c))
				abort();
			kobj_free(c);
		}
		kobj_free(o);
	}
	return 0;
}
