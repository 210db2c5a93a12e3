/* SPDX-License-Identifier: Apache-2.0 */
/* barelb-controller: allocates external IPs to LoadBalancer Services (entry point). */
#include "barelb/run.h"

int main(int argc, char **argv)
{
	struct daemon_opts o = { .prog = "barelb-controller" };
	int rc = daemon_parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	return daemon_run(&o, NULL);
}
