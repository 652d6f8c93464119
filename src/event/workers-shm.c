/* workers-shm.c - Workers = N: what the processes share (a page of counters, the listening sockets). */
#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>

#include "conf/config-types.h"
#include "event/clients.h"
#include "event/runtime.h"
#include "event/workers-shm.h"

/* One worker's part of the shared page; only that worker writes it. */
struct workers_slot {
	struct server_stats	 stats;
	uint64_t		 next_seq;	/* ConnectionId sequence */
	uint64_t		 mem_queued;
	unsigned int		 conns;		/* its share of shm->conns */
	unsigned int		 handlers;	/* its share of shm->handlers */
	int			 mem_over;
	int			 listening;
	int			 port;
	char			 address[64];
} __attribute__((aligned(64)));

/* workers_stats_sum adds the counters up as an array. */
_Static_assert(sizeof(struct server_stats) % sizeof(uint64_t) == 0,
    "struct server_stats holds uint64_t counters only");

struct workers_shm {
	_Atomic unsigned int	 conns;		/* open in all workers */
	_Atomic unsigned int	 handlers;	/* handler processes, all workers */
	int			 port;		/* LocalPort 0: the one chosen */
	int			 unlistened;	/* stop/drain: workers do not listen */
	struct workers_slot	 slot[WORKERS_MAX];
};

static struct {
	int			 n;
	int			 index;		/* a worker's; -1 elsewhere */
	bool			 master;
	bool			 child;
	struct workers_shm	*shm;
	struct workers_slot	*me;		/* a worker's slot */
	int			 lfd[WORKERS_MAX];	/* listening, per worker */
	bool			 lfds;		/* lfd[] is in use */
	bool			 running[WORKERS_MAX];	/* master: worker up */
	unsigned int		 handlers;	/* without workers */
	struct clients		*clients;	/* the per-client table */
} ws = { .n = 1, .index = -1 };

/*
 * Maps the per-client table for n processes, with ClientTableSize of the
 * configuration in force, shared (the master maps it before the forks).
 * Returns it, or NULL (errno set).
 */
static struct clients *
workers_clients_map(int n)
{
	unsigned int	 cap = (unsigned int)runtime_config()->client_table_size;
	uint64_t	 seed = 0;
	size_t		 size = clients_size(cap, n);
	void		*mem;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	/* Not guessable, so that no client can pick colliding addresses. */
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	return clients_init(mem, cap, n, seed);
}

