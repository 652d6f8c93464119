/* backend-script.c - CGI-style backend: one handler process per WebSocket (script: and dir: routes). */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "backend/backends.h"
#include "backend/cgi.h"
#include "backend/dir.h"
#include "backend/pump.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/ws-handshake.h"
#include "event/backend.h"
#include "event/conn.h"
#include "event/runtime.h"
#include "event/spawn.h"
#include "event/workers-shm.h"

/* stderr lines are logged in pieces of this many bytes (fits a log line). */
#define SCRIPT_ERRLINE_MAX	1024
#define SCRIPT_ID_MAX		64

/* SIGTERM to SIGKILL, seconds (less when KillTimeout is less). */
#define SCRIPT_TERM_GRACE	1

/* What the next expiry of the kill timer does. */
enum script_stage {
	SCRIPT_STAGE_NONE,	/* timer not armed */
	SCRIPT_STAGE_TERM,	/* send SIGTERM to the process group */
	SCRIPT_STAGE_KILL,	/* send SIGKILL to the process group */
	SCRIPT_STAGE_FORCE,	/* give up on pipes held by escaped processes */
};

/*
 * One handler. It lives until the connection has let go (close op), the
 * process is reaped and all three pipes are closed, in whatever order
 * those happen; busy keeps it alive while one of our frames is on the
 * stack, because conn_close calls back into us.
 */
struct script {
	LIST_ENTRY(script)	 entry;
	struct conn		*conn;		/* NULL once detached */
	struct event_base	*base;
	char			 id[SCRIPT_ID_MAX];
	char			*prog;		/* argv[0], for the log */
	uint64_t		 job;		/* its spawn request */
	pid_t			 pid;		/* also the process group id */
	int			 status;	/* wait status once reaped */
	int			 kill_timeout;	/* seconds */

	struct bufferevent	*in;		/* handler's stdin; NULL: closed */
	struct bufferevent	*out;		/* handler's stdout; NULL: done */
	struct bufferevent	*err;		/* handler's stderr; NULL: done */
	struct event		*timer;
	enum script_stage	 stage;

	struct pump		 pump;		/* messages both ways */
	int			 busy;		/* our frames on the stack */
	const struct route	*route;
	struct cgi_turn		 turn;		/* MaxSpawnRate */
	bool			 waiting;	/* for its turn: not asked for */
	bool			 requested;	/* asked of the spawner */

	bool			 started;	/* the spawner started it */
	bool			 reaped;	/* (or it never started) */
	bool			 counted;	/* holds a MaxHandlers place */
	bool			 group_left;	/* reaped, its group not empty */
	bool			 released;	/* the connection called close */
	bool			 closing;	/* shutdown started */
	bool			 out_eof;
};

static void	*script_open(struct conn *, const struct route *, char **);
static bool	 script_waiting(void *);
static void	 script_message(void *, enum ws_msg_type, const uint8_t *,
		    size_t, bool, bool);
static void	 script_writable(void *);
static void	 script_ping(void *, const uint8_t *, size_t);
static void	 script_pong(void *, const uint8_t *, size_t);
static void	 script_close(void *);
static int	 script_live(void);
static void	 script_kill_all(void);

static void	 script_started(void *, pid_t, int [3]);
static void	 script_failed(void *, const char *);
static void	 script_reaped(void *, int);
static void	 script_timer_cb(evutil_socket_t, short, void *);
static void	 script_arm_timer(struct script *);
static void	 script_signal(struct script *, int);
static bool	 script_stdout_held(struct script *);
static void	 script_stdin_write_cb(struct bufferevent *, void *);
static void	 script_stdin_event_cb(struct bufferevent *, short, void *);
static void	 script_stdout_read_cb(struct bufferevent *, void *);
static void	 script_stdout_event_cb(struct bufferevent *, short, void *);
static void	 script_stdout_finish(struct script *);
static void	 script_stderr_read_cb(struct bufferevent *, void *);
static void	 script_stderr_event_cb(struct bufferevent *, short, void *);
static void	 script_stderr_lines(struct script *, bool);
static void	 script_pump_read(void *, bool);
static void	 script_pump_end(void *, int, const char *);

