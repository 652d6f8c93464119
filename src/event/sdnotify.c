/* sdnotify.c - the systemd service protocol without libsystemd: sd_notify and socket activation. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/util.h"
#include "event/sdnotify.h"

/* systemd passes inherited sockets from this descriptor up. */
#define SDNOTIFY_LISTEN_FDS_START	3
/* LISTEN_FDNAMES entries are at most this long (systemd allows 255). */
#define SDNOTIFY_NAME_MAX		256

static struct {
	int			 fd;		/* datagram socket, -1: off */
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;
	bool			 failed;	/* a send failed: log once */
	uint64_t		 watchdog_usec;	/* ping interval, 0: none */
	struct event		*watchdog;
	int			 nlisten;
	char			 names[SDNOTIFY_LISTEN_MAX][SDNOTIFY_NAME_MAX];
} sdn = { .fd = -1 };

/* Parses a whole decimal number without sign; returns 0, or -1. */
static int
sdnotify_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int
sdnotify_parse_address(const char *s, struct sockaddr_un *sun, socklen_t *len,
    char **cause)
{
	size_t	 n;

	if (s == NULL || *s == '\0') {
		*cause = xstrdup("empty address");
		return -1;
	}
	if (*s != '/' && *s != '@') {
		/* vsock: and relative paths are not for systemd 252. */
		*cause = xstrdup("not an absolute path or an abstract (@) name");
		return -1;
	}
	n = strlen(s);
	if (n >= sizeof(sun->sun_path) || (*s == '@' && n < 2)) {
		*cause = xstrdup(n < 2 ? "empty abstract name" :
		    "address too long");
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s, n);
	if (*s == '@') {
		/* An abstract name is exactly its bytes: no trailing NUL. */
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    1);
	return 0;
}

int
sdnotify_format(char *buf, size_t len, const char *state, const char *status)
{
	size_t	 n, i;
	int	 r;

	if (len == 0)
		return -1;
	r = snprintf(buf, len, "%s%s%s", state,
	    status != NULL && *state != '\0' ? "\n" : "",
	    status != NULL ? "STATUS=" : "");
	if (r < 0 || (size_t)r >= len) {
		buf[0] = '\0';
		return -1;
	}
	n = (size_t)r;
	if (status == NULL)
		return r;
	/* STATUS= is one line: a newline would start a bogus assignment. */
	for (i = 0; status[i] != '\0'; i++) {
		if (n + 1 >= len) {
			buf[0] = '\0';
			return -1;
		}
		buf[n++] = iscntrl((unsigned char)status[i]) ? ' ' : status[i];
	}
	buf[n] = '\0';
	return (int)n;
}

uint64_t
sdnotify_watchdog_interval(const char *usec, const char *pid, pid_t self)
{
	uint64_t	 u, p;

	if (sdnotify_parse_u64(usec, &u) == -1 || u == 0)
		return 0;
	if (pid != NULL && *pid != '\0' &&
	    (sdnotify_parse_u64(pid, &p) == -1 || p != (uint64_t)self))
		return 0;
	/* systemd's advice: ping at half the timeout; never below 1 ms. */
	return u / 2 > 1000 ? u / 2 : 1000;
}

int
sdnotify_listen_count(const char *pid, const char *fds, pid_t self,
    char **cause)
{
	uint64_t	 p, n;

	if (fds == NULL || *fds == '\0')
		return 0;
	/* Without a matching LISTEN_PID the sockets belong to a parent. */
	if (sdnotify_parse_u64(pid, &p) == -1 || p != (uint64_t)self)
		return 0;
	if (sdnotify_parse_u64(fds, &n) == -1 || n == 0 ||
	    n > SDNOTIFY_LISTEN_MAX) {
		*cause = xstrdup("LISTEN_FDS is not a number of sockets in 1..16");
		return -1;
	}
	return (int)n;
}

