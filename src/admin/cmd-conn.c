/*
 * cmd-conn.c - the admin commands on connections: the table of them, one
 * in full, and those that act on one ConnectionId (disconnect, ping, send,
 * sendtext, sendfile, interrupt, linemode, timeout, pause, resume) or on
 * a route's WebSockets (broadcast). The dispatcher (admin_run) resolves
 * the target first; a ping or sendfile waits for the network here (the
 * pending ones are admin.waits).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "core/ws-frame.h"
#include "core/ws-handshake.h"
#include "core/ws-utf8.h"
#include "event/conn.h"
#include "event/server.h"
#include "event/topics.h"

/* Ping timeout when DefaultTimeout is 0, seconds. */
#define ADMIN_PING_TIMEOUT	10
/* Largest send payload: a line's worth of base64. */
#define ADMIN_SEND_MAX		(ADMIN_LINE_MAX / 4 * 3)

enum admin_wait_kind {
	WAIT_PING,
	WAIT_FILE,
	WAIT_EXT,		/* another file's (admin_wait_ext) */
};

/* A command waiting for the network: a pong, or a file to be queued. */
struct admin_wait {
	TAILQ_ENTRY(admin_wait)	 entry;
	enum admin_wait_kind	 kind;
	struct admin_client	*cl;		/* NULL once the client left */
	char			 conn[CONN_ID_MAX];	/* ConnectionId */
	char			 payload[64];
	size_t			 plen;
	struct timespec		 t0;
	struct event		*timer;
	int			 timeout;
	void			 (*cancel)(void *);	/* WAIT_EXT */
	void			*ctx;
};

/* ---------------------------------------------------------------- waits */

/* Ends a wait: replies (if its client is still there) and frees it. */
static void
admin_wait_done(struct admin_wait *w)
{
	struct admin_client	*cl = w->cl;

	TAILQ_REMOVE(&admin.waits, w, entry);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
	if (cl != NULL) {
		cl->wait = NULL;
		/* Not from here: we may be inside a connection's callback. */
		event_active(cl->kick, EV_TIMEOUT, 0);
	}
}

/* Its client left: the wait finishes without replying. */
void
admin_wait_forget(struct admin_wait *w)
{
	w->cl = NULL;
	if (w->kind == WAIT_EXT) {
		/* Nobody to reply to: the other file lets go now. */
		w->cancel(w->ctx);
		admin_wait_done(w);
	}
}

/* A wait of another file; see admin-int.h. */
struct admin_wait *
admin_wait_ext(struct admin_client *cl, void (*cancel)(void *), void *ctx)
{
	struct admin_wait	*w;

	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_EXT;
	w->cancel = cancel;
	w->ctx = ctx;
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
	return w;
}

/* Another file's wait is over (its reply written); see admin-int.h. */
void
admin_wait_end(struct admin_wait *w)
{
	admin_wait_done(w);
}

/* A pong came: the ping that waits for it (if one does) is answered. */
void
admin_wait_pong(struct conn *c, const uint8_t *data, size_t len)
{
	struct admin_wait	*w;
	struct timespec		 now;
	double			 ms;

	TAILQ_FOREACH(w, &admin.waits, entry) {
		if (w->kind == WAIT_PING && w->plen == len &&
		    memcmp(w->payload, data, len) == 0 &&
		    strcmp(w->conn, conn_id(c)) == 0)
			break;
	}
	if (w == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - w->t0.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - w->t0.tv_nsec) / 1e6;
	if (w->cl != NULL)
		admin_ok(w->cl, "pong from %s in %.3f ms", w->conn, ms);
	if (w->cl != NULL)
		admin_end(w->cl);
	admin_wait_done(w);
}

/* An opened WebSocket is gone: the pings waiting for it fail. */
void
admin_wait_gone(struct conn *c)
{
	struct admin_wait	*w, *next;

	for (w = TAILQ_FIRST(&admin.waits); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->kind != WAIT_PING || strcmp(w->conn, conn_id(c)) != 0)
			continue;
		if (w->cl != NULL)
			admin_err(w->cl, WSD_ERR_SEND, "error sending: "
			    "connection %s closed before the pong", w->conn);
		admin_wait_done(w);
	}
}

/*
 * The admin socket closes: every wait ends. A file still being sent is
 * interrupted, so that its callback finds its wait and ends it.
 */
