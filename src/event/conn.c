/* conn.c - one client connection: handshake, session, backend, flow control, one close path. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "backend/backend.h"
#include "backend/cgi.h"
#include "conf/config.h"
#include "event/conn.h"
#include "event/devconsole.h"
#include "event/listener.h"
#include "base/log.h"
#include "core/proxy.h"
#include "event/server.h"
#include "conf/tls.h"
#include "base/util.h"
#include "event/workers.h"
#include "core/ws-deflate.h"
#include "core/ws-handshake.h"
#include "core/ws-session.h"

/*
 * Output queue marks. Above the high mark the backend is told to stop
 * producing and we stop reading the client (so pongs and echoes cannot
 * grow the queue either); below the low mark both resume.
 */
#define CONN_OUT_HIGH	(1024 * 1024)
#define CONN_OUT_LOW	(256 * 1024)
/* Most bytes read from the client per read callback once open (fairness). */
#define CONN_READ_HIGH	(256 * 1024)
/* How long a closed connection waits for the client's FIN. */
#define CONN_LINGER_MS	1000
/* Most bytes one read(2) of a plain connection takes. */
#define CONN_READ_CHUNK	(64 * 1024)
/* Over MaxMemory: how often to look for progress, or a holder to end. */
#define CONN_MEM_TICK_MS	500
/* How often a paused plain client is looked at for a hang-up. */
#define CONN_HUP_CHECK_MS	1000
/* Longest close reason kept (a close frame carries at most 123 bytes). */
#define CONN_REASON_MAX		127
/* Largest read (and fragment) of a sendfile when MaxFrameSize is larger. */
#define CONN_FILE_CHUNK	(256 * 1024)

/* A sendfile in progress: read as the client's queue drains. */
struct conn_file {
	int		 fd;
	uint64_t	 size;
	uint64_t	 sent;
	bool		 started;	/* the message's first fragment is out */
	uint8_t		*buf;
	size_t		 bufsize;
	conn_file_cb	 done;
	void		*arg;
};

/* Header of a backend piece held back while a sendfile runs. */
struct conn_piece {
	size_t		 len;
	enum ws_msg_type type;
	bool		 first;
	bool		 last;
};

enum conn_state {
	CONN_HANDSHAKE,		/* reading the upgrade request */
	CONN_VERDICT,		/* waiting for the backend's verdict on it */
	CONN_OPEN,		/* WebSocket open */
	CONN_CLOSING,		/* we sent close, waiting for the reply */
	CONN_DRAINING,		/* flushing our last bytes, then FIN, then EOF */
};

/* What only the handshake and the verdict need; freed once open. */
struct conn_hs {
	struct ws_request	 req;		/* the upgrade request, parsed */
	size_t			 scanned;	/* request head bytes looked at */
	/* CONN_VERDICT: the 101 to send and the request's length. */
	char			*verdict_resp;
	size_t			 verdict_resp_len;
	size_t			 verdict_head;
	bool			 verdict_deflate;
	struct ws_deflate_params verdict_agreed;
	struct cgi_hook		*hook;		/* OpenRequestHook running */
	char			*hook_hdrs;	/* its accept's header lines */
	size_t			 hook_hlen;
};

/* What few connections use: made on first use, kept to the end. */
struct conn_extra {
	char			*subprotocol;
	char			*dir_prog;	/* dir: the program chosen */
	char			*dir_script;	/* dir: its SCRIPT_NAME */
	char			*dir_info;	/* dir: PATH_INFO */
	struct conn_file	*file;		/* admin sendfile in progress */
	struct evbuffer		*held;		/* backend pieces waiting for it */
	unsigned long long	 hup_at;	/* hang-up seen behind unread data */
};

/* Why the connection ends (conn_set_close), with its log-safe reason. */
struct conn_close {
	int			 code;
	const char		*by;
	char			 reason[];
};

/*
 * Laid out for size: an idle server holds one per connection. What only
 * the handshake, rare features or the end need is in side blocks; flags
 * are bits; the numeric addresses and (plain connections) the read event
 * live in the same allocation, after the struct.
 */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 post;		/* in conn_posted or conn_running */
	struct server		*srv;
	const struct config	*cfg;
	/*
	 * I/O. TLS connections use an OpenSSL bufferevent (bev). Plain ones
	 * do their own reads and writes on fd (rev, wev, flush): reads of up
	 * to CONN_READ_CHUNK per call where libevent 2.1's evbuffer_read stops
	 * at 4096 bytes, and each batch of output written at once from the
	 * loop instead of arming a write event per batch. in and out are the
	 * queues either way; a plain connection's are the shared empty ones
	 * (conn_in_none, conn_out_none) while it has nothing queued.
	 */
	struct bufferevent	*bev;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*rev;		/* in this allocation */
	struct event		*wev;
	struct event		*timer;
	struct ws_session	*ws;
	const struct route	*route;
	const struct backend_ops *bops;
	void			*b;
	struct conn_hs		*hs;		/* until open */
	struct conn_extra	*x;		/* NULL: none of it used */
	struct conn_close	*cl;		/* NULL: no close recorded */
	char			*head;		/* the request's bytes, once open */

	unsigned long long	 t_start;
	uint64_t		 msgs_in, msgs_out, bytes_in, bytes_out;
	size_t			 mem;		/* counted in conn_mem (MaxMemory) */
	int			 fd;
	int			 timeout;	/* send timeout, s (Timeout field) */
	uint32_t		 open_ms;	/* opened, ms after t_start */
	uint32_t		 read_high;	/* 0: unlimited */
	uint32_t		 write_low;
	uint32_t		 line_len;	/* a half-passed line's bytes */
	uint32_t		 head_len;
	uint16_t		 busy;		/* inside callbacks: defer the free */
	uint16_t		 rport;
	uint16_t		 lport;
	uint8_t			 state;		/* enum conn_state */
	uint8_t			 posted;	/* CONN_POST_* */
	uint8_t			 laddr_off;	/* laddr: raddr + laddr_off */
	bool			 reading:1;	/* rev is added */
	bool			 writing:1;	/* wev is added */
	bool			 opened:1;	/* 101 was sent */
	bool			 tls:1;		/* UseSSL: an OpenSSL bufferevent */
	bool			 tls_ready:1;	/* its handshake is done */
	bool			 half_closed:1;	/* our FIN is out */
	bool			 proxy_trusted:1;	/* in ProxyTrustedClients */
	bool			 proxy_done:1;	/* PROXY header taken (or none due) */
	bool			 paused_backend:1;
	bool			 paused_output:1;
	bool			 dead:1;
	bool			 paused_admin:1;	/* AcceptData off (admin pause) */
	bool			 line_mode:1;	/* LineMode (admin linemode) */
	bool			 line_open:1;	/* a line is half passed on */
	bool			 announced:1;	/* open hooks and counters done */
	bool			 backend_msg_open:1;	/* a backend message is half sent */
	char			 id[21];	/* a uint64_t in decimal */
	/* Remote, then local address; INET6_ADDRSTRLEN each with PROXY. */
	char			 raddr[];
};

static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static unsigned int nconns;
/*
 * MaxMemory: the bytes queued over all connections (the sum of their mem)
 * and whether that is over the cap. Updated where queues change: after
 * reads, writes and backend output.
 */
/*
 * Work posted by connections (conn_post), run once per round by one event
 * instead of two events per connection.
 */
#define CONN_POST_FLUSH	0x01		/* write the output queued */
#define CONN_POST_KICK	0x02		/* process input left buffered */
#define CONN_POST_RUN	0x80		/* in conn_running */
TAILQ_HEAD(conn_list, conn);
static struct conn_list conn_posted = TAILQ_HEAD_INITIALIZER(conn_posted);
static struct conn_list conn_running = TAILQ_HEAD_INITIALIZER(conn_running);
static struct event *conn_post_ev;
static void	conn_post(struct conn *, uint8_t);
/*
 * Plain connections read straight into conn_rbuf while open, so their input
 * queue is empty nearly always: an empty one is given back and the shared,
 * always empty conn_in_none stands in until bytes must wait again.
 */
static struct evbuffer *conn_in_none;
/*
 * The same for output: a plain connection's queue is its own only while
 * bytes wait in it. Emptied queues go back to a small pool, so that busy
 * connections allocate nothing for them in the steady state either.
 */
#define CONN_OUT_POOL	256
static struct evbuffer *conn_out_none;
static struct evbuffer *conn_out_pool[CONN_OUT_POOL];
static unsigned int conn_out_npool;
static size_t conn_mem;
static bool conn_mem_over;
static size_t conn_mem_last;		/* conn_mem at the last tick */
static struct event *conn_mem_resume;
static struct event *conn_mem_timer;
static const struct conn_hooks *conn_hooks;
/*
 * An open connection keeps its upgrade request as the bytes it came in
 * (fewer than the parsed form); conn_request parses them again when asked,
 * into this one cache, for the connection conn_req_of.
 */
static struct ws_request conn_req_cache;
static const struct conn *conn_req_of;

