/* conn.c - one client connection: handshake, session, backend, flow control, one close path. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "core/proxy.h"
#include "core/ws-deflate.h"
#include "core/ws-handshake.h"
#include "core/ws-session.h"
#include "event/acl.h"
#include "event/backend.h"
#include "event/client-limits.h"
#include "event/conn-int.h"
#include "event/devconsole.h"
#include "event/runtime.h"
#include "event/workers-shm.h"

struct conn_list conns = TAILQ_HEAD_INITIALIZER(conns);
uint32_t conn_clock;
static unsigned int nconns;
static const struct conn_hooks *conn_hooks;
/*
 * An open connection keeps its upgrade request as the bytes it came in
 * (fewer than the parsed form); conn_request parses them again when asked,
 * into this one cache, for the connection conn_req_of.
 */
static struct ws_request conn_req_cache;
static const struct conn *conn_req_of;
static bool conn_handlers_set;

static void	conn_free(struct conn *);
static void	conn_request_forget(const struct conn *);
static void	conn_drain(struct conn *);
static void	conn_process(struct conn *);
static void	conn_writable(struct conn *);
static void	conn_hs_free(struct conn *);
static void	conn_announce(struct conn *);

/* Records why the connection ends (first call wins) for the close log line. */
static void
conn_set_close(struct conn *c, int code, const char *by, const char *reason,
    size_t rlen)
{
	struct conn_close	*cl;
	size_t			 i;

	if (c->cl != NULL)
		return;
	if (reason == NULL)
		rlen = 0;
	if (rlen > CONN_REASON_MAX)
		rlen = CONN_REASON_MAX;
	cl = xmalloc(sizeof(*cl) + rlen + 1);
	cl->code = code;
	cl->by = by;
	for (i = 0; i < rlen; i++)	/* keep the log line on one line */
		cl->reason[i] = (reason[i] == '\n' || reason[i] == '\r' ||
		    reason[i] == '"') ? ' ' : reason[i];
	cl->reason[rlen] = '\0';
	c->cl = cl;
}

/* Marks a frame of ours on the stack: c is not freed until it is left. */
void
conn_enter(struct conn *c)
{
	c->busy++;
}

/* Leaves a frame; frees c if it died meanwhile. c may be gone after. */
void
conn_leave(struct conn *c)
{
	if (--c->busy == 0 && c->dead)
		conn_free(c);
}

/* Ends c now, or once the frames on the stack are left. */
static void
conn_kill(struct conn *c)
{
	if (c->busy > 0)
		c->dead = true;
	else
		conn_free(c);
}

