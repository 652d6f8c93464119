/* cgi.h - the CGI/1.1 variables of a WebSocket request. */
#ifndef CGI_H
#define CGI_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct route;
struct evbuffer;

/*
 * Builds the CGI/1.1 environment of conn's upgrade request on route:
 * RFC 3875 names, SCRIPT_NAME/PATH_INFO (split at a prefix route's
 * prefix), REMOTE_*, HTTPS and SSL_* under TLS, WEBSOCKET_SUBPROTOCOL,
 * WSSERVERD_CONNECTION_ID and one HTTP_* per request header (never
 * HTTP_PROXY). process: also the route's PassEnv variables and a default
 * PATH, for a program's environment. Returns one malloc'd block, a
 * NULL-terminated "NAME=value" pointer array followed by the strings; free
 * it with free().
 */
char	**cgi_env_build(struct conn *, const struct route *, bool process);

/*
 * Starts argv for conn (a handler, an OpenRequestHook) with the request's
 * CGI environment (process: PassEnv and PATH too) in the route's
 * WorkingDirectory, as spawn.h starts processes: ops hear when it runs
 * (with its stdin, stdout and stderr), when it could not start, and when
 * it was reaped. Refuses to run anything as root unless
 * AllowRootHandlers, and a set-user-ID or set-group-ID program. Returns
 * the spawn handle, or 0 with *cause (malloc'd; the detail is logged).
 * Its caller took a turn first (cgi_spawn_turn).
 */
struct spawn_ops;
uint64_t cgi_spawn(struct conn *, const struct route *, char *const *argv,
	    const struct spawn_ops *ops, void *arg, char **cause);

/*
 * MaxSpawnRate: each process starts at most that many programs a second
 * (bursts of one second's worth), because a start waits for its child's
 * exec and a storm of them would starve the event loop. A start waits for
 * its turn in a struct cgi_turn of its owner's.
 */
struct cgi_turn {
	TAILQ_ENTRY(cgi_turn)	 entry;
	void			 (*go)(struct cgi_turn *);
	bool			 queued;
};
struct config;
/*
 * Returns 1 when the start may go now; else 0: it waits behind the others
 * (counted, logged at most once a second), and go(t) is called from the
 * event loop when its turn comes. cgi_spawn_turn_cancel: it no longer
 * waits (safe when it does not).
 */
int	 cgi_spawn_turn(const struct config *, struct cgi_turn *,
	    void (*go)(struct cgi_turn *));
void	 cgi_spawn_turn_cancel(struct cgi_turn *);

/*
 * Appends envp to out as an SCGI request header: a netstring of
 * NAME NUL value NUL pairs, starting with CONTENT_LENGTH 0 and SCGI 1.
 */
void	 cgi_scgi_header(char *const *envp, struct evbuffer *out);

struct backend_hook_ops;
/* The route's OpenRequestHook, as a step of the upgrade's decision. */
extern const struct backend_hook_ops cgi_hook_ops;

#endif
