/* clients.c - the per-client table: open connections and a token bucket per client address, shared by the workers. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "event/clients.h"

/* Microseconds per second; refusals of one address log once per this. */
#define CLIENTS_SECOND		1000000ULL
/* A full table forgets idle addresses at most this often, microseconds. */
#define CLIENTS_SWEEP_US	100000ULL

/*
 * One address. Laid out in slots of t->stride bytes: the struct, then a
 * count per worker (so that a dead worker's connections can leave).
 */
struct clients_entry {
	struct clients_key	 key;
	uint32_t		 used;
	uint32_t		 conns;		/* open, over all workers */
	uint64_t		 tat;		/* GCRA: theoretical arrival, us */
	uint64_t		 logged;	/* last refusal line, us; 0: none */
	uint32_t		 unlogged;	/* refusals since */
	uint16_t		 wconns[];	/* per worker */
};

struct clients {
	pthread_mutex_t		 lock;		/* process-shared, robust */
	uint64_t		 seed;		/* of the hash: not guessable */
	uint64_t		 full_logged;	/* last CLIENTS_FULL line, us */
	uint64_t		 swept;		/* last sweep, us */
	uint32_t		 full_unlogged;
	uint32_t		 nslots;	/* a power of two */
	uint32_t		 capacity;	/* at most this many used */
	uint32_t		 used;
	uint32_t		 nworkers;
	uint32_t		 stride;
	unsigned char		 slots[] __attribute__((aligned(8)));
};

/* The slots for a capacity: a power of two, the table at most 3/4 full. */
static uint32_t
clients_nslots(unsigned int capacity)
{
	uint64_t	want = (uint64_t)capacity * 4 / 3 + 1, n = 8;

	while (n < want)
		n *= 2;
	return (uint32_t)n;
}

/* The bytes of one slot for nworkers. */
static uint32_t
clients_stride(int nworkers)
{
	size_t	n = offsetof(struct clients_entry, wconns) +
	    (size_t)nworkers * sizeof(uint16_t);

	return (uint32_t)((n + 7) & ~(size_t)7);
}

size_t
clients_size(unsigned int capacity, int nworkers)
{
	if (nworkers < 1)
		nworkers = 1;
	return sizeof(struct clients) + (size_t)clients_nslots(capacity) *
	    clients_stride(nworkers);
}

