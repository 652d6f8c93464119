/*
 * watch.c - the watch stream: a client that gave "watch" gets every event
 * (upgrade verdicts, connections opened and closed, errors) and every log
 * line as one line each, until it leaves. The log hook and the connection
 * hooks (conn_set_hooks) feed it; the hooks also end the pings that wait
 * for a pong (cmd-conn.c). With workers the master streams their events
 * after its own (relay.c).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "admin/admin-int.h"
#include "base/log.h"
#include "core/ws-handshake.h"
#include "event/conn.h"

/* Sends one event line to every watcher that keeps up; counts the others. */
static void
admin_broadcast_event(const char *line, size_t len)
{
	struct admin_client	*cl;

	TAILQ_FOREACH(cl, &admin.clients, entry) {
		if (!cl->watching || cl->dead || cl->closing)
			continue;
		if (evbuffer_get_length(admin_out(cl)) + len >
		    ADMIN_WATCH_MAX) {
			cl->dropped++;
			continue;
		}
		evbuffer_add(admin_out(cl), line, len);
	}
}

/*
 * Formats an event, escapes what is not printable (log_escape) and sends it
 * to watchers.
 */
static void __attribute__((format(printf, 1, 2)))
admin_event(const char *fmt, ...)
{
	char	 buf[ADMIN_EVENT_MAX], esc[ADMIN_EVENT_MAX];
	va_list	 ap;
	size_t	 len;
	int	 r;

	if (admin.nwatchers == 0)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	len = (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1;
	len = log_escape(buf, len, esc, sizeof(esc) - 1, NULL);
	esc[len++] = '\n';
	admin_broadcast_event(esc, len);
}

/*
 * Log hook: every line the daemon logs, at its LogLevel. The log escaped
 * it already: escaping again would double its backslashes.
 */
static void
admin_log_hook(const char *sev, const char *msg, size_t len)
{
	char	 buf[ADMIN_EVENT_MAX];
	int	 r;

	if (admin.nwatchers == 0)
		return;
	r = snprintf(buf, sizeof(buf) - 1, "Log %s %.*s", sev,
	    (int)(len > 2048 ? 2048 : len), msg);
	if (r < 0)
		return;
	if ((size_t)r > sizeof(buf) - 2)
		r = (int)sizeof(buf) - 2;
	buf[r++] = '\n';
	admin_broadcast_event(buf, (size_t)r);
}

/* Conn hook: the verdict on an upgrade request. */
static void
admin_hook_verdict(struct conn *c, int status, const char *cause)
{
	const struct ws_request	*req;

	/* Nobody watches: not even the request is looked at. */
	if (admin.nwatchers == 0)
		return;
	req = conn_request(c);

	admin_event("WebSocketOpenRequest %s %s:%d %.1024s %d %s", conn_id(c),
	    conn_remote_addr(c), conn_remote_port(c), log_uri(req->uri), status,
	    cause);
}

/* Conn hook: a WebSocket is open. */
static void
admin_hook_connected(struct conn *c)
{
	const struct ws_request	*req;
	struct conn_info	 ci;

	if (admin.nwatchers == 0)
		return;
	req = conn_request(c);

	conn_get_info(c, &ci);
	admin_event("Connected %s %s:%d %.1024s route=%s", conn_id(c),
	    conn_remote_addr(c), conn_remote_port(c), log_uri(req->uri),
	    ci.route);
}

/* Conn hook: an opened WebSocket is gone; pings waiting for it fail. */
static void
admin_hook_disconnected(struct conn *c, int code, const char *by,
    const char *reason)
{
	admin_event("Disconnected %s code=%d by=%s reason=\"%.512s\"",
	    conn_id(c), code, by, reason);
	admin_wait_gone(c);
}

/*
 * Conn hook: the reference's Ping event, a ping or a pong from the client
 * with its round trip; the pong an admin ping waits for ends the wait.
 */
static void
admin_hook_ping(struct conn *c, const uint8_t *data, size_t len,
    bool response, long long rtt_us)
{
	char	rtt[32] = "";

	if (response && rtt_us >= 0)
		snprintf(rtt, sizeof(rtt), " rtt=%lld.%03lldms", rtt_us / 1000,
		    rtt_us % 1000);
	else if (response)
		snprintf(rtt, sizeof(rtt), " rtt=-");
	admin_event("Ping %s response=%s len=%zu%s payload=\"%.*s\"",
	    conn_id(c), response ? "true" : "false", len, rtt, (int)len,
	    (const char *)data);
	if (response)
		admin_wait_pong(c, data, len);
}

/*
 * Conn hook: the reference's ConnectionRequest with Accept false, a
 * client refused before any HTTP.
 */
static void
admin_hook_refused(const char *addr, int port, const char *why)
{
	admin_event("ConnectionRequest %s:%d refused %s", addr, port, why);
}

/* Conn hook: a protocol error or send timeout. */
static void
admin_hook_error(struct conn *c, int code, const char *what)
{
	admin_event("Error %s %d %s", conn_id(c), code, what);
}

static const struct conn_hooks admin_conn_hooks = {
	.verdict = admin_hook_verdict,
	.connected = admin_hook_connected,
	.disconnected = admin_hook_disconnected,
	.ping = admin_hook_ping,
	.error = admin_hook_error,
	.refused = admin_hook_refused,
};

/* Starts or stops sending log lines to watchers. */
void
admin_watch_hook_log(bool on)
{
	log_set_hook(on ? admin_log_hook : NULL);
}

/* Starts or stops hearing of connections (events, pongs). */
void
admin_watch_hook_conns(bool on)
{
	conn_set_hooks(on ? &admin_conn_hooks : NULL);
}

/* Replies to "watch" and makes the client a watcher. */
void
admin_watch_start(struct admin_client *cl)
{
	admin_ok(cl, "watching (LogLevel %d)", log_get_level());
	admin_end(cl);
	cl->watching = true;
	admin.nwatchers++;
	bufferevent_setwatermark(cl->bev, EV_WRITE, ADMIN_WATCH_MAX / 2, 0);
}

/* A watcher's output drained: it hears of the events it missed. */
void
admin_watch_drained(struct admin_client *cl)
{
	if (cl->dropped > 0) {
		evbuffer_add_printf(admin_out(cl), "Dropped %llu event(s)\n",
		    (unsigned long long)cl->dropped);
		cl->dropped = 0;
	}
}

/* watch */
void
admin_exec_watch(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	(void)r;
	(void)t;
	admin_watch_start(cl);
}
