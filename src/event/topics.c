/* topics.c - this process's topics: subscriptions of its WebSockets, delivery of a topic's messages to them. */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/nametab.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/fleet-proto.h"
#include "core/ws-utf8.h"
#include "event/conn.h"
#include "event/runtime.h"
#include "event/topics.h"

struct topic;

/* One WebSocket on one topic: on the topic's list and on the conn's. */
struct topic_sub {
	LIST_ENTRY(topic_sub)	 by_topic;
	struct topic_sub	*next;		/* the conn's next one */
	struct topic		*t;
	struct conn		*c;
};

/* A topic with subscribers here. */
struct topic {
	struct name_entry	 ent;		/* in tp.names, by name */
	LIST_HEAD(, topic_sub)	 subs;
	unsigned int		 n;
	size_t			 len;
	char			 name[];	/* NUL-terminated too */
};

/* What hangs on a subscribed connection (conn_topics). */
struct topic_list {
	struct topic_sub	*head;
	unsigned int		 n;
};

static struct {
	const struct topics_uplink	*up;
	struct nametab			 names;		/* struct topic */
	size_t				 nsubs;
} tp;

static void	topics_conn_gone(struct conn *);

/* Installs the uplink and the connection hook. */
void
topics_init(const struct topics_uplink *up)
{
	tp.up = up;
	conn_set_topics_gone(topics_conn_gone);
}

/* The topic of a name, or NULL. */
static struct topic *
topics_find(const char *name, size_t len)
{
	struct name_entry	*e;

	if ((e = nametab_find(&tp.names, name, len)) == NULL)
		return NULL;
	return NAMETAB_ITEM(e, struct topic, ent);
}

/* Adds a topic to the table. */
static struct topic *
topics_add(const char *name, size_t len)
{
	struct topic	*t;

	t = xcalloc(1, sizeof(*t) + len + 1);
	memcpy(t->name, name, len);
	t->len = len;
	LIST_INIT(&t->subs);
	t->ent.name = t->name;
	t->ent.len = len;
	nametab_add(&tp.names, &t->ent);
	return t;
}

/* A topic lost its last subscriber here: out of the table, and up. */
static void
topics_drop(struct topic *t)
{
	nametab_remove(&tp.names, &t->ent);
	if (tp.up != NULL)
		tp.up->sub(t->name, t->len, false);
	free(t);
}

/* Subscribes a WebSocket to a topic; see topics.h. */
int
topics_subscribe(struct conn *c, const char *topic, size_t len,
    const char **cause)
{
	const struct config	*cfg = conn_config(c);
	struct topic_list	*l = conn_topics(c);
	struct topic_sub	*s;
	struct topic		*t;
	bool			 fresh = false;

	if (!fleet_topic_valid(topic, len)) {
		*cause = "invalid topic name";
		return -1;
	}
	for (s = l != NULL ? l->head : NULL; s != NULL; s = s->next) {
		if (s->t->len == len && memcmp(s->t->name, topic, len) == 0)
			return 0;
	}
	if (l != NULL && l->n >= (unsigned int)cfg->max_subscriptions) {
		*cause = "MaxSubscriptions reached";
		return -1;
	}
	if ((t = topics_find(topic, len)) == NULL) {
		if (tp.names.n >= (size_t)runtime_config()->max_topics) {
			*cause = "MaxTopics reached";
			return -1;
		}
		t = topics_add(topic, len);
		fresh = true;
	}
	if (l == NULL) {
		l = xcalloc(1, sizeof(*l));
		conn_set_topics(c, l);
	}
	s = xcalloc(1, sizeof(*s));
	s->t = t;
	s->c = c;
	s->next = l->head;
	l->head = s;
	l->n++;
	LIST_INSERT_HEAD(&t->subs, s, by_topic);
	t->n++;
	tp.nsubs++;
	log_debug("%s subscribed to %s", conn_id(c), t->name);
	if (fresh && tp.up != NULL)
		tp.up->sub(t->name, t->len, true);
	return 0;
}

