/* pump.c - WebSocket messages to and from a byte-stream backend (script, unix: stream). */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "backend/pump.h"
#include "base/log.h"
#include "conf/config.h"
#include "event/conn.h"
#include "event/topics.h"

static int	pump_piece(void *, enum ws_msg_type, const uint8_t *, size_t,
		    bool, bool);
static void	pump_peer_close(void *, int, const char *, size_t);
static int	pump_ping(void *, const uint8_t *, size_t);
static int	pump_subscribe(void *, const char *, size_t, bool);
static int	pump_publish(void *, const char *, size_t, enum ws_msg_type,
		    const uint8_t *, size_t);

/* Where decoded output goes. */
static const struct msgstream_sink pump_sink = {
	.piece = pump_piece,
	.close = pump_peer_close,
	.ping = pump_ping,
	.subscribe = pump_subscribe,
	.publish = pump_publish,
};

/* Sets a pump up for a new WebSocket on route. */
void
pump_init(struct pump *p, struct conn *conn, const struct route *route,
    const char *id, const char *noun, const char *label,
    const struct pump_ops *ops, void *owner)
{
	memset(p, 0, sizeof(*p));
	p->conn = conn;
	p->id = id;
	p->noun = noun;
	p->label = label;
	p->format = route->format;
	msgstream_init(&p->dec, route->format);
	msgstream_set_data(&p->dec, (enum data_format)route->data_format);
	p->ops = ops;
	p->owner = owner;
}

/* Ends the WebSocket through the owner. */
static void
pump_end(struct pump *p, int code, const char *reason)
{
	if (p->conn != NULL)
		p->ops->end(p->owner, code, reason);
}

/* A piece of a client message, to the backend in the route's format. */
void
pump_message(struct pump *p, struct evbuffer *to, enum ws_msg_type type,
    const uint8_t *data, size_t len, bool last)
{
	if (p->conn == NULL)
		return;
	if (p->format == FORMAT_LINES && type == WS_MSG_BINARY) {
		log_info("%s binary message in lines mode", p->id);
		pump_end(p, 1003, "binary message in lines mode");
		return;
	}
	if (to == NULL)
		return;		/* the backend no longer reads */
	if (last && conn_line_cut(p->conn))
		(void)msgstream_encode_cut(p->format, to, type, data, len);
	else
		(void)msgstream_encode(p->format, to, type, data, len, last);
	if (!p->in_paused && evbuffer_get_length(to) > PUMP_TO_HIGH) {
		p->in_paused = true;
		conn_pause_input(p->conn);
	}
}

/* A ping or a pong from the client, for a framed backend. */
void
pump_ping_event(struct pump *p, struct evbuffer *to, bool pong,
    const uint8_t *data, size_t len)
{
	if (p->conn != NULL && to != NULL)
		msgstream_encode_ping(p->format, to, pong, data, len);
}

/* The backend's queue drained to len bytes. */
void
pump_to_drained(struct pump *p, size_t len)
{
	if (p->in_paused && p->conn != NULL && len <= PUMP_TO_LOW) {
		p->in_paused = false;
		conn_resume_input(p->conn);
	}
}

/*
 * Detaches from the connection (which resumes its input itself when its
 * backend lets go).
 */
void
pump_detach(struct pump *p)
{
	p->in_paused = false;
	p->out_blocked = false;
	p->conn = NULL;
}

/*
 * msgstream sink: one piece to the client, text validated incrementally
 * (a message may be streamed in pieces). Returns 0; 1 when the client's
 * queue is full; -1 when detached now (invalid UTF-8 ended the
 * WebSocket, or the connection closed us).
 */
static int
pump_piece(void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct pump	*p = arg;
	char		 reason[64];

	if (p->conn == NULL)
		return -1;
	if (type == WS_MSG_TEXT) {
		if (first)
			ws_utf8_init(&p->utf8);
		if (ws_utf8_feed(&p->utf8, data, len) == -1 ||
		    (last && !ws_utf8_complete(&p->utf8))) {
			log_error("%s %s wrote invalid UTF-8", p->id, p->label);
			snprintf(reason, sizeof(reason), "%s wrote invalid UTF-8",
			    p->noun);
			pump_end(p, 1011, reason);
			return -1;
		}
	}
	/* -1: the WebSocket is closing and our owner's close is on its way. */
	(void)conn_send(p->conn, type, data, len, first, last);
	if (p->conn == NULL)
		return -1;
	if (conn_output_full(p->conn)) {
		p->out_blocked = true;
		p->ops->read(p->owner, false);
		return 1;
	}
	return 0;
}

