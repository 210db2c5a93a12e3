/* SPDX-License-Identifier: Apache-2.0 */
/* ctl: the parts of barelbctl besides its main: the control-socket client and the table printer. */
#ifndef BARELB_CLI_CTL_H
#define BARELB_CLI_CTL_H

#include <stdio.h>

/* ---------- ctl_client.c ---------- */

#define CTL_TIMEOUT_MS 10000
#define CTL_MAX_REPLY  (256u * 1024 * 1024)

/* Send one request line (without its newline) to the daemon at path and read its whole reply.
 * 0 with *out malloc'ed and NUL-terminated; -1 with errno set (ENOENT, ECONNREFUSED, EACCES from
 * connect; ETIMEDOUT after timeout_ms without progress; EMSGSIZE for a reply over CTL_MAX_REPLY;
 * EPROTO for an empty reply). */
int ctl_request(const char *path, const char *line, int timeout_ms, char **out, size_t *len);

/* ---------- ctl_table.c ---------- */

/* If the reply is the daemon's {"error":"..."}, copy the message and return 1; 0 when it is not
 * an error; -1 when it is not JSON at all. */
int ctl_reply_error(const char *json, char *msg, size_t len);

/* Print a reply for people: aligned columns for the list commands (services, announcements,
 * peers, pools, help), "key  value" lines for status, indented JSON for anything else.
 * JSON (message in err). */
int ctl_print(FILE *f, const char *cmd, const char *json, char *err, size_t err_len);

/* "42s", "5m12s", "3h05m", "2d04h"; "-" for a negative value. */
void ctl_format_duration(double seconds, char *buf, size_t len);

#endif
