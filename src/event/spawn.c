/* spawn.c - the daemon's side of the spawner: requests out, children's pids, pipes and statuses in. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
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
#include "event/spawner.h"

/* Requests sent and not answered yet, at most. */
#define SPAWN_WAITING_MAX	1024
/* The socket's send buffer: room for requests the spawner has not read. */
#define SPAWN_SNDBUF		(2 * 1024 * 1024)

/* One child, from the request to its reaping. */
struct spawn_job {
	LIST_ENTRY(spawn_job)	 entry;
	uint64_t		 id;
	pid_t			 pid;		/* 0 until started */
	const struct spawn_ops	*ops;		/* NULL: cancelled */
	void			*arg;
	char			*label;		/* "ID what argv0", for the log */
};

static struct {
	int			 fd;		/* to the spawner; -1: none */
	pid_t			 pid;
	struct event		*ev;
	uint64_t		 next_id;
	unsigned int		 waiting;	/* requests not answered */
	LIST_HEAD(, spawn_job)	 jobs;
} sp = { .fd = -1, .jobs = LIST_HEAD_INITIALIZER(sp.jobs) };

static void	spawn_read_cb(evutil_socket_t, short, void *);

/*
 * Waits (at most SPAWNER_READY_MS) until the new spawner has let go of
 * the daemon's descriptors. Until then it holds a copy of each, listening
 * sockets included: a "stop" right after the start would leave one taking
 * clients (test_workers saw that under load). Without the message it
 * goes on; the spawner's own socket tells the rest.
 */
static void
spawn_wait_ready(int fd, pid_t pid)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	char		c;
	int		rc;

	do
		rc = poll(&pfd, 1, SPAWNER_READY_MS);
	while (rc == -1 && errno == EINTR);
	if (rc == 1 && recv(fd, &c, 1, 0) == 1 && c == SPAWNER_READY[0])
		return;
	log_warn("spawner (pid %ld) did not say it was ready", (long)pid);
}