/* Takes a subscription off its topic (dropped when it was the last). */
static void
topics_sub_free(struct topic_sub *s)
{
	struct topic	*t = s->t;

	LIST_REMOVE(s, by_topic);
	tp.nsubs--;
	free(s);
	if (--t->n == 0)
		topics_drop(t);
}

/* Unsubscribes a WebSocket from a topic; see topics.h. */
int
topics_unsubscribe(struct conn *c, const char *topic, size_t len)
{
	struct topic_list	*l = conn_topics(c);
	struct topic_sub	**pp, *s;

	if (l == NULL)
		return -1;
	for (pp = &l->head; (s = *pp) != NULL; pp = &s->next) {
		if (s->t->len == len && memcmp(s->t->name, topic, len) == 0)
			break;
	}
	if (s == NULL)
		return -1;
	*pp = s->next;
	l->n--;
	log_debug("%s unsubscribed from %.*s", conn_id(c), (int)len, topic);
	topics_sub_free(s);
	if (l->head == NULL) {
		conn_set_topics(c, NULL);
		free(l);
	}
	return 0;
}

/* A connection is freed: every subscription of it goes. */
static void
topics_conn_gone(struct conn *c)
{
	struct topic_list	*l = conn_topics(c);
	struct topic_sub	*s;

	conn_set_topics(c, NULL);
	while ((s = l->head) != NULL) {
		l->head = s->next;
		topics_sub_free(s);
	}
	free(l);
}

/* Publishes through the uplink; see topics.h. */
int
topics_publish(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len, const char **cause)
{
	const struct config	*cfg = runtime_config();

	if (!fleet_topic_valid(topic, tlen)) {
		*cause = "invalid topic name";
		return -1;
	}
	if (len > FLEET_MSG_MAX || (uint64_t)len > cfg->max_message_size) {
		*cause = "message over MaxMessageSize";
		return -1;
	}
	if (type == WS_MSG_TEXT && !ws_utf8_valid(data, len)) {
		*cause = "text is not UTF-8";
		return -1;
	}
	if (tp.up == NULL || tp.up->pub(topic, tlen, type, data, len) == -1) {
		*cause = "dropped";
		return -1;
	}
	return 0;
}

/* Delivers a message to the subscribers here; see topics.h. */
unsigned int
topics_deliver(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	struct server_stats	*st = runtime_stats();
	struct topic		*t;
	struct topic_sub	*s, *next;
	unsigned int		 n = 0;

	if ((t = topics_find(topic, tlen)) == NULL)
		return 0;
	/* Queuing never frees a connection; next is kept all the same. */
	for (s = LIST_FIRST(&t->subs); s != NULL; s = next) {
		next = LIST_NEXT(s, by_topic);
		if (conn_send_admin(s->c, type, data, len, false) == 0)
			n++;
		else
			st->topic_skipped++;
	}
	st->topic_delivered += n;
	return n;
}

/* Topics with subscribers in this process. */
size_t
topics_count(void)
{
	return tp.names.n;
}

/* Subscriptions over all of them. */
size_t
topics_subscriptions(void)
{
	return tp.nsubs;
}

/* Calls fn for each topic here; see topics.h. */
void
topics_each(void (*fn)(void *, const char *, size_t, unsigned int), void *arg)
{
	struct name_entry	*e;
	struct topic		*t;

	for (e = nametab_first(&tp.names); e != NULL;
	    e = nametab_next(&tp.names, e)) {
		t = NAMETAB_ITEM(e, struct topic, ent);
		fn(arg, t->name, t->len, t->n);
	}
}

/* Calls fn for each topic of a connection; see topics.h. */
void
topics_conn_each(const struct conn *c, void (*fn)(void *, const char *,
    size_t), void *arg)
{
	struct topic_list	*l = conn_topics(c);
	struct topic_sub	*s;

	for (s = l != NULL ? l->head : NULL; s != NULL; s = s->next)
		fn(arg, s->t->name, s->t->len);
}
