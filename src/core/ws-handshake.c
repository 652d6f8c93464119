/* ws-handshake.c - RFC 6455 section 4 opening handshake, server side. */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/ws-handshake.h"

#define HANDSHAKE_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define HANDSHAKE_KEY_LEN	24	/* base64 of 16 bytes, with "==" */
#define HANDSHAKE_SHA1_LEN	20

/* A view of part of the request head; never NUL-terminated. */
struct handshake_span {
	const char	*p;
	size_t		 len;
};

/* Walks the lines of a head; every complete line ends with LF. */
struct handshake_lines {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
};

/*
 * The reason phrase of every 4xx and 5xx status in IANA's HTTP Status
 * Code Registry (RFC 9110 and the RFCs it names), so that whatever a hook
 * or a backend refuses with reads right: an OpenRequestHook's "Status:
 * 401" goes out as "401 Unauthorized". An unregistered status is "Error".
 */
static const struct {
	int		 status;
	const char	*reason;
} handshake_reasons[] = {
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
	{ 421, "Misdirected Request" },
	{ 422, "Unprocessable Content" },
	{ 423, "Locked" },
	{ 424, "Failed Dependency" },
	{ 425, "Too Early" },
	{ 426, "Upgrade Required" },
	{ 428, "Precondition Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 451, "Unavailable For Legal Reasons" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
	{ 506, "Variant Also Negotiates" },
	{ 507, "Insufficient Storage" },
	{ 508, "Loop Detected" },
	{ 510, "Not Extended" },
	{ 511, "Network Authentication Required" },
};

/* Schemes whose absolute-form request-target we accept (RFC 7230 5.3.2). */
static const char *const handshake_schemes[] = {
	"http://", "https://", "ws://", "wss://",
};

static void	handshake_compact(struct ws_request *);

/* Allocates or aborts: running out of memory is fatal by policy. */
static void *
handshake_xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

/* Copies len bytes into a new NUL-terminated string. */
static char *
handshake_xstrndup(const char *s, size_t len)
{
	char	*p;

	p = handshake_xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Lowers an ASCII letter; locale-independent, unlike tolower(3). */
static int
handshake_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Compares two spans, ASCII case-insensitively when icase. */
static int
handshake_span_eq(const char *a, size_t alen, const char *b, size_t blen,
    int icase)
{
	size_t	i;

	if (alen != blen)
		return 0;
	if (!icase)
		return memcmp(a, b, alen) == 0;
	for (i = 0; i < alen; i++)
		if (handshake_lower((unsigned char)a[i]) !=
		    handshake_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Tells whether two NUL-terminated strings are equal ignoring ASCII case. */
static int
handshake_casecmp_eq(const char *a, const char *b)
{
	return handshake_span_eq(a, strlen(a), b, strlen(b), 1);
}

/* Tells whether c may appear in a token (RFC 7230 tchar). */
static int
handshake_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Tells whether the span is a non-empty token. */
static int
handshake_is_token(const char *p, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!handshake_tchar((unsigned char)p[i]))
			return 0;
	return 1;
}

/* Tells whether c is optional whitespace (RFC 7230 OWS). */
static int
handshake_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Strips OWS from both ends of a span. */
static void
handshake_trim(const char **p, size_t *len)
{
	while (*len > 0 && handshake_ows((*p)[0])) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && handshake_ows((*p)[*len - 1]))
		(*len)--;
}

/*
 * Tells whether the comma-separated list holds token. Empty elements are
 * skipped, as RFC 7230 section 7 asks of recipients.
 */
static int
handshake_list_has(const char *list, const char *token, size_t toklen,
    int icase)
{
	const char	*p, *comma;
	size_t		 len;

	if (list == NULL)
		return 0;
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma == NULL ? strlen(p) : (size_t)(comma - p);
		handshake_trim(&p, &len);
		if (handshake_span_eq(p, len, token, toklen, icase))
			return 1;
		if (comma == NULL)
			return 0;
	}
}

/* Sets the failure status and cause; returns -1 for the caller to return. */
static int
handshake_fail(int *status, const char **cause, int code, const char *why)
{
	*status = code;
	*cause = why;
	return -1;
}

/*
 * Returns the next line without its LF and one CR before it, or 0 once no
 * complete line is left.
 */
static int
handshake_next_line(struct handshake_lines *lines, struct handshake_span *line)
{
	const char	*start, *lf;

	if (lines->pos >= lines->len)
		return 0;
	start = lines->buf + lines->pos;
	if ((lf = memchr(start, '\n', lines->len - lines->pos)) == NULL)
		return 0;
	line->p = start;
	line->len = lf - start;
	if (line->len > 0 && line->p[line->len - 1] == '\r')
		line->len--;
	lines->pos += (lf - start) + 1;
	return 1;
}

/*
 * Checks "HTTP/" DIGIT "." DIGIT. Returns 1 for HTTP/1.1, 0 for any other
 * well-formed version (1.0, 1.9, 2.0: the upgrade is an HTTP/1.1
 * mechanism, and a minor version we do not know is not one we speak), -1
 * for garbage.
 */
static int
handshake_version_ok(const char *v, size_t len)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return -1;
	return v[5] == '1' && v[7] == '1';
}

