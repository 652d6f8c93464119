/* server.h - the daemon's state: config, listener, connection registry, lifecycle. */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/error.h"

struct event_base;
struct config;
struct server;
struct conn;

/* Close codes counted one by one: 1000-1015; the rest share the last slot. */
#define SERVER_STATS_CODES	17
/* HTTP statuses of refused upgrades counted one by one: 400-599. */
#define SERVER_STATS_HTTP	200

/* Counters since start (the admin socket's stats prints them). */
struct server_stats {
	uint64_t	accepted;
	uint64_t	rejected_acl;
	uint64_t	rejected_full;
	uint64_t	rejected_memory;	/* over MaxMemory */
	uint64_t	rejected_handshake;
	uint64_t	rejected_http[SERVER_STATS_HTTP];	/* status - 400 */
	uint64_t	opened;
	uint64_t	closed;
	uint64_t	closed_code[SERVER_STATS_CODES];	/* code - 1000 */
	uint64_t	msgs_in, msgs_out;	/* whole messages */
	uint64_t	bytes_in, bytes_out;	/* on the wire, after the upgrade */
	uint64_t	backend_spawns;		/* backend instances started */
	uint64_t	backend_failures;	/* backends that could not start */
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
/* The current configuration (new connections get it). */
const struct config	*server_config(const struct server *);
struct server_stats	*server_stats(struct server *);
/* Where the counters go: a worker's shared slot, or NULL in the master
 * (server_stats then adds every worker's up). */
void			 server_set_stats(struct server *, struct server_stats *);

/*
 * A connection takes the current configuration with hold and gives it back
 * with release when it ends: a reload swaps the current one, and the old
 * one lives on until its last connection is gone (its routes too).
 */
const struct config	*server_config_hold(struct server *);
void			 server_config_release(struct server *,
			    const struct config *);

/*
 * Re-reads the configuration file; swaps only if it is valid. Returns 0
 * with *notes (malloc'd lines, maybe empty: which changes wait for a new
 * start or a restart), or -1 with *errors (malloc'd, every error, one per
 * line); the running configuration is then unchanged. Both are logged too.
 */
int			 server_reload(struct server *, char **errors,
			    char **notes);

/*
 * The admin "config KEY=VALUE": sets a key of the current configuration;
 * returns and sets *cause as config_set does (LogLevel is applied at once).
 */
enum wsd_error		 server_config_set(struct server *, const char *key,
			    const char *value, char **cause);

/* Listening, and on which address and port (the real one, after binding). */
bool			 server_listening(const struct server *);
const char		*server_local_address(const struct server *);
int			 server_local_port(const struct server *);
/* Milliseconds since server_new. */
unsigned long long	 server_uptime_ms(const struct server *);

/* The next ConnectionId number: never reused in the life of the process. */
uint64_t		 server_next_id(struct server *);
bool			 server_stopping(const struct server *);

/*
 * wsserverctl drain: stop listening, give connections seconds (negative:
 * ShutdownTimeout) to leave by themselves, then close the rest with 1001.
 * The daemon keeps running; a drain again restarts the period, start
 * (server_listen) ends it. Returns 0, or -1 when shutting down.
 */
int			 server_drain(struct server *, int seconds);
/* Between server_drain and the next server_listen. */
bool			 server_draining(const struct server *);
/* A connection went away (conn.c): lets a shutdown finish early. */
void			 server_conn_gone(struct server *);

/* Called by the listener for each accepted socket that passed the ACL. */
void			 server_accept(struct server *, int fd,
			    const struct sockaddr *, int socklen);

#endif
