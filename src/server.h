/* server.h - the daemon's state: config, listener, connection registry, lifecycle. */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct config;
struct server;
struct conn;

/* Counters since start (the admin socket's stats will print them). */
struct server_stats {
	uint64_t	accepted;
	uint64_t	rejected_acl;
	uint64_t	rejected_full;
	uint64_t	rejected_handshake;
	uint64_t	opened;
	uint64_t	closed;
};

/* Creates the server on base with cfg (the server takes cfg over). */
struct server		*server_new(struct event_base *, struct config *);
void			 server_free(struct server *);

/* StartListening: binds and listens. Returns 0, or -1 with *cause. */
int			 server_listen(struct server *, const char **cause);
/* StopListening: existing connections stay. */
void			 server_unlisten(struct server *);

/*
 * Graceful stop: stop listening, close every WebSocket with 1001, end the
 * handlers, and leave the event loop once all are gone or ShutdownTimeout
 * has passed (then kill what is left).
 */
void			 server_shutdown(struct server *);

struct event_base	*server_base(const struct server *);
const struct config	*server_config(const struct server *);
struct server_stats	*server_stats(struct server *);

/* The next ConnectionId number: never reused in the life of the process. */
uint64_t		 server_next_id(struct server *);
bool			 server_stopping(const struct server *);
/* A connection went away (conn.c): lets a shutdown finish early. */
void			 server_conn_gone(struct server *);

/* Called by the listener for each accepted socket that passed the ACL. */
void			 server_accept(struct server *, int fd,
			    const struct sockaddr *, int socklen);

#endif
