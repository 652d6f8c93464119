/* fleet.c - the node's hub: which of its processes want each topic, delivery, publishes, and with Redis the fleet (subscriptions, node entries, commands between nodes). */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <hiredis/hiredis.h>

#include "base/log.h"
#include "base/nametab.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/fleet-proto.h"
#include "event/fleet-bus.h"
#include "event/fleet-int.h"
#include "event/fleet-redis.h"
#include "event/fleet.h"
#include "event/runtime.h"
#include "event/topics.h"
#include "event/workers.h"

/* Channels in one SUBSCRIBE when every topic is subscribed again. */
#define FL_SUB_BATCH	256

/* Where a topic's Redis subscription is. */
enum fl_rstate {
	FL_R_NONE,
	FL_R_SUBSCRIBING,
	FL_R_SUBSCRIBED,
	FL_R_UNSUBSCRIBING,
};

/* A topic of the node: which processes have subscribers for it. */
struct fl_topic {
	struct name_entry	 ent;		/* in fl.names, by name */
	uint64_t		 mask;		/* bit i: worker i (0: alone) */
	uint8_t			 rstate;	/* enum fl_rstate */
	size_t			 len;
	char			 name[];
};

/* The hub's own (what it shares with fleet-node.c is in fh). */
static struct {
	/* The [cluster] settings this hub runs with (a reload compares). */
	char			*redis, *user, *pwfile, *password;
	int			 timeout, reconnect_max, max_pending;
	struct nametab		 names;		/* struct fl_topic */
	size_t			 resubscribing;	/* confirmations still due */
	struct event		*beat;
} fl;

static void	fl_topic_redis(struct fl_topic *);
static void	fl_deliver(const char *, size_t, enum ws_msg_type,
		    const uint8_t *, size_t);
static int	fl_publish(const char *, size_t, enum ws_msg_type,
		    const uint8_t *, size_t);
static void	fl_reconfigure(const struct config *);

/* ---------------------------------------------------------------- topics */

/* The node's topic of a name, or NULL. */
static struct fl_topic *
fl_find(const char *name, size_t len)
{
	struct name_entry	*e;

	if ((e = nametab_find(&fl.names, name, len)) == NULL)
		return NULL;
	return NAMETAB_ITEM(e, struct fl_topic, ent);
}

/* Adds a topic. */
static struct fl_topic *
fl_add(const char *name, size_t len)
{
	struct fl_topic	*t;

	t = xcalloc(1, sizeof(*t) + len + 1);
	memcpy(t->name, name, len);
	t->len = len;
	t->ent.name = t->name;
	t->ent.len = len;
	nametab_add(&fl.names, &t->ent);
	fh.ntopics = fl.names.n;
	return t;
}

/* Frees a topic nobody wants and Redis holds no subscription of. */
static void
fl_del(struct fl_topic *t)
{
	nametab_remove(&fl.names, &t->ent);
	fh.ntopics = fl.names.n;
	free(t);
}

/* The topic after t (the first one for NULL), or NULL; see nametab_next. */
static struct fl_topic *
fl_next(struct fl_topic *t)
{
	struct name_entry	*e;

	e = t == NULL ? nametab_first(&fl.names) :
	    nametab_next(&fl.names, &t->ent);
	return e == NULL ? NULL : NAMETAB_ITEM(e, struct fl_topic, ent);
}

/* A topic's Redis channel into buf; returns its length. */
static size_t
fl_topic_chan(char *buf, const char *topic, size_t tlen)
{
	return (size_t)snprintf(buf, FL_CHAN_MAX, "%stopic:%.*s", fh.prefix,
	    (int)tlen, topic);
}

/* Process w has (on) or no longer has subscribers for a topic. */
static void
fl_mask_set(int w, const char *topic, size_t tlen, bool on)
{
	struct fl_topic	*t = fl_find(topic, tlen);
	uint64_t	 bit = (uint64_t)1 << w;

	if (t == NULL) {
		if (!on)
			return;
		t = fl_add(topic, tlen);
	}
	if (on)
		t->mask |= bit;
	else
		t->mask &= ~bit;
	fl_topic_redis(t);
}

/*
 * Brings a topic's Redis subscription where its mask wants it. One
 * command at a time per topic: a SUBSCRIBE sent behind an UNSUBSCRIBE of
 * the same channel would lose its callback in hiredis when the
 * unsubscription is confirmed, so each waits for the other's answer.
 */