static void	conn_free(struct conn *);
static void	conn_drain(struct conn *);
static void	conn_process(struct conn *);
static void	conn_update_read(struct conn *);
static void	conn_set_read_high(struct conn *, size_t);
static void	conn_set_write_low(struct conn *, size_t);
static void	conn_writable(struct conn *);
static void	conn_verdict_wait(struct conn *, const char *, size_t, size_t,
		    const struct ws_deflate_params *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_sock_read_cb(evutil_socket_t, short, void *);
static void	conn_sock_read_direct(struct conn *);
static void	conn_sock_write_cb(evutil_socket_t, short, void *);
static void	conn_out_release(struct conn *);
static void	conn_hs_free(struct conn *);
static void	conn_announce(struct conn *);
static void	conn_file_end(struct conn *, enum conn_file_status, int);
static void	conn_file_pump(struct conn *);
static void	conn_flush_held(struct conn *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static size_t	conn_held_len(const struct conn *);

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

/* The connection's rarely used parts, made on first use. */
static struct conn_extra *
conn_extra(struct conn *c)
{
	if (c->x == NULL)
		c->x = xcalloc(1, sizeof(*c->x));
	return c->x;
}

/* The admin sendfile in progress, or NULL. */
static struct conn_file *
conn_file_get(const struct conn *c)
{
	return c->x != NULL ? c->x->file : NULL;
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

/* Starts (or restarts) the connection's single timer. */
static void
conn_timer(struct conn *c, unsigned long long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	/* Made when needed: an open, idle WebSocket has none. */
	if (c->timer == NULL &&
	    (c->timer = evtimer_new(server_base(c->srv), conn_timer_cb,
	    c)) == NULL)
		util_oom(event_get_struct_event_size());
	evtimer_add(c->timer, &tv);
}

/* Stops the connection's timer and lets its memory go. */
static void
conn_timer_stop(struct conn *c)
{
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
}

/* The output queue to add to: a plain connection's own, taken if need be. */
static struct evbuffer *
conn_out(struct conn *c)
{
	if (c->out == conn_out_none) {
		if (conn_out_npool > 0)
			c->out = conn_out_pool[--conn_out_npool];
		else if ((c->out = evbuffer_new()) == NULL)
			util_oom(sizeof(void *));
	}
	return c->out;
}

/*
 * Bytes went into the output queue. The write happens once, after the
 * callbacks of this round, so a read that produces many frames costs one
 * writev and no epoll_ctl (plain), or one TLS record (conn_tls_coalesce).
 */
static void
conn_out_added(struct conn *c)
{
	if (!(c->posted & CONN_POST_FLUSH) && !c->writing)
		conn_post(c, CONN_POST_FLUSH);
}

/* Most bytes made contiguous for one SSL_write: one TLS record's payload. */
#define CONN_TLS_RECORD	16384

/*
 * TLS: libevent's OpenSSL bufferevent makes one SSL_write, so one record
 * and one send(2), of each piece of the output queue, and a frame is two
 * pieces (header, payload). With Nagle's algorithm on, the second small
 * segment waits for the client's delayed ACK (40 ms). Joining the round's
 * output into one piece before the write event runs puts a message (or a
 * batch of them) up to a record's size on the wire in one write.
 */
static void
conn_tls_coalesce(struct conn *c)
{
	size_t	len = evbuffer_get_length(c->out);

	if (len > 0)
		(void)evbuffer_pullup(c->out, (ev_ssize_t)(len < CONN_TLS_RECORD ?
		    len : CONN_TLS_RECORD));
}

/* Queues bytes for the client. */
static void
conn_out_add(struct conn *c, const void *data, size_t len)
{
	evbuffer_add(conn_out(c), data, len);
	conn_out_added(c);
}

/* Gives an empty output queue of a plain connection back to the pool. */
static void
conn_out_release(struct conn *c)
{
	if (c->bev != NULL || c->out == conn_out_none ||
	    evbuffer_get_length(c->out) > 0)
		return;
	if (conn_out_npool < CONN_OUT_POOL)
		conn_out_pool[conn_out_npool++] = c->out;
	else
		evbuffer_free(c->out);
	c->out = conn_out_none;
}

/* Session callback: bytes for the client go to the output queue. */
static void
conn_ws_write(void *arg, const void *data, size_t len)
{
	struct conn	*c = arg;

	conn_out_add(c, data, len);
	c->bytes_out += len;
	server_stats(c->srv)->bytes_out += len;
}

/*
 * LineMode (ChangeLineMode): the backend gets one message per line instead
 * of one per WebSocket message. A line ends at "\n" (a "\r" right before
 * it in the same piece is dropped too), when it reaches MaxLineLength
 * (EOL false; text is cut on a code point boundary), or at the end of the
 * message (EOM). Lines are passed on in pieces as they arrive: nothing is
 * buffered.
 */
static void
conn_lines(struct conn *c, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	const uint8_t	*p = data, *end = data + len, *nl;
	size_t		 max = (size_t)c->cfg->max_line_length, n, take;

	if (first) {
		c->line_open = false;
		c->line_len = 0;
	}
	while (p < end && c->b != NULL) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (max > 0 && c->line_len + n >= max &&
		    (nl == NULL || c->line_len + n > max)) {
			take = max - c->line_len;
			while (type == WS_MSG_TEXT && take > 0 && take < n &&
			    (p[take] & 0xc0) == 0x80)
				take--;
			if (take == 0 && c->line_len == 0)
				take = n;	/* one code point longer than max */
			c->bops->message(c->b, type, p, take, !c->line_open,
			    true);
			c->line_open = false;
			c->line_len = 0;
			p += take;
			continue;
		}
		if (nl != NULL) {
			take = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
			c->bops->message(c->b, type, p, take, !c->line_open,
			    true);
			c->line_open = false;
			c->line_len = 0;
			p = nl + 1;
			continue;
		}
		c->bops->message(c->b, type, p, n, !c->line_open, false);
		c->line_open = true;
		/* Counted only against a limit, which keeps it below max. */
		if (max > 0)
			c->line_len += (uint32_t)n;
		p = end;
	}
	if (last && c->line_open && c->b != NULL) {
		c->bops->message(c->b, type, NULL, 0, false, true);
		c->line_open = false;
	}
}

/* Session callback: a piece of a client message goes to the backend. */
static void
conn_ws_message(void *arg, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	struct conn	*c = arg;

	if (last) {
		c->msgs_in++;
		server_stats(c->srv)->msgs_in++;
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
}

/* Session callback: a pong arrived. */
static void
conn_ws_pong(void *arg, const uint8_t *data, size_t len)
{
	struct conn	*c = arg;

	log_debug("%s pong (%zu bytes)", c->id, len);
	if (conn_hooks != NULL && conn_hooks->pong != NULL)
		conn_hooks->pong(c, data, len);
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
	    conn_request(c)->uri != NULL ? conn_request(c)->uri : "-", status,
	    cause);
	server_stats(c->srv)->rejected_handshake++;
	if (status >= 400 && status < 400 + SERVER_STATS_HTTP)
		server_stats(c->srv)->rejected_http[status - 400]++;
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

/* The server's permessage-deflate settings, from the [websocket] keys. */
static void
conn_deflate_config(const struct config *cfg, struct ws_deflate_config *d)
{
	ws_deflate_config_default(d);
	d->enabled = cfg->enable_permessage_deflate;
	d->level = cfg->deflate_level;
	d->mem_level = cfg->deflate_mem_level;
	d->max_window_bits = cfg->deflate_max_window_bits;
	d->min_size = (size_t)cfg->deflate_min_size;
	d->no_context_takeover = cfg->deflate_no_context_takeover;
}

/* Drops a connection before any HTTP: no answer is due to a bad PROXY header. */
static void
conn_proxy_refuse(struct conn *c, const char *cause)
{
	log_info("%s refused %s:%d: %s", c->id, c->raddr, c->rport, cause);
	server_stats(c->srv)->rejected_handshake++;
	conn_set_close(c, 0, "proxy", NULL, 0);
	conn_drain(c);
}

/*
 * ProxyProtocol: takes the PROXY header a trusted client must send first,
 * and refuses one from anybody else. Returns 1 when done (the client's own
 * bytes follow), 0 to wait for more, -1 when the connection is dropped.
 */
static int
conn_proxy(struct conn *c)
{
	struct proxy_header	 h;
	const char		*cause;
	size_t			 n = evbuffer_get_length(c->in);
	ssize_t			 r;
	uint8_t			*p;

	if (n > PROXY_HEADER_MAX)
		n = PROXY_HEADER_MAX;
	if ((p = evbuffer_pullup(c->in, n)) == NULL)
		return 0;
	if (!c->proxy_trusted) {
		if ((r = proxy_detect(p, n)) == -1)
			return 0;
		if (r == 1) {
			conn_proxy_refuse(c, "PROXY header from a client not in "
			    "ProxyTrustedClients");
			return -1;
		}
		c->proxy_done = true;
		return 1;
	}
	if ((r = proxy_parse(p, n, (enum proxy_mode)c->cfg->proxy_protocol,
	    &h, &cause)) == 0)
		return 0;
	if (r < 0) {
		conn_proxy_refuse(c, cause);
		return -1;
	}
	if (!h.local) {
		log_verbose("%s PROXY v%d: client %s:%d via %s:%d", c->id,
		    h.version, h.src_addr, h.src_port, c->raddr, c->rport);
		/* The real client must pass the filters the proxy passed. */
		if (!listener_acl_allows(c->cfg->allowed_clients,
		    c->cfg->blocked_clients, (struct sockaddr *)&h.src)) {
			server_stats(c->srv)->rejected_acl++;
			snprintf(c->raddr, INET6_ADDRSTRLEN, "%s", h.src_addr);
			c->rport = (uint16_t)h.src_port;
			conn_proxy_refuse(c, "not allowed by "
			    "AllowedClients/BlockedClients");
			return -1;
		}
		snprintf(c->raddr, INET6_ADDRSTRLEN, "%s", h.src_addr);
		c->rport = (uint16_t)h.src_port;
		snprintf(c->raddr + c->laddr_off, INET6_ADDRSTRLEN, "%s",
		    h.dst_addr);
		c->lport = (uint16_t)h.dst_port;
	}
	evbuffer_drain(c->in, (size_t)r);
	c->proxy_done = true;
	return 1;
}

/*
 * Plain HTTP on the WebSocket port: HealthPath, and the dev console for a
 * GET of a route's path without Upgrade. Returns true when it answered.
 */
static bool
conn_plain_http(struct conn *c, const char *head, size_t len, bool parsed)
{
	char		 buf[1024];
	const char	*page;
	size_t		 n, plen;
	bool		 up;

	if (!parsed && *c->cfg->health_path != '\0' &&
	    devconsole_is_get(head, len, c->cfg->health_path)) {
		up = server_listening(c->srv) && !server_stopping(c->srv) &&
		    !server_draining(c->srv);
		n = devconsole_health(buf, sizeof(buf), up);
		conn_out_add(c, buf, n);
		log_debug("%s health check from %s:%d: %d", c->id, c->raddr,
		    c->rport, up ? 200 : 503);
		conn_set_close(c, up ? 200 : 503, "http", NULL, 0);
		conn_drain(c);
		return true;
	}
	if (parsed && c->cfg->dev_console && c->hs->req.method != NULL &&
	    strcmp(c->hs->req.method, "GET") == 0 && c->hs->req.path != NULL &&
	    ws_request_header(&c->hs->req, "Upgrade") == NULL &&
	    config_route_for(c->cfg, c->hs->req.path) != NULL) {
		page = devconsole_page(&plen);
		n = devconsole_head(buf, sizeof(buf));
		conn_out_add(c, buf, n);
		evbuffer_add_reference(conn_out(c), page, plen, NULL, NULL);
		log_info("%s dev console %s:%d %s", c->id, c->raddr, c->rport,
		    c->hs->req.uri);
		conn_set_close(c, 200, "http", NULL, 0);
		conn_drain(c);
		return true;
	}
	return false;
}

/*
 * Case-insensitive comparison of the authority of an Origin ("scheme://
 * host[:port]") with a Host header, a default port on either side ignored.
 */
static bool
conn_origin_same(const char *origin, const char *host, bool tls)
{
	const char	*auth, *dport;
	size_t		 alen, hlen, dlen;

	if ((auth = strstr(origin, "://")) == NULL)
		return false;
	dport = strncasecmp(origin, "https://", 8) == 0 ? ":443" : ":80";
	auth += 3;
	alen = strlen(auth);
	hlen = strlen(host);
	dlen = strlen(dport);
	if (alen > dlen && strcasecmp(auth + alen - dlen, dport) == 0)
		alen -= dlen;
	dport = tls ? ":443" : ":80";
	dlen = strlen(dport);
	if (hlen > dlen && strcasecmp(host + hlen - dlen, dport) == 0)
		hlen -= dlen;
	return alen == hlen && strncasecmp(auth, host, alen) == 0;
}

/*
 * AllowedOrigins of the route: "*" anywhere allows all, "same" an Origin
 * naming the Host, other words one origin each. No Origin header (not a
 * browser, which could send any) is allowed.
 */
static bool
conn_origin_allowed(const struct conn *c)
{
	const struct ws_request	*req = &c->hs->req;
	const char	*list = c->route->origins, *w, *origin = req->origin;
	size_t		 n;

	if (list == NULL || origin == NULL)
		return true;
	for (w = list; *w != '\0'; w += n) {
		w += strspn(w, ", \t");
		n = strcspn(w, ", \t");
		if (n == 0)
			break;
		if ((n == 1 && *w == '*') ||
		    (n == strlen(origin) && strncasecmp(w, origin, n) == 0))
			return true;
		if (n == 4 && strncasecmp(w, "same", 4) == 0 &&
		    req->host != NULL &&
		    conn_origin_same(origin, req->host, c->tls))
			return true;
	}
	return false;
}

/*
 * WebSockets open on a route of this name (any config generation): a
 * linear walk, made only for routes with a MaxConnections of their own.
 */
static unsigned int
conn_route_count(const struct route *r)
{
	const struct conn	*o;
	unsigned int		 n = 0;

	TAILQ_FOREACH(o, &conns, entry) {
		if (o->route != NULL && o->opened &&
		    (o->state == CONN_OPEN || o->state == CONN_CLOSING) &&
		    strcmp(o->route->name, r->name) == 0)
			n++;
	}
	return n;
}

/*
 * dir: backends: the first path segment after the route's prefix names a
 * program of the directory; the rest is PATH_INFO. Hidden names (which
 * covers ".." too), symlinks that resolve outside the directory and
 * anything but an executable regular file are refused. Returns 0 with
 * dir_prog, dir_script and dir_info set, or -1.
 */
static int
conn_dir_resolve(struct conn *c)
{
	const struct route	*r = c->route;
	struct conn_extra	*x;
	const char		*rest, *slash;
	char			*cand, *real;
	size_t			 n, dlen, plen;
	struct stat		 sb;

	plen = strlen(r->path) - 1;		/* without the "*" */
	if (plen > 0 && r->path[plen - 1] == '/')
		plen--;
	rest = c->hs->req.path + plen;
	while (*rest == '/')
		rest++;
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n > 255 || rest[0] == '.' || memchr(rest, '\\', n))
		return -1;
	xasprintf(&cand, "%s/%.*s", r->dir, (int)n, rest);
	real = realpath(cand, NULL);
	free(cand);
	dlen = strlen(r->dir);
	if (real == NULL || strncmp(real, r->dir, dlen) != 0 ||
	    (real[dlen] != '/' && dlen > 1) || stat(real, &sb) == -1 ||
	    !S_ISREG(sb.st_mode) || access(real, X_OK) == -1) {
		free(real);
		return -1;
	}
	x = conn_extra(c);
	x->dir_prog = real;
	xasprintf(&x->dir_script, "%.*s/%.*s", (int)plen, r->path, (int)n,
	    rest);
	x->dir_info = xstrdup(rest + n);
	return 0;
}

/*
 * The upgrade is accepted: queues the 101 response (len bytes), drops the
 * request (head bytes) from the input, starts the session, and opens the
 * backend unless it is open already. agreed: permessage-deflate, or NULL.
 */
static void
conn_handshake_finish(struct conn *c, const char *resp, size_t len,
    size_t head, const struct ws_deflate_params *agreed)
{
	struct ws_session_config	 scfg;
	struct ws_deflate_config	 dcfg;
	const char			*cause, *sp = conn_subprotocol(c);

	conn_deflate_config(c->cfg, &dcfg);
	c->head = xmalloc(head);
	c->head_len = (uint32_t)head;
	evbuffer_remove(c->in, c->head, head);
	conn_out_add(c, resp, len);
	conn_timer_stop(c);

	memset(&scfg, 0, sizeof(scfg));
	scfg.max_message_size = c->cfg->max_message_size;
	scfg.max_frame_size = c->cfg->max_frame_size;
	scfg.buffer_message = c->cfg->buffer_message;
	if (agreed != NULL) {
		scfg.deflate = agreed;
		scfg.deflate_cfg = &dcfg;
	}
	c->ws = ws_session_new(&scfg, &conn_ws_callbacks, c);
	c->state = CONN_OPEN;
	c->opened = true;
	c->open_ms = (uint32_t)(util_now_ms() - c->t_start);
	server_stats(c->srv)->opened++;
	conn_set_read_high(c, CONN_READ_HIGH);
	log_info("%s open %s:%d %s route=%s%s%s%s", c->id, c->raddr, c->rport,
	    c->hs->req.uri, c->route->name, sp != NULL ? " subprotocol=" : "",
	    sp != NULL ? sp : "",
	    agreed != NULL ? " permessage-deflate" : "");

	if (c->b == NULL &&
	    (c->b = c->bops->open(c, c->route, &cause)) == NULL) {
		log_error("%s backend %s failed: %s", c->id, c->bops->name, cause);
		conn_close(c, 1011, "backend unavailable");
	}
}

/* The backend's verdict on a request in CONN_VERDICT; see conn.h. */
void
conn_verdict(struct conn *c, int status, const char *cause)
{
	(void)conn_verdict_headers(c, status, cause, NULL, 0);
}

/* Whether a verdict may set header name (len bytes): not the daemon's own. */
static bool
conn_verdict_name_ok(const char *name, size_t len)
{
	static const char *const owned[] = { "Upgrade", "Connection",
	    "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions",
	    "Content-Length", "Content-Type", "Transfer-Encoding" };
	size_t	i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_')
			return false;
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strlen(owned[i]) == len &&
		    strncasecmp(owned[i], name, len) == 0)
			return false;
	return true;
}

/*
 * Turns a verdict's CGI-style header lines ("Name: value", each ending in
 * "\n" or "\r\n") into HTTP header lines in out; Status lines are skipped
 * (the caller read them) and Sec-WebSocket-Protocol goes to proto instead.
 * Returns 0, or -1 with *why set on a malformed or daemon-owned header.
 */
static int
conn_verdict_lines(const char *h, size_t hlen, struct evbuffer *out,
    char *proto, size_t protolen, const char **why)
{
	const char	*line, *nl, *colon, *v;
	size_t		 len, nlen, vlen, i;

	for (line = h; line < h + hlen; line = nl + 1) {
		if ((nl = memchr(line, '\n', h + hlen - line)) == NULL)
			nl = h + hlen;
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if ((colon = memchr(line, ':', len)) == NULL) {
			*why = "header line without a colon";
			return -1;
		}
		nlen = (size_t)(colon - line);
		v = colon + 1;
		vlen = len - nlen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		for (i = 0; i < vlen; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
				*why = "control character in a header value";
				return -1;
			}
		if (nlen == 6 && strncasecmp(line, "Status", 6) == 0)
			continue;
		if (nlen == 22 &&
		    strncasecmp(line, "Sec-WebSocket-Protocol", 22) == 0) {
			if (vlen == 0 || vlen >= protolen ||
			    memchr(v, ',', vlen) != NULL) {
				*why = "bad Sec-WebSocket-Protocol";
				return -1;
			}
			memcpy(proto, v, vlen);
			proto[vlen] = '\0';
			continue;
		}
		if (!conn_verdict_name_ok(line, nlen)) {
			*why = "header the daemon sets itself, or a bad name";
			return -1;
		}
		evbuffer_add_printf(out, "%.*s: %.*s\r\n", (int)nlen, line,
		    (int)vlen, v);
	}
	return 0;
}

/*
 * The 101 of a verdict: the stored response with its subprotocol replaced
 * by proto (when set) and the extra lines added. Returns it (malloc'd).
 */
static char *
conn_verdict_resp(struct conn *c, const char *proto, struct evbuffer *extra,
    size_t *lenp)
{
	struct evbuffer	*b;
	const char	*r = c->hs->verdict_resp, *p, *e;
	size_t		 n = c->hs->verdict_resp_len, len;
	char		*out;

	if ((b = evbuffer_new()) == NULL)
		abort();
	/* Everything but the final empty line, less any old subprotocol. */
	for (p = r; p < r + n - 2; p = e + 2) {
		e = memmem(p, (size_t)(r + n - p), "\r\n", 2);
		if (e == NULL || e >= r + n - 2)
			break;
		if (*proto != '\0' && (size_t)(e - p) >= 23 &&
		    strncasecmp(p, "Sec-WebSocket-Protocol:", 23) == 0)
			continue;
		evbuffer_add(b, p, (size_t)(e - p) + 2);
	}
	if (*proto != '\0')
		evbuffer_add_printf(b, "Sec-WebSocket-Protocol: %s\r\n", proto);
	evbuffer_add_buffer(b, extra);
	evbuffer_add(b, "\r\n", 2);
	len = evbuffer_get_length(b);
	out = xmalloc(len);
	evbuffer_remove(b, out, len);
	evbuffer_free(b);
	*lenp = len;
	return out;
}

/* A verdict with CGI-style response header lines; see conn.h. */
int
conn_verdict_headers(struct conn *c, int status, const char *cause,
    const char *hdrs, size_t hlen)
{
	struct evbuffer	*extra;
	struct conn_hs	*hs;
	const char	*why = NULL;
	char		 proto[256], got[256], *resp;
	size_t		 xlen, rlen;
	int		 rv = -1;

	if (c->state != CONN_VERDICT)
		return -1;
	if ((extra = evbuffer_new()) == NULL)
		abort();
	proto[0] = '\0';
	if (hlen > CONN_VERDICT_HEADERS_MAX)
		why = "verdict headers too long";
	else {
		/* An OpenRequestHook's accept comes first, then the backend's. */
		if (c->hs->hook_hlen > 0)
			(void)conn_verdict_lines(c->hs->hook_hdrs,
			    c->hs->hook_hlen, extra, proto, sizeof(proto),
			    &why);
		if (why == NULL && hlen > 0)
			(void)conn_verdict_lines(hdrs, hlen, extra, proto,
			    sizeof(proto), &why);
	}
	if (why == NULL && status == 101 && proto[0] != '\0' &&
	    (ws_handshake_select_protocol(&c->hs->req, proto, got,
	    sizeof(got)) == 0 || strcmp(got, proto) != 0))
		why = "subprotocol not offered by the client";
	if (why != NULL) {
		log_error("%s bad verdict from the backend: %s", c->id, why);
		status = 500;
		cause = "bad verdict from the backend";
		evbuffer_drain(extra, evbuffer_get_length(extra));
	}
	c->busy++;
	if (status == 101) {
		if (proto[0] != '\0' || evbuffer_get_length(extra) > 0) {
			resp = conn_verdict_resp(c, proto, extra, &rlen);
			if (proto[0] != '\0') {
				free(conn_extra(c)->subprotocol);
				c->x->subprotocol = xstrdup(proto);
			}
			free(c->hs->verdict_resp);
			c->hs->verdict_resp = resp;
			c->hs->verdict_resp_len = rlen;
		}
		hs = c->hs;
		conn_handshake_finish(c, hs->verdict_resp, hs->verdict_resp_len,
		    hs->verdict_head, hs->verdict_deflate ? &hs->verdict_agreed :
		    NULL);
		/* Bytes the client sent after its request wait in c->in. */
		if (!c->dead) {
			conn_post(c, CONN_POST_KICK);
			rv = 0;
		}
	} else {
		conn_backend_close(c);
		c->state = CONN_HANDSHAKE;
		xlen = evbuffer_get_length(extra);
		conn_reject_extra(c, status, cause != NULL ? cause :
		    "refused by the backend", xlen > 0 ?
		    (const char *)evbuffer_pullup(extra, -1) : NULL, xlen);
	}
	evbuffer_free(extra);
	c->busy--;
	if (c->dead && c->busy == 0)
		conn_free(c);
	return rv;
}

/* Reads the upgrade request; on success answers 101 and opens the backend. */
static void
conn_handshake(struct conn *c)
{
	struct evbuffer			*in = c->in;
	struct ws_deflate_config	 dcfg;
	struct ws_deflate_params	 agreed;
	const char			*cause;
	char				 proto[256], resp[1024], ext[256];
	size_t				 len, n, head;
	int				 status, deflate = 0;
	char				*p;

	if (!c->proxy_done && conn_proxy(c) <= 0)
		return;
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
	head = ws_handshake_head_end(p, n, &c->hs->scanned);
	if (head == 0) {
		if (len > (size_t)c->cfg->max_header_size)
			conn_reject(c, 431, "request header too large");
		return;
	}
	if (head > (size_t)c->cfg->max_header_size) {
		conn_reject(c, 431, "request header too large");
		return;
	}
	if (conn_plain_http(c, p, head, false))
		return;
	if (ws_handshake_parse(p, head, &c->hs->req, &status, &cause) == -1) {
		if (!conn_plain_http(c, p, head, true))
			conn_reject(c, status, cause);
		return;
	}
	if ((c->route = config_route_for(c->cfg, c->hs->req.path)) == NULL) {
		conn_reject(c, 404, "no route for this path");
		return;
	}
	if (c->route->kind == BACKEND_DIR &&
	    conn_dir_program(c, NULL, NULL) == NULL &&
	    conn_dir_resolve(c) == -1) {
		conn_reject(c, 404, "no such program");
		return;
	}
	if (!conn_origin_allowed(c)) {
		conn_reject(c, 403, "origin not allowed");
		return;
	}
	if (c->route->max_connections > 0 &&
	    conn_route_count(c->route) >= (unsigned)c->route->max_connections) {
		conn_reject(c, 429, "route MaxConnections reached");
		return;
	}
	if (*c->route->subprotocols != '\0' &&
	    ws_handshake_select_protocol(&c->hs->req, c->route->subprotocols,
	    proto, sizeof(proto)))
		conn_extra(c)->subprotocol = xstrdup(proto);
	conn_deflate_config(c->cfg, &dcfg);
	if (dcfg.enabled && c->hs->req.extensions != NULL)
		deflate = ws_deflate_negotiate(c->hs->req.extensions, &dcfg,
		    &agreed, ext, sizeof(ext)) == 1;
	n = ws_handshake_response(resp, sizeof(resp), c->hs->req.key,
	    conn_subprotocol(c),
	    deflate ? ext : NULL);
	if (n == 0) {
		conn_reject(c, 500, "response too large");
		return;
	}
	c->bops = backend_for(c->route);
	if (*c->route->open_hook != '\0') {
		/* The hook answers first, in conn_hook_verdict. */
		conn_verdict_wait(c, resp, n, head, deflate ? &agreed : NULL);
		if ((c->hs->hook = cgi_hook_start(c, c->route, &cause)) == NULL)
			conn_verdict(c, 503, cause);
		return;
	}
	if (c->bops->open_early &&
	    (c->b = c->bops->open(c, c->route, &cause)) == NULL) {
		server_stats(c->srv)->backend_failures++;
		conn_reject(c, 503, cause);
		return;
	}
	if (c->bops->verdict) {
		conn_verdict_wait(c, resp, n, head, deflate ? &agreed : NULL);
		return;
	}
	conn_handshake_finish(c, resp, n, head, deflate ? &agreed : NULL);
}

/*
 * Enters CONN_VERDICT: the backend (or hook) has the request and answers
 * with conn_verdict. Reading stops; what the client sent after its request
 * stays in the input until then. resp: the 101 to send (n bytes).
 */
static void
conn_verdict_wait(struct conn *c, const char *resp, size_t n, size_t head,
    const struct ws_deflate_params *agreed)
{
	struct conn_hs	*hs = c->hs;

	hs->verdict_resp = xmalloc(n);
	memcpy(hs->verdict_resp, resp, n);
	hs->verdict_resp_len = n;
	hs->verdict_head = head;
	hs->verdict_deflate = agreed != NULL;
	if (agreed != NULL)
		hs->verdict_agreed = *agreed;
	c->state = CONN_VERDICT;
	conn_update_read(c);
	conn_timer(c, (unsigned long long)c->cfg->handshake_timeout * 1000);
}

/* The OpenRequestHook's answer; see conn.h. */
void
conn_hook_verdict(struct conn *c, int status, const char *hdrs, size_t hlen)
{
	const char	*cause;

	if (c->hs != NULL)
		c->hs->hook = NULL;
	if (c->state != CONN_VERDICT)
		return;
	if (status != 101) {
		(void)conn_verdict_headers(c, status, "refused by the "
		    "OpenRequestHook", hdrs, hlen);
		return;
	}
	if (c->bops->open_early &&
	    (c->b = c->bops->open(c, c->route, &cause)) == NULL) {
		server_stats(c->srv)->backend_failures++;
		conn_verdict(c, 503, cause);
		return;
	}
	if (c->bops->verdict) {
		/* The backend decides next; the hook's headers are kept. */
		if (hlen > 0) {
			c->hs->hook_hdrs = xmalloc(hlen);
			memcpy(c->hs->hook_hdrs, hdrs, hlen);
			c->hs->hook_hlen = hlen;
		}
		return;
	}
	(void)conn_verdict_headers(c, 101, NULL, hdrs, hlen);
}

/* Everything queued everywhere after a resume: read again, refill. */
static void
conn_mem_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->dead || c->state != CONN_OPEN)
			continue;
		c->busy++;
		conn_update_read(c);
		if (!conn_output_full(c) && c->b != NULL &&
		    c->bops->writable != NULL)
			c->bops->writable(c->b);
		if (evbuffer_get_length(c->in) > 0)
			conn_post(c, CONN_POST_KICK);
		c->busy--;
		if (c->dead && c->busy == 0)
			conn_free(c);
	}
}

