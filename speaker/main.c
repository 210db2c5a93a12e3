/* SPDX-License-Identifier: Apache-2.0 */
/* barelb-speaker: makes service IPs reachable from this node (entry point). */
#include "barelb/run.h"

int main(int argc, char **argv)
{
	struct daemon_opts o = { .prog = "barelb-speaker", .speaker = true };
	int rc = daemon_parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	return daemon_run(&o, NULL);
}
