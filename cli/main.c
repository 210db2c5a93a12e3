/* SPDX-License-Identifier: Apache-2.0 */
/* barelbctl: the operator's command line (config checks now; daemon queries over the control socket). */
#include <stdio.h>
#include <string.h>

#include "barelb/daemon.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: barelbctl [--control PATH] [-o json] COMMAND\n"
		"commands:\n"
		"  check-config FILE   validate a config file; errors as FILE:LINE:COL: message; exit 0/1\n"
		"  print-config FILE   print a config file in canonical CRD form\n"
		"  status | services | announcements | peers | pools\n"
		"                      query a running daemon (needs its control socket)\n"
		"  version\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "--control") == 0 || strcmp(argv[i], "-o") == 0) && i + 1 < argc)
			i += 2;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("barelbctl %s\n", BARELB_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "barelbctl: unknown option \"%s\"\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "check-config") == 0 || strcmp(argv[i], "print-config") == 0) {
		if (i + 2 != argc) {
			fprintf(stderr, "barelbctl: %s takes one FILE\n", argv[i]);
			return 2;
		}
		return daemon_check_config(argv[i + 1], argv[i][0] == 'p');
	}
	if (strcmp(argv[i], "version") == 0) {
		printf("barelbctl %s\n", BARELB_VERSION);
		return 0;
	}
	if (strcmp(argv[i], "status") == 0 || strcmp(argv[i], "services") == 0 ||
	    strcmp(argv[i], "announcements") == 0 || strcmp(argv[i], "peers") == 0 ||
	    strcmp(argv[i], "pools") == 0) {
		fprintf(stderr, "barelbctl: %s: the daemons have no control socket in this version\n",
			argv[i]);
		return 1;
	}
	fprintf(stderr, "barelbctl: unknown command \"%s\"\n", argv[i]);
	usage(stderr);
	return 2;
}
