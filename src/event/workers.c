/* workers.c - Workers = N: the master process forks, watches, restarts and stops its workers. */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/config.h"
#include "event/listener.h"
#include "base/log.h"
#include "event/sdnotify.h"
#include "event/runtime.h"	/* struct server_stats */
#include "event/workers-shm.h"
#include "base/util.h"
#include "event/workers.h"

/* A worker that ends sooner than this after its start is restarted later. */
#define WORKERS_FLAP_MS		1000
/* How long the first start may take before the master gives up. */
#define WORKERS_START_MS	30000
/* After the shutdown deadline, how long to wait for SIGKILLed workers. */
#define WORKERS_MARGIN_S	5
/* Control messages: a type byte and text. */
#define WORKERS_MSG_MAX		512
/* A restarted worker waits this long at most for the master's go-ahead. */
#define WORKERS_HOLD_S		3

/* The master's view of one worker. */
struct worker {
	pid_t			 pid;		/* 0: not running */
	int			 ctl;		/* control socket, -1 when none */
	int			 bus;		/* fleet bus, until the hub takes it */
	struct event		*ctl_ev;
	struct event		*respawn;
	unsigned long long	 asked;		/* heartbeat sent, not answered */
	unsigned long long	 started;
	bool			 ready;
};

static struct {
	const struct workers_hooks *hooks;
	struct event_base	*base;
	struct worker		 w[WORKERS_MAX];
	struct event		*sig[5];
	struct event		*deadline;
	struct event		*beat;		/* master: heartbeat timer */
	int			 nready;
	bool			 up;		/* every first worker ready */
	bool			 stopping;
	bool			 killed;
	bool			 forked;	/* a worker leaves the loop */
	int			 rc;
	int			 ctl;		/* worker: to the master */
	struct event		*ctl_ev;	/* worker */
	struct event		*hold_ev;	/* worker: accepting held */
	pid_t			 master_pid;
	int			 bus;		/* worker: its end of the bus */
} wk = { .ctl = -1, .bus = -1 };

static void	workers_ctl_cb(evutil_socket_t, short, void *);
static void	workers_child_ctl_cb(evutil_socket_t, short, void *);
static void	workers_child_go_cb(evutil_socket_t, short, void *);
static struct server_stats *workers_stats_all(void);
static void	workers_reloaded(void);

/* What the master and a worker do differently from a single process. */
static const struct runtime_role workers_role_master = {
	.name = "master",
	.stats = workers_stats_all,
	.listening = workers_listening,
	.conns = workers_conn_total,
	.reloaded = workers_reloaded,
	.shutdown = workers_stop,
};
static const struct runtime_role workers_role_worker = {
	.name = "worker",
	.next_id = workers_next_id,
	.stats = workers_stats_slot,
};

/* Master: the counters are every worker's added up. */
static struct server_stats *
workers_stats_all(void)
{
	static struct server_stats	sum;

	workers_stats_sum(&sum);
	return &sum;
}

/* Master: a reload went through; each worker reads the file again. */
static void
workers_reloaded(void)
{
	workers_signal(SIGHUP);
}

void
workers_set_hooks(const struct workers_hooks *hooks)
{
	wk.hooks = hooks;
}

/* A BindExclusively check's outcome as workers_init's: "cannot listen: ...". */
static int
workers_exclusive(int rc, char **why, char **cause)
{
	if (rc == 0)
		return 0;
	xasprintf(cause, "cannot listen: %s", *why);
	free(*why);
	return -1;
}