/* msgstream sink: the backend closes the WebSocket (framed "C"). */
static void
pump_peer_close(void *arg, int code, const char *reason, size_t len)
{
	struct pump	*p = arg;
	char		 buf[128];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, reason);
	log_verbose("%s %s closes with %d", p->id, p->noun, code);
	pump_end(p, code, len > 0 ? buf : NULL);
}

/* msgstream sink: the backend pings the client (framed "P"). */
static int
pump_ping(void *arg, const uint8_t *data, size_t len)
{
	struct pump	*p = arg;

	if (p->conn == NULL)
		return -1;
	(void)conn_ping(p->conn, data, len);
	return p->conn != NULL ? 0 : -1;
}

/* msgstream sink: the backend (un)subscribes its WebSocket (framed S, L). */
static int
pump_subscribe(void *arg, const char *topic, size_t tlen, bool on)
{
	struct pump	*p = arg;
	const char	*cause;

	if (p->conn == NULL)
		return -1;
	if (!on)
		(void)topics_unsubscribe(p->conn, topic, tlen);
	else if (topics_subscribe(p->conn, topic, tlen, &cause) == -1)
		log_info("%s %s: not subscribed to \"%.*s\": %s", p->id,
		    p->label, (int)tlen, topic, cause);
	return 0;
}

/* msgstream sink: the backend publishes on a topic (framed M, N). */
static int
pump_publish(void *arg, const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	struct pump	*p = arg;
	const char	*cause;

	if (p->conn == NULL)
		return -1;
	if (topics_publish(topic, tlen, type, data, len, &cause) == -1)
		log_verbose("%s %s: publish on \"%.*s\" not sent: %s", p->id,
		    p->label, (int)tlen, topic, cause);
	return 0;
}

/* Decodes the backend's output into messages; see pump.h. */
void
pump_process(struct pump *p, struct evbuffer *in, bool eof)
{
	const char	*err = NULL;
	char		 reason[64];

	if (p->conn == NULL) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (p->out_blocked)
		return;
	if (msgstream_decode(&p->dec, in, eof, &pump_sink, p, &err) == -1) {
		log_error("%s %s: %s", p->id, p->label, err);
		snprintf(reason, sizeof(reason), p->format == FORMAT_FRAMED ?
		    "%s broke the framed format" : "%s wrote invalid UTF-8",
		    p->noun);
		pump_end(p, 1011, reason);
	}
}

/* The client's queue has room again; see pump.h. */
bool
pump_writable(struct pump *p, struct evbuffer *to, struct evbuffer *in,
    bool eof)
{
	if (p->conn == NULL || !p->out_blocked)
		return false;
	p->out_blocked = false;
	/* ReadyToSend: a framed backend may pace itself by it. */
	if (to != NULL)
		msgstream_encode_ready(p->format, to);
	if (!eof)
		p->ops->read(p->owner, true);
	pump_process(p, in, eof);
	return true;
}

/* Whether everything read has been sent. */
bool
pump_drained(const struct pump *p, struct evbuffer *in)
{
	return p->conn == NULL || (!p->out_blocked &&
	    !msgstream_pending(&p->dec) && evbuffer_get_length(in) == 0);
}

/* The WebSocket is over: a framed backend learns how, then EOF. */
void
pump_closed(struct pump *p, struct evbuffer *to)
{
	const char	*reason;
	int		 code;

	if (p->conn == NULL || to == NULL)
		return;
	/* Unknown: the connection dropped without a close frame. */
	if ((code = conn_close_status(p->conn, &reason)) == 0)
		code = 1006;
	msgstream_encode_close(p->format, to, code, reason, strlen(reason));
}
