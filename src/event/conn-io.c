/* conn-io.c - a connection's bytes: plain sockets read and written directly, TLS through OpenSSL, one interface. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <openssl/ssl.h>

#include "base/log.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "event/conn-int.h"
#include "event/runtime.h"

/*
 * TLS: plaintext is encrypted into the wire queue while that holds less
 * than this, so a client that does not read keeps its output as plaintext
 * (counted against CONN_OUT_HIGH as before) rather than as records.
 */
#define CONN_WIRE_MAX	(256 * 1024)
/* TLS: most plaintext read in one callback before the loop goes round. */
#define CONN_TLS_READ_MAX	(4 * 16384)

/*
 * Work posted by connections (conn_post), run once per round by one event
 * instead of two events per connection.
 */
static struct conn_list conn_posted = TAILQ_HEAD_INITIALIZER(conn_posted);
static struct conn_list conn_running = TAILQ_HEAD_INITIALIZER(conn_running);
static struct event *conn_post_ev;
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
/*
 * The read buffer of plain connections in the open state. The daemon has
 * one event loop, and the session consumes all it is fed before the next
 * read, so one buffer serves every connection: steady-state reads
 * allocate nothing.
 */
static uint8_t	conn_rbuf[CONN_READ_CHUNK];
/* The connection above: conn.c's handlers. */
static const struct conn_io_handlers *conn_io_up;

static void	conn_io_timer_cb(evutil_socket_t, short, void *);
static void	conn_sock_read_cb(evutil_socket_t, short, void *);
static void	conn_sock_write_cb(evutil_socket_t, short, void *);
static void	conn_out_release(struct conn *);
static void	conn_read_add(struct conn *);
static void	conn_sock_flush(struct conn *);
static void	conn_post_cb(evutil_socket_t, short, void *);

/* Registers the connection's handlers; see conn-int.h. */
void
conn_io_set_handlers(const struct conn_io_handlers *h)
{
	conn_io_up = h;
}

/* The timer expired: the connection decides what that means. */
static void
conn_io_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_io_up->timer(arg);
}

/* Starts (or restarts) the connection's single timer. */
void
conn_timer(struct conn *c, unsigned long long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	/* Made when needed: an open, idle WebSocket has none. */
	if (c->timer == NULL &&
	    (c->timer = evtimer_new(runtime_base(), conn_io_timer_cb,
	    c)) == NULL)
		util_oom(event_get_struct_event_size());
	evtimer_add(c->timer, &tv);
}

/* Stops the connection's timer and lets its memory go. */
void
conn_timer_stop(struct conn *c)
{
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
}

/* The output queue to add to: a plain connection's own, taken if need be. */
struct evbuffer *
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
 * writev and no epoll_ctl, and over TLS as few records as their size
 * needs (conn_tls_encrypt), all in that one writev.
 */
void
conn_out_added(struct conn *c)
{
	if (!(c->posted & CONN_POST_FLUSH) && !c->writing)
		conn_post(c, CONN_POST_FLUSH);
}

/* Queues bytes for the client. */
void
conn_out_add(struct conn *c, const void *data, size_t len)
{
	evbuffer_add(conn_out(c), data, len);
	conn_out_added(c);
}

/* Gives an empty output queue of a plain connection back to the pool. */
static void
conn_out_release(struct conn *c)
{
	if (c->out == conn_out_none || evbuffer_get_length(c->out) > 0)
		return;
	if (conn_out_npool < CONN_OUT_POOL)
		conn_out_pool[conn_out_npool++] = c->out;
	else
		evbuffer_free(c->out);
	c->out = conn_out_none;
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
	if (c->state == CONN_OPEN)
		conn_timer(c, CONN_HUP_CHECK_MS);
}

/*
 * The hang-up check of a paused plain client. A reset or a FIN with
 * nothing unread ends it now (1006); a FIN behind unread data waits
 * KillTimeout (the grace a backend gets) for reading to resume, so what
 * the client sent last still arrives, in order.
 */