static void
fl_topic_redis(struct fl_topic *t)
{
	char		 chan[FL_CHAN_MAX];
	const char	*c = chan;
	size_t		 n;
	bool		 want = t->mask != 0;

	if (!fh.cluster || !fleet_redis_ready()) {
		if (!want && t->rstate == FL_R_NONE)
			fl_del(t);
		return;
	}
	n = fl_topic_chan(chan, t->name, t->len);
	switch (t->rstate) {
	case FL_R_NONE:
		if (!want) {
			fl_del(t);
			return;
		}
		if (fleet_redis_sub(true, 1, &c, &n) == 0)
			t->rstate = FL_R_SUBSCRIBING;
		break;
	case FL_R_SUBSCRIBED:
		if (!want && fleet_redis_sub(false, 1, &c, &n) == 0)
			t->rstate = FL_R_UNSUBSCRIBING;
		break;
	default:
		break;		/* its answer decides */
	}
}

/* Delivers a message to the node's processes that want the topic. */
static void
fl_deliver(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	struct fl_topic	*t = fl_find(topic, tlen);
	int		 w;

	if (t == NULL || t->mask == 0)
		return;
	if (!fh.master) {
		(void)topics_deliver(topic, tlen, type, data, len);
		return;
	}
	for (w = 0; w < workers_count() && w < 64; w++) {
		if ((t->mask & ((uint64_t)1 << w)) != 0 &&
		    fleet_bus_deliver(w, topic, tlen, type, data, len) == -1)
			fh.st.bus_dropped++;
	}
}

/* ---------------------------------------------------------------- publish */

/* PUBLISH answered; no answer: it may or may not have gone out. */
static void
fl_published_cb(void *arg, redisReply *r)
{
	(void)arg;
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		fh.st.dropped++;
}

/* Publishes from this node; see fleet_publish. */
static int
fl_publish(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	char		 chan[FL_CHAN_MAX];
	const char	*argv[3];
	size_t		 lens[3], hl;
	uint8_t		 head[2], *payload;
	int		 rc;

	fh.st.published++;
	if (!fh.cluster) {
		fl_deliver(topic, tlen, type, data, len);
		return 0;
	}
	if (!fh.in_fleet) {
		/* Alone until Redis is back: here only, and counted. */
		fh.st.dropped++;
		fl_deliver(topic, tlen, type, data, len);
		return 1;
	}
	hl = fleet_payload_head(type, data, len, head);
	payload = xmalloc(hl + len + 1);
	memcpy(payload, head, hl);
	if (len > 0)
		memcpy(payload + hl, data, len);
	argv[0] = "PUBLISH";
	lens[0] = 7;
	lens[1] = fl_topic_chan(chan, topic, tlen);
	argv[1] = chan;
	argv[2] = (const char *)payload;
	lens[2] = hl + len;
	rc = fleet_redis_cmd(fl_published_cb, NULL, 3, argv, lens);
	free(payload);
	if (rc == -1) {
		fh.st.dropped++;
		return -1;
	}
	return 0;
}

/* A publish of the admin socket; see fleet.h. */
int
fleet_publish(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	return fl_publish(topic, tlen, type, data, len);
}

/* The single process's uplink: its topics are the hub's own (bit 0). */
static void
fl_local_sub(const char *topic, size_t tlen, bool on)
{
	fl_mask_set(0, topic, tlen, on);
}

/* The single process's publishes: the hub's own. */
static int
fl_local_pub(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	return fl_publish(topic, tlen, type, data, len) == -1 ? -1 : 0;
}

static const struct topics_uplink fl_local_uplink = {
	.sub = fl_local_sub,
	.pub = fl_local_pub,
};

/* The master's buses: a worker's subscriptions and publishes. */
static void
fl_bus_sub(int w, const char *topic, size_t tlen, bool on)
{
	if (w < 64)
		fl_mask_set(w, topic, tlen, on);
}

/* A worker's publish, from its bus. */
static void
fl_bus_pub(int w, const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	(void)w;
	(void)fl_publish(topic, tlen, type, data, len);
}

/* A worker's bus is gone: it wants nothing any more. */
static void
fl_bus_gone(int w)
{
	struct fl_topic	*t, *next;
	uint64_t	 bit = (uint64_t)1 << w;

	for (t = fl_next(NULL); t != NULL; t = next) {
		next = fl_next(t);
		if (t->mask & bit) {
			t->mask &= ~bit;
			fl_topic_redis(t);
		}
	}
}

static const struct fleet_bus_ops fl_bus_ops = {
	.sub = fl_bus_sub,
	.pub = fl_bus_pub,
	.gone = fl_bus_gone,
};

