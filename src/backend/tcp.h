/*
 * tcp.h - reaching a tcp: backend (wsserverd(8), BACKENDS): a non-blocking
 * connect to the address resolved at load, over TLS with BackendUseSSL,
 * and once connected TCP_NODELAY and keep-alive (TcpKeepAlive). Used by
 * the stream backend (backend-unix.c) and the mux channels.
 */
#ifndef BACKEND_TCP_H
#define BACKEND_TCP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>

struct bufferevent;
struct event_base;
struct ssl_ctx_st;

/* Where a tcp: backend is, and how to speak to it. */
struct tcp_peer {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	struct ssl_ctx_st	*tls;		/* NULL: plain TCP */
	char			 name[256];	/* TLS: the name to check */
	bool			 verify;
	int			 keepalive;	/* seconds, 0 = off */
	int			 timeout;	/* connect, ms */
};

struct route;

/* The peer of a tcp: route (its TLS context is the route's, not copied). */
void	tcp_peer_of(const struct route *, struct tcp_peer *);

/*
 * A bufferevent that starts connecting to the peer; its event callback
 * gets BEV_EVENT_CONNECTED (the TLS handshake done, with TLS) or an
 * error. Returns NULL with *cause (malloc'd) when it cannot even start.
 */
struct bufferevent *tcp_connect(struct event_base *, const struct tcp_peer *,
	    char **cause);

/* Connected: TCP_NODELAY and the peer's keep-alive on its socket. */
void	tcp_connected(struct bufferevent *, const struct tcp_peer *);

/* Why a connect or a TLS handshake failed, for a log line. */
const char *tcp_error(struct bufferevent *, char *buf, size_t len);

#endif
