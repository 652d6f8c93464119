/* check_admit.c - unit tests for conn-admit.c: the rules that admit a WebSocket upgrade. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "check_suites.h"
#include "conf/config.h"
#include "core/ws-handshake.h"
#include "event/conn-admit.h"

/* A request with these extra header lines, parsed into req. */
static void
request(struct ws_request *req, const char *extra)
{
	char		 buf[2048];
	const char	*cause;
	int		 n, status;

	n = snprintf(buf, sizeof(buf), "GET /r HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "%s\r\n", extra);
	memset(req, 0, sizeof(*req));
	ck_assert_int_eq(ws_handshake_parse(buf, (size_t)n, req, &status,
	    &cause), 0);
}

/* A route as the config would make it: echo, no limits, "*" origins. */
static void
route(struct route *r)
{
	memset(r, 0, sizeof(*r));
	r->name = "r";
	r->path = "/r";
	r->subprotocols = "";
	r->open_hook = "";
}

START_TEST(test_admit_plain)
{
	struct config		*cfg = config_defaults();
	struct ws_request	 req;
	struct route		 r;
	struct conn_admission	 a;
	char			*cause = NULL;

	request(&req, "");
	route(&r);
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 101);
	ck_assert_str_eq(a.proto, "");
	ck_assert(!a.deflate);
	ck_assert(a.resp_len > 0 && a.resp_len == strlen(a.resp));
	ck_assert(strncmp(a.resp, "HTTP/1.1 101 ", 13) == 0);
	ck_assert(strstr(a.resp, "Sec-WebSocket-Accept: "
	    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
	ck_assert(strstr(a.resp, "Sec-WebSocket-Protocol") == NULL);
	ws_request_free(&req);
	config_free(cfg);
}
END_TEST

START_TEST(test_admit_origins)
{
	struct config		*cfg = config_defaults();
	struct ws_request	 req;
	struct route		 r;
	struct conn_admission	 a;
	char			*cause = NULL;

	request(&req, "Origin: https://evil.test\r\n");
	route(&r);
	r.origins = "https://good.test";
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 403);
	ck_assert_str_eq(cause, "origin not allowed");
	free(cause);
	r.origins = "https://good.test, *";
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 101);
	ws_request_free(&req);

	/* "same": the Origin names the Host, default ports ignored. */
	ck_assert(conn_origin_allowed("same", "http://example.com",
	    "example.com", false));
	ck_assert(conn_origin_allowed("same", "http://EXAMPLE.com:80",
	    "example.com:80", false));
	ck_assert(conn_origin_allowed("same", "https://example.com",
	    "example.com:443", true));
	ck_assert(!conn_origin_allowed("same", "https://example.com:8443",
	    "example.com", true));
	ck_assert(!conn_origin_allowed("same", "http://example.com.evil",
	    "example.com", false));
	/* No Origin (not a browser) and no list are allowed. */
	ck_assert(conn_origin_allowed("https://a.test", NULL, "x", false));
	ck_assert(conn_origin_allowed(NULL, "https://b.test", "x", false));
	/* One origin each, case-insensitively; no prefix matches. */
	ck_assert(conn_origin_allowed("https://a.test https://B.test",
	    "https://b.TEST", "x", false));
	ck_assert(!conn_origin_allowed("https://a.test",
	    "https://a.test.evil", "x", false));
	config_free(cfg);
}
END_TEST

START_TEST(test_admit_route_limit)
{
	struct config		*cfg = config_defaults();
	struct ws_request	 req;
	struct route		 r;
	struct conn_admission	 a;
	char			*cause = NULL;

	request(&req, "");
	route(&r);
	r.max_connections = 2;
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 1, &a, &cause), 101);
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 2, &a, &cause), 429);
	ck_assert_str_eq(cause, "route MaxConnections reached");
	free(cause);
	r.max_connections = 0;
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 99999, &a, &cause),
	    101);
	ws_request_free(&req);
	config_free(cfg);
}
END_TEST

START_TEST(test_admit_subprotocol)
{
	struct config		*cfg = config_defaults();
	struct ws_request	 req;
	struct route		 r;
	struct conn_admission	 a;
	char			*cause = NULL;

	request(&req, "Sec-WebSocket-Protocol: superchat, chat\r\n");
	route(&r);
	r.subprotocols = "chat, superchat";
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 101);
	/* The server's order of preference decides. */
	ck_assert_str_eq(a.proto, "chat");
	ck_assert(strstr(a.resp, "Sec-WebSocket-Protocol: chat\r\n") != NULL);
	r.subprotocols = "mqtt";
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 101);
	ck_assert_str_eq(a.proto, "");
	ck_assert(strstr(a.resp, "Sec-WebSocket-Protocol") == NULL);
	ws_request_free(&req);
	config_free(cfg);
}
END_TEST