struct clients *
clients_init(void *mem, unsigned int capacity, int nworkers, uint64_t seed)
{
	struct clients		*t = mem;
	pthread_mutexattr_t	 attr;
	int			 r;

	if (nworkers < 1)
		nworkers = 1;
	t->seed = seed;
	t->nslots = clients_nslots(capacity);
	t->capacity = capacity;
	t->nworkers = (uint32_t)nworkers;
	t->stride = clients_stride(nworkers);
	if (pthread_mutexattr_init(&attr) != 0)
		return NULL;
	r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (r == 0)
		r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (r == 0)
		r = pthread_mutex_init(&t->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return r == 0 ? t : NULL;
}

/*
 * Takes the lock. A worker that died holding it (SIGKILL) leaves it to
 * the next one: the counts it was changing may be off by one, which the
 * dead worker's clients_worker_gone mends as far as they were its own.
 */
static void
clients_lock(struct clients *t)
{
	if (pthread_mutex_lock(&t->lock) == EOWNERDEAD)
		(void)pthread_mutex_consistent(&t->lock);
}

static void
clients_unlock(struct clients *t)
{
	(void)pthread_mutex_unlock(&t->lock);
}

/* The entry in slot i. */
static struct clients_entry *
clients_slot(struct clients *t, uint32_t i)
{
	return (struct clients_entry *)(void *)(t->slots +
	    (size_t)i * t->stride);
}

/* A keyed mix of the address (the seed keeps collisions unplannable). */
static uint32_t
clients_home(const struct clients *t, const struct clients_key *k)
{
	uint64_t	a, b;

	memcpy(&a, k->b, 8);
	memcpy(&b, k->b + 8, 8);
	a ^= t->seed;
	b ^= (t->seed << 29) | (t->seed >> 35);
	a = (a ^ (a >> 33)) * 0xff51afd7ed558ccdULL;
	a ^= b;
	a = (a ^ (a >> 29)) * 0xc4ceb9fe1a85ec53ULL;
	a ^= a >> 32;
	return (uint32_t)a & (t->nslots - 1);
}

/*
 * The entry of k, or NULL with *empty set to the slot where it would go
 * (linear probing: the first free slot from its home).
 */
static struct clients_entry *
clients_find(struct clients *t, const struct clients_key *k, uint32_t *empty)
{
	struct clients_entry	*e;
	uint32_t		 i, n;

	i = clients_home(t, k);
	for (n = 0; n < t->nslots; n++, i = (i + 1) & (t->nslots - 1)) {
		e = clients_slot(t, i);
		if (!e->used) {
			*empty = i;
			return NULL;
		}
		if (memcmp(e->key.b, k->b, sizeof(k->b)) == 0)
			return e;
	}
	/* Not reached: the table is never more than 3/4 full. */
	*empty = 0;
	return NULL;
}

/* Nothing to remember: no connection open, the bucket full again. */
static bool
clients_idle(const struct clients_entry *e, unsigned long long now)
{
	return e->conns == 0 && e->tat <= now;
}

/*
 * Frees slot i, moving back the entries after it whose home lies at or
 * before it (linear probing keeps every entry reachable from its home).
 */
static void
clients_delete(struct clients *t, uint32_t i)
{
	struct clients_entry	*e;
	uint32_t		 j = i, home, mask = t->nslots - 1;

	for (;;) {
		j = (j + 1) & mask;
		e = clients_slot(t, j);
		if (!e->used)
			break;
		home = clients_home(t, &e->key);
		/* Stays when its home is cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		memcpy(clients_slot(t, i), e, t->stride);
		i = j;
	}
	memset(clients_slot(t, i), 0, t->stride);
	t->used--;
}

/* Forgets every idle address. */
static void
clients_sweep(struct clients *t, unsigned long long now)
{
	struct clients_entry	*e;
	uint32_t		 i;

	for (i = 0; i < t->nslots; i++) {
		/* A deletion may move another entry here: look again. */
		while ((e = clients_slot(t, i))->used && clients_idle(e, now))
			clients_delete(t, i);
	}
	t->swept = now;
}

/* Counts a refusal of e (NULL: the table is full) for the log's sake. */
static void
clients_refused(struct clients *t, struct clients_entry *e,
    unsigned long long now, struct clients_refusal *r)
{
	uint64_t	*logged = e != NULL ? &e->logged : &t->full_logged;
	uint32_t	*unlogged = e != NULL ? &e->unlogged : &t->full_unlogged;

	(*unlogged)++;
	r->conns = e != NULL ? e->conns : 0;
	if (*logged == 0 || now - *logged >= CLIENTS_SECOND) {
		r->log = true;
		r->count = *unlogged;
		*unlogged = 0;
		*logged = now;
	}
}

enum clients_verdict
clients_admit(struct clients *t, const struct clients_key *k, int w,
    const struct clients_limits *lim, unsigned long long now,
    struct clients_refusal *r)
{
	struct clients_entry	*e;
	enum clients_verdict	 v = CLIENTS_OK;
	unsigned long long	 period, tau, tat, burst;
	uint32_t		 slot;

	memset(r, 0, sizeof(*r));
	clients_lock(t);
	if ((e = clients_find(t, k, &slot)) == NULL) {
		if (t->used >= t->capacity &&
		    now - t->swept >= CLIENTS_SWEEP_US) {
			clients_sweep(t, now);
			(void)clients_find(t, k, &slot);
		}
		if (t->used >= t->capacity) {
			clients_refused(t, NULL, now, r);
			clients_unlock(t);
			return CLIENTS_FULL;
		}
		e = clients_slot(t, slot);
		memset(e, 0, t->stride);
		e->key = *k;
		e->used = 1;
		t->used++;
	}
	if (lim->max_conns > 0 && e->conns >= lim->max_conns)
		v = CLIENTS_TOO_MANY;
	else if (lim->rate > 0) {
		/*
		 * GCRA, the token bucket as one time: a connection is due
		 * every period; a burst of them may come that much early.
		 */
		period = CLIENTS_SECOND / lim->rate;
		if (period == 0)
			period = 1;
		burst = lim->burst > 0 ? lim->burst : lim->rate;
		tau = (burst - 1) * period;
		tat = e->tat > now ? e->tat : now;
		if (tat - now > tau) {
			v = CLIENTS_TOO_FAST;
			r->retry_ms = (unsigned long)((tat - now - tau + 999) /
			    1000);
		} else
			e->tat = tat + period;
	}
	if (v != CLIENTS_OK)
		clients_refused(t, e, now, r);
	else {
		e->conns++;
		if (w >= 0 && (uint32_t)w < t->nworkers)
			e->wconns[w]++;
	}
	clients_unlock(t);
	return v;
}

void
clients_release(struct clients *t, const struct clients_key *k, int w,
    unsigned long long now)
{
	struct clients_entry	*e;
	uint32_t		 slot;

	clients_lock(t);
	if ((e = clients_find(t, k, &slot)) != NULL) {
		if (e->conns > 0)
			e->conns--;
		if (w >= 0 && (uint32_t)w < t->nworkers && e->wconns[w] > 0)
			e->wconns[w]--;
		/* Without a rate to remember, the address goes at once. */
		if (clients_idle(e, now))
			clients_delete(t, (uint32_t)(((unsigned char *)e -
			    t->slots) / t->stride));
	}
	clients_unlock(t);
}

void
clients_worker_gone(struct clients *t, int w)
{
	struct clients_entry	*e;
	uint32_t		 i;

	if (w < 0 || (uint32_t)w >= t->nworkers)
		return;
	clients_lock(t);
	for (i = 0; i < t->nslots; i++) {
		e = clients_slot(t, i);
		if (!e->used)
			continue;
		e->conns -= e->wconns[w] < e->conns ? e->wconns[w] : e->conns;
		e->wconns[w] = 0;
	}
	clients_unlock(t);
}

unsigned int
clients_tracked(struct clients *t)
{
	unsigned int	n;

	clients_lock(t);
	n = t->used;
	clients_unlock(t);
	return n;
}

unsigned int
clients_capacity(const struct clients *t)
{
	return t->capacity;
}

/* Keeps the first bits of a 16-byte address, zeroes the rest. */
static void
clients_mask(uint8_t *b, int bits)
{
	int	i;

	if (bits < 0)
		bits = 0;
	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			b[i] &= (uint8_t)(0xff << (8 - bits));
			bits = 0;
		}
	}
}

/* An IPv4 address (network order) as ::ffff:a.b.c.d. */
static void
clients_key_v4(const void *a4, struct clients_key *k)
{
	memset(k->b, 0, 10);
	k->b[10] = k->b[11] = 0xff;
	memcpy(k->b + 12, a4, 4);
}

/* An IPv6 address: an IPv4-mapped one whole, others by their prefix. */
static void
clients_key_v6(const struct in6_addr *a6, int v6prefix,
    struct clients_key *k)
{
	memcpy(k->b, a6, 16);
	if (!IN6_IS_ADDR_V4MAPPED(a6))
		clients_mask(k->b, v6prefix);
}

int
clients_key_sa(const struct sockaddr *sa, int v6prefix,
    struct clients_key *k)
{
	if (sa->sa_family == AF_INET) {
		clients_key_v4(&((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, k);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		clients_key_v6(&((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, v6prefix, k);
		return 0;
	}
	return -1;
}

int
clients_key_str(const char *addr, int v6prefix, struct clients_key *k)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (inet_pton(AF_INET, addr, &a4) == 1) {
		clients_key_v4(&a4, k);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		clients_key_v6(&a6, v6prefix, k);
		return 0;
	}
	return -1;
}
