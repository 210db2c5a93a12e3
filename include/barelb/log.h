/* SPDX-License-Identifier: Apache-2.0 */
/* log: one line per event on stderr, "ts level=LEVEL msg=..." with printf checking. errno is
 * preserved across every call. log_ratelimited() is for lines a remote host can trigger. */
#ifndef BARELB_LOG_H
#define BARELB_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
int log_parse_level(const char *s, enum log_level *out); /* "debug"|"info"|"warn"|"error" */
const char *log_level_name(enum log_level lvl);
/* Tests and tools can point the log at another stream (default stderr). */
void log_set_stream(FILE *f);
/* "controller" or "speaker": printed as component=NAME on every line once set. */
void log_set_component(const char *name);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* Log and exit(1): for start-up failures only. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Token bucket for one kind of remotely-triggered line: at most `burst` lines, refilled at
 * `per_sec` lines a second. Suppressed lines are counted; the next line that gets through says how
 * many were dropped. */
struct log_ratelimit {
	double per_sec;
	double burst;
	double tokens;
	uint64_t last_ns;
	uint64_t suppressed;       /* since the last line that was printed */
	uint64_t suppressed_total; /* for metrics */
};
#define LOG_RATELIMIT_INIT(rate, b) { .per_sec = (rate), .burst = (b), .tokens = (b) }
/* Returns true when the line was printed. now_ns: monotonic clock (0 = read it). */
bool log_ratelimited(struct log_ratelimit *rl, uint64_t now_ns, enum log_level lvl, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). */
uint64_t mono_ns(void);

#endif