START_TEST(test_admit_deflate)
{
	struct config		*cfg = config_defaults();
	struct ws_request	 req;
	struct route		 r;
	struct conn_admission	 a;
	char			*cause = NULL;

	request(&req, "Sec-WebSocket-Extensions: permessage-deflate; "
	    "client_max_window_bits\r\n");
	route(&r);
	cfg->enable_permessage_deflate = true;
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 101);
	ck_assert(a.deflate);
	ck_assert(strstr(a.resp, "Sec-WebSocket-Extensions: "
	    "permessage-deflate") != NULL);
	cfg->enable_permessage_deflate = false;
	ck_assert_int_eq(conn_admit(cfg, &r, &req, false, 0, &a, &cause), 101);
	ck_assert(!a.deflate);
	ck_assert(strstr(a.resp, "Sec-WebSocket-Extensions") == NULL);
	ws_request_free(&req);
	config_free(cfg);
}
END_TEST

START_TEST(test_verdict_lines)
{
	struct evbuffer	*out = evbuffer_new();
	const char	*why = NULL;
	char		 proto[32];
	size_t		 n;
	static const char ok[] = "Status: 200 OK\n"
	    "X-User:  alice \r\n"
	    "\n"
	    "Sec-WebSocket-Protocol: chat\n"
	    "Set-Cookie: a=b";

	proto[0] = '\0';
	ck_assert_int_eq(conn_verdict_lines(ok, sizeof(ok) - 1, out, proto,
	    sizeof(proto), &why), 0);
	ck_assert_str_eq(proto, "chat");
	n = evbuffer_get_length(out);
	ck_assert_int_eq(n, strlen("X-User: alice\r\nSet-Cookie: a=b\r\n"));
	ck_assert(memcmp(evbuffer_pullup(out, -1),
	    "X-User: alice\r\nSet-Cookie: a=b\r\n", n) == 0);

	/* The daemon's own headers, bad names, control bytes, no colon. */
#define BAD(s, w) do {							\
	why = NULL;							\
	ck_assert_int_eq(conn_verdict_lines(s, strlen(s), out, proto,	\
	    sizeof(proto), &why), -1);					\
	ck_assert_str_eq(why, w);					\
} while (0)
	BAD("Upgrade: h2c\n", "header the daemon sets itself, or a bad name");
	BAD("sec-websocket-accept: x\n",
	    "header the daemon sets itself, or a bad name");
	BAD("Content-Length: 5\n",
	    "header the daemon sets itself, or a bad name");
	BAD("Bad Name: x\n", "header the daemon sets itself, or a bad name");
	BAD("X-A: b\001c\n", "control character in a header value");
	BAD("X-A: b\x7f\n", "control character in a header value");
	BAD("no colon here\n", "header line without a colon");
	BAD("Sec-WebSocket-Protocol: a, b\n", "bad Sec-WebSocket-Protocol");
	BAD("Sec-WebSocket-Protocol:\n", "bad Sec-WebSocket-Protocol");
#undef BAD
	evbuffer_free(out);
}
END_TEST

START_TEST(test_verdict_resp)
{
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Protocol: chat\r\n"
	    "\r\n";
	struct evbuffer	*extra = evbuffer_new();
	char		*r;
	size_t		 len;

	evbuffer_add_printf(extra, "X-A: 1\r\n");
	r = conn_verdict_resp(resp, sizeof(resp) - 1, "superchat", extra, &len);
	ck_assert_int_eq(len, strlen("HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Protocol: superchat\r\n"
	    "X-A: 1\r\n"
	    "\r\n"));
	ck_assert(memcmp(r, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Sec-WebSocket-Protocol: superchat\r\n"
	    "X-A: 1\r\n"
	    "\r\n", len) == 0);
	free(r);
	/* No new subprotocol: the old one stays. */
	r = conn_verdict_resp(resp, sizeof(resp) - 1, "", extra, &len);
	ck_assert_int_eq(len, sizeof(resp) - 1);
	ck_assert(memcmp(r, resp, len) == 0);
	free(r);
	evbuffer_free(extra);
}
END_TEST

Suite *
make_admit_suite(void)
{
	Suite	*s = suite_create("admit");
	TCase	*tc = tcase_create("Core");

	tcase_add_test(tc, test_admit_plain);
	tcase_add_test(tc, test_admit_origins);
	tcase_add_test(tc, test_admit_route_limit);
	tcase_add_test(tc, test_admit_subprotocol);
	tcase_add_test(tc, test_admit_deflate);
	tcase_add_test(tc, test_verdict_lines);
	tcase_add_test(tc, test_verdict_resp);
	suite_add_tcase(s, tc);
	return s;
}