void
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
		conn_io_up->event(c, BEV_EVENT_EOF | BEV_EVENT_READING,
		    EVUTIL_SOCKET_ERROR(), NULL);
		return;
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_io_up->event(c, BEV_EVENT_ERROR | BEV_EVENT_READING,
		    EVUTIL_SOCKET_ERROR(), NULL);
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
	conn_io_up->event(c, BEV_EVENT_EOF | BEV_EVENT_READING,
		    EVUTIL_SOCKET_ERROR(), NULL);
}

/* Enables or disables reading from the client to match the pause flags. */
void
conn_update_read(struct conn *c)
{
	bool	want;

	if (c->dead)
		return;
	want = c->state == CONN_DRAINING || (c->state != CONN_VERDICT &&
	    !(c->paused_backend || c->paused_output || c->paused_admin) &&
	    !(conn_mem_is_over() && c->state == CONN_OPEN));
	if (want && !c->reading) {
		conn_read_add(c);
		c->reading = true;
		if (c->state == CONN_OPEN)
			conn_timer_stop(c);
		/* Records OpenSSL read ahead wake nobody: read them now. */
		if (conn_tls_pending(c))
			conn_post(c, CONN_POST_READ);
	} else if (!want && c->reading) {
		event_del(c->rev);
		c->reading = false;
		conn_watch_hangup(c);
	}
}

/* Sets the most input held before reading stops (0: no limit). */
void
conn_set_read_high(struct conn *c, size_t high)
{
	c->read_high = (uint32_t)high;
}

/* Sets the output length at or below which the write callback runs. */
void
conn_set_write_low(struct conn *c, size_t low)
{
	c->write_low = (uint32_t)low;
}

/* Plain connections: the socket takes data again, or DefaultTimeout passed. */
static void
conn_sock_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & EV_TIMEOUT) {
		conn_io_up->event(c, BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING, 0,
		    NULL);
		return;
	}
	conn_sock_flush(c);
}

/* Posts work for c to run after the callbacks of this round. */
void
conn_post(struct conn *c, uint8_t work)
{
	if (c->posted == 0)
		TAILQ_INSERT_TAIL(&conn_posted, c, post);
	c->posted |= work;
	if (conn_post_ev == NULL && (conn_post_ev = event_new(
	    runtime_base(), -1, 0, conn_post_cb, NULL)) == NULL)
		util_oom(event_get_struct_event_size());
	event_active(conn_post_ev, EV_TIMEOUT, 0);
}

/* Gives an empty input queue of a plain connection back. */
void
conn_in_release(struct conn *c)
{
	if (c->in == conn_in_none || evbuffer_get_length(c->in) > 0)
		return;
	if (conn_in_none == NULL && (conn_in_none = evbuffer_new()) == NULL)
		return;
	evbuffer_free(c->in);
	c->in = conn_in_none;
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

/* The numeric addresses and ports of both ends; see conn-int.h. */
void
conn_io_addresses(int fd, const struct sockaddr *sa, char *raddr, int *rport,
    char *laddr, int *lport)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	conn_addr(sa, raddr, INET6_ADDRSTRLEN, rport);
	laddr[0] = '\0';
	*lport = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], laddr,
			    INET6_ADDRSTRLEN);
			*lport = ntohs(s6->sin6_port);
		} else
			conn_addr((struct sockaddr *)&ss, laddr,
			    INET6_ADDRSTRLEN, lport);
	}
}


/*
 * Adds the read event: while a TLS handshake is going on, with
 * DefaultConnectionTimeout as its timeout (a client silent in the
 * handshake); else without one.
 */
static void
conn_read_add(struct conn *c)
{
	struct timeval	tv = { c->cfg->ssl_handshake_timeout, 0 };

	event_add(c->rev, c->tls && !c->tls_ready &&
	    c->cfg->ssl_handshake_timeout > 0 ? &tv : NULL);
}

/*
 * Plain connection, open, nothing queued: reads into conn_rbuf and feeds
 * the session from there (it unmasks in place).
 */
static void
conn_plain_read_direct(struct conn *c)
{
	ssize_t	n;

	n = recv(c->fd, conn_rbuf, sizeof(conn_rbuf), 0);
	if (n == 0) {
		conn_io_up->event(c, BEV_EVENT_EOF | BEV_EVENT_READING,
		    EVUTIL_SOCKET_ERROR(), NULL);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_io_up->event(c, BEV_EVENT_ERROR |
			    BEV_EVENT_READING, EVUTIL_SOCKET_ERROR(), NULL);
		return;
	}
	conn_io_up->feed(c, conn_rbuf, (size_t)n);
}

