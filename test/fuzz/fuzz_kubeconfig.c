/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_kubeconfig: libFuzzer target for kubeconfig_parse (YAML through yamltree, base64 *-data
 * fields, relative paths) and the base64 decoder on its own. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "barelb/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_config c;
	char err[256];
	size_t n = 0;
	char *copy = malloc(size ? size : 1), *dec;

	if (!copy)
		return 0;
	memcpy(copy, data, size); /* exactly size bytes, no terminator: reads past are caught */
	err[0] = '\0';
	if (kubeconfig_parse(copy, size, "/etc/kube", &c, err, sizeof err) == 0) {
		/* success: a server URL, no trailing slash, relative paths made absolute */
		if (!c.server || !c.server[0] || c.server[strlen(c.server) - 1] == '/')
			abort();
		if (strncmp(c.server, "https://", 8) != 0 && strncmp(c.server, "http://", 7) != 0)
			abort();
		if ((c.ca_file && c.ca_file[0] != '/') || (c.token_file && c.token_file[0] != '/'))
			abort();
		if ((c.cert_file || c.cert_data) != (c.key_file || c.key_data))
			abort();
	} else if (!err[0] || memchr(err, '\0', sizeof err) == NULL) {
		abort(); /* a failure always explains itself */
	}
	kubeconfig_clear(&c);
	kubeconfig_clear(NULL);
	dec = kube_b64_decode(copy, size, &n);
	if (dec && (n > size / 4 * 3 + 3 || dec[n] != '\0'))
		abort();
	free(dec);
	free(copy);
	return 0;
}
