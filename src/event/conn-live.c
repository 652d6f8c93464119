/* conn-live.c - liveness: PingInterval, PingTimeout and IdleTimeout of every open WebSocket, in one sweep a second. */
#include <sys/types.h>

#include <stdio.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "event/conn-int.h"
#include "event/conn-live.h"
#include "event/runtime.h"

/* How often the sweep looks at every connection. */
#define CONN_LIVE_SWEEP_MS	1000

/*
 * One timer for every connection of the process, not one each: an idle
 * WebSocket costs a walk of its struct a second, and the hot path only
 * stamps conn_clock into in_s and out_s.
 */
static struct event	*conn_live_ev;

/* The settings in force for c: its own, else its route's, else global. */
static void
conn_live_values(const struct conn *c, int *interval, int *timeout,
    int *idle)
{
	const struct route	*r = c->route;

	*interval = conn_own(c, CONN_OWN_PING_INTERVAL, r->ping_interval,
	    c->cfg->ping_interval);
	*timeout = conn_own(c, CONN_OWN_PING_TIMEOUT, r->ping_timeout,
	    c->cfg->ping_timeout);
	*idle = conn_own(c, CONN_OWN_IDLE_TIMEOUT, r->idle_timeout,
	    c->cfg->idle_timeout);
}

/*
 * One open WebSocket at the sweep. A ping that waited PingTimeout for its
 * pong drops it (1006: the client is taken to be gone, no closing
 * handshake can end well); no data message either way for IdleTimeout
 * closes it (1001); no data message one way or the other for PingInterval
 * gets it a ping (empty), and another each PingInterval while that lasts.
 * c may be gone after.
 */
static void
conn_live_check(struct conn *c, unsigned long long now_us)
{
	unsigned long long	 since;
	uint32_t		 in, out;
	int			 interval, timeout, idle;
	char			 reason[64];

	/*
	 * Not read now through no fault of the client's (its backend is
	 * behind, the admin paused it, MaxMemory): its pongs and messages
	 * wait unread, so nothing is held against it: a ping's time and its
	 * silence start again. (A client that does not take its data is not
	 * read either, and is held to PingTimeout.)
	 */
	if (c->paused_backend || c->paused_admin || conn_mem_is_over()) {
		if (c->ping_out)
			c->ping_us = now_us;
		c->in_s = c->out_s = conn_clock;
		return;
	}
	conn_live_values(c, &interval, &timeout, &idle);
	if (c->ping_out && timeout > 0 && now_us - c->ping_us >=
	    (unsigned long long)timeout * 1000000) {
		log_info("%s ping timeout: no pong within %d s (PingTimeout)",
		    c->id, timeout);
		snprintf(reason, sizeof(reason), "ping timeout: no pong "
		    "within %d s", timeout);
		conn_drop(c, 1006, "server", reason, false);
		return;
	}
	/*
	 * A stamp is the clock of the last sweep (or accept) before the
	 * message, so clock - stamp is the silence rounded up: more than the
	 * setting means at least that long.
	 */
	in = conn_clock - c->in_s;
	out = conn_clock - c->out_s;
	if (idle > 0 && in > (uint32_t)idle && out > (uint32_t)idle) {
		log_info("%s idle timeout: no message either way for %d s "
		    "(IdleTimeout)", c->id, idle);
		conn_close(c, 1001, "idle timeout");
		return;
	}
	/* Whole seconds since our last ping, rounded: the sweep's grain. */
	since = (now_us - c->ping_us + CONN_LIVE_SWEEP_MS * 500) / 1000000;
	if (interval > 0 && (in > (uint32_t)interval ||
	    out > (uint32_t)interval) && since >= (unsigned long long)interval &&
	    (!c->ping_out || timeout == 0))
		(void)conn_ping(c, NULL, 0);
}

/* The sweep: the clock, then every open WebSocket. */
static void
conn_live_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*c, *next;
	unsigned long long	 now_us = util_now_us();

	conn_clock = (uint32_t)(now_us / 1000000);
	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CONN_OPEN && !c->dead && c->busy == 0)
			conn_live_check(c, now_us);
	}
}

/* Starts the sweep (once; see conn-live.h). */
void
conn_live_start(void)
{
	struct timeval	tv = { CONN_LIVE_SWEEP_MS / 1000, 0 };

	if (conn_live_ev != NULL)
		return;
	if ((conn_live_ev = event_new(runtime_base(), -1, EV_PERSIST,
	    conn_live_sweep_cb, NULL)) == NULL)
		util_oom(event_get_struct_event_size());
	event_add(conn_live_ev, &tv);
}

/* Stops the sweep and frees its event. */
void
conn_live_stop(void)
{
	if (conn_live_ev == NULL)
		return;
	event_free(conn_live_ev);
	conn_live_ev = NULL;
}
