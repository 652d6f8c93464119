/*
 * admin.c - the admin socket: a line protocol over a UNIX socket. Accepts
 * clients, reads their lines, parses them against the command table
 * (cmd.c), checks AdminAllowedUsers, logs what changes state, and hands
 * the request to this process's role: the master's relay (relay.c) or the
 * local dispatcher here, which resolves the command's target and runs its
 * handler (cmd-conn.c, cmd-server.c, watch.c). The reply helpers are here.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "admin/admin.h"
#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/fleet-proto.h"
#include "core/ws-utf8.h"
#include "event/conn.h"
#include "event/fleet.h"
#include "event/server.h"

/*
 * Unread reply bytes after which a client that sends another command is
 * dropped: it does not read. One reply may be larger (a connection table),
 * so memory per client stays below this plus one reply.
 */
#define ADMIN_OUT_MAX		(1024 * 1024)
/*
 * Input read ahead of the parser. Lines are processed as they complete;
 * while a command waits (ping, sendfile) reading stops at this mark, but
 * the client's EOF is still seen.
 */
#define ADMIN_READ_MAX		(2 * ADMIN_LINE_MAX)
/* Most raw data (sendbytes) handed on at a time. */
#define ADMIN_DATA_CHUNK	(64 * 1024)

/* What runs a command in this process: its checks and its handler. */
struct admin_exec {
	admin_check_fn	*check;		/* before the target (NULL: none) */
	admin_exec_fn	*exec;
};

/* Every command of the table (cmd.c), bound to its handler. */
static const struct admin_exec admin_execs[ADMIN_CMD_COUNT] = {
	[ADMIN_CMD_HELP] = { .exec = admin_exec_help },
	[ADMIN_CMD_STATUS] = { .exec = admin_exec_status },
	[ADMIN_CMD_STATS] = { .exec = admin_exec_stats },
	[ADMIN_CMD_CONNECTIONS] = { .exec = admin_exec_connections_any },
	[ADMIN_CMD_CONNECTION] = { .exec = admin_exec_connection },
	[ADMIN_CMD_CERT] = { .exec = admin_exec_cert },
	[ADMIN_CMD_DISCONNECT] = { .check = admin_check_disconnect,
	    .exec = admin_exec_disconnect },
	[ADMIN_CMD_PING] = { .exec = admin_exec_ping },
	[ADMIN_CMD_SEND] = { .exec = admin_exec_send },
	[ADMIN_CMD_SENDTEXT] = { .exec = admin_exec_sendtext },
	[ADMIN_CMD_SENDFILE] = { .exec = admin_exec_sendfile },
	[ADMIN_CMD_INTERRUPT] = { .exec = admin_exec_interrupt },
	[ADMIN_CMD_BROADCAST] = { .exec = admin_exec_broadcast },
	[ADMIN_CMD_LINEMODE] = { .check = admin_check_linemode,
	    .exec = admin_exec_linemode },
	[ADMIN_CMD_TIMEOUT] = { .check = admin_check_timeout,
	    .exec = admin_exec_timeout },
	[ADMIN_CMD_PAUSE] = { .exec = admin_exec_pause },
	[ADMIN_CMD_RESUME] = { .exec = admin_exec_resume },
	[ADMIN_CMD_CONFIG] = { .exec = admin_exec_config },
	[ADMIN_CMD_START] = { .exec = admin_exec_start },
	[ADMIN_CMD_STOP] = { .exec = admin_exec_stop },
	[ADMIN_CMD_DRAIN] = { .exec = admin_exec_drain },
	[ADMIN_CMD_REOPEN] = { .exec = admin_exec_reopen },
	[ADMIN_CMD_RELOAD] = { .exec = admin_exec_reload },
	[ADMIN_CMD_SHUTDOWN] = { .exec = admin_exec_shutdown },
	[ADMIN_CMD_WATCH] = { .exec = admin_exec_watch },
	[ADMIN_CMD_SENDBYTES] = { .exec = admin_exec_sendbytes },
	[ADMIN_CMD_PUBLISH] = { .exec = admin_exec_publish },
	[ADMIN_CMD_PUBLISHBIN] = { .exec = admin_exec_publishbin },
	[ADMIN_CMD_TOPICS] = { .exec = admin_exec_topics },
};

