/* backend-unix.c - unix: backends in stream mode: one UNIX-socket connection per WebSocket. */
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

#include "backend/backend.h"
#include "backend/cgi.h"
#include "conf/config.h"
#include "event/conn.h"
#include "base/log.h"
#include "core/msgstream.h"
#include "base/util.h"
#include "core/ws-utf8.h"

/*
 * Client -> socket: pause the client above HIGH queued bytes, resume below
 * LOW, so a backend that reads slowly holds back only its own client.
 */
#define UX_SEND_HIGH	(256 * 1024)
#define UX_SEND_LOW	(64 * 1024)
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
	enum msg_format		 format;
	int			 kill_timeout;	/* seconds */
	struct bufferevent	*bev;		/* NULL once closed */
	struct event		*timer;		/* closes a lingering socket */
	struct msgstream	 dec;
	struct ws_utf8		 utf8;		/* outgoing text message */
	int			 busy;

	bool			 released;	/* the connection called close */
	bool			 closing;	/* shutdown started */
	bool			 in_paused;	/* we paused the client's input */
	bool			 out_blocked;	/* waiting for writable */
	bool			 eof;		/* the backend shut its side */
	bool			 shut_wr;	/* we shut ours */
};

static void	*ux_open(struct conn *, const struct route *, const char **);
static void	 ux_message(void *, enum ws_msg_type, const uint8_t *, size_t,
		    bool, bool);
static void	 ux_writable(void *);
static void	 ux_close(void *);

static int	 ux_piece(void *, enum ws_msg_type, const uint8_t *, size_t,
		    bool, bool);
static void	 ux_peer_close(void *, int, const char *, size_t);
static int	 ux_ping(void *, const uint8_t *, size_t);
static void	 ux_read_cb(struct bufferevent *, void *);
static void	 ux_write_cb(struct bufferevent *, void *);
static void	 ux_event_cb(struct bufferevent *, short, void *);
static void	 ux_timer_cb(evutil_socket_t, short, void *);
static void	 ux_process(struct ux *);
static void	 ux_finish(struct ux *);
static void	 ux_end(struct ux *, int, const char *);
static void	 ux_shutdown(struct ux *);
static void	 ux_close_socket(struct ux *);
static void	 ux_enter(struct ux *);
static void	 ux_leave(struct ux *);

const struct backend_ops backend_unix_ops = {
	.name = "unix",
	.open_early = true,
	.open = ux_open,
	.message = ux_message,
	.writable = ux_writable,
	.close = ux_close,
};

static const struct msgstream_sink ux_sink = {
	.piece = ux_piece,
	.close = ux_peer_close,
	.ping = ux_ping,
};

/*
 * Connects to the route's socket and queues the request's CGI variables as
 * an SCGI header. Called before the 101 goes out: a UNIX-socket connect
 * answers at once, so a backend that is down (no socket, nobody
 * listening, backlog full) fails the upgrade instead of a WebSocket.
 * Returns the instance, or NULL with *cause set and the failure logged.
 */
static void *
ux_open(struct conn *conn, const struct route *route, const char **cause)
{
	struct sockaddr_un	 sun;
	struct ux		*u;
	char			**envp;
	int			 fd, kt;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (route->socket == NULL ||
	    strlen(route->socket) >= sizeof(sun.sun_path)) {
		*cause = "no backend socket";
		log_error("%s %s", conn_id(conn), *cause);
		return NULL;
	}
	memcpy(sun.sun_path, route->socket, strlen(route->socket));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*cause = "backend socket failed";
		log_error("%s %s: %s", conn_id(conn), *cause, strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*cause = errno == EAGAIN ? "backend busy" : "backend down";
		log_error("%s cannot connect to backend %s: %s", conn_id(conn),
		    route->socket, strerror(errno));
		close(fd);
		return NULL;
	}

	u = xcalloc(1, sizeof(*u));
	u->conn = conn;
	snprintf(u->id, sizeof(u->id), "%s", conn_id(conn));
	snprintf(u->path, sizeof(u->path), "%s", route->socket);
	u->format = route->format;
	kt = conn_config(conn)->kill_timeout;
	u->kill_timeout = kt > 0 ? kt : 0;
	msgstream_init(&u->dec, route->format);
	msgstream_set_data(&u->dec, (enum data_format)route->data_format);
	u->timer = evtimer_new(conn_base(conn), ux_timer_cb, u);
	u->bev = bufferevent_socket_new(conn_base(conn), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (u->timer == NULL || u->bev == NULL)
		abort();
	bufferevent_setcb(u->bev, ux_read_cb, ux_write_cb, ux_event_cb, u);
	bufferevent_setwatermark(u->bev, EV_READ, 0, MSGSTREAM_CHUNK);
	bufferevent_setwatermark(u->bev, EV_WRITE, UX_SEND_LOW, 0);
	envp = cgi_env_build(conn, route, false);
	cgi_scgi_header(envp, bufferevent_get_output(u->bev));
	free(envp);
	bufferevent_enable(u->bev, EV_READ | EV_WRITE);
	log_verbose("%s connected to backend %s", u->id, u->path);
	return u;
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
	if (u->in_paused && u->conn != NULL)
		conn_resume_input(u->conn);
	u->in_paused = false;
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
	u->in_paused = false;
	if (u->bev == NULL)
		return;
	in = bufferevent_get_input(u->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	u->out_blocked = false;
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

	(void)first;
	if (u->conn == NULL || u->bev == NULL)
		return;
	ux_enter(u);
	if (msgstream_encode(u->format, bufferevent_get_output(u->bev), type,
	    data, len, last) == -1) {
		log_info("%s binary message in lines mode", u->id);
		ux_end(u, 1003, "binary message in lines mode");
	} else if (!u->in_paused &&
	    evbuffer_get_length(bufferevent_get_output(u->bev)) >
	    UX_SEND_HIGH) {
		u->in_paused = true;
		conn_pause_input(u->conn);
	}
	ux_leave(u);
}

/* The socket's send queue drained to its low-water mark (or empty). */
static void
ux_write_cb(struct bufferevent *bev, void *arg)
{
	struct ux	*u = arg;
	size_t		 len = evbuffer_get_length(bufferevent_get_output(bev));

	ux_enter(u);
	if (u->in_paused && u->conn != NULL && len <= UX_SEND_LOW) {
		u->in_paused = false;
		conn_resume_input(u->conn);
	}
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

	(void)bev;
	ux_enter(u);
	ux_process(u);
	ux_leave(u);
}

/* The backend shut its side, or the socket failed. */
static void
ux_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ux	*u = arg;

	(void)bev;
	ux_enter(u);
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
			ux_process(u);
			ux_finish(u);
		}
	}
	ux_leave(u);
}