void
sdnotify_listen_name(const char *names, size_t i, char *buf, size_t len)
{
	const char	*p, *e;
	size_t		 n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (names == NULL)
		return;
	for (p = names; i > 0; i--) {
		if ((p = strchr(p, ':')) == NULL)
			return;
		p++;
	}
	e = p + strcspn(p, ":");
	n = (size_t)(e - p) < len ? (size_t)(e - p) : len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* Takes the inherited sockets: close-on-exec, so handlers never get them. */
static int
sdnotify_listen_init(char **cause)
{
	const char	*names;
	char		*why = NULL;
	int		 n, i, fd, flags;

	n = sdnotify_listen_count(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getpid(), &why);
	names = getenv("LISTEN_FDNAMES");
	for (i = 0; i < n; i++)
		sdnotify_listen_name(names, (size_t)i, sdn.names[i],
		    sizeof(sdn.names[i]));
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n == -1) {
		xasprintf(cause, "socket activation: %s", why);
		free(why);
		return -1;
	}
	for (i = 0; i < n; i++) {
		fd = SDNOTIFY_LISTEN_FDS_START + i;
		if ((flags = fcntl(fd, F_GETFD)) == -1 ||
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
			xasprintf(cause, "socket activation: fd %d: %s", fd,
			    strerror(errno));
			return -1;
		}
	}
	sdn.nlisten = n;
	return 0;
}

int
sdnotify_init(char **cause)
{
	const char	*addr;
	char		*why = NULL;

	addr = getenv("NOTIFY_SOCKET");
	if (addr != NULL) {
		if (sdnotify_parse_address(addr, &sdn.sun, &sdn.sunlen,
		    &why) == -1) {
			log_warn("NOTIFY_SOCKET \"%.108s\": %s; not notifying "
			    "the service manager", addr, why);
			free(why);
		} else if ((sdn.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) == -1)
			log_warn("NOTIFY_SOCKET: socket: %s", strerror(errno));
		else
			log_verbose("notifying the service manager at %s", addr);
	}
	sdn.watchdog_usec = sdnotify_watchdog_interval(getenv("WATCHDOG_USEC"),
	    getenv("WATCHDOG_PID"), getpid());
	if (sdn.fd == -1)
		sdn.watchdog_usec = 0;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return sdnotify_listen_init(cause);
}

void
sdnotify_close(void)
{
	if (sdn.watchdog != NULL) {
		event_free(sdn.watchdog);
		sdn.watchdog = NULL;
	}
	if (sdn.fd != -1) {
		close(sdn.fd);
		sdn.fd = -1;
	}
}

int
sdnotify_send(const char *state, const char *status)
{
	char	 msg[SDNOTIFY_MSG_MAX];
	int	 n;

	if (sdn.fd == -1)
		return 0;
	if ((n = sdnotify_format(msg, sizeof(msg), state, status)) == -1 &&
	    (n = sdnotify_format(msg, sizeof(msg), state, NULL)) == -1)
		return -1;
	if (sendto(sdn.fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sdn.sun, sdn.sunlen) == -1) {
		/* The manager may be gone (a test, a restart): say it once. */
		if (!sdn.failed)
			log_verbose("NOTIFY_SOCKET: send: %s", strerror(errno));
		sdn.failed = true;
		return -1;
	}
	sdn.failed = false;
	log_debug("notified the service manager: %.*s", n, msg);
	return 1;
}

int
sdnotify_reloading(void)
{
	struct timespec	 ts;
	char		 state[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	return sdnotify_send(state, "reloading the configuration");
}

int
sdnotify_extend_timeout(uint64_t usec)
{
	char	 state[64];

	snprintf(state, sizeof(state), "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
	return sdnotify_send(state, NULL);
}

/* Watchdog timer: the loop is alive, so say so. */
static void
sdnotify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	(void)sdnotify_send("WATCHDOG=1", NULL);
}

void
sdnotify_watchdog_start(struct event_base *base)
{
	struct timeval	 tv;

	if (sdn.watchdog_usec == 0 || sdn.watchdog != NULL)
		return;
	tv.tv_sec = (time_t)(sdn.watchdog_usec / 1000000);
	tv.tv_usec = (suseconds_t)(sdn.watchdog_usec % 1000000);
	sdn.watchdog = event_new(base, -1, EV_PERSIST, sdnotify_watchdog_cb,
	    NULL);
	if (sdn.watchdog == NULL || event_add(sdn.watchdog, &tv) == -1) {
		log_error("cannot start the watchdog timer");
		return;
	}
	log_info("watchdog: pinging the service manager every %" PRIu64
	    " ms", sdn.watchdog_usec / 1000);
	(void)sdnotify_send("WATCHDOG=1", NULL);
}

int
sdnotify_listen_fd(size_t i, const char **name)
{
	if (i >= (size_t)sdn.nlisten)
		return -1;
	if (name != NULL)
		*name = sdn.names[i];
	return SDNOTIFY_LISTEN_FDS_START + (int)i;
}