/* ---------------------------------------------------------------- replies */

/* ---------------------------------------------------------------- dispatch */

/* True if name is "*", or the name or Path of a route of the running config. */
static bool
admin_is_route(const char *name)
{
	const struct config	*cfg = server_config(admin.srv);
	size_t			 i;

	if (strcmp(name, "*") == 0)
		return true;
	for (i = 0; i < cfg->nroutes; i++) {
		if (strcmp(cfg->routes[i].name, name) == 0 ||
		    (cfg->routes[i].path != NULL &&
		    strcmp(cfg->routes[i].path, name) == 0))
			return true;
	}
	return false;
}

/*
 * The local dispatcher: runs a request in this process. The checks that
 * come first, then the target the table names (a ConnectionId that is not
 * one is ERR 126 here, for every command), then the handler.
 */
void
admin_run(struct admin_client *cl, const struct admin_req *r)
{
	const struct admin_exec	*x = &admin_execs[r->cmd];
	struct admin_target	 t;
	char			 id[CONN_ID_MAX + 1];
	char			 node[FLEET_NODE_MAX + 1];
	size_t			 n;

	memset(&t, 0, sizeof(t));
	if (x->check != NULL && x->check(cl, r) == -1)
		return;
	switch (admin_cmd_target((size_t)r->cmd)) {
	case ADMIN_TARGET_NONE:
		break;
	case ADMIN_TARGET_CONN_OPT:
		if (r->argc == 0 || (n = admin_connid_len(r->argv[0])) == 0)
			break;
		snprintf(id, sizeof(id), "%.*s", (int)(n < CONN_ID_MAX ? n :
		    CONN_ID_MAX), r->argv[0]);
		/* Another node's connection: the command goes there. */
		if (fleet_id_remote(id, node) == 1) {
			admin_remote(cl, r, node);
			return;
		}
		if ((t.conn = conn_find(id)) == NULL) {
			admin_err(cl, WSD_ERR_CONNID, "Invalid ConnectionId "
			    "\"%s\"", id);
			return;
		}
		t.first = 1;
		break;
	case ADMIN_TARGET_CONN:
		/* Another node's connection: the command goes there. */
		if (fleet_id_remote(r->argv[0], node) == 1) {
			admin_remote(cl, r, node);
			return;
		}
		if ((t.conn = conn_find(r->argv[0])) == NULL) {
			admin_err(cl, WSD_ERR_CONNID, "Invalid ConnectionId "
			    "\"%.32s\"", r->argv[0]);
			return;
		}
		t.first = 1;
		break;
	case ADMIN_TARGET_ROUTE:
		/* A first word that names no route is the text's. */
		t.route = "*";
		if (r->argc == 2 && admin_is_route(r->argv[0])) {
			t.route = r->argv[0];
			t.first = 1;
		}
		break;
	}
	x->exec(cl, r, &t);
}

/* The local role: a single process, or a worker. */
static void
admin_local_dispatch(struct admin_client *cl, const struct admin_req *r,
    const char *line, size_t len)
{
	(void)line;
	(void)len;
	admin_run(cl, r);
}

const struct admin_role admin_local_role = {
	.dispatch = admin_local_dispatch,
	.nconns = conn_count,
	.memory = conn_memory,
	.data = admin_data_take,
};

/* ---------------------------------------------------------------- clients */

/* Frees a client now; a wait it started finishes without it. */
static void
admin_client_free(struct admin_client *cl)
{
	if (admin.role != NULL && admin.role->client_free != NULL)
		admin.role->client_free(cl);
	if (cl->wait != NULL)
		admin_wait_forget(cl->wait);
	if (cl->watching)
		admin.nwatchers--;
	TAILQ_REMOVE(&admin.clients, cl, entry);
	if (!cl->internal)
		admin.nclients--;
	bufferevent_free(cl->bev);
	event_free(cl->kick);
	if (cl->idle != NULL)
		event_free(cl->idle);
	free(cl);
}

