/*
 * peer-ws.h - the least of WebSocket that the minimal peers share.
 *
 * The floors (epoll-echo, tls-floor, spawn-floor) do the same few things:
 * listen on loopback, answer the upgrade with the key's accept value, and
 * read client frames by their headers, unmasking payloads. They are one
 * program each, built with one cc line, so this is a header of static
 * inline functions (one a floor does not use costs nothing). No
 * validation beyond what the floors need: whatever a real server costs
 * above them is the price of being correct.
 */

#ifndef PEER_WS_H
#define PEER_WS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <sys/epoll.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

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

#define PW_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define PW_HEAD_MAX	8192	/* an upgrade request's head */
#define PW_RESP_MAX	256

/* A client's frame reader: the header being collected, then the payload. */
struct pw_rx {
	uint8_t		 hdr[14];
	uint8_t		 hlen;		/* header bytes collected */
	uint8_t		 hneed;		/* header bytes this frame has */
	uint8_t		 mask[4];
	uint8_t		 moff;
	uint8_t		 op;
	bool		 fin;
	uint64_t	 left;		/* payload bytes of this frame to come */
};

/* What pw_next found. */
enum pw_got {
	PW_NEED,	/* the input ran out */
	PW_HEADER,	/* a whole header: op, fin and left are set */
	PW_DATA		/* payload bytes, unmasked */
};

/* Listens on 127.0.0.1:port (non-blocking); -1 with a message if not. */
static inline int
pw_listen(int port, const char *who)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		fprintf(stderr, "%s: bind/listen on port %d: %m\n", who, port);
		return -1;
	}
	return fd;
}

/* Takes one pending connection (non-blocking, TCP_NODELAY); -1 if none. */
static inline int
pw_accept(int lfd)
{
	int fd, one = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd != -1)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Waits for output or for input on fd (one at a time); *cur says which. */
static inline void
pw_want(int ep, int fd, void *ptr, bool *cur, bool out)
{
	struct epoll_event ev;

	if (*cur == out)
		return;
	ev.events = out ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = ptr;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	*cur = out;
}

/*
 * The TLS peers' command line: [-p port] [-C cert.pem [-K key.pem]]. The
 * key defaults to the certificate file. Returns -1 (after the usage line)
 * on a bad one.
 */
static inline int
pw_tls_args(int argc, char *argv[], const char *usage, int *port,
    const char **cert, const char **key)
{
	int ch;

	while ((ch = getopt(argc, argv, "p:C:K:")) != -1) {
		if (ch == 'p')
			*port = atoi(optarg);
		else if (ch == 'C')
			*cert = optarg;
		else if (ch == 'K')
			*key = optarg;
		else
			*port = 0;
	}
	if (*port <= 0 || *port > 65535 || optind != argc ||
	    (*key != NULL && *cert == NULL)) {
		fprintf(stderr, "usage: %s\n", usage);
		return -1;
	}
	if (*key == NULL)
		*key = *cert;
	return 0;
}

/* SIGINT and SIGTERM call the handler; SIGPIPE is ignored. */
static inline void
pw_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Answers an upgrade request whose head runs from head to end (where its
 * "\r\n\r\n" starts): writes the 101 into resp (PW_RESP_MAX bytes).
 * Returns its length, or -1 when the request has no Sec-WebSocket-Key.
 */
