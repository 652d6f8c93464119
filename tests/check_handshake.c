/* check_handshake.c - tests of the RFC 6455 opening handshake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "core/ws-handshake.h"

#define RL	"GET /chat HTTP/1.1\r\n"
#define HOST	"Host: server.example.com\r\n"
#define UPG	"Upgrade: websocket\r\n"
#define CONN	"Connection: Upgrade\r\n"
#define KEY	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define VER	"Sec-WebSocket-Version: 13\r\n"
#define END	"\r\n"
#define REQ	RL HOST UPG CONN KEY VER END

#define SAMPLE_KEY	"dGhlIHNhbXBsZSBub25jZQ=="
#define SAMPLE_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* Bytes a client may pipeline right after its head: a masked text frame. */
#define PIPELINED	"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"

/* Parses len bytes and checks the outcome; returns the status. */
static int
parse_status(const char *buf, size_t len, struct ws_request *req)
{
	const char	*cause = NULL;
	int		 status = 0, rc;

	rc = ws_handshake_parse(buf, len, req, &status, &cause);
	if (rc == 0)
		return 0;
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_int_ne(status, 0);
	return status;
}

/* Parses a string that must be accepted. */
static void
parse_ok(const char *s, struct ws_request *req)
{
	size_t	scanned = 0;

	/* Every request used here must be a complete head on its own. */
	ck_assert_uint_eq(ws_handshake_head_end(s, strlen(s), &scanned),
	    strlen(s));
	ck_assert_int_eq(parse_status(s, strlen(s), req), 0);
}

/* Returns the status of parsing len bytes, freeing what was parsed. */
static int
status_of(const char *buf, size_t len)
{
	struct ws_request	req;
	int			status;

	status = parse_status(buf, len, &req);
	ws_request_free(&req);
	return status;
}

/* A small deterministic generator for the random splits. */
static unsigned long
rng_next(unsigned long *state)
{
	*state = *state * 6364136223846793005UL + 1442695040888963407UL;
	return (*state >> 33) & 0x7fffffffUL;
}

enum feed_mode { FEED_WHOLE, FEED_BYTE, FEED_RANDOM };

/*
 * Offers bytes[0..total) to ws_handshake_head_end as a growing buffer in
 * the given chunking. Checks that the head ends exactly at want (0: never)
 * and is reported by the call whose chunk completed it.
 */
static void
feed_head(const char *bytes, size_t total, size_t want, enum feed_mode mode,
    unsigned long seed)
{
	size_t	scanned = 0, have = 0, got = 0, step = 0, calls = 0;

	while (have < total) {
		switch (mode) {
		case FEED_WHOLE:
			step = total;
			break;
		case FEED_BYTE:
			step = 1;
			break;
		case FEED_RANDOM:
			step = 1 + rng_next(&seed) % 23;
			break;
		}
		if (step > total - have)
			step = total - have;
		have += step;
		got = ws_handshake_head_end(bytes, have, &scanned);
		ck_assert_uint_le(++calls, total);
		if (got != 0)
			break;
		ck_assert_uint_eq(scanned, have);
	}
	ck_assert_uint_eq(got, want);
	if (want != 0) {
		ck_assert_uint_ge(have, want);
		ck_assert_uint_lt(have - step, want);
	}
}

static const struct {
	const char	*name;
	const char	*bytes;
	size_t		 head;	/* 0: no end in these bytes */
} heads[] = {
	{ "crlf", REQ, sizeof REQ - 1 },
	{ "crlf+frame", REQ PIPELINED, sizeof REQ - 1 },
	{ "crlf+next head", REQ REQ, sizeof REQ - 1 },
	{ "lf", "GET / HTTP/1.1\nHost: a\n\nxyz", 24 },
	{ "crlf lf", "GET / HTTP/1.1\r\nHost: a\r\n\nxyz", 26 },
	{ "lf crlf", "GET / HTTP/1.1\nHost: a\n\r\nxyz", 25 },
	{ "cr inside", "GET / HTTP/1.1\r\nA: b\r\n\rX\r\n\r\n\x81", 28 },
	{ "cr cr lf", "GET / HTTP/1.1\r\nA: b\r\r\n\r\r\nB: c\r\n\r\n", 34 },
	{ "leading crlf", "\r\nGET / HTTP/1.1\r\n\r\n", 20 },
	{ "bare", "\r\n\r\n", 4 },
	{ "unfinished", RL HOST "Upgrade: websocket\r\n\r", 0 },
	{ "lines only", "GET / HTTP/1.1\r\nHost: a\r\n", 0 },
	{ "empty", "", 0 },
};

START_TEST(test_head_end_chunkings)
{
	const char	*b = heads[_i].bytes;
	size_t		 len = strlen(b);
	unsigned long	 seed;

	/* "bytes" may hold frame bytes but never NUL, so strlen is the size. */
	feed_head(b, len, heads[_i].head, FEED_WHOLE, 0);
	feed_head(b, len, heads[_i].head, FEED_BYTE, 0);
	for (seed = 1; seed <= 50; seed++)
		feed_head(b, len, heads[_i].head, FEED_RANDOM, seed);
}
END_TEST

START_TEST(test_head_end_pipelined)
{
	const char	 buf[] = REQ PIPELINED;
	struct ws_request req;
	size_t		 scanned = 0, head;

	head = ws_handshake_head_end(buf, sizeof buf - 1, &scanned);
	ck_assert_uint_eq(head, sizeof REQ - 1);
	ck_assert_int_eq(memcmp(buf + head, PIPELINED, sizeof PIPELINED - 1),
	    0);
	ck_assert_int_eq(parse_status(buf, head, &req), 0);
	ck_assert_uint_eq(req.nheaders, 5);
	ws_request_free(&req);
}
END_TEST

START_TEST(test_head_end_scanned_past_len)
{
	size_t	scanned = 1000;

	/* A stale position from a longer buffer must not skip the end. */
	ck_assert_uint_eq(ws_handshake_head_end("a\n\n", 3, &scanned), 3);
	scanned = 0;
	ck_assert_uint_eq(ws_handshake_head_end("a\r\n\r", 4, &scanned), 0);
	ck_assert_uint_eq(scanned, 4);
	ck_assert_uint_eq(ws_handshake_head_end("a\r\n\r\n", 5, &scanned), 5);
}
END_TEST