/* The backend has said all it will: close the WebSocket once it is sent. */
static void
ux_finish(struct ux *u)
{
	if (u->conn == NULL || !u->eof || u->bev == NULL || u->out_blocked ||
	    evbuffer_get_length(bufferevent_get_input(u->bev)) > 0 ||
	    msgstream_pending(&u->dec))
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
	log_verbose("%s backend %s still open after %d s: closing it", u->id,
	    u->path, u->kill_timeout);
	ux_close_socket(u);
	ux_leave(u);
}

/* The client's output queue has room again: read the backend again. */
static void
ux_writable(void *b)
{
	struct ux	*u = b;

	if (u->conn == NULL || u->bev == NULL || !u->out_blocked)
		return;
	ux_enter(u);
	u->out_blocked = false;
	/* ReadyToSend: a framed backend may pace itself by it. */
	if (!u->shut_wr && !u->closing)
		msgstream_encode_ready(u->format,
		    bufferevent_get_output(u->bev));
	if (!u->eof)
		bufferevent_enable(u->bev, EV_READ);
	ux_process(u);
	ux_finish(u);
	ux_leave(u);
}

/* Turns buffered backend output into messages until the client is full. */
static void
ux_process(struct ux *u)
{
	struct evbuffer	*in;
	const char	*err = NULL;

	if (u->bev == NULL)
		return;
	in = bufferevent_get_input(u->bev);
	if (u->conn == NULL) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (u->out_blocked)
		return;
	if (msgstream_decode(&u->dec, in, u->eof, &ux_sink, u, &err) == -1) {
		log_error("%s backend %s: %s", u->id, u->path, err);
		ux_end(u, 1011, u->format == FORMAT_FRAMED ?
		    "backend broke the framed format" :
		    "backend wrote invalid UTF-8");
	}
}

/*
 * msgstream sink: one piece to the client, text validated incrementally.
 * Returns 0; 1 when the client's queue is full; -1 when detached.
 */
static int
ux_piece(void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct ux	*u = arg;

	if (u->conn == NULL)
		return -1;
	if (type == WS_MSG_TEXT) {
		if (first)
			ws_utf8_init(&u->utf8);
		if (ws_utf8_feed(&u->utf8, data, len) == -1 ||
		    (last && !ws_utf8_complete(&u->utf8))) {
			log_error("%s backend %s sent invalid UTF-8", u->id,
			    u->path);
			ux_end(u, 1011, "backend sent invalid UTF-8");
			return -1;
		}
	}
	(void)conn_send(u->conn, type, data, len, first, last);
	if (u->conn == NULL)
		return -1;
	if (conn_output_full(u->conn)) {
		u->out_blocked = true;
		bufferevent_disable(u->bev, EV_READ);
		return 1;
	}
	return 0;
}

/* msgstream sink: the backend closes the WebSocket (framed "C"). */
static void
ux_peer_close(void *arg, int code, const char *reason, size_t len)
{
	struct ux	*u = arg;
	char		 buf[128];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, reason);
	ux_end(u, code, len > 0 ? buf : NULL);
}

/* msgstream sink: the backend pings the client (framed "P"). */
static int
ux_ping(void *arg, const uint8_t *data, size_t len)
{
	struct ux	*u = arg;

	if (u->conn == NULL)
		return -1;
	(void)conn_ping(u->conn, data, len);
	return 0;
}

/* The connection is done with us: tell a framed backend why, then SHUT_WR. */
static void
ux_close(void *b)
{
	struct ux	*u = b;
	const char	*reason;
	int		 code;

	ux_enter(u);
	u->released = true;
	if (u->conn != NULL && u->bev != NULL) {
		/* Unknown: the connection dropped without a close frame. */
		if ((code = conn_close_status(u->conn, &reason)) == 0)
			code = 1006;
		msgstream_encode_close(u->format,
		    bufferevent_get_output(u->bev), code, reason,
		    strlen(reason));
	}
	ux_shutdown(u);
	ux_leave(u);
}
