/* cgi.h - the CGI/1.1 variables of a WebSocket request. */
#ifndef CGI_H
#define CGI_H

#include <sys/types.h>

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
 * AllowRootHandlers. Returns the spawn handle, or 0 with *cause
 * (malloc'd; the detail is logged).
 */
struct spawn_ops;
uint64_t cgi_spawn(struct conn *, const struct route *, char *const *argv,
	    const struct spawn_ops *ops, void *arg, char **cause);

/*
 * Appends envp to out as an SCGI request header: a netstring of
 * NAME NUL value NUL pairs, starting with CONTENT_LENGTH 0 and SCGI 1.
 */
void	 cgi_scgi_header(char *const *envp, struct evbuffer *out);

struct backend_hook_ops;
/* The route's OpenRequestHook, as a step of the upgrade's decision. */
extern const struct backend_hook_ops cgi_hook_ops;

#endif
