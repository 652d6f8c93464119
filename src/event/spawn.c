/* spawn.c - fork and exec of handler programs and hooks, and the one SIGCHLD reaper. */
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "base/log.h"
#include "base/util.h"
#include "event/runtime.h"
#include "event/spawn.h"

/* Where the child failed before exec, sent to the parent on a status pipe. */
enum spawn_step {
	SPAWN_STEP_FDS,
	SPAWN_STEP_PDEATHSIG,
	SPAWN_STEP_NO_NEW_PRIVS,
	SPAWN_STEP_CHDIR,
	SPAWN_STEP_EXEC,
};

struct spawn_report {
	int	step;
	int	err;
};

/* Everything the child needs, prepared before fork so it need not allocate. */
struct spawn_exec {
	const char	*path;		/* what to exec (after chdir) */
	char		*const *argv;
	char		**envp;
	const char	*dir;		/* NULL: stay in the daemon's cwd */
};

/* A child not yet reaped, and who waits for it. */
struct spawn_child {
	LIST_ENTRY(spawn_child)	 entry;
	pid_t			 pid;
	void			 (*done)(void *, int);	/* NULL: forgotten */
	void			*arg;
};

static LIST_HEAD(, spawn_child) spawn_children =
    LIST_HEAD_INITIALIZER(spawn_children);
static int		 spawn_nchildren;	/* not yet reaped */
static struct event	*spawn_sigchld;		/* exists while children do */

static void	spawn_sigchld_cb(evutil_socket_t, short, void *);

/* Sends the failed step and errno to the parent and exits. */
static void __attribute__((noreturn))
spawn_child_fail(int stfd, int step, int err)
{
	struct spawn_report	rep;
	ssize_t			n;

	rep.step = step;
	rep.err = err;
	n = write(stfd, &rep, sizeof(rep));
	(void)n;
	_exit(127);
}

/* Closes every descriptor from lowfd up. */
static void
spawn_close_from(int lowfd)
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
 * whole group can be signalled), death signal if the daemon dies, no new
 * privileges (set-user-ID and set-group-ID bits and file capabilities do
 * nothing for it or its children), default signal handling, the pipes on
 * 0-2 and nothing else open.
 */
