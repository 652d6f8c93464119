/* backend-unix.c - unix: and tcp: backends in stream mode: one socket connection per WebSocket. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "backend/backends.h"
#include "event/backend.h"
#include "backend/cgi.h"
#include "conf/config.h"
#include "event/conn.h"
#include "base/log.h"
#include "backend/msgstream.h"
#include "backend/pump.h"
#include "backend/tcp.h"
#include "base/util.h"

#define UX_ID_MAX	64

/*
 * One socket connection. It lives until the connection has let go (close
 * op) and the socket is closed; busy keeps it alive while one of our
 * frames is on the stack, because conn_close calls back into us.
 */
struct ux {
	struct conn		*conn;		/* NULL once detached */
	char			 id[UX_ID_MAX];
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char			 label[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int			 keepalive;	/* tcp: TcpKeepAlive */
	int			 kill_timeout;	/* seconds */
	struct bufferevent	*bev;		/* NULL once closed */
	struct event		*timer;		/* closes a lingering socket */
	struct pump		 pump;		/* messages both ways */
	int			 busy;

	bool			 released;	/* the connection called close */
	bool			 closing;	/* shutdown started */
	bool			 eof;		/* the backend shut its side */
	bool			 shut_wr;	/* we shut ours */
	bool			 connecting;	/* tcp: the connect runs */
};

static void	*ux_open(struct conn *, const struct route *, char **);
static void	 ux_message(void *, enum ws_msg_type, const uint8_t *, size_t,
		    bool, bool);
static void	 ux_writable(void *);
static void	 ux_ping(void *, const uint8_t *, size_t);
static void	 ux_pong(void *, const uint8_t *, size_t);
static void	 ux_close(void *);

static void	 ux_pump_read(void *, bool);
static void	 ux_pump_end(void *, int, const char *);
static void	 ux_read_cb(struct bufferevent *, void *);
static void	 ux_write_cb(struct bufferevent *, void *);
static void	 ux_event_cb(struct bufferevent *, short, void *);
static void	 ux_timer_cb(evutil_socket_t, short, void *);
static void	 ux_finish(struct ux *);
static void	 ux_end(struct ux *, int, const char *);
static void	 ux_shutdown(struct ux *);
static void	 ux_close_socket(struct ux *);
static void	 ux_enter(struct ux *);
static void	 ux_leave(struct ux *);
static struct ux *ux_new(struct conn *, const struct route *, const char *,
		    struct bufferevent *);
static void	*tx_open(struct conn *, const struct route *, char **);

const struct backend_ops backend_unix_ops = {
	.name = "unix",
	.open_early = true,
	.open = ux_open,
	.message = ux_message,
	.ping = ux_ping,
	.pong = ux_pong,
	.writable = ux_writable,
	.close = ux_close,
};

/*
 * tcp: in stream mode. A TCP connect does not answer at once: open starts
 * it and the upgrade waits (verdict) until it is done, 101, or has
 * failed or passed ConnectTimeout, 503.
 */
const struct backend_ops backend_tcp_ops = {
	.name = "tcp",
	.open_early = true,
	.verdict = true,
	.open = tx_open,
	.message = ux_message,
	.writable = ux_writable,
	.close = ux_close,
};

static const struct pump_ops ux_pump_ops = {
	.read = ux_pump_read,
	.end = ux_pump_end,
};

/*
 * Connects to the route's socket and queues the request's CGI variables as
 * an SCGI header. Called before the 101 goes out: a UNIX-socket connect
 * answers at once, so a backend that is down (no socket, nobody
 * listening, backlog full) fails the upgrade instead of a WebSocket.
 * Returns the instance, or NULL with *cause set and the failure logged.
 */
static void *
ux_open(struct conn *conn, const struct route *route, char **cause)
{
	struct sockaddr_un	 sun;
	struct ux		*u;
	int			 fd;
	bool			 busy;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (route->socket == NULL ||
	    strlen(route->socket) >= sizeof(sun.sun_path)) {
		*cause = xstrdup("no backend socket");
		log_error("%s %s", conn_id(conn), *cause);
		return NULL;
	}
	memcpy(sun.sun_path, route->socket, strlen(route->socket));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_error("%s backend socket failed: %s", conn_id(conn),
		    strerror(errno));
		*cause = xstrdup("backend socket failed");
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		busy = errno == EAGAIN;
		log_error("%s cannot connect to backend %s: %s", conn_id(conn),
		    route->socket, strerror(errno));
		*cause = xstrdup(busy ? "backend busy" : "backend down");
		close(fd);
		return NULL;
	}

