/* conn-mem.c - MaxMemory: the bytes queued over all connections, and the crossings of the cap. */
#include <event2/buffer.h>
#include <event2/event.h>

#include "base/log.h"
#include "conf/config.h"
#include "event/conn-int.h"
#include "event/runtime.h"
#include "event/workers-shm.h"

/* Over MaxMemory: how often to look for progress, or a holder to end. */
#define CONN_MEM_TICK_MS	500
/* Bytes queued that a worker's figure in the master's stats may lag by. */
#define CONN_MEM_PUBLISH	(64 * 1024)

/*
 * The bytes queued over all connections (the sum of their mem) and
 * whether that is over the cap. Updated where queues change: after
 * reads, writes and backend output (conn_account).
 */
static size_t				 conn_mem;
static bool				 conn_mem_over;
static size_t				 conn_mem_last;	/* at the last tick */
static struct event			*conn_mem_resume;
static struct event			*conn_mem_timer;
static const struct conn_mem_handlers	*conn_mem_up;

/* Registers what the connections do on a crossing; see conn-int.h. */
void
conn_mem_set_handlers(const struct conn_mem_handlers *h)
{
	conn_mem_up = h;
}

/* Everything queued everywhere after a resume: read again, refill. */
static void
conn_mem_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->dead && c->state == CONN_OPEN)
			conn_mem_up->resume(c);
	}
}

/*
 * Over MaxMemory with no progress: ends the connection that holds the
 * most. One that reads its output gets a close frame (1013); one that does
 * not (its output is what holds the memory, and a close frame would wait
 * behind it) is reset.
 */
static void
conn_mem_evict(void)
{
	struct conn	*c, *big = NULL;

	TAILQ_FOREACH(c, &conns, entry) {
		if (!c->dead && (big == NULL || c->mem > big->mem))
			big = c;
	}
	if (big == NULL || big->mem == 0)
		return;
	if (big->state == CONN_OPEN &&
	    conn_out_len(big) < CONN_OUT_LOW) {
		log_warn("%s closed (1013): it holds %zu of the %zu bytes "
		    "queued, over MaxMemory", big->id, big->mem, conn_mem);
		conn_mem_up->close(big, 1013, "server memory limit reached");
	} else {
		log_warn("%s reset: it holds %zu of the %zu bytes "
		    "queued, over MaxMemory, and does not read", big->id,
		    big->mem, conn_mem);
		conn_mem_up->drop(big, 1013, "server", "server memory limit "
		    "reached", true);
	}
}

/*
 * While over MaxMemory and no queue shrank by a sixteenth in the last half
 * second: the biggest holder is ended.
 */
static void
conn_mem_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { 0, CONN_MEM_TICK_MS * 1000 };

	if (!conn_mem_over)
		return;
	if (conn_mem + conn_mem_last / 16 < conn_mem_last) {
		conn_mem_last = conn_mem;
		evtimer_add(conn_mem_timer, &tv);
		return;
	}
	conn_mem_evict();
	conn_mem_last = conn_mem;
	if (conn_mem_over)
		evtimer_add(conn_mem_timer, &tv);
}

/*
 * Crosses the MaxMemory marks after conn_mem changed: over the cap, new
 * connections are refused and reads stop (conn_mem_timer_cb ends the
 * biggest holder if that does not help); at three quarters they resume.
 */
static void
conn_mem_check(void)
{
	static size_t	published;
	static bool	published_over;
	static size_t	nworkers;
	size_t		cap = (size_t)runtime_config()->max_memory << 20;
	struct timeval	tv = { 0, CONN_MEM_TICK_MS * 1000 };

	/* With workers each one has its share of MaxMemory. */
	if (nworkers == 0)
		nworkers = (size_t)workers_count();
	if (nworkers > 1)
		cap /= nworkers;
	if (!conn_mem_over && cap > 0 && conn_mem > cap) {
		conn_mem_over = true;
		conn_mem_last = conn_mem;
		log_warn("%zu bytes queued, over MaxMemory (%zu MiB): new "
		    "connections refused, reading paused", conn_mem, cap >> 20);
		if (conn_mem_timer == NULL)
			conn_mem_timer = evtimer_new(runtime_base(),
			    conn_mem_timer_cb, NULL);
		if (conn_mem_timer != NULL)
			evtimer_add(conn_mem_timer, &tv);
	} else if (conn_mem_over && (cap == 0 || conn_mem <= cap - cap / 4)) {
		conn_mem_over = false;
		log_info("%zu bytes queued, under three quarters of MaxMemory "
		    "again: resuming", conn_mem);
		if (conn_mem_timer != NULL)
			evtimer_del(conn_mem_timer);
		if (conn_mem_resume == NULL)
			conn_mem_resume = evtimer_new(runtime_base(),
			    conn_mem_resume_cb, NULL);
		if (conn_mem_resume != NULL)
			event_active(conn_mem_resume, EV_TIMEOUT, 0);
	}
	/* For the master's stats: a change of 64 KiB, or a crossing. */
	if (nworkers > 1 && (conn_mem - published + CONN_MEM_PUBLISH >
	    2 * CONN_MEM_PUBLISH || published_over != conn_mem_over)) {
		published = conn_mem;
		published_over = conn_mem_over;
		workers_set_mem(conn_mem, conn_mem_over);
	}
}

/*
 * Recounts what c has queued (input, output, held backend pieces, the
 * message being assembled) into conn_mem.
 */
void
conn_account(struct conn *c)
{
	size_t	now, pending;

	now = evbuffer_get_length(c->in) + conn_out_len(c) +
	    conn_held_len(c) +
	    (c->ws != NULL ? ws_session_buffered(c->ws, &pending) : 0);
	conn_mem = conn_mem - c->mem + now;
	c->mem = now;
	conn_mem_check();
}

/* c is gone: what it held leaves the count. */
void
conn_mem_forget(struct conn *c)
{
	conn_mem -= c->mem;
	c->mem = 0;
	conn_mem_check();
}

/* Over MaxMemory now. */
bool
conn_mem_is_over(void)
{
	return conn_mem_over;
}

/* Bytes queued over all connections. */
size_t
conn_mem_total(void)
{
	return conn_mem;
}
