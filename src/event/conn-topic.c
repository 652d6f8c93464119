/* conn-topic.c - a connection's topics: the deciders' Subscribe lines and the slot of its subscriptions. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "base/util.h"
#include "event/conn-admit.h"
#include "event/conn-int.h"

static void	(*conn_topics_gone)(struct conn *);

/* The connection's subscriptions (topics.c's), or NULL. */
void *
conn_topics(const struct conn *c)
{
	return c->x != NULL ? c->x->topics : NULL;
}

/* Keeps them (NULL: none any more). */
void
conn_set_topics(struct conn *c, void *t)
{
	if (t != NULL || c->x != NULL)
		conn_extra(c)->topics = t;
}

/* Registers what unsubscribes a connection that is freed. */
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
	struct evbuffer	*b;
	size_t		 n;

	if (c->hs->hook_hlen == 0 && hlen == 0)
		return;		/* most upgrades: no answer lines at all */
	b = xevbuffer_new();
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

/* The deciders' topics while the upgrade is decided; see conn.h. */
const char *
conn_verdict_topics(const struct conn *c)
{
	return c->hs != NULL && c->hs->topics != NULL ? c->hs->topics : "";
}