/* Whether the session takes input at once: open, nothing queued or held. */
static bool
conn_direct(const struct conn *c)
{
	return evbuffer_get_length(c->in) == 0 &&
	    (c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    !c->paused_backend && !c->paused_output && !c->paused_admin;
}

/*
 * Room in the input queue for one read: at most CONN_READ_CHUNK and never
 * past read_high. Returns the bytes wanted (0: the queue is full) with
 * the queue's own buffer taken if it had the shared empty one.
 */
static size_t
conn_in_room(struct conn *c)
{
	size_t	want = CONN_READ_CHUNK, have = evbuffer_get_length(c->in);

	if (c->read_high > 0) {
		if (have >= c->read_high)
			return 0;
		if (c->read_high - have < want)
			want = c->read_high - have;
	}
	if (c->in == conn_in_none)
		c->in = xevbuffer_new();
	return want;
}

/*
 * Plain connections: reads straight into the input queue, up to
 * CONN_READ_CHUNK at a time and never past read_high, then processes.
 */
static void
conn_plain_read(struct conn *c)
{
	struct evbuffer_iovec	 v[2];
	size_t			 want, left;
	ssize_t			 n;
	int			 i, nv;

	if (conn_direct(c)) {
		conn_plain_read_direct(c);
		return;
	}
	if ((want = conn_in_room(c)) == 0) {
		conn_io_up->process(c);
		return;
	}
	nv = evbuffer_reserve_space(c->in, (ev_ssize_t)want, v, 2);
	if (nv <= 0)
		return;
	for (i = 0, left = want; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	n = readv(c->fd, (struct iovec *)v, nv);
	if (n > 0) {
		for (i = 0, left = (size_t)n; i < nv; i++) {
			if (v[i].iov_len > left)
				v[i].iov_len = left;
			left -= v[i].iov_len;
		}
		evbuffer_commit_space(c->in, v, nv);
		conn_io_up->process(c);
	} else if (n == 0)
		conn_io_up->event(c, BEV_EVENT_EOF | BEV_EVENT_READING,
		    EVUTIL_SOCKET_ERROR(), NULL);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		conn_io_up->event(c, BEV_EVENT_ERROR | BEV_EVENT_READING,
		    EVUTIL_SOCKET_ERROR(), NULL);
}

/* The TLS handshake is done: log what was agreed, end its inactivity timeout. */
static void
conn_tls_ready(struct conn *c)
{
	struct tls_info	 ti;

	c->tls_ready = true;
	if (c->reading)
		conn_read_add(c);
	tls_get_info(c->ssl, &ti);
	log_verbose("%s TLS %s %s %s%s%s client_verify=%s%s%s%s", c->id,
	    ti.version, ti.cipher, ti.key_exchange, *ti.sni ? " sni=" : "",
	    ti.sni, ti.client_verify, *ti.client_subject ? " client=\"" : "",
	    ti.client_subject, *ti.client_subject ? "\"" : "");
}

/*
 * The TLS handshake failed (why: OpenSSL's reason, "" at an EOF; timeout:
 * DefaultConnectionTimeout passed): logs it and tells the connection. A
 * client that spoke plain HTTP gets a plain-text 400 so that a person
 * sees the cause.
 */
static void
conn_tls_failed(struct conn *c, const char *why, bool http, bool timeout)
{
	static const char resp[] =
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 40\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "this port speaks TLS: use https or wss\r\n";
	char	 sink[4096];
	ssize_t	 n;
	int	 i;

	if (timeout)
		why = "no data within DefaultConnectionTimeout";
	else if (*why == '\0')
		why = "connection closed by the client";
	if (http) {
		n = send(c->fd, resp, sizeof(resp) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		shutdown(c->fd, SHUT_WR);
		/* Unread request bytes would turn our close into a reset. */
		for (i = 0; i < 16 && n > 0; i++)
			if (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
				break;
		why = "plain HTTP on a TLS port";
	} else if (evbuffer_get_length(c->wire) > 0) {
		/* OpenSSL's alert (illegal_parameter...) before the close. */
		(void)evbuffer_write(c->wire, c->fd);
	}
	log_info("%s TLS handshake failed from %s:%d: %s", c->id, c->raddr,
	    c->rport, why);
	conn_io_up->event(c, timeout ? BEV_EVENT_TIMEOUT | BEV_EVENT_READING :
	    BEV_EVENT_ERROR | BEV_EVENT_READING, 0, why);
}

/*
 * TLS connections: the handshake first, then records decrypted a read at
 * a time: straight to the session while it takes them (conn_direct), into
 * the input queue otherwise, at most CONN_TLS_READ_MAX per callback (what
 * is left in OpenSSL's buffer is read after this round: CONN_POST_READ).
 * What OpenSSL writes meanwhile (handshake flights, tickets) is flushed
 * after this round.
 */
static void
conn_tls_read_cb(struct conn *c)
{
	struct evbuffer_iovec	 v;
	char			 why[256];
	size_t			 total = 0, want;
	ssize_t			 n;
	bool			 http, queued = false;
	int			 r;

	c->busy++;
	if (!c->tls_ready) {
		r = conn_tls_handshake(c, why, sizeof(why), &http);
		if (evbuffer_get_length(c->wire) > 0)
			conn_out_added(c);
		if (r == -1) {
			conn_tls_failed(c, why, http, false);
			goto out;
		}
		if (r == 0)
			goto out;
		conn_tls_ready(c);
	}
	while (!c->dead && c->reading && total < CONN_TLS_READ_MAX) {
		if (conn_direct(c)) {
			n = conn_tls_read(c, conn_rbuf, sizeof(conn_rbuf), why,
			    sizeof(why));
			if (n > 0) {
				total += (size_t)n;
				conn_io_up->feed(c, conn_rbuf, (size_t)n);
				continue;
			}
		} else {
			if ((want = conn_in_room(c)) == 0)
				break;
			if (evbuffer_reserve_space(c->in, (ev_ssize_t)want, &v,
			    1) != 1)
				break;
			n = conn_tls_read(c, v.iov_base, v.iov_len < want ?
			    v.iov_len : want, why, sizeof(why));
			if (n > 0) {
				v.iov_len = (size_t)n;
				evbuffer_commit_space(c->in, &v, 1);
				total += (size_t)n;
				queued = true;
				continue;
			}
		}
		if (n == -1)
			conn_io_up->event(c, BEV_EVENT_EOF | BEV_EVENT_READING,
			    0, NULL);
		else if (n == -2)
			conn_io_up->event(c, BEV_EVENT_ERROR |
			    BEV_EVENT_READING, 0, why);
		break;
	}
	if (c->dead)
		goto out;
	if (evbuffer_get_length(c->wire) > 0)
		conn_out_added(c);
	if (queued)
		conn_io_up->process(c);
	if (!c->dead && c->reading && conn_tls_pending(c))
		conn_post(c, CONN_POST_READ);
out:
	conn_io_up->leave(c);
}

/* The socket is readable (or, during a TLS handshake, silent too long). */
static void
conn_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & EV_TIMEOUT) {
		c->busy++;
		conn_tls_failed(c, "", false, true);
		conn_io_up->leave(c);
		return;
	}
	if (c->ssl != NULL)
		conn_tls_read_cb(c);
	else
		conn_plain_read(c);
}

/*
 * Writes what is queued now (over TLS: encrypted into the wire queue
 * first). What the socket does not take waits for a write event (with
 * DefaultTimeout as its timeout). Then runs the write callback if the
 * queue is at its low mark.
 */
static void
conn_sock_flush(struct conn *c)
{
	struct evbuffer	*q = c->ssl != NULL ? c->wire : c->out;
	struct timeval	 tv;
	char		 why[256];
	int		 n;

	for (;;) {
		if (c->ssl != NULL && evbuffer_get_length(q) == 0 &&
		    conn_tls_encrypt(c, CONN_WIRE_MAX, why, sizeof(why)) == -1) {
			conn_io_up->event(c, BEV_EVENT_ERROR |
			    BEV_EVENT_WRITING, 0, why);
			return;
		}
		if (evbuffer_get_length(q) == 0)
			break;
		n = evbuffer_write(q, c->fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_io_up->event(c, BEV_EVENT_ERROR |
			    BEV_EVENT_WRITING, EVUTIL_SOCKET_ERROR(), NULL);
			return;
		}
		break;
	}
	if (evbuffer_get_length(q) > 0) {
		if (!c->writing) {
			/* Made the first time a write has to wait. */
			if (c->wev == NULL && (c->wev = event_new(
			    runtime_base(), c->fd, EV_WRITE | EV_PERSIST,
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
	if (conn_out_len(c) <= c->write_low)
		conn_io_up->writable(c);
}

/*
 * Runs the work posted in earlier callbacks, connection by connection:
 * the flush of output (one write for all a round produced), records
 * OpenSSL read ahead, then input left buffered while paused. Work posted
 * meanwhile waits for the next round, so this ends.
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
		if ((work & CONN_POST_FLUSH) && !c->dead && !c->writing)
			conn_sock_flush(c);
		if ((work & CONN_POST_READ) && !c->dead && c->reading)
			conn_tls_read_cb(c);
		if ((work & CONN_POST_KICK) && !c->dead)
			conn_io_up->process(c);
		conn_io_up->leave(c);
	}
}

/* Room for the read event of a connection, after the struct. */
size_t
conn_io_extra_size(bool tls, size_t base, size_t *off)
{
	*off = (base + 15) & ~(size_t)15;
	return *off + event_get_struct_event_size();
}

/* Starts the connection's I/O; see conn-int.h. */
int
conn_io_start(struct conn *c, int fd, struct ssl_st *ssl, size_t evoff)
{
	conn_sockopts(c->cfg, fd);
	evutil_make_socket_nonblocking(fd);
	c->fd = fd;
	/* Queues are taken when bytes must wait (conn_out). */
	if (conn_in_none == NULL)
		conn_in_none = xevbuffer_new();
	if (conn_out_none == NULL)
		conn_out_none = xevbuffer_new();
	c->in = conn_in_none;
	c->out = conn_out_none;
	if (ssl != NULL) {
		if (conn_tls_attach(c, ssl, fd) == -1)
			return -1;
		c->tls = true;
	}
	/* The read event is part of this allocation. */
	c->rev = (struct event *)((char *)c + evoff);
	if (event_assign(c->rev, runtime_base(), fd, EV_READ | EV_PERSIST,
	    conn_sock_read_cb, c) == -1)
		util_oom(event_get_struct_event_size());
	conn_set_read_high(c, (size_t)c->cfg->max_header_size + 4);
	conn_set_write_low(c, CONN_OUT_LOW);
	conn_update_read(c);
	return 0;
}

/* Frees the I/O part and closes the socket. */
void
conn_io_free(struct conn *c)
{
	if (c->rev != NULL)
		event_del(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != conn_in_none)
		evbuffer_free(c->in);
	if (c->out != conn_out_none) {
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_out_release(c);
	}
	conn_tls_free(c);
	close(c->fd);
	conn_timer_stop(c);
	if (c->posted != 0)
		TAILQ_REMOVE((c->posted & CONN_POST_RUN) ? &conn_running :
		    &conn_posted, c, post);
}

/* Sets the send timeout; see conn-int.h. */
void
conn_io_set_timeout(struct conn *c, int seconds)
{
	struct timeval	tv = { seconds, 0 };

	if (c->writing)
		event_add(c->wev, seconds > 0 ? &tv : NULL);
}

/*
 * All sent while draining: close_notify (TLS; it goes out first), FIN,
 * then linger for the client's.
 */
void
conn_io_half_close(struct conn *c)
{
	if (c->tls && c->tls_ready && !c->tls_bye) {
		c->tls_bye = true;
		conn_tls_shutdown(c);
		if (evbuffer_get_length(c->wire) > 0) {
			/* Sent first; the write callback comes back here. */
			conn_sock_flush(c);
			return;
		}
	}
	c->half_closed = true;
	shutdown(c->fd, SHUT_WR);
	conn_timer(c, CONN_LINGER_MS);
}

/* The OpenSSL session once its handshake is done, else NULL. */
struct ssl_st *
conn_io_ssl(const struct conn *c)
{
	return c->tls_ready ? c->ssl : NULL;
}
