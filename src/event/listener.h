/*
 * listener.h - the listening socket: bind (or take the one socket
 * activation or the master passed), accept, and AllowedClients/
 * BlockedClients (acl.h) before a socket is handed on. server.c starts and
 * stops it; workers.c binds the workers' sockets with it.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

struct listener;

/* Takes an accepted socket over (the server's accept). */
typedef void	(*listener_accept_fn)(int fd, const struct sockaddr *, int len);

/*
 * Binds LocalHost:LocalPort of the configuration in force as UseIPv6 says
 * and starts accepting; each accepted socket that passes
 * AllowedClients/BlockedClients goes to accept. Returns NULL with *cause
 * (malloc'd) on failure.
 */
struct listener	*listener_new(listener_accept_fn accept, char **cause);
void		 listener_free(struct listener *);

struct config;
/* Binds (does not listen on) a socket as the listener would; fd or -1. */
int		 listener_bind_socket(const struct config *, char **cause);
/*
 * BindExclusively with Workers > 1 (a group of SO_REUSEPORT sockets):
 * listener_probe, before the group is bound, fails when any process
 * listens on the port; listener_alone, once the n sockets of fds listen,
 * fails when a socket of another process listens on the same port at an
 * overlapping address (it came in between); listener_alone_inherited
 * does the same for the socket systemd passed. Each returns 0, or -1
 * with *cause ("address already in use ...").
 */
int		 listener_probe(const struct config *, char **cause);
int		 listener_alone(const int *fds, int n, char **cause);
int		 listener_alone_inherited(char **cause);
/* Whether the service manager passed a socket (socket activation). */
bool		 listener_activated(void);

/*
 * Holds accepting (on) or lets it go on (off), for the listener there is
 * and any made while held; clients wait in the backlog meanwhile.
 */
void		 listener_hold(bool on);

/* The bound address ("127.0.0.1:8080"; IPv6 in brackets) and port. */
const char	*listener_address(const struct listener *);
int		 listener_port(const struct listener *);

#endif
