/* fleet-redis.c - the node's two Redis connections (hiredis, libevent adapter): made, AUTHed, pinged, dropped and made again together. */
#include <sys/types.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "event/fleet-redis.h"

/* The first delay before a reconnect; it doubles up to RedisReconnectMax. */
#define FR_BACKOFF_MIN	100
/* How often each connection is pinged. */
#define FR_PING_MS	1000

/* One of the two connections. */
struct fr_conn {
	const char		*name;		/* "command", "subscriber" */
	redisAsyncContext	*ac;		/* NULL: none */
	bool			 ready;		/* connected, AUTH and PING done */
	unsigned long long	 ping_sent;	/* 0: none outstanding */
};

/* A command waiting for its reply. */
struct fr_cmd {
	fleet_redis_cb		*cb;
	void			*arg;
	size_t			 bytes;
};

static struct {
	struct event_base	*base;
	const struct fleet_redis_handlers *h;
	struct config_redis	 addr;
	char			 where[300];
	char			*user;
	char			*password;
	int			 timeout;	/* RedisTimeout, ms */
	int			 backoff_max;
	size_t			 max_pending;	/* RedisMaxPending */
	unsigned int		 backoff;
	struct fr_conn		 cmd, sub;
	struct event		*retry;		/* reconnect after the back-off */
	struct event		*fail_ev;	/* a failure, handled out of hiredis */
	struct event		*tick;		/* pings, connect deadline */
	unsigned long long	 started;	/* this attempt's start */
	char			 why[256];	/* the failure to handle */
	char			 probe[256];	/* the subscriber's ping channel */
	bool			 on;
	bool			 up;		/* both ready, handlers told */
	bool			 freeing;	/* our own redisAsyncFree runs */
	bool			 failing;	/* a failure is pending */
	bool			 lost_logged;	/* the loss was said; quiet now */
	bool			 ever_up;
	size_t			 pending;	/* command bytes unanswered */
	unsigned long long	 reconnects;
} fr;

static void	fr_connect(void);
static void	fr_sub_cb(redisAsyncContext *, void *, void *);

/* The connection an async context is, from its data pointer. */
static struct fr_conn *
fr_of(const redisAsyncContext *ac)
{
	return ac->data;
}

/*
 * A failure: handled from the loop (fail_ev), never inside hiredis's
 * callbacks, whose context may be on the stack. The first reason wins.
 */
static void
fr_fail(const char *fmt, ...)
{
	va_list	 ap;

	if (!fr.on || fr.failing)
		return;
	fr.failing = true;
	va_start(ap, fmt);
	vsnprintf(fr.why, sizeof(fr.why), fmt, ap);
	va_end(ap);
	event_active(fr.fail_ev, EV_TIMEOUT, 0);
}

/* Frees both contexts (their pending callbacks get NULL replies). */
static void
fr_drop(void)
{
	redisAsyncContext	*ac;

	fr.freeing = true;
	if ((ac = fr.cmd.ac) != NULL) {
		fr.cmd.ac = NULL;
		redisAsyncFree(ac);
	}
	if ((ac = fr.sub.ac) != NULL) {
		fr.sub.ac = NULL;
		redisAsyncFree(ac);
	}
	fr.freeing = false;
	fr.cmd.ready = fr.sub.ready = false;
	fr.cmd.ping_sent = fr.sub.ping_sent = 0;
}

/* Schedules the next attempt after the back-off, which then doubles. */
static void
fr_schedule(void)
{
	struct timeval	tv;

	tv.tv_sec = fr.backoff / 1000;
	tv.tv_usec = (fr.backoff % 1000) * 1000;
	evtimer_add(fr.retry, &tv);
	fr.backoff = fr.backoff * 2 > (unsigned int)fr.backoff_max ?
	    (unsigned int)fr.backoff_max : fr.backoff * 2;
}

/* fail_ev: drops both, tells fleet.c, logs once, and tries again later. */
static void
fr_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	bool	was_up = fr.up;

	(void)fd;
	(void)what;
	(void)arg;
	fr.failing = false;
	fr_drop();
	fr.up = false;
	if (was_up) {
		log_warn("fleet: lost Redis at %s (%s): this node serves alone, "
		    "its publishes are counted as dropped; reconnecting",
		    fr.where, fr.why);
		fr.lost_logged = true;
		fr.backoff = FR_BACKOFF_MIN;
		fr.h->down();
	} else if (!fr.lost_logged) {
		log_warn("fleet: cannot reach Redis at %s (%s): this node serves "
		    "alone until it can; retrying (back-off up to %d ms)",
		    fr.where, fr.why, fr.backoff_max);
		fr.lost_logged = true;
	} else
		log_verbose("fleet: Redis at %s still unreachable (%s); next "
		    "try in %u ms", fr.where, fr.why, fr.backoff);
	fr_schedule();
}

