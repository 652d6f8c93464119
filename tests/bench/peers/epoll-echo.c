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
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define EE_BUF		(256 * 1024)
#define EE_HS_MAX	8192
#define EE_EVENTS	1024
#define EE_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ee_conn {
	int		 fd;
	bool		 open;		/* upgrade done */
	bool		 closing;	/* close echoed: drop once flushed */
	bool		 want_out;
	uint8_t		 hlen;
	uint8_t		 hneed;
	uint8_t		 hdr[14];
	uint8_t		 mask[4];
	uint8_t		 moff;
	uint8_t		 op;
	uint64_t	 left;		/* payload bytes of this frame to come */
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
	struct epoll_event ev;

	if (c->want_out == out)
		return;
	ev.events = out ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(ee_ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = out;
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

/* XORs the mask over a payload run, eight bytes at a time. */
static void
ee_unmask(struct ee_conn *c, uint8_t *dst, const uint8_t *src, size_t n)
{
	uint8_t rot[8];
	uint64_t m, x;
	size_t i = 0;
	int j;

	for (j = 0; j < 8; j++)
		rot[j] = c->mask[(c->moff + j) & 3];
	memcpy(&m, rot, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, src + i, 8);
		x ^= m;
		memcpy(dst + i, &x, 8);
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ rot[i & 7];
	c->moff = (uint8_t)((c->moff + n) & 3);
}

/* Turns client frames into server frames; returns bytes written to out. */
static size_t
ee_frames(struct ee_conn *c, const uint8_t *p, size_t len, uint8_t *out)
{
	size_t w = 0;

	while (len > 0 && !c->closing) {
		if (c->left > 0) {
			size_t n = c->left < len ? (size_t)c->left : len;

			ee_unmask(c, out + w, p, n);
			w += n;
			p += n;
			len -= n;
			c->left -= n;
			continue;
		}
		if (c->hlen < 2) {
			c->hdr[c->hlen++] = *p++;
			len--;
			if (c->hlen < 2)
				continue;
			c->hneed = 2 + ((c->hdr[1] & 0x7f) == 126 ? 2 :
			    (c->hdr[1] & 0x7f) == 127 ? 8 : 0) +
			    ((c->hdr[1] & 0x80) ? 4 : 0);
		}
		while (c->hlen < c->hneed && len > 0) {
			c->hdr[c->hlen++] = *p++;
			len--;
		}
		if (c->hlen < c->hneed)
			break;
		/* Whole header: the reply's is the same, unmasked. */
		c->op = c->hdr[0] & 0x0f;
		out[w] = c->op == 0x9 ? (uint8_t)((c->hdr[0] & 0xf0) | 0xa) :
		    c->hdr[0];
		out[w + 1] = c->hdr[1] & 0x7f;
		c->left = c->hdr[1] & 0x7f;
		if (c->left == 126) {
			memcpy(out + w + 2, c->hdr + 2, 2);
			c->left = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
			w += 4;
		} else if (c->left == 127) {
			int i;

			memcpy(out + w + 2, c->hdr + 2, 8);
			c->left = 0;
			for (i = 0; i < 8; i++)
				c->left = c->left << 8 | c->hdr[2 + i];
			w += 10;
		} else
			w += 2;
		if (c->hdr[1] & 0x80)
			memcpy(c->mask, c->hdr + c->hneed - 4, 4);
		else
			memset(c->mask, 0, 4);
		c->moff = 0;
		c->hlen = 0;
		if (c->op == 0x8)
			c->closing = true;
	}
	/* A close's payload is short: finish it from this read if present. */
	if (c->closing && c->left > 0 && len > 0) {
		size_t n = c->left < len ? (size_t)c->left : len;

		ee_unmask(c, out + w, p, n);
		w += n;
		c->left -= n;
	}
	return w;
}

/* Reads the upgrade request and answers it. Returns -1 if c is gone. */
static int
ee_handshake(struct ee_conn *c)
{
	static const char kname[] = "\r\nSec-WebSocket-Key:";
	unsigned char sha[SHA_DIGEST_LENGTH];
	char src[128], acc[64], resp[256], *end, *k, *p;
	size_t hl, rest, kl;
	ssize_t n;
	int rl;

	if (c->hs == NULL && (c->hs = malloc(EE_HS_MAX + 1)) == NULL)
		goto fail;
	n = recv(c->fd, c->hs + c->hs_len, EE_HS_MAX - c->hs_len,
	    MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		goto fail;
	c->hs_len += (size_t)n;
	c->hs[c->hs_len] = '\0';
	if ((end = strstr(c->hs, "\r\n\r\n")) == NULL)
		return c->hs_len < EE_HS_MAX ? 0 : (ee_close(c), -1);
	for (k = NULL, p = c->hs; p < end; p++)
		if (strncasecmp(p, kname, sizeof(kname) - 1) == 0) {
			k = p + sizeof(kname) - 1;
			break;
		}
	if (k == NULL)
		goto fail;
	while (*k == ' ')
		k++;
	for (kl = 0; k[kl] != '\r' && k[kl] != ' ' && kl < 64; kl++)
		;
	rl = snprintf(src, sizeof(src), "%.*s" EE_GUID, (int)kl, k);
	SHA1((unsigned char *)src, (size_t)rl, sha);
	EVP_EncodeBlock((unsigned char *)acc, sha, SHA_DIGEST_LENGTH);
	rl = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	hl = (size_t)(end + 4 - c->hs);
	rest = c->hs_len - hl;
	memcpy(ee_in, c->hs + hl, rest);
	free(c->hs);
	c->hs = NULL;
	c->open = true;
	memcpy(ee_outbuf, resp, (size_t)rl);
	return ee_send(c, ee_outbuf, (size_t)rl +
	    ee_frames(c, ee_in, rest, ee_outbuf + rl));
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
	ee_send(c, ee_outbuf, ee_frames(c, ee_in, (size_t)n, ee_outbuf));
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
	int fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
	struct sockaddr_in sin;
	struct epoll_event ev;
	struct sigaction sa;
	int lfd, one = 1, port = 8080, ch, n, i;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p' || (port = atoi(optarg)) <= 0 || port > 65535) {
			fprintf(stderr, "usage: epoll-echo [-p port]\n");
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ee_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd == -1)
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1) {
		perror("epoll-echo: bind/listen");
		return 1;
	}
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
