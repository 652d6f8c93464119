/* workers.h - Workers = N: one master process and N worker processes. */
#ifndef WORKERS_H
#define WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct server_stats;

#include "event/workers-shm.h"

/*
 * With Workers = 1 none of this runs: one process does everything, as it
 * always did. With N > 1 the process that started becomes the master: it
 * owns the admin socket, the PidFile and the service manager's
 * notifications, forks N workers, restarts one that dies and stops them
 * all. Each worker accepts on its own listening socket, all on one port
 * (SO_REUSEPORT; the master binds them at start and keeps them for
 * restarted workers; socket activation: all share the passed one), and
 * serves its connections and backends alone. A page of
 * shared memory holds what must be global: the open-connection count that
 * MaxConnections bounds, each worker's counters (stats), ConnectionId
 * sequences and listening address. Admin commands reach the workers over
 * socket pairs the master passes them (admin/relay.c).
 *
 * workers.c calls nothing above it: what the daemon does on its signals
 * and messages, main.c registers once (workers_set_hooks).
 */

/* What the master and the workers call up to; every member is required. */
struct workers_hooks {
	/* Master: SIGTERM or SIGINT; worker: the master asked, or is gone. */
	void	(*shutdown)(void);
	/* Master: SIGHUP. */
	void	(*reload)(void);
	/* Master: worker i serves again after a restart. */
	void	(*worker_up)(int i);
	/* Worker: fd is an admin channel from the master, maybe watching. */
	void	(*adopt)(int fd, bool watching);
};

/* Registers the hooks, before workers_init; hooks must outlive the workers. */
void		 workers_set_hooks(const struct workers_hooks *hooks);


/*
 * Master: shared memory, LocalPort 0 resolved (all workers bind the same
 * port), on base. Returns 0, or -1 with *cause (malloc'd).
 */
int		 workers_init(struct event_base *base, int n, char **cause);
/* Master: forks every worker. Returns 0 in the master, 1 in a new worker,
 * -1 when a fork failed (the ones started are stopped). */
int		 workers_spawn_all(void);
/*
 * Master: runs the event loop until every worker has stopped (returns the
 * exit code), or returns -2 in a worker it forked to replace one that died.
 */
int		 workers_master_loop(void);

/* Worker, right after the fork: drops what is the master's. */
void		 workers_child_setup(void);
/* Worker: tells the master it serves (cause NULL) or why it cannot. */
void		 workers_child_report(const char *cause);


/* Master: stops every worker (SIGTERM) and ends when they are gone. */
void		 workers_stop(void);
/* Master: sends a signal to every worker. */
void		 workers_signal(int sig);
/*
 * Master: hands fd (an admin channel) to worker i, already a watcher if
 * watching (its "OK watching" reply follows); -1 if the worker is not up.
 */
int		 workers_send_fd(int i, int fd, bool watching);
/*
 * The fleet bus of each worker (fleet-bus.h), a socket pair made at its
 * fork. Master: takes worker i's end (the caller closes it; -1 when there
 * is none or it was taken). Worker: takes its own end (likewise).
 */
int		 workers_bus_take(int i);
int		 workers_bus_child(void);

#endif