/*
 * While over MaxMemory and no queue shrank by a sixteenth in the last half
 * second: ends the connection that holds the most. One that reads its
 * output gets a close frame (1013); one that does not (its output is what
 * holds the memory, and a close frame would wait behind it) is reset.
 */
static void
conn_mem_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c, *big = NULL;
	struct linger	 lg = { 1, 0 };
	struct timeval	 tv = { 0, CONN_MEM_TICK_MS * 1000 };

	if (!conn_mem_over)
		return;
	if (conn_mem + conn_mem_last / 16 < conn_mem_last) {
		conn_mem_last = conn_mem;
		evtimer_add(conn_mem_timer, &tv);
		return;
	}
	TAILQ_FOREACH(c, &conns, entry) {
		if (!c->dead && (big == NULL || c->mem > big->mem))
			big = c;
	}
	if (big != NULL && big->mem > 0) {
		if (big->state == CONN_OPEN &&
		    evbuffer_get_length(big->out) < CONN_OUT_LOW) {
			log_warn("%s closed (1013): it holds %zu of the %zu bytes "
			    "queued, over MaxMemory", big->id, big->mem,
			    conn_mem);
			conn_close(big, 1013, "server memory limit reached");
		} else {
			log_warn("%s reset: it holds %zu of the %zu bytes "
			    "queued, over MaxMemory, and does not read", big->id,
			    big->mem, conn_mem);
			conn_set_close(big, 1013, "server", "server memory "
			    "limit reached", 27);
			if (big->fd >= 0)
				setsockopt(big->fd, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg));
			conn_free(big);
		}
	}
	conn_mem_last = conn_mem;
	if (conn_mem_over)
		evtimer_add(conn_mem_timer, &tv);
	(void)srv;
}