/* Both connections are ready: the fleet is reachable again. */
static void
fr_check_up(void)
{
	if (fr.up || !fr.cmd.ready || !fr.sub.ready)
		return;
	fr.up = true;
	fr.backoff = FR_BACKOFF_MIN;
	if (fr.ever_up)
		fr.reconnects++;
	fr.ever_up = true;
	fr.lost_logged = false;
	log_info("fleet: connected to Redis at %s", fr.where);
	fr.h->up();
}

/* The first PING of a connection was answered: it is ready. */
static void
fr_ready_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct fr_conn	*c = priv;
	redisReply	*reply = r;

	if (fr.freeing || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		fr_fail("%s connection: %.120s", c->name, reply->str);
		return;
	}
	c->ready = true;
	fr_check_up();
}

/* AUTH or SELECT answered: an error there is this attempt's end. */
static void
fr_setup_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct fr_conn	*c = priv;
	redisReply	*reply = r;

	if (fr.freeing || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR)
		fr_fail("%s connection: Redis refused the setup: %.120s",
		    c->name, reply->str);
}

/* The TCP (or UNIX) connect ended. */
static void
fr_connect_cb(const redisAsyncContext *ac, int status)
{
	struct fr_conn	*c = fr_of(ac);

	if (status == REDIS_OK || fr.freeing)
		return;
	/* hiredis frees the context after this. */
	c->ac = NULL;
	fr_fail("%s connection: %s", c->name, ac->errstr != NULL ?
	    ac->errstr : "connect failed");
}

/* The connection ended: by Redis, an I/O error, or our free. */
static void
fr_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct fr_conn	*c = fr_of(ac);

	if (fr.freeing)
		return;
	c->ac = NULL;
	if (c == &fr.sub && ac->err == REDIS_ERR_EOF)
		fr_fail("Redis closed the subscriber connection; it does that "
		    "to a subscriber that reads too slowly "
		    "(client-output-buffer-limit pubsub)");
	else
		fr_fail("%s connection: %s", c->name, ac->err != 0 &&
		    ac->errstr != NULL ? ac->errstr : "closed");
}

/* Queues AUTH (RedisUser, RedisPasswordFile) and SELECT on a connection. */
static void
fr_setup(struct fr_conn *c, bool select)
{
	char	db[16];

	if (fr.password != NULL && *fr.user != '\0')
		redisAsyncCommand(c->ac, fr_setup_cb, c, "AUTH %s %s", fr.user,
		    fr.password);
	else if (fr.password != NULL)
		redisAsyncCommand(c->ac, fr_setup_cb, c, "AUTH %s",
		    fr.password);
	if (select && fr.addr.db != 0) {
		snprintf(db, sizeof(db), "%d", fr.addr.db);
		redisAsyncCommand(c->ac, fr_setup_cb, c, "SELECT %s", db);
	}
	redisAsyncCommand(c->ac, fr_ready_cb, c, "PING");
}

/* Opens one connection; -1 when hiredis could not even start it. */
static int
fr_open(struct fr_conn *c)
{
	redisAsyncContext	*ac;

	if (*fr.addr.path != '\0')
		ac = redisAsyncConnectUnix(fr.addr.path);
	else
		ac = redisAsyncConnect(fr.addr.host, fr.addr.port);
	if (ac == NULL) {
		fr_fail("%s connection: out of memory", c->name);
		return -1;
	}
	if (ac->err != 0) {
		fr_fail("%s connection: %s", c->name, ac->errstr);
		redisAsyncFree(ac);
		return -1;
	}
	ac->data = c;
	c->ac = ac;
	redisLibeventAttach(ac, fr.base);
	redisAsyncSetConnectCallback(ac, fr_connect_cb);
	redisAsyncSetDisconnectCallback(ac, fr_disconnect_cb);
	fr_setup(c, c == &fr.cmd);
	return 0;
}

/* One attempt: both connections, due ready within RedisTimeout. */
static void
fr_connect(void)
{
	fr.started = util_now_ms();
	if (fr_open(&fr.cmd) == -1 || fr_open(&fr.sub) == -1)
		return;
}

