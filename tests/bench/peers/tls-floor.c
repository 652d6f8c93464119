/*
 * tls-floor.c - the OpenSSL floor for wss://: the least a TLS WebSocket
 * server can do, a peer for wsbench --tls.
 *
 * It accepts, completes the TLS handshake (non-blocking, one certificate,
 * SSL_MODE_RELEASE_BUFFERS, OpenSSL's defaults otherwise: TLS 1.2 and 1.3,
 * session tickets), answers the upgrade with the key's accept value, then
 * echoes every frame back unmasked: it reads every record OpenSSL has, and
 * writes what they make with one run of SSL_write. An idle connection
 * holds its SSL and a small struct, nothing else, so its memory is the
 * floor per idle wss:// WebSocket; its CPU per message and per handshake
 * is the floor of TLS echo and of TLS handshakes. No validation. Listens
 * on 127.0.0.1.
 *
 *	tls-floor -C cert.pem [-K key.pem] [-p port]
 *
 * Without -K the key is read from the certificate file.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "peer-ws.h"

#define TF_BUF		(64 * 1024)	/* plaintext echoed per batch */
#define TF_RECORD	16384		/* the most one SSL_read returns */
#define TF_EVENTS	1024

enum tf_state {
	TF_TLS,		/* handshake under way */
	TF_HEAD,	/* reading the upgrade request */
	TF_OPEN
};

struct tf_conn {
	int		 fd;
	uint8_t		 state;
	bool		 closing;	/* close echoed: drop once flushed */
	bool		 want_out;
	bool		 rd_wants_write;
	SSL		*ssl;
	struct pw_rx	 rx;
	char		*head;		/* request head while upgrading */
	size_t		 head_len;
	uint8_t		*out;		/* what SSL_write did not take yet */
	size_t		 out_len;
	size_t		 out_off;
};

static volatile sig_atomic_t tf_stop;
static int tf_ep;
static uint8_t tf_in[TF_BUF];
static uint8_t tf_outbuf[TF_BUF + PW_RESP_MAX];

static void	tf_read(struct tf_conn *);

/* Asks the loop to end. */
static void
tf_on_signal(int sig)
{
	(void)sig;
	tf_stop = 1;
}

/* Drops a connection; a close frame's answer gets a close_notify. */
static void
tf_close(struct tf_conn *c)
{
	if (c->closing && c->out == NULL)
		SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
	free(c->head);
	free(c->out);
	free(c);
}

/* Sets the events a connection waits for. */
static void
tf_want(struct tf_conn *c, bool out)
{
	pw_want(tf_ep, c->fd, c, &c->want_out, out);
}

/* SSL_write until done or refused. Returns the bytes taken, or -1. */
static ssize_t
tf_write(struct tf_conn *c, const uint8_t *p, size_t len)
{
	size_t off = 0;
	int n, err;

	while (off < len) {
		ERR_clear_error();
		if ((n = SSL_write(c->ssl, p + off, (int)(len - off))) > 0) {
			off += (size_t)n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ)
			return -1;
		break;
	}
	return (ssize_t)off;
}

/*
 * Writes bytes through TLS (one record a call) and keeps what OpenSSL did
 * not take; a refused write is repeated with the same bytes, from the
 * copy. Returns -1 if c is gone.
 */
static int
tf_send(struct tf_conn *c, const uint8_t *p, size_t len)
{
	ssize_t n;

	if ((n = tf_write(c, p, len)) == -1) {
		tf_close(c);
		return -1;
	}
	if ((size_t)n < len) {
		if ((c->out = malloc(len - (size_t)n)) == NULL) {
			tf_close(c);
			return -1;
		}
		memcpy(c->out, p + n, len - (size_t)n);
		c->out_len = len - (size_t)n;
		c->out_off = 0;
		tf_want(c, true);
		return 0;
	}
	if (c->closing) {
		tf_close(c);
		return -1;
	}
	return 0;
}

/* Writes the kept output. Returns -1 if c is gone. */
static int
tf_flush(struct tf_conn *c)
{
	ssize_t n;

	if ((n = tf_write(c, c->out + c->out_off, c->out_len - c->out_off)) ==
	    -1) {
		tf_close(c);
		return -1;
	}
	c->out_off += (size_t)n;
	if (c->out_off < c->out_len)
		return 0;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->closing) {
		tf_close(c);
		return -1;
	}
	return 0;
}

/* Echoes a batch of plaintext. Returns -1 if c is gone. */
static int
tf_echo(struct tf_conn *c, const uint8_t *p, size_t len)
{
	return tf_send(c, tf_outbuf, pw_echo(&c->rx, &c->closing, p, len,
	    tf_outbuf));
}