void
admin_waits_stop(void)
{
	struct admin_wait	*w;
	struct conn		*c;

	while ((w = TAILQ_FIRST(&admin.waits)) != NULL) {
		if (w->kind == WAIT_FILE && (c = conn_find(w->conn)) != NULL &&
		    conn_interrupt(c) == 0)
			continue;
		if (w->kind == WAIT_EXT)
			w->cancel(w->ctx);
		admin_wait_done(w);
	}
}

/* ---------------------------------------------------------------- show */

/*
 * A request URI as shown: with MaskSensitiveData, the SensitiveQueryParams
 * values masked as in the log (into buf). NULL stays NULL.
 */
static const char *
admin_masked(const char *s, char *buf, size_t len)
{
	size_t	 n;

	if (s == NULL || !log_mask_on())
		return s;
	n = log_mask(s, strlen(s), buf, len - 1);
	buf[n] = '\0';
	return buf;
}

/* A request header's value as shown: "***" for sensitive ones when masking. */
static const char *
admin_header_value(const struct ws_header *h)
{
	return log_mask_on() && log_mask_header(h->name) ? "***" : h->value;
}

/* A string for a table cell or a text field: "-" when empty. */
static const char *
admin_cell(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

/*
 * The TLS session of a connection, or false for a plain one and for one
 * still in its TLS handshake (no session to show yet).
 */
static bool
admin_conn_tls(struct conn *c, struct tls_info *ti)
{
	if (!conn_is_tls(c) || conn_ssl(c) == NULL)
		return false;
	tls_get_info(conn_ssl(c), ti);
	return true;
}

/* Appends a TLS session's fields, named as the reference's settings. */
static void
admin_tls_json(struct evbuffer *b, bool *first, const struct tls_info *ti)
{
	admin_json_kv(b, first, "SSLNegotiatedVersion", ti->version);
	admin_json_kv(b, first, "SSLNegotiatedCipher", ti->cipher);
	admin_json_kv(b, first, "SSLNegotiatedCipherSuite", ti->cipher_suite);
	admin_json_kn(b, first, "SSLNegotiatedCipherStrength",
	    (unsigned long long)(ti->cipher_strength > 0 ?
	    ti->cipher_strength : 0));
	admin_json_kv(b, first, "SSLNegotiatedKeyExchange", ti->key_exchange);
	admin_json_kn(b, first, "SSLNegotiatedKeyExchangeStrength",
	    (unsigned long long)(ti->key_exchange_strength > 0 ?
	    ti->key_exchange_strength : 0));
	admin_json_kv(b, first, "SNI", ti->sni);
	admin_json_kv(b, first, "ClientCertStatus", ti->client_verify);
	admin_json_kv(b, first, "ClientCertSubject", ti->client_subject);
	admin_json_kv(b, first, "ClientCertIssuer", ti->client_issuer);
}

/* Writes a TLS session's fields as "Name: value" lines ("-" when empty). */
static void
admin_tls_lines(struct admin_client *cl, const struct tls_info *ti)
{
	admin_line(cl, "SSLNegotiatedVersion: %s", admin_cell(ti->version));
	admin_line(cl, "SSLNegotiatedCipher: %s", admin_cell(ti->cipher));
	admin_line(cl, "SSLNegotiatedCipherSuite: %s",
	    admin_cell(ti->cipher_suite));
	admin_line(cl, "SSLNegotiatedCipherStrength: %d",
	    ti->cipher_strength > 0 ? ti->cipher_strength : 0);
	admin_line(cl, "SSLNegotiatedKeyExchange: %s",
	    admin_cell(ti->key_exchange));
	admin_line(cl, "SSLNegotiatedKeyExchangeStrength: %d",
	    ti->key_exchange_strength > 0 ? ti->key_exchange_strength : 0);
	admin_line(cl, "SNI: %s", admin_cell(ti->sni));
	admin_line(cl, "ClientCertStatus: %s", admin_cell(ti->client_verify));
	admin_line(cl, "ClientCertSubject: %s",
	    admin_cell(ti->client_subject));
	admin_line(cl, "ClientCertIssuer: %s", admin_cell(ti->client_issuer));
}

/* One topic of a connection, as a data line. */
static void
admin_topic_line(void *arg, const char *topic, size_t len)
{
	admin_line(arg, "  %.*s", (int)len, topic);
}

/* One topic of a connection, as a JSON string in an array. */
static void
admin_topic_json(void *arg, const char *topic, size_t len)
{
	struct evbuffer	*b = arg;

	if (evbuffer_get_length(b) > 0)
		evbuffer_add(b, ",", 1);
	admin_json_string(b, topic, len);
}

/*
 * Appends one connection as a JSON object; full adds the TLS session and
 * the request headers.
 */
static void
admin_conn_json(struct evbuffer *b, struct conn *c, bool full)
{
	const struct ws_request	*req = conn_request(c);
	const char		*sp = conn_subprotocol(c);
	const char		*v;
	struct evbuffer		*t;
	struct conn_info	 ci;
	struct tls_info		 ti;
	bool			 first = true;
	size_t			 i;
	char			 mbuf[2048];

	conn_get_info(c, &ci);
	evbuffer_add(b, "{", 1);
	admin_json_kv(b, &first, "ConnectionId", ci.id);
	admin_json_kv(b, &first, "RemoteHost", conn_remote_addr(c));
	admin_json_kn(b, &first, "RemotePort",
	    (unsigned long long)conn_remote_port(c));
	admin_json_kv(b, &first, "LocalAddress", conn_local_addr(c));
	admin_json_kn(b, &first, "LocalPort",
	    (unsigned long long)conn_local_port(c));
	admin_json_kv(b, &first, "Host", req->host);
	admin_json_kv(b, &first, "Origin", req->origin);
	admin_json_kv(b, &first, "RequestURI", admin_masked(req->uri, mbuf,
	    sizeof(mbuf)));
	admin_json_kv(b, &first, "SubProtocols", req->protocols);
	admin_json_kv(b, &first, "SubProtocol", sp);
	admin_json_kb(b, &first, "Connected", ci.connected);
	admin_json_kb(b, &first, "AcceptData", ci.accept_data);
	admin_json_kn(b, &first, "BytesSent", ci.bytes_out);
	admin_json_kb(b, &first, "LineMode", ci.line_mode);
	admin_json_kb(b, &first, "ReadyToSend", ci.ready_to_send);
	admin_json_kn(b, &first, "Timeout", (unsigned long long)ci.timeout);
	admin_json_kv(b, &first, "State", ci.state);
	admin_json_kv(b, &first, "Route", ci.route);
	evbuffer_add_printf(b, ",\"Age\":%llu.%03llu", ci.age_ms / 1000,
	    ci.age_ms % 1000);
	admin_json_kn(b, &first, "BytesIn", ci.bytes_in);
	admin_json_kn(b, &first, "BytesOut", ci.bytes_out);
	admin_json_kn(b, &first, "MessagesIn", ci.msgs_in);
	admin_json_kn(b, &first, "MessagesOut", ci.msgs_out);
	admin_json_kb(b, &first, "SendingFile", ci.sending_file);
	if (full) {
		admin_json_kb(b, &first, "tls", conn_is_tls(c));
		if (admin_conn_tls(c, &ti))
			admin_tls_json(b, &first, &ti);
		evbuffer_add(b, ",\"RequestHeaders\":[", 19);
		for (i = 0; i < req->nheaders; i++) {
			evbuffer_add(b, i > 0 ? ",[" : "[", i > 0 ? 2 : 1);
			admin_json_string(b, req->headers[i].name,
			    strlen(req->headers[i].name));
			evbuffer_add(b, ",", 1);
			v = admin_header_value(&req->headers[i]);
			admin_json_string(b, v, strlen(v));
			evbuffer_add(b, "]", 1);
		}
		evbuffer_add(b, "]", 1);
		t = xevbuffer_new();
		topics_conn_each(c, admin_topic_json, t);
		evbuffer_add(b, ",\"Topics\":[", 11);
		evbuffer_add_buffer(b, t);
		evbuffer_add(b, "]", 1);
		evbuffer_free(t);
	}
	evbuffer_add(b, "}", 1);
}

/* connections [json] (cmd-fleet.c takes --all) */
void
admin_exec_connections(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	const struct ws_request	*req;
	struct evbuffer		*b;
	struct conn		*c;
	struct conn_info	 ci;
	char			 remote[80], mbuf[2048];

	if (r->json) {
		b = admin_json_begin(cl);
		evbuffer_add(b, "[", 1);
		for (c = conn_first(); c != NULL; c = conn_next(c)) {
			if (c != conn_first())
				evbuffer_add(b, ",", 1);
			admin_conn_json(b, c, false);
		}
		evbuffer_add(b, "]", 1);
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, "%u connection(s)", admin_nconns());
	admin_line(cl, "%-8s %-21s %-9s %-10s %8s %8s %8s %10s %10s %-5s %s",
	    "ID", "REMOTE", "STATE", "ROUTE", "AGE", "MSGS_IN", "MSGS_OUT",
	    "BYTES_IN", "BYTES_OUT", "FLAGS", "URI");
	for (c = conn_first(); c != NULL; c = conn_next(c)) {
		conn_get_info(c, &ci);
		req = conn_request(c);
		snprintf(remote, sizeof(remote), "%s:%d", conn_remote_addr(c),
		    conn_remote_port(c));
		admin_line(cl, "%-8s %-21s %-9s %-10.10s %6llu.%01llu %8llu "
		    "%8llu %10llu %10llu %c%c%c%c  %.512s", ci.id, remote,
		    ci.state, admin_cell(ci.route), ci.age_ms / 1000,
		    ci.age_ms % 1000 / 100, (unsigned long long)ci.msgs_in,
		    (unsigned long long)ci.msgs_out,
		    (unsigned long long)ci.bytes_in,
		    (unsigned long long)ci.bytes_out,
		    ci.accept_data ? 'A' : '-', ci.line_mode ? 'L' : '-',
		    ci.ready_to_send ? 'R' : '-', ci.sending_file ? 'F' : '-',
		    admin_cell(admin_masked(req->uri, mbuf, sizeof(mbuf))));
	}
	admin_end(cl);
}

/* connection ID [json] */
void
admin_exec_connection(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	const struct ws_request	*req;
	struct conn		*c = t->conn;
	struct conn_info	 ci;
	struct tls_info		 ti;
	size_t			 i;
	char			 mbuf[2048];

	if (r->json) {
		admin_conn_json(admin_json_begin(cl), c, true);
		admin_json_end(cl);
		return;
	}
	conn_get_info(c, &ci);
	req = conn_request(c);
	admin_ok(cl, NULL);
	admin_line(cl, "ConnectionId: %s", ci.id);
	admin_line(cl, "RemoteHost: %s", conn_remote_addr(c));
	admin_line(cl, "RemotePort: %d", conn_remote_port(c));
	admin_line(cl, "LocalAddress: %s", conn_local_addr(c));
	admin_line(cl, "LocalPort: %d", conn_local_port(c));
	admin_line(cl, "Host: %.1024s", admin_cell(req->host));
	admin_line(cl, "Origin: %.1024s", admin_cell(req->origin));
	admin_line(cl, "RequestURI: %.1024s", admin_cell(admin_masked(req->uri,
	    mbuf, sizeof(mbuf))));
	admin_line(cl, "SubProtocols: %.1024s", admin_cell(req->protocols));
	admin_line(cl, "SubProtocol: %s", admin_cell(conn_subprotocol(c)));
	admin_line(cl, "Connected: %s", ci.connected ? "True" : "False");
	admin_line(cl, "AcceptData: %s", ci.accept_data ? "True" : "False");
	admin_line(cl, "BytesSent: %llu", (unsigned long long)ci.bytes_out);
	admin_line(cl, "LineMode: %s", ci.line_mode ? "True" : "False");
	admin_line(cl, "ReadyToSend: %s", ci.ready_to_send ? "True" :
	    "False");
	admin_line(cl, "Timeout: %d", ci.timeout);
	admin_line(cl, "State: %s", ci.state);
	admin_line(cl, "Route: %s", admin_cell(ci.route));
	admin_line(cl, "Age: %llu.%03llu s", ci.age_ms / 1000,
	    ci.age_ms % 1000);
	admin_line(cl, "BytesIn: %llu", (unsigned long long)ci.bytes_in);
	admin_line(cl, "BytesOut: %llu", (unsigned long long)ci.bytes_out);
	admin_line(cl, "MessagesIn: %llu", (unsigned long long)ci.msgs_in);
	admin_line(cl, "MessagesOut: %llu", (unsigned long long)ci.msgs_out);
	admin_line(cl, "SendingFile: %s", ci.sending_file ? "True" : "False");
	admin_line(cl, "TLS: %s", conn_is_tls(c) ? "yes" : "no");
	if (admin_conn_tls(c, &ti))
		admin_tls_lines(cl, &ti);
	admin_line(cl, "RequestHeaders:");
	for (i = 0; i < req->nheaders; i++)
		admin_line(cl, "  %.256s: %.1500s", req->headers[i].name,
		    admin_header_value(&req->headers[i]));
	admin_line(cl, "Topics:");
	topics_conn_each(c, admin_topic_line, cl);
	admin_end(cl);
}


/* ---------------------------------------------------------------- act */

/*
 * A close code for "disconnect": the core's rule (ws_close_code_valid),
 * for a number that fits an int. Returns -1 when s is none.
 */
static int
admin_close_code(const char *s, int *code)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	/* Range first: a long past int must not wrap into a code. */
	if (*s == '\0' || *end != '\0' || errno != 0 || v < INT_MIN ||
	    v > INT_MAX || !ws_close_code_valid((int)v))
		return -1;
	*code = (int)v;
	return 0;
}