/* Bytes queued that a worker's figure in the master's stats may lag by. */
#define CONN_MEM_PUBLISH	(64 * 1024)

/*
 * Crosses the MaxMemory marks after conn_mem changed: over the cap, new
 * connections are refused and reads stop (conn_mem_timer_cb ends the
 * biggest holder if that does not help); at three quarters they resume.
 */
static void
conn_mem_check(struct server *srv)
{
	static size_t	published;
	static bool	published_over;
	static size_t	nworkers;
	size_t		cap = (size_t)server_config(srv)->max_memory << 20;
	struct timeval	tv = { 0, CONN_MEM_TICK_MS * 1000 };

	/* With workers each one has its share of MaxMemory. */
	if (nworkers == 0)
		nworkers = (size_t)workers_count();
	if (nworkers > 1)
		cap /= nworkers;
	if (!conn_mem_over && cap > 0 && conn_mem > cap) {
		conn_mem_over = true;
		conn_mem_last = conn_mem;
		log_warn("%zu bytes queued, over MaxMemory (%zu MiB): new "
		    "connections refused, reading paused", conn_mem, cap >> 20);
		if (conn_mem_timer == NULL)
			conn_mem_timer = evtimer_new(server_base(srv),
			    conn_mem_timer_cb, srv);
		if (conn_mem_timer != NULL)
			evtimer_add(conn_mem_timer, &tv);
	} else if (conn_mem_over && (cap == 0 || conn_mem <= cap - cap / 4)) {
		conn_mem_over = false;
		log_info("%zu bytes queued, under three quarters of MaxMemory "
		    "again: resuming", conn_mem);
		if (conn_mem_timer != NULL)
			evtimer_del(conn_mem_timer);
		if (conn_mem_resume == NULL)
			conn_mem_resume = evtimer_new(server_base(srv),
			    conn_mem_resume_cb, NULL);
		if (conn_mem_resume != NULL)
			event_active(conn_mem_resume, EV_TIMEOUT, 0);
	}
	/* For the master's stats: a change of 64 KiB, or a crossing. */
	if (nworkers > 1 && (conn_mem - published + CONN_MEM_PUBLISH >
	    2 * CONN_MEM_PUBLISH || published_over != conn_mem_over)) {
		published = conn_mem;
		published_over = conn_mem_over;
		workers_set_mem(conn_mem, conn_mem_over);
	}
}

