/* SPDX-License-Identifier: Apache-2.0 */
/* control: the daemon's unix control socket: one request line in, one JSON document out, in the
 * loop, many clients at once. */
#define _GNU_SOURCE /* accept4 */
#include "barelb/control.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "barelb/jsonw.h"
#include "barelb/log.h"
#include "barelb/loop.h"

struct control_cmd {
	char *name, *help;
	control_cmd_cb cb;
	void *arg;
};

struct client {
	struct control *c;
	struct client *next, **pprev;
	int fd;
	struct loop_fd *lf;
	struct loop_timer *idle;
	char in[CONTROL_MAX_REQUEST];
	size_t in_len;
	char *out;           /* the reply, once the request was handled */
	size_t out_len, out_off;
};

struct control {
	struct loop *l;
	char *path;
	int fd;
	struct loop_fd *lf;
	dev_t dev;
	ino_t ino;
	struct control_cmd *cmds;
	size_t n_cmds;
	struct client *clients;
	size_t n_clients;
	struct jsonw *w;     /* reused for every reply: one request is handled at a time */
};

/* ---------- clients ---------- */

static void client_close(struct client *cl)
{
	struct control *c = cl->c;

	loop_fd_del(cl->lf);
	loop_timer_free(cl->idle);
	close(cl->fd);
	*cl->pprev = cl->next;
	if (cl->next)
		cl->next->pprev = cl->pprev;
	c->n_clients--;
	free(cl->out);
	free(cl);
}

static void on_idle(void *arg)
{
	struct client *cl = arg;

	log_debug("msg=\"control: client timed out\"");
	client_close(cl);
}

/* Write what the socket takes; close when everything is out. */
static void client_flush(struct client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			loop_timer_arm(cl->idle, CONTROL_TIMEOUT_MS); /* progress resets the clock */
			return;
		}
		if (n <= 0) {
			client_close(cl);
			return;
		}
		cl->out_off += (size_t)n;
	}
	client_close(cl);
}

static void set_reply(struct client *cl, struct jsonw *w)
{
	size_t len;
	const char *d = jsonw_data(w, &len);

	cl->out = malloc(len + 1);
	if (!cl->out) {
		client_close(cl);
		return;
	}
	memcpy(cl->out, d, len);
	cl->out[len] = '\n';
	cl->out_len = len + 1;
	if (loop_fd_set_events(cl->lf, LOOP_WRITE) < 0) {
		client_close(cl);
		return;
	}
	client_flush(cl);
}

static void reply_error(struct client *cl, const char *msg)
{
	struct jsonw *w = cl->c->w;

	jsonw_reset(w);
	jsonw_obj_begin(w);
	jsonw_kv_str(w, "error", msg);
	jsonw_obj_end(w);
	set_reply(cl, w);
}

