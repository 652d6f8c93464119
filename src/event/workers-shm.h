/*
 * workers-shm.h - Workers = N: what the master and its workers share, and
 * which process this is. A page of shared memory holds what must be
 * global: the open-connection count that MaxConnections bounds, the
 * handler count that MaxHandlers bounds, each worker's counters,
 * ConnectionId sequence, listening state and queued bytes; a second
 * shared mapping holds the per-client table (clients.h); the master's
 * listening sockets (one per worker) live here too.
 * The connections and the listener read and count here; workers.c (the
 * processes) sets it up. Without workers every function is a no-op or
 * answers for the single process.
 */
#ifndef WORKERS_SHM_H
#define WORKERS_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server_stats;

/* Most worker processes. */
#define WORKERS_MAX	64

/* Workers from the configured value: 0 is the number of online CPUs. */
int		 workers_resolve(int configured);

bool		 workers_master(void);		/* this is the master */
bool		 workers_child(void);		/* this is a worker */
int		 workers_count(void);		/* N; 1 without workers */
int		 workers_index(void);		/* 0..N-1; -1 in the master */

/*
 * MaxConnections over all workers: reserve before a connection is made
 * (-1: full), release when it ends. No-ops without workers.
 */
int		 workers_conn_reserve(unsigned int max);
void		 workers_conn_release(void);
/* Master: connections open in all workers. */
unsigned int	 workers_conn_total(void);

/*
 * MaxHandlers over all workers (and in a single process): a handler
 * process takes a place before it is started (-1: full) and gives it back
 * once it and its process group are gone. The total is every worker's.
 */
int		 workers_handler_reserve(unsigned int max);
void		 workers_handler_release(void);
unsigned int	 workers_handler_total(void);

/*
 * The per-client table (clients.h): with workers the one in the shared
 * memory, mapped by workers_shm_init; a single process maps its own on
 * first use. NULL when it could not be mapped.
 */
struct clients	*workers_clients(void);

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
 * Master: a stop or drain went through (on false) or a start did; a worker
 * started after that (a restart) listens, or not, accordingly.
 */
void		 workers_set_listening_wanted(bool on);
bool		 workers_listening_wanted(void);
/*
 * Worker: its listening socket from the master (-1: none, or closed by a
 * stop; a start then binds one of its own). Close: the worker's copy, or
 * in the master all of them (after a stop, so that no copy keeps one
 * listening).
 */
int		 workers_listen_fd(void);
void		 workers_listen_close(void);
/* The port every worker binds when LocalPort is 0 (0: none chosen). */
int		 workers_port(void);

/* Master: maps the page for n workers. Returns 0, or -1 (errno set). */
int		 workers_shm_init(int n);
/* Master: the port every worker binds when LocalPort is 0. */
void		 workers_shm_set_port(int port);
/* A new worker, right after the fork: it is worker i from now on. */
void		 workers_shm_enter_child(int i);
/* Master: worker i runs, or is gone (its counts go with it). */
void		 workers_shm_set_running(int i, bool on);
/* Worker: its counters' slot. */
struct server_stats *workers_stats_slot(void);
/* Master: worker i's listening socket, bound before the fork. */
void		 workers_listen_set(int i, int fd);
/* Worker: drops the other workers' sockets. */
void		 workers_listen_keep_own(void);

#endif
