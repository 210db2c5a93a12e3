/* SPDX-License-Identifier: Apache-2.0 */
/* barelb-speaker: makes service IPs reachable from this node (entry point). */
#include "barelb/run.h"
#include "speaker.h"

int main(int argc, char **argv)
{
	struct daemon_opts o = { .prog = "barelb-speaker", .speaker = true };
	struct speaker *s;
	int rc = daemon_parse_args(argc, argv, &o);

	if (rc >= 0)
		return rc;
	s = speaker_new(&o);
	if (!s)
		return 1;
	struct daemon_hooks hooks = {
		.start = speaker_start,
		.config_changed = speaker_config_changed,
		.stop = speaker_stop,
		.ready = speaker_ready,
		.status = speaker_status,
		.cleanup = speaker_cleanup,
		.arg = s,
	};
	return daemon_run(&o, &hooks);
}
