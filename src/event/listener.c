/* listener.c - listening socket, accept, address filters. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conf/config.h"
#include "event/acl.h"
#include "event/listener.h"
#include "base/log.h"
#include "event/sdnotify.h"
#include "event/runtime.h"
#include "base/util.h"
#include "event/workers-shm.h"

/* The process's listener, and whether accepting waits (listener_hold). */
static struct {
	struct listener		*live;
	bool			 held;
} lst;

struct listener {
	listener_accept_fn	 accept;
	struct evconnlistener	*evl;
	struct event		*retry;		/* re-enables accept after EMFILE */
	char			 address[INET6_ADDRSTRLEN + 8];
	int			 port;
	bool			 inherited;	/* socket activation: not ours */
	bool			 shared;	/* the workers' socket */
};

/* Turns an IPv4-mapped IPv6 address (dual-stack accept) into plain IPv4. */
static void
listener_unmap(struct sockaddr_storage *ss, int *len)
{
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in	 s4;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memcpy(ss, &s4, sizeof(s4));
	*len = sizeof(s4);
}

/* evconnlistener callback: filter, then hand the socket on (accept). */
static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct listener		*l = arg;
	const struct config	*cfg = runtime_config();
	struct sockaddr_storage	 ss;
	char			 addr[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, (size_t)socklen < sizeof(ss) ? (size_t)socklen : sizeof(ss));
	listener_unmap(&ss, &socklen);
	runtime_stats()->accepted++;
	if (!acl_allows(cfg->allowed_clients, cfg->blocked_clients,
	    (struct sockaddr *)&ss)) {
		acl_ntop((struct sockaddr *)&ss, addr, sizeof(addr));
		log_info("refused %s: not allowed by AllowedClients/BlockedClients",
		    addr);
		runtime_stats()->rejected_acl++;
		close(fd);
		return;
	}
	l->accept(fd, (struct sockaddr *)&ss, socklen);
}

/* Timer: accept again after running out of descriptors. */
static void
listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	if (!lst.held)
		evconnlistener_enable(l->evl);
}

/* accept() failed: on EMFILE/ENFILE pause for a second instead of spinning. */
static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	int		 err = EVUTIL_SOCKET_ERROR();
	struct timeval	 tv = { 1, 0 };

	log_error("accept: %s", evutil_socket_error_to_string(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		evconnlistener_disable(l->evl);
		evtimer_add(l->retry, &tv);
	}
}

/*
 * Creates, configures and binds the listening socket; returns fd or -1.
 * With workers every one binds its own socket to the same port
 * (SO_REUSEPORT whatever BindExclusively says; the kernel spreads new
 * clients over them); LocalPort 0 then means the port the master chose.
 */
int
listener_bind_socket(const struct config *cfg, char **cause)
{
	struct addrinfo	 hints, *res = NULL;
	char		 port[16];
	const char	*host;
	int		 fd, on = 1, off = 0, rc;
	bool		 inuse;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	switch (cfg->use_ipv6) {
	case 0:
		hints.ai_family = AF_INET;
		break;
	case 1:
		hints.ai_family = AF_INET6;
		break;
	default:
		hints.ai_family = *cfg->local_host == '\0' ? AF_INET6 : AF_UNSPEC;
		break;
	}
	host = *cfg->local_host == '\0' ? NULL : cfg->local_host;
	snprintf(port, sizeof(port), "%d", cfg->local_port != 0 ?
	    cfg->local_port : workers_port());
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_error("LocalHost %s: %s", cfg->local_host, gai_strerror(rc));
		*cause = xstrdup("cannot resolve LocalHost");
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd == -1) {
		*cause = xstrdup("socket failed");
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (!cfg->bind_exclusively || workers_count() > 1)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    cfg->use_ipv6 == 2 ? &off : &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		inuse = errno == EADDRINUSE;
		log_error("bind %s:%d: %s", *cfg->local_host ? cfg->local_host :
		    "*", cfg->local_port, strerror(errno));
		*cause = xstrdup(inuse ? "address already in use" :
		    "bind failed");
		close(fd);
		goto fail;
	}
	freeaddrinfo(res);
	return fd;