int
workers_init(struct event_base *base, int n, char **cause)
{
	const struct config	*cfg = runtime_config();
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			*why = NULL;
	int			 i, fd, fds[WORKERS_MAX];

	if (workers_shm_init(n) == -1) {
		xasprintf(cause, "Workers: shared memory: %s",
		    strerror(errno));
		return -1;
	}
	wk.base = base;
	wk.master_pid = getpid();
	for (i = 0; i < WORKERS_MAX; i++)
		wk.w[i].bus = -1;
	runtime_set_role(&workers_role_master);
	/*
	 * A listening socket per worker, all on one port (SO_REUSEPORT: the
	 * kernel spreads new clients over them by address), bound while still
	 * privileged. The master keeps them: a worker started later (after a
	 * crash, no longer privileged) takes over its predecessor's socket,
	 * clients queued on it included, where a socket of its own would not
	 * join a group made by root. Socket activation brings one socket that
	 * all workers share.
	 */
	/*
	 * BindExclusively: nobody else may be (or come) in the group. The
	 * probe refuses a port another process listens on; what came in
	 * between the probe and our binds is found once ours listen.
	 */
	if (listener_activated())
		return cfg->bind_exclusively ?
		    workers_exclusive(listener_alone_inherited(&why), &why,
		    cause) : 0;
	if (cfg->bind_exclusively && listener_probe(cfg, &why) == -1)
		return workers_exclusive(-1, &why, cause);
	for (i = 0; i < n; i++) {
		if ((fd = listener_bind_socket(cfg, &why)) == -1) {
			xasprintf(cause, "cannot listen: %s", why);
			free(why);
			workers_listen_close();
			return -1;
		}
		workers_listen_set(i, fd);
		if (listen(fd, cfg->connection_backlog) == -1) {
			xasprintf(cause, "cannot listen: %s",
			    strerror(errno));
			workers_listen_close();
			return -1;
		}
		/* LocalPort 0: the others, and a start after a stop, bind
		 * the port the first got. */
		if (i == 0 && getsockname(fd, (struct sockaddr *)&ss,
		    &sl) == 0)
			workers_shm_set_port(ntohs(ss.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&ss)->sin6_port :
			    ((struct sockaddr_in *)&ss)->sin_port));
		fds[i] = fd;
	}
	if (cfg->bind_exclusively && listener_alone(fds, n, &why) == -1) {
		workers_listen_close();
		return workers_exclusive(-1, &why, cause);
	}
	return 0;
}

/* Forks worker i. Returns 0 in the master, 1 in the worker, -1 on error. */
static int
workers_spawn(int i)
{
	struct worker	*w = &wk.w[i];
	int		 sv[2], bus[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_error("worker %d: socketpair: %s", i, strerror(errno));
		return -1;
	}
	/* The fleet bus (fleet-bus.h): topics up, their messages down. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, bus) == -1) {
		log_error("worker %d: socketpair: %s", i, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("worker %d: fork: %s", i, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(bus[0]);
		close(bus[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		close(bus[0]);
		workers_shm_enter_child(i);
		wk.ctl = sv[1];
		wk.bus = bus[1];
		/* The inherited loop gets its own epoll before any use. */
		if (event_reinit(wk.base) == -1) {
			log_error("worker %d: event_reinit failed", i);
			_exit(1);
		}
		return 1;
	}
	close(sv[1]);
	close(bus[1]);
	w->pid = pid;
	workers_shm_set_running(i, true);
	w->ctl = sv[0];
	if (w->bus != -1)
		close(w->bus);
	w->bus = bus[0];
	w->ready = false;
	w->asked = 0;
	w->started = util_now_ms();
	w->ctl_ev = event_new(wk.base, w->ctl, EV_READ | EV_PERSIST,
	    workers_ctl_cb, w);
	event_add(w->ctl_ev, NULL);
	log_info("worker %d started (pid %ld)", i, (long)pid);
	return 0;
}

int
workers_spawn_all(void)
{
	int	i, r;

	for (i = 0; i < workers_count(); i++) {
		if ((r = workers_spawn(i)) != 0) {
			if (r == -1) {
				workers_signal(SIGKILL);
				while (wait(NULL) > 0 || errno == EINTR)
					;
			}
			return r;
		}
	}
	return 0;
}

/* Drops the master's end of a worker's control socket. */
static void
workers_ctl_close(struct worker *w)
{
	if (w->ctl_ev != NULL) {
		event_free(w->ctl_ev);
		w->ctl_ev = NULL;
	}
	if (w->ctl != -1) {
		close(w->ctl);
		w->ctl = -1;
	}
}