/* Drops a client: at once, or when its callbacks return. */
static void
admin_client_drop(struct admin_client *cl)
{
	if (cl->in_cb > 0)
		cl->dead = true;
	else
		admin_client_free(cl);
}

/* Stops reading and closes the client once its output is sent. */
static void
admin_client_close_later(struct admin_client *cl)
{
	cl->closing = true;
	bufferevent_disable(cl->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(cl->bev),
	    evbuffer_get_length(bufferevent_get_input(cl->bev)));
	bufferevent_setwatermark(cl->bev, EV_WRITE, 0, 0);
}

/* Logs a state-changing command with the peer's credentials. */
static void
admin_log_command(struct admin_client *cl, const struct admin_req *r)
{
	char	 args[256];
	size_t	 n = 0;
	int	 i, shown = admin_cmd_log_args((size_t)r->cmd);

	*args = '\0';
	for (i = 0; i < r->argc && i < shown; i++) {
		n = strlen(args);
		snprintf(args + n, sizeof(args) - n, " %.100s", r->argv[i]);
	}
	if (r->argc > shown) {
		n = strlen(args);
		snprintf(args + n, sizeof(args) - n, " ...");
	}
	log_info("admin: uid %ld pid %ld: %s%s", cl->uid, cl->pid,
	    admin_cmd_name((size_t)r->cmd), args);
}

/* Whether uid is an admin's: root, the daemon's own user, those listed. */
static bool
admin_uid_admin(long uid)
{
	const struct config	*cfg = server_config(admin.srv);
	size_t			 i;

	if (uid == -1)
		return false;
	if (uid == 0 || (uid_t)uid == geteuid())
		return true;
	for (i = 0; i < cfg->admin_nuids; i++) {
		if ((uid_t)uid == cfg->admin_uids[i])
			return true;
	}
	return false;
}

/*
 * Whether a state-changing request may run for this peer: always when
 * AdminAllowedUsers is empty; else for root, the daemon's own user and the
 * users listed.
 */
static bool
admin_permitted(const struct admin_client *cl)
{
	if (server_config(admin.srv)->admin_nuids == 0 || cl->trusted)
		return true;
	return admin_uid_admin(cl->uid);
}

/*
 * AdminIdleTimeout: the clock of a client that is not a watcher starts again
 * at each command it sends.
 */
static void
admin_client_idle_arm(struct admin_client *cl)
{
	struct timeval	tv;

	if (cl->idle == NULL || cl->watching)
		return;
	tv.tv_sec = server_config(admin.srv)->admin_idle_timeout;
	tv.tv_usec = 0;
	evtimer_add(cl->idle, &tv);
}

/*
 * A command followed by raw data (sendbytes): its length, as many bytes
 * the client's next input holds, which never go to the line parser. A
 * length that cannot be read leaves the stream unframed: the client is
 * told and closed. Returns 0, or -1 when the request is over.
 */
static int
admin_data_len(struct admin_client *cl, const struct admin_req *r)
{
	const char		*s;
	char			*end;
	unsigned long long	 n;
	int			 i = admin_cmd_data_arg((size_t)r->cmd);

	if (i == 0)
		return 0;
	s = r->argv[i - 1];
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    n > ADMIN_DATA_MAX) {
		admin_err(cl, WSD_ERR_VALUE, "LEN must be 0-%llu, not "
		    "\"%.24s\"; the data cannot be told from commands: closing",
		    (unsigned long long)ADMIN_DATA_MAX, s);
		admin_client_close_later(cl);
		return -1;
	}
	cl->data_left = n;
	cl->data_to = -1;	/* the master's relay says where it goes */
	return 0;
}

/*
 * Hands the raw data that follows a command (cl->data_left bytes) to the
 * role as it arrives. Returns true when all of it is taken.
 */