static bool cmd_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static void reply_help(struct client *cl)
{
	struct control *c = cl->c;
	struct jsonw *w = c->w;

	jsonw_reset(w);
	jsonw_obj_begin(w);
	jsonw_key(w, "commands");
	jsonw_arr_begin(w);
	for (size_t i = 0; i < c->n_cmds; i++) {
		jsonw_obj_begin(w);
		jsonw_kv_str(w, "name", c->cmds[i].name);
		jsonw_kv_str(w, "help", c->cmds[i].help);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_obj_end(w);
	set_reply(cl, w);
}

/* line: the request without its newline, NUL-terminated. */
static void handle(struct client *cl, char *line)
{
	struct control *c = cl->c;
	char *name = line, *args, *end, err[256] = "", msg[320];
	size_t n;

	loop_fd_set_events(cl->lf, 0);
	while (*name == ' ' || *name == '\t')
		name++;
	n = strcspn(name, " \t\r");
	args = name + n;
	if (*args)
		*args++ = '\0';
	while (*args == ' ' || *args == '\t')
		args++;
	end = args + strlen(args);
	while (end > args && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (n == 0) {
		reply_error(cl, "empty request: send a command name (try \"help\")");
		return;
	}
	if (!cmd_name_ok(name, n)) {
		reply_error(cl, "malformed command name");
		return;
	}
	if (strcmp(name, "help") == 0) {
		reply_help(cl);
		return;
	}
	for (size_t i = 0; i < c->n_cmds; i++) {
		if (strcmp(c->cmds[i].name, name) != 0)
			continue;
		jsonw_reset(c->w);
		if (c->cmds[i].cb(c->cmds[i].arg, args, c->w, err, sizeof err) != 0) {
			err[strcspn(err, "\r\n")] = '\0';
			reply_error(cl, err[0] ? err : "command failed");
		} else if (!jsonw_ok(c->w)) {
			log_error("msg=\"control: command wrote incomplete JSON\" command=%s", name);
			reply_error(cl, "internal error: incomplete reply");
		} else {
			set_reply(cl, c->w);
		}
		return;
	}
	snprintf(msg, sizeof msg, "unknown command \"%s\" (try \"help\")", name);
	reply_error(cl, msg);
}

static void on_client(int fd, unsigned events, void *arg)
{
	struct client *cl = arg;
	char *nl;
	ssize_t n;

	if (cl->out) {
		client_flush(cl);
		return;
	}
	n = recv(fd, cl->in + cl->in_len, sizeof cl->in - cl->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0 || (n == 0 && cl->in_len == 0)) {
		client_close(cl);
		return;
	}
	/* no re-arm here: the whole request must arrive within CONTROL_TIMEOUT_MS of the accept, so
	 * that a client trickling one byte at a time cannot hold a slot for hours */
	if (n == 0) {
		/* the client shut its side down without a newline: the request is what came */
		if (cl->in_len == sizeof cl->in) {
			reply_error(cl, "request too long");
			return;
		}
		cl->in[cl->in_len] = '\0';
		handle(cl, cl->in);
		return;
	}
	cl->in_len += (size_t)n;
	nl = memchr(cl->in, '\n', cl->in_len);
	if (nl) {
		*nl = '\0';
		if (memchr(cl->in, '\0', (size_t)(nl - cl->in)))
			reply_error(cl, "NUL byte in the request");
		else
			handle(cl, cl->in);
		return;
	}
	if (cl->in_len == sizeof cl->in)
		reply_error(cl, "request too long");
}

static void accept_one(struct control *c, int fd)
{
	struct client *cl;

	if (c->n_clients >= CONTROL_MAX_CLIENTS) {
		static const char busy[] = "{\"error\":\"too many clients\"}\n";
		(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	cl = calloc(1, sizeof *cl);
	if (!cl) {
		close(fd);
		return;
	}
	cl->c = c;
	cl->fd = fd;
	cl->lf = loop_fd_add(c->l, fd, LOOP_READ, on_client, cl);
	cl->idle = loop_timer_new(c->l, on_idle, cl);
	if (!cl->lf || !cl->idle) {
		loop_fd_del(cl->lf);
		loop_timer_free(cl->idle);
		close(fd);
		free(cl);
		return;
	}
	cl->next = c->clients;
	if (c->clients)
		c->clients->pprev = &cl->next;
	cl->pprev = &c->clients;
	c->clients = cl;
	c->n_clients++;
	loop_timer_arm(cl->idle, CONTROL_TIMEOUT_MS);
}

static void on_accept(int fd, unsigned events, void *arg)
{
	struct control *c = arg;

	/* bounded work per turn: the rest waits in the backlog for the next one */
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("msg=\"control: accept failed\" err=\"%s\"", strerror(errno));
			return;
		}
		accept_one(c, cfd);
	}
}

/* ---------- the socket file ---------- */

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path)
		return -1;
	strcpy(a->sun_path, path);
	return 0;
}

/* Is a daemon accepting on path? (A stale file left by a crash refuses connections.) */
static bool socket_alive(const char *path)
{
	struct sockaddr_un a;
	int fd, rc;

	if (fill_addr(&a, path) < 0)
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	/* EAGAIN: the listener's backlog is full, so it is alive too */
	rc = rc == 0 || errno == EAGAIN;
	close(fd);
	return rc;
}

static int ensure_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

