/*
 * acl.h - address lists: AllowedClients, BlockedClients, ProxyTrustedClients.
 * The listener checks accepted sockets; a connection checks the real
 * client a PROXY header names.
 */
#ifndef ACL_H
#define ACL_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

/*
 * Checks an address against an allow list and a block list (either NULL
 * or "" to skip): comma-separated entries, each an address, a pattern
 * with '*' wildcards, or CIDR (a.b.c.d/n, x::/n). Returns true when the
 * address is allowed (in allowed, or allowed is empty, and not blocked).
 */
bool	acl_allows(const char *allowed, const char *blocked,
	    const struct sockaddr *);

/* Formats the numeric address (no port) of an AF_INET/AF_INET6 sockaddr. */
void	acl_ntop(const struct sockaddr *, char *buf, size_t len);
/* The port of an AF_INET/AF_INET6 sockaddr. */
int	acl_port(const struct sockaddr *);

#endif
