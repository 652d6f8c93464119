/*
 * client-limits.h - MaxConnectionsPerClient and HandshakeRatePerClient: the
 * daemon's use of the per-client table (clients.h, in the workers' shared
 * memory): which address counts, the limits of the configuration in
 * force, the answer, the log line (at most once a second per address) and
 * the counters. server.c checks a client at accept; conn-http.c checks the
 * real client behind a PROXY header once it is read; conn.c gives the
 * place back when the connection ends.
 */
#ifndef CLIENT_LIMITS_H
#define CLIENT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct sockaddr;

/*
 * A new connection from sa under cfg's per-client limits. Returns 0 when
 * it may go on (*counted: it holds a place, to give back with
 * client_limits_release when it ends), else the status to answer it with
 * (429 over a limit; 503 when the table has no room for a new address),
 * logged and counted, with *retry the seconds for Retry-After (0: none)
 * and *text the answer's text.
 */
int	 client_limits_admit(const struct config *, const struct sockaddr *sa,
	    bool *counted, int *retry, const char **text);
/* A counted connection ends: by its socket address, or its numeric text. */
void	 client_limits_release_sa(const struct config *,
	    const struct sockaddr *);
void	 client_limits_release(const struct config *, const char *addr);
/*
 * The whole answer to a refused client (status line, headers with
 * Retry-After when retry > 0, the text) into buf. Returns its length, or 0
 * when buf is too small.
 */
size_t	 client_limits_response(char *buf, size_t len, int status,
	    const char *text, int retry);
/* Addresses tracked now and the table's capacity (0, 0 without one). */
void	 client_limits_tracked(unsigned int *tracked, unsigned int *capacity);

#endif