/* ---------------------------------------------------------------- Redis */

/* Subscribes the node channel and every wanted topic, in batches. */
static void
fl_redis_up(void)
{
	const char	*chans[FL_SUB_BATCH];
	size_t		 lens[FL_SUB_BATCH];
	struct fl_topic	*t;
	char		*bufs;
	int		 n = 0;

	chans[0] = fh.nodechan;
	lens[0] = fh.nodechan_len;
	(void)fleet_redis_sub(true, 1, chans, lens);
	fl.resubscribing = 0;
	bufs = xmalloc((size_t)FL_SUB_BATCH * FL_CHAN_MAX);
	for (t = fl_next(NULL); t != NULL; t = fl_next(t)) {
		if (t->mask == 0 || t->rstate != FL_R_NONE)
			continue;
		chans[n] = bufs + (size_t)n * FL_CHAN_MAX;
		lens[n] = fl_topic_chan(bufs + (size_t)n * FL_CHAN_MAX,
		    t->name, t->len);
		t->rstate = FL_R_SUBSCRIBING;
		fl.resubscribing++;
		if (++n == FL_SUB_BATCH) {
			(void)fleet_redis_sub(true, n, chans, lens);
			n = 0;
		}
	}
	if (n > 0)
		(void)fleet_redis_sub(true, n, chans, lens);
	free(bufs);
}

/* Redis is gone: nothing is subscribed; what waits for it fails. */
static void
fl_redis_down(void)
{
	struct fl_topic	*t, *next;

	fh.in_fleet = false;
	for (t = fl_next(NULL); t != NULL; t = next) {
		next = fl_next(t);
		t->rstate = FL_R_NONE;
		if (t->mask == 0)
			fl_del(t);
	}
	fleet_node_down();
}

/* A subscription or unsubscription confirmed. */
static void
fl_redis_subscribed(const char *chan, size_t clen, bool on)
{
	struct fl_topic	*t;
	size_t		 pl = strlen(fh.prefix);

	if (clen == fh.nodechan_len && memcmp(chan, fh.nodechan, clen) == 0) {
		if (on && !fh.in_fleet) {
			fh.in_fleet = true;
			fh.ever_in = true;
			log_info("fleet: node %s is in the fleet; "
			    "resubscribing %zu topic(s)", fh.node,
			    fl.resubscribing);
			fleet_node_beat();
		}
		return;
	}
	if (clen <= pl + 6 || memcmp(chan, fh.prefix, pl) != 0 ||
	    memcmp(chan + pl, "topic:", 6) != 0 ||
	    (t = fl_find(chan + pl + 6, clen - pl - 6)) == NULL)
		return;
	if (on && t->rstate == FL_R_SUBSCRIBING) {
		t->rstate = FL_R_SUBSCRIBED;
		if (fl.resubscribing > 0 && --fl.resubscribing == 0)
			log_info("fleet: every topic is subscribed again");
	} else if (!on && t->rstate == FL_R_UNSUBSCRIBING)
		t->rstate = FL_R_NONE;
	fl_topic_redis(t);
}

/* A message on a channel: a topic's, or our node's. */
static void
fl_redis_message(const char *chan, size_t clen, const char *p, size_t len)
{
	const char	*cause;
	enum ws_msg_type type;
	size_t		 pl = strlen(fh.prefix), off;

	if (clen == fh.nodechan_len && memcmp(chan, fh.nodechan, clen) == 0) {
		fleet_node_message(p, len);
		return;
	}
	if (clen <= pl + 6 || memcmp(chan, fh.prefix, pl) != 0 ||
	    memcmp(chan + pl, "topic:", 6) != 0)
		return;
	fh.st.received++;
	if (fleet_payload_parse((const uint8_t *)p, len, &type, &off,
	    &cause) == -1 || len - off > runtime_config()->max_message_size) {
		if (fh.st.invalid++ == 0)
			log_warn("fleet: a message on %.*s was dropped: %s "
			    "(logged once; counted in stats)", (int)clen, chan,
			    len - off > runtime_config()->max_message_size ?
			    "over MaxMessageSize" : cause);
		return;
	}
	fl_deliver(chan + pl + 6, clen - pl - 6, type,
	    (const uint8_t *)p + off, len - off);
}

static const struct fleet_redis_handlers fl_redis_handlers = {
	.up = fl_redis_up,
	.down = fl_redis_down,
	.message = fl_redis_message,
	.subscribed = fl_redis_subscribed,
};

/* ---------------------------------------------------------------- state */

