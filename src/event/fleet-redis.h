/*
 * fleet-redis.h - a node's two connections to the fleet's Redis, through
 * hiredis and its libevent adapter (no Redis protocol of our own): one for
 * commands (PUBLISH, the node's entry), one subscribed to channels. They
 * are made together, AUTHed (RedisPasswordFile), checked every second
 * (RedisTimeout: a PING, and a message to itself for the subscriber)
 * and, when either fails, dropped together
 * and made again after a back-off that doubles from 100 ms up to
 * RedisReconnectMax. Each change of state is logged once. Used by
 * fleet.c alone.
 */
#ifndef FLEET_REDIS_H
#define FLEET_REDIS_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct event_base;
struct redisReply;

/* What the connections tell fleet.c. */
struct fleet_redis_handlers {
	/* Both are ready; the subscriber holds no channel yet. */
	void	(*up)(void);
	/* Lost (both dropped): every command pending has failed by now. */
	void	(*down)(void);
	/* The subscriber: a message on a channel. */
	void	(*message)(const char *chan, size_t clen, const char *data,
		    size_t len);
	/* The subscriber: a subscription (on) or unsubscription confirmed. */
	void	(*subscribed)(const char *chan, size_t clen, bool on);
};

/* A command's reply; reply NULL: it failed (the connection went). */
typedef void	fleet_redis_cb(void *arg, struct redisReply *reply);

/*
 * Starts connecting to cfg's Redis (its address, AUTH, timeouts; copied)
 * on base, with password for AUTH (NULL or "": none). probe: a channel
 * the caller keeps the subscriber subscribed to; a "P" published there
 * every second shows the subscriber alive (the message reaches the
 * handlers too). Returns 0, or -1 with *cause (malloc'd): a bad address.
 */
int	fleet_redis_start(struct event_base *, const struct config *,
	    const char *password, const char *probe,
	    const struct fleet_redis_handlers *, char **cause);
/* Drops both connections (pending commands fail) and stops. */
void	fleet_redis_stop(void);
/* In a new worker: forgets the master's connections without a word. */
void	fleet_redis_forget(void);
/* Both connections are ready. */
bool	fleet_redis_ready(void);

/*
 * Sends a command on the command connection; cb (may be NULL) gets its
 * reply. Returns 0, or -1 when not ready or when RedisMaxPending bytes
 * wait already (the command is not sent; cb is not called).
 */
int	fleet_redis_cmd(fleet_redis_cb *, void *arg, int argc,
	    const char **argv, const size_t *lens);
/*
 * Subscribes (on) or unsubscribes the subscriber to n channels; the
 * handlers' subscribed op confirms each. Returns 0, or -1 when not ready.
 */
int	fleet_redis_sub(bool on, int n, const char **chans,
	    const size_t *lens);
/* Bytes sent on the command connection and not answered yet. */
size_t	fleet_redis_pending(void);
/* Times the connections were made again after a loss, since start. */
unsigned long long fleet_redis_reconnects(void);

#endif