static void	 script_enter(struct script *);
static void	 script_leave(struct script *);
static void	 script_shutdown(struct script *);
static void	 script_end(struct script *, int, const char *);
static void	 script_check_exit(struct script *);
static void	 script_close_stdin(struct script *);
static void	 script_close_stdout(struct script *);
static void	 script_close_stderr(struct script *);

/*
 * Opened early, and giving the verdict: the handler is started (by the
 * spawner, while the event loop goes on) before the 101 is sent, so a
 * failure to start it (no program, fork failing at the process limit,
 * exec failing) answers 503 instead of an upgrade that closes at once.
 * dir: routes first choose the program the request names (admit).
 */
const struct backend_ops backend_script_ops = {
	.name = "script",
	.open_early = true,
	.verdict = true,
	.waiting = script_waiting,
	.admit = dir_admit,
	.open = script_open,
	.message = script_message,
	.writable = script_writable,
	.ping = script_ping,
	.pong = script_pong,
	.close = script_close,
	.live = script_live,
	.kill_all = script_kill_all,
};

static const struct spawn_ops script_spawn_ops = {
	.started = script_started,
	.failed = script_failed,
	.reaped = script_reaped,
};

static const struct pump_ops script_pump_ops = {
	.read = script_pump_read,
	.end = script_pump_end,
};

/* Every instance not yet freed. */
static LIST_HEAD(, script) script_all = LIST_HEAD_INITIALIZER(script_all);
static int		 script_nlive;		/* instances not yet reaped */
static char		 script_errline[SCRIPT_ERRLINE_MAX + 1];
static unsigned long long script_full_logged;	/* last MaxHandlers line */
static unsigned long long script_full_unlogged;	/* refusals since then */

/*
 * MaxHandlers: takes a place for a new handler process, over all workers.
 * Refusals are counted, and logged at most once a second with how many
 * there were. Returns 0, or -1 with *cause.
 */
static int
script_reserve(const struct config *cfg, char **cause)
{
	unsigned long long	now;
	int			max;

	max = cfg->max_handlers > 0 ? cfg->max_handlers : cfg->max_connections;
	if (workers_handler_reserve((unsigned int)max) == 0)
		return 0;
	runtime_stats()->rejected_handlers++;
	script_full_unlogged++;
	now = util_now_ms();
	if (script_full_logged == 0 || now - script_full_logged >= 1000) {
		log_warn("refused %llu WebSocket(s): MaxHandlers (%d handler "
		    "processes alive, lingering ones included) reached",
		    script_full_unlogged, max);
		script_full_logged = now;
		script_full_unlogged = 0;
	}
	*cause = xstrdup("too many handler processes");
	return -1;
}

/* Gives the instance's MaxHandlers place back (once). */
static void
script_uncount(struct script *s)
{
	if (!s->counted)
		return;
	s->counted = false;
	workers_handler_release();
}

/*
 * Asks the spawner for the instance's handler (dir: routes run the program
 * the request named); script_started or script_failed follows. Returns 0,
 * or -1 with *cause set (the failure is logged).
 */
static int
script_request(struct script *s, char **cause)
{
	struct conn		*conn = s->conn;
	const struct route	*route = s->route;
	char			*dargv[2];
	char *const		*argv = route->argv;

	if ((dargv[0] = (char *)dir_program(conn, NULL, NULL)) != NULL) {
		dargv[1] = NULL;
		argv = dargv;
	}
	if ((s->job = cgi_spawn(conn, route, argv, &script_spawn_ops, s,
	    cause)) == 0)
		return -1;
	s->requested = true;
	s->prog = xstrdup(argv[0]);
	if ((s->timer = evtimer_new(s->base, script_timer_cb, s)) == NULL)
		util_oom(event_get_struct_event_size());
	pump_init(&s->pump, conn, route, s->id, "handler", "handler output",
	    &script_pump_ops, s);
	return 0;
}

