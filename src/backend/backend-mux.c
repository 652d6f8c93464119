/* backend-mux.c - unix: and tcp: backends in mux mode: one socket carries every WebSocket of a route. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
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
#include "core/mux-proto.h"
#include "core/ws-frame.h"
#include "backend/tcp.h"
#include "base/util.h"
#include "conf/tls.h"
#include "event/topics.h"

/*
 * The protocol (wsserverd(8), MUX PROTOCOL): every command is one line of
 * space-separated words ending in "\n", followed by exactly <len> payload
 * bytes when the command has a length; mux-proto.c parses them.
 */
/*
 * A WebSocket whose client queue is full still has its sends accepted up
 * to this many bytes; past it that WebSocket alone is closed (1008) and
 * its later sends are discarded, so the shared socket is always read and
 * one slow client never holds up the others.
 */
#define MUX_OVER_CAP	(1024 * 1024)
/* Daemon -> backend: stop reading the clients above HIGH queued bytes. */
#define MUX_OUT_HIGH	(4 * 1024 * 1024)
#define MUX_OUT_LOW	(1024 * 1024)
#define MUX_BACKOFF_MIN	100		/* ms, first reconnect delay */
#define MUX_BACKOFF_MAX	5000		/* ms, the delay doubles up to this */

struct mux_chan;

/* One WebSocket on a channel. */
struct mux_sess {
	TAILQ_ENTRY(mux_sess)	 entry;
	LIST_ENTRY(mux_sess)	 hentry;	/* in ch->buckets */
	struct mux_chan		*ch;		/* NULL once orphaned */
	struct conn		*conn;
	char			 id[MUX_ID_MAX];
	bool			 accepted;	/* verdict 101 given */
	bool			 rejected;	/* the backend refused it */
	bool			 out_open;	/* a send message is half sent */
	bool			 in_paused;	/* we paused the client's input */
	bool			 too_slow;	/* closed for lagging: drop sends */
	size_t			 over;		/* sent while its queue was full */
};

/* A route's socket connection, kept and reconnected while the daemon runs. */
struct mux_chan {
	LIST_ENTRY(mux_chan)	 entry;
	char			*route;		/* route name */
	char			 path[300];	/* the socket, or tcp:HOST:PORT */
	char			 label[300];	/* ... and " (TLS)" */
	bool			 tcp;
	bool			 connecting;	/* tcp: the connect runs */
	struct tcp_peer		 peer;		/* tcp: holds a TLS ctx ref */
	struct event_base	*base;
	struct bufferevent	*bev;		/* NULL: down */
	struct event		*timer;		/* reconnect, tcp: connect deadline */
	unsigned int		 backoff;	/* ms */
	unsigned int		 failures;	/* connect failures in a row */
	TAILQ_HEAD(, mux_sess)	 sessions;
	/*
	 * The sessions by id, for the backend's every command: a walk of
	 * thousands per message would cost more than the message.
	 */
	LIST_HEAD(mux_bucket, mux_sess) *buckets;
	size_t			 nbuckets;	/* a power of two */
	size_t			 nsess;
};

static LIST_HEAD(, mux_chan) mux_chans = LIST_HEAD_INITIALIZER(mux_chans);
static uint8_t	mux_empty[1];		/* the data of empty payloads */

static void	*mux_open(struct conn *, const struct route *, char **);
static void	 mux_message(void *, enum ws_msg_type, const uint8_t *, size_t,
		    bool, bool);
static void	 mux_writable(void *);
static void	 mux_ping(void *, const uint8_t *, size_t);
static void	 mux_pong(void *, const uint8_t *, size_t);
static void	 mux_close(void *);
static int	 mux_connect(struct mux_chan *);
static void	 mux_lost(struct mux_chan *, const char *);
static void	 mux_read_cb(struct bufferevent *, void *);
static void	 mux_write_cb(struct bufferevent *, void *);
static void	 mux_event_cb(struct bufferevent *, short, void *);
static void	 mux_timer_cb(evutil_socket_t, short, void *);
static void	 mux_index_add(struct mux_chan *, struct mux_sess *);
static void	 mux_unlink(struct mux_chan *, struct mux_sess *);