	u = ux_new(conn, route, route->socket, bufferevent_socket_new(
	    conn_base(conn), fd, BEV_OPT_CLOSE_ON_FREE));
	log_verbose("%s connected to backend %s", u->id, u->path);
	return u;
}

/*
 * An instance on bev (connected, or connecting to a tcp: backend) with
 * the request's CGI variables queued as an SCGI header.
 */
static struct ux *
ux_new(struct conn *conn, const struct route *route, const char *where,
    struct bufferevent *bev)
{
	struct ux	*u;
	char		**envp;
	int		 kt;

	u = xcalloc(1, sizeof(*u));
	u->conn = conn;
	snprintf(u->id, sizeof(u->id), "%s", conn_id(conn));
	snprintf(u->path, sizeof(u->path), "%s", where);
	snprintf(u->label, sizeof(u->label), "backend %s", where);
	kt = conn_config(conn)->kill_timeout;
	u->kill_timeout = kt > 0 ? kt : 0;
	pump_init(&u->pump, conn, route, u->id, "backend", u->label,
	    &ux_pump_ops, u);
	u->timer = evtimer_new(conn_base(conn), ux_timer_cb, u);
	u->bev = bev;
	if (u->timer == NULL || u->bev == NULL)
		util_oom(sizeof(void *));
	bufferevent_setcb(u->bev, ux_read_cb, ux_write_cb, ux_event_cb, u);
	bufferevent_setwatermark(u->bev, EV_READ, 0, MSGSTREAM_CHUNK);
	bufferevent_setwatermark(u->bev, EV_WRITE, PUMP_TO_LOW, 0);
	envp = cgi_env_build(conn, route, false);
	cgi_scgi_header(envp, bufferevent_get_output(u->bev));
	free(envp);
	bufferevent_enable(u->bev, EV_READ | EV_WRITE);
	return u;
}

/*
 * tcp: starts the connect (to the address resolved at load) with the SCGI
 * header queued behind it; the upgrade waits for the connect's end
 * (ux_event_cb) or ConnectTimeout (ux_timer_cb). Returns the instance,
 * or NULL with *cause when the connect cannot even start.
 */
static void *
tx_open(struct conn *conn, const struct route *route, char **cause)
{
	struct tcp_peer		 peer;
	struct bufferevent	*bev;
	struct timeval		 tv;
	struct ux		*u;
	char			 where[300], *why = NULL;

	tcp_peer_of(route, &peer);
	snprintf(where, sizeof(where), "tcp:%s:%d", route->tcp_host,
	    route->tcp_port);
	if ((bev = tcp_connect(conn_base(conn), &peer, &why)) == NULL) {
		log_error("%s cannot connect to backend %s: %s", conn_id(conn),
		    where, why);
		free(why);
		*cause = xstrdup("backend down");
		return NULL;
	}
	u = ux_new(conn, route, where, bev);
	u->connecting = true;
	u->keepalive = peer.keepalive;
	tv.tv_sec = peer.timeout / 1000;
	tv.tv_usec = (peer.timeout % 1000) * 1000;
	evtimer_add(u->timer, &tv);
	return u;
}

/*
 * tcp: the connect is over. Connected: the upgrade goes on (101);
 * failed (why): the client gets 503 and the instance goes with the
 * connection's close op. The caller holds a frame.
 */