static bool
admin_client_data(struct admin_client *cl)
{
	struct evbuffer	*in = bufferevent_get_input(cl->bev);
	size_t		 n, took;
	uint8_t		*p;

	while (cl->data_left > 0 && !cl->dead && !cl->closing &&
	    (n = evbuffer_get_length(in)) > 0) {
		if (n > cl->data_left)
			n = (size_t)cl->data_left;
		if (n > ADMIN_DATA_CHUNK)
			n = ADMIN_DATA_CHUNK;
		p = evbuffer_pullup(in, (ev_ssize_t)n);
		took = admin.role->data(cl, p, n, n == cl->data_left);
		evbuffer_drain(in, took);
		cl->data_left -= took;
		if (took < n)
			break;
	}
	return cl->data_left == 0;
}

/* Parses one command line, checks who may run it, and has the role run it. */
static void
admin_dispatch(struct admin_client *cl, const char *line, size_t len)
{
	static struct admin_req	 req;
	const char		*name;
	char			*cause = NULL;
	int			 code;
	bool			 changes;

	if ((code = admin_parse(line, len, &req, &cause)) != 0) {
		admin_err(cl, code, "%.1023s", cause);
		free(cause);
		return;
	}
	/* Its raw data is never a command line, whatever becomes of it. */
	if (admin_data_len(cl, &req) == -1)
		return;
	name = admin_cmd_name((size_t)req.cmd);
	changes = admin_req_changes(&req);
	if (changes && !admin_permitted(cl)) {
		log_warn("admin: uid %ld pid %ld: %s refused (not in "
		    "AdminAllowedUsers)", cl->uid, cl->pid, name);
		admin_err(cl, WSD_ERR_DENIED, "%s: permission denied (uid %ld "
		    "is not in AdminAllowedUsers)", name, cl->uid);
		return;
	}
	/* The master logged it for the real peer. */
	if (changes && !cl->trusted)
		admin_log_command(cl, &req);
	admin.role->dispatch(cl, &req, line, len);
}

/*
 * AdminIdleTimeout expired: a client that sent no command for that long is
 * disconnected, unless one of its commands still runs (a ping, a
 * sendfile, a command at the workers) or it watches.
 */
static void
admin_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_client	*cl = arg;

	(void)fd;
	(void)what;
	if (cl->watching || cl->dead || cl->closing)
		return;
	/* A command runs, or has just ended and its kick is due. */
	if (cl->wait != NULL || cl->fwd != NULL ||
	    event_pending(cl->kick, EV_TIMEOUT, NULL)) {
		admin_client_idle_arm(cl);
		return;
	}
	log_info("admin: client %llu (uid %ld pid %ld) sent no command for %d "
	    "s (AdminIdleTimeout): disconnected", cl->id, cl->uid, cl->pid,
	    server_config(admin.srv)->admin_idle_timeout);
	admin_client_drop(cl);
}

/* Runs the complete lines buffered, unless a command is waiting. */
static void
admin_client_process(struct admin_client *cl)
{
	struct evbuffer		*in = bufferevent_get_input(cl->bev);
	struct evbuffer_ptr	 eol;
	char			 line[ADMIN_LINE_MAX + 1];
	size_t			 len;

	cl->in_cb++;
	for (;;) {
		/* A command's raw data comes first, whoever waits. */
		if (cl->data_left > 0 && !admin_client_data(cl))
			break;
		if (cl->dead || cl->closing || cl->wait != NULL ||
		    cl->fwd != NULL)
			break;
		if (cl->watching) {
			/* A watcher only listens: its input is ignored. */
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1 ? evbuffer_get_length(in) >= ADMIN_LINE_MAX :
		    (size_t)eol.pos + 1 > ADMIN_LINE_MAX) {
			log_info("admin: client %llu sent a line over %d bytes",
			    cl->id, ADMIN_LINE_MAX);
			admin_err(cl, WSD_ERR_LINE, "line too long (at most "
			    "%d bytes)", ADMIN_LINE_MAX);
			admin_client_close_later(cl);
			break;
		}
		if (eol.pos == -1)
			break;
		if (evbuffer_get_length(admin_out(cl)) > ADMIN_OUT_MAX) {
			log_warn("admin: client %llu does not read its replies "
			    "(%zu bytes queued): dropped", cl->id,
			    evbuffer_get_length(admin_out(cl)));
			admin_client_drop(cl);
			break;
		}
		len = (size_t)eol.pos + 1;
		evbuffer_remove(in, line, len);
		admin_client_idle_arm(cl);
		admin_dispatch(cl, line, len);
	}
	cl->in_cb--;
	if (cl->dead && cl->in_cb == 0)
		admin_client_free(cl);
}