/* Starts the spawner; see spawn.h. */
int
spawn_init(char **cause)
{
	int	sv[2], size = SPAWN_SNDBUF;
	pid_t	pid;

	if (sp.fd != -1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		xasprintf(cause, "spawner: socketpair: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if ((pid = fork()) == -1) {
		xasprintf(cause, "spawner: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	spawn_wait_ready(sv[0], pid);
	evutil_make_socket_nonblocking(sv[0]);
	sp.fd = sv[0];
	sp.pid = pid;
	if ((sp.ev = event_new(runtime_base(), sp.fd, EV_READ | EV_PERSIST,
	    spawn_read_cb, NULL)) == NULL)
		util_oom(event_get_struct_event_size());
	event_add(sp.ev, NULL);
	log_debug("spawner started, pid %ld", (long)pid);
	return 0;
}

/* Closes the spawner's socket and waits (briefly) for it to exit. */
static void
spawn_close(void)
{
	int	st, i;

	if (sp.fd == -1)
		return;
	event_free(sp.ev);
	sp.ev = NULL;
	close(sp.fd);
	sp.fd = -1;
	/* It exits at once on EOF; never block the loop for long on it. */
	for (i = 0; i < 100; i++) {
		if (waitpid(sp.pid, &st, WNOHANG) != 0)
			break;
		usleep(10000);
	}
	sp.pid = 0;
}

/* Closes the spawner; see spawn.h. */
void
spawn_fini(void)
{
	spawn_close();
}

/* Frees a job. */
static void
spawn_job_free(struct spawn_job *j)
{
	LIST_REMOVE(j, entry);
	free(j->label);
	free(j);
}

/* The job of a request or of a pid; NULL when there is none. */
static struct spawn_job *
spawn_find(uint64_t id, pid_t pid)
{
	struct spawn_job	*j;

	LIST_FOREACH(j, &sp.jobs, entry) {
		if ((id != 0 && j->id == id) || (pid > 0 && j->pid == pid))
			return j;
	}
	return NULL;
}

/*
 * The spawner is gone (it died, or its socket failed): every request not
 * answered fails; children started get SIGTERM from the kernel as their
 * parent died (PR_SET_PDEATHSIG) and count as reaped so.
 */
static void
spawn_lost(const char *why)
{
	struct spawn_job	*j, *next;

	log_error("spawner (pid %ld) %s; a new one starts with the next "
	    "handler", (long)sp.pid, why);
	spawn_close();
	sp.waiting = 0;
	for (j = LIST_FIRST(&sp.jobs); j != NULL; j = next) {
		next = LIST_NEXT(j, entry);
		if (j->ops != NULL && j->pid == 0)
			j->ops->failed(j->arg, "spawner gone");
		else if (j->ops != NULL) {
			(void)kill(-j->pid, SIGKILL);
			j->ops->reaped(j->arg, SIGKILL);
		}
		spawn_job_free(j);
	}
}

/* Logs why a child could not start; returns the client's short text. */
static const char *
spawn_failure(const struct spawn_job *j, int step, int err)
{
	const char	*why;

	switch (step) {
	case SPAWNER_STEP_PIPE:
		log_error("%s: pipe: %s", j->label, strerror(err));
		return "pipe failed";
	case SPAWNER_STEP_FORK:
		log_error("%s: fork: %s", j->label, strerror(err));
		return "fork failed";
	case SPAWNER_STEP_EXEC:
		why = "exec failed";
		break;
	case SPAWNER_STEP_CHDIR:
		why = "chdir failed";
		break;
	case SPAWNER_STEP_REQUEST:
		why = "request refused by the spawner";
		break;
	default:
		why = "handler setup failed";
		break;
	}
	log_error("%s: %s: %s", j->label, why, strerror(err));
	return why;
}

/* One message from the spawner (fds: the three rights that came with it). */
static void
spawn_message(const struct spawner_msg *m, int *fds, int nfds)
{
	struct spawn_job	*j;
	int			 i;

	switch (m->type) {
	case SPAWNER_STARTED:
		j = spawn_find(m->id, 0);
		if (sp.waiting > 0)
			sp.waiting--;
		if (j == NULL || nfds != 3) {
			/* Nobody asked (a bug): not ours to keep. */
			if (m->pid > 0)
				(void)kill(-m->pid, SIGKILL);
			break;
		}
		j->pid = m->pid;
		if (j->ops == NULL) {
			/* Cancelled meanwhile: gone, reaped silently. */
			(void)kill(-j->pid, SIGKILL);
			break;
		}
		for (i = 0; i < 3; i++)
			evutil_make_socket_nonblocking(fds[i]);
		j->ops->started(j->arg, j->pid, fds);
		return;
	case SPAWNER_FAILED:
		if (sp.waiting > 0)
			sp.waiting--;
		if ((j = spawn_find(m->id, 0)) == NULL)
			break;
		if (j->ops != NULL)
			j->ops->failed(j->arg, spawn_failure(j, m->step,
			    m->err));
		spawn_job_free(j);
		break;
	case SPAWNER_EXITED:
		if ((j = spawn_find(0, m->pid)) == NULL) {
			log_debug("reaped unknown child %ld", (long)m->pid);
			break;
		}
		if (j->ops != NULL)
			j->ops->reaped(j->arg, m->status);
		spawn_job_free(j);
		break;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* Everything the spawner said since the last time. */
static void
spawn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	union {
		struct cmsghdr	h;
		char		buf[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct spawner_msg	 m;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*c;
	int			 fds[3], nfds;
	ssize_t			 n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = &m;
		iov.iov_len = sizeof(m);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		n = recvmsg(sp.fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			spawn_lost(n == 0 ? "exited" : "cannot be read");
			return;
		}
		nfds = 0;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL;
		    c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len == CMSG_LEN(3 * sizeof(int))) {
				memcpy(fds, CMSG_DATA(c), sizeof(fds));
				nfds = 3;
			}
		}
		if (n == (ssize_t)sizeof(m))
			spawn_message(&m, fds, nfds);
		else
			while (nfds > 0)
				close(fds[--nfds]);
	}
}

/* Appends s and its NUL to the request being built. */
static bool
spawn_put(char *buf, size_t *len, const char *s)
{
	size_t	n = strlen(s) + 1;

	if (*len + n > SPAWNER_REQ_MAX)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	return true;
}

/* Asks for a child; see spawn.h. */
uint64_t
spawn_start(const struct spawn_cmd *cmd, const struct spawn_ops *ops,
    void *arg, char **cause)
{
	static char		*buf;
	struct spawner_req	 rq;
	struct spawn_job	*j;
	size_t			 len = sizeof(rq);
	char			*why = NULL;
	uint32_t		 i;
	bool			 ok = true;

	if (sp.fd == -1 && spawn_init(&why) == -1) {
		log_error("%s cannot start %s %s: %s", cmd->id, cmd->what,
		    cmd->argv[0], why);
		free(why);
		*cause = xstrdup("fork failed");
		return 0;
	}
	if (sp.waiting >= SPAWN_WAITING_MAX) {
		log_error("%s cannot start %s %s: %u requests wait for the "
		    "spawner", cmd->id, cmd->what, cmd->argv[0], sp.waiting);
		*cause = xstrdup("spawner busy");
		return 0;
	}
	if (buf == NULL)
		buf = xmalloc(SPAWNER_REQ_MAX);
	memset(&rq, 0, sizeof(rq));
	rq.id = ++sp.next_id;
	for (i = 0; cmd->argv[i] != NULL && ok; i++, rq.argc++)
		ok = spawn_put(buf, &len, cmd->argv[i]);
	for (i = 0; cmd->envp[i] != NULL && ok; i++, rq.envc++)
		ok = spawn_put(buf, &len, cmd->envp[i]);
	if (ok && cmd->workdir != NULL && *cmd->workdir != '\0') {
		rq.dir = 1;
		ok = spawn_put(buf, &len, cmd->workdir);
	}
	if (!ok) {
		log_error("%s cannot start %s %s: its environment passes %d "
		    "bytes", cmd->id, cmd->what, cmd->argv[0], SPAWNER_REQ_MAX);
		*cause = xstrdup("handler setup failed");
		return 0;
	}
	rq.len = (uint32_t)(len - sizeof(rq));
	memcpy(buf, &rq, sizeof(rq));
	if (send(sp.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)len) {
		log_error("%s cannot start %s %s: spawner: %s", cmd->id,
		    cmd->what, cmd->argv[0], strerror(errno));
		*cause = xstrdup(errno == EAGAIN ? "spawner busy" :
		    "fork failed");
		return 0;
	}
	sp.waiting++;
	j = xcalloc(1, sizeof(*j));
	j->id = rq.id;
	j->ops = ops;
	j->arg = arg;
	xasprintf(&j->label, "%s cannot start %s %s", cmd->id, cmd->what,
	    cmd->argv[0]);
	LIST_INSERT_HEAD(&sp.jobs, j, entry);
	return j->id;
}

/* The starter no longer waits; see spawn.h. */
void
spawn_cancel(uint64_t id)
{
	struct spawn_job	*j;

	if ((j = spawn_find(id, 0)) == NULL)
		return;
	j->ops = NULL;
	/* Started: the whole group goes; its EXITED frees the job. */
	if (j->pid > 0)
		(void)kill(-j->pid, SIGKILL);
}