/* Every first worker listens: the service is up. */
static void
workers_all_up(void)
{
	const char	*addr = "";
	char		 status[160];
	int		 port;

	wk.up = true;
	(void)workers_listening(&addr, &port);
	log_info("%d workers listening on %s", workers_count(), addr);
	snprintf(status, sizeof(status), "listening on %s (%d workers)",
	    addr, workers_count());
	(void)sdnotify_send("READY=1", status);
	log_info("ready (pid %ld)", (long)getpid());
	sdnotify_watchdog_start(wk.base);
}

/* Master: a message from a worker, or its end of the socket closing. */
static void
workers_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	char		 msg[WORKERS_MSG_MAX + 1];
	ssize_t		 n;
	int		 i = (int)(w - wk.w);

	(void)what;
	if ((n = recv(fd, msg, sizeof(msg) - 1, 0)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* It exited (SIGCHLD says how) or closed the socket. */
		workers_ctl_close(w);
		return;
	}
	msg[n] = '\0';
	switch (msg[0]) {
	case 'p':
		w->asked = 0;
		break;
	case 'R':
		w->ready = true;
		if (!wk.up && ++wk.nready == workers_count() && !wk.stopping)
			workers_all_up();
		else if (wk.up) {
			/*
			 * A restarted worker holds accepting until the admin
			 * watchers follow it: their channels go first, on the
			 * same ordered socket as the go-ahead.
			 */
			wk.hooks->worker_up(i);
			(void)send(w->ctl, "G", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			log_info("worker %d (pid %ld) serving", i, (long)w->pid);
		}
		break;
	case 'F':
		log_error("worker %d: %s", i, msg + 1);
		if (!wk.up && !wk.stopping) {
			log_error("not starting: a worker could not start");
			wk.rc = 1;
			workers_stop();
		}
		break;
	default:
		log_warn("worker %d: unknown control message", i);
		break;
	}
}

/* Master: restarts worker i (a timer, so a crash loop is slowed down). */
static void
workers_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	int	i = (int)(intptr_t)arg;

	(void)fd;
	(void)what;
	if (wk.stopping || wk.w[i].pid != 0)
		return;
	if (workers_spawn(i) == 1) {
		/* The new worker leaves this loop and runs main's worker part. */
		wk.forked = true;
		event_base_loopbreak(wk.base);
	}
}

/* How a worker ended, for the log. */
static void
workers_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "ended (status %#x)", status);
}

/* Master: SIGCHLD. Reaps workers; restarts the ones that died. */
static void
workers_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker		*w;
	struct timeval		 tv = { 0, 0 };
	char			 how[64];
	pid_t			 pid;
	int			 status, i, alive = 0;

	(void)sig;
	(void)what;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < workers_count() && wk.w[i].pid != pid; i++)
			;
		if (i == workers_count())
			continue;
		w = &wk.w[i];
		workers_describe(status, how, sizeof(how));
		w->pid = 0;
		w->ready = false;
		workers_ctl_close(w);
		/* Its connections, memory and listening went with it. */
		workers_shm_set_running(i, false);
		if (wk.stopping) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				log_info("worker %d (pid %ld) stopped", i,
				    (long)pid);
			else
				log_warn("worker %d (pid %ld) %s", i,
				    (long)pid, how);
			continue;
		}
		if (!wk.up) {
			log_error("worker %d (pid %ld) %s before it served; "
			    "not starting", i, (long)pid, how);
			wk.rc = 1;
			workers_stop();
			continue;
		}
		if (util_now_ms() - w->started < WORKERS_FLAP_MS)
			tv.tv_sec = 1;
		log_error("worker %d (pid %ld) %s; %s", i, (long)pid, how,
		    tv.tv_sec > 0 ? "restarting it in a second" :
		    "restarting it");
		if (w->respawn == NULL)
			w->respawn = evtimer_new(wk.base, workers_respawn_cb,
			    (void *)(intptr_t)i);
		evtimer_add(w->respawn, &tv);
	}
	if (!wk.stopping)
		return;
	for (i = 0; i < workers_count(); i++)
		alive += wk.w[i].pid != 0;
	if (alive == 0) {
		log_info("every worker stopped");
		event_base_loopexit(wk.base, NULL);
	}
}

