/*
 * fleet.h - a node's topics and, with [cluster] Redis, the fleet
 * (wsserverd(8), TOPICS and THE FLEET).
 *
 * The hub runs in the process that owns the node: a single process, or
 * the master of workers. It keeps which of the node's processes have
 * subscribers for each topic, delivers every message to them (itself, or
 * over the buses, fleet-bus.h), and in a fleet holds the node's Redis
 * connections (fleet-redis.h): a topic with subscribers here is a Redis
 * channel this node is subscribed to, a publish is a Redis PUBLISH, and
 * commands for ConnectionIds of other nodes go to their channels with
 * the replies coming back on ours. Each node writes its entry (counts)
 * every quarter of NodeTTL, which status and connections --all read.
 *
 * A worker has no hub: its topics go up the bus (fleet_worker_start).
 * The admin socket registers how a request from another node runs
 * (fleet_set_exec); nothing here calls the admin or backend layers.
 */
#ifndef FLEET_H
#define FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-session.h"

struct config;
struct event_base;

/* A single process: the hub, this process's topics on it. */
void	fleet_start(struct event_base *, const struct config *);
/* The master: the hub; the workers' buses (workers_bus_take) on it. */
void	fleet_master_start(struct event_base *, const struct config *);
/* The master: worker i was started again; its new bus. */
void	fleet_worker_up(int i);
/*
 * A worker, right after its fork: drops what it inherited of the master's
 * hub and sends its topics up its bus (fd).
 */
void	fleet_worker_start(struct event_base *, const struct config *, int fd);
/* At exit: Redis, the buses, every table. */
void	fleet_stop(void);

/* This process holds the node's hub. */
bool	fleet_hub(void);
/* [cluster] Redis is set (the hub's view; false in a worker). */
bool	fleet_cluster(void);
/* The node's name in the fleet, "" without one. */
const char *fleet_node(void);
/* "off" (no Redis), "connecting", "connected" (in the fleet) or "down". */
const char *fleet_state(void);

/*
 * Publishes on a topic from the admin socket (checked by the caller as
 * topics_publish checks). Returns 0: sent to the fleet (or, alone, to the
 * node's subscribers); 1: the fleet is down, delivered on this node only
 * and counted as dropped; -1: dropped (RedisMaxPending), counted.
 */
int	fleet_publish(const char *topic, size_t tlen, enum ws_msg_type,
	    const uint8_t *data, size_t len);

/*
 * Where a ConnectionId lives: 0 here (or it is not a fleet id), 1 on
 * another node (node set to its name, FLEET_NODE_MAX + 1 bytes).
 */
int	fleet_id_remote(const char *id, char *node);

/*
 * How a request from another node runs: an admin command line; done is
 * called once with the whole reply (status line, data lines, the empty
 * line), never from within the call. Registered by the admin socket.
 */
typedef void	fleet_done_fn(void *ctx, const char *reply, size_t len);
typedef void	fleet_exec_fn(const char *line, size_t len,
		    fleet_done_fn *done, void *ctx);
void	fleet_set_exec(fleet_exec_fn *);

/*
 * Sends an admin command line to node (this one too) and calls cb once
 * with its reply, or with reply NULL, an error code and why (a sentence)
 * when it failed: WSD_ERR_CONNID when the node is not in the fleet (no
 * one listens on its channel: it is gone), WSD_ERR_UNAVAILABLE when it
 * did not answer within CommandTimeout or Redis was lost. Never from
 * within the call. Returns a handle for fleet_request_cancel, or NULL
 * with *cause (static) when it cannot be sent at all (no fleet, Redis
 * down, too many waiting).
 */
typedef void	fleet_reply_fn(void *arg, const char *reply, size_t len,
		    int err, const char *why);
void	*fleet_request(const char *node, const char *line, size_t len,
	    fleet_reply_fn *cb, void *arg, const char **cause);
/* The caller no longer waits: cb will not be called. */
void	 fleet_request_cancel(void *);

/* A node of the fleet as its last entry says (status, --all). */
struct fleet_node_info {
	const char	*name;
	const char	*info;		/* "key=value ..." as the node wrote it */
	bool		 self;
};
/* Calls fn for each node of the fleet as last read (this one first). */
void	fleet_nodes(void (*fn)(void *, const struct fleet_node_info *),
	    void *arg);

/* The hub's counters since start (stats). */
struct fleet_stats {
	uint64_t	published;	/* publishes accepted from this node */
	uint64_t	dropped;	/* ... that did not reach the fleet */
	uint64_t	received;	/* topic messages from Redis */
	uint64_t	invalid;	/* ... with a bad envelope or text */
	uint64_t	bus_dropped;	/* messages a worker's full bus lost */
	uint64_t	requests;	/* commands sent to other nodes */
	uint64_t	requests_failed;
	uint64_t	served;		/* commands run for other nodes */
	uint64_t	reconnects;	/* Redis connections made again */
	uint64_t	topics;		/* topics with subscribers on the node */
	uint64_t	redis_topics;	/* ... subscribed in Redis */
	uint64_t	pending;	/* bytes waiting for Redis */
};
void	fleet_get_stats(struct fleet_stats *);

#endif