START_TEST(test_accept_sample)
{
	char	out[WS_ACCEPT_LEN + 1];

	memset(out, 'x', sizeof out);
	ws_handshake_accept(SAMPLE_KEY, out);
	ck_assert_str_eq(out, SAMPLE_ACCEPT);
	ws_handshake_accept("x3JJHMbDL1EzLkh9GBhXDw==", out);
	ck_assert_str_eq(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
	ws_handshake_accept("AQIDBAUGBwgJCgsMDQ4PEA==", out);
	ck_assert_str_eq(out, "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
}
END_TEST

START_TEST(test_parse_rfc_sample)
{
	struct ws_request req;

	parse_ok("GET /chat HTTP/1.1\r\n"
	    "Host: server.example.com\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Origin: http://example.com\r\n"
	    "Sec-WebSocket-Protocol: chat, superchat\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n", &req);
	ck_assert_str_eq(req.method, "GET");
	ck_assert_str_eq(req.uri, "/chat");
	ck_assert_str_eq(req.path, "/chat");
	ck_assert_str_eq(req.query, "");
	ck_assert_str_eq(req.version, "HTTP/1.1");
	ck_assert_uint_eq(req.nheaders, 7);
	ck_assert_str_eq(req.headers[0].name, "Host");
	ck_assert_str_eq(req.headers[0].value, "server.example.com");
	ck_assert_str_eq(req.headers[4].name, "Origin");
	ck_assert_str_eq(req.headers[6].name, "Sec-WebSocket-Version");
	ck_assert_str_eq(req.headers[6].value, "13");
	ck_assert_str_eq(req.host, "server.example.com");
	ck_assert_str_eq(req.origin, "http://example.com");
	ck_assert_str_eq(req.key, SAMPLE_KEY);
	ck_assert_str_eq(req.protocols, "chat, superchat");
	ck_assert_ptr_null(req.extensions);
	ws_request_free(&req);
	ck_assert_ptr_null(req.method);
	ck_assert_ptr_null(req.headers);
	ck_assert_uint_eq(req.nheaders, 0);
	/* Freeing a zeroed request again is harmless. */
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_header_case)
{
	struct ws_request req;

	parse_ok("GET / HTTP/1.1\r\n"
	    "host: h\r\n"
	    "UPGRADE: WebSocket\r\n"
	    "connection: upgrade\r\n"
	    "SEC-WEBSOCKET-KEY: " SAMPLE_KEY "\r\n"
	    "sec-websocket-version: 13\r\n"
	    "ORIGIN: null\r\n"
	    "\r\n", &req);
	ck_assert_str_eq(req.host, "h");
	ck_assert_str_eq(req.key, SAMPLE_KEY);
	ck_assert_str_eq(req.origin, "null");
	ck_assert_str_eq(req.headers[1].name, "UPGRADE");
	ck_assert_str_eq(ws_request_header(&req, "Sec-WebSocket-Version"),
	    "13");
	ck_assert_str_eq(ws_request_header(&req, "sEc-WeBsOcKeT-kEy"),
	    SAMPLE_KEY);
	ck_assert_ptr_null(ws_request_header(&req, "Sec-WebSocket-Protocol"));
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_token_lists)
{
	struct ws_request req;

	parse_ok(RL HOST
	    "Upgrade:  h2c ,\t websocket  \r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    KEY VER END, &req);
	ws_request_free(&req);
	parse_ok(RL HOST UPG
	    "Connection: keep-alive ,Upgrade,\r\n"
	    KEY VER END, &req);
	ws_request_free(&req);
	/* Lists may be split over several lines (RFC 7230 3.2.2). */
	parse_ok(RL HOST UPG
	    "Connection: keep-alive\r\n"
	    "Connection: ,, upgrade\r\n"
	    KEY VER END, &req);
	ws_request_free(&req);
	parse_ok(RL HOST
	    "Upgrade: foo/2\r\n"
	    "Upgrade: WEBSOCKET\r\n"
	    CONN KEY VER END, &req);
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_ows_trimmed)
{
	struct ws_request req;

	parse_ok(RL
	    "Host:\t \tserver.example.com \t\r\n"
	    UPG CONN
	    "Sec-WebSocket-Key:" SAMPLE_KEY "   \r\n"
	    "Sec-WebSocket-Version:  13\t\r\n"
	    "X-Inner: a  b\tc\r\n"
	    "X-Empty:\r\n"
	    END, &req);
	ck_assert_str_eq(req.host, "server.example.com");
	ck_assert_str_eq(req.key, SAMPLE_KEY);
	ck_assert_str_eq(ws_request_header(&req, "X-Inner"), "a  b\tc");
	ck_assert_str_eq(ws_request_header(&req, "X-Empty"), "");
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_lf_only)
{
	struct ws_request req;

	parse_ok("GET /a?b HTTP/1.1\n"
	    "Host: h\nUpgrade: websocket\nConnection: Upgrade\n"
	    "Sec-WebSocket-Key: " SAMPLE_KEY "\n"
	    "Sec-WebSocket-Version: 13\n\n", &req);
	ck_assert_str_eq(req.path, "/a");
	ck_assert_str_eq(req.query, "b");
	ck_assert_str_eq(req.key, SAMPLE_KEY);
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_leading_empty_line)
{
	struct ws_request req;

	parse_ok("\r\n" REQ, &req);
	ck_assert_str_eq(req.path, "/chat");
	ws_request_free(&req);
}
END_TEST

static const struct {
	const char	*line;
	const char	*uri;
	const char	*path;
	const char	*query;
} targets[] = {
	{ "GET / HTTP/1.1", "/", "/", "" },
	{ "GET /chat?x=1&y=2 HTTP/1.1", "/chat?x=1&y=2", "/chat", "x=1&y=2" },
	{ "GET /a? HTTP/1.1", "/a?", "/a", "" },
	{ "GET /a?b?c HTTP/1.1", "/a?b?c", "/a", "b?c" },
	{ "GET /?q HTTP/1.1", "/?q", "/", "q" },
	{ "GET //x/%20y HTTP/1.1", "//x/%20y", "//x/%20y", "" },
	{ "GET ws://example.com/chat?a=b HTTP/1.1", "ws://example.com/chat?a=b",
	    "/chat", "a=b" },
	{ "GET wss://example.com:8443/ HTTP/1.1", "wss://example.com:8443/",
	    "/", "" },
	{ "GET HTTP://example.com HTTP/1.1", "HTTP://example.com", "/", "" },
	{ "GET https://example.com?x HTTP/1.1", "https://example.com?x", "/",
	    "x" },
	/* Dot segments go (RFC 3986 5.2.4); the URI stays as sent. */
	{ "GET /envp/../../etc/passwd HTTP/1.1", "/envp/../../etc/passwd",
	    "/etc/passwd", "" },
	{ "GET /a/./b/../c/. HTTP/1.1", "/a/./b/../c/.", "/a/c/", "" },
	{ "GET /a/b/.. HTTP/1.1", "/a/b/..", "/a/", "" },
	{ "GET /.. HTTP/1.1", "/..", "/", "" },
	{ "GET /a/..?x=/../y HTTP/1.1", "/a/..?x=/../y", "/", "x=/../y" },
	{ "GET /a/...b/..c HTTP/1.1", "/a/...b/..c", "/a/...b/..c", "" },
	/* Encoded unreserved characters are decoded first: %2e%2e is "..". */
	{ "GET /app/%2e%2E/x HTTP/1.1", "/app/%2e%2E/x", "/x", "" },
	{ "GET /%41%7e%5F HTTP/1.1", "/%41%7e%5F", "/A~_", "" },
	/* Reserved ones are not: %2F is no separator, %25 stays "%25". */
	{ "GET /a%2Fb/..%2f/c HTTP/1.1", "/a%2Fb/..%2f/c", "/a%2Fb/..%2f/c",
	    "" },
	{ "GET /a%252e%252e HTTP/1.1", "/a%252e%252e", "/a%252e%252e", "" },
	{ "GET ws://example.com/a/../b HTTP/1.1", "ws://example.com/a/../b",
	    "/b", "" },
};

START_TEST(test_parse_targets)
{
	struct ws_request req;
	char		 buf[512];

	snprintf(buf, sizeof buf, "%s\r\n" HOST UPG CONN KEY VER END,
	    targets[_i].line);
	parse_ok(buf, &req);
	ck_assert_str_eq(req.uri, targets[_i].uri);
	ck_assert_str_eq(req.path, targets[_i].path);
	ck_assert_str_eq(req.query, targets[_i].query);
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_joined_lists)
{
	struct ws_request req;

	parse_ok(RL HOST UPG CONN KEY VER
	    "Sec-WebSocket-Protocol: chat\r\n"
	    "sec-websocket-extensions: permessage-deflate; "
	    "client_max_window_bits\r\n"
	    "Sec-WebSocket-Protocol:\r\n"
	    "Sec-WebSocket-Protocol: superchat, v2\r\n"
	    "Sec-WebSocket-Extensions: x-foo\r\n"
	    END, &req);
	ck_assert_str_eq(req.protocols, "chat, superchat, v2");
	ck_assert_str_eq(req.extensions,
	    "permessage-deflate; client_max_window_bits, x-foo");
	/* The header list itself keeps every line as sent. */
	ck_assert_uint_eq(req.nheaders, 10);
	ck_assert_str_eq(req.headers[7].value, "");
	ck_assert_str_eq(ws_request_header(&req, "Sec-WebSocket-Protocol"),
	    "chat");
	ws_request_free(&req);
}
END_TEST

/* The causes ws_handshake_parse gives, as the rejects table expects them. */
#define C_METHOD	"method is not GET"
#define C_VERSION	"HTTP version not supported"
#define C_BADVER	"malformed HTTP version"
#define C_LINE	"malformed request line"
#define C_TARGET	"malformed request-target"
#define C_COLON	"header line without colon"
#define C_NAME	"malformed header name"
#define C_FOLD	"obsolete header line folding"
#define C_CTL	"control character in header value"
#define C_INCOMPLETE	"incomplete request head"
#define C_UPGRADE	"Upgrade does not list websocket"
#define C_CONN	"Connection does not list Upgrade"
#define C_WSVER	"Sec-WebSocket-Version is not 13"
#define C_KEY	"Sec-WebSocket-Key is not base64 of 16 bytes"
#define C_HOST	"malformed Host"
#define C_THOST	"malformed host in the request-target"
#define C_PCT	"malformed percent-encoding in the path"
#define C_BODY	"Content-Length or Transfer-Encoding on an upgrade request"

/* Each rule that makes ws_handshake_parse refuse, with its status. */
static const struct {
	const char	*name;
	int		 status;
	const char	*cause;
	const char	*bytes;
} rejects[] = {
	{ "POST", 405, C_METHOD,
	    "POST /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "lowercase get", 405, C_METHOD,
	    "get /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "HEAD", 405, C_METHOD,
	    "HEAD / HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/1.0", 505, C_VERSION,
	    "GET / HTTP/1.0\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/0.9", 505, C_VERSION,
	    "GET / HTTP/0.9\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/2.0", 505, C_VERSION,
	    "GET / HTTP/2.0\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/2.1", 505, C_VERSION,
	    "GET / HTTP/2.1\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/1.9", 505, C_VERSION,
	    "GET /a HTTP/1.9\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/1.2", 505, C_VERSION,
	    "GET /a HTTP/1.2\r\n" HOST UPG CONN KEY VER END },
	{ "http/1.1", 400, C_BADVER,
	    "GET / http/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/1.1x", 400, C_BADVER,
	    "GET / HTTP/1.1x\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/11", 400, C_BADVER,
	    "GET / HTTP/11\r\n" HOST UPG CONN KEY VER END },
	{ "HTTP/1.", 400, C_BADVER,
	    "GET / HTTP/1.\r\n" HOST UPG CONN KEY VER END },
	{ "no version", 400, C_LINE,
	    "GET /\r\n" HOST UPG CONN KEY VER END },
	{ "trailing space", 400, C_LINE,
	    "GET / HTTP/1.1 \r\n" HOST UPG CONN KEY VER END },
	{ "double space", 400, C_LINE,
	    "GET  / HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "tab separator", 400, C_LINE,
	    "GET\t/ HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "empty method", 400, C_LINE,
	    " / HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "method not token", 400, C_LINE,
	    "G(T / HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "empty request line", 400, C_LINE,
	    "\r\n\r\n" },
	{ "asterisk target", 400, C_TARGET,
	    "GET * HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "relative target", 400, C_TARGET,
	    "GET chat HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "ftp target", 400, C_TARGET,
	    "GET ftp://h/ HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "no authority", 400, C_TARGET,
	    "GET ws:///x HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "userinfo in target", 400, C_THOST,
	    "GET ws://user:pw@example.com/ HTTP/1.1\r\n" HOST UPG CONN KEY VER
	    END },
	{ "bad host in target", 400, C_THOST,
	    "GET ws://exa%mple.com/ HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "bad port in target", 400, C_THOST,
	    "GET wss://example.com:99999/ HTTP/1.1\r\n" HOST UPG CONN KEY VER
	    END },
	{ "target host C1", 400, C_THOST,
	    "GET ws://a\x9b.com/ HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "encoded NUL in path", 400, "encoded NUL (%00) in the path",
	    "GET /a%00b HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "bad encoding in path", 400, C_PCT,
	    "GET /a%zz HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "short encoding in path", 400, C_PCT,
	    "GET /a% HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "fragment", 400, C_TARGET,
	    "GET /a#b HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "control in target", 400, C_TARGET,
	    "GET /a\x01 HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "bare CR in request line", 400, "bare CR in request line",
	    "GET /a\rb HTTP/1.1\r\n" HOST UPG CONN KEY VER END },
	{ "no colon", 400, C_COLON,
	    RL HOST "Upgrade websocket\r\n" CONN KEY VER END },
	{ "space before colon", 400, C_NAME,
	    RL "Host : h\r\n" UPG CONN KEY VER END },
	{ "empty name", 400, C_NAME,
	    RL HOST ": x\r\n" UPG CONN KEY VER END },
	{ "name not token", 400, C_NAME,
	    RL HOST "X(y): z\r\n" UPG CONN KEY VER END },
	{ "name with space", 400, C_NAME,
	    RL HOST "X y: z\r\n" UPG CONN KEY VER END },
	{ "obs-fold SP", 400, C_FOLD,
	    RL HOST "X-A: a\r\n b\r\n" UPG CONN KEY VER END },
	{ "obs-fold HT", 400, C_FOLD,
	    RL HOST "X-A: a\r\n\tb: c\r\n" UPG CONN KEY VER END },
	{ "fold first", 400, C_FOLD,
	    RL " X-A: a\r\n" HOST UPG CONN KEY VER END },
	{ "bare CR in value", 400, "bare CR in header line",
	    RL HOST "X-A: a\rb\r\n" UPG CONN KEY VER END },
	{ "control in value", 400, C_CTL,
	    RL HOST "X-A: a\x1b[0m\r\n" UPG CONN KEY VER END },
	{ "DEL in value", 400, C_CTL,
	    RL HOST "X-A: a\x7f\r\n" UPG CONN KEY VER END },
	{ "no blank line", 400, C_INCOMPLETE,
	    RL HOST UPG CONN KEY VER },
	{ "no line at all", 400, C_INCOMPLETE,
	    "GET / HTTP/1.1" },
	{ "missing Host", 400, "missing Host",
	    RL UPG CONN KEY VER END },
	{ "two Hosts", 400, "more than one Host",
	    RL HOST UPG CONN "host: other\r\n" KEY VER END },
	{ "empty Host", 400, "empty Host",
	    RL "Host: \r\n" UPG CONN KEY VER END },
	{ "Host with space", 400, C_HOST,
	    RL "Host: a b\r\n" UPG CONN KEY VER END },
	{ "Host with C1", 400, C_HOST,
	    RL "Host: a\x9b[2J.com\r\n" UPG CONN KEY VER END },
	{ "Host with UTF-8", 400, C_HOST,
	    RL "Host: \xc3\xa9t\xc3\xa9.example\r\n" UPG CONN KEY VER END },
	{ "Host with slash", 400, C_HOST,
	    RL "Host: a/b\r\n" UPG CONN KEY VER END },
	{ "Host with userinfo", 400, C_HOST,
	    RL "Host: u@a\r\n" UPG CONN KEY VER END },
	{ "Host port letters", 400, C_HOST,
	    RL "Host: a:8o\r\n" UPG CONN KEY VER END },
	{ "Host port too big", 400, C_HOST,
	    RL "Host: a:65536\r\n" UPG CONN KEY VER END },
	{ "Host two ports", 400, C_HOST,
	    RL "Host: a:1:2\r\n" UPG CONN KEY VER END },
	{ "Host empty name", 400, C_HOST,
	    RL "Host: :80\r\n" UPG CONN KEY VER END },
	{ "Host bad IPv6", 400, C_HOST,
	    RL "Host: [::g]\r\n" UPG CONN KEY VER END },
	{ "Host IPv6 unclosed", 400, C_HOST,
	    RL "Host: [::1\r\n" UPG CONN KEY VER END },
	{ "Host bad encoding", 400, C_HOST,
	    RL "Host: a%2\r\n" UPG CONN KEY VER END },
	{ "Content-Length", 400, C_BODY,
	    RL HOST UPG CONN KEY VER "Content-Length: 5\r\n" END },
	{ "Content-Length 0", 400, C_BODY,
	    RL HOST UPG CONN KEY VER "content-length: 0\r\n" END },
	{ "Transfer-Encoding", 400, C_BODY,
	    RL HOST UPG CONN KEY VER "Transfer-Encoding: chunked\r\n" END },
	{ "two Origins", 400, "more than one Origin",
	    RL HOST "Origin: http://a\r\n" UPG CONN "Origin: http://b\r\n" KEY
	    VER END },
	{ "missing Upgrade", 400, C_UPGRADE,
	    RL HOST CONN KEY VER END },
	{ "Upgrade h2c", 400, C_UPGRADE,
	    RL HOST "Upgrade: h2c\r\n" CONN KEY VER END },
	{ "Upgrade websocketx", 400, C_UPGRADE,
	    RL HOST "Upgrade: websocketx\r\n" CONN KEY VER END },
	{ "Upgrade in one token", 400, C_UPGRADE,
	    RL HOST "Upgrade: h2c websocket\r\n" CONN KEY VER END },
	{ "missing Connection", 400, C_CONN,
	    RL HOST UPG KEY VER END },
	{ "Connection keep-alive", 400, C_CONN,
	    RL HOST UPG "Connection: keep-alive\r\n" KEY VER END },
	{ "Connection Upgraded", 400, C_CONN,
	    RL HOST UPG "Connection: Upgraded\r\n" KEY VER END },
	{ "missing Version", 426, C_WSVER,
	    RL HOST UPG CONN KEY END },
	{ "Version 8", 426, C_WSVER,
	    RL HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n" END },
	{ "Version 13, 8", 426, C_WSVER,
	    RL HOST UPG CONN KEY "Sec-WebSocket-Version: 13, 8\r\n" END },
	{ "Version twice", 426, C_WSVER,
	    RL HOST UPG CONN KEY VER VER END },
	{ "Version 013", 426, C_WSVER,
	    RL HOST UPG CONN KEY "Sec-WebSocket-Version: 013\r\n" END },
	{ "Version empty", 426, C_WSVER,
	    RL HOST UPG CONN KEY "Sec-WebSocket-Version:\r\n" END },
	{ "missing Key", 400, "missing Sec-WebSocket-Key",
	    RL HOST UPG CONN VER END },
	{ "two Keys", 400, "more than one Sec-WebSocket-Key",
	    RL HOST UPG CONN KEY KEY VER END },
	{ "empty Key", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key:\r\n" VER END },
	{ "Key 15 bytes", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4P\r\n" VER
	    END },
	{ "Key 17 bytes", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEBE=\r\n"
	    VER END },
	{ "Key unpadded", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" VER
	    END },
	{ "Key one pad", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n"
	    VER END },
	{ "Key bad digit", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n"
	    VER END },
	{ "Key urlsafe", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j_Q==\r\n"
	    VER END },
	{ "Key not canonical", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"
	    VER END },
	{ "Key inner space", 400, C_KEY,
	    RL HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ==\r\n"
	    VER END },
};

START_TEST(test_parse_rejects)
{
	struct ws_request req;
	const char	*b = rejects[_i].bytes, *cause = NULL;
	int		 status = 0;

	ck_assert_msg(ws_handshake_parse(b, strlen(b), &req, &status,
	    &cause) == -1, "%s: accepted", rejects[_i].name);
	ck_assert_msg(status == rejects[_i].status, "%s: status %d, want %d",
	    rejects[_i].name, status, rejects[_i].status);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strcmp(cause, rejects[_i].cause) == 0,
	    "%s: cause \"%s\", want \"%s\"", rejects[_i].name, cause,
	    rejects[_i].cause);
	ws_request_free(&req);
}
END_TEST

START_TEST(test_parse_nul)
{
	static const char	 line[] = "GET /a\0b HTTP/1.1\r\n" HOST UPG
	    CONN KEY VER END;
	static const char	 value[] = RL HOST "X-A: a\0b\r\n" UPG CONN KEY
	    VER END;
	static const char	 name[] = RL HOST "X-\0A: b\r\n" UPG CONN KEY
	    VER END;
	static const char	 key[] = RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\0\r\n" VER END;

	ck_assert_int_eq(status_of(line, sizeof line - 1), 400);
	ck_assert_int_eq(status_of(value, sizeof value - 1), 400);
	ck_assert_int_eq(status_of(name, sizeof name - 1), 400);
	ck_assert_int_eq(status_of(key, sizeof key - 1), 400);
}
END_TEST

/* Host values (RFC 9112 3.2.2, RFC 3986 3.2.2 and 3.2.3). */
static const struct {
	const char	*host;
	int		 ok;
} hosts[] = {
	{ "example.com", 1 }, { "example.com:8080", 1 }, { "EXAMPLE.com:", 1 },
	{ "127.0.0.1:65535", 1 }, { "[::1]", 1 }, { "[::1]:443", 1 },
	{ "[2001:db8::7]:80", 1 }, { "[v1.fe80::a+en1]", 1 },
	{ "a_b-c~d.e%41!$&'()*+,;=", 1 }, { "xn--bcher-kva.example", 1 },
	{ "", 0 }, { ":80", 0 }, { "a b", 0 }, { "a\tb", 0 }, { "a/b", 0 },
	{ "a?b", 0 }, { "a#b", 0 }, { "u@a", 0 }, { "a:b", 0 }, { "a:1:2", 0 },
	{ "a:123456", 0 }, { "a:65536", 0 }, { "[::1", 0 }, { "::1", 0 },
	{ "[::1]x", 0 }, { "[::1]:x", 0 }, { "[g::1]", 0 }, { "[]", 0 },
	{ "[v1.]", 0 }, { "[vx.a]", 0 }, { "[fe80::1%25eth0]", 0 },
	{ "a%", 0 }, { "a%4", 0 }, { "a%4g", 0 }, { "a\x9b", 0 },
	{ "\xc2\x9b", 0 }, { "a\x7f", 0 }, { "[a]", 0 },
};

START_TEST(test_host_valid)
{
	const char	*h = hosts[_i].host;

	ck_assert_msg(ws_host_valid(h, strlen(h)) == hosts[_i].ok,
	    "\"%s\": want %d", h, hosts[_i].ok);
}
END_TEST

/* An absolute-form target's host stands for Host; Host is checked still. */
START_TEST(test_parse_absolute_host)
{
	struct ws_request req;

	parse_ok("GET wss://Target.example:8443/chat?a HTTP/1.1\r\n"
	    HOST UPG CONN KEY VER END, &req);
	ck_assert_str_eq(req.host, "Target.example:8443");
	ck_assert_str_eq(req.target_host, "Target.example:8443");
	ck_assert_str_eq(ws_request_header(&req, "Host"), "server.example.com");
	ck_assert_str_eq(req.path, "/chat");
	ws_request_free(&req);
	parse_ok(REQ, &req);
	ck_assert_ptr_null(req.target_host);
	ck_assert_str_eq(req.host, "server.example.com");
	ws_request_free(&req);
	ck_assert_int_eq(status_of("GET ws://a.example/ HTTP/1.1\r\n"
	    "Host: b c\r\n" UPG CONN KEY VER END,
	    strlen("GET ws://a.example/ HTTP/1.1\r\n" "Host: b c\r\n" UPG
	    CONN KEY VER END)), 400);
}
END_TEST

/* RFC 3986 section 5.2.4, its examples and the edges. */
static const struct {
	const char	*in;
	const char	*out;
} dots[] = {
	{ "/a/b/c/./../../g", "/a/g" }, { "mid/content=5/../6", "mid/6" },
	{ "/", "/" }, { "", "" }, { ".", "" }, { "..", "" }, { "../a", "a" },
	{ "./a", "a" }, { "/.", "/" }, { "/..", "/" }, { "/../..", "/" },
	{ "/a/..", "/" }, { "/a/../", "/" }, { "/a/.", "/a/" },
	{ "/a/./", "/a/" }, { "/a//../b", "/a/b" }, { "/a/.b/..c/...", "/a/.b/..c/..." },
	{ "/a/b/../../../../c", "/c" }, { "/./a/./b/.", "/a/b/" },
	{ "//x", "//x" }, { "/a/b/c", "/a/b/c" },
};

START_TEST(test_remove_dot_segments)
{
	char	buf[64];
	size_t	n;

	snprintf(buf, sizeof buf, "%s", dots[_i].in);
	n = ws_remove_dot_segments(buf);
	ck_assert_str_eq(buf, dots[_i].out);
	ck_assert_uint_eq(n, strlen(dots[_i].out));
}
END_TEST

START_TEST(test_request_header_first)
{
	struct ws_request req;

	parse_ok(RL HOST "X-Dup: one\r\n" UPG CONN KEY VER "x-dup: two\r\n" END,
	    &req);
	ck_assert_str_eq(ws_request_header(&req, "X-DUP"), "one");
	ck_assert_ptr_null(ws_request_header(&req, "X-Du"));
	ck_assert_ptr_null(ws_request_header(&req, "X-Dupe"));
	ws_request_free(&req);
}
END_TEST

START_TEST(test_response_101)
{
	static const char want[] =
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	    "\r\n";
	char	out[512];
	size_t	n;

	n = ws_handshake_response(out, sizeof out, SAMPLE_KEY, NULL, NULL);
	ck_assert_uint_eq(n, sizeof want - 1);
	ck_assert_str_eq(out, want);
	/* An empty protocol or extension string means none. */
	n = ws_handshake_response(out, sizeof out, SAMPLE_KEY, "", "");
	ck_assert_uint_eq(n, sizeof want - 1);
	ck_assert_str_eq(out, want);
	/* The terminating NUL must fit too. */
	ck_assert_uint_eq(ws_handshake_response(out, sizeof want, SAMPLE_KEY,
	    NULL, NULL), sizeof want - 1);
	ck_assert_uint_eq(ws_handshake_response(out, sizeof want - 1,
	    SAMPLE_KEY, NULL, NULL), 0);
	ck_assert_uint_eq(ws_handshake_response(out, 0, SAMPLE_KEY, NULL,
	    NULL), 0);
}
END_TEST

START_TEST(test_response_101_protocol)
{
	static const char want[] =
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	    "Sec-WebSocket-Protocol: chat\r\n"
	    "\r\n";
	static const char want_ext[] =
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"
	    "Sec-WebSocket-Protocol: v2.json\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	    "\r\n";
	static const char want_ext_only[] =
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	    "\r\n";
	char	out[512];

	ck_assert_uint_eq(ws_handshake_response(out, sizeof out, SAMPLE_KEY,
	    "chat", NULL), sizeof want - 1);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(ws_handshake_response(out, sizeof out,
	    "x3JJHMbDL1EzLkh9GBhXDw==", "v2.json", "permessage-deflate"),
	    sizeof want_ext - 1);
	ck_assert_str_eq(out, want_ext);
	ck_assert_uint_eq(ws_handshake_response(out, sizeof out,
	    "x3JJHMbDL1EzLkh9GBhXDw==", NULL, "permessage-deflate"),
	    sizeof want_ext_only - 1);
	ck_assert_str_eq(out, want_ext_only);
	ck_assert_uint_eq(ws_handshake_response(out, sizeof want - 1,
	    SAMPLE_KEY, "chat", NULL), 0);
}
END_TEST

START_TEST(test_response_errors)
{
	static const char want400[] =
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 12\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "Bad Request\n";
	static const char want426[] =
	    "HTTP/1.1 426 Upgrade Required\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 32\r\n"
	    "Connection: close\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n"
	    "Sec-WebSocket-Version is not 13\n";
	static const char want431[] =
	    "HTTP/1.1 431 Request Header Fields Too Large\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 32\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "Request Header Fields Too Large\n";
	static const char want405[] =
	    "HTTP/1.1 405 Method Not Allowed\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 1\r\n"
	    "Connection: close\r\n"
	    "Allow: GET\r\n"
	    "\r\n"
	    "\n";
	char	out[512];

	ck_assert_uint_eq(ws_handshake_error(out, sizeof out, 400, NULL),
	    sizeof want400 - 1);
	ck_assert_str_eq(out, want400);
	ck_assert_uint_eq(ws_handshake_error(out, sizeof out, 426,
	    "Sec-WebSocket-Version is not 13"), sizeof want426 - 1);
	ck_assert_str_eq(out, want426);
	ck_assert_uint_eq(ws_handshake_error(out, sizeof out, 431,
	    "Request Header Fields Too Large"), sizeof want431 - 1);
	ck_assert_str_eq(out, want431);
	ck_assert_uint_eq(ws_handshake_error(out, sizeof out, 405, ""),
	    sizeof want405 - 1);
	ck_assert_str_eq(out, want405);
	ck_assert_uint_eq(ws_handshake_error(out, sizeof want400, 400, NULL),
	    sizeof want400 - 1);
	ck_assert_uint_eq(ws_handshake_error(out, sizeof want400 - 1, 400,
	    NULL), 0);
	ck_assert_uint_eq(ws_handshake_error(out, 0, 400, NULL), 0);
}
END_TEST

START_TEST(test_response_error_bad_status)
{
	char	out[512];

	ck_assert_uint_gt(ws_handshake_error(out, sizeof out, 42, "x"), 0);
	ck_assert_int_eq(strncmp(out, "HTTP/1.1 500 Internal Server Error\r\n",
	    36), 0);
	ck_assert_uint_gt(ws_handshake_error(out, sizeof out, 499, "x"), 0);
	ck_assert_int_eq(strncmp(out, "HTTP/1.1 499 Error\r\n", 20), 0);
}
END_TEST

START_TEST(test_reasons)
{
	ck_assert_str_eq(ws_http_reason(400), "Bad Request");
	ck_assert_str_eq(ws_http_reason(403), "Forbidden");
	ck_assert_str_eq(ws_http_reason(404), "Not Found");
	ck_assert_str_eq(ws_http_reason(405), "Method Not Allowed");
	ck_assert_str_eq(ws_http_reason(426), "Upgrade Required");
	ck_assert_str_eq(ws_http_reason(429), "Too Many Requests");
	ck_assert_str_eq(ws_http_reason(431),
	    "Request Header Fields Too Large");
	ck_assert_str_eq(ws_http_reason(500), "Internal Server Error");
	ck_assert_str_eq(ws_http_reason(503), "Service Unavailable");
	ck_assert_str_eq(ws_http_reason(505), "HTTP Version Not Supported");
	/* Every registered 4xx and 5xx (a hook may refuse with any). */
	ck_assert_str_eq(ws_http_reason(401), "Unauthorized");
	ck_assert_str_eq(ws_http_reason(402), "Payment Required");
	ck_assert_str_eq(ws_http_reason(407),
	    "Proxy Authentication Required");
	ck_assert_str_eq(ws_http_reason(409), "Conflict");
	ck_assert_str_eq(ws_http_reason(410), "Gone");
	ck_assert_str_eq(ws_http_reason(413), "Content Too Large");
	ck_assert_str_eq(ws_http_reason(418), "Error");
	ck_assert_str_eq(ws_http_reason(422), "Unprocessable Content");
	ck_assert_str_eq(ws_http_reason(451),
	    "Unavailable For Legal Reasons");
	ck_assert_str_eq(ws_http_reason(502), "Bad Gateway");
	ck_assert_str_eq(ws_http_reason(504), "Gateway Timeout");
	ck_assert_str_eq(ws_http_reason(511),
	    "Network Authentication Required");
	ck_assert_str_eq(ws_http_reason(200), "Error");
	ck_assert_str_eq(ws_http_reason(-1), "Error");
}
END_TEST

static const struct {
	const char	*offered;	/* NULL: no Sec-WebSocket-Protocol */
	const char	*supported;
	size_t		 outlen;
	const char	*want;		/* NULL: none selected */
} selects[] = {
	{ "chat, superchat", "superchat, chat", 64, "superchat" },
	{ "chat, superchat", "chat, superchat", 64, "chat" },
	{ "a,b,c", "x, c ,b", 64, "c" },
	{ " v1 ,\tv2 ", "v2", 64, "v2" },
	{ "chat", "Chat", 64, NULL },
	{ "Chat", "chat", 64, NULL },
	{ "chat", "mqtt, stomp", 64, NULL },
	{ NULL, "chat", 64, NULL },
	{ "chat", "", 64, NULL },
	{ "chat", " , ,", 64, NULL },
	{ "chat", NULL, 64, NULL },
	{ "chatty", "chat", 64, NULL },
	{ "chat", "chatty", 64, NULL },
	{ "chat", "chat", 5, "chat" },
	{ "chat", "chat", 4, NULL },
	{ "superchat, chat", "superchat, chat", 6, "chat" },
};

START_TEST(test_select_protocol)
{
	struct ws_request req;
	char		 buf[512], out[64];
	int		 rc;

	if (selects[_i].offered != NULL)
		snprintf(buf, sizeof buf, RL HOST UPG CONN KEY VER
		    "Sec-WebSocket-Protocol: %s\r\n" END, selects[_i].offered);
	else
		snprintf(buf, sizeof buf, "%s", REQ);
	parse_ok(buf, &req);
	memset(out, 'x', sizeof out);
	rc = ws_handshake_select_protocol(&req, selects[_i].supported, out,
	    selects[_i].outlen);
	if (selects[_i].want == NULL)
		ck_assert_int_eq(rc, 0);
	else {
		ck_assert_int_eq(rc, 1);
		ck_assert_str_eq(out, selects[_i].want);
	}
	ws_request_free(&req);
}
END_TEST

/* Builds a valid request with extra "X-Pad" headers into a new string. */
static char *
padded_request(size_t extra)
{
	char	*buf, *p;
	size_t	 i, size;

	size = sizeof REQ + extra * 32;
	buf = malloc(size);
	ck_assert_ptr_nonnull(buf);
	p = buf + snprintf(buf, size, "%s", RL HOST UPG CONN KEY VER);
	for (i = 0; i < extra; i++)
		p += snprintf(p, size - (p - buf), "X-Pad-%zu: %zu\r\n", i, i);
	snprintf(p, size - (p - buf), "\r\n");
	return buf;
}

START_TEST(test_limit_header_count)
{
	struct ws_request req;
	char		*buf;

	/* REQ has 5 headers: 95 more is exactly the limit. */
	buf = padded_request(WS_MAX_HEADERS - 5);
	parse_ok(buf, &req);
	ck_assert_uint_eq(req.nheaders, WS_MAX_HEADERS);
	ck_assert_str_eq(req.headers[WS_MAX_HEADERS - 1].name, "X-Pad-94");
	ws_request_free(&req);
	free(buf);

	buf = padded_request(WS_MAX_HEADERS - 4);
	ck_assert_int_eq(status_of(buf, strlen(buf)), 431);
	free(buf);

	buf = padded_request(20000);
	ck_assert_int_eq(status_of(buf, strlen(buf)), 431);
	free(buf);
}
END_TEST

START_TEST(test_limit_long_value)
{
	struct ws_request req;
	char		*buf, *p;
	size_t		 vlen = 1 << 20, i;

	buf = malloc(vlen + 512);
	ck_assert_ptr_nonnull(buf);
	p = buf + sprintf(buf, RL HOST UPG CONN KEY VER "X-Long: ");
	memset(p, 'v', vlen);
	p += vlen;
	strcpy(p, "\r\n\r\n");
	parse_ok(buf, &req);
	ck_assert_uint_eq(strlen(ws_request_header(&req, "X-Long")), vlen);
	ws_request_free(&req);

	/* A huge key is just an invalid key. */
	p = buf + sprintf(buf, RL HOST UPG CONN VER "Sec-WebSocket-Key: ");
	for (i = 0; i < vlen; i++)
		*p++ = "AQID"[i % 4];
	strcpy(p, "==\r\n\r\n");
	ck_assert_int_eq(status_of(buf, strlen(buf)), 400);

	/* So is a huge protocol list, which is still joined whole. */
	p = buf + sprintf(buf, RL HOST UPG CONN KEY VER
	    "Sec-WebSocket-Protocol: ");
	memset(p, 'p', vlen);
	p += vlen;
	strcpy(p, "\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
	parse_ok(buf, &req);
	ck_assert_uint_eq(strlen(req.protocols), vlen + 6);
	ck_assert_str_eq(req.protocols + vlen, ", chat");
	ws_request_free(&req);
	free(buf);
}
END_TEST

START_TEST(test_limit_long_target_and_name)
{
	struct ws_request req;
	char		*buf, *p;
	size_t		 n = 1 << 16;

	buf = malloc(n + 512);
	ck_assert_ptr_nonnull(buf);
	p = buf + sprintf(buf, "GET /");
	memset(p, 'a', n);
	p += n;
	strcpy(p, "?q HTTP/1.1\r\n" HOST UPG CONN KEY VER END);
	parse_ok(buf, &req);
	ck_assert_uint_eq(strlen(req.path), n + 1);
	ck_assert_str_eq(req.query, "q");
	ws_request_free(&req);

	p = buf + sprintf(buf, RL HOST UPG CONN KEY VER);
	memset(p, 'N', n);
	p += n;
	strcpy(p, ": v\r\n\r\n");
	parse_ok(buf, &req);
	ck_assert_uint_eq(strlen(req.headers[5].name), n);
	ws_request_free(&req);
	free(buf);
}
END_TEST

START_TEST(test_limit_head_end_long)
{
	char	*buf;
	size_t	 n = 1 << 20, scanned = 0, have, calls = 0;

	/* Dribbled input is scanned once: n calls stay linear. */
	buf = malloc(n + 4);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 'x', n);
	memcpy(buf + n, "\r\n\r\n", 4);
	for (have = 0; have < n; have += 4096) {
		ck_assert_uint_eq(ws_handshake_head_end(buf, have, &scanned),
		    0);
		calls++;
	}
	ck_assert_uint_eq(ws_handshake_head_end(buf, n + 3, &scanned), 0);
	ck_assert_uint_eq(ws_handshake_head_end(buf, n + 4, &scanned), n + 4);
	ck_assert_uint_eq(calls, n / 4096);
	free(buf);
}
END_TEST

Suite *
make_handshake_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("handshake");

	tc = tcase_create("Core");
	tcase_add_test(tc, test_accept_sample);
	tcase_add_test(tc, test_parse_rfc_sample);
	tcase_add_test(tc, test_parse_header_case);
	tcase_add_test(tc, test_parse_token_lists);
	tcase_add_test(tc, test_parse_ows_trimmed);
	tcase_add_test(tc, test_parse_lf_only);
	tcase_add_test(tc, test_parse_leading_empty_line);
	tcase_add_loop_test(tc, test_parse_targets, 0,
	    sizeof targets / sizeof targets[0]);
	tcase_add_test(tc, test_parse_joined_lists);
	tcase_add_loop_test(tc, test_parse_rejects, 0,
	    sizeof rejects / sizeof rejects[0]);
	tcase_add_test(tc, test_parse_nul);
	tcase_add_loop_test(tc, test_host_valid, 0,
	    sizeof hosts / sizeof hosts[0]);
	tcase_add_test(tc, test_parse_absolute_host);
	tcase_add_loop_test(tc, test_remove_dot_segments, 0,
	    sizeof dots / sizeof dots[0]);
	tcase_add_test(tc, test_request_header_first);
	tcase_add_test(tc, test_response_101);
	tcase_add_test(tc, test_response_101_protocol);
	tcase_add_test(tc, test_response_errors);
	tcase_add_test(tc, test_response_error_bad_status);
	tcase_add_test(tc, test_reasons);
	tcase_add_loop_test(tc, test_select_protocol, 0,
	    sizeof selects / sizeof selects[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("Chunking");
	tcase_add_loop_test(tc, test_head_end_chunkings, 0,
	    sizeof heads / sizeof heads[0]);
	tcase_add_test(tc, test_head_end_pipelined);
	tcase_add_test(tc, test_head_end_scanned_past_len);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_limit_header_count);
	tcase_add_test(tc, test_limit_long_value);
	tcase_add_test(tc, test_limit_long_target_and_name);
	tcase_add_test(tc, test_limit_head_end_long);
	suite_add_tcase(s, tc);
	return s;
}