/* Master: the workers outlived the shutdown deadline. */
static void
workers_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { WORKERS_MARGIN_S, 0 };

	(void)fd;
	(void)what;
	(void)arg;
	if (wk.killed) {
		log_error("workers not reaped after SIGKILL; exiting");
		event_base_loopexit(wk.base, NULL);
		return;
	}
	log_warn("workers still running after the shutdown timeout: SIGKILL");
	workers_signal(SIGKILL);
	wk.killed = true;
	evtimer_add(wk.deadline, &tv);
}

void
workers_stop(void)
{
	const struct config	*cfg = runtime_config();
	struct timeval		 tv;
	int			 i, alive = 0;

	if (wk.stopping) {
		/* A second request: the workers end now (SIGTERM while stopping). */
		workers_signal(SIGTERM);
		return;
	}
	wk.stopping = true;
	(void)sdnotify_send("STOPPING=1", "shutting down");
	for (i = 0; i < workers_count(); i++) {
		if (wk.w[i].respawn != NULL)
			evtimer_del(wk.w[i].respawn);
		alive += wk.w[i].pid != 0;
	}
	/*
	 * Asked over the control socket, not with SIGTERM: a SIGTERM that
	 * also reached them (pkill, a service manager signalling the whole
	 * group) must not count as the impatient second one.
	 */
	for (i = 0; i < workers_count(); i++) {
		if (wk.w[i].pid != 0 && (wk.w[i].ctl == -1 ||
		    send(wk.w[i].ctl, "S", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1))
			kill(wk.w[i].pid, SIGTERM);
	}
	if (alive == 0) {
		event_base_loopexit(wk.base, NULL);
		return;
	}
	/* Each worker has ShutdownTimeout, then KillTimeout for handlers. */
	tv.tv_sec = cfg->shutdown_timeout + 2 * cfg->kill_timeout +
	    WORKERS_MARGIN_S;
	tv.tv_usec = 0;
	wk.deadline = evtimer_new(wk.base, workers_deadline_cb, NULL);
	evtimer_add(wk.deadline, &tv);
}

void
workers_signal(int sig)
{
	int	i;

	for (i = 0; i < workers_count(); i++) {
		if (wk.w[i].pid > 0)
			kill(wk.w[i].pid, sig);
	}
}

/* Master: SIGTERM, SIGINT. */
static void
workers_sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (wk.stopping)
		log_warn("signal %d during shutdown: workers end now", (int)sig);
	else
		log_info("signal %d: shutting down %d workers", (int)sig, workers_count());
	wk.hooks->shutdown();
}

/* Master: SIGHUP reloads (the reload passes it on to the workers). */
static void
workers_sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_info("signal %d: reloading the configuration", (int)sig);
	wk.hooks->reload();
}

/* Master: SIGUSR1 reopens LogFile here and in every worker. */
static void
workers_sigusr1_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (log_reopen() == -1)
		log_error("signal %d: cannot reopen the log file: %s", (int)sig,
		    strerror(errno));
	workers_signal(SIGUSR1);
}

/* Master: the first start took too long. */
static void
workers_start_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (wk.up || wk.stopping)
		return;
	log_error("workers not serving after %d s; not starting",
	    WORKERS_START_MS / 1000);
	wk.rc = 1;
	workers_stop();
}

/*
 * Master, every second: asks each serving worker to answer over its
 * control socket; one that has not answered within WorkerTimeout is stuck
 * (a loop, SIGSTOP) and is killed, so that SIGCHLD starts a new one.
 */
