/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lib/caps.c: after caps_keep_only a process holds exactly the kept capabilities
 * (checked in a forked child so the test runner keeps its own). */
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <linux/if_ether.h>

#include "barelb/caps.h"

static void test_keep_only(void **state)
{
	pid_t pid;
	int st;

	if (geteuid() != 0 || !(caps_effective() & (1ull << CAP_NET_RAW))) {
		skip();
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const int keep[] = { CAP_NET_RAW };
		int s;
		if (caps_keep_only(keep, 1) < 0)
			_exit(10);
		if (caps_effective() != (1ull << CAP_NET_RAW))
			_exit(11);
		/* What was kept still works ... */
		s = socket(AF_PACKET, SOCK_RAW, 0);
		if (s < 0)
			_exit(12);
		close(s);
		/* ... and what was dropped does not: CAP_CHOWN is gone, so chown of a root file to
		 * another uid fails even as uid 0. */
		if (chown("/proc/self/fd/0", 1234, 1234) == 0)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_keep_nothing(void **state)
{
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		skip();
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (caps_keep_only(NULL, 0) < 0)
			_exit(10);
		if (caps_effective() != 0)
			_exit(11);
		if (socket(AF_PACKET, SOCK_RAW, 0) >= 0)
			_exit(12); /* no CAP_NET_RAW any more */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_only),
		cmocka_unit_test(test_keep_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
