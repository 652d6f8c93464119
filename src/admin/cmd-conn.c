/*
 * cmd-conn.c - the admin commands that act on connections (cmd-show.c
 * lists them): on one ConnectionId (disconnect, ping, send, sendtext,
 * sendbytes, sendfile, interrupt, config, linemode, timeout, pause,
 * resume) or on a route's WebSockets (broadcast). The dispatcher
 * (admin_run) resolves the target first; a ping, sendfile or sendbytes
 * waits for the network here (the pending ones are admin.waits).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "core/ws-frame.h"
#include "core/ws-handshake.h"
#include "core/ws-utf8.h"
#include "event/conn.h"
#include "event/server.h"
#include "event/topics.h"

/* Ping timeout when DefaultTimeout is 0, seconds. */
#define ADMIN_PING_TIMEOUT	10
/* Largest send payload: a line's worth of base64. */
#define ADMIN_SEND_MAX		(ADMIN_LINE_MAX / 4 * 3)

/* How long a sendbytes whose client's queue is full waits to look again. */
#define ADMIN_DATA_RETRY_MS	10

enum admin_wait_kind {
	WAIT_PING,
	WAIT_FILE,
	WAIT_DATA,
	WAIT_EXT,		/* another file's (admin_wait_ext) */
};

/*
 * A command waiting for the network: a pong, a file to be queued, or the
 * raw data of a sendbytes to be queued as it comes (type, what was sent,
 * the UTF-8 check of text, the first error: the rest is then dropped).
 */
struct admin_wait {
	TAILQ_ENTRY(admin_wait)	 entry;
	enum admin_wait_kind	 kind;
	struct admin_client	*cl;		/* NULL once the client left */
	char			 conn[CONN_ID_MAX];	/* ConnectionId */
	char			 payload[64];
	size_t			 plen;
	struct timespec		 t0;
	struct event		*timer;
	int			 timeout;
	enum ws_msg_type	 type;
	uint64_t		 sent;
	struct ws_utf8		 utf8;
	int			 err;
	void			 (*cancel)(void *);	/* WAIT_EXT */
	void			*ctx;
};

/* ---------------------------------------------------------------- waits */

/* Ends a wait: replies (if its client is still there) and frees it. */
static void
admin_wait_done(struct admin_wait *w)
{
	struct admin_client	*cl = w->cl;

	TAILQ_REMOVE(&admin.waits, w, entry);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
	if (cl != NULL) {
		cl->wait = NULL;
		/* Not from here: we may be inside a connection's callback. */
		event_active(cl->kick, EV_TIMEOUT, 0);
	}
}

/*
 * Its client left: the wait finishes without replying. A sendbytes cut
 * short ends its message (an empty last fragment), so that the WebSocket
 * goes on.
 */
void
admin_wait_forget(struct admin_wait *w)
{
	struct conn	*c;

	w->cl = NULL;
	if (w->kind == WAIT_EXT) {
		/* Nobody to reply to: the other file lets go now. */
		w->cancel(w->ctx);
		admin_wait_done(w);
		return;
	}
	if (w->kind != WAIT_DATA)
		return;
	if (w->err == 0 && (c = conn_find(w->conn)) != NULL &&
	    conn_interrupt(c) == 1)
		log_info("admin: sendbytes to %s cut short after %llu bytes",
		    w->conn, (unsigned long long)w->sent);
	admin_wait_done(w);
}

/* A wait of another file; see admin-int.h. */
struct admin_wait *
admin_wait_ext(struct admin_client *cl, void (*cancel)(void *), void *ctx)
{
	struct admin_wait	*w;

	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_EXT;
	w->cancel = cancel;
	w->ctx = ctx;
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
	return w;
}

/* Another file's wait is over (its reply written); see admin-int.h. */
void
admin_wait_end(struct admin_wait *w)
{
	admin_wait_done(w);
}