static void
workers_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	const struct config	*cfg = runtime_config();
	unsigned long long	 now = util_now_ms();
	struct worker		*w;
	int			 i;

	(void)fd;
	(void)what;
	(void)arg;
	if (wk.stopping || cfg->worker_timeout == 0)
		return;
	for (i = 0; i < workers_count(); i++) {
		w = &wk.w[i];
		if (w->pid == 0 || !w->ready || w->ctl == -1)
			continue;
		if (w->asked == 0) {
			if (send(w->ctl, "P", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
				w->asked = now;
		} else if (now - w->asked >=
		    (unsigned long long)cfg->worker_timeout * 1000) {
			log_error("worker %d (pid %ld) has not answered for %d "
			    "s: killing it", i, (long)w->pid,
			    cfg->worker_timeout);
			kill(w->pid, SIGKILL);
			w->asked = 0;
			w->ready = false;
		}
	}
}

int
workers_master_loop(void)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				    SIGCHLD };
	event_callback_fn	 cbs[] = { workers_sigterm_cb,
				    workers_sigterm_cb, workers_sighup_cb,
				    workers_sigusr1_cb, workers_sigchld_cb };
	struct timeval		 tv = { WORKERS_START_MS / 1000, 0 };
	struct event		*start;
	size_t			 i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		wk.sig[i] = evsignal_new(wk.base, sigs[i], cbs[i], NULL);
		evsignal_add(wk.sig[i], NULL);
	}
	/* A worker may have died before SIGCHLD was watched. */
	workers_sigchld_cb(SIGCHLD, 0, NULL);
	start = evtimer_new(wk.base, workers_start_timeout_cb, NULL);
	evtimer_add(start, &tv);
	wk.beat = event_new(wk.base, -1, EV_PERSIST, workers_beat_cb, NULL);
	tv.tv_sec = 1;
	evtimer_add(wk.beat, &tv);
	event_base_dispatch(wk.base);
	event_free(start);
	event_free(wk.beat);
	wk.beat = NULL;
	if (wk.forked)
		return -2;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		event_free(wk.sig[i]);
		wk.sig[i] = NULL;
	}
	for (i = 0; i < (size_t)workers_count(); i++) {
		workers_ctl_close(&wk.w[i]);
		if (wk.w[i].bus != -1)
			close(wk.w[i].bus);
		if (wk.w[i].respawn != NULL)
			event_free(wk.w[i].respawn);
	}
	if (wk.deadline != NULL)
		event_free(wk.deadline);
	workers_listen_close();
	log_info("shutdown complete");
	return wk.rc;
}

void
workers_child_setup(void)
{
	int	i;

	for (i = 0; i < 5; i++) {
		if (wk.sig[i] != NULL) {
			event_free(wk.sig[i]);
			wk.sig[i] = NULL;
		}
	}
	for (i = 0; i < workers_count(); i++) {
		workers_ctl_close(&wk.w[i]);
		if (wk.w[i].bus != -1) {
			close(wk.w[i].bus);
			wk.w[i].bus = -1;
		}
		if (wk.w[i].respawn != NULL) {
			event_free(wk.w[i].respawn);
			wk.w[i].respawn = NULL;
		}
		wk.w[i].pid = 0;
	}
	if (wk.deadline != NULL) {
		event_free(wk.deadline);
		wk.deadline = NULL;
	}
	/* Only our own socket: a stop must close the others for real. */
	workers_listen_keep_own();
	runtime_set_role(&workers_role_worker);
	/* A worker does not outlive its master. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != wk.master_pid)
		raise(SIGTERM);
	wk.ctl_ev = event_new(wk.base, wk.ctl, EV_READ | EV_PERSIST,
	    workers_child_ctl_cb, NULL);
	event_add(wk.ctl_ev, NULL);
	/*
	 * Restarted (the others serve): no client is accepted before the
	 * master says go, so the admin watchers hear of every one; bounded,
	 * in case the go-ahead is lost.
	 */
	if (wk.up) {
		struct timeval	tv = { WORKERS_HOLD_S, 0 };

		listener_hold(true);
		wk.hold_ev = evtimer_new(wk.base, workers_child_go_cb, NULL);
		evtimer_add(wk.hold_ev, &tv);
	}
	/* Not this process's to speak to the service manager. */
	sdnotify_close();
}