/* Reads the upgrade request and answers it. Returns -1 if c is gone. */
static int
tf_head(struct tf_conn *c)
{
	char resp[PW_RESP_MAX], *end;
	size_t hl, rest;
	int n;

	if (c->head == NULL && (c->head = malloc(PW_HEAD_MAX + 1)) == NULL)
		goto fail;
	ERR_clear_error();
	n = SSL_read(c->ssl, c->head + c->head_len,
	    (int)(PW_HEAD_MAX - c->head_len));
	if (n <= 0) {
		if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ)
			return 0;
		goto fail;
	}
	c->head_len += (size_t)n;
	c->head[c->head_len] = '\0';
	if ((end = strstr(c->head, "\r\n\r\n")) == NULL) {
		if (c->head_len < PW_HEAD_MAX)
			return tf_head(c);
		goto fail;
	}
	if ((n = pw_upgrade(c->head, end, resp)) < 0)
		goto fail;
	hl = (size_t)(end + 4 - c->head);
	rest = c->head_len - hl;
	memcpy(tf_in, c->head + hl, rest);
	free(c->head);
	c->head = NULL;
	c->state = TF_OPEN;
	memcpy(tf_outbuf, resp, (size_t)n);
	return tf_send(c, tf_outbuf, (size_t)n + pw_echo(&c->rx, &c->closing,
	    tf_in, rest, tf_outbuf + n));
fail:
	tf_close(c);
	return -1;
}

/* Takes the handshake a step further, then reads the request. */
static void
tf_handshake(struct tf_conn *c)
{
	int n;

	ERR_clear_error();
	if ((n = SSL_do_handshake(c->ssl)) == 1) {
		c->state = TF_HEAD;
		tf_want(c, false);
		if (tf_head(c) == 0 && c->state == TF_OPEN && c->out == NULL)
			tf_read(c);
		return;
	}
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		tf_want(c, false);
		break;
	case SSL_ERROR_WANT_WRITE:
		tf_want(c, true);
		break;
	default:
		tf_close(c);
		break;
	}
}

/*
 * Reads every record OpenSSL has (until it wants more from the socket) in
 * batches, each echoed with one run of writes. Stops while output waits.
 */
static void
tf_read(struct tf_conn *c)
{
	size_t have = 0;
	int n, err;

	for (;;) {
		if (TF_BUF - have < TF_RECORD) {
			if (tf_echo(c, tf_in, have) == -1 || c->out != NULL)
				return;
			have = 0;
		}
		ERR_clear_error();
		n = SSL_read(c->ssl, tf_in + have, (int)(TF_BUF - have));
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_READ)
			break;
		if (err == SSL_ERROR_WANT_WRITE) {
			c->rd_wants_write = true;
			tf_want(c, true);
			break;
		}
		tf_close(c);
		return;
	}
	if (have > 0)
		tf_echo(c, tf_in, have);
}

/* Writable: the handshake, a read that had to write, or kept output. */
static void
tf_on_write(struct tf_conn *c)
{
	if (c->state == TF_TLS) {
		tf_handshake(c);
		return;
	}
	if (c->out != NULL && (tf_flush(c) == -1 || c->out != NULL))
		return;
	c->rd_wants_write = false;
	tf_want(c, false);
	/* OpenSSL may hold records read before the output stalled. */
	tf_read(c);
}

/* Readable: the handshake, the request, or frames. */
static void
tf_on_read(struct tf_conn *c)
{
	switch (c->state) {
	case TF_TLS:
		tf_handshake(c);
		break;
	case TF_HEAD:
		if (tf_head(c) == 0 && c->state == TF_OPEN && c->out == NULL)
			tf_read(c);
		break;
	default:
		tf_read(c);
		break;
	}
}

/* Takes every pending connection and starts its handshake. */
static void
tf_accept(int lfd, SSL_CTX *ctx)
{
	struct epoll_event ev;
	struct tf_conn *c;
	int fd;

	while ((fd = pw_accept(lfd)) != -1) {
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1) {
			if (c != NULL)
				SSL_free(c->ssl);
			free(c);
			close(fd);
			ERR_clear_error();
			continue;
		}
		SSL_set_accept_state(c->ssl);
		c->fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(tf_ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			tf_close(c);
	}
}

/* The server context: one certificate, buffers released when idle. */
static SSL_CTX *
tf_context(const char *cert, const char *key)
{
	static const unsigned char sid[] = "tls-floor";
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		fprintf(stderr, "tls-floor: TLS context failed\n");
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	/* One recv brings every record the client sent; reads drain them. */
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

int
main(int argc, char *argv[])
{
	static struct epoll_event evs[TF_EVENTS];
	const char *cert = NULL, *key = NULL;
	struct epoll_event ev;
	SSL_CTX *ctx;
	int lfd, port = 8080, n, i;

	if (pw_tls_args(argc, argv, "tls-floor -C cert.pem [-K key.pem] "
	    "[-p port]", &port, &cert, &key) == -1)
		return 1;
	if (cert == NULL) {
		fprintf(stderr, "tls-floor: -C cert.pem is needed\n");
		return 1;
	}
	if ((ctx = tf_context(cert, key)) == NULL)
		return 1;
	pw_signals(tf_on_signal);
	if ((lfd = pw_listen(port, "tls-floor")) == -1)
		return 1;
	if ((tf_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(tf_ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!tf_stop) {
		n = epoll_wait(tf_ep, evs, TF_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			struct tf_conn *c = evs[i].data.ptr;

			if (c == NULL)
				tf_accept(lfd, ctx);
			else if (c->want_out)
				tf_on_write(c);
			else
				tf_on_read(c);
		}
	}
	close(lfd);
	SSL_CTX_free(ctx);
	return 0;
}
