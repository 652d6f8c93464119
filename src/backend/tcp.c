/* tcp.c - reaching a tcp: backend: non-blocking connect, TLS, keep-alive. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "backend/tcp.h"
#include "base/util.h"
#include "conf/config.h"
#include "conf/tls.h"

/* The peer of a tcp: route; see tcp.h. */
void
tcp_peer_of(const struct route *r, struct tcp_peer *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(&p->addr, &r->tcp_addr, r->tcp_addrlen);
	p->addrlen = r->tcp_addrlen;
	p->tls = r->ssl_use ? r->tls_client : NULL;
	snprintf(p->name, sizeof(p->name), "%s", r->ssl_name != NULL &&
	    *r->ssl_name != '\0' ? r->ssl_name : r->tcp_host);
	p->verify = r->ssl_verify;
	p->keepalive = r->tcp_keepalive;
	p->timeout = r->connect_timeout;
}

/* Starts a connect to the peer; see tcp.h. */
struct bufferevent *
tcp_connect(struct event_base *base, const struct tcp_peer *p, char **cause)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if (p->tls != NULL) {
		if ((ssl = tls_client_ssl(p->tls, p->name, p->verify)) ==
		    NULL) {
			*cause = xstrdup("backend TLS: cannot make a session");
			return NULL;
		}
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		util_oom(sizeof(void *));
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)&p->addr,
	    (int)p->addrlen) == -1) {
		xasprintf(cause, "connect: %s", strerror(errno));
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

/* Connected: the socket's options; see tcp.h. */
void
tcp_connected(struct bufferevent *bev, const struct tcp_peer *p)
{
	int	fd = bufferevent_getfd(bev), on = 1, idle, intvl, cnt = 5;

	if (fd < 0)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (p->keepalive <= 0)
		return;
	idle = p->keepalive;
	intvl = p->keepalive / 10 > 0 ? p->keepalive / 10 : 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Why a connect or TLS handshake failed; see tcp.h. */
const char *
tcp_error(struct bufferevent *bev, char *buf, size_t len)
{
	unsigned long	 e;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (bev != NULL && (e = bufferevent_get_openssl_error(bev)) != 0) {
		snprintf(buf, len, "TLS: %s", ERR_reason_error_string(e) !=
		    NULL ? ERR_reason_error_string(e) : "handshake failed");
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		return buf;
	}
	snprintf(buf, len, "%s", err != 0 ? evutil_socket_error_to_string(err) :
	    "connection closed");
	return buf;
}