/* bufferevent read callback. */
static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	admin_client_process(arg);
}

/*
 * Deferred: a wait ended (its reply is out), go on with the lines that
 * came meanwhile. AdminIdleTimeout counts from here.
 */
static void
admin_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	admin_client_idle_arm(arg);
	admin_client_process(arg);
}

/* bufferevent write callback: the output drained to its low-water mark. */
static void
admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_client	*cl = arg;

	if (cl->closing) {
		if (evbuffer_get_length(admin_out(cl)) == 0)
			admin_client_drop(cl);
		return;
	}
	if (cl->watching)
		admin_watch_drained(cl);
}

/* bufferevent event callback: the client left, or its socket failed. */
static void
admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_client	*cl = arg;

	log_debug("admin: client %llu left", cl->id);
	admin_client_drop(cl);
}

/* Records the peer's uid and pid (SO_PEERCRED). */
static void
admin_peercred(struct admin_client *cl, int fd)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	cl->uid = cl->pid = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	    len == sizeof(uc)) {
		cl->uid = (long)uc.uid;
		cl->pid = (long)uc.pid;
	}
}

/* A new client on fd: reads commands, writes replies. */
static struct admin_client *
admin_client_new(int fd)
{
	struct admin_client	*cl;

	evutil_make_socket_nonblocking(fd);
	cl = xcalloc(1, sizeof(*cl));
	cl->id = ++admin.next_client;
	admin_peercred(cl, fd);
	cl->bev = bufferevent_socket_new(admin.base, fd, BEV_OPT_CLOSE_ON_FREE);
	cl->kick = event_new(admin.base, -1, 0, admin_kick_cb, cl);
	bufferevent_setcb(cl->bev, admin_read_cb, admin_write_cb,
	    admin_event_cb, cl);
	bufferevent_setwatermark(cl->bev, EV_READ, 0, ADMIN_READ_MAX);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&admin.clients, cl, entry);
	admin.nclients++;
	return cl;
}

/*
 * evconnlistener callback: a new admin client. The last
 * ADMIN_RESERVED_CLIENTS places are an admin's (admin_uid_admin); a client
 * gets AdminIdleTimeout.
 */
static void
admin_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char	 busy[] = "ERR 503 too many admin clients\n\n";
	struct admin_client	*cl;
	struct ucred		 uc;
	socklen_t		 len = sizeof(uc);
	long			 uid = -1;
	ssize_t			 n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	    len == sizeof(uc))
		uid = (long)uc.uid;
	if (admin.nclients >= ADMIN_MAX_CLIENTS ||
	    (admin.nclients >= ADMIN_MAX_CLIENTS - ADMIN_RESERVED_CLIENTS &&
	    !admin_uid_admin(uid))) {
		log_warn("admin: refused a client (uid %ld): %u already "
		    "connected, %d places kept for admins", uid, admin.nclients,
		    ADMIN_RESERVED_CLIENTS);
		n = send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		(void)n;
		close(fd);
		return;
	}
	cl = admin_client_new(fd);
	if (server_config(admin.srv)->admin_idle_timeout > 0) {
		cl->idle = evtimer_new(admin.base, admin_idle_cb, cl);
		admin_client_idle_arm(cl);
	}
	log_debug("admin: client %llu connected (uid %ld pid %ld)", cl->id,
	    cl->uid, cl->pid);
}

/* ---------------------------------------------------------------- socket */

/* True if something accepts connections on the UNIX socket at path. */
static bool
admin_socket_alive(const struct sockaddr_un *sun, int *err)
{
	int	 fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		*err = errno;
		return true;
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	*err = r == -1 ? errno : 0;
	close(fd);
	/* EAGAIN: a full backlog, so a live listener. */
	return r == 0 || *err == EAGAIN;
}

