/* util.c - allocation wrappers: out of memory is fatal, so call sites never check. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "base/util.h"

/* Reports an allocation failure and aborts: there is no sane way to go on. */
void
util_oom(size_t n)
{
	fprintf(stderr, "wsserverd: out of memory (%zu bytes)\n", n);
	abort();
}

/* malloc that never returns NULL. */
void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		util_oom(n);
	return p;
}

/* calloc that never returns NULL. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		util_oom(nmemb * size);
	return p;
}

/* realloc that never returns NULL. */
void *
xrealloc(void *old, size_t n)
{
	void	*p;

	if ((p = realloc(old, n == 0 ? 1 : n)) == NULL)
		util_oom(n);
	return p;
}

/* strdup that never returns NULL. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		util_oom(strlen(s) + 1);
	return p;
}

/* vasprintf that never fails; returns the length. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		util_oom(0);
	return n;
}

/* Returns CLOCK_MONOTONIC in milliseconds. */
unsigned long long
util_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic clock in microseconds (a ping's round trip). */
unsigned long long
util_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* evbuffer_new that never returns NULL. */
struct evbuffer *
xevbuffer_new(void)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		util_oom(sizeof(void *));
	return b;
}

/* FNV-1a of len bytes; see util.h. */
size_t
util_hash(const void *p, size_t len)
{
	const unsigned char	*s = p;
	uint32_t		 h = 2166136261u;
	size_t			 i;

	for (i = 0; i < len; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}
