/* cgi.h - the CGI/1.1 variables of a WebSocket request. */
#ifndef CGI_H
#define CGI_H

#include <stdbool.h>

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
 * Appends envp to out as an SCGI request header: a netstring of
 * NAME NUL value NUL pairs, starting with CONTENT_LENGTH 0 and SCGI 1.
 */
void	 cgi_scgi_header(char *const *envp, struct evbuffer *out);

struct cgi_hook;

/*
 * Starts the route's OpenRequestHook for a connection waiting for its
 * verdict; conn_hook_verdict gets the answer (never from within this
 * call). Returns the hook, or NULL with *cause set (logged).
 */
struct cgi_hook	*cgi_hook_start(struct conn *, const struct route *,
		    const char **cause);

/* The connection no longer waits: kills the hook (if running), frees it. */
void		 cgi_hook_cancel(struct cgi_hook *);

#endif
