/* backend-script.c - CGI-style backend: one handler process per WebSocket. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pipe2, F_DUPFD_CLOEXEC, environ */
#endif

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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

#include "backend/backend.h"
#include "backend/cgi.h"
#include "conf/config.h"
#include "event/conn.h"
#include "base/log.h"
#include "core/msgstream.h"
#include "base/util.h"
#include "core/ws-utf8.h"

/*
 * Client -> stdin: pause the client above HIGH queued bytes, resume below
 * LOW, so a handler that reads slowly holds back only its own client.
 */
#define SCRIPT_STDIN_HIGH	(256 * 1024)
#define SCRIPT_STDIN_LOW	(64 * 1024)
/* stderr lines are logged in pieces of this many bytes (fits a log line). */
#define SCRIPT_ERRLINE_MAX	1024
#define SCRIPT_ID_MAX		64

/* What the next expiry of the kill timer does. */
enum script_stage {
	SCRIPT_STAGE_NONE,	/* timer not armed */
	SCRIPT_STAGE_TERM,	/* send SIGTERM to the process group */
	SCRIPT_STAGE_KILL,	/* send SIGKILL to the process group */
	SCRIPT_STAGE_FORCE,	/* give up on pipes held by escaped processes */
};

/* Where the child failed before exec, sent to the parent on a status pipe. */
enum script_step {
	SCRIPT_STEP_FDS,
	SCRIPT_STEP_PDEATHSIG,
	SCRIPT_STEP_CHDIR,
	SCRIPT_STEP_EXEC,
};

struct script_report {
	int	step;
	int	err;
};

/* Everything the child needs, prepared before fork so it need not allocate. */
struct script_exec {
	const char	*path;		/* what to exec (after chdir) */
	char		*const *argv;
	char		**envp;
	const char	*dir;		/* NULL: stay in the daemon's cwd */
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
	pid_t			 pid;		/* also the process group id */
	int			 status;	/* wait status once reaped */
	enum msg_format		 format;
	int			 kill_timeout;	/* seconds */

	struct bufferevent	*in;		/* handler's stdin; NULL: closed */
	struct bufferevent	*out;		/* handler's stdout; NULL: done */
	struct bufferevent	*err;		/* handler's stderr; NULL: done */
	struct event		*timer;
	enum script_stage	 stage;

	struct ws_utf8		 utf8;		/* outgoing text message */
	struct msgstream	 dec;		/* stdout in the route's format */
	int			 busy;		/* our frames on the stack */

	bool			 reaped;
	bool			 group_left;	/* reaped, its group not empty */
	bool			 released;	/* the connection called close */
	bool			 closing;	/* shutdown started */
	bool			 in_paused;	/* we paused the client's input */
	bool			 out_blocked;	/* waiting for writable */
	bool			 out_eof;
};

static void	*script_open(struct conn *, const struct route *, const char **);
static void	 script_message(void *, enum ws_msg_type, const uint8_t *,
		    size_t, bool, bool);
static void	 script_writable(void *);
static void	 script_close(void *);

static int	 script_spawn(struct script *, const struct route *,
		    char *const *, int [3], const char **);
static void	 script_child(const struct script_exec *, pid_t, int [3], int)
		    __attribute__((noreturn));
static void	 script_child_fail(int, int, int) __attribute__((noreturn));
static void	 script_close_from(int);

static void	 script_sigchld_cb(evutil_socket_t, short, void *);
static void	 script_reaped(struct script *, int);
static int	 script_waiter_reaped(pid_t, int);
static void	 script_timer_cb(evutil_socket_t, short, void *);
static void	 script_arm_timer(struct script *);
static void	 script_signal(struct script *, int);
static bool	 script_stdout_held(struct script *);
static void	 script_stdin_write_cb(struct bufferevent *, void *);
static void	 script_stdin_event_cb(struct bufferevent *, short, void *);
static void	 script_stdout_read_cb(struct bufferevent *, void *);
static void	 script_stdout_event_cb(struct bufferevent *, short, void *);
static void	 script_stdout_process(struct script *);
static int	 script_stdout_deliver(void *, enum ws_msg_type,
		    const uint8_t *, size_t, bool, bool);
