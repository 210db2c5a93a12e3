/* SPDX-License-Identifier: Apache-2.0 */
/* log: levelled one-line logging to stderr with a token-bucket rate limiter. */
#include "barelb/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The one piece of process-wide state: the log level and stream are set once at start-up from the
 * command line, like every daemon's -d/-v flags. */
static enum log_level cur_level = LOG_INFO;
static FILE *cur_stream;
static const char *cur_component;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level lvl) { cur_level = lvl; }
enum log_level log_get_level(void) { return cur_level; }
void log_set_stream(FILE *f) { cur_stream = f; }
void log_set_component(const char *name) { cur_component = name; }

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl < 4 ? level_names[lvl] : "?";
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void vlog(enum log_level lvl, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vlog(enum log_level lvl, const char *prefix, const char *fmt, va_list ap)
{
	char ts[40], line[2048];
	struct timespec now;
	struct tm tm;
	FILE *f = cur_stream ? cur_stream : stderr;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof line, fmt, ap);
	/* One event, one line: a newline inside a message (from a remote string) is flattened. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(f, "%s.%03ldZ level=%s %s%s%s%s%s\n", ts, now.tv_nsec / 1000000, level_names[lvl],
		cur_component ? "component=" : "", cur_component ? cur_component : "",
		cur_component ? " " : "", prefix ? prefix : "", line);
	fflush(f);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (lvl < cur_level)
		return;
	va_start(ap, fmt);
	vlog(lvl, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

bool log_ratelimited(struct log_ratelimit *rl, uint64_t now_ns, enum log_level lvl, const char *fmt,
		     ...)
{
	int saved = errno;
	char prefix[64] = "";
	va_list ap;

	if (now_ns == 0)
		now_ns = mono_ns();
	if (rl->last_ns != 0 && now_ns > rl->last_ns) {
		rl->tokens += (double)(now_ns - rl->last_ns) / 1e9 * rl->per_sec;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
	}
	rl->last_ns = now_ns;
	if (rl->tokens < 1.0) {
		rl->suppressed++;
		rl->suppressed_total++;
		errno = saved;
		return false;
	}
	rl->tokens -= 1.0;
	if (lvl >= cur_level) {
		if (rl->suppressed)
			snprintf(prefix, sizeof prefix, "suppressed=%llu ",
				 (unsigned long long)rl->suppressed);
		va_start(ap, fmt);
		vlog(lvl, prefix, fmt, ap);
		va_end(ap);
	}
	rl->suppressed = 0;
	errno = saved;
	return true;
}