/* disconnect: CODE and REASON are checked before the ConnectionId. */
int
admin_check_disconnect(struct admin_client *cl, const struct admin_req *r)
{
	const char	*reason;
	int		 code;

	if (r->argc >= 2 && admin_close_code(r->argv[1], &code) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "invalid close code \"%.16s\" "
		    "(use 1000-1003, 1007-1014 or 3000-4999)", r->argv[1]);
		return -1;
	}
	if (r->argc == 3) {
		reason = r->argv[2];
		if (strlen(reason) > 123 || !ws_utf8_valid(
		    (const uint8_t *)reason, strlen(reason))) {
			admin_err(cl, WSD_ERR_VALUE, "the reason must be "
			    "UTF-8 of at most 123 bytes");
			return -1;
		}
	}
	return 0;
}

/* disconnect ID [CODE [REASON]] */
void
admin_exec_disconnect(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct conn_info ci;
	const char	*reason = r->argc == 3 ? r->argv[2] : NULL;
	int		 code = 0;

	if (r->argc >= 2)
		(void)admin_close_code(r->argv[1], &code);
	conn_get_info(t->conn, &ci);
	if (strcmp(ci.state, "closing") == 0 ||
	    strcmp(ci.state, "draining") == 0) {
		admin_ok(cl, "%s is already closing", r->argv[0]);
		admin_end(cl);
		return;
	}
	conn_close(t->conn, code, reason);
	admin_ok(cl, "closing %s", r->argv[0]);
	admin_end(cl);
}

