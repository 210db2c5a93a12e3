/* SPDX-License-Identifier: Apache-2.0 */
/* barelb-controller: allocates external IPs to LoadBalancer Services (entry point). */
#include "barelb/run.h"
#include "controller.h"

int main(int argc, char **argv)
{
	struct daemon_opts o = { .prog = "barelb-controller" };
	struct controller *c;
	int rc = daemon_parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	c = controller_new(&o);
	if (!c)
		return 1;
	struct daemon_hooks hooks = {
		.start = controller_start,
		.config_changed = controller_config_changed,
		.stop = controller_stop,
		.ready = controller_ready,
		.status = controller_status,
		.cleanup = controller_cleanup,
		.arg = c,
	};
	return daemon_run(&o, &hooks);
}
