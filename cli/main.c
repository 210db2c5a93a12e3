/* SPDX-License-Identifier: Apache-2.0 */
/* barelbctl: the operator's command line: config checks, and queries to a running daemon over its
 * control socket, printed as aligned tables or as the daemon's JSON. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "barelb/control.h"
#include "barelb/daemon.h"
#include "ctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: barelbctl [--control PATH] [-o table|json] COMMAND [ARGS]\n"
		"commands:\n"
		"  status              the daemon: version, node, config loaded/stale, sync, uptime\n"
		"  services            services with IPs: IP, pool, owner or announcing nodes, why\n"
		"  announcements       what this node announces: IP, interface, mode, since (speaker)\n"
		"  peers               BGP sessions: state, uptime, prefixes sent, last error and\n"
		"                      NOTIFICATION (speaker)\n"
		"  pools               address pools: size, used, free by family (controller)\n"
		"  help                the commands the daemon answers\n"
		"  check-config FILE   validate a config file; errors as FILE:LINE:COL: message; exit 0/1\n"
		"  print-config FILE   print a config file in canonical CRD form\n"
		"  version\n"
		"options:\n"
		"  --control PATH      the daemon's control socket. Default: $BARELB_CONTROL, else the\n"
		"                      first that exists of " CONTROL_SPEAKER_SOCK " and\n"
		"                      " CONTROL_CONTROLLER_SOCK " (controller first for pools)\n"
		"  -o, --output FMT    table (default) or json (the daemon's reply as is)\n"
		"exit status: 0 ok, 1 the daemon answered an error or cannot be reached, 2 usage\n");
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The socket to ask when --control was not given: see usage(). */
static const char *default_socket(const char *cmd)
{
	const char *env = getenv("BARELB_CONTROL");
	bool controller_first = strcmp(cmd, "pools") == 0;
	const char *first = controller_first ? CONTROL_CONTROLLER_SOCK : CONTROL_SPEAKER_SOCK;
	const char *second = controller_first ? CONTROL_SPEAKER_SOCK : CONTROL_CONTROLLER_SOCK;

	if (env && *env)
		return env;
	if (exists(first))
		return first;
	if (exists(second))
		return second;
	return NULL;
}

static int query(const char *sock, bool json, int argc, char **argv)
{
	const char *cmd = argv[0];
	char line[CONTROL_MAX_REQUEST], msg[1024], err[256];
	char *reply = NULL;
	size_t off = 0;
	int rc;

	for (int i = 0; i < argc; i++) {
		int n = snprintf(line + off, sizeof line - off, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof line - off || strpbrk(argv[i], "\n\r")) {
			fprintf(stderr, "barelbctl: %s: arguments too long or with a line break\n", cmd);
			return 2;
		}
		off += (size_t)n;
	}
	if (!sock)
		sock = default_socket(cmd);
	if (!sock) {
		fprintf(stderr,
			"barelbctl: no control socket: neither %s nor %s exists.\n"
			"  Is barelb-speaker or barelb-controller running on this host? In Kubernetes:\n"
			"    kubectl -n barelb-system exec ds/barelb-speaker -- barelbctl %s\n"
			"  Elsewhere give the daemon's --control PATH to barelbctl --control PATH.\n",
			CONTROL_SPEAKER_SOCK, CONTROL_CONTROLLER_SOCK, cmd);
		return 1;
	}
	if (ctl_request(sock, line, CTL_TIMEOUT_MS, &reply, NULL) < 0) {
		int e = errno;
		fprintf(stderr, "barelbctl: cannot query %s: %s", sock, strerror(e));
		if (e == ENOENT)
			fprintf(stderr, " (is the daemon running with --control %s?)", sock);
		else if (e == ECONNREFUSED)
			fprintf(stderr, " (a stale socket: the daemon is not running)");
		else if (e == EACCES)
			fprintf(stderr, " (the socket is mode 0600: run as the daemon's user)");
		fputc('\n', stderr);
		return 1;
	}
	rc = ctl_reply_error(reply, msg, sizeof msg);
	if (rc != 0) {
		fprintf(stderr, "barelbctl: %s: %s\n", cmd,
			rc < 0 ? "the daemon's reply is not JSON" : msg);
		free(reply);
		return 1;
	}
	if (json)
		fputs(reply, stdout);
	else if (ctl_print(stdout, cmd, reply, err, sizeof err) < 0) {
		fprintf(stderr, "barelbctl: %s: %s\n", cmd, err);
		free(reply);
		return 1;
	}
	free(reply);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *fmt = "table";
	char **pos = calloc((size_t)argc + 1, sizeof *pos);
	int n = 0, rc;

	if (!pos)
		return 1;
	/* options anywhere before "--" ("barelbctl services -o json" works too) */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (n > 0 && strcmp(a, "--") == 0) {
			while (++i < argc)
				pos[n++] = argv[i];
			break;
		}
		if (strcmp(a, "--control") == 0 || strcmp(a, "-o") == 0 ||
		    strcmp(a, "--output") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "barelbctl: %s needs a value\n", a);
				rc = 2;
				goto out;
			}
			if (a[1] == '-' && a[2] == 'c')
				sock = argv[++i];
			else
				fmt = argv[++i];
		} else if (strncmp(a, "--control=", 10) == 0) {
			sock = a + 10;
		} else if (strncmp(a, "--output=", 9) == 0) {
			fmt = a + 9;
		} else if (strncmp(a, "-o", 2) == 0 && a[2]) {
			fmt = a + 2;
		} else if (strcmp(a, "--version") == 0) {
			printf("barelbctl %s\n", BARELB_VERSION);
			rc = 0;
			goto out;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "barelbctl: unknown option \"%s\"\n", a);
			usage(stderr);
			rc = 2;
			goto out;
		} else {
			pos[n++] = argv[i];
		}
	}
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "table") != 0) {
		fprintf(stderr, "barelbctl: -o: expected table or json, got \"%s\"\n", fmt);
		rc = 2;
		goto out;
	}
	if (n == 0) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (strcmp(pos[0], "check-config") == 0 || strcmp(pos[0], "print-config") == 0) {
		if (n != 2) {
			fprintf(stderr, "barelbctl: %s takes one FILE\n", pos[0]);
			rc = 2;
			goto out;
		}
		rc = daemon_check_config(pos[1], pos[0][0] == 'p');
		goto out;
	}
	if (strcmp(pos[0], "version") == 0) {
		printf("barelbctl %s\n", BARELB_VERSION);
		rc = 0;
		goto out;
	}
	if (strspn(pos[0], "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(pos[0])) {
		fprintf(stderr, "barelbctl: unknown command \"%s\"\n", pos[0]);
		usage(stderr);
		rc = 2;
		goto out;
	}
	/* status, services, announcements, peers, pools, help, and whatever else the daemon
	 * registered (it answers "unknown command" itself) */
	rc = query(sock, strcmp(fmt, "json") == 0, n, pos);
out:
	free(pos);
	return rc;
}
