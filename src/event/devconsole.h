/* devconsole.h - plain-HTTP answers on the WebSocket port: health check and dev console. */
#ifndef DEVCONSOLE_H
#define DEVCONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether a request head (buf[0..len), complete or not) is "GET path"
 * followed by a space or "?", whatever the HTTP version and headers:
 * load balancers' checks often send HTTP/1.0 without Host. Returns false
 * for an empty path.
 */
bool	devconsole_is_get(const char *buf, size_t len, const char *path);

/*
 * Writes the health check answer into out: "200 OK" with body "ok\n" when
 * up, else "503 Service Unavailable" with "draining\n"; Connection:
 * close, no caching. Returns its length, or 0 when outlen is too small.
 */
size_t	devconsole_health(char *out, size_t outlen, bool up);

/*
 * The dev console: the response head (200, text/html, Content-Length,
 * Connection: close, a Content-Security-Policy that allows only the page's
 * own inline script and style and WebSocket connections) written into out
 * (returns its length, 0 when too small), and the page itself, which
 * opens a WebSocket to the URL it was loaded from.
 */
size_t		 devconsole_head(char *out, size_t outlen);
const char	*devconsole_page(size_t *len);

#endif
