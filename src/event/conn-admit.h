/*
 * conn-admit.h - the rules that admit a WebSocket upgrade, apart from any
 * connection: AllowedOrigins, a route's MaxConnections, the subprotocol,
 * permessage-deflate, the 101 response, and the header lines a verdict
 * (an OpenRequestHook's or a backend's) may add to it. Pure: a request,
 * a route and a configuration in, a decision out. conn.c calls it; the
 * unit tests (check_admit.c) call it directly.
 */
#ifndef CONN_ADMIT_H
#define CONN_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ws-deflate.h"

struct config;
struct evbuffer;
struct route;
struct ws_request;

/* What conn_admit decided for an upgrade it accepts. */
struct conn_admission {
	char			 proto[256];	/* subprotocol; "" none */
	bool			 deflate;	/* permessage-deflate agreed */
	struct ws_deflate_params agreed;
	char			 resp[1024];	/* the 101 response */
	size_t			 resp_len;
};

/*
 * Admits req on route r (routed and, for dir:, resolved already): origin
 * (403), the route's MaxConnections against route_open WebSockets open on
 * it (429), then the subprotocol, permessage-deflate and the response.
 * Returns 101 with *a filled, or the HTTP status with *cause (malloc'd,
 * fit for the response's body).
 */
int	conn_admit(const struct config *, const struct route *r,
	    const struct ws_request *req, bool tls, unsigned int route_open,
	    struct conn_admission *a, char **cause);

/* The server's permessage-deflate settings, from the [websocket] keys. */
void	conn_deflate_config(const struct config *, struct ws_deflate_config *);

/*
 * AllowedOrigins: list ("*" anywhere allows all, "same" an Origin naming
 * host, other words one origin each; NULL allows all). No Origin header
 * (not a browser, which could send any) is allowed.
 */
bool	conn_origin_allowed(const char *list, const char *origin,
	    const char *host, bool tls);

/*
 * Turns a verdict's CGI-style header lines ("Name: value", each ending in
 * "\n" or "\r\n") into HTTP header lines in out; Status lines are skipped
 * (the caller read them), so are Subscribe lines (the daemon's, see
 * conn_verdict_topics_take), and Sec-WebSocket-Protocol goes to proto.
 * Returns 0, or -1 with *why set on a malformed or daemon-owned header.
 */
int	conn_verdict_lines(const char *h, size_t hlen, struct evbuffer *out,
	    char *proto, size_t protolen, const char **why);

/*
 * Appends the values of a verdict's Subscribe lines ("Subscribe: a, b")
 * to out, each ending in a comma: topics the WebSocket joins, which the
 * daemon takes (conn_verdict_lines leaves them out of the response).
 */
void	conn_verdict_topics_take(const char *h, size_t hlen,
	    struct evbuffer *out);

/*
 * The 101 resp (n bytes) with its subprotocol replaced by proto (when not
 * "") and the lines of extra added. Returns it (malloc'd, *lenp bytes).
 */
char	*conn_verdict_resp(const char *resp, size_t n, const char *proto,
	    struct evbuffer *extra, size_t *lenp);

#endif
