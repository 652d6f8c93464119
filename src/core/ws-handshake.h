/* ws-handshake.h - RFC 6455 section 4 opening handshake, server side; no I/O. */
#ifndef WS_HANDSHAKE_H
#define WS_HANDSHAKE_H

#include <stddef.h>

struct ws_header {
	char	*name;
	char	*value;
};

/* A parsed upgrade request. All strings are owned by the request. */
struct ws_request {
	char			*method;
	char			*uri;		/* request-target as sent */
	/*
	 * uri up to '?', never NULL: percent-encoded unreserved characters
	 * decoded and dot segments removed (RFC 3986 sections 6.2.2.2 and
	 * 5.2.4); any other percent-encoding (%2F among them) kept as sent.
	 */
	char			*path;
	char			*query;		/* after '?', "" when none */
	char			*version;	/* "HTTP/1.1" */
	struct ws_header	*headers;	/* in arrival order */
	size_t			 nheaders;
	/* Shortcuts into headers (NULL when absent). */
	const char		*host;
	const char		*origin;
	const char		*key;		/* Sec-WebSocket-Key */
	const char		*protocols;	/* Sec-WebSocket-Protocol, joined with ", " */
	const char		*extensions;	/* Sec-WebSocket-Extensions, joined */
	/*
	 * The host[:port] of an absolute-form request-target, NULL for an
	 * origin-form one; host then points here (RFC 9112 section 3.2.2).
	 */
	char			*target_host;
	char			*arena;		/* all of the above, once parsed */
};

#define WS_ACCEPT_LEN	28	/* base64 of a SHA-1 digest */
#define WS_MAX_HEADERS	100

/*
 * Looks for the end of the request head ("\r\n\r\n"; a bare "\n\n" is also
 * accepted) in buf[0..len). *scanned carries how far earlier calls looked,
 * so dribbled input is scanned once; start it at 0. Returns the head length
 * including the blank line, or 0 when the end has not arrived yet.
 */
size_t	ws_handshake_head_end(const char *buf, size_t len, size_t *scanned);

/*
 * Parses and validates a complete request head (buf[0..len), as measured by
 * ws_handshake_head_end). Returns 0 with req filled, or -1 with *status set
 * to the HTTP status to answer (400 bad request, 405 not GET, 426 bad or
 * missing Sec-WebSocket-Version, 431 more than WS_MAX_HEADERS headers,
 * 505 a well-formed version other than HTTP/1.1) and *cause to a static
 * description. On -1, req holds whatever was parsed and must still be
 * freed.
 * Checks: GET, HTTP/1.1, a request-target in origin or absolute form (an
 * absolute one's host is valid and has no userinfo; it then stands for
 * Host), a path whose percent-encodings are well-formed and never %00,
 * exactly one Host and a valid one (ws_host_valid), no Content-Length and
 * no Transfer-Encoding (an upgrade carries no body), Upgrade contains
 * token "websocket", Connection contains token "Upgrade" (both
 * case-insensitive token lists), Sec-WebSocket-Key present once and base64
 * of exactly 16 bytes, Sec-WebSocket-Version 13.
 */
int	ws_handshake_parse(const char *buf, size_t len, struct ws_request *req,
	    int *status, const char **cause);

/*
 * Tells whether s[0..len) is a valid Host field value (RFC 9112 section
 * 3.2.2): uri-host [ ":" port ] of RFC 3986, where uri-host is an IP
 * literal in brackets (IPv6 or IPvFuture), or a non-empty reg-name
 * (unreserved, sub-delims, well-formed percent-encodings), and port is at
 * most 65535.
 */
int	ws_host_valid(const char *s, size_t len);

/* The value of a hexadecimal digit (of a percent-encoding), or -1. */
int	ws_hexdigit(char c);

/*
 * Removes the dot segments of path in place (RFC 3986 section 5.2.4:
 * "/a/./b/../c" becomes "/a/c"; "/.." stays "/") and returns its new
 * length.
 */
size_t	ws_remove_dot_segments(char *path);

/* Frees what a request owns and zeroes it. Safe on a zeroed request. */
void	ws_request_free(struct ws_request *);

/* Returns the first header value named name (case-insensitive), or NULL. */
const char	*ws_request_header(const struct ws_request *, const char *name);

/* Writes Sec-WebSocket-Accept for key into out (WS_ACCEPT_LEN + 1 bytes). */
void	ws_handshake_accept(const char *key, char *out);

/*
 * Chooses the subprotocol: the first entry of the comma-separated list
 * supported (server preference) that the client offered. Writes it into
 * out and returns 1, or returns 0 when there is no common entry (the
 * handshake then proceeds without Sec-WebSocket-Protocol).
 */
int	ws_handshake_select_protocol(const struct ws_request *,
	    const char *supported, char *out, size_t outlen);

/*
 * Writes the 101 response into out. protocol and extensions may be NULL.
 * Returns the length, or 0 when outlen is too small.
 */
size_t	ws_handshake_response(char *out, size_t outlen, const char *key,
	    const char *protocol, const char *extensions);

/*
 * Writes a complete error response (status line, Content-Type text/plain,
 * Content-Length, Connection: close, "Sec-WebSocket-Version: 13" for 426,
 * body = reason text + "\n"). Returns the length, or 0 when outlen is too
 * small.
 */
size_t	ws_handshake_error(char *out, size_t outlen, int status,
	    const char *body);

/*
 * Returns the reason phrase of an HTTP status ("Bad Request"...): every
 * 4xx and 5xx status IANA registers, "Error" for any other.
 */
const char	*ws_http_reason(int status);

#endif
