/*
 * cmd-show.c - the admin commands that show connections: the table of
 * them (connections) and one in full (connection), text or JSON, with
 * MaskSensitiveData applied.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "core/ws-handshake.h"
#include "event/conn.h"
#include "event/server.h"
#include "event/topics.h"

/*
 * A request URI as shown: with MaskSensitiveData, the SensitiveQueryParams
 * values masked as in the log (into buf). NULL stays NULL.
 */
static const char *
admin_masked(const char *s, char *buf, size_t len)
{
	if (s == NULL || !log_mask_on())
		return s;
	(void)log_mask_uri(s, buf, len);
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