/* An instance whose handler was never asked for goes (its place too). */
static void
script_discard(struct script *s)
{
	cgi_spawn_turn_cancel(&s->turn);
	script_uncount(s);
	free(s);
}

/*
 * The instance's turn came (MaxSpawnRate): its handler is asked for (the
 * verdict follows from the spawner), or the upgrade is refused with 503
 * (which closes, and so discards, the instance).
 */
static void
script_turn(struct cgi_turn *t)
{
	struct script	*s = (struct script *)(void *)((char *)t -
			    offsetof(struct script, turn));
	char		*cause = NULL;

	s->waiting = false;
	if (script_request(s, &cause) == 0)
		return;
	runtime_stats()->backend_failures++;
	(void)conn_decided(s->conn, 503, cause, NULL, 0);
	free(cause);
}

/* Whether the instance still waits for its turn to start. */
static bool
script_waiting(void *b)
{
	return ((struct script *)b)->waiting;
}

/*
 * A new WebSocket's instance: its handler is asked for now, or, over
 * MaxSpawnRate, once its turn comes (the connection waits, at most
 * HandshakeTimeout). The connection then waits for the verdict
 * (script_started: 101, script_failed: 503). Returns the instance, or
 * NULL with *cause set (the failure is logged).
 */
static void *
script_open(struct conn *conn, const struct route *route, char **cause)
{
	struct script	*s;
	int		 kt;
	char *const	*argv = route->argv;

	if (dir_program(conn, NULL, NULL) == NULL && (argv == NULL ||
	    argv[0] == NULL || argv[0][0] == '\0')) {
		*cause = xstrdup("no handler program");
		log_error("%s %s", conn_id(conn), *cause);
		return NULL;
	}
	if (script_reserve(conn_config(conn), cause) == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->counted = true;
	s->conn = conn;
	s->route = route;
	s->base = conn_base(conn);
	snprintf(s->id, sizeof(s->id), "%s", conn_id(conn));
	kt = conn_config(conn)->kill_timeout;
	s->kill_timeout = kt > 0 ? kt : 0;
	if (cgi_spawn_turn(conn_config(conn), &s->turn, script_turn) == 0) {
		s->waiting = true;
		return s;
	}
	if (script_request(s, cause) == -1) {
		script_discard(s);
		return NULL;
	}
	return s;
}

/* The handler runs: its pipes are ours, and the upgrade goes on (101). */
static void
script_started(void *arg, pid_t pid, int fds[3])
{
	struct script	*s = arg;

	script_enter(s);
	s->pid = pid;
	s->started = true;
	s->in = bufferevent_socket_new(s->base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	s->out = bufferevent_socket_new(s->base, fds[1], BEV_OPT_CLOSE_ON_FREE);
	s->err = bufferevent_socket_new(s->base, fds[2], BEV_OPT_CLOSE_ON_FREE);
	if (s->in == NULL || s->out == NULL || s->err == NULL)
		util_oom(sizeof(void *));
	bufferevent_setcb(s->in, NULL, script_stdin_write_cb,
	    script_stdin_event_cb, s);
	bufferevent_setwatermark(s->in, EV_WRITE, PUMP_TO_LOW, 0);
	bufferevent_setcb(s->out, script_stdout_read_cb, NULL,
	    script_stdout_event_cb, s);
	bufferevent_setwatermark(s->out, EV_READ, 0, MSGSTREAM_CHUNK);
	bufferevent_enable(s->out, EV_READ);
	bufferevent_setcb(s->err, script_stderr_read_cb, NULL,
	    script_stderr_event_cb, s);
	bufferevent_setwatermark(s->err, EV_READ, 0, SCRIPT_ERRLINE_MAX);
	bufferevent_enable(s->err, EV_READ);

	LIST_INSERT_HEAD(&script_all, s, entry);
	script_nlive++;
	log_verbose("%s handler %s started, pid %ld", s->id, s->prog,
	    (long)s->pid);
	if (s->conn != NULL)
		(void)conn_decided(s->conn, 101, NULL, NULL, 0);
	script_leave(s);
}

/* The handler could not start: the upgrade is refused (503). */
static void
script_failed(void *arg, const char *cause)
{
	struct script	*s = arg;

	script_enter(s);
	s->reaped = true;	/* nothing to wait for */
	script_uncount(s);
	runtime_stats()->backend_failures++;
	if (s->conn != NULL)
		(void)conn_decided(s->conn, 503, cause, NULL, 0);
	script_leave(s);
}

/* The pump stops or starts reading stdout (the client's queue). */
static void
script_pump_read(void *arg, bool on)
{
	struct script	*s = arg;

	if (s->out == NULL)
		return;
	if (on)
		bufferevent_enable(s->out, EV_READ);
	else
		bufferevent_disable(s->out, EV_READ);
}

/* The pump ends the WebSocket (bad output, binary in lines mode). */
static void
script_pump_end(void *arg, int code, const char *reason)
{
	script_end(arg, code, reason);
}

/* Marks a callback frame; the instance is not freed while one is active. */
static void
script_enter(struct script *s)
{
	s->busy++;
}

/*
 * Leaves a callback frame and frees the instance once nothing refers to it
 * any more: the connection let go, the process is reaped and every pipe is
 * closed. s may be gone on return.
 */
static void
script_leave(struct script *s)
{
	if (--s->busy > 0)
		return;
	if (!s->released || !s->reaped || s->in != NULL || s->out != NULL ||
	    s->err != NULL || (s->group_left && s->stage != SCRIPT_STAGE_NONE))
		return;
	script_uncount(s);
	if (s->started)
		LIST_REMOVE(s, entry);
	event_free(s->timer);
	free(s->prog);
	free(s);
}

/*
 * Detaches from the connection and starts tearing down: stdin gets what is
 * queued and then EOF, stdout is read and thrown away, and the kill timer
 * runs while anything is left. Idempotent.
 */
static void
script_shutdown(struct script *s)
{
	struct evbuffer	*buf;

	if (s->closing)
		return;
	s->closing = true;
	s->conn = NULL;
	pump_detach(&s->pump);
	if (s->in != NULL) {
		if (evbuffer_get_length(bufferevent_get_output(s->in)) == 0)
			script_close_stdin(s);
		else
			bufferevent_setwatermark(s->in, EV_WRITE, 0, 0);
	}
	if (s->out != NULL) {
		buf = bufferevent_get_input(s->out);
		evbuffer_drain(buf, evbuffer_get_length(buf));
		if (s->out_eof)
			script_close_stdout(s);
		else
			bufferevent_enable(s->out, EV_READ);
	}
	if (!s->reaped || s->in != NULL || s->out != NULL || s->err != NULL)
		script_arm_timer(s);
}

/*
 * The backend ends the WebSocket. Detaches first: conn_close calls our
 * close op before it returns. The caller holds a frame (script_enter).
 */
static void
script_end(struct script *s, int code, const char *reason)
{
	struct conn	*conn = s->conn;

	if (conn == NULL)
		return;
	script_shutdown(s);
	conn_close(conn, code, reason);
}

/* Closes the WebSocket once the handler is reaped and its stdout is done. */
static void
script_check_exit(struct script *s)
{
	if (s->conn == NULL || !s->reaped || s->out != NULL)
		return;
	if (WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0)
		script_end(s, 0, NULL);	/* DisconnectStatusCode */
	else
		script_end(s, 1011, "handler failed");
}

/* Closes the handler's stdin (it sees EOF), dropping anything queued. */
static void
script_close_stdin(struct script *s)
{
	if (s->in == NULL)
		return;
	bufferevent_free(s->in);
	s->in = NULL;
	pump_to_drained(&s->pump, 0);
}

/* Closes the handler's stdout. */
static void
script_close_stdout(struct script *s)
{
	if (s->out == NULL)
		return;
	bufferevent_free(s->out);
	s->out = NULL;
}

/* Closes the handler's stderr. */
static void
script_close_stderr(struct script *s)
{
	if (s->err == NULL)
		return;
	bufferevent_free(s->err);
	s->err = NULL;
}

/* Arms the EOF -> SIGTERM -> SIGKILL sequence unless it already runs. */
static void
script_arm_timer(struct script *s)
{
	struct timeval	tv;

	if (s->stage != SCRIPT_STAGE_NONE)
		return;
	s->stage = SCRIPT_STAGE_TERM;
	tv.tv_sec = s->kill_timeout;
	tv.tv_usec = 0;
	evtimer_add(s->timer, &tv);
}

/*
 * Signals the handler's process group. Once the handler is reaped its pid
 * may be reused: never hit a newer handler of ours that got the same one.
 */
static void
script_signal(struct script *s, int sig)
{
	struct script	*o;

	if (s->reaped) {
		LIST_FOREACH(o, &script_all, entry) {
			if (o != s && o->pid == s->pid && !o->reaped)
				return;
		}
	}
	(void)kill(-s->pid, sig);
}

/*
 * Returns true while some process still holds the write end of stdout.
 * Once all writers are gone the pipe reports POLLHUP even with data left
 * in it, so unread output (a slow client) is not mistaken for a holder.
 */
static bool
script_stdout_held(struct script *s)
{
	struct pollfd	pfd;

	if (s->out == NULL || s->out_eof)
		return false;
	pfd.fd = bufferevent_getfd(s->out);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return true;
	return (pfd.revents & POLLHUP) == 0;
}

/*
 * One step of the kill sequence. The whole process group is signalled so
 * that the handler's own children go too; once the handler is reaped and
 * the group killed, pipes still held open by processes that left the group
 * are closed from our side.
 */
static void
script_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct script	*s = arg;
	struct timeval	 tv;
	bool		 held;

	(void)fd;
	(void)what;
	script_enter(s);
	/* After SIGTERM the rest of the sequence takes the short grace. */
	tv.tv_sec = s->kill_timeout < SCRIPT_TERM_GRACE ? s->kill_timeout :
	    SCRIPT_TERM_GRACE;
	tv.tv_usec = 0;
	if (s->group_left && kill(-s->pid, 0) == -1 && errno == ESRCH &&
	    !script_stdout_held(s)) {
		/* What the handler left behind is gone by itself. */
		s->stage = SCRIPT_STAGE_NONE;
		s->group_left = false;
		script_uncount(s);
		script_leave(s);
		return;
	}
	switch (s->stage) {
	case SCRIPT_STAGE_TERM:
		log_verbose("%s %s still running after %d s: SIGTERM",
		    s->id, s->reaped ? "processes left by the handler" :
		    "handler", s->kill_timeout);
		script_signal(s, SIGTERM);
		s->stage = SCRIPT_STAGE_KILL;
		evtimer_add(s->timer, &tv);
		break;
	case SCRIPT_STAGE_KILL:
		log_verbose("%s %s still running after %d s: SIGKILL",
		    s->id, s->reaped ? "processes left by the handler" :
		    "handler", (int)tv.tv_sec);
		script_signal(s, SIGKILL);
		s->stage = SCRIPT_STAGE_FORCE;
		evtimer_add(s->timer, &tv);
		break;
	case SCRIPT_STAGE_FORCE:
		if (!s->reaped) {
			/* Uninterruptible sleep; it dies when it wakes. */
			script_signal(s, SIGKILL);
			if (tv.tv_sec == 0)
				tv.tv_sec = 1;
			evtimer_add(s->timer, &tv);
			break;
		}
		held = script_stdout_held(s);
		if (s->in != NULL || held || s->err != NULL)
			log_warn("%s handler pipes held open by escaped "
			    "processes; closing them", s->id);
		script_close_stdin(s);
		script_close_stderr(s);
		s->stage = SCRIPT_STAGE_NONE;
		/* Its group got SIGKILL: nothing of it is counted any more. */
		script_uncount(s);
		/* Without holders, unread output just waits for the client. */
		if (held) {
			script_close_stdout(s);
			script_check_exit(s);
		}
		break;
	case SCRIPT_STAGE_NONE:
		break;
	}
	script_leave(s);
}

/* The handler's process has been reaped with wait status st. */
static void
script_reaped(void *arg, int st)
{
	struct script	*s = arg;
	bool	ours = s->conn == NULL;

	script_enter(s);
	s->reaped = true;
	s->status = st;
	script_nlive--;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_info("%s handler exited with status 0", s->id);
	else if (WIFEXITED(st)) {
		if (ours)
			log_info("%s handler exited with status %d", s->id,
			    WEXITSTATUS(st));
		else
			log_warn("%s handler exited with status %d", s->id,
			    WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		if (ours)
			log_info("%s handler killed by signal %d", s->id,
			    WTERMSIG(st));
		else
			log_warn("%s handler killed by signal %d", s->id,
			    WTERMSIG(st));
	}
	/*
	 * The handler is gone but processes it started are left in its group
	 * (a background child, with its stdout or with stdio of its own), or
	 * its stdout is still held: the group gets the grace period, then is
	 * killed. With a group left the instance stays until then.
	 */
	if (kill(-s->pid, 0) == 0) {
		log_verbose("%s handler left processes in its group", s->id);
		s->group_left = true;
	} else
		script_uncount(s);
	if (s->group_left || script_stdout_held(s))
		script_arm_timer(s);
	script_check_exit(s);
	script_leave(s);
}

/* A piece of a client message: to the handler's stdin. */
static void
script_message(void *b, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	struct script	*s = b;

	if (s->conn == NULL)
		return;
	script_enter(s);
	pump_message(&s->pump, s->in != NULL ? bufferevent_get_output(s->in) :
	    NULL, type, data, len, last);
	script_leave(s);
}

/* The reference's Ping event, on a framed handler's stdin. */
static void
script_ping_event(struct script *s, bool pong, const uint8_t *data,
    size_t len)
{
	if (s->conn != NULL)
		pump_ping_event(&s->pump, s->in != NULL ?
		    bufferevent_get_output(s->in) : NULL, pong, data, len);
}

/* The client pinged (the daemon answered it). */
static void
script_ping(void *b, const uint8_t *data, size_t len)
{
	script_ping_event(b, false, data, len);
}

/* A pong came from the client. */
static void
script_pong(void *b, const uint8_t *data, size_t len)
{
	script_ping_event(b, true, data, len);
}

/* stdin drained to its low-water mark (or empty, while shutting down). */
static void
script_stdin_write_cb(struct bufferevent *bev, void *arg)
{
	struct script	*s = arg;
	size_t		 len = evbuffer_get_length(bufferevent_get_output(bev));

	script_enter(s);
	pump_to_drained(&s->pump, len);
	if (s->closing && len == 0)
		script_close_stdin(s);
	script_leave(s);
}

/* Writing to stdin failed: the handler closed it or died. */
static void
script_stdin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct script	*s = arg;

	(void)bev;
	script_enter(s);
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		log_verbose("%s handler stopped reading its stdin (%s); "
		    "dropping input", s->id,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		script_close_stdin(s);
	}
	script_leave(s);
}

/* The client's output queue has room again: resume reading stdout. */
static void
script_writable(void *b)
{
	struct script	*s = b;

	if (s->conn == NULL)
		return;
	script_enter(s);
	if (s->out != NULL && pump_writable(&s->pump, s->in != NULL &&
	    !s->closing ? bufferevent_get_output(s->in) : NULL,
	    bufferevent_get_input(s->out), s->out_eof))
		script_stdout_finish(s);
	script_leave(s);
}

/* New stdout data. */
static void
script_stdout_read_cb(struct bufferevent *bev, void *arg)
{
	struct script	*s = arg;

	script_enter(s);
	pump_process(&s->pump, bufferevent_get_input(bev), s->out_eof);
	script_leave(s);
}

/* stdout reached EOF (or failed, which ends it the same way). */
static void
script_stdout_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct script	*s = arg;

	(void)bev;
	script_enter(s);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (what & BEV_EVENT_ERROR)
			log_verbose("%s handler stdout: %s", s->id,
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		s->out_eof = true;
		pump_process(&s->pump, bufferevent_get_input(bev), true);
		script_stdout_finish(s);
	}
	script_leave(s);
}

