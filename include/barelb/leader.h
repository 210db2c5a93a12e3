/* SPDX-License-Identifier: Apache-2.0 */
/* leader: Lease-based leader election over any source (it only uses source_lease_renew and
 * source_lease_release), so the kube and dir backends both get it. Like client-go's elector: the
 * leader renews every renew period (jittered); a candidate retries every retry period and takes
 * the lease when it is free, released, or unchanged for a whole lease duration; a leader that
 * cannot renew for the renew deadline (< duration) stops leading before anyone else may start. */
#ifndef BARELB_LEADER_H
#define BARELB_LEADER_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct source;
struct leader;

struct leader_opts {
	const char *lease_name;   /* e.g. "barelb-controller" (in the source's lease namespace) */
	const char *identity;     /* unique per candidate, e.g. hostname or pod name */
	uint32_t duration_s;      /* lease duration; default 15 */
	uint32_t renew_ms;        /* leader's renew period; default 5000 */
	uint32_t retry_ms;        /* candidate's retry period; default 2000 */
	uint32_t deadline_ms;     /* leader gives up after failing to renew this long; default 10000 */
	void (*on_started_leading)(void *arg);
	void (*on_stopped_leading)(void *arg);
	void *arg;
};

struct leader *leader_new(struct loop *l, struct source *s, const struct leader_opts *o);
int leader_start(struct leader *le);
bool leader_is_leader(const struct leader *le);
/* Stop campaigning; if leading, release the lease (on_stopped_leading is called first), then call
 * done (may be NULL) once the release finished or failed. For SIGTERM. */
void leader_release(struct leader *le, void (*done)(void *arg), void *arg);
/* NULL-safe. A request still in flight is left to finish on its own; nothing is called after. */
void leader_free(struct leader *le);

#endif