/* A pong came: the ping that waits for it (if one does) is answered. */
void
admin_wait_pong(struct conn *c, const uint8_t *data, size_t len)
{
	struct admin_wait	*w;
	struct timespec		 now;
	double			 ms;

	TAILQ_FOREACH(w, &admin.waits, entry) {
		if (w->kind == WAIT_PING && w->plen == len &&
		    memcmp(w->payload, data, len) == 0 &&
		    strcmp(w->conn, conn_id(c)) == 0)
			break;
	}
	if (w == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - w->t0.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - w->t0.tv_nsec) / 1e6;
	if (w->cl != NULL)
		admin_ok(w->cl, "pong from %s in %.3f ms", w->conn, ms);
	if (w->cl != NULL)
		admin_end(w->cl);
	admin_wait_done(w);
}

/* An opened WebSocket is gone: the pings waiting for it fail. */
void
admin_wait_gone(struct conn *c)
{
	struct admin_wait	*w, *next;

	for (w = TAILQ_FIRST(&admin.waits); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->kind != WAIT_PING || strcmp(w->conn, conn_id(c)) != 0)
			continue;
		if (w->cl != NULL)
			admin_err(w->cl, WSD_ERR_SEND, "error sending: "
			    "connection %s closed before the pong", w->conn);
		admin_wait_done(w);
	}
}

/*
 * The admin socket closes: every wait ends. A file still being sent is
 * interrupted, so that its callback finds its wait and ends it.
 */
void
admin_waits_stop(void)
{
	struct admin_wait	*w;
	struct conn		*c;

	while ((w = TAILQ_FIRST(&admin.waits)) != NULL) {
		if (w->kind == WAIT_FILE && (c = conn_find(w->conn)) != NULL &&
		    conn_interrupt(c) == 0)
			continue;
		if (w->kind == WAIT_EXT)
			w->cancel(w->ctx);
		admin_wait_done(w);
	}
}

/* ---------------------------------------------------------------- act */

/*
 * A close code for "disconnect": the core's rule (ws_close_code_valid),
 * for a number that fits an int. Returns -1 when s is none.
 */
static int
admin_close_code(const char *s, int *code)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	/* Range first: a long past int must not wrap into a code. */
	if (*s == '\0' || *end != '\0' || errno != 0 || v < INT_MIN ||
	    v > INT_MAX || !ws_close_code_valid((int)v))
		return -1;
	*code = (int)v;
	return 0;
}

/* disconnect: CODE and REASON are checked before the ConnectionId. */
int
admin_check_disconnect(struct admin_client *cl, const struct admin_req *r)
{
	const char	*reason;
	int		 code;

	if (r->argc >= 2 && admin_close_code(r->argv[1], &code) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "invalid close code \"%.16s\" "
		    "(use 1000-1003, 1007-1014 or 3000-4999)", r->argv[1]);
		return -1;
	}
	if (r->argc == 3) {
		reason = r->argv[2];
		if (strlen(reason) > 123 || !ws_utf8_valid(
		    (const uint8_t *)reason, strlen(reason))) {
			admin_err(cl, WSD_ERR_VALUE, "the reason must be "
			    "UTF-8 of at most 123 bytes");
			return -1;
		}
	}
	return 0;
}

/* disconnect ID [CODE [REASON]] */
void
admin_exec_disconnect(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct conn_info ci;
	const char	*reason = r->argc == 3 ? r->argv[2] : NULL;
	int		 code = 0;

	if (r->argc >= 2)
		(void)admin_close_code(r->argv[1], &code);
	conn_get_info(t->conn, &ci);
	if (strcmp(ci.state, "closing") == 0 ||
	    strcmp(ci.state, "draining") == 0) {
		admin_ok(cl, "%s is already closing", r->argv[0]);
		admin_end(cl);
		return;
	}
	conn_close(t->conn, code, reason);
	admin_ok(cl, "closing %s", r->argv[0]);
	admin_end(cl);
}

/* Ping timer: no pong in time. */
static void
admin_ping_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_wait	*w = arg;

	if (w->cl != NULL)
		admin_err(w->cl, WSD_ERR_TIMEOUT, "no pong from %s within %d "
		    "s", w->conn, w->timeout);
	admin_wait_done(w);
}

