/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_client: one request to a daemon's control socket (connect, send a line, read to EOF). */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Wait until fd is ready for events; -1 with ETIMEDOUT after timeout_ms. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	return rc > 0 ? 0 : -1;
}

int ctl_request(const char *path, const char *line, int timeout_ms, char **out, size_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(line), off = 0, got = 0, cap = 0;
	char *req = NULL, *buf = NULL;
	int fd = -1, e;

	*out = NULL;
	if (strlen(path) >= sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		goto fail;
	req = malloc(n + 2);
	if (!req)
		goto fail;
	memcpy(req, line, n);
	req[n++] = '\n';
	req[n] = '\0';
	while (off < n) {
		ssize_t w;
		if (wait_fd(fd, POLLOUT, timeout_ms) < 0)
			goto fail;
		w = send(fd, req + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	for (;;) {
		ssize_t r;
		if (cap - got < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 65536;
			if (cap > CTL_MAX_REPLY + 4096) {
				errno = EMSGSIZE;
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		if (wait_fd(fd, POLLIN, timeout_ms) < 0)
			goto fail;
		r = recv(fd, buf + got, cap - got - 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got == 0) {
		errno = EPROTO;
		goto fail;
	}
	buf[got] = '\0';
	close(fd);
	free(req);
	*out = buf;
	if (len)
		*len = got;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(req);
	free(buf);
	errno = e;
	return -1;
}