static void
tx_connected(struct ux *u, const char *why)
{
	struct conn	*conn = u->conn;

	u->connecting = false;
	evtimer_del(u->timer);
	if (why == NULL) {
		log_verbose("%s connected to backend %s", u->id, u->path);
		if (conn != NULL)
			(void)conn_decided(conn, 101, NULL, NULL, 0);
		return;
	}
	log_error("%s cannot connect to backend %s: %s", u->id, u->path, why);
	if (conn != NULL)
		(void)conn_decided(conn, 503, "backend down", NULL, 0);
	ux_close_socket(u);
}

/* Marks a callback frame; the instance is not freed while one is active. */
static void
ux_enter(struct ux *u)
{
	u->busy++;
}

/* Leaves a callback frame; frees the instance once nothing refers to it. */
static void
ux_leave(struct ux *u)
{
	if (--u->busy > 0 || !u->released || u->bev != NULL)
		return;
	event_free(u->timer);
	free(u);
}

/* Closes the socket and stops the linger timer. */
static void
ux_close_socket(struct ux *u)
{
	if (u->bev == NULL)
		return;
	bufferevent_free(u->bev);
	u->bev = NULL;
	evtimer_del(u->timer);
	pump_to_drained(&u->pump, 0);
}

/*
 * Detaches from the connection and starts tearing down: the backend gets
 * what is queued and then our end of the stream (shutdown SHUT_WR); its
 * output is read and thrown away until it closes too, or KillTimeout
 * passes. Idempotent.
 */
static void
ux_shutdown(struct ux *u)
{
	struct evbuffer	*in;
	struct timeval	 tv;

	if (u->closing)
		return;
	u->closing = true;
	u->conn = NULL;
	pump_detach(&u->pump);
	if (u->bev == NULL)
		return;
	if (u->connecting) {
		/* Nothing was said yet: nothing to finish. */
		u->connecting = false;
		ux_close_socket(u);
		return;
	}
	in = bufferevent_get_input(u->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (u->eof && evbuffer_get_length(bufferevent_get_output(u->bev)) ==
	    0) {
		ux_close_socket(u);
		return;
	}
	bufferevent_enable(u->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(u->bev)) == 0) {
		(void)shutdown(bufferevent_getfd(u->bev), SHUT_WR);
		u->shut_wr = true;
	} else
		bufferevent_setwatermark(u->bev, EV_WRITE, 0, 0);
	tv.tv_sec = u->kill_timeout;
	tv.tv_usec = 0;
	evtimer_add(u->timer, &tv);
}

/*
 * The backend ends the WebSocket. Detaches first: conn_close calls our
 * close op before it returns. The caller holds a frame.
 */
static void
ux_end(struct ux *u, int code, const char *reason)
{
	struct conn	*conn = u->conn;

	if (conn == NULL)
		return;
	ux_shutdown(u);
	conn_close(conn, code, reason);
}

/* A piece of a client message: to the socket in the route's format. */
static void
ux_message(void *b, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct ux	*u = b;

	if (u->conn == NULL || u->bev == NULL)
		return;
	ux_enter(u);
	pump_message(&u->pump, bufferevent_get_output(u->bev), type, data, len,
	    last);
	ux_leave(u);
}

/* The reference's Ping event, for a framed socket. */
static void
ux_ping_event(struct ux *u, bool pong, const uint8_t *data, size_t len)
{
	if (u->conn != NULL && u->bev != NULL)
		pump_ping_event(&u->pump, bufferevent_get_output(u->bev), pong,
		    data, len);
}

/* The client pinged (the daemon answered it). */
static void
ux_ping(void *b, const uint8_t *data, size_t len)
{
	ux_ping_event(b, false, data, len);
}

/* A pong came from the client. */
static void
ux_pong(void *b, const uint8_t *data, size_t len)
{
	ux_ping_event(b, true, data, len);
}

/* The socket's send queue drained to its low-water mark (or empty). */
static void
ux_write_cb(struct bufferevent *bev, void *arg)
{
	struct ux	*u = arg;
	size_t		 len = evbuffer_get_length(bufferevent_get_output(bev));

	ux_enter(u);
	pump_to_drained(&u->pump, len);
	if (u->closing && len == 0 && !u->shut_wr) {
		(void)shutdown(bufferevent_getfd(bev), SHUT_WR);
		u->shut_wr = true;
		if (u->eof)
			ux_close_socket(u);
	}
	ux_leave(u);
}