int
ws_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static int
handshake_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* RFC 3986 sub-delims. */
static int
handshake_subdelim(unsigned char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/*
 * Tells whether s[0..len) is unreserved characters, sub-delims, well-formed
 * percent-encodings and, when colon, ":" (an IPvFuture's tail).
 */
static int
handshake_regname_ok(const char *s, size_t len, int colon)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len || ws_hexdigit(s[i + 1]) == -1 ||
			    ws_hexdigit(s[i + 2]) == -1)
				return 0;
			i += 2;
		} else if (!handshake_unreserved(c) && !handshake_subdelim(c) &&
		    !(colon && c == ':'))
			return 0;
	}
	return 1;
}

/* Tells whether s[0..len) is "[" ( IPv6address / IPvFuture ) "]". */
static int
handshake_ip_literal_ok(const char *s, size_t len)
{
	struct in6_addr	 a6;
	char		 buf[INET6_ADDRSTRLEN];
	size_t		 i;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return 0;
	s++;
	len -= 2;
	if (s[0] == 'v' || s[0] == 'V') {
		/* "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
		for (i = 1; i < len && ws_hexdigit(s[i]) != -1; i++)
			;
		return i > 1 && i + 1 < len && s[i] == '.' &&
		    handshake_regname_ok(s + i + 1, len - i - 1, 1) &&
		    memchr(s + i + 1, '%', len - i - 1) == NULL;
	}
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a6) == 1;
}

int
ws_host_valid(const char *s, size_t len)
{
	const char	*colon;
	size_t		 hlen, i;
	unsigned long	 port = 0;

	if (len == 0)
		return 0;
	if (s[0] == '[') {
		if ((colon = memchr(s, ']', len)) == NULL)
			return 0;
		hlen = (size_t)(colon - s) + 1;
		if (!handshake_ip_literal_ok(s, hlen))
			return 0;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (hlen == 0 || !handshake_regname_ok(s, hlen, 0))
			return 0;
	}
	if (hlen == len)
		return 1;
	if (s[hlen] != ':' || len - hlen - 1 > 5)
		return 0;
	for (i = hlen + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return port <= 65535;
}

/* Removes the last segment, and the "/" before it, from path[0..out). */
static char *
handshake_pop_segment(char *path, char *out)
{
	while (out > path && *--out != '/')
		;
	return out;
}

size_t
ws_remove_dot_segments(char *path)
{
	char	*in = path, *out = path;

	/*
	 * RFC 3986 section 5.2.4, in place: the output never grows past the
	 * input it came from, so out never overtakes in.
	 */
	while (*in != '\0') {
		if (strncmp(in, "../", 3) == 0)
			in += 3;
		else if (strncmp(in, "./", 2) == 0 ||
		    strncmp(in, "/./", 3) == 0)
			in += 2;
		else if (strcmp(in, "/.") == 0) {
			*out++ = '/';
			break;
		} else if (strncmp(in, "/../", 4) == 0) {
			in += 3;
			out = handshake_pop_segment(path, out);
		} else if (strcmp(in, "/..") == 0) {
			out = handshake_pop_segment(path, out);
			*out++ = '/';
			break;
		} else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0)
			break;
		else {
			/* The first segment, with the "/" before it. */
			do
				*out++ = *in++;
			while (*in != '\0' && *in != '/');
		}
	}
	*out = '\0';
	return (size_t)(out - path);
}

/*
 * Normalizes a path in place for routing: percent-encoded unreserved
 * characters decoded (RFC 3986 section 6.2.2.2: "%2e%2e" is ".."), every
 * other encoding kept as sent, then dot segments removed. Returns 0, or -1
 * with *why for a malformed encoding or an encoded NUL.
 */
static int
handshake_normalize_path(char *path, const char **why)
{
	char	*in, *out;
	int	 hi, lo, v;

	for (in = out = path; *in != '\0'; in++) {
		if (*in != '%') {
			*out++ = *in;
			continue;
		}
		if ((hi = ws_hexdigit(in[1])) == -1 ||
		    (lo = ws_hexdigit(in[2])) == -1) {
			*why = "malformed percent-encoding in the path";
			return -1;
		}
		v = hi * 16 + lo;
		if (v == 0) {
			*why = "encoded NUL (%00) in the path";
			return -1;
		}
		if (handshake_unreserved((unsigned char)v))
			*out++ = (char)v;
		else {
			memmove(out, in, 3);
			out += 3;
		}
		in += 2;
	}
	*out = '\0';
	ws_remove_dot_segments(path);
	return 0;
}

/*
 * Splits the request-target into path (normalized) and query; an
 * absolute-form target's host goes to target_host. Returns 0, or -1 with
 * *why.
 */
static int
handshake_parse_target(struct ws_request *req, const char **why)
{
	const char	*t = req->uri, *p, *q;
	size_t		 i, n;

	*why = "malformed request-target";
	for (i = 0; t[i] != '\0'; i++) {
		/* Fragments never reach a server (RFC 6455 section 3). */
		if ((unsigned char)t[i] < 0x21 || t[i] == 0x7f || t[i] == '#')
			return -1;
	}
	if (t[0] == '/')
		p = t;
	else {
		p = NULL;
		for (i = 0; i < sizeof handshake_schemes /
		    sizeof handshake_schemes[0]; i++) {
			n = strlen(handshake_schemes[i]);
			if (handshake_span_eq(t, strnlen(t, n),
			    handshake_schemes[i], n, 1)) {
				p = t + n;
				break;
			}
		}
		if (p == NULL)
			return -1;
		n = strcspn(p, "/?");
		if (n == 0)
			return -1;
		/* userinfo is deprecated and an error (RFC 9110 4.2.4). */
		if (memchr(p, '@', n) != NULL || !ws_host_valid(p, n)) {
			*why = "malformed host in the request-target";
			return -1;
		}
		req->target_host = handshake_xstrndup(p, n);
		p += n;
	}
	if ((q = strchr(p, '?')) == NULL) {
		n = strlen(p);
		q = p + n;
	} else
		n = q++ - p;
	req->path = n == 0 ? handshake_xstrndup("/", 1) :
	    handshake_xstrndup(p, n);
	req->query = handshake_xstrndup(q, strlen(q));
	return handshake_normalize_path(req->path, why);
}

/* Parses "GET SP request-target SP HTTP/1.1" into req. */
static int
handshake_parse_request_line(struct ws_request *req,
    const struct handshake_span *line, int *status, const char **cause)
{
	const char	*sp1, *sp2, *end = line->p + line->len, *why;
	int		 v;

	if ((sp1 = memchr(line->p, ' ', line->len)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', end - (sp1 + 1))) == NULL ||
	    memchr(sp2 + 1, ' ', end - (sp2 + 1)) != NULL ||
	    !handshake_is_token(line->p, sp1 - line->p) ||
	    sp2 == sp1 + 1 || sp2 + 1 == end)
		return handshake_fail(status, cause, 400,
		    "malformed request line");
	req->method = handshake_xstrndup(line->p, sp1 - line->p);
	req->uri = handshake_xstrndup(sp1 + 1, sp2 - (sp1 + 1));
	req->version = handshake_xstrndup(sp2 + 1, end - (sp2 + 1));

	if ((v = handshake_version_ok(sp2 + 1, end - (sp2 + 1))) == -1)
		return handshake_fail(status, cause, 400,
		    "malformed HTTP version");
	if (v == 0)
		return handshake_fail(status, cause, 505,
		    "HTTP version not supported");
	if (handshake_parse_target(req, &why) == -1)
		return handshake_fail(status, cause, 400, why);
	/* Methods are case-sensitive (RFC 7231 section 4.1). */
	if (strcmp(req->method, "GET") != 0)
		return handshake_fail(status, cause, 405, "method is not GET");
	return 0;
}

/* Parses one "name: value" line into h. */
static int
handshake_parse_header(struct ws_header *h, const struct handshake_span *line,
    int *status, const char **cause)
{
	const char	*colon, *v;
	size_t		 vlen, i;
	unsigned char	 c;

	/* Obsolete line folding (RFC 7230 section 3.2.4). */
	if (line->len > 0 && handshake_ows(line->p[0]))
		return handshake_fail(status, cause, 400,
		    "obsolete header line folding");
	if ((colon = memchr(line->p, ':', line->len)) == NULL)
		return handshake_fail(status, cause, 400,
		    "header line without colon");
	if (!handshake_is_token(line->p, colon - line->p))
		return handshake_fail(status, cause, 400,
		    "malformed header name");
	v = colon + 1;
	vlen = line->len - (v - line->p);
	handshake_trim(&v, &vlen);
	for (i = 0; i < vlen; i++) {
		c = v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return handshake_fail(status, cause, 400,
			    "control character in header value");
	}
	h->name = handshake_xstrndup(line->p, colon - line->p);
	h->value = handshake_xstrndup(v, vlen);
	return 0;
}

/* Counts headers named name; *first gets the first one's value. */
static size_t
handshake_count(const struct ws_request *req, const char *name,
    const char **first)
{
	size_t	i, n = 0;

	*first = NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (!handshake_casecmp_eq(req->headers[i].name, name))
			continue;
		if (n++ == 0)
			*first = req->headers[i].value;
	}
	return n;
}

/* Tells whether some header named name lists token (case-insensitive). */
static int
handshake_header_has(const struct ws_request *req, const char *name,
    const char *token)
{
	size_t	i;

	for (i = 0; i < req->nheaders; i++)
		if (handshake_casecmp_eq(req->headers[i].name, name) &&
		    handshake_list_has(req->headers[i].value, token,
		    strlen(token), 1))
			return 1;
	return 0;
}

/*
 * Joins the non-empty values of every header named name with ", " into a
 * new string (RFC 7230 section 3.2.2), or returns NULL when there are none.
 */
static char *
handshake_join(const struct ws_request *req, const char *name)
{
	size_t	 i, len = 0, n = 0, vlen;
	char	*s;

	for (i = 0; i < req->nheaders; i++) {
		if (!handshake_casecmp_eq(req->headers[i].name, name) ||
		    req->headers[i].value[0] == '\0')
			continue;
		len += strlen(req->headers[i].value) + (n++ > 0 ? 2 : 0);
	}
	if (n == 0)
		return NULL;
	s = handshake_xmalloc(len + 1);
	for (i = 0, len = 0; i < req->nheaders; i++) {
		if (!handshake_casecmp_eq(req->headers[i].name, name) ||
		    req->headers[i].value[0] == '\0')
			continue;
		if (len > 0) {
			memcpy(s + len, ", ", 2);
			len += 2;
		}
		vlen = strlen(req->headers[i].value);
		memcpy(s + len, req->headers[i].value, vlen);
		len += vlen;
	}
	s[len] = '\0';
	return s;
}

/* Maps a base64 digit to its value, or -1. */
static int
handshake_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Tells whether key is the canonical base64 of exactly 16 bytes: 22 digits,
 * the last carrying only 2 data bits (so its low 4 bits are zero), then "==".
 */
static int
handshake_key_ok(const char *key)
{
	size_t	i;
	int	v = 0;

	if (strlen(key) != HANDSHAKE_KEY_LEN ||
	    key[HANDSHAKE_KEY_LEN - 2] != '=' ||
	    key[HANDSHAKE_KEY_LEN - 1] != '=')
		return 0;
	for (i = 0; i < HANDSHAKE_KEY_LEN - 2; i++)
		if ((v = handshake_b64_value(key[i])) == -1)
			return 0;
	return (v & 0x0f) == 0;
}

/* Checks the headers RFC 6455 section 4.2.1 requires of a client. */
static int
handshake_check_headers(struct ws_request *req, int *status,
    const char **cause)
{
	const char	*v;
	size_t		 n;

	n = handshake_count(req, "Host", &req->host);
	if (n == 0)
		return handshake_fail(status, cause, 400, "missing Host");
	if (n > 1)
		return handshake_fail(status, cause, 400, "more than one Host");
	if (req->host[0] == '\0')
		return handshake_fail(status, cause, 400, "empty Host");
	if (!ws_host_valid(req->host, strlen(req->host)))
		return handshake_fail(status, cause, 400, "malformed Host");
	/* The target's host wins over Host (RFC 9112 section 3.2.2). */
	if (req->target_host != NULL)
		req->host = req->target_host;
	/*
	 * An upgrade carries no body: with one announced, the bytes after the
	 * head would be read as frames here and as a body by a proxy before
	 * us (request smuggling).
	 */
	if (handshake_count(req, "Content-Length", &v) > 0 ||
	    handshake_count(req, "Transfer-Encoding", &v) > 0)
		return handshake_fail(status, cause, 400,
		    "Content-Length or Transfer-Encoding on an upgrade request");
	/* Two Origins would let policy and backend see different ones. */
	if (handshake_count(req, "Origin", &req->origin) > 1)
		return handshake_fail(status, cause, 400,
		    "more than one Origin");
	if (!handshake_header_has(req, "Upgrade", "websocket"))
		return handshake_fail(status, cause, 400,
		    "Upgrade does not list websocket");
	if (!handshake_header_has(req, "Connection", "Upgrade"))
		return handshake_fail(status, cause, 400,
		    "Connection does not list Upgrade");
	/*
	 * Checked before the key so that a client speaking another revision
	 * learns which one we do (RFC 6455 section 4.4).
	 */
	if (handshake_count(req, "Sec-WebSocket-Version", &v) != 1 ||
	    strcmp(v, "13") != 0)
		return handshake_fail(status, cause, 426,
		    "Sec-WebSocket-Version is not 13");
	n = handshake_count(req, "Sec-WebSocket-Key", &req->key);
	if (n == 0)
		return handshake_fail(status, cause, 400,
		    "missing Sec-WebSocket-Key");
	if (n > 1)
		return handshake_fail(status, cause, 400,
		    "more than one Sec-WebSocket-Key");
	if (!handshake_key_ok(req->key))
		return handshake_fail(status, cause, 400,
		    "Sec-WebSocket-Key is not base64 of 16 bytes");
	req->protocols = handshake_join(req, "Sec-WebSocket-Protocol");
	req->extensions = handshake_join(req, "Sec-WebSocket-Extensions");
	return 0;
}

size_t
ws_handshake_head_end(const char *buf, size_t len, size_t *scanned)
{
	size_t	i;

	/*
	 * A match is recognised at its final LF by looking back, so resuming
	 * at the first unseen byte still finds ends that straddle calls.
	 */
	i = *scanned > len ? 0 : *scanned;
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if ((i >= 1 && buf[i - 1] == '\n') ||
		    (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')) {
			*scanned = i + 1;
			return i + 1;
		}
	}
	*scanned = len;
	return 0;
}

int
ws_handshake_parse(const char *buf, size_t len, struct ws_request *req,
    int *status, const char **cause)
{
	struct handshake_lines	lines, count;
	struct handshake_span	line;
	size_t			n;

	memset(req, 0, sizeof *req);
	*status = 0;
	*cause = NULL;
	if (memchr(buf, '\0', len) != NULL)
		return handshake_fail(status, cause, 400,
		    "NUL byte in request head");
	lines.buf = buf;
	lines.len = len;
	lines.pos = 0;
	if (!handshake_next_line(&lines, &line))
		return handshake_fail(status, cause, 400,
		    "incomplete request head");
	/* One stray empty line before the request is tolerated (RFC 7230). */
	if (line.len == 0 && !handshake_next_line(&lines, &line))
		return handshake_fail(status, cause, 400,
		    "incomplete request head");
	if (memchr(line.p, '\r', line.len) != NULL)
		return handshake_fail(status, cause, 400,
		    "bare CR in request line");
	if (handshake_parse_request_line(req, &line, status, cause) == -1)
		return -1;

	/* Count first so the table is one bounded allocation. */
	count = lines;
	for (n = 0;; n++) {
		if (!handshake_next_line(&count, &line))
			return handshake_fail(status, cause, 400,
			    "incomplete request head");
		if (line.len == 0)
			break;
		if (n == WS_MAX_HEADERS)
			return handshake_fail(status, cause, 431,
			    "too many header fields");
	}
	if (n > 0)
		req->headers = handshake_xmalloc(n * sizeof *req->headers);
	while (req->nheaders < n) {
		handshake_next_line(&lines, &line);
		if (memchr(line.p, '\r', line.len) != NULL)
			return handshake_fail(status, cause, 400,
			    "bare CR in header line");
		if (handshake_parse_header(&req->headers[req->nheaders],
		    &line, status, cause) == -1)
			return -1;
		req->nheaders++;
	}
	if (handshake_check_headers(req, status, cause) == -1)
		return -1;
	handshake_compact(req);
	return 0;
}

/* Copies the NUL-terminated s (or NULL) to *p, advancing it. */
static char *
handshake_move(char **p, const char *s)
{
	char	*d = *p;
	size_t	 n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(d, s, n);
	*p += n;
	return d;
}

/* The size of s with its NUL, 0 for NULL. */
static size_t
handshake_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/*
 * Moves the header table and every string of a parsed request into one
 * allocation: a request is kept for the life of its connection, and one
 * block costs far less than a score of small ones.
 */
static void
handshake_compact(struct ws_request *req)
{
	struct ws_request	 old = *req;
	struct ws_header	*h;
	size_t			 total, i;
	char			*p;

	total = old.nheaders * sizeof(*h) + handshake_size(old.method) +
	    handshake_size(old.uri) + handshake_size(old.path) +
	    handshake_size(old.query) + handshake_size(old.version) +
	    handshake_size(old.protocols) + handshake_size(old.extensions) +
	    handshake_size(old.target_host);
	for (i = 0; i < old.nheaders; i++)
		total += handshake_size(old.headers[i].name) +
		    handshake_size(old.headers[i].value);
	req->arena = handshake_xmalloc(total);
	h = (struct ws_header *)req->arena;
	p = req->arena + old.nheaders * sizeof(*h);
	req->headers = old.nheaders > 0 ? h : NULL;
	for (i = 0; i < old.nheaders; i++) {
		h[i].name = handshake_move(&p, old.headers[i].name);
		h[i].value = handshake_move(&p, old.headers[i].value);
		/* The shortcuts point into header values: follow them. */
		if (old.host == old.headers[i].value)
			req->host = h[i].value;
		if (old.origin == old.headers[i].value)
			req->origin = h[i].value;
		if (old.key == old.headers[i].value)
			req->key = h[i].value;
	}
	req->method = handshake_move(&p, old.method);
	req->uri = handshake_move(&p, old.uri);
	req->path = handshake_move(&p, old.path);
	req->query = handshake_move(&p, old.query);
	req->version = handshake_move(&p, old.version);
	req->protocols = handshake_move(&p, old.protocols);
	req->extensions = handshake_move(&p, old.extensions);
	req->target_host = handshake_move(&p, old.target_host);
	if (old.host != NULL && old.host == old.target_host)
		req->host = req->target_host;
	ws_request_free(&old);
}

void
ws_request_free(struct ws_request *req)
{
	size_t	i;

	if (req->arena != NULL) {
		free(req->arena);
		memset(req, 0, sizeof *req);
		return;
	}

	free(req->method);
	free(req->uri);
	free(req->path);
	free(req->query);
	free(req->version);
	for (i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	free(req->target_host);
	/* Unlike host, origin and key, these joins are their own copies. */
	free((char *)req->protocols);
	free((char *)req->extensions);
	memset(req, 0, sizeof *req);
}

const char *
ws_request_header(const struct ws_request *req, const char *name)
{
	const char	*v;

	handshake_count(req, name, &v);
	return v;
}

void
ws_handshake_accept(const char *key, char *out)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;

	/*
	 * SHA-1 only fails when OpenSSL cannot allocate or has no default
	 * provider; both are fatal like any other allocation failure.
	 */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, key, strlen(key)) != 1 ||
	    EVP_DigestUpdate(ctx, HANDSHAKE_GUID,
	    sizeof HANDSHAKE_GUID - 1) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen != HANDSHAKE_SHA1_LEN)
		abort();
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)out, md, HANDSHAKE_SHA1_LEN);
}

