/* spawner.c - the spawner process: forks and execs handlers for the daemon, reaps them, reports both. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pipe2, F_DUPFD_CLOEXEC, clone, execvpe */
#endif

#include <sys/types.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event/spawner.h"

/*
 * AddressSanitizer: the child runs on a stack ASan does not know, so its
 * code is not instrumented (SPAWNER_CHILD_CODE) and the stack's shadow is
 * cleared before each child (a child never returns to unpoison its frames).
 */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWNER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWNER_ASAN 1
#endif
#endif
#ifdef SPAWNER_ASAN
#include <sanitizer/asan_interface.h>
#define SPAWNER_CHILD_CODE	__attribute__((no_sanitize_address))
#define SPAWNER_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SPAWNER_CHILD_CODE
#define SPAWNER_UNPOISON(p, n)	((void)0)
#endif

/* Children whose exec is not confirmed yet: their status pipes are polled. */
#define SPAWNER_PENDING_MAX	256
/*
 * Children in the middle of their start (forked less than this long ago,
 * exec not confirmed) count against the limit on starts at once; one that
 * takes longer is stuck (a slow file system), not using a CPU.
 */
#define SPAWNER_STARTING_MS	1000
/*
 * The daemon gone: how long its programs have between SIGTERM and
 * SIGKILL, and how long the spawner waits for the last ones to go.
 */
#define SPAWNER_END_GRACE_MS	1000
#define SPAWNER_END_WAIT_MS	1000
/* Starts at once: per CPU the spawner may run on, and at least. */
#define SPAWNER_STARTING_PER_CPU 2
#define SPAWNER_STARTING_MIN	2

/* Everything a child needs, prepared before fork so it need not allocate. */
struct spawner_exec {
	const char	*path;		/* what to exec (after chdir) */
	char		*const *argv;
	char		**envp;
	const char	*dir;		/* NULL: stay in the spawner's cwd */
};

/* A child forked, its exec not confirmed yet. */
struct spawner_child {
	pid_t		 pid;
	uint64_t	 id;
	int		 stfd;		/* status pipe: EOF means exec worked */
	int		 fds[3];	/* the daemon's ends: stdin, stdout, stderr */
	bool		 reaped;	/* exited before its EOF was seen */
	int		 status;
	long long	 forked;	/* ms, CLOCK_MONOTONIC */
};

static struct {
	int			 fd;		/* to the daemon */
	int			 sigfd;
	pid_t			 self;
	struct spawner_child	 pending[SPAWNER_PENDING_MAX];
	int			 npending;
	int			 starting_max;
	char			*buf;		/* one request */
} sp;

/* Milliseconds of CLOCK_MONOTONIC. */
static long long
spawner_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Whether another request may be read: fewer children than the limit are
 * in the middle of their start. Else *wait_ms is when one ages out of it.
 * Handlers starting all at once on the same CPUs queue on the kernel's
 * locks of exec and starve the ones started before (helper-7's traces of
 * the vfork tail); requests wait in the socket meanwhile.
 */
static bool
spawner_may_start(int *wait_ms)
{
	long long	now = spawner_now_ms(), first = -1, left;
	int		i, n = 0;

	for (i = 0; i < sp.npending; i++) {
		left = sp.pending[i].forked + SPAWNER_STARTING_MS - now;
		if (left <= 0)
			continue;
		n++;
		if (first == -1 || left < first)
			first = left;
	}
	if (n < sp.starting_max)
		return true;
	*wait_ms = (int)first;
	return false;
}

/* The limit on starts at once, from the CPUs this process may run on. */
static int
spawner_starting_max(void)
{
	cpu_set_t	set;
	int		n = 1;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = 1;
	n *= SPAWNER_STARTING_PER_CPU;
	return n < SPAWNER_STARTING_MIN ? SPAWNER_STARTING_MIN : n;
}