static void __attribute__((noreturn))
spawn_child(const struct spawn_exec *x, pid_t parent, int fds[3], int stfd)
{
	struct sigaction	sa;
	sigset_t		none;
	int			i, sig;

	(void)setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		spawn_child_fail(stfd, SPAWN_STEP_PDEATHSIG, errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		spawn_child_fail(stfd, SPAWN_STEP_NO_NEW_PRIVS, errno);
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
			spawn_child_fail(stfd, SPAWN_STEP_FDS, errno);
	}
	for (i = 0; i < 3; i++) {
		if (dup2(fds[i], i) == -1)
			spawn_child_fail(stfd, SPAWN_STEP_FDS, errno);
	}
	if (stfd != 3) {
		if (dup2(stfd, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			spawn_child_fail(stfd, SPAWN_STEP_FDS, errno);
		stfd = 3;
	}
	spawn_close_from(4);

	if (x->dir != NULL && chdir(x->dir) == -1)
		spawn_child_fail(stfd, SPAWN_STEP_CHDIR, errno);
	environ = x->envp;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(x->path, x->argv);
	spawn_child_fail(stfd, SPAWN_STEP_EXEC, errno);
}

/* Watches SIGCHLD from before the first child can exit. Returns 0 or -1. */
static int
spawn_watch_sigchld(void)
{
	if (spawn_sigchld != NULL)
		return 0;
	spawn_sigchld = evsignal_new(runtime_base(), SIGCHLD,
	    spawn_sigchld_cb, NULL);
	if (spawn_sigchld == NULL || evsignal_add(spawn_sigchld, NULL) == -1) {
		if (spawn_sigchld != NULL)
			event_free(spawn_sigchld);
		spawn_sigchld = NULL;
		return -1;
	}
	return 0;
}

/* Starts a child; see spawn.h. */
pid_t
spawn_start(const struct spawn_cmd *cmd, int fds[3],
    void (*done)(void *, int), void *arg, char **cause)
{
	struct spawn_exec	 x;
	struct spawn_report	 rep;
	struct spawn_child	*ch;
	sigset_t		 all, old;
	const char		*argv0 = cmd->argv[0], *slash;
	char			*dir = NULL, *path = NULL;
	int			 p[4][2], child[3], i, j, err;
	const char		*why;
	pid_t			 parent, pid = -1;
	ssize_t			 n;

	if (spawn_watch_sigchld() == -1) {
		log_error("%s cannot watch SIGCHLD", cmd->id);
		*cause = xstrdup("cannot watch SIGCHLD");
		return -1;
	}
	memset(&x, 0, sizeof(x));
	x.argv = cmd->argv;
	x.path = argv0;
	x.envp = cmd->envp;
	/*
	 * The program runs in its own directory. A relative path is made
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
	if (cmd->workdir != NULL && cmd->workdir[0] != '\0') {
		/* argv0 is absolute (config.c), so it survives the chdir. */
		x.path = argv0;
		x.dir = cmd->workdir;
	}

	for (i = 0; i < 4; i++) {
		if (pipe2(p[i], O_CLOEXEC) == -1) {
			err = errno;
			for (j = 0; j < i; j++) {
				close(p[j][0]);
				close(p[j][1]);
			}
			*cause = xstrdup("pipe failed");
			log_error("%s cannot start %s %s: pipe: %s", cmd->id,
			    cmd->what, argv0, strerror(err));
			goto out;
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
		spawn_child(&x, parent, child, p[3][1]);
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
		*cause = xstrdup("fork failed");
		log_error("%s cannot start %s %s: fork: %s", cmd->id, cmd->what,
		    argv0, strerror(err));
		goto out;
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
		case SPAWN_STEP_EXEC:
			why = "exec failed";
			break;
		case SPAWN_STEP_CHDIR:
			why = "chdir failed";
			break;
		default:
			why = "handler setup failed";
			break;
		}
		log_error("%s cannot start %s %s: %s: %s", cmd->id, cmd->what,
		    argv0, why, strerror(rep.err));
		*cause = xstrdup(why);
		pid = -1;
		goto out;
	}

	fds[0] = p[0][1];
	fds[1] = p[1][0];
	fds[2] = p[2][0];
	for (i = 0; i < 3; i++)
		evutil_make_socket_nonblocking(fds[i]);
	ch = xcalloc(1, sizeof(*ch));
	ch->pid = pid;
	ch->done = done;
	ch->arg = arg;
	LIST_INSERT_HEAD(&spawn_children, ch, entry);
	spawn_nchildren++;
out:
	free(dir);
	free(path);
	return pid;
}

/* The starter no longer waits; see spawn.h. */
void
spawn_forget(pid_t pid)
{
	struct spawn_child	*ch;

	LIST_FOREACH(ch, &spawn_children, entry) {
		if (ch->pid == pid) {
			ch->done = NULL;
			/* The child leads its own process group. */
			if (kill(-pid, SIGKILL) == -1)
				(void)kill(pid, SIGKILL);
			return;
		}
	}
}

/*
 * Reaps every exited child and hands each status to whoever started it.
 * This is the daemon's only child reaper: children nobody waits for are
 * reaped too, and logged at debug level.
 */
static void
spawn_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct spawn_child	*ch;
	pid_t			 pid;
	int			 st;

	/* Each waitpid reaps one zombie, so this ends. */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		LIST_FOREACH(ch, &spawn_children, entry) {
			if (ch->pid == pid)
				break;
		}
		if (ch == NULL) {
			log_debug("reaped unknown child %ld", (long)pid);
			continue;
		}
		LIST_REMOVE(ch, entry);
		spawn_nchildren--;
		if (ch->done != NULL)
			ch->done(ch->arg, st);
		free(ch);
	}
	/* With no child left, SIGCHLD goes back to its default. */
	if (spawn_nchildren == 0 && spawn_sigchld != NULL) {
		event_free(spawn_sigchld);
		spawn_sigchld = NULL;
	}
}