const struct backend_ops backend_mux_ops = {
	.name = "unix-mux",
	.open_early = true,
	.verdict = true,
	.open = mux_open,
	.message = mux_message,
	.writable = mux_writable,
	.ping = mux_ping,
	.pong = mux_pong,
	.close = mux_close,
};

/* The channel of a route (by name and address), made on first use. */
static struct mux_chan *
mux_chan_get(struct event_base *base, const struct route *route)
{
	struct mux_chan	*ch;
	char		 label[300];

	if (route->kind == BACKEND_TCP)
		snprintf(label, sizeof(label), "tcp:%s:%d%s", route->tcp_host,
		    route->tcp_port, route->ssl_use ? " (TLS)" : "");
	else
		snprintf(label, sizeof(label), "%s", route->socket);
	LIST_FOREACH(ch, &mux_chans, entry) {
		if (strcmp(ch->route, route->name) == 0 &&
		    strcmp(ch->label, label) == 0)
			return ch;
	}
	ch = xcalloc(1, sizeof(*ch));
	ch->route = xstrdup(route->name);
	snprintf(ch->label, sizeof(ch->label), "%s", label);
	if (route->kind == BACKEND_TCP) {
		ch->tcp = true;
		tcp_peer_of(route, &ch->peer);
		/* The channel outlives the configuration that made it. */
		if (ch->peer.tls != NULL)
			tls_client_ctx_ref(ch->peer.tls);
		snprintf(ch->path, sizeof(ch->path), "tcp:%s:%d",
		    route->tcp_host, route->tcp_port);
	} else
		snprintf(ch->path, sizeof(ch->path), "%s", route->socket);
	ch->base = base;
	ch->backoff = MUX_BACKOFF_MIN;
	TAILQ_INIT(&ch->sessions);
	if ((ch->timer = evtimer_new(base, mux_timer_cb, ch)) == NULL)
		util_oom(event_get_struct_event_size());
	LIST_INSERT_HEAD(&mux_chans, ch, entry);
	(void)mux_connect(ch);
	return ch;
}

/* A connect failed: logged (the first time an error), tried again later. */
static void
mux_connect_failed(struct mux_chan *ch, const char *why)
{
	struct timeval	tv;

	/* The first failure is an error; the retries that follow, verbose. */
	if (ch->failures++ == 0)
		log_error("route %s: cannot connect to mux backend %s: %s; "
		    "retrying", ch->route, ch->path, why);
	else
		log_verbose("route %s: mux backend %s still down (%s), next "
		    "try in %u ms", ch->route, ch->path, why, ch->backoff);
	tv.tv_sec = ch->backoff / 1000;
	tv.tv_usec = (ch->backoff % 1000) * 1000;
	evtimer_add(ch->timer, &tv);
	ch->backoff = ch->backoff * 2 > MUX_BACKOFF_MAX ? MUX_BACKOFF_MAX :
	    ch->backoff * 2;
}

/* Sets up the channel's bufferevent, connected or connecting. */
static void
mux_attach(struct mux_chan *ch, struct bufferevent *bev)
{
	ch->bev = bev;
	bufferevent_setcb(ch->bev, mux_read_cb, mux_write_cb, mux_event_cb,
	    ch);
	bufferevent_setwatermark(ch->bev, EV_WRITE, MUX_OUT_LOW, 0);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
}

/* The channel is connected (at once for UNIX, later for TCP). */
static void
mux_up(struct mux_chan *ch)
{
	log_info("route %s: mux backend %s connected", ch->route, ch->path);
	ch->connecting = false;
	ch->backoff = MUX_BACKOFF_MIN;
	ch->failures = 0;
}

/*
 * tcp: starts the connect; WebSockets opened meanwhile queue behind it
 * and get 503 if it fails. Returns 0, or -1 with the next attempt
 * scheduled.
 */
static int
mux_connect_tcp(struct mux_chan *ch)
{
	struct bufferevent	*bev;
	struct timeval		 tv;
	char			*why = NULL;

	if ((bev = tcp_connect(ch->base, &ch->peer, &why)) == NULL) {
		mux_connect_failed(ch, why);
		free(why);
		return -1;
	}
	mux_attach(ch, bev);
	ch->connecting = true;
	tv.tv_sec = ch->peer.timeout / 1000;
	tv.tv_usec = (ch->peer.timeout % 1000) * 1000;
	evtimer_add(ch->timer, &tv);
	return 0;
}