/*
 * Recounts what c has queued (input, output, held backend pieces, the
 * message being assembled) into conn_mem.
 */
static void
conn_account(struct conn *c)
{
	size_t	now, pending;

	now = evbuffer_get_length(c->in) + evbuffer_get_length(c->out) +
	    conn_held_len(c) +
	    (c->ws != NULL ? ws_session_buffered(c->ws, &pending) : 0);
	conn_mem = conn_mem - c->mem + now;
	c->mem = now;
	conn_mem_check(c->srv);
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
		server_stats(c->srv)->bytes_in += n;
		/* The chain is ours to change: the session unmasks in place. */
		if (ws_session_feed(c->ws, v.iov_base, n) != 0) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		evbuffer_drain(in, n);
		if (evbuffer_get_length(c->out) >
		    CONN_OUT_HIGH)
			c->paused_output = true;
	}
	conn_update_read(c);
}

/*
 * Open, plain and not read (paused): every CONN_HUP_CHECK_MS the socket is
 * looked at for a hang-up (conn_check_hangup), so a client that vanished
 * while its backend stalls is not held for as long as the stall lasts.
 * (libevent reports a reset as readable, not as EV_CLOSED, and a read
 * event would fire for every byte the client sends: a timer it is.)
 */
static void
conn_watch_hangup(struct conn *c)
{
	if (c->bev == NULL && c->state == CONN_OPEN)
		conn_timer(c, CONN_HUP_CHECK_MS);
}

/*
 * The hang-up check of a paused plain client. A reset or a FIN with
 * nothing unread ends it now (1006); a FIN behind unread data waits
 * KillTimeout (the grace a backend gets) for reading to resume, so what
 * the client sent last still arrives, in order.
 */
static void
conn_check_hangup(struct conn *c)
{
	struct conn_extra	*x;
	struct pollfd		 pfd;
	unsigned long long	 now;
	uint8_t			 b;
	ssize_t			 n;

	pfd.fd = c->fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0 ||
	    !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		conn_timer(c, CONN_HUP_CHECK_MS);
		return;
	}
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0) {
		conn_event_cb(NULL, BEV_EVENT_EOF | BEV_EVENT_READING, c);
		return;
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_event_cb(NULL, BEV_EVENT_ERROR | BEV_EVENT_READING, c);
		return;
	}
	now = util_now_ms();
	x = conn_extra(c);
	if (x->hup_at == 0)
		x->hup_at = now;
	if (now - x->hup_at < (unsigned long long)c->cfg->kill_timeout *
	    1000) {
		conn_timer(c, CONN_HUP_CHECK_MS);
		return;
	}
	log_info("%s client hung up; what it sent last was not taken within "
	    "%d s", c->id, c->cfg->kill_timeout);
	conn_event_cb(NULL, BEV_EVENT_EOF | BEV_EVENT_READING, c);
}

/* Enables or disables reading from the client to match the pause flags. */
static void
conn_update_read(struct conn *c)
{
	bool	want;

	if (c->dead)
		return;
	want = c->state == CONN_DRAINING || (c->state != CONN_VERDICT &&
	    !(c->paused_backend || c->paused_output || c->paused_admin) &&
	    !(conn_mem_over && c->state == CONN_OPEN));
	if (c->bev != NULL) {
		if (want)
			bufferevent_enable(c->bev, EV_READ);
		else
			bufferevent_disable(c->bev, EV_READ);
	} else if (want && !c->reading) {
		event_add(c->rev, NULL);
		c->reading = true;
		if (c->state == CONN_OPEN)
			conn_timer_stop(c);
	} else if (!want && c->reading) {
		event_del(c->rev);
		c->reading = false;
		conn_watch_hangup(c);
	}
}

/* Sets the most input held before reading stops (0: no limit). */
static void
conn_set_read_high(struct conn *c, size_t high)
{
	c->read_high = (uint32_t)high;
	if (c->bev != NULL)
		bufferevent_setwatermark(c->bev, EV_READ, 0, high);
}

/* Sets the output length at or below which the write callback runs. */
static void
conn_set_write_low(struct conn *c, size_t low)
{
	c->write_low = (uint32_t)low;
	if (c->bev != NULL)
		bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
}

/*
 * The read buffer of plain connections in the open state. The daemon has
 * one event loop, and the session consumes all it is fed before the next
 * read, so one buffer serves every connection: steady-state reads
 * allocate nothing.
 */
static uint8_t	conn_rbuf[CONN_READ_CHUNK];

/*
 * Plain connection, open, nothing queued: reads into conn_rbuf and feeds
 * the session from there (it unmasks in place).
 */
static void
conn_sock_read_direct(struct conn *c)
{
	ssize_t	n;

	n = recv(c->fd, conn_rbuf, sizeof(conn_rbuf), 0);
	if (n == 0) {
		conn_event_cb(NULL, BEV_EVENT_EOF | BEV_EVENT_READING, c);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_event_cb(NULL, BEV_EVENT_ERROR | BEV_EVENT_READING,
			    c);
		return;
	}
	c->busy++;
	c->bytes_in += (size_t)n;
	server_stats(c->srv)->bytes_in += (size_t)n;
	ws_session_feed(c->ws, conn_rbuf, (size_t)n);
	if (!c->dead) {
		if (evbuffer_get_length(c->out) > CONN_OUT_HIGH)
			c->paused_output = true;
		conn_account(c);
	}
	if (!c->dead)
		conn_update_read(c);
	c->busy--;
	if (c->dead && c->busy == 0)
		conn_free(c);
}

/*
 * Plain connections: reads straight into the input queue, up to
 * CONN_READ_CHUNK at a time and never past read_high, then processes.
 */
