/* util.h - allocation wrappers (abort on OOM) and small string helpers for the daemon layer. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
/* Reports that n bytes could not be had and aborts (no sane way on). */
void	 util_oom(size_t) __attribute__((noreturn));
int	 xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));
/* evbuffer_new that never returns NULL. */
struct evbuffer;
struct evbuffer	*xevbuffer_new(void);

/* Monotonic clock in milliseconds, and in microseconds. */
unsigned long long	util_now_ms(void);
unsigned long long	util_now_us(void);
/* FNV-1a of len bytes: the hash of the tables of names (topics). */
size_t			util_hash(const void *, size_t len);

#endif