/* Closes stdout once it is at EOF and everything read has been sent. */
static void
script_stdout_finish(struct script *s)
{
	if (s->out == NULL || !s->out_eof)
		return;
	if (s->conn != NULL &&
	    !pump_drained(&s->pump, bufferevent_get_input(s->out)))
		return;
	script_close_stdout(s);
	script_check_exit(s);
}

/* New stderr data: log complete lines. */
static void
script_stderr_read_cb(struct bufferevent *bev, void *arg)
{
	struct script	*s = arg;

	(void)bev;
	script_enter(s);
	script_stderr_lines(s, false);
	script_leave(s);
}

/* stderr ended: log the unterminated rest and close it. */
static void
script_stderr_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct script	*s = arg;

	(void)bev;
	script_enter(s);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		script_stderr_lines(s, true);
		script_close_stderr(s);
	}
	script_leave(s);
}

/*
 * Logs each stderr line at info level in pieces of at most
 * SCRIPT_ERRLINE_MAX bytes (the log replaces control characters, so a
 * handler cannot forge log lines). eof: log an unterminated last line too.
 */
static void
script_stderr_lines(struct script *s, bool eof)
{
	struct evbuffer		*in;
	struct evbuffer_ptr	 eol;
	size_t			 len, n, skip, eol_len;

	if (s->err == NULL)
		return;
	in = bufferevent_get_input(s->err);
	while ((len = evbuffer_get_length(in)) > 0) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos >= 0 && (size_t)eol.pos <= SCRIPT_ERRLINE_MAX) {
			n = (size_t)eol.pos;
			skip = 1;
		} else if (len >= SCRIPT_ERRLINE_MAX || eof) {
			n = len < SCRIPT_ERRLINE_MAX ? len : SCRIPT_ERRLINE_MAX;
			skip = 0;
		} else
			break;
		evbuffer_copyout(in, script_errline, n);
		evbuffer_drain(in, n + skip);
		if (n > 0 && script_errline[n - 1] == '\r')
			n--;
		script_errline[n] = '\0';
		log_info("%s handler stderr: %s", s->id, script_errline);
	}
}

/* The connection is done with us; we tear down in our own time. */
static void
script_close(void *b)
{
	struct script	*s = b;

	if (!s->requested) {
		/* Still waiting for its turn (MaxSpawnRate): never asked for. */
		script_discard(s);
		return;
	}
	script_enter(s);
	s->released = true;
	if (!s->started && !s->reaped) {
		/* Gone before the spawner answered: nothing of it is wanted. */
		spawn_cancel(s->job);
		s->reaped = true;
		script_uncount(s);
	}
	/* Framed: the handler learns how the WebSocket ended, then EOF. */
	if (s->conn != NULL && s->in != NULL)
		pump_closed(&s->pump, bufferevent_get_output(s->in));
	script_shutdown(s);
	script_leave(s);
}

/* Returns the number of handler processes not yet reaped. */
static int
script_live(void)
{
	return script_nlive;
}

/* SIGKILLs the process group of every handler still running. */
static void
script_kill_all(void)
{
	struct script	*s;

	LIST_FOREACH(s, &script_all, entry) {
		if (!s->reaped && s->pid > 0)
			(void)kill(-s->pid, SIGKILL);
	}
}