static void
conn_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer_iovec	 v[2];
	size_t			 want = CONN_READ_CHUNK, have, left;
	ssize_t			 n;
	int			 i, nv;

	have = evbuffer_get_length(c->in);
	if (have == 0 && (c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    !c->paused_backend && !c->paused_output && !c->paused_admin) {
		conn_sock_read_direct(c);
		return;
	}
	if (c->read_high > 0) {
		if (have >= c->read_high) {
			conn_process(c);
			return;
		}
		if (c->read_high - have < want)
			want = c->read_high - have;
	}
	if (c->in == conn_in_none && (c->in = evbuffer_new()) == NULL)
		util_oom(want);
	nv = evbuffer_reserve_space(c->in, (ev_ssize_t)want, v, 2);
	if (nv <= 0)
		return;
	for (i = 0, left = want; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	n = readv(fd, (struct iovec *)v, nv);
	if (n > 0) {
		for (i = 0, left = (size_t)n; i < nv; i++) {
			if (v[i].iov_len > left)
				v[i].iov_len = left;
			left -= v[i].iov_len;
		}
		evbuffer_commit_space(c->in, v, nv);
		conn_process(c);
	} else if (n == 0)
		conn_event_cb(NULL, BEV_EVENT_EOF | BEV_EVENT_READING, c);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		conn_event_cb(NULL, BEV_EVENT_ERROR | BEV_EVENT_READING, c);
}

/*
 * Plain connections: writes what is queued now. What the socket does not
 * take waits for a write event (with DefaultTimeout as its timeout). Then
 * runs the write callback if the queue is at its low mark.
 */
static void
conn_sock_flush(struct conn *c)
{
	struct timeval	 tv;
	int		 n;

	while (evbuffer_get_length(c->out) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_event_cb(NULL, BEV_EVENT_ERROR | BEV_EVENT_WRITING,
			    c);
			return;
		}
		break;
	}
	if (evbuffer_get_length(c->out) > 0) {
		if (!c->writing) {
			/* Made the first time a write has to wait. */
			if (c->wev == NULL && (c->wev = event_new(
			    server_base(c->srv), c->fd, EV_WRITE | EV_PERSIST,
			    conn_sock_write_cb, c)) == NULL)
				util_oom(event_get_struct_event_size());
			tv.tv_sec = c->timeout;
			tv.tv_usec = 0;
			event_add(c->wev, c->timeout > 0 ? &tv :
			    NULL);
			c->writing = true;
		}
	} else {
		if (c->writing) {
			event_del(c->wev);
			c->writing = false;
		}
		conn_out_release(c);
	}
	conn_account(c);
	if (evbuffer_get_length(c->out) <= c->write_low)
		conn_writable(c);
}

/* Plain connections: the socket takes data again, or DefaultTimeout passed. */
static void
conn_sock_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & EV_TIMEOUT) {
		conn_event_cb(NULL, BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING, c);
		return;
	}
	conn_sock_flush(c);
}

/*
 * Runs the work posted in earlier callbacks, connection by connection:
 * the flush of plain connections' output (one write for all a round
 * produced), then input left buffered while paused. Work posted meanwhile
 * waits for the next round, so this ends.
 */
static void
conn_post_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c;
	uint8_t		 work;

	TAILQ_CONCAT(&conn_running, &conn_posted, post);
	TAILQ_FOREACH(c, &conn_running, post)
		c->posted |= CONN_POST_RUN;
	while ((c = TAILQ_FIRST(&conn_running)) != NULL) {
		TAILQ_REMOVE(&conn_running, c, post);
		work = c->posted;
		c->posted = 0;
		c->busy++;
		if ((work & CONN_POST_FLUSH) && !c->dead) {
			if (c->bev != NULL)
				conn_tls_coalesce(c);
			else if (!c->writing)
				conn_sock_flush(c);
		}
		if ((work & CONN_POST_KICK) && !c->dead)
			conn_process(c);
		c->busy--;
		if (c->dead && c->busy == 0)
			conn_free(c);
	}
}

/* Posts work for c to run after the callbacks of this round. */
static void
conn_post(struct conn *c, uint8_t work)
{
	if (c->posted == 0)
		TAILQ_INSERT_TAIL(&conn_posted, c, post);
	c->posted |= work;
	if (conn_post_ev == NULL && (conn_post_ev = event_new(
	    server_base(c->srv), -1, 0, conn_post_cb, NULL)) == NULL)
		util_oom(event_get_struct_event_size());
	event_active(conn_post_ev, EV_TIMEOUT, 0);
}

/* Gives an empty input queue of a plain connection back. */
static void
conn_in_release(struct conn *c)
{
	if (c->bev != NULL || c->in == conn_in_none ||
	    evbuffer_get_length(c->in) > 0)
		return;
	if (conn_in_none == NULL && (conn_in_none = evbuffer_new()) == NULL)
		return;
	evbuffer_free(c->in);
	c->in = conn_in_none;
}

/* Runs the right input step for the state, guarding against frees inside. */
static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = c->in;

	c->busy++;
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
	c->busy--;
	if (c->dead && c->busy == 0)
		conn_free(c);
}

/* bufferevent read callback. */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

/* The output queue fell to the low mark (or is empty while draining). */
static void
conn_writable(struct conn *c)
{
	if (c->state == CONN_DRAINING) {
		if (evbuffer_get_length(c->out) == 0 && !c->half_closed) {
			/* All sent: FIN, then wait a little for the client's. */
			c->half_closed = true;
			if (c->tls)
				tls_close_notify(bufferevent_openssl_get_ssl(
				    c->bev));
			shutdown(c->fd, SHUT_WR);
			conn_timer(c, CONN_LINGER_MS);
		}
		return;
	}
	if (c->paused_output && evbuffer_get_length(c->out) <= CONN_OUT_LOW) {
		c->busy++;
		conn_file_pump(c);
		if (conn_file_get(c) == NULL)
			conn_flush_held(c);
		if (conn_file_get(c) != NULL || c->dead ||
		    evbuffer_get_length(c->out) > CONN_OUT_HIGH) {
			/* Still sending a file, or the queue filled up again. */
			c->busy--;
			if (c->dead && c->busy == 0)
				conn_free(c);
			return;
		}
		c->paused_output = false;
		if (c->b != NULL && c->bops->writable != NULL)
			c->bops->writable(c->b);
		c->busy--;
		if (c->dead && c->busy == 0) {
			conn_free(c);
			return;
		}
		if (evbuffer_get_length(c->in) > 0)
			conn_post(c, CONN_POST_KICK);
		conn_update_read(c);
	}
}

/* bufferevent write callback (TLS). */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	conn_account(arg);
	conn_writable(arg);
}

/* The TLS handshake is done: log what was agreed, end its inactivity timeout. */
static void
conn_tls_ready(struct conn *c)
{
	struct tls_info	 ti;
	struct timeval	 tv;

	c->tls_ready = true;
	if (c->cfg->ssl_handshake_timeout > 0) {
		tv.tv_sec = c->timeout;
		tv.tv_usec = 0;
		bufferevent_set_timeouts(c->bev, NULL,
		    c->timeout > 0 ? &tv : NULL);
	}
	tls_get_info(bufferevent_openssl_get_ssl(c->bev), &ti);
	log_verbose("%s TLS %s %s %s%s%s client_verify=%s%s%s%s", c->id,
	    ti.version, ti.cipher, ti.key_exchange, *ti.sni ? " sni=" : "",
	    ti.sni, ti.client_verify, *ti.client_subject ? " client=\"" : "",
	    ti.client_subject, *ti.client_subject ? "\"" : "");
}

/*
 * The TLS handshake failed: log why from OpenSSL's errors. A client that
 * spoke plain HTTP gets a plain-text 400 so that a person sees the cause.
 */
static void
conn_tls_failed(struct conn *c, short what, int err)
{
	static const char resp[] =
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 40\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "this port speaks TLS: use https or wss\r\n";
	unsigned long	 e, first = 0;
	const char	*why;
	char		 buf[256];
	bool		 http = false;
	ssize_t		 n;

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		if (first == 0)
			first = e;
	}
	if (what & BEV_EVENT_TIMEOUT)
		why = "no data within DefaultConnectionTimeout";
	else if (first != 0)
		why = tls_error_text(first, &http, buf, sizeof(buf));
	else if ((what & BEV_EVENT_EOF) || err == 0)
		why = "connection closed by the client";
	else
		why = evutil_socket_error_to_string(err);
	if (http) {
		int	fd = c->fd;
		char	sink[4096];
		int	i;

		n = send(fd, resp, sizeof(resp) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		/* Unread request bytes would turn our close into a reset. */
		for (i = 0; i < 16 && n > 0; i++)
			if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
				break;
		why = "plain HTTP on a TLS port";
	}
	log_info("%s TLS handshake failed from %s:%d: %s", c->id, c->raddr,
	    c->rport, why);
	conn_set_close(c, 0, "tls", why, strlen(why));
}

/* bufferevent event callback: EOF, errors, send timeout. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_ready(c);
		return;
	}
	if (c->tls && !c->tls_ready)
		conn_tls_failed(c, what, err);
	else if (what & BEV_EVENT_TIMEOUT) {
		log_info("%s send timeout (DefaultTimeout %d s)", c->id,
		    c->cfg->default_timeout);
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
			const char *s = evutil_socket_error_to_string(err);
			char buf[256];
			bool http;
			unsigned long e = c->tls ?
			    bufferevent_get_openssl_error(bev) : 0;

			if (e != 0)
				s = tls_error_text(e, &http, buf, sizeof(buf));
			conn_set_close(c, 1006, "client", s, strlen(s));
		}
	}
	if (c->busy > 0)
		c->dead = true;
	else
		conn_free(c);
}

/* Timer: handshake timeout, close response timeout, or end of linger. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	switch (c->state) {
	case CONN_HANDSHAKE:
		log_info("%s handshake timeout from %s:%d", c->id, c->raddr,
		    c->rport);
		conn_set_close(c, 0, "timeout", "handshake timeout", 17);
		conn_free(c);
		break;
	case CONN_VERDICT:
		c->busy++;
		if (c->hs->hook != NULL) {
			log_info("%s OpenRequestHook gave no answer within %d "
			    "s; killed", c->id, c->cfg->handshake_timeout);
			cgi_hook_cancel(c->hs->hook);
			c->hs->hook = NULL;
			conn_verdict(c, 503, "OpenRequestHook timed out");
		} else {
			log_info("%s no backend verdict within %d s", c->id,
			    c->cfg->handshake_timeout);
			conn_verdict(c, 503, "no backend verdict in time");
		}
		c->busy--;
		if (c->dead && c->busy == 0)
			conn_free(c);
		break;
	case CONN_CLOSING:
		log_verbose("%s no close response within %d s", c->id,
		    c->cfg->close_timeout);
		conn_drain(c);
		break;
	case CONN_OPEN:
		if (c->bev == NULL && !c->reading)
			conn_check_hangup(c);
		break;
	case CONN_DRAINING:
		conn_free(c);
		break;
	}
}

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
	if (evbuffer_get_length(c->out) == 0)
		conn_writable(c);
}

/* Frees what only the handshake and the verdict needed. */
static void
conn_hs_free(struct conn *c)
{
	if (c->hs == NULL)
		return;
	free(c->hs->verdict_resp);
	free(c->hs->hook_hdrs);
	ws_request_free(&c->hs->req);
	free(c->hs);
	c->hs = NULL;
}