/* Checks that c is an open WebSocket, or replies 4202. */
static bool
admin_conn_open(struct admin_client *cl, struct conn *c)
{
	struct conn_info	ci;

	conn_get_info(c, &ci);
	if (!ci.connected) {
		admin_err(cl, WSD_ERR_SEND, "error sending: connection %s is "
		    "not an open WebSocket (%s)", ci.id, ci.state);
		return false;
	}
	return true;
}

/* ping ID */
void
admin_exec_ping(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct admin_wait	*w;
	struct conn		*c = t->conn;
	struct timeval		 tv;
	int			 secs;

	if (!admin_conn_open(cl, c))
		return;
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_PING;
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->plen = (size_t)snprintf(w->payload, sizeof(w->payload),
	    "wsserverd-admin-ping-%llu", ++admin.ping_seq);
	secs = server_config(admin.srv)->default_timeout;
	w->timeout = secs > 0 ? secs : ADMIN_PING_TIMEOUT;
	if (conn_ping(c, w->payload, w->plen) == -1) {
		free(w);
		admin_err(cl, WSD_ERR_SEND, "error sending the ping to %s",
		    r->argv[0]);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	w->timer = evtimer_new(admin.base, admin_ping_timeout_cb, w);
	tv.tv_sec = w->timeout;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
}

/* Queues a whole message from the admin; replies the outcome. */
static void
admin_send_message(struct admin_client *cl, struct conn *c,
    enum ws_msg_type type, const void *data, size_t len)
{
	uint64_t	 left = conn_admin_left(c);

	switch (conn_send_admin(c, type, data, len, true)) {
	case 0:
		if (left > 0)
			admin_ok(cl, "queued %zu bytes to %s (%llu of "
			    "MessageLength to come)", len, conn_id(c),
			    (unsigned long long)(left - len));
		else
			admin_ok(cl, "queued %zu bytes to %s", len, conn_id(c));
		admin_end(cl);
		break;
	case -4:
	case -5:
		admin_err(cl, WSD_ERR_VALUE, "%s: the message in parts "
		    "(MessageLength) has %llu bytes to come, of its first "
		    "part's type", conn_id(c), (unsigned long long)left);
		break;
	case -2:
		admin_err(cl, WSD_ERR_BUSY, "connection %s is sending "
		    "another message (a sendfile, or a fragmented backend "
		    "message)", conn_id(c));
		break;
	case -3:
		admin_err(cl, WSD_ERR_SEND, "error sending: the output queue "
		    "of %s is full", conn_id(c));
		break;
	default:
		admin_err(cl, WSD_ERR_SEND, "error sending: connection %s is "
		    "not an open WebSocket", conn_id(c));
		break;
	}
}

/* send ID BASE64 */
void
admin_exec_send(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	uint8_t		 data[ADMIN_SEND_MAX];
	ssize_t		 n;

	if ((n = admin_base64_decode(r->argv[1], strlen(r->argv[1]), data,
	    sizeof(data))) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "invalid base64");
		return;
	}
	admin_send_message(cl, t->conn, WS_MSG_BINARY, data, (size_t)n);
}

