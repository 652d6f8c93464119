/* backend.h - what a route's backend looks like to a connection. */
#ifndef BACKEND_H
#define BACKEND_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	 * can tell at once whether it is there: unix:); failing answers 503
	 * instead of the upgrade.
	 */
	bool	 open_early;
	/*
	 * With open_early: open only passes the request on; the connection
	 * waits (reading paused, HandshakeTimeout) until the backend calls
	 * conn_verdict. Until then no other op but close is called.
	 */
	bool	 verdict;
	/*
	 * Called once the 101 response is queued. Returns the instance, or
	 * NULL with *cause set (static string) when it cannot start: the
	 * connection then closes with 1011.
	 */
	void	*(*open)(struct conn *, const struct route *, const char **cause);
	/* Message data from the client, in pieces as the session delivers them. */
	void	 (*message)(void *b, enum ws_msg_type type, const uint8_t *data,
		    size_t len, bool first, bool last);
	/* The client's output queue drained below its low-water mark. */
	void	 (*writable)(void *b);
	/* The client sent a ping (already answered); optional. */
	void	 (*ping)(void *b, const uint8_t *data, size_t len);
	/*
	 * The WebSocket is over (client close, failure, server shutdown).
	 * A script gets stdin EOF, then SIGTERM, then SIGKILL after the grace
	 * period. The instance frees itself when done.
	 */
	void	 (*close)(void *b);
};

extern const struct backend_ops backend_echo_ops;
extern const struct backend_ops backend_script_ops;
extern const struct backend_ops backend_unix_ops;
extern const struct backend_ops backend_mux_ops;

/* Returns the ops for a route's backend kind. */
const struct backend_ops *backend_for(const struct route *);

/*
 * Number of backend processes still alive (including those detached from
 * their connection and waiting to be reaped). The daemon does not exit
 * before this is 0, or until its shutdown timeout kills them.
 */
int	backend_script_live(void);

/* Sends SIGKILL to every live backend process (last step of shutdown). */
void	backend_script_kill_all(void);

/*
 * Runs argv (a helper such as an OpenRequestHook, spawned like a script:
 * CGI environment, the route's WorkingDirectory) for a connection, with
 * stdin at end of file. *outfd and *errfd receive its stdout and stderr
 * (non-blocking, close-on-exec); done(arg, wait status) is called once it
 * has been reaped, unless backend_script_forget came first. Returns its
 * pid, or -1 with *cause set (static string, logged).
 */
pid_t	backend_script_run(struct conn *, const struct route *,
	    char *const *argv, int *outfd, int *errfd,
	    void (*done)(void *, int), void *arg, const char **cause);

/* Its caller no longer waits: the child is killed and reaped silently. */
void	backend_script_forget(pid_t);

#endif