static inline int
pw_upgrade(const char *head, const char *end, char *resp)
{
	static const char kname[] = "\r\nSec-WebSocket-Key:";
	unsigned char sha[SHA_DIGEST_LENGTH];
	char src[128], acc[64];
	const char *k = NULL, *p;
	size_t kl;
	int n;

	for (p = head; p < end; p++)
		if (strncasecmp(p, kname, sizeof(kname) - 1) == 0) {
			k = p + sizeof(kname) - 1;
			break;
		}
	if (k == NULL)
		return -1;
	while (*k == ' ')
		k++;
	for (kl = 0; k[kl] != '\r' && k[kl] != ' ' && kl < 64; kl++)
		;
	n = snprintf(src, sizeof(src), "%.*s" PW_GUID, (int)kl, k);
	SHA1((unsigned char *)src, (size_t)n, sha);
	EVP_EncodeBlock((unsigned char *)acc, sha, SHA_DIGEST_LENGTH);
	return snprintf(resp, PW_RESP_MAX, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
}

/* XORs the mask over a payload run, eight bytes at a time. */
static inline void
pw_unmask(struct pw_rx *rx, uint8_t *dst, const uint8_t *src, size_t n)
{
	uint8_t rot[8];
	uint64_t m, x;
	size_t i = 0;
	int j;

	for (j = 0; j < 8; j++)
		rot[j] = rx->mask[(rx->moff + j) & 3];
	memcpy(&m, rot, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, src + i, 8);
		x ^= m;
		memcpy(dst + i, &x, 8);
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ rot[i & 7];
	rx->moff = (uint8_t)((rx->moff + n) & 3);
}

/*
 * Takes the next piece of a client's bytes from *p (advancing *p and
 * *len): a whole frame header (PW_HEADER), or payload bytes of the current
 * frame unmasked into dst (PW_DATA, *n of them), or PW_NEED once all the
 * input is used.
 */
static inline enum pw_got
pw_next(struct pw_rx *rx, const uint8_t **p, size_t *len, uint8_t *dst,
    size_t *n)
{
	if (*len == 0)
		return PW_NEED;
	if (rx->left > 0) {
		*n = rx->left < *len ? (size_t)rx->left : *len;
		pw_unmask(rx, dst, *p, *n);
		*p += *n;
		*len -= *n;
		rx->left -= *n;
		return PW_DATA;
	}
	if (rx->hlen < 2) {
		rx->hdr[rx->hlen++] = *(*p)++;
		(*len)--;
		if (rx->hlen < 2)
			return *len > 0 ? pw_next(rx, p, len, dst, n) : PW_NEED;
		rx->hneed = 2 + ((rx->hdr[1] & 0x7f) == 126 ? 2 :
		    (rx->hdr[1] & 0x7f) == 127 ? 8 : 0) +
		    ((rx->hdr[1] & 0x80) ? 4 : 0);
	}
	while (rx->hlen < rx->hneed && *len > 0) {
		rx->hdr[rx->hlen++] = *(*p)++;
		(*len)--;
	}
	if (rx->hlen < rx->hneed)
		return PW_NEED;
	rx->op = rx->hdr[0] & 0x0f;
	rx->fin = (rx->hdr[0] & 0x80) != 0;
	rx->left = rx->hdr[1] & 0x7f;
	if (rx->left == 126)
		rx->left = (uint64_t)rx->hdr[2] << 8 | rx->hdr[3];
	else if (rx->left == 127) {
		int i;

		rx->left = 0;
		for (i = 0; i < 8; i++)
			rx->left = rx->left << 8 | rx->hdr[2 + i];
	}
	if (rx->hdr[1] & 0x80)
		memcpy(rx->mask, rx->hdr + rx->hneed - 4, 4);
	else
		memset(rx->mask, 0, 4);
	rx->moff = 0;
	rx->hlen = 0;
	return PW_HEADER;
}

/* Writes an unmasked server frame header; returns its length. */
static inline size_t
pw_header(uint8_t *out, uint8_t b0, uint64_t len)
{
	int i;

	out[0] = b0;
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

/*
 * The echo: client frames in, the same frames out unmasked (a ping's copy
 * is its pong), payloads streamed as they arrive. *closing is set once a
 * close frame's header went by; its payload is still copied when present.
 * out must hold len bytes (an unmasked header is never longer). Returns
 * the bytes written to out.
 */
static inline size_t
pw_echo(struct pw_rx *rx, bool *closing, const uint8_t *p, size_t len,
    uint8_t *out)
{
	size_t w = 0, n;

	while (!*closing || rx->left > 0) {
		switch (pw_next(rx, &p, &len, out + w, &n)) {
		case PW_NEED:
			return w;
		case PW_DATA:
			w += n;
			break;
		case PW_HEADER:
			w += pw_header(out + w, rx->op == 0x9 ?
			    (uint8_t)((rx->hdr[0] & 0xf0) | 0xa) : rx->hdr[0],
			    rx->left);
			if (rx->op == 0x8)
				*closing = true;
			break;
		}
	}
	return w;
}

#endif /* PEER_WS_H */
