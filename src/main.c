/* main.c - wsserverd: options, config, event loop, signals. */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin/admin.h"
#include "backend/backends.h"
#include "conf/config.h"
#include "base/log.h"
#include "base/util.h"
#include "event/fleet.h"
#include "event/sdnotify.h"
#include "event/spawn.h"
#include "event/server.h"
#include "conf/tls.h"
#include "event/workers.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/wsserverd/wsserverd.ini"
/* Supplementary groups kept for User; more is an error, not a silent cut. */
#define MAIN_GROUPS_MAX	256

/* Prints the usage (GNU style, as help2man reads it). */
static void
usage(FILE *f)
{
	fprintf(f, "Usage: wsserverd [OPTION]...\n"
	    "WebSocket server daemon: serves the routes of its configuration "
	    "file.\n\n"
	    "  -c, --config=FILE  configuration file (default %s)\n"
	    "  -f, --foreground   stay in the foreground\n"
	    "  -t, --test         check the configuration and exit\n"
	    "  -h, --help         print this help and exit\n"
	    "  -V, --version      print the version and exit\n\n"
	    "See wsserverd(8) and wsserverd.ini(5).\n", DEFAULT_CONFIG);
}

/*
 * Prints errors found before logging is set up (config_load's lines) on
 * stderr, each line prefixed with the program's name.
 */
static void
main_errors(const char *text)
{
	const char	*nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		fprintf(stderr, "wsserverd: %.*s\n", nl != NULL ?
		    (int)(nl - text) : (int)strlen(text), text);
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/* The long forms of the options (getopt_long). */
static const struct option main_options[] = {
	{ "config",	required_argument,	NULL,	'c' },
	{ "foreground",	no_argument,		NULL,	'f' },
	{ "test",	no_argument,		NULL,	't' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 }
};

/* SIGTERM/SIGINT: graceful shutdown; a second one exits at once. */
static void
main_sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server	*srv = arg;

	if (server_stopping(srv)) {
		log_warn("signal %d during shutdown: exiting now", (int)sig);
		event_base_loopexit(server_base(srv), NULL);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	server_shutdown(srv);
}

/* SIGUSR1: reopen LogFile (logrotate), as "wsserverctl reopen" does. */
static void
main_sigusr1_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (log_reopen() == -1)
		log_error("signal %d: cannot reopen the log file: %s", (int)sig,
		    strerror(errno));
	else
		log_info("signal %d: log file reopened", (int)sig);
}

/* The server the workers' hooks act on: this process's one. */
static struct server	*main_srv;

/* Reloads the configuration (with workers, the reload tells them). */
static void
main_reload(void)
{
	char	*errors = NULL, *notes = NULL;

	/* server_reload logs the outcome, errors and notes included. */
	(void)server_reload(main_srv, &errors, &notes);
	free(errors);
	free(notes);
}

/* SIGHUP: reload the configuration, as "wsserverctl reload" does. */
static void
main_sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	log_info("signal %d: reloading the configuration", (int)sig);
	main_reload();
}

