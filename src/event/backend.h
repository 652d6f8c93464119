/*
 * backend.h - what a route's backend looks like to a connection, and the
 * table of backend kinds.
 *
 * The event layer knows backends only through this interface: the
 * backend layer (src/backend/backends.c) installs its table once at start
 * (backend_install), and a connection finds its route's ops with
 * backend_for. The server asks every kind, through the same table, how
 * many instances outlive their connections and ends them at shutdown.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "core/ws-session.h"

struct conn;
struct route;

/*
 * One backend instance serves one WebSocket. The connection owns it until
 * it calls close; from then on the instance tears itself down (a script's
 * process may outlive the connection by the kill grace period) and must not
 * touch the connection again.
 */
struct backend_ops {
	const char	*name;
	/*
	 * open is called before the 101 response is queued (a backend that
	 * can tell at once whether it is there: unix:, script:); failing
	 * answers 503 instead of the upgrade.
	 */
	bool	 open_early;
	/*
	 * With open_early: open only passes the request on; the connection
	 * waits (reading paused, HandshakeTimeout) until the backend calls
	 * conn_decided. Until then no other op but close is called.
	 */
	bool	 verdict;
	/*
	 * Optional, with open_early: an instance open returned that cannot
	 * answer yet (its process waits for its turn to start, MaxSpawnRate)
	 * says so here; the connection then waits as for a verdict, until
	 * conn_decided (101 once it started, or the refusal).
	 */
	bool	 (*waiting)(void *b);
	/*
	 * Optional, first of all (before AllowedOrigins and the rest of the
	 * admission): returns 0 to go on, or the HTTP status that refuses
	 * the request with *cause (malloc'd). A dir: route chooses its
	 * program here (conn_set_backend_state keeps the choice).
	 */
	int	 (*admit)(struct conn *, const struct route *, char **cause);
	/*
	 * Returns the instance, or NULL with *cause set (malloc'd) to a
	 * short text fit for the client's 503 body, the detail logged by the
	 * backend.
	 */
	void	*(*open)(struct conn *, const struct route *, char **cause);
	/* Message data from the client, in pieces as the session delivers them. */
	void	 (*message)(void *b, enum ws_msg_type type, const uint8_t *data,
		    size_t len, bool first, bool last);
	/* The client's output queue drained below its low-water mark. */
	void	 (*writable)(void *b);
	/* The client sent a ping (already answered); optional. */
	void	 (*ping)(void *b, const uint8_t *data, size_t len);
	/* A pong came from the client (any: ours, the backend's); optional. */
	void	 (*pong)(void *b, const uint8_t *data, size_t len);
	/*
	 * The WebSocket is over (client close, failure, server shutdown).
	 * A script gets stdin EOF, then SIGTERM, then SIGKILL after the grace
	 * period. The instance frees itself when done.
	 */
	void	 (*close)(void *b);
	/*
	 * Optional, for shutdown: instances not done yet (a script's process
	 * not reaped), which the daemon waits for, and ending them all now.
	 */
	int	 (*live)(void);
	void	 (*kill_all)(void);
};

/*
 * A step of an upgrade's decision taken outside the connection: the
 * route's OpenRequestHook. start begins deciding for a connection; the
 * answer comes through conn_decided, never from within start. Returns
 * its state, or NULL with *cause (malloc'd; a 503). cancel: nobody waits
 * any more.
 */
struct backend_hook_ops {
	void	*(*start)(struct conn *, const struct route *,
		    char **cause);
	void	 (*cancel)(void *);
};

/* One row of the table: the ops of a route kind (unix: stream or mux). */
struct backend_kind_ops {
	enum backend_kind		 kind;
	bool				 mux;
	const struct backend_ops	*ops;
};

/* What the backend layer installs. */
struct backend_table {
	const struct backend_kind_ops	*kinds;
	size_t				 nkinds;
	const struct backend_hook_ops	*hook;
	/*
	 * Optional: a WebSocket has opened (announced); subscribes it to its
	 * route's Subscribe topics and the deciders' (conn_verdict_topics).
	 */
	void				(*opened)(struct conn *);
};

/* Installs the table (once, before the first connection). */
void				 backend_install(const struct backend_table *);
/* The ops for a route's backend kind; never NULL once installed. */
const struct backend_ops	*backend_for(const struct route *);
/* The OpenRequestHook's ops, or NULL. */
const struct backend_hook_ops	*backend_hook(void);
/*
 * Instances still alive over every kind (including those detached from
 * their connection and waiting to be reaped): the daemon does not exit
 * before this is 0, or until its shutdown timeout ends them.
 */
int				 backend_live(void);
/* Ends every instance still alive (last step of shutdown). */
void				 backend_kill_all(void);
/* A WebSocket has opened: the table's opened op, if any. */
void				 backend_opened(struct conn *);

#endif