/*
 * Connects the channel (a UNIX connect succeeds or fails at once).
 * Returns 0, or -1 with the next attempt scheduled after the back-off.
 */
static int
mux_connect(struct mux_chan *ch)
{
	struct sockaddr_un	 sun;
	int			 fd, err;

	if (ch->tcp)
		return mux_connect_tcp(ch);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* The configuration allows no longer path. */
	memcpy(sun.sun_path, ch->path, strnlen(ch->path,
	    sizeof(sun.sun_path) - 1));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		mux_attach(ch, bufferevent_socket_new(ch->base, fd,
		    BEV_OPT_CLOSE_ON_FREE));
		if (ch->bev == NULL)
			util_oom(sizeof(void *));
		mux_up(ch);
		return 0;
	}
	err = errno;
	if (fd != -1)
		close(fd);
	mux_connect_failed(ch, strerror(err));
	return -1;
}

static void	 mux_sessions_fail(struct mux_chan *, const char *);

/* tcp: the connect failed or passed ConnectTimeout: 503s, try later. */
static void
mux_tcp_failed(struct mux_chan *ch, const char *why)
{
	bufferevent_free(ch->bev);
	ch->bev = NULL;
	ch->connecting = false;
	evtimer_del(ch->timer);
	mux_sessions_fail(ch, "backend down");
	mux_connect_failed(ch, why);
}

/* Reconnect timer; for tcp while connecting, the connect's deadline. */
static void
mux_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mux_chan	*ch = arg;

	if (ch->bev == NULL)
		(void)mux_connect(ch);
	else if (ch->connecting)
		mux_tcp_failed(ch, "ConnectTimeout passed");
}