/*
 * The Redis password of cfg (malloc'd, "" for none). A file that cannot
 * be read (a reload after the privileges were dropped) leaves the one
 * read before when the file is the same, else none; it is logged.
 */
static char *
fl_password(const struct config *cfg)
{
	char	*pw = NULL, *cause = NULL;

	if (config_read_password(cfg, &pw, &cause) == 0)
		return pw != NULL ? pw : xstrdup("");
	if (fl.password != NULL && fl.pwfile != NULL &&
	    strcmp(fl.pwfile, cfg->cluster_password_file) == 0) {
		log_warn("fleet: %s; the password read before stays", cause);
		pw = xstrdup(fl.password);
	} else {
		log_error("fleet: %s; connecting without AUTH", cause);
		pw = xstrdup("");
	}
	free(cause);
	return pw;
}

/* Takes the [cluster] settings of cfg (the ones a reload may change). */
static void
fl_settings(const struct config *cfg, char *password)
{
	free(fl.redis);
	free(fl.user);
	free(fl.pwfile);
	if (fl.password != NULL)
		explicit_bzero(fl.password, strlen(fl.password));
	free(fl.password);
	fl.redis = xstrdup(cfg->cluster_redis);
	fl.user = xstrdup(cfg->cluster_user);
	fl.pwfile = xstrdup(cfg->cluster_password_file);
	fl.password = password;
	fh.ttl = cfg->cluster_node_ttl;
	fh.command_timeout = cfg->cluster_command_timeout;
	fl.timeout = cfg->cluster_timeout;
	fl.reconnect_max = cfg->cluster_reconnect_max;
	fl.max_pending = cfg->cluster_max_pending;
	fh.cluster = *cfg->cluster_redis != '\0';
	snprintf(fh.node, sizeof(fh.node), "%s", fh.cluster ?
	    cfg->cluster_node : "");
	snprintf(fh.prefix, sizeof(fh.prefix), "%s", cfg->cluster_prefix);
	fh.nodechan_len = (size_t)snprintf(fh.nodechan, sizeof(fh.nodechan),
	    "%snode:%s", fh.prefix, fh.node);
}

/* Whether cfg's [cluster] (and password) differs from the hub's. */
static bool
fl_changed(const struct config *cfg, const char *password)
{
	return strcmp(fl.redis, cfg->cluster_redis) != 0 ||
	    strcmp(fl.user, cfg->cluster_user) != 0 ||
	    strcmp(fl.password, password) != 0 ||
	    fh.ttl != cfg->cluster_node_ttl ||
	    fh.command_timeout != cfg->cluster_command_timeout ||
	    fl.timeout != cfg->cluster_timeout ||
	    fl.reconnect_max != cfg->cluster_reconnect_max ||
	    fl.max_pending != cfg->cluster_max_pending ||
	    strcmp(fh.prefix, cfg->cluster_prefix) != 0 ||
	    (fh.cluster && strcmp(fh.node, cfg->cluster_node) != 0);
}

/* The ConnectionId prefix of cfg: "NODE:" in a fleet. */
static void
fl_id_prefix(const struct config *cfg)
{
	char	prefix[FLEET_NODE_MAX + 2];

	snprintf(prefix, sizeof(prefix), "%s%s", *cfg->cluster_redis != '\0' ?
	    cfg->cluster_node : "", *cfg->cluster_redis != '\0' ? ":" : "");
	runtime_set_id_prefix(prefix);
}

/* Every quarter of NodeTTL: the node's entry, the fleet's list. */
static void
fl_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fleet_node_beat();
}

/* Starts Redis and the heartbeat with the settings taken. */
static void
fl_cluster_start(const struct config *cfg)
{
	struct timeval	 tv;
	char		*cause = NULL;
	int		 ms;

	if (!fh.cluster)
		return;
	if (fleet_redis_start(fh.base, cfg, fl.password, fh.nodechan,
	    &fl_redis_handlers, &cause) == -1) {
		log_error("fleet: %s; this node stays alone", cause);
		free(cause);
		fh.cluster = false;
		return;
	}
	log_info("fleet: node %s, channel prefix \"%s\", entries expiring "
	    "after %d ms", fh.node, fh.prefix, fh.ttl / 4 * 3);
	fl.beat = event_new(fh.base, -1, EV_PERSIST, fl_beat_cb, NULL);
	ms = fh.ttl / 4 > 250 ? fh.ttl / 4 : 250;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(fl.beat, &tv);
}

