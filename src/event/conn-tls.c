/* conn-tls.c - a TLS connection's records: OpenSSL reads from the socket, writes into the connection's wire queue. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/util.h"
#include "conf/tls.h"
#include "event/conn-int.h"

/* Most plaintext one SSL_write takes: one TLS record's payload. */
#define CONN_TLS_RECORD	16384

/*
 * The write side of every TLS connection: a BIO that appends what OpenSSL
 * writes (records, alerts, handshake flights) to the connection's wire
 * queue. The I/O layer sends that queue as it sends a plain connection's
 * output, one writev for all a round made, so records are never one
 * send(2) each. It never blocks: OpenSSL never sees WANT_WRITE.
 */
static BIO_METHOD	*conn_tls_bio_method;

/* BIO write: append to the wire queue. */
static int
conn_tls_bio_write(BIO *b, const char *data, int len)
{
	struct conn	*c = BIO_get_data(b);

	if (len <= 0)
		return 0;
	if (evbuffer_add(c->wire, data, (size_t)len) == -1)
		util_oom((size_t)len);
	return len;
}

/* BIO ctrl: flushing is the I/O layer's business; nothing else applies. */
static long
conn_tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return 0;
	default:
		return 0;
	}
}

/* BIO create: ready at once (the connection is set with BIO_set_data). */
static int
conn_tls_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* The BIO method, made once. */
static BIO_METHOD *
conn_tls_method(void)
{
	BIO_METHOD	*m;

	if (conn_tls_bio_method != NULL)
		return conn_tls_bio_method;
	if ((m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "wsserverd wire")) == NULL ||
	    BIO_meth_set_write(m, conn_tls_bio_write) != 1 ||
	    BIO_meth_set_ctrl(m, conn_tls_bio_ctrl) != 1 ||
	    BIO_meth_set_create(m, conn_tls_bio_create) != 1)
		util_oom(sizeof(void *));
	conn_tls_bio_method = m;
	return m;
}

/* Sets a new connection's TLS up; see conn-int.h. */
int
conn_tls_attach(struct conn *c, struct ssl_st *ssl, int fd)
{
	BIO	*rb, *wb;

	if ((rb = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL)
		return -1;
	if ((wb = BIO_new(conn_tls_method())) == NULL) {
		BIO_free(rb);
		return -1;
	}
	BIO_set_data(wb, c);
	c->ssl = ssl;
	c->wire = xevbuffer_new();
	SSL_set_bio(ssl, rb, wb);
	SSL_set_accept_state(ssl);
	/* Whole records per read(2), not a header and a body each. */
	SSL_set_read_ahead(ssl, 1);
	/* A client that closes TCP without close_notify just ends (EOF). */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return 0;
}

/* Frees the session (its BIOs with it) and the wire queue. */
void
conn_tls_free(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->wire != NULL)
		evbuffer_free(c->wire);
	c->wire = NULL;
}

/*
 * Why an SSL call failed: from OpenSSL's error queue (cleared), into buf;
 * "" when the queue held nothing. *http: the peer spoke plain HTTP.
 */
static const char *
conn_tls_why(char *buf, size_t len, bool *http)
{
	unsigned long	e, first = 0;

	while ((e = ERR_get_error()) != 0) {
		if (first == 0)
			first = e;
	}
	*http = false;
	if (first == 0) {
		buf[0] = '\0';
		return buf;
	}
	return tls_error_text(first, http, buf, len);
}

/* One step of the handshake; see conn-int.h. */
int
conn_tls_handshake(struct conn *c, char *buf, size_t len, bool *http)
{
	int	r, err;

	*http = false;
	buf[0] = '\0';
	ERR_clear_error();
	if ((r = SSL_do_handshake(c->ssl)) == 1)
		return 1;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_SYSCALL:
		err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
			return 0;
		(void)conn_tls_why(buf, len, http);
		if (buf[0] == '\0' && err != 0)
			snprintf(buf, len, "%s", strerror(err));
		return -1;
	default:
		(void)conn_tls_why(buf, len, http);
		return -1;
	}
}

/* Reads plaintext; see conn-int.h. */
ssize_t
conn_tls_read(struct conn *c, void *data, size_t len, char *buf,
    size_t buflen)
{
	size_t	n;
	bool	http;
	int	r, err;

	ERR_clear_error();
	if ((r = SSL_read_ex(c->ssl, data, len, &n)) == 1)
		return (ssize_t)n;
	buf[0] = '\0';
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a TCP EOF. */
		return -1;
	case SSL_ERROR_SYSCALL:
		err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
			return 0;
		(void)conn_tls_why(buf, buflen, &http);
		if (buf[0] == '\0') {
			if (err == 0)
				return -1;
			snprintf(buf, buflen, "%s", strerror(err));
		}
		return -2;
	default:
		(void)conn_tls_why(buf, buflen, &http);
		return -2;
	}
}

/* Whether OpenSSL holds read data the socket no longer signals. */
bool
conn_tls_pending(const struct conn *c)
{
	return c->ssl != NULL && SSL_has_pending(c->ssl);
}

/* Encrypts queued plaintext into the wire queue; see conn-int.h. */
int
conn_tls_encrypt(struct conn *c, size_t limit, char *buf, size_t buflen)
{
	size_t	len, n, done;
	bool	http;
	void	*p;

	while ((len = evbuffer_get_length(c->out)) > 0 &&
	    evbuffer_get_length(c->wire) < limit) {
		n = len < CONN_TLS_RECORD ? len : CONN_TLS_RECORD;
		if ((p = evbuffer_pullup(c->out, (ev_ssize_t)n)) == NULL)
			util_oom(n);
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, p, n, &done) != 1) {
			(void)conn_tls_why(buf, buflen, &http);
			return -1;
		}
		evbuffer_drain(c->out, done);
	}
	return 0;
}

/* Queues close_notify (before our FIN); see conn-int.h. */
void
conn_tls_shutdown(struct conn *c)
{
	tls_close_notify(c->ssl);
}