/* The one teardown path: logs the close line and frees everything. */
static void
conn_free(struct conn *c)
{
	unsigned long long	now = util_now_ms();
	struct server_stats	*st = server_stats(c->srv);
	const char		*reason, *by;
	int			 code;

	conn_file_end(c, CONN_FILE_CLOSED, 0);
	if (c->hs != NULL && c->hs->hook != NULL) {
		cgi_hook_cancel(c->hs->hook);
		c->hs->hook = NULL;
	}
	conn_backend_close(c);
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
	conn_mem -= c->mem;
	conn_mem_check(c->srv);
	if (c->ws != NULL)
		ws_session_free(c->ws);
	conn_hs_free(c);
	free(c->head);
	if (conn_req_of == c) {
		ws_request_free(&conn_req_cache);
		conn_req_of = NULL;
	}
	free(c->cl);
	if (c->x != NULL) {
		free(c->x->subprotocol);
		free(c->x->dir_prog);
		free(c->x->dir_script);
		free(c->x->dir_info);
		if (c->x->held != NULL)
			evbuffer_free(c->x->held);
		free(c->x);
	}
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	else {
		event_del(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		if (c->in != conn_in_none)
			evbuffer_free(c->in);
		if (c->out != conn_out_none) {
			evbuffer_drain(c->out, evbuffer_get_length(c->out));
			conn_out_release(c);
		}
		close(c->fd);
	}
	conn_timer_stop(c);
	if (c->posted != 0)
		TAILQ_REMOVE((c->posted & CONN_POST_RUN) ? &conn_running :
		    &conn_posted, c, post);
	server_config_release(c->srv, c->cfg);
	server_conn_gone(c->srv);
	free(c);
}

/* Applies TcpNoDelay, keep-alive and buffer sizes to an accepted socket. */
static void
conn_sockopts(const struct config *cfg, int fd)
{
	int	on = 1, v;

	if (cfg->tcp_nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (cfg->keepalive_time > 0 || cfg->keepalive_interval > 0) {
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		if (cfg->keepalive_time > 0) {
			v = cfg->keepalive_time < 1000 ? 1 :
			    cfg->keepalive_time / 1000;
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
		}
		if (cfg->keepalive_interval > 0) {
			v = cfg->keepalive_interval < 1000 ? 1 :
			    cfg->keepalive_interval / 1000;
			setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
		}
	}
	if (cfg->in_buffer_size > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->in_buffer_size,
		    sizeof(int));
	if (cfg->out_buffer_size > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->out_buffer_size,
		    sizeof(int));
}

/* Formats a socket address as numeric host and port. */
static void
conn_addr(const struct sockaddr *sa, char *host, size_t hlen, int *port)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, hlen);
		*port = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, hlen);
		*port = ntohs(s4->sin_port);
	} else {
		snprintf(host, hlen, "unknown");
		*port = 0;
	}
}

void
conn_new(struct server *srv, int fd, const struct sockaddr *sa, int salen)
{
	const struct config	*cfg = server_config_hold(srv);
	struct conn		*c;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct timeval		 tv;
	char			 raddr[INET6_ADDRSTRLEN];
	char			 laddr[INET6_ADDRSTRLEN];
	int			 rport, lport = 0;
	size_t			 rlen, llen, size, evoff = 0;

	conn_addr(sa, raddr, sizeof(raddr), &rport);
	laddr[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], laddr,
			    sizeof(laddr));
			lport = ntohs(s6->sin6_port);
		} else
			conn_addr((struct sockaddr *)&ss, laddr, sizeof(laddr),
			    &lport);
	}
	/* A PROXY header may replace both later: room for the longest then. */
	rlen = strlen(raddr) + 1;
	llen = strlen(laddr) + 1;
	if (cfg->proxy_protocol != PROXY_OFF)
		rlen = llen = INET6_ADDRSTRLEN;
	size = offsetof(struct conn, raddr) + rlen + llen;
	if (cfg->tls == NULL) {
		evoff = (size + 15) & ~(size_t)15;
		size = evoff + event_get_struct_event_size();
	}
	c = xcalloc(1, size);
	c->srv = srv;
	c->cfg = cfg;
	snprintf(c->id, sizeof(c->id), "%llu",
	    (unsigned long long)server_next_id(srv));
	c->state = CONN_HANDSHAKE;
	c->t_start = util_now_ms();
	c->hs = xcalloc(1, sizeof(*c->hs));
	memcpy(c->raddr, raddr, strlen(raddr) + 1);
	c->laddr_off = (uint8_t)rlen;
	memcpy(c->raddr + c->laddr_off, laddr, strlen(laddr) + 1);
	c->rport = (uint16_t)rport;
	c->lport = (uint16_t)lport;
	c->proxy_done = c->cfg->proxy_protocol == PROXY_OFF;
	c->proxy_trusted = !c->proxy_done &&
	    *c->cfg->proxy_trusted_clients != '\0' &&
	    listener_acl_allows(c->cfg->proxy_trusted_clients, NULL, sa);
	conn_sockopts(c->cfg, fd);
	evutil_make_socket_nonblocking(fd);

	if (c->cfg->tls != NULL) {
		struct ssl_st	*ssl;

		if ((ssl = tls_ssl_new(c->cfg->tls, c->id)) == NULL) {
			server_config_release(srv, c->cfg);
			free(c->hs);
			free(c);
			close(fd);
			return;
		}
		c->tls = true;
		c->bev = bufferevent_openssl_socket_new(server_base(srv), fd,
		    ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		c->in = bufferevent_get_input(c->bev);
		c->out = bufferevent_get_output(c->bev);
		bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb,
		    conn_event_cb, c);
	} else {
		/* Queues are taken when bytes must wait (conn_out). */
		if (conn_in_none == NULL &&
		    (conn_in_none = evbuffer_new()) == NULL)
			util_oom(sizeof(void *));
		if (conn_out_none == NULL &&
		    (conn_out_none = evbuffer_new()) == NULL)
			util_oom(sizeof(void *));
		c->in = conn_in_none;
		c->out = conn_out_none;
		/* The read event is part of this allocation. */
		c->rev = (struct event *)((char *)c + evoff);
		if (event_assign(c->rev, server_base(srv), fd,
		    EV_READ | EV_PERSIST, conn_sock_read_cb, c) == -1)
			abort();
	}
	c->fd = fd;
	c->timeout = c->cfg->default_timeout;
	conn_set_read_high(c, (size_t)c->cfg->max_header_size + 4);
	conn_set_write_low(c, CONN_OUT_LOW);
	if (c->bev != NULL) {
		if (c->cfg->default_timeout > 0) {
			tv.tv_sec = c->cfg->default_timeout;
			tv.tv_usec = 0;
			bufferevent_set_timeouts(c->bev, NULL, &tv);
		}
		if (c->cfg->ssl_handshake_timeout > 0) {
			/* DefaultConnectionTimeout: a client silent in the handshake. */
			struct timeval rtv = { c->cfg->ssl_handshake_timeout, 0 };

			bufferevent_set_timeouts(c->bev, &rtv,
			    c->cfg->default_timeout > 0 ? &tv : NULL);
		}
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	} else
		conn_update_read(c);
	conn_timer(c, (unsigned long long)c->cfg->handshake_timeout * 1000);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	log_debug("%s accepted %s:%d", c->id, c->raddr, c->rport);
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
		if (c->busy > 0)
			c->dead = true;
		else
			conn_free(c);
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
	struct conn_piece	 h;
	struct conn_extra	*x;

	if (c->state != CONN_OPEN)
		return -1;
	if (c->x != NULL && (c->x->file != NULL || conn_held_len(c) > 0)) {
		/* A sendfile owns the message stream: wait for its end. */
		memset(&h, 0, sizeof(h));
		h.len = len;
		h.type = type;
		h.first = first;
		h.last = last;
		x = c->x;
		if (x->held == NULL && (x->held = evbuffer_new()) == NULL)
			util_oom(sizeof(h) + len);
		evbuffer_add(x->held, &h, sizeof(h));
		evbuffer_add(x->held, data, len);
		c->paused_output = true;
		conn_account(c);
		return 0;
	}
	if (ws_session_send(c->ws, type, data, len, first, last) == -1)
		return -1;
	c->backend_msg_open = !last;
	if (last) {
		c->msgs_out++;
		server_stats(c->srv)->msgs_out++;
	}
	if (evbuffer_get_length(c->out) > CONN_OUT_HIGH)
		c->paused_output = true;
	conn_account(c);
	return 0;
}

/* The recorded close code and reason; see conn.h. */
int
conn_close_status(const struct conn *c, const char **reason)
{
	*reason = c->cl != NULL ? c->cl->reason : "";
	return c->cl != NULL ? c->cl->code : 0;
}

bool
conn_output_full(const struct conn *c)
{
	return conn_mem_over || conn_file_get(c) != NULL ||
	    conn_held_len(c) > 0 ||
	    evbuffer_get_length(c->out) > CONN_OUT_HIGH;
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

size_t
conn_memory(bool *over)
{
	*over = conn_mem_over;
	return conn_mem;
}

unsigned int
conn_count(void)
{
	return nconns;
}

void
conn_close_all(int code, const char *reason)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CONN_OPEN)
			conn_close(c, code, reason);
		else if ((c->state == CONN_HANDSHAKE ||
		    c->state == CONN_VERDICT) && c->busy == 0) {
			conn_set_close(c, 0, "server", "shutdown", 8);
			conn_free(c);
		}
	}
}

void
conn_abort_all(void)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		conn_set_close(c, 1006, "server", "shutdown timeout", 16);
		conn_free(c);
	}
}

struct event_base *
conn_base(const struct conn *c)
{
	return server_base(c->srv);
}

const struct config *
conn_config(const struct conn *c)
{
	return c->cfg;
}