/* Sends the failed step and errno to the spawner and exits. */
static void SPAWNER_CHILD_CODE __attribute__((noreturn))
spawner_child_fail(int stfd, int step, int err)
{
	int32_t	rep[2] = { step, err };
	ssize_t	n;

	n = write(stfd, rep, sizeof(rep));
	(void)n;
	_exit(127);
}

/*
 * Every signal's disposition back to the default, by the system call:
 * glibc's sigaction refuses the two real-time signals it keeps for itself
 * (32 and 33), and a daemon started from a shell's background job, say,
 * may have them ignored, which a program would inherit through exec. A
 * zeroed kernel sigaction is SIG_DFL, no flags, nothing masked, whatever
 * the architecture's layout.
 */
static void SPAWNER_CHILD_CODE
spawner_signals_default(void)
{
	static const unsigned long	zero[8];
	int				sig;

	for (sig = 1; sig < NSIG; sig++)
		(void)syscall(SYS_rt_sigaction, sig, zero, NULL,
		    (size_t)(NSIG - 1) / 8);
}

/* Closes every descriptor from lowfd up. */
static void SPAWNER_CHILD_CODE
spawner_close_from(int lowfd)
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
 * whole group can be signalled), death signal if the spawner (and so the
 * daemon) dies, no new privileges (set-user-ID and set-group-ID bits and
 * file capabilities do nothing for it or its children), default signal
 * handling, nothing blocked, the pipes on 0-2 and nothing else open.
 */
