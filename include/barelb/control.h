/* SPDX-License-Identifier: Apache-2.0 */
/* control: the control socket of a daemon, which barelbctl talks to (like birdc to BIRD).
 *
 * Protocol, one exchange per connection:
 *   client → daemon: one line, "COMMAND[ ARGS]\n", at most CONTROL_MAX_REQUEST bytes with the
 *                    newline; COMMAND is [a-z0-9-]+; ARGS is the rest of the line, trimmed.
 *   daemon → client: one JSON document and "\n", then the daemon closes the connection.
 *                    On success the document is what the command wrote (an object); on failure
 *                    it is {"error":"message"} (so commands do not use a top-level "error" key).
 * The built-in command "help" lists the registered commands: {"commands":[{"name","help"}]}.
 *
 * The socket is a unix stream socket, mode 0600, created atomically: bound under a temporary name
 * with a umask of 0177, then renamed over PATH, so that no other user can connect at any moment and
 * a stale file left by a crash is replaced. A PATH where another process still accepts
 * connections is refused (two daemons must not share one socket). The file is removed on
 * control_free() if it is still ours. Everything is non-blocking inside the loop: bounded request
 * size, at most CONTROL_MAX_CLIENTS connections, CONTROL_TIMEOUT_MS to send the request (and
 * between two writes of the reply), replies written as the client reads them. */
#ifndef BARELB_CONTROL_H
#define BARELB_CONTROL_H

#include <stddef.h>

struct loop;
struct jsonw;
struct control;

#define CONTROL_MAX_REQUEST 4096
#define CONTROL_MAX_CLIENTS 64
#define CONTROL_TIMEOUT_MS  10000
/* Default socket paths (barelbctl tries them when --control is not given). */
#define CONTROL_DIR            "/run/barelb"
#define CONTROL_CONTROLLER_SOCK CONTROL_DIR "/controller.sock"
#define CONTROL_SPEAKER_SOCK    CONTROL_DIR "/speaker.sock"

/* A command writes its answer into out (one complete JSON value, an object by convention) and
 * returns 0; or returns -1 with a one-line message in err (what was written to out is dropped).
 * args: the rest of the request line, trimmed ("" when none). */
typedef int (*control_cmd_cb)(void *arg, const char *args, struct jsonw *out, char *err,
			      size_t err_len);

/* Open PATH and start accepting. Returns 0 with *out set, 0 with *out NULL when path is NULL, ""
 * or "off" (disabled), or -1 (logged) on failure: path too long for a unix socket, PATH in use by
 * a live daemon or not a socket, no permission. The parent directory is created (mode 0755) if it
 * is missing. */
int control_start(struct loop *l, const char *path, struct control **out);
/* Register a command (name [a-z0-9-]+, unique, not "help"); 0, or -1 on a bad or duplicate name or
 * out of memory. help: one line for the "help" command. */
int control_register(struct control *c, const char *name, const char *help, control_cmd_cb cb,
		     void *arg);
/* Close every connection and the socket; remove the file if it is still the one we created.
 * NULL-safe; before loop_free. */
void control_free(struct control *c);

const char *control_path(const struct control *c);
size_t control_clients(const struct control *c); /* connections open now */

#endif