static void	 script_stdout_close(void *, int, const char *, size_t);
static int	 script_stdout_ping(void *, const uint8_t *, size_t);
static void	 script_stdout_finish(struct script *);
static void	 script_stderr_read_cb(struct bufferevent *, void *);
static void	 script_stderr_event_cb(struct bufferevent *, short, void *);
static void	 script_stderr_lines(struct script *, bool);

static void	 script_enter(struct script *);
static void	 script_leave(struct script *);
static void	 script_shutdown(struct script *);
static void	 script_end(struct script *, int, const char *);
static void	 script_check_exit(struct script *);
static void	 script_close_stdin(struct script *);
static void	 script_close_stdout(struct script *);
static void	 script_close_stderr(struct script *);

/*
 * Opened early: the handler is started before the 101 is sent, so a
 * failure to start it (no program, fork failing at the process limit,
 * exec failing) answers 503 instead of an upgrade that closes at once.
 */
const struct backend_ops backend_script_ops = {
	.name = "script",
	.open_early = true,
	.open = script_open,
	.message = script_message,
	.writable = script_writable,
	.close = script_close,
};

/* Every instance not yet freed; the SIGCHLD handler looks pids up here. */
static LIST_HEAD(, script) script_all = LIST_HEAD_INITIALIZER(script_all);
static int		 script_nlive;		/* instances not yet reaped */

/* A child of backend_script_run, waited for by its caller. */
struct script_waiter {
	LIST_ENTRY(script_waiter) entry;
	pid_t			 pid;
	void			 (*done)(void *, int);	/* NULL: forgotten */
	void			*arg;
};
static LIST_HEAD(, script_waiter) script_waiters =
    LIST_HEAD_INITIALIZER(script_waiters);
static int		 script_nwaiters;	/* waiters not yet reaped */
static struct event	*script_sigchld;	/* exists while script_nlive > 0 */
static char		 script_errline[SCRIPT_ERRLINE_MAX + 1];

/* Where decoded stdout goes. */
static const struct msgstream_sink script_sink = {
	.piece = script_stdout_deliver,
	.close = script_stdout_close,
	.ping = script_stdout_ping,
};

/*
 * Starts the route's handler for a new WebSocket. Returns the instance, or
 * NULL with *cause set (the failure is logged).
 */
