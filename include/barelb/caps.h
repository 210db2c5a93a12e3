/* SPDX-License-Identifier: Apache-2.0 */
/* caps: least privilege. After start-up a daemon keeps only the Linux capabilities it still needs
 * (the speaker: CAP_NET_RAW for new raw sockets, CAP_NET_ADMIN for multicast membership; the
 * controller: none), in every set including the bounding set, and sets no_new_privs. */
#ifndef BARELB_CAPS_H
#define BARELB_CAPS_H

#include <stddef.h>

/* keep: capability numbers (CAP_NET_RAW, ...). Returns 0, or -1 with errno (logged by the caller). */
int caps_keep_only(const int *keep, size_t n);
/* The effective set as a bit mask (for tests and the status command). */
unsigned long long caps_effective(void);

#endif