/* Ping timer: no pong in time. */
static void
admin_ping_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_wait	*w = arg;

	if (w->cl != NULL)
		admin_err(w->cl, WSD_ERR_TIMEOUT, "no pong from %s within %d "
		    "s", w->conn, w->timeout);
	admin_wait_done(w);
}

/* Checks that c is an open WebSocket, or replies 4202. */
static bool
admin_conn_open(struct admin_client *cl, struct conn *c)
{
	struct conn_info	ci;

	conn_get_info(c, &ci);
	if (!ci.connected) {
		admin_err(cl, WSD_ERR_SEND, "error sending: connection %s is "
		    "not an open WebSocket (%s)", ci.id, ci.state);
		return false;
	}
	return true;
}

/* ping ID */
void
admin_exec_ping(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct admin_wait	*w;
	struct conn		*c = t->conn;
	struct timeval		 tv;
	int			 secs;

	if (!admin_conn_open(cl, c))
		return;
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_PING;
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->plen = (size_t)snprintf(w->payload, sizeof(w->payload),
	    "wsserverd-admin-ping-%llu", ++admin.ping_seq);
	secs = server_config(admin.srv)->default_timeout;
	w->timeout = secs > 0 ? secs : ADMIN_PING_TIMEOUT;
	if (conn_ping(c, w->payload, w->plen) == -1) {
		free(w);
		admin_err(cl, WSD_ERR_SEND, "error sending the ping to %s",
		    r->argv[0]);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	w->timer = evtimer_new(admin.base, admin_ping_timeout_cb, w);
	tv.tv_sec = w->timeout;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
}

/* Queues a whole message from the admin; replies the outcome. */
static void
admin_send_message(struct admin_client *cl, struct conn *c,
    enum ws_msg_type type, const void *data, size_t len)
{
	switch (conn_send_admin(c, type, data, len)) {
	case 0:
		admin_ok(cl, "queued %zu bytes to %s", len, conn_id(c));
		admin_end(cl);
		break;
	case -2:
		admin_err(cl, WSD_ERR_BUSY, "connection %s is sending "
		    "another message (a sendfile, or a fragmented backend "
		    "message)", conn_id(c));
		break;
	case -3:
		admin_err(cl, WSD_ERR_SEND, "error sending: the output queue "
		    "of %s is full", conn_id(c));
		break;
	default:
		admin_err(cl, WSD_ERR_SEND, "error sending: connection %s is "
		    "not an open WebSocket", conn_id(c));
		break;
	}
}

/* send ID BASE64 */
void
admin_exec_send(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	uint8_t		 data[ADMIN_SEND_MAX];
	ssize_t		 n;

	if ((n = admin_base64_decode(r->argv[1], strlen(r->argv[1]), data,
	    sizeof(data))) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "invalid base64");
		return;
	}
	admin_send_message(cl, t->conn, WS_MSG_BINARY, data, (size_t)n);
}