static void *
script_open(struct conn *conn, const struct route *route, const char **cause)
{
	struct script	*s;
	int		 fds[3];
	int		 kt;
	char		*dargv[2];
	char *const	*argv = route->argv;

	/* dir: routes run the program the request named (conn.c chose it). */
	if ((dargv[0] = (char *)conn_dir_program(conn, NULL, NULL)) != NULL) {
		dargv[1] = NULL;
		argv = dargv;
	}
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
		*cause = "no handler program";
		log_error("%s %s", conn_id(conn), *cause);
		return NULL;
	}
	/* The start refused this already; a late config change must too. */
	if (geteuid() == 0 && !conn_config(conn)->allow_root_handlers) {
		*cause = "refusing to run a handler as root (set User, or "
		    "AllowRootHandlers)";
		log_error("%s %s", conn_id(conn), *cause);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	s->base = conn_base(conn);
	snprintf(s->id, sizeof(s->id), "%s", conn_id(conn));
	s->format = route->format;
	msgstream_init(&s->dec, route->format);
	msgstream_set_data(&s->dec, (enum data_format)route->data_format);
	kt = conn_config(conn)->kill_timeout;
	s->kill_timeout = kt > 0 ? kt : 0;
	if ((s->timer = evtimer_new(s->base, script_timer_cb, s)) == NULL) {
		free(s);
		*cause = "out of memory";
		return NULL;
	}
	/* Catch SIGCHLD before the first child can exit. */
	if (script_sigchld == NULL) {
		script_sigchld = evsignal_new(s->base, SIGCHLD,
		    script_sigchld_cb, NULL);
		if (script_sigchld == NULL ||
		    evsignal_add(script_sigchld, NULL) == -1) {
			if (script_sigchld != NULL)
				event_free(script_sigchld);
			script_sigchld = NULL;
			event_free(s->timer);
			free(s);
			*cause = "cannot watch SIGCHLD";
			log_error("%s %s", conn_id(conn), *cause);
			return NULL;
		}
	}
	if (script_spawn(s, route, argv, fds, cause) == -1) {
		event_free(s->timer);
		free(s);
		return NULL;
	}

	s->in = bufferevent_socket_new(s->base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	s->out = bufferevent_socket_new(s->base, fds[1], BEV_OPT_CLOSE_ON_FREE);
	s->err = bufferevent_socket_new(s->base, fds[2], BEV_OPT_CLOSE_ON_FREE);
	if (s->in == NULL || s->out == NULL || s->err == NULL)
		abort();
	bufferevent_setcb(s->in, NULL, script_stdin_write_cb,
	    script_stdin_event_cb, s);
	bufferevent_setwatermark(s->in, EV_WRITE, SCRIPT_STDIN_LOW, 0);
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
	log_verbose("%s handler %s started, pid %ld", s->id, argv[0],
	    (long)s->pid);
	return s;
}

/*
 * Forks and execs the handler with fresh pipes. fds receives the parent's
 * ends (stdin write, stdout read, stderr read), non-blocking and
 * close-on-exec. Returns 0, or -1 with *cause set and the failure logged
 * (a child that failed before exec has been reaped).
 */
static int
script_spawn(struct script *s, const struct route *route, char *const *argv,
    int fds[3], const char **cause)
{
	struct script_exec	 x;
	struct script_report	 rep;
	sigset_t		 all, old;
	const char		*argv0 = argv[0], *slash;
	char			*dir = NULL, *path = NULL;
	int			 p[4][2], child[3], i, j, err;
	pid_t			 parent, pid;
	ssize_t			 n;

	memset(&x, 0, sizeof(x));
	x.argv = argv;
	x.path = argv0;
	/*
	 * The handler runs in its own directory. A relative path is made
	 * relative to that directory; a bare name is looked up in PATH and
	 * runs in the daemon's directory.
	 */
	if ((slash = strrchr(argv0, '/')) != NULL) {
		dir = xstrdup(argv0);
		dir[slash == argv0 ? 1 : slash - argv0] = '\0';
		if (argv0[0] != '/') {
			xasprintf(&path, "./%s", slash + 1);
			x.path = path;
		}
		x.dir = dir;
	}
	if (route->workdir != NULL && route->workdir[0] != '\0') {
		/* argv0 is absolute (config.c), so it survives the chdir. */
		x.path = argv0;
		x.dir = route->workdir;
	}
	x.envp = cgi_env_build(s->conn, route, true);

	for (i = 0; i < 4; i++) {
		if (pipe2(p[i], O_CLOEXEC) == -1) {
			err = errno;
			for (j = 0; j < i; j++) {
				close(p[j][0]);
				close(p[j][1]);
			}
			*cause = "pipe failed";
			log_error("%s cannot start handler %s: pipe: %s", s->id,
			    argv0, strerror(err));
			goto fail;
		}
	}
	child[0] = p[0][0];
	child[1] = p[1][1];
	child[2] = p[2][1];

	/*
	 * No signal handler of ours may run in the child between fork and
	 * the reset of dispositions (libevent's would write to the parent's
	 * signal pipe).
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	parent = getpid();
	pid = fork();
	if (pid == 0)
		script_child(&x, parent, child, p[3][1]);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0][0]);
	close(p[1][1]);
	close(p[2][1]);
	close(p[3][1]);
	if (pid == -1) {
		close(p[0][1]);
		close(p[1][0]);
		close(p[2][0]);
		close(p[3][0]);
		*cause = "fork failed";
		log_error("%s cannot start handler %s: fork: %s", s->id, argv0,
		    strerror(err));
		goto fail;
	}

	/* EOF here means exec succeeded: the status pipe is close-on-exec. */
	do
		n = read(p[3][0], &rep, sizeof(rep));
	while (n == -1 && errno == EINTR);
	close(p[3][0]);
	if (n == (ssize_t)sizeof(rep)) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			continue;
		close(p[0][1]);
		close(p[1][0]);
		close(p[2][0]);
		switch (rep.step) {
		case SCRIPT_STEP_EXEC:
			*cause = "exec failed";
			break;
		case SCRIPT_STEP_CHDIR:
			*cause = "chdir failed";
			break;
		default:
			*cause = "handler setup failed";
			break;
		}
		log_error("%s cannot start handler %s: %s: %s", s->id, argv0,
		    *cause, strerror(rep.err));
		goto fail;
	}

	fds[0] = p[0][1];
	fds[1] = p[1][0];
	fds[2] = p[2][0];
	for (i = 0; i < 3; i++)
		evutil_make_socket_nonblocking(fds[i]);
	s->pid = pid;
	free(x.envp);
	free(dir);
	free(path);
	return 0;

fail:
	free(x.envp);
	free(dir);
	free(path);
	return -1;
}