/* The back-off is over. */
static void
fr_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (fr.on && fr.cmd.ac == NULL && fr.sub.ac == NULL && !fr.failing)
		fr_connect();
}

/* A PING's answer on the command connection. */
static void
fr_pong_cb(redisAsyncContext *ac, void *r, void *priv)
{
	if (fr.freeing || r == NULL)
		return;
	fr.cmd.ping_sent = 0;
}

/*
 * Pings one ready connection, or fails it when its last ping is late.
 * The command connection sends PING. The subscriber cannot: hiredis 0.14
 * keeps the callback of a command sent in subscribed mode for a reply
 * that is not an array, and a subscriber's PONG is one, so the callback
 * would never run and would pile up. Its ping is a PUBLISH of "P" on the
 * probe channel (the node's own, which it is subscribed to), sent on the
 * command connection: the message coming back shows the subscriber alive.
 */
static void
fr_ping(struct fr_conn *c, unsigned long long now)
{
	const char	*argv[3];
	size_t		 lens[3];

	if (c->ac == NULL || !c->ready)
		return;
	if (c->ping_sent != 0) {
		if (now - c->ping_sent > (unsigned long long)fr.timeout)
			fr_fail("%s connection: no answer for %d ms", c->name,
			    fr.timeout);
		return;
	}
	c->ping_sent = now;
	if (c == &fr.cmd) {
		redisAsyncCommand(c->ac, fr_pong_cb, c, "PING");
		return;
	}
	if (fr.cmd.ac == NULL || *fr.probe == '\0')
		return;
	argv[0] = "PUBLISH";
	lens[0] = 7;
	argv[1] = fr.probe;
	lens[1] = strlen(fr.probe);
	argv[2] = "P";
	lens[2] = 1;
	redisAsyncCommandArgv(fr.cmd.ac, NULL, NULL, 3, argv, lens);
}

/* Every second: an attempt past RedisTimeout fails; the ready are pinged. */
static void
fr_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	unsigned long long	now = util_now_ms();

	(void)fd;
	(void)what;
	(void)arg;
	if (!fr.on || fr.failing)
		return;
	if (!fr.up && (fr.cmd.ac != NULL || fr.sub.ac != NULL) &&
	    now - fr.started > (unsigned long long)fr.timeout) {
		fr_fail("no connection within %d ms", fr.timeout);
		return;
	}
	fr_ping(&fr.cmd, now);
	fr_ping(&fr.sub, now);
}

/*
 * Every reply of the subscriber: messages, (un)subscribe confirmations
 * and the answers to its PINGs. hiredis may hand any of them to any of
 * the callbacks it holds for that connection (a PING's included), so one
 * function takes them all, by their shape. Any reply shows the
 * connection alive.
 */
static void
fr_sub_cb(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply	*reply = r, **e;
	const char	*kind;

	if (fr.freeing || reply == NULL)
		return;
	fr.sub.ping_sent = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	e = reply->element;
	kind = e[0]->str;
	if (strcasecmp(kind, "message") == 0 && reply->elements == 3 &&
	    e[1]->type == REDIS_REPLY_STRING &&
	    e[2]->type == REDIS_REPLY_STRING)
		fr.h->message(e[1]->str, e[1]->len, e[2]->str, e[2]->len);
	else if ((strcasecmp(kind, "subscribe") == 0 ||
	    strcasecmp(kind, "unsubscribe") == 0) &&
	    e[1]->type == REDIS_REPLY_STRING)
		fr.h->subscribed(e[1]->str, e[1]->len,
		    tolower((unsigned char)kind[0]) == 's');
}

