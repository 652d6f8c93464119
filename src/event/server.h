/* server.h - the daemon's lifecycle: listen, accept, reload, drain, graceful shutdown (shared state: runtime.h). */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/error.h"
#include "event/runtime.h"

struct event_base;
struct config;
struct server;
struct conn;

/* Creates the server on base with cfg (the server takes cfg over). */
struct server		*server_new(struct event_base *, struct config *);
void			 server_free(struct server *);

/* StartListening: binds and listens. Returns 0, or -1 with *cause (malloc'd). */
int			 server_listen(struct server *, char **cause);
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


/*
 * Re-reads the configuration file; swaps only if it is valid. Returns 0
 * with *notes (malloc'd lines, maybe empty: which changes wait for a new
 * start or a restart), or -1 with *cause (malloc'd, every error, one per
 * line); the running configuration is then unchanged. Both are logged too.
 */
int			 server_reload(struct server *, char **cause,
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

#endif
