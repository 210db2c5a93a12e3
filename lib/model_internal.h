/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the model files (model.c, model_json.c, model_yaml.c) and the kube backend, which
 * decodes watch events from the cJSON tree it already has instead of printing and re-parsing. */
#ifndef BARELB_MODEL_INTERNAL_H
#define BARELB_MODEL_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "barelb/model.h"

/* Decode one object from a cJSON tree: same contract as kobj_decode_json. */
int kobj_from_cjson(const cJSON *obj, int hint, struct kobj **out, char *err, size_t errlen);

/* Where a decode error happened, as the path of keys and indices from the object's root, so that
 * the manifest reader can turn it into a line of the YAML source. */
#define KPATH_MAX 16
struct kpath {
	int depth;
	struct {
		const char *key; /* NULL: idx is an array index */
		int idx;
	} at[KPATH_MAX];
};
int kobj_from_cjson_at(const cJSON *obj, int hint, struct kobj **out, char *err, size_t errlen,
		       struct kpath *where);

/* model.c */
int kmodel_kind_exact(const char *kind);            /* "Service" → KOBJ_SERVICE; -1 */
const char *kmodel_kv_get(const struct kv *kv, size_t n, const char *key);
size_t kmodel_size(const struct kobj *o);           /* bytes of the block kobj_clone makes */

#endif