/* Binds fd to path with the mode; replaces a stale socket file. */
static int
admin_bind(int fd, const struct sockaddr_un *sun, int mode, char **cause)
{
	struct stat	 sb;
	mode_t		 old;
	int		 r, err;

	/* The socket never exists with more permissions than asked for. */
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r == -1 && errno == EADDRINUSE) {
		if (lstat(sun->sun_path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
			umask(old);
			xasprintf(cause, "admin socket %s: the file exists and "
			    "is not a socket", sun->sun_path);
			return -1;
		}
		if (admin_socket_alive(sun, &err)) {
			umask(old);
			xasprintf(cause, "admin socket %s is in use: another "
			    "wsserverd is running there%s%s (stop it, or set "
			    "another [admin] Socket)", sun->sun_path,
			    err != 0 ? ": " : "", err != 0 ? strerror(err) :
			    "");
			return -1;
		}
		log_info("admin socket %s: replacing a stale socket file",
		    sun->sun_path);
		unlink(sun->sun_path);
		r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	}
	err = errno;
	umask(old);
	if (r == -1) {
		xasprintf(cause, "admin socket %s: bind: %s%s", sun->sun_path,
		    strerror(err), err == ENOENT ? " (does its directory "
		    "exist? set [admin] Socket, or leave it empty to turn the "
		    "admin socket off)" : "");
		return -1;
	}
	return 0;
}

/* Gives the socket file its mode and group. */
static int
admin_socket_perms(const char *path, int mode, const char *group,
    char **cause)
{
	struct group	*gr;
	char		*end;
	long		 gid;

	if (chmod(path, (mode_t)mode) == -1) {
		xasprintf(cause, "admin socket %s: chmod: %s", path,
		    strerror(errno));
		return -1;
	}
	if (*group == '\0')
		return 0;
	errno = 0;
	gid = strtol(group, &end, 10);
	if (*end != '\0' || errno != 0 || gid < 0) {
		if ((gr = getgrnam(group)) == NULL) {
			xasprintf(cause, "admin socket: unknown SocketGroup "
			    "\"%s\"", group);
			return -1;
		}
		gid = (long)gr->gr_gid;
	}
	if (chown(path, (uid_t)-1, (gid_t)gid) == -1) {
		xasprintf(cause, "admin socket %s: chown to group %s: %s", path,
		    group, strerror(errno));
		return -1;
	}
	return 0;
}

/* Makes the default socket's directory (RuntimeDirectory does under systemd). */
static void
admin_default_dir(const char *path)
{
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		*slash;
	struct stat	 sb;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (stat(dir, &sb) == -1 && errno == ENOENT && mkdir(dir, 0755) == 0)
		log_info("made %s for the admin socket", dir);
}

/* Sets up this process's admin state: no clients, the role given. */
static void
admin_init(struct server *srv, const struct admin_role *role)
{
	memset(&admin, 0, sizeof(admin));
	TAILQ_INIT(&admin.clients);
	TAILQ_INIT(&admin.waits);
	admin.srv = srv;
	admin.base = server_base(srv);
	admin.role = role;
	admin.client_new = admin_client_new;
}