/* sendtext ID TEXT */
void
admin_exec_sendtext(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	size_t		 len = strlen(r->argv[1]);

	if (!ws_utf8_valid((const uint8_t *)r->argv[1], len)) {
		admin_err(cl, WSD_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	admin_send_message(cl, t->conn, WS_MSG_TEXT, r->argv[1], len);
}

/* Conn callback: a sendfile ended; reply to the client that started it. */
static void
admin_file_done(void *arg, enum conn_file_status st, uint64_t bytes, int err)
{
	struct admin_wait	*w = arg;
	struct admin_client	*cl = w->cl;

	if (cl != NULL) {
		switch (st) {
		case CONN_FILE_DONE:
			admin_ok(cl, "sent %llu bytes to %s",
			    (unsigned long long)bytes, w->conn);
			admin_end(cl);
			break;
		case CONN_FILE_INTERRUPTED:
			admin_err(cl, WSD_ERR_INTERRUPTED, "interrupted "
			    "after %llu bytes", (unsigned long long)bytes);
			break;
		case CONN_FILE_ERROR:
			admin_err(cl, WSD_ERR_FILE, "read error after %llu "
			    "bytes: %s", (unsigned long long)bytes,
			    strerror(err));
			break;
		case CONN_FILE_CLOSED:
			admin_err(cl, WSD_ERR_SEND, "error sending: connection "
			    "%s closed after %llu bytes", w->conn,
			    (unsigned long long)bytes);
			break;
		}
	}
	log_info("admin: sendfile to %s ended after %llu bytes (%s)", w->conn,
	    (unsigned long long)bytes, st == CONN_FILE_DONE ? "done" :
	    st == CONN_FILE_INTERRUPTED ? "interrupted" :
	    st == CONN_FILE_ERROR ? "read error" : "connection closed");
	admin_wait_done(w);
}

/*
 * Opens path for sendfile, confined to dir (SendFileDirectory): path (a
 * relative one is taken inside dir) is resolved with realpath and must
 * lie inside dir's real path; it is then opened beneath dir with no
 * symbolic link allowed (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS:
 * nothing swapped in after realpath leads out). Returns the descriptor,
 * or -1 with the reply sent.
 */
static int
admin_sendfile_open(struct admin_client *cl, const char *dir,
    const char *path)
{
	struct open_how	 how;
	char		*rdir = NULL, *cand = NULL, *real = NULL;
	size_t		 n;
	int		 dfd = -1, fd = -1, err;

	if (*dir == '\0') {
		admin_err(cl, WSD_ERR_DENIED, "sendfile is off ([admin] "
		    "SendFileDirectory is empty)");
		return -1;
	}
	if ((rdir = realpath(dir, NULL)) == NULL) {
		admin_err(cl, WSD_ERR_FILE, "SendFileDirectory %.1024s: %s",
		    dir, strerror(errno));
		return -1;
	}
	if (path[0] == '/')
		cand = xstrdup(path);
	else
		xasprintf(&cand, "%s/%s", rdir, path);
	n = strlen(rdir);
	if ((real = realpath(cand, NULL)) == NULL) {
		admin_err(cl, WSD_ERR_FILE, "%.1024s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (strncmp(real, rdir, n) != 0 ||
	    (real[n] != '/' && real[n] != '\0' && n > 1)) {
		log_warn("admin: uid %ld pid %ld: sendfile of %.1024s refused: "
		    "outside SendFileDirectory %s", cl->uid, cl->pid, real,
		    rdir);
		admin_err(cl, WSD_ERR_DENIED, "%.1024s: outside "
		    "SendFileDirectory", path);
		goto out;
	}
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	if ((dfd = open(rdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) != -1)
		fd = (int)syscall(SYS_openat2, dfd, real[n] == '\0' ? "." :
		    real + (n > 1 ? n + 1 : n), &how, sizeof(how));
	if (fd == -1 && (dfd == -1 || errno == ENOSYS))
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd == -1) {
		err = errno;
		admin_err(cl, WSD_ERR_FILE, "%.1024s: %s", path, strerror(err));
	}
out:
	if (dfd != -1)
		close(dfd);
	free(rdir);
	free(cand);
	free(real);
	return fd;
}

/* sendfile ID PATH */
void
admin_exec_sendfile(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct admin_wait	*w;
	struct conn		*c = t->conn;
	struct stat		 sb;
	int			 fd, rc;

	if (!admin_conn_open(cl, c))
		return;
	if ((fd = admin_sendfile_open(cl, server_config(admin.srv)->sendfile_dir,
	    r->argv[1])) == -1)
		return;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		admin_err(cl, WSD_ERR_FILE, "%.1024s: not a regular file",
		    r->argv[1]);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_FILE;
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
	/* done may run before this returns (a small file): w is gone then. */
	if ((rc = conn_sendfile(c, fd, admin_file_done, w)) != 0) {
		close(fd);
		TAILQ_REMOVE(&admin.waits, w, entry);
		cl->wait = NULL;
		free(w);
		if (rc == -2)
			admin_err(cl, WSD_ERR_BUSY, "connection %s is "
			    "sending another message", r->argv[0]);
		else
			admin_err(cl, WSD_ERR_SEND, "error sending: connection "
			    "%s is not open", r->argv[0]);
	}
}

/* interrupt ID */
void
admin_exec_interrupt(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	if (conn_interrupt(t->conn) == -1) {
		admin_err(cl, WSD_ERR_NOFILE, "no sendfile in progress on %s",
		    r->argv[0]);
		return;
	}
	admin_ok(cl, "interrupted the sendfile to %s", r->argv[0]);
	admin_end(cl);
}

/* True if a connection's route is the one named (by name or path). */
static bool
admin_route_matches(struct conn *c, const char *route)
{
	const struct config	*cfg = server_config(admin.srv);
	struct conn_info	 ci;
	size_t			 i;

	if (strcmp(route, "*") == 0)
		return true;
	conn_get_info(c, &ci);
	if (strcmp(ci.route, route) == 0)
		return true;
	for (i = 0; i < cfg->nroutes; i++) {
		if (cfg->routes[i].path != NULL &&
		    strcmp(cfg->routes[i].path, route) == 0 &&
		    strcmp(cfg->routes[i].name, ci.route) == 0)
			return true;
	}
	return false;
}

/* broadcast [ROUTE|*] TEXT: the text is what follows the route, if named. */
void
admin_exec_broadcast(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct conn		*c;
	struct conn_info	 ci;
	const char		*text = r->tail[t->first];
	unsigned int		 sent = 0, busy = 0, full = 0;

	if (!ws_utf8_valid((const uint8_t *)text, strlen(text))) {
		admin_err(cl, WSD_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	for (c = conn_first(); c != NULL; c = conn_next(c)) {
		conn_get_info(c, &ci);
		if (!ci.connected || !admin_route_matches(c, t->route))
			continue;
		switch (conn_send_admin(c, WS_MSG_TEXT, text, strlen(text),
		    false)) {
		case 0:
			sent++;
			break;
		case -2:
			busy++;
			break;
		default:
			full++;
			break;
		}
	}
	admin_ok(cl, "sent to %u connection(s)", sent);
	if (busy > 0 || full > 0)
		admin_line(cl, "skipped %u busy and %u with a full queue", busy,
		    full);
	admin_end(cl);
}

/*
 * config ID [KEY[=VALUE]]: a connection's settings (conn_setting_*), every
 * one, one, or a change of one.
 */
void
admin_config_conn(struct admin_client *cl, const struct admin_req *r,
    struct conn *c)
{
	const char	*name;
	char		 arg[ADMIN_LINE_MAX], value[64];
	char		*cause = NULL, *key, *eq;
	size_t		 i;
	int		 rc;

	const char	*rest;

	/* What follows the ConnectionId: KEY[=VALUE], or nothing. */
	rest = r->tail[0] + admin_connid_len(r->tail[0]);
	rest += strspn(rest, " \t");
	if (*rest == '\0') {
		admin_ok(cl, NULL);
		for (i = 0; (name = conn_setting_name(i)) != NULL; i++) {
			(void)conn_setting_get(c, name, value, sizeof(value));
			admin_line(cl, "%s = %s", name, value);
		}
		admin_end(cl);
		return;
	}
	snprintf(arg, sizeof(arg), "%s", rest);
	if ((eq = strchr(arg, '=')) != NULL)
		*eq = '\0';
	key = admin_trim(arg);
	if (eq != NULL) {
		if ((rc = conn_setting_set(c, key, admin_trim(eq + 1),
		    &cause)) != 0) {
			admin_err(cl, rc, "%s: %s", conn_id(c), cause);
			free(cause);
			return;
		}
		log_info("admin: %s of %s set to %.64s", key, conn_id(c),
		    admin_trim(eq + 1));
	}
	if ((name = conn_setting_get(c, key, value, sizeof(value))) == NULL) {
		admin_err(cl, WSD_ERR_NOKEY, "unknown setting \"%.64s\" of a "
		    "connection", key);
		return;
	}
	admin_ok(cl, NULL);
	admin_line(cl, "%s = %s", name, value);
	admin_end(cl);
}

/* linemode: on|off is checked before the ConnectionId. */
int
admin_check_linemode(struct admin_client *cl, const struct admin_req *r)
{
	bool	 on;

	if (config_parse_bool(r->argv[1], &on) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "use on or off, not \"%.16s\"",
		    r->argv[1]);
		return -1;
	}
	return 0;
}

/* linemode ID on|off */
void
admin_exec_linemode(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	bool	 on = false;

	(void)config_parse_bool(r->argv[1], &on);
	conn_set_line_mode(t->conn, on);
	admin_ok(cl, "LineMode of %s is %s", r->argv[0], on ? "True" :
	    "False");
	admin_end(cl);
}

/* A send timeout for "timeout": 0-86400 seconds. Returns -1 when s is none. */
static int
admin_seconds(const char *s, long *secs)
{
	char	*end;

	errno = 0;
	*secs = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *secs < 0 ||
	    *secs > 86400)
		return -1;
	return 0;
}

/* timeout: SECONDS is checked before the ConnectionId. */
int
admin_check_timeout(struct admin_client *cl, const struct admin_req *r)
{
	long	 secs;

	if (admin_seconds(r->argv[1], &secs) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "timeout must be 0-86400 seconds, "
		    "not \"%.16s\"", r->argv[1]);
		return -1;
	}
	return 0;
}

/* timeout ID SECONDS: the connection's Timeout (send timeout). */
void
admin_exec_timeout(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	long	 secs = 0;

	(void)admin_seconds(r->argv[1], &secs);
	conn_set_timeout(t->conn, (int)secs);
	admin_ok(cl, "Timeout of %s is %ld", r->argv[0], secs);
	admin_end(cl);
}

/* pause ID and resume ID: AcceptData off and on. */
static void
admin_accept_data(struct admin_client *cl, const struct admin_req *r,
    struct conn *c, bool on)
{
	conn_set_accept_data(c, on);
	admin_ok(cl, "AcceptData of %s is %s", r->argv[0], on ? "True" :
	    "False");
	admin_end(cl);
}

/* pause ID */
void
admin_exec_pause(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	admin_accept_data(cl, r, t->conn, false);
}

/* resume ID */
void
admin_exec_resume(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	admin_accept_data(cl, r, t->conn, true);
}

/* Ends a sendbytes: its reply, then the client's next command. */
static void
admin_data_done(struct admin_wait *w)
{
	struct admin_client	*cl = w->cl;

	if (cl != NULL && w->err == 0) {
		admin_ok(cl, "queued %llu bytes to %s", (unsigned long long)
		    w->sent, w->conn);
		admin_end(cl);
	} else if (cl != NULL && w->err == -5)
		admin_err(cl, WSD_ERR_VALUE, "the data is not UTF-8 (after "
		    "%llu bytes): the message was ended there",
		    (unsigned long long)w->sent);
	else if (cl != NULL && (w->err == -2 || w->err == -4))
		admin_err(cl, WSD_ERR_BUSY, "connection %s is sending another "
		    "message (a sendfile, a fragmented backend message, or "
		    "the rest of MessageLength is shorter)", w->conn);
	else if (cl != NULL)
		admin_err(cl, WSD_ERR_SEND, "error sending: connection %s "
		    "closed after %llu bytes", w->conn,
		    (unsigned long long)w->sent);
	admin_wait_done(w);
}

/* Timer: the client's queue may have room again. */
static void
admin_data_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_wait	*w = arg;

	if (w->cl != NULL)
		event_active(w->cl->kick, EV_TIMEOUT, 0);
}

/*
 * Text of a sendbytes: how much of p can go now. A character cut by the
 * read waits for its rest; at the first byte that is not UTF-8 (or an
 * end inside a character) the valid text before it goes, and w->err ends
 * the message there.
 */
static size_t
admin_data_text(struct admin_wait *w, const uint8_t *p, size_t len,
    bool end)
{
	struct ws_utf8	before = w->utf8;
	size_t		n = end ? len : len - ws_utf8_tail(p, len), k;

	if (ws_utf8_feed(&w->utf8, p, n) == 0 &&
	    (!end || ws_utf8_complete(&w->utf8)))
		return n;
	/* Rare: find the valid prefix a byte at a time. */
	w->utf8 = before;
	for (k = 0; k < len && ws_utf8_feed(&w->utf8, p + k, 1) == 0; k++)
		;
	w->err = -5;
	return k - ws_utf8_tail(p, k);
}

/*
 * The local role's raw data (sendbytes): queued on the connection as it
 * comes while its queue has room (otherwise looked at again in
 * ADMIN_DATA_RETRY_MS); text is checked as UTF-8 and never cut inside a
 * character; after an error the rest is dropped. Without a sendbytes
 * waiting (it was refused before it ran) the data is dropped.
 */
size_t
admin_data_take(struct admin_client *cl, const uint8_t *p, size_t len,
    bool end)
{
	struct admin_wait	*w = cl->wait;
	struct timeval		 tv = { 0, ADMIN_DATA_RETRY_MS * 1000 };
	struct conn_info	 ci;
	struct conn		*c = NULL;
	size_t			 n = len;
	int			 rc;

	if (w == NULL || w->kind != WAIT_DATA)
		return len;
	if (w->err == 0 && ((c = conn_find(w->conn)) == NULL ||
	    (conn_get_info(c, &ci), !ci.connected)))
		w->err = -1;
	if (w->err == 0) {
		if (!conn_admin_room(c)) {
			evtimer_add(w->timer, &tv);
			return 0;
		}
		if (w->type == WS_MSG_TEXT)
			n = admin_data_text(w, p, len, end);
		if (n > 0 && (rc = conn_send_admin(c, w->type, p, n,
		    true)) != 0)
			w->err = rc;
		else
			w->sent += n;
		if (w->err != 0 && conn_interrupt(c) == 1)
			log_info("admin: sendbytes to %s ended after %llu bytes",
			    w->conn, (unsigned long long)w->sent);
		if (w->err != 0)
			n = len;
	}
	if (end && n == len)
		admin_data_done(w);
	return n;
}

/*
 * sendbytes ID LEN [text]: the LEN bytes after the line (admin.c hands
 * them on) are one message, or the next part of the MessageLength one.
 */
void
admin_exec_sendbytes(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct admin_wait	*w;
	struct conn		*c = t->conn;
	uint64_t		 len = cl->data_left, left;
	char			 num[32];
	char			*cause = NULL;

	if (r->argc == 3 && strcmp(r->argv[2], "text") != 0) {
		admin_err(cl, WSD_ERR_USAGE, "usage: sendbytes ID LEN [text]");
		return;
	}
	if (!admin_conn_open(cl, c))
		return;
	left = conn_admin_left(c);
	if (len == 0 && left == 0) {
		admin_send_message(cl, c, r->argc == 3 ? WS_MSG_TEXT :
		    WS_MSG_BINARY, "", 0);
		return;
	}
	if (left == 0) {
		/* One message of LEN bytes: its MessageLength. */
		snprintf(num, sizeof(num), "%llu", (unsigned long long)len);
		if (conn_setting_set(c, "MessageLength", num, &cause) != 0) {
			admin_err(cl, WSD_ERR_VALUE, "%s", cause);
			free(cause);
			return;
		}
	} else if (len > left) {
		admin_err(cl, WSD_ERR_VALUE, "%s: only %llu bytes of "
		    "MessageLength are to come", r->argv[0],
		    (unsigned long long)left);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_DATA;
	w->type = r->argc == 3 ? WS_MSG_TEXT : WS_MSG_BINARY;
	ws_utf8_init(&w->utf8);
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->timer = evtimer_new(admin.base, admin_data_retry_cb, w);
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
}