void
workers_child_report(const char *cause)
{
	char	msg[WORKERS_MSG_MAX];
	int	n;

	n = snprintf(msg, sizeof(msg), "%c%s", cause == NULL ? 'R' : 'F',
	    cause != NULL ? cause : "");
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	(void)send(wk.ctl, msg, (size_t)n, MSG_NOSIGNAL);
}

/* Room for one descriptor in a control message. */
union workers_cmsg {
	struct cmsghdr	 h;
	char		 buf[CMSG_SPACE(sizeof(int))];
};

/* A message of len bytes at data, with room for one descriptor. */
static void
workers_msghdr(struct msghdr *m, struct iovec *iov, void *data, size_t len,
    union workers_cmsg *u)
{
	memset(m, 0, sizeof(*m));
	memset(u, 0, sizeof(*u));
	iov->iov_base = data;
	iov->iov_len = len;
	m->msg_iov = iov;
	m->msg_iovlen = 1;
	m->msg_control = u->buf;
	m->msg_controllen = sizeof(u->buf);
}

/* Worker: the master's go-ahead (or its wait ran out): accepts. */
static void
workers_child_go_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (wk.hold_ev == NULL)
		return;
	if (fd != -1)
		log_warn("worker %d: no go-ahead from the master in %d s; "
		    "accepting", workers_index(), WORKERS_HOLD_S);
	event_free(wk.hold_ev);
	wk.hold_ev = NULL;
	listener_hold(false);
}

/* Worker: an admin channel from the master, or the master gone. */
static void
workers_child_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	union workers_cmsg	 u;
	struct msghdr		 m;
	struct iovec		 iov;
	struct cmsghdr		*c;
	char			 msg[WORKERS_MSG_MAX];
	ssize_t			 n;
	int			 afd = -1;

	(void)what;
	(void)arg;
	workers_msghdr(&m, &iov, msg, sizeof(msg), &u);
	if ((n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	for (c = CMSG_FIRSTHDR(&m); n > 0 && c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&afd, CMSG_DATA(c), sizeof(int));
	}
	if (n <= 0) {
		log_warn("worker %d: the master is gone: shutting down",
		    workers_index());
		event_del(wk.ctl_ev);
		wk.hooks->shutdown();
		return;
	}
	if (msg[0] == 'P')
		(void)send(wk.ctl, "p", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	else if (msg[0] == 'G')
		workers_child_go_cb(-1, 0, NULL);
	else if (msg[0] == 'S')
		wk.hooks->shutdown();
	else if ((msg[0] == 'A' || msg[0] == 'W') && afd != -1)
		wk.hooks->adopt(afd, msg[0] == 'W');
	else if (afd != -1)
		close(afd);
}

int
workers_send_fd(int i, int fd, bool watching)
{
	union workers_cmsg	 u;
	struct msghdr		 m;
	struct iovec		 iov;
	struct cmsghdr		*c;
	char			 type = watching ? 'W' : 'A';

	if (i < 0 || i >= workers_count() || wk.w[i].pid == 0 ||
	    wk.w[i].ctl == -1 || !wk.w[i].ready)
		return -1;
	workers_msghdr(&m, &iov, &type, 1, &u);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(wk.w[i].ctl, &m, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ?
	    0 : -1;
}


/* Master: takes worker i's end of its fleet bus (-1: none, or taken). */
int
workers_bus_take(int i)
{
	int	fd;

	if (i < 0 || i >= workers_count())
		return -1;
	fd = wk.w[i].bus;
	wk.w[i].bus = -1;
	return fd;
}

/* Worker: takes its end of the fleet bus (-1 once taken). */
int
workers_bus_child(void)
{
	int	fd = wk.bus;

	wk.bus = -1;
	return fd;
}
