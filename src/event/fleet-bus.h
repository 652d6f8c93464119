/*
 * fleet-bus.h - with Workers, the bus between the master (which holds the
 * node's topics, and its Redis connections in a fleet) and each worker: a
 * socket pair made at the worker's fork (workers.c), carrying the frames
 * of fleet-proto.h. A worker sends its subscriptions (first subscriber of
 * a topic, last one gone) and its publishes up; the master sends down the
 * messages of the topics a worker has subscribers for. Each direction is
 * bounded (FLEET_BUS_MAX queued bytes): past it a message is dropped and
 * counted, never queued without end behind a stuck process.
 */
#ifndef FLEET_BUS_H
#define FLEET_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-session.h"

struct event_base;
struct topics_uplink;

/* Most bytes queued on one bus, in one direction. */
#define FLEET_BUS_MAX	(32 * 1024 * 1024)

/*
 * Worker: talks to the master over fd (taken over). Messages from the
 * master go to topics_deliver; the uplink returned sends this worker's
 * subscriptions and publishes up (install it with topics_init).
 */
const struct topics_uplink *fleet_bus_worker(struct event_base *, int fd);

/* Master: what the workers' frames become. */
struct fleet_bus_ops {
	void	(*sub)(int w, const char *topic, size_t tlen, bool on);
	void	(*pub)(int w, const char *topic, size_t tlen,
		    enum ws_msg_type, const uint8_t *data, size_t len);
	/* Worker w's bus closed (it died, or broke the format). */
	void	(*gone)(int w);
};

/* Master: starts the buses on base with ops. */
void	fleet_bus_master(struct event_base *, const struct fleet_bus_ops *);
/* Master: worker w's end of the bus is fd (taken over; an old one goes). */
void	fleet_bus_attach(int w, int fd);
/*
 * Master: a message for worker w's subscribers of topic. Returns 0, or -1
 * when it is dropped (no bus, or its queue is full).
 */
int	fleet_bus_deliver(int w, const char *topic, size_t tlen,
	    enum ws_msg_type, const uint8_t *data, size_t len);
/* Closes every bus (at exit, or in a new worker the master's copies). */
void	fleet_bus_close_all(void);

#endif