/* Sends the failed step and errno to the parent and exits. */
static void
script_child_fail(int stfd, int step, int err)
{
	struct script_report	rep;
	ssize_t			n;

	rep.step = step;
	rep.err = err;
	n = write(stfd, &rep, sizeof(rep));
	(void)n;
	_exit(127);
}

/* Closes every descriptor from lowfd up. */
static void
script_close_from(int lowfd)
{
	long	max;
	int	fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > INT_MAX)
		max = INT_MAX;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
}

/*
 * The child between fork and exec: own session and process group (so the
 * whole group can be signalled), death signal if the daemon dies, default
 * signal handling, the pipes on 0-2 and nothing else open.
 */
static void
script_child(const struct script_exec *x, pid_t parent, int fds[3], int stfd)
{
	struct sigaction	sa;
	sigset_t		none;
	int			i, sig;

	(void)setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		script_child_fail(stfd, SCRIPT_STEP_PDEATHSIG, errno);
	/* The daemon died before the death signal was armed. */
	if (getppid() != parent)
		_exit(127);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);

	/* Lift everything above 2 first so no dup2 below clobbers a pipe. */
	if (stfd < 3 && (stfd = fcntl(stfd, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(127);
	for (i = 0; i < 3; i++) {
		if (fds[i] < 3 &&
		    (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1)
			script_child_fail(stfd, SCRIPT_STEP_FDS, errno);
	}
	for (i = 0; i < 3; i++) {
		if (dup2(fds[i], i) == -1)
			script_child_fail(stfd, SCRIPT_STEP_FDS, errno);
	}
	if (stfd != 3) {
		if (dup2(stfd, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			script_child_fail(stfd, SCRIPT_STEP_FDS, errno);
		stfd = 3;
	}
	script_close_from(4);

	if (x->dir != NULL && chdir(x->dir) == -1)
		script_child_fail(stfd, SCRIPT_STEP_CHDIR, errno);
	environ = x->envp;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(x->path, x->argv);
	script_child_fail(stfd, SCRIPT_STEP_EXEC, errno);
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
	LIST_REMOVE(s, entry);
	event_free(s->timer);
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
	s->in_paused = false;
	if (s->in != NULL) {
		if (evbuffer_get_length(bufferevent_get_output(s->in)) == 0)
			script_close_stdin(s);
		else
			bufferevent_setwatermark(s->in, EV_WRITE, 0, 0);
	}
	if (s->out != NULL) {
		buf = bufferevent_get_input(s->out);
		evbuffer_drain(buf, evbuffer_get_length(buf));
		s->out_blocked = false;
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
	if (s->in_paused && s->conn != NULL)
		conn_resume_input(s->conn);
	s->in_paused = false;
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
	tv.tv_sec = s->kill_timeout;
	tv.tv_usec = 0;
	if (s->group_left && kill(-s->pid, 0) == -1 && errno == ESRCH &&
	    !script_stdout_held(s)) {
		/* What the handler left behind is gone by itself. */
		s->stage = SCRIPT_STAGE_NONE;
		s->group_left = false;
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
		    "handler", s->kill_timeout);
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

/*
 * Reaps every exited child and hands each status to its instance. This is
 * the daemon's only child reaper: children that are not handlers are
 * reaped too, and logged at debug level.
 */
static void
script_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct script	*s;
	pid_t		 pid;
	int		 st;

	(void)sig;
	(void)what;
	(void)arg;
	/* Each waitpid reaps one zombie, so this ends. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		LIST_FOREACH(s, &script_all, entry) {
			if (s->pid == pid && !s->reaped)
				break;
		}
		if (s != NULL) {
			script_reaped(s, st);
			continue;
		}
		if (script_waiter_reaped(pid, st) == 0)
			continue;
		log_debug("reaped unknown child %ld", (long)pid);
	}
	/* With no child left, SIGCHLD goes back to its default. */
	if (script_nlive == 0 && script_nwaiters == 0 &&
	    script_sigchld != NULL) {
		event_free(script_sigchld);
		script_sigchld = NULL;
	}
}

/* Hands a reaped child to its waiter. Returns 0, or -1 when it has none. */
static int
script_waiter_reaped(pid_t pid, int st)
{
	struct script_waiter	*w;

	LIST_FOREACH(w, &script_waiters, entry) {
		if (w->pid == pid)
			break;
	}
	if (w == NULL)
		return -1;
	LIST_REMOVE(w, entry);
	script_nwaiters--;
	if (w->done != NULL)
		w->done(w->arg, st);
	free(w);
	return 0;
}

/* Runs a helper program for a connection; see backend.h. */
pid_t
backend_script_run(struct conn *conn, const struct route *route,
    char *const *argv, int *outfd, int *errfd, void (*done)(void *, int),
    void *arg, const char **cause)
{
	struct script		*s;
	struct script_waiter	*w;
	struct event_base	*base = conn_base(conn);
	int			 fds[3];
	pid_t			 pid;

	/* Hooks run as the handlers do, so the same rule holds. */
	if (geteuid() == 0 && !conn_config(conn)->allow_root_handlers) {
		*cause = "refusing to run a program as root (set User, or "
		    "AllowRootHandlers)";
		log_error("%s %s", conn_id(conn), *cause);
		return -1;
	}
	if (script_sigchld == NULL) {
		script_sigchld = evsignal_new(base, SIGCHLD, script_sigchld_cb,
		    NULL);
		if (script_sigchld == NULL ||
		    evsignal_add(script_sigchld, NULL) == -1) {
			if (script_sigchld != NULL)
				event_free(script_sigchld);
			script_sigchld = NULL;
			*cause = "cannot watch SIGCHLD";
			log_error("%s %s", conn_id(conn), *cause);
			return -1;
		}
	}
	/* script_spawn only needs an instance for its connection and id. */
	s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	snprintf(s->id, sizeof(s->id), "%s", conn_id(conn));
	if (script_spawn(s, route, argv, fds, cause) == -1) {
		free(s);
		return -1;
	}
	pid = s->pid;
	free(s);
	close(fds[0]);		/* stdin: at EOF from the start */
	*outfd = fds[1];
	*errfd = fds[2];
	w = xcalloc(1, sizeof(*w));
	w->pid = pid;
	w->done = done;
	w->arg = arg;
	LIST_INSERT_HEAD(&script_waiters, w, entry);
	script_nwaiters++;
	return pid;
}

/* The waiter of a backend_script_run child is gone; see backend.h. */
void
backend_script_forget(pid_t pid)
{
	struct script_waiter	*w;

	LIST_FOREACH(w, &script_waiters, entry) {
		if (w->pid == pid) {
			w->done = NULL;
			/* The child leads its own process group. */
			if (kill(-pid, SIGKILL) == -1)
				(void)kill(pid, SIGKILL);
			return;
		}
	}
}

/* The handler's process has been reaped with wait status st. */
static void
script_reaped(struct script *s, int st)
{
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
	}
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

	(void)first;
	if (s->conn == NULL)
		return;
	script_enter(s);
	if (s->format == FORMAT_LINES && type == WS_MSG_BINARY) {
		log_info("%s binary message in lines mode", s->id);
		script_end(s, 1003, "binary message in lines mode");
		goto out;
	}
	if (s->in == NULL)
		goto out;	/* the handler no longer reads */
	(void)msgstream_encode(s->format, bufferevent_get_output(s->in), type,
	    data, len, last);
	if (!s->in_paused &&
	    evbuffer_get_length(bufferevent_get_output(s->in)) >
	    SCRIPT_STDIN_HIGH) {
		s->in_paused = true;
		conn_pause_input(s->conn);
	}
out:
	script_leave(s);
}

/* stdin drained to its low-water mark (or empty, while shutting down). */
static void
script_stdin_write_cb(struct bufferevent *bev, void *arg)
{
	struct script	*s = arg;
	size_t		 len = evbuffer_get_length(bufferevent_get_output(bev));

	script_enter(s);
	if (s->in_paused && s->conn != NULL && len <= SCRIPT_STDIN_LOW) {
		s->in_paused = false;
		conn_resume_input(s->conn);
	}
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
	if (s->out != NULL && s->out_blocked) {
		s->out_blocked = false;
		/* ReadyToSend: a framed handler may pace itself by it. */
		if (s->in != NULL && !s->closing)
			msgstream_encode_ready(s->format,
			    bufferevent_get_output(s->in));
		if (!s->out_eof)
			bufferevent_enable(s->out, EV_READ);
		script_stdout_process(s);
		script_stdout_finish(s);
	}
	script_leave(s);
}

/* New stdout data. */
static void
script_stdout_read_cb(struct bufferevent *bev, void *arg)
{
	struct script	*s = arg;

	(void)bev;
	script_enter(s);
	script_stdout_process(s);
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
		script_stdout_process(s);
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
	if (s->conn != NULL && (s->out_blocked || msgstream_pending(&s->dec) ||
	    evbuffer_get_length(bufferevent_get_input(s->out)) > 0))
		return;
	script_close_stdout(s);
	script_check_exit(s);
}

/*
 * msgstream sink: sends one piece to the client; text is validated
 * incrementally (a message may be streamed in pieces). Returns 0; 1 when
 * stdout must wait (the client's queue is full); -1 when we are detached
 * now (invalid UTF-8 ended the WebSocket, or the connection closed us).
 */
static int
script_stdout_deliver(void *arg, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	struct script	*s = arg;

	if (s->conn == NULL)
		return -1;
	if (type == WS_MSG_TEXT) {
		if (first)
			ws_utf8_init(&s->utf8);
		if (ws_utf8_feed(&s->utf8, data, len) == -1 ||
		    (last && !ws_utf8_complete(&s->utf8))) {
			log_error("%s handler wrote invalid UTF-8", s->id);
			script_end(s, 1011, "handler wrote invalid UTF-8");
			return -1;
		}
	}
	/* -1: the WebSocket is closing and our close op is on its way. */
	(void)conn_send(s->conn, type, data, len, first, last);
	if (s->conn == NULL)
		return -1;
	if (conn_output_full(s->conn)) {
		s->out_blocked = true;
		bufferevent_disable(s->out, EV_READ);
		return 1;
	}
	return 0;
}

/* msgstream sink: the handler closes the WebSocket (framed "C"). */
static void
script_stdout_close(void *arg, int code, const char *reason, size_t len)
{
	struct script	*s = arg;
	char		 buf[128];

	snprintf(buf, sizeof(buf), "%.*s", (int)len, reason);
	log_verbose("%s handler closes with %d", s->id, code);
	script_end(s, code, len > 0 ? buf : NULL);
}

/* msgstream sink: the handler pings the client (framed "P"). */
static int
script_stdout_ping(void *arg, const uint8_t *data, size_t len)
{
	struct script	*s = arg;

	if (s->conn != NULL)
		(void)conn_ping(s->conn, data, len);
	return s->conn != NULL ? 0 : -1;
}

/*
 * Turns what stdout has buffered into messages in the route's format
 * (msgstream.h) until the client's queue is full. Output that breaks the
 * framed format ends the WebSocket with 1011. Detached: the data is thrown
 * away.
 */
static void
script_stdout_process(struct script *s)
{
	struct evbuffer	*in;
	const char	*err = NULL;

	if (s->out == NULL)
		return;
	in = bufferevent_get_input(s->out);
	if (s->conn == NULL) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (s->out_blocked)
		return;
	if (msgstream_decode(&s->dec, in, s->out_eof, &script_sink, s,
	    &err) == -1) {
		log_error("%s handler output: %s", s->id, err);
		script_end(s, 1011, s->format == FORMAT_FRAMED ?
		    "handler broke the framed format" :
		    "handler wrote invalid UTF-8");
	}
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
	const char	*reason;
	int		 code;

	script_enter(s);
	s->released = true;
	/* Framed: the handler learns how the WebSocket ended, then EOF. */
	if (s->conn != NULL && s->in != NULL) {
		/* Unknown: the connection dropped without a close frame. */
		if ((code = conn_close_status(s->conn, &reason)) == 0)
			code = 1006;
		msgstream_encode_close(s->format,
		    bufferevent_get_output(s->in), code, reason,
		    strlen(reason));
	}
	script_shutdown(s);
	script_leave(s);
}

/* Returns the number of handler processes not yet reaped. */
int
backend_script_live(void)
{
	return script_nlive;
}

/* SIGKILLs the process group of every handler still running. */
void
backend_script_kill_all(void)
{
	struct script	*s;

	LIST_FOREACH(s, &script_all, entry) {
		if (!s->reaped)
			(void)kill(-s->pid, SIGKILL);
	}
}