/* sendtext ID TEXT */
void
admin_exec_sendtext(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	size_t		 len = strlen(r->argv[1]);

	if (!ws_utf8_valid((const uint8_t *)r->argv[1], len)) {
		admin_err(cl, WSD_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	admin_send_message(cl, t->conn, WS_MSG_TEXT, r->argv[1], len);
}

/* Conn callback: a sendfile ended; reply to the client that started it. */
static void
admin_file_done(void *arg, enum conn_file_status st, uint64_t bytes, int err)
{
	struct admin_wait	*w = arg;
	struct admin_client	*cl = w->cl;

	if (cl != NULL) {
		switch (st) {
		case CONN_FILE_DONE:
			admin_ok(cl, "sent %llu bytes to %s",
			    (unsigned long long)bytes, w->conn);
			admin_end(cl);
			break;
		case CONN_FILE_INTERRUPTED:
			admin_err(cl, WSD_ERR_INTERRUPTED, "interrupted "
			    "after %llu bytes", (unsigned long long)bytes);
			break;
		case CONN_FILE_ERROR:
			admin_err(cl, WSD_ERR_FILE, "read error after %llu "
			    "bytes: %s", (unsigned long long)bytes,
			    strerror(err));
			break;
		case CONN_FILE_CLOSED:
			admin_err(cl, WSD_ERR_SEND, "error sending: connection "
			    "%s closed after %llu bytes", w->conn,
			    (unsigned long long)bytes);
			break;
		}
	}
	log_info("admin: sendfile to %s ended after %llu bytes (%s)", w->conn,
	    (unsigned long long)bytes, st == CONN_FILE_DONE ? "done" :
	    st == CONN_FILE_INTERRUPTED ? "interrupted" :
	    st == CONN_FILE_ERROR ? "read error" : "connection closed");
	admin_wait_done(w);
}

/* sendfile ID PATH */
void
admin_exec_sendfile(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct admin_wait	*w;
	struct conn		*c = t->conn;
	struct stat		 sb;
	int			 fd, rc;

	if (!admin_conn_open(cl, c))
		return;
	if ((fd = open(r->argv[1], O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		admin_err(cl, WSD_ERR_FILE, "%.1024s: %s", r->argv[1],
		    strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		admin_err(cl, WSD_ERR_FILE, "%.1024s: not a regular file",
		    r->argv[1]);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_FILE;
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
	/* done may run before this returns (a small file): w is gone then. */
	if ((rc = conn_sendfile(c, fd, admin_file_done, w)) != 0) {
		close(fd);
		TAILQ_REMOVE(&admin.waits, w, entry);
		cl->wait = NULL;
		free(w);
		if (rc == -2)
			admin_err(cl, WSD_ERR_BUSY, "connection %s is "
			    "sending another message", r->argv[0]);
		else
			admin_err(cl, WSD_ERR_SEND, "error sending: connection "
			    "%s is not open", r->argv[0]);
	}
}

/* interrupt ID */
void
admin_exec_interrupt(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	if (conn_interrupt(t->conn) == -1) {
		admin_err(cl, WSD_ERR_NOFILE, "no sendfile in progress on %s",
		    r->argv[0]);
		return;
	}
	admin_ok(cl, "interrupted the sendfile to %s", r->argv[0]);
	admin_end(cl);
}

/* True if a connection's route is the one named (by name or path). */
static bool
admin_route_matches(struct conn *c, const char *route)
{
	const struct config	*cfg = server_config(admin.srv);
	struct conn_info	 ci;
	size_t			 i;

	if (strcmp(route, "*") == 0)
		return true;
	conn_get_info(c, &ci);
	if (strcmp(ci.route, route) == 0)
		return true;
	for (i = 0; i < cfg->nroutes; i++) {
		if (cfg->routes[i].path != NULL &&
		    strcmp(cfg->routes[i].path, route) == 0 &&
		    strcmp(cfg->routes[i].name, ci.route) == 0)
			return true;
	}
	return false;
}

/* broadcast [ROUTE|*] TEXT: the text is what follows the route, if named. */
void
admin_exec_broadcast(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct conn		*c;
	struct conn_info	 ci;
	const char		*text = r->tail[t->first];
	unsigned int		 sent = 0, busy = 0, full = 0;

	if (!ws_utf8_valid((const uint8_t *)text, strlen(text))) {
		admin_err(cl, WSD_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	for (c = conn_first(); c != NULL; c = conn_next(c)) {
		conn_get_info(c, &ci);
		if (!ci.connected || !admin_route_matches(c, t->route))
			continue;
		switch (conn_send_admin(c, WS_MSG_TEXT, text, strlen(text))) {
		case 0:
			sent++;
			break;
		case -2:
			busy++;
			break;
		default:
			full++;
			break;
		}
	}
	admin_ok(cl, "sent to %u connection(s)", sent);
	if (busy > 0 || full > 0)
		admin_line(cl, "skipped %u busy and %u with a full queue", busy,
		    full);
	admin_end(cl);
}

/* linemode: on|off is checked before the ConnectionId. */
int
admin_check_linemode(struct admin_client *cl, const struct admin_req *r)
{
	bool	 on;

	if (config_parse_bool(r->argv[1], &on) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "use on or off, not \"%.16s\"",
		    r->argv[1]);
		return -1;
	}
	return 0;
}

/* linemode ID on|off */
void
admin_exec_linemode(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	bool	 on = false;

	(void)config_parse_bool(r->argv[1], &on);
	conn_set_line_mode(t->conn, on);
	admin_ok(cl, "LineMode of %s is %s", r->argv[0], on ? "True" :
	    "False");
	admin_end(cl);
}

/* A send timeout for "timeout": 0-86400 seconds. Returns -1 when s is none. */
static int
admin_seconds(const char *s, long *secs)
{
	char	*end;

	errno = 0;
	*secs = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *secs < 0 ||
	    *secs > 86400)
		return -1;
	return 0;
}

/* timeout: SECONDS is checked before the ConnectionId. */
int
admin_check_timeout(struct admin_client *cl, const struct admin_req *r)
{
	long	 secs;

	if (admin_seconds(r->argv[1], &secs) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "timeout must be 0-86400 seconds, "
		    "not \"%.16s\"", r->argv[1]);
		return -1;
	}
	return 0;
}

/* timeout ID SECONDS: the connection's Timeout (send timeout). */
void
admin_exec_timeout(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	long	 secs = 0;

	(void)admin_seconds(r->argv[1], &secs);
	conn_set_timeout(t->conn, (int)secs);
	admin_ok(cl, "Timeout of %s is %ld", r->argv[0], secs);
	admin_end(cl);
}

/* pause ID and resume ID: AcceptData off and on. */
static void
admin_accept_data(struct admin_client *cl, const struct admin_req *r,
    struct conn *c, bool on)
{
	conn_set_accept_data(c, on);
	admin_ok(cl, "AcceptData of %s is %s", r->argv[0], on ? "True" :
	    "False");
	admin_end(cl);
}

/* pause ID */
void
admin_exec_pause(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	admin_accept_data(cl, r, t->conn, false);
}

/* resume ID */
void
admin_exec_resume(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	admin_accept_data(cl, r, t->conn, true);
}