/* Creates and listens on the admin socket; -1 with cause on failure. */
static int
admin_open(struct server *srv, const struct admin_role *role, char **cause)
{
	const struct config	*cfg = server_config(srv);
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd;

	admin_init(srv, role);
	if (*cfg->admin_socket == '\0') {
		log_info("admin socket off ([admin] Socket is empty)");
		return 0;
	}
	if (strcmp(cfg->admin_socket, CONFIG_ADMIN_SOCKET) == 0)
		admin_default_dir(cfg->admin_socket);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->admin_socket) >= sizeof(sun.sun_path)) {
		xasprintf(cause, "admin socket %s: path longer than %zu bytes",
		    cfg->admin_socket, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, cfg->admin_socket, strlen(cfg->admin_socket));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		xasprintf(cause, "admin socket: %s", strerror(errno));
		return -1;
	}
	if (admin_bind(fd, &sun, cfg->admin_socket_mode, cause) == -1) {
		close(fd);
		return -1;
	}
	if (stat(sun.sun_path, &sb) == 0) {
		admin.dev = sb.st_dev;
		admin.ino = sb.st_ino;
	}
	snprintf(admin.path, sizeof(admin.path), "%s", sun.sun_path);
	if (admin_socket_perms(admin.path, cfg->admin_socket_mode,
	    cfg->admin_socket_group, cause) == -1) {
		close(fd);
		unlink(admin.path);
		return -1;
	}
	admin.evl = evconnlistener_new(admin.base, admin_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, ADMIN_MAX_CLIENTS,
	    fd);
	if (admin.evl == NULL) {
		xasprintf(cause, "admin socket %s: listen: %s", admin.path,
		    strerror(errno));
		close(fd);
		unlink(admin.path);
		return -1;
	}
	admin.on = true;
	admin_watch_hook_conns(true);
	admin_watch_hook_log(true);
	log_info("admin socket %s (mode %04o)", admin.path,
	    (unsigned int)cfg->admin_socket_mode);
	return 0;
}

/*
 * Opens the socket with a role. The default path is best effort: a daemon
 * started with a minimal config (no [admin] section) on a machine without
 * /run/wsserverd, or a second instance, still serves WebSockets. A Socket
 * that was set on purpose is required.
 */
static int
admin_start_role(struct server *srv, const struct admin_role *role,
    char **cause)
{
	const struct config	*cfg = server_config(srv);
	char			*why = NULL;

	if (admin_open(srv, role, &why) == 0)
		return 0;
	if (strcmp(cfg->admin_socket, CONFIG_ADMIN_SOCKET) == 0) {
		log_warn("%s; the admin socket is off (set [admin] Socket to "
		    "require one)", why);
		free(why);
		return 0;
	}
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	return -1;
}

/* One process serves everything: commands run here. */
int
admin_start(struct server *srv, char **cause)
{
	if (admin_start_role(srv, &admin_local_role, cause) == -1)
		return -1;
	admin_fleet_start();
	return 0;
}

/* The master of workers: commands go to the workers (relay.c). */
int
admin_master_start(struct server *srv, char **cause)
{
	if (admin_start_role(srv, &admin_master_role, cause) == -1)
		return -1;
	admin_fleet_start();
	return 0;
}

/*
 * A new worker: the admin socket and its clients are the master's. Drops
 * this process's copies (the socket file stays) and serves only the
 * channels the master hands over (admin_adopt), with the local role.
 */
void
admin_worker_start(struct server *srv)
{
	struct admin_client	*cl;

	admin_watch_hook_log(false);
	admin_watch_hook_conns(false);
	while ((cl = TAILQ_FIRST(&admin.clients)) != NULL)
		admin_client_free(cl);
	if (admin.evl != NULL)
		evconnlistener_free(admin.evl);
	admin_init(srv, &admin_local_role);
	admin.on = true;
	admin_watch_hook_conns(true);
	admin_watch_hook_log(true);
}

/* A worker: the master's channel for one of its admin clients. */
void
admin_adopt(int fd, bool watching)
{
	struct admin_client	*cl;

	if (!admin.on) {
		close(fd);
		return;
	}
	cl = admin_client_new(fd);
	cl->trusted = true;
	if (watching)
		admin_watch_start(cl);
}

/* Ends pending commands, drops the clients, removes the socket file. */
void
admin_stop(void)
{
	struct admin_client	*cl;
	struct stat		 sb;

	if (!admin.on)
		return;
	admin.on = false;
	admin_watch_hook_log(false);
	admin_waits_stop();
	admin_fleet_stop();
	admin_watch_hook_conns(false);
	while ((cl = TAILQ_FIRST(&admin.clients)) != NULL) {
		admin_flush(cl);
		admin_client_free(cl);
	}
	if (admin.evl != NULL)
		evconnlistener_free(admin.evl);
	admin.evl = NULL;
	/* Only our own socket: another daemon may have taken the path. */
	if (stat(admin.path, &sb) == 0 && sb.st_dev == admin.dev &&
	    sb.st_ino == admin.ino)
		unlink(admin.path);
}