/* Ends c without a closing handshake; see conn-int.h. */
void
conn_drop(struct conn *c, int code, const char *by, const char *reason,
    bool reset)
{
	struct linger	lg = { 1, 0 };

	conn_set_close(c, code, by, reason, strlen(reason));
	if (reset && c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_kill(c);
}

/* Stops a running OpenRequestHook: nobody waits for it any more. */
static void
conn_hook_cancel(struct conn *c)
{
	if (c->hs != NULL && c->hs->hook != NULL) {
		backend_hook()->cancel(c->hs->hook);
		c->hs->hook = NULL;
	}
}

/* Detaches the backend and tells it the WebSocket is over. */
static void
conn_backend_close(struct conn *c)
{
	void	*b = c->b;

	if (b == NULL)
		return;
	c->b = NULL;
	c->bops->close(b);
	/* A backend that is gone pauses nobody (the close reply is read). */
	conn_resume_input(c);
}

/* Session callback: bytes for the client go to the output queue. */
static void
conn_ws_write(void *arg, const void *data, size_t len)
{
	struct conn	*c = arg;

	conn_out_add(c, data, len);
	c->bytes_out += len;
	runtime_stats()->bytes_out += len;
}

/* Session callback: a piece of a client message goes to the backend. */
static void
conn_ws_message(void *arg, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	struct conn	*c = arg;

	c->in_s = conn_clock;
	if (last) {
		c->msgs_in++;
		runtime_stats()->msgs_in++;
	}
	if (c->line_mode)
		conn_lines(c, type, data, len, first, last);
	else if (c->b != NULL)
		c->bops->message(c->b, type, data, len, first, last);
}

/* Session callback: a ping was answered. */
static void
conn_ws_ping(void *arg, const uint8_t *data, size_t len)
{
	struct conn	*c = arg;

	log_debug("%s ping (%zu bytes)", c->id, len);
	if (c->b != NULL && c->bops->ping != NULL)
		c->bops->ping(c->b, data, len);
	if (conn_hooks != NULL && conn_hooks->ping != NULL)
		conn_hooks->ping(c, data, len, false, -1);
}

/*
 * Session callback: a pong arrived; the round trip is that of our last
 * ping (-1 when none was waiting: an unsolicited pong).
 */
static void
conn_ws_pong(void *arg, const uint8_t *data, size_t len)
{
	struct conn	*c = arg;
	long long	 rtt = c->ping_out ? (long long)(util_now_us() -
			    c->ping_us) : -1;

	c->ping_out = false;
	log_debug("%s pong (%zu bytes)", c->id, len);
	if (c->b != NULL && c->bops->pong != NULL)
		c->bops->pong(c->b, data, len);
	if (conn_hooks != NULL && conn_hooks->ping != NULL)
		conn_hooks->ping(c, data, len, true, rtt);
}

/* Session callback: the closing handshake is over or the connection failed. */
static void
conn_ws_closed(void *arg, enum ws_close_how how, int code, const char *reason,
    size_t rlen)
{
	struct conn	*c = arg;

	switch (how) {
	case WS_CLOSED_BY_PEER:
		conn_set_close(c, code, "client", reason, rlen);
		break;
	case WS_CLOSED_REPLY:
		/* We started it: the log shows our code, set in conn_close. */
		conn_set_close(c, code, "server", reason, rlen);
		break;
	case WS_CLOSED_FAILED:
		log_info("%s protocol error: %.*s (close %d)", c->id, (int)rlen,
		    reason, code);
		conn_set_close(c, code, "error", reason, rlen);
		if (conn_hooks != NULL && conn_hooks->error != NULL)
			conn_hooks->error(c, code, c->cl != NULL ?
			    c->cl->reason : "");
		break;
	}
	conn_backend_close(c);
	conn_drain(c);
}

static const struct ws_session_callbacks conn_ws_callbacks = {
	.write = conn_ws_write,
	.message = conn_ws_message,
	.ping = conn_ws_ping,
	.pong = conn_ws_pong,
	.closed = conn_ws_closed,
};

/*
 * Answers a failed upgrade with an HTTP error and closes; extra (xlen
 * bytes of "Name: value\r\n" lines, may be NULL) goes into its header.
 */
static void
conn_reject_extra(struct conn *c, int status, const char *cause,
    const char *extra, size_t xlen)
{
	char	buf[512], *end;
	size_t	n;

	log_info("%s rejected %s:%d %s: %d %s", c->id, c->raddr, c->rport,
	    log_uri(conn_request(c)->uri), status, cause);
	runtime_stats()->rejected_handshake++;
	if (status >= 400 && status < 400 + SERVER_STATS_HTTP)
		runtime_stats()->rejected_http[status - 400]++;
	if (conn_hooks != NULL && conn_hooks->verdict != NULL)
		conn_hooks->verdict(c, status, cause);
	n = ws_handshake_error(buf, sizeof(buf), status, cause);
	if (n > 0 && xlen > 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
		conn_out_add(c, buf, (size_t)(end - buf) + 2);
		conn_out_add(c, extra, xlen);
		conn_out_add(c, end + 2, n - (size_t)(end - buf) - 2);
	} else if (n > 0)
		conn_out_add(c, buf, n);
	conn_set_close(c, status, "http", NULL, 0);
	conn_drain(c);
}

/* Answers a failed upgrade with an HTTP error and closes. */
static void
conn_reject(struct conn *c, int status, const char *cause)
{
	conn_reject_extra(c, status, cause, NULL, 0);
}

/*
 * Drops a connection before any HTTP: no answer is due to a bad PROXY
 * header. A NULL cause: a per-client limit, answered, logged and counted.
 */
static void
conn_proxy_refuse(struct conn *c, const char *cause)
{
	if (cause != NULL) {
		log_info("%s refused %s:%d: %s", c->id, c->raddr, c->rport,
		    cause);
		runtime_stats()->rejected_handshake++;
	}
	conn_refused(c->raddr, c->rport, cause != NULL ? cause :
	    "per-client limit");
	conn_set_close(c, 0, "proxy", NULL, 0);
	conn_drain(c);
}

/*
 * The upgrade is accepted: queues the 101 response (resp, len bytes),
 * keeps the request's bytes and drops them from the input, starts the
 * session, and opens the backend unless it is open already.
 */
static void
conn_handshake_finish(struct conn *c, const char *resp, size_t len)
{
	struct conn_hs			*hs = c->hs;
	struct ws_session_config	 scfg;
	struct ws_deflate_config	 dcfg;
	const char			*sp;
	char				*cause = NULL;

	conn_deflate_config(c->cfg, &dcfg);
	c->head = xmalloc(hs->head);
	c->head_len = (uint32_t)hs->head;
	evbuffer_remove(c->in, c->head, hs->head);
	conn_out_add(c, resp, len);
	conn_timer_stop(c);
	if (hs->adm.proto[0] != '\0')
		conn_extra(c)->subprotocol = xstrdup(hs->adm.proto);
	sp = c->x != NULL ? c->x->subprotocol : NULL;

	memset(&scfg, 0, sizeof(scfg));
	scfg.max_message_size = c->cfg->max_message_size;
	scfg.max_frame_size = c->cfg->max_frame_size;
	scfg.buffer_message = c->cfg->buffer_message;
	if (hs->adm.deflate) {
		scfg.deflate = &hs->adm.agreed;
		scfg.deflate_cfg = &dcfg;
	}
	c->ws = ws_session_new(&scfg, &conn_ws_callbacks, c);
	c->state = CONN_OPEN;
	c->opened = true;
	c->open_ms = (uint32_t)(util_now_ms() - c->t_start);
	c->in_s = c->out_s = conn_clock;
	runtime_stats()->opened++;
	conn_set_read_high(c, CONN_READ_HIGH);
	log_info("%s open %s:%d %s route=%s%s%s%s", c->id, c->raddr, c->rport,
	    log_uri(hs->req.uri), c->route->name,
	    sp != NULL ? " subprotocol=" : "", sp != NULL ? sp : "",
	    hs->adm.deflate ? " permessage-deflate" : "");

	if (c->b == NULL &&
	    (c->b = c->bops->open(c, c->route, &cause)) == NULL) {
		log_error("%s backend %s failed: %s", c->id, c->bops->name, cause);
		free(cause);
		conn_close(c, 1011, "backend unavailable");
	}
}

/*
 * The upgrade is refused with an HTTP status: the backend (if opened
 * early) lets go and the client gets the error with xlen bytes of extra
 * header lines.
 */
static void
conn_refuse(struct conn *c, int status, const char *cause, const char *extra,
    size_t xlen)
{
	conn_backend_close(c);
	c->state = CONN_HANDSHAKE;
	conn_reject_extra(c, status, cause, extra, xlen);
}

/*
 * The header lines of the deciders' answers as HTTP lines in extra: the
 * OpenRequestHook's (kept from its accept) first, then hdrs; a subprotocol
 * they set goes to proto. Returns NULL, or why they are refused.
 */
static const char *
conn_decision_lines(struct conn *c, const char *hdrs, size_t hlen,
    struct evbuffer *extra, char *proto, size_t protolen)
{
	const char	*why = NULL;

	proto[0] = '\0';
	if (hlen > CONN_VERDICT_HEADERS_MAX)
		return "verdict headers too long";
	if (c->hs->hook_hlen > 0)
		(void)conn_verdict_lines(c->hs->hook_hdrs, c->hs->hook_hlen,
		    extra, proto, protolen, &why);
	if (why == NULL && hlen > 0)
		(void)conn_verdict_lines(hdrs, hlen, extra, proto, protolen,
		    &why);
	return why;
}

/*
 * The end of the decision: the 101 goes out with the header lines the
 * deciders gave (the OpenRequestHook's, kept, then hdrs), or, when those
 * are bad, a 500 instead. Returns 0 when the WebSocket is open, else -1.
 */
static int
conn_accept(struct conn *c, const char *hdrs, size_t hlen)
{
	struct conn_hs	*hs = c->hs;
	struct evbuffer	*extra;
	const char	*why = NULL;
	char		 proto[256], got[256], *resp = NULL;
	size_t		 len;
	int		 rv = -1;

	extra = xevbuffer_new();
	why = conn_decision_lines(c, hdrs, hlen, extra, proto, sizeof(proto));
	if (why == NULL && proto[0] != '\0' &&
	    (ws_handshake_select_protocol(&hs->req, proto, got,
	    sizeof(got)) == 0 || strcmp(got, proto) != 0))
		why = "subprotocol not offered by the client";
	if (why != NULL) {
		log_error("%s bad verdict from the backend: %s", c->id, why);
		conn_refuse(c, 500, "bad verdict from the backend", NULL, 0);
		evbuffer_free(extra);
		return -1;
	}
	conn_hs_topics(c, hdrs, hlen);
	conn_enter(c);
	if (proto[0] != '\0' || evbuffer_get_length(extra) > 0) {
		resp = conn_verdict_resp(hs->adm.resp, hs->adm.resp_len, proto,
		    extra, &len);
		if (proto[0] != '\0')
			snprintf(hs->adm.proto, sizeof(hs->adm.proto), "%s",
			    proto);
		conn_handshake_finish(c, resp, len);
		free(resp);
	} else
		conn_handshake_finish(c, hs->adm.resp, hs->adm.resp_len);
	evbuffer_free(extra);
	if (!c->dead && c->state == CONN_OPEN)
		rv = 0;
	conn_leave(c);
	return rv;
}

/*
 * Enters CONN_VERDICT: a decider has the request and answers with
 * conn_decided. Reading stops; what the client sent after its request
 * stays in the input until then, HandshakeTimeout at most.
 */
static void
conn_wait_decision(struct conn *c)
{
	c->state = CONN_VERDICT;
	conn_update_read(c);
	conn_timer(c, (unsigned long long)c->cfg->handshake_timeout * 1000);
}

/* The steps of the upgrade's decision, in order (conn_decide). */
enum conn_step {
	CONN_STEP_HOOK,		/* the route's OpenRequestHook */
	CONN_STEP_OPEN,		/* a backend that opens before the 101 */
	CONN_STEP_VERDICT,	/* a backend that gives verdicts (mux) */
	CONN_STEP_ACCEPT,	/* the 101 */
};

/*
 * Takes the upgrade's decision one step at a time: the route's
 * OpenRequestHook (when it has one), then a backend that opens before the
 * 101 (script:, unix:; failing is a 503), then a backend that gives
 * verdicts (mux). A step that waits leaves the connection in CONN_VERDICT
 * until its answer (conn_decided) goes on with the next; the end sends
 * the 101.
 */
static void
conn_decide(struct conn *c)
{
	const struct backend_hook_ops	*hook;
	char				*cause = NULL;

	for (;;) {
		switch (c->hs->step++) {
		case CONN_STEP_HOOK:
			if (*c->route->open_hook == '\0' ||
			    (hook = backend_hook()) == NULL)
				continue;
			conn_wait_decision(c);
			if ((c->hs->hook = hook->start(c, c->route,
			    &cause)) == NULL) {
				conn_refuse(c, 503, cause, NULL, 0);
				free(cause);
			}
			return;
		case CONN_STEP_OPEN:
			if (!c->bops->open_early)
				continue;
			if ((c->b = c->bops->open(c, c->route, &cause)) == NULL) {
				runtime_stats()->backend_failures++;
				conn_refuse(c, 503, cause, NULL, 0);
				free(cause);
				return;
			}
			continue;
		case CONN_STEP_VERDICT:
			if (!c->bops->verdict && (c->bops->waiting == NULL ||
			    !c->bops->waiting(c->b)))
				continue;
			conn_wait_decision(c);
			return;
		default:
			(void)conn_accept(c, NULL, 0);
			return;
		}
	}
}

/* A decider's answer on a request in CONN_VERDICT; see conn.h. */
int
conn_decided(struct conn *c, int status, const char *cause, const char *hdrs,
    size_t hlen)
{
	struct conn_hs	*hs = c->hs;
	struct evbuffer	*extra;
	const char	*why = NULL;
	char		 proto[256];
	size_t		 xlen;
	int		 rv = -1;

	if (c->state != CONN_VERDICT)
		return -1;
	conn_enter(c);
	if (hs->step == CONN_STEP_HOOK + 1)
		hs->hook = NULL;
	if (status == 101 && hs->step == CONN_STEP_HOOK + 1) {
		/* The hook accepts: its headers wait for the 101. */
		if (hlen > 0) {
			hs->hook_hdrs = xmalloc(hlen);
			memcpy(hs->hook_hdrs, hdrs, hlen);
			hs->hook_hlen = hlen;
		}
		c->state = CONN_HANDSHAKE;
		conn_decide(c);
		rv = c->state == CONN_OPEN ? 0 : -1;
	} else if (status == 101)
		rv = conn_accept(c, hdrs, hlen);
	else {
		/* The refusal carries the deciders' header lines. */
		extra = xevbuffer_new();
		why = conn_decision_lines(c, hdrs, hlen, extra, proto,
		    sizeof(proto));
		if (why != NULL) {
			log_error("%s bad verdict from the backend: %s", c->id,
			    why);
			conn_refuse(c, 500, "bad verdict from the backend",
			    NULL, 0);
		} else {
			xlen = evbuffer_get_length(extra);
			conn_refuse(c, status, cause != NULL ? cause :
			    "refused by the backend", xlen > 0 ?
			    (const char *)evbuffer_pullup(extra, -1) : NULL,
			    xlen);
		}
		evbuffer_free(extra);
	}
	/*
	 * Reading starts again, and bytes the client sent after its request
	 * (they wait in c->in) are processed, after this round.
	 */
	if (rv == 0 && !c->dead)
		conn_post(c, CONN_POST_KICK);
	conn_leave(c);
	return rv;
}

/* Reads the upgrade request; on success the decision starts (conn_decide). */
static void
conn_handshake(struct conn *c)
{
	struct evbuffer	*in = c->in;
	struct conn_hs	*hs = c->hs;
	const char	*why;
	char		*cause = NULL;
	size_t		 len, n, head;
	int		 status, r;
	char		*p;

	if (!c->proxy_done) {
		if ((r = conn_proxy_take(c, &cause)) == -1) {
			conn_proxy_refuse(c, cause);
			free(cause);
		}
		if (r <= 0)
			return;
	}
	len = evbuffer_get_length(in);
	n = len < (size_t)c->cfg->max_header_size + 4 ? len :
	    (size_t)c->cfg->max_header_size + 4;
	if ((p = (char *)evbuffer_pullup(in, n)) == NULL)
		return;
	if (!c->tls && n > 0 && (unsigned char)p[0] == 0x16) {
		/* A TLS record (ClientHello) where HTTP was due: say so now. */
		conn_reject(c, 400, "TLS handshake on a plain (UseSSL off) port");
		return;
	}
	head = ws_handshake_head_end(p, n, &hs->scanned);
	if (head == 0) {
		if (len > (size_t)c->cfg->max_header_size)
			conn_reject(c, 431, "request header too large");
		return;
	}
	if (head > (size_t)c->cfg->max_header_size) {
		conn_reject(c, 431, "request header too large");
		return;
	}
	if ((r = conn_plain_http(c, p, head, false)) != 0) {
		conn_set_close(c, r, "http", NULL, 0);
		conn_drain(c);
		return;
	}
	if (ws_handshake_parse(p, head, &hs->req, &status, &why) == -1) {
		if ((r = conn_plain_http(c, p, head, true)) != 0) {
			conn_set_close(c, r, "http", NULL, 0);
			conn_drain(c);
		} else
			conn_reject(c, status, why);
		return;
	}
	if ((c->route = config_route_for(c->cfg, hs->req.path)) == NULL) {
		conn_reject(c, 404, "no route for this path");
		return;
	}
	c->bops = backend_for(c->route);
	if (c->bops->admit != NULL &&
	    (status = c->bops->admit(c, c->route, &cause)) != 0) {
		conn_reject(c, status, cause);
		free(cause);
		return;
	}
	if ((status = conn_admit(c->cfg, c->route, &hs->req, c->tls,
	    c->route->max_connections > 0 ? conn_route_count(c->route) : 0,
	    &hs->adm, &cause)) != 101) {
		conn_reject(c, status, cause);
		free(cause);
		return;
	}
	hs->head = head;
	conn_decide(c);
}

/* Feeds buffered client bytes to the session until paused, closed or empty. */
static void
conn_feed(struct conn *c)
{
	struct evbuffer		*in = c->in;
	struct evbuffer_iovec	 v;
	size_t			 n;

	while ((c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    !c->paused_backend && !c->paused_output && !c->paused_admin &&
	    evbuffer_get_length(in) > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = v.iov_len;
		c->bytes_in += n;
		runtime_stats()->bytes_in += n;
		/* The chain is ours to change: the session unmasks in place. */
		if (ws_session_feed(c->ws, v.iov_base, n) != 0) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		evbuffer_drain(in, n);
		if (conn_out_len(c) >
		    CONN_OUT_HIGH)
			c->paused_output = true;
	}
	conn_update_read(c);
}

/* Runs the right input step for the state, guarding against frees inside. */
static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = c->in;

	conn_enter(c);
	if (c->state == CONN_HANDSHAKE)
		conn_handshake(c);
	if (c->opened && !c->announced)
		conn_announce(c);
	if (!c->dead && (c->state == CONN_OPEN || c->state == CONN_CLOSING))
		conn_feed(c);
	if (!c->dead && c->state == CONN_DRAINING)
		evbuffer_drain(in, evbuffer_get_length(in));
	if (!c->dead) {
		conn_account(c);
		conn_in_release(c);
	}
	conn_leave(c);
}

/*
 * Plain, open, nothing queued: n bytes read into the I/O layer's shared
 * buffer go to the session at once (it unmasks in place).
 */
static void
conn_feed_direct(struct conn *c, uint8_t *buf, size_t n)
{
	conn_enter(c);
	c->bytes_in += n;
	runtime_stats()->bytes_in += n;
	ws_session_feed(c->ws, buf, n);
	if (!c->dead) {
		if (conn_out_len(c) > CONN_OUT_HIGH)
			c->paused_output = true;
		conn_account(c);
	}
	if (!c->dead)
		conn_update_read(c);
	conn_leave(c);
}

/* The output queue fell to the low mark (or is empty while draining). */
static void
conn_writable(struct conn *c)
{
	bool	owned;

	if (c->state == CONN_DRAINING) {
		/* All sent: FIN, then wait a little for the client's. */
		if (conn_out_len(c) == 0 && !c->half_closed)
			conn_io_half_close(c);
		return;
	}
	if (!c->paused_output || conn_out_len(c) > CONN_OUT_LOW)
		return;
	conn_enter(c);
	conn_file_pump(c);
	owned = conn_file_get(c) != NULL || (c->x != NULL && c->x->admin_open);
	if (!owned)
		conn_flush_held(c);
	/* Still sending a file or the admin's message, or full again: wait. */
	if (!owned && !c->dead &&
	    conn_out_len(c) <= CONN_OUT_HIGH) {
		c->paused_output = false;
		if (c->b != NULL && c->bops->writable != NULL)
			c->bops->writable(c->b);
		if (!c->dead) {
			if (evbuffer_get_length(c->in) > 0)
				conn_post(c, CONN_POST_KICK);
			conn_update_read(c);
		}
	}
	conn_leave(c);
}

/* Timer: handshake timeout, close response timeout, or end of linger. */
static void
conn_timer_expired(struct conn *c)
{
	switch (c->state) {
	case CONN_HANDSHAKE:
		log_info("%s handshake timeout from %s:%d", c->id, c->raddr,
		    c->rport);
		conn_set_close(c, 0, "timeout", "handshake timeout", 17);
		conn_free(c);
		break;
	case CONN_VERDICT:
		conn_enter(c);
		if (c->hs->hook != NULL) {
			log_info("%s OpenRequestHook gave no answer within %d "
			    "s; killed", c->id, c->cfg->handshake_timeout);
			conn_hook_cancel(c);
			(void)conn_decided(c, 503, "OpenRequestHook timed out",
			    NULL, 0);
		} else {
			log_info("%s no backend verdict within %d s", c->id,
			    c->cfg->handshake_timeout);
			(void)conn_decided(c, 503, "no backend verdict in time",
			    NULL, 0);
		}
		conn_leave(c);
		break;
	case CONN_CLOSING:
		log_verbose("%s no close response within %d s", c->id,
		    c->cfg->close_timeout);
		conn_drain(c);
		break;
	case CONN_OPEN:
		if (!c->reading)
			conn_check_hangup(c);
		break;
	case CONN_DRAINING:
		conn_free(c);
		break;
	}
}

/*
 * The I/O layer's event: end of input, an error, the send timeout, or a
 * TLS handshake that failed (why says why, logged already). Records why
 * the connection ends and frees it.
 */
static void
conn_io_event(struct conn *c, short what, int err, const char *why)
{
	const char	*s;

	if (c->tls && !c->tls_ready) {
		s = why != NULL ? why : (what & BEV_EVENT_EOF) ?
		    "connection closed by the client" :
		    evutil_socket_error_to_string(err);
		conn_set_close(c, 0, "tls", s, strlen(s));
	}
	else if (what & BEV_EVENT_TIMEOUT) {
		/* The connection's own value, and where it came from. */
		log_info("%s send timeout (%s %d s)", c->id, c->timeout_set ?
		    "Timeout" : "DefaultTimeout", c->timeout);
		/*
		 * 1008: the client broke the server's policy by not taking
		 * its data. A close frame could not reach it through the
		 * full queue, so TCP is dropped; log and stats say 1008.
		 */
		conn_set_close(c, 1008, "timeout", "send timeout", 12);
		if (conn_hooks != NULL && conn_hooks->error != NULL)
			conn_hooks->error(c, 1008, "send timeout");
	} else if (what & BEV_EVENT_EOF) {
		if (c->state != CONN_DRAINING)
			conn_set_close(c, 1006, "client",
			    "connection closed without close frame", 37);
	} else if (what & BEV_EVENT_ERROR) {
		if (c->state != CONN_DRAINING) {
			s = why != NULL ? why : evutil_socket_error_to_string(err);
			conn_set_close(c, 1006, "client", s, strlen(s));
		}
	}
	conn_kill(c);
}

/* Back under MaxMemory: c reads again, its backend refills. */
static void
conn_mem_resume(struct conn *c)
{
	conn_enter(c);
	conn_update_read(c);
	if (!conn_output_full(c) && c->b != NULL && c->bops->writable != NULL)
		c->bops->writable(c->b);
	if (evbuffer_get_length(c->in) > 0)
		conn_post(c, CONN_POST_KICK);
	conn_leave(c);
}

/* What the I/O layer and the memory cap call up to. */
static const struct conn_io_handlers conn_io_handlers = {
	.process = conn_process,
	.feed = conn_feed_direct,
	.writable = conn_writable,
	.event = conn_io_event,
	.timer = conn_timer_expired,
	.leave = conn_leave,
};
static const struct conn_mem_handlers conn_mem_handlers = {
	.close = conn_close,
	.drop = conn_drop,
	.resume = conn_mem_resume,
};

/* Enters the last state: flush what is queued, FIN, wait for EOF, free. */
static void
conn_drain(struct conn *c)
{
	if (c->state == CONN_DRAINING)
		return;
	conn_file_end(c, CONN_FILE_CLOSED, 0);
	conn_backend_close(c);
	c->state = CONN_DRAINING;
	c->paused_output = c->paused_backend = false;
	/* The write callback must fire once the queue is empty. */
	conn_set_write_low(c, 0);
	conn_set_read_high(c, 0);
	conn_update_read(c);
	/* Bound the flush: a client that does not read cannot keep us. */
	conn_timer(c, (unsigned long long)c->cfg->close_timeout * 1000);
	if (conn_out_len(c) == 0)
		conn_writable(c);
}

/* Frees what only the handshake and the verdict needed. */
static void
conn_hs_free(struct conn *c)
{
	if (c->hs == NULL)
		return;
	free(c->hs->hook_hdrs);
	free(c->hs->topics);
	ws_request_free(&c->hs->req);
	free(c->hs);
	c->hs = NULL;
}

/* The one teardown path: logs the close line and frees everything. */
static void
conn_free(struct conn *c)
{
	unsigned long long	now = util_now_ms();
	struct server_stats	*st = runtime_stats();
	const char		*reason, *by;
	int			 code;

	conn_file_end(c, CONN_FILE_CLOSED, 0);
	conn_hook_cancel(c);
	conn_backend_close(c);
	conn_topics_free(c);
	reason = c->cl != NULL ? c->cl->reason : "";
	code = c->cl != NULL ? c->cl->code : 0;
	by = c->cl != NULL ? c->cl->by : "server";
	if (c->opened) {
		log_info("%s close code=%d by=%s reason=\"%s\" duration=%.3fs "
		    "msgs_in=%llu msgs_out=%llu bytes_in=%llu bytes_out=%llu",
		    c->id, code, by, reason,
		    (now - c->t_start - c->open_ms) / 1000.0,
		    (unsigned long long)c->msgs_in,
		    (unsigned long long)c->msgs_out,
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out);
		st->closed++;
		if (code >= 1000 && code < 1000 + SERVER_STATS_CODES - 1)
			st->closed_code[code - 1000]++;
		else
			st->closed_code[SERVER_STATS_CODES - 1]++;
		if (conn_hooks != NULL && conn_hooks->disconnected != NULL)
			conn_hooks->disconnected(c, code, by, reason);
	}
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	workers_conn_release();
	if (c->client_counted)
		client_limits_release(c->cfg, c->raddr);
	conn_mem_forget(c);
	if (c->ws != NULL)
		ws_session_free(c->ws);
	conn_hs_free(c);
	free(c->head);
	conn_request_forget(c);
	free(c->cl);
	if (c->x != NULL) {
		free(c->x->subprotocol);
		if (c->x->bstate_free != NULL)
			c->x->bstate_free(c->x->bstate);
		if (c->x->held != NULL)
			evbuffer_free(c->x->held);
		free(c->x);
	}
	conn_io_free(c);
	runtime_config_release(c->cfg);
	runtime_conn_gone();
	free(c);
}

struct conn *
conn_new(int fd, const struct sockaddr *sa, int salen, bool counted)
{
	const struct config	*cfg = runtime_config_hold();
	struct conn		*c;
	struct ssl_st		*ssl = NULL;
	char			 raddr[INET6_ADDRSTRLEN];
	char			 laddr[INET6_ADDRSTRLEN];
	int			 rport, lport;
	size_t			 rlen, llen, size, evoff = 0;

	conn_io_addresses(fd, sa, raddr, &rport, laddr, &lport);
	/* A PROXY header may replace both later: room for the longest then. */
	rlen = strlen(raddr) + 1;
	llen = strlen(laddr) + 1;
	if (cfg->proxy_protocol != PROXY_OFF)
		rlen = llen = INET6_ADDRSTRLEN;
	size = conn_io_extra_size(cfg->tls != NULL,
	    offsetof(struct conn, raddr) + rlen + llen, &evoff);
	if (!conn_handlers_set) {
		conn_io_set_handlers(&conn_io_handlers);
		conn_mem_set_handlers(&conn_mem_handlers);
		conn_handlers_set = true;
	}
	c = xcalloc(1, size);
	c->cfg = cfg;
	snprintf(c->id, sizeof(c->id), "%s%llu", runtime_id_prefix(),
	    (unsigned long long)runtime_next_id());
	c->state = CONN_HANDSHAKE;
	c->t_start = util_now_ms();
	conn_clock = (uint32_t)(c->t_start / 1000);
	c->hs = xcalloc(1, sizeof(*c->hs));
	memcpy(c->raddr, raddr, strlen(raddr) + 1);
	c->laddr_off = (uint8_t)rlen;
	memcpy(c->raddr + c->laddr_off, laddr, strlen(laddr) + 1);
	c->rport = (uint16_t)rport;
	c->lport = (uint16_t)lport;
	c->proxy_done = c->cfg->proxy_protocol == PROXY_OFF;
	c->proxy_trusted = !c->proxy_done &&
	    *c->cfg->proxy_trusted_clients != '\0' &&
	    acl_allows(c->cfg->proxy_trusted_clients, NULL, sa);
	c->timeout = c->cfg->default_timeout;
	if ((c->cfg->tls != NULL &&
	    (ssl = tls_ssl_new(c->cfg->tls, c->id)) == NULL) ||
	    conn_io_start(c, fd, ssl, evoff) == -1) {
		/* Logged by tls_ssl_new, or out of memory in libevent. */
		runtime_config_release(c->cfg);
		free(c->hs);
		free(c);
		close(fd);
		return NULL;
	}
	conn_timer(c, (unsigned long long)c->cfg->handshake_timeout * 1000);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	c->client_counted = counted;
	log_debug("%s accepted %s:%d", c->id, c->raddr, c->rport);
	return c;
}

void
conn_close(struct conn *c, int code, const char *reason)
{
	const struct config	*cfg = c->cfg;

	if (code == 0) {
		code = cfg->disconnect_status_code;
		if (reason == NULL && *cfg->disconnect_status_description != '\0')
			reason = cfg->disconnect_status_description;
	}
	if (reason == NULL)
		reason = ws_close_reason_text(code);
	/* Recorded first: the backend's close op may ask (conn_close_status). */
	if (c->state == CONN_HANDSHAKE || c->state == CONN_OPEN)
		conn_set_close(c, code, "server", reason, strlen(reason));
	conn_backend_close(c);
	switch (c->state) {
	case CONN_HANDSHAKE:
	case CONN_VERDICT:
		conn_set_close(c, code, "server", reason, strlen(reason));
		conn_kill(c);
		return;
	case CONN_OPEN:
		conn_set_close(c, code, "server", reason, strlen(reason));
		conn_file_end(c, CONN_FILE_CLOSED, 0);
		if (ws_session_close(c->ws, code, reason) == -1) {
			conn_drain(c);
			return;
		}
		c->state = CONN_CLOSING;
		if (!cfg->wait_for_close_response)
			conn_drain(c);
		else
			conn_timer(c, (unsigned long long)cfg->close_timeout * 1000);
		return;
	case CONN_CLOSING:
	case CONN_DRAINING:
		return;
	}
}

int
conn_send(struct conn *c, enum ws_msg_type type, const void *data, size_t len,
    bool first, bool last)
{
	if (c->state != CONN_OPEN)
		return -1;
	if (c->x != NULL && (c->x->file != NULL || conn_held_len(c) > 0 ||
	    c->x->admin_open)) {
		/* A sendfile or the admin owns the stream: wait for its end. */
		conn_hold(c, type, data, len, first, last);
		return 0;
	}
	if (conn_queue(c, type, data, len, first, last) == -1)
		return -1;
	c->backend_msg_open = !last;
	conn_queued(c);
	return 0;
}

void
conn_pause_input(struct conn *c)
{
	c->paused_backend = true;
	conn_update_read(c);
}

void
conn_resume_input(struct conn *c)
{
	if (!c->paused_backend)
		return;
	c->paused_backend = false;
	conn_update_read(c);
	if (evbuffer_get_length(c->in) > 0)
		conn_post(c, CONN_POST_KICK);
}

const struct ws_request *
conn_request(const struct conn *c)
{
	static const struct ws_request	 none;
	const char			*cause;
	int				 status;

	if (c->hs != NULL)
		return &c->hs->req;
	if (c->head == NULL)
		return &none;
	if (conn_req_of == c)
		return &conn_req_cache;
	/* The bytes parsed before, so this cannot fail; none if it did. */
	ws_request_free(&conn_req_cache);
	conn_req_of = NULL;
	if (ws_handshake_parse(c->head, c->head_len, &conn_req_cache, &status,
	    &cause) == -1) {
		ws_request_free(&conn_req_cache);
		return &none;
	}
	conn_req_of = c;
	return &conn_req_cache;
}

/* Drops conn_request's cached parse of c, which is being freed. */
static void
conn_request_forget(const struct conn *c)
{
	if (conn_req_of == c) {
		ws_request_free(&conn_req_cache);
		conn_req_of = NULL;
	}
}

unsigned int
conn_count(void)
{
	return nconns;
}

/*
 * First look at a connection after its upgrade was answered: count the
 * backend (its open failing leaves no instance behind: conn_handshake has
 * closed with 1011 by now) and tell the observers.
 */
static void
conn_announce(struct conn *c)
{
	struct server_stats	*st = runtime_stats();

	c->announced = true;
	if (c->bops != NULL) {
		if (c->b != NULL)
			st->backend_spawns++;
		else
			st->backend_failures++;
	}
	if (conn_hooks != NULL && conn_hooks->verdict != NULL)
		conn_hooks->verdict(c, 101, "accepted");
	if (conn_hooks != NULL && conn_hooks->connected != NULL)
		conn_hooks->connected(c);
	backend_opened(c);
	/* From here on the request is kept as its bytes (c->head). */
	conn_hs_free(c);
}

void
conn_set_hooks(const struct conn_hooks *hooks)
{
	conn_hooks = hooks;
}

/* A client refused before any HTTP: the observers hear of it. */
void
conn_refused(const char *addr, int port, const char *why)
{
	if (conn_hooks != NULL && conn_hooks->refused != NULL)
		conn_hooks->refused(addr, port, why);
}