/* Master: maps the shared page for n workers. Returns 0, or -1 (errno). */
int
workers_shm_init(int n)
{
	int	i;

	ws.shm = mmap(NULL, sizeof(*ws.shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ws.shm == MAP_FAILED) {
		ws.shm = NULL;
		return -1;
	}
	if ((ws.clients = workers_clients_map(n)) == NULL)
		return -1;
	for (i = 0; i < WORKERS_MAX; i++) {
		ws.shm->slot[i].next_seq = 1;
		ws.lfd[i] = -1;
	}
	ws.n = n;
	ws.master = true;
	return 0;
}

/* Master: the port every worker binds when LocalPort is 0. */
void
workers_shm_set_port(int port)
{
	ws.shm->port = port;
}

/* A new worker, right after the fork: it is worker i now. */
void
workers_shm_enter_child(int i)
{
	ws.master = false;
	ws.child = true;
	ws.index = i;
	ws.me = &ws.shm->slot[i];
}

/*
 * Master: worker i runs (or not). One that is gone takes its connections,
 * memory and listening state with it.
 */
void
workers_shm_set_running(int i, bool on)
{
	struct workers_slot	*s = &ws.shm->slot[i];

	ws.running[i] = on;
	if (on)
		return;
	atomic_fetch_sub(&ws.shm->conns, s->conns);
	s->conns = 0;
	/* Its handlers got the death signal with it. */
	atomic_fetch_sub(&ws.shm->handlers, s->handlers);
	s->handlers = 0;
	if (ws.clients != NULL)
		clients_worker_gone(ws.clients, i);
	s->listening = 0;
	s->mem_queued = 0;
	s->mem_over = 0;
}

/* Worker: its counters, in its slot of the page. */
struct server_stats *
workers_stats_slot(void)
{
	return &ws.me->stats;
}

/* Master: worker i's listening socket (bound before the fork). */
void
workers_listen_set(int i, int fd)
{
	ws.lfds = true;
	ws.lfd[i] = fd;
}

/* Worker: closes the other workers' sockets, keeps its own. */
void
workers_listen_keep_own(void)
{
	int	i;

	for (i = 0; ws.lfds && i < ws.n; i++) {
		if (i != ws.index && ws.lfd[i] != -1) {
			close(ws.lfd[i]);
			ws.lfd[i] = -1;
		}
	}
}

int
workers_resolve(int configured)
{
	long	n;

	if (configured > 0)
		return configured > WORKERS_MAX ? WORKERS_MAX : configured;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > WORKERS_MAX ? WORKERS_MAX : (int)n;
}

bool
workers_master(void)
{
	return ws.master;
}

bool
workers_child(void)
{
	return ws.child;
}

int
workers_count(void)
{
	return ws.n;
}

int
workers_index(void)
{
	return ws.index;
}

int
workers_port(void)
{
	return ws.shm != NULL ? ws.shm->port : 0;
}

void
workers_set_listening_wanted(bool on)
{
	if (!ws.master)
		return;
	ws.shm->unlistened = !on;
	/* After a stop no copy may be left listening: ours goes too. */
	if (!on)
		workers_listen_close();
}

bool
workers_listening_wanted(void)
{
	return ws.shm == NULL || !ws.shm->unlistened;
}

int
workers_listen_fd(void)
{
	return ws.child && ws.lfds ? ws.lfd[ws.index] : -1;
}

void
workers_listen_close(void)
{
	int	i;

	if (!ws.lfds)
		return;
	for (i = 0; i < ws.n; i++) {
		/* A worker has only its own. */
		if (ws.child && i != ws.index)
			continue;
		if (ws.lfd[i] != -1) {
			close(ws.lfd[i]);
			ws.lfd[i] = -1;
		}
	}
}

int
workers_conn_reserve(unsigned int max)
{
	if (!ws.child)
		return 0;
	if (atomic_fetch_add(&ws.shm->conns, 1) >= max) {
		atomic_fetch_sub(&ws.shm->conns, 1);
		return -1;
	}
	ws.me->conns++;
	return 0;
}

void
workers_conn_release(void)
{
	if (!ws.child)
		return;
	atomic_fetch_sub(&ws.shm->conns, 1);
	ws.me->conns--;
}

unsigned int
workers_conn_total(void)
{
	return ws.shm != NULL ? atomic_load(&ws.shm->conns) : 0;
}

struct clients *
workers_clients(void)
{
	/* A single process maps its own on first use. */
	if (ws.clients == NULL && !ws.master && !ws.child)
		ws.clients = workers_clients_map(1);
	return ws.clients;
}

int
workers_handler_reserve(unsigned int max)
{
	if (!ws.child) {
		if (ws.handlers >= max)
			return -1;
		ws.handlers++;
		return 0;
	}
	if (atomic_fetch_add(&ws.shm->handlers, 1) >= max) {
		atomic_fetch_sub(&ws.shm->handlers, 1);
		return -1;
	}
	ws.me->handlers++;
	return 0;
}

void
workers_handler_release(void)
{
	if (!ws.child) {
		if (ws.handlers > 0)
			ws.handlers--;
		return;
	}
	atomic_fetch_sub(&ws.shm->handlers, 1);
	ws.me->handlers--;
}

unsigned int
workers_handler_total(void)
{
	return ws.shm != NULL ? atomic_load(&ws.shm->handlers) : ws.handlers;
}

uint64_t
workers_next_id(void)
{
	if (!ws.child)
		return 0;
	return ws.me->next_seq++ * (uint64_t)ws.n + (uint64_t)ws.index;
}

void
workers_stats_sum(struct server_stats *out)
{
	const uint64_t	*in;
	uint64_t	*o = (uint64_t *)out;
	size_t		 i, nw = sizeof(*out) / sizeof(uint64_t);
	int		 j;

	/* struct server_stats is counters only, all uint64_t. */
	memset(out, 0, sizeof(*out));
	if (ws.shm == NULL)
		return;
	for (j = 0; j < ws.n; j++) {
		in = (const uint64_t *)&ws.shm->slot[j].stats;
		for (i = 0; i < nw; i++)
			o[i] += __atomic_load_n(&in[i], __ATOMIC_RELAXED);
	}
}

void
workers_set_listening(bool on, const char *address, int port)
{
	if (!ws.child)
		return;
	ws.me->listening = on;
	ws.me->port = port;
	snprintf(ws.me->address, sizeof(ws.me->address), "%s",
	    address != NULL ? address : "");
}

bool
workers_listening(const char **address, int *port)
{
	int	i;

	if (ws.shm == NULL)
		return false;
	for (i = 0; i < ws.n; i++) {
		if (ws.running[i] && ws.shm->slot[i].listening) {
			*address = ws.shm->slot[i].address;
			*port = ws.shm->slot[i].port;
			return true;
		}
	}
	return false;
}

void
workers_set_mem(size_t queued, bool over)
{
	if (!ws.child)
		return;
	ws.me->mem_queued = queued;
	ws.me->mem_over = over;
}

size_t
workers_mem(bool *over)
{
	size_t	sum = 0;
	int	i;

	*over = false;
	if (ws.shm == NULL)
		return 0;
	for (i = 0; i < ws.n; i++) {
		sum += ws.shm->slot[i].mem_queued;
		*over = *over || ws.shm->slot[i].mem_over;
	}
	return sum;
}