/* Stops Redis and the heartbeat (the topics stay, unsubscribed). */
static void
fl_cluster_stop(void)
{
	if (fl.beat != NULL) {
		event_free(fl.beat);
		fl.beat = NULL;
	}
	fleet_redis_stop();
	fl_redis_down();
	fleet_node_stop();
}

/* The hub of a single process or of the master. */
static void
fl_hub_start(struct event_base *base, const struct config *cfg, bool master)
{
	fh.base = base;
	fh.hub = true;
	fh.master = master;
	fl_settings(cfg, fl_password(cfg));
	fl_id_prefix(cfg);
	runtime_on_swap(fl_reconfigure);
	fl_cluster_start(cfg);
}

/* A single process: the hub, and its topics on it; see fleet.h. */
void
fleet_start(struct event_base *base, const struct config *cfg)
{
	fl_hub_start(base, cfg, false);
	topics_init(&fl_local_uplink);
}

/* The master: the hub, the workers' buses on it; see fleet.h. */
void
fleet_master_start(struct event_base *base, const struct config *cfg)
{
	int	i, fd;

	fleet_bus_master(base, &fl_bus_ops);
	for (i = 0; i < workers_count(); i++) {
		if ((fd = workers_bus_take(i)) != -1)
			fleet_bus_attach(i, fd);
	}
	fl_hub_start(base, cfg, true);
}

/* A restarted worker's new bus; see fleet.h. */
void
fleet_worker_up(int i)
{
	int	fd;

	if (fh.master && (fd = workers_bus_take(i)) != -1)
		fleet_bus_attach(i, fd);
}

/* A reload swapped cfg in: the worker's ids, the hub's Redis. */
static void
fl_reconfigure(const struct config *cfg)
{
	char	*pw;

	fl_id_prefix(cfg);
	if (!fh.hub)
		return;
	pw = fl_password(cfg);
	if (!fl_changed(cfg, pw)) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
		return;
	}
	log_info("fleet: [cluster] changed by the reload: %s",
	    *cfg->cluster_redis != '\0' ? "connecting again" :
	    "leaving the fleet");
	fl_cluster_stop();
	fl_settings(cfg, pw);
	fl_cluster_start(cfg);
}

/* A worker: the master's hub is not ours; the bus is. */
void
fleet_worker_start(struct event_base *base, const struct config *cfg, int fd)
{
	/* What waits in the master's copy is the master's: no callbacks. */
	fleet_node_forget();
	fleet_stop();
	fh.base = base;
	fl_id_prefix(cfg);
	runtime_on_swap(fl_reconfigure);
	if (fd == -1) {
		topics_init(NULL);
		return;
	}
	topics_init(fleet_bus_worker(base, fd));
}

/* Redis, the buses, every table; see fleet.h. */
void
fleet_stop(void)
{
	struct fl_topic	*t;

	if (fh.hub)
		fl_cluster_stop();
	fleet_bus_close_all();
	while ((t = fl_next(NULL)) != NULL)
		fl_del(t);
	free(fl.redis);
	free(fl.user);
	free(fl.pwfile);
	if (fl.password != NULL)
		explicit_bzero(fl.password, strlen(fl.password));
	free(fl.password);
	fl.redis = fl.user = fl.pwfile = fl.password = NULL;
	fh.hub = fh.master = fh.cluster = fh.in_fleet = false;
}

/* Whether this process holds the node's hub. */
bool
fleet_hub(void)
{
	return fh.hub;
}

/* Whether the hub is in a fleet ([cluster] Redis). */
bool
fleet_cluster(void)
{
	return fh.hub && fh.cluster;
}

/* The node's name in the fleet, "" without one. */
const char *
fleet_node(void)
{
	return fh.node;
}


/* Where a ConnectionId lives; see fleet.h. */
int
fleet_id_remote(const char *id, char *node)
{
	uint64_t	num;

	if (!fh.hub || !fh.cluster || fleet_id_split(id, node, &num) == -1 ||
	    *node == '\0' || strcmp(node, fh.node) == 0)
		return 0;
	return 1;
}

/* The hub's counters, and the state of its topics; see fleet.h. */
void
fleet_get_stats(struct fleet_stats *st)
{
	struct fl_topic	*t;

	*st = fh.st;
	st->reconnects = fleet_redis_reconnects();
	st->pending = fleet_redis_pending();
	st->topics = 0;
	st->redis_topics = 0;
	for (t = fl_next(NULL); t != NULL; t = fl_next(t)) {
		st->topics += t->mask != 0;
		st->redis_topics += t->rstate == FL_R_SUBSCRIBED;
	}
}
