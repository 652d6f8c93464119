/*
 * topics.h - the topics this process's WebSockets are subscribed to, and
 * the delivery of a topic's messages to them (wsserverd(8), TOPICS).
 *
 * A table of topics, each with its subscribers; each WebSocket's list of
 * topics hangs on its connection (conn_topics), so a close unsubscribes
 * it. What goes beyond this process goes through an uplink that fleet.c
 * installs: the hub itself in a single process, the bus to the master in
 * a worker. Backends and the admin socket subscribe, unsubscribe and
 * publish here; the uplink delivers with topics_deliver.
 */
#ifndef TOPICS_H
#define TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-session.h"

struct conn;

/* Where subscriptions and publishes go beyond this process. */
struct topics_uplink {
	/* topic has its first subscriber here (on), or lost its last one. */
	void	(*sub)(const char *topic, size_t tlen, bool on);
	/* A publish from here. Returns 0, or -1 when it was dropped. */
	int	(*pub)(const char *topic, size_t tlen, enum ws_msg_type,
		    const uint8_t *data, size_t len);
};

/* Installs the uplink (fleet.c), and registers the connection hook. */
void	topics_init(const struct topics_uplink *);

/*
 * Subscribes a WebSocket to a topic. Returns 0 (also when it is already
 * subscribed), or -1 with *cause (static): an invalid topic name, the
 * connection's MaxSubscriptions or the process's MaxTopics reached.
 */
int	topics_subscribe(struct conn *, const char *topic, size_t tlen,
	    const char **cause);
/* Unsubscribes it. Returns 0, or -1 when it was not subscribed. */
int	topics_unsubscribe(struct conn *, const char *topic, size_t tlen);

/*
 * Publishes a message on a topic, through the uplink. Returns 0, or -1
 * with *cause (static): a bad topic, a message over MaxMessageSize, text
 * that is not UTF-8, or dropped on the way (counted there).
 */
int	topics_publish(const char *topic, size_t tlen, enum ws_msg_type,
	    const uint8_t *data, size_t len, const char **cause);

/*
 * Delivers a message (checked already) to this process's subscribers of
 * topic: whole, at most once, skipping those whose queue is full or who
 * are in the middle of another message. Returns how many got it.
 */
unsigned int	topics_deliver(const char *topic, size_t tlen,
		    enum ws_msg_type, const uint8_t *data, size_t len);

/* Topics with subscribers here, and subscriptions over all of them. */
size_t	topics_count(void);
size_t	topics_subscriptions(void);
/* Calls fn for each topic here with its number of subscribers. */
void	topics_each(void (*fn)(void *, const char *, size_t, unsigned int),
	    void *arg);
/* Calls fn for each topic a connection is subscribed to. */
void	topics_conn_each(const struct conn *,
	    void (*fn)(void *, const char *, size_t), void *arg);

#endif