static void SPAWNER_CHILD_CODE __attribute__((noreturn))
spawner_child(const struct spawner_exec *x, pid_t parent, int fds[3], int stfd)
{
	sigset_t		none;
	int			i;

	(void)setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		spawner_child_fail(stfd, SPAWNER_STEP_PDEATHSIG, errno);
	/* No privilege gained by exec: set-user-ID bits and the like. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		spawner_child_fail(stfd, SPAWNER_STEP_NO_NEW_PRIVS, errno);
	/* The spawner died before the death signal was armed. */
	if (getppid() != parent)
		_exit(127);

	spawner_signals_default();

	/* Lift everything above 2 first so no dup2 below clobbers a pipe. */
	if (stfd < 3 && (stfd = fcntl(stfd, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(127);
	for (i = 0; i < 3; i++) {
		if (fds[i] < 3 &&
		    (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1)
			spawner_child_fail(stfd, SPAWNER_STEP_FDS, errno);
	}
	for (i = 0; i < 3; i++) {
		if (dup2(fds[i], i) == -1)
			spawner_child_fail(stfd, SPAWNER_STEP_FDS, errno);
	}
	if (stfd != 3) {
		if (dup2(stfd, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			spawner_child_fail(stfd, SPAWNER_STEP_FDS, errno);
		stfd = 3;
	}
	spawner_close_from(4);

	if (x->dir != NULL && chdir(x->dir) == -1)
		spawner_child_fail(stfd, SPAWNER_STEP_CHDIR, errno);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(x->path, x->argv, x->envp);
	spawner_child_fail(stfd, SPAWNER_STEP_EXEC, errno);
}

/* What clone passes to the child. */
struct spawner_clone {
	const struct spawner_exec *x;
	pid_t		 parent;
	int		*fds;
	int		 stfd;
};

static int SPAWNER_CHILD_CODE
spawner_child_main(void *arg)
{
	struct spawner_clone	*a = arg;

	spawner_child(a->x, a->parent, a->fds, a->stfd);
}

/*
 * Starts the child in the spawner's own memory (CLONE_VM) on a stack of
 * its own, the spawner waiting (CLONE_VFORK) until it has exec'd or
 * exited, as posix_spawn does: no page tables to copy at the start and
 * none to tear down at the exec. The child touches nothing of the
 * spawner's but its arguments: system calls only, no allocation, no
 * handler can run in it (the spawner installs none).
 */
static pid_t
spawner_clone(const struct spawner_exec *x, int fds[3], int stfd)
{
	static char		 stack[64 * 1024] __attribute__((aligned(16)));
	struct spawner_clone	 a = { x, sp.self, fds, stfd };

	SPAWNER_UNPOISON(stack, sizeof(stack));
	return clone(spawner_child_main, stack + sizeof(stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
}

/* Sends one message to the daemon, with the child's three ends if fds. */
static void
spawner_send(const struct spawner_msg *m, const int *fds)
{
	union {
		struct cmsghdr	h;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)m;
	iov.iov_len = sizeof(*m);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fds != NULL) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(3 * sizeof(int));
		memcpy(CMSG_DATA(c), fds, 3 * sizeof(int));
	}
	/* The daemon reads at once; a daemon gone ends us at the next poll. */
	while (sendmsg(sp.fd, &mh, MSG_NOSIGNAL) == -1 && errno == EINTR)
		continue;
}

/* Reports a request that failed before (or without) a child. */
static void
spawner_failed(uint64_t id, int step, int err)
{
	struct spawner_msg	m;

	memset(&m, 0, sizeof(m));
	m.type = SPAWNER_FAILED;
	m.id = id;
	m.pid = -1;
	m.step = step;
	m.err = err;
	spawner_send(&m, NULL);
}

/* Closes a pending child's descriptors and drops it from the list. */
static void
spawner_drop(int i)
{
	struct spawner_child	*ch = &sp.pending[i];
	int			 j;

	close(ch->stfd);
	for (j = 0; j < 3; j++)
		close(ch->fds[j]);
	sp.pending[i] = sp.pending[--sp.npending];
}

/*
 * Starts one request: parses it, makes the pipes and forks. The child's
 * exec is confirmed (or not) later, on its status pipe.
 */
static void
spawner_request(size_t len)
{
	struct spawner_req	 rq;
	struct spawner_exec	 x;
	struct spawner_child	*ch;
	char			**argv = NULL, **envp = NULL, *p, *end, *slash;
	char			*dir = NULL, *path = NULL, *wd = NULL;
	int			 pp[4][2], child[3], i, j, err;
	uint32_t		 k;
	pid_t			 pid;

	if (len < sizeof(rq))
		return;
	memcpy(&rq, sp.buf, sizeof(rq));
	p = sp.buf + sizeof(rq);
	end = sp.buf + len;
	if (rq.len != len - sizeof(rq) || rq.argc == 0 || rq.argc > 4096 ||
	    rq.envc > 65536 || len == sizeof(rq) || end[-1] != '\0') {
		spawner_failed(rq.id, SPAWNER_STEP_REQUEST, EINVAL);
		return;
	}
	if (sp.npending == SPAWNER_PENDING_MAX) {
		spawner_failed(rq.id, SPAWNER_STEP_FORK, EAGAIN);
		return;
	}
	argv = calloc(rq.argc + 1, sizeof(char *));
	envp = calloc(rq.envc + 1, sizeof(char *));
	if (argv == NULL || envp == NULL) {
		spawner_failed(rq.id, SPAWNER_STEP_FORK, ENOMEM);
		goto out;
	}
	for (k = 0; k < rq.argc + rq.envc + (rq.dir ? 1 : 0); k++) {
		if (p >= end) {
			spawner_failed(rq.id, SPAWNER_STEP_REQUEST, EINVAL);
			goto out;
		}
		if (k < rq.argc)
			argv[k] = p;
		else if (k < rq.argc + rq.envc)
			envp[k - rq.argc] = p;
		else
			dir = p;
		p += strlen(p) + 1;
	}

	/*
	 * The program runs in its own directory: a relative path is made
	 * relative to it; a bare name is looked up in PATH and runs in the
	 * spawner's directory (the daemon's). A directory given wins, with
	 * the path as it is (config.c made it absolute).
	 */
	memset(&x, 0, sizeof(x));
	x.argv = argv;
	x.envp = envp;
	x.path = argv[0];
	if ((slash = strrchr(argv[0], '/')) != NULL) {
		if ((wd = strdup(argv[0])) == NULL ||
		    (path = malloc(strlen(slash) + 2)) == NULL) {
			spawner_failed(rq.id, SPAWNER_STEP_FORK, ENOMEM);
			goto out;
		}
		wd[slash == argv[0] ? 1 : slash - argv[0]] = '\0';
		x.dir = wd;
		if (argv[0][0] != '/') {
			path[0] = '.';
			memcpy(path + 1, slash, strlen(slash) + 1);
			x.path = path;
		}
	}
	if (dir != NULL && *dir != '\0') {
		x.path = argv[0];
		x.dir = dir;
	}

	for (i = 0; i < 4; i++) {
		if (pipe2(pp[i], O_CLOEXEC) == -1) {
			err = errno;
			for (j = 0; j < i; j++) {
				close(pp[j][0]);
				close(pp[j][1]);
			}
			spawner_failed(rq.id, SPAWNER_STEP_PIPE, err);
			goto out;
		}
	}
	child[0] = pp[0][0];
	child[1] = pp[1][1];
	child[2] = pp[2][1];
	pid = spawner_clone(&x, child, pp[3][1]);
	err = errno;
	close(pp[0][0]);
	close(pp[1][1]);
	close(pp[2][1]);
	close(pp[3][1]);
	if (pid == -1) {
		close(pp[0][1]);
		close(pp[1][0]);
		close(pp[2][0]);
		close(pp[3][0]);
		spawner_failed(rq.id, SPAWNER_STEP_FORK, err);
		goto out;
	}
	ch = &sp.pending[sp.npending++];
	memset(ch, 0, sizeof(*ch));
	ch->pid = pid;
	ch->id = rq.id;
	ch->forked = spawner_now_ms();
	ch->stfd = pp[3][0];
	ch->fds[0] = pp[0][1];
	ch->fds[1] = pp[1][0];
	ch->fds[2] = pp[2][0];
out:
	free(argv);
	free(envp);
	free(path);
	free(wd);
}

/*
 * A pending child's status pipe is readable: EOF means the exec worked
 * (STARTED, with the pipe ends; EXITED too if it is gone already), a
 * report means it failed (FAILED; the child exits 127, reaped silently).
 */
static void
spawner_status(int i)
{
	struct spawner_child	*ch = &sp.pending[i];
	struct spawner_msg	 m;
	int32_t			 rep[2];
	ssize_t			 n;
	int			 st;

	do
		n = read(ch->stfd, rep, sizeof(rep));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n == (ssize_t)sizeof(rep)) {
		if (!ch->reaped)
			while (waitpid(ch->pid, &st, 0) == -1 &&
			    errno == EINTR)
				continue;
		spawner_failed(ch->id, rep[0], rep[1]);
		spawner_drop(i);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = SPAWNER_STARTED;
	m.id = ch->id;
	m.pid = ch->pid;
	spawner_send(&m, ch->fds);
	if (ch->reaped) {
		memset(&m, 0, sizeof(m));
		m.type = SPAWNER_EXITED;
		m.pid = ch->pid;
		m.status = ch->status;
		spawner_send(&m, NULL);
	}
	spawner_drop(i);
}

/*
 * Reaps every child that exited: a started one is reported (EXITED); one
 * whose exec is not confirmed yet waits for its status pipe.
 */
static void
spawner_reap(void)
{
	struct signalfd_siginfo	 si;
	struct spawner_msg	 m;
	pid_t			 pid;
	int			 st, i;

	while (read(sp.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		continue;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < sp.npending; i++)
			if (sp.pending[i].pid == pid)
				break;
		if (i < sp.npending) {
			sp.pending[i].reaped = true;
			sp.pending[i].status = st;
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.type = SPAWNER_EXITED;
		m.pid = pid;
		m.status = st;
		spawner_send(&m, NULL);
	}
}

/*
 * Sends sig to the process group of each child (the kernel's list of
 * them; each leads its own group). Returns how many it signalled.
 */
static int
spawner_signal_children(int sig)
{
	char	 path[64], *buf = NULL, *p, *end, *nb;
	size_t	 len = 0, size = 0;
	ssize_t	 n;
	long	 pid;
	int	 fd, count = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)sp.self);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	for (;;) {
		if (len + 1 >= size) {
			size = size == 0 ? 4096 : size * 2;
			if ((nb = realloc(buf, size)) == NULL)
				break;
			buf = nb;
		}
		if ((n = read(fd, buf + len, size - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return 0;
	buf[len] = '\0';
	for (p = buf; *p != '\0'; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 1) {
			(void)kill((pid_t)-pid, sig);
			(void)kill((pid_t)pid, sig);
			count++;
		}
	}
	free(buf);
	return count;
}

/* Reaps what has exited; whether no child is left. */
static bool
spawner_reap_quietly(void)
{
	pid_t	pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		continue;
	return pid == -1 && errno == ECHILD;
}

/*
 * The daemon is gone (its end of the socket closed: it exited, or died):
 * its programs still running get SIGTERM, those left a second later
 * SIGKILL, each to its whole process group, so that none outlives it
 * (a daemon that stops normally has ended them itself); then the spawner
 * exits.
 */
static void __attribute__((noreturn))
spawner_end(void)
{
	int	i;

	if (spawner_signal_children(SIGTERM) > 0) {
		for (i = 0; i < SPAWNER_END_GRACE_MS / 10 &&
		    !spawner_reap_quietly(); i++)
			(void)poll(NULL, 0, 10);
		(void)spawner_signal_children(SIGKILL);
		for (i = 0; i < SPAWNER_END_WAIT_MS / 10 &&
		    !spawner_reap_quietly(); i++)
			(void)poll(NULL, 0, 10);
	}
	_exit(0);
}

/* The spawner's body; see spawner.h. */
void
spawner_main(int fd)
{
	struct pollfd		 pfd[2 + SPAWNER_PENDING_MAX];
	struct sigaction	 sa;
	sigset_t		 set;
	ssize_t			 n;
	int			 i, np, nready, wait_ms;

	sp.fd = fd;
	sp.self = getpid();
	/* Told apart from the daemon in ps and /proc (15 bytes at most). */
	(void)prctl(PR_SET_NAME, SPAWNER_NAME);
	/*
	 * No death signal: when the daemon goes, its end of the socket
	 * closes, and the spawner ends the programs before it exits.
	 */
	/* Nothing of the daemon's but the socket and stdio. */
	if (fd != 3 && (dup2(fd, 3) == -1 || close(fd) == -1))
		_exit(1);
	sp.fd = 3;
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	spawner_close_from(4);
	/*
	 * Tell the daemon that nothing of its is held here any more (a
	 * listening socket it closes must not go on taking clients here).
	 */
	if (write(3, SPAWNER_READY, 1) != 1)
		_exit(1);
	spawner_signals_default();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if ((sp.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		_exit(1);
	if ((sp.buf = malloc(SPAWNER_REQ_MAX)) == NULL)
		_exit(1);
	sp.starting_max = spawner_starting_max();

	for (;;) {
		/* At the limit: the next request waits (hang-ups still come). */
		wait_ms = -1;
		pfd[0].fd = sp.fd;
		pfd[0].events = spawner_may_start(&wait_ms) ? POLLIN : 0;
		pfd[1].fd = sp.sigfd;
		pfd[1].events = POLLIN;
		np = 2;
		for (i = 0; i < sp.npending; i++) {
			pfd[np].fd = sp.pending[i].stfd;
			pfd[np++].events = POLLIN;
		}
		if ((nready = poll(pfd, (nfds_t)np, wait_ms)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[1].revents != 0)
			spawner_reap();
		/* Backwards: spawner_status moves the last entry into i. */
		for (i = np - 1; i >= 2; i--)
			if (pfd[i].revents != 0)
				spawner_status(i - 2);
		if (pfd[0].revents & POLLIN) {
			n = recv(sp.fd, sp.buf, SPAWNER_REQ_MAX, 0);
			if (n == 0)
				spawner_end();
			if (n > 0)
				spawner_request((size_t)n);
		} else if (pfd[0].revents & (POLLHUP | POLLERR))
			spawner_end();
	}
}
