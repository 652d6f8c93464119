/* listener.c - listening socket, accept, address filters. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "event/conn.h"
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
static int	listener_inherited(void);

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
		conn_refused(addr, acl_port((struct sockaddr *)&ss),
		    "not allowed by AllowedClients/BlockedClients");
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
 * Creates, configures and binds a socket on LocalHost:LocalPort as UseIPv6
 * says, with SO_REUSEPORT when reuseport; returns fd or -1.
 */
static int
listener_socket(const struct config *cfg, bool reuseport, char **cause)
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
	if (reuseport)
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
 * Binds the listening socket; returns fd or -1. With workers every one
 * has its own socket on the same port (SO_REUSEPORT whatever
 * BindExclusively says; the kernel spreads new clients over them, and
 * workers_init makes sure no other process is in the group);
 * LocalPort 0 then means the port the master chose.
 */
int
listener_bind_socket(const struct config *cfg, char **cause)
{
	return listener_socket(cfg, !cfg->bind_exclusively ||
	    workers_count() > 1, cause);
}

/*
 * BindExclusively with a group of SO_REUSEPORT sockets (Workers > 1):
 * before the group is bound, a socket without SO_REUSEPORT (with
 * SO_REUSEADDR, so that connections of an earlier run in TIME_WAIT do not
 * count) is bound to the port and closed again. The kernel refuses it
 * when any process listens there, whether or not with SO_REUSEPORT, so a
 * daemon that would join another's group fails here instead. Returns 0,
 * or -1 with *cause.
 */
int
listener_probe(const struct config *cfg, char **cause)
{
	int	fd;

	if (cfg->local_port == 0)
		return 0;	/* a port the kernel picks is nobody's */
	if ((fd = listener_socket(cfg, false, cause)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* Whether a 16-byte address (IPv4 in its last 4) is a wildcard. */
static bool
listener_any(const uint8_t *a)
{
	static const uint8_t	zero[16];

	return memcmp(a, zero, 16) == 0;
}

/* An IPv4-mapped IPv6 address as IPv4 (in the last 4 bytes), in place. */
static void
listener_unmap_addr(uint8_t *a)
{
	static const uint8_t	mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (memcmp(a, mapped, 12) == 0)
		memset(a, 0, 12);
}

/* The port and (in *addr, 16 bytes, IPv4 in its last 4) address of fd. */
static int
listener_sockname(int fd, uint8_t *addr, int *port, ino_t *ino)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct stat		 sb;

	memset(addr, 0, 16);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    fstat(fd, &sb) == -1)
		return -1;
	*ino = sb.st_ino;
	if (ss.ss_family == AF_INET6) {
		memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		listener_unmap_addr(addr);
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		memcpy(addr + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return 0;
}

/*
 * Reads /proc/net/tcp or tcp6 for another socket (an inode not in ours)
 * listening on port at an address that overlaps addr. Returns 1 when
 * there is one, 0 when not (or the file cannot be read).
 */
static int
listener_proc_other(const char *path, int port, const uint8_t *addr,
    const ino_t *ours, int n)
{
	FILE		*f;
	char		 line[512], hex[40];
	unsigned int	 lport, st, w[4];
	unsigned long	 inode;
	uint8_t		 a[16];
	int		 i, found = 0;

	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x "
		    "%x %*x:%*x %*x:%*x %*x %*u %*u %lu", hex, &lport, &st,
		    &inode) != 4 || st != 0x0A || (int)lport != port)
			continue;
		/* The kernel prints each 32-bit word in host order. */
		memset(a, 0, sizeof(a));
		if (strlen(hex) == 8) {
			sscanf(hex, "%8x", &w[0]);
			memcpy(a + 12, &w[0], 4);
		} else if (sscanf(hex, "%8x%8x%8x%8x", &w[0], &w[1], &w[2],
		    &w[3]) == 4)
			memcpy(a, w, 16);
		listener_unmap_addr(a);
		if (!listener_any(a) && !listener_any(addr) &&
		    memcmp(a, addr, 16) != 0)
			continue;
		found = 1;
		for (i = 0; i < n; i++) {
			if ((ino_t)inode == ours[i])
				found = 0;
		}
	}
	fclose(f);
	return found;
}

/*
 * BindExclusively, once the sockets listen: whether a socket of another
 * process listens on the same port at an overlapping address (it joined
 * the SO_REUSEPORT group between our probe and our bind, or brought an
 * inherited socket with SO_REUSEPORT into it). /proc/net/tcp and tcp6
 * list every listening socket with its inode; ours are the inodes of
 * fds. Returns 0, or -1 with *cause.
 */
int
listener_alone(const int *fds, int n, char **cause)
{
	uint8_t	 addr[16];
	ino_t	 ours[WORKERS_MAX + 1];
	int	 i, port = 0;

	if (n <= 0 || n > WORKERS_MAX + 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (listener_sockname(fds[i], addr, &port, &ours[i]) == -1)
			return 0;
	}
	if (listener_proc_other("/proc/net/tcp", port, addr, ours, n) ||
	    listener_proc_other("/proc/net/tcp6", port, addr, ours, n)) {
		xasprintf(cause, "address already in use (BindExclusively: "
		    "another process listens on port %d too)", port);
		return -1;
	}
	return 0;
}

/*
 * BindExclusively with socket activation: the inherited socket must be
 * the only one on its port (one made with ReusePort= would let others
 * join). Returns 0, or -1 with *cause.
 */
int
listener_alone_inherited(char **cause)
{
	int	fd = listener_inherited();

	return fd == -1 ? 0 : listener_alone(&fd, 1, cause);
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
		if (cfg->bind_exclusively && listener_alone(&fd, 1, cause) == -1)
			return NULL;
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
