/* SPDX-License-Identifier: Apache-2.0 */
/* xalloc: allocation that aborts with a message on failure. Out of memory is not recoverable for
 * these daemons (the kernel's OOM killer would be next); every module shares these instead of
 * writing its own. */
#ifndef BARELB_XALLOC_H
#define BARELB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);      /* NULL is copied as "" */
char *xstrdup_null(const char *s); /* NULL stays NULL */

#endif