/* Detaches from the terminal: fork, new session, stdin/stdout to /dev/null. */
static int
main_daemonize(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

/*
 * Opens and locks PidFile before anything is bound. Returns the descriptor
 * (kept open, and so locked, until exit), or -1 with cause: the file is
 * locked by a running wsserverd, or cannot be opened. A stale file (no
 * lock) is simply taken over.
 */
static int
main_pidfile_open(const char *path, char **cause)
{
	char	 buf[32];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644)) == -1) {
		xasprintf(cause, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			xasprintf(cause, "PidFile %s: wsserverd is already "
			    "running (pid %s)", path, *buf != '\0' ? buf : "?");
		} else
			xasprintf(cause, "PidFile %s: lock: %s", path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes our pid into the locked PidFile; returns 0, or -1 with cause. */
static int
main_pidfile_write(int fd, const char *path, char **cause)
{
	char	 buf[32];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		xasprintf(cause, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Removes PidFile at exit. Without root its directory may not let us
 * unlink it: then it is emptied, which readers take as "not running".
 */
static void
main_pidfile_remove(int fd, const char *path)
{
	if (fd == -1)
		return;
	if (unlink(path) == -1 && ftruncate(fd, 0) == -1)
		log_warn("PidFile %s: %s", path, strerror(errno));
	close(fd);
}

/*
 * Drops root for User and Group once every socket is bound: supplementary
 * groups (User's), group, then user, each checked, and root must be gone
 * for good. Returns 1 when it dropped them, 0 when there was nothing to do
 * (neither is set, or we already are that user), or -1 with *cause.
 */
static int
main_drop_privileges(const struct config *cfg, char **cause)
{
	struct passwd	*pw = NULL;
	gid_t		 groups[MAIN_GROUPS_MAX];
	uid_t		 uid;
	gid_t		 gid;
	int		 r, ngroups = 1;

	if ((r = config_ids(cfg, &uid, &gid)) == 0)
		return 0;
	if (r == -1) {
		xasprintf(cause, "User %s / Group %s: not found", cfg->user,
		    cfg->group);
		return -1;
	}
	if (geteuid() != 0) {
		if ((uid == (uid_t)-1 || uid == geteuid()) &&
		    (gid == (gid_t)-1 || gid == getegid()))
			return 0;
		xasprintf(cause, "User and Group need wsserverd to start "
		    "as root");
		return -1;
	}
	if (uid != (uid_t)-1 && (pw = getpwuid(uid)) != NULL) {
		ngroups = MAIN_GROUPS_MAX;
		if (getgrouplist(pw->pw_name, gid, groups, &ngroups) == -1) {
			xasprintf(cause, "User %s: more than %d groups",
			    cfg->user, MAIN_GROUPS_MAX);
			return -1;
		}
	} else
		groups[0] = gid;
	if (setgroups((size_t)ngroups, groups) == -1) {
		xasprintf(cause, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (setgid(gid) == -1) {
		xasprintf(cause, "setgid %ld: %s", (long)gid,
		    strerror(errno));
		return -1;
	}
	if (uid == (uid_t)-1) {
		log_info("running as group %ld (User is empty: still root)",
		    (long)gid);
		return 0;
	}
	if (setuid(uid) == -1) {
		xasprintf(cause, "setuid %ld: %s", (long)uid,
		    strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		xasprintf(cause, "setuid %ld: root could be regained",
		    (long)uid);
		return -1;
	}
	return 1;
}

/* Logs whom we run as once privileges are dropped and all is in place. */
static void
main_running_as(int dropped)
{
	if (dropped == 1)
		log_info("running as user %ld, group %ld", (long)getuid(),
		    (long)getgid());
}

/* Signal events of a serving process (one process, or a worker). */
struct main_signals {
	struct event	*term, *intr, *hup, *usr1;
};

static void
main_signals_add(struct main_signals *m, struct server *srv)
{
	struct event_base	*base = server_base(srv);

	m->term = evsignal_new(base, SIGTERM, main_sigterm_cb, srv);
	m->intr = evsignal_new(base, SIGINT, main_sigterm_cb, srv);
	m->hup = evsignal_new(base, SIGHUP, main_sighup_cb, srv);
	m->usr1 = evsignal_new(base, SIGUSR1, main_sigusr1_cb, NULL);
	evsignal_add(m->term, NULL);
	evsignal_add(m->intr, NULL);
	evsignal_add(m->hup, NULL);
	evsignal_add(m->usr1, NULL);
}

static void
main_signals_free(struct main_signals *m)
{
	event_free(m->term);
	event_free(m->intr);
	event_free(m->hup);
	event_free(m->usr1);
}

/* Workers hook: a graceful stop (the master's stops the workers). */
static void
main_shutdown(void)
{
	server_shutdown(main_srv);
}

/* Workers hook: worker i serves again (restarted): watchers, its bus. */
static void
main_worker_up(int i)
{
	admin_worker_up(i);
	fleet_worker_up(i);
}

/* What workers.c calls up to: the server, the admin socket, the fleet. */
static const struct workers_hooks main_workers_hooks = {
	.shutdown = main_shutdown,
	.reload = main_reload,
	.worker_up = main_worker_up,
	.adopt = admin_adopt,
};

/*
 * A worker, just forked by the master: listens, drops privileges, tells
 * the master, serves until told to stop. Returns its exit code.
 */
static int
main_worker(struct server *srv)
{
	struct main_signals	 sigs;
	char			*cause = NULL, *why = NULL;
	int			 rc = 0, dropped = 0;

	workers_child_setup();
	admin_worker_start(srv);
	/* The master's hub is not ours: this worker's topics go up its bus. */
	fleet_worker_start(server_base(srv), server_config(srv),
	    workers_bus_child());
	main_signals_add(&sigs, srv);
	/* Restarted after a stop: not listening, as the others. */
	if (!workers_listening_wanted())
		log_info("worker %d: not listening (stopped by wsserverctl)",
		    workers_index());
	else if (server_listen(srv, &why) == -1) {
		xasprintf(&cause, "cannot listen: %s", why);
		free(why);
		rc = 1;
	}
	if (rc == 0 && (dropped = main_drop_privileges(server_config(srv),
	    &cause)) == -1)
		rc = 1;
	/* The spawner: forked now, while the worker is small, as User. */
	if (rc == 0 && spawn_init(&cause) == -1)
		rc = 1;
	if (rc == 0)
		main_running_as(dropped);
	if (rc != 0) {
		log_error("worker %d: %s", workers_index(), cause);
		workers_child_report(cause);
		free(cause);
	}
	if (rc == 0) {
		workers_child_report(NULL);
		event_base_dispatch(server_base(srv));
	}
	spawn_fini();
	admin_stop();
	fleet_stop();
	main_signals_free(&sigs);
	return rc;
}

/*
 * Workers > 1: this process becomes the master (admin socket, workers).
 * Returns the exit code; *child is set in a worker, which has run by then.
 */
static int
main_master(struct server *srv, int n, bool *child)
{
	char	*cause = NULL;
	int	 r;

	if (admin_master_start(srv, &cause) == -1) {
		log_error("%s", cause);
		free(cause);
		return 1;
	}
	workers_set_hooks(&main_workers_hooks);
	if (workers_init(server_base(srv), n, &cause) == -1) {
		log_error("%s; not starting", cause);
		free(cause);
		admin_stop();
		return 1;
	}
	log_info("master (pid %ld): starting %d workers", (long)getpid(), n);
	if ((r = workers_spawn_all()) == 1) {
		*child = true;
		return main_worker(srv);
	}
	if (r == -1) {
		admin_stop();
		return 1;
	}
	/* The node's topics (and Redis, in a fleet) are the master's. */
	fleet_master_start(server_base(srv), server_config(srv));
	if ((r = main_drop_privileges(server_config(srv), &cause)) == -1) {
		/* The workers fail the same way and are stopped. */
		log_error("%s; not starting", cause);
		free(cause);
		workers_stop();
	} else
		main_running_as(r);
	if ((r = workers_master_loop()) == -2) {
		*child = true;
		return main_worker(srv);
	}
	admin_stop();
	fleet_stop();
	return r;
}

/*
 * The allocator's limits, fixed instead of glibc's moving ones: output
 * queues take and give back chains of every message size all the time,
 * and with the default trim threshold (128 KiB until something large is
 * freed) the heap's top went back to the kernel and was faulted in again
 * thousands of times a second (16 KiB echo: twice the CPU per message).
 * Freed memory beyond MAIN_TRIM_BYTES at the top of the heap is returned;
 * blocks of MAIN_MMAP_BYTES or more are mapped on their own and returned
 * when freed.
 */
#define MAIN_TRIM_BYTES		(8 * 1024 * 1024)
#define MAIN_MMAP_BYTES		(1024 * 1024)

static void
main_malloc_tune(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, MAIN_MMAP_BYTES);
	(void)mallopt(M_TRIM_THRESHOLD, MAIN_TRIM_BYTES);
}

int
main(int argc, char **argv)
{
	const char		*file = DEFAULT_CONFIG;
	struct config		*cfg;
	struct event_base	*base;
	struct server		*srv;
	struct main_signals	 sigs;
	char			*errors = NULL, *why = NULL, acause[512];
	int			 ch, foreground = 0, check = 0, rc = 0;
	int			 nworkers, dropped = 0;
	bool			 child = false;
	int			 pidfd = -1;
	char			*pidpath = NULL;	/* PidFile at start */

	main_malloc_tune();
	while ((ch = getopt_long(argc, argv, "c:ftVh", main_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("wsserverd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'wsserverd --help' for more "
			    "information.\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wsserverd: unexpected argument '%s'\n"
		    "Try 'wsserverd --help' for more information.\n",
		    argv[optind]);
		return 2;
	}

	if ((cfg = config_load(file, &errors)) == NULL) {
		main_errors(errors);
		free(errors);
		return 1;
	}
	if (config_check_root(cfg, geteuid(), &errors) == -1) {
		fprintf(stderr, "wsserverd: %s: %s\n", file, errors);
		free(errors);
		config_free(cfg);
		return 1;
	}
	/* The password file is the daemon's to read, not every loader's. */
	if (config_read_password(cfg, &why, &errors) == -1) {
		fprintf(stderr, "%s: %s\n", file, errors);
		free(errors);
		config_free(cfg);
		return 1;
	}
	if (why != NULL)
		explicit_bzero(why, strlen(why));
	free(why);
	why = NULL;
	if (check) {
		printf("%s: configuration OK\n", file);
		tls_ctx_print(cfg->tls, stdout);
		config_free(cfg);
		return 0;
	}

	log_init(cfg->log_level);
	log_set_mask(cfg->mask_sensitive_data, cfg->sensitive_query_params);
	/* Opened before privileges are dropped, like the sockets. */
	if (log_open(cfg->log_target == 1, cfg->log_file) == -1) {
		log_error("LogFile %s: %s", cfg->log_file, strerror(errno));
		config_free(cfg);
		return 1;
	}
	tls_ctx_log(cfg->tls);
	signal(SIGPIPE, SIG_IGN);
	/* Before any fork: LISTEN_PID names this process. */
	if (sdnotify_init(&why) == -1) {
		log_error("%s", why);
		free(why);
		config_free(cfg);
		return 1;
	}
	if (!foreground && main_daemonize() == -1) {
		log_error("daemonize: %s", strerror(errno));
		config_free(cfg);
		return 1;
	}
	/* Locked before the admin socket: a second instance must not touch it. */
	if (*cfg->pid_file != '\0' &&
	    ((pidpath = strdup(cfg->pid_file)) == NULL ||
	    (pidfd = main_pidfile_open(pidpath, &why)) == -1 ||
	    main_pidfile_write(pidfd, pidpath, &why) == -1)) {
		log_error("%s", pidpath != NULL ? why : strerror(errno));
		free(why);
		main_pidfile_remove(pidfd, pidpath);
		free(pidpath);
		sdnotify_close();
		config_free(cfg);
		return 1;
	}
	if ((base = event_base_new()) == NULL) {
		log_error("event_base_new failed");
		main_pidfile_remove(pidfd, pidpath);
		free(pidpath);
		sdnotify_close();
		config_free(cfg);
		return 1;
	}
	srv = server_new(base, cfg);
	main_srv = srv;
	backends_install();
	nworkers = workers_resolve(cfg->workers);
	if (nworkers > 1) {
		rc = main_master(srv, nworkers, &child);
		if (child && pidfd != -1) {
			/* The master's file and lock: only our copy goes. */
			close(pidfd);
			pidfd = -1;
		}
		goto done;
	}
	/*
	 * Signals first: once "listening on" is logged, a SIGTERM must stop
	 * the daemon gracefully, never kill it with the default action.
	 */
	main_signals_add(&sigs, srv);
	fleet_start(base, server_config(srv));
	if (admin_start(srv, &why) == -1) {
		log_error("%s", why);
		free(why);
		rc = 1;
	} else if (server_listen(srv, &why) == -1) {
		log_error("cannot listen: %s", why);
		free(why);
		admin_stop();
		rc = 1;
	} else if ((dropped = main_drop_privileges(server_config(srv),
	    &why)) == -1) {
		/* Bound as root, but never serving as root against User. */
		log_error("%s; not starting", why);
		free(why);
		admin_stop();
		rc = 1;
	} else if (spawn_init(&why) == -1) {
		/* Forked now, while the daemon is small, as User. */
		log_error("%s; not starting", why);
		free(why);
		admin_stop();
		rc = 1;
	} else {
		main_running_as(dropped);
		snprintf(acause, sizeof(acause), "listening on %s",
		    server_local_address(srv));
		(void)sdnotify_send("READY=1", acause);
		log_info("ready (pid %ld)", (long)getpid());
		sdnotify_watchdog_start(base);
		event_base_dispatch(base);
		spawn_fini();
		admin_stop();
	}
	fleet_stop();
	main_signals_free(&sigs);
done:
	main_pidfile_remove(pidfd, pidpath);
	free(pidpath);
	sdnotify_close();

	server_free(srv);
	event_base_free(base);
	libevent_global_shutdown();
	return rc;
}
