/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_config: libFuzzer target feeding arbitrary bytes to the config loader (both forms). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "barelb/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	int rc = config_load_buf("fuzz.yaml", (const char *)data, size, &c, &d);
	/* A loaded config must be printable, and failure must mean at least one error. */
	if (rc == 0) {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			config_print(c, f);
			fclose(f);
		}
	} else if (d.n_errors == 0) {
		__builtin_trap();
	}
	config_free(c);
	cfg_diags_free(&d);
	return 0;
}
