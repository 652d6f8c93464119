/* listener.h - listening sockets, accept, AllowedClients/BlockedClients. */
#ifndef LISTENER_H
#define LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

struct server;
struct listener;

/*
 * Binds LocalHost:LocalPort as UseIPv6 says and starts accepting; each
 * accepted socket that passes AllowedClients/BlockedClients goes to
 * server_accept. Returns NULL with *cause (static) on failure.
 */
struct listener	*listener_new(struct server *, const char **cause);
void		 listener_free(struct listener *);

struct config;
/* Binds (does not listen on) a socket as the listener would; fd or -1. */
int		 listener_bind_socket(const struct config *, const char **cause);
/* Whether the service manager passed a socket (socket activation). */
bool		 listener_activated(void);

/* The bound address ("127.0.0.1:8080"; IPv6 in brackets) and port. */
const char	*listener_address(const struct listener *);
int		 listener_port(const struct listener *);

/*
 * Checks an address (numeric string) against AllowedClients and
 * BlockedClients: comma-separated entries, each an address, a pattern with
 * '*' wildcards, or CIDR (a.b.c.d/n, x::/n). Returns true when allowed.
 */
bool		 listener_acl_allows(const char *allowed, const char *blocked,
		    const struct sockaddr *);

#endif