fail:
	freeaddrinfo(res);
	return -1;
}

/*
 * Socket activation: the first inherited socket that is a listening TCP
 * socket, or -1 when there is none. The others are logged and left alone.
 */
static int
listener_inherited(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	const char		*name;
	size_t			 i;
	int			 fd, found = -1, type, acc;

	for (i = 0; (fd = sdnotify_listen_fd(i, &name)) != -1; i++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
			type = -1;
		len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
			acc = 0;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			ss.ss_family = AF_UNSPEC;
		if (found == -1 && type == SOCK_STREAM && acc &&
		    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
			found = fd;
		else
			log_warn("socket activation: ignoring fd %d (%s): %s", fd,
			    *name != '\0' ? name : "unnamed", found != -1 ?
			    "only one listener is used" :
			    "not a listening TCP socket");
	}
	return found;
}

bool
listener_activated(void)
{
	const char	*name;

	return sdnotify_listen_fd(0, &name) != -1;
}

struct listener *
listener_new(listener_accept_fn accept, char **cause)
{
	const struct config	*cfg = runtime_config();
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 addr[INET6_ADDRSTRLEN];
	int			 fd, inherited, shared = -1;

	/*
	 * An inherited socket is systemd's as well: never closed or shut
	 * down here, so a stop and start (or a restart) finds it again.
	 */
	if ((inherited = listener_inherited()) != -1) {
		fd = inherited;
		if (evutil_make_socket_nonblocking(fd) == -1) {
			*cause = xstrdup("inherited socket: cannot make it "
			    "non-blocking");
			return NULL;
		}
	} else if ((shared = workers_listen_fd()) != -1) {
		/* A worker: the master's socket, already listening. */
		fd = shared;
		if (evutil_make_socket_nonblocking(fd) == -1) {
			*cause = xstrdup("shared socket: cannot make it "
			    "non-blocking");
			return NULL;
		}
	} else if ((fd = listener_bind_socket(cfg, cause)) == -1)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->accept = accept;
	l->inherited = inherited != -1;
	l->shared = shared != -1;
	/* Backlog 0: an inherited or shared socket already listens. */
	l->evl = evconnlistener_new(runtime_base(), listener_accept_cb, l,
	    (l->inherited || l->shared ? 0 : LEV_OPT_CLOSE_ON_FREE) |
	    LEV_OPT_CLOSE_ON_EXEC, l->inherited || l->shared ? 0 :
	    cfg->connection_backlog, fd);
	if (l->evl == NULL) {
		*cause = xstrdup("listen failed");
		if (!l->inherited && !l->shared)
			close(fd);
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	l->retry = evtimer_new(runtime_base(), listener_retry_cb, l);
	if (lst.held)
		evconnlistener_disable(l->evl);
	lst.live = l;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		acl_ntop((struct sockaddr *)&ss, addr, sizeof(addr));
		if (ss.ss_family == AF_INET6) {
			l->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			snprintf(l->address, sizeof(l->address), "[%s]:%d", addr,
			    l->port);
		} else {
			l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			snprintf(l->address, sizeof(l->address), "%s:%d", addr,
			    l->port);
		}
	}
	if (l->inherited)
		log_info("socket activation: using the inherited socket fd %d "
		    "on %s; LocalHost and LocalPort are not used", fd,
		    l->address);
	return l;
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	if (lst.live == l)
		lst.live = NULL;
	evconnlistener_free(l->evl);
	/*
	 * The workers' socket: our copy goes (the master drops its own after
	 * a stop), and a start binds one of ours.
	 */
	if (l->shared)
		workers_listen_close();
	event_free(l->retry);
	free(l);
}

void
listener_hold(bool on)
{
	struct listener	*l = lst.live;

	lst.held = on;
	if (l == NULL)
		return;
	if (on)
		evconnlistener_disable(l->evl);
	else if (!evtimer_pending(l->retry, NULL))
		evconnlistener_enable(l->evl);
}

const char *
listener_address(const struct listener *l)
{
	return l->address;
}

int
listener_port(const struct listener *l)
{
	return l->port;
}
