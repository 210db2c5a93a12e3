/* SPDX-License-Identifier: Apache-2.0 */
/* netns_main: the main() of unit tests that need a throwaway network namespace: skip (TAP) when not
 * root, else run the tests in a forked child that enters its own namespace, so the namespace dies
 * with the child whatever happens. Header-only: each test is one source file. */
#ifndef BARELB_TEST_NETNS_MAIN_H
#define BARELB_TEST_NETNS_MAIN_H

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* run: enters the namespace and runs the cmocka group; its result is the exit status. */
static inline int netns_main(int (*run)(void))
{
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		printf("1..1\nok 1 # SKIP needs root for network namespaces\n");
		return 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(run()); /* the namespace dies with this process */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

#endif
