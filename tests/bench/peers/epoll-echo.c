/*
 * epoll-echo.c - the floor for wsbench: a bare epoll WebSocket echo server.
 *
 * It does the least a WebSocket echo can do: answer the upgrade, then for
 * every frame write the same frame back unmasked, streaming payloads as
 * they arrive (pings come back as pongs, a close comes back and ends the
 * connection). No UTF-8, no limits, no validation: whatever a real server
 * costs above this is the price of being correct. Listens on 127.0.0.1.
 *
 *	epoll-echo [-p port]
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer-ws.h"

#define EE_BUF		(256 * 1024)
#define EE_EVENTS	1024

struct ee_conn {
	int		 fd;
	bool		 open;		/* upgrade done */
	bool		 closing;	/* close echoed: drop once flushed */
	bool		 want_out;
	struct pw_rx	 rx;
	char		*hs;		/* request head while upgrading */
	size_t		 hs_len;
	uint8_t		*out;		/* what the socket did not take */
	size_t		 out_len;
	size_t		 out_off;
};

static volatile sig_atomic_t ee_stop;
static int ee_ep;
static uint8_t ee_in[EE_BUF];
static uint8_t ee_outbuf[EE_BUF + 64];

/* Asks the loop to end. */
static void
ee_on_signal(int sig)
{
	(void)sig;
	ee_stop = 1;
}

/* Drops a connection. */
static void
ee_close(struct ee_conn *c)
{
	close(c->fd);
	free(c->hs);
	free(c->out);
	free(c);
}

/* Sets the events a connection waits for: output drains before input. */
static void
ee_want(struct ee_conn *c, bool out)
{
	pw_want(ee_ep, c->fd, c, &c->want_out, out);
}

/* Sends bytes; keeps what the socket refuses. Returns -1 if c is gone. */
static int
ee_send(struct ee_conn *c, const uint8_t *p, size_t len)
{
	ssize_t n = 0;

	if (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ee_close(c);
				return -1;
			}
			n = 0;
		}
	}
	if ((size_t)n < len) {
		if ((c->out = malloc(len - (size_t)n)) == NULL) {
			ee_close(c);
			return -1;
		}
		memcpy(c->out, p + n, len - (size_t)n);
		c->out_len = len - (size_t)n;
		c->out_off = 0;
		ee_want(c, true);
		return 0;
	}
	if (c->closing) {
		ee_close(c);
		return -1;
	}
	return 0;
}

/* Reads the upgrade request and answers it. Returns -1 if c is gone. */
static int
ee_handshake(struct ee_conn *c)
{
	char resp[PW_RESP_MAX], *end;
	size_t hl, rest;
	ssize_t n;
	int rl;

	if (c->hs == NULL && (c->hs = malloc(PW_HEAD_MAX + 1)) == NULL)
		goto fail;
	n = recv(c->fd, c->hs + c->hs_len, PW_HEAD_MAX - c->hs_len,
	    MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		goto fail;
	c->hs_len += (size_t)n;
	c->hs[c->hs_len] = '\0';
	if ((end = strstr(c->hs, "\r\n\r\n")) == NULL)
		return c->hs_len < PW_HEAD_MAX ? 0 : (ee_close(c), -1);
	if ((rl = pw_upgrade(c->hs, end, resp)) < 0)
		goto fail;
	hl = (size_t)(end + 4 - c->hs);
	rest = c->hs_len - hl;
	memcpy(ee_in, c->hs + hl, rest);
	free(c->hs);
	c->hs = NULL;
	c->open = true;
	memcpy(ee_outbuf, resp, (size_t)rl);
	return ee_send(c, ee_outbuf, (size_t)rl +
	    pw_echo(&c->rx, &c->closing, ee_in, rest, ee_outbuf + rl));
fail:
	ee_close(c);
	return -1;
}

/* Readable: echo every frame the bytes complete, in one write. */
static void
ee_on_read(struct ee_conn *c)
{
	ssize_t n;

	if (!c->open) {
		ee_handshake(c);
		return;
	}
	n = recv(c->fd, ee_in, EE_BUF, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		ee_close(c);
		return;
	}
	ee_send(c, ee_outbuf, pw_echo(&c->rx, &c->closing, ee_in, (size_t)n,
	    ee_outbuf));
}

/* Writable: drain what was kept, then read again. */
static void
ee_on_write(struct ee_conn *c)
{
	ssize_t n;

	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN)
			ee_close(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off < c->out_len)
		return;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->closing) {
		ee_close(c);
		return;
	}
	ee_want(c, false);
}

/* Takes every pending connection. */
static void
ee_accept(int lfd)
{
	struct epoll_event ev;
	struct ee_conn *c;
	int fd;

	while ((fd = pw_accept(lfd)) != -1) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ee_ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(c);
		}
	}
}

int
main(int argc, char *argv[])
{
	static struct epoll_event evs[EE_EVENTS];
	struct epoll_event ev;
	int lfd, port = 8080, ch, n, i;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p' || (port = atoi(optarg)) <= 0 || port > 65535) {
			fprintf(stderr, "usage: epoll-echo [-p port]\n");
			return 1;
		}
	}
	pw_signals(ee_on_signal);
	if ((lfd = pw_listen(port, "epoll-echo")) == -1)
		return 1;
	if ((ee_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ee_ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!ee_stop) {
		n = epoll_wait(ee_ep, evs, EE_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			struct ee_conn *c = evs[i].data.ptr;

			if (c == NULL)
				ee_accept(lfd);
			else if (c->want_out)
				ee_on_write(c);
			else
				ee_on_read(c);
		}
	}
	close(lfd);
	return 0;
}