/* New data from the backend. */
static void
ux_read_cb(struct bufferevent *bev, void *arg)
{
	struct ux	*u = arg;

	ux_enter(u);
	pump_process(&u->pump, bufferevent_get_input(bev), u->eof);
	ux_leave(u);
}

/* The backend shut its side, or the socket failed. */
static void
ux_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ux	*u = arg;
	struct tcp_peer	 peer;
	char		 buf[160];

	ux_enter(u);
	if (u->connecting) {
		if (what & BEV_EVENT_CONNECTED) {
			memset(&peer, 0, sizeof(peer));
			peer.keepalive = u->keepalive;
			tcp_connected(bev, &peer);
			tx_connected(u, NULL);
		} else
			tx_connected(u, tcp_error(bev, buf, sizeof(buf)));
		ux_leave(u);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		log_info("%s backend %s: %s", u->id, u->path,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		if (u->conn != NULL)
			ux_end(u, 1011, "backend connection failed");
		ux_close_socket(u);
	} else if (what & BEV_EVENT_EOF) {
		u->eof = true;
		if (u->conn == NULL) {
			/* Closing: its answer to our SHUT_WR, or it quit. */
			if (u->shut_wr || evbuffer_get_length(
			    bufferevent_get_output(u->bev)) == 0)
				ux_close_socket(u);
		} else {
			bufferevent_disable(u->bev, EV_READ);
			pump_process(&u->pump, bufferevent_get_input(u->bev),
			    true);
			ux_finish(u);
		}
	}
	ux_leave(u);
}

/* The backend has said all it will: close the WebSocket once it is sent. */
static void
ux_finish(struct ux *u)
{
	if (u->conn == NULL || !u->eof || u->bev == NULL ||
	    !pump_drained(&u->pump, bufferevent_get_input(u->bev)))
		return;
	log_verbose("%s backend %s closed its connection", u->id, u->path);
	ux_end(u, 0, NULL);	/* DisconnectStatusCode */
}

/* KillTimeout after our SHUT_WR: stop waiting for the backend's EOF. */
static void
ux_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ux	*u = arg;

	(void)fd;
	(void)what;
	ux_enter(u);
	if (u->connecting)
		tx_connected(u, "ConnectTimeout passed");
	else {
		log_verbose("%s backend %s still open after %d s: closing it",
		    u->id, u->path, u->kill_timeout);
		ux_close_socket(u);
	}
	ux_leave(u);
}

/* The client's output queue has room again: read the backend again. */
static void
ux_writable(void *b)
{
	struct ux	*u = b;

	if (u->conn == NULL || u->bev == NULL)
		return;
	ux_enter(u);
	/* ReadyToSend: a framed backend may pace itself by it. */
	if (pump_writable(&u->pump, !u->shut_wr && !u->closing ?
	    bufferevent_get_output(u->bev) : NULL,
	    bufferevent_get_input(u->bev), u->eof))
		ux_finish(u);
	ux_leave(u);
}

/* The connection is done with us: tell a framed backend why, then SHUT_WR. */
static void
ux_close(void *b)
{
	struct ux	*u = b;

	ux_enter(u);
	u->released = true;
	if (u->conn != NULL && u->bev != NULL)
		pump_closed(&u->pump, bufferevent_get_output(u->bev));
	ux_shutdown(u);
	ux_leave(u);
}

/* The pump stops or starts reading the backend (the client's queue). */
static void
ux_pump_read(void *arg, bool on)
{
	struct ux	*u = arg;

	if (u->bev == NULL)
		return;
	if (on)
		bufferevent_enable(u->bev, EV_READ);
	else
		bufferevent_disable(u->bev, EV_READ);
}

/* The pump ends the WebSocket (bad output, binary in lines mode). */
static void
ux_pump_end(void *arg, int code, const char *reason)
{
	ux_end(arg, code, reason);
}