/* Starts connecting; see fleet-redis.h. */
int
fleet_redis_start(struct event_base *base, const struct config *cfg,
    const char *password, const char *probe,
    const struct fleet_redis_handlers *h, char **cause)
{
	struct timeval	tv;

	if (config_parse_redis(cfg->cluster_redis, &fr.addr) == -1) {
		xasprintf(cause, "bad Redis address \"%.200s\"",
		    cfg->cluster_redis);
		return -1;
	}
	fr.base = base;
	fr.h = h;
	snprintf(fr.where, sizeof(fr.where), "%s", cfg->cluster_redis);
	snprintf(fr.probe, sizeof(fr.probe), "%s", probe);
	fr.user = xstrdup(cfg->cluster_user);
	fr.password = password != NULL && *password != '\0' ?
	    xstrdup(password) : NULL;
	fr.timeout = cfg->cluster_timeout;
	fr.backoff_max = cfg->cluster_reconnect_max;
	fr.max_pending = (size_t)cfg->cluster_max_pending;
	fr.backoff = FR_BACKOFF_MIN;
	fr.retry = evtimer_new(base, fr_retry_cb, NULL);
	fr.fail_ev = event_new(base, -1, 0, fr_fail_cb, NULL);
	fr.tick = event_new(base, -1, EV_PERSIST, fr_tick_cb, NULL);
	if (fr.retry == NULL || fr.fail_ev == NULL || fr.tick == NULL)
		util_oom(sizeof(void *));
	fr.cmd.name = "command";
	fr.sub.name = "subscriber";
	fr.on = true;
	tv.tv_sec = FR_PING_MS / 1000;
	tv.tv_usec = (FR_PING_MS % 1000) * 1000;
	evtimer_add(fr.tick, &tv);
	log_info("fleet: connecting to Redis at %s", fr.where);
	fr_connect();
	return 0;
}

/* Frees what start made, without touching the connections. */
static void
fr_free_state(void)
{
	if (fr.retry != NULL)
		event_free(fr.retry);
	if (fr.fail_ev != NULL)
		event_free(fr.fail_ev);
	if (fr.tick != NULL)
		event_free(fr.tick);
	free(fr.user);
	if (fr.password != NULL)
		explicit_bzero(fr.password, strlen(fr.password));
	free(fr.password);
	memset(&fr, 0, sizeof(fr));
}

/* Drops both connections and stops; see fleet-redis.h. */
void
fleet_redis_stop(void)
{
	if (!fr.on)
		return;
	fr.on = false;
	fr_drop();
	fr_free_state();
}

/*
 * In a new worker: the master's contexts are freed here; hiredis sends
 * nothing when it frees one, so only this process's copies of the
 * sockets close and the master's connections stay as they are.
 */
void
fleet_redis_forget(void)
{
	fleet_redis_stop();
}

/* Both connections ready. */
bool
fleet_redis_ready(void)
{
	return fr.on && fr.up;
}

/* Command bytes unanswered. */
size_t
fleet_redis_pending(void)
{
	return fr.pending;
}

/* Reconnections after a loss, since start. */
unsigned long long
fleet_redis_reconnects(void)
{
	return fr.reconnects;
}

/* A command's reply: the pending count, then the caller's callback. */
static void
fr_cmd_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct fr_cmd	*k = priv;

	fr.pending -= k->bytes;
	if (k->cb != NULL)
		k->cb(k->arg, r);
	free(k);
}

/* Sends a command; see fleet-redis.h. */
int
fleet_redis_cmd(fleet_redis_cb *cb, void *arg, int argc, const char **argv,
    const size_t *lens)
{
	struct fr_cmd	*k;
	size_t		 n = 0;
	int		 i;

	if (!fleet_redis_ready() || fr.cmd.ac == NULL)
		return -1;
	for (i = 0; i < argc; i++)
		n += lens[i] + 16;
	if (fr.pending + n > fr.max_pending)
		return -1;
	k = xcalloc(1, sizeof(*k));
	k->cb = cb;
	k->arg = arg;
	k->bytes = n;
	if (redisAsyncCommandArgv(fr.cmd.ac, fr_cmd_cb, k, argc, argv,
	    lens) != REDIS_OK) {
		free(k);
		return -1;
	}
	fr.pending += n;
	return 0;
}

/* Subscribes or unsubscribes channels; see fleet-redis.h. */
int
fleet_redis_sub(bool on, int n, const char **chans, const size_t *lens)
{
	const char	**argv;
	size_t		 *alen;
	int		  i, rc;

	if (!fr.on || fr.sub.ac == NULL || !fr.sub.ready || n == 0)
		return -1;
	argv = xcalloc((size_t)n + 1, sizeof(*argv));
	alen = xcalloc((size_t)n + 1, sizeof(*alen));
	argv[0] = on ? "SUBSCRIBE" : "UNSUBSCRIBE";
	alen[0] = strlen(argv[0]);
	for (i = 0; i < n; i++) {
		argv[i + 1] = chans[i];
		alen[i + 1] = lens[i];
	}
	rc = redisAsyncCommandArgv(fr.sub.ac, fr_sub_cb, &fr.sub, n + 1, argv,
	    alen) == REDIS_OK ? 0 : -1;
	free(argv);
	free(alen);
	return rc;
}