const char *
conn_id(const struct conn *c)
{
	return c->id;
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

const char *
conn_subprotocol(const struct conn *c)
{
	return c->x != NULL ? c->x->subprotocol : NULL;
}

const char *
conn_dir_program(const struct conn *c, const char **script_name,
    const char **path_info)
{
	const struct conn_extra	*x = c->x;

	if (script_name != NULL)
		*script_name = x != NULL ? x->dir_script : NULL;
	if (path_info != NULL)
		*path_info = x != NULL ? x->dir_info : NULL;
	return x != NULL ? x->dir_prog : NULL;
}

const char *
conn_remote_addr(const struct conn *c)
{
	return c->raddr;
}

int
conn_remote_port(const struct conn *c)
{
	return c->rport;
}

const char *
conn_local_addr(const struct conn *c)
{
	return c->raddr + c->laddr_off;
}

int
conn_local_port(const struct conn *c)
{
	return c->lport;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->tls;
}

struct ssl_st *
conn_ssl(const struct conn *c)
{
	return c->tls && c->tls_ready ? bufferevent_openssl_get_ssl(c->bev) :
	    NULL;
}

/*
 * First look at a connection after its upgrade was answered: count the
 * backend (its open failing leaves no instance behind: conn_handshake has
 * closed with 1011 by now) and tell the observers.
 */
static void
conn_announce(struct conn *c)
{
	struct server_stats	*st = server_stats(c->srv);

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
	/* From here on the request is kept as its bytes (c->head). */
	conn_hs_free(c);
}

/*
 * Ends a sendfile and reports it. Unless the WebSocket is closing, an
 * unfinished message gets an empty final fragment so that the stream
 * stays valid for what comes next.
 */
static void
conn_file_end(struct conn *c, enum conn_file_status st, int err)
{
	struct conn_file	*f = conn_file_get(c);

	if (f == NULL)
		return;
	c->x->file = NULL;
	if (st != CONN_FILE_DONE && st != CONN_FILE_CLOSED &&
	    c->state == CONN_OPEN &&
	    ws_session_send(c->ws, WS_MSG_BINARY, NULL, 0, !f->started,
	    true) == 0) {
		c->msgs_out++;
		server_stats(c->srv)->msgs_out++;
	}
	close(f->fd);
	free(f->buf);
	f->done(f->arg, st, f->sent, err);
	free(f);
}

/* Queues file fragments until the client's queue is full or the file ends. */
static void
conn_file_pump(struct conn *c)
{
	struct conn_file	*f;
	size_t			 want;
	ssize_t			 n;
	bool			 last;

	/* c->out is read each time: a plain queue is taken on first write. */
	while ((f = conn_file_get(c)) != NULL && c->state == CONN_OPEN &&
	    evbuffer_get_length(c->out) <= CONN_OUT_HIGH) {
		want = f->bufsize;
		if (f->size - f->sent < want)
			want = (size_t)(f->size - f->sent);
		n = want > 0 ? read(f->fd, f->buf, want) : 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_error("%s sendfile: read: %s", c->id, strerror(errno));
			conn_file_end(c, CONN_FILE_ERROR, errno);
			return;
		}
		/* A file that shrank ends early; one that grows is cut. */
		last = n == 0 || f->sent + (uint64_t)n >= f->size;
		if (ws_session_send(c->ws, WS_MSG_BINARY, f->buf, (size_t)n,
		    !f->started, last) == -1) {
			conn_file_end(c, CONN_FILE_CLOSED, 0);
			return;
		}
		f->started = true;
		f->sent += (uint64_t)n;
		if (last) {
			c->msgs_out++;
			server_stats(c->srv)->msgs_out++;
			conn_file_end(c, CONN_FILE_DONE, 0);
			return;
		}
	}
	if (conn_file_get(c) != NULL && c->state != CONN_OPEN)
		conn_file_end(c, CONN_FILE_CLOSED, 0);
}

/* Bytes of backend pieces held back (made on first use: most have none). */
static size_t
conn_held_len(const struct conn *c)
{
	return c->x != NULL && c->x->held != NULL ?
	    evbuffer_get_length(c->x->held) : 0;
}

/* Sends the backend pieces held back during a sendfile, in order. */
static void
conn_flush_held(struct conn *c)
{
	struct conn_piece	 h;
	uint8_t			*p;

	while (conn_held_len(c) >= sizeof(h)) {
		evbuffer_copyout(c->x->held, &h, sizeof(h));
		p = evbuffer_pullup(c->x->held, (ev_ssize_t)(sizeof(h) + h.len));
		if (c->state == CONN_OPEN && p != NULL &&
		    ws_session_send(c->ws, h.type, p + sizeof(h), h.len,
		    h.first, h.last) == 0) {
			c->backend_msg_open = !h.last;
			if (h.last) {
				c->msgs_out++;
				server_stats(c->srv)->msgs_out++;
			}
		}
		evbuffer_drain(c->x->held, sizeof(h) + h.len);
	}
}

/*
 * After a sendfile ended outside the write callback: flush what the
 * backend sent meanwhile and, if the queue is low, let it and the client
 * go on (otherwise the write callback does that when it drains).
 */
static void
conn_output_resume(struct conn *c)
{
	if (conn_file_get(c) != NULL || c->state == CONN_DRAINING)
		return;
	conn_flush_held(c);
	if (!c->paused_output || evbuffer_get_length(c->out) > CONN_OUT_LOW)
		return;
	c->paused_output = false;
	if (c->b != NULL && c->bops->writable != NULL)
		c->bops->writable(c->b);
	if (c->dead)
		return;
	if (evbuffer_get_length(c->in) > 0)
		conn_post(c, CONN_POST_KICK);
	conn_update_read(c);
}

void
conn_get_info(const struct conn *c, struct conn_info *ci)
{
	static const char *const states[] = {
		[CONN_HANDSHAKE] = "handshake",
		[CONN_VERDICT] = "verdict",
		[CONN_OPEN] = "open",
		[CONN_CLOSING] = "closing",
		[CONN_DRAINING] = "draining",
	};

	memset(ci, 0, sizeof(*ci));
	ci->id = c->id;
	ci->state = states[c->state];
	ci->connected = c->state == CONN_OPEN;
	ci->accept_data = !c->paused_admin;
	ci->line_mode = c->line_mode;
	ci->ready_to_send = c->state == CONN_OPEN && !conn_output_full(c);
	ci->sending_file = conn_file_get(c) != NULL;
	ci->timeout = c->timeout;
	ci->route = c->route != NULL ? c->route->name : "";
	ci->age_ms = util_now_ms() - c->t_start;
	ci->bytes_in = c->bytes_in;
	ci->bytes_out = c->bytes_out;
	ci->msgs_in = c->msgs_in;
	ci->msgs_out = c->msgs_out;
}

struct conn *
conn_find(const char *id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry) {
		if (strcmp(c->id, id) == 0)
			return c;
	}
	return NULL;
}

struct conn *
conn_first(void)
{
	return TAILQ_FIRST(&conns);
}

struct conn *
conn_next(const struct conn *c)
{
	return TAILQ_NEXT(c, entry);
}

void
conn_set_accept_data(struct conn *c, bool on)
{
	c->paused_admin = !on;
	conn_update_read(c);
	if (on && (c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    evbuffer_get_length(c->in) > 0)
		conn_post(c, CONN_POST_KICK);
}

void
conn_set_timeout(struct conn *c, int seconds)
{
	struct timeval	tv = { seconds, 0 };

	c->timeout = seconds;
	if (c->bev != NULL) {
		/* During a TLS handshake the handshake's own timeout stays. */
		if (!c->tls || c->tls_ready)
			bufferevent_set_timeouts(c->bev, NULL,
			    seconds > 0 ? &tv : NULL);
	} else if (c->writing)
		event_add(c->wev, seconds > 0 ? &tv : NULL);
}

void
conn_set_line_mode(struct conn *c, bool on)
{
	c->line_mode = on;
}

int
conn_ping(struct conn *c, const void *data, size_t len)
{
	if (c->state != CONN_OPEN)
		return -1;
	return ws_session_ping(c->ws, data, len);
}

int
conn_send_admin(struct conn *c, enum ws_msg_type type, const void *data,
    size_t len)
{
	if (c->state != CONN_OPEN)
		return -1;
	if (conn_file_get(c) != NULL || c->backend_msg_open ||
	    conn_held_len(c) > 0)
		return -2;
	if (conn_output_full(c))
		return -3;
	if (ws_session_send(c->ws, type, data, len, true, true) == -1)
		return -1;
	c->msgs_out++;
	server_stats(c->srv)->msgs_out++;
	if (evbuffer_get_length(c->out) > CONN_OUT_HIGH)
		c->paused_output = true;
	conn_account(c);
	return 0;
}

int
conn_sendfile(struct conn *c, int fd, conn_file_cb done, void *arg)
{
	struct conn_file	*f;
	struct stat		 sb;
	off_t			 off;

	if (c->state != CONN_OPEN)
		return -1;
	if (conn_file_get(c) != NULL || c->backend_msg_open ||
	    conn_held_len(c) > 0)
		return -2;
	f = xcalloc(1, sizeof(*f));
	f->fd = fd;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
		off = lseek(fd, 0, SEEK_CUR);
		f->size = (uint64_t)sb.st_size - (off > 0 &&
		    off < sb.st_size ? (uint64_t)off : 0);
	}
	f->bufsize = (size_t)c->cfg->max_frame_size < CONN_FILE_CHUNK ?
	    (size_t)c->cfg->max_frame_size : CONN_FILE_CHUNK;
	f->buf = xmalloc(f->bufsize);
	f->done = done;
	f->arg = arg;
	conn_extra(c)->file = f;
	/* The backend and the client wait until the file is out. */
	c->paused_output = true;
	conn_update_read(c);
	c->busy++;
	conn_file_pump(c);
	if (conn_file_get(c) == NULL)
		conn_output_resume(c);
	c->busy--;
	if (c->dead && c->busy == 0)
		conn_free(c);
	return 0;
}

int
conn_interrupt(struct conn *c)
{
	if (conn_file_get(c) == NULL)
		return -1;
	c->busy++;
	conn_file_end(c, CONN_FILE_INTERRUPTED, 0);
	conn_output_resume(c);
	c->busy--;
	if (c->dead && c->busy == 0)
		conn_free(c);
	return 0;
}

void
conn_set_hooks(const struct conn_hooks *hooks)
{
	conn_hooks = hooks;
}