static void	 mux_put(struct mux_chan *, const void *, size_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/* Queues a command line (and its payload) to the backend. */
static void
mux_put(struct mux_chan *ch, const void *payload, size_t len,
    const char *fmt, ...)
{
	struct evbuffer	*out;
	va_list		 ap;

	if (ch == NULL || ch->bev == NULL)
		return;
	out = bufferevent_get_output(ch->bev);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	if (len > 0)
		evbuffer_add(out, payload, len);
}

/*
 * WebSocketOpenRequest: passes the request (CGI variables as an SCGI
 * netstring) to the backend; conn_decided follows its answer. Returns the
 * instance, or NULL with *cause set when the backend is down (503).
 */
static void *
mux_open(struct conn *conn, const struct route *route, char **cause)
{
	struct mux_chan	*ch;
	struct mux_sess	*s;
	struct evbuffer	*req;
	char		**envp;
	size_t		 len;

	ch = mux_chan_get(conn_base(conn), route);
	if (ch->bev == NULL) {
		*cause = xstrdup("backend down");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->ch = ch;
	s->conn = conn;
	snprintf(s->id, sizeof(s->id), "%s", conn_id(conn));
	TAILQ_INSERT_TAIL(&ch->sessions, s, entry);
	mux_index_add(ch, s);
	req = xevbuffer_new();
	envp = cgi_env_build(conn, route, false);
	cgi_scgi_header(envp, req);
	free(envp);
	len = evbuffer_get_length(req);
	mux_put(ch, NULL, 0, "open %s %zu\n", s->id, len);
	evbuffer_add_buffer(bufferevent_get_output(ch->bev), req);
	evbuffer_free(req);
	return s;
}

/*
 * The code letter of a piece: T/B ends a message, t/b has more to come;
 * U/V ends a line that LineMode cut at MaxLineLength (EOL false).
 */
static char
mux_type_char(enum ws_msg_type type, bool last, bool cut)
{
	if (type == WS_MSG_BINARY)
		return cut ? 'V' : last ? 'B' : 'b';
	return cut ? 'U' : last ? 'T' : 't';
}

/* DataIn: a piece of a client message. */
static void
mux_message(void *b, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct mux_sess	*s = b;

	if (s->ch == NULL || s->ch->bev == NULL)
		return;
	mux_put(s->ch, data, len, "data %s %c %zu\n", s->id,
	    mux_type_char(type, last, last && conn_line_cut(s->conn)), len);
	if (!s->in_paused && evbuffer_get_length(bufferevent_get_output(
	    s->ch->bev)) > MUX_OUT_HIGH) {
		s->in_paused = true;
		conn_pause_input(s->conn);
	}
}

/* ReadyToSend: the client's queue drained. */
static void
mux_writable(void *b)
{
	struct mux_sess	*s = b;
	struct mux_chan	*ch = s->ch;

	s->over = 0;
	if (ch == NULL || ch->bev == NULL || s->too_slow)
		return;
	mux_put(ch, NULL, 0, "ready %s\n", s->id);
}

/* Ping: the client pinged (the daemon answered it already). */
static void
mux_ping(void *b, const uint8_t *data, size_t len)
{
	struct mux_sess	*s = b;

	mux_put(s->ch, data, len, "ping %s %zu\n", s->id, len);
}

/* Ping (Response true): a pong came from the client. */
static void
mux_pong(void *b, const uint8_t *data, size_t len)
{
	struct mux_sess	*s = b;

	mux_put(s->ch, data, len, "pong %s %zu\n", s->id, len);
}

/* Disconnected: the WebSocket (or its request) is over; frees the instance. */
static void
mux_close(void *b)
{
	struct mux_sess	*s = b;
	struct mux_chan	*ch = s->ch;
	const char	*reason;
	int		 code;

	if (ch != NULL && !s->rejected) {
		code = conn_close_status(s->conn, &reason);
		if (code < 1000 || code > 4999)
			code = 1006;
		mux_put(ch, reason, strlen(reason), "close %s %d %zu\n", s->id,
		    code, strlen(reason));
	}
	if (ch != NULL)
		mux_unlink(ch, s);
	free(s);
}

/* The channel's output drained: clients we held back may send again. */
static void
mux_write_cb(struct bufferevent *bev, void *arg)
{
	struct mux_chan	*ch = arg;
	struct mux_sess	*s;

	TAILQ_FOREACH(s, &ch->sessions, entry) {
		if (s->in_paused) {
			s->in_paused = false;
			conn_resume_input(s->conn);
		}
	}
}

/* The socket is gone: every WebSocket of the route ends, then reconnect. */
static void
mux_lost(struct mux_chan *ch, const char *why)
{
	struct timeval	 tv;

	log_error("route %s: mux backend %s lost: %s", ch->route, ch->path,
	    why);
	if (ch->bev != NULL)
		bufferevent_free(ch->bev);
	ch->bev = NULL;
	mux_sessions_fail(ch, "backend gone");
	ch->backoff = MUX_BACKOFF_MIN;
	tv.tv_sec = 0;
	tv.tv_usec = MUX_BACKOFF_MIN * 1000;
	evtimer_add(ch->timer, &tv);
}

/* Every WebSocket of the channel ends: 1011 if open, else the status. */
static void
mux_sessions_fail(struct mux_chan *ch, const char *why)
{
	struct mux_sess	*s;

	while ((s = TAILQ_FIRST(&ch->sessions)) != NULL) {
		/* Orphaned first: the calls below free it through mux_close. */
		mux_unlink(ch, s);
		s->ch = NULL;
		if (s->accepted)
			conn_close(s->conn, 1011, why);
		else
			(void)conn_decided(s->conn, 503, why, NULL, 0);
	}
}

/* Connected (tcp), EOF or error on the socket. */
static void
mux_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mux_chan	*ch = arg;
	char		 buf[160];

	if (ch->connecting) {
		if (what & BEV_EVENT_CONNECTED) {
			evtimer_del(ch->timer);
			tcp_connected(bev, &ch->peer);
			mux_up(ch);
		} else
			mux_tcp_failed(ch, tcp_error(bev, buf, sizeof(buf)));
		return;
	}
	if (what & BEV_EVENT_EOF)
		mux_lost(ch, "closed by the backend");
	else if (what & BEV_EVENT_ERROR)
		mux_lost(ch, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/* FNV-1a of an id. */
static size_t
mux_hash(const char *id)
{
	uint32_t	h = 2166136261u;

	while (*id != '\0')
		h = (h ^ (uint8_t)*id++) * 16777619u;
	return h;
}

/* Adds a session to the index; it doubles when it averages two a bucket. */
static void
mux_index_add(struct mux_chan *ch, struct mux_sess *s)
{
	struct mux_bucket	*nb;
	struct mux_sess		*t;
	size_t			 i, n;

	if (ch->nsess + 1 > 2 * ch->nbuckets) {
		n = ch->nbuckets == 0 ? 64 : ch->nbuckets * 2;
		nb = xcalloc(n, sizeof(*nb));
		for (i = 0; i < n; i++)
			LIST_INIT(&nb[i]);
		for (i = 0; i < ch->nbuckets; i++) {
			while ((t = LIST_FIRST(&ch->buckets[i])) != NULL) {
				LIST_REMOVE(t, hentry);
				LIST_INSERT_HEAD(&nb[mux_hash(t->id) & (n - 1)],
				    t, hentry);
			}
		}
		free(ch->buckets);
		ch->buckets = nb;
		ch->nbuckets = n;
	}
	LIST_INSERT_HEAD(&ch->buckets[mux_hash(s->id) & (ch->nbuckets - 1)], s,
	    hentry);
	ch->nsess++;
}

/* Takes a session off its channel: the list and the index. */
static void
mux_unlink(struct mux_chan *ch, struct mux_sess *s)
{
	TAILQ_REMOVE(&ch->sessions, s, entry);
	LIST_REMOVE(s, hentry);
	ch->nsess--;
}

/* The session of an id, or NULL (it may have closed meanwhile). */
static struct mux_sess *
mux_find(struct mux_chan *ch, const char *id)
{
	struct mux_sess	*s;

	if (*id == '\0' || ch->nbuckets == 0)
		return NULL;
	LIST_FOREACH(s, &ch->buckets[mux_hash(id) & (ch->nbuckets - 1)],
	    hentry) {
		if (strcmp(s->id, id) == 0)
			return s;
	}
	return NULL;
}

/*
 * Sends one piece to a WebSocket, counting what goes to a full client
 * queue; a client more than MUX_OVER_CAP behind is closed with 1008 (its
 * close op frees s: the caller must not use s after this).
 */
static void
mux_send(struct mux_sess *s, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool last)
{
	struct mux_chan	*ch = s->ch;

	if (s->too_slow)
		return;
	if (conn_output_full(s->conn)) {
		s->over += len;
		if (s->over > MUX_OVER_CAP) {
			/* Worth a line: the client loses its WebSocket. */
			log_info("route %s: %s is over %d bytes behind; closing "
			    "it (1008)", ch->route, s->id, MUX_OVER_CAP);
			s->too_slow = true;
			conn_close(s->conn, 1008, "client too slow");
			return;
		}
	}
	if (conn_send(s->conn, type, data, len, !s->out_open, last) == 0)
		s->out_open = !last;
}

/*
 * Config: "KEY=VALUE" sets one of a WebSocket's settings, "KEY" asks for
 * it (conn_setting_*: the settings "wsserverctl config ID" shows); a query
 * is answered "config ID KEY=VALUE". An unknown key, a value out of range
 * or a read-only key given a value is answered "error ID config WORD"
 * instead: the backend's mistake about one setting is no reason to drop
 * every WebSocket of the channel.
 */
static void
mux_config(struct mux_sess *s, const char *word)
{
	const char	*eq, *name;
	char		 key[32], value[32], *cause = NULL;
	size_t		 klen;

	eq = strchr(word, '=');
	klen = eq != NULL ? (size_t)(eq - word) : strlen(word);
	if (klen == 0 || klen >= sizeof(key))
		goto error;
	memcpy(key, word, klen);
	key[klen] = '\0';
	if (eq != NULL) {
		if (conn_setting_set(s->conn, key, eq + 1, &cause) != 0) {
			free(cause);
			goto error;
		}
		return;
	}
	if ((name = conn_setting_get(s->conn, key, value,
	    sizeof(value))) == NULL)
		goto error;
	mux_put(s->ch, NULL, 0, "config %s %s=%s\n", s->id, name, value);
	return;
error:
	mux_put(s->ch, NULL, 0, "error %s config %s\n", s->id, word);
}

/*
 * Runs one complete command, checked by mux-proto.c, with its payload.
 * Commands for a WebSocket that has gone are ignored.
 */
static void
mux_command(struct mux_chan *ch, const struct mux_rec *rec,
    const uint8_t *data)
{
	struct mux_sess	*s, *next;
	size_t		 len = rec->len;
	const char	*cause;
	char		 reason[124], id[MUX_ID_MAX];

	if (rec->cmd == MUX_CMD_PUBLISH) {
		if (topics_publish(rec->word, strlen(rec->word), rec->type, data,
		    len, &cause) == -1)
			mux_put(ch, NULL, 0, "error * publish %s\n", rec->word);
		return;
	}
	if (rec->cmd == MUX_CMD_BROADCAST) {
		/*
		 * mux_send may close (and free) only the session it is given.
		 * A WebSocket in the middle of a message of its own is skipped.
		 */
		for (s = TAILQ_FIRST(&ch->sessions); s != NULL; s = next) {
			next = TAILQ_NEXT(s, entry);
			if (s->accepted && !s->out_open)
				mux_send(s, rec->type, data, len, true);
		}
		return;
	}
	if ((s = mux_find(ch, rec->id)) == NULL)
		return;
	switch (rec->cmd) {
	case MUX_CMD_ACCEPT:
		/* A bad header list rejects it: s may be gone after this. */
		if (!s->accepted) {
			s->accepted = true;
			snprintf(id, sizeof(id), "%s", s->id);
			if (conn_decided(s->conn, 101, NULL,
			    (const char *)data, len) == 0)
				mux_put(ch, NULL, 0, "connected %s\n", id);
		}
		break;
	case MUX_CMD_REJECT:
		if (!s->accepted) {
			s->rejected = true;
			(void)conn_decided(s->conn, rec->code,
			    "refused by the backend", (const char *)data, len);
		}
		break;
	case MUX_CMD_SEND:
		if (s->accepted)
			mux_send(s, rec->type, data, len, rec->last);
		break;
	case MUX_CMD_CLOSE:
		if (len >= sizeof(reason))
			len = sizeof(reason) - 1;
		if (len > 0)
			memcpy(reason, data, len);
		reason[len] = '\0';
		if (s->accepted && !ws_close_code_valid(rec->code)) {
			/* The one rule (the core's): still closed, told why. */
			mux_put(ch, NULL, 0, "error %s close %d\n", s->id,
			    rec->code);
			conn_close(s->conn, 0, reason);
		} else if (s->accepted)
			conn_close(s->conn, rec->code, reason);
		else
			(void)conn_decided(s->conn, 503, "closed by the backend",
			    NULL, 0);
		break;
	case MUX_CMD_PING:
		if (s->accepted)
			(void)conn_ping(s->conn, data, len > 125 ? 125 : len);
		break;
	case MUX_CMD_LINEMODE:
		if (s->accepted)
			conn_set_line_mode(s->conn, rec->line_mode);
		break;
	case MUX_CMD_CONFIG:
		if (s->accepted)
			mux_config(s, rec->word);
		break;
	case MUX_CMD_SUBSCRIBE:
		if (s->accepted && topics_subscribe(s->conn, rec->word,
		    strlen(rec->word), &cause) == -1)
			mux_put(ch, NULL, 0, "error %s subscribe %s\n", s->id,
			    rec->word);
		break;
	case MUX_CMD_UNSUBSCRIBE:
		if (s->accepted)
			(void)topics_unsubscribe(s->conn, rec->word,
			    strlen(rec->word));
		break;
	case MUX_CMD_BROADCAST:
	case MUX_CMD_PUBLISH:
		break;
	}
}

/* Runs every complete command read, until the input runs out. */
static void
mux_read_cb(struct bufferevent *bev, void *arg)
{
	struct mux_chan		*ch = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct mux_rec		 rec;
	uint8_t			 line[MUX_LINE_MAX + 1];
	const char		*cause;
	const uint8_t		*data;
	size_t			 have, n;
	ssize_t			 hl;

	while (ch->bev == bev) {
		have = evbuffer_get_length(in);
		n = have < sizeof(line) ? have : sizeof(line);
		(void)evbuffer_copyout(in, line, n);
		if ((hl = mux_proto_line(line, n, &rec, &cause)) == -1) {
			mux_lost(ch, cause);
			return;
		}
		if (hl == 0 || have - (size_t)hl < rec.len)
			return;		/* the rest is still on its way */
		evbuffer_drain(in, (size_t)hl);
		data = rec.len > 0 ? evbuffer_pullup(in, (ev_ssize_t)rec.len) :
		    mux_empty;
		mux_command(ch, &rec, data);
		if (ch->bev != bev)
			return;
		evbuffer_drain(in, rec.len);
	}
}