static int open_socket(struct control *c)
{
	struct sockaddr_un a;
	char tmp[sizeof a.sun_path];
	struct stat st;
	mode_t old;
	int rc;

	if (fill_addr(&a, c->path) < 0 ||
	    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", c->path, (long)getpid()) >= (int)sizeof tmp) {
		log_error("msg=\"control: socket path too long (at most %zu bytes with a temporary "
			  "suffix)\" path=%s", sizeof a.sun_path - 16, c->path);
		return -1;
	}
	if (lstat(c->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("msg=\"control: path exists and is not a socket\" path=%s", c->path);
			return -1;
		}
		if (socket_alive(c->path)) {
			log_error("msg=\"control: socket in use by another process\" path=%s", c->path);
			return -1;
		}
	}
	if (ensure_dir(c->path) < 0) {
		log_error("msg=\"control: cannot create the socket's directory\" path=%s err=\"%s\"",
			  c->path, strerror(errno));
		return -1;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	fill_addr(&a, tmp);
	unlink(tmp);
	/* The file is created 0600 from the start (umask), not chmod-ed after a window. */
	old = umask(0177);
	rc = bind(c->fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (rc < 0)
		goto fail;
	if (chmod(tmp, 0600) < 0 || listen(c->fd, 64) < 0 || rename(tmp, c->path) < 0) {
		unlink(tmp);
		goto fail;
	}
	if (stat(c->path, &st) == 0) {
		c->dev = st.st_dev;
		c->ino = st.st_ino;
	}
	return 0;
fail:
	log_error("msg=\"control: cannot open the socket\" path=%s err=\"%s\"", c->path,
		  strerror(errno));
	return -1;
}

/* ---------- API ---------- */

int control_start(struct loop *l, const char *path, struct control **out)
{
	struct control *c;

	*out = NULL;
	if (!path || !*path || strcmp(path, "off") == 0)
		return 0;
	c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	c->l = l;
	c->fd = -1;
	c->path = strdup(path);
	c->w = jsonw_new();
	if (!c->path || !c->w || open_socket(c) < 0)
		goto fail;
	c->lf = loop_fd_add(l, c->fd, LOOP_READ, on_accept, c);
	if (!c->lf)
		goto fail;
	log_info("msg=\"control socket open\" path=%s", path);
	*out = c;
	return 0;
fail:
	control_free(c);
	return -1;
}

int control_register(struct control *c, const char *name, const char *help, control_cmd_cb cb,
		     void *arg)
{
	struct control_cmd *nc;

	if (!c || !name || !cb || !cmd_name_ok(name, strlen(name)) || strcmp(name, "help") == 0) {
		log_error("msg=\"control: invalid command name\" command=\"%s\"", name ? name : "");
		return -1;
	}
	for (size_t i = 0; i < c->n_cmds; i++)
		if (strcmp(c->cmds[i].name, name) == 0) {
			log_error("msg=\"control: command registered twice\" command=%s", name);
			return -1;
		}
	nc = realloc(c->cmds, (c->n_cmds + 1) * sizeof *nc);
	if (!nc)
		return -1;
	c->cmds = nc;
	nc[c->n_cmds] = (struct control_cmd){ .name = strdup(name), .help = strdup(help ? help : ""),
					      .cb = cb, .arg = arg };
	if (!nc[c->n_cmds].name || !nc[c->n_cmds].help) {
		free(nc[c->n_cmds].name);
		free(nc[c->n_cmds].help);
		return -1;
	}
	c->n_cmds++;
	return 0;
}

void control_free(struct control *c)
{
	struct stat st;

	if (!c)
		return;
	while (c->clients)
		client_close(c->clients);
	loop_fd_del(c->lf);
	if (c->fd >= 0) {
		close(c->fd);
		/* Remove the file only if it is still ours: a newer daemon may have replaced it. */
		if (c->ino && stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
			unlink(c->path);
	}
	for (size_t i = 0; i < c->n_cmds; i++) {
		free(c->cmds[i].name);
		free(c->cmds[i].help);
	}
	free(c->cmds);
	jsonw_free(c->w);
	free(c->path);
	free(c);
}

const char *control_path(const struct control *c)
{
	return c ? c->path : NULL;
}

size_t control_clients(const struct control *c)
{
	return c ? c->n_clients : 0;
}
