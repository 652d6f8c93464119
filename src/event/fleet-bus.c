/* fleet-bus.c - the bus between the master and each worker: subscriptions and publishes up, topic messages down. */
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/log.h"
#include "base/util.h"
#include "core/fleet-proto.h"
#include "event/fleet-bus.h"
#include "event/runtime.h"
#include "event/topics.h"
#include "event/workers-shm.h"

/* One end of a bus: the worker's (w = -1), or the master's for worker w. */
struct fleet_bus {
	struct bufferevent	*bev;
	int			 w;
	bool			 full;		/* over FLEET_BUS_MAX, logged */
};

static struct {
	struct event_base		*base;
	const struct fleet_bus_ops	*ops;
	struct fleet_bus		*worker[WORKERS_MAX];	/* master */
	struct fleet_bus		*up;			/* worker */
} fb;

static void	fleet_bus_read_cb(struct bufferevent *, void *);
static void	fleet_bus_event_cb(struct bufferevent *, short, void *);

/* A bus end on fd. */
static struct fleet_bus *
fleet_bus_new(int fd, int w)
{
	struct fleet_bus	*b;

	b = xcalloc(1, sizeof(*b));
	b->w = w;
	evutil_make_socket_nonblocking(fd);
	if ((b->bev = bufferevent_socket_new(fb.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		util_oom(sizeof(void *));
	bufferevent_setcb(b->bev, fleet_bus_read_cb, NULL,
	    fleet_bus_event_cb, b);
	/* A whole frame must fit: it is parsed in one piece. */
	bufferevent_setwatermark(b->bev, EV_READ, 0,
	    FLEET_MSG_MAX + FLEET_FRAME_HEAD + FLEET_TOPIC_MAX + 4);
	bufferevent_enable(b->bev, EV_READ | EV_WRITE);
	return b;
}

/* Closes a bus end. */
static void
fleet_bus_free(struct fleet_bus *b)
{
	if (b == NULL)
		return;
	if (b->w >= 0)
		fb.worker[b->w] = NULL;
	else
		fb.up = NULL;
	bufferevent_free(b->bev);
	free(b);
}

/*
 * Queues a frame, unless the bus already holds FLEET_BUS_MAX bytes (the
 * other end does not read: logged once per crossing). Returns 0, or -1.
 */
static int
fleet_bus_send(struct fleet_bus *b, enum fleet_frame_kind kind,
    enum ws_msg_type type, const char *topic, size_t tlen,
    const uint8_t *data, size_t len)
{
	struct evbuffer	*out;
	uint8_t		 head[FLEET_FRAME_HEAD + FLEET_TOPIC_MAX];
	size_t		 n;

	if (b == NULL)
		return -1;
	out = bufferevent_get_output(b->bev);
	if (evbuffer_get_length(out) + len > FLEET_BUS_MAX) {
		if (!b->full)
			log_warn("fleet: the bus %s worker %d is full (%d "
			    "bytes): messages are dropped", b->w >= 0 ? "to" :
			    "from", b->w >= 0 ? b->w : workers_index(),
			    FLEET_BUS_MAX);
		b->full = true;
		return -1;
	}
	b->full = false;
	n = fleet_frame_head(head, kind, type, topic, tlen, len);
	evbuffer_add(out, head, n);
	if (len > 0)
		evbuffer_add(out, data, len);
	return 0;
}

/* Runs one frame read on a bus end. */
static void
fleet_bus_frame(struct fleet_bus *b, const struct fleet_frame *f)
{
	if (b->w < 0) {
		/* Worker: only messages come down. */
		if (f->kind == FLEET_FRAME_MSG)
			(void)topics_deliver(f->topic, f->tlen, f->type,
			    f->data, f->len);
		return;
	}
	switch (f->kind) {
	case FLEET_FRAME_SUB:
	case FLEET_FRAME_UNSUB:
		fb.ops->sub(b->w, f->topic, f->tlen,
		    f->kind == FLEET_FRAME_SUB);
		break;
	case FLEET_FRAME_PUB:
		fb.ops->pub(b->w, f->topic, f->tlen, f->type, f->data, f->len);
		break;
	case FLEET_FRAME_MSG:
		break;
	}
}

/* Frames arrived: each complete one runs. */
static void
fleet_bus_read_cb(struct bufferevent *bev, void *arg)
{
	struct fleet_bus	*b = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct fleet_frame	 f;
	const uint8_t		*p;
	const char		*cause = NULL;
	size_t			 have, total;
	ssize_t			 n;
	uint8_t			 head[FLEET_FRAME_HEAD];

	for (;;) {
		have = evbuffer_get_length(in);
		if (have < FLEET_FRAME_HEAD)
			return;
		evbuffer_copyout(in, head, sizeof(head));
		if (fleet_frame_parse(head, sizeof(head), &f, &cause) == -1)
			break;
		/* The head is good: the whole frame, once it is there. */
		total = 4 + ((size_t)head[0] << 24 | (size_t)head[1] << 16 |
		    (size_t)head[2] << 8 | head[3]);
		if (have < total)
			return;
		p = evbuffer_pullup(in, (ev_ssize_t)total);
		if ((n = fleet_frame_parse(p, total, &f, &cause)) <= 0) {
			if (n == 0)
				cause = "bad frame length";
			break;
		}
		fleet_bus_frame(b, &f);
		evbuffer_drain(in, (size_t)n);
	}
	log_error("fleet: bus %s worker %d: %s; closing it", b->w >= 0 ?
	    "to" : "of", b->w >= 0 ? b->w : workers_index(), cause);
	fleet_bus_event_cb(bev, BEV_EVENT_ERROR, b);
}

/* The other end closed (or the frames broke): this end goes. */
static void
fleet_bus_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fleet_bus	*b = arg;
	int			 w = b->w;

	(void)bev;
	(void)what;
	fleet_bus_free(b);
	if (w >= 0 && fb.ops != NULL)
		fb.ops->gone(w);
}

/* Worker uplink: a subscription change goes to the master. */
static void
fleet_bus_up_sub(const char *topic, size_t tlen, bool on)
{
	if (fleet_bus_send(fb.up, on ? FLEET_FRAME_SUB : FLEET_FRAME_UNSUB,
	    WS_MSG_TEXT, topic, tlen, NULL, 0) == -1)
		log_warn("fleet: worker %d could not tell the master of its "
		    "subscription to %.*s", workers_index(), (int)tlen, topic);
}

/* Worker uplink: a publish goes to the master. */
static int
fleet_bus_up_pub(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	if (fleet_bus_send(fb.up, FLEET_FRAME_PUB, type, topic, tlen, data,
	    len) == -1) {
		runtime_stats()->topic_dropped++;
		return -1;
	}
	return 0;
}

static const struct topics_uplink fleet_bus_uplink = {
	.sub = fleet_bus_up_sub,
	.pub = fleet_bus_up_pub,
};

/* Worker: the bus to the master; see fleet-bus.h. */
const struct topics_uplink *
fleet_bus_worker(struct event_base *base, int fd)
{
	fb.base = base;
	fb.up = fleet_bus_new(fd, -1);
	return &fleet_bus_uplink;
}

/* Master: starts the buses; see fleet-bus.h. */
void
fleet_bus_master(struct event_base *base, const struct fleet_bus_ops *ops)
{
	fb.base = base;
	fb.ops = ops;
}

/* Master: worker w's end of the bus; see fleet-bus.h. */
void
fleet_bus_attach(int w, int fd)
{
	if (w < 0 || w >= WORKERS_MAX) {
		close(fd);
		return;
	}
	if (fb.worker[w] != NULL) {
		fleet_bus_free(fb.worker[w]);
		fb.ops->gone(w);
	}
	fb.worker[w] = fleet_bus_new(fd, w);
}

/* Master: a message down to worker w; see fleet-bus.h. */
int
fleet_bus_deliver(int w, const char *topic, size_t tlen,
    enum ws_msg_type type, const uint8_t *data, size_t len)
{
	if (w < 0 || w >= WORKERS_MAX)
		return -1;
	return fleet_bus_send(fb.worker[w], FLEET_FRAME_MSG, type, topic,
	    tlen, data, len);
}

/* Closes every bus end; see fleet-bus.h. */
void
fleet_bus_close_all(void)
{
	int	i;

	for (i = 0; i < WORKERS_MAX; i++)
		fleet_bus_free(fb.worker[i]);
	fleet_bus_free(fb.up);
	fb.ops = NULL;
}
