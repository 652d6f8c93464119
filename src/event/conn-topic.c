/* conn-topic.c - a connection's topics: the deciders' Subscribe lines, the slot of its subscriptions, a topic message queued whole. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "base/util.h"
#include "event/conn-admit.h"
#include "event/conn-int.h"

static void	(*conn_topics_gone)(struct conn *);

void *
conn_topics(const struct conn *c)
{
	return c->x != NULL ? c->x->topics : NULL;
}

void
conn_set_topics(struct conn *c, void *t)
{
	if (t != NULL || c->x != NULL)
		conn_extra(c)->topics = t;
}

void
conn_set_topics_gone(void (*gone)(struct conn *))
{
	conn_topics_gone = gone;
}

/* The connection is freed: its subscriptions go first. */
void
conn_topics_free(struct conn *c)
{
	if (c->x != NULL && c->x->topics != NULL && conn_topics_gone != NULL)
		conn_topics_gone(c);
}

/* Keeps the deciders' Subscribe lines (the hook's, then hdrs). */
void
conn_hs_topics(struct conn *c, const char *hdrs, size_t hlen)
{
	struct evbuffer	*b = xevbuffer_new();
	size_t		 n;

	if (c->hs->hook_hlen > 0)
		conn_verdict_topics_take(c->hs->hook_hdrs, c->hs->hook_hlen, b);
	if (hlen > 0)
		conn_verdict_topics_take(hdrs, hlen, b);
	if ((n = evbuffer_get_length(b)) > 0) {
		free(c->hs->topics);
		c->hs->topics = xmalloc(n + 1);
		evbuffer_remove(b, c->hs->topics, n);
		c->hs->topics[n] = '\0';
	}
	evbuffer_free(b);
}

const char *
conn_verdict_topics(const struct conn *c)
{
	return c->hs != NULL && c->hs->topics != NULL ? c->hs->topics : "";
}

/* Queues a whole topic message; see conn.h. */
int
conn_send_topic(struct conn *c, enum ws_msg_type type, const void *data,
    size_t len)
{
	if (c->state != CONN_OPEN)
		return -1;
	if (conn_file_get(c) != NULL || c->backend_msg_open ||
	    conn_held_len(c) > 0)
		return -2;
	if (conn_mem_is_over() || evbuffer_get_length(c->out) > CONN_OUT_HIGH)
		return -3;
	if (conn_queue(c, type, data, len, true, true) == -1)
		return -1;
	conn_queued(c);
	return 0;
}