int
ws_handshake_select_protocol(const struct ws_request *req,
    const char *supported, char *out, size_t outlen)
{
	const char	*p, *comma;
	size_t		 len;

	if (supported == NULL || req->protocols == NULL)
		return 0;
	for (p = supported;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma == NULL ? strlen(p) : (size_t)(comma - p);
		handshake_trim(&p, &len);
		/* Subprotocol names compare case-sensitively (RFC 6455 4.1). */
		if (len > 0 && len < outlen &&
		    handshake_list_has(req->protocols, p, len, 0)) {
			memcpy(out, p, len);
			out[len] = '\0';
			return 1;
		}
		if (comma == NULL)
			return 0;
	}
}

size_t
ws_handshake_response(char *out, size_t outlen, const char *key,
    const char *protocol, const char *extensions)
{
	char	accept[WS_ACCEPT_LEN + 1];
	int	n;

	ws_handshake_accept(key, accept);
	if (protocol != NULL && protocol[0] == '\0')
		protocol = NULL;
	if (extensions != NULL && extensions[0] == '\0')
		extensions = NULL;
	n = snprintf(out, outlen,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n"
	    "%s%s%s"
	    "%s%s%s"
	    "\r\n",
	    accept,
	    protocol != NULL ? "Sec-WebSocket-Protocol: " : "",
	    protocol != NULL ? protocol : "",
	    protocol != NULL ? "\r\n" : "",
	    extensions != NULL ? "Sec-WebSocket-Extensions: " : "",
	    extensions != NULL ? extensions : "",
	    extensions != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= outlen)
		return 0;
	return n;
}

size_t
ws_handshake_error(char *out, size_t outlen, int status, const char *body)
{
	int	n;

	/* The status line needs exactly three digits. */
	if (status < 100 || status > 999)
		status = 500;
	if (body == NULL)
		body = ws_http_reason(status);
	n = snprintf(out, outlen,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "%s%s"
	    "\r\n"
	    "%s\n",
	    status, ws_http_reason(status), strlen(body) + 1,
	    /* RFC 7231 6.5.5 requires Allow with 405, RFC 6455 4.4 this. */
	    status == 405 ? "Allow: GET\r\n" : "",
	    status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
	    body);
	if (n < 0 || (size_t)n >= outlen)
		return 0;
	return n;
}

const char *
ws_http_reason(int status)
{
	size_t	i;

	for (i = 0; i < sizeof handshake_reasons /
	    sizeof handshake_reasons[0]; i++)
		if (handshake_reasons[i].status == status)
			return handshake_reasons[i].reason;
	return "Error";
}
