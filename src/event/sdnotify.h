/* sdnotify.h - the systemd service protocol without libsystemd: sd_notify and socket activation. */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* Most sockets taken from LISTEN_FDS; more are left alone and logged. */
#define SDNOTIFY_LISTEN_MAX	16
/* Longest datagram sent to the service manager. */
#define SDNOTIFY_MSG_MAX	1024

/*
 * Parses a $NOTIFY_SOCKET value: "/path" or "@name" (abstract). Returns 0
 * with sun and *len filled in, or -1 with *cause (malloc'd) when the value
 * is empty, relative, or too long for sun_path.
 */
int		 sdnotify_parse_address(const char *, struct sockaddr_un *,
		    socklen_t *, char **cause);

/*
 * Formats one notification: state ("READY=1", several lines, or "") and, when
 * status is not NULL, a "STATUS=" line with control characters turned into
 * spaces. Returns the length, or -1 when it does not fit in len (a NUL is
 * always written when len > 0).
 */
int		 sdnotify_format(char *buf, size_t len, const char *state,
		    const char *status);

/*
 * The watchdog interval for process self from WATCHDOG_USEC and
 * WATCHDOG_PID (either may be NULL): half of WATCHDOG_USEC, in
 * microseconds; 0 when there is no watchdog, the value is bad, or
 * WATCHDOG_PID names another process.
 */
uint64_t	 sdnotify_watchdog_interval(const char *usec, const char *pid,
		    pid_t self);

/*
 * The number of sockets LISTEN_PID/LISTEN_FDS pass to process self: 0 when
 * none (or they are for another process), else 1..SDNOTIFY_LISTEN_MAX.
 * Returns -1 with *cause when LISTEN_FDS is set for us but is not a
 * number in 1..SDNOTIFY_LISTEN_MAX.
 */
int		 sdnotify_listen_count(const char *pid, const char *fds,
		    pid_t self, char **cause);

/*
 * The name of socket i in a LISTEN_FDNAMES value (colon-separated) copied
 * into buf; "" when names is NULL or has no entry i.
 */
void		 sdnotify_listen_name(const char *names, size_t i, char *buf,
		    size_t len);

/*
 * Reads the environment once, at start and before any fork: NOTIFY_SOCKET,
 * WATCHDOG_USEC/WATCHDOG_PID and LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES, and
 * unsets them all so that nothing started later sees them. Inherited
 * sockets are made close-on-exec. Returns 0, or -1 with cause (a bad
 * LISTEN_FDS); a bad NOTIFY_SOCKET is logged and notification is off.
 */
int		 sdnotify_init(char **cause);
/* Stops the watchdog timer and closes the notification socket. */
void		 sdnotify_close(void);

/*
 * Sends state (and STATUS= when status is not NULL) to the service
 * manager. Returns 1 when sent, 0 when there is no $NOTIFY_SOCKET, -1 when
 * sending failed (logged at verbose level).
 */
int		 sdnotify_send(const char *state, const char *status);
/* RELOADING=1 with MONOTONIC_USEC= of now. */
int		 sdnotify_reloading(void);
/* EXTEND_TIMEOUT_USEC=usec. */
int		 sdnotify_extend_timeout(uint64_t usec);

/* Starts sending WATCHDOG=1 at half of WATCHDOG_USEC, if it applies. */
void		 sdnotify_watchdog_start(struct event_base *);

/*
 * Socket activation: the inherited socket i (i below the count) and its
 * LISTEN_FDNAMES name, or -1 past the end. The sockets stay open for the
 * whole run: a listener that stops keeps them for the next start, and
 * they are never shut down, since the service manager shares them.
 */
int		 sdnotify_listen_fd(size_t i, const char **name);

#endif
