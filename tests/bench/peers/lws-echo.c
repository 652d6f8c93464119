/*
 * lws-echo.c - a minimal libwebsockets echo server, a peer for wsbench.
 *
 * Every piece of a message lws hands over is queued and written back as
 * one fragment of the same message when the socket is writable; reading
 * pauses while more than LE_QUEUE_HIGH bytes wait, so memory stays
 * bounded. Listens on 127.0.0.1, any path. With -C (and -K) it speaks
 * TLS (wss://) with that certificate, through libwebsockets' own OpenSSL
 * layer: the libwebsockets-TLS peer.
 *
 *	lws-echo [-p port] [-C cert.pem [-K key.pem]]
 *
 * Without -K the key is read from the certificate file.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "peer-ws.h"

#define LE_RX_BUFFER	65536
#define LE_QUEUE_HIGH	(1024 * 1024)
#define LE_QUEUE_LOW	(256 * 1024)

struct le_chunk {
	struct le_chunk	*next;
	size_t		 len;
	int		 flags;
	unsigned char	 buf[];		/* LWS_PRE bytes, then the payload */
};

struct le_session {
	struct le_chunk	*head;
	struct le_chunk	*tail;
	size_t		 queued;
	bool		 paused;
};

static volatile sig_atomic_t le_stop;

/* Asks the service loop to end. */
static void
le_on_signal(int sig)
{
	(void)sig;
	le_stop = 1;
}

/* Frees what a session still holds. */
static void
le_session_free(struct le_session *s)
{
	struct le_chunk *ch;

	while ((ch = s->head) != NULL) {
		s->head = ch->next;
		free(ch);
	}
	s->tail = NULL;
	s->queued = 0;
}

/* Queues a received piece to go back as the matching fragment. */
static int
le_receive(struct lws *wsi, struct le_session *s, void *in, size_t len)
{
	struct le_chunk *ch;

	if ((ch = malloc(sizeof(*ch) + LWS_PRE + len)) == NULL)
		return -1;
	ch->next = NULL;
	ch->len = len;
	ch->flags = lws_write_ws_flags(lws_frame_is_binary(wsi) ?
	    LWS_WRITE_BINARY : LWS_WRITE_TEXT, lws_is_first_fragment(wsi),
	    lws_is_final_fragment(wsi));
	memcpy(ch->buf + LWS_PRE, in, len);
	if (s->tail != NULL)
		s->tail->next = ch;
	else
		s->head = ch;
	s->tail = ch;
	s->queued += len;
	if (s->queued > LE_QUEUE_HIGH && !s->paused) {
		lws_rx_flow_control(wsi, 0);
		s->paused = true;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

/* Writes queued pieces while the socket takes them. */
static int
le_writable(struct lws *wsi, struct le_session *s)
{
	struct le_chunk *ch;

	while ((ch = s->head) != NULL) {
		if (lws_write(wsi, ch->buf + LWS_PRE, ch->len,
		    (enum lws_write_protocol)ch->flags) < (int)ch->len)
			return -1;
		s->head = ch->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->queued -= ch->len;
		free(ch);
		if (lws_send_pipe_choked(wsi))
			break;
	}
	if (s->head != NULL)
		lws_callback_on_writable(wsi);
	if (s->paused && s->queued < LE_QUEUE_LOW) {
		lws_rx_flow_control(wsi, 1);
		s->paused = false;
	}
	return 0;
}

/* The protocol callback: receive, write, clean up. */
static int
le_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct le_session *s = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		break;
	case LWS_CALLBACK_RECEIVE:
		return le_receive(wsi, s, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return le_writable(wsi, s);
	case LWS_CALLBACK_CLOSED:
		le_session_free(s);
		break;
	default:
		break;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct lws_protocols protocols[] = {
		{ "echo", le_callback, sizeof(struct le_session), LE_RX_BUFFER,
		  0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 }
	};
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	struct sigaction sa;
	const char *cert = NULL, *key = NULL;
	int port = 8080;

	if (pw_tls_args(argc, argv, "lws-echo [-p port] [-C cert.pem "
	    "[-K key.pem]]", &port, &cert, &key) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = le_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
	}
	if ((ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "lws-echo: lws_create_context failed\n");
		return 1;
	}
	while (!le_stop)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	return 0;
}
