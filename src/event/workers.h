/* workers.h - Workers = N: one master process and N worker processes. */
#ifndef WORKERS_H
#define WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct server_stats;

/* Most worker processes. */
#define WORKERS_MAX	64

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
	/* The running configuration (timeouts, the listening sockets). */
	const struct config	*(*config)(void);
	/* Where this process counts: a worker's shared slot; NULL in the
	 * master (its counters are every worker's added up). */
	void	(*set_stats)(struct server_stats *);
	/* Master: SIGTERM or SIGINT; worker: the master asked, or is gone. */
	void	(*shutdown)(void);
	/* Master: SIGHUP. */
	void	(*reload)(void);
	/* Master: worker i serves again after a restart. */
	void	(*worker_up)(int i);
	/* Worker: fd is an admin channel from the master. */
	void	(*adopt)(int fd);
};

/* Registers the hooks, before workers_init; hooks must outlive the workers. */
void		 workers_set_hooks(const struct workers_hooks *hooks);

/* Workers from the configured value: 0 is the number of online CPUs. */
int		 workers_resolve(int configured);

/*
 * Master: shared memory, LocalPort 0 resolved (all workers bind the same
 * port), on base. Returns 0, or -1 with cause.
 */
int		 workers_init(struct event_base *base, int n, char *cause,
		    size_t len);
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

bool		 workers_master(void);		/* this is the master */
bool		 workers_child(void);		/* this is a worker */
int		 workers_count(void);		/* N; 1 without workers */
int		 workers_index(void);		/* 0..N-1; -1 in the master */

/* Master: stops every worker (SIGTERM) and ends when they are gone. */
void		 workers_stop(void);
/* Master: sends a signal to every worker. */
void		 workers_signal(int sig);
/* Master: hands fd (an admin channel) to worker i; -1 if it is not up. */
int		 workers_send_fd(int i, int fd);

/*
 * MaxConnections over all workers: reserve before a connection is made
 * (-1: full), release when it ends. No-ops without workers.
 */
int		 workers_conn_reserve(unsigned int max);
void		 workers_conn_release(void);
/* Master: connections open in all workers. */
unsigned int	 workers_conn_total(void);

/* Worker: the next ConnectionId (worker = id % N); 0 without workers. */
uint64_t	 workers_next_id(void);
/* Master: every worker's counters added up into out. */
void		 workers_stats_sum(struct server_stats *out);
/* Worker: its listening state; master: the first worker's that listens. */
void		 workers_set_listening(bool on, const char *address, int port);
bool		 workers_listening(const char **address, int *port);
/* Worker: bytes queued and whether it is over its MaxMemory share. */
void		 workers_set_mem(size_t queued, bool over);
size_t		 workers_mem(bool *over);
/*
 * Worker: its listening socket from the master (-1: none, or closed by a
 * stop; a start then binds one of its own). Close: the worker's copy, or
 * in the master all of them (after a stop, so that no copy keeps one
 * listening).
 */
/*
 * Master: a stop or drain went through (on false) or a start did; a worker
 * started after that (a restart) listens, or not, accordingly.
 */
void		 workers_set_listening_wanted(bool on);
bool		 workers_listening_wanted(void);
int		 workers_listen_fd(void);
void		 workers_listen_close(void);
/* The port every worker binds when LocalPort is 0 (0: none chosen). */
int		 workers_port(void);

#endif
