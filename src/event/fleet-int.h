/*
 * fleet-int.h - what the hub (fleet.c) and the commands between nodes
 * (fleet-node.c) share; nobody else includes it. fleet-node.c comes
 * first: fleet.c calls it, and it reads the state fleet.c keeps here.
 */
#ifndef FLEET_INT_H
#define FLEET_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/fleet-proto.h"
#include "event/fleet.h"

struct event_base;

/* Longest Redis channel or key of ours. */
#define FL_CHAN_MAX	(64 + 6 + FLEET_TOPIC_MAX + 8)

/* The hub's settings and state (fleet.c sets them). */
struct fleet_hubstate {
	struct event_base	*base;
	bool			 hub;		/* single process or master */
	bool			 master;
	bool			 cluster;	/* Redis set */
	bool			 in_fleet;	/* node channel subscribed */
	bool			 ever_in;
	char			 node[FLEET_NODE_MAX + 1];
	char			 prefix[65];
	char			 nodechan[FL_CHAN_MAX];
	size_t			 nodechan_len;
	int			 ttl;		/* NodeTTL */
	int			 command_timeout;
	size_t			 ntopics;	/* the node's topics */
	fleet_exec_fn		*exec;
	struct fleet_stats	 st;
};
extern struct fleet_hubstate	fh;

/* fleet-node.c: a message on the node's channel (a request, a reply). */
void	fleet_node_message(const char *p, size_t len);
/* The node's entry written and the list read again (every NodeTTL/4). */
void	fleet_node_beat(void);
/* Redis lost: requests to other nodes fail, the list is forgotten. */
void	fleet_node_down(void);
/* Every request ends (a stop, new settings). */
void	fleet_node_stop(void);
/* In a new worker: the master's requests go without their callbacks. */
void	fleet_node_forget(void);

#endif
