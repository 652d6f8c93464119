/*
 * clients.h - the per-client table behind MaxConnectionsPerClient and
 * HandshakeRatePerClient: for each client address (an IPv6 one grouped
 * by its prefix) the connections it has open and a token bucket of its
 * new connections, in a fixed-size open-addressing hash in one block of
 * memory. With workers the block is in their shared memory
 * (workers-shm.c) and one process-shared, robust mutex guards it, so the
 * limits hold over all workers; a worker that dies gives its counts back
 * (clients_worker_gone). Bounded: the table holds at most its capacity of
 * addresses; an address with nothing open and a full bucket is forgotten
 * when room is needed. Pure: no I/O, no clock of its own, no log
 * (client-limits.c is the daemon's use of it).
 */
#ifndef CLIENTS_H
#define CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct clients;

/* An address as the table keys it: IPv6, IPv4 as ::ffff:a.b.c.d. */
struct clients_key {
	uint8_t		 b[16];
};

/* The limits a new connection is checked against; 0 turns one off. */
struct clients_limits {
	unsigned int	 max_conns;	/* MaxConnectionsPerClient */
	unsigned int	 rate;		/* HandshakeRatePerClient, per second */
	unsigned int	 burst;		/* HandshakeBurstPerClient (0: rate) */
};

enum clients_verdict {
	CLIENTS_OK,		/* counted: clients_release when it ends */
	CLIENTS_TOO_MANY,	/* at max_conns */
	CLIENTS_TOO_FAST,	/* over rate and burst */
	CLIENTS_FULL,		/* a new address, and no room for it */
};

/* What the caller needs to answer and log a refusal. */
struct clients_refusal {
	/*
	 * Log a line now: at most once a second per address (for
	 * CLIENTS_FULL, once a second in all), standing for count refusals.
	 */
	bool		 log;
	unsigned int	 count;
	unsigned int	 conns;		/* the address's open connections */
	unsigned long	 retry_ms;	/* TOO_FAST: when the next one may come */
};

/*
 * The key of an address: an IPv4 one (or IPv4-mapped IPv6) whole, an IPv6
 * one with only its first v6prefix bits (the rest zero). From a socket
 * address, or from its numeric text (inet_pton). Returns 0, or -1 when it
 * is neither (AF_UNIX...).
 */
int	 clients_key_sa(const struct sockaddr *, int v6prefix,
	    struct clients_key *);
int	 clients_key_str(const char *addr, int v6prefix, struct clients_key *);

/* Bytes a table of capacity addresses takes, for nworkers processes. */
size_t	 clients_size(unsigned int capacity, int nworkers);
/*
 * Makes a table in mem (clients_size bytes, zeroed; shared between
 * processes when they share it), its hash keyed with seed (random: a
 * client must not be able to choose addresses that collide). Returns it,
 * or NULL when the mutex cannot be made.
 */
struct clients	*clients_init(void *mem, unsigned int capacity, int nworkers,
		    uint64_t seed);

/*
 * A new connection from key, in worker w (0 without workers), at now_us
 * (a monotonic clock shared by the processes): checked against lim and,
 * when admitted, counted. CLIENTS_OK, or the reason with *r filled.
 */
enum clients_verdict clients_admit(struct clients *,
	    const struct clients_key *, int w, const struct clients_limits *,
	    unsigned long long now_us, struct clients_refusal *r);
/*
 * A counted connection from key, of worker w, is gone at now_us; an
 * address with nothing left to remember is forgotten at once.
 */
void	 clients_release(struct clients *, const struct clients_key *, int w,
	    unsigned long long now_us);
/* Worker w is gone: its connections leave every count. */
void	 clients_worker_gone(struct clients *, int w);

/* Addresses tracked now, and how many the table can hold. */
unsigned int	 clients_tracked(struct clients *);
unsigned int	 clients_capacity(const struct clients *);

#endif
