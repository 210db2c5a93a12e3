/* SPDX-License-Identifier: Apache-2.0 */
/* caps: drop every capability but a few, with the raw capget/capset system calls (no libcap). */
#include "barelb/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cap_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capget, &h, d);
}

static int cap_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	return (int)syscall(SYS_capset, &h, d);
}

unsigned long long caps_effective(void)
{
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof d);
	if (cap_get(d) < 0)
		return 0;
	return (unsigned long long)d[0].effective | ((unsigned long long)d[1].effective << 32);
}

int caps_keep_only(const int *keep, size_t n)
{
	struct __user_cap_data_struct d[2];
	uint64_t want = 0, have;

	for (size_t i = 0; i < n; i++)
		if (keep[i] >= 0 && keep[i] < 64)
			want |= 1ull << keep[i];
	memset(d, 0, sizeof d);
	if (cap_get(d) < 0)
		return -1;
	have = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
	want &= have; /* cannot keep what we do not have */
	/* The bounding set first (needs CAP_SETPCAP, which we still hold if we were root). */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(want & (1ull << c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EPERM)
				return -1;
	d[0].effective = d[0].permitted = (uint32_t)want;
	d[1].effective = d[1].permitted = (uint32_t)(want >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (cap_set(d) < 0)
		return -1;
	/* Ambient capabilities would survive an exec; clear them. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
